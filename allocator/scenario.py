"""Scenario schema: a strict, frozen description of one planning run.

A scenario file is YAML. Unknown keys are errors (``extra="forbid"``) and a validated
scenario cannot be changed (``frozen=True``). How files, imports, named overrides and
``--set`` are layered is in :mod:`allocator.layering`; :func:`load_scenario` is the entry
point.

Units: distances in metres, money in CNY (yuan), counts in children or classes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from allocator.rotation_config import RotationConfig
from allocator.rules.config import RulesConfig

__all__ = [
    "STAGES",
    "ZONE_TYPES",
    "CountTargetConfig",
    "DataLayers",
    "DemandConfig",
    "ExpansionStandard",
    "LayerRef",
    "Meta",
    "ObjectiveConfig",
    "PerStage",
    "Planning",
    "ResolvedScenario",
    "Scenario",
    "SeatTargetConfig",
    "ShareTargetConfig",
    "SolverConfig",
    "Stage",
    "Standards",
    "TableRef",
    "TravelConfig",
    "VariantConfig",
    "scenario_json_schema",
]

Stage = Literal["kindergarten", "primary", "junior", "senior"]
STAGES: tuple[Stage, ...] = ("kindergarten", "primary", "junior", "senior")
Setting = Literal["urban", "rural"]
Datum = Literal["wgs84", "cgcs2000", "gcj02"]
ZoneType = Literal["urban_core", "new_district", "town", "rural", "industrial"]
ZONE_TYPES: tuple[ZoneType, ...] = ("urban_core", "new_district", "town", "rural", "industrial")

PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Year = Annotated[int, Field(ge=2000, le=2100)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(gt=0, lt=1)]

T = TypeVar("T")


class StrictModel(BaseModel):
    """Base for every scenario section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PerStage(StrictModel, Generic[T]):
    """One value per school stage; a stage left out has no value."""

    kindergarten: T | None = None
    primary: T | None = None
    junior: T | None = None
    senior: T | None = None

    def get(self, stage: Stage) -> T | None:
        """Return the value for ``stage`` (``None`` when not set)."""
        value: T | None = getattr(self, stage)
        return value


class PerSetting(StrictModel, Generic[T]):
    """One value for urban and one for rural places."""

    urban: T
    rural: T


class Meta(StrictModel):
    """What the scenario is and how it is run."""

    name: str = Field(min_length=1, description="Short name, used in titles and file names.")
    description: str = ""
    place: str = Field("", description="Administrative code or name of the planning area.")
    seed: int = Field(0, ge=0, description="Seed for every random step; same seed, same plan.")
    language: Literal["zh", "en"] = "en"


class ExpansionStandard(StrictModel):
    """How an existing school grows: whole class modules up to its land limit."""

    module_classes: PositiveInt = Field(
        6, description="Classes added by one expansion module (6: one class per grade of a "
        "primary school).")
    cost_per_seat_factor: Annotated[float, Field(gt=0, le=5)] = Field(
        0.8, description="Expansion cost per seat as a share of the new-build "
        "cost_per_seat_cny of the stage (no land to buy).")


