"""Solve an OR-Tools CP-SAT model and report what the solver proved.

:func:`solve_cpsat` runs ``cp_model.CpSolver`` on a ``cp_model.CpModel`` and returns the
same :class:`~allocator.solvers.base.SolveInfo` as the PuLP adapter, plus the solver (to
read variable values). It never raises because a run is not optimal.

Status mapping (CP-SAT -> :data:`~allocator.solvers.base.SolveStatus`):

=================  =============  ===================================================
CP-SAT             status         meaning
=================  =============  ===================================================
``OPTIMAL``        ``optimal``    proven optimal within ``relative_gap`` (or a model
                                  without objective: a solution was found)
``FEASIBLE``       ``feasible``   a solution, stopped by a limit before the proof
``INFEASIBLE``     ``infeasible`` proven infeasible
``MODEL_INVALID``  ``error``      the model is malformed (message: the validation text)
``UNKNOWN``        ``no_solution`` stopped by a limit without any solution
=================  =============  ===================================================

Determinism. CP-SAT's own parameter file promises nothing about reproducibility; what
holds, from the solver's code paths (see the module notes of the project):

* ``num_workers=1`` (the default here) runs one sequential search; with the same model
  (built in the same variable and constraint order), the same parameters and seed it takes
  the same path. A run that ends with a proof (``optimal`` / ``infeasible``) before any
  wall-clock limit returns the same solution; a run cut by ``time_limit_s`` returns
  whatever it had reached on that machine under that load.
* ``deterministic_time_limit`` is a work limit (CP-SAT's "deterministic seconds", an
  operation count): use it instead of ``time_limit_s`` when a limited run must repeat.
* ``num_workers > 1`` is reproducible only with ``interleave_search=True`` (CP-SAT's
  deterministic batch loop, marked experimental upstream) and a deterministic limit; the
  default parallel portfolio is not deterministic.
* Nothing is documented about identical results across machines or OR-Tools builds.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from importlib.metadata import version

from ortools.sat.python import cp_model

from allocator.solvers.base import SolveInfo, SolverOptions, SolveStatus, relative_gap

__all__ = ["CpSatOptions", "solve_cpsat"]

logger = logging.getLogger(__name__)

_STATUS: dict[int, SolveStatus] = {
    int(cp_model.OPTIMAL): "optimal",
    int(cp_model.FEASIBLE): "feasible",
    int(cp_model.INFEASIBLE): "infeasible",
    int(cp_model.MODEL_INVALID): "error",
    int(cp_model.UNKNOWN): "no_solution",
}


@dataclass(frozen=True)
class CpSatOptions:
    """Options of a CP-SAT run.

    Attributes
    ----------
    time_limit_s
        Wall-clock limit in seconds, or ``None``. A run stopped by it depends on machine
        speed and load.
    relative_gap
        Relative gap limit (dimensionless): CP-SAT stops and reports ``OPTIMAL`` once
        ``|objective - bound| / max(1, |objective|)`` is at most this value.
    num_workers
        Search workers (threads). 1 (default) is sequential and reproducible; more workers
        are reproducible only with ``interleave_search``.
    seed
        Random seed (integer >= 0).
    interleave_search
        Use CP-SAT's deterministic batch loop for ``num_workers > 1`` (experimental
        upstream; costs some speed).
    deterministic_time_limit
        Work limit in CP-SAT deterministic seconds, or ``None``; reproducible on one build
        and machine, unlike ``time_limit_s``.
    linearization_level
        CP-SAT's ``linearization_level`` (0, 1 or 2), or ``None`` for CP-SAT's default (1).
        Level 2 adds the linear relaxation of enforced constraints and cuts; flow-like
        models with cover rows (as the rotation model) solve much faster with it.
    log
        Send the CP-SAT search log to this module's logger at INFO level.
    """

    time_limit_s: float | None = 60.0
    relative_gap: float = 1e-4
    num_workers: int = 1
    seed: int = 0
    interleave_search: bool = False
    deterministic_time_limit: float | None = None
    linearization_level: int | None = None
    log: bool = False

    def __post_init__(self) -> None:
        """Reject option values CP-SAT does not accept."""
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s must be > 0 or None, got {self.time_limit_s}")
        if not 0 <= self.relative_gap < 1:
            raise ValueError(f"relative_gap must be in [0, 1), got {self.relative_gap}")
        if self.num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {self.num_workers}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        limit = self.deterministic_time_limit
        if limit is not None and not limit > 0:
            raise ValueError(f"deterministic_time_limit must be > 0 or None, got {limit}")
        if self.linearization_level not in (None, 0, 1, 2):
            raise ValueError(
                f"linearization_level must be 0, 1, 2 or None, got {self.linearization_level}")

    @classmethod
    def from_solver_options(cls, options: SolverOptions) -> CpSatOptions:
        """Map the shared PuLP options: time limit, ``mip_gap``, threads, seed and ``msg``.

        ``node_limit`` has no CP-SAT counterpart and is ignored (logged at WARNING).
        """
        if options.node_limit is not None:
            logger.warning("node_limit=%d has no CP-SAT counterpart; ignored", options.node_limit)
        return cls(
            time_limit_s=options.time_limit_s,
            relative_gap=options.mip_gap,
            num_workers=options.threads,
            seed=options.seed,
            log=options.msg,
        )


def _configure(solver: cp_model.CpSolver, options: CpSatOptions) -> None:
    """Copy ``options`` into the solver's parameters."""
    params = solver.parameters
    params.num_workers = options.num_workers
    params.random_seed = options.seed
    params.relative_gap_limit = options.relative_gap
    params.interleave_search = options.interleave_search
    if options.time_limit_s is not None:
        params.max_time_in_seconds = options.time_limit_s
    if options.deterministic_time_limit is not None:
        params.max_deterministic_time = options.deterministic_time_limit
    if options.linearization_level is not None:
        params.linearization_level = options.linearization_level
    params.log_to_stdout = False
    if options.log:
        params.log_search_progress = True
        solver.log_callback = lambda line: logger.info("cp-sat: %s", line)


