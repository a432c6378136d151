"""H3 hexagons: cells of points, cells covering an area, cell outlines and centres.

One place for the H3 conversions that commerce (hexagon layer), production
(firm locations generalised to cells) and cycling (hexagon origins) share.
Inputs and outputs are in any CRS; H3 itself works in lon/lat (EPSG:4326).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> pts = gpd.GeoSeries([Point(9.19, 45.46), Point(9.1901, 45.4601)], crs=4326)
>>> cells = cells_of(pts, resolution=9)
>>> cells[0] == cells[1], len(cell_polygons(cells[:1], crs=4326)[0].exterior.coords)
(True, 7)
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import h3
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from geodistrict.errors import ParameterError

__all__ = ["cell_centres", "cell_polygons", "cells_covering", "cells_of"]


def _resolution(resolution: int) -> int:
    if not isinstance(resolution, int | np.integer) or not 0 <= int(resolution) <= 15:
        raise ParameterError(f"H3 resolution must be an integer 0-15, got {resolution!r}")
    return int(resolution)


def cells_of(points: gpd.GeoSeries, *, resolution: int) -> list[str]:
    """The H3 cell of each point (other geometries: their representative point)."""
    res = _resolution(resolution)
    geoms = points.representative_point() if len(points) else points
    lonlat = shapely.get_coordinates(geoms.to_crs(4326).to_numpy())
    return [h3.latlng_to_cell(lat, lon, res) for lon, lat in lonlat]


def cells_covering(
    area: BaseGeometry, *, crs: object, resolution: int, points: gpd.GeoSeries | None = None
) -> list[str]:
    """Sorted H3 cells whose centre lies in ``area``, plus the cells of ``points``.

    Parameters
    ----------
    area : shapely geometry
        A polygon in ``crs``.
    crs : CRS-like
        CRS of ``area``.
    resolution : int
        H3 resolution.
    points : GeoSeries, optional
        Points whose cells are added even when their centre falls outside
        (a small area may contain no cell centre at all).
    """
    res = _resolution(resolution)
    area_ll = gpd.GeoSeries([area], crs=crs).to_crs(4326).iloc[0]
    cells = set(h3.geo_to_cells(area_ll, res))
    if points is not None and len(points):
        cells.update(cells_of(points, resolution=res))
    return sorted(cells)


def cell_polygons(cells: Sequence[str], *, crs: object) -> list[Polygon]:
    """Outlines of H3 cells, in ``crs``."""
    to = Transformer.from_crs(4326, crs, always_xy=True)
    out = []
    for cell in cells:
        lat, lon = np.array(h3.cell_to_boundary(cell)).T
        x, y = to.transform(lon, lat)
        out.append(Polygon(np.column_stack([x, y])))
    return out


def cell_centres(cells: Sequence[str], *, crs: object) -> list[Point]:
    """Centres of H3 cells, in ``crs``."""
    to = Transformer.from_crs(4326, crs, always_xy=True)
    out = []
    for cell in cells:
        lat, lon = h3.cell_to_latlng(cell)
        x, y = to.transform(lon, lat)
        out.append(Point(x, y))
    return out