class Standards(StrictModel):
    """National or local standards used as default parameters.

    The shipped ``scenarios/common/standards.yaml`` holds the national defaults with their
    sources.
    """

    class_caps: PerStage[PositiveInt] = Field(
        default_factory=PerStage, description="Maximum pupils per class by stage."
    )
    staffing_ratios: PerStage[PositiveFloat] = Field(
        default_factory=PerStage, description="Pupils per staff post by stage (1:19 means 19)."
    )
    school_sizes: PerStage[PerSetting[list[PositiveInt]]] = Field(
        default_factory=PerStage, description="Standard new-school sizes in classes."
    )
    school_age_shares: PerStage[Share] = Field(
        default_factory=PerStage,
        description="Share of residents of each stage's age, used when zones give no counts.",
    )
    cost_per_seat_cny: PerStage[NonNegativeFloat] = Field(
        default_factory=PerStage, description="Build cost of one new seat, CNY (excl. land)."
    )
    land_m2_per_pupil: PerStage[PositiveFloat] = Field(
        default_factory=PerStage,
        description="Land a new school needs per pupil, m²; a size option needs "
        "classes x class cap x this much land.")
    travel_limits_m: PerStage[PerSetting[PositiveFloat]] = Field(
        default_factory=PerStage,
        description="Longest allowed home-to-school travel distance, metres (rule D-07).",
    )
    class_caps_by_year: PerStage[dict[Year, PositiveInt]] = Field(
        default_factory=PerStage,
        description="Lower class caps from a year on: {stage: {year: cap}}; from that year "
        "the stage's cap is this (rule Z-18: caps may fall over time, never rise; the "
        "class_caps of rule D-13 hold before the first year).")
    max_school_classes: PerStage[PositiveInt] = Field(
        default_factory=PerStage,
        description="Largest school of a stage in classes (rule N-05 size limit): larger "
        "size options are dropped and no school grows beyond it.")
    nine_year_sizes: PerSetting[list[PositiveInt]] | None = Field(
        None,
        description="Standard nine-year school sizes in classes (建标〔2002〕102号: 18, 27, 36, "
        "45); two thirds primary, one third junior classes. Used for candidate sites of "
        "stage nine_year.")
    expansion: ExpansionStandard = Field(
        default_factory=lambda: ExpansionStandard(),
        description="How existing schools grow: class modules and their cost.")

    @model_validator(mode="after")
    def _caps_fall(self) -> Standards:
        for stage in STAGES:
            by_year = self.class_caps_by_year.get(stage) or {}
            base = self.class_caps.get(stage)
            previous: tuple[int, int] | None = (None if base is None else (0, base))
            for year in sorted(by_year):
                cap = by_year[year]
                if previous is not None and cap > previous[1]:
                    since = "the base cap (class_caps)" if previous[0] == 0 else str(previous[0])
                    raise ValueError(
                        f"standards.class_caps_by_year.{stage}: the cap {cap} from {year} is "
                        f"above {previous[1]} of {since}; caps may fall over time but never "
                        "rise (rule Z-18)")
                previous = (year, cap)
        if self.nine_year_sizes is not None:
            for setting in ("urban", "rural"):
                sizes: list[int] = getattr(self.nine_year_sizes, setting)
                odd = [size for size in sizes if size % 3]
                if odd:
                    raise ValueError(
                        f"standards.nine_year_sizes.{setting}: {odd} cannot be split two "
                        "thirds primary, one third junior; use multiples of 3 (18, 27, 36, 45)")
        return self

    def cap_in(self, stage: Stage, year: int) -> int | None:
        """Class cap of ``stage`` in ``year`` (pupils per class).

        The latest ``class_caps_by_year`` entry at or before ``year``, else ``class_caps``;
        ``None`` if neither is set.
        """
        by_year = self.class_caps_by_year.get(stage) or {}
        earlier = [y for y in by_year if y <= year]
        if earlier:
            return by_year[max(earlier)]
        return self.class_caps.get(stage)


class LayerRef(StrictModel):
    """A data layer on disk, by path relative to the scenario file."""

    path: str = Field(min_length=1)
    datum: Datum = Field(
        "wgs84", description="Geodetic datum of lon/lat values; gcj02 is converted to WGS-84."
    )
    layer: str | None = Field(None, description="Layer name inside a GeoPackage.")
    sheet: str | None = Field(None, description="Sheet of an Excel workbook (.xlsx); may be "
                              "left out when the workbook has one sheet.")
    lon_column: str = "lon"
    lat_column: str = "lat"


class DataLayers(StrictModel):
    """The scenario's data layers."""

    zones: LayerRef
    schools: LayerRef
    candidates: LayerRef | None = None
    boundary: LayerRef | None = Field(None, description="County boundaries (for maps).")
    hazard_areas: LayerRef | None = Field(
        None, description="Polluted or geohazard areas (polygons); sites in them are "
        "excluded (rule D-09).")


