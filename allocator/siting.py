"""Capacitated school siting for one period.

Which candidate sites to open at which size, and how many children of each zone and stage
go to which school.

Sets and data (all from plain DataFrames, see :class:`SitingInput`)::

    z ∈ Z  demand zones          g ∈ G  school stages (primary, junior, ...)
    s ∈ S  existing schools      c ∈ C  candidate sites, k ∈ K(c, g) size options of c for g
    P      feasible (z, s, g) pairs, s ∈ S ∪ C (only pairs within the travel limit)
    d[z,g] children (persons)    seats[s,g], seats[k] (seats)     cost[k] (CNY)
    dist[z,s,g] (metres)         B budget (CNY, optional)

Variables (sparse: only pairs in P get an assignment variable)::

    y[c,g,k] ∈ {0,1}         open site c with size option k (of stage g)
    x[z,s,g] ∈ [0, d[z,g]]   children of zone z, stage g assigned to school s (persons)
    u[z,g]   ∈ [0, d[z,g]]   unmet demand (persons), a named slack

Objective (objective units; with the default cost weight 1 unit = 1 million CNY)::

    min  unmet_penalty · Σ u  +  cost_weight · Σ cost[k]·y  +  travel_weight · Σ dist·x

A zone and stage with demand but no feasible pair cannot be served: its ``u = d`` is entered
as a constant of the objective rather than as a variable, so the solver's relative gap is
measured on what the model can still decide (a large fixed penalty would otherwise swamp the
capital and travel terms under the default ``mip_gap``). Constraint families, one builder
each, in build order: demand, existing capacity, site capacity, one option per site,
assignment-opening link, budget.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd
import pulp

from allocator.solvers import SolveInfo, SolverOptions, solve_pulp
from allocator.solvers.names import model_name, token_map

__all__ = [
    "SitingInput",
    "SitingResult",
    "SitingVariables",
    "SitingWeights",
    "build_siting_model",
    "solve_siting",
]

logger = logging.getLogger(__name__)

ZoneStage = tuple[str, str]
SchoolStage = tuple[str, str]
Pair = tuple[str, str, str]  # (zone_id, school_id, stage)
OptionKey = tuple[str, str, int]  # (site_id, stage, classes)

_ASSIGN_TOL = 1e-6  # persons; assignments below this are dropped from the result
_ROUND = 6  # decimals kept for persons in result tables (1e-6)

_INPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "demand": ("zone_id", "stage", "children"),
    "existing": ("school_id", "stage", "seats"),
    "options": ("site_id", "stage", "classes", "seats", "cost_cny"),
    "pairs": ("zone_id", "school_id", "stage", "distance_m"),
}
_ID_COLUMNS = ("zone_id", "school_id", "site_id", "stage")

OPENED_SCHEMA: dict[str, str] = {
    "site_id": "str",
    "stage": "str",
    "classes": "int64",
    "seats": "float64",
    "cost_cny": "float64",
}
ASSIGNMENTS_SCHEMA: dict[str, str] = {
    "zone_id": "str",
    "school_id": "str",
    "stage": "str",
    "children": "float64",
    "distance_m": "float64",
}
UNMET_SCHEMA: dict[str, str] = {"zone_id": "str", "stage": "str", "unmet": "float64"}
SCHOOL_LOAD_SCHEMA: dict[str, str] = {
    "school_id": "str",
    "stage": "str",
    "enrolled": "float64",
    "seats": "float64",
}


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class SitingWeights:
    """Objective weights; together they set the exchange rate between the three terms.

    Attributes
    ----------
    unmet_penalty
        Objective units per unserved child (default 1e6: far above any school's cost, so
        demand is left unmet only where no reachable seat can be built).
    cost_weight
        Objective units per CNY of capital cost (default 1e-6: 1 unit = 1 million CNY).
    travel_weight
        Objective units per child·metre of home-school distance (default 1e-5: with the
        default cost weight a child travelling 1 km weighs like 10,000 CNY of capital;
        1e-3 would make it 1 million CNY, so travel savings would readily pay for schools).
    """

    unmet_penalty: float = 1e6
    cost_weight: float = 1e-6
    travel_weight: float = 1e-5

    def __post_init__(self) -> None:
        """Reject negative or non-finite weights."""
        for name in ("unmet_penalty", "cost_weight", "travel_weight"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"SitingWeights.{name} must be finite and >= 0, got {value}")


@dataclass(frozen=True, eq=False)
class SitingInput:
    """Data of one siting run (one period). Ids are compared as strings.

    Attributes
    ----------
    demand
        ``zone_id, stage, children``: children to place (persons, >= 0), one row per zone
        and stage.
    existing
        ``school_id, stage, seats``: seats of existing schools (classes × class-size cap,
        computed by the caller), one row per school and stage served.
    options
        ``site_id, stage, classes, seats, cost_cny``: one row per size option of a
        candidate site (classes: integer count; seats; capital cost in CNY). A site opens
        with at most one option over all its stages.
    pairs
        ``zone_id, school_id, stage, distance_m``: only the feasible zone–school pairs
        (within the travel limit of the stage); ``school_id`` is an existing school or a
        candidate site serving that stage; distance in metres.
    weights
        Objective weights.
    budget_cny
        Cap on total capital cost of opened options (CNY), or ``None``.
    """

    demand: pd.DataFrame
    existing: pd.DataFrame
    options: pd.DataFrame
    pairs: pd.DataFrame
    weights: SitingWeights
    budget_cny: float | None = None


@dataclass(frozen=True, eq=False)
class SitingResult:
    """Solution of a siting run; frames are sorted by their id columns.

    Without a solution (``info.has_solution`` false) all frames are empty with the same
    columns.

    Attributes
    ----------
    info
        Solver report (status, objective, bound, gap, time).
    opened
        ``site_id, stage, classes, seats, cost_cny`` of the opened options.
    assignments
        ``zone_id, school_id, stage, children, distance_m``: positive flows only (children
        rounded to 1e-6 persons; flows below 1e-6 dropped).
    unmet
        ``zone_id, stage, unmet``: unserved children (persons) for every demand row.
    school_load
        ``school_id, stage, enrolled, seats``: enrolment and seats of every existing school
        and every opened site, per stage.
    """

    info: SolveInfo
    opened: pd.DataFrame
    assignments: pd.DataFrame
    unmet: pd.DataFrame
    school_load: pd.DataFrame


@dataclass(frozen=True, eq=False)
class SitingVariables:
    """Handles on the model's variables, keyed by original ids.

    Attributes
    ----------
    open
        ``y[c,g,k]`` keyed ``(site_id, stage, classes)``; only options of sites that some
        zone with demand can reach.
    assign
        ``x[z,s,g]`` keyed ``(zone_id, school_id, stage)``; only pairs with demand.
    unmet
        ``u[z,g]`` keyed ``(zone_id, stage)`` for rows with demand and at least one pair.
    fixed_unmet
        ``(zone_id, stage) -> children`` for rows with demand but no pair: unmet is the
        whole demand, entered as an objective constant.
    tokens
        ASCII token of every id used in names (original id -> token).
    """

    open: dict[OptionKey, pulp.LpVariable]
    assign: dict[Pair, pulp.LpVariable]
    unmet: dict[ZoneStage, pulp.LpVariable]
    fixed_unmet: dict[ZoneStage, float]
    tokens: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Option:
    """One size option of a candidate site."""

    seats: float
    cost_cny: float


@dataclass(frozen=True)
class _Tables:
    """Validated, sorted inputs keyed by original (string) ids."""

    demand: dict[ZoneStage, float]
    existing: dict[SchoolStage, float]
    options: dict[OptionKey, _Option]
    pairs: dict[Pair, float]  # distance in metres, only pairs whose zone has demand


# --------------------------------------------------------------------------- validation


def _examples(rows: Iterable[object], limit: int = 3) -> str:
    """Format a few offending values for an error message."""
    items = sorted({repr(row) for row in rows})
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _clean_frame(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Check one input frame; return its required columns, ids as strings, sorted."""
    columns = _INPUT_COLUMNS[name]
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; expected {list(columns)}")
    clean = frame.loc[:, list(columns)].copy()
    for column in columns:
        if column in _ID_COLUMNS:
            if clean[column].isna().any():
                raise ValueError(f"{name}: column {column!r} has missing ids")
            clean[column] = clean[column].astype(str)
        else:
            clean[column] = pd.to_numeric(clean[column], errors="raise").astype("float64")
            bad = clean.loc[~(clean[column].ge(0) & clean[column].lt(math.inf)), column]
            if len(bad):
                raise ValueError(
                    f"{name}: column {column!r} must be finite and >= 0; "
                    f"found {_examples(bad.tolist())}"
                )
    keys = [column for column in columns if column in _ID_COLUMNS]
    if name == "options":
        keys.append("classes")
    duplicated = clean.loc[clean.duplicated(keys, keep=False), keys]
    if len(duplicated):
        rows = [tuple(row) for row in duplicated.itertuples(index=False)]
        raise ValueError(f"{name}: duplicate rows for {keys}: {_examples(rows)}")
    return clean.sort_values(keys, kind="mergesort").reset_index(drop=True)


