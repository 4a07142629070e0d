"""SYNTHETIC teacher rosters and school flags for scenario folders (not real data).

Used by the scenario generators (``scenarios/*/generate_teachers.py``) to give a scenario
the teachers its schools would plausibly have, so that the rotation model can be shown
on it. Every number comes from one ``numpy.random.Generator(seed)``, rows are sorted, so
the output is byte-identical for the same inputs and seed.

Roster recipe per school (``pupils`` and ``classes`` of the year the school needs the
most posts, see :func:`peak_sizes`; with a siting plan, the plan's enrolment):

* posts ``P`` by the unified ratios (J-27, Z-09, Z-11; :func:`allocator.rotation_prep.
  posts_required`);
* headcount: D-19 senders (urban or high-quality) ``round(P × U(sender_cover))``, other
  schools ``round(P × U(receiver_cover))`` (default 1.15–1.25 and 0.90–1.00: urban schools
  hold the surplus, rural ones are short), at least 3; a sender has at least the least
  ``n`` with ``n - P >= ceil(rotation_min_share × n)``, so that it can lend its D-19 share
  without dropping below its posts (J-27) even when every teacher is eligible;
* subjects from :data:`allocator.rotation_synth.SUBJECT_MIX` of the stage; years at the
  school uniform 0–20; a degree above the one required with probability 0.85 (urban) or
  0.70 (rural);
* backbone with probability ``backbone_share`` (0.18), at least ``ceil(min_backbone × n)``
  per school (0.12, above J-08's 10 %); senders get at least
  ``max(2, ceil(backbone_min_share × ceil(rotation_min_share × n)))`` backbone teachers
  with ``eligibility_years`` or more at the school and no talent designation (so D-19's
  backbone share can always be met);
* 5 % of the other backbone teachers hold a talent designation of the last five years
  (G-11).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, cast

import numpy as np
import pandas as pd

from allocator.rotation_input import RotationPolicy
from allocator.rotation_prep import posts_required, share
from allocator.rotation_synth import SUBJECT_MIX
from allocator.scenario import ResolvedScenario

__all__ = ["ROSTER_COLUMNS", "least_sender_headcount", "peak_sizes", "planned_sizes",
           "rotation_policy", "synth_researchers", "synth_roster", "synth_school_flags",
           "urban_from_zones"]

ROSTER_COLUMNS = ("teacher_id", "school_id", "county", "subject", "title",
                  "degree_above_required", "backbone", "talent_designation_year",
                  "years_at_school", "researcher")
TITLES = ("senior", "level1", "level2", "level3")
TITLE_P = (0.12, 0.38, 0.38, 0.12)


def synth_school_flags(school_ids: pd.Series, urban: pd.Series, *, seed: int,
                       high_quality_share: float = 0.4, weak_rural_share: float = 0.3,
                       weak_urban_share: float = 0.15) -> pd.DataFrame:
    """High-quality and weak flags for schools whose urban flag is known.

    Parameters
    ----------
    school_ids, urban
        Aligned series: ids and urban flags (bool).
    seed
        Seed of the random generator.
    high_quality_share
        Share of urban schools flagged high-quality (优质学校).
    weak_rural_share, weak_urban_share
        Share of rural, and of urban not high-quality, schools flagged weak (薄弱学校).

    Returns
    -------
    pandas.DataFrame
        ``school_id, urban, high_quality, weak``, sorted by ``school_id``.
    """
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"school_id": school_ids.astype(str).to_numpy(),
                          "urban": urban.astype(bool).to_numpy()})
    frame = frame.sort_values("school_id", kind="mergesort").reset_index(drop=True)
    draw_hq = rng.random(len(frame))
    draw_weak = rng.random(len(frame))
    frame["high_quality"] = frame["urban"] & (draw_hq < high_quality_share)
    weak_p = np.where(frame["urban"], weak_urban_share, weak_rural_share)
    frame["weak"] = ~frame["high_quality"] & (draw_weak < weak_p)
    return frame


def _school_roster(rng: np.random.Generator, school: dict[str, object], n: int,
                   policy: RotationPolicy, first_year: int, backbone_share: float,
                   min_backbone: float) -> list[dict[str, object]]:
    """Teachers of one school (see the module docstring)."""
    stage = str(school["stage"])
    sender = bool(school["urban"]) or bool(school["high_quality"])
    mix = SUBJECT_MIX[stage if stage in SUBJECT_MIX else "junior"]
    p = np.array(list(mix.values()))
    subjects = rng.choice(list(mix), size=n, p=p / p.sum())
    years = [int(v) for v in rng.integers(0, 21, size=n)]
    degree = rng.random(n) < (0.85 if bool(school["urban"]) else 0.70)
    titles = rng.choice(list(TITLES), size=n, p=np.array(TITLE_P))
    backbone = rng.random(n) < backbone_share
    need = math.ceil(min_backbone * n)
    if backbone.sum() < need:
        extra = rng.choice(np.flatnonzero(~backbone), need - int(backbone.sum()), replace=False)
        backbone[extra] = True
    guaranteed: set[int] = set()
    if sender:
        rotators = math.ceil(share(policy.rotation_min_share) * n)
        want = min(n, max(2, math.ceil(share(policy.backbone_min_share) * rotators)))
        if backbone.sum() < want:
            backbone[rng.choice(np.flatnonzero(~backbone), want - int(backbone.sum()),
                                replace=False)] = True
        senior = sorted((int(j) for j in np.flatnonzero(backbone)),
                        key=lambda j: (-years[j], j))[:want]
        for j in senior:
            years[j] = max(years[j], policy.eligibility_years + int(rng.integers(0, 6)))
        guaranteed = set(senior)
    talent_draw = rng.random(n)
    talent_year = rng.integers(0, 5, size=n)
    rows = []
    for k in range(n):
        talent = (first_year - int(talent_year[k])
                  if backbone[k] and k not in guaranteed and talent_draw[k] < 0.05 else None)
        rows.append({"teacher_id": f"{school['school_id']}-T{k + 1:03d}",
                     "school_id": school["school_id"], "county": school["county"],
                     "subject": str(subjects[k]), "title": str(titles[k]),
                     "degree_above_required": bool(degree[k]), "backbone": bool(backbone[k]),
                     "talent_designation_year": talent, "years_at_school": years[k],
                     "researcher": False})
    return rows


def synth_roster(schools: pd.DataFrame, *, seed: int, first_year: int,
                 policy: RotationPolicy | None = None,
                 sender_cover: tuple[float, float] = (1.15, 1.25),
                 receiver_cover: tuple[float, float] = (0.90, 1.00),
                 backbone_share: float = 0.18, min_backbone: float = 0.12) -> pd.DataFrame:
    """A SYNTHETIC roster consistent with the schools' sizes (see the module docstring).

    Parameters
    ----------
    schools
        ``school_id, county, stage, pupils, classes, urban, high_quality`` (pupils:
        persons, classes: count; the school's largest size over the plan, see
        :func:`peak_sizes`).
    seed
        Seed of the random generator.
    first_year
        First plan year (calendar year); talent designations fall in the five years up to it.
    policy
        Staffing ratios, D-19 shares and eligibility (default: the documents' defaults).
    sender_cover, receiver_cover
        Headcount / posts ranges for senders (urban or high-quality) and the other schools.
    backbone_share, min_backbone
        Backbone probability and the least backbone share of every school.

    Returns
    -------
    pandas.DataFrame
        :data:`ROSTER_COLUMNS`, sorted by ``teacher_id``; ``talent_designation_year`` is
        ``<NA>`` for most teachers.
    """
    policy = policy or RotationPolicy()
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    ordered = schools.assign(school_id=schools["school_id"].astype(str)).sort_values(
        "school_id", kind="mergesort")
    for school in cast(list[dict[str, Any]], ordered.to_dict("records")):
        posts = posts_required(str(school["stage"]), int(school["pupils"]),
                               int(school["classes"]), policy)
        sender = bool(school["urban"]) or bool(school["high_quality"])
        low, high = sender_cover if sender else receiver_cover
        n = max(3, round(posts * rng.uniform(low, high)))
        if sender:
            n = max(n, least_sender_headcount(posts, policy))
        rows += _school_roster(rng, school, n, policy, first_year, backbone_share, min_backbone)
    frame = pd.DataFrame(rows, columns=list(ROSTER_COLUMNS))
    frame["talent_designation_year"] = frame["talent_designation_year"].astype("Int64")
    return frame.sort_values("teacher_id", kind="mergesort").reset_index(drop=True)


def least_sender_headcount(posts: int, policy: RotationPolicy) -> int:
    """The fewest teachers a D-19 sender needs to lend its share and keep its posts.

    The least ``n >= posts`` with ``n - posts >= ceil(rotation_min_share × n)`` (whole
    teachers; every teacher counted as eligible, as they may all be by the plan's last
    year). With the default 10 %: 86 posts need 96 teachers (96 - 86 = 10 = ceil(9.6)).

    Parameters
    ----------
    posts
        Posts required (teachers).
    policy
        Gives ``rotation_min_share`` (0 <= share < 1).

    Returns
    -------
    int
        Teachers.
    """
    q = share(policy.rotation_min_share)
    if q >= 1:
        raise ValueError("rotation_min_share must be below 1 for a sender to keep its posts")
    n = max(posts, 0)
    while n - posts < math.ceil(q * n):
        n += 1
    return n


def peak_sizes(by_year: pd.DataFrame, policy: RotationPolicy,
               stages: pd.Series) -> pd.DataFrame:
    """Each school's largest size over the plan: the year it needs the most posts.

    Parameters
    ----------
    by_year
        ``school_id, year, pupils, classes`` per staffed school and plan year (persons,
        classes), e.g. from :func:`allocator.rotation_pipeline.enrolment_by_year`.
    policy
        Staffing ratios (J-27, Z-09, Z-11).
    stages
        Stage of each school, indexed by ``school_id``.

    Returns
    -------
    pandas.DataFrame
        ``school_id, year, pupils, classes, posts``, one row per school (ties: the earliest
        year), sorted by ``school_id``.
    """
    frame = by_year.assign(school_id=by_year["school_id"].astype(str))
    frame["posts"] = [posts_required(str(stages[s]), int(p), int(c), policy)
                      for s, p, c in zip(frame["school_id"], frame["pupils"], frame["classes"],
                                         strict=True)]
    frame = frame.sort_values(["school_id", "posts", "year"], ascending=[True, False, True],
                              kind="mergesort")
    return (frame.drop_duplicates("school_id").loc[:, ["school_id", "year", "pupils",
                                                       "classes", "posts"]]
            .reset_index(drop=True))


def rotation_policy(resolved: ResolvedScenario) -> RotationPolicy:
    """The scenario's rotation policy (its ``rotation`` section and staffing ratios)."""
    from allocator.rotation_pipeline import rotation_years

    section = resolved.config.rotation
    if section is None:
        raise ValueError(f"{resolved.source.name}: the scenario has no rotation section")
    ratios = {s: resolved.config.standards.staffing_ratios.get(s) for s in section.stages}
    return section.policy(years=rotation_years(resolved), staffing_ratios={
        s: float(r) for s, r in ratios.items() if r is not None})


def planned_sizes(resolved: ResolvedScenario, plan: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
    """Each staffed school's largest planned size over the rotation years.

    The enrolment is the siting plan's (``schools`` table of a run: ``school_id, stage,
    year, enrolled, classes``); a rotation year between two periods holds the latest
    earlier period, as the rotation step does
    (:func:`allocator.rotation_pipeline.enrolment_by_year`). A school without a planned
    row (none in a solved plan) is taken full, ``classes × class cap``.

    Parameters
    ----------
    resolved
        The scenario; its ``rotation`` section gives the stages, years and policy.
    plan
        The plan's ``schools`` table; ``None`` runs the siting part of the scenario
        (:func:`allocator.pipeline.run` without the rotation section; deterministic for the
        scenario's seed).

    Returns
    -------
    pandas.DataFrame
        ``school_id, stage, year, pupils, classes, posts`` (``year``: the year of the peak),
        sorted by ``school_id``.
    """
    from allocator.inputs import load_inputs
    from allocator.rotation_pipeline import enrolment_by_year, rotation_years, static_enrolment

    config = resolved.config
    policy = rotation_policy(resolved)
    section = config.rotation
    assert section is not None  # rotation_policy raised otherwise
    if plan is None:
        from allocator.pipeline import run

        siting = replace(resolved, config=config.model_copy(update={"rotation": None}))
        plan = run(siting).tables["schools"]
    layer = load_inputs(resolved).schools
    staffed = layer.loc[layer["stage"].isin(section.stages), ["school_id", "stage"]].astype(str)
    years = rotation_years(resolved)
    by_year, _ = enrolment_by_year(plan, staffed, years)
    full, _ = enrolment_by_year(static_enrolment(resolved, layer, years), staffed, years)
    by_year = pd.concat([by_year, full[~full["school_id"].isin(set(by_year["school_id"]))]],
                        ignore_index=True)
    stages = staffed.set_index("school_id")["stage"]
    peaks = peak_sizes(by_year, policy, stages)
    peaks.insert(1, "stage", peaks["school_id"].map(stages))
    return peaks


def synth_researchers(bodies: pd.DataFrame, *, seed: int, per_body: int = 4) -> pd.DataFrame:
    """SYNTHETIC researchers (教研员) of research bodies, years in post 2–8 (J-15).

    Parameters
    ----------
    bodies
        ``school_id, county`` of the research bodies.
    seed
        Seed of the random generator.
    per_body
        Researchers per body.

    Returns
    -------
    pandas.DataFrame
        :data:`ROSTER_COLUMNS` (``researcher`` true, backbone, senior title, degree).
    """
    rng = np.random.default_rng(seed)
    subjects = ("chinese", "math", "english", "science")
    rows = []
    for body in bodies.sort_values("school_id", kind="mergesort").to_dict("records"):
        for k in range(per_body):
            rows.append({"teacher_id": f"{body['school_id']}-R{k + 1:02d}",
                         "school_id": body["school_id"], "county": body["county"],
                         "subject": subjects[k % len(subjects)], "title": "senior",
                         "degree_above_required": True, "backbone": True,
                         "talent_designation_year": None,
                         "years_at_school": int(rng.integers(2, 9)), "researcher": True})
    frame = pd.DataFrame(rows, columns=list(ROSTER_COLUMNS))
    frame["talent_designation_year"] = frame["talent_designation_year"].astype("Int64")
    return frame


URBAN_ZONE_TYPES = ("urban_core", "new_district", "industrial")


def urban_from_zones(schools: pd.DataFrame, zones: pd.DataFrame) -> pd.Series:
    """Urban flag of each school: whether its nearest zone is urban.

    Urban zones are ``urban_core``, ``new_district`` and ``industrial``.

    Parameters
    ----------
    schools, zones
        Frames with ``lon``, ``lat`` (degrees, one datum for both); ``zones`` also has
        ``zone_type``. Distances are equirectangular (``Δlon · cos(lat)``, ``Δlat``), which
        is enough to find the nearest zone inside a county; ties go to the first zone.

    Returns
    -------
    pandas.Series
        Booleans aligned with ``schools``.
    """
    zlon = zones["lon"].to_numpy(dtype=float)
    zlat = zones["lat"].to_numpy(dtype=float)
    urban = zones["zone_type"].isin(URBAN_ZONE_TYPES).to_numpy()
    flags = []
    for lon, lat in zip(schools["lon"].astype(float), schools["lat"].astype(float), strict=True):
        dx = (zlon - lon) * math.cos(math.radians(lat))
        dy = zlat - lat
        flags.append(bool(urban[int(np.argmin(dx * dx + dy * dy))]))
    return pd.Series(flags, index=schools.index, dtype=bool)
