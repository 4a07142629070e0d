"""OR-Library p-median and warehouse-location instances through the siting model.

Published optima (tests/data/orlib/README.md): pmed1-5 from OR-Library's ``pmedopt``,
cap71-74 from ``capopt``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from allocator import siting
from allocator.bench_cli import (
    CSV_HEADER,
    bench_app,
    proven_optimal,
    read_instance,
    solve_instance,
)
from allocator.orlib import (
    CapInstance,
    PMedianInstance,
    cap_siting_input,
    parse_cap,
    parse_pmed,
    pmedian_siting_input,
    read_cap,
    read_pmed,
)
from allocator.siting import solve_siting
from allocator.siting_dynamic import pmedian_heuristic
from allocator.siting_radius import solve_radius
from allocator.solvers import SolveInfo, SolverOptions, solve_pulp

DATA = Path(__file__).resolve().parent / "data" / "orlib"
PMED_OPTIMA = {"pmed1": 5819, "pmed2": 4093, "pmed3": 4250, "pmed4": 3034, "pmed5": 1355}
CAP_OPTIMA = {
    "cap71": 932615.750,
    "cap72": 977799.400,
    "cap73": 1010641.450,
    "cap74": 1034976.975,
}
EXACT = SolverOptions(mip_gap=0.0, time_limit_s=120.0)
SLOW = {"pmed1", "pmed2", "pmed3"}  # the assignment model takes 1-3 s on these
runner = CliRunner()


def pmed(name: str) -> PMedianInstance:
    return read_pmed(DATA / f"{name}.txt")


def cap(name: str) -> CapInstance:
    return read_cap(DATA / f"{name}.txt")


def test_data_files_match_their_checksums() -> None:
    lines = (DATA / "SHA256SUMS").read_text().split("\n")
    sums = dict(reversed(line.split()) for line in lines if line.strip())
    assert set(sums) == {f"{name}.txt" for name in (*PMED_OPTIMA, *CAP_OPTIMA)}
    for name, digest in sums.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name


# --------------------------------------------------------------------------- parsing


def test_pmed1_header_and_matrix() -> None:
    instance = pmed("pmed1")
    assert (instance.name, instance.n, instance.p, instance.edges) == ("pmed1", 100, 5, 200)
    d = instance.distances
    assert d.shape == (100, 100)
    assert d.dtype == np.int64
    assert (np.diag(d) == 0).all()
    assert (d == d.T).all()
    assert (d[~np.eye(100, dtype=bool)] > 0).all()
    # Triangle inequality holds for a shortest-path matrix.
    assert (d[:, :, None] <= d[:, None, :] + d.T[None, :, :]).all()


def test_duplicate_edge_last_occurrence_wins() -> None:
    # 1-2 appears twice: the last length (9) wins, not the minimum (5).
    instance = parse_pmed("3 3 1\n1 2 5\n2 3 1\n2 1 9\n", "toy")
    assert instance.distances.tolist() == [[0, 9, 10], [9, 0, 1], [10, 1, 0]]


def minimum_rule_text(text: str) -> str:
    """pmed text with every duplicated pair's shortest line moved to the end (min wins)."""
    header, *edges = [line for line in text.splitlines() if line.strip()]
    by_pair: dict[frozenset[str], list[str]] = {}
    for line in edges:
        i, j, _ = line.split()
        by_pair.setdefault(frozenset((i, j)), []).append(line)
    duplicated = [lines for lines in by_pair.values() if len(lines) > 1]
    shortest = [min(lines, key=lambda line: int(line.split()[2])) for lines in duplicated]
    kept = [line for line in edges if line not in shortest]
    return "\n".join([header, *kept, *shortest]) + "\n"


def test_pmed1_duplicates_give_5819_not_5718() -> None:
    # pmed1 repeats {19,20} (22 then 30) and {30,70} (5 then 74); with the minimum rule
    # the optimum would be 5718 instead of the published 5819.
    text = (DATA / "pmed1.txt").read_text()
    instance = parse_pmed(text, "pmed1")
    assert instance.distances[18, 19] == 30
    assert instance.distances[29, 69] <= 74
    minimum = parse_pmed(minimum_rule_text(text), "pmed1-min")
    assert minimum.distances[18, 19] == 22
    assert minimum.distances[29, 69] == 5
    result = solve_siting(pmedian_siting_input(minimum), EXACT)
    assert result.info.objective == pytest.approx(5718, abs=1e-6)


