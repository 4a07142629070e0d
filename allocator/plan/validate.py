"""Validated input tables of the multi-period siting model (see :mod:`allocator.plan`).

:func:`validate` checks a :class:`~allocator.plan.data.PlanInput` (frames and rules) and
turns it into :class:`PlanTables`: plain, sorted dictionaries keyed by string ids, the
form the model builder, the greedy warm start and the result tables work from. Every
error is a ``ValueError`` naming the frame, the column and a few offending rows.

Two rules act here, as filters on the decisions the model may take:

* J-20 (no new private compulsory schools): options that are private and serve a stage of
  ``public_only_stages`` are dropped; private schools get no expansion of those stages
  (:func:`public_only_options`).
* N-05 (school size): options with more classes of a stage than
  ``max_classes_by_stage`` are dropped (:func:`size_limited_options`).

Z-18 (class caps never rise) is checked in :func:`check_caps`.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from allocator.plan.checks import (
    choice_column,
    examples,
    flag_column,
    id_column,
    no_duplicates,
    number_column,
    require_columns,
    same_per_key,
    year_column,
)
from allocator.plan.data import PlanInput, PlanRules
from allocator.rules import Kind, catalogue, rule

__all__ = [
    "ExistingStage",
    "Option",
    "PlanTables",
    "School",
    "check_caps",
    "public_only_options",
    "size_limited_options",
    "validate",
]

logger = logging.getLogger(__name__)

SENSES = ("exact", "at_least", "at_most")
OWNERSHIPS = ("public", "private")


@dataclass(frozen=True)
class School:
    """School-level data of an existing school.

    Attributes
    ----------
    max_classes
        Largest total number of classes over all stages after expansion (classes), or
        ``None`` (no expansion).
    ownership
        ``public`` or ``private``.
    closable
        Closure is a decision (with :attr:`PlanRules.allow_closures`).
    closure_value_cny
        Value of closing the school (CNY); a negative capital cost.
    closure_year
        Period year of a closure decided outside the model, or ``None``.
    """

    max_classes: float | None
    ownership: str
    closable: bool
    closure_value_cny: float
    closure_year: int | None


@dataclass(frozen=True)
class ExistingStage:
    """One stage of an existing school.

    Attributes
    ----------
    classes
        Today's classes of the stage.
    module_classes
        Classes per expansion module, or ``None`` (the stage cannot be expanded).
    module_cost_cny
        CNY per module (0 when the stage cannot be expanded).
    """

    classes: int
    module_classes: int | None
    module_cost_cny: float


@dataclass(frozen=True)
class Option:
    """One size option of a candidate site.

    Attributes
    ----------
    site_id, option_id
        Ids.
    cost_cny
        Capital cost of the whole option (CNY).
    ownership
        ``public`` or ``private``.
    classes
        Classes by stage served (a nine-year option has two entries), in stage order.
    """

    site_id: str
    option_id: str
    cost_cny: float
    ownership: str
    classes: dict[str, int]


OptionKey = tuple[str, str]  # (site_id, option_id)


@dataclass(frozen=True, eq=False)
class PlanTables:
    """Validated, sorted inputs keyed by string ids.

    Attributes
    ----------
    periods
        Period years, increasing.
    stages
        Stages with demand rows, sorted.
    demand
        ``(zone_id, stage, year) -> children`` (persons), every demand row, sorted.
    migrant
        ``(zone_id, stage, year) -> migrant children`` (persons), rows with migrants only.
    caps
        ``(stage, year) -> pupils per class``.
    schools
        ``school_id -> School``.
    existing
        ``(school_id, stage) -> ExistingStage``, sorted.
    options
        ``(site_id, option_id) -> Option`` the model may open (after J-20 and N-05).
    dropped
        ``(site_id, option_id) -> reason`` of options removed by J-20 or N-05.
    pairs
        ``(zone_id, school_id, stage) -> distance_m`` (metres) of pairs whose school serves
        the stage (options dropped by J-20 or N-05 serve nothing).
    catchment
        ``(school_id, site_id)`` pairs of D-10, sorted.
    """

    periods: tuple[int, ...]
    stages: tuple[str, ...]
    demand: dict[tuple[str, str, int], float]
    migrant: dict[tuple[str, str, int], float]
    caps: dict[tuple[str, int], float]
    schools: dict[str, School]
    existing: dict[tuple[str, str], ExistingStage]
    options: dict[OptionKey, Option]
    dropped: dict[OptionKey, str]
    pairs: dict[tuple[str, str, str], float]
    catchment: list[tuple[str, str]] = field(default_factory=list)

    def site_stages(self) -> set[tuple[str, str]]:
        """``(site_id, stage)`` served by some option the model may open."""
        return {(o.site_id, g) for o in self.options.values() for g in o.classes}


# --------------------------------------------------------------------------- frames


def _periods(periods: tuple[int, ...]) -> tuple[int, ...]:
    """Period years: whole numbers, strictly increasing, at least one."""
    years = tuple(periods)
    if not years:
        raise ValueError("periods: at least one period year is needed")
    if any(isinstance(y, bool) or int(y) != y for y in years):
        raise ValueError(f"periods: years must be whole numbers, got {list(years)}")
    ints = tuple(int(y) for y in years)
    if any(b <= a for a, b in itertools.pairwise(ints)):
        raise ValueError(f"periods: years must be strictly increasing, got {list(ints)}")
    return ints


def _demand(frame: pd.DataFrame, periods: tuple[int, ...]) -> tuple[
    dict[tuple[str, str, int], float], dict[tuple[str, str, int], float]
]:
    """Children and migrant children by (zone, stage, year)."""
    name = "demand"
    require_columns(frame, name, ("zone_id", "stage", "year", "children"))
    zones, stages = id_column(frame, name, "zone_id"), id_column(frame, name, "stage")
    years = year_column(frame, name, periods)
    children = number_column(frame, name, "children")
    migrant = number_column(frame, name, "migrant", default=0.0)
    over = [(row, m, d) for row, m, d in zip(frame.index.tolist(), migrant, children, strict=True)
            if m > d]
    if over:
        raise ValueError(f"demand: column 'migrant' must be <= 'children'; found (row, migrant, "
                         f"children) {examples(over)}")
    keys = list(zip(zones, stages, years, strict=True))
    no_duplicates(keys, name, "zone_id, stage, year")
    order = sorted(range(len(keys)), key=keys.__getitem__)
    demand = {keys[i]: children[i] for i in order}
    migrants = {keys[i]: migrant[i] for i in order if migrant[i] > 0}
    return demand, migrants


@rule("Z-18", kind=Kind.PARAM, family="seats", params=("standards.class_caps",))
def check_caps(caps: Mapping[tuple[str, int], float], periods: tuple[int, ...]) -> None:
    """Class caps never rise over time (Z-18): ``cap[g, t_{i+1}] <= cap[g, t_i]``.

    Parameters
    ----------
    caps
        ``(stage, year) -> pupils per class``.
    periods
        Period years, increasing.

    Raises
    ------
    ValueError
        Naming the stage and the two years where a cap rises.
    """
    for g in sorted({g for g, _ in caps}):
        for a, b in itertools.pairwise(periods):
            if (g, a) in caps and (g, b) in caps and caps[(g, b)] > caps[(g, a)]:
                raise ValueError(
                    f"caps: class cap of {g!r} rises from {caps[(g, a)]:g} in {a} to "
                    f"{caps[(g, b)]:g} in {b}; caps may only fall over time (Z-18)"
                )


def _caps(frame: pd.DataFrame, periods: tuple[int, ...],
          stages: Iterable[str]) -> dict[tuple[str, int], float]:
    """Pupils per class by (stage, year): every listed stage in every period, non-increasing."""
    name = "caps"
    require_columns(frame, name, ("stage", "year", "cap"))
    cap_stages = id_column(frame, name, "stage")
    keys = list(zip(cap_stages, year_column(frame, name, periods), strict=True))
    no_duplicates(keys, name, "stage, year")
    caps = dict(zip(keys, number_column(frame, name, "cap", strict=True), strict=True))
    missing = [(g, t) for g in sorted(set(stages)) for t in periods if (g, t) not in caps]
    if missing:
        raise ValueError(f"caps: no class cap for (stage, year) {examples(missing)}; every "
                         "demand stage and seat-target stage needs one in every period")
    check_caps(caps, periods)
    return dict(sorted(caps.items()))


def _existing(frame: pd.DataFrame, periods: tuple[int, ...]) -> tuple[
    dict[str, School], dict[tuple[str, str], ExistingStage]
]:
    """School-level and stage-level tables of the existing schools."""
    name = "existing"
    require_columns(frame, name, ("school_id", "stage", "classes"))
    schools, stages = id_column(frame, name, "school_id"), id_column(frame, name, "stage")
    no_duplicates(list(zip(schools, stages, strict=True)), name, "school_id, stage")
    classes = number_column(frame, name, "classes", whole=True)
    max_classes = number_column(frame, name, "max_classes", default=math.nan, allow_nan=True,
                           whole=True)
    module = number_column(frame, name, "module_classes", default=math.nan, allow_nan=True,
                      minimum=1.0, whole=True)
    module_cost = number_column(frame, name, "module_cost_cny", default=math.nan, allow_nan=True)
    ownership = choice_column(frame, name, "ownership", "public", OWNERSHIPS)
    closable = flag_column(frame, name, "closable")
    value = number_column(frame, name, "closure_value_cny", default=0.0)
    closure = number_column(frame, name, "closure_year", default=math.nan, allow_nan=True,
                       whole=True)
    for column, values in (("max_classes", max_classes), ("ownership", ownership),
                           ("closable", closable), ("closure_value_cny", value),
                           ("closure_year", closure)):
        same_per_key(schools, list(values), name, column, "school")
    bad_year = sorted({(s, y) for s, y in zip(schools, closure, strict=True)
                       if not math.isnan(y) and int(y) not in periods})
    if bad_year:
        raise ValueError(f"existing: column 'closure_year' must be a period year "
                         f"{list(periods)}; found (school_id, year) {examples(bad_year)}")
    unpriced = [(s, g) for s, g, mc, cost in zip(schools, stages, module, module_cost,
                                                  strict=True)
                if not math.isnan(mc) and math.isnan(cost)]
    if unpriced:
        raise ValueError(f"existing: rows with 'module_classes' need 'module_cost_cny'; "
                         f"missing for (school_id, stage) {examples(unpriced)}")
    school_table: dict[str, School] = {}
    stage_table: dict[tuple[str, str], ExistingStage] = {}
    for i in sorted(range(len(schools)), key=lambda j: (schools[j], stages[j])):
        s = schools[i]
        school_table.setdefault(s, School(
            max_classes=None if math.isnan(max_classes[i]) else max_classes[i],
            ownership=ownership[i],
            closable=closable[i],
            closure_value_cny=value[i],
            closure_year=None if math.isnan(closure[i]) else int(closure[i]),
        ))
        mc = None if math.isnan(module[i]) else int(module[i])
        stage_table[(s, stages[i])] = ExistingStage(
            classes=int(classes[i]), module_classes=mc,
            module_cost_cny=0.0 if mc is None else module_cost[i],
        )
    return dict(sorted(school_table.items())), stage_table


def _options(frame: pd.DataFrame) -> dict[OptionKey, Option]:
    """Options by (site, option), each with its classes by stage."""
    name = "options"
    require_columns(frame, name, ("site_id", "option_id", "stage", "classes", "cost_cny"))
    sites, ids = id_column(frame, name, "site_id"), id_column(frame, name, "option_id")
    stages = id_column(frame, name, "stage")
    no_duplicates(list(zip(sites, ids, stages, strict=True)), name, "site_id, option_id, stage")
    classes = number_column(frame, name, "classes", minimum=1.0, whole=True)
    cost = number_column(frame, name, "cost_cny")
    ownership = choice_column(frame, name, "ownership", "public", OWNERSHIPS)
    keys = [f"{c}\x00{k}" for c, k in zip(sites, ids, strict=True)]
    same_per_key(keys, cost, name, "cost_cny", "site option")
    same_per_key(keys, ownership, name, "ownership", "site option")
    table: dict[OptionKey, Option] = {}
    for i in sorted(range(len(sites)), key=lambda j: (sites[j], ids[j], stages[j])):
        key = (sites[i], ids[i])
        if key not in table:
            table[key] = Option(sites[i], ids[i], cost[i], ownership[i], {})
        table[key].classes[stages[i]] = int(classes[i])
    return table


@rule("J-20", kind=Kind.HARD, family="sites",
      params=("rules.public_only_stages", "rules.private_allowed"))
def public_only_options(options: Mapping[OptionKey, Option], public_only: Iterable[str],
                        allowed: Iterable[str] = ()) -> dict[OptionKey, str]:
    """Options J-20 forbids: private options serving a public-only (compulsory) stage.

    ``open[c, k, t] = 0`` (no variable) for every private option ``k`` with a stage in
    ``public_only_stages``, unless site ``c`` is a listed exception (``private_allowed``:
    then only outside its years, see :func:`allocator.plan.variables.private_period_ok`);
    private schools get no expansion modules of those stages (see
    :func:`allocator.plan.variables.expandable`).

    Returns
    -------
    dict
        ``(site_id, option_id) -> reason``.
    """
    stages, excepted = set(public_only), set(allowed)
    return {
        key: f"J-20: private option serving public-only stage(s) "
             f"{sorted(stages & set(o.classes))}"
        for key, o in options.items()
        if o.ownership == "private" and stages & set(o.classes) and o.site_id not in excepted
    }


@rule("N-05", kind=Kind.HARD, family="seats", params=("rules.max_classes_by_stage",))
def size_limited_options(options: Mapping[OptionKey, Option],
                         limits: Mapping[str, int]) -> dict[OptionKey, str]:
    """Options N-05 forbids: more classes of a stage than its school-size limit.

    ``open[c, k, t] = 0`` (no variable) when ``classes[k, g] > max_classes_by_stage[g]``
    for some stage ``g`` of option ``k``.

    Returns
    -------
    dict
        ``(site_id, option_id) -> reason``.
    """
    out = {}
    for key, o in options.items():
        over = [(g, n) for g, n in o.classes.items() if g in limits and n > limits[g]]
        if over:
            text = ", ".join(f"{g} {n} > {limits[g]} classes" for g, n in over)
            out[key] = f"N-05: {text}"
    return out


def _pairs(frame: pd.DataFrame, zone_stages: set[tuple[str, str]],
           existing: Mapping[tuple[str, str], ExistingStage],
           all_site_stages: set[tuple[str, str]],
           site_stages: set[tuple[str, str]]) -> dict[tuple[str, str, str], float]:
    """Distances of the feasible pairs (D-07) of schools that serve the stage."""
    name = "pairs"
    require_columns(frame, name, ("zone_id", "school_id", "stage", "distance_m"))
    zones, schools = id_column(frame, name, "zone_id"), id_column(frame, name, "school_id")
    stages = id_column(frame, name, "stage")
    keys = list(zip(zones, schools, stages, strict=True))
    no_duplicates(keys, name, "zone_id, school_id, stage")
    dist = number_column(frame, name, "distance_m")
    no_zone = [(z, g) for z, _, g in keys if (z, g) not in zone_stages]
    if no_zone:
        raise ValueError(f"pairs: (zone_id, stage) not in demand: {examples(no_zone)}; every "
                         "pair must start at a demand zone and stage")
    unknown = [(s, g) for _, s, g in keys if (s, g) not in existing
               and (s, g) not in all_site_stages]
    if unknown:
        raise ValueError(f"pairs: (school_id, stage) is neither an existing school nor a "
                         f"candidate site option of that stage: {examples(unknown)}")
    table = {k: d for k, d in zip(keys, dist, strict=True)
             if (k[1], k[2]) in existing or (k[1], k[2]) in site_stages}
    return dict(sorted(table.items()))


def _catchment(frame: pd.DataFrame | None, schools: Mapping[str, School],
               sites: set[str]) -> list[tuple[str, str]]:
    """D-10 (school, site) pairs."""
    if frame is None:
        return []
    name = "catchment"
    require_columns(frame, name, ("school_id", "site_id"))
    schools_ids = id_column(frame, name, "school_id")
    keys = list(zip(schools_ids, id_column(frame, name, "site_id"), strict=True))
    unknown = [k for k in keys if k[0] not in schools or k[1] not in sites]
    if unknown:
        raise ValueError(f"catchment: (school_id, site_id) must name an existing school and a "
                         f"candidate site; found {examples(unknown)}")
    return sorted(set(keys))


# --------------------------------------------------------------------------- rules


def _check_rules(rules: PlanRules, periods: tuple[int, ...]) -> None:
    """Check the rule parameters against the periods and the catalogue."""
    known = catalogue()
    for t, b in rules.budget_by_period.items():
        if t not in periods or not (math.isfinite(b) and b >= 0):
            raise ValueError(f"rules.budget_by_period: {t}: {b} must be a period year with a "
                             f"finite budget >= 0 (periods {list(periods)})")
    total = rules.budget_total
    if total is not None and not (math.isfinite(total) and total >= 0):
        raise ValueError(f"rules.budget_total must be finite and >= 0 or None, got {total}")
    for t, n in rules.projects_by_period.items():
        if t not in periods or isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"rules.projects_by_period: {t}: {n} must be a period year with a "
                             f"whole number >= 0 (periods {list(periods)})")
    if rules.projects_sense not in SENSES:
        raise ValueError(f"rules.projects_sense must be one of {SENSES}, "
                         f"got {rules.projects_sense!r}")
    for i, s in enumerate(rules.seat_targets):
        where = f"rules.seat_targets[{i}] ({s.rule_id} {s.year})"
        if s.rule_id not in known:
            raise ValueError(f"{where}: rule_id {s.rule_id!r} is not in the rule catalogue")
        if not s.stages or s.year not in periods:
            raise ValueError(f"{where}: needs at least one stage and a period year "
                             f"{list(periods)}")
        if not (math.isfinite(s.min_seats) and s.min_seats >= 0):
            raise ValueError(f"{where}: min_seats must be finite and >= 0, got {s.min_seats}")
    for i, c in enumerate(rules.count_targets):
        where = f"rules.count_targets[{i}] ({c.rule_id} {c.stage} {c.year})"
        if c.rule_id not in known:
            raise ValueError(f"{where}: rule_id {c.rule_id!r} is not in the rule catalogue")
        if c.year not in periods or c.sense not in SENSES:
            raise ValueError(f"{where}: year must be a period year {list(periods)} and sense "
                             f"one of {SENSES}")
        if isinstance(c.count, bool) or int(c.count) != c.count or c.count < 0:
            raise ValueError(f"{where}: count must be a whole number >= 0, got {c.count}")
    for i, share in enumerate(rules.share_targets):
        where = f"rules.share_targets[{i}] ({share.rule_id} {share.year})"
        if share.rule_id not in known:
            raise ValueError(f"{where}: rule_id {share.rule_id!r} is not in the rule catalogue")
        if share.year not in periods:
            raise ValueError(f"{where}: year must be a period year {list(periods)}")
        if isinstance(share.min_share, bool) or not (
                math.isfinite(share.min_share) and 0 <= share.min_share <= 1):
            raise ValueError(f"{where}: min_share must be a fraction 0 <= min_share <= 1, "
                             f"got {share.min_share}")
        if share.ownership not in OWNERSHIPS:
            raise ValueError(f"{where}: ownership must be one of {list(OWNERSHIPS)}, "
                             f"got {share.ownership!r}")
    for g, n in rules.max_classes_by_stage.items():
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"rules.max_classes_by_stage[{g!r}] must be a whole number >= 0, "
                             f"got {n}")


def validate(data: PlanInput) -> PlanTables:
    """Check a plan input and turn it into sorted lookup tables.

    Parameters
    ----------
    data
        Frames, rules and weights of a run (see :mod:`allocator.plan.data`).

    Returns
    -------
    PlanTables
        The inputs keyed by string ids, with J-20 and N-05 applied to the options.

    Raises
    ------
    ValueError
        Naming the frame (or rule), the column and offending rows, when a frame misses a
        column, has duplicate keys, values out of range, unknown ids, years that are not
        period years, class caps that rise (Z-18), or rule parameters that do not fit.
    """
    periods = _periods(data.periods)
    rules = data.rules
    _check_rules(rules, periods)
    demand, migrant = _demand(data.demand, periods)
    stages = tuple(sorted({g for _, g, _ in demand}))
    for i, share in enumerate(rules.share_targets):
        if share.stage not in stages:
            raise ValueError(f"rules.share_targets[{i}] ({share.rule_id} {share.year}): stage "
                             f"{share.stage!r} is not a planned stage (stages with demand: "
                             f"{list(stages)})")
    target_stages = {g for s in rules.seat_targets for g in s.stages}
    caps = _caps(data.caps, periods, set(stages) | target_stages)
    schools, existing = _existing(data.existing, periods)
    all_options = _options(data.options)
    clash = sorted(set(schools) & {c for c, _ in all_options})
    if clash:
        raise ValueError(f"ids used both as existing school and candidate site: "
                         f"{examples(clash)}")
    dropped = public_only_options(all_options, rules.public_only_stages, rules.private_allowed)
    for key, reason in size_limited_options(all_options, rules.max_classes_by_stage).items():
        dropped.setdefault(key, reason)
    options = {k: o for k, o in all_options.items() if k not in dropped}
    if dropped:
        logger.info("plan: %d of %d site options excluded (J-20 / N-05)", len(dropped),
                    len(all_options))
    all_site_stages = {(o.site_id, g) for o in all_options.values() for g in o.classes}
    site_stages = {(o.site_id, g) for o in options.values() for g in o.classes}
    zone_stages = {(z, g) for z, g, _ in demand}
    pairs = _pairs(data.pairs, zone_stages, existing, all_site_stages, site_stages)
    catchment = _catchment(data.catchment, schools, {c for c, _ in all_options})
    return PlanTables(
        periods=periods,
        stages=stages,
        demand=demand,
        migrant=migrant,
        caps=caps,
        schools=schools,
        existing=existing,
        options=options,
        dropped=dropped,
        pairs=pairs,
        catchment=catchment,
    )
