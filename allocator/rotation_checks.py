"""Pre-solve checks of the rotation model that quote numbers.

Cheap, necessary conditions read from the tables and the network before any solve: when
one fails, the hard model is infeasible for a reason a planner can act on, and the
message says which rule, where, and by how much. Passing them does not prove
feasibility (rules interact); the elastic solve names the rules that must give.

Each finding is kept whole as data (:func:`precheck`, :func:`precheck_findings`: one
message per school, pairing and year, e.g. ``D-19: S001 must rotate 8 of 80 eligible
teachers in 2025 but has no open arc ...``). For the log, :func:`summary_lines` folds
the findings of one check and year into one line with a count, totals and the first few
ids; Dafeng with a 3 km rotation limit gives, instead of 105 lines, five such as ``D-19:
21 senders must rotate 157 teachers in 2025 but have no open arc to a rural school
(S001, S002, S003 and 18 more; distance limit 3 km, mode distance, bans)``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from allocator.rotation_input import RotationPolicy
from allocator.rotation_network import Network
from allocator.rotation_prep import RotationTables, share

__all__ = ["Finding", "precheck", "precheck_findings", "summary_lines"]

#: How many ids a folded line names before ``and N more``.
SHOWN_IDS = 3


@dataclass(frozen=True)
class Finding:
    """One pre-check finding.

    Attributes
    ----------
    check
        Which check: ``d19_arc``, ``d19_backbone``, ``j27_d19``, ``j15`` or ``j18``.
    year
        The plan year.
    subject
        The school, research body or pairing id.
    text
        The full message (as :func:`precheck` returns it).
    need
        Teachers asked for: rotators (``d19_arc``, ``j27_d19``), backbone rotators
        (``d19_backbone``), researchers due (``j15``); 0 for ``j18``.
    have
        What is there to meet it: eligible backbone teachers (``d19_backbone``),
        teachers minus posts (``j27_d19``); 0 otherwise.
    detail
        What the whole group shares (the arc settings of ``d19_arc``), else empty.
    """

    check: str
    year: int
    subject: str
    text: str
    need: int = 0
    have: int = 0
    detail: str = ""


def precheck(tables: RotationTables, network: Network, policy: RotationPolicy
             ) -> tuple[str, ...]:
    """Messages for rule conflicts visible without solving (empty when none is found).

    The texts of :func:`precheck_findings`, in the same order.
    """
    return tuple(f.text for f in precheck_findings(tables, network, policy))


def precheck_findings(tables: RotationTables, network: Network, policy: RotationPolicy
                      ) -> tuple[Finding, ...]:
    """Rule conflicts visible without solving, one per school (or pairing) and year.

    Checks, per plan year: D-19 senders with eligible teachers but no open arc toward a
    rural school; D-19 senders whose backbone rotators cannot be found (no
    eligible backbone teacher); senders that nothing can reach whose surplus over their
    posts is below the D-19 requirement (J-27 against D-19); research bodies with
    researchers due and no arc (J-15); pairings without an open arc (J-18). Ordered by
    school then year, pairings last.
    """
    heads: dict[str, int] = defaultdict(int)
    eligible: dict[tuple[str, int], int] = defaultdict(int)
    eligible_bb: dict[tuple[str, int], int] = defaultdict(int)
    due: dict[tuple[str, int], int] = defaultdict(int)
    for c in network.cohorts:
        heads[c.school_id] += c.size
        for year in tables.years:
            if c.researcher and c.can_rotate(year):
                due[(c.school_id, year)] += c.size
            elif not c.researcher and c.eligible(year):
                eligible[(c.school_id, year)] += c.size
                eligible_bb[(c.school_id, year)] += c.size * c.backbone
    open_d19: dict[tuple[str, int], int] = defaultdict(int)
    open_any: dict[tuple[str, int], int] = defaultdict(int)
    open_pairing: dict[tuple[str, int], int] = defaultdict(int)
    reached: set[str] = set()
    for arc in network.arcs:
        reached.add(arc.target)
        for year in tables.years:
            if arc.banned(year):
                continue
            open_any[(arc.source, year)] += 1
            open_d19[(arc.source, year)] += arc.d19
            for pid in arc.pairings:
                open_pairing[(pid, year)] += 1
    found: list[Finding] = []
    rot, bb = share(policy.rotation_min_share), share(policy.backbone_min_share)
    arcs = f"distance limit {policy.max_distance_km:g} km, mode {policy.mode}, bans"
    for school, info in tables.schools.items():
        for year in tables.years:
            e = eligible[(school, year)]
            need = math.ceil(rot * e)
            if info.sender and policy.active("D-19") and need:
                if not open_d19[(school, year)]:
                    found.append(Finding(
                        "d19_arc", year, school,
                        f"D-19: {school} must rotate {need} of {e} eligible teachers in {year} "
                        f"but has no open arc to a rural school ({arcs})",
                        need=need, detail=arcs))
                need_bb, have_bb = math.ceil(bb * need), eligible_bb[(school, year)]
                if need_bb > have_bb:
                    found.append(Finding(
                        "d19_backbone", year, school,
                        f"D-19: {school} needs {need_bb} backbone rotator(s) in {year} but "
                        f"has {have_bb} eligible backbone teachers", need=need_bb, have=have_bb))
                posts = tables.posts[(school, year)]
                surplus = heads[school] - posts
                if (policy.active("J-27") and school not in reached and surplus < need
                        and not policy.allow_hires and not policy.allow_transfers):
                    found.append(Finding(
                        "j27_d19", year, school,
                        f"J-27 against D-19: {school} must rotate {need} in {year} but has "
                        f"{heads[school]} teachers for {posts} posts", need=need,
                        have=surplus))
            if info.research and due[(school, year)] and policy.active("J-15") and not (
                    open_any[(school, year)]):
                found.append(Finding(
                    "j15", year, school,
                    f"J-15: {due[(school, year)]} researcher(s) of {school} are due in {year} "
                    "but no rural or weak school of the county is open to them",
                    need=due[(school, year)]))
    if policy.active("J-18") and policy.pairing_min_exchanges > 0:
        for pid, (level, a, b) in tables.pairings.items():
            for year in tables.years:
                if not open_pairing[(pid, year)]:
                    found.append(Finding(
                        "j18", year, pid,
                        f"J-18: pairing {pid} ({level} {a} -> {b}) has no open arc in {year} "
                        "(stage, bans or no sender / receiver)"))
    return tuple(found)


def _ids(group: Sequence[Finding], shown: int) -> str:
    names = [f.subject for f in group]
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


#: The folded line of each check: ``n`` findings, summed ``need`` and ``have``, ``ids``.
_FOLDED = {
    "d19_arc": "D-19: {n} senders must rotate {need} teachers in {year} but have no open arc "
               "to a rural school ({ids}; {detail})",
    "d19_backbone": "D-19: {n} senders need {need} backbone rotators in {year} but have "
                    "{have} eligible backbone teachers ({ids})",
    "j27_d19": "J-27 against D-19: {n} senders that no arc reaches must rotate {need} "
               "teachers in {year} but have {have} teachers over their posts ({ids})",
    "j15": "J-15: {need} researchers of {n} research bodies are due in {year} but no rural or "
           "weak school of their county is open to them ({ids})",
    "j18": "J-18: {n} pairings have no open arc in {year} ({ids})",
}


def _folded(check: str, year: int, group: Sequence[Finding], shown: int) -> str:
    """One line for several findings of one check and year."""
    return _FOLDED[check].format(n=len(group), need=sum(f.need for f in group),
                                 have=sum(f.have for f in group), year=year,
                                 ids=_ids(group, shown), detail=group[0].detail)


def summary_lines(findings: Sequence[Finding], *, shown: int = SHOWN_IDS) -> tuple[str, ...]:
    """The findings folded for the log: one line per check and year.

    A check and year with one finding keeps its own message; with several, one line
    gives their count, the summed numbers (teachers to rotate, backbone rotators needed
    and eligible, teachers over posts, researchers due) and the first ``shown`` ids
    (``S001, S002, S003 and 18 more``).
    Lines follow the checks in the order of :func:`precheck_findings` (D-19 arcs, D-19
    backbone, J-27, J-15, J-18), years ascending. The whole list stays in the findings
    (``RotationResult.warnings``, the run's rotation notes).

    Parameters
    ----------
    findings
        What :func:`precheck_findings` returned.
    shown
        How many ids a folded line names before ``and N more``.
    """
    order = list(_FOLDED)
    groups: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for f in findings:
        groups[(f.check, f.year)].append(f)
    lines = []
    for check, year in sorted(groups, key=lambda k: (order.index(k[0]), k[1])):
        group = groups[(check, year)]
        lines.append(group[0].text if len(group) == 1 else
                     _folded(check, year, group, shown))
    return tuple(lines)
