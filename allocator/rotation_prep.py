"""Validated tables of the rotation model: schools, posts, subject needs and the roster.

:func:`prepare` checks every input frame of a :class:`~allocator.rotation_input.RotationInput`
(all problems reported together as one :class:`~allocator.errors.InputError`) and derives
what the model needs: plan years, posts required per school and year (J-27, Z-09, Z-11),
posts needed by subject, and one normalised roster. A ``teacher_counts`` input becomes a
roster of anonymous teachers (``RotationTables.named`` is false) so that one code path
serves both. Arcs and cohorts are built from these tables in
:mod:`allocator.rotation_network`.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

import pandas as pd

from allocator.errors import Problem, raise_if_any
from allocator.rotation_input import RotationInput, RotationPolicy
from allocator.rules import Kind, rule

__all__ = ["RESEARCH", "RotationTables", "SchoolInfo", "posts_required", "prepare", "restrict",
           "share"]

RESEARCH = "research"
"""Stage value of a research / teacher-development body (教研机构)."""

SCHOOL_COLUMNS = ("school_id", "county", "region", "stage", "urban", "high_quality", "weak",
                  "centre")
FLAGS = ("urban", "high_quality", "weak", "centre")


@dataclass(frozen=True)
class SchoolInfo:
    """One school or research body.

    Attributes
    ----------
    school_id, county, region, stage
        Ids and stage (``research`` for a research body).
    urban, high_quality, weak, centre
        Flags from the input.
    kind
        Values of ``RotationPolicy.talent_kind`` columns (G-11 "same kind").
    x_m, y_m
        Projected coordinates (metres) or NaN.
    """

    school_id: str
    county: str
    region: str
    stage: str
    urban: bool
    high_quality: bool
    weak: bool
    centre: bool
    kind: tuple[object, ...]
    x_m: float = math.nan
    y_m: float = math.nan

    @property
    def research(self) -> bool:
        """Whether this is a research body rather than a school."""
        return self.stage == RESEARCH

    @property
    def sender(self) -> bool:
        """D-19 sender: an urban or high-quality school."""
        return not self.research and (self.urban or self.high_quality)

    @property
    def receiver(self) -> bool:
        """A school that receives rotations: rural (D-19) or weak (D-20)."""
        return not self.research and (not self.urban or self.weak)

    @property
    def rural(self) -> bool:
        """A rural school: where D-19 rotations go (到农村学校)."""
        return not self.research and not self.urban


@dataclass(frozen=True, eq=False)
class RotationTables:
    """Validated inputs keyed by string ids, in sorted order.

    Attributes
    ----------
    years
        Plan years, ascending.
    schools
        ``school_id -> SchoolInfo`` (schools and research bodies).
    pupils, classes
        ``(school_id, year) -> persons`` and ``-> classes``, schools only.
    posts
        ``(school_id, year) -> posts required`` (teachers), schools only.
    needs
        ``(school_id, subject, year) -> posts required in that subject`` (teachers).
    roster
        One row per teacher: ``teacher_id, school_id, subject, backbone, degree,
        years_at_school, talent_year, researcher, eligible_from``; sorted by school,
        subject, backbone, then longest-serving first, then ``teacher_id``.
        ``eligible_from`` is the first plan year in which the teacher is eligible (D-19;
        researchers: due under J-15), ``<NA>`` if none.
    named
        Whether the roster holds named teachers (a ``teachers`` input).
    subjects
        Every subject, sorted.
    pairings
        ``pairing_id -> (level, from_id, to_id)``.
    distances
        ``(from_school, to_school) -> km`` given explicitly (may be empty).
    county_posts
        ``(county, year) -> approved posts`` (D-21, Z-10).
    """

    years: tuple[int, ...]
    schools: dict[str, SchoolInfo]
    pupils: dict[tuple[str, int], int]
    classes: dict[tuple[str, int], int]
    posts: dict[tuple[str, int], int]
    needs: dict[tuple[str, str, int], int]
    roster: pd.DataFrame
    named: bool
    subjects: tuple[str, ...]
    pairings: dict[str, tuple[str, str, str]]
    distances: dict[tuple[str, str], float]
    county_posts: dict[tuple[str, int], int]

    def distance_km(self, source: str, target: str) -> float:
        """Distance in km: the ``distances`` frame, else straight line, else NaN."""
        given = self.distances.get((source, target))
        if given is not None:
            return given
        a, b = self.schools[source], self.schools[target]
        return math.hypot(a.x_m - b.x_m, a.y_m - b.y_m) / 1000.0


def restrict(tables: RotationTables, years: tuple[int, ...]) -> RotationTables:
    """The same tables limited to ``years`` (for a model of some plan years only)."""
    keep = set(years)
    return dataclasses.replace(
        tables, years=tuple(years),
        pupils={k: v for k, v in tables.pupils.items() if k[1] in keep},
        classes={k: v for k, v in tables.classes.items() if k[1] in keep},
        posts={k: v for k, v in tables.posts.items() if k[1] in keep},
        needs={k: v for k, v in tables.needs.items() if k[2] in keep},
        county_posts={k: v for k, v in tables.county_posts.items() if k[1] in keep})


def share(value: float) -> Fraction:
    """Exact fraction of a decimal share, e.g. ``0.1 -> 1/10`` (denominator <= 10,000)."""
    return Fraction(str(value)).limit_denominator(10_000)


def _examples(values: Iterable[object], limit: int = 3) -> str:
    """A few offending values for a message."""
    items = sorted({repr(v) for v in values})
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _columns(frame: pd.DataFrame, name: str, columns: Iterable[str],
             problems: list[Problem]) -> bool:
    """Record missing columns; return whether all are present."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        problems.append(Problem(name, "", f"missing column(s) {missing}",
                                _examples(frame.columns)))
    return not missing


