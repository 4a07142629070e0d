"""Compare results directories: a KPI table with one column per run, and a site diff.

:func:`compare_runs` reads directories written by ``allocator run`` (see
:mod:`allocator.results`) and recomputes every figure from their tables, never from a
model. KPIs (``kpi``, ``scope``, ``year``; units in the ``unit`` column):

``status``, ``objective``, ``gap``
    From ``manifest.json``.
``new_schools``, ``new_seats`` by stage and period year
    From ``schools.csv`` rows of kind ``new``: a school counts in the period year of its
    first row for that stage (the year it opens), with that row's seats. A nine-year
    school counts once in each stage it serves. ``new_schools_total`` counts distinct ids.
``expansion_seats``
    ``expansions.csv`` ``seats_added``, summed.
``capital_cost``
    ``spend.csv`` ``capital_cny`` summed (else ``schools.csv`` ``cost_cny``), million CNY.
``travel_mean_km``, ``travel_p95_km`` by stage and ``all``
    From ``assignments.csv``, pooled over period years, weighted by ``children``: mean
    ``Σ c·d / Σ c``; 95th percentile: the smallest ``distance_m`` ``d`` such that the
    children assigned at most ``d`` away are at least 95 % of all (km).
``unmet`` by stage and year, ``unmet_total``
    ``demand.csv`` ``unmet`` (children), summed.
``over_cap_schools``, ``over_cap_classes``
    From ``schools.csv``: rows (school x stage x year) with ``enrolled`` above
    ``classes x class_cap``, and ``Σ max(0, ceil(enrolled / class_cap) - classes)``: the
    classes missing to keep every class within its cap.
``moves`` by kind
    ``rotations.csv`` ``count`` summed over years (teachers).
``backbone_gap_pp``
    From ``staffing.csv`` with a ``region`` column of two or more regions, in its last
    year: backbone teachers ``round(backbone_per100_after · pupils / 100)`` over
    ``teachers_after`` of each region, in per cent; east minus west when both exist, else
    the largest minus the smallest region (percentage points). Missing: NaN (n/a).
``cv_max`` by ``stage/indicator``
    The pupil-weighted 优质均衡 coefficient of variation
    (:func:`allocator.rotation_report.pupil_weighted_cv`) of each ``<indicator>_after``
    across the schools of a county and stage in a year, largest over counties and years.
``audit_fail`` by kind, ``failed_rules``
    Rows of ``audit.csv`` with status ``fail``, and their rule ids.
``sites_added`` ... ``sites_moved``
    Counts of the site diff against run A (empty for run A itself).

Site diff (:func:`site_diff`), between the opened sites of ``sites.csv`` of run A and of
another run, by ``site_id``: ``added`` (opened only in the other run), ``removed``
(opened only in A), ``moved`` (opened in both in different period years), ``resized``
(opened in both with a different ``option_id``, ``classes`` or classes of a stage),
``moved+resized`` (both). An added and a removed site of the same ``stage`` within
``move_km`` of each other (great-circle distance) are marked as each other's
``partner``: probably the same school relocated. Pairs are matched closest first.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.results import ResultsDir, read_results_dir
from allocator.rotation_report import INDICATORS, pupil_weighted_cv

__all__ = ["DIFF_COLUMNS", "KPI_COLUMNS", "Comparison", "backbone_gap", "compare_runs",
           "haversine_km", "kpi_frame", "over_cap", "read_audit", "run_kpis", "site_diff",
           "weighted_quantile"]

log = logging.getLogger(__name__)

AUDIT = "audit.csv"
KPI_COLUMNS = ["section", "kpi", "scope", "year", "unit"]
DIFF_COLUMNS = ["run", "site_id", "name", "stage", "change", "year_a", "year_b", "option_a",
                "option_b", "classes_a", "classes_b", "seats_a", "seats_b", "cost_a",
                "cost_b", "partner", "partner_km"]
#: Default distance (km) within which an added and a removed site may be one relocation.
MOVE_KM = 3.0
EARTH_RADIUS_KM = 6371.0088
_STAGES = ("kindergarten", "primary", "nine_year", "junior", "senior", "twelve_year")
_KPI_ORDER = ("status", "objective", "gap", "new_schools", "new_seats", "new_schools_total",
              "new_seats_total", "expansion_seats", "capital_cost", "travel_mean_km",
              "travel_p95_km", "unmet", "unmet_total", "over_cap_schools", "over_cap_classes",
              "moves", "backbone_gap_pp", "cv_max", "audit_fail", "failed_rules",
              "sites_added", "sites_removed", "sites_resized", "sites_moved")
_SECTION = {k: s for s, keys in (
    ("plan", ("status", "objective", "gap")),
    ("sites", ("new_schools", "new_seats", "new_schools_total", "new_seats_total",
               "expansion_seats", "capital_cost")),
    ("access", ("travel_mean_km", "travel_p95_km", "unmet", "unmet_total", "over_cap_schools",
                "over_cap_classes")),
    ("teachers", ("moves", "backbone_gap_pp", "cv_max")),
    ("audit", ("audit_fail", "failed_rules")),
    ("diff", ("sites_added", "sites_removed", "sites_resized", "sites_moved")),
) for k in keys}
_UNIT = {"status": "", "objective": "", "gap": "ratio", "new_schools": "schools",
         "new_seats": "seats", "new_schools_total": "schools", "new_seats_total": "seats",
         "expansion_seats": "seats", "capital_cost": "million CNY", "travel_mean_km": "km",
         "travel_p95_km": "km", "unmet": "children", "unmet_total": "child-periods",
         "over_cap_schools": "rows", "over_cap_classes": "classes", "moves": "teachers",
         "backbone_gap_pp": "percentage points", "cv_max": "ratio", "audit_fail": "rows",
         "failed_rules": "", "sites_added": "sites", "sites_removed": "sites",
         "sites_resized": "sites", "sites_moved": "sites"}
_KIND_ORDER = ("rotation", "transfer", "hire", "HARD", "TARGET")

Key = tuple[str, str, int | None]


@dataclass(frozen=True)
class Comparison:
    """Runs side by side.

    Attributes
    ----------
    runs
        Column labels of the runs (directory names; prefixed ``A:``, ``B:`` ... when two
        are the same), run A first.
    paths
        The results directories, in the same order.
    info
        One row per run: ``run, path, scenario, overrides, set, status, objective, bound,
        gap, language``.
    kpis
        ``section, kpi, scope, year, unit`` and one column per run (numbers, or text for
        ``status`` and ``failed_rules``; NaN where a run has no such figure).
    site_diff
        :data:`DIFF_COLUMNS`: run A against each other run (``run`` names the other).
    move_km
        Relocation radius used by the diff (km).
    """

    runs: tuple[str, ...]
    paths: tuple[Path, ...]
    info: pd.DataFrame
    kpis: pd.DataFrame
    site_diff: pd.DataFrame
    move_km: float


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").fillna(0.0).astype(float)


def weighted_quantile(values: Sequence[float] | np.ndarray, weights: Sequence[float] |
                      np.ndarray, q: float) -> float:
    """The smallest value ``v`` with ``Σ w[values <= v] >= q · Σ w`` (inverse weighted CDF).

    Weights at or below zero are ignored; NaN when nothing is left. Example: values
    1, 2, 3 with weights 50, 40, 10 give 2 for ``q = 0.9`` and 3 for ``q = 0.95``.
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = (w > 0) & np.isfinite(x)
    if not keep.any():
        return math.nan
    order = np.argsort(x[keep], kind="stable")
    xs, cum = x[keep][order], np.cumsum(w[keep][order])
    index = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left"))
    return float(xs[min(index, len(xs) - 1)])


