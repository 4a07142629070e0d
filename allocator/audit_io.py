"""Reading the tables the audit checks: a results directory, or a planner's own layout.

A results directory holds CSV tables (:data:`KNOWN_TABLES`), ``scenario.resolved.yaml`` and
``plan.gpkg`` (whose ``zones`` layer gives the zone types for the travel limits).
A planner's layout is a few files named by table (CSV, or a GeoPackage layer given as
``file.gpkg#layer``); the existing schools and the zones come from the scenario's data
layers, and the schools table (classes, class caps, enrolment per school, stage and year)
is assembled from them, the new sites and the assignments.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import yaml

from allocator.audit_core import ID_COLUMNS
from allocator.audit_frames import is_missing
from allocator.audit_params import ConfigLike, params_from_config
from allocator.scenario import ResolvedScenario

__all__ = ["KNOWN_TABLES", "read_plan", "read_table", "read_tables_dir", "scenario_tables"]

log = logging.getLogger(__name__)

KNOWN_TABLES = ("demand", "schools", "assignments", "sites", "expansions", "spend",
                "closures", "catchment", "rotations", "staffing", "pairings", "teachers",
                "school_attributes", "county_posts", "zones")
"""Table files the audit reads from a results directory (``NAME.csv``) when present."""

RESOLVED = "scenario.resolved.yaml"
GPKG = "plan.gpkg"


def read_table(path: str | Path) -> pd.DataFrame:
    """Read one table file.

    One table: a CSV file (UTF-8, ids as text) or ``file.gpkg#layer`` (geometry dropped,
    points kept as ``lon``, ``lat`` in the layer's CRS).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    """
    text = str(path)
    file, _, layer = text.partition("#")
    where = Path(file)
    if not where.exists():
        raise FileNotFoundError(f"{where}: no such file")
    if where.suffix.lower() == ".csv":
        header = pd.read_csv(where, nrows=0, encoding="utf-8-sig").columns
        dtypes = {c: str for c in header if c in ID_COLUMNS}
        return pd.read_csv(where, dtype=dtypes, encoding="utf-8-sig")
    frame = pyogrio.read_dataframe(where, layer=layer or None)
    geometry = frame.geometry
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if len(out) and bool((geometry.geom_type == "Point").all()):
        out["lon"], out["lat"] = geometry.x.to_numpy(), geometry.y.to_numpy()
    for column in ID_COLUMNS:
        if column in out.columns:
            out[column] = out[column].astype(str)
    return out