def _check_classes(options: pd.DataFrame) -> None:
    """Option class counts must be whole numbers >= 1."""
    classes = options["classes"]
    bad = classes[(classes < 1) | (classes != classes.round())]
    if len(bad):
        raise ValueError(f"options: classes must be whole numbers >= 1; found {_examples(bad)}")


def _check_pairs(
    pairs: pd.DataFrame,
    demand: Mapping[ZoneStage, float],
    existing: Mapping[SchoolStage, float],
    site_stages: set[SchoolStage],
) -> None:
    """Every pair must name a demand row and a school or site serving its stage."""
    unknown_zone = [
        (z, g)
        for z, g in zip(pairs["zone_id"], pairs["stage"], strict=True)
        if (z, g) not in demand
    ]
    if unknown_zone:
        raise ValueError(
            f"pairs: (zone_id, stage) not in demand: {_examples(unknown_zone)}; "
            "every pair must start at a demand row"
        )
    unknown_school = [
        (s, g)
        for s, g in zip(pairs["school_id"], pairs["stage"], strict=True)
        if (s, g) not in existing and (s, g) not in site_stages
    ]
    if unknown_school:
        raise ValueError(
            f"pairs: (school_id, stage) is neither an existing school nor a candidate site "
            f"option of that stage: {_examples(unknown_school)}"
        )


