"""Commercial density, retail centres, category mix and missing categories.

The evidence a *Distretto del Commercio* needs to "strengthen the areas of high
commercial density" and "attract the merchandise categories that are missing".
Every function takes GeoDataFrames or graphs in a projected CRS (metres) and
returns new objects; units are points with ``category`` (and ``subcategory``
for the everyday needs), as :func:`geodistrict.taxonomy.classify_units`
makes them from OSM points of interest.  The ``commerce`` pipeline step
(:mod:`geodistrict.pipeline.steps.commerce`) runs them all for a district.

Layers
------
commercial_units
    One point per active unit with its category (:mod:`geodistrict.taxonomy`).
commercial_density.tif
    Quartic-kernel density, units per hectare, band 1 all units and one band
    per category (:func:`density_raster`).
commercial_hex
    H3 cells with counts per category, diversity and walking distance to
    everyday needs (:func:`commercial_hex`).
street_frontage
    Walkable street segments with units per 100 m (:func:`street_frontage`).
commercial_access
    Street nodes with the units of each category within 400/800/1600 m of
    walking (:func:`commercial_access`).
retail_centres
    Retail centres by the CDRC method (Macdonald, Dolega & Singleton 2022:
    contiguous H3 tracts of retail units, :mod:`~geodistrict.commerce.cdrc`),
    or HDBSCAN, or an official DUC perimeter; their units, vacancy, diversity,
    dominant categories, rank and tier (:func:`retail_centres`).
category_gaps
    Observed vs expected units per category in the district and in each
    centre, and the share of homes within a walk of each everyday need
    (:func:`category_gaps`, :func:`walking_coverage`, :func:`coverage_rows`).

Modules: :mod:`~geodistrict.commerce.units` (counts and diversity),
:mod:`~geodistrict.commerce.density`, :mod:`~geodistrict.commerce.hexes`,
:mod:`~geodistrict.commerce.frontage`, :mod:`~geodistrict.commerce.access`,
:mod:`~geodistrict.commerce.cdrc`, :mod:`~geodistrict.commerce.centres`,
:mod:`~geodistrict.commerce.gaps`.

Map data © OpenStreetMap contributors (ODbL).
"""

from geodistrict.commerce.access import (
    RESIDENTIAL_BUILDINGS,
    commercial_access,
    coverage_rows,
    homes,
    walking_coverage,
)
from geodistrict.commerce.cdrc import RETAIL_CATEGORIES, cdrc_tiers, cdrc_tracts
from geodistrict.commerce.centres import read_perimeter, retail_centres, retail_mask
from geodistrict.commerce.density import (
    DensityRaster,
    density_raster,
    write_density_raster,
    write_density_raster_entry,
)
from geodistrict.commerce.frontage import street_frontage
from geodistrict.commerce.gaps import category_gaps, default_reference_mix_path, load_reference_mix
from geodistrict.commerce.hexes import commercial_hex
from geodistrict.commerce.units import diversity

__all__ = [
    "RESIDENTIAL_BUILDINGS",
    "RETAIL_CATEGORIES",
    "DensityRaster",
    "category_gaps",
    "cdrc_tiers",
    "cdrc_tracts",
    "commercial_access",
    "commercial_hex",
    "coverage_rows",
    "default_reference_mix_path",
    "density_raster",
    "diversity",
    "homes",
    "load_reference_mix",
    "read_perimeter",
    "retail_centres",
    "retail_mask",
    "street_frontage",
    "walking_coverage",
    "write_density_raster",
    "write_density_raster_entry",
]
