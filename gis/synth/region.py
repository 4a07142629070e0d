"""Synthetic planning layers for a region of several counties (e.g. a prefecture-level city).

:func:`synth_region` runs the per-boundary generators (:func:`gis.synth.synth_zones`,
:func:`gis.synth.synth_schools`, :func:`gis.synth.synth_candidate_sites`) once per
county and joins the results. Ids are prefixed with the county code (``440703-Z01``,
``440703-S001``, ``440703-C01``) so that they are unique across the region, every row
carries ``county`` (the code) and ``region`` (e.g. ``east`` / ``west``), and zones also
carry single-year ages (:func:`gis.synth.synth_single_ages`) and a SYNTHETIC
``migrant_share``.

Coordinates as in the rest of :mod:`gis.synth`: the counties' longitude/latitude in
degrees (e.g. GCJ-02), metres in the UTM zone of each county. Each county gets its own
seed derived from the region seed and its code, so adding or removing a county leaves
the others unchanged.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gis.synth._geo import Geo
from gis.synth.ages import AGE_COLUMNS, AGE_PROFILE_2020, STAGE_AGES, synth_single_ages
from gis.synth.centres import synth_town_centres
from gis.synth.common import DEFAULT_CLASS_CAPS, DEFAULT_SCHOOL_SIZES, URBAN_ZONE_TYPES
from gis.synth.schools import synth_schools
from gis.synth.sites import synth_candidate_sites
from gis.synth.zones import synth_zones

__all__ = [
    "MIGRANT_SHARE_RANGES",
    "REGION_CANDIDATE_COLUMNS",
    "REGION_SCHOOL_COLUMNS",
    "REGION_STAGES",
    "REGION_ZONE_COLUMNS",
    "CountySpec",
    "RegionLayers",
    "county_seed",
    "main_land",
    "synth_region",
]

log = logging.getLogger(__name__)

REGION_STAGES: Final = ("kindergarten", "primary", "junior")
REGION_ZONE_COLUMNS: Final = (
    "zone_id", "name", "county", "region", "zone_type", "population", "migrant_share",
    "kindergarten", "primary", "junior", "senior", *AGE_COLUMNS, "synthetic", "lon", "lat",
)  # fmt: skip
REGION_SCHOOL_COLUMNS: Final = (
    "school_id", "name", "county", "region", "stage", "classes", "max_classes",
    "ownership", "synthetic", "lon", "lat",
)  # fmt: skip
REGION_CANDIDATE_COLUMNS: Final = (
    "site_id", "name", "county", "region", "stage", "setting", "land_area_m2",
    "land_cost_cny", "hazard", "synthetic", "lon", "lat",
)  # fmt: skip
#: SYNTHETIC share of a zone's children living with migrant parents (随迁子女, hukou
#: outside the county), drawn uniformly per zone: ``{region: {urban: (low, high)}}``,
#: ``urban`` meaning a zone type in URBAN_ZONE_TYPES. High in the eastern urban and
#: industrial zones, low in the west. Illustrative values, not data.
MIGRANT_SHARE_RANGES: Final[Mapping[str, Mapping[bool, tuple[float, float]]]] = MappingProxyType(
    {
        "east": MappingProxyType({True: (0.25, 0.40), False: (0.08, 0.20)}),
        "west": MappingProxyType({True: (0.04, 0.08), False: (0.02, 0.05)}),
    }
)
_SEED_SALT: Final = {"zones": 0, "schools": 1, "sites": 2, "ages": 3, "migrants": 4}


@dataclass(frozen=True)
class CountySpec:
    """One county of a region and the knobs of its synthetic layers.

    Parameters
    ----------
    adcode
        County code, written to ``county`` and used as the id prefix (e.g. ``"440703"``).
    name
        Display name used in front of the synthetic names (e.g. ``"蓬江区"``).
    region
        Region label written to ``region`` (a key of the migrant-share ranges, e.g.
        ``"east"``).
    boundary
        County Polygon or MultiPolygon, longitude/latitude in degrees (e.g. GCJ-02).
    population
        Resident population to split over the zones (persons).
    n_zones
        Number of zones.
    n_towns
        Number of synthetic town centres besides the seat; default ``max(2, n_zones // 4)``.
    seat
        ``(lon, lat)`` of the main centre in the boundary's coordinates; default: the
        pole of inaccessibility of the county's largest part.
    coverage
        Existing seats as a share of children (dimensionless), for all stages or per
        stage; above 1 means spare seats.
    n_candidates
        Candidate sites, for all stages or per stage.
    n_hazard
        Candidate sites flagged ``hazard=True``.
    child_factor
        Multiplier on the national child age shares (dimensionless), e.g. 0.932 for a
        county whose 0-14 share is 16.73 % against 17.95 % nationally.
    """

    adcode: str
    name: str
    region: str
    boundary: BaseGeometry
    population: int
    n_zones: int = 20
    n_towns: int | None = None
    seat: tuple[float, float] | None = None
    coverage: float | Mapping[str, float] = 0.95
    n_candidates: int | Mapping[str, int] = 4
    n_hazard: int = 1
    child_factor: float = 1.0


class RegionLayers(NamedTuple):
    """The three synthetic layers of a region (no CRS; the counties' lon/lat)."""

    zones: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame


def county_seed(seed: int, adcode: str) -> int:
    """Seed for one county: a stable function of the region seed and the county code.

    Parameters
    ----------
    seed
        Region seed (non-negative).
    adcode
        County code.

    Returns
    -------
    int
        A seed below 2**32; the same on every platform and Python version.
    """
    sequence = np.random.SeedSequence([seed, zlib.crc32(adcode.encode("utf-8"))])
    return int(sequence.generate_state(1)[0])


def main_land(
    boundary: BaseGeometry, *, min_part_km2: float = 100.0, crs_metric: str | None = None
) -> BaseGeometry:
    """The parts of ``boundary`` of at least ``min_part_km2``, and always the largest one.

    Drops islets and slivers so that synthetic points land on the main land and the
    larger (inhabited) islands.

    Parameters
    ----------
    boundary
        Polygon or MultiPolygon, longitude/latitude in degrees.
    min_part_km2
        Least area of a kept part, square kilometres (measured in ``crs_metric``).
    crs_metric
        Projected CRS used to measure areas; default: the UTM zone of the centroid.

    Returns
    -------
    shapely.geometry.base.BaseGeometry
        The kept parts, unchanged, in the boundary's coordinates: the boundary itself if
        it is one Polygon or nothing is dropped, else a Polygon or MultiPolygon.
    """
    geo = Geo(boundary, crs_metric)
    parts = list(getattr(boundary, "geoms", [boundary]))
    if len(parts) == 1:
        return boundary
    metric_parts = list(getattr(geo.metric, "geoms", [geo.metric]))
    areas = np.array([p.area / 1e6 for p in metric_parts])
    keep = [i for i in range(len(parts)) if areas[i] >= min_part_km2 or i == int(areas.argmax())]
    if len(keep) == len(parts):
        return boundary
    kept: list[Polygon] = [parts[i] for i in keep]
    return kept[0] if len(kept) == 1 else MultiPolygon(kept)


def synth_region(
    counties: Sequence[CountySpec],
    *,
    seed: int,
    stages: Sequence[str] = REGION_STAGES,
    class_caps: Mapping[str, int] = DEFAULT_CLASS_CAPS,
    school_sizes: Mapping[str, tuple[int, int, int]] = DEFAULT_SCHOOL_SIZES,
    age_profile: Sequence[float] = AGE_PROFILE_2020,
    migrant_shares: Mapping[str, Mapping[bool, tuple[float, float]]] = MIGRANT_SHARE_RANGES,
    min_part_km2: float = 100.0,
) -> RegionLayers:
    """Synthetic zones, schools and candidate sites for several counties at once.

    Per county (in adcode order): town centres (:func:`gis.synth.synth_town_centres`,
    around ``seat`` if given, on the county's largest part only), zones
    (:func:`gis.synth.synth_zones`, population exact), single-year ages 0-17 with stage
    counts as their sums (:func:`gis.synth.synth_single_ages`), a migrant share per
    zone, existing schools at the county's ``coverage`` (:func:`gis.synth.synth_schools`)
    and candidate sites (:func:`gis.synth.synth_candidate_sites`). Points are drawn on
    :func:`main_land` only (parts of at least ``min_part_km2``), hence always inside the
    county boundary.

    Parameters
    ----------
    counties
        The counties; adcodes must be unique and regions keys of ``migrant_shares``.
    seed
        Region seed; each county uses :func:`county_seed` of it.
    stages
        Stages for which schools and candidate sites are generated; each needs a stage
        column (a key of :data:`gis.synth.STAGE_AGES`).
    class_caps
        Children per class by stage.
    school_sizes
        ``(step, smallest, largest)`` school size in classes by stage.
    age_profile
        Share of residents at each age 0-17 (dimensionless).
    migrant_shares
        Range of the synthetic migrant share by region and urban/non-urban zone.
    min_part_km2
        Parts of a county smaller than this (square kilometres) get no points.

    Returns
    -------
    RegionLayers
        ``zones`` (columns :data:`REGION_ZONE_COLUMNS`), ``schools``
        (:data:`REGION_SCHOOL_COLUMNS`) and ``candidates``
        (:data:`REGION_CANDIDATE_COLUMNS`), each with a point ``geometry`` (no CRS;
        the counties' longitude/latitude) and sorted by id.

    Raises
    ------
    ValueError
        If ``counties`` is empty, an adcode repeats, a region has no migrant-share
        range, a stage has no age range, or a county's arguments are inconsistent.
    """
    if not counties:
        raise ValueError("counties must not be empty")
    codes = [c.adcode for c in counties]
    if len(set(codes)) != len(codes):
        raise ValueError(f"county adcodes must be unique, got {codes}")
    for stage in stages:
        if stage not in STAGE_AGES:
            raise ValueError(f"stage {stage!r} has no age range; known: {sorted(STAGE_AGES)}")
    layers: list[RegionLayers] = []
    for spec in sorted(counties, key=lambda c: c.adcode):
        if spec.region not in migrant_shares:
            raise ValueError(
                f"county {spec.adcode}: region {spec.region!r} has no migrant-share range"
            )
        layers.append(
            _county_layers(
                spec,
                seed=county_seed(seed, spec.adcode),
                stages=stages,
                class_caps=class_caps,
                school_sizes=school_sizes,
                age_profile=age_profile,
                migrant_range=migrant_shares[spec.region],
                min_part_km2=min_part_km2,
            )
        )
    return RegionLayers(
        _concat([layer.zones for layer in layers], REGION_ZONE_COLUMNS),
        _concat([layer.schools for layer in layers], REGION_SCHOOL_COLUMNS),
        _concat([layer.candidates for layer in layers], REGION_CANDIDATE_COLUMNS),
    )


def _county_layers(
    spec: CountySpec,
    *,
    seed: int,
    stages: Sequence[str],
    class_caps: Mapping[str, int],
    school_sizes: Mapping[str, tuple[int, int, int]],
    age_profile: Sequence[float],
    migrant_range: Mapping[bool, tuple[float, float]],
    min_part_km2: float,
) -> RegionLayers:
    """The three layers of one county, ids prefixed and ``region`` set."""
    land = main_land(spec.boundary, min_part_km2=min_part_km2)
    n_towns = max(2, spec.n_zones // 4) if spec.n_towns is None else spec.n_towns
    # Town centres on the largest part only (islands get at most a few rural zones).
    parts = list(getattr(land, "geoms", [land]))
    centres = synth_town_centres(
        max(parts, key=lambda p: p.area) if len(parts) > 1 else land,
        seed=seed + _SEED_SALT["zones"],
        n_towns=n_towns,
        main=spec.seat,
    )
    zones = synth_zones(
        land,
        population=spec.population,
        n_zones=spec.n_zones,
        seed=seed + _SEED_SALT["zones"],
        county=spec.adcode,
        centres=centres,
    )
    zones = synth_single_ages(
        zones, seed=seed + _SEED_SALT["ages"], profile=age_profile, child_factor=spec.child_factor
    )
    rng = np.random.default_rng(seed + _SEED_SALT["migrants"])
    urban = zones["zone_type"].isin(URBAN_ZONE_TYPES).to_numpy()
    low = np.where(urban, migrant_range[True][0], migrant_range[False][0])
    high = np.where(urban, migrant_range[True][1], migrant_range[False][1])
    zones["migrant_share"] = np.round(rng.uniform(low, high), 3)
    schools = synth_schools(
        zones,
        boundary=land,
        seed=seed + _SEED_SALT["schools"],
        stages=stages,
        class_caps=class_caps,
        coverage=spec.coverage,
        school_sizes=school_sizes,
    )
    sites = synth_candidate_sites(
        zones,
        boundary=land,
        seed=seed + _SEED_SALT["sites"],
        stages=stages,
        n_per_stage=spec.n_candidates,
        schools=schools,
        class_caps=class_caps,
        n_hazard=spec.n_hazard,
        school_sizes=school_sizes,
    )
    for frame, id_column in ((zones, "zone_id"), (schools, "school_id"), (sites, "site_id")):
        frame[id_column] = spec.adcode + "-" + frame[id_column].astype(str)
        frame["name"] = spec.name + frame["name"].astype(str)
        frame["region"] = spec.region
        inside = shapely.contains_xy(
            spec.boundary, frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
        )
        if not inside.all():  # cannot happen: land is part of the boundary
            raise RuntimeError(f"county {spec.adcode}: points outside its boundary")
    log.info(
        "county %s (%s, %s): %d zones, %d residents, %d schools, %d candidate sites",
        spec.adcode,
        spec.name,
        spec.region,
        len(zones),
        int(zones["population"].sum()),
        len(schools),
        len(sites),
    )
    return RegionLayers(zones, schools, sites)


def _concat(frames: list[gpd.GeoDataFrame], columns: Sequence[str]) -> gpd.GeoDataFrame:
    """Stack per-county frames, keep ``columns`` and the geometry, reset the index."""
    joined = pd.concat([f.loc[:, [*columns, "geometry"]] for f in frames], ignore_index=True)
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=None)
