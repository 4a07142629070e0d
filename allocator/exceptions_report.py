"""The ``exceptions`` table: every listed exception and where a run used it.

A scenario lists exceptions to 原则上 (in principle) rules under ``rules:`` (who, where,
why, years; :mod:`allocator.rules.config`) and, for the rotation bans and the talent lock,
under ``rotation.exceptions``. :func:`exceptions_table` gives one row per listed exception
with ``used_in`` saying what became of it:

* J-20 (siting): ``siting: C2 opened in 2025 as private (18 primary classes)``, or not
  used (the site did not open), or recorded only (``who`` names no candidate site with a
  private option, or the model cannot take J-20 exceptions);
* J-10, G-12 (``rules:``) and every ``rotation.exceptions`` entry: ``rotation: 2 moves``
  from the rotation model's own count of the moves each exception allowed;
* any other rule: recorded only (no model reads it; the audit lifts the findings it
  covers);
* a rule switched off: not used.

Columns: ``rule_id, who, where, why, years`` (``;``-separated plan years, empty: every
year) and ``used_in``.
"""

from __future__ import annotations

import pandas as pd

from allocator.plan.data import PlanResult
from allocator.rotation_pipeline import RotationOutcome
from allocator.rules import catalogue
from allocator.rules.config import HONOURED_EXCEPTIONS, RuleException, switched_off
from allocator.scenario import ResolvedScenario

__all__ = ["EXCEPTION_COLUMNS", "exceptions_table"]

EXCEPTION_COLUMNS = ["rule_id", "who", "where", "why", "years", "used_in"]


def _years(years: tuple[int, ...] | list[int]) -> str:
    return ";".join(str(y) for y in years)


def _moves(count: int) -> str:
    return f"rotation: {count} move{'' if count == 1 else 's'}" if count else (
        "rotation: not used (0 moves)")


def _siting_use(who: str, years: tuple[int, ...], private: set[str],
                plan_result: PlanResult | None) -> str:
    """What became of a J-20 exception in the siting plan."""
    if who not in private:
        return "recorded only: names no candidate site with a private option"
    if plan_result is None or not plan_result.info.has_solution:
        status = "no siting run" if plan_result is None else plan_result.info.status
        return f"siting: not used (no plan: {status})"
    opened = plan_result.opened
    mine = opened[(opened["site_id"].astype(str) == who) & (opened["ownership"] == "private")]
    if years:
        mine = mine[mine["year"].astype(int).isin(years)]
    if mine.empty:
        return f"siting: not used ({who} not opened as private)"
    year = int(mine["year"].iloc[0])
    classes = ", ".join(f"{int(n)} {g}" for g, n in zip(mine["stage"], mine["classes"],
                                                        strict=True))
    return f"siting: {who} opened in {year} as private ({classes} classes)"


def _rotation_moves(outcome: RotationOutcome, first: int, rule_id: str,
                    item: RuleException, taken: set[int]) -> int | None:
    """Moves of the model exception built from a ``rules:`` entry (``None``: not found)."""
    frame = outcome.result.exceptions
    for k, row in zip(frame["exception"], frame.to_dict(orient="records"), strict=True):
        if int(k) < first or int(k) in taken:
            continue
        who = {str(row["teacher_id"]), str(row["from_school"])}
        if (str(row["rules"]) == rule_id and str(row["reason"]) == item.why
                and item.who.strip() in who):
            taken.add(int(k))
            return int(row["moves"])
    return None


def _private_sites(resolved: ResolvedScenario) -> set[str]:
    """Candidate sites with a private option, read from the scenario's candidates layer."""
    from allocator.candidates import site_options
    from allocator.inputs import load_inputs

    inputs = load_inputs(resolved)
    options = site_options(resolved.config, inputs.candidates, pd.DataFrame({"site_id": []}))
    return set(options.loc[options["ownership"] == "private", "site_id"].astype(str))


def exceptions_table(resolved: ResolvedScenario, plan_result: PlanResult | None,
                     rotation_outcome: RotationOutcome | None, *,
                     private: set[str] | None = None) -> pd.DataFrame:
    """One row per listed exception and what became of it (see the module docstring).

    Parameters
    ----------
    resolved
        The scenario run (its ``rules:`` and ``rotation.exceptions``).
    plan_result
        The siting result (J-20 exceptions are looked up in ``opened``), or ``None``.
    rotation_outcome
        The rotation step's outcome (moves per exception), or ``None``.
    private
        Candidate sites with a private option; read from the scenario's candidates when
        not given and a J-20 exception needs it.

    Returns
    -------
    pandas.DataFrame
        ``rule_id, who, where, why, years, used_in``: ``rules:`` exceptions in catalogue
        order of their rules, then ``rotation.exceptions`` in file order.
    """
    config = resolved.config
    section = config.rotation
    first = len(section.exceptions) if section is not None else 0
    taken: set[int] = set()
    rows = []
    order = list(catalogue())
    for rule_id in sorted(config.rules.root, key=order.index):
        for item in config.rules.root[rule_id].exceptions:
            who = item.who.strip()
            if switched_off(config, rule_id):
                used = "not used: the rule is switched off"
            elif rule_id == "J-20":
                if private is None:
                    private = _private_sites(resolved)
                used = _siting_use(who, item.years, private, plan_result)
            elif rule_id in HONOURED_EXCEPTIONS:
                if rotation_outcome is None:
                    used = "recorded only: the scenario plans no rotation"
                else:
                    moves = _rotation_moves(rotation_outcome, first, rule_id, item, taken)
                    used = ("recorded only: not passed to the rotation model" if moves is None
                            else _moves(moves))
            else:
                used = (f"recorded only: no model reads exceptions to {rule_id}; the audit "
                        "lifts the findings it covers")
            rows.append([rule_id, who, item.where, item.why, _years(item.years), used])
    if section is not None:
        moves_of: dict[int, int] = {}
        if rotation_outcome is not None:
            frame = rotation_outcome.result.exceptions
            moves_of = {int(k): int(n) for k, n in zip(frame["exception"], frame["moves"],
                                                       strict=True)}
        for k, entry in enumerate(section.exceptions):
            used = (_moves(moves_of[k]) if k in moves_of
                    else "recorded only: the rotation model did not run")
            rows.append([",".join(entry.rules), entry.who or entry.from_school or "",
                         entry.to_school or "", entry.why, _years(entry.years),
                         f"{used} (rotation.exceptions[{k}])"])
    return pd.DataFrame(rows, columns=EXCEPTION_COLUMNS)
