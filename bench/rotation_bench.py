"""Rotation benchmark: a Jiangmen-scale synthetic staffing and rotation case.

Run by hand from the repository root::

    .venv/bin/python bench/rotation_bench.py --runs 3 --out bench/results/rotation.md
    .venv/bin/python bench/rotation_bench.py --small          # smoke test, about 10 s
    .venv/bin/python bench/rotation_bench.py --max-load 2.5   # wait for a quieter machine

The case (``allocator.rotation_synth.synth_rotation_input``, fixed seed): 700 schools in
7 counties (Jiangmen has 7 county-level divisions), east and west regions, 5 plan years,
one research body per county with 3 researchers, about 40,000 teachers (the generator's
``pupil_scale`` is calibrated here until the roster is within 0.5 % of the target), county
pairings east -> west. Every rule runs with the shipped ``RotationPolicy`` defaults: D-19
(10 % of eligible teachers rotate, 20 % of rotators backbone), J-10 (no west -> east move),
G-12, J-08 (backbone >= 10 % of each school and county), G-11 (talent locked five years),
J-15 (researchers teach a year after five in post), J-17 / J-18 (pairing arcs, one
exchange each a year), J-27 (sender floor); distance mode within 50 km. One size option
differs from the defaults: ``nearest_receivers=5`` (each sender's 5 nearest receivers;
pairing arcs are always kept). Solved as the product solves it: CP-SAT, one worker, the
independent year models one after the other (``year_workers=1``, the default of
``solve_rotation``), relative gap limit 0.1 % (as the shipped Jiangmen scenario).
``--year-workers 2`` solves two year models at a time; on the 2-vCPU reference machine
that is no faster (two busy threads each run at about half speed there).

Every run is a fresh subprocess (``--child``). Its wall time is ``time.perf_counter()``
around ``solve_rotation`` only: validation, move network, model building, solving and
the named-teacher disaggregation with the staffing and rule tables; generating the case
is not timed. Peak memory is ``ru_maxrss`` of that subprocess (interpreter, imports, the
case and the solve). Phases come from the library's own log records.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from allocator.rotation_input import RotationInput, RotationPolicy  # noqa: E402
from allocator.rotation_synth import synth_rotation_input  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "results" / "rotation.md"
TARGET_S, TARGET_MB, TARGET_GAP = 120.0, 3072.0, 0.01


@dataclass(frozen=True)
class CaseSpec:
    """Size and solver settings of a benchmark case."""

    schools: int = 700
    years: int = 5
    teachers: int = 40_000
    counties: int = 7
    seed: int = 2023
    first_year: int = 2025
    nearest_receivers: int | None = 5
    relative_gap: float = 1e-3
    time_limit_s: float = 600.0
    year_workers: int = 1


SMALL = CaseSpec(schools=60, years=3, teachers=3_000, counties=4)


def make_case(spec: CaseSpec, scale: float) -> RotationInput:
    """The synthetic case for ``spec`` with enrolment multiplied by ``scale``."""
    return synth_rotation_input(
        n_schools=spec.schools, n_years=spec.years, n_counties=spec.counties,
        first_year=spec.first_year, seed=spec.seed, pupil_scale=scale,
        policy=RotationPolicy(nearest_receivers=spec.nearest_receivers))


def calibrate(spec: CaseSpec, rounds: int = 4) -> tuple[float, RotationInput]:
    """Enrolment scale whose roster is within 0.5 % of ``spec.teachers``, and the case."""
    scale = 1.0
    data = make_case(spec, scale)
    for _ in range(rounds):
        assert data.teachers is not None
        found = len(data.teachers)
        if abs(found / spec.teachers - 1) <= 0.005:
            break
        scale *= spec.teachers / found
        data = make_case(spec, scale)
    return scale, data


def build_case(spec: CaseSpec) -> RotationInput:
    """The calibrated case of ``spec`` (what every benchmark run solves)."""
    return calibrate(spec)[1]


def case_counts(data: RotationInput) -> dict[str, int]:
    """Headline sizes of a case: teachers, schools, years and the rule-relevant parts."""
    assert data.teachers is not None and data.pairings is not None
    schools, teachers = data.schools, data.teachers
    research = schools["stage"].eq("research")
    return {
        "teachers": len(teachers),
        "schools": int((~research).sum()),
        "research_bodies": int(research.sum()),
        "years": int(data.enrolment["year"].nunique()),
        "counties": int(schools["county"].nunique()),
        "east_schools": int((~research & schools["region"].eq("east")).sum()),
        "west_schools": int((~research & schools["region"].eq("west")).sum()),
        "pairings": len(data.pairings),
        "backbone": int(teachers["backbone"].sum()),
        "talent": int(teachers["talent_designation_year"].notna().sum()),
        "researchers": int(teachers["researcher"].sum()),
        "pupils_first_year": int(data.enrolment.groupby("year")["pupils"].sum().iloc[0]),
    }


# ----------------------------------------------------------------------------- child


class _PhaseClock(logging.Handler):
    """Remembers when the library logged the end of its phases."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.network: float | None = None
        self.solved: float | None = None
        self.solves: list[float] = []  # CP-SAT wall seconds of each year model

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if text.startswith("rotation network:"):
            self.network = time.perf_counter()
        elif text.startswith("rotation: ") and " s in all" in text:
            self.solved = time.perf_counter()
        elif text.startswith("solved CP-SAT model in "):
            self.solves.append(float(text.split()[4]))


