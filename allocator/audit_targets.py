"""Audit checks of budgets, project counts and build targets.

Rules N-01, N-02, J-04, G-03, N-03, D-06 and N-12. Spending and projects are recomputed
from the opened sites and expansions (``sites``, ``expansions``, or ``schools`` where those
are missing); ``spend.csv`` is used only when neither gives the numbers. The public share
(N-12) is recomputed from ``schools`` (``enrolled`` by stage, year and ownership). Units:
CNY, projects, seats (persons), schools, children (persons) and shares (fractions).
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from allocator.audit_core import EXCEPTION, FAIL, PASS, AuditContext, Finding, check, holds, num
from allocator.audit_frames import (
    expansions,
    is_missing,
    missing_finding,
    not_applicable,
    opened_sites,
    ownership_of,
    records,
)
from allocator.audit_params import SeatTargetSpec
from allocator.rules import Kind

__all__ = ["budget", "new_school_counts", "projects", "public_share", "seats_g03", "seats_j04",
           "seats_n03"]


def _judge(ctx: AuditContext, rule_id: str, actual: float, sense: str, required: float,
           ids: list[str], year: int | None) -> tuple[str, str]:
    """Status and exception reason of a bound ``actual sense required``."""
    if holds(actual, sense, required):
        return PASS, ""
    spec = ctx.exception(rule_id, ids, year)
    return (FAIL, "") if spec is None else (EXCEPTION, spec.why)


def _spend(ctx: AuditContext) -> tuple[dict[int, float], str] | None:
    """Capital spending per period year (CNY) and where it was read from.

    ``spend[t]`` = cost of the sites opened in ``t`` (once per site) + cost of the
    expansions of ``t``; from ``spend.capital_cny`` when the sites carry no cost.
    """
    opened = opened_sites(ctx)
    grown = expansions(ctx)
    if opened is not None and opened["cost_cny"].notna().all() \
            and grown["cost_cny"].notna().all():
        spend: dict[int, float] = defaultdict(float)
        for row in records(opened.drop_duplicates("site_id")):
            spend[int(row["year"])] += float(row["cost_cny"])
        for row in records(grown):
            spend[int(row["year"])] += float(row["cost_cny"])
        return dict(spend), "sites and expansions"
    table = ctx.table("spend")
    if table is not None and not ctx.missing("spend", ("year", "capital_cny")):
        return ({int(y): float(v) for y, v in zip(table["year"], table["capital_cny"],
                                                   strict=True)}, "spend.csv")
    return None


@check("N-01", kind=Kind.HARD, family="budget", tables=("sites", "expansions", "spend"))
def budget(ctx: AuditContext) -> list[Finding]:
    """Capital budget per period and in total (N-01).

    Capital budget: ``spend[t] <= budget[t]`` per period year (with carry-over
    ``Σ_{t'<=t} spend[t'] <= Σ_{t'<=t} budget[t']``) and ``Σ_t spend[t] <= budget_cny``
    (CNY). ``spend[t]``: cost of sites opened in ``t`` plus expansions of ``t``.
    """
    params = ctx.params.siting
    if not params.budget_by_year and params.budget_total is None:
        return [not_applicable("N-01", "no_parameter",
                               param="planning.budget_by_year / planning.budget_cny")]
    found = _spend(ctx)
    if found is None:
        return [missing_finding("N-01", ["sites.csv: cost_cny", "spend.csv: capital_cny"])]
    spend, source = found
    findings: list[Finding] = []
    for year in sorted(params.budget_by_year):
        if params.carry_over:
            used = sum(v for y, v in spend.items() if y <= year)
            limit = sum(v for y, v in params.budget_by_year.items() if y <= year)
        else:
            used, limit = spend.get(year, 0.0), params.budget_by_year[year]
        status, why = _judge(ctx, "N-01", used, "<=", limit, [str(year)], year)
        findings.append(Finding(
            "N-01", (("year", year),), "<=", limit, used, status,
            "N-01.over" if status != PASS else "N-01.ok",
            {"spend": num(used / 1e6, 1), "budget": num(limit / 1e6, 1),
             "over": num((used - limit) / 1e6, 1), "source": source,
             "cumulative": "cumulative " if params.carry_over else "", "why": why}))
    if params.budget_total is not None:
        used = sum(spend.values())
        status, why = _judge(ctx, "N-01", used, "<=", params.budget_total, ["total"], None)
        findings.append(Finding(
            "N-01", (("year", "all"),), "<=", params.budget_total, used, status,
            "N-01.over" if status != PASS else "N-01.ok",
            {"spend": num(used / 1e6, 1), "budget": num(params.budget_total / 1e6, 1),
             "over": num((used - params.budget_total) / 1e6, 1), "source": source,
             "cumulative": "total ", "why": why}))
    return findings


def _projects(ctx: AuditContext) -> tuple[dict[int, int], str] | None:
    """Projects per period year: sites opened plus schools expanded (one per school)."""
    opened = opened_sites(ctx)
    if opened is not None:
        count: dict[int, set[str]] = defaultdict(set)
        for site, year in zip(opened["site_id"], opened["year"], strict=True):
            count[int(year)].add(f"site {site}")
        grown = expansions(ctx)
        for school, year in zip(grown["school_id"], grown["year"], strict=True):
            count[int(year)].add(f"school {school}")
        return {y: len(v) for y, v in count.items()}, "sites and expansions"
    table = ctx.table("spend")
    if table is not None and not ctx.missing("spend", ("year", "projects")):
        return ({int(y): int(v) for y, v in zip(table["year"], table["projects"],
                                                 strict=True)}, "spend.csv")
    return None


@check("N-02", kind=Kind.TARGET, family="budget", tables=("sites", "expansions", "spend"))
def projects(ctx: AuditContext) -> list[Finding]:
    """Projects per period (N-02).

    Projects per period: ``projects[t] = sites opened in t + schools expanded in t``
    compared with ``projects_per_year[t]`` by ``projects_sense`` (=, >= or <=).
    """
    params = ctx.params.siting
    if not params.projects_per_year:
        return [not_applicable("N-02", "no_parameter", param="planning.projects_per_year")]
    found = _projects(ctx)
    if found is None:
        return [missing_finding("N-02", ["sites.csv: site_id, stage, year, classes"])]
    count, source = found
    findings: list[Finding] = []
    for year, wanted in sorted(params.projects_per_year.items()):
        actual = count.get(year, 0)
        status, why = _judge(ctx, "N-02", actual, params.projects_sense, wanted,
                             [str(year)], year)
        findings.append(Finding(
            "N-02", (("year", year),), params.projects_sense, wanted, actual, status,
            "N-02.ok" if status == PASS else "N-02.off",
            {"projects": actual, "wanted": wanted, "sense": params.projects_sense,
             "source": source, "why": why}))
    return findings


def _cap(ctx: AuditContext, stage: str, year: int) -> float | None:
    """Class cap of a stage in a year: the scenario's, else the largest in ``schools``."""
    cap = ctx.params.siting.cap(stage, year)
    if cap is not None:
        return float(cap)
    schools = ctx.table("schools")
    if schools is None or ctx.missing("schools", ("stage", "year", "cap")):
        return None
    values = schools.loc[schools["stage"].eq(stage) & schools["year"].eq(year), "cap"]
    return None if values.dropna().empty else float(values.max())


