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

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "STAGES",
    "ZONE_TYPES",
    "DataLayers",
    "DemandConfig",
    "LayerRef",
    "Meta",
    "ObjectiveConfig",
    "PerStage",
    "Planning",
    "ResolvedScenario",
    "Scenario",
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


class LayerRef(StrictModel):
    """A data layer on disk, by path relative to the scenario file."""

    path: str = Field(min_length=1)
    datum: Datum = Field(
        "wgs84", description="Geodetic datum of lon/lat values; gcj02 is converted to WGS-84."
    )
    layer: str | None = Field(None, description="Layer name inside a GeoPackage.")
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


class Planning(StrictModel):
    """What is planned: the years, the stages and the money.

    The zones' school-age counts are for ``base_year``; demand is forecast for every year
    in ``years``. The siting model plans seats for ``design_year`` (default: the first of
    ``years``).
    """

    base_year: int = Field(ge=2000, le=2100, description="Year the zones' counts are for.")
    years: list[Annotated[int, Field(ge=2000, le=2100)]] = Field(
        default_factory=list,
        description="Forecast years (milestones), each >= base_year; default [base_year].")
    design_year: int | None = Field(
        None, description="Year the siting model plans seats for; one of years.")
    stages: list[Stage] = Field(min_length=1)
    budget_cny: NonNegativeFloat | None = Field(
        None, description="Capital budget for new sites, CNY; none means unlimited."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Planning:
        if len(set(self.stages)) != len(self.stages):
            raise ValueError(f"stages must not repeat: {self.stages}")
        if any(year < self.base_year for year in self.years):
            raise ValueError(f"every year must be >= base_year {self.base_year}: {self.years}")
        if self.design_year is not None and self.design_year not in self.forecast_years:
            raise ValueError(f"design_year {self.design_year} must be one of the years "
                             f"{self.forecast_years}")
        return self

    @property
    def forecast_years(self) -> list[int]:
        """The forecast years, sorted, without repeats (``[base_year]`` if none given)."""
        return sorted(set(self.years)) or [self.base_year]

    @property
    def siting_year(self) -> int:
        """The year the siting model plans for."""
        return self.design_year if self.design_year is not None else self.forecast_years[0]


class VariantConfig(StrictModel):
    """A forecast variant: changes applied to the central demand inputs."""

    births_factor: NonNegativeFloat = Field(1.0, description="Multiplies every births value.")
    migration_shift: Annotated[float, Field(ge=-0.5, le=0.5)] = Field(
        0.0, description="Added to every annual net migration rate (fraction per year).")
    housing_factor: NonNegativeFloat = Field(
        1.0, description="Multiplies the housing pipeline's pupil yields.")


class TableRef(StrictModel):
    """A non-spatial table (CSV), by path relative to the scenario file."""

    path: str = Field(min_length=1)


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
        description="Objective units per child-metre of travel distance "
        "(1e-5: a child-km weighs like 10,000 CNY of capital cost at cost_weight 1e-6).",
    )


class SolverConfig(StrictModel):
    """Solver choice and limits."""

    backend: Literal["highs", "cbc"] = "highs"
    time_limit_s: PositiveFloat | None = 300.0
    mip_gap: Annotated[float, Field(ge=0, lt=1)] = 1e-4
    threads: PositiveInt = 1


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
