"""Deterministic SYNTHETIC planning layers inside real administrative boundaries.

Real school lists and sub-county population splits are rarely public, so demonstration
scenarios use layers generated here: demand zones, existing schools and candidate sites.
Everything produced by this package is invented, and every row says so (``synthetic`` is
``True`` and every name ends in ``(synthetic)``). Only the boundaries and the population
totals that the caller passes in can be real.

Modules: :mod:`~gis.synth.centres` (town centres), :mod:`~gis.synth.zones` (demand
zones), :mod:`~gis.synth.ages` (single-year ages), :mod:`~gis.synth.schools` (existing
schools), :mod:`~gis.synth.sites` (candidate sites) and :mod:`~gis.synth.region`
(several counties at once); :mod:`~gis.synth.common` holds the column layouts and
standard values. Everything public is re-exported here.

Coordinates. The functions work in whatever longitude/latitude the boundary is given in
(degrees; e.g. GCJ-02 for Amap-derived boundaries) and return points in that same
longitude/latitude. Distances are measured after projecting with a metric CRS (metres;
by default the UTM zone of the boundary's centroid). The few hundred metres between GCJ-02
and WGS-84 do not matter for generation: the metric CRS is only used to measure and place
points, and every output point is tested against the boundary in the input coordinates.
The returned GeoDataFrames carry no CRS, because GCJ-02 has no EPSG code.

Determinism. All randomness comes from ``numpy.random.default_rng(seed)``, rows are
sorted by id and coordinates are rounded to 6 decimals (about 0.1 m), so the same call
gives the same table on every run and machine.
"""

from gis.synth.ages import (
    AGE_COLUMNS,
    AGE_PROFILE_2020,
    CENSUS_2020_AGE_GROUPS,
    NATIONAL_BIRTHS_10K,
    STAGE_AGES,
    STAGE_SHARES,
    age_profile,
    synth_single_ages,
)
from gis.synth.centres import synth_town_centres
from gis.synth.common import (
    CANDIDATE_COLUMNS,
    DEFAULT_CLASS_CAPS,
    DEFAULT_SCHOOL_SIZES,
    DEFAULT_STAGES,
    SCHOOL_AGE_SHARES,
    SCHOOL_COLUMNS,
    STAGE_NAMES,
    URBAN_ZONE_TYPES,
    ZONE_COLUMNS,
    ZONE_TYPES,
)
from gis.synth.region import (
    MIGRANT_SHARE_RANGES,
    REGION_CANDIDATE_COLUMNS,
    REGION_SCHOOL_COLUMNS,
    REGION_STAGES,
    REGION_ZONE_COLUMNS,
    CountySpec,
    RegionLayers,
    county_seed,
    main_land,
    synth_region,
)
from gis.synth.schools import synth_schools
from gis.synth.sites import synth_candidate_sites
from gis.synth.zones import synth_zones

__all__ = [
    "AGE_COLUMNS",
    "AGE_PROFILE_2020",
    "CANDIDATE_COLUMNS",
    "CENSUS_2020_AGE_GROUPS",
    "DEFAULT_CLASS_CAPS",
    "DEFAULT_SCHOOL_SIZES",
    "DEFAULT_STAGES",
    "MIGRANT_SHARE_RANGES",
    "NATIONAL_BIRTHS_10K",
    "REGION_CANDIDATE_COLUMNS",
    "REGION_SCHOOL_COLUMNS",
    "REGION_STAGES",
    "REGION_ZONE_COLUMNS",
    "SCHOOL_AGE_SHARES",
    "SCHOOL_COLUMNS",
    "STAGE_AGES",
    "STAGE_NAMES",
    "STAGE_SHARES",
    "URBAN_ZONE_TYPES",
    "ZONE_COLUMNS",
    "ZONE_TYPES",
    "CountySpec",
    "RegionLayers",
    "age_profile",
    "county_seed",
    "main_land",
    "synth_candidate_sites",
    "synth_region",
    "synth_schools",
    "synth_single_ages",
    "synth_town_centres",
    "synth_zones",
]
