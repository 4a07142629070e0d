"""Scenario schema, imports, overrides, --set and their precedence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allocator.errors import InputError
from allocator.layering import load_scenario
from allocator.scenario import scenario_json_schema

BASE = """
meta: {name: t}
data:
  zones: {path: zones.csv}
  schools: {path: schools.csv}
planning: {base_year: 2024, stages: [primary]}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_scenario(path, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


def test_package_defaults_apply(tmp_path: Path) -> None:
    config = load_scenario(write(tmp_path, "s.yaml", BASE)).config
    assert config.solver.backend == "highs"
    assert config.travel.circuity == 1.3
    assert config.standards.class_caps.get("primary") is None


def test_precedence_set_over_override_over_file_over_import(tmp_path: Path) -> None:
    write(
        tmp_path,
        "common/std.yaml",
        """
standards: {class_caps: {primary: 45, junior: 50}}
solver: {time_limit_s: 10, threads: 2, mip_gap: 0.01}
""",
    )
    path = write(
        tmp_path,
        "s.yaml",
        "import: [common/std.yaml]\n"
        + BASE
        + """
solver: {time_limit_s: 20, threads: 3}
overrides:
  fast: {solver: {threads: 4}}
""",
    )
    config = load_scenario(path, scenario="fast", sets=["solver.time_limit_s=99"]).config
    assert config.standards.class_caps.get("junior") == 50  # import only
    assert config.solver.mip_gap == 0.01  # import, file silent
    assert config.solver.threads == 4  # override beats file and import
    assert config.solver.time_limit_s == 99  # --set beats everything
    assert load_scenario(path).config.solver.threads == 3  # file beats import


def test_named_scenario_combines_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        BASE
        + """
overrides:
  a: {solver: {threads: 2}}
  b: {planning: {budget_cny: 1000}}
scenarios:
  both: [a, b]
""",
    )
    resolved = load_scenario(path, scenario="both")
    assert resolved.overrides == ("a", "b")
    assert resolved.config.solver.threads == 2
    assert resolved.config.planning.budget_cny == 1000
    assert load_scenario(path, scenario="a,b").config == resolved.config


def test_two_overrides_setting_one_key_collide(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        BASE
        + """
overrides:
  a: {solver: {threads: 2}}
  b: {solver: {threads: 3, backend: cbc}}
  c: {solver: {threads: 5}}
scenarios: {ab: [a, b]}
""",
    )
    messages = problems_of(path, scenario="ab")
    assert len(messages) == 1
    assert "overrides a and b" in messages[0] and "solver.threads" in messages[0]
    # a parent key against a child key collides too
    write(
        tmp_path,
        "s.yaml",
        BASE
        + """
overrides:
  a: {solver: {threads: 2}}
  whole: {solver: {}}
""",
    )
    (message,) = problems_of(path, scenario="a,whole")
    assert "solver" in message and "both set" in message


def test_unknown_key_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", BASE + "solver: {backnd: cbc}\n")
    (message,) = problems_of(path)
    assert "s.yaml line 7" in message
    assert "solver.backnd" in message and "did you mean 'backend'" in message


def test_wrong_type_names_key_line_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", BASE + "solver:\n  threads: many\n")
    (message,) = problems_of(path)
    assert "line 8" in message and "solver.threads" in message and "'many'" in message


def test_all_problems_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", BASE + "solver: {threads: 0, backend: gurobi}\nextra: 1\n")
    messages = problems_of(path)
    assert len(messages) == 3
    assert any("extra" in m for m in messages)


def test_missing_required_key(tmp_path: Path) -> None:
    text = "meta: {name: t}\nplanning: {base_year: 2024, stages: [primary]}\n"
    path = write(tmp_path, "s.yaml", text)
    (message,) = problems_of(path)
    assert "key data" in message and "missing" in message