def test_cap71_costs_are_per_customer() -> None:
    instance = cap("cap71")
    assert (instance.m, instance.n) == (16, 50)
    assert (instance.capacities == 58268).all()
    assert instance.demands.sum() == pytest.approx(58268)
    assert instance.fixed_costs[10] == 0
    assert (np.delete(instance.fixed_costs, 10) == 7500).all()
    assert instance.demands[0] == 146
    assert instance.allocation_costs[0, 0] == pytest.approx(6739.725)
    assert instance.allocation_costs[15, 0] == pytest.approx(6051.7)
    # The siting input enters a_ij / d_j per unit, so that flow · distance = a_ij.
    pairs = cap_siting_input(instance).pairs.set_index(["zone_id", "school_id"])
    assert pairs.loc[("c001", "w001"), "distance_m"] * 146 == pytest.approx(6739.725)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("4 2", r"bad\.txt: unexpected end of file at token 3 \(expected number of medians"),
        ("4 1 x\n1 2 3", r"token 3 \(line 1\) 'x' is not an integer"),
        ("4 1 5\n1 2 3", r"token 3 \(line 1\) '5' is out of range \[1, 4\]"),
        ("3 2 1\n1 2 3\n2 7 1", r"token 8 \(line 3\) '7' is out of range.*second vertex of edge 2"),
        ("3 1 1\n1 2 2.5", r"token 6 \(line 2\) '2.5' is not an integer.*length"),
        ("3 2 1\n1 2 3\n2 3 1\n9", r"extra token 10 \(line 4\) '9'"),
        ("3 1 1\n1 2 3", r"disconnected \(no path from vertex 1 to vertex 3\)"),
        ("3 1 1\n2 2 3", r"edge 1 is a self-loop at vertex 2"),
    ],
)
def test_malformed_pmed_names_file_and_position(text: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        parse_pmed(text, "bad", "bad.txt")


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("2 1\n10 5\ncapacity 5\n1 2 3", r"warehouse 2 has the placeholder 'capacity'"),
        ("1 2\n10 5\n3 4.5\n2", r"unexpected end of file at token 8 \(expected allocation cost"),
        ("1 1\n10 -5\n3 4", r"token 4 \(line 2\) '-5' is not a finite number >= 0"),
        ("1 1\n10 5\n3 nan", r"token 6 \(line 3\) 'nan' is not a finite number >= 0"),
    ],
)
def test_malformed_cap_names_file_and_position(text: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        parse_cap(text, "bad", "bad.txt")


def test_unknown_file_name_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other1.txt"
    path.write_text("1 0 1\n")
    with pytest.raises(ValueError, match=r"other1\.txt: cannot tell the instance type"):
        read_instance(path)


# --------------------------------------------------------------------------- optima


@pytest.mark.parametrize("name", sorted(PMED_OPTIMA))
def test_pmed_published_optimum(name: str) -> None:
    instance = pmed(name)
    data = pmedian_siting_input(instance)
    result = solve_siting(data, EXACT)
    info = result.info
    assert info.status == "optimal"
    assert info.objective == pytest.approx(PMED_OPTIMA[name], abs=1e-6)
    assert info.bound == pytest.approx(PMED_OPTIMA[name], abs=1e-6)
    assert proven_optimal(info)
    # A proper p-median plan: p sites, every vertex wholly at its nearest open site.
    opened = sorted(result.opened["site_id"])
    assert len(opened) == instance.p
    columns = [int(site[1:]) - 1 for site in opened]
    nearest = instance.distances[:, columns].min(axis=1)
    flows = result.assignments
    assert len(flows) == instance.n
    assert (flows["children"] == 1.0).all()
    assert flows["distance_m"].to_numpy() == pytest.approx(nearest)
    assert result.terms["travel_child_m"] == pytest.approx(PMED_OPTIMA[name])
    assert result.terms["unmet_children"] == 0.0


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name
        for name in sorted(PMED_OPTIMA)
    ],
)
def test_pmed_formulations_agree(name: str) -> None:
    instance = pmed(name)
    assignment = solve_siting(pmedian_siting_input(instance, "assignment"), EXACT)
    # The full radius model (every level, no dynamic growth) as well.
    data = pmedian_siting_input(instance, "radius")
    full, _, _ = solve_radius(data, siting._prepare(data), EXACT, solve_pulp)
    for info in (assignment.info, full):
        assert info.status == "optimal"
        assert info.objective == pytest.approx(PMED_OPTIMA[name], abs=1e-6)
        assert proven_optimal(info)


@pytest.mark.parametrize("formulation", ["auto", "assignment", "radius"])
@pytest.mark.parametrize("name", sorted(CAP_OPTIMA))
def test_cap_published_optimum(name: str, formulation: siting.Formulation) -> None:
    result = solve_siting(cap_siting_input(cap(name), formulation), EXACT)
    info = result.info
    assert info.status == "optimal"
    assert info.objective == pytest.approx(CAP_OPTIMA[name], abs=0.01)
    assert proven_optimal(info)
    terms = result.terms
    assert terms["unmet_children"] == pytest.approx(0.0, abs=1e-5)
    total = terms["capital_cost_cny"] + terms["travel_child_m"]
    assert total == pytest.approx(CAP_OPTIMA[name], abs=0.01)


