"""The directed move network of the rotation model: arcs and teacher cohorts.

An *arc* is a school pair a teacher may move along: a one-year ``rotation`` (the teacher
keeps the home post and returns) or a permanent ``transfer``. Arcs exist only where a move
is allowed (policy-rules.md §6: one directed network, bans on some arcs, minimum flows on
others); the model creates flow variables on arcs only, so banned arcs never get variables
unless an exception lifts the ban or the elastic mode prices it.

A *cohort* is a set of teachers at one school whom the rules cannot tell apart: same
subject, backbone flag, first eligible year and talent-lock years; a teacher named in an
exception is a cohort of one. The model decides how many of a cohort move each year; the
disaggregation then picks named teachers within a cohort (longest-serving first).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from allocator.errors import Problem, raise_if_any
from allocator.rotation_input import RotationException, RotationPolicy
from allocator.rotation_prep import RotationTables, SchoolInfo
from allocator.rules import Kind, rule

__all__ = ["Arc", "Cohort", "Move", "Network", "build_network"]

logger = logging.getLogger(__name__)

Move = Literal["rotation", "transfer"]


@dataclass(frozen=True)
class Arc:
    """One allowed (or, elastic / excepted, banned) move between two schools.

    Attributes
    ----------
    index
        Position in ``Network.arcs``.
    move
        ``rotation`` or ``transfer``.
    source, target
        School ids.
    distance_km
        Distance (km), NaN if unknown (counted as 0 in the travel term).
    d19
        Counts toward D-19: a rotation from a sender (urban or high-quality) to a rural
        school (到农村学校; rotations to urban weak schools serve D-20, not D-19).
    pairings
        J-17 pairing ids the arc serves.
    bans
        Rules whose ban covers the arc (``J-10``, ``G-12``), before exceptions.
    changes_kind
        Source and target differ in the G-11 "kind" (before exceptions).
    lifted
        ``year -> rules`` lifted on this arc by school-pair exceptions.
    exceptions
        Indexes (in ``RotationPolicy.exceptions``) of the school-pair exceptions on it.
    """

    index: int
    move: Move
    source: str
    target: str
    distance_km: float
    d19: bool
    pairings: tuple[str, ...]
    bans: tuple[str, ...]
    changes_kind: bool
    lifted: dict[int, frozenset[str]] = field(default_factory=dict)
    exceptions: tuple[int, ...] = ()

    def banned(self, year: int) -> tuple[str, ...]:
        """Bans in force on this arc in ``year`` after school-pair exceptions."""
        lifted = self.lifted.get(year, frozenset())
        return tuple(b for b in self.bans if b not in lifted)

    def kind_change(self, year: int) -> bool:
        """Whether the G-11 lock applies to moves on this arc in ``year``."""
        return self.changes_kind and "G-11" not in self.lifted.get(year, frozenset())

    @property
    def km(self) -> float:
        """Distance for the travel term (0 when unknown)."""
        return 0.0 if math.isnan(self.distance_km) else self.distance_km


@dataclass(frozen=True)
class Cohort:
    """Teachers of one school the rules treat alike.

    Attributes
    ----------
    index
        Position in ``Network.cohorts``.
    school_id, subject, backbone
        Group.
    eligible_from
        First plan year of eligibility (D-19) or J-15 duty, ``None`` if none.
    locked
        Plan years in which the G-11 lock holds (after teacher exceptions).
    researcher
        Members are researchers (at a research body).
    exception_teacher
        The teacher of a one-member cohort named in an exception, else ``None``.
    members
        Teacher ids, longest-serving first, ties by id.
    """

    index: int
    school_id: str
    subject: str
    backbone: bool
    eligible_from: int | None
    locked: frozenset[int]
    researcher: bool
    exception_teacher: str | None
    members: tuple[str, ...]

    @property
    def size(self) -> int:
        """Number of teachers."""
        return len(self.members)

    def eligible(self, year: int) -> bool:
        """Whether members are eligible in ``year`` (D-19; researchers: due under J-15)."""
        return self.eligible_from is not None and year >= self.eligible_from

    def can_rotate(self, year: int) -> bool:
        """Whether members may rotate in ``year``.

        Teachers: every year from their first eligible year (a rotation lasts a year and
        the teacher comes back). Researchers: once, in the year they complete
        ``researcher_years`` in post (J-15: "after 5 years in post"; those already past it
        at the start of the plan go in the first plan year).
        """
        if self.researcher:
            return self.eligible_from is not None and year == self.eligible_from
        return self.eligible(year)


@dataclass(frozen=True, eq=False)
class Network:
    """Arcs, cohorts and exception arcs of one run.

    Attributes
    ----------
    arcs
        Every arc, sorted by (move, source, target).
    cohorts
        Every cohort, sorted by (school, subject, backbone, eligibility, lock, teacher).
    teacher_arcs
        ``(teacher_id, arc index) -> years``: banned arcs a named teacher may use under an
        exception (J-10, G-12).
    teacher_exceptions
        ``teacher_id -> exception indexes`` naming the teacher.
    raw_locked
        ``teacher_id -> plan years`` of the G-11 lock before exceptions (locked teachers
        only).
    """

    arcs: tuple[Arc, ...]
    cohorts: tuple[Cohort, ...]
    teacher_arcs: dict[tuple[str, int], tuple[int, ...]]
    teacher_exceptions: dict[str, tuple[int, ...]]
    raw_locked: dict[str, frozenset[int]]


@rule("J-10", kind=Kind.HARD, family="flows", params=("policy.banned_region_pairs",
                                                      "policy.exceptions"))
@rule("G-12", kind=Kind.HARD, family="flows", params=("policy.exceptions",))
def arc_bans(source: SchoolInfo, target: SchoolInfo, policy: RotationPolicy) -> tuple[str, ...]:
    """Directed bans on a move ``source -> target`` (teachers, principals, researchers).

    J-10: no move from a region to a region when ``(region[source], region[target])`` is in
    ``banned_region_pairs`` (default west -> east). G-12: no move from a county (non-centre)
    school or research body to a central-city one (``not centre[source] and
    centre[target]``). Banned arcs get no variables: ``x[i->j] = 0``, unless a listed
    exception lifts the ban (reported) or the elastic mode prices each move on them.
    """
    bans: list[str] = []
    if policy.active("J-10") and (source.region, target.region) in policy.banned_region_pairs:
        bans.append("J-10")
    if policy.active("G-12") and not source.centre and target.centre:
        bans.append("G-12")
    return tuple(bans)


def _stage_ok(a: SchoolInfo, b: SchoolInfo, policy: RotationPolicy) -> bool:
    """Target is a school, and of the same stage when the policy asks for it."""
    return not b.research and (a.research or not policy.same_stage or a.stage == b.stage)


def _nearest(tables: RotationTables, source: SchoolInfo, targets: list[SchoolInfo],
             policy: RotationPolicy, *, limit_km: float | None = None) -> list[str]:
    """Targets of ``source`` (stage-compatible, not itself) nearest first.

    Within ``limit_km`` if given (unknown distances then excluded), and only the first
    ``policy.nearest_receivers`` if set; ties and unknown distances by id. Targets a ban
    closes (J-10, G-12; :func:`arc_bans`) come after every open one, so a banned
    neighbour never takes the place of an open receiver further away; a school-pair
    exception for the ban counts the pair as open.
    """
    lifted = {(e.from_school, e.to_school) for e in policy.exceptions
              if e.teacher_id is None and set(e.rules) & {"J-10", "G-12"}}
    near = []
    for t in targets:
        if t.school_id == source.school_id or not _stage_ok(source, t, policy):
            continue
        km = tables.distance_km(source.school_id, t.school_id)
        if limit_km is not None and not km <= limit_km:
            continue
        closed = bool(arc_bans(source, t, policy)) and (
            (source.school_id, t.school_id) not in lifted)
        near.append((closed, math.inf if math.isnan(km) else km, t.school_id))
    near.sort()
    if policy.nearest_receivers is not None:
        near = near[:policy.nearest_receivers]
    return [t for _, _, t in near]


@rule("J-17", kind=Kind.STRUCT, family="flows", params=("pairings", "policy.nearest_receivers"))
def pairing_arcs(tables: RotationTables, policy: RotationPolicy
                 ) -> dict[tuple[str, str], set[str]]:
    """Rotation pairs served by the pairing (结对帮扶) graph, directed supporter -> supported.

    A ``school`` pairing ``a -> b`` is the arc itself. A ``county`` pairing ``A -> B``
    covers every sender (urban or high-quality school) and research body of A to every
    receiver (rural or weak school) of B of the same stage (research bodies: any stage);
    with ``nearest_receivers`` only that many nearest receivers per source.
    """
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    schools = tables.schools
    for pid, (level, a, b) in tables.pairings.items():
        if level == "school":
            if not schools[b].research and a != b:
                out[(a, b)].add(pid)
            continue
        sources = [s for s in schools.values() if s.county == a and (s.sender or s.research)]
        targets = [t for t in schools.values() if t.county == b and t.receiver]
        for s in sources:
            for t in _nearest(tables, s, targets, policy):
                out[(s.school_id, t)].add(pid)
    return out


@rule("N-16", kind=Kind.STRUCT, family="flows", params=("policy.mode", "policy.max_distance_km",
                                                        "policy.nearest_receivers"))
def rotation_pairs(tables: RotationTables, policy: RotationPolicy,
                   paired: dict[tuple[str, str], set[str]]) -> list[tuple[str, str]]:
    """School pairs a one-year rotation may use, toward rural and weak schools.

    Distance mode: sender (urban or high-quality) -> receiver (rural or weak) of the same
    stage within ``max_distance_km``, plus pairing arcs. Pairing mode: pairing arcs only.
    Both modes: research body -> any rural or weak school of its county (J-15 duty).
    With ``nearest_receivers``, only that many nearest receivers per sender or body.
    """
    schools = tables.schools
    receivers = [t for t in schools.values() if t.receiver]
    pairs: set[tuple[str, str]] = set(paired)
    for s in schools.values():
        if s.research:
            county = [t for t in receivers if t.county == s.county]
            pairs.update((s.school_id, t) for t in _nearest(tables, s, county, policy))
        elif s.sender and policy.mode == "distance":
            near = _nearest(tables, s, receivers, policy, limit_km=policy.max_distance_km)
            pairs.update((s.school_id, t) for t in near)
    return sorted(pairs)


@rule("J-29", kind=Kind.STRUCT, family="flows", params=("policy.allow_transfers",))
def transfer_pairs(tables: RotationTables, policy: RotationPolicy) -> list[tuple[str, str]]:
    """Permanent transfers inside a county pool (县管校聘), from surplus to deficit schools.

    A pair ``i -> j`` (same county, same stage) exists when ``teachers[i] > min_t posts[i,t]``
    and ``teachers[j] < max_t posts[j,t]`` (headcount at the start of the plan).
    """
    if not policy.allow_transfers:
        return []
    head = tables.roster.groupby("school_id").size().to_dict()
    by_school: dict[str, list[int]] = defaultdict(list)
    for (s, _), p in tables.posts.items():
        by_school[s].append(p)
    surplus = [s for s, p in by_school.items() if head.get(s, 0) > min(p)]
    deficit = [s for s, p in by_school.items() if head.get(s, 0) < max(p)]
    schools = tables.schools
    return sorted((a, b) for a in surplus for b in deficit if a != b
                  and schools[a].county == schools[b].county
                  and _stage_ok(schools[a], schools[b], policy))


def _school_exceptions(arcs: list[Arc], policy: RotationPolicy, years: tuple[int, ...]
                       ) -> list[Arc]:
    """Record school-pair exceptions on their arcs."""
    lifts: dict[tuple[str, str], dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    owners: dict[tuple[str, str], list[int]] = defaultdict(list)
    for k, exc in enumerate(policy.exceptions):
        if exc.teacher_id is not None:
            continue
        assert exc.from_school is not None and exc.to_school is not None
        pair = (exc.from_school, exc.to_school)
        owners[pair].append(k)
        for year in years:
            if exc.holds_in(year):
                lifts[pair][year].update(exc.rules)
    out = []
    used = set()
    for arc in arcs:
        pair = (arc.source, arc.target)
        if pair in owners:
            used.add(pair)
            lifted = {y: frozenset(r) for y, r in lifts[pair].items()}
            arc = Arc(arc.index, arc.move, arc.source, arc.target, arc.distance_km, arc.d19,
                      arc.pairings, arc.bans, arc.changes_kind, lifted, tuple(owners[pair]))
        out.append(arc)
    for pair in sorted(set(owners) - used):
        logger.warning("exception for %s -> %s matches no allowed arc; it has no effect", *pair)
    return out


def _arcs(tables: RotationTables, policy: RotationPolicy) -> list[Arc]:
    """Every rotation and transfer arc with its attributes."""
    paired = pairing_arcs(tables, policy)
    schools = tables.schools
    g11 = policy.active("G-11")
    arcs: list[Arc] = []
    moves: tuple[tuple[Move, list[tuple[str, str]]], ...] = (
        ("rotation", rotation_pairs(tables, policy, paired)),
        ("transfer", transfer_pairs(tables, policy)))
    for move, pairs in moves:
        for a, b in pairs:
            s, t = schools[a], schools[b]
            arcs.append(Arc(
                index=len(arcs), move=move, source=a, target=b,
                distance_km=tables.distance_km(a, b),
                d19=move == "rotation" and s.sender and t.rural,
                pairings=tuple(sorted(paired.get((a, b), set()))) if move == "rotation" else (),
                bans=arc_bans(s, t, policy), changes_kind=g11 and s.kind != t.kind))
    return _school_exceptions(arcs, policy, tables.years)


def _lock_bounds(roster: pd.DataFrame, policy: RotationPolicy, years: tuple[int, ...]
                 ) -> tuple[pd.Series, pd.Series]:
    """First and last plan year of each teacher's G-11 lock (``<NA>`` if none)."""
    talent = roster["talent_year"]
    if not policy.active("G-11") or talent.isna().all():
        empty = pd.Series(pd.NA, index=roster.index, dtype="Int64")
        return empty, empty.copy()
    lo = talent.clip(lower=years[0])
    hi = (talent + policy.talent_lock_years - 1).clip(upper=years[-1])
    none = talent.isna() | (lo > hi) | (policy.talent_lock_years == 0)
    return lo.mask(none), hi.mask(none)


