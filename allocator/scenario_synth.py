"""Shared steps of the scenario generator scripts (``scenarios/*/generate*.py``).

Each script keeps what is particular to its place (seeds, knobs, county seats, pairings,
extra tables); this module reads the committed inputs of a scenario folder, builds the
SYNTHETIC siting layers' county specifications and the SYNTHETIC teacher roster, and
writes the files (UTF-8, LF line endings) so that a fresh run is byte-identical to the
committed data. Coordinates are longitude/latitude in degrees; the scenarios' layers are
GCJ-02, their county seats are given in WGS-84 and converted here.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import pandas as pd
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from allocator.layering import load_scenario
from allocator.rotation_pipeline import rotation_years
from allocator.rotation_roster import (
    planned_sizes,
    rotation_policy,
    synth_roster,
    synth_school_flags,
    urban_from_zones,
)
from gis.crs import wgs84_to_gcj02
from gis.synth import (
    REGION_CANDIDATE_COLUMNS,
    REGION_SCHOOL_COLUMNS,
    REGION_ZONE_COLUMNS,
    CountySpec,
)

__all__ = [
    "CountyKnobs",
    "ScenarioRoster",
    "county_specs",
    "read_counties",
    "read_geometry",
    "regenerate",
    "scenario_roster",
    "seat_gcj02",
    "write_counties_geojson",
    "write_flags_csv",
    "write_layers",
    "write_region_layers",
]

#: The stages a teacher roster is generated for.
ROSTER_STAGES = ("primary", "junior")


# ---------------------------------------------------------------------- siting layers


def read_geometry(path: Path) -> BaseGeometry:
    """Read a bare GeoJSON geometry (a boundary; lon/lat in degrees, CRS as in the file).

    Parameters
    ----------
    path
        GeoJSON file holding one geometry object (UTF-8).

    Returns
    -------
    BaseGeometry
        The Polygon or MultiPolygon, coordinates unchanged.
    """
    with path.open(encoding="utf-8") as f:
        return shape(json.load(f))


def read_counties(path: Path) -> list[dict[str, str]]:
    """Rows of a scenario's ``counties.csv`` as strings (adcode, names, population, boundary).

    Parameters
    ----------
    path
        The CSV file (UTF-8, header row).

    Returns
    -------
    list of dict
        One mapping per county, in file order.
    """
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def seat_gcj02(seats_wgs84: Mapping[str, tuple[float, float]],
               adcode: str) -> tuple[float, float] | None:
    """A county seat in GCJ-02 lon/lat (degrees, 6 decimals), or None if unknown.

    Parameters
    ----------
    seats_wgs84
        County seats by adcode, WGS-84 lon/lat in degrees.
    adcode
        The county.

    Returns
    -------
    tuple of float or None
        ``(lon, lat)`` in GCJ-02 degrees rounded to 6 decimals (about 0.1 m).
    """
    if adcode not in seats_wgs84:
        return None
    lon, lat = wgs84_to_gcj02(*seats_wgs84[adcode])
    return round(lon, 6), round(lat, 6)


class CountyKnobs(NamedTuple):
    """SYNTHETIC generation settings of one county (see :class:`gis.synth.CountySpec`).

    ``coverage``: existing seats per child (dimensionless) per stage; ``n_candidates``:
    candidate sites per stage; ``n_hazard``: hazard-flagged sites (D-09).
    """

    n_zones: int
    n_towns: int
    coverage: dict[str, float]
    n_candidates: dict[str, int]
    n_hazard: int


def county_specs(data: Path, knobs: Mapping[str, CountyKnobs],
                 seats_wgs84: Mapping[str, tuple[float, float]], *, region: str,
                 child_factor: Mapping[str, float] | None = None) -> list[CountySpec]:
    """The counties of ``data/counties.csv``: real boundary and census population.

    Parameters
    ----------
    data
        The scenario's data folder (holds ``counties.csv`` and the boundary files it
        names in its ``boundary`` column, GCJ-02 lon/lat).
    knobs
        SYNTHETIC knobs by adcode (every county of the file must have one).
    seats_wgs84
        County seats by adcode, WGS-84 lon/lat in degrees (missing: pole of inaccessibility).
    region
        Column of ``counties.csv`` holding the region label (e.g. ``"region"``).
    child_factor
        Child-count factor by adcode (dimensionless); other counties keep the default 1.

    Returns
    -------
    list of CountySpec
        In file order; population from ``population_2020`` (persons).
    """
    specs = []
    for row in read_counties(data / "counties.csv"):
        code = row["adcode"]
        k = knobs[code]
        specs.append(CountySpec(
            adcode=code, name=row["name_zh"], region=row[region],
            boundary=read_geometry(data / row["boundary"]),
            population=int(row["population_2020"]), n_zones=k.n_zones, n_towns=k.n_towns,
            seat=seat_gcj02(seats_wgs84, code), coverage=k.coverage,
            n_candidates=k.n_candidates, n_hazard=k.n_hazard,
            child_factor=(child_factor or {}).get(code, 1.0)))
    return specs


def write_counties_geojson(data: Path, properties: Sequence[str], path: Path) -> Path:
    """Write the boundaries of ``data/counties.csv`` as one GeoJSON FeatureCollection.

    Parameters
    ----------
    data
        The scenario's data folder.
    properties
        Columns of ``counties.csv`` copied to each feature's properties.
    path
        The file written: compact JSON (UTF-8, non-ASCII kept, final newline);
        coordinates unchanged.

    Returns
    -------
    Path
        ``path``.
    """
    features = []
    for row in read_counties(data / "counties.csv"):
        with (data / row["boundary"]).open(encoding="utf-8") as f:
            geometry = json.load(f)
        geometry.pop("properties", None)
        features.append({"type": "Feature", "properties": {k: row[k] for k in properties},
                         "geometry": geometry})
    collection = {"type": "FeatureCollection", "features": features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n"
    path.write_bytes(text.encode("utf-8"))
    return path


def write_layers(out_dir: Path,
                 layers: Iterable[tuple[str, pd.DataFrame, Sequence[str]]]) -> list[Path]:
    """Write each ``(file name, frame, columns)`` as CSV (UTF-8, LF, no index).

    Parameters
    ----------
    out_dir
        Folder, created if missing.
    layers
        File name, table and the columns to write, in order.

    Returns
    -------
    list of Path
        The files written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, frame, columns in layers:
        path = out_dir / filename
        frame.loc[:, list(columns)].to_csv(path, index=False, encoding="utf-8",
                                           lineterminator="\n")
        written.append(path)
    return written