def test_set_errors_name_the_set(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", BASE)
    messages = problems_of(path, sets=["planning.base_year=soon", "nokey"])
    assert any(m.startswith("--set nokey") and "key=value" in m for m in messages)
    messages = problems_of(path, sets=["planning.base_year=soon"])
    assert messages[0].startswith("--set planning.base_year=soon")


def test_unknown_scenario_name_suggests(tmp_path: Path) -> None:
    path = write(
        tmp_path, "s.yaml", BASE + "overrides: {tight_budget: {planning: {budget_cny: 1}}}\n"
    )
    (message,) = problems_of(path, scenario="tight_budgt")
    assert "did you mean 'tight_budget'" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("meta: {name: t\n", "malformed YAML"),
        ("meta: !!python/object/apply:os.system ['echo hi']\n", "only plain YAML"),
        ("", "empty"),
        ("- just\n- a list\n", "mapping"),
        ("meta: {name: t}\nmeta: {name: u}\n", "written twice"),
    ],
)
def test_bad_yaml(tmp_path: Path, text: str, expected: str) -> None:
    (message,) = problems_of(write(tmp_path, "s.yaml", text))
    assert "s.yaml" in message and expected in message


def test_missing_scenario_file(tmp_path: Path) -> None:
    (message,) = problems_of(tmp_path / "nope.yaml")
    assert "nope.yaml" in message and "does not exist" in message


def test_import_cycle_and_missing_import(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "import: [b.yaml]\n")
    write(tmp_path, "b.yaml", "import: [a.yaml]\n")
    path = write(tmp_path, "s.yaml", "import: [a.yaml, gone.yaml]\n" + BASE)
    messages = problems_of(path)
    assert any("cycle" in m for m in messages)
    assert any("gone.yaml" in m and "does not exist" in m for m in messages)


def test_imported_data_paths_are_relative_to_the_import(tmp_path: Path) -> None:
    write(
        tmp_path, "shared/layers.yaml", "data:\n  zones: {path: z.csv}\n  schools: {path: s.csv}\n"
    )
    path = write(
        tmp_path,
        "sub/s.yaml",
        "import: [../shared/layers.yaml]\n"
        "meta: {name: t}\nplanning: {base_year: 2024, stages: [primary]}\n",
    )
    resolved = load_scenario(path)
    assert resolved.config.data.zones.path == "../shared/z.csv"
    assert resolved.layer_path(resolved.config.data.zones) == (tmp_path / "shared/z.csv").resolve()


def test_resolved_scenario_is_frozen(tmp_path: Path) -> None:
    config = load_scenario(write(tmp_path, "s.yaml", BASE)).config
    with pytest.raises(Exception, match="frozen"):
        config.solver.threads = 8  # type: ignore[misc]


def test_json_schema_lists_sections() -> None:
    schema = scenario_json_schema()
    json.dumps(schema)
    for key in ("meta", "data", "planning", "solver", "import", "overrides", "scenarios"):
        assert key in schema["properties"]
    assert schema["$defs"]["SolverConfig"]["additionalProperties"] is False


def test_shipped_standards_hold_national_defaults() -> None:
    root = Path(__file__).resolve().parent.parent
    path = write(
        root / "tests" / ".tmp",
        "s.yaml",
        "import: [../../scenarios/common/standards.yaml]\n" + BASE,
    )
    try:
        standards = load_scenario(path).config.standards
    finally:
        path.unlink()
        path.parent.rmdir()
    assert standards.class_caps.primary == 45 and standards.class_caps.junior == 50
    assert (
        standards.staffing_ratios.primary,
        standards.staffing_ratios.junior,
        standards.staffing_ratios.senior,
    ) == (19, 13.5, 12.5)
    assert standards.school_sizes.primary is not None
    assert standards.school_sizes.primary.urban == [12, 18, 24, 30]
    assert standards.nine_year_sizes is not None
    assert standards.nine_year_sizes.urban == [18, 27, 36, 45]  # 建标〔2002〕102号
    assert (standards.max_school_classes.primary, standards.max_school_classes.junior) == (44, 40)
    assert standards.expansion.module_classes == 6


