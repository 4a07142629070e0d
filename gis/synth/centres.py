"""Synthetic town centres: the density peaks that synthetic zones cluster around."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.synth._geo import Coord, Geo, best_candidate, pole

__all__ = ["synth_town_centres"]


def synth_town_centres(
    boundary: BaseGeometry,
    *,
    seed: int,
    n_towns: int,
    main: tuple[float, float] | None = None,
    main_weight: float = 1.0,
    town_weight: tuple[float, float] = (0.2, 0.35),
    min_spacing_m: float = 12_000.0,
    crs_metric: str | None = None,
) -> list[tuple[float, float, float]]:
    """Pick a main centre and synthetic secondary town centres inside ``boundary``.

    Parameters
    ----------
    boundary
        Polygon or MultiPolygon, longitude/latitude in degrees (any datum, e.g. GCJ-02).
    seed
        Seed for ``numpy.random.default_rng``.
    n_towns
        Number of secondary (town) centres to place.
    main
        ``(lon, lat)`` of the main centre (county seat), in the boundary's coordinates.
        When omitted, the pole of inaccessibility of the boundary is used.
    main_weight
        Density weight of the main centre (dimensionless).
    town_weight
        Range from which each town's density weight is drawn uniformly (dimensionless).
    min_spacing_m
        Least distance between any two centres, metres. Halved as often as needed
        (and the shortfall filled) if the boundary cannot hold all towns.
    crs_metric
        Projected CRS used to measure metres; default: the UTM zone of the centroid.

    Returns
    -------
    list of tuple
        ``(lon, lat, weight)`` per centre, main centre first, towns in placement order;
        coordinates in the boundary's longitude/latitude, rounded to 6 decimals.

    Raises
    ------
    ValueError
        If ``n_towns`` is negative or ``main`` lies outside the boundary.
    RuntimeError
        If the boundary cannot hold the centres even 100 m apart.
    """
    if n_towns < 0:
        raise ValueError(f"n_towns must be >= 0, got {n_towns}")
    rng = np.random.default_rng(seed)
    geo = Geo(boundary, crs_metric)
    if main is None:
        mx, my = pole(geo.inner)
    else:
        if not shapely.contains_xy(boundary, main[0], main[1]):
            raise ValueError(f"main centre {main} lies outside the boundary")
        mx, my = geo.point_to_metric(main[0], main[1])
    placed: list[Coord] = [(mx, my)]
    gap = min_spacing_m
    while len(placed) < n_towns + 1:
        point = best_candidate(rng, geo.inner, placed, min_gap=gap)
        if point is None:
            gap /= 2.0
            if gap < 100.0:
                raise RuntimeError("could not place town centres inside the boundary")
            continue
        placed.append(point)
    weights = [main_weight] + [float(w) for w in rng.uniform(*town_weight, size=n_towns)]
    lons, lats = geo.to_lonlat(np.array([p[0] for p in placed]), np.array([p[1] for p in placed]))
    return [(float(x), float(y), round(w, 3)) for x, y, w in zip(lons, lats, weights, strict=True)]