Sense = Literal["exact", "at_least", "at_most"]
SEAT_TARGET_RULES = ("J-04", "G-03", "N-03")
COUNT_TARGET_RULES = ("D-06",)
SHARE_TARGET_RULES = ("N-12",)


def _check_rule_id(rule_id: str, allowed: tuple[str, ...]) -> str:
    """``rule_id`` if it is a catalogue rule among ``allowed``, else a ValueError."""
    from allocator.rules import catalogue  # the catalogue is package data, read once

    if rule_id not in catalogue():
        raise ValueError(f"{rule_id!r} is not a rule ID of the catalogue; expected one of "
                         f"{', '.join(allowed)}")
    if rule_id not in allowed:
        raise ValueError(f"rule {rule_id} is not a target of this kind; expected one of "
                         f"{', '.join(allowed)}")
    return rule_id


class SeatTargetConfig(StrictModel):
    """Cumulative new public seats by a year (rules J-04, G-03, N-03)."""

    rule: str = Field(description="Catalogue ID of the target: J-04, G-03 or N-03.")
    stages: list[Stage] = Field(min_length=1, description="Stages the target covers.")
    year: Year = Field(description="Target year; one of planning.periods.")
    min_seats: NonNegativeFloat = Field(
        description="New public seats required by that year (persons), counted at that "
        "year's class caps: opened sites plus expansion modules.")

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        return _check_rule_id(value, SEAT_TARGET_RULES)


class CountTargetConfig(StrictModel):
    """Number of new schools of a stage opened by a year (rule D-06)."""

    rule: str = Field(description="Catalogue ID of the target: D-06.")
    stage: Stage
    year: Year = Field(description="Count schools opened up to this year; a period year.")
    count: NonNegativeInt
    sense: Sense = Field("exact", description="exact, at_least or at_most.")

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        return _check_rule_id(value, COUNT_TARGET_RULES)


class ShareTargetConfig(StrictModel):
    """Least public share of a stage's children in a year (rule N-12, 公办率)."""

    rule: str = Field(description="Catalogue ID of the target: N-12.")
    stage: Stage
    year: Year = Field(description="Target year; one of planning.periods.")
    min_share: float = Field(
        ge=0, le=1, description="Least share of the stage's children in public schools, a "
        "fraction (0.55 = 55 %); the model counts unseated children too.")

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        return _check_rule_id(value, SHARE_TARGET_RULES)


