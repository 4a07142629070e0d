"""Hard rules of the rotation model, one builder per constraint family, catalogue order.

Every builder reads a :class:`~allocator.rotation_model.RotationModel`, skips itself when
its rule is switched off (``RotationPolicy.rules_off``) and, in the elastic mode, adds one
named slack per rule and scope (see :meth:`RotationModel.slack`), so a result can say which
rule gives and by how much. Shares are exact fractions ``num/den`` (``0.10 = 1/10``) and
rows are written ``den·(lhs + slack) >= num·rhs``: with integer teachers this is
``lhs >= ceil(share · rhs) - slack``, i.e. every "not lower than x %" rounds **up**.

The bans (J-10, G-12) are not rows: banned arcs get no variables
(:func:`allocator.rotation_network.arc_bans`).
"""

from __future__ import annotations

from collections import defaultdict

from allocator.rotation_model import RotationModel, Term
from allocator.rotation_prep import share
from allocator.rules import Kind, rule
from allocator.solvers.names import model_name

__all__ = ["add_rules"]


def _eligible(ctx: RotationModel, school: str, year: int) -> tuple[list[Term], int]:
    """Teachers of ``school`` meeting the eligibility condition at the start of ``year``.

    ``E[s,t] = Σ_{c eligible in t} (|c| - Σ_{τ<t} m[c,transfer,τ])``: teachers with at least
    ``eligibility_years`` at the school (a rotation year counts as a year at the school,
    the teacher keeps the post), less those transferred away earlier in the plan; as
    (terms, constant). Without transfers it is data, so the D-19 row has a constant
    right-hand side.
    """
    terms: list[Term] = []
    constant = 0
    for subject, backbone in ctx.groups_at(school):
        for c in ctx.group_cohorts(school, subject, backbone):
            if not c.eligible(year):
                continue
            constant += c.size
            terms += [(ctx.moves[(c.index, "transfer", t)], -1) for t in ctx.tables.years
                      if t < year and (c.index, "transfer", t) in ctx.moves]
    return terms, constant


@rule("D-19", kind=Kind.HARD, family="flows",
      params=("policy.rotation_min_share", "policy.eligibility_years"))
def rotation_share(ctx: RotationModel) -> None:
    """Urban and high-quality schools rotate >= 10 % of their eligible teachers a year.

    For every sender s (urban or high-quality school) and year t:
    ``den · (Σ_{a ∈ D19(s)} Σ_g f[a,g,t] + slack) >= num · E[s,t]`` with
    ``rotation_min_share = num/den`` and ``E[s,t]`` the teachers of s with at least
    ``eligibility_years`` at the school at the start of t (rotation years count; teachers
    transferred away are not counted); D19(s) are the rotation arcs from s to rural
    schools (到农村学校; rotations to urban weak schools serve D-20 and do not count).
    Rotators are whole teachers, so rotators >= ceil(share · E). A rotation
    lasts one school year; a teacher may rotate again in a later year (the named plan
    sends those who have not rotated yet first).
    """
    if not ctx.policy.active("D-19"):
        return
    q = share(ctx.policy.rotation_min_share)
    for school, info in ctx.tables.schools.items():
        if not info.sender:
            continue
        for year in ctx.tables.years:
            terms, constant = _eligible(ctx, school, year)
            if constant == 0 or q == 0:
                continue
            rot = [(v, q.denominator) for b in (False, True)
                   for v in ctx.d19_out.get((school, b, year), [])]
            slack = [(v, q.denominator) for v, _ in ctx.slack("D-19", "school", school, year,
                                                                constant)]
            rhs = [(v, -q.numerator * k) for v, k in terms]
            ctx.model.add(ctx.expr(rot + slack + rhs, -q.numerator * constant) >= 0)


@rule("D-19", kind=Kind.HARD, family="flows",
      params=("policy.backbone_min_share", "policy.backbone_scope"))
def backbone_rotation_share(ctx: RotationModel) -> None:
    """Backbone teachers are >= 20 % of the rotators of each sender (or county) a year.

    ``den · (Σ_{D19 arcs} f[a,(k,backbone),t] + slack) >= num · Σ_{D19 arcs} f[a,g,t]``
    per sending school (``backbone_scope = "school"``) or over the senders of a county,
    with ``backbone_min_share = num/den``: backbone rotators >= ceil(share · rotators).
    """
    if not ctx.policy.active("D-19"):
        return
    q = share(ctx.policy.backbone_min_share)
    if q == 0:
        return
    scopes: dict[tuple[str, int], tuple[list[Term], list[Term]]] = defaultdict(
        lambda: ([], []))
    county = ctx.policy.backbone_scope == "county"
    for (school, backbone, year), variables in sorted(ctx.d19_out.items()):
        scope = ctx.tables.schools[school].county if county else school
        everyone, backbones = scopes[(scope, year)]
        everyone.extend((v, -q.numerator) for v in variables)
        if backbone:
            backbones.extend((v, q.denominator) for v in variables)
    big = ctx.tables.roster.shape[0] + 1
    for (scope, year), (everyone, backbones) in sorted(scopes.items()):
        slack = [(v, q.denominator) for v, _ in ctx.slack(
            "D-19", "county" if county else "school", f"{scope}:backbone", year, big)]
        ctx.model.add(ctx.expr(backbones + everyone + slack) >= 0)


