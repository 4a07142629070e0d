"""Column checks shared by the plan input validation (:mod:`allocator.plan.validate`).

Each helper reads one column of an input frame, checks it and returns plain Python values;
errors are ``ValueError`` naming the frame, the column and a few offending rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = [
    "choice_column",
    "examples",
    "flag_column",
    "id_column",
    "no_duplicates",
    "number_column",
    "require_columns",
    "same_per_key",
    "year_column",
]


def examples(rows: Iterable[object], limit: int = 3) -> str:
    """Format a few offending values for an error message."""
    items = sorted({repr(row) for row in rows})
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def require_columns(frame: pd.DataFrame, name: str, required: tuple[str, ...]) -> None:
    """Raise if a required column is missing."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; expected {list(required)}")


def id_column(frame: pd.DataFrame, name: str, column: str) -> list[str]:
    """Column as string ids; raise on missing ids."""
    values = frame[column]
    if values.isna().any():
        rows = values.index[values.isna()].tolist()
        raise ValueError(f"{name}: column {column!r} has missing ids (rows {examples(rows)})")
    return [str(v) for v in values.tolist()]


def number_column(
    frame: pd.DataFrame,
    name: str,
    column: str,
    *,
    default: float | None = None,
    allow_nan: bool = False,
    minimum: float = 0.0,
    strict: bool = False,
    whole: bool = False,
) -> list[float]:
    """Column as floats, checked finite and ``>= minimum`` (``> minimum`` if strict).

    A missing optional column gives ``default`` on every row; NaN is kept when
    ``allow_nan``.
    """
    if column not in frame.columns:
        if default is None:
            raise ValueError(f"{name}: missing column {column!r}")
        return [default] * len(frame)
    try:
        values = pd.to_numeric(frame[column], errors="raise").astype("float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: column {column!r} must be numeric ({exc})") from exc
    out = values.tolist()
    bad = []
    for row, value in zip(frame.index.tolist(), out, strict=True):
        if math.isnan(value):
            if not allow_nan:
                bad.append((row, value))
            continue
        ok = math.isfinite(value) and (value > minimum if strict else value >= minimum)
        if ok and whole and value != round(value):
            ok = False
        if not ok:
            bad.append((row, value))
    if bad:
        need = f"{'>' if strict else '>='} {minimum:g}" + (", whole" if whole else "")
        raise ValueError(
            f"{name}: column {column!r} must be finite and {need}; found (row, value) "
            f"{examples(bad)}"
        )
    return [float(v) for v in out]


def year_column(frame: pd.DataFrame, name: str, periods: tuple[int, ...]) -> list[int]:
    """``year`` column as ints, each a period year."""
    values = number_column(frame, name, "year", whole=True)
    years = [int(v) for v in values]
    bad = [(row, y) for row, y in zip(frame.index.tolist(), years, strict=True)
           if y not in periods]
    if bad:
        raise ValueError(
            f"{name}: column 'year' must be a period year {list(periods)}; found (row, year) "
            f"{examples(bad)}"
        )
    return years


def no_duplicates(keys: list[tuple[Any, ...]], name: str, columns: str) -> None:
    """Raise if a key occurs twice."""
    seen: set[tuple[Any, ...]] = set()
    dup = [k for k in keys if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
    if dup:
        raise ValueError(f"{name}: duplicate rows for ({columns}): {examples(dup)}")


def same_per_key(keys: list[str], values: list[Any], name: str, column: str, per: str) -> None:
    """Raise if a value differs between rows of the same key."""
    first: dict[str, Any] = {}
    bad = []
    for key, value in zip(keys, values, strict=True):
        if key in first and not _equal(first[key], value):
            bad.append((key, first[key], value))
        first.setdefault(key, value)
    if bad:
        raise ValueError(f"{name}: column {column!r} must be the same on every row of a {per}; "
                         f"found ({per}, value, value) {examples(bad)}")


def _equal(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def choice_column(frame: pd.DataFrame, name: str, column: str, default: str,
            allowed: tuple[str, ...]) -> list[str]:
    """Text column restricted to ``allowed`` (``default`` if the column is missing)."""
    if column not in frame.columns:
        return [default] * len(frame)
    values = [default if pd.isna(v) else str(v).strip().lower() for v in frame[column].tolist()]
    bad = [(row, v) for row, v in zip(frame.index.tolist(), values, strict=True)
           if v not in allowed]
    if bad:
        raise ValueError(f"{name}: column {column!r} must be one of {list(allowed)}; found "
                         f"(row, value) {examples(bad)}")
    return values


def flag_column(frame: pd.DataFrame, name: str, column: str) -> list[bool]:
    """Boolean column (missing column: all false)."""
    if column not in frame.columns:
        return [False] * len(frame)
    out = []
    for row, value in zip(frame.index.tolist(), frame[column].tolist(), strict=True):
        if isinstance(value, str):
            text = value.strip().lower()
            if text not in ("true", "false", "1", "0", "yes", "no", ""):
                raise ValueError(f"{name}: column {column!r} must be true/false; row {row}: "
                                 f"{value!r}")
            out.append(text in ("true", "1", "yes"))
        else:
            out.append(False if pd.isna(value) else bool(value))
    return out
