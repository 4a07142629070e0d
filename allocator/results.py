"""Results of a run, and the results directory they are written to.

A results directory is written atomically: everything goes into a hidden temporary
sibling (``.NAME.partial-*``), which is renamed to ``NAME`` only when complete. A run that
is interrupted leaves no ``NAME`` directory; an existing ``NAME`` is replaced only with
``overwrite=True``.

Contents (the contract that users' scripts and later commands rely on):

``manifest.json``
    Scenario hash, package and solver versions, seed, per-step timings, status,
    objective, bound, gap, CRSs, summary numbers and the list of files.
``scenario.resolved.yaml``
    The scenario after imports, overrides and ``--set``.
``demand.csv``, ``schools.csv``, ``assignments.csv``, ``sites.csv``, ``expansions.csv``,
``spend.csv``, ``plan_rules.csv``
    Tidy tables (see :mod:`allocator.tables`), UTF-8, sorted, rounded for stable diffs.
``plan.gpkg``
    Layers ``zones``, ``schools``, ``new_sites``, ``assignments``, ``counties`` in
    EPSG:4326 (WGS-84 lon/lat).
``report.html``
    The self-contained offline report (:func:`allocator.report.write_report`: summary,
    PNG and Leaflet maps drawn from ``plan.gpkg`` and inlined, KPIs, audit, teacher
    flows, notes from the scenario folder's ``README.md``). Written into the temporary
    directory before the rename, so it is part of the atomic write; a report that fails
    only logs a warning (the results are kept, without ``report.html``, and the
    manifest does not list it). ``to_dir(..., report=False)`` skips it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import yaml

from allocator.audit import audit_tables
from allocator.audit_io import scenario_tables
from allocator.errors import ExitCode, OutputExistsError
from allocator.excel_out import PLAN_XLSX, write_plan_xlsx
from allocator.i18n import choose_language, messages, t
from allocator.scenario import ResolvedScenario
from allocator.solvers import SolveInfo

__all__ = ["MANIFEST", "REPORT", "TABLES", "Results", "ResultsDir", "read_results_dir"]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
TABLES = ("demand", "schools", "assignments", "sites", "expansions", "spend", "plan_rules",
          "rotations", "staffing", "exceptions")
GPKG = "plan.gpkg"
RESOLVED = "scenario.resolved.yaml"
AUDIT = "audit.csv"
EXPLANATION = "explanation.md"
REPORT = "report.html"
OUTPUT_CRS = "EPSG:4326"
# GeoPackage stores a "last change" timestamp; fixing it keeps the file byte-identical.
FIXED_GPKG_TIMESTAMP = "2000-01-01T00:00:00.000Z"

PACKAGES = (
    "school-allocator",
    "pulp",
    "highspy",
    "ortools",
    "pandas",
    "numpy",
    "geopandas",
    "shapely",
    "pyproj",
    "pyogrio",
    "pydantic",
)


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "gdal": pyogrio.__gdal_version_string__}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


@dataclass(frozen=True)
class Results:
    """Everything a run produced, before or after it is written to disk.

    Parameters
    ----------
    scenario
        The resolved scenario that was run.
    info
        Solver status, objective, best bound and gap.
    tables
        Tidy tables by name (see :mod:`allocator.tables`).
    layers
        Map layers by name, EPSG:4326.
    metric_crs
        The projected CRS in which distances were computed.
    timings
        Seconds per step.
    inputs
        Layer name to (path as written, SHA-256 of its bytes).
    phases
        Solver reports of each phase (two in lexicographic mode).
    terms
        Achieved objective terms: ``unmet_children`` (child-periods),
        ``capital_cost_cny``, ``travel_child_m`` (summed over periods), ``max_unmet_share``,
        ``elastic_slack``.
    notes
        Pre-solve findings that quote numbers, and remarks on how the run was set up
        (e.g. zone aggregation).
    periods
        The milestone years planned.
    rotation
        Summary of the teacher rotation step (status, bound, gap, rule shares by year),
        or ``None`` when the scenario has no ``rotation:`` section.
    explanation
        Why the scenario cannot be satisfied, in the rules' own words (the relaxations an
        elastic re-solve needs; :mod:`allocator.explain`); empty when nothing was
        infeasible. Written to ``explanation.md``.
    """

    scenario: ResolvedScenario
    info: SolveInfo
    tables: Mapping[str, pd.DataFrame]
    layers: Mapping[str, gpd.GeoDataFrame]
    metric_crs: str
    timings: Mapping[str, float]
    phases: tuple[SolveInfo, ...] = ()
    terms: Mapping[str, float] = field(default_factory=dict)
    inputs: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    periods: tuple[int, ...] = ()
    rotation: Mapping[str, Any] | None = None
    explanation: tuple[str, ...] = ()

    @property
    def exit_code(self) -> ExitCode:
        """0 with a solution, 3 when infeasible, 4 when the solver gave no solution."""
        if self.info.has_solution:
            return ExitCode.OK
        if self.info.status == "infeasible":
            return ExitCode.INFEASIBLE
        return ExitCode.SOLVER_FAILURE

    def scenario_hash(self) -> str:
        """SHA-256 over the resolved configuration and the bytes of every input layer."""
        digest = hashlib.sha256(self.scenario.config_hash().encode())
        for name in sorted(self.inputs):
            digest.update(f"{name}:{self.inputs[name][1]}".encode())
        return digest.hexdigest()

    def summary(self) -> pd.DataFrame:
        """Per period year and stage: children, seats, new sites, capital and unmet children.

        Columns: ``year, stage, children``; ``existing_seats`` (seats of existing schools
        that year, expansions included), ``expanded_seats`` (the part added by expansion
        modules finished by that year), ``new_sites`` and ``new_seats`` (sites opened by
        that year and their seats), ``cost_cny`` (capital spent in that period on the
        stage), ``unmet``.
        """
        table = self.tables["demand"]
        planned = table[table["unmet"].notna()]
        schools = self.tables["schools"]
        expansions = self.tables.get("expansions")
        rows = []
        for (when, stage), group in planned.groupby(["year", "stage"], sort=True):
            year = int(str(when))
            here = schools[(schools["stage"] == stage) & (schools["year"] == year)]
            new = here[here["kind"] == "new"]
            added = 0
            if expansions is not None and not expansions.empty:
                done = expansions[(expansions["stage"] == stage) & (expansions["year"] <= year)]
                cap = here["class_cap"].iloc[0] if not here.empty else 0
                added = int(done["classes_added"].sum() * cap)
            rows.append(
                {
                    "year": year,
                    "stage": stage,
                    "children": round(group["children"].sum(), 3),
                    "existing_seats": int(here.loc[here["kind"] != "new", "seats"].sum()),
                    "expanded_seats": added,
                    "new_sites": int(new["school_id"].nunique()),
                    "new_seats": int(new["seats"].sum()),
                    "cost_cny": round(float(here["cost_cny"].sum()), 2),
                    "unmet": round(group["unmet"].sum(), 3),
                }
            )
        return pd.DataFrame(rows, columns=["year", "stage", "children", "existing_seats",
                                           "expanded_seats", "new_sites", "new_seats",
                                           "cost_cny", "unmet"])

    def manifest(self, *, report: bool = False) -> dict[str, Any]:
        """The ``manifest.json`` content.

        Parameters
        ----------
        report
            List ``report.html`` among the files (when it is written).
        """
        config = self.scenario.config
        info = self.info
        return {
            "tool": "allocator",
            "scenario": {
                "name": config.meta.name,
                "file": self.scenario.source.name,
                "overrides": list(self.scenario.overrides),
                "set": list(self.scenario.sets),
                "config_sha256": self.scenario.config_hash(),
                "scenario_sha256": self.scenario_hash(),
                "inputs": {
                    k: {"path": p, "sha256": h} for k, (p, h) in sorted(self.inputs.items())
                },
            },
            "seed": config.meta.seed,
            "status": info.status,
            "exit_code": int(self.exit_code),
            "objective": info.objective,
            "bound": info.bound,
            "gap": info.gap,
            "objective_mode": config.objective.mode,
            "periods": list(self.periods),
            "objective_terms": {k: round(v, 3) for k, v in self.terms.items()},
            "phases": [
                {"status": p.status, "objective": p.objective, "bound": p.bound, "gap": p.gap,
                 "seconds": round(p.seconds, 4), "message": p.message}
                for p in self.phases
            ],
            "solver": {
                "backend": info.solver,
                "version": info.solver_version,
                "message": info.message,
                "seconds": round(info.seconds, 4),
                "time_limit_s": config.solver.time_limit_s,
                "mip_gap": config.solver.mip_gap,
                "threads": config.solver.threads,
            },
            "crs": {
                "output": OUTPUT_CRS,
                "metric": self.metric_crs,
                "input_datums": {
                    name: ref.datum
                    for name in sorted(self.inputs)
                    if (ref := getattr(config.data, name, None)) is not None
                },
            },
            "timings_s": dict(self.timings),
            "notes": list(self.notes),
            "summary": self.summary().to_dict(orient="records"),
            "rotation": self.rotation,
            "explanation": list(self.explanation),
            "versions": _versions(),
            "files": [MANIFEST, RESOLVED, *(f"{t}.csv" for t in TABLES if t in self.tables),
                      AUDIT, GPKG, PLAN_XLSX, *([EXPLANATION] if self.explanation else []),
                      *([REPORT] if report else [])],
        }

    def _write_into(self, folder: Path, *, report: bool) -> None:
        text = yaml.safe_dump(self.scenario.to_dict(), sort_keys=False, allow_unicode=True)
        (folder / RESOLVED).write_text(text, encoding="utf-8")
        for name in TABLES:
            if name in self.tables:
                self.tables[name].to_csv(folder / f"{name}.csv", index=False,
                                         lineterminator="\n")
        audit = audit_tables({**scenario_tables(self.scenario), **self.tables}, self.scenario)
        audit.to_csv(folder / AUDIT, index=False, lineterminator="\n")
        write_plan_xlsx(folder, {**self.tables, "audit": audit}, self.scenario.config.meta.language)
        if self.explanation:  # rule lines ("J-04 ...") as a list, other lines as paragraphs
            body = [f"- {line}" if re.match(r"[A-Z]-\d\d\b", line) else f"\n{line}\n"
                    for line in self.explanation]
            lang = choose_language(self.scenario.config.meta.language)
            status = messages().get(f"status.{self.info.status}", lang) or self.info.status
            title = t("run.title", lang, name=self.scenario.config.meta.name, status=status)
            text = "\n".join([f"# {title}", *body])
            (folder / EXPLANATION).write_text(text.strip() + "\n", encoding="utf-8")
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_GPKG_TIMESTAMP})
        for name, layer in self.layers.items():
            layer.to_file(folder / GPKG, layer=name, driver="GPKG")
        self._write_manifest(folder, report=report)
        if report and not self._write_report(folder):
            self._write_manifest(folder, report=False)

    def _write_manifest(self, folder: Path, *, report: bool) -> None:
        text = json.dumps(self.manifest(report=report), indent=2, ensure_ascii=False,
                          allow_nan=False)
        (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")

    def _write_report(self, folder: Path) -> bool:
        """Write ``report.html`` into ``folder``; on failure warn, remove it, return False.

        The report reads what is already in ``folder`` (manifest, tables, ``audit.csv``,
        ``plan.gpkg``) and the ``README.md`` of the scenario's folder. Its language is the
        one chosen on the command line, else the scenario's ``meta.language``.
        """
        from allocator.report import write_report  # allocator.report imports this module

        started = time.perf_counter()
        try:
            write_report(folder, scenario_dir=self.scenario.source.parent)
        except Exception as exc:  # a report failure must not lose the results
            log.warning("%s not written (the results are kept): %s: %s", REPORT,
                        type(exc).__name__, exc)
            (folder / REPORT).unlink(missing_ok=True)
            return False
        log.info("%s written in %.2f s", REPORT, time.perf_counter() - started)
        return True

    def to_dir(self, path: str | Path, *, overwrite: bool = False, report: bool = True) -> Path:
        """Write the results directory atomically.

        Parameters
        ----------
        path
            The directory to create.
        overwrite
            Replace an existing directory of that name.
        report
            Also write ``report.html`` (before the rename, like every other file; in an
            ``allocator run`` it takes about 2 s for Dafeng and 4 s for Jiangmen).
            A report that fails only logs a warning. ``False`` skips it (faster tests,
            scripts that write many runs).

        Returns
        -------
        pathlib.Path
            The directory written.

        Raises
        ------
        OutputExistsError
            If ``path`` exists and ``overwrite`` is false. Nothing is written.
        """
        target = Path(path).resolve()
        if target.exists() and not overwrite:
            raise OutputExistsError(
                f"{path} already exists; choose another --out or pass --overwrite"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            self._write_into(partial, report=report)
            if target.exists():
                retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                os.replace(target, retired / target.name)
                os.replace(partial, target)
                shutil.rmtree(retired)
            else:
                os.replace(partial, target)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        log.info("results written to %s", target)
        return target


@dataclass(frozen=True)
class ResultsDir:
    """A results directory read back: its manifest and tables (no model objects)."""

    path: Path
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame]

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """One layer of ``plan.gpkg`` (EPSG:4326)."""
        return gpd.read_file(self.path / GPKG, layer=name)


def read_results_dir(path: str | Path) -> ResultsDir:
    """Read a results directory written by :meth:`Results.to_dir`.

    Every table of :data:`TABLES` that the directory holds is read (directories written
    before ``expansions``, ``spend`` and ``plan_rules`` existed have only the first four).

    Raises
    ------
    FileNotFoundError
        If the directory or its manifest is missing.
    """
    folder = Path(path)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    ids = {"zone_id": str, "school_id": str, "site_id": str, "option_id": str, "scope": str,
           "who": str, "where": str, "years": str}
    tables = {
        name: pd.read_csv(folder / f"{name}.csv", dtype=ids, keep_default_na=True)
        for name in TABLES
        if (folder / f"{name}.csv").exists()
    }
    return ResultsDir(folder, manifest, tables)