def _bools(frame: pd.DataFrame, name: str, column: str, problems: list[Problem]) -> pd.Series:
    """A boolean column (bool, 0/1, true/false text); problems for anything else."""
    raw = frame[column]
    text = raw.astype(str).str.strip().str.lower()
    mapping = {"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False}
    result = text.map(mapping)
    bad = raw[result.isna()]
    if len(bad):
        problems.append(Problem(name, f"column {column}", "must be true/false or 1/0",
                                _examples(bad.tolist())))
    return result.fillna(False).astype(bool)


def _numbers(frame: pd.DataFrame, name: str, column: str, problems: list[Problem], *,
             integer: bool) -> pd.Series:
    """A numeric column >= 0 (whole numbers if ``integer``); problems for the rest."""
    values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    ok = values.ge(0) & values.lt(math.inf)
    if integer:
        ok &= values.eq(values.round())
    bad = frame.loc[~ok, column]
    if len(bad):
        kind = "whole numbers >= 0" if integer else "numbers >= 0"
        problems.append(Problem(name, f"column {column}", f"must be {kind}",
                                _examples(bad.tolist())))
    return values.where(ok, 0.0)


def _schools(frame: pd.DataFrame, policy: RotationPolicy,
             problems: list[Problem]) -> dict[str, SchoolInfo]:
    """Validate ``schools``."""
    if not _columns(frame, "schools", SCHOOL_COLUMNS, problems):
        return {}
    df = frame.copy()
    for column in ("school_id", "county", "region", "stage"):
        df[column] = df[column].astype(str)
    for flag in FLAGS:
        df[flag] = _bools(df, "schools", flag, problems)
    for column in ("x_m", "y_m"):
        df[column] = (pd.to_numeric(df[column], errors="coerce").astype("float64")
                      if column in df.columns else math.nan)
    dup = df.loc[df["school_id"].duplicated(), "school_id"]
    if len(dup):
        problems.append(Problem("schools", "column school_id", "duplicate ids",
                                _examples(dup)))
    stages = set(policy.staffing_ratios) | {RESEARCH}
    bad = df.loc[~df["stage"].isin(stages), "stage"]
    if len(bad):
        problems.append(Problem("schools", "column stage",
                                f"unknown stage; expected one of {sorted(stages)}",
                                _examples(bad)))
    unknown_kind = [c for c in policy.talent_kind if c not in df.columns]
    if unknown_kind:
        problems.append(Problem("policy", "talent_kind", "names columns schools lacks",
                                _examples(unknown_kind)))
    kind_columns = [c for c in policy.talent_kind if c in df.columns]
    out: dict[str, SchoolInfo] = {}
    for row in df.sort_values("school_id", kind="mergesort").to_dict("records"):
        out[row["school_id"]] = SchoolInfo(
            school_id=row["school_id"], county=row["county"], region=row["region"],
            stage=row["stage"], urban=bool(row["urban"]),
            high_quality=bool(row["high_quality"]), weak=bool(row["weak"]),
            centre=bool(row["centre"]), kind=tuple(row[c] for c in kind_columns),
            x_m=float(row["x_m"]), y_m=float(row["y_m"]))
    return out


def _enrolment(frame: pd.DataFrame, schools: Mapping[str, SchoolInfo],
               policy: RotationPolicy, problems: list[Problem]
               ) -> tuple[tuple[int, ...], dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """Validate ``enrolment``; return plan years, pupils and classes."""
    if not _columns(frame, "enrolment", ("school_id", "year", "pupils", "classes"), problems):
        return (), {}, {}
    df = frame.copy()
    df["school_id"] = df["school_id"].astype(str)
    for column in ("year", "pupils", "classes"):
        df[column] = _numbers(df, "enrolment", column, problems, integer=True).astype("int64")
    years = tuple(policy.years) if policy.years is not None else tuple(
        sorted(int(y) for y in df["year"].unique()))
    if not years:
        problems.append(Problem("enrolment", "", "no plan years"))
    df = df[df["year"].isin(years)]
    pupils = {(s, int(y)): int(p) for s, y, p in
              zip(df["school_id"], df["year"], df["pupils"], strict=True)}
    classes = {(s, int(y)): int(c) for s, y, c in
               zip(df["school_id"], df["year"], df["classes"], strict=True)}
    missing = [(s, y) for s, info in schools.items() if not info.research
               for y in years if (s, y) not in pupils]
    if missing:
        problems.append(Problem("enrolment", "", "no row for (school_id, year)",
                                _examples(missing)))
    unknown = set(df["school_id"]) - {s for s, i in schools.items() if not i.research}
    if unknown:
        problems.append(Problem("enrolment", "column school_id",
                                "not a school in schools", _examples(unknown)))
    return years, pupils, classes


@rule("J-27", kind=Kind.PARAM, family="staffing", params=("policy.staffing_ratios",))
@rule("Z-09", kind=Kind.PARAM, family="staffing", params=("policy.staffing_ratios",))
@rule("Z-11", kind=Kind.PARAM, family="staffing",
      params=("policy.small_school_pupils", "policy.small_school_teachers_per_class",
              "policy.small_school_stages"))
def posts_required(stage: str, pupils: int, classes: int, policy: RotationPolicy) -> int:
    """Posts required by the unified staffing standard, recomputed every year.

    ``posts = ceil(pupils / ratio[stage])`` with ratio 19 / 13.5 / 12.5 (J-27, Z-09); for a
    school of a small-school stage with ``pupils < small_school_pupils`` (default primary,
    100) ``posts = max(that, ceil(teachers_per_class × classes))`` (Z-11, default 1.8).
    Arithmetic is exact (fractions), so 380 pupils at 1:19 need exactly 20 posts.
    """
    by_ratio = math.ceil(Fraction(pupils) / share(policy.staffing_ratios[stage]))
    if stage in policy.small_school_stages and pupils < policy.small_school_pupils:
        floor = math.ceil(share(policy.small_school_teachers_per_class) * classes)
        return max(by_ratio, floor)
    return int(by_ratio)


def _largest_remainder(total: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Split ``total`` by ``shares`` (largest remainder; ties by subject name)."""
    weight = sum(shares.values())
    if total <= 0 or weight <= 0:
        return dict.fromkeys(shares, 0)
    exact = {k: total * v / weight for k, v in shares.items()}
    out = {k: math.floor(v) for k, v in exact.items()}
    rest = total - sum(out.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - out[k]), k))[:rest]:
        out[k] += 1
    return out


def _needs(data: RotationInput, tables_posts: Mapping[tuple[str, int], int],
           schools: Mapping[str, SchoolInfo], roster: pd.DataFrame,
           problems: list[Problem]) -> dict[tuple[str, str, int], int]:
    """Posts needed by subject: ``subject_posts`` or the posts split by stage shares."""
    if data.subject_posts is not None:
        frame = data.subject_posts
        if not _columns(frame, "subject_posts", ("school_id", "year", "subject", "posts"),
                        problems):
            return {}
        posts = _numbers(frame, "subject_posts", "posts", problems, integer=True)
        return {(str(s), str(g), int(y)): int(p) for s, g, y, p in zip(
            frame["school_id"], frame["subject"], frame["year"], posts, strict=True)}
    shares = data.policy.subject_shares
    if shares is None:
        school_rows = roster[~roster["researcher"]]
        stage_of = school_rows["school_id"].map({s: i.stage for s, i in schools.items()})
        counts = school_rows.groupby([stage_of, school_rows["subject"]]).size()
        mix: dict[str, dict[str, float]] = defaultdict(dict)
        for key, n in counts.items():
            stage, subject = cast(tuple[object, object], key)
            mix[str(stage)][str(subject)] = float(n)
        shares = mix
    out: dict[tuple[str, str, int], int] = {}
    for (s, y), total in sorted(tables_posts.items()):
        split = _largest_remainder(total, shares.get(schools[s].stage, {}))
        out.update({(s, g, y): n for g, n in split.items() if n > 0})
    return out


def _eligible_from(years_at: pd.Series, researcher: pd.Series, years: tuple[int, ...],
                   policy: RotationPolicy) -> pd.Series:
    """First plan year with ``years_at_school + (t - first year) >= threshold``."""
    threshold = researcher.map({True: policy.researcher_years, False: policy.eligibility_years})
    first = years[0] + (threshold - years_at).clip(lower=0)
    result = pd.Series(pd.NA, index=years_at.index, dtype="Int64")
    for t in reversed(years):
        result = result.mask(first <= t, t)
    return result


def _roster(data: RotationInput, schools: Mapping[str, SchoolInfo], years: tuple[int, ...],
            problems: list[Problem]) -> tuple[pd.DataFrame, bool]:
    """Normalised roster from ``teachers`` or ``teacher_counts``."""
    if (data.teachers is None) == (data.teacher_counts is None):
        problems.append(Problem("teachers", "", "give exactly one of teachers (roster) and "
                                "teacher_counts"))
        return pd.DataFrame(), False
    named = data.teachers is not None
    if data.teachers is not None:
        df = _named_roster(data.teachers, schools, problems)
    else:
        assert data.teacher_counts is not None
        df = _count_roster(data.teacher_counts, data.policy, years, problems)
    if df.empty:
        return _empty_roster(), named
    unknown = set(df["school_id"]) - set(schools)
    if unknown:
        problems.append(Problem("teachers", "column school_id", "not in schools",
                                _examples(unknown)))
        df = df[df["school_id"].isin(schools)]
    df["researcher"] = df["school_id"].map(lambda s: schools[s].research).astype(bool)
    if named:
        df["eligible_from"] = _eligible_from(df["years_at_school"], df["researcher"], years,
                                             data.policy)
    df = df.sort_values(["school_id", "subject", "backbone", "years_at_school", "teacher_id"],
                        ascending=[True, True, True, False, True], kind="mergesort")
    return df.reset_index(drop=True), named


def _empty_roster() -> pd.DataFrame:
    """Roster frame without rows."""
    return pd.DataFrame({
        "teacher_id": pd.Series(dtype="string"), "school_id": pd.Series(dtype="string"),
        "subject": pd.Series(dtype="string"), "backbone": pd.Series(dtype=bool),
        "degree": pd.Series(dtype=bool), "years_at_school": pd.Series(dtype="int64"),
        "talent_year": pd.Series(dtype="Int64"), "researcher": pd.Series(dtype=bool),
        "eligible_from": pd.Series(dtype="Int64")})


def _named_roster(frame: pd.DataFrame, schools: Mapping[str, SchoolInfo],
                  problems: list[Problem]) -> pd.DataFrame:
    """Validate a named roster."""
    needed = ("teacher_id", "school_id", "subject", "backbone", "years_at_school")
    if not _columns(frame, "teachers", needed, problems):
        return pd.DataFrame()
    df = pd.DataFrame({c: frame[c].astype(str) for c in ("teacher_id", "school_id", "subject")})
    df["backbone"] = _bools(frame, "teachers", "backbone", problems)
    optional = {c: frame[c].astype(object).where(frame[c].notna(), False)
                for c in ("degree_above_required", "researcher") if c in frame.columns}
    df["degree"] = (_bools(pd.DataFrame(optional), "teachers", "degree_above_required",
                           problems) if "degree_above_required" in optional else False)
    df["years_at_school"] = _numbers(frame, "teachers", "years_at_school", problems,
                                     integer=True).astype("int64")
    talent = (pd.to_numeric(frame["talent_designation_year"], errors="coerce")
              if "talent_designation_year" in frame.columns
              else pd.Series(math.nan, index=frame.index))
    df["talent_year"] = talent.round().astype("Int64")
    dup = df.loc[df["teacher_id"].duplicated(), "teacher_id"]
    if len(dup):
        problems.append(Problem("teachers", "column teacher_id", "duplicate ids", _examples(dup)))
    if "county" in frame.columns:
        county = frame["county"].astype(str)
        wrong = [t for t, s, c in zip(df["teacher_id"], df["school_id"], county, strict=True)
                 if s in schools and schools[s].county != c]
        if wrong:
            problems.append(Problem("teachers", "column county",
                                    "differs from the county of the teacher's school",
                                    _examples(wrong)))
    if "researcher" in optional:
        flag = _bools(pd.DataFrame(optional), "teachers", "researcher", problems)
        wrong = [t for t, s, r in zip(df["teacher_id"], df["school_id"], flag, strict=True)
                 if s in schools and schools[s].research != r]
        if wrong:
            problems.append(Problem("teachers", "column researcher",
                                    "researchers belong to research bodies (stage research) "
                                    "and only there", _examples(wrong)))
    return df


def _count_roster(frame: pd.DataFrame, policy: RotationPolicy, years: tuple[int, ...],
                  problems: list[Problem]) -> pd.DataFrame:
    """Anonymous teachers from ``teacher_counts`` (ids ``school#subject#b#e#k``)."""
    needed = ("school_id", "subject", "backbone", "eligible", "count")
    if not _columns(frame, "teacher_counts", needed, problems) or not years:
        return pd.DataFrame()
    backbone = _bools(frame, "teacher_counts", "backbone", problems)
    eligible = _bools(frame, "teacher_counts", "eligible", problems)
    count = _numbers(frame, "teacher_counts", "count", problems, integer=True).astype(int)
    degree = (_numbers(frame, "teacher_counts", "degree_above_required", problems,
                       integer=True).astype(int)
              if "degree_above_required" in frame.columns else pd.Series(0, index=frame.index))
    over = frame.loc[degree > count, "school_id"]
    if len(over):
        problems.append(Problem("teacher_counts", "column degree_above_required",
                                "exceeds count", _examples(over)))
    rows: list[dict[str, object]] = []
    for s, g, b, e, n, d in zip(frame["school_id"].astype(str), frame["subject"].astype(str),
                                backbone, eligible, count, degree, strict=True):
        for k in range(int(n)):
            rows.append({"teacher_id": f"{s}#{g}#{int(b)}#{int(e)}#{k:06d}", "school_id": s,
                         "subject": g, "backbone": bool(b), "degree": k < d,
                         "years_at_school": policy.eligibility_years if e else 0,
                         "talent_year": pd.NA, "eligible_from": years[0] if e else pd.NA})
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows)
    df["talent_year"] = df["talent_year"].astype("Int64")
    df["eligible_from"] = df["eligible_from"].astype("Int64")
    dup = df.loc[df["teacher_id"].duplicated(), "teacher_id"]
    if len(dup):
        problems.append(Problem("teacher_counts", "", "repeated (school_id, subject, backbone, "
                                "eligible) rows", _examples(dup.str.rsplit("#", n=1).str[0])))
    return df


def _pairings(data: RotationInput, schools: Mapping[str, SchoolInfo],
              problems: list[Problem]) -> dict[str, tuple[str, str, str]]:
    """Validate ``pairings`` (J-17)."""
    frame = data.pairings
    if frame is None or frame.empty:
        return {}
    if not _columns(frame, "pairings", ("pairing_id", "level", "from_id", "to_id"), problems):
        return {}
    counties = {i.county for i in schools.values()}
    out: dict[str, tuple[str, str, str]] = {}
    for p, level, a, b in zip(*(frame[c].astype(str) for c in
                                ("pairing_id", "level", "from_id", "to_id")), strict=True):
        known = counties if level == "county" else set(schools) if level == "school" else None
        if known is None:
            problems.append(Problem("pairings", f"pairing {p}", "level must be county or "
                                    "school", level))
        elif a not in known or b not in known:
            problems.append(Problem("pairings", f"pairing {p}", f"unknown {level} id",
                                    f"{a} -> {b}"))
        elif p in out:
            problems.append(Problem("pairings", "column pairing_id", "duplicate id", p))
        else:
            out[p] = (level, a, b)
    return dict(sorted(out.items()))


def _distances(data: RotationInput, problems: list[Problem]) -> dict[tuple[str, str], float]:
    """Validate ``distances``."""
    frame = data.distances
    if frame is None or frame.empty:
        return {}
    if not _columns(frame, "distances", ("from_school", "to_school", "distance_km"), problems):
        return {}
    km = _numbers(frame, "distances", "distance_km", problems, integer=False)
    return {(str(a), str(b)): float(d) for a, b, d in
            zip(frame["from_school"], frame["to_school"], km, strict=True)}


def _county_posts(data: RotationInput, schools: Mapping[str, SchoolInfo],
                  posts: Mapping[tuple[str, int], int], years: tuple[int, ...],
                  problems: list[Problem]) -> dict[tuple[str, int], int]:
    """Approved post totals per county and year (default: sum of required posts)."""
    out: dict[tuple[str, int], int] = {}
    for (s, y), p in posts.items():
        key = (schools[s].county, y)
        out[key] = out.get(key, 0) + p
    frame = data.county_posts
    if frame is not None and not frame.empty and _columns(
            frame, "county_posts", ("county", "year", "posts"), problems):
        given = _numbers(frame, "county_posts", "posts", problems, integer=True)
        for c, y, p in zip(frame["county"].astype(str), frame["year"], given, strict=True):
            if int(y) in years:
                out[(c, int(y))] = int(p)
    return dict(sorted(out.items()))


def prepare(data: RotationInput) -> RotationTables:
    """Validate ``data`` and derive the model's tables.

    Raises
    ------
    InputError
        Every problem found in the frames, together.
    """
    problems: list[Problem] = []
    policy = data.policy
    schools = _schools(data.schools, policy, problems)
    years, pupils, classes = _enrolment(data.enrolment, schools, policy, problems)
    roster, named = _roster(data, schools, years, problems)
    pairings = _pairings(data, schools, problems)
    distances = _distances(data, problems)
    if policy.mode == "distance" and not distances and any(
            math.isnan(i.x_m) or math.isnan(i.y_m) for i in schools.values()):
        problems.append(Problem("schools", "columns x_m, y_m", "the distance mode needs "
                                "coordinates for every school or a distances frame"))
    raise_if_any(problems)
    posts = {(s, y): posts_required(schools[s].stage, n, classes[(s, y)], policy)
             for (s, y), n in sorted(pupils.items())}
    needs = _needs(data, posts, schools, roster, problems)
    county_posts = _county_posts(data, schools, posts, years, problems)
    raise_if_any(problems)
    subjects = tuple(sorted(set(roster["subject"]) | {g for _, g, _ in needs}))
    return RotationTables(years=years, schools=schools, pupils=pupils, classes=classes,
                          posts=posts, needs=needs, roster=roster, named=named,
                          subjects=subjects, pairings=pairings, distances=distances,
                          county_posts=county_posts)
