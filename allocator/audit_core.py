"""The audit's building blocks: findings, the check registry and table access.

A check is a function ``(AuditContext) -> list[Finding]`` registered with :func:`check`
under one catalogue rule ID. It reads the result tables (plain DataFrames) and the
scenario's parameters (:class:`~allocator.audit_params.AuditParams`) only. A
:class:`Finding` carries a message key and values; the text comes from
:mod:`allocator.audit_messages`, so findings stay language-neutral.

Statuses: ``pass``, ``fail``, ``exception`` (a violation lifted by an exception the
scenario lists), ``not applicable`` (the rule is off, has no parameters in the scenario,
or the tables lack a column it needs; the message says which).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from allocator.audit_params import AuditParams, ExceptionSpec
from allocator.rules import Kind, catalogue

__all__ = [
    "CHECKS",
    "EXCEPTION",
    "FAIL",
    "NOT_APPLICABLE",
    "PASS",
    "AuditContext",
    "Check",
    "Finding",
    "check",
    "holds",
    "num",
]

PASS = "pass"
FAIL = "fail"
EXCEPTION = "exception"
NOT_APPLICABLE = "not applicable"

#: Absolute tolerance of comparisons: tables round children to 1e-3 and money to 0.01.
ABS_TOL = 1e-2
#: Relative tolerance of comparisons.
REL_TOL = 1e-9

#: Id columns compared as strings in every table.
ID_COLUMNS = ("zone_id", "school_id", "site_id", "option_id", "teacher_id", "from_school",
              "to_school", "from_county", "to_county", "county", "school", "pairing_id",
              "from_id", "to_id")
#: Other spellings of columns, mapped to the names the checks use.
ALIASES: Mapping[str, Mapping[str, str]] = {
    "schools": {"class_cap": "cap"},
    "sites": {"cost": "cost_cny", "option": "option_id", "year_opened": "year"},
    "spend": {"capital": "capital_cny", "budget": "budget_cny"},
}


def num(value: float | None, digits: int = 0) -> str:
    """A number for a message: thousands separators, ``digits`` decimals, ``-`` if None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if digits == 0 and abs(value - round(value)) > 1e-9:
        digits = 2 if abs(value) < 100 else 1
    return f"{value:,.{digits}f}"


def holds(actual: float, sense: str, required: float) -> bool:
    """Whether ``actual sense required`` holds within the audit's tolerance."""
    tol = ABS_TOL + REL_TOL * max(abs(actual), abs(required))
    if sense == "<=":
        return actual <= required + tol
    if sense == ">=":
        return actual >= required - tol
    return abs(actual - required) <= tol


@dataclass(frozen=True)
class Finding:
    """One audit row before rendering.

    Attributes
    ----------
    rule_id
        Catalogue ID.
    scope
        ``(name, value)`` pairs, e.g. ``(("school", "S1"), ("stage", "primary"),
        ("year", 2025))``.
    sense
        ``<=``, ``>=``, ``=`` or empty.
    required, actual
        The bound and the value recomputed from the tables (units in the message).
    status
        ``pass``, ``fail``, ``exception`` or ``not applicable``.
    key
        Message key in :mod:`allocator.audit_messages`.
    values
        Values the message is formatted with.
    """

    rule_id: str
    scope: tuple[tuple[str, object], ...]
    sense: str
    required: float | None
    actual: float | None
    status: str
    key: str
    values: Mapping[str, object] = field(default_factory=dict)

    @property
    def scope_text(self) -> str:
        """``county=X; school=S1; year=2025``."""
        return "; ".join(f"{name}={value}" for name, value in self.scope)


@dataclass(frozen=True)
class AuditContext:
    """What a check may read: result tables and scenario parameters.

    Attributes
    ----------
    tables
        Result tables by name (``schools``, ``assignments``, ``sites``, ``demand``,
        ``expansions``, ``spend``, ``closures``, ``catchment``, ``rotations``,
        ``staffing``, ``pairings``, ``teachers``), normalised: id columns as strings,
        ``year`` as int, known aliases renamed.
    params
        The scenario's rule parameters.
    cache
        Derived views shared by the checks (see :mod:`allocator.audit_frames`); checks
        must not modify them.
    """

    tables: Mapping[str, pd.DataFrame]
    params: AuditParams
    cache: dict[str, object] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        """A table, or ``None`` when the results do not have it."""
        return self.tables.get(name)

    def missing(self, name: str, columns: Iterable[str]) -> list[str]:
        """``table.csv: column`` for each needed column the results lack."""
        frame = self.tables.get(name)
        if frame is None:
            return [f"{name}.csv"]
        return [f"{name}.csv: {c}" for c in columns if c not in frame.columns]

    def exception(self, rule_id: str, ids: Sequence[str], year: int | None
                  ) -> ExceptionSpec | None:
        """The first listed exception lifting ``rule_id`` for these ids in ``year``."""
        for spec in self.params.exceptions:
            if spec.covers(rule_id, ids, year):
                return spec
        return None


def normalise(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Copies of the tables with aliases renamed, ids as strings and years as ints."""
    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        table = frame.copy()
        renames = {old: new for old, new in ALIASES.get(name, {}).items()
                   if old in table.columns and new not in table.columns}
        table = table.rename(columns=renames)
        for column in ID_COLUMNS:
            if column in table.columns:
                values = table[column]
                if pd.api.types.is_float_dtype(values) and bool(
                        (values.dropna() % 1 == 0).all()):
                    values = values.astype("Int64")  # 440703.0 read with blanks -> 440703
                table[column] = values.astype(object).where(values.notna(), "").astype(str)
        if "year" in table.columns and len(table):
            years = pd.to_numeric(table["year"], errors="coerce")
            if years.notna().all():
                table["year"] = years.astype(int)
        out[name] = table.reset_index(drop=True)
    return out


CheckFunction = Callable[[AuditContext], list[Finding]]


@dataclass(frozen=True)
class Check:
    """A registered audit check.

    Attributes
    ----------
    rule_id
        Catalogue ID.
    kind
        How the rule binds a plan: ``HARD`` or ``TARGET``.
    family
        seats, sites, budget, staffing or flows.
    tables
        Tables the check reads.
    function
        The check; its docstring states the formula.
    """

    rule_id: str
    kind: Kind
    family: str
    tables: tuple[str, ...]
    function: CheckFunction


CHECKS: dict[str, Check] = {}
"""Registered checks by rule ID, in registration order."""


def check(rule_id: str, *, kind: Kind, family: str,
          tables: tuple[str, ...] = ()) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as the audit check of ``rule_id``.

    Raises
    ------
    KeyError
        If ``rule_id`` is not in the catalogue.
    ValueError
        If ``rule_id`` already has a check.
    """
    if rule_id not in catalogue():
        raise KeyError(f"{rule_id} is not in the rule catalogue")

    def register(function: CheckFunction) -> CheckFunction:
        known = CHECKS.get(rule_id)
        if known is not None and known.function is not function:
            raise ValueError(f"{rule_id} already has an audit check: {known.function}")
        CHECKS[rule_id] = Check(rule_id, kind, family, tables, function)
        return function

    return register