def _new_public_classes(ctx: AuditContext) -> pd.DataFrame | None:
    """``stage, year, classes, what, ownership_known``: public classes opened or added."""
    opened = opened_sites(ctx)
    if opened is None:
        return None
    owners = ownership_of(ctx)
    rows = [{"stage": r["stage"], "year": int(r["year"]), "classes": float(r["classes"]),
             "public": str(r["ownership"]) != "private",
             "known": not is_missing(r["ownership"])} for r in records(opened)]
    for r in records(expansions(ctx)):
        owner = owners.get(str(r["school_id"]))
        added = float(r["classes_added"]) if not is_missing(r["classes_added"]) else 0.0
        rows.append({"stage": r["stage"], "year": int(r["year"]), "classes": added,
                     "public": owner != "private", "known": owner is not None})
    return pd.DataFrame(rows, columns=["stage", "year", "classes", "public", "known"])


def _seat_target(ctx: AuditContext, rule_id: str) -> list[Finding]:
    """Cumulative new public seats against the targets of one rule.

    Cumulative new public seats ``Σ_{g ∈ stages} Σ_{t' <= year} classes[g,t'] ×
    cap[g, year] >= min_seats`` for each target of ``rule_id``.
    """
    targets: list[SeatTargetSpec] = [t for t in ctx.params.siting.seat_targets
                                     if t.rule_id == rule_id]
    if not targets:
        return [not_applicable(rule_id, "no_target", rule=rule_id,
                               param="planning.seat_targets")]
    new = _new_public_classes(ctx)
    if new is None:
        return [missing_finding(rule_id, ["sites.csv: site_id, stage, year, classes"])]
    findings: list[Finding] = []
    for target in targets:
        seats = 0.0
        uncapped = []
        for stage in target.stages:
            cap = _cap(ctx, stage, target.year)
            rows = new[new["stage"].eq(stage) & new["year"].le(target.year) & new["public"]]
            if cap is None:
                uncapped.append(stage)
                continue
            seats += float(rows["classes"].sum()) * cap
        scope = (("stages", "+".join(target.stages)), ("year", target.year))
        if uncapped:
            findings.append(not_applicable(rule_id, "no_cap", scope,
                                           stage=", ".join(uncapped)))
            continue
        status, why = _judge(ctx, rule_id, seats, ">=", target.min_seats,
                             list(target.stages), target.year)
        findings.append(Finding(
            rule_id, scope, ">=", target.min_seats, seats, status,
            "seats.ok" if status == PASS else "seats.short",
            {"seats": num(seats), "wanted": num(target.min_seats),
             "short": num(target.min_seats - seats), "year": target.year,
             "unknown": "" if bool(new["known"].all()) else
             " (ownership unknown for some projects: counted as public)", "why": why}))
    return findings


