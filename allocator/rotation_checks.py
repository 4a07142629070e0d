"""Pre-solve checks of the rotation model that quote numbers.

Cheap, necessary conditions read from the tables and the network before any solve: when
one fails, the hard model is infeasible for a reason a planner can act on, and the
message says which rule, where, and by how much. Passing them does not prove
feasibility (rules interact); the elastic solve names the rules that must give.
"""

from __future__ import annotations

import math
from collections import defaultdict

from allocator.rotation_input import RotationPolicy
from allocator.rotation_network import Network
from allocator.rotation_prep import RotationTables, share

__all__ = ["precheck"]


def precheck(tables: RotationTables, network: Network, policy: RotationPolicy
             ) -> tuple[str, ...]:
    """Messages for rule conflicts visible without solving (empty when none is found).

    Checks, per plan year: D-19 senders with eligible teachers but no open arc toward a
    rural or weak school; D-19 senders whose backbone rotators cannot be found (no
    eligible backbone teacher); senders that nothing can reach whose surplus over their
    posts is below the D-19 requirement (J-27 against D-19); research bodies with
    researchers due and no arc (J-15); pairings without an open arc (J-18).
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
    messages: list[str] = []
    rot, bb = share(policy.rotation_min_share), share(policy.backbone_min_share)
    for school, info in tables.schools.items():
        for year in tables.years:
            e = eligible[(school, year)]
            need = math.ceil(rot * e)
            if info.sender and policy.active("D-19") and need:
                if not open_d19[(school, year)]:
                    messages.append(
                        f"D-19: {school} must rotate {need} of {e} eligible teachers in {year} "
                        f"but has no open arc to a rural or weak school (distance limit "
                        f"{policy.max_distance_km:g} km, mode {policy.mode}, bans)")
                if math.ceil(bb * need) > eligible_bb[(school, year)]:
                    messages.append(
                        f"D-19: {school} needs {math.ceil(bb * need)} backbone rotator(s) in "
                        f"{year} but has {eligible_bb[(school, year)]} eligible backbone "
                        "teachers")
                surplus = heads[school] - tables.posts[(school, year)]
                if (policy.active("J-27") and school not in reached and surplus < need
                        and not policy.allow_hires and not policy.allow_transfers):
                    messages.append(
                        f"J-27 against D-19: {school} must rotate {need} in {year} but has "
                        f"{heads[school]} teachers for {tables.posts[(school, year)]} posts")
            if info.research and due[(school, year)] and policy.active("J-15") and not (
                    open_any[(school, year)]):
                messages.append(
                    f"J-15: {due[(school, year)]} researcher(s) of {school} are due in {year} "
                    "but no rural or weak school of the county is open to them")
    if policy.active("J-18") and policy.pairing_min_exchanges > 0:
        for pid, (level, a, b) in tables.pairings.items():
            for year in tables.years:
                if not open_pairing[(pid, year)]:
                    messages.append(f"J-18: pairing {pid} ({level} {a} -> {b}) has no open "
                                    f"arc in {year} (stage, bans or no sender / receiver)")
    return tuple(messages)