def _stage_rank(scope: str) -> tuple[int, str]:
    head = scope.split("/")[0]
    if head == "all" or head == "":
        return (-1, scope)
    for order in (_STAGES, _KIND_ORDER):
        if head in order:
            return (order.index(head), scope)
    return (len(_STAGES), scope)


def _new_schools(schools: pd.DataFrame) -> dict[Key, Any]:
    new = schools[schools["kind"].astype(str) == "new"]
    out: dict[Key, Any] = {}
    if new.empty:
        return {("new_schools_total", "", None): 0, ("new_seats_total", "", None): 0}
    first = new.sort_values("year", kind="stable").drop_duplicates(["school_id", "stage"])
    for (stage, year), part in first.groupby(["stage", "year"], sort=True):
        when = int(str(year))
        out[("new_schools", str(stage), when)] = int(part["school_id"].nunique())
        out[("new_seats", str(stage), when)] = round(float(_num(part, "seats").sum()))
    out[("new_schools_total", "", None)] = int(first["school_id"].nunique())
    out[("new_seats_total", "", None)] = round(float(_num(first, "seats").sum()))
    return out


def _travel(assignments: pd.DataFrame) -> dict[Key, Any]:
    out: dict[Key, Any] = {}
    frame = assignments.assign(c=_num(assignments, "children"),
                               d=pd.to_numeric(assignments["distance_m"], errors="coerce"))
    frame = frame[(frame["c"] > 0) & frame["d"].notna()]
    groups = [("all", frame)] + [(str(s), p) for s, p in frame.groupby("stage", sort=True)]
    for scope, part in groups:
        total = float(part["c"].sum())
        mean = float((part["c"] * part["d"]).sum() / total) / 1000 if total > 0 else math.nan
        p95 = weighted_quantile(part["d"].to_numpy(), part["c"].to_numpy(), 0.95) / 1000
        out[("travel_mean_km", scope, None)] = round(mean, 3)
        out[("travel_p95_km", scope, None)] = round(p95, 3)
    return out


