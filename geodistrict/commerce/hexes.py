"""The ``commercial_hex`` layer: H3 hexagons with units per category and diversity."""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geodistrict import hexagons
from geodistrict.commerce.units import (
    area_polygon,
    categories_of,
    counts_by_category,
    diversity_columns,
    dominant,
    require_units,
)

log = logging.getLogger(__name__)

__all__ = ["commercial_hex"]


def commercial_hex(
    units: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame | BaseGeometry,
    *,
    resolution: int = 9,
    categories: list[str] | None = None,
    vacant: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """H3 hexagons over the area with units per category, density and diversity.

    The cells are those whose centre lies in the study area plus every cell
    holding a unit (:func:`geodistrict.hexagons.cells_covering`).

    Parameters
    ----------
    units : GeoDataFrame
        Commercial units (points with ``category``), projected CRS.
    area : GeoDataFrame or Polygon
        The study area (same CRS).
    resolution : int, default 9
        H3 resolution (``commerce.h3_resolution``).
    categories : list of str, optional
        Categories counted (``n_<category>`` columns); default those present.
    vacant : GeoDataFrame, optional
        Vacant units (points, any CRS) counted in ``n_vacant``.

    Returns
    -------
    GeoDataFrame
        One polygon per cell: ``h3``, ``n_units``, ``n_<category>`` for each
        category, ``n_vacant``, ``units_per_ha`` (units / cell area),
        ``dominant_category``, ``shannon``, ``hill_q0``, ``hill_q1``,
        ``hill_q2``; in the CRS of ``units``.

    Raises
    ------
    MissingColumnError
        If ``units`` has no ``category`` (classify them first).

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.taxonomy import classify_units
    >>> layers = gd.datasets.sample_layers()
    >>> units = classify_units(layers.pois)
    >>> hexes = commercial_hex(units, layers.study_area, resolution=9)
    >>> int(hexes["n_units"].sum()) == len(units)
    True
    """
    require_units(units)
    crs = units.crs
    polygon = area_polygon(area)
    cells = hexagons.cells_covering(polygon, crs=crs, resolution=resolution,
                                    points=units.geometry)  # fmt: skip
    cats = categories_of(units, categories)
    frame = pd.DataFrame(
        {"h3": hexagons.cells_of(units.geometry, resolution=resolution),
         "category": units["category"].to_numpy()}
    )  # fmt: skip
    counts = counts_by_category(frame, "h3", cats).reindex(cells, fill_value=0)
    hexes = gpd.GeoDataFrame(
        {"h3": cells}, geometry=hexagons.cell_polygons(cells, crs=crs), crs=crs
    )
    hexes["n_units"] = counts.sum(axis=1).to_numpy()
    for cat in cats:
        hexes[f"n_{cat}"] = counts[cat].to_numpy()
    if vacant is not None and len(vacant):
        v_cells = pd.Series(hexagons.cells_of(vacant.geometry, resolution=resolution))
        hexes["n_vacant"] = v_cells.value_counts().reindex(cells, fill_value=0).to_numpy()
    else:
        hexes["n_vacant"] = 0
    hexes["units_per_ha"] = hexes["n_units"] / (hexes.area / 10_000.0)
    hexes["dominant_category"] = dominant(counts, 0).to_numpy()
    div = diversity_columns(counts)
    for col in div.columns:
        hexes[col] = div[col].to_numpy()
    return hexes
