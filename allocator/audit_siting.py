"""Audit checks of the siting plan: seats, travel, sizes, ownership and closures.

Each check recomputes one rule from the result tables (see :mod:`allocator.audit_core`);
budget, project and target checks are in :mod:`allocator.audit_targets`. Units: pupils
and children (persons), classes, metres, calendar years.
"""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import pairwise

import numpy as np
import pandas as pd

from allocator.audit_core import (
    ABS_TOL,
    EXCEPTION,
    FAIL,
    PASS,
    AuditContext,
    Finding,
    check,
    holds,
    num,
)
from allocator.audit_frames import (
    closures,
    expansions,
    is_missing,
    missing_finding,
    not_applicable,
    opened_sites,
    ownership_of,
    records,
    sum_by,
)
from allocator.rules import Kind

__all__ = [
    "caps_fall",
    "class_caps",
    "land_limit",
    "migrant_public",
    "no_build_and_close",
    "public_only",
    "school_size",
    "travel_limits",
]

URBAN_ZONE_TYPES = frozenset({"urban_core", "new_district", "industrial"})


def _status(ctx: AuditContext, rule_id: str, ok: bool, ids: list[str], year: int | None
            ) -> tuple[str, str]:
    """Status of a finding and the exception's reason (empty unless excepted)."""
    if ok:
        return PASS, ""
    spec = ctx.exception(rule_id, ids, year)
    return (FAIL, "") if spec is None else (EXCEPTION, spec.why)


@check("D-13", kind=Kind.HARD, family="seats", tables=("schools",))
def class_caps(ctx: AuditContext) -> list[Finding]:
    """Class caps (D-13).

    Class caps: ``enrolled[s,g,t] <= classes[s,g,t] × cap[g,t]`` per school, stage and
    period year (pupils). ``cap`` from the scenario (``class_caps``, ``class_caps_by_year``),
    else the table's ``cap``. A failing row counts the classes over the cap:
    ``ceil(enrolled / cap) - classes``.
    """
    need = ctx.missing("schools", ("school_id", "stage", "year", "classes", "enrolled"))
    if need:
        return [missing_finding("D-13", need)]
    schools = ctx.tables["schools"]
    params = ctx.params.siting
    findings: list[Finding] = []
    uncapped: set[str] = set()
    for row in records(schools):
        stage, year = str(row["stage"]), int(row["year"])
        classes = float(row["classes"])
        enrolled = 0.0 if is_missing(row["enrolled"]) else float(row["enrolled"])
        if classes <= 0 and enrolled <= 0:
            continue
        cap = params.cap(stage, year)
        if cap is None and "cap" in row and not is_missing(row["cap"]):
            cap = int(row["cap"])
        if cap is None:
            uncapped.add(stage)
            continue
        seats = classes * cap
        ok = holds(enrolled, "<=", seats)
        sid = str(row["school_id"])
        status, why = _status(ctx, "D-13", ok, [sid, str(row.get("name", ""))], year)
        more = max(0, math.ceil(enrolled / cap - 1e-9) - int(classes))
        findings.append(Finding(
            "D-13", (("school", sid), ("stage", stage), ("year", year)), "<=", seats,
            enrolled, status, "D-13.ok" if ok else "D-13.over",
            {"enrolled": num(enrolled), "classes": num(classes), "cap": cap,
             "over": num(enrolled - seats), "more": more, "why": why}))
    findings += [not_applicable("D-13", "no_cap", (("stage", s),), stage=s)
                 for s in sorted(uncapped)]
    return findings