def test_cbc_backend_proves_pmed_and_cap() -> None:
    options = SolverOptions(backend="cbc", mip_gap=0.0, time_limit_s=120.0)
    for instance, optimum in ((pmed("pmed5"), 1355.0), (cap("cap71"), CAP_OPTIMA["cap71"])):
        run = solve_instance(instance, options)
        assert run.info.solver == "cbc"
        assert run.proven_optimal
        assert run.info.objective == pytest.approx(optimum, abs=0.01)


def test_time_limited_run_is_not_proven() -> None:
    # 1 ms is far too short for the MIP; the heuristic plan comes back, unproven.
    run = solve_instance(pmed("pmed3"), SolverOptions(mip_gap=0.0, time_limit_s=0.001))
    assert not run.proven_optimal
    assert run.info.status == "feasible"
    assert run.info.objective is not None
    assert run.info.objective >= PMED_OPTIMA["pmed3"]


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (SolveInfo("optimal", 10.0, 10.0, 0.0, 1.0, "highs", "1", ""), True),
        (SolveInfo("optimal", 5819.0, 5818.9999995, 1e-10, 1.0, "highs", "1", ""), True),
        (SolveInfo("optimal", 1e9, 1e9 - 0.5, 5e-10, 1.0, "highs", "1", ""), True),
        (SolveInfo("optimal", 5819.0, 5818.0, 1.7e-4, 1.0, "highs", "1", ""), False),
        (SolveInfo("feasible", 10.0, 10.0, 0.0, 1.0, "highs", "1", ""), False),
        (SolveInfo("optimal", 10.0, None, None, 1.0, "highs", "1", ""), False),
    ],
)
def test_proven_optimal_needs_status_and_bound(info: SolveInfo, expected: bool) -> None:
    assert proven_optimal(info) is expected


# --------------------------------------------------------------------------- CLI


def test_cli_prints_csv() -> None:
    files = [str(DATA / "pmed1.txt"), str(DATA / "cap71.txt")]
    result = runner.invoke(bench_app, ["orlib", *files])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == ",".join(CSV_HEADER)
    assert re.fullmatch(r"pmed1,5819,5819,true,\d+\.\d{3}", lines[1])
    assert re.fullmatch(r"cap71,932615\.75,932615\.75,true,\d+\.\d{3}", lines[2])
    assert len(lines) == 3


def test_cli_options() -> None:
    args = ["orlib", "--backend", "cbc", "--formulation", "assignment", "--time-limit", "60"]
    result = runner.invoke(bench_app, [*args, str(DATA / "pmed4.txt")])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"pmed4,3034,3034,true,\d+\.\d{3}", result.stdout.splitlines()[1])


def test_cli_malformed_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "pmed99.txt"
    bad.write_text("10 1 3\n1 2 x\n")
    result = runner.invoke(bench_app, ["orlib", str(DATA / "pmed1.txt"), str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: token 6 (line 2) 'x' is not an integer" in result.stderr
    assert "instance," not in result.stdout  # nothing is solved when a file is bad


def test_cli_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(bench_app, ["orlib", str(tmp_path / "cap1.txt")])
    assert result.exit_code == 2
    assert "cap1.txt" in result.stderr


# --------------------------------------------------------------------------- heuristic


def test_heuristic_and_root_lp_prove_pmed1() -> None:
    # On pmed1 the greedy + interchange plan is optimal and the root LP proves it: one LP,
    # no MIP.
    result = solve_siting(pmedian_siting_input(pmed("pmed1")), EXACT)
    assert "heuristic solution proven optimal" in result.info.message
    assert len(result.phases) == 1
    assert result.info.objective == result.info.bound == 5819


def test_interchange_improves_a_bad_start() -> None:
    d = pmed("pmed4").distances.astype(float)
    weight, fixed = np.ones(len(d)), np.zeros(len(d))
    start = list(range(20))  # the first 20 vertices, a poor plan
    polished = pmedian_heuristic(d, weight, fixed, 20, start)
    assert len(set(polished)) == 20
    cost = float(d[:, polished].min(axis=1).sum())
    assert PMED_OPTIMA["pmed4"] <= cost < float(d[:, start].min(axis=1).sum())
    assert pmedian_heuristic(d[:5, :5], np.ones(5), np.zeros(5), 5) == [0, 1, 2, 3, 4]