PLAN = BASE.replace("planning: {base_year: 2024, stages: [primary]}",
                    "planning: {base_year: 2024, years: [2024, 2025, 2027], stages: [primary]}")


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        (["standards.class_caps={primary: 45}",
          "standards.class_caps_by_year.primary={2025: 40, 2027: 42}"],
         ["standards.class_caps_by_year.primary", "42 from 2027", "Z-18"]),
        (["standards.class_caps={primary: 45}",
          "standards.class_caps_by_year.primary={2025: 50}"],
         ["standards.class_caps_by_year.primary", "base cap", "Z-18"]),
        (["standards.nine_year_sizes={urban: [18, 28], rural: [18]}"],
         ["standards.nine_year_sizes.urban", "[28]", "multiples of 3"]),
        (["standards.expansion.cost_per_seat_factor=0"],
         ["standards.expansion.cost_per_seat_factor", "greater than 0"]),
        (["standards.max_school_classes.primary=-3"],
         ["standards.max_school_classes.primary"]),
        (["planning.periods=[2025, 2026]"], ["planning.periods", "[2026]", "not forecast years"]),
        (["planning.periods=[2027, 2025]"], ["planning.periods", "increasing"]),
        (["planning.periods=[2025]", "planning.budget_by_year={2027: 100}"],
         ["planning.budget_by_year", "[2027]", "period"]),
        (["planning.periods=[2025, 2027]", "planning.projects_per_year={2024: 3}"],
         ["planning.projects_per_year", "[2024]"]),
        (["planning.projects_sense=roughly"], ["planning.projects_sense", "at_most"]),
        (["planning.periods=[2025]",
          "planning.seat_targets=[{rule: J-04, stages: [primary], year: 2027, min_seats: 1}]"],
         ["planning.seat_targets[0].year", "[2027]"]),
        (["planning.seat_targets=[{rule: X-04, stages: [primary], year: 2024, min_seats: 1}]"],
         ["planning.seat_targets.0.rule", "'X-04' is not a rule ID of the catalogue"]),
        (["planning.seat_targets=[{rule: D-06, stages: [primary], year: 2024, min_seats: 1}]"],
         ["planning.seat_targets.0.rule", "D-06 is not a target of this kind", "J-04"]),
        (["planning.seat_targets=[{rule: J-04, stages: [junior], year: 2024, min_seats: 1}]"],
         ["planning.seat_targets[0].stages", "['junior']", "planned stages"]),
        (["planning.new_school_counts=[{rule: D-06, stage: primary, year: 2024, count: -1}]"],
         ["planning.new_school_counts.0.count"]),
        (["planning.new_school_counts=[{rule: D-06, stage: junior, year: 2024, count: 1}]"],
         ["planning.new_school_counts[0].stage", "['junior']"]),
        (["objective.equity_weight=-1"], ["objective.equity_weight"]),
        (["objective.elastic_penalty_by_rule={N-01: 1, X-01: 2}"],
         ["objective.elastic_penalty_by_rule", "X-01 not rule IDs of the catalogue"]),
        (["travel.aggregate_zones_m=0"], ["travel.aggregate_zones_m"]),
    ],
)
def test_bad_plan_keys_name_the_key(tmp_path: Path, sets: list[str], expected: list[str]) -> None:
    path = write(tmp_path, "s.yaml", PLAN)
    (message,) = problems_of(path, sets=sets)
    for part in expected:
        assert part in message, (part, message)


def test_plan_keys_and_their_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", PLAN)
    planning = load_scenario(path).config.planning
    assert planning.plan_periods == (2024,)  # no periods, no design year: the first year
    assert planning.budget_by_year == {} and not planning.allow_closures
    assert load_scenario(path, sets=["planning.design_year=2025"]).config.planning.plan_periods \
        == (2025,)
    config = load_scenario(path, sets=[
        "standards.class_caps={primary: 45}",
        "standards.class_caps_by_year.primary={2025: 40, 2027: 40}",
        "planning.periods=[2024, 2027]",
        "planning.new_school_counts=[{rule: D-06, stage: primary, year: 2027, count: 2}]",
    ]).config
    assert [config.standards.cap_in("primary", y) for y in (2024, 2025, 2026, 2030)] == [
        45, 40, 40, 40]
    assert config.standards.cap_in("junior", 2030) is None
    (count,) = config.planning.new_school_counts
    assert (count.rule, count.sense) == ("D-06", "exact")
    assert config.standards.expansion.module_classes == 6
    assert config.standards.expansion.cost_per_seat_factor == 0.8
    assert config.objective.equity_weight == 0 and not config.objective.elastic
    assert config.travel.aggregate_zones_m is None