@check("Z-18", kind=Kind.HARD, family="seats", tables=("schools",))
def caps_fall(ctx: AuditContext) -> list[Finding]:
    """Class caps never rise (Z-18).

    ``cap[g,t] <= cap[g,t']`` for consecutive years ``t' < t``. Caps per stage and year
    from ``schools.cap`` (the largest cap applied that year) when the table has it, else
    the scenario's caps at the period years.
    """
    params = ctx.params.siting
    caps: dict[str, dict[int, int]] = defaultdict(dict)
    schools = ctx.table("schools")
    source = "table"
    if schools is not None and not ctx.missing("schools", ("stage", "year", "cap")):
        valid = schools[schools["cap"].notna()]
        for key, value in valid.groupby(["stage", "year"])["cap"].max().items():
            assert isinstance(key, tuple)
            caps[str(key[0])][int(key[1])] = int(value)
    else:
        source = "scenario"
        stages = set(params.base_caps) | set(params.caps_by_year)
        years = sorted(set(params.periods) | {y for by in params.caps_by_year.values()
                                              for y in by})
        for stage in sorted(stages):
            for year in years:
                cap = params.cap(stage, year)
                if cap is not None:
                    caps[stage][year] = cap
    findings: list[Finding] = []
    for stage in sorted(caps):
        series = sorted(caps[stage].items())
        if len(series) < 2:
            findings.append(not_applicable("Z-18", "Z-18.single", (("stage", stage),),
                                           stage=stage, cap=series[0][1] if series else "-"))
            continue
        for (before, old), (year, new) in pairwise(series):
            ok = new <= old
            status, why = _status(ctx, "Z-18", ok, [stage], year)
            findings.append(Finding(
                "Z-18", (("stage", stage), ("year", year)), "<=", old, new, status,
                "Z-18.ok" if ok else "Z-18.rise",
                {"stage": stage, "before": before, "old": old, "new": new, "source": source,
                 "why": why}))
    if not findings:
        findings.append(not_applicable("Z-18", "no_parameter", param="standards.class_caps"))
    return findings


def _zone_settings(ctx: AuditContext) -> dict[str, str]:
    """Zone id to urban or rural.

    Zone id -> ``urban`` / ``rural`` from a ``setting`` or ``zone_type`` column of
    ``assignments``, ``demand`` or ``zones``.
    """
    found: dict[str, str] = {}
    for name in ("assignments", "demand", "zones"):
        frame = ctx.table(name)
        if frame is None or "zone_id" not in frame.columns:
            continue
        if "setting" in frame.columns:
            pairs = zip(frame["zone_id"], frame["setting"].astype(str), strict=True)
            found.update({str(z): s for z, s in pairs if s in ("urban", "rural")})
        elif "zone_type" in frame.columns:
            pairs = zip(frame["zone_id"], frame["zone_type"].astype(str), strict=True)
            found.update({str(z): "urban" if t in URBAN_ZONE_TYPES else "rural"
                          for z, t in pairs})
    return found


@check("D-07", kind=Kind.HARD, family="sites", tables=("assignments", "demand"))
def travel_limits(ctx: AuditContext) -> list[Finding]:
    """Near-home enrolment within the travel limits (D-07).

    Near-home enrolment: ``distance_m[z,s,g,t] <= limit[g, setting(z)]`` (metres) for
    every assignment with children, reported per stage, year and setting (``actual`` is
    the longest distance). The zone's setting is urban for urban core, new district and
    industrial zones, else rural (from a ``setting`` or ``zone_type`` column); without one
    the longer (rural) limit is applied and the message says so.
    """
    need = ctx.missing("assignments", ("zone_id", "school_id", "stage", "year", "distance_m"))
    if need:
        return [missing_finding("D-07", need)]
    limits = ctx.params.siting.travel_limits
    settings = _zone_settings(ctx)
    flows = ctx.tables["assignments"]
    if "children" in flows.columns:
        flows = flows[pd.to_numeric(flows["children"]).gt(0)]
    stages = set(flows["stage"].astype(str).unique().tolist())
    unlimited = sorted(stages - {g for g, v in limits.items() if v})
    flows = flows[~flows["stage"].astype(str).isin(unlimited)]
    flows = flows.assign(setting=flows["zone_id"].map(settings).astype(object).fillna("unknown"),
                         distance=pd.to_numeric(flows["distance_m"]).astype(float))
    table = pd.DataFrame(
        [(g, t, by.get(t, max(by.values()))) for g, by in limits.items() if by
         for t in ("urban", "rural", "unknown")], columns=["stage", "setting", "limit"])
    flows = flows.merge(table, on=["stage", "setting"], how="left")
    beyond = flows["distance"].gt(flows["limit"] + ABS_TOL)
    lifted = pd.Series(False, index=flows.index)
    far = flows[beyond]
    if len(far) and ctx.params.exceptions:
        lifted.loc[far.index] = np.array([
            ctx.exception("D-07", [str(z), str(s)], int(y)) is not None
            for z, s, y in zip(far["zone_id"].tolist(), far["school_id"].tolist(),
                               far["year"].tolist(), strict=True)], dtype=bool)
    flows = flows.assign(lifted=lifted, over=beyond & ~lifted)
    findings: list[Finding] = []
    for key, group in flows.groupby(["stage", "year", "setting"], sort=True):
        assert isinstance(key, tuple)
        stage, year, where = str(key[0]), int(str(key[1])), str(key[2])
        counted = group[~group["lifted"]] if not group["lifted"].all() else group
        worst = counted.sort_values(["distance", "zone_id", "school_id"]).iloc[-1]
        over, excepted = int(group["over"].sum()), int(group["lifted"].sum())
        status = FAIL if over else EXCEPTION if excepted else PASS
        findings.append(Finding(
            "D-07", (("stage", stage), ("year", year), ("setting", where)), "<=",
            float(group["limit"].iloc[0]), float(worst["distance"]), status,
            "D-07.over" if over else "D-07.ok",
            {"pairs": len(group), "over": over, "excepted": excepted,
             "worst": num(float(worst["distance"])), "zone": worst["zone_id"],
             "school": worst["school_id"], "limit": num(float(group["limit"].iloc[0])),
             "setting": "longer" if where == "unknown" else where,
             "note": " (zone setting unknown: longer limit applied)"
             if where == "unknown" else ""}))
    findings += [not_applicable("D-07", "D-07.no_limit", (("stage", s),), stage=s)
                 for s in unlimited]
    return findings


