"""Variables, staffing expressions and objective of the CP-SAT rotation model.

Sets (from :mod:`allocator.rotation_prep` and :mod:`allocator.rotation_network`)::

    s, d   schools and research bodies        t      plan years
    g      groups (subject, backbone)          a      arcs (rotation or transfer)
    c      cohorts                             k      subjects

Integer variables (sparse: only on arcs, groups and years where a move can happen)::

    f[a,g,t]   teachers of group g moving along arc a in year t (teachers)
    x[i,a,t]   ∈ {0,1}: named teacher i uses banned arc a under an exception
    m[c,v,t]   members of cohort c making a move of kind v (rotation / transfer) in t
    h[s,k,t]   new hires of subject k at school s in year t (permanent)
    u[s,k,t]   shortfall of subject k at school s in year t (teachers)

Staffing in year t (teachers): ``home[s,g,t] = N0[s,g] - Σ_{τ<=t} transfers out
+ Σ_{τ<=t} transfers in + Σ_{τ<=t} hires`` and ``present[s,g,t] = home[s,g,t] - rotations
out[t] + rotations in[t]`` (a rotation lasts one school year; the teacher keeps the post).

Linking (exact, so named teachers can always be assigned)::

    out[s,g,v,t] = Σ_a f[a,g,t] + Σ x      per (s, g, v, t); in[d,g,v,t] likewise
    out[s,g,rotation,t] <= teachers of g at s who may rotate in t (eligible teachers;
                           researchers in the year they become due, J-15)
    tracked groups only (talent locks, exceptions, transfers), per cohort c:
    Σ_c m[c,v,t] = out[s,g,v,t]
    m[c,rotation,t] + Σ_{τ<=t} m[c,transfer,τ] <= |c|   a transfer is final
    Σ_a x[i,a,t] <= m[c_i,v,t]             exception arcs only for the named teacher

A rotation lasts one school year and the teacher comes back, so a teacher may rotate
again in a later year (the disaggregation sends those who have not rotated yet first).

Objective (minimise; weights from :class:`~allocator.rotation_input.RotationWeights`,
coefficients rounded to integers after multiplying by :data:`OBJECTIVE_SCALE`)::

    Σ shortage·(1 + rural_extra·rural[s] + weak_extra·weak[s])·u[s,k,t]
    + backbone_gap·Σ_t gap[t] + travel·Σ km[a]·f + disruption·Σ f + hire·Σ h
    + Σ penalty[rule]·slack   (elastic mode; flows on banned arcs are priced per teacher)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from allocator.rotation_input import RotationPolicy, RotationWeights
from allocator.rotation_network import Arc, Cohort, Move, Network
from allocator.rotation_prep import RotationTables
from allocator.rules import Kind, rule
from allocator.solvers.names import ascii_token, model_name, token_map

__all__ = ["OBJECTIVE_SCALE", "MoveKey", "RotationModel", "Slack"]

OBJECTIVE_SCALE = 1000
"""Model objective units per reported objective unit (weights kept to 0.001)."""

GroupKey = tuple[str, str, bool]  # (school, subject, backbone)
MoveKey = tuple[str, str, bool, Move, int]  # (school, subject, backbone, move, year)
Term = tuple[cp_model.IntVar, int]


@dataclass(frozen=True)
class Slack:
    """A named elastic slack: how far one rule gives in one scope.

    Attributes
    ----------
    rule_id, scope, scope_id, year
        The rule, the level (school, county, pairing, research) and its id, and the plan
        year.
    var
        The slack variable (teachers).
    """

    rule_id: str
    scope: str
    scope_id: str
    year: int | None
    var: cp_model.IntVar


class RotationModel:
    """A CP-SAT rotation model under construction: variables and expression helpers.

    Parameters
    ----------
    tables, network, policy, weights
        The run's data.
    elastic
        Add a penalised slack to every hard rule and price moves on banned arcs.
    """

    def __init__(self, tables: RotationTables, network: Network, policy: RotationPolicy,
                 weights: RotationWeights, *, elastic: bool) -> None:
        self.tables = tables
        self.network = network
        self.policy = policy
        self.weights = weights
        self.elastic = elastic
        self.model = cp_model.CpModel()
        self.zero = self.model.new_constant(0)
        self.tokens = token_map([*tables.schools, *tables.subjects])
        self._token_memo: dict[str, str] = dict(self.tokens)
        self._upper: dict[int, int] = {}  # variable index -> upper bound of a move variable
        self._capacities: dict[MoveKey, int] = {}
        self.slacks: list[Slack] = []
        self.objective: list[Term] = []
        self.flow: dict[tuple[int, str, bool, int], cp_model.IntVar] = {}
        self.xflow: dict[tuple[str, int, int], cp_model.IntVar] = {}
        self.moves: dict[tuple[int, Move, int], cp_model.IntVar] = {}
        self.hires: dict[tuple[str, str, int], cp_model.IntVar] = {}
        self.short: dict[tuple[str, str, int], cp_model.IntVar] = {}
        self.out_vars: dict[MoveKey, list[cp_model.IntVar]] = defaultdict(list)
        self.in_vars: dict[MoveKey, list[cp_model.IntVar]] = defaultdict(list)
        self.out_total: dict[MoveKey, cp_model.IntVar] = {}
        self.pooled_keys: set[MoveKey] = set()
        self.in_total: dict[MoveKey, cp_model.IntVar] = {}
        self.d19_out: dict[tuple[str, bool, int], list[cp_model.IntVar]] = defaultdict(list)
        self.pairing_vars: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
        self.changing: dict[MoveKey, list[cp_model.IntVar]] = defaultdict(list)
        self.cohorts_of: dict[GroupKey, list[Cohort]] = defaultdict(list)
        for c in network.cohorts:
            self.cohorts_of[(c.school_id, c.subject, c.backbone)].append(c)
        self.n0: dict[GroupKey, int] = {k: sum(c.size for c in cs)
                                        for k, cs in self.cohorts_of.items()}
        self.cohort_of_teacher = {c.exception_teacher: c for c in network.cohorts
                                  if c.exception_teacher is not None}
        self.groups: dict[str, list[tuple[str, bool]]] = defaultdict(list)
        for s, g, b in sorted(self.n0):
            self.groups[s].append((g, b))
        self.headcount: dict[str, int] = defaultdict(int)
        for (s, _, _), n in self.n0.items():
            self.headcount[s] += n
        self.transfer_sources = {a.source for a in network.arcs if a.move == "transfer"}
        self.transfer_schools = self.transfer_sources | {
            a.target for a in network.arcs if a.move == "transfer"}

    # ------------------------------------------------------------------ helpers

    def tok(self, *ids: object) -> list[str]:
        """ASCII tokens of ids (for variable names)."""
        memo = self._token_memo
        out = []
        for i in ids:
            text = str(i)
            token = memo.get(text)
            if token is None:
                token = memo[text] = ascii_token(text)
            out.append(token)
        return out

    def expr(self, terms: list[Term], constant: int = 0) -> cp_model.LinearExprT:
        """``Σ coef·var + constant`` (the zero constant keeps empty sums an expression)."""
        if not terms:
            return self.zero + constant
        variables = [v for v, _ in terms]
        coefficients = [k for _, k in terms]
        return cp_model.LinearExpr.weighted_sum(variables, coefficients) + constant

    def slack(self, rule_id: str, scope: str, scope_id: str, year: int | None,
              upper: int) -> list[Term]:
        """A named slack term in elastic mode (priced in the objective), else none."""
        if not self.elastic or upper <= 0:
            return []
        name = model_name("slack", rule_id.replace("-", ""), *self.tok(scope_id, year or "all"))
        var = self.model.new_int_var(0, upper, name)
        self.slacks.append(Slack(rule_id, scope, scope_id, year, var))
        self.add_cost(var, self.weights.penalty(rule_id))
        return [(var, 1)]

    def add_cost(self, var: cp_model.IntVar, weight: float) -> None:
        """Add ``weight·var`` (objective units) to the objective."""
        coefficient = round(weight * OBJECTIVE_SCALE)
        if coefficient:
            self.objective.append((var, coefficient))

    def group_cohorts(self, school: str, subject: str, backbone: bool) -> list[Cohort]:
        """Cohorts of a school and group."""
        return self.cohorts_of.get((school, subject, backbone), [])

    def groups_at(self, school: str) -> list[tuple[str, bool]]:
        """Groups (subject, backbone) with teachers at ``school``, sorted."""
        return self.groups.get(school, [])

    # ------------------------------------------------------------------ variables

    def add_variables(self) -> None:
        """Create flows, exception flows, their totals, cohort moves and hires."""
        self._add_flows()
        self._add_exception_flows()
        self._add_totals()
        self._add_cohort_moves()
        self._add_hires()

    def _add_totals(self) -> None:
        """``out[s,g,v,t] = Σ_a f + Σ x`` and ``in[d,g,v,t]`` likewise (few-term rows).

        The staffing rows (shortfall, J-08, sender floor, regional gap) read these totals
        instead of every flow, which keeps them short for the LP.
        """
        for table, totals, label in ((self.out_vars, self.out_total, "out"),
                                     (self.in_vars, self.in_total, "in")):
            for key, variables in sorted(table.items()):
                school, subject, backbone, move, year = key
                upper = sum(self._upper[v.index] for v in variables)
                if label == "out":  # at most the teachers who can make the move
                    upper = min(upper, self._capacity(school, subject, backbone, move, year))
                name = model_name(label, move[0], *self.tok(school, subject, int(backbone),
                                                            year))
                total = self.model.new_int_var(0, upper, name)
                self.model.add(self.expr([(v, 1) for v in variables] + [(total, -1)]) == 0)
                totals[key] = total

    def _movable(self, c: Cohort, move: Move, year: int) -> bool:
        """Whether members of ``c`` can make ``move`` in ``year``."""
        if move == "rotation":
            return c.can_rotate(year)
        return not c.researcher

    def _capacity(self, school: str, subject: str, backbone: bool, move: Move,
                  year: int) -> int:
        """Teachers of a group who could make ``move`` in ``year`` (upper bound)."""
        key: MoveKey = (school, subject, backbone, move, year)
        found = self._capacities.get(key)
        if found is None:
            found = self._capacities[key] = sum(
                c.size for c in self.group_cohorts(school, subject, backbone)
                if self._movable(c, move, year))
        return found

    def _register(self, arc: Arc, subject: str, backbone: bool, year: int,
                  var: cp_model.IntVar, *, changing: bool) -> None:
        """File a move variable under every aggregate that reads it."""
        self.out_vars[(arc.source, subject, backbone, arc.move, year)].append(var)
        self.in_vars[(arc.target, subject, backbone, arc.move, year)].append(var)
        if changing:
            self.changing[(arc.source, subject, backbone, arc.move, year)].append(var)
        if arc.d19:
            self.d19_out[(arc.source, backbone, year)].append(var)
        for pid in arc.pairings:
            self.pairing_vars[(pid, year)].append(var)
        self.add_cost(var, self.weights.travel * arc.km + self.weights.disruption)
        for ban in arc.banned(year):  # elastic mode only: a banned arc has variables
            self.add_cost(var, self.weights.penalty(ban))

    def _add_flows(self) -> None:
        """``f[a,g,t]`` on every arc not banned in ``t`` (elastic: on every arc)."""
        for arc in self.network.arcs:
            for year in self.tables.years:
                if arc.banned(year) and not self.elastic:
                    continue
                for subject, backbone in self.groups_at(arc.source):
                    upper = self._capacity(arc.source, subject, backbone, arc.move, year)
                    if upper <= 0:
                        continue
                    name = model_name("f", arc.move[0], *self.tok(
                        arc.source, arc.target, subject, int(backbone), year))
                    var = self.model.new_int_var(0, upper, name)
                    self._upper[var.index] = upper
                    self.flow[(arc.index, subject, backbone, year)] = var
                    self._register(arc, subject, backbone, year, var,
                                   changing=arc.kind_change(year))

    def _add_exception_flows(self) -> None:
        """``x[i,a,t]`` for a named teacher on a banned arc their exception lifts."""
        for (teacher, index), years in self.network.teacher_arcs.items():
            arc = self.network.arcs[index]
            c = self.cohort_of_teacher[teacher]
            for year in years:
                locked = year in c.locked
                if not self._movable(c, arc.move, year) or (locked and arc.kind_change(year)):
                    continue
                name = model_name("x", *self.tok(teacher, arc.source, arc.target, year))
                var = self.model.new_bool_var(name)
                self._upper[var.index] = 1
                self.xflow[(teacher, index, year)] = var
                # Counted as "changing" when the teacher is unlocked: the G-11 row then
                # keeps unlocked cohort moves for the normal changing arcs.
                self._register(arc, c.subject, c.backbone, year, var, changing=not locked)

    def needs_cohorts(self, school: str, subject: str, backbone: bool) -> bool:
        """Whether a group's moves must be tracked by cohort (``m`` variables).

        Needed when the group holds talent-locked or excepted teachers, or the school can
        also transfer teachers (rotations and transfers then share the same people).
        Otherwise the eligible sets only grow over the years and cumulative caps are exact.
        """
        if school in self.transfer_sources:
            return True
        return any(c.locked or c.exception_teacher
                   for c in self.group_cohorts(school, subject, backbone))

    def _add_cohort_moves(self) -> None:
        """Link group moves to the teachers who can make them.

        A rotation lasts one school year and the teacher comes back, so a teacher may
        rotate again in a later year; a researcher rotates in the year they become due
        (J-15); a transfer is permanent. Tracked groups: ``m[c,v,t]`` with ``Σ_c m[c,v,t]
        = out[s,g,v,t]`` and, per cohort, ``m[c,rotation,t] + Σ_{τ<=t} m[c,transfer,τ] <=
        |c|``, ``Σ_a x[i,a,t] <= m[c_i,v,t]``. Pooled groups need no ``m``: the upper bound
        of ``out`` is the number of teachers who can make the move that year.
        """
        per_cohort: dict[int, dict[tuple[Move, int], cp_model.IntVar]] = defaultdict(dict)
        tracked = {key[:3]: self.needs_cohorts(*key[:3]) for key in self.out_total}
        self.pooled_keys = {key for key in self.out_total if not tracked[key[:3]]}
        for key, total in sorted(self.out_total.items()):
            school, subject, backbone, move, year = key
            if not tracked[key[:3]]:
                continue
            terms: list[Term] = []
            for c in self.group_cohorts(school, subject, backbone):
                if not self._movable(c, move, year):
                    continue
                name = model_name("m", move[0], str(c.index), str(year))
                var = self.model.new_int_var(0, c.size, name)
                self.moves[(c.index, move, year)] = var
                terms.append((var, 1))
                per_cohort[c.index][(move, year)] = var
            self.model.add(self.expr([*terms, (total, -1)]) == 0)
        for index, by_move in sorted(per_cohort.items()):
            self._cap_cohort(self.network.cohorts[index], by_move)
        self._link_exception_flows()

    def _cap_cohort(self, c: Cohort, by_move: dict[tuple[Move, int], cp_model.IntVar]) -> None:
        """Per-cohort capacity rows (see :meth:`_add_cohort_moves`)."""
        transfers: list[Term] = []
        for year in self.tables.years:
            if ("transfer", year) in by_move:
                transfers.append((by_move[("transfer", year)], 1))
            rotation = by_move.get(("rotation", year))
            terms = transfers + ([(rotation, 1)] if rotation is not None else [])
            if len(terms) > 1:
                self.model.add(self.expr(terms) <= c.size)

    def _link_exception_flows(self) -> None:
        """An exception arc is used only by its named teacher, who must be moving."""
        by_key: dict[tuple[str, Move, int], list[Term]] = defaultdict(list)
        for (teacher, index, year), var in self.xflow.items():
            by_key[(teacher, self.network.arcs[index].move, year)].append((var, 1))
        for (teacher, move, year), terms in sorted(by_key.items()):
            c = self.cohort_of_teacher[teacher]
            m = self.moves[(c.index, move, year)]
            self.model.add(self.expr([*terms, (m, -1)]) <= 0)

    def _add_hires(self) -> None:
        """``h[s,k,t]`` when hires are allowed (bounded by the largest subject need)."""
        if not self.policy.allow_hires:
            return
        need: dict[tuple[str, str], int] = defaultdict(int)
        for (s, k, _), n in self.tables.needs.items():
            need[(s, k)] = max(need[(s, k)], n)
        per_county: dict[tuple[str, int], list[Term]] = defaultdict(list)
        for (s, k), upper in sorted(need.items()):
            for year in self.tables.years:
                var = self.model.new_int_var(0, upper, model_name("h", *self.tok(s, k, year)))
                self.hires[(s, k, year)] = var
                self.add_cost(var, self.weights.hire)
                per_county[(self.tables.schools[s].county, year)].append((var, 1))
        cap = self.policy.hire_cap_per_county
        if cap is not None:
            for terms in per_county.values():
                self.model.add(self.expr(terms) <= cap)

    # ------------------------------------------------------------------ staffing

    def _moves_sum(self, key: MoveKey, sign: int, out: bool) -> list[Term]:
        """Signed terms of the move variables out of (or into) a school."""
        table = self.out_total if out else self.in_total
        total = table.get(key)
        return [] if total is None else [(total, sign)]

    def home(self, school: str, subject: str, backbone: bool, year: int) -> list[Term]:
        """Change of the home headcount of a group by ``year`` (transfers, hires)."""
        terms: list[Term] = []
        for t in self.tables.years:
            if t > year:
                break
            key: MoveKey = (school, subject, backbone, "transfer", t)
            terms += self._moves_sum(key, -1, True) + self._moves_sum(key, 1, False)
            if not backbone and (school, subject, t) in self.hires:
                terms.append((self.hires[(school, subject, t)], 1))
        return terms

    def present(self, school: str, year: int, *, subject: str | None = None,
                backbone: bool | None = None) -> tuple[list[Term], int]:
        """Teachers present at ``school`` in ``year`` (optionally one subject or flag).

        Returns the variable terms and the constant ``N0``.
        """
        terms: list[Term] = []
        constant = 0
        subjects = [subject] if subject is not None else list(self.tables.subjects)
        flags = [backbone] if backbone is not None else [False, True]
        for k in subjects:
            for b in flags:
                constant += self.n0.get((school, k, b), 0)
                terms += self.home(school, k, b, year)
                key: MoveKey = (school, k, b, "rotation", year)
                terms += self._moves_sum(key, -1, True) + self._moves_sum(key, 1, False)
        return terms, constant

    def held(self, school: str, year: int, *, backbone: bool | None = None
             ) -> tuple[list[Term], int]:
        """Teachers holding a post at ``school`` in ``year`` (after transfers and hires).

        Returns the variable terms and the constant ``N0``.
        """
        terms: list[Term] = []
        constant = 0
        flags = [backbone] if backbone is not None else [False, True]
        for k in self.tables.subjects:
            for b in flags:
                constant += self.n0.get((school, k, b), 0)
                terms += self.home(school, k, b, year)
        return terms, constant

    def outflow(self, school: str, year: int, move: Move | None = None) -> list[Term]:
        """All move variables out of ``school`` in ``year``."""
        moves: tuple[Move, ...] = (move,) if move else ("rotation", "transfer")
        return [(self.out_total[key], 1) for k in self.tables.subjects for b in (False, True)
                for v_ in moves if (key := (school, k, b, v_, year)) in self.out_total]

    # ------------------------------------------------------------------ objective

    @rule("J-30", kind=Kind.SOFT, family="staffing", params=("weights.shortage",
                                                             "weights.rural_extra"))
    @rule("D-04", kind=Kind.SOFT, family="staffing", params=("weights.rural_extra",
                                                             "weights.weak_extra"))
    @rule("D-20", kind=Kind.SOFT, family="flows", params=("weights.weak_extra",))
    def add_shortage(self) -> None:
        """Subject shortfall, weighted toward rural and weak schools.

        ``u[s,k,t] + present[s,k,t] >= need[s,k,t]``, ``0 <= u <= need``; objective
        ``shortage · (1 + rural_extra·rural[s] + weak_extra·weak[s]) · u``.
        """
        w = self.weights
        for (s, k, year), need in sorted(self.tables.needs.items()):
            if need <= 0:
                continue
            info = self.tables.schools[s]
            var = self.model.new_int_var(0, need, model_name("u", *self.tok(s, k, year)))
            self.short[(s, k, year)] = var
            terms, constant = self.present(s, year, subject=k)
            self.model.add(self.expr([*terms, (var, 1)], constant) >= need)
            factor = 1 + w.rural_extra * (not info.urban) + w.weak_extra * info.weak
            self.add_cost(var, w.shortage * factor)

    @rule("J-02", kind=Kind.SOFT, family="staffing", params=("weights.backbone_gap",))
    @rule("G-02", kind=Kind.SOFT, family="staffing", params=("weights.backbone_gap",))
    def add_backbone_gap(self) -> None:
        """Gap in backbone share between regions, per mille, largest minus smallest.

        ``share[r,t] = 10^6 · backbone present[r,t] / H[r]`` (per million) with ``H[r]``
        the region's teachers at the start and ``B[r,t]`` its backbone teachers present
        (the start plus moves between regions, see :meth:`_regional_backbone_change`):
        a fixed denominator keeps it linear, and the
        coefficient ``K[r] = round(10^6 / H[r])`` is integer (error below 0.5 per million
        per backbone teacher). ``gap[t] >= K[r]·B[r,t] - K[q]·B[q,t]`` for every ordered
        pair of regions, ``gap[t]`` in per million (no rounding staircase); objective
        ``backbone_gap / 1000 · Σ_t gap[t]`` (``backbone_gap`` is per per-mille point).
        """
        heads: dict[str, int] = defaultdict(int)
        backbone: dict[str, int] = defaultdict(int)
        for (s, _, b), n in self.n0.items():
            if not self.tables.schools[s].research:
                heads[self.tables.schools[s].region] += n
                backbone[self.tables.schools[s].region] += n * b
        regions = sorted(r for r, n in heads.items() if n > 0)
        if len(regions) < 2 or self.weights.backbone_gap <= 0:
            return
        scale = {r: round(1_000_000 / heads[r]) for r in regions}
        total = sum(heads.values())
        for year in self.tables.years:
            change = self._regional_backbone_change(year)
            shares = {r: ([(v, k * scale[r]) for v, k in change.get(r, [])],
                          backbone[r] * scale[r]) for r in regions}
            gap = self.model.new_int_var(0, 1_000_000 * total, model_name("gap", str(year)))
            for r in regions:
                for q in regions:
                    if r != q:
                        (tr, cr), (tq, cq) = shares[r], shares[q]
                        minus = [(v, -k) for v, k in tq]
                        self.model.add(self.expr([*tr, *minus, (gap, -1)], cr - cq) <= 0)
            self.add_cost(gap, self.weights.backbone_gap / 1000)  # per mille -> per million

    def _regional_backbone_change(self, year: int) -> dict[str, list[Term]]:
        """Change of each region's backbone teachers present in ``year``, as terms.

        Only moves between regions change a region's count (a move inside a region adds
        and removes the same teacher): backbone rotations of year t and transfers of
        years <= t, +1 for the target's region and -1 for the source's; a researcher
        coming from a research body adds to the target's region only.
        """
        schools = self.tables.schools
        moves = [(self.network.arcs[a], b, t, v) for (a, _, b, t), v in self.flow.items()]
        moves += [(self.network.arcs[a], self.cohort_of_teacher[i].backbone, t, v)
                  for (i, a, t), v in self.xflow.items()]
        change: dict[str, list[Term]] = defaultdict(list)
        for arc, is_backbone, t, var in moves:
            if not is_backbone or (t != year if arc.move == "rotation" else t > year):
                continue
            source, target = schools[arc.source], schools[arc.target]
            if source.research or source.region != target.region:
                change[target.region].append((var, 1))
                if not source.research:
                    change[source.region].append((var, -1))
        return change

    def set_objective(self) -> None:
        """Minimise the collected weighted terms (integer coefficients)."""
        self.model.minimize(self.expr(self.objective))