def _prepare(data: SitingInput) -> _Tables:
    """Validate the input frames and turn them into sorted lookup tables.

    Raises
    ------
    ValueError
        Missing columns, missing ids, negative or non-finite numbers, duplicate keys, ids
        used both as existing school and candidate site, pairs to unknown zones or schools,
        negative budget.
    """
    if data.budget_cny is not None and not (data.budget_cny >= 0 and data.budget_cny < math.inf):
        raise ValueError(f"budget_cny must be finite and >= 0 or None, got {data.budget_cny}")
    demand_df = _clean_frame(data.demand, "demand")
    existing_df = _clean_frame(data.existing, "existing")
    options_df = _clean_frame(data.options, "options")
    pairs_df = _clean_frame(data.pairs, "pairs")
    _check_classes(options_df)
    both = set(existing_df["school_id"]) & set(options_df["site_id"])
    if both:
        raise ValueError(f"ids used both as existing school and candidate site: {_examples(both)}")
    demand = {
        (z, g): float(d)
        for z, g, d in demand_df.itertuples(index=False, name=None)  # sorted by zone, stage
    }
    existing = {(s, g): float(q) for s, g, q in existing_df.itertuples(index=False, name=None)}
    options = {
        (c, g, int(k)): _Option(float(q), float(cost))
        for c, g, k, q, cost in options_df.itertuples(index=False, name=None)
    }
    _check_pairs(pairs_df, demand, existing, {(c, g) for c, g, _ in options})
    pairs = {
        (z, s, g): float(dist)
        for z, s, g, dist in pairs_df.itertuples(index=False, name=None)
        if demand[(z, g)] > 0
    }
    return _Tables(demand=demand, existing=existing, options=options, pairs=pairs)


