"""Input checks shared by every module: CRS, emptiness, coordinates, weights.

Public functions of geodistrict call these on entry so that the same mistake
gets the same message everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from geodistrict.errors import (
    CRSError,
    EmptyAreaError,
    InputFileNotFoundError,
    MissingColumnError,
    ParameterError,
    ParameterTypeError,
)


def existing_file(path: str | Path, *, what: str = "file") -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`, or raise if it is not a file."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputFileNotFoundError(f"{what} not found: {str(p)!r}")
    return p


def projected_crs(crs: object, *, what: str = "layer") -> CRS:
    """Return ``crs`` as a :class:`pyproj.CRS`, or raise unless it is projected in metres."""
    if crs is None:
        raise CRSError(f"{what} has no CRS; set one (e.g. gdf.set_crs('EPSG:4326'))")
    parsed = CRS.from_user_input(crs)
    if not parsed.is_projected:
        raise CRSError(
            f"{what} is in a geographic CRS ({parsed.to_string()!r}); distances need a "
            "projected CRS in metres: reproject it first (e.g. gdf.to_crs(gdf.estimate_utm_crs()))"
        )
    unit = parsed.axis_info[0].unit_name if parsed.axis_info else "metre"
    if unit not in ("metre", "meter", "m"):
        raise CRSError(f"{what} CRS {parsed.to_string()!r} is in {unit!r}, not metres")
    return parsed


def projected_frame(gdf: gpd.GeoDataFrame, *, what: str = "layer") -> gpd.GeoDataFrame:
    """Check that ``gdf`` is a GeoDataFrame in a projected CRS and return it."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ParameterTypeError(
            f"{what} must be a GeoDataFrame, got {type(gdf).__name__!r}: convert it with "
            "geopandas.GeoDataFrame(frame, geometry=..., crs=...)"
        )
    projected_crs(gdf.crs, what=what)
    return gdf


def projected_graph(graph: nx.MultiDiGraph, *, what: str = "graph") -> nx.MultiDiGraph:
    """Check that ``graph`` carries a projected ``crs`` graph attribute and return it."""
    projected_crs(graph.graph.get("crs"), what=what)
    return graph


def not_empty(gdf: gpd.GeoDataFrame, *, what: str = "layer") -> gpd.GeoDataFrame:
    """Raise :class:`EmptyAreaError` if ``gdf`` has no rows."""
    if len(gdf) == 0:
        raise EmptyAreaError(f"{what} is empty")
    return gdf


def area_geometry(geom: BaseGeometry, *, what: str = "study area") -> BaseGeometry:
    """Check that an area is a valid, non-empty polygonal geometry; repair invalid rings."""
    if geom is None or geom.is_empty:
        raise EmptyAreaError(f"{what} is empty")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise EmptyAreaError(f"{what} must be a polygon, got a {geom.geom_type!r}")
    if not geom.is_valid:
        geom = geom.buffer(0)
    if geom.area == 0:
        raise EmptyAreaError(f"{what} has zero area")
    return geom


def lonlat_problem(
    lon: float, lat: float, *, area_lonlat: BaseGeometry | None = None
) -> str | None:
    """Explain what is wrong with a longitude/latitude pair, or return ``None``.

    Detects missing values, values outside the valid ranges, pairs that look
    swapped (``lat``/``lon`` exchanged) and, when ``area_lonlat`` (the study
    area in EPSG:4326) is given, points outside the area.
    """
    from shapely.geometry import Point

    if lon is None or lat is None or math.isnan(lon) or math.isnan(lat):
        return "missing coordinate"
    swapped_ok = -90 <= lon <= 90 and -180 <= lat <= 180
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        if swapped_ok:
            return f"longitude/latitude look swapped (lon={lon}, lat={lat})"
        return f"coordinate out of range (lon={lon}, lat={lat})"
    if area_lonlat is not None:
        if area_lonlat.covers(Point(lon, lat)):
            return None
        if swapped_ok and area_lonlat.covers(Point(lat, lon)):
            return f"longitude/latitude look swapped (lon={lon}, lat={lat})"
        return f"point (lon={lon}, lat={lat}) lies outside the study area"
    return None


def require_columns(
    frame: pd.DataFrame, columns: Iterable[str], *, what: str = "layer", hint: str = ""
) -> pd.DataFrame:
    """Raise :class:`MissingColumnError` naming the first missing column and how to add it.

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "category"], what="units",
    ...                 hint="classify them with gd.classify_units(pois)")
    Traceback (most recent call last):
    ...
    geodistrict.errors.MissingColumnError: units have no column 'category': classify them with gd.classify_units(pois)
    """  # noqa: E501
    for column in columns:
        if column not in frame.columns:
            raise MissingColumnError(what, column, hint=hint)
    return frame


def positive(value: float, *, name: str, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, or raise :class:`ParameterError` quoting it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {value!r}") from None
    ok = number >= 0 if allow_zero else number > 0
    if not (ok and math.isfinite(number)):
        kind = "non-negative" if allow_zero else "positive"
        raise ParameterError(f"{name} must be a finite {kind} number, got {value!r}")
    return number