def _expanded_by(ctx: AuditContext) -> dict[tuple[str, str], int]:
    """(school, stage) -> first period year it was expanded."""
    first: dict[tuple[str, str], int] = {}
    for row in records(expansions(ctx)):
        key = (str(row["school_id"]), str(row["stage"]))
        first[key] = min(first.get(key, int(row["year"])), int(row["year"]))
    schools = ctx.table("schools")
    if schools is not None and "kind" in schools.columns:
        for row in records(schools[schools["kind"].astype(str).eq("expanded")]):
            key = (str(row["school_id"]), str(row["stage"]))
            first[key] = min(first.get(key, int(row["year"])), int(row["year"]))
    return first


@check("N-05", kind=Kind.HARD, family="sites", tables=("schools", "sites", "expansions"))
def school_size(ctx: AuditContext) -> list[Finding]:
    """School size limit (N-05).

    School size limit: ``classes[s,g,t] <= max_school_classes[g]`` for every new school
    and every school the plan expands (from the year of its expansion). An existing school
    already above the limit that the plan does not expand is reported, not failed.
    """
    limits = ctx.params.siting.max_classes
    if not limits:
        return [not_applicable("N-05", "no_parameter", param="standards.max_school_classes")]
    need = ctx.missing("schools", ("school_id", "stage", "year", "classes"))
    if need:
        return [missing_finding("N-05", need)]
    opened = opened_sites(ctx)
    new = set() if opened is None else set(zip(opened["site_id"], opened["stage"],
                                               strict=True))
    expanded = _expanded_by(ctx)
    findings: list[Finding] = []
    for row in records(ctx.tables["schools"]):
        sid, stage, year = str(row["school_id"]), str(row["stage"]), int(row["year"])
        limit = limits.get(stage)
        classes = float(row["classes"])
        if limit is None or classes <= 0:
            continue
        kind = str(row.get("kind", ""))
        grown = (sid, stage) in expanded and expanded[(sid, stage)] <= year
        planned = (sid, stage) in new or kind == "new" or grown
        scope = (("school", sid), ("stage", stage), ("year", year))
        ok = holds(classes, "<=", limit)
        if not planned:
            if not ok:
                findings.append(not_applicable("N-05", "N-05.existing", scope,
                                               classes=num(classes), limit=limit))
            continue
        status, why = _status(ctx, "N-05", ok, [sid, str(row.get("name", ""))], year)
        findings.append(Finding("N-05", scope, "<=", limit, classes, status,
                                "N-05.ok" if ok else "N-05.over",
                                {"classes": num(classes), "limit": limit,
                                 "what": "new school" if not grown else "expanded school",
                                 "why": why}))
    return findings


