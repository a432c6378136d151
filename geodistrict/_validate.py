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


# --- bounded sizes and bounded messages ---------------------------------------------

#: Default bound of one allocation that input sizes ask for (bytes); override it with the
#: environment variable ``GEODISTRICT_MEMORY_LIMIT_GB``.
MEMORY_LIMIT = 2 * 1024**3


def excerpt(value: object, *, limit: int = 120) -> str:
    """A ``repr`` of ``value`` cut to about ``limit`` characters, never the whole of a big input.

    Strings, lists and mappings are abbreviated the :mod:`reprlib` way; whatever
    is still too long is cut and says how long it was.

    Examples
    --------
    >>> excerpt("x" * 10_000, limit=20)
    "'xxxxx...xxxxxx' (10000 characters)"
    >>> excerpt([1, 2, 3])
    '[1, 2, 3]'
    """
    import reprlib

    short = reprlib.Repr()
    short.maxstring = short.maxother = max(limit - 4, 8)
    short.maxlist = short.maxtuple = short.maxdict = short.maxset = short.maxfrozenset = 6
    short.maxlevel = 3
    text = short.repr(value)
    if isinstance(value, str) and len(value) > limit:
        text += f" ({len(value)} characters)"
    if len(text) > limit + 30:
        text = text[:limit] + "..."
    return text


def human_bytes(nbytes: float) -> str:
    """A size in bytes as text: ``'1.5 GB'``.

    Examples
    --------
    >>> human_bytes(3 * 1024**3), human_bytes(2048)
    ('3.0 GB', '2.0 KB')
    """
    size = float(nbytes)
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(size) < 1024 or unit == "PB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def memory_limit() -> float:
    """The allocation bound in bytes: ``$GEODISTRICT_MEMORY_LIMIT_GB`` or :data:`MEMORY_LIMIT`."""
    import os

    text = os.environ.get("GEODISTRICT_MEMORY_LIMIT_GB", "").strip()
    if not text:
        return float(MEMORY_LIMIT)
    try:
        gigabytes = float(text)
    except ValueError:
        raise ParameterError(
            f"GEODISTRICT_MEMORY_LIMIT_GB must be a number of gigabytes, got {excerpt(text)}"
        ) from None
    if not (math.isfinite(gigabytes) and gigabytes > 0):
        raise ParameterError(f"GEODISTRICT_MEMORY_LIMIT_GB must be positive, got {text!r}")
    return gigabytes * 1024**3


def memory_needed(
    nbytes: float,
    *,
    what: str,
    name: str,
    hint: str = "",
    error: type[ValueError] = ParameterError,
) -> float:
    """Refuse an allocation of about ``nbytes`` above :func:`memory_limit`, naming its setting.

    Parameters
    ----------
    nbytes : float
        The estimate, in bytes.
    what : str
        What would be allocated (``"the density raster (5000 x 4000 cells, 13 bands)"``).
    name : str
        The setting or argument that decides the size (``"commerce.raster_cell_m"``).
    hint : str
        How to make it smaller.
    error : exception class, default ParameterError
        Raised when over the bound (:class:`~geodistrict.errors.ConfigError` for a setting
        of the configuration).

    Examples
    --------
    >>> memory_needed(1e15, what="a grid", name="cell_m")
    Traceback (most recent call last):
    ...
    geodistrict.errors.ParameterError: cell_m: a grid would need about 909.5 TB of memory, over the limit of 2.0 GB (set GEODISTRICT_MEMORY_LIMIT_GB to change it)
    """  # noqa: E501
    limit = memory_limit()
    if not nbytes <= limit:  # also NaN
        text = (
            f"{name}: {what} would need about {human_bytes(nbytes)} of memory, over the "
            f"limit of {human_bytes(limit)} (set GEODISTRICT_MEMORY_LIMIT_GB to change it)"
        )
        raise error(text + (f"; {hint}" if hint else ""))
    return float(nbytes)


def output_file(
    path: str | Path, *, what: str = "output file", suffixes: Iterable[str] | None = None
) -> Path:
    """Check that a file can be written at ``path``: its folder exists, it is not a folder.

    Raises :class:`~geodistrict.errors.OutputError` naming the path and what is wrong
    (and the suffixes accepted, when ``suffixes`` is given and the path has another).
    """
    import os

    from geodistrict.errors import OutputError

    target = Path(path).expanduser()
    if target.is_dir():
        raise OutputError(f"{what} {str(target)!r} is a folder; give a file name in it")
    parent = target.parent
    if not parent.exists():
        raise OutputError(
            f"{what} {str(target)!r}: the folder {str(parent)!r} does not exist; create it first"
        )
    if not parent.is_dir():
        raise OutputError(f"{what} {str(target)!r}: {str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{what} {str(target)!r}: the folder {str(parent)!r} is not writable")
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        if not target.name.lower().endswith(allowed):
            raise OutputError(f"{what} {str(target)!r}: use one of {', '.join(allowed)}")
    return target