class Planning(StrictModel):
    """What is planned: the years, the stages and the money.

    The zones' school-age counts are for ``base_year``; demand is forecast for every year
    in ``years``. The siting model plans the milestone years ``periods`` (default: the
    ``design_year``, itself by default the first of ``years``): a project of period ``t``
    is finished by year ``t`` and its seats count from then on.
    """

    base_year: int = Field(ge=2000, le=2100, description="Year the zones' counts are for.")
    years: list[Annotated[int, Field(ge=2000, le=2100)]] = Field(
        default_factory=list,
        description="Forecast years (milestones), each >= base_year; default [base_year].")
    design_year: int | None = Field(
        None, description="Default single period of the siting model; one of years.")
    periods: list[Year] = Field(
        default_factory=list,
        description="Milestone years the siting model plans, increasing, each a forecast "
        "year; default [design_year].")
    stages: list[Stage] = Field(min_length=1)
    budget_cny: NonNegativeFloat | None = Field(
        None, description="Capital budget of the whole horizon, CNY; none means unlimited."
    )
    budget_by_year: dict[Year, NonNegativeFloat] = Field(
        default_factory=dict,
        description="Capital budget per period year, CNY (rule N-01); a period not listed "
        "has no budget of its own.")
    budget_carry_over: bool = Field(
        False, description="Unspent budget of a period may be spent in later periods.")
    projects_per_year: dict[Year, NonNegativeInt] = Field(
        default_factory=dict,
        description="Projects per period year (rule N-02, e.g. 25 / 37 / 26): an opened "
        "site counts one, an expanded school one per period it grows.")
    projects_sense: Sense = Field(
        "at_most", description="How projects_per_year bounds the count: exact, at_least or "
        "at_most.")
    seat_targets: list[SeatTargetConfig] = Field(
        default_factory=list,
        description="Cumulative new public seat targets (rules J-04, G-03, N-03).")
    new_school_counts: list[CountTargetConfig] = Field(
        default_factory=list, description="New schools per stage by a year (rule D-06).")
    public_share_targets: list[ShareTargetConfig] = Field(
        default_factory=list,
        description="Least public share of a stage's children by year (rule N-12).")
    allow_closures: bool = Field(
        False, description="Let the model close existing schools (never in a catchment "
        "where a school opens in the same period, rule D-10).")

    @model_validator(mode="after")
    def _consistent(self) -> Planning:
        if len(set(self.stages)) != len(self.stages):
            raise ValueError(f"stages must not repeat: {self.stages}")
        if any(year < self.base_year for year in self.years):
            raise ValueError(f"every year must be >= base_year {self.base_year}: {self.years}")
        if self.design_year is not None and self.design_year not in self.forecast_years:
            raise ValueError(f"design_year {self.design_year} must be one of the years "
                             f"{self.forecast_years}")
        if self.periods != sorted(set(self.periods)):
            raise ValueError(f"planning.periods must be increasing without repeats: "
                             f"{self.periods}")
        outside = [year for year in self.periods if year not in self.forecast_years]
        if outside:
            raise ValueError(f"planning.periods {outside} are not forecast years "
                             f"(planning.years {self.forecast_years}); add them to years")
        periods = self.plan_periods
        keyed: list[tuple[str, list[int]]] = [
            ("planning.budget_by_year", list(self.budget_by_year)),
            ("planning.projects_per_year", list(self.projects_per_year)),
            *((f"planning.seat_targets[{i}].year", [t.year])
              for i, t in enumerate(self.seat_targets)),
            *((f"planning.new_school_counts[{i}].year", [t.year])
              for i, t in enumerate(self.new_school_counts)),
            *((f"planning.public_share_targets[{i}].year", [t.year])
              for i, t in enumerate(self.public_share_targets)),
        ]
        for key, years in keyed:
            stray = sorted(year for year in years if year not in periods)
            if stray:
                raise ValueError(f"{key}: {stray} not among the periods {list(periods)}; "
                                 "every year here must be a period year")
        stages: list[tuple[str, list[Stage]]] = [
            *((f"planning.seat_targets[{i}].stages", t.stages)
              for i, t in enumerate(self.seat_targets)),
            *((f"planning.new_school_counts[{i}].stage", [t.stage])
              for i, t in enumerate(self.new_school_counts)),
            *((f"planning.public_share_targets[{i}].stage", [t.stage])
              for i, t in enumerate(self.public_share_targets)),
        ]
        for key, wanted in stages:
            unplanned = [stage for stage in wanted if stage not in self.stages]
            if unplanned:
                raise ValueError(f"{key}: {unplanned} not among the planned stages "
                                 f"{self.stages}")
        return self

    @property
    def forecast_years(self) -> list[int]:
        """The forecast years, sorted, without repeats (``[base_year]`` if none given)."""
        return sorted(set(self.years)) or [self.base_year]

    @property
    def siting_year(self) -> int:
        """The single year planned when no periods are given (``design_year`` or the first year)."""
        return self.design_year if self.design_year is not None else self.forecast_years[0]

    @property
    def plan_periods(self) -> tuple[int, ...]:
        """The milestone years the siting model plans (``periods``, else ``(siting_year,)``)."""
        return tuple(self.periods) or (self.siting_year,)


class VariantConfig(StrictModel):
    """A forecast variant: changes applied to the central demand inputs."""

    births_factor: NonNegativeFloat = Field(1.0, description="Multiplies every births value.")
    migration_shift: Annotated[float, Field(ge=-0.5, le=0.5)] = Field(
        0.0, description="Added to every annual net migration rate (fraction per year).")
    housing_factor: NonNegativeFloat = Field(
        1.0, description="Multiplies the housing pipeline's pupil yields.")


