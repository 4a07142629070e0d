"""A Jiangmen-sized SYNTHETIC PlanInput for scale checks of allocator.plan.

Geometry comes from the shipped (itself synthetic) Jiangmen skeleton: 149 zones, 982
schools and 160 candidate sites at their coordinates. Everything else is invented with a
fixed seed: two stages (kindergarten rows are relabelled primary or junior, about a
fifth of the schools and options are nine-year), demand growing in the east and shrinking
in the west, class caps falling 45 -> 40 (primary) and 50 -> 45 (junior) in 2030, size
options 12-36 classes (urban) and 6-24 (rural), modules of 3 classes, straight-line
distances within 3 km (primary) and 5 km (junior), rural limits 5 km and 8 km.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from allocator.plan import PlanInput, PlanRules, SeatTarget

DATA = Path(__file__).resolve().parent.parent / "scenarios" / "jiangmen" / "data"
P, J = "primary", "junior"
PERIODS = (2025, 2027, 2030, 2035)
GROWTH = {"urban_core": 0.01, "new_district": 0.04, "industrial": 0.015, "town": -0.01,
          "rural": -0.02}
LIMITS = {(P, "urban"): 3000.0, (P, "rural"): 5000.0, (J, "urban"): 5000.0,
          (J, "rural"): 8000.0}


def _xy(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Local metres (equirectangular around 22.5 N, 112.8 E)."""
    return np.column_stack([(lon - 112.8) * 111_320.0 * np.cos(np.radians(22.5)),
                            (lat - 22.5) * 110_540.0])


def jiangmen_like_input(seed: int = 0, periods: tuple[int, ...] = PERIODS) -> PlanInput:
    """The synthetic scale instance (see the module docstring)."""
    rng = np.random.default_rng(seed)
    zones = pd.read_csv(DATA / "zones.csv")
    schools = pd.read_csv(DATA / "schools.csv")
    sites = pd.read_csv(DATA / "candidates.csv")
    rural_zone = zones["zone_type"].isin(["town", "rural"]).to_numpy()
    demand = []
    for zone, kind, share, primary, junior in zip(
        zones["zone_id"].tolist(), zones["zone_type"].tolist(), zones["migrant_share"].tolist(),
        zones["primary"].tolist(), zones["junior"].tolist(), strict=True,
    ):
        for g, base in ((P, float(primary)), (J, float(junior))):
            for t in periods:
                kids = round(base * (1 + GROWTH[str(kind)]) ** (t - 2020))
                demand.append((zone, g, t, float(kids), float(round(kids * float(share)))))
    demand_df = pd.DataFrame(demand, columns=["zone_id", "stage", "year", "children", "migrant"])
    caps = [(P, t, 45.0 if t < 2030 else 40.0) for t in periods]
    caps += [(J, t, 50.0 if t < 2030 else 45.0) for t in periods]
    caps_df = pd.DataFrame(caps, columns=["stage", "year", "cap"])
    stage_of = np.where(schools["stage"] == "kindergarten",
                        np.where(rng.random(len(schools)) < 0.6, P, J), schools["stage"])
    nine = rng.random(len(schools)) < 0.2
    existing = []
    for s, g, nine_year, c, mx in zip(schools["school_id"], stage_of, nine, schools["classes"],
                                      schools["max_classes"], strict=True):
        stages = (P, J) if nine_year else (g,)
        for stage in stages:
            existing.append((s, stage, int(c) if len(stages) == 1 else int(c) // 2 + 3,
                             float(mx) + 6.0, 3, 3 * 45 * 40_000.0, "public", False))
    existing_df = pd.DataFrame(existing, columns=[
        "school_id", "stage", "classes", "max_classes", "module_classes", "module_cost_cny",
        "ownership", "closable"])
    site_stage = np.where(sites["stage"] == "kindergarten",
                          np.where(rng.random(len(sites)) < 0.6, P, J), sites["stage"])
    site_nine = rng.random(len(sites)) < 0.25
    options = []
    for c, g, nine_year, setting, land in zip(sites["site_id"], site_stage, site_nine,
                                             sites["setting"], sites["land_cost_cny"],
                                             strict=True):
        sizes = (12, 18, 24, 30, 36) if setting == "urban" else (6, 12, 18, 24)
        for n in sizes:
            stages = (P, J) if nine_year else (g,)
            per = n if len(stages) == 1 else max(n // 2, 6)
            cost = sum(per * (45 if st == P else 50) for st in stages) * 55_000.0 + float(land)
            options += [(c, f"{'9y' if nine_year else g[0]}{n}", st, per, cost, "public")
                        for st in stages]
    options_df = pd.DataFrame(options, columns=["site_id", "option_id", "stage", "classes",
                                                "cost_cny", "ownership"])
    zone_xy = _xy(zones["lon"].to_numpy(), zones["lat"].to_numpy())
    zone_ids = [str(z) for z in zones["zone_id"].tolist()]
    pairs = []
    for ids, lon, lat, stages_of in (
        (schools["school_id"], schools["lon"], schools["lat"],
         existing_df.groupby("school_id")["stage"].apply(tuple)),
        (sites["site_id"], sites["lon"], sites["lat"],
         options_df.groupby("site_id")["stage"].apply(lambda s: tuple(sorted(set(s))))),
    ):
        xy = _xy(lon.to_numpy(), lat.to_numpy())
        dist = np.hypot(zone_xy[:, None, 0] - xy[None, :, 0], zone_xy[:, None, 1] - xy[None, :, 1])
        for j, sid in enumerate(ids):
            for g in stages_of[sid]:
                near = np.nonzero(dist[:, j] <= np.where(rural_zone, LIMITS[(g, "rural")],
                                                         LIMITS[(g, "urban")]))[0]
                pairs += [(zone_ids[int(i)], sid, g, round(float(dist[i, j]), 1))
                          for i in near]
    pairs_df = pd.DataFrame(pairs, columns=["zone_id", "school_id", "stage", "distance_m"])
    rules = PlanRules(
        budget_by_period={t: 2.0e9 for t in periods}, carry_over=True,
        seat_targets=(SeatTarget("J-04", (P, J), periods[1], 20_000.0),),
    )
    return PlanInput(periods=periods, demand=demand_df, caps=caps_df, existing=existing_df,
                     options=options_df, pairs=pairs_df, rules=rules)