# --------------------------------------------------------------------------- model


def _reachable_options(tables: _Tables) -> dict[OptionKey, _Option]:
    """Options of (site, stage) combinations some zone with demand can reach."""
    reached = {(s, g) for _, s, g in tables.pairs}
    return {key: opt for key, opt in tables.options.items() if (key[0], key[1]) in reached}


def _add_variables(
    problem: pulp.LpProblem, tables: _Tables, tokens: Mapping[str, str]
) -> SitingVariables:
    """Create ``y`` (binary), ``x`` and ``u`` (continuous, ``0 <= x, u <= d[z,g]``)."""
    open_vars = {
        (c, g, k): problem.add_variable(
            model_name("open", tokens[c], tokens[g], f"c{k}"), 0, 1, pulp.LpBinary
        )
        for c, g, k in _reachable_options(tables)
    }
    assign = {
        (z, s, g): problem.add_variable(
            model_name("assign", tokens[z], tokens[s], tokens[g]), 0, tables.demand[(z, g)]
        )
        for z, s, g in tables.pairs
    }
    reachable = {(z, g) for z, _, g in tables.pairs}
    unmet = {
        (z, g): problem.add_variable(model_name("unmet", tokens[z], tokens[g]), 0, d)
        for (z, g), d in tables.demand.items()
        if (z, g) in reachable
    }
    fixed = {key: d for key, d in tables.demand.items() if d > 0 and key not in reachable}
    return SitingVariables(open_vars, assign, unmet, fixed, dict(tokens))


def _add_constraint(
    problem: pulp.LpProblem,
    terms: list[tuple[pulp.LpVariable, float]],
    sense: int,
    rhs: float,
    name: str,
) -> None:
    """Add ``Σ coef·var (sense) rhs`` under ``name``."""
    expression = pulp.LpAffineExpression(terms)
    problem.addConstraint(pulp.LpConstraint(expression, sense=sense, rhs=rhs, name=name))


def _add_demand(
    problem: pulp.LpProblem, tables: _Tables, v: SitingVariables, tokens: Mapping[str, str]
) -> None:
    """Demand balance, one row per zone and stage with a feasible pair.

    ``Σ_s x[z,s,g] + u[z,g] = d[z,g]``   (persons)
    """
    rows: dict[ZoneStage, list[tuple[pulp.LpVariable, float]]] = defaultdict(list)
    for (z, _, g), var in v.assign.items():
        rows[(z, g)].append((var, 1.0))
    for (z, g), u in v.unmet.items():
        terms = [*rows[(z, g)], (u, 1.0)]
        name = model_name("demand", tokens[z], tokens[g])
        _add_constraint(problem, terms, pulp.LpConstraintEQ, tables.demand[(z, g)], name)


def _flows_by_school(v: SitingVariables) -> dict[SchoolStage, list[pulp.LpVariable]]:
    """Group assignment variables by (school or site, stage), in key order."""
    flows: dict[SchoolStage, list[pulp.LpVariable]] = defaultdict(list)
    for (_, s, g), var in v.assign.items():
        flows[(s, g)].append(var)
    return flows


