"""Retail centres by the CDRC method: contiguous tracts of H3 cells of retail units.

Macdonald, J. L., Dolega, L. & Singleton, A. (2022). An open source
delineation and hierarchical classification of UK retail agglomerations.
*Scientific Data* 9, 541 (https://doi.org/10.1038/s41597-022-01556-4);
reference code ESRC-CDRC/Retail-Centre-Boundaries (R): ``Functions.R``
(``get.tractID``), ``2_RC_EngWal.R`` (delineation) and
``5_Generate_Exports.R`` (hierarchy).  The steps, as the reference code does
them:

1. every retail unit goes to its H3 cell at resolution 11 (edge ~25 m, about
   0.2 ha);
2. cells with a single retail unit are dropped (``retailN > 1``);
3. each remaining cell is linked to its neighbours (``k_ring(h3, 1)``) and
   the connected components are the *tracts*;
4. a tract is a centre when it has at least 2 cells and at least 10 retail
   units; a one-cell tract is kept only when that cell alone holds 10 units
   (a shopping centre in one building);
5. the boundary is the union of the tract's cells (buffered 0.1 m, holes
   filled).

The England & Wales script also merges two sources (the VOA rating list and
OSM) and prunes tracts by hand (``3_Manual_Edits.R``); with one source of
units there is nothing to merge, and the manual edits are what the
``commerce.duc_file`` perimeter is for.

The hierarchy (:func:`cdrc_tiers`) follows ``5_Generate_Exports.R`` with
the study area (or each of the comuni given) as the administrative unit: the
largest centre of an area is its ``town_centre`` (``major_town_centre`` from
350 retail units),
any other centre with 250 or more units is a ``town_centre`` too, then
``district_centre`` (150+), ``local_centre`` (100-149) and
``small_local_centre`` (under 100).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geodistrict import hexagons
from geodistrict.errors import ParameterError

log = logging.getLogger(__name__)

__all__ = ["RETAIL_CATEGORIES", "TIERS", "TIER_LABELS", "Tract", "cdrc_tiers", "cdrc_tracts"]

#: Categories of the shipped taxonomy whose units are retail in the CDRC sense
#: (shops, food and drink, personal services, pharmacies and surgeries, leisure
#: such as gyms and arcades): the units that delineate a centre.  Left out, as
#: the reference code leaves out offices, car sales, petrol stations and hotels:
#: ``professional_services`` (offices, banks, agencies, associations),
#: ``automotive`` and ``accommodation``.
RETAIL_CATEGORIES = (
    "food", "fashion", "personal_services", "bars_restaurants", "health_pharmacy",
    "household", "culture_leisure", "electronics", "other_retail",
)  # fmt: skip

#: The hierarchy, largest first, and the retail units each needs
#: (``5_Generate_Exports.R``: 350 major town, 250 town, 150 district/market
#: town, 100 local; below that small local).
TIERS = ("major_town_centre", "town_centre", "district_centre", "local_centre",
         "small_local_centre")  # fmt: skip
TIER_UNITS = {"major_town_centre": 350, "town_centre": 250, "district_centre": 150,
              "local_centre": 100, "small_local_centre": 0}  # fmt: skip

#: Italian labels of the tiers (``tier_it``).
TIER_LABELS = {
    "major_town_centre": "Centro urbano maggiore",
    "town_centre": "Centro urbano",
    "district_centre": "Centro di quartiere",
    "local_centre": "Centro locale",
    "small_local_centre": "Piccolo centro locale",
}


@dataclass(frozen=True)
class Tract:
    """One retail centre of the CDRC delineation."""

    cells: tuple[str, ...]
    n_retail: int
    geometry: MultiPolygon


def _components(cells: Sequence[str]) -> list[list[str]]:
    """Connected components of cells linked to their k-ring-1 neighbours."""
    present = set(cells)
    seen: set[str] = set()
    out: list[list[str]] = []
    for start in sorted(present):
        if start in seen:
            continue
        seen.add(start)
        stack, comp = [start], []
        while stack:
            cell = stack.pop()
            comp.append(cell)
            for nb in h3.grid_disk(cell, 1):
                if nb in present and nb not in seen:
                    seen.add(nb)
                    stack.append(nb)
        out.append(sorted(comp))
    return out


def _check_count(value: object, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ParameterError(f"{name} must be an integer of at least {least}, got {value!r}")
    return int(value)


def cdrc_tracts(
    retail: gpd.GeoSeries,
    *,
    resolution: int = 11,
    min_units: int = 10,
    min_cells: int = 2,
    min_cell_units: int = 2,
) -> list[Tract]:
    """Contiguous tracts of H3 cells of retail units that make a centre.

    Parameters
    ----------
    retail : GeoSeries
        Retail unit locations (points; other geometries use a point inside),
        projected CRS.
    resolution : int, default 11
        H3 resolution of the cells (``commerce.cdrc_h3_resolution``).
    min_units : int, default 10
        Fewest retail units in a tract (``commerce.cdrc_min_units``).
    min_cells : int, default 2
        Fewest cells in a tract (``commerce.cdrc_min_cells``); a tract with
        fewer is kept only when one of its cells holds ``min_units`` units.
    min_cell_units : int, default 2
        Fewest retail units a cell needs to take part (the reference code's
        ``retailN > 1``; ``commerce.cdrc_min_cell_units``).

    Returns
    -------
    list of Tract
        Largest first (by retail units, then cells, then first cell id).

    Examples
    --------
    >>> import h3, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> a = h3.latlng_to_cell(45.46, 9.19, 11)
    >>> b = sorted(h3.grid_ring(a, 1))[0]
    >>> pts = [Point(h3.cell_to_latlng(c)[::-1]) for c in [a] * 5 + [b] * 5]
    >>> tracts = cdrc_tracts(gpd.GeoSeries(pts, crs=4326).to_crs(32632))
    >>> len(tracts), tracts[0].n_retail, len(tracts[0].cells)
    (1, 10, 2)
    """
    min_units = _check_count(min_units, "min_units", 2)
    min_cells = _check_count(min_cells, "min_cells", 1)
    min_cell_units = _check_count(min_cell_units, "min_cell_units", 1)
    if len(retail) == 0:
        return []
    per_cell = pd.Series(hexagons.cells_of(retail, resolution=resolution)).value_counts()
    kept = per_cell[per_cell >= min_cell_units]
    tracts: list[Tract] = []
    for comp in _components(list(kept.index)):
        n = int(kept.loc[comp].sum())
        one_big_cell = int(kept.loc[comp].max()) >= min_units
        if n < min_units or (len(comp) < min_cells and not one_big_cell):
            continue
        polys = hexagons.cell_polygons(comp, crs=retail.crs)
        merged = shapely.union_all(shapely.buffer(np.asarray(polys, dtype=object), 0.1))
        parts = [merged] if isinstance(merged, Polygon) else list(merged.geoms)
        filled = MultiPolygon([Polygon(p.exterior) for p in parts if isinstance(p, Polygon)])
        tracts.append(Tract(tuple(comp), n, filled))
    tracts.sort(key=lambda t: (-t.n_retail, -len(t.cells), t.cells[0]))
    log.info(
        "CDRC: %d retail units in %d H3-%d cells, %d with at least %d units, %d tract(s) kept",
        len(retail), len(per_cell), resolution, len(kept), min_cell_units, len(tracts),
    )  # fmt: skip
    return tracts


def cdrc_tiers(
    n_retail: Sequence[int] | np.ndarray, *, groups: Sequence[object] | None = None
) -> list[str]:
    """The CDRC hierarchy of centres ranked largest first (``n_retail`` in rank order).

    The first centre of each group (default: one group, the study area; the
    reference ranks within each local authority, whose Italian counterpart
    is the comune) is that group's main centre: ``major_town_centre`` with
    350 retail units or more, else ``town_centre``.  The others by their
    retail units: 250+ ``town_centre``, 150+ ``district_centre``, 100+
    ``local_centre``, else ``small_local_centre``.

    Examples
    --------
    >>> cdrc_tiers([400, 260, 120, 12])
    ['major_town_centre', 'town_centre', 'local_centre', 'small_local_centre']
    >>> cdrc_tiers([40, 30, 12], groups=["Mezzolombardo", "Mezzocorona", "Mezzolombardo"])
    ['town_centre', 'town_centre', 'small_local_centre']
    """
    keys = list(groups) if groups is not None else [0] * len(n_retail)
    if len(keys) != len(n_retail):
        raise ParameterError(f"groups has {len(keys)} values for {len(n_retail)} centres")
    seen: set[object] = set()
    out = []
    for n, key in zip(n_retail, keys, strict=True):
        if key not in seen:
            seen.add(key)
            out.append("major_town_centre" if n >= TIER_UNITS["major_town_centre"]
                       else "town_centre")  # fmt: skip
            continue
        out.append(next(t for t in TIERS[1:] if n >= TIER_UNITS[t]))
    return out