class TableRef(StrictModel):
    """A non-spatial table (CSV or a sheet of an .xlsx workbook), relative to the scenario."""

    path: str = Field(min_length=1)
    sheet: str | None = Field(None, description="Sheet of an Excel workbook (.xlsx); may be "
                              "left out when the workbook has one sheet.")


MigrationRate = Annotated[float, Field(ge=-0.5, le=0.5)]
ShareOrZero = Annotated[float, Field(ge=0, le=1)]


class DemandConfig(StrictModel):
    """How school-age demand is forecast (see :func:`gis.demand.forecast_demand`)."""

    variant: str = Field("central", description="The variant the siting model plans for.")
    variants: dict[str, VariantConfig] = Field(
        default_factory=lambda: {"central": VariantConfig()},
        description="Named forecast variants, e.g. low / central / high.")
    migration: dict[ZoneType, MigrationRate] = Field(
        default_factory=dict,
        description="Annual net migration rate of children by zone type (0.02 = +2 %/year).")
    migrant_shares: dict[ZoneType, ShareOrZero] = Field(
        default_factory=dict,
        description="Share of children who are migrant children (随迁子女, rule D-23), "
        "by zone type; a zone's migrant_share column overrides it.")
    births: TableRef | None = Field(
        None, description="Births by county and year: columns county, year, births.")
    housing: TableRef | None = Field(
        None, description="Housing projects: project_id, zone_id, units, completion_year, "
        "yield_<stage> (pupils per 100 homes), optional plot_ratio_base, plot_ratio_new.")

    @model_validator(mode="after")
    def _variant_known(self) -> DemandConfig:
        if self.variant not in self.variants:
            raise ValueError(f"variant {self.variant!r} is not one of the variants "
                             f"{sorted(self.variants)}")
        return self


class TravelConfig(StrictModel):
    """How travel distances are measured (always in a projected CRS, in metres)."""

    method: Literal["straight", "network"] = Field(
        "straight", description="Straight line x circuity, or road distance on `network`.")
    network: LayerRef | None = Field(
        None, description="Road lines (GeoPackage, GeoJSON, ...) or an OSMnx GraphML file "
        "in a projected CRS; used when method is network.")
    circuity: float = Field(
        1.3, ge=1.0, le=3.0, description="Road distance / straight-line distance.")
    speed_kmh: PositiveFloat = Field(
        4.0, description="Speed for travel minutes where the network gives none (4: walking).")
    snap_max_m: PositiveFloat = Field(
        500.0, description="Points farther than this from every road have no road access.")
    respect_oneway: bool = Field(True, description="Follow one-way roads (false for walking).")
    metric_crs: str = Field(
        "auto", description="'auto' (WGS 84 UTM zone of the data), 'auto_gk3' (CGCS2000 "
        "3-degree Gauss-Kruger zone) or a projected CRS such as EPSG:4549.")
    aggregate_zones_m: PositiveFloat | None = Field(
        None, description="Merge zones into square cells of this size (metres) before "
        "travel and solving, then split results back to the zones; distances are then "
        "from the cells' points. None: solve on the zones themselves.")


class ObjectiveConfig(StrictModel):
    """Weights of the siting objective; every term is named here.

    ``mode: lexicographic`` (the default) first minimises children without a seat, then,
    holding that number, capital cost plus travel; the reported objective, bound and gap
    are those of the second phase, so the gap speaks of money and distance. ``weighted``
    solves one model with ``unmet_penalty`` on unmet children.
    """

    mode: Literal["lexicographic", "weighted"] = "lexicographic"

    unmet_penalty: PositiveFloat = Field(
        1e6, description="Objective units per child left without a seat."
    )
    cost_weight: NonNegativeFloat = Field(
        1e-6, description="Objective units per CNY of capital cost (1e-6: one per million)."
    )
    travel_weight: NonNegativeFloat = Field(
        1e-5,
        description="Objective units per child-metre of travel distance, summed over "
        "periods (1e-5: a child-km weighs like 10,000 CNY of capital cost at cost_weight "
        "1e-6).",
    )
    equity_weight: NonNegativeFloat = Field(
        0.0, description="Objective units per unit of the largest unmet share (unmet / "
        "demand) over zones, stages and periods; 0 = off.")
    elastic: bool = Field(
        False, description="Give every hard rule and target a named, penalised slack instead "
        "of an infeasible model; the results say which rules give and by how much.")
    elastic_penalty: PositiveFloat = Field(
        1e3, description="Objective units per unit of elastic slack (seats, CNY, projects or "
        "schools) when elastic is on.")
    elastic_penalty_by_rule: dict[str, PositiveFloat] = Field(
        default_factory=dict,
        description="Per-rule elastic penalty by catalogue ID, e.g. {N-01: 0.000001}: a "
        "budget may give at one unit per million CNY; others use elastic_penalty.")

    @field_validator("elastic_penalty_by_rule")
    @classmethod
    def _known_rules(cls, value: dict[str, float]) -> dict[str, float]:
        from allocator.rules import catalogue

        unknown = sorted(set(value) - set(catalogue()))
        if unknown:
            raise ValueError(f"{', '.join(unknown)} not rule IDs of the catalogue")
        return value


