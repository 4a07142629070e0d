"""Validated input tables of the siting model (see :mod:`allocator.siting`).

:func:`prepare_tables` checks the four input frames of a siting run (demand, existing seats,
site options, feasible pairs) and turns them into sorted lookup tables keyed by original
(string) ids, the form the model builder and the result extraction work from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

__all__ = [
    "FORMULATIONS",
    "ID_COLUMNS",
    "Formulation",
    "OptionKey",
    "Pair",
    "SchoolStage",
    "SiteOption",
    "SitingTables",
    "ZoneStage",
    "prepare_tables",
]

Formulation = Literal["auto", "assignment", "radius"]
"""Formulation of the siting model (see :class:`allocator.siting.SitingInput`)."""
FORMULATIONS: tuple[Formulation, ...] = ("auto", "assignment", "radius")

ZoneStage = tuple[str, str]
SchoolStage = tuple[str, str]
Pair = tuple[str, str, str]  # (zone_id, school_id, stage)
OptionKey = tuple[str, str, int]  # (site_id, stage, classes)

INPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "demand": ("zone_id", "stage", "children"),
    "existing": ("school_id", "stage", "seats"),
    "options": ("site_id", "stage", "classes", "seats", "cost_cny"),
    "pairs": ("zone_id", "school_id", "stage", "distance_m"),
}
ID_COLUMNS = ("zone_id", "school_id", "site_id", "stage")


@dataclass(frozen=True)
class SiteOption:
    """One size option of a candidate site.

    Attributes
    ----------
    seats
        Seats the option provides (seats).
    cost_cny
        Capital cost of the option (CNY).
    """

    seats: float
    cost_cny: float


@dataclass(frozen=True)
class SitingTables:
    """Validated, sorted inputs keyed by original (string) ids.

    Attributes
    ----------
    demand
        ``(zone_id, stage) -> children`` (persons), every demand row, sorted.
    existing
        ``(school_id, stage) -> seats`` of existing schools (seats).
    options
        ``(site_id, stage, classes) -> SiteOption`` of every candidate site option.
    pairs
        ``(zone_id, school_id, stage) -> distance`` (metres), only pairs whose zone and
        stage has demand.
    """

    demand: dict[ZoneStage, float]
    existing: dict[SchoolStage, float]
    options: dict[OptionKey, SiteOption]
    pairs: dict[Pair, float]


def _examples(rows: Iterable[object], limit: int = 3) -> str:
    """Format a few offending values for an error message."""
    items = sorted({repr(row) for row in rows})
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _clean_frame(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Check one input frame; return its required columns, ids as strings, sorted."""
    columns = INPUT_COLUMNS[name]
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; expected {list(columns)}")
    clean = frame.loc[:, list(columns)].copy()
    for column in columns:
        if column in ID_COLUMNS:
            if clean[column].isna().any():
                raise ValueError(f"{name}: column {column!r} has missing ids")
            clean[column] = clean[column].astype(str)
        else:
            clean[column] = pd.to_numeric(clean[column], errors="raise").astype("float64")
            bad = clean.loc[~(clean[column].ge(0) & clean[column].lt(math.inf)), column]
            if len(bad):
                raise ValueError(
                    f"{name}: column {column!r} must be finite and >= 0; "
                    f"found {_examples(bad.tolist())}"
                )
    keys = [column for column in columns if column in ID_COLUMNS]
    if name == "options":
        keys.append("classes")
    duplicated = clean.loc[clean.duplicated(keys, keep=False), keys]
    if len(duplicated):
        rows = [tuple(row) for row in duplicated.itertuples(index=False)]
        raise ValueError(f"{name}: duplicate rows for {keys}: {_examples(rows)}")
    return clean.sort_values(keys, kind="mergesort").reset_index(drop=True)


def _rows(frame: pd.DataFrame) -> Iterable[tuple[Any, ...]]:
    """Rows as plain tuples of Python values (much faster than ``itertuples`` on Arrow strings)."""
    return zip(*(frame[column].tolist() for column in frame.columns), strict=True)


def _check_classes(options: pd.DataFrame) -> None:
    """Option class counts must be whole numbers >= 1."""
    classes = options["classes"]
    bad = classes[(classes < 1) | (classes != classes.round())]
    if len(bad):
        raise ValueError(f"options: classes must be whole numbers >= 1; found {_examples(bad)}")


def _check_pairs(
    pairs: pd.DataFrame,
    demand: Mapping[ZoneStage, float],
    existing: Mapping[SchoolStage, float],
    site_stages: set[SchoolStage],
) -> None:
    """Every pair must name a demand row and a school or site serving its stage."""
    unknown_zone = [
        (z, g)
        for z, g in zip(pairs["zone_id"].tolist(), pairs["stage"].tolist(), strict=True)
        if (z, g) not in demand
    ]
    if unknown_zone:
        raise ValueError(
            f"pairs: (zone_id, stage) not in demand: {_examples(unknown_zone)}; "
            "every pair must start at a demand row"
        )
    unknown_school = [
        (s, g)
        for s, g in zip(pairs["school_id"].tolist(), pairs["stage"].tolist(), strict=True)
        if (s, g) not in existing and (s, g) not in site_stages
    ]
    if unknown_school:
        raise ValueError(
            f"pairs: (school_id, stage) is neither an existing school nor a candidate site "
            f"option of that stage: {_examples(unknown_school)}"
        )


def prepare_tables(
    demand: pd.DataFrame,
    existing: pd.DataFrame,
    options: pd.DataFrame,
    pairs: pd.DataFrame,
    budget_cny: float | None,
) -> SitingTables:
    """Validate the input frames and turn them into sorted lookup tables.

    Parameters
    ----------
    demand
        ``zone_id, stage, children`` (persons).
    existing
        ``school_id, stage, seats`` (seats).
    options
        ``site_id, stage, classes, seats, cost_cny`` (count, seats, CNY).
    pairs
        ``zone_id, school_id, stage, distance_m`` (metres).
    budget_cny
        Capital budget (CNY) or ``None``; only checked here.

    Returns
    -------
    SitingTables
        The inputs keyed by string ids, in sorted order.

    Raises
    ------
    ValueError
        Missing columns, missing ids, negative or non-finite numbers, duplicate keys, ids
        used both as existing school and candidate site, pairs to unknown zones or schools,
        negative budget.
    """
    if budget_cny is not None and not (budget_cny >= 0 and budget_cny < math.inf):
        raise ValueError(f"budget_cny must be finite and >= 0 or None, got {budget_cny}")
    demand_df = _clean_frame(demand, "demand")
    existing_df = _clean_frame(existing, "existing")
    options_df = _clean_frame(options, "options")
    pairs_df = _clean_frame(pairs, "pairs")
    _check_classes(options_df)
    both = set(existing_df["school_id"]) & set(options_df["site_id"])
    if both:
        raise ValueError(f"ids used both as existing school and candidate site: {_examples(both)}")
    demand_map = {
        (z, g): float(d)
        for z, g, d in _rows(demand_df)  # sorted by zone, stage
    }
    existing_map = {(s, g): float(q) for s, g, q in _rows(existing_df)}
    options_map = {
        (c, g, int(k)): SiteOption(float(q), float(cost)) for c, g, k, q, cost in _rows(options_df)
    }
    _check_pairs(pairs_df, demand_map, existing_map, {(c, g) for c, g, _ in options_map})
    pairs_map = {
        (z, s, g): float(dist) for z, s, g, dist in _rows(pairs_df) if demand_map[(z, g)] > 0
    }
    return SitingTables(
        demand=demand_map, existing=existing_map, options=options_map, pairs=pairs_map
    )