def _add_existing_capacity(
    problem: pulp.LpProblem, tables: _Tables, v: SitingVariables, tokens: Mapping[str, str]
) -> None:
    """Seats of existing schools, one row per school and stage with a feasible pair.

    ``Σ_z x[z,s,g] <= seats[s,g]``   (seats)
    """
    for (s, g), flows in sorted(_flows_by_school(v).items()):
        if (s, g) in tables.existing:
            terms = [(var, 1.0) for var in flows]
            name = model_name("cap_existing", tokens[s], tokens[g])
            _add_constraint(problem, terms, pulp.LpConstraintLE, tables.existing[(s, g)], name)


def _opens_by_site_stage(v: SitingVariables) -> dict[SchoolStage, list[OptionKey]]:
    """Group option keys by (site, stage), in key order."""
    opens: dict[SchoolStage, list[OptionKey]] = defaultdict(list)
    for c, g, k in v.open:
        opens[(c, g)].append((c, g, k))
    return opens


def _add_site_capacity(
    problem: pulp.LpProblem, tables: _Tables, v: SitingVariables, tokens: Mapping[str, str]
) -> None:
    """Seats of candidate sites, one row per site and stage with a feasible pair.

    ``Σ_z x[z,c,g] - Σ_{k ∈ K(c,g)} seats[k]·y[c,g,k] <= 0``   (seats)
    """
    opens = _opens_by_site_stage(v)
    for (c, g), flows in sorted(_flows_by_school(v).items()):
        if (c, g) in tables.existing:
            continue
        terms = [(var, 1.0) for var in flows]
        terms += [(v.open[key], -tables.options[key].seats) for key in opens[(c, g)]]
        name = model_name("cap_site", tokens[c], tokens[g])
        _add_constraint(problem, terms, pulp.LpConstraintLE, 0.0, name)


def _add_one_option(problem: pulp.LpProblem, v: SitingVariables, tokens: Mapping[str, str]) -> None:
    """At most one size option per site over all its stages (sites with >= 2 options).

    ``Σ_{g,k} y[c,g,k] <= 1``
    """
    by_site: dict[str, list[pulp.LpVariable]] = defaultdict(list)
    for (c, _, _), y in v.open.items():
        by_site[c].append(y)
    for c, ys in sorted(by_site.items()):
        if len(ys) > 1:
            terms = [(y, 1.0) for y in ys]
            _add_constraint(
                problem, terms, pulp.LpConstraintLE, 1.0, model_name("one_option", tokens[c])
            )


def _add_link(
    problem: pulp.LpProblem, tables: _Tables, v: SitingVariables, tokens: Mapping[str, str]
) -> None:
    """Link assignments to a candidate site to its opening (strong form, one row per pair).

    ``x[z,c,g] - d[z,g] · Σ_{k ∈ K(c,g)} y[c,g,k] <= 0``   (persons)
    """
    opens = _opens_by_site_stage(v)
    for (z, c, g), x in v.assign.items():
        if (c, g) in tables.existing:
            continue
        d = tables.demand[(z, g)]
        terms = [(x, 1.0), *((v.open[key], -d) for key in opens[(c, g)])]
        name = model_name("link", tokens[z], tokens[c], tokens[g])
        _add_constraint(problem, terms, pulp.LpConstraintLE, 0.0, name)


def _add_budget(
    problem: pulp.LpProblem, tables: _Tables, v: SitingVariables, budget_cny: float | None
) -> None:
    """Capital budget, if given and some option can open.

    ``Σ_{c,g,k} cost[k]·y[c,g,k] <= B``   (CNY)
    """
    if budget_cny is None or not v.open:
        return
    terms = [(y, tables.options[key].cost_cny) for key, y in v.open.items()]
    _add_constraint(problem, terms, pulp.LpConstraintLE, budget_cny, "budget")


