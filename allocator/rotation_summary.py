"""Results tables and summary numbers of a rotation run (see :mod:`allocator.rotation_pipeline`).

:func:`outcome_tables` shapes the model's tables into the results contract of issue #5:

``rotations``
    ``year, teacher_id`` (blank when aggregated), ``count, subject, backbone, from_school,
    from_county, from_region, to_school, to_county, to_region, kind`` (rotation, transfer,
    hire), ``distance_km`` (km, 3 decimals; blank for hires).
``staffing``
    ``school, year, posts_required, teachers_before, teachers_after``, ``shortfall_<subject>``
    per subject, ``shortfall`` (their sum) and ``shortfall_before``, the 优质均衡 teacher
    indicators per 100 pupils before and after (``degree_per100``, ``backbone_per100``,
    ``pe_art_per100``; 4 decimals), then ``county, region, stage, pupils``.

:func:`summarise` recomputes the headline numbers from these tables and the input roster,
never from the model: D-19 shares per year, moves along banned region pairs (J-10),
exchanges per pairing and year (J-18), and the indicators' coefficients of variation by
stage against their thresholds (0.50 primary, 0.45 junior).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import pandas as pd

from allocator.rotation import RotationResult
from allocator.rotation_frames import ROTATION_COLUMNS
from allocator.rotation_input import RotationInput
from allocator.rotation_prep import share
from allocator.rotation_report import INDICATORS
from allocator.solvers import SolveInfo

__all__ = ["STAFFING_HEAD", "d19_shares", "outcome_tables", "summarise"]

STAFFING_HEAD = ("school", "year", "posts_required", "teachers_before", "teachers_after")
STAFFING_TAIL = ("county", "region", "stage", "pupils")


def _staffing(frame: pd.DataFrame) -> pd.DataFrame:
    """The staffing table in contract order, indicators rounded."""
    if frame.empty:
        return pd.DataFrame(columns=[*STAFFING_HEAD, "shortfall", "shortfall_before",
                                     *STAFFING_TAIL])
    subjects = sorted(c for c in frame.columns if c.startswith("shortfall_")
                      and c != "shortfall_before")
    indicators = [f"{name}_{when}" for name in INDICATORS for when in ("before", "after")]
    order = [*STAFFING_HEAD, *subjects, "shortfall", "shortfall_before", *indicators,
             *STAFFING_TAIL]
    out = frame.loc[:, order].copy()
    out[indicators] = out[indicators].astype(float).round(4)
    return out.sort_values(["school", "year"], kind="mergesort").reset_index(drop=True)


def outcome_tables(result: RotationResult) -> dict[str, pd.DataFrame]:
    """``rotations`` and ``staffing`` in the results contract (see the module docstring)."""
    rotations = result.rotations.loc[:, list(ROTATION_COLUMNS)].copy()
    rotations["distance_km"] = rotations["distance_km"].astype(float).round(3)
    return {"rotations": rotations.reset_index(drop=True),
            "staffing": _staffing(result.staffing)}


def _eligible(data: RotationInput, rotations: pd.DataFrame, years: tuple[int, ...]
              ) -> dict[tuple[str, int], int]:
    """Eligible teachers (D-19) per school and year, from the input roster or counts.

    Roster: not a researcher, ``years_at_school + (year - first year) >= eligibility``, not
    transferred away in an earlier year. Counts: the ``eligible`` rows, every year.
    """
    policy = data.policy
    out: dict[tuple[str, int], int] = defaultdict(int)
    if data.teachers is not None:
        roster = data.teachers
        researcher = (roster["researcher"].astype(bool) if "researcher" in roster.columns
                      else pd.Series(False, index=roster.index))
        transfers = rotations[rotations["kind"].eq("transfer")]
        gone = dict(zip(transfers["teacher_id"].astype(str), transfers["year"], strict=True))
        for t, s, n, r in zip(roster["teacher_id"].astype(str), roster["school_id"].astype(str),
                              roster["years_at_school"], researcher, strict=True):
            if r:
                continue
            for year in years:
                if int(n) + year - years[0] >= policy.eligibility_years and not (
                        t in gone and int(gone[t]) < year):
                    out[(s, year)] += 1
        return out
    assert data.teacher_counts is not None
    counts = data.teacher_counts
    flags = counts["eligible"].astype(str).str.lower().isin({"true", "1", "1.0", "yes"})
    for s, n, e in zip(counts["school_id"].astype(str), counts["count"], flags, strict=True):
        if e:
            for year in years:
                out[(s, year)] += int(n)
    return out


def d19_shares(data: RotationInput, rotations: pd.DataFrame, years: tuple[int, ...]
               ) -> dict[str, dict[str, Any]]:
    """D-19 per year, recomputed from the rotations table and the input teachers.

    A sender is an urban or high-quality school; its rotators are ``kind == rotation``
    rows toward a rural school (到农村学校交流轮岗; rotations to urban weak schools serve
    D-20 and are not counted). A sender meets D-19 in a year when ``rotators >=
    ceil(rotation_min_share · eligible)`` and ``backbone rotators >= ceil(backbone_min_share
    · rotators)``.

    Returns
    -------
    dict
        ``year -> senders, meeting, eligible, rotated, backbone, share, min_school_share,
        backbone_share, min_school_backbone_share`` (shares as fractions; ``None`` when
        undefined).
    """
    policy = data.policy
    schools = data.schools.assign(school_id=data.schools["school_id"].astype(str))
    flag = {c: dict(zip(schools["school_id"], schools[c].astype(str).str.lower().isin(
        {"true", "1", "1.0"}), strict=True)) for c in ("urban", "high_quality")}
    research = set(schools.loc[schools["stage"].eq("research"), "school_id"])
    senders = sorted(s for s in schools["school_id"] if s not in research
                     and (flag["urban"][s] or flag["high_quality"][s]))
    rural = {s for s in schools["school_id"] if s not in research and not flag["urban"][s]}
    eligible = _eligible(data, rotations, years)
    q_rot, q_bb = share(policy.rotation_min_share), share(policy.backbone_min_share)
    rot = rotations[rotations["kind"].eq("rotation")
                    & rotations["to_school"].astype(str).isin(rural)]
    moved = rot.groupby(["from_school", "year"])["count"].sum().to_dict()
    backbone = (rot[rot["backbone"].astype(bool)].groupby(["from_school", "year"])["count"]
                .sum().to_dict())
    out: dict[str, dict[str, Any]] = {}
    for year in years:
        rows = [(s, eligible.get((s, year), 0), int(moved.get((s, year), 0)),
                 int(backbone.get((s, year), 0))) for s in senders]
        rows = [r for r in rows if r[1] > 0]
        meeting = sum(n >= math.ceil(q_rot * e) and b >= math.ceil(q_bb * n)
                      for _, e, n, b in rows)
        e_all, n_all, b_all = (sum(r[i] for r in rows) for i in (1, 2, 3))
        with_movers = [r for r in rows if r[2] > 0]
        out[str(year)] = {
            "senders": len(rows), "meeting": int(meeting), "eligible": e_all,
            "rotated": n_all, "backbone": b_all,
            "share": round(n_all / e_all, 4) if e_all else None,
            "min_school_share": round(min(n / e for _, e, n, _ in rows), 4) if rows else None,
            "backbone_share": round(b_all / n_all, 4) if n_all else None,
            "min_school_backbone_share": round(min(b / n for _, _, n, b in with_movers), 4)
            if with_movers else None}
    return out


def _pairing_exchanges(data: RotationInput, rotations: pd.DataFrame, years: tuple[int, ...]
                       ) -> dict[str, dict[str, int]]:
    """Rotations per pairing and year along its arc (county to county, or school to school)."""
    if data.pairings is None or data.pairings.empty:
        return {}
    rot = rotations[rotations["kind"].eq("rotation")]
    out: dict[str, dict[str, int]] = {}
    for pid, level, a, b in zip(*(data.pairings[c].astype(str) for c in
                                  ("pairing_id", "level", "from_id", "to_id")), strict=True):
        side = "county" if level == "county" else "school"
        mine = rot[rot[f"from_{side}"].eq(a) & rot[f"to_{side}"].eq(b)]
        per_year = mine.groupby("year")["count"].sum().to_dict()
        out[pid] = {str(y): int(per_year.get(y, 0)) for y in years}
    return out


def _cv(result: RotationResult) -> list[dict[str, Any]]:
    """Worst CV by stage and indicator across counties and years, against the threshold."""
    cv = result.cv
    if cv.empty:
        return []
    rows = []
    for (stage, indicator), part in cv.groupby(["stage", "indicator"], sort=True):
        defined = part["meets_after"].notna()
        threshold = part["threshold"].iloc[0]
        rows.append({
            "stage": str(stage), "indicator": str(indicator),
            "threshold": None if pd.isna(threshold) else float(threshold),
            "max_cv_before": _num(part["cv_before"].max()),
            "max_cv_after": _num(part["cv_after"].max()),
            "mean_cv_after": _num(part["cv_after"].mean()),
            "county_years_meeting": int(part.loc[defined, "meets_after"].astype(bool).sum()),
            "county_years": int(defined.sum())})
    return rows


def _num(value: object) -> float | None:
    """A float rounded to 4 decimals, or ``None`` for NaN."""
    number = float(str(value))
    return None if math.isnan(number) else round(number, 4)


def _info(info: SolveInfo) -> dict[str, Any]:
    return {"status": info.status, "objective": info.objective, "bound": info.bound,
            "gap": info.gap, "seconds": round(info.seconds, 3), "message": info.message}


def summarise(data: RotationInput, result: RotationResult, tables: dict[str, pd.DataFrame], *,
              hard_info: SolveInfo | None = None, notes: list[str] | None = None
              ) -> dict[str, Any]:
    """Headline numbers of a rotation run, JSON-ready (years as string keys).

    Keys: ``status, objective, bound, gap, seconds, message`` (of the solve whose tables
    are reported), ``elastic`` and ``hard`` (the hard solve when an elastic one followed),
    ``years``, ``teachers``, ``schools``, ``moves_by_year`` (kind -> year -> teachers),
    ``d19`` (:func:`d19_shares`; ``None`` when D-19 is off), ``banned_region_moves``
    (``"west->east"`` -> teachers moved), ``pairing_exchanges`` (pairing -> year ->
    rotations), ``cv`` (by stage and indicator), ``rules`` (rule -> rows, binding,
    violation), ``slack`` (elastic: rule -> teachers), ``shortfall_by_year``, ``terms``,
    ``notes``.
    """
    rotations = tables["rotations"]
    years = tuple(int(y) for y in (data.policy.years or sorted(set(data.enrolment["year"]))))
    moves: dict[str, dict[str, int]] = {}
    for kind in ("rotation", "transfer", "hire"):
        per_year = rotations[rotations["kind"].eq(kind)].groupby("year")["count"].sum()
        moves[kind] = {str(y): int(per_year.get(y, 0)) for y in years}
    banned = {}
    for a, b in data.policy.banned_region_pairs:
        hit = rotations[rotations["from_region"].eq(a) & rotations["to_region"].eq(b)
                        & rotations["kind"].ne("hire")]
        banned[f"{a}->{b}"] = int(hit["count"].sum())
    rules: dict[str, dict[str, int]] = {}
    if not result.rules.empty:
        for rule_id, part in result.rules.groupby("rule_id", sort=True):
            rules[str(rule_id)] = {"rows": len(part), "binding": int(part["binding"].sum()),
                                   "violation": int(part["violation"].sum())}
    slack = ({str(k): int(v) for k, v in result.slacks.groupby("rule_id")["amount"].sum().items()}
             if not result.slacks.empty else {})
    staffing = tables["staffing"]
    shortfall = ({str(y): int(v) for y, v in staffing.groupby("year")["shortfall"].sum().items()}
                 if not staffing.empty else {})
    summary: dict[str, Any] = {
        **_info(result.info), "elastic": result.elastic,
        "hard": _info(hard_info) if hard_info is not None else None,
        "years": list(years),
        "teachers": len(data.teachers) if data.teachers is not None
        else int(data.teacher_counts["count"].sum()) if data.teacher_counts is not None else 0,
        "schools": int(data.schools["stage"].ne("research").sum()),
        "moves_by_year": moves,
        "d19": d19_shares(data, rotations, years) if data.policy.active("D-19") else None,
        "banned_region_moves": banned,
        "pairing_exchanges": _pairing_exchanges(data, rotations, years),
        "cv": _cv(result), "rules": rules, "slack": slack, "shortfall_by_year": shortfall,
        "terms": {k: round(float(v), 4) for k, v in result.terms.items()},
        "notes": list(notes or [])}
    return summary