class SolverConfig(StrictModel):
    """Solver choice and limits.

    ``ortools`` solves the same siting model with SCIP through OR-Tools MathOpt (a
    cross-check of HiGHS and CBC).
    """

    backend: Literal["highs", "cbc", "ortools"] = "highs"
    time_limit_s: PositiveFloat | None = 300.0
    mip_gap: Annotated[float, Field(ge=0, lt=1)] = 1e-4
    threads: PositiveInt = 1
    warm_start: bool = Field(
        False, description="Start the siting solver from a greedy plan (allocator.plan.greedy).")


class Scenario(StrictModel):
    """A complete, validated scenario."""

    meta: Meta
    standards: Standards = Field(default_factory=Standards)
    data: DataLayers
    planning: Planning
    demand: DemandConfig = Field(default_factory=DemandConfig)
    travel: TravelConfig = Field(default_factory=TravelConfig)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)
    solver: SolverConfig = Field(default_factory=SolverConfig)
    rules: RulesConfig = Field(
        default_factory=RulesConfig,
        description="Rule switches and listed exceptions by catalogue ID (J-10: {active: false}).",
    )
    rotation: RotationConfig | None = Field(
        None, description="Teacher staffing and rotation (allocator.rotation_config).")


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file, for editors.

    The layering keys (``import``, ``overrides``, ``scenarios``) are added to the schema of
    :class:`Scenario`, and top-level sections that imports may provide are not required.
    """
    schema = Scenario.model_json_schema()
    schema["title"] = "allocator scenario file"
    schema["properties"]["import"] = {
        "type": "array",
        "items": {"type": "string"},
        "description": "Files (relative to this one) whose keys this file builds on.",
    }
    schema["properties"]["overrides"] = {
        "type": "object",
        "additionalProperties": {"type": "object"},
        "description": "Named sets of changes, chosen with --scenario.",
    }
    schema["properties"]["scenarios"] = {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "description": "Named combinations of overrides.",
    }
    schema.pop("required", None)
    return schema


@dataclass(frozen=True)
class ResolvedScenario:
    """A validated scenario together with where it came from.

    Parameters
    ----------
    config
        The validated scenario.
    source
        The scenario file.
    overrides
        The named overrides applied, in order.
    sets
        The ``--set key=value`` strings applied, in order.
    """

    config: Scenario
    source: Path
    overrides: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()

    @property
    def base_dir(self) -> Path:
        """Directory that data paths are relative to."""
        return self.source.parent

    def layer_path(self, ref: LayerRef | TableRef) -> Path:
        """Absolute path of a data layer or table."""
        return (self.base_dir / ref.path).resolve()

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data, with its provenance under ``resolved_from``."""
        data = self.config.model_dump(mode="json")
        data["resolved_from"] = {
            "file": self.source.name,
            "overrides": list(self.overrides),
            "set": list(self.sets),
        }
        return data

    def config_hash(self) -> str:
        """SHA-256 of the resolved configuration (canonical JSON)."""
        canonical = json.dumps(
            self.config.model_dump(mode="json"),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
