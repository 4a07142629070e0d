"""Hand-checkable fixtures of the multi-period siting model (allocator.plan).

The base fixture, two periods (2025, 2030) and two stages (primary P, junior J)::

    zone  P 2025  P 2030  J 2025  J 2030
    Z1      460     460     200     220
    Z2      200     280     150     160
    Z3       30      30       -       -      (no pair: out of reach, always unmet)

    existing  E1 primary 10 classes (450 seats), max 14 classes, modules of 2 classes
              at 8 M CNY each (so at most 2 modules); E2 junior 6 classes (300 seats),
              no expansion. Both public.
    sites     C1 option "9y": primary 6 + junior 6 classes, 60 M CNY (nine-year)
                 option "P12": primary 12 classes, 45 M CNY
              C2 option "P6": primary 6 classes, 25 M CNY
    caps      primary 45, junior 50 in both years
    pairs (m) P: Z1-E1 1000, Z1-C1 1500, Z2-E1 2000, Z2-C1 1200, Z2-C2 800
              J: Z1-E2 1500, Z1-C1 2000, Z2-E2 2500, Z2-C1 1000

Default weights: cost 1e-6 per CNY (1 unit = 1 M CNY), travel 1e-5 per child·m
(1 unit = 100,000 child·m); lexicographic mode.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from allocator.plan import PlanInput, PlanRules, PlanWeights

P, J = "primary", "junior"
YEARS = (2025, 2030)
M = 1e6


def frame(rows: list[tuple[Any, ...]], columns: str) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns.split())


def base_demand(migrant: dict[tuple[str, str, int], float] | None = None) -> pd.DataFrame:
    rows = [
        ("Z1", P, 2025, 460.0), ("Z1", P, 2030, 460.0), ("Z2", P, 2025, 200.0),
        ("Z2", P, 2030, 280.0), ("Z3", P, 2025, 30.0), ("Z3", P, 2030, 30.0),
        ("Z1", J, 2025, 200.0), ("Z1", J, 2030, 220.0), ("Z2", J, 2025, 150.0),
        ("Z2", J, 2030, 160.0),
    ]
    mig = migrant or {}
    return frame([(*r, mig.get((r[0], r[1], r[2]), 0.0)) for r in rows],
                 "zone_id stage year children migrant")


def base_caps(primary_2030: float = 45.0) -> pd.DataFrame:
    return frame([(P, 2025, 45.0), (P, 2030, primary_2030), (J, 2025, 50.0), (J, 2030, 50.0)],
                 "stage year cap")


def base_existing(e1_max: float = 14.0) -> pd.DataFrame:
    nan = float("nan")
    return frame(
        [("E1", P, 10, e1_max, 2, 8 * M, "public", False),
         ("E2", J, 6, nan, nan, nan, "public", False)],
        "school_id stage classes max_classes module_classes module_cost_cny ownership closable",
    )


def base_options() -> pd.DataFrame:
    return frame(
        [("C1", "9y", P, 6, 60 * M, "public"), ("C1", "9y", J, 6, 60 * M, "public"),
         ("C1", "P12", P, 12, 45 * M, "public"), ("C2", "P6", P, 6, 25 * M, "public")],
        "site_id option_id stage classes cost_cny ownership",
    )


def base_pairs() -> pd.DataFrame:
    return frame(
        [("Z1", "E1", P, 1000.0), ("Z1", "C1", P, 1500.0), ("Z2", "E1", P, 2000.0),
         ("Z2", "C1", P, 1200.0), ("Z2", "C2", P, 800.0), ("Z1", "E2", J, 1500.0),
         ("Z1", "C1", J, 2000.0), ("Z2", "E2", J, 2500.0), ("Z2", "C1", J, 1000.0)],
        "zone_id school_id stage distance_m",
    )


def base_input(rules: PlanRules | None = None, **changes: Any) -> PlanInput:
    """The base fixture; keyword arguments replace PlanInput fields."""
    data = PlanInput(
        periods=YEARS,
        demand=base_demand(),
        caps=base_caps(),
        existing=base_existing(),
        options=base_options(),
        pairs=base_pairs(),
        rules=rules or PlanRules(),
        weights=PlanWeights(),
    )
    return dataclasses.replace(data, **changes)


def with_rows(df: pd.DataFrame, rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """``df`` with extra rows (missing trailing columns become NaN)."""
    extra = pd.DataFrame([list(r) + [None] * (len(df.columns) - len(r)) for r in rows],
                         columns=df.columns)
    return pd.concat([df, extra], ignore_index=True)