@rule("J-08", kind=Kind.HARD, family="staffing",
      params=("policy.backbone_school_min", "policy.backbone_levels", "policy.backbone_basis"))
@rule("G-10", kind=Kind.HARD, family="staffing", params=("policy.backbone_school_min",))
def backbone_floor(ctx: RotationModel) -> None:
    """Backbone teachers >= 10 % of the teachers of each school and county, after moves.

    ``den · (B[s,t] + slack) >= num · T[s,t]`` for every school (and with sums over the
    schools of a county), ``backbone_school_min = num/den``, so B >= ceil(share · T).
    ``backbone_basis = "home"``: B, T count the teachers holding a post at the school
    after transfers and hires (a rotating teacher keeps the post); ``"present"``: those
    teaching there in year t, rotations and researchers included. Rows without a decision
    variable are left to the report. Research bodies are not schools.
    """
    if not ctx.policy.active("J-08"):
        return
    q = share(ctx.policy.backbone_school_min)
    if q == 0:
        return
    count = ctx.present if ctx.policy.backbone_basis == "present" else ctx.held
    per_county: dict[tuple[str, int], tuple[list[Term], int]] = defaultdict(lambda: ([], 0))
    big = ctx.tables.roster.shape[0] + 1
    for school, info in ctx.tables.schools.items():
        if info.research:
            continue
        for year in ctx.tables.years:
            all_t, all_c = count(school, year)
            bb_t, bb_c = count(school, year, backbone=True)
            terms = [(v, q.denominator * k) for v, k in bb_t] + [
                (v, -q.numerator * k) for v, k in all_t]
            constant = q.denominator * bb_c - q.numerator * all_c
            key = (info.county, year)
            acc, acc_c = per_county[key]
            per_county[key] = (acc + terms, acc_c + constant)
            if "school" in ctx.policy.backbone_levels and terms:
                slack = [(v, q.denominator) for v, _ in ctx.slack(
                    "J-08", "school", school, year, big)]
                ctx.model.add(ctx.expr(terms + slack, constant) >= 0)
    if "county" in ctx.policy.backbone_levels:
        for (county, year), (terms, constant) in sorted(per_county.items()):
            if terms:
                slack = [(v, q.denominator) for v, _ in ctx.slack(
                    "J-08", "county", county, year, big)]
                ctx.model.add(ctx.expr(terms + slack, constant) >= 0)


@rule("G-11", kind=Kind.HARD, family="flows",
      params=("policy.talent_lock_years", "policy.talent_kind", "policy.exceptions"))
def talent_lock(ctx: RotationModel) -> None:
    """Designated talent stays 5 years in the same kind of region and school.

    A teacher designated in year d is locked in years d … d + talent_lock_years - 1 (G-11
    exceptions lift it). Per school, group, move kind and year, moves to a school of
    another kind (``talent_kind`` columns differ) are made by unlocked teachers only:
    ``Σ_{a changes kind} f[a,g,t] + Σ x (unlocked) <= Σ_{c unlocked in t} m[c,v,t] + slack``.
    Rows only where a locked cohort could move.
    """
    if not ctx.policy.active("G-11"):
        return
    for key in sorted(ctx.out_vars):
        school, subject, backbone, move, year = key
        cohorts = [c for c in ctx.group_cohorts(school, subject, backbone)
                   if (c.index, move, year) in ctx.moves]
        if not any(year in c.locked for c in cohorts):
            continue
        changing = [(v, 1) for v in ctx.changing.get(key, [])]
        unlocked = [(ctx.moves[(c.index, move, year)], -1) for c in cohorts
                    if year not in c.locked]
        slack = [(v, -1) for v, _ in ctx.slack("G-11", "school", f"{school}:{subject}", year,
                                                ctx.tables.roster.shape[0] + 1)]
        ctx.model.add(ctx.expr(changing + unlocked + slack) <= 0)


