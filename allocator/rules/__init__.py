"""Rule registry: every policy constraint is code registered with its catalogue ID.

The catalogue (``catalogue.csv`` beside this file, built from the project's policy-rule
reference by ``tools/build_rule_catalogue.py``) holds every rule found in the five seed
documents with its document, clause and Chinese quote. Code that implements a rule is
registered with :func:`rule`, which checks the ID against the catalogue::

    @rule("D-07", kind=Kind.HARD, family="sites", params=("standards.travel_limits_m",))
    def travel_pairs(...):
        '''Pairs within each stage's travel limit: distance[z, s] <= limit[stage, setting].'''

The registry then answers which rules are implemented, by what, with which parameters,
and which catalogue rules are not modelled.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import TypeVar

__all__ = ["CatalogueEntry", "Kind", "Rule", "catalogue", "registered", "rule"]

F = TypeVar("F", bound=Callable[..., object])


class Kind(StrEnum):
    """How a rule enters the plan (the catalogue's vocabulary)."""

    HARD = "HARD"
    SOFT = "SOFT"
    TARGET = "TARGET"
    PARAM = "PARAM"
    FILTER = "FILTER"
    AUDIT = "AUDIT"
    STRUCT = "STRUCT"


@dataclass(frozen=True)
class CatalogueEntry:
    """One rule of the seed documents, as catalogued."""

    rule_id: str
    seed: str
    document: str
    clause: str
    quote: str
    paraphrase: str
    catalogue_kind: str
    model_use: str

    @property
    def source(self) -> str:
        """Seed file number, document and clause, e.g. ``001 大政办发〔2023〕11号 … §三(三)1``."""
        return f"{self.seed} {self.document} §{self.clause}"


@dataclass(frozen=True)
class Rule:
    """A catalogue rule and the code that implements it.

    Parameters
    ----------
    entry
        The catalogue entry (document, clause, quote).
    kind
        How this project implements it (may be stricter than the catalogue's suggestion,
        e.g. 原则上 rules are hard with listed exceptions).
    family
        Constraint family: seats, sites, budget, staffing or flows.
    params
        Scenario keys the rule reads.
    implementation
        Qualified name of the function that implements it.
    formula
        The function's docstring: the formula in words and symbols.
    """

    entry: CatalogueEntry
    kind: Kind
    family: str
    params: tuple[str, ...]
    implementation: str
    formula: str

    @property
    def rule_id(self) -> str:
        """Catalogue ID, e.g. ``D-13``."""
        return self.entry.rule_id


_REGISTRY: dict[str, list[Rule]] = {}


@cache
def catalogue() -> dict[str, CatalogueEntry]:
    """Every catalogued rule by ID, in catalogue order."""
    text = files("allocator.rules").joinpath("catalogue.csv").read_text(encoding="utf-8")
    return {row["rule_id"]: CatalogueEntry(**row) for row in csv.DictReader(text.splitlines())}


def rule(rule_id: str, *, kind: Kind, family: str,
         params: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Register the decorated function as (part of) the implementation of ``rule_id``.

    Raises
    ------
    KeyError
        If ``rule_id`` is not in the catalogue.
    """
    entry = catalogue().get(rule_id)
    if entry is None:
        raise KeyError(f"{rule_id} is not in the rule catalogue")

    def register(function: F) -> F:
        name = f"{function.__module__}.{getattr(function, '__qualname__', repr(function))}"
        doc = " ".join((function.__doc__ or "").split())
        implementations = _REGISTRY.setdefault(rule_id, [])
        if all(r.implementation != name for r in implementations):
            implementations.append(Rule(entry, kind, family, params, name, doc))
        return function

    return register


def registered() -> list[Rule]:
    """Every registered implementation, in catalogue order."""
    order = list(catalogue())
    return [r for rule_id in sorted(_REGISTRY, key=order.index) for r in _REGISTRY[rule_id]]