def write_region_layers(out_dir: Path,
                        layers: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], *,
                        data: Path, properties: Sequence[str]) -> list[Path]:
    """Write a region's zones, schools and candidate sites and its ``counties.geojson``.

    Parameters
    ----------
    out_dir
        Folder, created if missing.
    layers
        Zones, schools and candidate sites of :func:`gis.synth.synth_region` (GCJ-02
        lon/lat), written with the ``REGION_*_COLUMNS`` of :mod:`gis.synth`.
    data
        The scenario's data folder (``counties.csv`` and the boundaries).
    properties
        Columns of ``counties.csv`` copied to the GeoJSON features.

    Returns
    -------
    list of Path
        ``zones.csv``, ``schools.csv``, ``candidates.csv`` and ``counties.geojson``.
    """
    zones, schools, sites = layers
    written = write_layers(out_dir, (("zones.csv", zones, REGION_ZONE_COLUMNS),
                                     ("schools.csv", schools, REGION_SCHOOL_COLUMNS),
                                     ("candidates.csv", sites, REGION_CANDIDATE_COLUMNS)))
    return [*written, write_counties_geojson(data, properties, out_dir / "counties.geojson")]


def regenerate(write: Callable[[], list[Path]], folder: Path, log: logging.Logger) -> None:
    """Run a script's ``write`` and log one line naming the files, relative to ``folder``.

    Parameters
    ----------
    write
        Writes the files and returns their paths.
    folder
        The scenario folder.
    log
        The script's logger (INFO; logging is configured here for a command-line run).
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    paths = write()
    log.info("wrote %s", ", ".join(str(p.relative_to(folder)) for p in paths))


# ---------------------------------------------------------------------- teacher roster


class ScenarioRoster(NamedTuple):
    """The SYNTHETIC school flags, the schools sized on the plan, and the roster."""

    attributes: pd.DataFrame
    sized: pd.DataFrame
    roster: pd.DataFrame


def scenario_roster(
        folder: Path, plan: pd.DataFrame | None, *, seed: int,
        flags: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] | None = None,
) -> ScenarioRoster:
    """School flags and a roster consistent with the plan of ``folder/scenario.yaml``.

    Reads ``data/schools.csv`` and ``data/zones.csv``; keeps the primary and junior
    schools; ``urban``: the school's nearest zone of its county is urban (see
    :func:`allocator.rotation_roster.urban_from_zones`); flags by
    :func:`allocator.rotation_roster.synth_school_flags` (``seed``); each school sized
    on its peak year of the rotation horizon (:func:`allocator.rotation_roster.
    planned_sizes`) and staffed by :func:`allocator.rotation_roster.synth_roster`
    (``seed + 1``) with the scenario's rotation policy.

    Parameters
    ----------
    folder
        The scenario folder (its ``scenario.yaml`` must import a rotation section).
    plan
        The ``schools`` table of a run of the scenario; ``None`` runs the siting plan.
    seed
        Seed of the flags; the roster uses ``seed + 1``.
    flags
        Adds scenario-specific columns to the flags, given the flags and the schools.

    Returns
    -------
    ScenarioRoster
        ``attributes`` (``school_id, urban, high_quality, weak`` + extra flags),
        ``sized`` (schools with flags, ``pupils`` and ``classes``) and ``roster``.
    """
    resolved = load_scenario(folder / "scenario.yaml")
    policy = rotation_policy(resolved)  # the scenario must import rotation.yaml
    data = folder / "data"
    schools = pd.read_csv(data / "schools.csv", dtype={"school_id": str, "county": str})
    zones = pd.read_csv(data / "zones.csv", dtype={"zone_id": str, "county": str})
    schools = schools[schools["stage"].isin(ROSTER_STAGES)].reset_index(drop=True)
    urban = pd.Series(False, index=schools.index)
    for county, part in schools.groupby("county", sort=True):
        urban[part.index] = urban_from_zones(part, zones[zones["county"].eq(county)])
    attributes = synth_school_flags(schools["school_id"], urban, seed=seed)
    if flags is not None:
        attributes = flags(attributes, schools)
    sizes = planned_sizes(resolved, plan).loc[:, ["school_id", "pupils", "classes"]]
    sized = schools.drop(columns="classes").merge(attributes, on="school_id").merge(
        sizes, on="school_id", how="left", validate="one_to_one")
    roster = synth_roster(sized, seed=seed + 1, first_year=rotation_years(resolved)[0],
                          policy=policy)
    return ScenarioRoster(attributes, sized, roster)


def write_flags_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV with boolean columns as 1/0 (UTF-8, LF, no index).

    Parameters
    ----------
    frame
        The table (not modified).
    path
        The file written.
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].astype(int)
    out.to_csv(path, index=False, lineterminator="\n")