def _unmet(demand: pd.DataFrame) -> dict[Key, Any]:
    planned = demand[pd.to_numeric(demand["unmet"], errors="coerce").notna()]
    out: dict[Key, Any] = {}
    for (stage, year), part in planned.groupby(["stage", "year"], sort=True):
        out[("unmet", str(stage), int(str(year)))] = round(float(_num(part, "unmet").sum()), 3)
    out[("unmet_total", "", None)] = round(float(_num(planned, "unmet").sum()), 3)
    return out


def over_cap(schools: pd.DataFrame, *, tolerance: float = 1e-3) -> tuple[int, int]:
    """Rows over their class cap, and classes missing to bring every class within it.

    A row (school x stage x year) is over when ``enrolled > classes x class_cap +
    tolerance`` (children); it misses ``ceil(enrolled / class_cap - tolerance) - classes``
    classes. Rows without enrolment or cap are skipped.
    """
    enrolled = pd.to_numeric(schools["enrolled"], errors="coerce")
    cap = pd.to_numeric(schools["class_cap"], errors="coerce")
    classes = pd.to_numeric(schools["classes"], errors="coerce").fillna(0.0)
    ok = enrolled.notna() & cap.notna() & (cap > 0)
    e, c, k = enrolled[ok], cap[ok], classes[ok]
    over = e > k * c + tolerance
    need = np.ceil(e / c - tolerance / c) - k
    return int(over.sum()), int(need[over].clip(lower=0).sum())


def _moves(rotations: pd.DataFrame) -> dict[Key, Any]:
    frame = rotations.copy()
    frame["n"] = _num(frame, "count") if "count" in frame.columns else 1.0
    kinds = frame["kind"].astype(str) if "kind" in frame.columns else pd.Series(
        "rotation", index=frame.index)
    out: dict[Key, Any] = {}
    for kind, part in frame.groupby(kinds, sort=True):
        out[("moves", str(kind), None)] = round(float(part["n"].sum()))
    return out


def backbone_gap(staffing: pd.DataFrame) -> tuple[str, int | None, float]:
    """``(scope, year, gap)`` of regional backbone shares (see the module docstring).

    ``scope`` is ``east_minus_west`` or ``max_minus_min``; ``("", None, nan)`` without
    two regions or the needed columns.
    """
    need = {"region", "year", "pupils", "teachers_after", "backbone_per100_after"}
    if not need <= set(staffing.columns):
        return "", None, math.nan
    frame = staffing.dropna(subset=["region"])
    if frame["region"].astype(str).nunique() < 2:
        return "", None, math.nan
    year = int(pd.to_numeric(frame["year"], errors="coerce").max())
    last = frame[pd.to_numeric(frame["year"], errors="coerce") == year]
    backbone = (_num(last, "backbone_per100_after") * _num(last, "pupils") / 100).round()
    sums = pd.DataFrame({"region": last["region"].astype(str), "b": backbone,
                         "t": _num(last, "teachers_after")}).groupby("region").sum()
    sums = sums[sums["t"] > 0]
    share = 100 * sums["b"] / sums["t"]
    if {"east", "west"} <= set(share.index):
        return "east_minus_west", year, round(float(share["east"] - share["west"]), 3)
    if len(share) < 2:
        return "", None, math.nan
    return "max_minus_min", year, round(float(share.max() - share.min()), 3)