def run_child(spec: CaseSpec, scale: float) -> dict[str, Any]:
    from allocator.rotation import solve_rotation
    from allocator.solvers import CpSatOptions

    data = make_case(spec, scale)
    input_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    clock = _PhaseClock()
    library = logging.getLogger("allocator")
    library.setLevel(logging.INFO)
    library.addHandler(clock)
    options = CpSatOptions(time_limit_s=spec.time_limit_s, relative_gap=spec.relative_gap)
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    start = time.perf_counter()
    result = solve_rotation(data, options=options, year_workers=spec.year_workers)
    end = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    info, rot, rules = result.info, result.rotations, result.rules
    rotation_rows = rot[rot["kind"].eq("rotation")]
    west_east = rotation_rows["from_region"].eq("west") & rotation_rows["to_region"].eq("east")
    violated = rules.loc[rules["violation"] > 0, "rule_id"].value_counts().to_dict()
    j18 = rules[rules["rule_id"].eq("J-18")]
    network_t = clock.network or start
    solved_t = clock.solved or end
    return {
        **case_counts(data),
        "wall_s": end - start,
        "cpu_s": usage.ru_utime + usage.ru_stime - cpu_before,
        "setup_s": network_t - start,
        "model_solve_s": solved_t - network_t,
        "tables_s": end - solved_t,
        "solver_s": info.seconds,
        "year_solver_s": clock.solves,
        "status": info.status,
        "objective": info.objective,
        "bound": info.bound,
        "gap": info.gap,
        "peak_mb": peak_mb,
        "input_mb": input_mb,
        "rotations": int(rotation_rows["count"].sum()),
        "rotation_rows": len(rotation_rows),
        "west_to_east": int(rotation_rows.loc[west_east, "count"].sum()),
        "pairing_exchanges": int(j18["actual"].sum()),
        "pairing_rows": len(j18),
        "rule_rows": len(rules),
        "violations": {str(k): int(v) for k, v in violated.items()},
        "message": info.message,
    }


# ----------------------------------------------------------------------------- parent


def machine() -> dict[str, str]:
    info = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = next(int(ln.split()[1]) for ln in meminfo if ln.startswith("MemTotal"))
    packages = ("ortools", "pandas", "numpy")
    return {
        "cpu": cpu,
        "cores": f"{os.cpu_count()} (usable {len(os.sched_getaffinity(0))})",
        "ram": f"{mem_kb / 2**20:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": ", ".join(f"{p} {metadata.version(p)}" for p in packages),
    }


def wait_for_load(max_load: float | None, max_wait_s: float, step_s: float = 60.0) -> None:
    """Sleep while the 1-minute load is above ``max_load`` (at most ``max_wait_s``)."""
    waited = 0.0
    while max_load is not None and os.getloadavg()[0] > max_load and waited < max_wait_s:
        print(f"  load {os.getloadavg()[0]:.2f} > {max_load}; waiting {step_s:.0f} s",
              flush=True)
        time.sleep(step_s)
        waited += step_s


def run_parent(spec: CaseSpec, scale: float, args: argparse.Namespace) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for k in range(args.runs):
        wait_for_load(args.max_load, args.max_wait)
        before = os.getloadavg()[0]
        loads: list[float] = []
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            child = subprocess.Popen(
                [sys.executable, __file__, "--child", json.dumps(asdict(spec)),
                 "--scale", repr(scale)], stdout=out, stderr=err, text=True, cwd=ROOT)
            while child.poll() is None:  # sample the load while the child runs
                time.sleep(2.0)
                loads.append(os.getloadavg()[0])
            out.seek(0)
            err.seek(0)
            if child.returncode != 0:
                raise SystemExit(f"run {k + 1} failed:\n{err.read()[-3000:]}")
            run = json.loads(out.read().strip().splitlines()[-1])
        run["load_before"], run["load_after"] = before, os.getloadavg()[0]
        run["load_mean"] = statistics.fmean(loads) if loads else before
        run["load_max"] = max(loads, default=before)
        runs.append(run)
        print(f"  run {k + 1}: {run['wall_s']:.1f} s, {run['peak_mb']:.0f} MB, "
              f"{run['status']}, gap {_pct(run['gap'])}, load {before:.2f} before, "
              f"{run['load_mean']:.2f} mean / {run['load_max']:.2f} max during", flush=True)
    return runs


