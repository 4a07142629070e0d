"""The scenario's data layers: what columns they have, loading, and cross-checks.

Column conventions (CSV with ``lon``/``lat`` or any geo format; the names below):

zones
    ``zone_id`` (unique), ``zone_type`` (urban_core, new_district, town, rural, industrial),
    optional ``name``, ``county``, ``population`` and one school-age count per stage
    (``kindergarten``, ``primary``, ``junior``, ``senior``: children living in the zone).
schools
    ``school_id`` (unique), ``stage``, ``classes`` (whole number), optional ``name``,
    ``county``, ``max_classes`` (most classes the land allows; a school without it is not
    expanded), ``ownership`` (public or private; default public), ``closable`` (the model
    may close it when ``planning.allow_closures`` is on; default true).
candidates
    ``site_id`` (unique, not shared with a school), ``stage`` (a stage or ``nine_year``:
    a 九年一贯制 school serving primary and junior pupils), optional ``name``, ``county``,
    ``setting`` (urban or rural: which standard size menu applies; default urban),
    ``land_area_m2``, ``land_cost_cny``, ``hazard`` (polluted or geohazard parcel, rule
    D-09), ``ownership`` (public or private; default public).

Every layer is returned in EPSG:4326 (WGS-84 lon/lat, converted from its declared datum).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from allocator.errors import InputError, Problem, raise_if_any
from allocator.scenario import STAGES, ZONE_TYPES, LayerRef, ResolvedScenario, TableRef
from gis.demand import STAGE_AGES
from gis.io import ColumnSpec, read_layer, read_table

__all__ = [
    "CANDIDATE_COLUMNS",
    "SCHOOL_COLUMNS",
    "SITE_STAGES",
    "URBAN_ZONE_TYPES",
    "ZONE_COLUMNS",
    "ZONE_TYPES",
    "PlanInputs",
    "load_inputs",
]

log = logging.getLogger(__name__)

URBAN_ZONE_TYPES = frozenset({"urban_core", "new_district", "industrial"})

ZONE_COLUMNS = (
    ColumnSpec("zone_id", "id"),
    ColumnSpec("zone_type", "choice", choices=ZONE_TYPES),
    ColumnSpec("name", "text", required=False),
    ColumnSpec("county", "text", required=False),
    ColumnSpec("population", "count", required=False),
    ColumnSpec("migrant_share", "number", required=False),
    *(ColumnSpec(stage, "count", required=False) for stage in STAGES),
    *(ColumnSpec(f"age_{age}", "count", required=False) for age in range(18)),
)
BIRTHS_COLUMNS = (
    ColumnSpec("county", "text"),
    ColumnSpec("year", "count", integer=True),
    ColumnSpec("births", "count"),
)
HOUSING_COLUMNS = (
    ColumnSpec("project_id", "text"),
    ColumnSpec("zone_id", "text"),
    ColumnSpec("units", "count"),
    ColumnSpec("completion_year", "count", integer=True),
    ColumnSpec("plot_ratio_base", "number", required=False),
    ColumnSpec("plot_ratio_new", "number", required=False),
    *(ColumnSpec(f"yield_{stage}", "number", required=False) for stage in STAGES),
)
SCHOOL_COLUMNS = (
    ColumnSpec("school_id", "id"),
    ColumnSpec("stage", "choice", choices=STAGES),
    ColumnSpec("classes", "count", integer=True),
    ColumnSpec("name", "text", required=False),
    ColumnSpec("county", "text", required=False),
    ColumnSpec("max_classes", "count", required=False, integer=True),
    ColumnSpec("ownership", "choice", required=False, choices=("public", "private")),
    ColumnSpec("closable", "flag", required=False),
    ColumnSpec("closure_year", "count", required=False, integer=True, blank_ok=True),
    ColumnSpec("closure_value_cny", "number", required=False, blank_ok=True),
)
#: Stage values of candidate sites: a school stage, or a nine-year school (primary + junior).
SITE_STAGES = (*STAGES, "nine_year")
CANDIDATE_COLUMNS = (
    ColumnSpec("site_id", "id"),
    ColumnSpec("stage", "choice", choices=SITE_STAGES),
    ColumnSpec("name", "text", required=False),
    ColumnSpec("county", "text", required=False),
    ColumnSpec("setting", "choice", required=False, choices=("urban", "rural")),
    ColumnSpec("land_area_m2", "number", required=False),
    ColumnSpec("land_cost_cny", "count", required=False),
    ColumnSpec("hazard", "flag", required=False),
    ColumnSpec("ownership", "choice", required=False, choices=("public", "private")),
)


@dataclass(frozen=True)
class PlanInputs:
    """The validated data layers of a scenario, all in EPSG:4326.

    Parameters
    ----------
    zones, schools, candidates
        Demand zones, existing schools and candidate sites (``candidates`` may be empty).
    counties
        Boundary polygons for maps, or ``None`` when the scenario names none.
    births, housing
        Births by county and year, and housing projects (``None`` when not given).
    hazard_areas
        Polluted or geohazard polygons (rule D-09), or ``None``.
    files
        Layer name to (path as written in the scenario, SHA-256 of the file's bytes).
    """

    zones: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    counties: gpd.GeoDataFrame | None
    files: dict[str, tuple[str, str]]
    births: pd.DataFrame | None = None
    housing: pd.DataFrame | None = None
    hazard_areas: gpd.GeoDataFrame | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _empty_candidates() -> gpd.GeoDataFrame:
    frame = pd.DataFrame({"site_id": pd.Series(dtype=str), "stage": pd.Series(dtype=str)})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs="EPSG:4326"))


def _standards_problems(resolved: ResolvedScenario, inputs: PlanInputs) -> list[Problem]:
    """Every planned stage needs a class cap, travel limits, demand, and sizes for sites."""
    config = resolved.config
    standards = config.standards
    label = resolved.source.name
    problems: list[Problem] = []
    for stage in config.planning.stages:
        needed: list[tuple[str, object]] = [
            ("class_caps", standards.class_caps.get(stage)),
            ("travel_limits_m", standards.travel_limits_m.get(stage)),
        ]
        site_stage = inputs.candidates["stage"]
        nine = stage in ("primary", "junior") and (site_stage == "nine_year").any()
        schools = inputs.schools[inputs.schools["stage"] == stage]
        grows = "max_classes" in schools.columns and bool(
            (schools["max_classes"] > schools["classes"]).any())
        if (site_stage == stage).any():
            needed.append(("school_sizes", standards.school_sizes.get(stage)))
        if (site_stage == stage).any() or nine or grows:
            needed.append(("cost_per_seat_cny", standards.cost_per_seat_cny.get(stage)))
        for key, value in needed:
            if value is None:
                problems.append(
                    Problem(
                        label,
                        f"key standards.{key}.{stage}",
                        f"stage '{stage}' is planned but has no {key}; "
                        "set it in the scenario or its imports",
                    )
                )
        low, high = STAGE_AGES[stage]
        has_counts = stage in inputs.zones.columns or all(
            f"age_{age}" in inputs.zones.columns for age in range(low, high + 1))
        has_share = (
            "population" in inputs.zones.columns
            and standards.school_age_shares.get(stage) is not None
        )
        if not (has_counts or has_share):
            problems.append(
                Problem(
                    _source(config.data.zones),
                    f"column {stage}",
                    f"stage '{stage}' is planned but the zones give no '{stage}' counts; add the "
                    f"column, or a 'population' column and standards.school_age_shares.{stage}",
                )
            )
    nine_year = (inputs.candidates["stage"] == "nine_year").any()
    if nine_year and {"primary", "junior"} <= set(config.planning.stages) \
            and standards.nine_year_sizes is None:
        problems.append(Problem(label, "key standards.nine_year_sizes",
                                "candidate sites of stage nine_year need the standard nine-year "
                                "sizes; set them in the scenario or its imports"))
    return problems


def _row_label(ref: LayerRef, index: object) -> str:
    """How a row is named: spreadsheet rows for CSV and xlsx (header is row 1), else features."""
    position = int(str(index))
    if ref.path.lower().endswith((".csv", ".xlsx")):
        return f"row {position + 2}"
    return f"feature {position + 1}"


def _source(ref: LayerRef | TableRef) -> str:
    """The file as problems name it: its path, and the sheet of a workbook."""
    return ref.path if ref.sheet is None else f"{ref.path}, sheet {ref.sheet}"


def _demand_problems(resolved: ResolvedScenario, inputs: PlanInputs) -> list[Problem]:
    """Births need the zones' county; housing projects must name known zones."""
    demand = resolved.config.demand
    problems: list[Problem] = []
    if inputs.births is not None and "county" not in inputs.zones.columns:
        problems.append(Problem(_source(resolved.config.data.zones), "column county",
                                "births are given by county, so the zones need a county column"))
    if inputs.housing is not None and demand.housing is not None:
        unknown = ~inputs.housing["zone_id"].isin(set(inputs.zones["zone_id"]))
        for index in inputs.housing.index[unknown][:5]:
            value = repr(inputs.housing.at[index, "zone_id"])
            problems.append(Problem(_source(demand.housing),
                                    f"row {int(index) + 2}, column zone_id",
                                    "no zone has this id", value))
    return problems


def _cross_layer_problems(resolved: ResolvedScenario, inputs: PlanInputs) -> list[Problem]:
    config = resolved.config
    problems: list[Problem] = []
    if config.data.candidates is not None:
        shared = sorted(set(inputs.schools["school_id"]) & set(inputs.candidates["site_id"]))
        if shared:
            problems.append(
                Problem(
                    _source(config.data.candidates),
                    "column site_id",
                    "site ids must differ from school ids",
                    ", ".join(shared[:5]),
                )
            )
    if "max_classes" in inputs.schools.columns:
        bad = inputs.schools[inputs.schools["max_classes"] < inputs.schools["classes"]]
        for index in bad.index[:5]:
            row = inputs.schools.loc[index]
            problems.append(
                Problem(
                    _source(config.data.schools),
                    f"{_row_label(config.data.schools, index)}, column max_classes",
                    "max_classes (land limit) must be at least the current classes",
                    f"{row['max_classes']} < {row['classes']}",
                )
            )
    return problems


def load_inputs(resolved: ResolvedScenario) -> PlanInputs:
    """Read and validate every data layer of a scenario.

    Parameters
    ----------
    resolved
        The scenario; layer paths are relative to its file.

    Returns
    -------
    PlanInputs
        Layers in EPSG:4326 with coerced column types.

    Raises
    ------
    InputError
        With the problems of all layers together.
    """
    data = resolved.config.data
    problems: list[Problem] = []
    files: dict[str, tuple[str, str]] = {}

    def read(
        name: str,
        ref: LayerRef,
        columns: tuple[ColumnSpec, ...],
        id_column: str | None,
        geometry_types: tuple[str, ...] | None,
    ) -> gpd.GeoDataFrame | None:
        path = resolved.layer_path(ref)
        try:
            frame = read_layer(
                path,
                label=ref.path,
                datum=ref.datum,
                layer=ref.layer,
                lon_column=ref.lon_column,
                lat_column=ref.lat_column,
                geometry_types=geometry_types,
                columns=columns,
                id_column=id_column,
                sheet=ref.sheet,
            )
        except InputError as exc:
            problems.extend(exc.problems)
            return None
        files[name] = (ref.path, _sha256(path))
        return frame

    points = ("Point",)
    zones = read("zones", data.zones, ZONE_COLUMNS, "zone_id", None)
    schools = read("schools", data.schools, SCHOOL_COLUMNS, "school_id", points)
    candidates = (
        read("candidates", data.candidates, CANDIDATE_COLUMNS, "site_id", points)
        if data.candidates is not None
        else _empty_candidates()
    )
    counties = (
        read("boundary", data.boundary, (), None, ("Polygon", "MultiPolygon"))
        if data.boundary is not None
        else None
    )
    demand = resolved.config.demand

    def table(name: str, ref: TableRef | None, columns: tuple[ColumnSpec, ...],
              unique: tuple[str, ...]) -> pd.DataFrame | None:
        if ref is None:
            return None
        path = resolved.layer_path(ref)
        try:
            frame = read_table(path, label=ref.path, columns=columns, unique=unique,
                               sheet=ref.sheet)
        except InputError as exc:
            problems.extend(exc.problems)
            return None
        files[name] = (ref.path, _sha256(path))
        return frame

    polygons = ("Polygon", "MultiPolygon")
    hazards = (read("hazard_areas", data.hazard_areas, (), None, polygons)
               if data.hazard_areas is not None else None)
    births = table("births", demand.births, BIRTHS_COLUMNS, ("county", "year"))
    housing = table("housing", demand.housing, HOUSING_COLUMNS, ())
    raise_if_any(problems)
    assert zones is not None and schools is not None and candidates is not None
    inputs = PlanInputs(zones, schools, candidates, counties, files, births, housing, hazards)
    raise_if_any(_standards_problems(resolved, inputs) + _cross_layer_problems(resolved, inputs)
                 + _demand_problems(resolved, inputs))
    return inputs


def zone_setting(zone_type: str) -> str:
    """'urban' for urban core, new district and industrial zones, else 'rural'."""
    return "urban" if zone_type in URBAN_ZONE_TYPES else "rural"