@check("D-14", kind=Kind.HARD, family="seats", tables=("schools",))
def land_limit(ctx: AuditContext) -> list[Finding]:
    """A school grows only within its land and size limit (D-14).

    For every existing school and period year, over all its stages:
    ``Σ_g classes[s,g,t] <= max(max_classes[s], Σ_g classes[s,g,first year])`` (classes;
    a school already above its limit is not forced to shrink). ``max_classes`` from the
    ``schools`` table; schools without one are not limited.
    """
    need = ctx.missing("schools", ("school_id", "stage", "year", "classes", "max_classes"))
    if need:
        return [missing_finding("D-14", need)]
    schools = ctx.tables["schools"]
    if "kind" in schools.columns:
        schools = schools[~schools["kind"].astype(str).eq("new")]
    schools = schools[pd.to_numeric(schools["max_classes"], errors="coerce").notna()]
    total = sum_by(schools, ["school_id", "year"], "classes")
    limit = {str(s): float(m) for s, m in zip(schools["school_id"], schools["max_classes"],
                                              strict=True)}
    first: dict[str, int] = {}
    for (sid, year) in total:
        first[str(sid)] = min(first.get(str(sid), int(year)), int(year))
    findings: list[Finding] = []
    for (sid, year), classes in sorted(total.items()):
        school = str(sid)
        start = total[(school, first[school])]
        cap = max(limit[school], start)
        ok = holds(classes, "<=", cap)
        status, why = _status(ctx, "D-14", ok, [school], int(year))
        findings.append(Finding(
            "D-14", (("school", school), ("year", int(year))), "<=", cap, classes, status,
            "D-14.ok" if ok else "D-14.over",
            {"classes": num(classes), "limit": num(limit[school]), "start": num(start),
             "why": why}))
    return findings


@check("J-20", kind=Kind.HARD, family="sites", tables=("sites", "schools", "expansions"))
def public_only(ctx: AuditContext) -> list[Finding]:
    """No new private compulsory capacity (J-20).

    No new private compulsory capacity: for each stage in ``public_only_stages`` and
    period year, ``private openings + private expansions = 0`` (ownership from the
    ``sites`` or ``schools`` table).
    """
    planned = ctx.params.siting.stages
    stages = tuple(g for g in ctx.params.siting.public_only_stages
                   if not planned or g in planned)
    opened = opened_sites(ctx)
    if opened is None:
        return [missing_finding("J-20", ["sites.csv: site_id, stage, year, classes"])]
    owners = ownership_of(ctx)
    grown = expansions(ctx)
    if not owners and (len(opened) or len(grown)):
        return [missing_finding("J-20", ["schools.csv or sites.csv: ownership"])]
    if not stages:
        return [not_applicable("J-20", "J-20.no_stage")]
    projects: dict[tuple[str, int], list[str]] = defaultdict(list)
    private: dict[tuple[str, int], list[str]] = defaultdict(list)
    rows = [(str(r["site_id"]), str(r["stage"]), int(r["year"]), str(r["ownership"]), "new")
            for r in records(opened)]
    rows += [(str(r["school_id"]), str(r["stage"]), int(r["year"]),
              owners.get(str(r["school_id"]), "unknown"), "expanded") for r in records(grown)]
    for sid, stage, year, owner, what in rows:
        if stage in stages:
            projects[(stage, year)].append(sid)
            if owner == "private":
                private[(stage, year)].append(f"{sid} ({what})")
    years = sorted(set(ctx.params.siting.periods) | {y for _, y in projects})
    findings: list[Finding] = []
    for stage in stages:
        for year in years:
            bad = private.get((stage, year), [])
            lifted = [b for b in bad if ctx.exception("J-20", [b.split(" ")[0]], year)]
            left = [b for b in bad if b not in lifted]
            status = FAIL if left else EXCEPTION if lifted else PASS
            why = "; ".join(spec.why for b in lifted
                            if (spec := ctx.exception("J-20", [b.split(" ")[0]], year)))
            findings.append(Finding(
                "J-20", (("stage", stage), ("year", year)), "=", 0, len(bad), status,
                "J-20.private" if bad else "J-20.ok",
                {"projects": len(projects.get((stage, year), [])),
                 "private": ", ".join(bad), "why": why}))
    return findings