@check("J-04", kind=Kind.TARGET, family="seats", tables=("sites", "expansions", "schools"))
def seats_j04(ctx: AuditContext) -> list[Finding]:
    """New public seats by year (J-04).

    Jiangmen's new public seats by year (J-04): cumulative new public seats of the
    target's stages opened or added by ``year`` × cap of ``year`` >= ``min_seats``.
    """
    return _seat_target(ctx, "J-04")


@check("G-03", kind=Kind.TARGET, family="seats", tables=("sites", "expansions", "schools"))
def seats_g03(ctx: AuditContext) -> list[Finding]:
    """New public seats by stage group and year (G-03).

    New public seats by stage group and year (G-03), as J-04: cumulative new public
    seats of the target's stages by ``year`` >= ``min_seats``.
    """
    return _seat_target(ctx, "G-03")


@check("N-03", kind=Kind.TARGET, family="seats", tables=("sites", "expansions", "schools"))
def seats_n03(ctx: AuditContext) -> list[Finding]:
    """New quality seats by year (N-03).

    Nan'an's new quality seats by year (N-03), as J-04: cumulative new public seats of
    the target's stages by ``year`` >= ``min_seats``.
    """
    return _seat_target(ctx, "N-03")


@check("D-06", kind=Kind.TARGET, family="sites", tables=("sites", "schools"))
def new_school_counts(ctx: AuditContext) -> list[Finding]:
    """New schools per stage by year (D-06).

    New schools per stage: ``#{sites serving stage g opened in periods <= year}``
    compared with ``count`` by ``sense``; a nine-year school counts for both stages.
    """
    targets = [t for t in ctx.params.siting.count_targets if t.rule_id == "D-06"]
    if not targets:
        return [not_applicable("D-06", "no_target", rule="D-06",
                               param="planning.new_school_counts")]
    opened = opened_sites(ctx)
    if opened is None:
        return [missing_finding("D-06", ["sites.csv: site_id, stage, year, classes"])]
    findings: list[Finding] = []
    for target in targets:
        rows = opened[opened["stage"].eq(target.stage) & opened["year"].le(target.year)]
        actual = int(rows["site_id"].nunique())
        status, why = _judge(ctx, "D-06", actual, target.sense, target.count,
                             [target.stage], target.year)
        findings.append(Finding(
            "D-06", (("stage", target.stage), ("year", target.year)), target.sense,
            target.count, actual, status, "D-06.ok" if status == PASS else "D-06.off",
            {"schools": actual, "wanted": target.count, "stage": target.stage,
             "sense": target.sense, "year": target.year,
             "sites": ", ".join(sorted(set(rows["site_id"].astype(str)))), "why": why}))
    return findings