def _fmt(value: float | None) -> str:
    """Short number for messages."""
    return "n/a" if value is None else f"{value:.10g}"


def solve_cpsat(
    model: cp_model.CpModel,
    options: CpSatOptions,
    *,
    objective_scale: float = 1.0,
) -> tuple[SolveInfo, cp_model.CpSolver]:
    """Solve ``model`` and report status, objective, bound, gap and time.

    Parameters
    ----------
    model
        CP-SAT model (minimisation or maximisation, or no objective).
    options
        Limits, gap, workers, seed.
    objective_scale
        Model objective units per reported unit: objective and bound are divided by it
        (a model with integer coefficients scaled by 100 reports in the original units).

    Returns
    -------
    tuple of SolveInfo and cp_model.CpSolver
        The report (objective and bound in reported units, ``None`` where CP-SAT proved
        none) and the solver, whose ``value`` method reads the solution when
        ``info.has_solution``.
    """
    if not objective_scale > 0:
        raise ValueError(f"objective_scale must be > 0, got {objective_scale}")
    solver = cp_model.CpSolver()
    _configure(solver, options)
    code = solver.solve(model)
    status = _STATUS.get(int(code), "error")
    has_objective = model.has_objective()
    objective: float | None = None
    bound: float | None = None
    if status in ("optimal", "feasible"):
        objective = float(solver.objective_value) / objective_scale if has_objective else 0.0
    if status in ("optimal", "feasible", "no_solution") and has_objective:
        raw = float(solver.best_objective_bound)
        bound = raw / objective_scale if math.isfinite(raw) else None
    elif status == "optimal":
        bound = 0.0
    verdict = f"CP-SAT: {solver.status_name(code)}"
    if status == "error":
        verdict += f" ({model.validate() or 'no validation message'})"
    gap = relative_gap(objective, bound)
    gap_text = "n/a" if gap is None else f"{gap:.4%}"
    info = SolveInfo(
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=float(solver.wall_time),
        solver="cp-sat",
        solver_version=version("ortools"),
        message=f"{verdict}; objective {_fmt(objective)}, bound {_fmt(bound)}, gap {gap_text}",
    )
    logger.info("solved CP-SAT model in %.2f s: %s", info.seconds, info.message)
    return info, solver