@rule("J-15", kind=Kind.HARD, family="flows", params=("policy.researcher_years",))
def researcher_duty(ctx: RotationModel) -> None:
    """Researchers with 5 years in post teach a year in a school.

    A researcher rotates to a school in the year they complete ``researcher_years`` in
    post (those already past it at the start go in the first plan year). Per research body
    r and year t: ``Σ_g out[r,g,rotation,t] + slack >= D[r,t]``, the researchers due in t;
    only they can rotate that year, so this is every one of them.
    """
    if not ctx.policy.active("J-15"):
        return
    due: dict[tuple[str, int], int] = defaultdict(int)
    for c in ctx.network.cohorts:
        if c.researcher and c.eligible_from in ctx.tables.years:
            due[(c.school_id, int(c.eligible_from or 0))] += c.size
    for (school, year), size in sorted(due.items()):
        terms = [(v, 1) for key, v in ctx.out_total.items()
                 if key[0] == school and key[3] == "rotation" and key[4] == year]
        slack = ctx.slack("J-15", "research", school, year, size)
        ctx.model.add(ctx.expr(terms + slack) >= size)


@rule("J-18", kind=Kind.TARGET, family="flows", params=("policy.pairing_min_exchanges",))
def pairing_exchanges(ctx: RotationModel) -> None:
    """Each pairing arc carries at least one exchange a year (east -> west under J-10).

    ``Σ_{a serves p} Σ_g f[a,g,t] + slack >= pairing_min_exchanges`` per pairing p, year t.
    """
    k = ctx.policy.pairing_min_exchanges
    if not ctx.policy.active("J-18") or k <= 0:
        return
    for pid in ctx.tables.pairings:
        for year in ctx.tables.years:
            terms = [(v, 1) for v in ctx.pairing_vars.get((pid, year), [])]
            slack = ctx.slack("J-18", "pairing", pid, year, k)
            ctx.model.add(ctx.expr(terms + slack) >= k)


@rule("J-27", kind=Kind.HARD, family="staffing", params=("policy.staffing_ratios",))
def sender_floor(ctx: RotationModel) -> None:
    """A sender never drops below its own staffing floor.

    If school s sends anyone in year t, ``present[s,t] + slack >= posts[s,t]``. Where only
    rotations change its staff (no transfers, no hires) and ``N0[s] >= posts[s,t]`` this is
    exactly the linear row ``out[s,t] - in[s,t] <= N0[s] - posts[s,t] + slack`` (a school
    at or above its floor may lend out only what it has above it, plus what it receives).
    Otherwise a literal ``sends[s,t]`` with ``out <= U·sends`` enforces the floor row.
    """
    if not ctx.policy.active("J-27"):
        return
    hired = {s for s, _, _ in ctx.hires}
    for school, info in ctx.tables.schools.items():
        if info.research:
            continue
        simple = school not in hired and school not in ctx.transfer_schools
        for year in ctx.tables.years:
            out = ctx.outflow(school, year)
            if not out:
                continue
            posts = ctx.tables.posts[(school, year)]
            terms, constant = ctx.present(school, year)
            slack = ctx.slack("J-27", "school", school, year, posts)
            if simple and constant >= posts:
                ctx.model.add(ctx.expr(terms + slack, constant) >= posts)
                continue
            sends = ctx.model.new_bool_var(model_name("sends", *ctx.tok(school, year)))
            ctx.model.add(ctx.expr(out) <= ctx.headcount[school] * sends)
            ctx.model.add(ctx.expr(terms + slack, constant) >= posts).only_enforce_if(sends)


@rule("D-21", kind=Kind.HARD, family="staffing", params=("county_posts",))
@rule("Z-10", kind=Kind.HARD, family="staffing", params=("county_posts",))
def county_posts_cap(ctx: RotationModel) -> None:
    """Hires keep each county within its approved post total.

    ``Σ_{s in county} home[s,t] <= max(PostsTotal[c,t], N0[c]) + slack`` (home posts after
    transfers and hires; a county already above its total is not forced to shed
    teachers). Only when hires are allowed: rotations and in-county transfers leave the
    total unchanged.
    """
    if not ctx.policy.active("D-21") or not ctx.hires:
        return
    heads: dict[str, int] = defaultdict(int)
    for (s, _, _), n in ctx.n0.items():
        if not ctx.tables.schools[s].research:
            heads[ctx.tables.schools[s].county] += n
    for (county, year), approved in sorted(ctx.tables.county_posts.items()):
        terms: list[Term] = []
        for school, info in ctx.tables.schools.items():
            if info.county == county and not info.research:
                terms += ctx.held(school, year)[0]
        cap = max(approved, heads[county])
        slack = [(v, -1) for v, _ in ctx.slack("D-21", "county", county, year, len(terms) + 1)]
        ctx.model.add(ctx.expr(terms + slack) <= cap - heads[county])


def add_rules(ctx: RotationModel) -> None:
    """Add every hard rule, in catalogue order of the families."""
    rotation_share(ctx)
    backbone_rotation_share(ctx)
    backbone_floor(ctx)
    talent_lock(ctx)
    researcher_duty(ctx)
    pairing_exchanges(ctx)
    sender_floor(ctx)
    county_posts_cap(ctx)
