"""OR-Library p-median and warehouse-location instances through the multi-period plan model.

The same files and published optima as tests/test_orlib.py (provenance in
tests/data/orlib/README.md: pmed1-5 from OR-Library's ``pmedopt``, cap71-74 from ``capopt``),
solved by :func:`allocator.plan.solve_plan` on the one-period inputs of
:mod:`allocator.orlib_plan`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from allocator.bench_cli import CSV_HEADER, bench_app, proven_optimal, solve_instance
from allocator.orlib import CapInstance, PMedianInstance, parse_cap, parse_pmed, read_cap, read_pmed
from allocator.orlib_plan import (
    COUNT_RULE,
    PERIOD,
    cap_plan_input,
    orlib_plan_input,
    pmedian_plan_input,
)
from allocator.plan import PlanResult, solve_plan
from allocator.solvers import SolverOptions

DATA = Path(__file__).resolve().parent / "data" / "orlib"
PMED_OPTIMA = {"pmed1": 5819, "pmed2": 4093, "pmed3": 4250, "pmed4": 3034, "pmed5": 1355}
CAP_OPTIMA = {
    "cap71": 932615.750,
    "cap72": 977799.400,
    "cap73": 1010641.450,
    "cap74": 1034976.975,
}
EXACT = SolverOptions(mip_gap=0.0, time_limit_s=120.0)
runner = CliRunner()


def pmed(name: str) -> PMedianInstance:
    return read_pmed(DATA / f"{name}.txt")


def cap(name: str) -> CapInstance:
    return read_cap(DATA / f"{name}.txt")


def opened_sites(result: PlanResult) -> list[str]:
    return sorted(result.opened["site_id"])


# --------------------------------------------------------------------------- mapping


def test_pmed1_plan_input() -> None:
    instance = pmed("pmed1")
    data = pmedian_plan_input(instance)
    assert data.periods == (PERIOD,)
    assert len(data.demand) == 100
    assert (data.demand["children"] == 1.0).all()
    assert data.caps["cap"].tolist() == [100.0]  # 1 class x 100 = all demand: uncapacitated
    assert (data.options["classes"] == 1).all()
    assert (data.options["cost_cny"] == 0.0).all()
    assert data.existing.empty
    assert len(data.pairs) == 100 * 100
    pairs = data.pairs.set_index(["zone_id", "school_id"])["distance_m"]
    assert pairs[("v019", "s020")] == 30  # the duplicated edge {19,20}: last line (30) wins
    assert pairs[("v001", "s002")] == instance.distances[0, 1]
    (target,) = data.rules.count_targets
    assert (target.rule_id, target.count, target.sense, target.year) == (
        COUNT_RULE, 5, "exact", PERIOD)
    assert (data.weights.travel_weight, data.weights.cost_weight) == (1.0, 0.0)
    assert data.weights.unmet_penalty == instance.distances.max() + 1
    assert data.lexicographic is False


def test_cap71_plan_input() -> None:
    data = cap_plan_input(cap("cap71"))
    assert data.caps["cap"].tolist() == [58268.0]  # gcd of 16 equal capacities
    assert (data.options["classes"] == 1).all()
    assert data.options["cost_cny"].sum() == 15 * 7500  # site 11 costs 0
    pairs = data.pairs.set_index(["zone_id", "school_id"])["distance_m"]
    # a_ij is for all of customer 1's demand (146): per unit a_ij / 146.
    assert pairs[("c001", "w001")] * 146 == pytest.approx(6739.725)
    assert data.lexicographic is True


def test_cap_capacities_become_classes_times_gcd() -> None:
    # Capacities 10, 15, 0: cap 5, classes 2 and 3; the empty warehouse is left out.
    text = "3 1\n10 1\n15 2\n0 3\n4 8 12 16\n"
    data = cap_plan_input(parse_cap(text, "toy"))
    assert data.caps["cap"].tolist() == [5.0]
    assert data.options["site_id"].tolist() == ["w001", "w002"]
    assert data.options["classes"].tolist() == [2, 3]
    assert data.pairs["distance_m"].tolist() == [2.0, 3.0]  # 8/4, 12/4


def test_cap_fractional_capacity_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"toy: capacity 10\.5 of warehouse 2 is not a whole"):
        cap_plan_input(parse_cap("2 1\n10 1\n10.5 2\n4 8 12\n", "toy"))


# --------------------------------------------------------------------------- toy problems


def test_toy_pmedian_by_hand() -> None:
    # Path 1 -1- 2 -5- 3 -1- 4, p = 2: one median in {1, 2}, one in {3, 4}; cost 1 + 1 = 2.
    instance = parse_pmed("4 3 2\n1 2 1\n2 3 5\n3 4 1\n", "toy")
    result = solve_plan(pmedian_plan_input(instance), EXACT)
    assert result.info.objective == pytest.approx(2.0, abs=1e-9)
    assert proven_optimal(result.info)
    opened = opened_sites(result)
    assert len(opened) == 2
    assert opened[0] in {"s001", "s002"}
    assert opened[1] in {"s003", "s004"}


def test_toy_capacitated_split_demand_by_hand() -> None:
    # Demand 8 + 8 = 16; w1 (cap 10, fixed 5, 1 per unit), w2 (cap 10, fixed 100, 2 per unit).
    # Capacity binds: both open (105), 10 units from w1 (10) and 6 from w2 (12): 127.
    instance = parse_cap("2 2\n10 5\n10 100\n8 8 16\n8 8 16\n", "toy")
    result = solve_plan(cap_plan_input(instance), EXACT)
    assert result.info.objective == pytest.approx(127.0, abs=1e-6)
    assert proven_optimal(result.info)
    assert opened_sites(result) == ["w001", "w002"]
    flow = result.assignments.groupby("school_id")["children"].sum()
    assert flow["w001"] == pytest.approx(10.0, abs=1e-6)
    assert flow["w002"] == pytest.approx(6.0, abs=1e-6)
    assert result.terms["capital_cost_cny"] == pytest.approx(105.0)
    assert result.terms["travel_child_m"] == pytest.approx(22.0, abs=1e-6)


# --------------------------------------------------------------------------- published optima


@pytest.mark.parametrize("name", sorted(PMED_OPTIMA))
def test_pmed_published_optimum_through_plan(name: str) -> None:
    instance = pmed(name)
    result = solve_plan(pmedian_plan_input(instance), EXACT)
    info = result.info
    assert info.status == "optimal"
    assert info.objective == pytest.approx(PMED_OPTIMA[name], abs=1e-6)
    assert info.bound == pytest.approx(PMED_OPTIMA[name], abs=1e-6)
    assert info.gap is not None
    assert info.gap <= 1e-9
    assert proven_optimal(info)
    # Exactly p sites open (the D-06 count row holds with equality) ...
    opened = opened_sites(result)
    assert len(opened) == instance.p
    report = result.rule_report[result.rule_report["rule_id"] == COUNT_RULE]
    assert report["lhs"].tolist() == [instance.p]
    # ... every vertex goes wholly to its nearest open site ...
    columns = [int(site[1:]) - 1 for site in opened]
    nearest = instance.distances[:, columns].min(axis=1)
    assign = result.assignments.sort_values("zone_id")
    assert assign["zone_id"].tolist() == [f"v{k:03d}" for k in range(1, 101)]
    assert np.allclose(assign["children"], 1.0)
    assert np.array_equal(assign["distance_m"].to_numpy(), nearest.astype(float))
    # ... and the objective is travel only.
    assert result.terms["travel_child_m"] == pytest.approx(nearest.sum())
    assert result.terms["unmet_children"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("name", sorted(CAP_OPTIMA))
def test_cap_published_optimum_through_plan(name: str) -> None:
    instance = cap(name)
    result = solve_plan(cap_plan_input(instance), EXACT)
    info = result.info
    assert info.status == "optimal"
    assert info.objective == pytest.approx(CAP_OPTIMA[name], abs=0.01)
    assert proven_optimal(info)
    assert result.phases[0].objective == pytest.approx(0.0, abs=1e-6)  # all demand served
    # Objective = fixed costs of the opened warehouses + allocation cost of the flows.
    opened = [int(site[1:]) - 1 for site in opened_sites(result)]
    fixed = instance.fixed_costs[opened].sum()
    assert result.terms["capital_cost_cny"] == pytest.approx(fixed)
    assert fixed + result.terms["travel_child_m"] == pytest.approx(CAP_OPTIMA[name], abs=0.01)
    capacity = result.capacity
    assert (capacity["enrolled"] <= capacity["seats"] + 1e-6).all()
    assert (capacity["seats"] == 58268).all()


def test_cbc_backend_proves_cap71_and_toy_pmedian_through_plan() -> None:
    options = SolverOptions(backend="cbc", mip_gap=0.0, time_limit_s=120.0)
    run = solve_instance(cap("cap71"), options, model="plan")
    assert run.proven_optimal
    assert run.info.objective == pytest.approx(CAP_OPTIMA["cap71"], abs=0.01)
    toy = parse_pmed("4 3 2\n1 2 1\n2 3 5\n3 4 1\n", "toy")
    result = solve_plan(orlib_plan_input(toy), options)
    assert result.info.objective == pytest.approx(2.0, abs=1e-9)
    assert proven_optimal(result.info)


def test_time_limited_plan_run_is_not_proven() -> None:
    run = solve_instance(pmed("pmed3"), SolverOptions(mip_gap=0.0, time_limit_s=0.001),
                         model="plan")
    assert run.model == "plan"
    assert not run.proven_optimal


# --------------------------------------------------------------------------- CLI


def test_cli_model_plan_prints_csv() -> None:
    files = [str(DATA / "pmed1.txt"), str(DATA / "cap71.txt")]
    result = runner.invoke(bench_app, ["orlib", "--model", "plan", *files])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == ",".join(CSV_HEADER)
    assert re.fullmatch(r"pmed1,5819,5819,true,\d+\.\d{3}", lines[1])
    assert re.fullmatch(r"cap71,932615\.75,932615\.75,true,\d+\.\d{3}", lines[2])
    assert len(lines) == 3


def test_cli_model_plan_rejects_a_siting_formulation() -> None:
    args = ["orlib", "--model", "plan", "--formulation", "radius", str(DATA / "pmed4.txt")]
    result = runner.invoke(bench_app, args)
    assert result.exit_code == 2
    assert "--formulation radius applies to --model siting only" in result.stderr
    assert "instance," not in result.stdout


def test_cli_model_plan_rejects_a_fractional_capacity_before_solving(tmp_path: Path) -> None:
    bad = tmp_path / "cap99.txt"
    bad.write_text("2 1\n10 1\n10.5 2\n4 8 12\n")
    result = runner.invoke(bench_app, ["orlib", "--model", "plan", str(DATA / "cap71.txt"),
                                       str(bad)])
    assert result.exit_code == 2
    assert "cap99: capacity 10.5 of warehouse 2 is not a whole number" in result.stderr
    assert "instance," not in result.stdout  # nothing is solved when an input is bad
