"""Staffing table, 优质均衡 indicators and their CVs, and the per-rule report.

Everything here is recomputed from the named moves and the placements
(:func:`allocator.rotation_frames.placements`), never read from the model, so the rule
report doubles as an audit of the solve: a row's ``violation`` is positive only where the
plan breaks the rule (which only the elastic mode allows).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from typing import cast

import numpy as np
import pandas as pd

from allocator.rotation_input import RotationPolicy
from allocator.rotation_network import Network
from allocator.rotation_prep import RotationTables, share
from allocator.rules import Kind, rule

__all__ = ["INDICATORS", "REPORT_COLUMNS", "cv_frame", "pupil_weighted_cv", "rule_report",
           "staffing_frame"]

INDICATORS = ("degree_per100", "backbone_per100", "pe_art_per100")
REPORT_COLUMNS = ("rule_id", "scope", "scope_id", "year", "sense", "required", "actual",
                  "slack", "binding", "violation", "note")

Row = tuple[str, str, str, int | None, str, int, int, str]


def _keyed(series: pd.Series) -> dict[tuple[object, ...], int]:
    """A Series with a MultiIndex as ``{index tuple: int}``."""
    return {cast(tuple[object, ...], k): int(v) for k, v in series.items()}


def _counts(state: pd.DataFrame, where: str, policy: RotationPolicy
            ) -> dict[tuple[object, ...], dict[str, int]]:
    """Teachers, backbone, degree and PE/arts teachers per (school, year)."""
    frame = state.assign(pe_art=state["subject"].isin(policy.pe_art_subjects))
    grouped = frame.groupby([where, "year"]).agg(
        teachers=("teacher_id", "size"), backbone=("backbone", "sum"),
        degree=("degree", "sum"), pe_art=("pe_art", "sum"))
    columns = ("teachers", "backbone", "degree", "pe_art")
    out: dict[tuple[object, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(columns, 0))
    for column in columns:
        for key, value in _keyed(grouped[column]).items():
            out[key][column] = value
    return out


@rule("Z-05", kind=Kind.AUDIT, family="staffing", params=("policy.indicator_minimums",))
def staffing_frame(tables: RotationTables, state: pd.DataFrame, policy: RotationPolicy
                   ) -> pd.DataFrame:
    """Posts, headcounts, subject shortfall and 优质均衡 teacher indicators per school-year.

    ``shortfall_<k> = max(0, need[s,k,t] - present[s,k,t])`` (teachers) after the plan,
    ``shortfall`` their sum, ``shortfall_before`` the same without the plan; indicators per
    100 pupils, before (teachers at the start of the plan) and after (present in year t):
    ``degree_per100`` (teachers above the required degree; minimum 4.2 primary, 5.3 junior),
    ``backbone_per100`` (county-level backbone; 1), ``pe_art_per100`` (PE, music, art;
    0.9).
    """
    start = state[state["year"].eq(tables.years[0]) & ~state["hire"]]
    before = _counts(start.assign(year=0), "origin", policy)
    after = _counts(state, "present", policy)
    subj_before = _keyed(start.groupby(["origin", "subject"]).size())
    subj_after = _keyed(state.groupby(["present", "year", "subject"]).size())
    rows = []
    for (s, year), pupils in sorted(tables.pupils.items()):
        info = tables.schools[s]
        b, a = before[(s, 0)], after[(s, year)]
        row: dict[str, object] = {
            "school": s, "county": info.county, "region": info.region, "stage": info.stage,
            "year": year, "pupils": pupils, "posts_required": tables.posts[(s, year)],
            "teachers_before": b["teachers"], "teachers_after": a["teachers"]}
        short_before = 0
        short_after = 0
        for k in tables.subjects:
            need = tables.needs.get((s, k, year), 0)
            gap = max(0, need - subj_after.get((s, year, k), 0))
            row[f"shortfall_{k}"] = gap
            short_after += gap
            short_before += max(0, need - subj_before.get((s, k), 0))
        row["shortfall_before"] = short_before
        row["shortfall"] = short_after
        for name, column in zip(INDICATORS, ("degree", "backbone", "pe_art"), strict=True):
            for label, counts in (("before", b), ("after", a)):
                row[f"{name}_{label}"] = (100.0 * counts[column] / pupils if pupils > 0
                                          else math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def pupil_weighted_cv(values: np.ndarray, pupils: np.ndarray) -> float:
    """Coefficient of variation of a per-pupil indicator across schools, pupil-weighted.

    ``mean = Σ P_i X_i / Σ P_i``, ``S = sqrt(Σ (P_i / Σ P) (X_i - mean)^2)``, ``CV = S / mean``
    (the 均衡 assessment's 差异系数); NaN with fewer than two schools or a zero mean.
    """
    ok = pupils > 0
    if int(ok.sum()) < 2:
        return math.nan
    x, p = values[ok], pupils[ok]
    mean = float((p * x).sum() / p.sum())
    if mean == 0:
        return math.nan
    return math.sqrt(float((p / p.sum() * (x - mean) ** 2).sum())) / mean


@rule("D-26", kind=Kind.AUDIT, family="staffing", params=("policy.cv_thresholds",))
def cv_frame(staffing: pd.DataFrame, policy: RotationPolicy) -> pd.DataFrame:
    """Pupil-weighted CV of each indicator across the schools of a county and stage.

    One row per county, stage, year and indicator: ``cv_before``, ``cv_after``,
    ``threshold`` (0.50 primary, 0.45 junior; NaN where none) and ``meets_after``
    (``cv_after <= threshold``; empty when either is undefined: fewer than two schools,
    an indicator that is zero everywhere, or a stage without threshold).
    """
    rows = []
    for (county, stage, year), part in staffing.groupby(["county", "stage", "year"], sort=True):
        pupils = part["pupils"].to_numpy(dtype=float)
        for name in INDICATORS:
            cv_b = pupil_weighted_cv(part[f"{name}_before"].to_numpy(dtype=float), pupils)
            cv_a = pupil_weighted_cv(part[f"{name}_after"].to_numpy(dtype=float), pupils)
            threshold = float(policy.cv_thresholds.get(str(stage), math.nan))
            rows.append({"county": county, "stage": stage, "year": year, "indicator": name,
                         "schools": len(part), "cv_before": cv_b, "cv_after": cv_a,
                         "threshold": threshold,
                         "meets_after": None if math.isnan(cv_a) or math.isnan(threshold)
                         else bool(cv_a <= threshold)})
    frame = pd.DataFrame(rows, columns=["county", "stage", "year", "indicator", "schools",
                                        "cv_before", "cv_after", "threshold", "meets_after"])
    frame["meets_after"] = frame["meets_after"].astype("boolean")
    return frame


# ---------------------------------------------------------------------------- rule report


def _ceil(value: float, count: int) -> int:
    """``ceil(share · count)`` exactly."""
    return math.ceil(share(value) * count)


def _d19(tables: RotationTables, state: pd.DataFrame, moves: pd.DataFrame,
         policy: RotationPolicy, network: Network) -> list[Row]:
    """D-19 rows: rotation share per sender-year, backbone share per scope-year."""
    rows: list[Row] = []
    d19 = moves[moves["arc"].map(lambda a: network.arcs[a].d19).astype(bool)]
    d19 = d19[d19["kind"].eq("rotation")]
    rot = d19.groupby(["from_school", "year"]).size().to_dict()
    elig = state[state["eligible"] & ~state["researcher"]].groupby(
        ["origin", "year"]).size().to_dict()
    for s, info in tables.schools.items():
        if not info.sender:
            continue
        for year in tables.years:
            e = int(elig.get((s, year), 0))
            if e:
                rows.append(("D-19", "school", s, year, ">=", _ceil(policy.rotation_min_share, e),
                             int(rot.get((s, year), 0)), f"{e} eligible"))
    scope = d19["from_school"].map(
        {s: i.county for s, i in tables.schools.items()}) if policy.backbone_scope == "county" \
        else d19["from_school"]
    grouped = d19.assign(scope=scope).groupby(["scope", "year"])
    backbones = _keyed(grouped["backbone"].sum())
    for (sid, yr), n in _keyed(grouped.size()).items():
        rows.append(("D-19", policy.backbone_scope, f"{sid}:backbone", int(str(yr)), ">=",
                     _ceil(policy.backbone_min_share, n), backbones[(sid, yr)],
                     f"{n} rotators"))
    return rows


def _j08(tables: RotationTables, state: pd.DataFrame, policy: RotationPolicy) -> list[Row]:
    """J-08 rows per school-year and county-year (on ``policy.backbone_basis``)."""
    basis = policy.backbone_basis
    at_school = state[state[basis].map(lambda s: not tables.schools[s].research)]
    at_school = at_school.assign(county=at_school[basis].map(
        {s: i.county for s, i in tables.schools.items()}))
    rows: list[Row] = []
    for level, column in (("school", basis), ("county", "county")):
        if level not in policy.backbone_levels:
            continue
        grouped = at_school.groupby([column, "year"])
        backbones = _keyed(grouped["backbone"].sum())
        for (sid, year), n in _keyed(grouped.size()).items():
            rows.append(("J-08", level, str(sid), int(str(year)), ">=",
                         _ceil(policy.backbone_school_min, n), backbones[(sid, year)],
                         f"{n} teachers"))
    return rows


def _excepted(network: Network, teacher: str, arc: int, year: int, rule_id: str) -> bool:
    """Whether a move breaking ``rule_id`` was lifted by a listed exception."""
    a = network.arcs[arc]
    if rule_id in ("J-10", "G-12"):
        return rule_id in a.bans and (rule_id not in a.banned(year)
                                      or year in network.teacher_arcs.get((teacher, arc), ()))
    # A G-11 exception for the teacher takes the year off their (one-member) cohort's lock.
    lifted = teacher in network.teacher_exceptions and not any(
        year in c.locked for c in network.cohorts if c.exception_teacher == teacher)
    return not a.kind_change(year) or lifted


def _bans(tables: RotationTables, moves: pd.DataFrame, policy: RotationPolicy,
          network: Network) -> list[Row]:
    """J-10, G-12 and G-11 rows: moves breaking them per year (0 allowed)."""
    rows: list[Row] = []
    checks: dict[str, Callable[[str, int, int], bool]] = {
        "J-10": lambda t, a, y: "J-10" in network.arcs[a].bans,
        "G-12": lambda t, a, y: "G-12" in network.arcs[a].bans,
        "G-11": lambda t, a, y: network.arcs[a].changes_kind
        and y in network.raw_locked.get(t, frozenset()),
    }
    for rule_id, breaks in checks.items():
        if not policy.active(rule_id):
            continue
        bad: dict[int, int] = defaultdict(int)
        lifted: dict[int, int] = defaultdict(int)
        for t, a, y in zip(moves["teacher_id"], moves["arc"], moves["year"], strict=True):
            if breaks(str(t), int(a), int(y)):
                target = lifted if _excepted(network, str(t), int(a), int(y), rule_id) else bad
                target[int(y)] += 1
        for year in tables.years:
            rows.append((rule_id, "plan", "all", year, "<=", 0, bad[year],
                         f"{lifted[year]} moves under listed exceptions"))
    return rows


def _j15(moves: pd.DataFrame, network: Network, years: tuple[int, ...]) -> list[Row]:
    """J-15 rows per research body and year: due researchers who went to a school."""
    rotated = set(zip(moves.loc[moves["kind"].eq("rotation"), "teacher_id"],
                      moves.loc[moves["kind"].eq("rotation"), "year"], strict=True))
    due: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for c in network.cohorts:
        if c.researcher and c.eligible_from in years:
            year = int(c.eligible_from or 0)
            due[(c.school_id, year)][0] += c.size
            due[(c.school_id, year)][1] += sum((t, year) in rotated for t in c.members)
    return [("J-15", "research", r, y, ">=", n, k, "researchers due that year")
            for (r, y), (n, k) in sorted(due.items())]


def _j18(tables: RotationTables, moves: pd.DataFrame, policy: RotationPolicy,
         network: Network) -> list[Row]:
    """J-18 rows per pairing and year."""
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for a, y in zip(moves["arc"], moves["year"], strict=True):
        for pid in network.arcs[int(a)].pairings:
            counts[(pid, int(y))] += 1
    return [("J-18", "pairing", pid, year, ">=", policy.pairing_min_exchanges,
             counts[(pid, year)], "exchanges") for pid in tables.pairings
            for year in tables.years]


def _floor(tables: RotationTables, state: pd.DataFrame, moves: pd.DataFrame) -> list[Row]:
    """J-27 sender-floor rows where a school sends anyone."""
    sent = {(str(s), int(str(y))): n for (s, y), n in
            _keyed(moves.groupby(["from_school", "year"]).size()).items()}
    present = _keyed(state.groupby(["present", "year"]).size())
    return [("J-27", "school", s, y, ">=", tables.posts[(s, y)], present.get((s, y), 0),
             f"sends {n}") for (s, y), n in sorted(sent.items())
            if not tables.schools[s].research]


def _d21(tables: RotationTables, state: pd.DataFrame, policy: RotationPolicy) -> list[Row]:
    """D-21 / Z-10 rows per county-year when hires are allowed."""
    if not policy.allow_hires or not policy.active("D-21"):
        return []
    school_state = state[~state["researcher"]]
    county = school_state["home"].map({s: i.county for s, i in tables.schools.items()})
    home = school_state.groupby([county, school_state["year"]]).size().to_dict()
    start = state[state["year"].eq(tables.years[0]) & ~state["hire"] & ~state["researcher"]]
    h0 = start["origin"].map({s: i.county for s, i in tables.schools.items()}).value_counts()
    return [("D-21", "county", c, y, "<=", max(p, int(h0.get(c, 0))),
             int(home.get((c, y), 0)), f"approved {p}")
            for (c, y), p in sorted(tables.county_posts.items())]


def rule_report(tables: RotationTables, network: Network, state: pd.DataFrame,
                moves: pd.DataFrame, policy: RotationPolicy) -> pd.DataFrame:
    """One row per rule, scope and year: required, actual, slack, binding, violation.

    ``slack = actual - required`` for ``>=`` rows and ``required - actual`` for ``<=``
    rows; ``binding`` when the slack is 0; ``violation = max(0, -slack)``.
    """
    rows: list[Row] = []
    if policy.active("D-19"):
        rows += _d19(tables, state, moves, policy, network)
    if policy.active("J-08"):
        rows += _j08(tables, state, policy)
    rows += _bans(tables, moves, policy, network)
    if policy.active("J-15"):
        rows += _j15(moves, network, tables.years)
    if policy.active("J-18"):
        rows += _j18(tables, moves, policy, network)
    if policy.active("J-27"):
        rows += _floor(tables, state, moves)
    rows += _d21(tables, state, policy)
    frame = pd.DataFrame(rows, columns=["rule_id", "scope", "scope_id", "year", "sense",
                                        "required", "actual", "note"])
    frame["year"] = frame["year"].astype("Int64")
    sign = np.where(frame["sense"].eq(">="), 1, -1)
    frame["slack"] = (frame["actual"] - frame["required"]) * sign
    frame["binding"] = frame["slack"].eq(0)
    frame["violation"] = (-frame["slack"]).clip(lower=0)
    return frame.loc[:, list(REPORT_COLUMNS)].reset_index(drop=True)