def _set_objective(
    problem: pulp.LpProblem, tables: _Tables, v: SitingVariables, weights: SitingWeights
) -> None:
    """Weighted objective (objective units).

    ``unmet_penalty · (Σ u + Σ fixed_unmet) + cost_weight · Σ cost[k]·y
    + travel_weight · Σ dist[z,s,g]·x``   (persons, CNY, child·metres)
    """
    terms: list[tuple[pulp.LpVariable, float]] = [
        (u, weights.unmet_penalty) for u in v.unmet.values()
    ]
    terms += [(y, weights.cost_weight * tables.options[key].cost_cny) for key, y in v.open.items()]
    terms += [(x, weights.travel_weight * tables.pairs[key]) for key, x in v.assign.items()]
    constant = weights.unmet_penalty * sum(v.fixed_unmet.values())
    problem.setObjective(pulp.LpAffineExpression(terms, constant=constant))


def build_siting_model(data: SitingInput) -> tuple[pulp.LpProblem, SitingVariables]:
    """Build the single-period capacitated siting MIP (see the module docstring).

    Names are ASCII and deterministic: ``open__<site>__<stage>__c<classes>``,
    ``assign__<zone>__<school>__<stage>``, ``unmet__<zone>__<stage>``; constraints
    ``demand__<zone>__<stage>``, ``cap_existing__<school>__<stage>``,
    ``cap_site__<site>__<stage>``, ``one_option__<site>``, ``link__<zone>__<site>__<stage>``
    and ``budget``, with ids replaced by :func:`allocator.solvers.names.ascii_token`.

    Parameters
    ----------
    data
        Demand, existing seats, site options, feasible pairs, weights and budget.

    Returns
    -------
    tuple of pulp.LpProblem and SitingVariables
        The model (minimisation, objective units) and handles on its variables.

    Raises
    ------
    ValueError
        If an input frame is malformed or references unknown ids (see :func:`_prepare`).
    """
    return _build(_prepare(data), data)


def _build(tables: _Tables, data: SitingInput) -> tuple[pulp.LpProblem, SitingVariables]:
    """Build the model from validated tables, in the constraint families' catalogue order."""
    ids: list[str] = [i for key in (*tables.demand, *tables.existing) for i in key]
    ids += [i for c, g, _ in tables.options for i in (c, g)]
    tokens = token_map(ids)
    problem = pulp.LpProblem("siting", pulp.LpMinimize)
    v = _add_variables(problem, tables, tokens)
    _add_demand(problem, tables, v, tokens)
    _add_existing_capacity(problem, tables, v, tokens)
    _add_site_capacity(problem, tables, v, tokens)
    _add_one_option(problem, v, tokens)
    _add_link(problem, tables, v, tokens)
    _add_budget(problem, tables, v, data.budget_cny)
    _set_objective(problem, tables, v, data.weights)
    _log_size(tables, v, problem)
    return problem, v


def _log_size(tables: _Tables, v: SitingVariables, problem: pulp.LpProblem) -> None:
    """Log model size and the seat balance the solver starts from."""
    logger.info(
        "siting model: %d option, %d assignment, %d unmet variables, %d constraints; "
        "demand %.0f children (%.0f out of reach), existing seats %.0f",
        len(v.open),
        len(v.assign),
        len(v.unmet),
        len(problem.constraints()),
        sum(tables.demand.values()),
        sum(v.fixed_unmet.values()),
        sum(tables.existing.values()),
    )


# --------------------------------------------------------------------------- results


def _frame(records: list[tuple[object, ...]], schema: Mapping[str, str]) -> pd.DataFrame:
    """DataFrame with the schema's columns and dtypes, sorted by its id columns."""
    frame = pd.DataFrame.from_records(records, columns=list(schema)).astype(dict(schema))
    keys = [column for column in schema if column in _ID_COLUMNS]
    return frame.sort_values(keys, kind="mergesort").reset_index(drop=True)


