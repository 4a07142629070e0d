"""``allocator bench``: solve published benchmark instances and print one CSV line each.

``allocator bench orlib FILE...`` reads OR-Library ``pmed*`` (p-median) and ``cap*``
(capacitated warehouse location) files, solves each through the siting model
(:mod:`allocator.orlib`) and prints ``instance,objective,bound,proven_optimal,seconds``.
With ``--model plan`` the instances go through the multi-period model that
``allocator run`` plans with (:mod:`allocator.orlib_plan`, :func:`allocator.plan.solve_plan`)
instead, as one-period plan inputs; the CSV is the same.
Every file is read (and, with ``--model plan``, mapped onto a plan input) before anything
is solved; a malformed file stops the command with exit code 2 and a message naming the
file and the token position.

:func:`solve_instance` solves and times one instance (also used by ``bench/orlib.py``);
:func:`proven_optimal` is the proof test behind the CSV's ``proven_optimal``.
"""

from __future__ import annotations

import csv
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import typer

from allocator.errors import ExitCode
from allocator.orlib import (
    CapInstance,
    PMedianInstance,
    cap_siting_input,
    instance_name,
    pmedian_siting_input,
    read_cap,
    read_pmed,
)
from allocator.orlib_plan import orlib_plan_input
from allocator.plan import solve_plan
from allocator.siting import Formulation, solve_siting
from allocator.solvers import Backend, SolveInfo, SolverOptions

__all__ = [
    "CSV_HEADER",
    "Model",
    "OrlibRun",
    "bench_app",
    "csv_row",
    "proven_optimal",
    "read_instance",
    "solve_instance",
]

logger = logging.getLogger(__name__)

CSV_HEADER = ("instance", "objective", "bound", "proven_optimal", "seconds")

Model = Literal["siting", "plan"]
"""Code path of a benchmark run: the single-period siting model (:mod:`allocator.siting`)
or the multi-period plan model of ``allocator run`` (:mod:`allocator.plan`)."""


@dataclass(frozen=True)
class OrlibRun:
    """Outcome of one instance solved through the siting or the plan model.

    Attributes
    ----------
    instance
        Instance name.
    kind
        ``"pmed"`` or ``"cap"``.
    clients
        Vertices (pmed) or customers (cap).
    sites
        Candidate sites (pmed: the vertices; cap: the warehouses).
    p
        Medians to open (pmed), ``None`` for cap.
    info
        The run's report; objective and bound in the file's units (pmed: length,
        cap: cost).
    proven_optimal
        See :func:`proven_optimal`.
    seconds
        Wall-clock time of building the model's input and solving it (s).
    model
        Code path that solved it (:data:`Model`).
    """

    instance: str
    kind: str
    clients: int
    sites: int
    p: int | None
    info: SolveInfo
    proven_optimal: bool
    seconds: float
    model: Model = "siting"


PROVEN_GAP = 1e-9  # relative gap that counts as a proof of optimality
PROVEN_ABS = 1e-6  # ... or absolute difference of objective and bound (objective units)


def proven_optimal(info: SolveInfo) -> bool:
    """Whether a report proves optimality.

    Parameters
    ----------
    info
        A solver report (its status and bound come from the solver, not from PuLP).

    Returns
    -------
    bool
        Status ``optimal`` with an objective and a bound within ``1e-9`` relative or
        ``1e-6`` absolute.
    """
    if info.status != "optimal" or info.objective is None or info.bound is None:
        return False
    difference = abs(info.objective - info.bound)
    return difference <= PROVEN_ABS or difference <= PROVEN_GAP * max(abs(info.objective), 1e-9)


def read_instance(path: str | Path) -> PMedianInstance | CapInstance:
    """Read a ``pmed*`` or ``cap*`` file, told apart by the start of its name.

    Parameters
    ----------
    path
        File path.

    Returns
    -------
    PMedianInstance or CapInstance
        The instance.

    Raises
    ------
    ValueError
        If the name starts with neither ``pmed`` nor ``cap``, or the file is malformed.
    OSError
        If the file cannot be read.
    """
    name = instance_name(path).lower()
    if name.startswith("pmed"):
        return read_pmed(path)
    if name.startswith("cap"):
        return read_cap(path)
    raise ValueError(
        f"{path}: cannot tell the instance type; the file name must start with 'pmed' "
        "(p-median) or 'cap' (capacitated warehouse location)"
    )