def read_tables_dir(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The result tables of a directory and its resolved scenario (as plain data).

    Raises
    ------
    FileNotFoundError
        If the directory does not exist or holds none of :data:`KNOWN_TABLES`.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such results directory")
    tables = {name: read_table(folder / f"{name}.csv") for name in KNOWN_TABLES
              if (folder / f"{name}.csv").exists()}
    if not tables:
        raise FileNotFoundError(f"{folder}: no result tables ({', '.join(KNOWN_TABLES)}.csv)")
    gpkg = folder / GPKG
    if "zones" not in tables and gpkg.exists() and "zones" in {
            str(name) for name, _ in pyogrio.list_layers(gpkg)}:
        tables["zones"] = read_table(f"{gpkg}#zones")
    resolved = folder / RESOLVED
    config: dict[str, Any] = {}
    if resolved.exists():
        loaded = yaml.safe_load(resolved.read_text(encoding="utf-8"))
        config = loaded if isinstance(loaded, dict) else {}
    else:
        log.warning("%s has no %s: the audit uses default parameters", folder, RESOLVED)
    return tables, config


#: Rotation input tables the audit can use, by ``rotation.data`` key.
ROTATION_INPUTS = {"pairings": "pairings", "school_attributes": "school_attributes",
                   "teachers": "teachers"}


def scenario_tables(resolved: ResolvedScenario) -> dict[str, pd.DataFrame]:
    """Input tables of the scenario's ``rotation:`` section the audit can use.

    The pairings (J-18), the school flags (``urban``, ``high_quality``, ``weak``,
    ``centre``; D-19, G-12) and the teacher roster (eligibility, D-19), read from the
    paths of ``rotation.data`` relative to the scenario file; missing files are skipped
    with a warning.
    """
    rotation = getattr(resolved.config, "rotation", None)
    data = getattr(rotation, "data", None)
    found: dict[str, pd.DataFrame] = {}
    for key, name in ROTATION_INPUTS.items():
        ref = getattr(data, key, None)
        if ref is None:
            continue
        path = (resolved.base_dir / str(ref.path)).resolve()
        if path.exists():
            found[name] = read_table(path)
        else:
            log.warning("rotation.data.%s: %s does not exist; the audit goes without it",
                        key, path)
    return found


def _years(tables: Mapping[str, pd.DataFrame], periods: tuple[int, ...]) -> list[int]:
    years = set(periods)
    for name in ("assignments", "sites"):
        frame = tables.get(name)
        if frame is not None and "year" in frame.columns:
            years |= {int(y) for y in pd.to_numeric(frame["year"], errors="coerce").dropna()}
    return sorted(years)


def _owner(value: object) -> str:
    """``public`` unless the cell says otherwise."""
    return "public" if is_missing(value) else str(value).strip().lower()


def _schools(tables: Mapping[str, pd.DataFrame], existing: pd.DataFrame | None,
             scenario: ConfigLike) -> pd.DataFrame:
    """The schools table assembled from a planner's layout.

    ``schools`` per school, stage and year from existing schools, new sites and
    assignments: classes, cap (scenario), enrolled (sum of assigned children), kind.
    """
    params = params_from_config(scenario).siting
    years = _years(tables, params.periods)
    rows: list[dict[str, object]] = []
    if existing is not None:
        for row in existing.to_dict(orient="records"):
            for year in years:
                rows.append({"school_id": str(row["school_id"]), "stage": row["stage"],
                             "year": year, "classes": row["classes"], "kind": "existing",
                             "ownership": _owner(row.get("ownership")),
                             "max_classes": row.get("max_classes"),
                             "name": row.get("name", ""), "county": row.get("county", "")})
    sites = tables.get("sites")
    if sites is not None and {"site_id", "stage", "year", "classes"} <= set(sites.columns):
        for row in sites.to_dict(orient="records"):
            for year in years:
                if year >= int(row["year"]):
                    rows.append({"school_id": str(row["site_id"]), "stage": row["stage"],
                                 "year": year, "classes": row["classes"], "kind": "new",
                                 "ownership": _owner(row.get("ownership")),
                                 "name": row.get("name", ""), "county": row.get("county", "")})
    frame = pd.DataFrame(rows, columns=["school_id", "stage", "year", "classes", "kind",
                                        "ownership", "max_classes", "name", "county"])
    flows = tables.get("assignments")
    if flows is not None and {"school_id", "stage", "year", "children"} <= set(flows.columns):
        load = flows.assign(school_id=flows["school_id"].astype(str)).groupby(
            ["school_id", "stage", "year"])["children"].sum().rename("enrolled")
        frame = frame.join(load, on=["school_id", "stage", "year"])
    if "enrolled" not in frame.columns:
        frame["enrolled"] = 0.0
    frame["enrolled"] = frame["enrolled"].fillna(0.0)
    frame["cap"] = [params.cap(str(g), int(y)) for g, y in
                    zip(frame["stage"], frame["year"], strict=True)]
    return frame


def read_plan(plan_paths: Mapping[str, str | Path], scenario: ConfigLike
              ) -> dict[str, pd.DataFrame]:
    """The tables of a planner's layout, completed from the scenario's data layers.

    Parameters
    ----------
    plan_paths
        Table name to file (``sites``, ``assignments``, optional ``rotations``,
        ``staffing``, ``pairings``, ``schools``, ``expansions``, ``demand``, ...).
    scenario
        The scenario; a :class:`~allocator.scenario.ResolvedScenario` gives the existing
        schools and zones (zone types for the travel limits).

    Raises
    ------
    FileNotFoundError
        If a named file does not exist.
    allocator.errors.InputError
        If the scenario's data layers are invalid.
    """
    tables = {name: read_table(path) for name, path in plan_paths.items()}
    sites = tables.get("sites")
    if sites is not None and "site_id" not in sites.columns and "school_id" in sites.columns:
        tables["sites"] = sites.rename(columns={"school_id": "site_id"})
    existing: pd.DataFrame | None = None
    if isinstance(scenario, ResolvedScenario):
        for name, frame in scenario_tables(scenario).items():
            tables.setdefault(name, frame)
        from allocator.inputs import load_inputs

        inputs = load_inputs(scenario)
        existing = pd.DataFrame(inputs.schools.drop(columns="geometry"))
        if "zones" not in tables:
            tables["zones"] = pd.DataFrame(inputs.zones.drop(columns="geometry"))
    if "schools" not in tables:
        tables["schools"] = _schools(tables, existing, scenario)
    return tables
