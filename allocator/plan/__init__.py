"""Multi-period, multi-stage school siting (see :mod:`allocator.plan.data` for the contract)."""

from allocator.plan.data import (
    CountTarget,
    PlanInput,
    PlanResult,
    PlanRules,
    PlanWeights,
    SeatTarget,
    Sense,
)

__all__ = [
    "CountTarget",
    "PlanInput",
    "PlanResult",
    "PlanRules",
    "PlanWeights",
    "SeatTarget",
    "Sense",
]
