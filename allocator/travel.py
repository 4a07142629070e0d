"""Zone-school travel pairs for the siting model: straight line or road network.

``travel.method: straight`` measures straight-line distance x ``travel.circuity``;
``travel.method: network`` measures road distance on the network the scenario names
(``travel.network``: a line layer, or an OSMnx GraphML file in a projected CRS). Both
return only the pairs within each stage's travel limit (rule D-07), in metres.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd
import pyproj
from geopandas import GeoDataFrame

from allocator.errors import InputError, Problem
from allocator.inputs import PlanInputs, zone_setting
from allocator.rules import Kind, rule
from allocator.scenario import ResolvedScenario, Scenario
from gis.crs import to_wgs84
from gis.network import RoadNetwork, network_from_lines, read_network
from gis.travel import network_pairs, straight_line_pairs

__all__ = ["load_network", "travel_pairs"]

log = logging.getLogger(__name__)

PAIR_COLUMNS = ["zone_id", "school_id", "stage", "distance_m", "minutes"]


def load_network(resolved: ResolvedScenario, crs: pyproj.CRS) -> RoadNetwork | None:
    """Read the scenario's road network in ``crs`` (``None`` for straight-line travel).

    Line layers may be in lon/lat (with a ``datum``); they are converted to WGS-84 and
    projected to ``crs``. A GraphML file must already be in a projected CRS in metres.

    Raises
    ------
    InputError
        If the method is ``network`` without a network, or the file cannot be used.
    """
    travel = resolved.config.travel
    if travel.method == "straight":
        return None
    label = resolved.source.name
    if travel.network is None:
        raise InputError([Problem(label, "key travel.network",
                                  "travel.method is 'network' but no network file is named")])
    path = resolved.layer_path(travel.network)
    source = travel.network.path
    if not path.is_file():
        raise InputError([Problem(source, "", "the road network file does not exist")])
    try:
        if path.suffix.lower() == ".graphml":
            network = read_network(path, crs=crs)
        else:
            lines = gpd.read_file(path, layer=travel.network.layer)
            if lines.crs is None:
                raise ValueError("the layer has no CRS")
            if lines.crs.is_geographic:
                lines = to_wgs84(lines, datum=travel.network.datum)
            network = network_from_lines(lines.to_crs(crs),
                                         respect_oneway=travel.respect_oneway)
    except (ValueError, OSError) as exc:
        problem = Problem(source, "", f"cannot be used as a road network: {exc}")
        raise InputError([problem]) from None
    log.info("road network: %d nodes, %d edges", network.n_nodes, network.n_edges)
    return network


@rule("D-07", kind=Kind.HARD, family="sites",
      params=("standards.travel_limits_m", "travel.method", "travel.circuity"))
def travel_pairs(config: Scenario, inputs: PlanInputs, crs: pyproj.CRS, demand: pd.DataFrame,
                 *, network: RoadNetwork | None = None) -> pd.DataFrame:
    """Zone-school pairs within each stage's travel limit (rule D-07).

    A pair (z, s) exists only if ``distance[z, s] <= limit[stage, setting(z)]``, where the
    setting is urban for urban core, new district and industrial zones and rural otherwise,
    and the distance is road distance on ``network`` or straight-line distance x circuity.

    Returns
    -------
    pandas.DataFrame
        ``zone_id, school_id, stage, distance_m, minutes`` (metres; minutes at
        ``travel.speed_kmh`` where the network gives no time).
    """
    zones = inputs.zones.to_crs(crs)
    places_by_stage = _places(inputs, crs)
    settings = zones["zone_type"].map(zone_setting)
    travel = config.travel
    frames = []
    for stage in config.planning.stages:
        limits = config.standards.travel_limits_m.get(stage)
        assert limits is not None
        served = set(demand.loc[(demand["stage"] == stage) & (demand["children"] > 0), "zone_id"])
        mask = zones["zone_id"].isin(served)
        reach = settings[mask].map({"urban": limits.urban, "rural": limits.rural})
        reach = reach.reset_index(drop=True)
        places = places_by_stage.get(stage, GeoDataFrame({"school_id": []}, geometry=[], crs=crs))
        origins = zones[mask].reset_index(drop=True)
        if network is None:
            pairs = straight_line_pairs(origins, places, origin_id="zone_id",
                                        destination_id="school_id", limit_m=reach,
                                        circuity=travel.circuity, speed_kmh=travel.speed_kmh)
        else:
            pairs = network_pairs(origins, places, network, origin_id="zone_id",
                                  destination_id="school_id", limit_m=reach,
                                  speed_kmh=travel.speed_kmh, snap_max_m=travel.snap_max_m)
        frames.append(pairs.assign(stage=stage))
    return pd.concat(frames, ignore_index=True)[PAIR_COLUMNS]


def _places(inputs: PlanInputs, crs: pyproj.CRS) -> dict[str, GeoDataFrame]:
    """Existing schools and candidate sites by stage, ids under ``school_id``, in ``crs``."""
    schools = inputs.schools.to_crs(crs)[["school_id", "stage", "geometry"]]
    sites = inputs.candidates.to_crs(crs)[["site_id", "stage", "geometry"]]
    both = pd.concat([schools, sites.rename(columns={"site_id": "school_id"})],
                     ignore_index=True)
    return {str(stage): GeoDataFrame(group[["school_id", "geometry"]].reset_index(drop=True),
                                     crs=crs)
            for stage, group in both.groupby("stage", sort=True)}
