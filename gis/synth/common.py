"""Column layouts, stages and standard values shared by the synthetic-layer generators."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "CANDIDATE_COLUMNS",
    "DEFAULT_CLASS_CAPS",
    "DEFAULT_SCHOOL_SIZES",
    "DEFAULT_STAGES",
    "SCHOOL_AGE_SHARES",
    "SCHOOL_COLUMNS",
    "STAGE_NAMES",
    "URBAN_ZONE_TYPES",
    "ZONE_COLUMNS",
    "ZONE_TYPES",
]

ZONE_COLUMNS: Final = (
    "zone_id", "name", "county", "zone_type", "population", "primary", "junior",
    "synthetic", "lon", "lat",
)  # fmt: skip
SCHOOL_COLUMNS: Final = (
    "school_id", "name", "county", "stage", "classes", "max_classes", "ownership",
    "synthetic", "lon", "lat",
)  # fmt: skip
CANDIDATE_COLUMNS: Final = (
    "site_id", "name", "county", "stage", "setting", "land_area_m2", "land_cost_cny",
    "hazard", "synthetic", "lon", "lat",
)  # fmt: skip

ZONE_TYPES: Final = ("urban_core", "new_district", "town", "rural", "industrial")
URBAN_ZONE_TYPES: Final = frozenset({"urban_core", "new_district", "industrial"})

#: Share of residents of kindergarten (age 3-5), primary (age 6-11) and junior (age 12-14)
#: school age, derived from the national 2020 (7th) census age structure (secondary; see
#: scenarios/common/standards.yaml). :func:`gis.synth.synth_zones` uses primary and junior.
SCHOOL_AGE_SHARES: Final[Mapping[str, float]] = MappingProxyType(
    {"kindergarten": 0.035, "primary": 0.075, "junior": 0.036}
)
#: Children per class: GB 50099-2011 §3.0.1 (primary 45, junior and senior 50; rule D-13)
#: and 《幼儿园工作规程》(2016) 第十一条 (mixed-age kindergarten class 30).
DEFAULT_CLASS_CAPS: Final[Mapping[str, int]] = MappingProxyType(
    {"kindergarten": 30, "primary": 45, "junior": 50, "senior": 50}
)
#: Existing-school sizes by stage, in classes: ``(step, smallest, largest)``. Schools have
#: a multiple of ``step`` classes between ``smallest`` and ``largest``. Kindergartens: at
#: most 360 children (《幼儿园工作规程》) = 12 classes of 30; primary and junior 6-36
#: (the 36-class limit of 建标〔2002〕102号); senior 18-36. A stage not listed uses
#: ``(6, 6, 36)``.
DEFAULT_SCHOOL_SIZES: Final[Mapping[str, tuple[int, int, int]]] = MappingProxyType(
    {
        "kindergarten": (3, 3, 12),
        "primary": (6, 6, 36),
        "junior": (6, 6, 36),
        "senior": (6, 18, 36),
    }
)
FALLBACK_SCHOOL_SIZE: Final = (6, 6, 36)
DEFAULT_STAGES: Final = ("primary", "junior")
#: Chinese school-type word per stage, used in synthetic names.
STAGE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中"}
)


def school_size(
    stage: str, school_sizes: Mapping[str, tuple[int, int, int]]
) -> tuple[int, int, int]:
    """``(step, smallest, largest)`` classes for ``stage``, validated.

    Raises
    ------
    ValueError
        If the triple is not positive, or ``smallest``/``largest`` are not multiples of
        ``step`` with ``smallest <= largest``.
    """
    step, smallest, largest = school_sizes.get(stage, FALLBACK_SCHOOL_SIZE)
    if step <= 0 or smallest <= 0 or smallest > largest or smallest % step or largest % step:
        raise ValueError(
            f"school size for {stage} must be (step, smallest, largest) with both limits "
            f"positive multiples of step, got {(step, smallest, largest)}"
        )
    return int(step), int(smallest), int(largest)
