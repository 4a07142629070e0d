"""Synthetic rotation instances: schools, enrolment and a roster consistent with them.

For tests and benchmarks only. Counties lie on a line west to east (the first half of the
counties is ``east``, the rest ``west``; county ``C00`` is the central city). Urban schools
are staffed 15–30 % above their posts, rural ones 0–10 % below; about 18 % of teachers are
backbone (at least 12 % of every school), years at the school are uniform 0–20, one
research body per county holds a few researchers, and each east county is paired with a
west county (J-17). Every number comes from one ``numpy.random.Generator(seed)``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from allocator.rotation_input import RotationInput, RotationPolicy, RotationWeights
from allocator.rotation_prep import posts_required

__all__ = ["synth_rotation_input"]

SUBJECT_MIX: dict[str, dict[str, float]] = {
    "primary": {"chinese": 0.34, "math": 0.28, "english": 0.1, "science": 0.07, "pe": 0.08,
                "music": 0.07, "art": 0.06},
    "junior": {"chinese": 0.18, "math": 0.18, "english": 0.16, "science": 0.2, "humanities": 0.14,
               "pe": 0.07, "music": 0.035, "art": 0.035},
}
CLASS_SIZE = {"primary": 45, "junior": 50}


def _schools(rng: np.random.Generator, n_schools: int, n_counties: int) -> pd.DataFrame:
    """School attributes and coordinates (metres)."""
    rows = []
    for i in range(n_schools):
        c = int(rng.integers(n_counties))
        urban = bool(rng.random() < 0.45)
        hq = urban and bool(rng.random() < 0.5)
        weak = bool(rng.random() < (0.1 if urban and not hq else 0.0 if hq else 0.4))
        spread = 3_000.0 if urban else 15_000.0
        rows.append({
            "school_id": f"S{i:04d}", "county": f"C{c:02d}",
            "region": "east" if c < max(1, n_counties // 2) else "west",
            "stage": "primary" if rng.random() < 0.65 else "junior",
            "urban": urban, "high_quality": hq, "weak": weak, "centre": c == 0 and urban,
            "x_m": 20_000.0 * c + rng.normal(0, spread), "y_m": rng.normal(0, spread)})
    return pd.DataFrame(rows)


def _enrolment(rng: np.random.Generator, schools: pd.DataFrame, years: list[int],
               scale: float = 1.0) -> pd.DataFrame:
    """Pupils and classes per school and year (growth within ±1.5 % a year).

    ``scale`` multiplies each school's drawn first-year pupils (rounded; 1 leaves the
    draws as they are).
    """
    rows = []
    for s, stage, urban in zip(schools["school_id"], schools["stage"], schools["urban"],
                               strict=True):
        if stage == "primary":
            pupils = int(rng.integers(800, 1500) if urban else rng.integers(60, 420))
        else:
            pupils = int(rng.integers(700, 1400) if urban else rng.integers(200, 650))
        if scale != 1.0:
            pupils = max(1, round(pupils * scale))
        for year in years:
            classes = max(1, math.ceil(pupils / CLASS_SIZE[stage]))
            if stage == "primary" and pupils < 100:
                classes = max(classes, 6)
            rows.append({"school_id": s, "year": year, "pupils": int(pupils),
                         "classes": classes})
            pupils = max(30, round(pupils * (1 + rng.uniform(-0.015, 0.015))))
    return pd.DataFrame(rows)


def _teachers(rng: np.random.Generator, schools: pd.DataFrame, enrolment: pd.DataFrame,
              policy: RotationPolicy, first_year: int) -> pd.DataFrame:
    """A roster whose headcounts follow the first-year posts."""
    first = enrolment[enrolment["year"].eq(first_year)]
    size = dict(zip(first["school_id"], zip(first["pupils"], first["classes"], strict=True),
                    strict=True))
    rows = []
    for s, stage, urban in zip(schools["school_id"], schools["stage"], schools["urban"],
                               strict=True):
        posts = posts_required(stage, int(size[s][0]), int(size[s][1]), policy)
        n = max(3, round(posts * (rng.uniform(1.15, 1.3) if urban else rng.uniform(0.9, 1.0))))
        mix = SUBJECT_MIX[stage]
        subjects = rng.choice(list(mix), size=n, p=np.array(list(mix.values())) / sum(
            mix.values()))
        backbone = rng.random(n) < 0.18
        need = math.ceil(0.12 * n)
        if backbone.sum() < need:
            backbone[rng.choice(np.flatnonzero(~backbone), need - backbone.sum(),
                                replace=False)] = True
        for k in range(n):
            talent = first_year - int(rng.integers(0, 6)) if (
                backbone[k] and rng.random() < 0.05) else pd.NA
            rows.append({"teacher_id": f"{s}-T{k:03d}", "school_id": s,
                         "subject": str(subjects[k]), "title": "level2",
                         "degree_above_required": bool(rng.random() < (0.6 if urban else 0.4)),
                         "backbone": bool(backbone[k]), "talent_designation_year": talent,
                         "years_at_school": int(rng.integers(0, 21)), "researcher": False})
    return pd.DataFrame(rows)


def synth_rotation_input(*, n_schools: int = 50, n_years: int = 5, n_counties: int = 4,
                         first_year: int = 2024, seed: int = 0, researchers: int = 3,
                         pupil_scale: float = 1.0,
                         policy: RotationPolicy | None = None,
                         weights: RotationWeights | None = None) -> RotationInput:
    """A random but plausible rotation instance (see the module docstring).

    Parameters
    ----------
    n_schools, n_years, n_counties
        Sizes (schools excluding research bodies; plan years from ``first_year``).
    first_year
        First plan year (calendar year).
    seed
        Seed of the random generator.
    researchers
        Researchers per county research body (years in post 2–8).
    pupil_scale
        Multiplies every school's drawn enrolment (dimensionless, > 0; default 1). The
        roster follows the posts, so teachers scale about in proportion: a size knob for
        benchmarks (``bench/rotation_bench.py`` calibrates it to a target headcount).
    policy, weights
        Passed through (default: the documents' defaults).

    Returns
    -------
    RotationInput
        A roster input with county pairings east -> west.
    """
    if not pupil_scale > 0:
        raise ValueError(f"pupil_scale must be > 0, got {pupil_scale}")
    rng = np.random.default_rng(seed)
    policy = policy or RotationPolicy()
    years = list(range(first_year, first_year + n_years))
    schools = _schools(rng, n_schools, n_counties)
    enrolment = _enrolment(rng, schools, years, pupil_scale)
    teachers = _teachers(rng, schools, enrolment, policy, first_year)
    research = []
    staff = []
    for c in range(n_counties):
        rid = f"R{c:02d}"
        research.append({"school_id": rid, "county": f"C{c:02d}",
                         "region": "east" if c < max(1, n_counties // 2) else "west",
                         "stage": "research", "urban": True, "high_quality": False,
                         "weak": False, "centre": c == 0, "x_m": 20_000.0 * c, "y_m": 0.0})
        for k in range(researchers):
            staff.append({"teacher_id": f"{rid}-R{k}", "school_id": rid,
                          "subject": ["chinese", "math", "english"][k % 3], "title": "senior",
                          "degree_above_required": True, "backbone": True,
                          "talent_designation_year": pd.NA,
                          "years_at_school": int(rng.integers(2, 9)), "researcher": True})
    schools = pd.concat([schools, pd.DataFrame(research)], ignore_index=True)
    teachers = pd.concat([teachers, pd.DataFrame(staff)], ignore_index=True)
    half = max(1, n_counties // 2)
    pairings = pd.DataFrame(
        [{"pairing_id": f"P{e:02d}", "level": "county", "from_id": f"C{e:02d}",
          "to_id": f"C{w:02d}"} for e, w in zip(range(half), range(half, n_counties),
                                                strict=False)],
        columns=["pairing_id", "level", "from_id", "to_id"])
    return RotationInput(schools=schools, enrolment=enrolment, teachers=teachers,
                         pairings=pairings, policy=policy, weights=weights or RotationWeights())
