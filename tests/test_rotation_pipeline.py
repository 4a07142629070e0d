"""Rotation step of a run: the scenario section, its files, and the shipped scenarios.

The shipped-scenario tests recompute every rule they check from the CSV files and the
``rotations`` table with their own arithmetic, never from the model's report.
"""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
import yaml

from allocator.errors import InputError
from allocator.inputs import load_inputs
from allocator.layering import load_scenario
from allocator.pipeline import choose_metric_crs, run
from allocator.rotation_config import RotationConfig
from allocator.rotation_input import RotationException
from allocator.rotation_pipeline import (
    RotationOutcome,
    enrolment_by_year,
    plan_rotation,
    static_enrolment,
)
from allocator.scenario import ResolvedScenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
ISSUE_COLUMNS = ["year", "teacher_id", "count", "subject", "backbone", "from_school",
                 "from_county", "from_region", "to_school", "to_county", "to_region", "kind",
                 "distance_km"]
YEARS = [2025, 2026, 2027, 2028, 2029]


def _copy(name: str, target: Path) -> Path:
    """A writable copy of a shipped scenario whose imports include ``rotation.yaml``."""
    for folder in ("common", name):
        shutil.copytree(SCENARIOS / folder, target / folder,
                        ignore=shutil.ignore_patterns("boundaries", "*.geojson", "__pycache__"))
    path = target / name / "scenario.yaml"
    text = path.read_text(encoding="utf-8")
    if "rotation.yaml" not in text:
        text = text.replace("  - ../common/standards.yaml\n",
                            "  - ../common/standards.yaml\n  - rotation.yaml\n", 1)
    # The copies leave out the boundary layers (maps only) to stay small.
    text = "\n".join(line for line in text.splitlines() if "boundary:" not in line)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _plan(resolved: ResolvedScenario) -> RotationOutcome:
    inputs = load_inputs(resolved)
    crs = choose_metric_crs(resolved, inputs.zones)
    return plan_rotation(resolved, inputs.schools, static_enrolment(resolved, inputs.schools),
                         crs=crs)