def _teacher_exceptions(tables: RotationTables, policy: RotationPolicy,
                        problems: list[Problem]) -> dict[str, tuple[int, ...]]:
    """Exceptions naming a teacher, checked against the roster."""
    out: dict[str, list[int]] = defaultdict(list)
    school_of = dict(zip(tables.roster["teacher_id"], tables.roster["school_id"], strict=True))
    for k, exc in enumerate(policy.exceptions):
        if exc.teacher_id is None:
            continue
        if not tables.named or exc.teacher_id not in school_of:
            problems.append(Problem("policy", f"exceptions[{k}]",
                                    "names a teacher not in the roster", exc.teacher_id))
        elif exc.from_school is not None and exc.from_school != school_of[exc.teacher_id]:
            problems.append(Problem("policy", f"exceptions[{k}]",
                                    "from_school is not the teacher's school", exc.from_school))
        else:
            out[exc.teacher_id].append(k)
    return {t: tuple(ks) for t, ks in sorted(out.items())}


def _cohorts(tables: RotationTables, policy: RotationPolicy,
             named: dict[str, tuple[int, ...]]) -> tuple[tuple[Cohort, ...],
                                                         dict[str, frozenset[int]]]:
    """Group the roster into cohorts; lift G-11 for teachers whose exception says so."""
    roster = tables.roster
    years = tables.years
    lo, hi = _lock_bounds(roster, policy, years)
    raw_locked: dict[str, frozenset[int]] = {}
    for t, a, b in zip(roster["teacher_id"], lo, hi, strict=True):
        if not pd.isna(a):
            raw_locked[t] = frozenset(y for y in years if int(a) <= y <= int(b))
    key = pd.DataFrame({
        "school_id": roster["school_id"], "subject": roster["subject"],
        "backbone": roster["backbone"], "eligible_from": roster["eligible_from"],
        "lo": lo, "hi": hi,
        "teacher": roster["teacher_id"].where(roster["teacher_id"].isin(named), ""),
    })
    cohorts: list[Cohort] = []
    columns = list(key.columns)
    # One group number per row (numbered in the groupby's sorted order) and numpy takes
    # per cohort instead of a pandas .loc each: members in index-label order, as before.
    codes = key.groupby(columns, sort=True, dropna=False).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(int(codes.max(initial=-1)) + 2))
    ids = roster["teacher_id"].to_numpy()
    labels = roster.index.to_numpy()
    values_of = [key[c].to_numpy(dtype=object) for c in columns]
    for n in range(len(bounds) - 1):
        pos = order[bounds[n]:bounds[n + 1]]
        s, g, b, e, _, _, teacher = (v[pos[0]] for v in values_of)
        members = tuple(str(t) for t in ids[pos[np.argsort(labels[pos], kind="stable")]])
        locked = raw_locked.get(members[0], frozenset())
        if teacher:
            lifted = {y for k in named[teacher] for y in years
                      if "G-11" in policy.exceptions[k].rules and policy.exceptions[k].holds_in(y)}
            locked = locked - lifted
        cohorts.append(Cohort(
            index=len(cohorts), school_id=s, subject=g, backbone=bool(b),
            eligible_from=None if pd.isna(e) else int(e), locked=frozenset(locked),
            researcher=tables.schools[s].research, exception_teacher=teacher or None,
            members=members))
    return tuple(cohorts), raw_locked


