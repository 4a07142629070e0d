"""Result tables of a siting run (see :mod:`allocator.siting`).

:func:`solution_frames` turns the solver's values into tidy, sorted DataFrames with fixed
columns and dtypes; :func:`empty_frames` gives the same columns without rows (no solution);
:func:`objective_terms` sums the achieved objective terms from the tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from allocator.siting_data import ID_COLUMNS, OptionKey, Pair, SchoolStage, SitingTables, ZoneStage

__all__ = [
    "ASSIGNMENTS_SCHEMA",
    "OPENED_SCHEMA",
    "SCHOOL_LOAD_SCHEMA",
    "UNMET_SCHEMA",
    "SitingFrames",
    "empty_frames",
    "objective_terms",
    "solution_frames",
]

ASSIGN_TOL = 1e-6  # persons; assignments below this are dropped from the result
_ROUND = 6  # decimals kept for persons in result tables (1e-6)

OPENED_SCHEMA: dict[str, str] = {
    "site_id": "str",
    "stage": "str",
    "classes": "int64",
    "seats": "float64",
    "cost_cny": "float64",
}
ASSIGNMENTS_SCHEMA: dict[str, str] = {
    "zone_id": "str",
    "school_id": "str",
    "stage": "str",
    "children": "float64",
    "distance_m": "float64",
}
UNMET_SCHEMA: dict[str, str] = {"zone_id": "str", "stage": "str", "unmet": "float64"}
SCHOOL_LOAD_SCHEMA: dict[str, str] = {
    "school_id": "str",
    "stage": "str",
    "enrolled": "float64",
    "seats": "float64",
}


@dataclass(frozen=True, eq=False)
class SitingFrames:
    """The four result tables of a siting run (see :class:`allocator.siting.SitingResult`).

    Attributes
    ----------
    opened
        ``site_id, stage, classes, seats, cost_cny`` of the opened options.
    assignments
        ``zone_id, school_id, stage, children, distance_m``: positive flows only.
    unmet
        ``zone_id, stage, unmet``: unserved children (persons) for every demand row.
    school_load
        ``school_id, stage, enrolled, seats`` of every existing school and opened site.
    """

    opened: pd.DataFrame
    assignments: pd.DataFrame
    unmet: pd.DataFrame
    school_load: pd.DataFrame


def _frame(records: list[tuple[object, ...]], schema: Mapping[str, str]) -> pd.DataFrame:
    """DataFrame with the schema's columns and dtypes, sorted by its id columns."""
    frame = pd.DataFrame.from_records(records, columns=list(schema)).astype(dict(schema))
    keys = [column for column in schema if column in ID_COLUMNS]
    return frame.sort_values(keys, kind="mergesort").reset_index(drop=True)


def _persons(value: float | None, upper: float) -> float:
    """Solver value as persons: clipped to ``[0, upper]``, rounded to 1e-6."""
    return round(min(max(value or 0.0, 0.0), upper), _ROUND) + 0.0


def _opened(tables: SitingTables, opened: Iterable[OptionKey]) -> pd.DataFrame:
    """Tabulate the opened options."""
    records: list[tuple[object, ...]] = [
        (c, g, k, tables.options[(c, g, k)].seats, tables.options[(c, g, k)].cost_cny)
        for c, g, k in opened
    ]
    return _frame(records, OPENED_SCHEMA)


def _assignments(tables: SitingTables, flows: Mapping[Pair, float | None]) -> pd.DataFrame:
    """Positive flows (> 1e-6 persons), children rounded to 1e-6."""
    records: list[tuple[object, ...]] = []
    for (z, s, g), value in flows.items():
        children = _persons(value, tables.demand[(z, g)])
        if children > ASSIGN_TOL:
            records.append((z, s, g, children, tables.pairs[(z, s, g)]))
    return _frame(records, ASSIGNMENTS_SCHEMA)


def _unmet(tables: SitingTables, unmet: Mapping[ZoneStage, float | None]) -> pd.DataFrame:
    """Unmet children for every demand row; rows without a variable are wholly unmet."""
    records: list[tuple[object, ...]] = [
        (z, g, _persons(unmet[(z, g)], d) if (z, g) in unmet else d)
        for (z, g), d in tables.demand.items()
    ]
    return _frame(records, UNMET_SCHEMA)


def _school_load(
    tables: SitingTables, opened: pd.DataFrame, assignments: pd.DataFrame
) -> pd.DataFrame:
    """Enrolment and seats of existing schools and opened sites, per stage."""
    enrolled: dict[SchoolStage, float] = defaultdict(float)
    for s, g, children in zip(
        assignments["school_id"], assignments["stage"], assignments["children"], strict=True
    ):
        enrolled[(s, g)] += float(children)
    seats = dict(tables.existing)
    seats.update(
        {
            (c, g): float(q)
            for c, g, q in zip(opened["site_id"], opened["stage"], opened["seats"], strict=True)
        }
    )
    records: list[tuple[object, ...]] = [
        (s, g, round(enrolled.get((s, g), 0.0), _ROUND), q) for (s, g), q in seats.items()
    ]
    return _frame(records, SCHOOL_LOAD_SCHEMA)


def solution_frames(
    tables: SitingTables,
    opened: Iterable[OptionKey],
    flows: Mapping[Pair, float | None],
    unmet: Mapping[ZoneStage, float | None],
) -> SitingFrames:
    """Tabulate a solution.

    Parameters
    ----------
    tables
        Validated inputs of the run.
    opened
        Keys ``(site_id, stage, classes)`` of the opened options.
    flows
        Solver value of every assignment variable (persons; ``None`` counts as 0).
    unmet
        Solver value of every unmet variable (persons); demand rows without one (no
        feasible pair) are wholly unmet.

    Returns
    -------
    SitingFrames
        Sorted tables; persons clipped to ``[0, demand]`` and rounded to 1e-6, flows below
        1e-6 persons dropped.
    """
    opened_frame = _opened(tables, opened)
    assignments = _assignments(tables, flows)
    return SitingFrames(
        opened=opened_frame,
        assignments=assignments,
        unmet=_unmet(tables, unmet),
        school_load=_school_load(tables, opened_frame, assignments),
    )


def empty_frames() -> SitingFrames:
    """Return the four tables without rows (same columns and dtypes), for no solution."""
    return SitingFrames(
        opened=_frame([], OPENED_SCHEMA),
        assignments=_frame([], ASSIGNMENTS_SCHEMA),
        unmet=_frame([], UNMET_SCHEMA),
        school_load=_frame([], SCHOOL_LOAD_SCHEMA),
    )


def objective_terms(frames: SitingFrames) -> dict[str, float]:
    """Achieved objective terms of a solution, summed from its tables.

    Parameters
    ----------
    frames
        Result tables of a solution.

    Returns
    -------
    dict of str to float
        ``unmet_children``: all unserved children, out-of-reach ones included (persons);
        ``capital_cost_cny``: capital cost of the opened options (CNY); ``travel_child_m``:
        Σ children · distance over the assignments (child·metres).
    """
    travel = (frames.assignments["children"] * frames.assignments["distance_m"]).sum()
    return {
        "unmet_children": round(float(frames.unmet["unmet"].sum()), _ROUND) + 0.0,
        "capital_cost_cny": float(frames.opened["cost_cny"].sum()) + 0.0,
        "travel_child_m": round(float(travel), _ROUND) + 0.0,
    }