def solve_instance(
    instance: PMedianInstance | CapInstance,
    options: SolverOptions,
    formulation: Formulation = "auto",
    model: Model = "siting",
) -> OrlibRun:
    """Solve an instance through the siting (or plan) model and time it.

    Parameters
    ----------
    instance
        A p-median or warehouse-location instance.
    options
        Solver options (use ``mip_gap=0`` to prove optimality).
    formulation
        Siting formulation (see :class:`allocator.siting.SitingInput`); the plan model has
        one formulation and ignores it.
    model
        ``siting`` (:mod:`allocator.orlib` inputs, :func:`allocator.siting.solve_siting`)
        or ``plan`` (:mod:`allocator.orlib_plan` inputs, :func:`allocator.plan.solve_plan`).

    Returns
    -------
    OrlibRun
        The report, the proof verdict and the wall-clock time (s).

    Raises
    ------
    ValueError
        With ``model="plan"``, a warehouse capacity that is not a whole number
        (:func:`allocator.orlib_plan.cap_plan_input`).
    """
    start = time.perf_counter()
    if model == "plan":
        info = solve_plan(orlib_plan_input(instance), options).info
    elif isinstance(instance, PMedianInstance):
        info = solve_siting(pmedian_siting_input(instance, formulation), options).info
    else:
        info = solve_siting(cap_siting_input(instance, formulation), options).info
    seconds = time.perf_counter() - start
    if isinstance(instance, PMedianInstance):
        kind, clients, sites, p = "pmed", instance.n, instance.n, instance.p
    else:
        kind, clients, sites, p = "cap", instance.n, instance.m, None
    return OrlibRun(
        instance=instance.name,
        kind=kind,
        clients=clients,
        sites=sites,
        p=p,
        info=info,
        proven_optimal=proven_optimal(info),
        seconds=seconds,
        model=model,
    )


# --------------------------------------------------------------------------- CLI


bench_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Solve published benchmark instances with the siting model.",
)


@bench_app.callback()
def _bench() -> None:
    """Solve published benchmark instances with the siting model."""


def _number(value: float | None) -> str:
    """A number for the CSV: up to 12 significant digits, empty if missing."""
    return "" if value is None else f"{value:.12g}"


def csv_row(run: OrlibRun) -> list[str]:
    """CSV fields of one run, in :data:`CSV_HEADER` order.

    Parameters
    ----------
    run
        A solved instance.

    Returns
    -------
    list of str
        Instance name, objective and bound (12 significant digits, empty if missing),
        ``true``/``false``, seconds (3 decimals).
    """
    return [
        run.instance,
        _number(run.info.objective),
        _number(run.info.bound),
        "true" if run.proven_optimal else "false",
        f"{run.seconds:.3f}",
    ]


@bench_app.command("orlib")
def orlib(
    files: Annotated[
        list[Path],
        typer.Argument(help="OR-Library files named pmed* or cap*.", show_default=False),
    ],
    backend: Annotated[Backend, typer.Option(help="MIP solver.")] = "highs",
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", help="Seconds per instance (default: none).", min=0.001),
    ] = None,
    formulation: Annotated[
        Formulation,
        typer.Option(help="Siting formulation; auto = radius for the p-median."),
    ] = "auto",
    model: Annotated[
        Model,
        typer.Option(help="Code path: siting (single-period model) or plan (the "
                     "multi-period model of 'allocator run', one period)."),
    ] = "siting",
) -> None:
    """Solve OR-Library instances; print instance,objective,bound,proven_optimal,seconds."""
    instances: list[PMedianInstance | CapInstance] = []
    errors: list[str] = []
    for path in files:
        try:
            instance = read_instance(path)
            if model == "plan":
                orlib_plan_input(instance)  # fails here on what the plan model cannot state
            instances.append(instance)
        except (OSError, ValueError) as exc:
            errors.append(str(exc))
    if model == "plan" and formulation != "auto":
        errors.append(f"--formulation {formulation} applies to --model siting only; the plan "
                      "model has one formulation")
    if errors:
        for message in errors:
            typer.echo(f"error: {message}", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT)
    options = SolverOptions(backend=backend, time_limit_s=time_limit, mip_gap=0.0)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    failed = False
    for instance in instances:
        run = solve_instance(instance, options, formulation, model)
        logger.info("%s: %s", run.instance, run.info.message)
        writer.writerow(csv_row(run))
        sys.stdout.flush()
        failed = failed or not run.info.has_solution
    if failed:
        raise typer.Exit(ExitCode.SOLVER_FAILURE)
