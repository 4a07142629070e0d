"""From a solved rotation model to named moves and the result tables.

The model decides counts: how many of each cohort move in each year (``m``) and how many
of each group move along each arc (``f``). :func:`assign_teachers` turns them into named
moves, deterministically:

1. years in order; candidates are the teachers still holding a post at the school and,
   for a rotation, eligible that year. Teachers who have not rotated yet in the plan come
   first, then the longest-serving, ties by ``teacher_id`` (a rotation lasts a year, so
   a teacher may rotate again later; researchers rotate in the year they become due,
   transfers are final).
   Groups without talent locks, exceptions or transfers are "pooled" (the model counts
   their moves only); the others follow the model's cohort counts, rotations first;
2. per school, group, move kind and year, the picked teachers fill the arcs: first each
   exception arc with its named teacher, then the arcs that change the G-11 kind with the
   picked teachers not locked that year (in seniority order), then the other arcs with
   the rest; arcs in ``(source, target)`` order.

The model's linking rows make step 2 always succeed; a failure raises ``RuntimeError``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from allocator.rotation_network import Move, Network
from allocator.rotation_prep import RotationTables

__all__ = [
    "ROTATION_COLUMNS",
    "Solution",
    "assign_teachers",
    "placements",
    "rotations_frame",
]

ROTATION_COLUMNS = ("year", "teacher_id", "count", "subject", "backbone", "from_school",
                    "from_county", "from_region", "to_school", "to_county", "to_region",
                    "kind", "distance_km")
MOVE_COLUMNS = ("teacher_id", "year", "kind", "from_school", "to_school", "subject",
                "backbone", "distance_km", "arc")


@dataclass(frozen=True)
class Solution:
    """Positive values of the model's decision variables.

    Attributes
    ----------
    flows
        ``(arc, subject, backbone, year) -> teachers``.
    xflows
        ``(teacher_id, arc, year) -> 1`` for exception arcs used.
    moves
        ``(cohort, move, year) -> teachers`` for groups tracked by cohort.
    pooled
        ``(school, subject, backbone, move, year) -> teachers`` for the other groups.
    hires
        ``(school_id, subject, year) -> teachers``.
    """

    flows: dict[tuple[int, str, bool, int], int]
    xflows: dict[tuple[str, int, int], int]
    moves: dict[tuple[int, Move, int], int]
    pooled: dict[tuple[str, str, bool, Move, int], int]
    hires: dict[tuple[str, str, int], int]


def _pick(tables: RotationTables, network: Network, solution: Solution
          ) -> dict[tuple[str, str, bool, Move, int], list[tuple[str, bool]]]:
    """Teachers picked per (school, subject, backbone, move, year), with "locked" flags.

    Candidates are the teachers still holding a post at the school (not transferred away)
    and, for a rotation, allowed to rotate that year (eligible teachers every year,
    researchers in the year they become due). Order: teachers who
    have not rotated yet in the plan first, then longest-serving, then ``teacher_id``.
    Tracked groups take ``m[c,v,t]`` from each cohort (rotations first), pooled groups
    the first ``out`` candidates of the group.
    """
    rank = {t: i for i, t in enumerate(tables.roster["teacher_id"])}
    rotated: set[str] = set()
    gone: set[str] = set()
    by_group: dict[tuple[str, str, bool], list[int]] = defaultdict(list)
    for c in network.cohorts:
        by_group[(c.school_id, c.subject, c.backbone)].append(c.index)
    picked: dict[tuple[str, str, bool, Move, int], list[tuple[str, bool]]] = defaultdict(list)

    def take(members: list[str], n: int, key: tuple[str, str, bool, Move, int],
             locked: bool, busy: set[str]) -> None:
        pool = sorted((m for m in members if m not in gone and m not in busy),
                      key=lambda m: (m in rotated, rank[m]))
        if n > len(pool):
            raise RuntimeError(f"{key}: {n} moves > {len(pool)} teachers available")
        picked[key].extend((m, locked) for m in pool[:n])
        busy.update(pool[:n])

    moves: tuple[Move, ...] = ("rotation", "transfer")
    for year in tables.years:
        busy: set[str] = set()
        for move in moves:
            for c in network.cohorts:
                n = solution.moves.get((c.index, move, year), 0)
                if n > 0:
                    key = (c.school_id, c.subject, c.backbone, move, year)
                    take(list(c.members), n, key, year in c.locked, busy)
            for key, n in sorted(solution.pooled.items()):
                if key[3] == move and key[4] == year and n > 0:
                    members = [m for i in by_group[key[:3]] if network.cohorts[i].can_rotate(year)
                               for m in network.cohorts[i].members]
                    take(members, n, key, False, busy)
        for key, teachers in picked.items():
            if key[4] == year:
                (rotated if key[3] == "rotation" else gone).update(t for t, _ in teachers)
    return picked


def assign_teachers(tables: RotationTables, network: Network, solution: Solution
                    ) -> pd.DataFrame:
    """Named moves of the solution (see the module docstring for the order).

    Returns
    -------
    pandas.DataFrame
        ``teacher_id, year, kind, from_school, to_school, subject, backbone, distance_km,
        arc``; one row per teacher move, sorted by year, kind, from, to, teacher.
    """
    slots: dict[tuple[str, str, bool, Move, int], list[tuple[int, int, bool]]] = defaultdict(
        list)
    for (index, subject, backbone, year), n in sorted(solution.flows.items()):
        arc = network.arcs[index]
        key = (arc.source, subject, backbone, arc.move, year)
        slots[key].append((index, n, arc.kind_change(year)))
    named: dict[tuple[str, str, bool, Move, int], list[tuple[str, int]]] = defaultdict(list)
    cohort_of = {t: c for c in network.cohorts for t in
                 ((c.exception_teacher,) if c.exception_teacher else ())}
    for (teacher, index, year), n in sorted(solution.xflows.items()):
        if n > 0:
            arc, c = network.arcs[index], cohort_of[teacher]
            named[(arc.source, c.subject, c.backbone, arc.move, year)].append((teacher, index))
    rows: list[tuple[object, ...]] = []
    for key, teachers in sorted(_pick(tables, network, solution).items()):
        school, subject, backbone, move, year = key
        pool = list(teachers)
        assigned: list[tuple[str, int]] = []
        for teacher, index in named.get(key, []):
            pool = [p for p in pool if p[0] != teacher]
            assigned.append((teacher, index))
        for changing in (True, False):
            for index, n, kind_change in slots.get(key, []):
                if kind_change != changing:
                    continue
                usable = [p for p in pool if not (changing and p[1])][:n]
                if len(usable) < n:  # elastic G-11 slack: locked teachers, reported
                    usable += [p for p in pool if p not in usable][:n - len(usable)]
                if len(usable) < n:
                    raise RuntimeError(f"cannot assign {n} teachers to arc {index} in {year}")
                taken = {p[0] for p in usable}
                pool = [p for p in pool if p[0] not in taken]
                assigned.extend((p[0], index) for p in usable)
        if pool:
            raise RuntimeError(f"{len(pool)} picked teachers without an arc at {key}")
        for teacher, index in assigned:
            arc = network.arcs[index]
            rows.append((teacher, year, move, school, arc.target, subject, backbone,
                         arc.distance_km, index))
    frame = pd.DataFrame(rows, columns=list(MOVE_COLUMNS))
    frame = frame.astype({"teacher_id": "string", "year": "int64", "kind": "string",
                          "from_school": "string", "to_school": "string",
                          "subject": "string", "backbone": bool, "distance_km": "float64",
                          "arc": "int64"})
    order = ["year", "kind", "from_school", "to_school", "teacher_id"]
    return frame.sort_values(order, kind="mergesort").reset_index(drop=True)


def _hire_rows(tables: RotationTables, solution: Solution) -> pd.DataFrame:
    """One anonymous teacher per hire: ``teacher_id, school_id, subject, year``."""
    rows = [(f"hire#{s}#{k}#{y}#{i:04d}", s, k, y)
            for (s, k, y), n in sorted(solution.hires.items()) for i in range(n)]
    return pd.DataFrame(rows, columns=["teacher_id", "school_id", "subject", "year"])


def rotations_frame(tables: RotationTables, moves: pd.DataFrame, solution: Solution, *,
                    named: bool) -> pd.DataFrame:
    """The ``rotations`` table: named rows, or aggregated rows with a blank teacher.

    Columns :data:`ROTATION_COLUMNS`; ``count`` in teachers, ``distance_km`` in km (NaN for
    hires and unknown distances); hires have a blank ``from_school`` and the county as
    ``from_county``.
    """
    schools = tables.schools
    frame = moves.drop(columns=["arc"])
    frame["count"] = 1
    if not named:
        keys = ["year", "kind", "from_school", "to_school", "subject", "backbone"]
        frame = (frame.groupby(keys, sort=True, as_index=False)
                 .agg(count=("count", "sum"), distance_km=("distance_km", "first")))
        frame["teacher_id"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    hires = _hire_rows(tables, solution)
    if len(hires):
        hire = (hires.groupby(["year", "school_id", "subject"], as_index=False).size()
                .rename(columns={"school_id": "to_school", "size": "count"}))
        hire["kind"] = "hire"
        hire["backbone"] = False
        hire["from_school"] = pd.NA
        hire["distance_km"] = math.nan
        hire["teacher_id"] = pd.NA
        frame = pd.concat([frame, hire], ignore_index=True) if len(frame) else hire
    frame = frame.astype({"teacher_id": "string", "from_school": "string",
                          "to_school": "string", "subject": "string", "kind": "string",
                          "backbone": bool, "count": "int64", "year": "int64",
                          "distance_km": "float64"})
    county = {s: i.county for s, i in schools.items()}
    region = {s: i.region for s, i in schools.items()}
    frame["from_county"] = frame["from_school"].map(county).astype("string")
    frame["from_region"] = frame["from_school"].map(region).astype("string")
    frame["to_county"] = frame["to_school"].map(county).astype("string")
    frame["to_region"] = frame["to_school"].map(region).astype("string")
    is_hire = frame["kind"].eq("hire")
    frame.loc[is_hire, "from_county"] = frame.loc[is_hire, "to_county"]
    order = ["year", "kind", "from_school", "to_school", "subject", "backbone", "teacher_id"]
    frame = frame.sort_values(order, kind="mergesort", na_position="first")
    return frame.loc[:, list(ROTATION_COLUMNS)].reset_index(drop=True)


def placements(tables: RotationTables, moves: pd.DataFrame, solution: Solution
               ) -> pd.DataFrame:
    """Where every teacher (and hire) holds a post and teaches in each plan year.

    Returns
    -------
    pandas.DataFrame
        ``teacher_id, year, origin, home, present, subject, backbone, degree, researcher,
        eligible, transferred, hire``: ``origin`` the school at the start of the plan (or
        of the hire), ``home`` after transfers of years <= t, ``present`` the rotation
        target in a rotation year; ``eligible`` (D-19 eligibility / J-15 duty) and
        ``transferred`` (transferred in an earlier plan year) as of the start of year t.
    """
    roster = tables.roster
    years = tables.years
    base = roster.loc[:, ["teacher_id", "school_id", "subject", "backbone", "degree",
                          "researcher", "eligible_from"]]
    frames = []
    for year in years:
        part = base.assign(year=year, home=base["school_id"], hire=False)
        part["eligible"] = part["eligible_from"].le(year).fillna(False).astype(bool)
        frames.append(part)
    hires = _hire_rows(tables, solution)
    for year in years:
        h = hires[hires["year"] <= year]
        if len(h):
            frames.append(pd.DataFrame({
                "teacher_id": h["teacher_id"], "school_id": h["school_id"],
                "subject": h["subject"], "backbone": False, "degree": False,
                "researcher": False, "eligible_from": pd.NA, "year": year,
                "home": h["school_id"], "hire": True, "eligible": False}))
    state = pd.concat(frames, ignore_index=True)
    transfers = moves.loc[moves["kind"].eq("transfer"), ["teacher_id", "year", "to_school"]]
    state = state.merge(transfers.rename(columns={"year": "t_year", "to_school": "t_to"}),
                        on="teacher_id", how="left")
    moved_home = state["year"].ge(state["t_year"]).fillna(False).astype(bool)
    state["home"] = state["t_to"].where(moved_home, state["home"])
    state["transferred"] = state["year"].gt(state["t_year"]).fillna(False).astype(bool)
    rotations = moves.loc[moves["kind"].eq("rotation"), ["teacher_id", "year", "to_school"]]
    state = state.merge(rotations.rename(columns={"to_school": "r_to"}),
                        on=["teacher_id", "year"], how="left")
    state["present"] = state["r_to"].where(state["r_to"].notna(), state["home"])
    state = state.drop(columns=["t_year", "t_to", "r_to"])
    state = state.rename(columns={"school_id": "origin"}).drop(columns=["eligible_from"])
    state["eligible"] = state["eligible"] & ~state["transferred"]
    return state.sort_values(["year", "teacher_id"], kind="mergesort").reset_index(drop=True)