def _cvs(staffing: pd.DataFrame) -> dict[Key, Any]:
    out: dict[Key, Any] = {}
    if not {"county", "stage", "year", "pupils"} <= set(staffing.columns):
        return out
    for stage, part in staffing.groupby("stage", sort=True):
        for name in INDICATORS:
            if f"{name}_after" not in part.columns:
                continue
            values = [pupil_weighted_cv(g[f"{name}_after"].to_numpy(dtype=float),
                                        g["pupils"].to_numpy(dtype=float))
                      for _, g in part.groupby(["county", "year"], sort=True)]
            finite = [v for v in values if not math.isnan(v)]
            out[("cv_max", f"{stage}/{name}", None)] = round(max(finite), 4) if finite \
                else math.nan
    return out


def _audit(audit: pd.DataFrame) -> dict[Key, Any]:
    failed = audit[audit["status"].astype(str) == "fail"]
    out: dict[Key, Any] = {("audit_fail", "all", None): len(failed)}
    for kind in sorted(set(audit["kind"].astype(str))) if "kind" in audit.columns else []:
        out[("audit_fail", kind, None)] = int((failed["kind"].astype(str) == kind).sum())
    out[("failed_rules", "", None)] = ", ".join(sorted(set(failed["rule_id"].astype(str))))
    return out


def read_audit(folder: Path) -> pd.DataFrame | None:
    """``audit.csv`` of a results directory, or ``None`` when it has none."""
    path = folder / AUDIT
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def run_kpis(data: ResultsDir, audit: pd.DataFrame | None = None) -> dict[Key, Any]:
    """KPI values of one results directory, by ``(kpi, scope, year)``.

    Figures whose table is missing are left out (shown as n/a); see the module docstring
    for each definition.
    """
    manifest, tables = data.manifest, data.tables
    out: dict[Key, Any] = {("status", "", None): str(manifest.get("status", "")),
                           ("objective", "", None): manifest.get("objective"),
                           ("gap", "", None): manifest.get("gap")}
    if "schools" in tables:
        out.update(_new_schools(tables["schools"]))
        rows, classes = over_cap(tables["schools"])
        out[("over_cap_schools", "", None)] = rows
        out[("over_cap_classes", "", None)] = classes
    if "expansions" in tables:
        out[("expansion_seats", "", None)] = int(_num(tables["expansions"], "seats_added").sum())
    if "spend" in tables:
        capital = float(_num(tables["spend"], "capital_cny").sum())
    elif "schools" in tables:
        capital = float(_num(tables["schools"], "cost_cny").sum())
    else:
        capital = math.nan
    out[("capital_cost", "", None)] = round(capital / 1e6, 3)
    if "assignments" in tables:
        out.update(_travel(tables["assignments"]))
    if "demand" in tables:
        out.update(_unmet(tables["demand"]))
    if "rotations" in tables:
        out.update(_moves(tables["rotations"]))
    if "staffing" in tables:
        scope, _, gap = backbone_gap(tables["staffing"])
        out[("backbone_gap_pp", scope or "east_minus_west", None)] = gap
        out.update(_cvs(tables["staffing"]))
    if audit is not None:
        out.update(_audit(audit))
    return {k: (math.nan if v is None else v) for k, v in out.items()}


Site = dict[str, Any]


def _opened(sites: pd.DataFrame | None) -> dict[str, Site]:
    """Opened sites by ``site_id`` (one dict of columns each)."""
    if sites is None or sites.empty or "status" not in sites.columns:
        return {}
    opened = sites[sites["status"].astype(str) == "opened"]
    return {str(r["site_id"]): {str(k): v for k, v in r.items()}
            for r in opened.to_dict("records")}


