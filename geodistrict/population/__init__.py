"""Residents of the district: ISTAT census sections, or a dasymetric estimate.

* :mod:`~geodistrict.population.census`: the 2021 census sections of ISTAT
  (the *basi territoriali* polygons joined to the census variables per section);
* :mod:`~geodistrict.population.dasymetric`: residents placed in residential
  buildings by floor area, scaled to a known total, flagged ``estimated``.

See ``docs/indicators.md``.
"""

from geodistrict.population.census import (
    AGE_BANDS_2021,
    ISTAT_ATTRIBUTION,
    read_census_sections,
    section_code,
)
from geodistrict.population.dasymetric import (
    NON_RESIDENTIAL_LANDUSE,
    building_levels,
    estimate_population,
    resident_points,
    residential_buildings,
)

__all__ = [
    "AGE_BANDS_2021",
    "ISTAT_ATTRIBUTION",
    "NON_RESIDENTIAL_LANDUSE",
    "building_levels",
    "estimate_population",
    "read_census_sections",
    "resident_points",
    "residential_buildings",
    "section_code",
]