def _teacher_arcs(arcs: list[Arc], tables: RotationTables, policy: RotationPolicy,
                  named: dict[str, tuple[int, ...]]) -> dict[tuple[str, int], tuple[int, ...]]:
    """Banned arcs a named teacher may use in the years their exception holds."""
    school_of = dict(zip(tables.roster["teacher_id"], tables.roster["school_id"], strict=True))
    by_source: dict[str, list[Arc]] = defaultdict(list)
    for arc in arcs:
        if arc.bans:
            by_source[arc.source].append(arc)
    out: dict[tuple[str, int], set[int]] = defaultdict(set)
    for teacher, ks in named.items():
        for k in ks:
            exc: RotationException = policy.exceptions[k]
            for arc in by_source[school_of[teacher]]:
                if exc.to_school is not None and arc.target != exc.to_school:
                    continue
                for year in tables.years:
                    banned = set(arc.banned(year))
                    if banned and exc.holds_in(year) and banned <= set(exc.rules):
                        out[(teacher, arc.index)].add(year)
    return {key: tuple(sorted(ys)) for key, ys in sorted(out.items())}


def build_network(tables: RotationTables, policy: RotationPolicy) -> Network:
    """Arcs, cohorts and exception arcs of a run.

    Raises
    ------
    InputError
        If an exception names a teacher who is not in the roster.
    """
    problems: list[Problem] = []
    named = _teacher_exceptions(tables, policy, problems)
    raise_if_any(problems)
    arcs = _arcs(tables, policy)
    cohorts, raw_locked = _cohorts(tables, policy, named)
    teacher_arcs = _teacher_arcs(arcs, tables, policy, named)
    logger.info("rotation network: %d arcs (%d rotation), %d cohorts, %d exception arcs",
                len(arcs), sum(a.move == "rotation" for a in arcs), len(cohorts),
                len(teacher_arcs))
    return Network(tuple(arcs), cohorts, teacher_arcs, named, raw_locked)