def _same(a: object, b: object) -> bool:
    na, nb = pd.isna(a), pd.isna(b)  # type: ignore[call-overload]
    if na or nb:
        return bool(na and nb)
    try:
        return math.isclose(float(a), float(b), abs_tol=1e-6)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(a) == str(b)


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance between two WGS-84 lon/lat points (degrees), km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _partners(a: dict[str, Site], b: dict[str, Site], removed: list[str], added: list[str],
              move_km: float) -> dict[str, tuple[str, float]]:
    pairs = []
    for r in removed:
        for s in added:
            if str(a[r].get("stage")) != str(b[s].get("stage")):
                continue
            d = haversine_km(float(a[r]["lon"]), float(a[r]["lat"]),
                             float(b[s]["lon"]), float(b[s]["lat"]))
            if d <= move_km:
                pairs.append((round(d, 3), r, s))
    found: dict[str, tuple[str, float]] = {}
    for d, r, s in sorted(pairs):
        if r not in found and s not in found:
            found[r], found[s] = (s, d), (r, d)
    return found


def site_diff(sites_a: pd.DataFrame | None, sites_b: pd.DataFrame | None, *, run: str = "B",
              move_km: float = MOVE_KM) -> pd.DataFrame:
    """Opened sites of run A against another run (see the module docstring).

    Parameters
    ----------
    sites_a, sites_b
        ``sites.csv`` of the two runs (``site_id, name, stage, status, option_id, year,
        classes, classes_<stage>, seats, cost_cny, lon, lat``; lon/lat WGS-84 degrees).
    run
        Label of the other run, written in the ``run`` column.
    move_km
        Largest distance (km) between a removed and an added site of the same stage for
        them to be marked as a possible relocation.

    Returns
    -------
    pandas.DataFrame
        :data:`DIFF_COLUMNS`, one row per changed site (unchanged sites are left out),
        ordered added, removed, moved, resized, moved+resized, then by ``site_id``;
        ``cost_*`` in CNY.
    """
    a, b = _opened(sites_a), _opened(sites_b)
    stage_cols = sorted({str(c) for r in [*a.values(), *b.values()] for c in r
                         if str(c).startswith("classes_")})
    added = sorted(set(b) - set(a))
    removed = sorted(set(a) - set(b))
    partners = _partners(a, b, removed, added, move_km)
    rows: list[dict[str, Any]] = []

    def row(site: str, change: str) -> dict[str, Any]:
        ra, rb = a.get(site), b.get(site)
        ref = ra if ra is not None else rb
        assert ref is not None
        partner = partners.get(site)

        def get(r: Site | None, col: str) -> Any:
            return r.get(col) if r is not None else None

        return {"run": run, "site_id": site, "name": ref.get("name", ""),
                "stage": ref.get("stage", ""), "change": change,
                "year_a": get(ra, "year"), "year_b": get(rb, "year"),
                "option_a": get(ra, "option_id"), "option_b": get(rb, "option_id"),
                "classes_a": get(ra, "classes"), "classes_b": get(rb, "classes"),
                "seats_a": get(ra, "seats"), "seats_b": get(rb, "seats"),
                "cost_a": get(ra, "cost_cny"), "cost_b": get(rb, "cost_cny"),
                "partner": partner[0] if partner else "",
                "partner_km": partner[1] if partner else math.nan}

    rows += [row(s, "added") for s in added]
    rows += [row(s, "removed") for s in removed]
    for site in sorted(set(a) & set(b)):
        ra, rb = a[site], b[site]
        moved = not _same(ra.get("year"), rb.get("year"))
        resized = any(not _same(ra.get(c), rb.get(c))
                      for c in ("option_id", "classes", *stage_cols))
        if moved or resized:
            rows.append(row(site, "+".join(n for n, f in (("moved", moved),
                                                          ("resized", resized)) if f)))
    order = {"added": 0, "removed": 1, "moved": 2, "resized": 3, "moved+resized": 4}
    frame = pd.DataFrame(rows, columns=DIFF_COLUMNS)
    if frame.empty:
        return frame
    frame = frame.assign(_o=frame["change"].map(order)).sort_values(["_o", "site_id"])
    frame = frame.drop(columns="_o").reset_index(drop=True)
    for col in ("year_a", "year_b", "classes_a", "classes_b"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    return frame


def _diff_counts(diff: pd.DataFrame) -> dict[Key, Any]:
    parts = [set(str(c).split("+")) for c in diff["change"]]
    return {(f"sites_{name}", "", None): sum(name in p for p in parts)
            for name in ("added", "removed", "resized", "moved")}


def _labels(paths: Sequence[Path]) -> list[str]:
    names = [p.resolve().name or str(p) for p in paths]
    if len(set(names)) == len(names):
        return names
    return [f"{chr(ord('A') + i) if i < 26 else i + 1}: {n}" for i, n in enumerate(names)]


def _language(data: ResultsDir) -> str:
    import yaml

    path = data.path / "scenario.resolved.yaml"
    if not path.is_file():
        return ""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    meta = loaded.get("meta") if isinstance(loaded, dict) else None
    value = meta.get("language") if isinstance(meta, dict) else None
    return str(value) if value in ("zh", "en") else ""


def _info(label: str, data: ResultsDir) -> dict[str, Any]:
    m, scenario = data.manifest, data.manifest.get("scenario") or {}
    return {"run": label, "path": str(data.path), "scenario": scenario.get("name", ""),
            "overrides": ", ".join(scenario.get("overrides") or []),
            "set": ", ".join(scenario.get("set") or []), "status": m.get("status", ""),
            "objective": m.get("objective"), "bound": m.get("bound"), "gap": m.get("gap"),
            "language": _language(data)}


def _sort_key(key: Key) -> tuple[Any, ...]:
    kpi, scope, year = key
    return (_KPI_ORDER.index(kpi), *_stage_rank(scope), -1 if year is None else year)


def kpi_frame(labels: Sequence[str], values: Sequence[dict[Key, Any]]) -> pd.DataFrame:
    """KPI rows in a fixed order: :data:`KPI_COLUMNS` and one column per run label.

    ``values`` are :func:`run_kpis` results, one per label; a figure a run lacks is NaN.
    """
    keys = sorted({k for v in values for k in v}, key=_sort_key)
    rows = []
    for key in keys:
        kpi, scope, year = key
        row: dict[str, Any] = {"section": _SECTION[kpi], "kpi": kpi, "scope": scope,
                               "year": year, "unit": _UNIT[kpi]}
        for label, value in zip(labels, values, strict=True):
            row[label] = value.get(key, math.nan)
        rows.append(row)
    kpis = pd.DataFrame(rows, columns=[*KPI_COLUMNS, *labels])
    kpis["year"] = kpis["year"].astype("Int64")
    return kpis


def compare_runs(dirs: Sequence[Path | str], *, move_km: float = MOVE_KM) -> Comparison:
    """Read results directories and put their KPIs side by side, run A first.

    Parameters
    ----------
    dirs
        Two or more (or one, for a KPI table alone) directories written by
        ``allocator run``.
    move_km
        Relocation radius of the site diff, km.

    Raises
    ------
    FileNotFoundError
        If a directory or its ``manifest.json`` is missing.
    ValueError
        If no directory is given.
    """
    if not dirs:
        raise ValueError("compare_runs needs at least one results directory")
    paths = [Path(d) for d in dirs]
    for path in paths:
        if not (path / "manifest.json").is_file():
            raise FileNotFoundError(f"{path} is not a results directory: no manifest.json")
    labels = _labels(paths)
    data = [read_results_dir(p) for p in paths]
    values = [run_kpis(d, read_audit(d.path)) for d in data]
    diffs = [site_diff(data[0].tables.get("sites"), d.tables.get("sites"), run=label,
                       move_km=move_km) for label, d in zip(labels[1:], data[1:], strict=True)]
    for value, diff in zip(values[1:], diffs, strict=True):
        value.update(_diff_counts(diff))
    kpis = kpi_frame(labels, values)
    diff = (pd.concat([d for d in diffs if len(d)], ignore_index=True)
            if any(len(d) for d in diffs)
            else pd.DataFrame(columns=DIFF_COLUMNS))
    info = pd.DataFrame([_info(label, d) for label, d in zip(labels, data, strict=True)])
    return Comparison(runs=tuple(labels), paths=tuple(paths), info=info, kpis=kpis,
                      site_diff=diff, move_km=move_km)
