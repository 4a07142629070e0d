"""Independent audit: every active HARD and TARGET rule recomputed from result tables.

The audit never looks at a model: it reads the tidy result tables (pandas) and the
scenario's parameters, recomputes each rule with the formula in its check's docstring and
writes one row per rule and scope (``audit.csv``):

``rule_id, kind, document, clause, scope, sense, required, actual, status, message``

``kind`` is how the rule binds a plan (HARD or TARGET); ``document`` and ``clause`` come
from the rule catalogue; ``scope`` reads ``school=S1; stage=primary; year=2025``;
``required`` and ``actual`` are the bound and the recomputed value (``actual sense
required`` must hold); ``status`` is ``pass``, ``fail``, ``exception`` (lifted by an
exception the scenario lists) or ``not applicable`` (rule off, no parameter in the
scenario, or a column missing: the message names it); ``message`` explains in words
(:mod:`allocator.audit_messages`).

Entry points: :func:`audit_tables` (tables in memory), :func:`audit_results_dir` (a
results directory), :func:`audit_plan` (a planner's own layout against a scenario) and
:func:`hard_failures`. The checks are in :mod:`allocator.audit_siting`,
:mod:`allocator.audit_targets` and :mod:`allocator.audit_rotation`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from allocator import audit_rotation, audit_siting, audit_targets  # noqa: F401 (register)
from allocator.audit_core import CHECKS, EXCEPTION, NOT_APPLICABLE, AuditContext, Finding, normalise
from allocator.audit_io import read_plan, read_tables_dir, scenario_tables
from allocator.audit_messages import audit_language, render
from allocator.audit_params import AuditParams, ConfigLike, params_from_config
from allocator.rules import Kind, catalogue
from allocator.scenario import ResolvedScenario

__all__ = [
    "AUDITED_RULES",
    "AUDIT_COLUMNS",
    "AUDIT_FILE",
    "NOT_AUDITED",
    "audit_plan",
    "audit_results_dir",
    "audit_tables",
    "hard_failures",
    "write_audit",
]

log = logging.getLogger(__name__)

AUDIT_FILE = "audit.csv"
AUDIT_COLUMNS = ("rule_id", "kind", "document", "clause", "scope", "sense", "required",
                 "actual", "status", "message")

AUDITED_RULES: tuple[str, ...] = (
    "D-13", "D-14", "Z-18", "D-07", "N-05", "J-20", "D-23", "D-10",
    "N-01", "N-02", "J-04", "G-03", "N-03", "D-06", "N-12",
    "D-19", "J-10", "G-12", "J-08", "G-10", "J-18", "J-27", "D-21", "Z-10",
)
"""Rules the audit re-checks; a test keeps it equal to the registered checks."""

NOT_AUDITED: Mapping[str, str] = {
    "G-11": "the talent lock needs each teacher's designation year and school kind over the "
            "years, which the result tables do not carry",
    "J-15": "researchers' years in post are not in the result tables; the rotation model's "
            "own report (staffing rules) covers it",
}
"""HARD or TARGET rules implemented by a model but not re-checked here, with the reason."""


def _findings(ctx: AuditContext, rule_id: str) -> list[Finding]:
    """The findings of one rule (one ``not applicable`` row if it is off or cannot run)."""
    if not ctx.params.active(rule_id):
        return [Finding(rule_id, (), "", None, None, NOT_APPLICABLE, "inactive",
                        {"rule": rule_id})]
    try:
        found = CHECKS[rule_id].function(ctx)
    except (KeyError, ValueError, TypeError) as exc:
        log.warning("audit of %s could not run: %s: %s", rule_id, type(exc).__name__, exc)
        return [Finding(rule_id, (), "", None, None, NOT_APPLICABLE, "error",
                        {"error": f"{type(exc).__name__}: {exc}"})]
    return found or [Finding(rule_id, (), "", None, None, NOT_APPLICABLE, "no_rows")]


def audit_tables(tables: Mapping[str, pd.DataFrame], config: ConfigLike, *,
                 language: str | None = None) -> pd.DataFrame:
    """Audit result tables against a scenario.

    Parameters
    ----------
    tables
        Result tables by name (``schools``, ``assignments``, ``sites``, ``demand``,
        ``expansions``, ``spend``, ``rotations``, ``staffing``, ``pairings``, ...; see the
        check modules for their columns). Missing tables make the checks that need them
        ``not applicable``.
    config
        The scenario (:class:`~allocator.scenario.Scenario`, a resolved scenario, the
        resolved scenario as a mapping) or ready-made
        :class:`~allocator.audit_params.AuditParams`.
    language
        Message language (``zh`` or ``en``); default ``--lang``, else the scenario's
        ``meta.language`` (:func:`allocator.audit_messages.audit_language`).

    Returns
    -------
    pandas.DataFrame
        The audit table (:data:`AUDIT_COLUMNS`), rules in catalogue order.
    """
    params: AuditParams = params_from_config(config)
    language = language or audit_language(config)
    ctx = AuditContext(normalise(tables), params)
    entries = catalogue()
    order = list(entries)
    rows: list[dict[str, object]] = []
    for rule_id in sorted(AUDITED_RULES, key=order.index):
        entry, kind = entries[rule_id], CHECKS[rule_id].kind
        for finding in _findings(ctx, rule_id):
            rows.append({
                "rule_id": rule_id, "kind": str(kind), "document": entry.document,
                "clause": entry.clause, "scope": finding.scope_text, "sense": finding.sense,
                "required": finding.required, "actual": finding.actual,
                "status": finding.status,
                "message": render(finding.key, finding.values, language=language,
                                  exception=finding.status == EXCEPTION),
            })
    frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
    for column in ("required", "actual"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float).round(3)
    return frame


def hard_failures(audit: pd.DataFrame, *, targets: bool = False) -> pd.DataFrame:
    """Rows of failed HARD rules (and failed TARGET rules with ``targets=True``)."""
    kinds = [str(Kind.HARD), *([str(Kind.TARGET)] if targets else [])]
    failed = audit["status"].eq("fail") & audit["kind"].isin(kinds)
    return audit[failed].reset_index(drop=True)


def write_audit(audit: pd.DataFrame, folder: str | Path) -> Path:
    """Write ``audit.csv`` (UTF-8) into ``folder``; returns the file."""
    target = Path(folder) / AUDIT_FILE
    audit.to_csv(target, index=False, lineterminator="\n")
    return target


def audit_results_dir(path: str | Path, config: ConfigLike = None, *,
                      language: str | None = None) -> pd.DataFrame:
    """Audit a results directory: its CSV tables against its ``scenario.resolved.yaml``.

    Parameters
    ----------
    path
        The results directory.
    config
        Use this scenario instead of the directory's resolved scenario; a
        :class:`~allocator.scenario.ResolvedScenario` also supplies the rotation inputs
        the tables lack (pairings, school flags, teacher roster).
    language
        Message language.

    Raises
    ------
    FileNotFoundError
        If the directory does not exist or holds no result table.
    """
    tables, resolved = read_tables_dir(Path(path))
    if isinstance(config, ResolvedScenario):
        for name, frame in scenario_tables(config).items():
            tables.setdefault(name, frame)
    return audit_tables(tables, resolved if config is None else config, language=language)


def audit_plan(plan_paths: Mapping[str, str | Path], scenario: ConfigLike, *,
               language: str | None = None) -> pd.DataFrame:
    """Audit a planner's own layout against a scenario, with the same output.

    Parameters
    ----------
    plan_paths
        Table name to file: ``sites`` (new sites: ``site_id, stage, year, classes`` and
        optionally ``ownership, cost_cny``), ``assignments`` (``zone_id, school_id, stage,
        year, children, distance_m``) and optionally ``rotations``, ``staffing``,
        ``pairings``, ``schools``, ``expansions``, ``demand``. CSV files, or a GeoPackage
        path with ``#layer`` (e.g. ``plan.gpkg#new_sites``).
    scenario
        The scenario; with a :class:`~allocator.scenario.ResolvedScenario` the existing
        schools and zones are read from its data layers to complete the tables.
    language
        Message language.
    """
    tables = read_plan(plan_paths, scenario)
    return audit_tables(tables, scenario, language=language)
