"""Derived views of the siting result tables that several audit checks share.

Everything here is recomputed from the tables (``schools``, ``sites``, ``expansions``,
``closures``, ``spend``); nothing comes from a model. Units: classes, CNY, calendar
years.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, cast

import pandas as pd

from allocator.audit_core import AuditContext, Finding

__all__ = [
    "closures",
    "expansions",
    "missing_finding",
    "not_applicable",
    "opened_sites",
    "ownership_of",
    "records",
    "sum_by",
    "truthy",
]

OPENED_COLUMNS = ["site_id", "stage", "year", "classes", "cost_cny", "ownership", "name"]
EXPANSION_COLUMNS = ["school_id", "stage", "year", "classes_added", "cost_cny"]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dictionaries keyed by column name."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


def is_missing(value: object) -> bool:
    """True for None, NaN and empty text."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return value.strip() == ""
    return value is pd.NA or value is pd.NaT


def truthy(value: object) -> bool:
    """A flag from a CSV cell: True, 1, ``true``, ``yes`` (any case); False otherwise."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y", "t")
    if is_missing(value):
        return False
    return bool(value)


def sum_by(frame: pd.DataFrame, keys: list[str], value: str
           ) -> dict[tuple[str | int, ...], float]:
    """``Σ value`` per key tuple; ``year`` keys as int, the others as str."""
    out: dict[tuple[str | int, ...], float] = defaultdict(float)
    columns = [frame[k].tolist() for k in keys]
    for *parts, amount in zip(*columns, frame[value].tolist(), strict=True):
        key = tuple(int(p) if k == "year" else str(p) for k, p in zip(keys, parts, strict=True))
        out[key] += float(amount)
    return dict(out)


def missing_finding(rule_id: str, needs: list[str]) -> Finding:
    """A ``not applicable`` finding naming the table columns the check needs."""
    return Finding(rule_id, (), "", None, None, "not applicable", "missing_columns",
                   {"columns": ", ".join(needs)})


def not_applicable(rule_id: str, key: str, scope: tuple[tuple[str, object], ...] = (),
                   **values: object) -> Finding:
    """A ``not applicable`` finding with message ``key``."""
    return Finding(rule_id, scope, "", None, None, "not applicable", key, values)


def ownership_of(ctx: AuditContext) -> dict[str, str]:
    """School or site id -> ``public`` / ``private`` from ``schools`` and ``sites``."""
    found: dict[str, str] = {}
    for name, key in (("schools", "school_id"), ("sites", "site_id")):
        frame = ctx.table(name)
        if frame is None or "ownership" not in frame.columns or key not in frame.columns:
            continue
        for sid, owner in zip(frame[key], frame["ownership"], strict=True):
            if not is_missing(owner):
                found.setdefault(str(sid), str(owner).strip().lower())
    return found


def opened_sites(ctx: AuditContext) -> pd.DataFrame | None:
    """Opened sites, one row per site and stage (see :func:`_opened_sites`)."""
    if "opened_sites" not in ctx.cache:
        ctx.cache["opened_sites"] = _opened_sites(ctx)
    return cast(pd.DataFrame | None, ctx.cache["opened_sites"])


def _opened_sites(ctx: AuditContext) -> pd.DataFrame | None:
    """Opened sites, one row per site and stage.

    Opened sites, one row per site and stage: ``site_id, stage, year, classes, cost_cny,
    ownership, name`` (year = period of opening; cost = the option's whole cost, repeated
    on each stage row; NaN where the tables do not say).

    From ``sites`` (rows with ``status`` ``opened``, or with classes and a year) when it has
    ``site_id, stage, year, classes`` (split by ``classes_<stage>`` columns if present);
    else from ``schools`` rows of kind ``new`` (the first year each appears). ``None`` when
    neither table serves.
    """
    sites = ctx.table("sites")
    if sites is not None and not ctx.missing("sites", ("site_id", "stage", "year", "classes")):
        if "status" in sites.columns:
            rows = sites[sites["status"].astype(str).eq("opened")]
        else:
            rows = sites[sites["year"].notna() & pd.to_numeric(sites["classes"]).gt(0)]
        frame = _by_stage(rows)
    else:
        schools = ctx.table("schools")
        if schools is None or ctx.missing("schools", ("school_id", "stage", "year", "kind",
                                                      "classes")):
            return None
        new = schools[schools["kind"].astype(str).eq("new")].sort_values("year")
        frame = new.drop_duplicates(["school_id", "stage"]).rename(
            columns={"school_id": "site_id"})
    owners = ownership_of(ctx)
    for column in OPENED_COLUMNS:
        if column not in frame.columns:
            frame[column] = math.nan
    frame["ownership"] = [owners.get(str(s), math.nan) if is_missing(o) else str(o).lower()
                          for s, o in zip(frame["site_id"], frame["ownership"], strict=True)]
    frame["year"] = pd.to_numeric(frame["year"]).astype(int)
    frame["classes"] = pd.to_numeric(frame["classes"]).astype(float)
    frame["cost_cny"] = pd.to_numeric(frame["cost_cny"], errors="coerce")
    return frame[OPENED_COLUMNS].sort_values(["year", "site_id", "stage"]).reset_index(drop=True)


def _by_stage(rows: pd.DataFrame) -> pd.DataFrame:
    """Opened-site rows split by stage.

    Opened-site rows split by stage: a ``classes_<stage>`` column (as written for
    nine-year schools) gives one row per stage with classes; else ``stage, classes``.
    """
    stage_columns = [c for c in rows.columns if c.startswith("classes_")]
    if not stage_columns:
        return rows.copy()
    out: list[dict[str, Any]] = []
    for row in records(rows):
        split = [(c.removeprefix("classes_"), row[c]) for c in stage_columns
                 if not is_missing(row[c]) and float(row[c]) > 0]
        if not split:
            out.append(row)
        for stage, classes in split:
            out.append({**row, "stage": stage, "classes": float(classes)})
    return pd.DataFrame(out, columns=list(rows.columns))


def expansions(ctx: AuditContext) -> pd.DataFrame:
    """Expansions: ``school_id, stage, year, classes_added, cost_cny`` (cached)."""
    if "expansions" not in ctx.cache:
        ctx.cache["expansions"] = _expansions(ctx)
    return cast(pd.DataFrame, ctx.cache["expansions"])


def _expansions(ctx: AuditContext) -> pd.DataFrame:
    """Expansions: ``school_id, stage, year, classes_added, cost_cny``.

    From ``expansions`` when given; else derived from ``schools``: an existing school whose
    classes of a stage rise from one period year to the next was expanded by the rise in
    the later year (cost unknown, NaN). Empty when neither table says.
    """
    table = ctx.table("expansions")
    if table is not None and not ctx.missing("expansions", ("school_id", "stage", "year")):
        frame = table.copy()
        if "classes_added" not in frame.columns:
            frame["classes_added"] = math.nan
        if "cost_cny" not in frame.columns:
            frame["cost_cny"] = math.nan
        if "modules" in frame.columns:
            frame = frame[pd.to_numeric(frame["modules"]).gt(0)]
        return frame[EXPANSION_COLUMNS].reset_index(drop=True)
    schools = ctx.table("schools")
    if schools is None or ctx.missing("schools", ("school_id", "stage", "year", "classes",
                                                  "kind")):
        return pd.DataFrame(columns=EXPANSION_COLUMNS)
    old = schools[schools["kind"].astype(str).isin(["existing", "expanded"])]
    old = old.assign(classes=pd.to_numeric(old["classes"]).astype(float)).sort_values(
        ["school_id", "stage", "year"])
    rise = old.groupby(["school_id", "stage"], sort=False)["classes"].diff()
    grown = old[rise.gt(0)].assign(classes_added=rise[rise.gt(0)], cost_cny=math.nan)
    return grown[EXPANSION_COLUMNS].reset_index(drop=True)


def closures(ctx: AuditContext) -> pd.DataFrame:
    """Closed schools and their period of closure.

    Closed schools: ``school_id, year`` (period of closure), from ``closures`` or the
    first year a school appears with kind ``closed`` in ``schools``.
    """
    table = ctx.table("closures")
    if table is not None and not ctx.missing("closures", ("school_id", "year")):
        return table[["school_id", "year"]].drop_duplicates().reset_index(drop=True)
    schools = ctx.table("schools")
    if schools is None or ctx.missing("schools", ("school_id", "year", "kind")):
        return pd.DataFrame(columns=["school_id", "year"])
    closed = schools[schools["kind"].astype(str).eq("closed")]
    first = closed.groupby("school_id", sort=True)["year"].min().reset_index()
    return first[["school_id", "year"]]