def _problems(error: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [str(p) for p in error.value.problems]


@pytest.fixture(scope="module")
def dafeng_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy("dafeng", tmp_path_factory.mktemp("dafeng"))


@pytest.fixture(scope="module")
def dafeng(dafeng_file: Path) -> RotationOutcome:
    return _plan(load_scenario(dafeng_file))


# ----------------------------------------------------------------------- configuration


def test_rotation_section_maps_onto_the_policy(dafeng_file: Path) -> None:
    section = load_scenario(dafeng_file).config.rotation
    assert isinstance(section, RotationConfig) and section.years == YEARS
    policy = section.policy(years=(2025, 2026), staffing_ratios={"primary": 19, "junior": 13.5})
    assert (policy.rotation_min_share, policy.backbone_min_share) == (0.10, 0.20)
    assert (policy.mode, policy.max_distance_km, policy.nearest_receivers) == (
        "distance", 60.0, 8)
    assert policy.years == (2025, 2026) and dict(policy.staffing_ratios) == {
        "primary": 19, "junior": 13.5}
    assert policy.banned_region_pairs == (("west", "east"),)
    assert section.weights.to_weights().weak_extra == 0.5


def test_unknown_key_in_the_section_names_it_with_a_suggestion(dafeng_file: Path) -> None:
    with pytest.raises(InputError) as error:
        load_scenario(dafeng_file, sets=["rotation.rotation_min_shar=0.2"])
    text = "\n".join(_problems(error))
    assert "rotation.rotation_min_shar" in text and "did you mean 'rotation_min_share'" in text


def test_exception_with_unknown_rule_id_is_rejected_with_a_suggestion(dafeng_file: Path) -> None:
    bad = ("rotation.exceptions=[{rules: [J10, D-19], who: S001-T001, why: approved}, "
           "{rules: [G-11], why: no one named}]")
    with pytest.raises(InputError) as error:
        load_scenario(dafeng_file, sets=[bad])
    text = "\n".join(_problems(error))
    assert "rotation.exceptions.0.rules" in text
    assert "unknown rule ID 'J10'; did you mean 'J-10'?" in text
    assert "'D-19'; D-19 is a catalogue rule but not one of ['J-10', 'G-12', 'G-11']" in text
    assert "rotation.exceptions.1" in text and "names a teacher (who) or a school pair" in text


def test_rules_off_must_be_switchable(dafeng_file: Path) -> None:
    with pytest.raises(InputError) as error:
        load_scenario(dafeng_file, sets=["rotation.rules_off=[D19]"])
    assert "unknown rule ID 'D19'; did you mean 'D-19'?" in "\n".join(_problems(error))


def test_exceptions_become_model_exceptions(dafeng_file: Path) -> None:
    listed = ("rotation.exceptions=[{rules: [G-11], who: S001-T002, why: 区教育局批准, "
              "years: [2026]}, {rules: [J-10, G-12], from_school: S001, to_school: S040, "
              "why: pilot}]")
    section = load_scenario(dafeng_file, sets=[listed]).config.rotation
    assert section is not None
    policy = section.policy(years=(2025,), staffing_ratios={"primary": 19})
    assert policy.exceptions == (
        RotationException(rules=("G-11",), reason="区教育局批准", teacher_id="S001-T002",
                          years=(2026,)),
        RotationException(rules=("J-10", "G-12"), reason="pilot", from_school="S001",
                          to_school="S040"))


# ------------------------------------------------------------------------ input errors


def test_roster_errors_name_file_row_and_column(tmp_path: Path) -> None:
    path = _copy("dafeng", tmp_path)
    teachers = path.parent / "data" / "teachers.csv"
    frame = pd.read_csv(teachers, dtype=str, keep_default_na=False)
    frame.loc[3, "school_id"] = "S999"  # spreadsheet row 5
    frame.loc[5, "backbone"] = "maybe"  # row 7
    frame.loc[6, "years_at_school"] = "-1"  # row 8
    frame.loc[7, "county"] = "320999"  # row 9
    frame.loc[8, "talent_designation_year"] = "20x5"  # row 10
    frame.to_csv(teachers, index=False)
    resolved = load_scenario(path)
    inputs = load_inputs(resolved)
    with pytest.raises(InputError) as error:
        plan_rotation(resolved, inputs.schools, static_enrolment(resolved, inputs.schools),
                      crs=choose_metric_crs(resolved, inputs.zones))
    problems = error.value.problems
    where = {(p.source, p.where) for p in problems}
    assert ("data/teachers.csv", "row 7, column backbone") in where
    assert ("data/teachers.csv", "row 8, column years_at_school") in where
    # Cell-level errors stop the reading; fix them and the cross-checks come next.
    frame.loc[5, "backbone"] = "1"
    frame.loc[6, "years_at_school"] = "3"
    frame.to_csv(teachers, index=False)
    with pytest.raises(InputError) as error:
        plan_rotation(resolved, inputs.schools, static_enrolment(resolved, inputs.schools),
                      crs=choose_metric_crs(resolved, inputs.zones))
    by_where = {p.where: p for p in error.value.problems}
    assert by_where["row 5, column school_id"].source == "data/teachers.csv"
    assert "'S999'" in str(by_where["row 5, column school_id"].value)
    assert "differs from the county" in by_where["row 9, column county"].message
    assert "calendar year" in by_where["row 10, column talent_designation_year"].message


def test_missing_urban_flags_and_unknown_attribute_rows(tmp_path: Path) -> None:
    path = _copy("dafeng", tmp_path)
    attributes = path.parent / "data" / "school_attributes.csv"
    frame = pd.read_csv(attributes, dtype=str)
    frame.drop(columns="urban").assign(school_id=lambda f: f["school_id"].replace(
        {"S062": "X001"})).to_csv(attributes, index=False)
    resolved = load_scenario(path)
    inputs = load_inputs(resolved)
    with pytest.raises(InputError) as error:
        plan_rotation(resolved, inputs.schools, static_enrolment(resolved, inputs.schools),
                      crs=choose_metric_crs(resolved, inputs.zones))
    text = "\n".join(_problems(error))
    assert "column urban" in text and "needs urban flags" in text
    assert "row 63, column school_id" in text and "X001" in text
    assert "no row for these staffed schools" in text and "S062" in text


# ------------------------------------------------------------------ shipped: Dafeng


def test_dafeng_tables_follow_the_contract(dafeng: RotationOutcome) -> None:
    rotations, staffing = dafeng.tables["rotations"], dafeng.tables["staffing"]
    assert list(rotations.columns) == ISSUE_COLUMNS
    assert set(rotations["kind"]) == {"rotation"} and rotations["count"].eq(1).all()
    assert list(staffing.columns[:5]) == ["school", "year", "posts_required",
                                          "teachers_before", "teachers_after"]
    for column in ("shortfall_math", "shortfall_pe", "shortfall", "degree_per100_before",
                   "degree_per100_after", "backbone_per100_before", "pe_art_per100_after"):
        assert column in staffing.columns
    teachers = pd.read_csv(SCENARIOS / "dafeng" / "data" / "teachers.csv", dtype={
        "school_id": str})
    s001 = staffing[(staffing["school"] == "S001") & (staffing["year"] == 2025)].iloc[0]
    # S001: 30 primary classes x 45 = 1,350 pupils; ceil(1350 / 19) = 72 posts.
    assert s001["posts_required"] == 72
    assert s001["teachers_before"] == (teachers["school_id"] == "S001").sum()
    sent = rotations[(rotations["from_school"] == "S001") & (rotations["year"] == 2025)]
    received = rotations[(rotations["to_school"] == "S001") & (rotations["year"] == 2025)]
    assert s001["teachers_after"] == s001["teachers_before"] - len(sent) + len(received)
    assert len(staffing) == 62 * 5 and sorted(staffing["year"].unique()) == YEARS


def test_dafeng_d19_met_every_year(dafeng: RotationOutcome) -> None:
    """D-19 recomputed from the CSVs and the rotations table (not the model)."""
    data = SCENARIOS / "dafeng" / "data"
    teachers = pd.read_csv(data / "teachers.csv", dtype={"school_id": str})
    flags = pd.read_csv(data / "school_attributes.csv", dtype={"school_id": str})
    senders = set(flags.loc[flags["urban"].eq(1) | flags["high_quality"].eq(1), "school_id"])
    rural = set(flags.loc[flags["urban"].eq(0), "school_id"])  # 到农村学校
    assert len(senders) == 21
    rotations = dafeng.tables["rotations"]
    assert dafeng.summary["status"] == "optimal" and dafeng.summary["gap"] <= 1e-3
    for year in YEARS:
        moved = rotations[(rotations["year"] == year) & (rotations["kind"] == "rotation")
                          & rotations["to_school"].isin(rural)]
        for school in sorted(senders):
            staff = teachers[teachers["school_id"] == school]
            eligible = int((staff["years_at_school"] + (year - 2025) >= 6).sum())
            mine = moved[moved["from_school"] == school]
            rotated, backbone = int(mine["count"].sum()), int(mine.loc[mine["backbone"],
                                                                        "count"].sum())
            assert eligible > 0
            assert 10 * rotated >= eligible, (school, year, rotated, eligible)  # >= 10 %
            assert 5 * backbone >= rotated, (school, year, backbone, rotated)  # >= 20 %
            # every rotator was eligible that year
            ids = set(mine["teacher_id"])
            years_at = staff.set_index("teacher_id").loc[sorted(ids), "years_at_school"]
            assert (years_at + (year - 2025) >= 6).all()
        assert dafeng.summary["d19"][str(year)]["meeting"] == 21
    summary = json.loads(json.dumps(dafeng.summary))  # JSON-ready for the manifest
    assert summary["years"] == YEARS and summary["banned_region_moves"] == {"west->east": 0}
    assert summary["moves_by_year"]["rotation"]["2025"] == int(
        rotations.loc[rotations["year"] == 2025, "count"].sum())


def test_enrolment_between_periods_holds_the_latest_earlier_one(dafeng_file: Path) -> None:
    resolved = load_scenario(dafeng_file, sets=["rotation.years=[2025, 2026]"])
    inputs = load_inputs(resolved)
    base = static_enrolment(resolved, inputs.schools, years=[2025, 2027])
    grown = base["year"].eq(2027) & base["school_id"].eq("S001")
    base.loc[grown, "enrolled"] = 1500  # only the 2027 period changes
    site = pd.DataFrame([{"school_id": "C01", "stage": "primary", "year": 2025,
                          "enrolled": 270, "classes": 6}])
    outcome = plan_rotation(resolved, inputs.schools, pd.concat([base, site]),
                            crs=choose_metric_crs(resolved, inputs.zones))
    staffing = outcome.tables["staffing"].set_index(["school", "year"])
    assert staffing.loc[("S001", 2026), "posts_required"] == 72  # 2025's 1,350 pupils held
    assert any("2026 <- 2025" in note for note in outcome.notes)
    assert any("C01" in note and "not staffed" in note for note in outcome.notes)


def test_enrolment_rows_count_only_at_the_school_stage() -> None:
    staffed = pd.DataFrame({"school_id": ["S001", "S037"], "stage": ["primary", "junior"]})
    enrolment = pd.DataFrame([
        ("S001", "primary", 2025, 1349.6, 30), ("S001", "junior", 2025, 500.0, 10),
        ("S037", "junior", 2025, 1500.0, 30), ("S037", "junior", 2027, 1200.4, 30),
        ("C01", "primary", 2025, 270.0, 6), ("K001", "kindergarten", 2025, 90.0, 3)],
        columns=["school_id", "stage", "year", "enrolled", "classes"])
    frame, notes = enrolment_by_year(enrolment, staffed, [2025, 2026, 2027])
    got = {(s, y): (p, c) for s, y, p, c in frame.itertuples(index=False)}
    # S001's junior row is not its stage; S037 holds 2025 in 2026; C01 is a new site;
    # the kindergarten is not a staffed stage and not reported.
    assert got == {("S001", 2025): (1350, 30), ("S001", 2026): (1350, 30),
                   ("S001", 2027): (1350, 30), ("S037", 2025): (1500, 30),
                   ("S037", 2026): (1500, 30), ("S037", 2027): (1200, 30)}
    assert any("1 school(s) or site(s)" in n and "C01" in n for n in notes)
    assert any("another stage" in n and "S001" in n for n in notes)
    assert not any("K001" in n for n in notes)
    assert any("2026 <- 2025" in n for n in notes)


def test_a_plan_without_enrolment_falls_back_to_full_schools(dafeng_file: Path) -> None:
    # A siting run stopped without a solution has empty tables: every school is full.
    resolved = load_scenario(dafeng_file, sets=["rotation.years=[2025]"])
    inputs = load_inputs(resolved)
    empty = pd.DataFrame(columns=["school_id", "stage", "year", "enrolled", "classes"])
    outcome = plan_rotation(resolved, inputs.schools, empty,
                            crs=choose_metric_crs(resolved, inputs.zones))
    staffing = outcome.tables["staffing"].set_index(["school", "year"])
    assert staffing.loc[("S001", 2025), "pupils"] == 30 * 45
    assert staffing.loc[("S001", 2025), "posts_required"] == 72  # ceil(1350 / 19)
    assert any("taken full" in note for note in outcome.notes)


def test_conflicting_rules_get_an_elastic_report(dafeng_file: Path) -> None:
    # With a 0.5 km limit no sender reaches a rural school: D-19 cannot hold.
    resolved = load_scenario(dafeng_file, sets=["rotation.years=[2025]",
                                                "rotation.max_distance_km=0.5"])
    outcome = _plan(resolved)
    summary = outcome.summary
    assert summary["hard"]["status"] == "infeasible" and summary["elastic"] is True
    assert summary["status"] in ("optimal", "feasible") and summary["slack"]["D-19"] > 0
    assert any(note.startswith("D-19:") and "no open arc" in note for note in outcome.notes)


# ----------------------------------------------------------------- shipped: Jiangmen


def _jiangmen_checks(rotations: pd.DataFrame, summary: dict[str, object],
                     years: list[int]) -> None:
    data = SCENARIOS / "jiangmen" / "data"
    counties = pd.read_csv(data / "counties.csv", dtype={"adcode": str})
    region = dict(zip(counties["adcode"], counties["region"], strict=True))
    assert list(rotations.columns) == ISSUE_COLUMNS
    from_region = rotations["from_county"].map(region)
    to_region = rotations["to_county"].map(region)
    assert from_region.notna().all() and to_region.notna().all()
    assert not ((from_region == "west") & (to_region == "east")).any()  # J-10
    assert summary["banned_region_moves"] == {"west->east": 0}
    pairings = pd.read_csv(data / "pairings.csv", dtype=str)
    assert len(pairings) == 4
    for pid, a, b in zip(pairings["pairing_id"], pairings["from_id"], pairings["to_id"],
                         strict=True):
        assert region[a] == "east" and region[b] == "west"
        for year in years:  # J-18: at least one exchange per pairing and year
            arc = rotations[(rotations["year"] == year) & (rotations["from_county"] == a)
                            & (rotations["to_county"] == b) & (rotations["kind"] == "rotation")]
            assert arc["count"].sum() >= 1, (pid, year)
    teachers = pd.read_csv(data / "teachers.csv", dtype={"school_id": str, "county": str})
    staff = teachers[teachers["researcher"].eq(0)]
    per_school = staff.groupby("school_id")["backbone"].agg(["sum", "size"])
    assert (10 * per_school["sum"] >= per_school["size"]).all()  # J-08 per school
    per_county = staff.groupby("county")["backbone"].agg(["sum", "size"])
    assert (10 * per_county["sum"] >= per_county["size"]).all()  # J-08 per county
    # J-15: researchers with >= 5 years in post teach in 2025 in a school of their county
    # or of the county their county supports (J-17 pairs research centres too).
    due = teachers[teachers["researcher"].eq(1) & teachers["years_at_school"].ge(5)]
    went = rotations[rotations["year"] == years[0]].set_index("teacher_id")
    supported = pairings.groupby("from_id")["to_id"].apply(set).to_dict()
    assert len(due) > 0
    for teacher, county in zip(due["teacher_id"], due["county"], strict=True):
        assert went.loc[teacher, "to_county"] in {county} | supported.get(county, set())
        assert went.loc[teacher, "kind"] == "rotation"
    # ... and those with fewer years go in the year they complete five.
    later = teachers[teachers["researcher"].eq(1) & teachers["years_at_school"].lt(5)]
    moved = rotations.groupby("teacher_id")["year"].apply(sorted).to_dict()
    for teacher, n in zip(later["teacher_id"], later["years_at_school"], strict=True):
        due_year = years[0] + 5 - int(n)
        if due_year <= years[-1]:
            assert moved.get(teacher) == [due_year], (teacher, n)


@pytest.mark.slow
def test_jiangmen_keeps_west_to_east_at_zero_and_pairings_every_year(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    outcome = _plan(load_scenario(_copy("jiangmen", tmp_path_factory.mktemp("jiangmen"))))
    assert outcome.summary["status"] == "optimal" and outcome.summary["gap"] <= 1e-3
    _jiangmen_checks(outcome.tables["rotations"], outcome.summary, YEARS)
    assert outcome.summary["rules"]["J-10"]["violation"] == 0


# ------------------------------------------------------------------------ generators


def _load_generator(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{name}_teachers_under_test",
                                                  SCENARIOS / name / "generate_teachers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check_fresh_run(name: str, plan: pd.DataFrame, folder: Path) -> None:
    module = _load_generator(name)
    built = module.build(plan)
    tables = (dict(zip(("school_attributes", "teachers"), built, strict=True))
              if isinstance(built, tuple) else built)
    for stem, frame in tables.items():
        module._write(frame, folder / f"{stem}.csv")
        fresh = (folder / f"{stem}.csv").read_bytes()
        assert fresh == (SCENARIOS / name / "data" / f"{stem}.csv").read_bytes(), stem


# ------------------------------------------------- shipped scenarios, full runs (plan)


def _run(name: str, out: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, object]]:
    """``allocator run`` on the shipped scenario: rotations.csv, schools.csv, manifest."""
    results = run(load_scenario(SCENARIOS / name / "scenario.yaml"))
    folder = results.to_dir(out, report=False)
    ids = {c: str for c in ("teacher_id", "school_id", "from_school", "to_school",
                            "from_county", "to_county", "county")}
    rotations = pd.read_csv(folder / "rotations.csv", dtype=ids, keep_default_na=False,
                            na_values={"distance_km": [""]})
    schools = pd.read_csv(folder / "schools.csv", dtype=ids)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return rotations, schools, manifest


@pytest.fixture(scope="module")
def dafeng_run(tmp_path_factory: pytest.TempPathFactory
               ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, object]]:
    return _run("dafeng", tmp_path_factory.mktemp("dafeng_run") / "out")


def _rotation_yaml(name: str) -> dict[str, object]:
    section = yaml.safe_load((SCENARIOS / name / "rotation.yaml").read_text(encoding="utf-8"))
    assert isinstance(section, dict)
    rotation = section["rotation"]
    assert isinstance(rotation, dict)
    return rotation


def _planned_posts(schools: pd.DataFrame, years: list[int]) -> dict[tuple[str, int], int]:
    """Posts by school and plan year from the plan's ``schools.csv``, by hand.

    A plan year between two periods holds the latest earlier period; posts are
    ``ceil(pupils / 19)`` primary and ``ceil(pupils / 13.5)`` junior (no Dafeng school is
    under the Z-11 small-school threshold of 100 pupils).
    """
    periods = sorted(int(y) for y in schools["year"].unique())
    out = {}
    for year in years:
        held = max(p for p in periods if p <= year)
        part = schools[schools["year"].eq(held) & schools["kind"].ne("new")]
        for sid, stage, enrolled in zip(part["school_id"], part["stage"], part["enrolled"],
                                        strict=True):
            pupils = round(float(enrolled))
            assert pupils >= 100
            out[(sid, year)] = math.ceil(pupils * 2 / 27) if stage == "junior" else math.ceil(
                pupils / 19)
    return out


def _rotation_status(manifest: dict[str, object]) -> dict[str, object]:
    rotation = manifest["rotation"]
    assert isinstance(rotation, dict)
    # the HARD model solved: no elastic re-solve, no slack
    assert rotation["elastic"] is False and rotation["hard"] is None
    assert rotation["status"] in ("optimal", "feasible") and rotation["slack"] == {}
    return rotation


def test_dafeng_run_meets_d19_every_year_with_the_hard_model(
        dafeng_run: tuple[pd.DataFrame, pd.DataFrame, dict[str, object]]) -> None:
    """D-19 and J-27 on ``allocator run`` (the plan's enrolment), from the files by hand."""
    rotations, schools, manifest = dafeng_run
    _rotation_status(manifest)
    section = _rotation_yaml("dafeng")
    assert (section["rotation_min_share"], section["backbone_min_share"],
            section["eligibility_years"]) == (0.10, 0.20, 6)
    data = SCENARIOS / "dafeng" / "data"
    teachers = pd.read_csv(data / "teachers.csv", dtype={"school_id": str})
    flags = pd.read_csv(data / "school_attributes.csv", dtype={"school_id": str})
    senders = sorted(flags.loc[flags["urban"].eq(1) | flags["high_quality"].eq(1),
                               "school_id"])
    rural = set(flags.loc[flags["urban"].eq(0), "school_id"])  # 到农村学校
    assert len(senders) == 21
    posts = _planned_posts(schools, YEARS)
    assert posts[("S001", 2025)] == 86  # expanded to 36 classes, 1,620 pupils / 19
    heads = teachers.groupby("school_id").size()
    checked = 0
    for year in YEARS:
        moved = rotations[rotations["year"].eq(year) & rotations["kind"].eq("rotation")]
        for school in senders:
            staff = teachers[teachers["school_id"] == school]
            eligible = int((staff["years_at_school"] + (year - 2025) >= 6).sum())
            mine = moved[moved["from_school"].eq(school) & moved["to_school"].isin(rural)]
            rotated = int(mine["count"].sum())
            backbone = int(mine.loc[mine["backbone"].astype(str).isin(["True", "1"]),
                                    "count"].sum())
            assert eligible > 0
            assert 10 * rotated >= eligible, (school, year, rotated, eligible)  # >= 10 %
            assert 5 * backbone >= rotated, (school, year, backbone, rotated)  # >= 20 %
            years_at = staff.set_index("teacher_id").loc[sorted(mine["teacher_id"]),
                                                         "years_at_school"]
            assert (years_at + (year - 2025) >= 6).all()  # every rotator was eligible
            # J-27: the sender keeps its posts (rotators keep the home post but teach away)
            out = int(moved.loc[moved["from_school"].eq(school), "count"].sum())
            came = int(moved.loc[moved["to_school"].eq(school), "count"].sum())
            assert heads[school] - out + came >= posts[(school, year)], (school, year)
            checked += 1
    assert checked == 21 * 5
    d19 = manifest["rotation"]["d19"]  # type: ignore[index]
    assert all(d19[str(y)]["meeting"] == 21 for y in YEARS)


def test_dafeng_run_d19_counts_rotations_to_rural_schools_only(
        dafeng_run: tuple[pd.DataFrame, pd.DataFrame, dict[str, object]]) -> None:
    rotations, _, manifest = dafeng_run
    data = SCENARIOS / "dafeng" / "data"
    teachers = pd.read_csv(data / "teachers.csv", dtype={"school_id": str})
    flags = pd.read_csv(data / "school_attributes.csv", dtype={"school_id": str})
    senders = sorted(flags.loc[flags["urban"].eq(1) | flags["high_quality"].eq(1),
                               "school_id"])
    rural = set(flags.loc[flags["urban"].eq(0), "school_id"])
    short = []
    for year in YEARS:
        moved = rotations[rotations["year"].eq(year) & rotations["kind"].eq("rotation")
                          & rotations["to_school"].isin(rural)]
        for school in senders:
            staff = teachers[teachers["school_id"] == school]
            eligible = int((staff["years_at_school"] + (year - 2025) >= 6).sum())
            mine = moved[moved["from_school"].eq(school)]
            backbone = int(mine.loc[mine["backbone"].astype(str).isin(["True", "1"]),
                                    "count"].sum())
            rotated = int(mine["count"].sum())
            if 10 * rotated < eligible or 5 * backbone < rotated:
                short.append((school, year))
    d19 = manifest["rotation"]["d19"]  # type: ignore[index]
    assert short == []
    assert all(d19[str(y)]["meeting"] == 21 for y in YEARS)


def test_dafeng_roster_fits_the_planned_posts(
        dafeng_run: tuple[pd.DataFrame, pd.DataFrame, dict[str, object]]) -> None:
    """Headcounts against the largest planned posts of 2025–2029; a realistic roster."""
    _, schools, _ = dafeng_run
    data = SCENARIOS / "dafeng" / "data"
    teachers = pd.read_csv(data / "teachers.csv", dtype={"school_id": str})
    flags = pd.read_csv(data / "school_attributes.csv", dtype={"school_id": str})
    posts = _planned_posts(schools, YEARS)
    peak = {s: max(posts[(s, y)] for y in YEARS) for s in flags["school_id"]}
    heads = teachers.groupby("school_id").size()
    for school, urban, hq in zip(flags["school_id"], flags["urban"], flags["high_quality"],
                                 strict=True):
        n, p = int(heads[school]), peak[school]
        if urban or hq:
            least = next(k for k in range(p, 2 * p + 10) if k - p >= math.ceil(k / 10))
            assert n >= least and n <= max(least, round(p * 1.25) + 1), (school, n, p)
        else:
            assert round(p * 0.90) - 1 <= n <= round(p * 1.00) + 1, (school, n, p)
    assert (heads["S001"], peak["S001"]) == (105, 86)  # 86 posts: 96 would do, drew 1.22
    backbone = teachers.groupby("school_id")["backbone"].mean()
    assert backbone.min() >= 0.12 and 0.15 <= teachers["backbone"].mean() <= 0.22
    eligible = (teachers["years_at_school"] >= 6).mean()
    assert 0.6 <= eligible <= 0.8 and teachers["years_at_school"].between(0, 25).all()
    assert set(teachers["subject"]) == {"chinese", "math", "english", "science", "pe",
                                        "music", "art", "humanities"}


def test_dafeng_committed_synthetic_files_match_a_fresh_run(
        dafeng_run: tuple[pd.DataFrame, pd.DataFrame, dict[str, object]],
        tmp_path: Path) -> None:
    _check_fresh_run("dafeng", dafeng_run[1], tmp_path)


def test_dafeng_run_staffs_a_plan_stopped_by_its_time_limit() -> None:
    # A 0.05 s siting limit stops the cost phase (status feasible, the phase-1 plan kept;
    # optimal if the machine is fast enough): the rotation staffs that plan's capacity.
    resolved = load_scenario(SCENARIOS / "dafeng" / "scenario.yaml",
                             sets=["solver.time_limit_s=0.05", "rotation.years=[2025, 2026]"])
    results = run(resolved)
    assert results.info.status in ("optimal", "feasible") and results.rotation is not None
    assert results.rotation["status"] in ("optimal", "feasible")
    staffing = results.tables["staffing"]
    assert len(staffing) == 62 * 2
    capacity = results.tables["schools"]
    s001 = capacity[capacity["school_id"].eq("S001") & capacity["year"].eq(2025)]
    pupils = staffing.loc[staffing["school"].eq("S001") & staffing["year"].eq(2025), "pupils"]
    assert int(pupils.iloc[0]) == round(float(s001["enrolled"].iloc[0]))


@pytest.mark.slow
def test_jiangmen_run_keeps_west_to_east_at_zero_and_pairings_every_year(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """``allocator run`` on Jiangmen (60–90 s): J-10, J-18, J-08, J-15 from the files."""
    rotations, schools, manifest = _run("jiangmen", tmp_path_factory.mktemp("jm") / "out")
    rotation = _rotation_status(manifest)
    assert rotation["d19"] is None and rotation["gap"] <= 1e-3  # type: ignore[operator]
    _jiangmen_checks(rotations, rotation, YEARS)
    assert len(rotations[rotations["year"].eq(2025)]) > 500
    # the generator, fed the same plan, rebuilds the committed files byte for byte
    _check_fresh_run("jiangmen", schools, tmp_path_factory.mktemp("jm_files"))
