"""Multi-period, multi-stage school siting (the contract is :mod:`allocator.plan.data`).

Which candidate sites to open with which size option in which period, which existing
schools to expand by class modules (or close), and how many children of each zone, stage
and year go to which school.

Sets and data (from the frames of :class:`~allocator.plan.data.PlanInput`)::

    t ∈ T  period years t1 < t2 < ...      g ∈ G  stages (primary, junior, ...)
    z ∈ Z  demand zones                    s ∈ S  existing schools
    c ∈ C  candidate sites, k ∈ K(c) size options (a nine-year option serves two stages)
    P      feasible (z, s, g) pairs (within the travel limit, D-07), s ∈ S ∪ C
    d[z,g,t] children, mig[z,g,t] migrant children (persons)
    cap[g,t] pupils per class (D-13), non-increasing in t (Z-18)
    classes[s,g], classes[k,g] (classes); cost[k], module_cost[s,g] (CNY)
    mc[s,g] classes per module; max_classes[s]; dist[z,s,g] (metres)

Variables (sparse: assignments only for pairs in P with d > 0)::

    open[c,k,t] ∈ {0,1}   option k of site c is finished in period t (irreversible)
    m[s,g,t] ∈ Z+         modules added to stage g of school s in period t
    e[s,t] ∈ {0,1}        school s adds modules in t (only where N-02 counts projects)
    q[s,t] ∈ {0,1}        school s closes in t (closable schools with allow_closures;
                          fixed to 1 for a decided closure_year)
    x[z,s,g,t] ∈ [0,d]    children assigned (persons)
    u[z,g,t] ∈ [0,d]      unmet children (persons), a named slack
    v ∈ [0,1]             largest unmet share (equity term only)
    σ ≥ 0                 elastic slack of a budget, project or target row (elastic mode)

Constraint families, one function each, in build order (:func:`solve.build_plan_model`)::

    demand          Σ_s x[z,s,g,t] + u[z,g,t] = d[z,g,t]
    one option      Σ_{k,t} open[c,k,t] <= 1
    D-13 sites      Σ_z x[z,c,g,t] <= cap[g,t] · Σ_{k∋g} Σ_{t'<=t} classes[k,g]·open[c,k,t']
    link            x[z,c,g,t] <= d[z,g,t] · Σ_{k∋g} Σ_{t'<=t} open[c,k,t']
    D-13 existing   Σ_z x[z,s,g,t] <= cap[g,t] · (classes[s,g] + mc[s,g]·Σ_{t'<=t} m[s,g,t'])
    closed          Σ_z x[z,s,g,t] <= M · (1 - Σ_{t'<=t} q[s,t'])
    D-14 size       Σ_g (classes[s,g] + mc[s,g]·Σ_t m[s,g,t]) <= max_classes[s]
    N-05 size       classes[s,g] + mc[s,g]·Σ_t m[s,g,t] <= max_classes_by_stage[g]
                    (and options with classes[k,g] above it get no variable)
    expansion       m[s,g,t] <= ub[s,g]·e[s,t];  e[s,t] <= Σ_g m[s,g,t]
    one closure     Σ_t q[s,t] <= 1
    D-10            q[s,t] + Σ_k open[c,k,t] <= 1        (s, c) in one catchment
    J-20            no variable for private options of public-only stages, no modules
                    for those stages of private schools
    D-23            Σ_{s private} x[z,s,g,t] <= d[z,g,t] - mig[z,g,t]   g public-only
    N-01            spend[t] <= budget[t]  (carry-over: Σ_{t'<=t} spend <= Σ_{t'<=t} budget);
                    Σ_t spend[t] <= budget_total;
                    spend[t] = Σ cost[k]·open[c,k,t] + Σ module_cost[s,g]·m[s,g,t]
    N-02            Σ_{c,k} open[c,k,t] + Σ_s e[s,t]  (= | >= | <=)  projects[t]
    J-04/G-03/N-03  Σ_{g∈G'} cap[g,Y]·(Σ_{public k∋g, t<=Y} classes[k,g]·open[c,k,t]
                    + Σ_{public s, t<=Y} mc[s,g]·m[s,g,t]) >= min_seats
    N-12            Σ_{z, s public} x[z,s,g,Y] >= min_share · Σ_{z reaching g} d[z,g,Y]
    D-06            Σ_{c,k∋g} Σ_{t<=Y} open[c,k,t]  (= | >= | <=)  count
    equity          u[z,g,t] <= d[z,g,t] · v

Elastic mode (``rules.elastic``): the rows that state a bureau's numbers, N-01, N-02,
J-04/G-03/N-03, N-12 and D-06, get slack ``σ`` on the side that can fail (``<=`` rows
``lhs - σ <= rhs``, ``>=`` rows ``lhs + σ >= rhs``, ``=`` rows both), named
``elastic__<rule>__<scope>`` (``elastic__J_04__2025__primary_junior``). They are the
rows that can make the model infeasible: with them relaxed the empty plan (nothing built,
every child unmet) is feasible, since unmet demand is always allowed. Structural rules
(D-07 pairs, D-10, D-13 caps, D-14 and N-05 sizes, J-20, D-23) stay hard: a slack there
would buy seats with a penalty instead of building them (one class of N-05 slack seats 45
children) and change plans that are feasible; where they block a target, the target's
slack says by how much.

Objective, weighted mode (objective units)::

    unmet_penalty · (Σ u + Σ out-of-reach d) + cost_weight · capital
    + travel_weight · Σ dist·x + equity_weight · v + Σ_rows penalty[rule] · σ
    capital = Σ cost[k]·open + Σ module_cost·m - Σ closure_value[s]·q     (CNY)

``penalty[rule]`` is ``weights.elastic_penalty`` or its per-rule override
(``weights.elastic_penalty_by_rule``). Lexicographic mode (``PlanInput.lexicographic``,
default) solves twice (:func:`allocator.plan.phases.solve_two_phase`, the driver of
:mod:`allocator.siting_phases` with a tolerance that covers the slack's penalty): phase 1
minimises ``Σ u + Σ penalty[rule]·σ`` (child-periods, and slack at ``elastic_penalty``
per unit: by default a target gives one seat only if that seats more than 1,000
child-periods, so in practice rules give only where they cannot all hold); phase 2 keeps
the phase-1 values (``Σ u <= U1 + tol``, ``P <= P1 + tol'``, see
:mod:`allocator.plan.phases`) and minimises ``cost_weight · capital
+ travel_weight · travel + equity_weight · v``. A zone, stage and year with demand but no
pair is wholly unmet: a constant, not a variable (as in :mod:`allocator.siting`).

Modules: :mod:`~allocator.plan.data` (contract), :mod:`~allocator.plan.validate` (frames
to tables; J-20, N-05 option filters, Z-18 check), :mod:`~allocator.plan.variables`,
:mod:`~allocator.plan.constraints` (seat, assignment, size, closure rows),
:mod:`~allocator.plan.targets` (budget, projects, targets; elastic slack),
:mod:`~allocator.plan.objective`, :mod:`~allocator.plan.greedy` (warm start),
:mod:`~allocator.plan.frames` (result tables), :mod:`~allocator.plan.phases` (two-phase
solve), :mod:`~allocator.plan.solve`.
"""

from allocator.plan.data import (
    CountTarget,
    PlanInput,
    PlanResult,
    PlanRules,
    PlanWeights,
    SeatTarget,
    Sense,
    ShareTarget,
)
from allocator.plan.solve import build_plan_model, solve_plan

__all__ = [
    "CountTarget",
    "PlanInput",
    "PlanResult",
    "PlanRules",
    "PlanWeights",
    "SeatTarget",
    "Sense",
    "ShareTarget",
    "build_plan_model",
    "solve_plan",
]