@check("D-23", kind=Kind.HARD, family="seats", tables=("demand", "assignments", "schools"))
def migrant_public(ctx: AuditContext) -> list[Finding]:
    """Migrant children in public seats (D-23).

    Migrant children in public seats: ``Σ_s private children[z,s,g,t] <= children[z,g,t]
    − migrant[z,g,t]`` for each zone, stage in ``public_only_stages`` and period year.
    One row per stage and year when every zone holds, else one row per failing zone.
    """
    need = (ctx.missing("demand", ("zone_id", "stage", "year", "children", "migrant"))
            + ctx.missing("assignments", ("zone_id", "school_id", "stage", "year",
                                          "children")))
    if need:
        return [missing_finding("D-23", need)]
    demand = ctx.tables["demand"]
    if "assigned" in demand.columns:
        demand = demand[demand["assigned"].notna()]
    stages = ctx.params.siting.public_only_stages
    demand = demand[demand["stage"].isin(stages)]
    owners = ownership_of(ctx)
    flows = ctx.tables["assignments"]
    flows = flows[flows["stage"].isin(stages)]
    if not owners and len(flows):
        return [missing_finding("D-23", ["schools.csv: ownership"])]
    private = flows[flows["school_id"].isin([s for s, o in owners.items() if o == "private"])]
    in_private = sum_by(private, ["zone_id", "stage", "year"], "children")
    findings: list[Finding] = []
    for key, group in demand.groupby(["stage", "year"], sort=True):
        assert isinstance(key, tuple)
        stage, year = str(key[0]), int(str(key[1]))
        failing: list[Finding] = []
        for row in records(group):
            zone = str(row["zone_id"])
            allowed = float(row["children"]) - float(row["migrant"])
            used = float(in_private.get((zone, stage, year), 0.0))
            if holds(used, "<=", allowed):
                continue
            status, why = _status(ctx, "D-23", False, [zone], year)
            failing.append(Finding(
                "D-23", (("zone", zone), ("stage", stage), ("year", year)), "<=", allowed,
                used, status, "D-23.over",
                {"private": num(used), "children": num(float(row["children"])),
                 "migrant": num(float(row["migrant"])), "why": why}))
        if failing:
            findings += failing
            continue
        total = sum(v for (z, g, y), v in in_private.items() if g == stage and y == year)
        findings.append(Finding(
            "D-23", (("stage", stage), ("year", year)), "<=", 0, 0, PASS, "D-23.ok",
            {"zones": len(group), "migrant": num(float(group["migrant"].sum())),
             "private": num(total)}))
    return findings


def _catchment(ctx: AuditContext, school: str, year: int,
               opened: pd.DataFrame) -> set[str]:
    """Sites in the catchment of a school.

    Sites in the catchment of ``school``: from ``catchment`` if given, else the opened
    sites serving a zone the school served in the period before ``year``.
    """
    table = ctx.table("catchment")
    if table is not None and not ctx.missing("catchment", ("school_id", "site_id")):
        return set(table.loc[table["school_id"].eq(school), "site_id"].astype(str))
    flows = ctx.table("assignments")
    if flows is None or ctx.missing("assignments", ("zone_id", "school_id", "year")):
        return set()
    earlier = flows.loc[flows["year"].lt(year), "year"]
    if earlier.empty:
        return set()
    before = flows[flows["year"].eq(earlier.max()) & flows["school_id"].eq(school)]
    zones = set(before["zone_id"])
    sites = set(opened["site_id"])
    served = flows[flows["zone_id"].isin(zones) & flows["school_id"].isin(sites)]
    return set(served["school_id"])


@check("D-10", kind=Kind.HARD, family="sites", tables=("schools", "sites", "assignments"))
def no_build_and_close(ctx: AuditContext) -> list[Finding]:
    """No building while closing nearby (D-10).

    No building while closing nearby: for every school closed in period ``t``, no site of
    its catchment opens in ``t``. Catchment from ``catchment`` (``school_id, site_id``),
    else the opened sites that serve, in any year, a zone the school served in the period
    before its closure.
    """
    closed = closures(ctx)
    if closed.empty:
        return [not_applicable("D-10", "D-10.none",
                               allowed="on" if ctx.params.siting.allow_closures else "off")]
    opened = opened_sites(ctx)
    if opened is None:
        opened = pd.DataFrame(columns=["site_id", "year"])
    opening = dict(zip(opened["site_id"].astype(str), opened["year"].astype(int),
                       strict=True))
    findings: list[Finding] = []
    for row in records(closed):
        school, year = str(row["school_id"]), int(row["year"])
        sites = sorted(s for s in _catchment(ctx, school, year, opened)
                       if opening.get(s) == year)
        status, why = _status(ctx, "D-10", not sites, [school], year)
        findings.append(Finding(
            "D-10", (("school", school), ("year", year)), "=", 0, len(sites), status,
            "D-10.clash" if sites else "D-10.ok",
            {"sites": ", ".join(sites), "why": why}))
    return findings
