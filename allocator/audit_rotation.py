"""Audit checks of teacher staffing and rotation (D-19, J-10, G-12, J-08, J-18, J-27).

Tables read (ids as strings):

``rotations``
    ``year, teacher_id, count, subject, backbone, from_school, from_county, from_region,
    to_school, to_county, to_region, kind, distance_km``: one row per named move or per
    aggregated group (``count`` teachers; 1 when the column is missing).
``staffing``
    ``school, year, posts_required, teachers_after`` and, for the checks that need them,
    ``county``, ``stage`` (``research`` for research bodies), ``eligible`` (teachers
    eligible to rotate that year, D-19), ``backbone_home`` / ``teachers_home`` or
    ``backbone_after`` (J-08) and the school flags ``urban``, ``high_quality``, ``rural``,
    ``weak``, ``centre`` (also accepted from a ``school_attributes`` table keyed by
    ``school_id``).
``pairings``
    ``pairing_id, level, from_id, to_id`` (J-18; ``level`` county or school).
``teachers``
    An optional roster (``teacher_id, school_id, years_at_school``, optional
    ``researcher``) from which eligibility is counted when ``staffing`` has no ``eligible``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pandas as pd

from allocator.audit_core import EXCEPTION, FAIL, PASS, AuditContext, Finding, check, holds
from allocator.audit_frames import (
    is_missing,
    missing_finding,
    not_applicable,
    records,
    sum_by,
    truthy,
)
from allocator.audit_params import ceil_share
from allocator.rules import Kind

__all__ = ["backbone_share", "backbone_share_g10", "county_posts", "county_posts_z10",
           "county_to_centre", "pairing_exchanges", "rotation_quota",
           "sender_floor", "west_to_east"]


def _moves(ctx: AuditContext) -> pd.DataFrame | None:
    """Moves with ``count`` (int), ``backbone`` (bool) and ``kind`` filled in."""
    table = ctx.table("rotations")
    if table is None or ctx.missing("rotations", ("year", "from_school", "to_school")):
        return None
    frame = table.copy()
    frame["count"] = (pd.to_numeric(frame["count"]).fillna(1).astype(int)
                      if "count" in frame.columns else 1)
    frame["backbone"] = ([truthy(v) for v in frame["backbone"]]
                         if "backbone" in frame.columns else False)
    frame["kind"] = frame["kind"].astype(str) if "kind" in frame.columns else "rotation"
    if "teacher_id" not in frame.columns:
        frame["teacher_id"] = ""
    return frame[frame["count"].gt(0) & ~frame["kind"].eq("hire")]


def _years(ctx: AuditContext) -> list[int]:
    """Plan years of the rotation run: the ``staffing`` years, else the ``rotations`` years."""
    for name in ("staffing", "rotations"):
        frame = ctx.table(name)
        if frame is not None and "year" in frame.columns and len(frame):
            return sorted({int(y) for y in frame["year"]})
    return []


def _flag(ctx: AuditContext, column: str) -> dict[str, bool] | None:
    """School id -> flag from ``staffing`` or ``school_attributes``; None if neither has it."""
    for name, key in (("school_attributes", "school_id"), ("staffing", "school")):
        frame = ctx.table(name)
        if frame is not None and column in frame.columns and key in frame.columns:
            return {str(s): truthy(v) for s, v in zip(frame[key], frame[column], strict=True)}
    return None


def _senders(ctx: AuditContext) -> tuple[dict[str, bool] | None, dict[str, bool] | None]:
    """D-19 senders (urban or high-quality) and rural receiving schools, by school.

    D-19 counts rotations 到农村学校: a ``rural`` flag, else ``not urban``; ``None`` when
    the tables say neither (every rotation is then counted, and the finding says so).
    """
    sender = _flag(ctx, "sender")
    if sender is None:
        urban, quality = _flag(ctx, "urban"), _flag(ctx, "high_quality")
        if urban is not None or quality is not None:
            schools = set(urban or {}) | set(quality or {})
            sender = {s: (urban or {}).get(s, False) or (quality or {}).get(s, False)
                      for s in schools}
    rural = _flag(ctx, "rural")
    if rural is None:
        urban = _flag(ctx, "urban")
        rural = None if urban is None else {s: not v for s, v in urban.items()}
    return sender, rural


def _eligible(ctx: AuditContext, years: list[int]) -> dict[tuple[str, int], int] | None:
    """Eligible teachers per (school, year).

    ``staffing.eligible``, else counted from a roster: ``years_at_school + (year - first
    year) >= eligibility_years``, researchers and teachers transferred away in an earlier
    year excluded.
    """
    staffing = ctx.table("staffing")
    if staffing is not None and "eligible" in staffing.columns:
        return {(str(s), int(y)): int(e) for s, y, e in
                zip(staffing["school"], staffing["year"], staffing["eligible"], strict=True)
                if not is_missing(e)}
    roster = ctx.table("teachers")
    if roster is None or ctx.missing("teachers", ("school_id", "years_at_school")) or not years:
        return None
    minimum = ctx.params.rotation.eligibility_years
    moves = ctx.table("rotations")
    gone: dict[str, int] = {}
    if moves is not None and not ctx.missing("rotations", ("teacher_id", "kind", "year")):
        transfers = moves[moves["kind"].astype(str).eq("transfer")]
        gone = {str(t): int(y) for t, y in zip(transfers["teacher_id"], transfers["year"],
                                                strict=True)}
    found: dict[tuple[str, int], int] = defaultdict(int)
    for row in records(roster):
        teacher = str(row.get("teacher_id", ""))
        if truthy(row.get("researcher", False)):
            continue
        for year in years:
            if (float(row["years_at_school"]) + (year - years[0]) >= minimum
                    and gone.get(teacher, year) >= year):
                found[(str(row["school_id"]), year)] += 1
    return dict(found)


@check("D-19", kind=Kind.HARD, family="flows", tables=("rotations", "staffing", "teachers"))
def rotation_quota(ctx: AuditContext) -> list[Finding]:
    """Urban-to-rural rotation quota and backbone share (D-19).

    Urban-to-rural rotation: for each urban or high-quality school ``u`` and year,
    ``rotated[u] >= ceil(0.10 × eligible[u])`` (rotations to rural schools), and
    per sending school (or county, ``backbone_scope``) with rotators,
    ``backbone rotators >= ceil(0.20 × rotators)``.
    """
    moves = _moves(ctx)
    if moves is None:
        return [not_applicable("D-19", "no_rotation")]
    years = _years(ctx)
    sender, receiver = _senders(ctx)
    eligible = _eligible(ctx, years)
    needs = []
    if sender is None:
        needs.append("staffing.csv: sender (or urban, high_quality)")
    if eligible is None:
        needs.append("staffing.csv: eligible (or a teachers roster)")
    if needs:
        return [missing_finding("D-19", needs)]
    assert sender is not None and eligible is not None
    p = ctx.params.rotation
    d19 = moves[moves["kind"].eq("rotation")
                & moves["from_school"].isin([s for s, ok in sender.items() if ok])]
    if receiver is not None:
        d19 = d19[d19["to_school"].isin([s for s, ok in receiver.items() if ok])]
    rotated = d19.groupby(["from_school", "year"])["count"].sum().to_dict()
    findings: list[Finding] = []
    for (school, year), count in sorted(eligible.items()):
        if not sender.get(school, False) or count <= 0:
            continue
        need = ceil_share(p.rotation_min_share, count)
        actual = int(rotated.get((school, year), 0))
        status, why = _status(ctx, "D-19", actual >= need, [school], year)
        findings.append(Finding(
            "D-19", (("school", school), ("year", year)), ">=", need, actual, status,
            "D-19.ok" if actual >= need else "D-19.short",
            {"rotated": actual, "eligible": count, "share": f"{p.rotation_min_share:.0%}",
             "short": need - actual, "why": why,
             "note": "" if receiver is not None else
             " (receiving schools' rural/urban flags unknown: every rotation counted)"}))
    scope = "county" if p.backbone_scope == "county" else "school"
    key = "from_county" if scope == "county" and "from_county" in d19.columns else "from_school"
    d19 = d19.assign(backbone_count=d19["count"].where(d19["backbone"].astype(bool), 0))
    backbone = sum_by(d19, [key, "year"], "backbone_count")
    for group, total in sorted(sum_by(d19, [key, "year"], "count").items()):
        unit, year = str(group[0]), int(group[1])
        need = ceil_share(p.backbone_min_share, int(total))
        actual = int(backbone.get(group, 0))
        status, why = _status(ctx, "D-19", actual >= need, [unit], year)
        findings.append(Finding(
            "D-19", ((scope, unit), ("year", year), ("of", "backbone")), ">=", need,
            actual, status, "D-19.backbone_ok" if actual >= need else "D-19.backbone_short",
            {"backbone": actual, "rotators": int(total),
             "share": f"{p.backbone_min_share:.0%}", "why": why}))
    if not findings:
        findings.append(not_applicable("D-19", "D-19.no_sender"))
    return findings


def _status(ctx: AuditContext, rule_id: str, ok: bool, ids: list[str], year: int | None
            ) -> tuple[str, str]:
    if ok:
        return PASS, ""
    spec = ctx.exception(rule_id, ids, year)
    return (FAIL, "") if spec is None else (EXCEPTION, spec.why)


def _ban(ctx: AuditContext, rule_id: str, moves: pd.DataFrame,
         banned: Callable[[dict[str, object]], bool]) -> list[Finding]:
    """Per-year rows of a directed ban: moves on banned arcs, 0 allowed unless excepted."""
    bad: dict[int, int] = defaultdict(int)
    lifted: dict[int, int] = defaultdict(int)
    examples: dict[int, list[str]] = defaultdict(list)
    reasons: dict[int, set[str]] = defaultdict(set)
    for row in records(moves):
        if not banned(row):
            continue
        year, count = int(row["year"]), int(row["count"])
        teacher, source, target = (str(row["teacher_id"]), str(row["from_school"]),
                                   str(row["to_school"]))
        spec = next((e for e in ctx.params.exceptions
                     if e.covers_move(rule_id, teacher, source, target, year)), None)
        if spec is None:
            bad[year] += count
            examples[year].append(f"{teacher or f'{count} teachers'} {source}→{target}")
        else:
            lifted[year] += count
            reasons[year].add(spec.why)
    findings = []
    for year in sorted(set(_years(ctx)) | set(bad) | set(lifted)):
        status = FAIL if bad[year] else EXCEPTION if lifted[year] else PASS
        findings.append(Finding(
            rule_id, (("year", year),), "=", 0, bad[year], status,
            f"{rule_id}.moves" if bad[year] else f"{rule_id}.ok",
            {"moves": bad[year], "lifted": lifted[year],
             "examples": "; ".join(sorted(examples[year])[:3]),
             "why": "; ".join(sorted(reasons[year]))}))
    return findings


@check("J-10", kind=Kind.HARD, family="flows", tables=("rotations",))
def west_to_east(ctx: AuditContext) -> list[Finding]:
    """No west-to-east moves (J-10).

    No west-to-east moves: moves (rotations, transfers) with ``(from_region, to_region)``
    in ``banned_region_pairs`` = 0 per year, unless a listed exception lifts them.
    """
    moves = _moves(ctx)
    if moves is None:
        return [not_applicable("J-10", "no_rotation")]
    need = ctx.missing("rotations", ("from_region", "to_region"))
    if need:
        return [missing_finding("J-10", need)]
    pairs = set(ctx.params.rotation.banned_region_pairs)
    return _ban(ctx, "J-10", moves,
                lambda r: (str(r["from_region"]), str(r["to_region"])) in pairs)


@check("G-12", kind=Kind.HARD, family="flows", tables=("rotations", "staffing"))
def county_to_centre(ctx: AuditContext) -> list[Finding]:
    """No county-to-centre moves (G-12).

    No county-to-centre moves: moves from a school or body outside the central city to
    one inside it (``not centre[from] and centre[to]``) = 0 per year, unless excepted.
    """
    moves = _moves(ctx)
    if moves is None:
        return [not_applicable("G-12", "no_rotation")]
    if {"from_centre", "to_centre"} <= set(moves.columns):
        return _ban(ctx, "G-12", moves, lambda r: not truthy(r["from_centre"])
                    and truthy(r["to_centre"]))
    centre = _flag(ctx, "centre")
    if centre is None:
        return [missing_finding("G-12", ["staffing.csv: centre (or rotations.csv: "
                                         "from_centre, to_centre)"])]
    return _ban(ctx, "G-12", moves, lambda r: not centre.get(str(r["from_school"]), False)
                and centre.get(str(r["to_school"]), False))


def _with_home(ctx: AuditContext) -> pd.DataFrame:
    """``staffing`` with ``teachers_home`` and ``backbone_home``.

    Teachers (and backbone teachers) holding a post at the school in a year, counted from
    the roster and the transfers and hires of ``rotations`` (a move of year ``y`` counts
    from ``y`` on) when the table lacks them.
    """
    staffing = ctx.tables["staffing"]
    roster = ctx.table("teachers")
    if {"teachers_home", "backbone_home"} <= set(staffing.columns) or roster is None \
            or ctx.missing("teachers", ("school_id", "backbone")):
        return staffing
    start: dict[tuple[str, str], int] = defaultdict(int)
    for school, flag in zip(roster["school_id"], roster["backbone"], strict=True):
        start[(str(school), "teachers")] += 1
        start[(str(school), "backbone")] += int(truthy(flag))
    table = ctx.table("rotations")
    events = [] if table is None else [
        r for r in records(table) if str(r.get("kind", "")) in ("transfer", "hire")]
    home, backbone = [], []
    for school, year in zip(staffing["school"].astype(str), staffing["year"], strict=True):
        counts = {k: start[(school, k)] for k in ("teachers", "backbone")}
        for event in events:
            if int(event["year"]) > int(year):
                continue
            n = 1 if is_missing(event.get("count")) else int(event["count"])
            sign = (1 if str(event["to_school"]) == school else 0) - (
                1 if str(event.get("from_school", "")) == school else 0)
            counts["teachers"] += sign * n
            counts["backbone"] += sign * n * int(truthy(event.get("backbone", False)))
        home.append(counts["teachers"])
        backbone.append(counts["backbone"])
    return staffing.assign(teachers_home=home, backbone_home=backbone)


def _backbone(ctx: AuditContext, rule_id: str) -> list[Finding]:
    """Backbone teachers per school and county (J-08, G-10).

    Backbone teachers: ``backbone >= ceil(0.10 × teachers)`` per school and per county
    and year (``backbone_levels``), counting teachers holding a post (``home`` basis:
    ``teachers_home``, ``backbone_home``) or teaching there (``present``:
    ``teachers_after``, ``backbone_after``); research bodies excluded.
    """
    p = ctx.params.rotation
    teachers, backbone = (("teachers_home", "backbone_home") if p.backbone_basis == "home"
                          else ("teachers_after", "backbone_after"))
    if ctx.table("staffing") is None:
        return [not_applicable(rule_id, "no_rotation")]
    staffing = _with_home(ctx)
    need = [f"staffing.csv: {c}" for c in ("school", "year", teachers, backbone)
            if c not in staffing.columns]
    if "county" in p.backbone_levels:
        need += ctx.missing("staffing", ("county",))
    if need:
        if p.backbone_basis == "home":
            need.append("(or a teachers roster)")
        return [missing_finding(rule_id, need)]
    if "stage" in staffing.columns:
        staffing = staffing[~staffing["stage"].astype(str).eq("research")]
    findings: list[Finding] = []
    for level, column in (("school", "school"), ("county", "county")):
        if level not in p.backbone_levels:
            continue
        sums = staffing.groupby([column, "year"], sort=True)[[teachers, backbone]].sum()
        for key, row in sums.iterrows():
            assert isinstance(key, tuple)
            unit, year = str(key[0]), int(key[1])
            total, have = int(row[teachers]), int(row[backbone])
            need_n = ceil_share(p.backbone_school_min, total)
            status, why = _status(ctx, rule_id, have >= need_n, [unit], year)
            findings.append(Finding(
                rule_id, ((level, unit), ("year", year)), ">=", need_n, have, status,
                "J-08.ok" if have >= need_n else "J-08.short",
                {"backbone": have, "teachers": total,
                 "share": f"{p.backbone_school_min:.0%}", "why": why}))
    return findings


@check("J-08", kind=Kind.HARD, family="staffing", tables=("staffing",))
def backbone_share(ctx: AuditContext) -> list[Finding]:
    """Backbone teachers per school and county (J-08).

    ``backbone >= ceil(0.10 × teachers)`` per school and county and year; see
    :func:`_backbone`.
    """
    return _backbone(ctx, "J-08")


@check("G-10", kind=Kind.HARD, family="staffing", tables=("staffing",))
def backbone_share_g10(ctx: AuditContext) -> list[Finding]:
    """Backbone teachers per county and school (G-10, the generic form of J-08).

    The same formula as J-08: ``backbone >= ceil(0.10 × teachers)``.
    """
    return _backbone(ctx, "G-10")


@check("J-18", kind=Kind.TARGET, family="flows", tables=("rotations", "pairings"))
def pairing_exchanges(ctx: AuditContext) -> list[Finding]:
    """Exchanges on every pairing arc (J-18).

    Pairing exchanges: moves along each pairing arc (``from_id -> to_id`` between
    counties or schools, by ``level``) >= ``pairing_min_exchanges`` per year.
    """
    moves = _moves(ctx)
    if moves is None:
        return [not_applicable("J-18", "no_rotation")]
    need = ctx.missing("pairings", ("pairing_id", "level", "from_id", "to_id"))
    if need:
        return [missing_finding("J-18", need)]
    wanted = ctx.params.rotation.pairing_min_exchanges
    findings: list[Finding] = []
    years = _years(ctx)
    for pairing in records(ctx.tables["pairings"]):
        level = str(pairing["level"])
        source, target = (("from_county", "to_county") if level == "county"
                          else ("from_school", "to_school"))
        if source not in moves.columns or target not in moves.columns:
            findings.append(missing_finding("J-18", [f"rotations.csv: {source}, {target}"]))
            continue
        on_arc = moves[moves[source].eq(str(pairing["from_id"]))
                       & moves[target].eq(str(pairing["to_id"]))]
        per_year = on_arc.groupby("year")["count"].sum().to_dict()
        pid = str(pairing["pairing_id"])
        for year in years:
            actual = int(per_year.get(year, 0))
            status, why = _status(ctx, "J-18", actual >= wanted, [pid], year)
            findings.append(Finding(
                "J-18", (("pairing", pid), ("year", year)), ">=", wanted, actual, status,
                "J-18.ok" if actual >= wanted else "J-18.short",
                {"moves": actual, "wanted": wanted, "source": pairing["from_id"],
                 "target": pairing["to_id"], "why": why}))
    if not findings:
        findings.append(not_applicable("J-18", "J-18.none"))
    return findings


@check("J-27", kind=Kind.HARD, family="staffing", tables=("rotations", "staffing"))
def sender_floor(ctx: AuditContext) -> list[Finding]:
    """A sending school keeps its staffing floor (J-27).

    A sender keeps its posts: for every school and year in which it sends teachers,
    ``teachers_after[s,t] >= posts_required[s,t]`` (teachers present that year).
    """
    moves = _moves(ctx)
    if moves is None or ctx.table("staffing") is None:
        return [not_applicable("J-27", "no_rotation")]
    need = ctx.missing("staffing", ("school", "year", "posts_required", "teachers_after"))
    if need:
        return [missing_finding("J-27", need)]
    sent = moves.groupby(["from_school", "year"])["count"].sum().to_dict()
    findings: list[Finding] = []
    for row in records(ctx.tables["staffing"]):
        school, year = str(row["school"]), int(row["year"])
        if (school, year) not in sent or str(row.get("stage", "")) == "research":
            continue
        posts, present = float(row["posts_required"]), float(row["teachers_after"])
        ok = holds(present, ">=", posts)
        status, why = _status(ctx, "J-27", ok, [school], year)
        findings.append(Finding(
            "J-27", (("school", school), ("year", year)), ">=", posts, present, status,
            "J-27.ok" if ok else "J-27.short",
            {"sent": int(sent[(school, year)]), "present": int(present),
             "posts": int(posts), "why": why}))
    if not findings:
        findings.append(not_applicable("J-27", "J-27.no_sender"))
    return findings


def _county_posts(ctx: AuditContext, rule_id: str) -> list[Finding]:
    """Teachers holding posts per county within its approved total (D-21, Z-10).

    ``Σ_{s in county} teachers_home[s,t] <= max(posts[c,t], Σ_s teachers_before[s])``
    (a county already above its total is not forced to shed teachers); approved totals
    from a ``county_posts`` table (``county, year, posts``).
    """
    if ctx.table("staffing") is None:
        return [not_applicable(rule_id, "no_rotation")]
    need = (ctx.missing("county_posts", ("county", "year", "posts"))
            + ctx.missing("staffing", ("county", "year", "teachers_home", "teachers_before")))
    if need:
        return [missing_finding(rule_id, need)]
    staffing = ctx.tables["staffing"]
    if "stage" in staffing.columns:
        staffing = staffing[~staffing["stage"].astype(str).eq("research")]
    home = sum_by(staffing, ["county", "year"], "teachers_home")
    first = min(int(y) for y in staffing["year"])
    start = sum_by(staffing[staffing["year"].eq(first)], ["county"], "teachers_before")
    findings: list[Finding] = []
    for row in records(ctx.tables["county_posts"]):
        county, year = str(row["county"]), int(row["year"])
        approved = float(row["posts"])
        cap = max(approved, start.get((county,), 0.0))
        actual = home.get((county, year), 0.0)
        ok = holds(actual, "<=", cap)
        status, why = _status(ctx, rule_id, ok, [county], year)
        findings.append(Finding(
            rule_id, (("county", county), ("year", year)), "<=", cap, actual, status,
            "posts.ok" if ok else "posts.over",
            {"teachers": int(actual), "approved": int(approved), "cap": int(cap), "why": why}))
    return findings


@check("D-21", kind=Kind.HARD, family="staffing", tables=("staffing", "county_posts"))
def county_posts(ctx: AuditContext) -> list[Finding]:
    """County posts within the approved total (D-21); see :func:`_county_posts`.

    ``Σ_{s in county} teachers_home[s,t] <= max(posts[c,t], teachers at the start)``.
    """
    return _county_posts(ctx, "D-21")


@check("Z-10", kind=Kind.HARD, family="staffing", tables=("staffing", "county_posts"))
def county_posts_z10(ctx: AuditContext) -> list[Finding]:
    """County posts within the approved total (Z-10, as D-21).

    ``Σ_{s in county} teachers_home[s,t] <= max(posts[c,t], teachers at the start)``.
    """
    return _county_posts(ctx, "Z-10")