def _persons(value: float | None, upper: float) -> float:
    """Solver value as persons: clipped to ``[0, upper]``, rounded to 1e-6."""
    return round(min(max(value or 0.0, 0.0), upper), _ROUND) + 0.0


def _opened(tables: _Tables, v: SitingVariables) -> pd.DataFrame:
    """Tabulate the opened options (``y > 0.5``)."""
    records: list[tuple[object, ...]] = [
        (c, g, k, tables.options[(c, g, k)].seats, tables.options[(c, g, k)].cost_cny)
        for (c, g, k), y in v.open.items()
        if (y.value() or 0.0) > 0.5
    ]
    return _frame(records, OPENED_SCHEMA)


def _assignments(tables: _Tables, v: SitingVariables) -> pd.DataFrame:
    """Positive flows (> 1e-6 persons), children rounded to 1e-6."""
    records: list[tuple[object, ...]] = []
    for (z, s, g), x in v.assign.items():
        children = _persons(x.value(), tables.demand[(z, g)])
        if children > _ASSIGN_TOL:
            records.append((z, s, g, children, tables.pairs[(z, s, g)]))
    return _frame(records, ASSIGNMENTS_SCHEMA)


def _unmet(tables: _Tables, v: SitingVariables) -> pd.DataFrame:
    """Unmet children for every demand row."""
    records: list[tuple[object, ...]] = []
    for (z, g), d in tables.demand.items():
        if (z, g) in v.unmet:
            value = _persons(v.unmet[(z, g)].value(), d)
        else:
            value = v.fixed_unmet.get((z, g), 0.0)
        records.append((z, g, value))
    return _frame(records, UNMET_SCHEMA)


def _school_load(tables: _Tables, opened: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Enrolment and seats of existing schools and opened sites, per stage."""
    enrolled: dict[SchoolStage, float] = defaultdict(float)
    for s, g, children in zip(
        assignments["school_id"], assignments["stage"], assignments["children"], strict=True
    ):
        enrolled[(s, g)] += float(children)
    seats = dict(tables.existing)
    seats.update(
        {
            (c, g): float(q)
            for c, g, q in zip(opened["site_id"], opened["stage"], opened["seats"], strict=True)
        }
    )
    records: list[tuple[object, ...]] = [
        (s, g, round(enrolled.get((s, g), 0.0), _ROUND), q) for (s, g), q in seats.items()
    ]
    return _frame(records, SCHOOL_LOAD_SCHEMA)


def _empty_result(info: SolveInfo) -> SitingResult:
    """Return the report with empty frames (right columns) when there is no solution."""
    return SitingResult(
        info=info,
        opened=_frame([], OPENED_SCHEMA),
        assignments=_frame([], ASSIGNMENTS_SCHEMA),
        unmet=_frame([], UNMET_SCHEMA),
        school_load=_frame([], SCHOOL_LOAD_SCHEMA),
    )


def solve_siting(data: SitingInput, options: SolverOptions) -> SitingResult:
    """Build and solve the siting MIP and return tidy result tables.

    Parameters
    ----------
    data
        Demand, existing seats, site options, feasible pairs, weights and budget.
    options
        Solver backend and limits.

    Returns
    -------
    SitingResult
        The solver report and the result tables; a run stopped by a limit with an
        incumbent returns the incumbent's tables (``info.status == "feasible"``), a run
        without a solution returns empty tables.

    Raises
    ------
    ValueError
        If an input frame is malformed or references unknown ids.
    """
    tables = _prepare(data)
    problem, v = _build(tables, data)
    info = solve_pulp(problem, options)
    if not info.has_solution:
        logger.warning("siting: no solution (%s)", info.message)
        return _empty_result(info)
    opened = _opened(tables, v)
    assignments = _assignments(tables, v)
    return SitingResult(
        info=info,
        opened=opened,
        assignments=assignments,
        unmet=_unmet(tables, v),
        school_load=_school_load(tables, opened, assignments),
    )
