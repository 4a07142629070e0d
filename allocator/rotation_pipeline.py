"""The rotation step of a run: scenario ``rotation:`` section in, staffing plan out.

:func:`plan_rotation` reads the section's files (each checked cell by cell; every problem
names the file, the rows and the column), builds a
:class:`~allocator.rotation_input.RotationInput` from the schools layer and the enrolment
by year, solves it (:func:`allocator.rotation.solve_rotation`; an elastic re-solve names
the rules that must give when the hard model has no solution) and returns a
:class:`RotationOutcome` with the ``rotations`` and ``staffing`` tables of the results
contract and a JSON-ready summary (:mod:`allocator.rotation_summary`).

Schools: the rows of the schools layer whose stage is in ``rotation.stages``; their
flags come from ``data.school_attributes``, else the layer's own columns (see
:class:`~allocator.rotation_config.RotationData`), and their coordinates are projected to
the run's metric CRS (metres) for rotation distances. Enrolment: ``school_id, stage, year,
enrolled, classes`` (the siting plan's ``capacity``, whatever the siting status); a plan
year between two enrolment years holds the school's latest earlier one (before its first,
its first); new sites are not staffed (they have no teachers yet), and a plan without
any row for the staffed schools (no siting solution) falls back to full schools
(:func:`static_enrolment`) with a note.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj

from allocator.errors import InputError, Problem, raise_if_any
from allocator.rotation import RotationResult, solve_rotation
from allocator.rotation_config import (
    RegionTable,
    RotationConfig,
    RotationLayerRef,
    RotationTableRef,
    StaffedStage,
)
from allocator.rotation_input import RotationInput
from allocator.rotation_summary import outcome_tables, summarise
from allocator.scenario import ResolvedScenario
from allocator.solvers import CpSatOptions, SolveInfo
from gis.columns import Context
from gis.io import ColumnSpec, read_layer, read_table

__all__ = ["RotationOutcome", "enrolment_by_year", "plan_rotation", "rotation_years",
           "static_enrolment"]

log = logging.getLogger(__name__)

TEACHER_COLUMNS = (
    ColumnSpec("teacher_id", "id"),
    ColumnSpec("school_id", "id"),
    ColumnSpec("subject", "id"),
    ColumnSpec("backbone", "flag"),
    ColumnSpec("years_at_school", "count", integer=True),
    ColumnSpec("county", "text", required=False),
    ColumnSpec("title", "text", required=False),
    ColumnSpec("degree_above_required", "flag", required=False),
    ColumnSpec("talent_designation_year", "text", required=False),
    ColumnSpec("researcher", "flag", required=False),
)
COUNT_COLUMNS = (
    ColumnSpec("school_id", "id"),
    ColumnSpec("subject", "id"),
    ColumnSpec("backbone", "flag"),
    ColumnSpec("eligible", "flag"),
    ColumnSpec("count", "count", integer=True),
    ColumnSpec("degree_above_required", "count", required=False, integer=True),
)
PAIRING_COLUMNS = (
    ColumnSpec("pairing_id", "id"),
    ColumnSpec("level", "choice", choices=("county", "school")),
    ColumnSpec("from_id", "id"),
    ColumnSpec("to_id", "id"),
)
FLAGS = ("urban", "high_quality", "weak", "centre")
ATTRIBUTE_COLUMNS = (
    ColumnSpec("school_id", "id"),
    *(ColumnSpec(flag, "flag", required=False) for flag in FLAGS),
    ColumnSpec("region", "text", required=False),
)
RESEARCH_COLUMNS = (
    ColumnSpec("school_id", "id"),
    ColumnSpec("county", "text"),
    ColumnSpec("region", "text", required=False),
    ColumnSpec("centre", "flag", required=False),
)
_TRUE = frozenset({"true", "1", "yes", "y", "是", "1.0"})
_FALSE = frozenset({"false", "0", "no", "n", "否", "0.0"})


@dataclass(frozen=True, eq=False)
class RotationOutcome:
    """A solved staffing and rotation plan, ready for the results directory.

    Attributes
    ----------
    result
        The model's result (elastic when the hard model had no solution and the scenario
        allows an elastic re-solve): rule report, slacks, CVs, exceptions.
    tables
        ``rotations`` and ``staffing`` in the results contract (see
        :func:`allocator.rotation_summary.outcome_tables`).
    summary
        JSON-ready numbers (see :func:`allocator.rotation_summary.summarise`).
    data
        The model input that was solved.
    files
        Table name -> (path as written in the scenario, SHA-256 of the file's bytes).
    hard_info
        The hard model's solve report when an elastic re-solve followed, else ``None``.
    notes
        Findings that quote numbers (pre-solve warnings, enrolment held, sites skipped).
    """

    result: RotationResult
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    data: RotationInput
    files: dict[str, tuple[str, str]] = field(default_factory=dict)
    hard_info: SolveInfo | None = None
    notes: tuple[str, ...] = ()


def rotation_years(resolved: ResolvedScenario) -> tuple[int, ...]:
    """Plan years of the rotation: ``rotation.years``, else five from the design year."""
    config = resolved.config
    section = config.rotation
    if section is not None and section.years is not None:
        return tuple(section.years)
    first = config.planning.siting_year
    return tuple(range(first, first + 5))


def static_enrolment(resolved: ResolvedScenario, schools: pd.DataFrame,
                     years: Sequence[int] | None = None) -> pd.DataFrame:
    """Enrolment when no siting plan gives one: every school full, every year.

    ``enrolled = classes × class cap`` (D-13) for the staffed stages, the same each year.

    Returns
    -------
    pandas.DataFrame
        ``school_id, stage, year, enrolled, classes`` (pupils, classes).
    """
    config = resolved.config
    stages: list[StaffedStage] = (config.rotation.stages if config.rotation is not None
                                  else ["primary", "junior"])
    chosen = schools[schools["stage"].isin(stages)]
    caps = {s: config.standards.class_caps.get(s) for s in stages}
    rows = []
    for year in years if years is not None else rotation_years(resolved):
        for sid, stage, classes in zip(chosen["school_id"], chosen["stage"], chosen["classes"],
                                       strict=True):
            cap = caps[stage]
            if cap is None:
                raise InputError([Problem(resolved.source.name,
                                          f"key standards.class_caps.{stage}",
                                          "the rotation staffs this stage but it has no cap")])
            rows.append((str(sid), str(stage), int(year), int(classes) * cap, int(classes)))
    return pd.DataFrame(rows, columns=["school_id", "stage", "year", "enrolled", "classes"])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Reader:
    """Reads the section's tables, collecting problems and file hashes."""

    def __init__(self, resolved: ResolvedScenario) -> None:
        self.resolved = resolved
        self.problems: list[Problem] = []
        self.files: dict[str, tuple[str, str]] = {}

    def path(self, ref: RotationTableRef | RotationLayerRef | RegionTable) -> Path:
        return (self.resolved.base_dir / ref.path).resolve()

    def table(self, name: str, ref: RotationTableRef | RegionTable | None,
              columns: Sequence[ColumnSpec], *, id_column: str | None = None,
              unique: Sequence[str] = ()) -> pd.DataFrame | None:
        if ref is None:
            return None
        path = self.path(ref)
        try:
            frame = read_table(path, label=ref.path, columns=columns, id_column=id_column,
                               unique=unique, sheet=ref.sheet)
        except InputError as exc:
            self.problems.extend(exc.problems)
            return None
        self.files[name] = (ref.path, _sha256(path))
        return frame


def _flag_text(values: pd.Series, ctx: Context, column: str,
               problems: list[Problem]) -> pd.Series:
    """Yes/no cells of a column kept as text (the schools layer's extra columns)."""
    text = values.astype(str).str.strip().str.lower()
    parsed = text.map(lambda t: True if t in _TRUE else False if t in _FALSE else None)
    bad = [int(i) for i in parsed.index[parsed.isna()]]
    if bad:
        problems.append(ctx.problem("expected yes/no (true/false, 1/0)", indices=bad,
                                    column=column, values=[str(values[i]) for i in bad]))
    return parsed.fillna(False).astype(bool)


def _school_frame(resolved: ResolvedScenario, section: RotationConfig, schools: pd.DataFrame,
                  crs: pyproj.CRS, reader: _Reader) -> pd.DataFrame:
    """The model's ``schools`` frame: staffed schools (and research bodies) with flags."""
    problems = reader.problems
    layer_label = resolved.config.data.schools.path
    layer_ctx = Context(layer_label, "row", 2)
    chosen = schools[schools["stage"].isin(section.stages)]
    place = resolved.config.meta.place or "all"
    frame = pd.DataFrame({
        "school_id": chosen["school_id"].astype(str),
        "stage": chosen["stage"].astype(str),
        "county": (chosen["county"].astype(str) if "county" in chosen.columns else place)})
    points = gpd.GeoSeries(chosen.geometry, crs=schools.crs).to_crs(crs)
    frame["x_m"], frame["y_m"] = points.x.to_numpy(), points.y.to_numpy()
    data = section.data
    attrs = reader.table("school_attributes", data.school_attributes, ATTRIBUTE_COLUMNS,
                         id_column="school_id")
    if attrs is not None:
        label = data.school_attributes.path if data.school_attributes else ""
        ctx = Context(label, "row", 2)
        layer_ids = set(schools["school_id"].astype(str))
        unknown = [int(i) for i in attrs.index[~attrs["school_id"].isin(layer_ids)]]
        if unknown:
            problems.append(ctx.problem("no school in the schools layer has this id",
                                        indices=unknown, column="school_id",
                                        values=attrs.loc[unknown, "school_id"].tolist()))
        missing = sorted(set(frame["school_id"]) - set(attrs["school_id"]))
        if missing:
            problems.append(Problem(label, "column school_id", "no row for these staffed "
                                    "schools", ", ".join(missing[:5])
                                    + (f" … and {len(missing) - 5} more" if len(missing) > 5
                                       else "")))
        attrs = attrs.set_index("school_id")
    for flag in FLAGS:
        if attrs is not None and flag in attrs.columns:
            frame[flag] = frame["school_id"].map(attrs[flag]).fillna(False).astype(bool)
        elif flag in chosen.columns:
            frame[flag] = _flag_text(chosen[flag], layer_ctx, flag, problems).to_numpy()
        elif flag == "urban":
            problems.append(Problem(layer_label, "column urban", "the rotation needs urban "
                                    "flags (D-19 senders and receivers): add an urban column "
                                    "to rotation.data.school_attributes or the schools layer"))
            frame[flag] = False
        else:
            frame[flag] = False
    frame["region"] = _regions(frame, chosen, attrs, section, reader)
    research = _research_bodies(section, crs, reader)
    return pd.concat([frame, research], ignore_index=True) if len(research) else frame


def _regions(frame: pd.DataFrame, chosen: pd.DataFrame, attrs: pd.DataFrame | None,
             section: RotationConfig, reader: _Reader) -> pd.Series:
    """Region per school: attributes, else the regions table, else the layer, else county."""
    if attrs is not None and "region" in attrs.columns:
        return frame["school_id"].map(attrs["region"]).fillna("").astype(str)
    ref = section.data.regions
    if ref is not None:
        spec = (ColumnSpec(ref.county_column, "id"), ColumnSpec(ref.region_column, "id"))
        table = reader.table("regions", ref, spec, id_column=ref.county_column)
        if table is not None:
            lookup = dict(zip(table[ref.county_column], table[ref.region_column], strict=True))
            unknown = sorted(set(frame["county"]) - set(lookup))
            if unknown:
                reader.problems.append(Problem(ref.path, f"column {ref.county_column}",
                                               "no row for these counties of the schools",
                                               ", ".join(unknown[:5])))
            region = frame["county"].map(lookup).fillna("").astype(str)
            if "region" in chosen.columns:
                layer = chosen["region"].astype(str).to_numpy()
                differ = [int(i) for i, a, b in zip(chosen.index, layer, region, strict=True)
                          if a != b]
                if differ:
                    ctx = Context(reader.resolved.config.data.schools.path, "row", 2)
                    reader.problems.append(ctx.problem(
                        f"region differs from {ref.path}", indices=differ, column="region",
                        values=[str(chosen.at[i, "region"]) for i in differ]))
            return region
    if "region" in chosen.columns:
        return pd.Series(chosen["region"].astype(str).to_numpy(), index=frame.index)
    return frame["county"].astype(str)


def _research_bodies(section: RotationConfig, crs: pyproj.CRS, reader: _Reader
                     ) -> pd.DataFrame:
    """Research bodies (stage ``research``) from ``data.research_bodies``."""
    ref = section.data.research_bodies
    if ref is None:
        return pd.DataFrame()
    path = reader.path(ref)
    try:
        layer = read_layer(path, label=ref.path, datum=ref.datum, columns=RESEARCH_COLUMNS,
                           id_column="school_id", geometry_types=("Point",), sheet=ref.sheet)
    except InputError as exc:
        reader.problems.extend(exc.problems)
        return pd.DataFrame()
    reader.files["research_bodies"] = (ref.path, _sha256(path))
    points = layer.geometry.to_crs(crs)
    regions = section.data.regions
    return pd.DataFrame({
        "school_id": layer["school_id"], "stage": "research", "county": layer["county"],
        "x_m": points.x.to_numpy(), "y_m": points.y.to_numpy(), "urban": True,
        "high_quality": False, "weak": False,
        "centre": layer["centre"] if "centre" in layer.columns else False,
        "region": layer["region"] if "region" in layer.columns else (
            "" if regions is not None else layer["county"])})


def _fill_regions(schools: pd.DataFrame, reader: _Reader) -> pd.DataFrame:
    """Research bodies without a region take the region of their county's schools."""
    by_county = (schools[schools["stage"].ne("research")].groupby("county")["region"]
                 .first().to_dict())
    blank = schools["region"].eq("")
    schools.loc[blank, "region"] = schools.loc[blank, "county"].map(by_county).fillna("")
    return schools


def enrolment_by_year(enrolment: pd.DataFrame, staffed: pd.DataFrame,
                      years: Sequence[int]) -> tuple[pd.DataFrame, list[str]]:
    """Pupils and classes of each staffed school in each plan year.

    Only rows of the staffed schools' stages are read; they count for a school only at
    the school's own stage (a new site is not staffed). A plan year between two
    enrolment years holds the school's latest earlier one (before its first, its first).
    Pupils and classes are rounded to whole numbers after summing.

    Parameters
    ----------
    enrolment
        ``school_id, stage, year, enrolled, classes`` (pupils, classes) by period year,
        e.g. the siting plan's ``capacity`` or :func:`static_enrolment`.
    staffed
        ``school_id, stage`` of the staffed schools.
    years
        Plan years (calendar years).

    Returns
    -------
    tuple[pandas.DataFrame, list[str]]
        ``school_id, year, pupils, classes`` (only schools with enrolment; sorted by school
        and year) and notes quoting the rows left out and the years held.
    """
    notes: list[str] = []
    stage_of = dict(zip(staffed["school_id"].astype(str), staffed["stage"].astype(str),
                        strict=True))
    frame = enrolment.assign(school_id=enrolment["school_id"].astype(str),
                             stage=enrolment["stage"].astype(str))
    frame = frame[frame["stage"].isin(set(stage_of.values()))]
    mine = frame["school_id"].map(stage_of).eq(frame["stage"])
    unknown = sorted(set(frame.loc[~mine & ~frame["school_id"].isin(set(stage_of)),
                                   "school_id"]))
    if unknown:
        notes.append(f"enrolment of {len(unknown)} school(s) or site(s) not in the schools "
                     f"layer is not staffed (new sites have no teachers yet): "
                     f"{', '.join(unknown[:5])}" + (" …" if len(unknown) > 5 else ""))
    other = sorted(set(frame.loc[~mine & frame["school_id"].isin(set(stage_of)),
                                 "school_id"]))
    if other:
        notes.append(f"enrolment of {len(other)} staffed school(s) at another stage than "
                     f"their own is not staffed: {', '.join(other[:5])}")
    totals = (frame[mine].groupby(["school_id", "year"], as_index=False)[
        ["enrolled", "classes"]].sum().sort_values(["school_id", "year"]))
    have = sorted({int(y) for y in totals["year"]})
    columns = ["school_id", "year", "pupils", "classes"]
    if not have:
        return pd.DataFrame(columns=columns), notes
    source = {int(y): max([h for h in have if h <= y], default=have[0]) for y in years}
    held = {y: s for y, s in source.items() if s != y}
    if held:
        notes.append("enrolment held from the latest earlier period: " + ", ".join(
            f"{y} <- {s}" for y, s in sorted(held.items())))
    parts = []
    for year in sorted(source):
        # per school: its latest period up to the year, else its first one
        upto = totals[totals["year"].le(year)].groupby("school_id").tail(1)
        first = totals.groupby("school_id").head(1)
        part = pd.concat([upto, first[~first["school_id"].isin(set(upto["school_id"]))]])
        parts.append(part.assign(year=year))
    out = pd.concat(parts, ignore_index=True).rename(columns={"enrolled": "pupils"})
    out["pupils"] = out["pupils"].astype(float).round().astype("int64")
    out["classes"] = out["classes"].astype(float).round().astype("int64")
    out["year"] = out["year"].astype("int64")
    return (out.loc[:, columns].sort_values(["school_id", "year"], kind="mergesort")
            .reset_index(drop=True), notes)


def _enrolment_frame(resolved: ResolvedScenario, layer: pd.DataFrame,
                     enrolment: pd.DataFrame, schools: pd.DataFrame,
                     years: tuple[int, ...], notes: list[str], problems: list[Problem]
                     ) -> pd.DataFrame:
    """``school_id, year, pupils, classes`` for every staffed school and plan year.

    When ``enrolment`` has no row for any staffed school (a siting plan without a
    solution has empty tables), every school is taken full (:func:`static_enrolment`)
    and a note says so.
    """
    staffed = schools.loc[schools["stage"].ne("research"), ["school_id", "stage"]]
    out, found = enrolment_by_year(enrolment, staffed, years)
    if out.empty and len(staffed):
        notes.append("the enrolment has no row for the staffed schools (no siting "
                     "solution?): every school is taken full, classes x class cap")
        out, found = enrolment_by_year(static_enrolment(resolved, layer, years), staffed,
                                       years)
    notes += found
    missing = sorted(set(staffed["school_id"]) - set(out["school_id"]))
    if missing:
        problems.append(Problem("enrolment", "column school_id", "no enrolment for these "
                                "staffed schools", ", ".join(missing[:5])))
    return out


def _roster(section: RotationConfig, schools: pd.DataFrame, reader: _Reader
            ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The roster or the counts, checked against the schools (rows named)."""
    data = section.data
    known = dict(zip(schools["school_id"], schools["county"], strict=True))
    teachers = reader.table("teachers", data.teachers, TEACHER_COLUMNS, id_column="teacher_id")
    counts = reader.table("teacher_counts", data.teacher_counts, COUNT_COLUMNS,
                          unique=("school_id", "subject", "backbone", "eligible"))
    frame, ref = (teachers, data.teachers) if teachers is not None else (counts,
                                                                         data.teacher_counts)
    if frame is None or ref is None:
        return None, None
    ctx = Context(ref.path, "row", 2)
    problems = reader.problems
    bad = [int(i) for i in frame.index[~frame["school_id"].isin(set(known))]]
    if bad:
        problems.append(ctx.problem(f"not a school of the staffed stages {section.stages} "
                                    "(or a research body)", indices=bad, column="school_id",
                                    values=frame.loc[bad, "school_id"].tolist()))
    if teachers is not None:
        if "county" in teachers.columns:
            wrong = [int(i) for i, s, c in zip(teachers.index, teachers["school_id"],
                                               teachers["county"], strict=True)
                     if s in known and c != "" and c != known[s]]
            if wrong:
                problems.append(ctx.problem("differs from the county of the teacher's school",
                                            indices=wrong, column="county",
                                            values=teachers.loc[wrong, "county"].tolist()))
        if "talent_designation_year" in teachers.columns:
            teachers["talent_designation_year"] = _years(
                teachers["talent_designation_year"], ctx, problems)
        if "researcher" in teachers.columns:
            research = {s for s, st in zip(schools["school_id"], schools["stage"], strict=True)
                        if st == "research"}
            wrong = [int(i) for i, s, r in zip(teachers.index, teachers["school_id"],
                                               teachers["researcher"], strict=True)
                     if s in known and (s in research) != bool(r)]
            if wrong:
                problems.append(ctx.problem("researchers belong to research bodies and only "
                                            "there", indices=wrong, column="researcher",
                                            values=teachers.loc[wrong, "researcher"].tolist()))
        return teachers, None
    return None, counts


def _years(values: pd.Series, ctx: Context, problems: list[Problem]) -> pd.Series:
    """Calendar years or empty cells."""
    text = values.astype(str).str.strip()
    number = pd.to_numeric(text.where(text.ne(""), None), errors="coerce")
    bad = [int(i) for i in text.index[text.ne("") & (number.isna() | number.ne(number.round())
                                                       | ~number.between(1950, 2100))]]
    if bad:
        problems.append(ctx.problem("expected a calendar year or an empty cell", indices=bad,
                                    column="talent_designation_year",
                                    values=text[bad].tolist()))
    return number.where(~number.index.isin(bad)).round().astype("Int64")


def _pairings(section: RotationConfig, schools: pd.DataFrame, reader: _Reader
              ) -> pd.DataFrame | None:
    """Pairings whose ends are known counties or schools (rows named)."""
    ref = section.data.pairings
    frame = reader.table("pairings", ref, PAIRING_COLUMNS, id_column="pairing_id")
    if frame is None or ref is None:
        return frame
    ctx = Context(ref.path, "row", 2)
    known = {"county": set(schools["county"]), "school": set(schools["school_id"])}
    for column in ("from_id", "to_id"):
        bad = [int(i) for i, level, v in zip(frame.index, frame["level"], frame[column],
                                             strict=True) if v not in known[level]]
        if bad:
            reader.problems.append(ctx.problem(
                "no county or school (as the row's level says) of the staffed schools",
                indices=bad, column=column, values=frame.loc[bad, column].tolist()))
    return frame


def _relabel(error: InputError, files: dict[str, str]) -> InputError:
    """Name the scenario's files instead of the model's frame names."""
    return InputError([replace(p, source=files.get(p.source, p.source)) for p in error.problems])


def plan_rotation(resolved: ResolvedScenario, schools: pd.DataFrame, enrolment: pd.DataFrame,
                  *, crs: pyproj.CRS) -> RotationOutcome:
    """Staff the schools and plan the rotations for the scenario's ``rotation:`` section.

    Parameters
    ----------
    resolved
        The scenario; its ``rotation`` section must be set.
    schools
        The schools layer (:func:`allocator.inputs.load_inputs`): GeoDataFrame in
        EPSG:4326, one row per school, columns ``school_id, stage, classes`` and optional
        ``county``, ``region`` and flag columns.
    enrolment
        ``school_id, stage, year, enrolled, classes`` (pupils, classes) by plan period,
        whatever the siting status (see :func:`enrolment_by_year`); see
        :func:`static_enrolment` when no siting plan gives one (an enrolment without a
        row for the staffed schools falls back to it, with a note).
    crs
        The run's projected metric CRS (metres) for distances.

    Returns
    -------
    RotationOutcome
        Result, tables, summary; a solver outcome is reported, never raised.

    Raises
    ------
    InputError
        Every problem of the section's files and of the model input, together.
    """
    config = resolved.config
    section = config.rotation
    if section is None:
        raise InputError([Problem(resolved.source.name, "key rotation",
                                  "the scenario has no rotation section")])
    years = rotation_years(resolved)
    reader = _Reader(resolved)
    ratios = {s: config.standards.staffing_ratios.get(s) for s in section.stages}
    for stage, ratio in ratios.items():
        if ratio is None:
            reader.problems.append(Problem(resolved.source.name,
                                           f"key standards.staffing_ratios.{stage}",
                                           "the rotation staffs this stage but it has no "
                                           "staffing ratio"))
    frame = _fill_regions(_school_frame(resolved, section, schools, crs, reader), reader)
    notes: list[str] = []
    pupils = _enrolment_frame(resolved, schools, enrolment, frame, years, notes,
                              reader.problems)
    teachers, counts = _roster(section, frame, reader)
    pairings = _pairings(section, frame, reader)
    raise_if_any(reader.problems)
    policy = section.policy(years=years, staffing_ratios={
        s: float(r) for s, r in ratios.items() if r is not None}, rules=config.rules,
        schools=set(frame["school_id"].astype(str)), source=resolved.source.name)
    data = RotationInput(schools=frame, enrolment=pupils, teachers=teachers,
                         teacher_counts=counts, pairings=pairings, policy=policy,
                         weights=section.weights.to_weights(), disaggregate=section.disaggregate)
    solver = config.solver
    options = CpSatOptions(
        time_limit_s=section.time_limit_s or solver.time_limit_s,
        relative_gap=section.relative_gap if section.relative_gap is not None
        else solver.mip_gap, num_workers=section.workers, seed=config.meta.seed,
        interleave_search=section.workers > 1)
    labels = {name: ref for name, (ref, _) in reader.files.items()}
    try:
        result = solve_rotation(data, options=options, elastic=section.elastic == "always")
    except InputError as exc:
        raise _relabel(exc, labels) from None
    hard_info = None
    if not result.info.has_solution and section.elastic == "on_failure":
        log.warning("rotation: %s; re-solving elastic to name the rules that must give",
                    result.info.status)
        hard_info = result.info
        result = solve_rotation(data, options=options, elastic=True)
    notes += list(result.warnings)
    tables = outcome_tables(result)
    summary = summarise(data, result, tables, hard_info=hard_info, notes=notes)
    return RotationOutcome(result=result, tables=tables, summary=summary, data=data,
                           files=dict(reader.files), hard_info=hard_info, notes=tuple(notes))