def _percent(share: float, versus: float | None = None) -> str:
    """A share for a message: ``0.5523`` -> ``55.2 %``, ``0.55`` -> ``55 %``.

    One decimal, more (up to four) while ``share`` would read as ``versus`` although it
    differs from it (0.54996 against 0.55 reads ``54.996 %``, not ``55 %``).
    """
    digits = 1
    while (versus is not None and digits < 4 and share != versus
           and round(share * 100, digits) == round(versus * 100, digits)):
        digits += 1
    return f"{round(share * 100, digits):g} %"


@check("N-12", kind=Kind.TARGET, family="seats", tables=("schools",))
def public_share(ctx: AuditContext) -> list[Finding]:
    """Public share of a stage's enrolled children by year (N-12, 公办率).

    Public share: ``Σ enrolled[public schools of stage g, Y] / Σ enrolled[all schools of
    g, Y] >= min_share`` for each target of ``planning.public_share_targets``, from
    ``schools`` (rows of every kind: existing, expanded and new; blank ownership is public,
    the input default). Judged as ``public >= min_share · all`` in children.
    """
    targets = [t for t in ctx.params.siting.share_targets if t.rule_id == "N-12"]
    if not targets:
        return [not_applicable("N-12", "no_target", rule="N-12",
                               param="planning.public_share_targets")]
    schools = ctx.table("schools")
    needs = ("stage", "year", "ownership", "enrolled")
    if schools is None or ctx.missing("schools", needs):
        return [missing_finding("N-12", ctx.missing("schools", needs))]
    enrolled = pd.to_numeric(schools["enrolled"], errors="coerce").fillna(0.0)
    owner = schools["ownership"].astype(str).str.strip().str.lower()
    public = owner.isin(["public", "", "nan", "none"])
    findings: list[Finding] = []
    for target in targets:
        rows = schools["stage"].astype(str).eq(target.stage) & schools["year"].eq(target.year)
        total = float(enrolled[rows].sum())
        mine = float(enrolled[rows & public].sum())
        scope = (("stage", target.stage), ("year", target.year))
        if total <= 0:
            findings.append(not_applicable("N-12", "N-12.none", scope, stage=target.stage,
                                           year=target.year))
            continue
        share = mine / total
        status, why = _judge(ctx, "N-12", mine, ">=", target.min_share * total,
                             [target.stage], target.year)
        findings.append(Finding(
            "N-12", scope, ">=", target.min_share, round(share, 6), status,
            "N-12.ok" if status == PASS else "N-12.short",
            {"public": num(mine), "enrolled": num(total), "stage": target.stage,
             "year": target.year, "share": _percent(share, target.min_share),
             "wanted": _percent(target.min_share),
             "short": num(max(target.min_share * total - mine, 0.0)), "why": why}))
    return findings