def _pct(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f} %"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    wall = statistics.median(r["wall_s"] for r in runs)
    peak = max(r["peak_mb"] for r in runs)
    gaps = [r["gap"] for r in runs]
    gap = None if any(g is None for g in gaps) else max(gaps)
    return {
        "wall_s": wall,
        "solver_s": statistics.median(r["solver_s"] for r in runs),
        "peak_mb": peak,
        "gap": gap,
        "time_ok": wall < TARGET_S,
        "memory_ok": peak < TARGET_MB,
        "gap_ok": gap is not None and gap < TARGET_GAP,
        "all_optimal": all(r["status"] == "optimal" for r in runs),
    }


def report(spec: CaseSpec, scale: float, runs: list[dict[str, Any]], command: str) -> str:
    first, s, m = runs[0], summary(runs), machine()
    yes = {True: "met", False: "**missed**"}
    lines = [
        "# Rotation benchmark: Jiangmen-scale synthetic case",
        "",
        f"Command: `{command}` (from the repository root). Case and method: see the docstring "
        "of `bench/rotation_bench.py`.",
        "",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, {m['os']}",
        f"- Python {m['python']}; {m['packages']}",
        "- 1-minute load average per run, before / mean during / max during: "
        + "; ".join(f"{r['load_before']:.2f} / {r['load_mean']:.2f} / {r['load_max']:.2f}"
                    for r in runs)
        + f" (sampled every 2 s; the benchmark itself adds about {spec.year_workers}, so "
        f"a mean above about {spec.year_workers + 0.5:.1f} means other jobs shared the "
        "CPUs and the times are pessimistic)",
        f"- case: {first['teachers']:,} teachers ({first['backbone']:,} backbone, "
        f"{first['talent']} designated talents (G-11), "
        f"{first['researchers']} researchers), {first['schools']} schools "
        f"({first['east_schools']} east, {first['west_schools']} west) and "
        f"{first['research_bodies']} research bodies in {first['counties']} counties, "
        f"{first['pairings']} county pairings, {first['years']} plan years from "
        f"{spec.first_year}, {first['pupils_first_year']:,} pupils in the first year "
        f"(generator seed {spec.seed}, pupil_scale {scale:.4f})",
        f"- policy: `RotationPolicy` defaults with `nearest_receivers={spec.nearest_receivers}`;"
        f" CP-SAT, 1 worker per year model, `year_workers={spec.year_workers}`, relative gap "
        f"limit {_pct(spec.relative_gap, 2)}, time limit {spec.time_limit_s:.0f} s",
        f"- runs: {len(runs)}, each in a fresh subprocess",
        "",
        "| run | wall s | CPU s | setup s | model + solve s | tables s | solver s (sum) | status "
        "| objective | bound | gap | peak MB | teachers | schools | years | rotations "
        "| west->east | violations |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for k, r in enumerate(runs, 1):
        violations = ", ".join(f"{a}: {b}" for a, b in sorted(r["violations"].items()))
        lines.append(
            f"| {k} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['setup_s']:.1f} | "
            f"{r['model_solve_s']:.1f} | "
            f"{r['tables_s']:.1f} | {r['solver_s']:.1f} | {r['status']} | "
            f"{_num(r['objective'])} | {_num(r['bound'])} | {_pct(r['gap'])} | "
            f"{r['peak_mb']:.0f} | {r['teachers']:,} | {r['schools']} | {r['years']} | "
            f"{r['rotations']:,} | {r['west_to_east']} | {violations or 'none'} |")
    lines.append(
        f"| **median** | **{s['wall_s']:.1f}** | "
        f"{statistics.median(r['cpu_s'] for r in runs):.1f} | "
        f"{statistics.median(r['setup_s'] for r in runs):.1f} | "
        f"{statistics.median(r['model_solve_s'] for r in runs):.1f} | "
        f"{statistics.median(r['tables_s'] for r in runs):.1f} | {s['solver_s']:.1f} | | | | "
        f"max {_pct(s['gap'])} | max **{s['peak_mb']:.0f}** | | | | | | |")
    lines += [
        "",
        f"Targets (issue #5): wall time under {TARGET_S:.0f} s: {yes[s['time_ok']]} "
        f"(median {s['wall_s']:.1f} s); peak memory under {TARGET_MB:.0f} MB: "
        f"{yes[s['memory_ok']]} (max {s['peak_mb']:.0f} MB); gap under "
        f"{_pct(TARGET_GAP, 0)}: {yes[s['gap_ok']]} (max {_pct(s['gap'])}); every run "
        f"{'proved its gap limit (status optimal)' if s['all_optimal'] else 'NOT optimal'}.",
        "",
        "Columns: *wall* is `solve_rotation` from call to return; *CPU* the child's user + "
        "system CPU seconds over the same call (all threads); *setup* validation and the "
        "move network; *model + solve* building the year models and solving them (with "
        "`year_workers` > 1 the builds overlap the solves of earlier years); *tables* the "
        "named-teacher disaggregation, "
        "staffing, CV and rule tables; *solver s (sum)* CP-SAT's own wall time summed over "
        "the year models (with `year_workers` > 1 they overlap, so the sum can exceed the "
        "wall time); "
        "*gap* (objective - bound) / objective over the whole plan (objectives and bounds "
        "of the independent year models add up); *peak MB* `ru_maxrss` of the child "
        f"(about {statistics.median(r['input_mb'] for r in runs):.0f} MB of it is the "
        "interpreter, imports and the case before the call); *rotations* teacher-years "
        "rotated (kind `rotation`); *west->east* rotations against J-10 (must be 0); "
        "*violations* rule-report rows with a violation, by rule (J-08 rows there would "
        "be input facts no move can change, reported not modelled).",
        "",
        f"Pairing exchanges (J-18): {first['pairing_exchanges']:,} over "
        f"{first['pairing_rows']} pairing-year rows in run 1. Year models: "
        f"{first['message']}.",
        "",
        "CP-SAT wall seconds per year model (in order of completion): "
        + "; ".join(f"run {k}: " + ", ".join(f"{x:.1f}" for x in r["year_solver_s"])
                    for k, r in enumerate(runs, 1)) + ".",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None,
                        help=f"markdown results (default {DEFAULT_OUT.relative_to(ROOT)}; "
                             "with --small: not written unless given)")
    parser.add_argument("--small", action="store_true", help="60 schools, 3 years, 3,000 "
                        "teachers, 4 counties: a smoke test")
    parser.add_argument("--teachers", type=int, help="target roster size")
    parser.add_argument("--schools", type=int)
    parser.add_argument("--years", type=int)
    parser.add_argument("--year-workers", type=int)
    parser.add_argument("--seed", type=int, help="generator seed")
    parser.add_argument("--nearest-receivers", type=int)
    parser.add_argument("--max-load", type=float, default=None,
                        help="before each run, wait while the 1-minute load is above this")
    parser.add_argument("--max-wait", type=float, default=900.0,
                        help="longest wait for --max-load per run (s)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(CaseSpec(**json.loads(args.child)), args.scale)))
        return
    spec = SMALL if args.small else CaseSpec()
    changes = {k: v for k, v in (("teachers", args.teachers), ("schools", args.schools),
                                 ("years", args.years), ("year_workers", args.year_workers),
                                 ("seed", args.seed),
                                 ("nearest_receivers", args.nearest_receivers))
               if v is not None}
    spec = CaseSpec(**{**asdict(spec), **changes})
    start = time.perf_counter()
    scale, data = calibrate(spec)
    counts = case_counts(data)
    print(f"case: {counts['teachers']:,} teachers, {counts['schools']} schools, "
          f"{counts['years']} years (pupil_scale {scale:.4f}, built in "
          f"{time.perf_counter() - start:.1f} s)", flush=True)
    runs = run_parent(spec, scale, args)
    command = " ".join([".venv/bin/python", "bench/rotation_bench.py", *sys.argv[1:]])
    text = report(spec, scale, runs, command)
    out = args.out if args.out is not None or args.small else DEFAULT_OUT
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    s = summary(runs)
    verdict = "all targets met" if s["time_ok"] and s["memory_ok"] and s["gap_ok"] else (
        "targets missed: " + ", ".join(name for name, ok in (
            ("time", s["time_ok"]), ("memory", s["memory_ok"]), ("gap", s["gap_ok"]))
            if not ok))
    print(f"rotation bench: {counts['teachers']:,} teachers, {counts['schools']} schools, "
          f"{counts['years']} years: median {s['wall_s']:.1f} s, peak {s['peak_mb']:.0f} MB, "
          f"max gap {_pct(s['gap'])} over {len(runs)} runs; {verdict} (< {TARGET_S:.0f} s, "
          f"< {TARGET_MB:.0f} MB, gap < {_pct(TARGET_GAP, 0)})"
          + (f"; wrote {out}" if out is not None else ""))


if __name__ == "__main__":
    main()
