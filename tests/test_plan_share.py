"""N-12: the least public share of a stage's children (公办率) as a row of the plan model.

Fixture (kindergarten K, periods 2023 and 2025, class cap 30)::

    zone  K 2023  K 2025
    Z1      100     100      reaches Q1 (private, 500 m) and E1 (public, 1,500 m)
    Z2        -      20      no pair: out of reach, always unmet

    existing  Q1 private, 4 classes (120 seats); E1 public, 2 classes (60 seats); neither
              can grow. No candidate sites (the site test adds C1).

Without a share target the travel term sends every child of Z1 to the nearer private Q1.
The share row counts the children whose zone reaches a kindergarten, seated or not (Z1's
100 in 2025, not Z2's 20): 55 % of 100 = 55 children must be in E1 in 2025.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from allocator.audit_params import ShareTargetSpec, params_from_config
from allocator.errors import InputError
from allocator.inputs import load_inputs
from allocator.layering import load_scenario
from allocator.pipeline import run
from allocator.plan import PlanInput, PlanResult, PlanRules, PlanWeights, build_plan_model
from allocator.plan.data import ShareTarget
from allocator.plan.greedy import greedy_plan
from allocator.plan.targets import counted_sites
from allocator.plan.validate import validate
from allocator.plan_inputs import existing_frame, plan_rules, switch_notes
from allocator.rules import registered
from tests.plan_fixtures import M, frame
from tests.test_plan_model import flow, opened, solve

K = "kindergarten"
TARGET = ShareTarget("N-12", K, 2025, 0.55)


def share_input(rules: PlanRules | None = None, periods: tuple[int, ...] = (2023, 2025),
                existing: str = "Q1 E1", options: pd.DataFrame | None = None,
                pairs: list[tuple[str, str, str, float]] | None = None) -> PlanInput:
    nan = float("nan")
    schools = {"Q1": ("Q1", K, 4, nan, nan, nan, "private", False),
               "E1": ("E1", K, 2, nan, nan, nan, "public", False)}
    demand = [("Z1", K, 2023, 100.0), ("Z1", K, 2025, 100.0), ("Z2", K, 2025, 20.0)]
    links = [("Z1", "Q1", K, 500.0), ("Z1", "E1", K, 1500.0)]
    keep = existing.split()
    return PlanInput(
        periods=periods,
        demand=frame([r for r in demand if r[2] in periods], "zone_id stage year children"),
        caps=frame([(K, t, 30.0) for t in periods], "stage year cap"),
        existing=frame([schools[s] for s in keep],
                       "school_id stage classes max_classes module_classes module_cost_cny "
                       "ownership closable"),
        options=options if options is not None else frame(
            [], "site_id option_id stage classes cost_cny ownership"),
        pairs=frame([p for p in links if p[1] in keep] + (pairs or []),
                    "zone_id school_id stage distance_m"),
        rules=rules or PlanRules(),
        weights=PlanWeights(),
    )


def report(result: PlanResult) -> pd.DataFrame:
    r = result.rule_report
    return r[r.rule_id == "N-12"].reset_index(drop=True)


def test_registered_with_its_formula() -> None:
    (entry,) = [r for r in registered() if r.implementation.endswith("add_share_targets")]
    assert (entry.rule_id, entry.kind.name, entry.params) == ("N-12", "TARGET",
                                                              ("rules.share_targets",))
    assert "min_share · Σ_{z reaching g} d[z, g, Y]" in entry.formula


def test_without_a_target_every_child_goes_to_the_near_private_kindergarten() -> None:
    result = solve(share_input())
    assert result.info.status == "optimal"
    for year in (2023, 2025):
        assert flow(result, "Z1", "Q1", K, year) == pytest.approx(100)
        assert flow(result, "Z1", "E1", K, year) == pytest.approx(0)
    assert report(result).empty
    # 200 children x 500 m
    assert result.terms["travel_child_m"] == pytest.approx(100_000)


def test_the_target_moves_exactly_55_children_to_public_in_its_year() -> None:
    result = solve(share_input(PlanRules(share_targets=(TARGET,))))
    assert result.info.status == "optimal"
    assert flow(result, "Z1", "E1", K, 2025) == pytest.approx(55)
    assert flow(result, "Z1", "Q1", K, 2025) == pytest.approx(45)
    assert flow(result, "Z1", "Q1", K, 2023) == pytest.approx(100)  # 2023 has no target
    # 100 x 500 (2023) + 55 x 1,500 + 45 x 500 (2025)
    assert result.terms["travel_child_m"] == pytest.approx(155_000)
    # Z2's 20 children reach no kindergarten: unmet, and not counted in the share
    assert result.terms["unmet_children"] == pytest.approx(20)
    (row,) = report(result).to_dict("records")
    assert row["scope"] == "public kindergarten share 2025 >= 55 %"
    assert (row["year"], row["stage"], row["sense"]) == (2025, K, ">=")
    assert (row["lhs"], row["rhs"], row["slack"], row["elastic"]) == pytest.approx(
        (55.0, 55.0, 0.0, 0.0), abs=1e-6)


def test_a_forced_share_is_infeasible_and_elastic_gives_the_shortfall_in_children() -> None:
    """70 % of 100 = 70 public children, but E1 has 60 seats: 10 children short."""
    forced = ShareTarget("N-12", K, 2025, 0.7)
    plain = solve(share_input(PlanRules(share_targets=(forced,))))
    assert plain.info.status == "infeasible"
    data = share_input(PlanRules(share_targets=(forced,), elastic=True))
    elastic = solve(data)
    assert elastic.info.status == "optimal"
    (row,) = report(elastic).to_dict("records")
    assert (row["lhs"], row["rhs"], row["elastic"]) == pytest.approx((60.0, 70.0, 10.0),
                                                                     abs=1e-6)
    assert elastic.terms["elastic_slack"] == pytest.approx(10.0, abs=1e-6)
    # the share is not reached by leaving children unseated: Z1's other 40 sit in Q1
    assert flow(elastic, "Z1", "E1", K, 2025) == pytest.approx(60)
    assert flow(elastic, "Z1", "Q1", K, 2025) == pytest.approx(40)
    assert elastic.terms["unmet_children"] == pytest.approx(20)  # Z2 only
    _, v = build_plan_model(data)
    assert "elastic__N_12__kindergarten__2025" in v.elastic


def test_an_opened_public_site_counts_as_public() -> None:
    """Only Q1 (private, 120 seats) and site C1 (public, 6 classes, 10 M CNY, 800 m).

    Without the target nothing opens (Q1 seats all 100); with it C1 opens in 2025 and
    takes exactly 55 children.
    """
    site = frame([("C1", "K6", K, 6, 10 * M, "public")],
                 "site_id option_id stage classes cost_cny ownership")
    link = [("Z1", "C1", K, 800.0)]
    free = solve(share_input(periods=(2025,), existing="Q1", options=site, pairs=link))
    assert opened(free) == set()
    held = solve(share_input(PlanRules(share_targets=(TARGET,)), periods=(2025,),
                             existing="Q1", options=site, pairs=link))
    assert held.info.status == "optimal"
    assert opened(held) == {("C1", "K6", 2025)}
    assert flow(held, "Z1", "C1", K, 2025) == pytest.approx(55)
    assert flow(held, "Z1", "Q1", K, 2025) == pytest.approx(45)
    assert held.terms["capital_cost_cny"] == pytest.approx(10 * M)


def test_a_site_counts_only_when_every_option_of_the_stage_has_the_ownership() -> None:
    options = frame([("C1", "K6", K, 6, 10 * M, "public"), ("C2", "a", K, 4, 5 * M, "public"),
                     ("C2", "b", K, 4, 1 * M, "private"), ("C3", "c", K, 4, 1 * M, "private")],
                    "site_id option_id stage classes cost_cny ownership")
    tables = validate(share_input(options=options))
    assert counted_sites(tables, TARGET) == {"C1"}
    assert counted_sites(tables, dataclasses.replace(TARGET, ownership="private")) == {"C3"}


def test_the_warm_start_seats_the_target_stage_in_public_schools_first() -> None:
    data = share_input(PlanRules(share_targets=(TARGET,)))
    _, v = build_plan_model(data)
    plan = greedy_plan(validate(data), data, v)
    # 2025: E1's 60 seats first, then Q1; 2023 (no target): nearest first
    assert plan.flows == {("Z1", "E1", K, 2025): 60.0, ("Z1", "Q1", K, 2023): 100.0,
                          ("Z1", "Q1", K, 2025): 40.0}
    warm = solve(dataclasses.replace(data, warm_start=True))
    assert flow(warm, "Z1", "E1", K, 2025) == pytest.approx(55)


@pytest.mark.parametrize(("target", "message"), [
    (ShareTarget("N-12", K, 2024, 0.55),
     "rules.share_targets[0] (N-12 2024): year must be a period year [2023, 2025]"),
    (ShareTarget("N-12", K, 2025, 1.2),
     "rules.share_targets[0] (N-12 2025): min_share must be a fraction 0 <= min_share <= 1, "
     "got 1.2"),
    (ShareTarget("N-12", K, 2025, float("nan")), "min_share must be a fraction"),
    (ShareTarget("X-99", K, 2025, 0.5),
     "rules.share_targets[0] (X-99 2025): rule_id 'X-99' is not in the rule catalogue"),
    (ShareTarget("N-12", "primary", 2025, 0.5),
     "rules.share_targets[0] (N-12 2025): stage 'primary' is not a planned stage (stages "
     "with demand: ['kindergarten'])"),
    (ShareTarget("N-12", K, 2025, 0.5, ownership="state"),
     "rules.share_targets[0] (N-12 2025): ownership must be one of ['public', 'private'], "
     "got 'state'"),
])
def test_bad_targets_are_named(target: ShareTarget, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate(share_input(PlanRules(share_targets=(target,))))
    assert message in str(caught.value)


# --------------------------------------------------------------------------- scenario key

SHARE = "planning.public_share_targets=[{rule: N-12, stage: primary, year: 2024, min_share: 0.55}]"


def test_the_scenario_key_reaches_the_model_and_the_audit(tiny_scenario: Path) -> None:
    config = load_scenario(tiny_scenario, sets=[SHARE]).config
    assert plan_rules(config).share_targets == (ShareTarget("N-12", "primary", 2024, 0.55),)
    assert params_from_config(config).siting.share_targets == (
        ShareTargetSpec("N-12", "primary", 2024, 0.55),)
    off = load_scenario(tiny_scenario, sets=[SHARE, "rules.N-12.active=false"]).config
    assert plan_rules(off).share_targets == ()
    empty = pd.DataFrame({"site_id": [], "ownership": []})
    assert switch_notes(off, empty) == [
        "rules: N-12 is off: its public-share targets are dropped"]


@pytest.mark.parametrize(("value", "message"), [
    ("[{rule: N-12, stage: primary, year: 2030, min_share: 0.55}]",
     "planning.public_share_targets[0].year: [2030] not among the periods [2024]"),
    ("[{rule: N-12, stage: junior, year: 2024, min_share: 0.55}]",
     "planning.public_share_targets[0].stage: ['junior'] not among the planned stages"),
    ("[{rule: N-03, stage: primary, year: 2024, min_share: 0.55}]",
     "key planning.public_share_targets.0.rule: Value error, rule N-03 is not a target of "
     "this kind; expected one of N-12"),
    ("[{rule: N-12, stage: primary, year: 2024, min_share: 1.5}]",
     "key planning.public_share_targets.0.min_share: Input should be less than or equal to 1"),
])
def test_bad_scenario_keys_are_named(tiny_scenario: Path, value: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_scenario(tiny_scenario, sets=[f"planning.public_share_targets={value}"])
    assert message in str(caught.value)


# --------------------------------------------------------------------------- closures

def with_closure(tiny_dir: Path, year: str, value: str = "300000") -> Path:
    """The tiny fixture with ``closure_year`` and ``closure_value_cny`` for S1."""
    path = tiny_dir / "schools.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    lines = [f"{header},closure_year,closure_value_cny", *(f"{r},{year},{value}" for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tiny_dir / "scenario.yaml"


def test_a_decided_closure_in_schools_csv_reaches_the_model(tiny_dir: Path) -> None:
    """S1 (10 classes, 450 seats) closes in 2024 (decided, worth 300,000 CNY).

    Without S1, zone A's 900 children reach only C1 (18 classes = 810 seats): 90 unmet,
    plus C's 100 out of reach; B's 300 need C2 at 12 classes. Capital 810,000 + 540,000.
    """
    resolved = load_scenario(with_closure(tiny_dir, "2024"))
    existing = existing_frame(resolved.config, load_inputs(resolved).schools)
    assert existing[["school_id", "closure_year", "closure_value_cny"]].values.tolist() == [
        ["S1", 2024.0, 300_000.0]]
    results = run(resolved)
    schools = results.tables["schools"].set_index("school_id")
    assert schools.loc["S1", "kind"] == "closed" and schools.loc["S1", "enrolled"] == 0
    assert schools.loc[["C1", "C2"], "classes"].tolist() == [18, 12]
    assert results.tables["demand"]["unmet"].sum() == pytest.approx(190, abs=1e-3)


def test_blank_closure_columns_change_nothing(tiny_dir: Path) -> None:
    resolved = load_scenario(with_closure(tiny_dir, "", ""))
    existing = existing_frame(resolved.config, load_inputs(resolved).schools)
    assert existing["closure_year"].isna().all()
    assert existing["closure_value_cny"].tolist() == [0.0]
    data = dataclasses.replace(share_input(), existing=existing.assign(stage=K),
                               pairs=frame([], "zone_id school_id stage distance_m"))
    school = validate(data).schools["S1"]
    assert (school.closure_year, school.closure_value_cny) == (None, 0.0)


def test_a_closure_year_outside_the_periods_is_named(tiny_dir: Path) -> None:
    resolved = load_scenario(with_closure(tiny_dir, "2030"))
    with pytest.raises(InputError) as caught:
        existing_frame(resolved.config, load_inputs(resolved).schools)
    assert str(caught.value) == ("schools.csv: column closure_year: must be a period year "
                                 "[2024] or blank (school_id: value) (got S1: 2030)")
