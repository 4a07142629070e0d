"""School-age demand by zone and stage.

This first version takes the base-year counts the zones carry (or population times a
school-age share). The forecast over a horizon (cohort survival, births, migration,
housing pipeline) builds on the same tidy output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = ["base_year_demand"]


def base_year_demand(
    zones: pd.DataFrame,
    *,
    stages: Sequence[str],
    shares: Mapping[str, float | None],
    year: int,
    zone_id: str = "zone_id",
) -> pd.DataFrame:
    """Children of each stage's age living in each zone in the base year.

    Parameters
    ----------
    zones
        One row per zone with ``zone_id`` and either a count column per stage (children)
        or a ``population`` column (residents).
    stages
        Stages to report, e.g. ``["primary", "junior"]``.
    shares
        Share of residents of each stage's age, used where the stage's count is missing.
    year
        The year the counts are for; copied into the output.
    zone_id
        Name of the id column.

    Returns
    -------
    pandas.DataFrame
        Tidy columns ``zone_id, stage, year, children`` (children, float), sorted by zone
        and stage order.

    Raises
    ------
    KeyError
        If a stage has neither counts nor (population and share).
    """
    rows = []
    for stage in stages:
        counts = zones[stage] if stage in zones.columns else None
        share = shares.get(stage)
        estimate = (
            zones["population"] * share
            if "population" in zones.columns and share is not None
            else None
        )
        if counts is None and estimate is None:
            raise KeyError(f"no counts and no population share for stage {stage!r}")
        if counts is None:
            children = estimate
        elif estimate is None:
            children = counts
        else:
            children = counts.fillna(estimate)
        assert children is not None
        rows.append(
            pd.DataFrame(
                {
                    "zone_id": zones[zone_id].astype(str).to_numpy(),
                    "stage": stage,
                    "year": year,
                    "children": children.astype(float).fillna(0.0).to_numpy(),
                }
            )
        )
    demand = pd.concat(rows, ignore_index=True)
    order = {stage: index for index, stage in enumerate(stages)}
    demand["stage_order"] = demand["stage"].map(order)
    demand = demand.sort_values(["zone_id", "stage_order"], kind="stable")
    return demand.drop(columns="stage_order").reset_index(drop=True)
