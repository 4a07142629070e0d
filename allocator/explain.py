"""Why a scenario cannot be satisfied, in the rules' own words, in Chinese or English.

When the siting model is infeasible, :func:`allocator.pipeline.run` re-solves it with every
budget (N-01), project count (N-02), seat target (J-04, G-03, N-03) and school count
(D-06) made elastic: each row gets a named slack in its own unit (CNY, projects, seats,
schools), priced per unit by ``objective.elastic_penalty`` and
``objective.elastic_penalty_by_rule``. The rows whose slack is positive are the
relaxations that make the plan feasible; :func:`explain_plan` puts each in a sentence::

    J-04 new public seats by 2025 (primary, junior): 8,240 seats short of 110,000
    N-01 budget 2026: 120 million CNY over 500 million CNY
    N-02 projects 2024: 3 short of 37
    D-06 new junior schools by 2025: 1 short of 3

or, with ``lang="zh"``::

    J-04 截至 2025 年新增公办学位（小学、初中）：距 110,000 个尚差 8,240 个学位
    N-01 2026 年预算：支出超出 500 百万元共 120 百万元

The relaxation is the smallest in the sense of least *weighted* slack (penalty x amount,
summed), which depends on the penalties; it is not searched for the fewest rules.
:func:`plan_intro` says so, with the penalties used.

The rotation step does the same with its own elastic re-solve
(:mod:`allocator.rotation_pipeline`); :func:`explain_rotation` reads its named slacks
(teachers) per rule, scope and year: ``D-19 at school X 2025: 3 rotating teachers short of
10% of eligible teachers``.

Every sentence comes from the ``[explain]`` section of the message table
(:mod:`allocator.i18n`, ``allocator/locale/{en,zh}.toml``); ``lang`` is ``en`` (the
default, as in :func:`allocator.audit_messages.render`) or ``zh``. Numbers keep their
formatting in both languages (thousands separators, ``10%``); money is in CNY below a
million and in million CNY (百万元, as in the audit) from a million on; rule IDs, school,
county and arc IDs stay as written. A row of a rule without its own sentence (a new elastic
rule) gets the generic "relaxed by" sentence, whose scope stays as the model wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from allocator.i18n import DEFAULT_LANGUAGE, glossary, messages, t
from allocator.plan.data import PlanWeights
from allocator.rotation_input import RotationPolicy
from allocator.solvers import SolveInfo

__all__ = [
    "explain_plan",
    "explain_rotation",
    "money",
    "plan_closing",
    "plan_intro",
    "rotation_intro",
]

TOLERANCE = 1e-6
"""Slack at or below this (in the row's unit) counts as no relaxation."""

ELASTIC_RULES = ("N-01", "N-02", "J-04", "G-03", "N-03", "N-12", "D-06")
"""The siting rules an elastic re-solve relaxes (catalogue order of their families)."""

_CUMULATIVE = re.compile(r"(\S+) cumulative")
_YEAR = re.compile(r"\d{4}")
_PROJECTS = re.compile(r"projects (\d{4})")
_NEW_SCHOOLS = re.compile(r"new (\S+) schools by (\d{4})")
_SHARE = re.compile(r"(\S+) (\S+) share (\d{4}) >= (.+)")


def _t(key: str, lang: str, /, **values: object) -> str:
    """The ``[explain]`` message ``key`` in ``lang``."""
    return t(f"explain.{key}", lang, **values)


def _count(value: float) -> str:
    """A count with thousands separators; one decimal unless whole."""
    rounded = round(value)
    if abs(value - rounded) < 1e-6:
        return f"{rounded:,.0f}"
    return f"{value:,.1f}"


def _number(value: float) -> str:
    """A quantity in the generic sentence: a fraction below one (0.45) with up to 4 decimals.

    Other values as :func:`_count`.
    """
    if abs(value) < 1 and abs(value - round(value)) >= 1e-6:
        return f"{value:.4f}".rstrip("0")
    return _count(value)


def money(cny: float, lang: str = DEFAULT_LANGUAGE) -> str:
    """CNY in words: ``600,000 CNY``; from a million on ``1.02 million CNY`` (百万元)."""
    if abs(cny) >= 1e6:
        text = f"{cny / 1e6:,.2f}".rstrip("0").rstrip(".")
        return _t("money_million", lang, amount=text)
    return _t("money_cny", lang, amount=f"{cny:,.0f}")


def _plural(value: float, key: str, lang: str) -> str:
    """``value`` with its unit: message ``key`` for one, ``key + "s"`` otherwise."""
    return _t(key if abs(value - 1) < 1e-9 else f"{key}s", lang, count=_count(value))


def _status(status: str, lang: str) -> str:
    """A solve status in ``lang`` (as written in English or when unknown)."""
    if lang == DEFAULT_LANGUAGE:
        return status
    return messages().get(f"status.{status}", lang) or status


def _gap(sense: str, lhs: float, rhs: float) -> str:
    """Message key ``short_of`` or ``over`` for a relaxed row."""
    if sense == ">=":
        return "short_of"
    if sense == "<=":
        return "over"
    return "short_of" if lhs < rhs else "over"


def _budget_scope(scope: str, lang: str) -> str:
    """An N-01 row's scope (``2026``, ``2024-2026 cumulative``, ``horizon``) in ``lang``."""
    if scope == "horizon":
        return _t("scope_horizon", lang)
    found = _CUMULATIVE.fullmatch(scope)
    if found is not None:
        return _t("scope_cumulative", lang, scope=found.group(1))
    if _YEAR.fullmatch(scope):
        return _t("scope_year", lang, year=scope)
    return scope


def _stages(label: str, lang: str) -> str:
    """``primary+junior`` as ``primary, junior`` (小学、初中)."""
    return _t("stage_join", lang).join(glossary(s, lang) for s in label.split("+"))


def _plan_line(row: Mapping[Any, Any], lang: str) -> str:
    """One relaxed row of the siting model's rule report in words."""
    rule_id, scope = str(row["rule_id"]), str(row["scope"])
    amount, lhs, rhs = float(row["elastic"]), float(row["lhs"]), float(row["rhs"])
    gap = _gap(str(row["sense"]), lhs, rhs)
    if rule_id == "N-01":
        return _t("plan_budget", lang, scope=_budget_scope(scope, lang),
                  gap=_t(gap, lang, amount=money(amount, lang), limit=money(rhs, lang)))
    if rule_id == "N-02":
        found = _PROJECTS.fullmatch(scope)
        where = scope if found is None else _t("scope_projects", lang, year=found.group(1))
        return _t("plan_projects", lang, scope=where, gap=_t(
            gap, lang, amount=_t("n_projects", lang, count=_count(amount)),
            limit=_t("n_projects", lang, count=_count(rhs))))
    if " new public seats by " in scope:
        return _t("plan_seats", lang, rule=rule_id, year=scope.rsplit(" ", 1)[-1],
                  stages=_stages(str(row["stage"]), lang), gap=_t(
                      gap, lang, amount=_plural(amount, "seat", lang),
                      limit=_t("seat_limit", lang, count=_count(rhs))))
    share = _SHARE.fullmatch(scope)
    if share is not None:  # N-12: "public kindergarten share 2025 >= 55 %"
        ownership, stage, year, minimum = share.groups()
        return _t("plan_share", lang, rule=rule_id, ownership=glossary(ownership, lang),
                  stage=glossary(stage, lang), year=year, gap=_t(
                      gap, lang, amount=_plural(amount, "child", lang), limit=minimum))
    if rule_id == "D-06" or scope.startswith("new "):
        found = _NEW_SCHOOLS.fullmatch(scope)
        if found is None:
            where, unit = scope, "n_plain"
        else:
            where, unit = _t("scope_new_schools", lang, stage=glossary(found.group(1), lang),
                             year=found.group(2)), "n_schools"
        return _t("plan_count", lang, rule=rule_id, scope=where, gap=_t(
            gap, lang, amount=_t(unit, lang, count=_count(amount)),
            limit=_t(unit, lang, count=_count(rhs))))
    return _t("plan_relaxed", lang, rule=rule_id, scope=scope, amount=_number(amount),
              lhs=_number(lhs), sense=row["sense"], rhs=_number(rhs))


def explain_plan(rule_report: pd.DataFrame, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The relaxations of an elastic siting solution, one sentence per relaxed row.

    Parameters
    ----------
    rule_report
        :attr:`allocator.plan.data.PlanResult.rule_report` of an elastic solve
        (``rule_id, scope, year, stage, lhs, sense, rhs, slack, elastic``); rows with
        ``elastic`` above :data:`TOLERANCE` are relaxed (amount in the row's unit: CNY for
        N-01, projects for N-02, seats for J-04 / G-03 / N-03, schools for D-06).
    lang
        ``en`` or ``zh`` (:mod:`allocator.i18n`).

    Returns
    -------
    list of str
        In the report's order (rule families in build order, rows in key order).
    """
    if rule_report.empty:
        return []
    relaxed = rule_report[rule_report["elastic"].astype(float) > TOLERANCE]
    return [_plan_line(row, lang) for row in relaxed.to_dict(orient="records")]


def _penalty(weights: PlanWeights, rule_id: str, lang: str) -> str:
    value = weights.elastic_penalty_of(rule_id)
    unit = {"N-01": "per_cny", "N-02": "per_project", "D-06": "per_school",
            "N-12": "per_child"}.get(rule_id, "per_seat")
    return _t("penalty", lang, rule=rule_id, value=f"{value:,.6g}", unit=_t(unit, lang))


def plan_intro(hard: SolveInfo, elastic: SolveInfo, weights: PlanWeights, relaxed: int,
               rules: tuple[str, ...] = ELASTIC_RULES,
               lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The sentence before :func:`explain_plan`'s lines.

    It says what was infeasible and how it was relaxed: the penalties per unit of the
    elastic ``rules`` the model has rows of (objective units per CNY, project, seat or
    school), and that the relaxation is the one of least weighted slack. ``lang``: ``en``
    or ``zh``.
    """
    penalties = _t("penalty_join", lang).join(
        _penalty(weights, r, lang) for r in ELASTIC_RULES if r in rules)
    head = _t("plan_head", lang, status=_status(hard.status, lang))
    if not elastic.has_solution:
        return [head + _t("plan_no_elastic", lang, status=_status(elastic.status, lang))]
    if relaxed == 0:
        return [head + _t("plan_nothing", lang)]
    return [head + _t("plan_relaxes", lang, count=relaxed, penalties=penalties)]


def plan_closing(lang: str = DEFAULT_LANGUAGE) -> str:
    """The sentence after :func:`explain_plan`'s lines: where the elastic rule report is."""
    return _t("plan_closing", lang)


def _pct(share: float) -> str:
    return f"{share * 100:.10g}%"


def _place(scope: str, lang: str) -> str:
    """A rotation slack's scope (``school``, ``county`` ...) in ``lang``; else as written."""
    return messages().get(f"explain.place_{scope}", lang) or scope


def _rotation_line(row: Mapping[Any, Any], policy: RotationPolicy | None, lang: str) -> str:
    """One named slack of the rotation model in words."""
    rule_id, scope, sid = str(row["rule_id"]), str(row["scope"]), str(row["scope_id"])
    year = ("" if row["year"] is None or pd.isna(row["year"])
            else _t("year", lang, year=int(row["year"])))
    n = float(row["amount"])
    place = _place(scope, lang)
    if rule_id == "D-19" and sid.endswith(":backbone"):
        share = _pct(policy.backbone_min_share) if policy else _t("the_share", lang)
        return _t("rot_backbone", lang, place=place, id=sid.removesuffix(":backbone"),
                  year=year, amount=_plural(n, "backbone_rotator", lang), share=share)
    if rule_id == "D-19":
        share = _pct(policy.rotation_min_share) if policy else _t("the_share", lang)
        return _t("rot_quota", lang, place=place, id=sid, year=year,
                  amount=_plural(n, "rotating_teacher", lang), share=share)
    if rule_id in ("J-08", "G-10"):
        share = _pct(policy.backbone_school_min) if policy else _t("the_share", lang)
        return _t("rot_school_backbone", lang, rule=rule_id, place=place, id=sid, year=year,
                  amount=_plural(n, "backbone_teacher", lang), share=share)
    if rule_id == "G-11":
        school, _, subject = sid.partition(":")
        lock = _t("rot_lock_years", lang, years=policy.talent_lock_years) if policy else ""
        what = _t("rot_subject", lang, subject=subject) if subject else ""
        return _t("rot_lock", lang, id=school, subject=what, year=year,
                  amount=_plural(n, "talent_move", lang), lock=lock)
    if rule_id == "J-15":
        return _t("rot_research", lang, id=sid, year=year,
                  amount=_plural(n, "researcher", lang))
    if rule_id == "J-18":
        need = (_t("rot_pairing_need", lang, count=policy.pairing_min_exchanges) if policy
                else _t("the_minimum", lang))
        return _t("rot_pairing", lang, id=sid, year=year, amount=_plural(n, "exchange", lang),
                  need=need)
    if rule_id == "J-27":
        return _t("rot_floor", lang, id=sid, year=year, amount=_plural(n, "teacher", lang))
    if rule_id in ("D-21", "Z-10"):
        return _t("rot_posts", lang, rule=rule_id, id=sid, year=year,
                  amount=_plural(n, "post", lang))
    if scope == "arc":
        source, _, target = sid.partition("->")
        return _t("rot_arc", lang, rule=rule_id, year=year, amount=_plural(n, "move", lang),
                  source=source, target=target)
    return _t("rot_relaxed", lang, rule=rule_id, scope=place, id=sid, year=year,
              amount=_count(n))


def explain_rotation(summary: Mapping[str, Any], slacks: pd.DataFrame | None = None,
                     policy: RotationPolicy | None = None,
                     lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The relaxations of an elastic rotation solution, one sentence per named slack.

    Parameters
    ----------
    summary
        The rotation step's summary (:func:`allocator.rotation_summary.summarise`); empty
        list unless ``summary["elastic"]`` is true.
    slacks
        :attr:`allocator.rotation.RotationResult.slacks` (``rule_id, scope, scope_id, year,
        amount`` in teachers); without it, one line per rule from ``summary["slack"]``.
    policy
        The rotation policy, for the shares the rules ask (10 %, 20 % ...).
    lang
        ``en`` or ``zh`` (:mod:`allocator.i18n`).

    Returns
    -------
    list of str
        In the slacks' order (rule, scope, scope id, year).
    """
    if not summary.get("elastic"):
        return []
    if slacks is None:
        totals: Mapping[str, Any] = summary.get("slack") or {}
        return [_t("rot_total", lang, rule=rule_id, amount=_plural(float(n), "teacher", lang))
                for rule_id, n in sorted(totals.items()) if float(n) > 0]
    positive = slacks[slacks["amount"].astype(float) > 0]
    return [_rotation_line(row, policy, lang) for row in positive.to_dict(orient="records")]


def rotation_intro(summary: Mapping[str, Any], lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The sentence before :func:`explain_rotation`'s lines (``lang``: ``en`` or ``zh``).

    Empty unless the run was re-solved elastic after a failed hard solve.
    """
    hard = summary.get("hard")
    if not summary.get("elastic") or not hard:
        return []
    status = (_status(str(hard["status"]), lang) if "status" in hard
              else _t("rot_without_solution", lang))
    if summary.get("status") not in ("optimal", "feasible"):
        return [_t("rot_no_elastic", lang, status=status,
                   elastic=_status(str(summary.get("status")), lang))]
    return [_t("rot_head", lang, status=status)]
