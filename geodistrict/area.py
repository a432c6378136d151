"""Study area: from OSM place names, a boundary file or a bbox; the working CRS.

Place names are looked up in the OSM extract itself when the source is a
local file (``pbf`` or ``xml``: administrative boundaries whose ``name`` is
the first part of the place name), so a district such as Zingonia can be run
offline from a Geofabrik extract; with the ``overpass`` source they are
geocoded online through osmnx (Nominatim).  A boundary file can be cut to some
of its features by name (``area.names``, e.g. the *comuni* of an ISTAT file).

Names match exactly, ignoring case, accents, the form of the apostrophe and
repeated spaces (:func:`name_key`): ``"san michele all’adige"`` is
``"San Michele all'Adige"``, but ``"Mezzolombardo"`` is not
``"Comunità Rotaliana"``.  A name that matches nothing is an error that lists
the nearest names available.

Examples
--------
>>> import geodistrict as gd
>>> area = gd.study_area(gd.datasets.sample_config())
>>> area.crs.to_epsg()
32635
>>> round(float(area["area_ha"].iloc[0]))
168
"""

from __future__ import annotations

import difflib
import logging
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geodistrict import _validate
from geodistrict.config import DistrictConfig, check_area_sizes
from geodistrict.errors import ConfigError, EmptyAreaError, SourceError

log = logging.getLogger(__name__)

__all__ = ["area_lonlat", "clip_polygon", "local_crs", "name_key", "nearest_names", "study_area"]


def local_crs(geom_lonlat: BaseGeometry) -> CRS:
    """The UTM zone CRS (WGS 84) containing the centre of a lon/lat geometry.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> local_crs(Point(9.33, 45.49)).to_epsg()  # Pioltello
    32632
    """
    utm = gpd.GeoSeries([geom_lonlat], crs=4326).estimate_utm_crs()
    if utm is None:  # pragma: no cover - pyproj always finds a UTM zone for valid lon/lat
        raise EmptyAreaError(f"no UTM zone for area centred at {geom_lonlat.centroid.wkt!r}")
    return CRS.from_user_input(utm)


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})


def name_key(name: object) -> str:
    """The form in which place names are compared: no accents, case or extra spaces.

    Examples
    --------
    >>> name_key("  San Michele   all’Adige ")
    "san michele all'adige"
    >>> name_key("Comunità") == name_key("COMUNITA")
    True
    """
    text = unicodedata.normalize("NFKD", str(name).translate(_APOSTROPHES))
    plain = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(plain.split())


def nearest_names(name: str, available: Iterable[object], *, n: int = 3) -> list[str]:
    """The ``n`` names of ``available`` closest to ``name`` (compared by :func:`name_key`).

    Examples
    --------
    >>> nearest_names("Mezolombardo", ["Mezzocorona", "Mezzolombardo", "Ton"], n=1)
    ['Mezzolombardo']
    """
    by_key: dict[str, str] = {}
    for item in available:
        if isinstance(item, str) and item.strip():
            by_key.setdefault(name_key(item), item)
    query = name_key(name)
    containing = sorted(k for k in by_key if query and (query in k or k in query))
    close = difflib.get_close_matches(query, list(by_key), n=n, cutoff=0.5)
    keys = list(dict.fromkeys([*close, *containing]))[:n]
    if not keys:  # nothing close: at least say what there is
        keys = sorted(by_key)[:n]
    return [by_key[k] for k in keys]


def _nearest_text(name: str, available: Iterable[object]) -> str:
    close = nearest_names(name, available)
    return f"nearest: {', '.join(repr(c) for c in close)}" if close else "no names at all"


def _polygonal(geoms: Iterable[BaseGeometry | None]) -> list[BaseGeometry]:
    valid = shapely.make_valid(np.asarray([g for g in geoms if g is not None], dtype=object))
    return [g for g in valid if g is not None and g.area > 0]


def _from_file(
    path: Path, layer: str | None, *, name_field: str | None = None, names: list[str] | None = None
) -> BaseGeometry:
    import pyogrio

    if path.is_file() and path.stat().st_size == 0:
        raise ConfigError(f"area.file: boundary file {str(path)!r} is empty (0 bytes)")
    try:
        gdf = gpd.read_file(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError,
            OSError, RuntimeError, shapely.errors.GEOSException) as exc:  # fmt: skip
        raise ConfigError(
            f"area.file: cannot read boundary file {str(path)!r}: "
            f"{_validate.excerpt(str(exc), limit=200)}"
        ) from exc
    if len(gdf) == 0:
        raise EmptyAreaError(f"boundary file {str(path)!r} has no features")
    _check_boundary_coordinates(gdf, path)
    if names is not None:
        gdf = _select_by_name(gdf, path, name_field or "name", names)
    try:
        polys = _polygonal(gdf.to_crs(4326).geometry.to_numpy())
    except shapely.errors.GEOSException as exc:
        raise ConfigError(
            f"area.file: boundary file {str(path)!r} has a geometry that cannot be repaired "
            f"({_validate.excerpt(str(exc), limit=200)})"
        ) from exc
    if not polys:
        raise EmptyAreaError(f"boundary file {str(path)!r} has no polygon with an area")
    return shapely.union_all(polys)


_REPROJECT_HINT = (
    "reproject it to lon/lat (e.g. ogr2ogr -t_srs EPSG:4326 area.geojson IN, or QGIS: Export > "
    "Save Features As, CRS EPSG:4326), or save it as a GeoPackage, which keeps its CRS"
)


def _check_boundary_coordinates(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Refuse missing or non-finite coordinates and projected numbers read as lon/lat."""
    geoms = gdf.geometry.to_numpy()
    missing = [i for i, g in enumerate(geoms) if g is None or g.is_empty]
    if len(missing) == len(geoms):
        raise EmptyAreaError(f"boundary file {str(path)!r}: no feature has a geometry")
    counts = shapely.get_num_coordinates(geoms)
    xy = shapely.get_coordinates(geoms)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        row = int(np.searchsorted(np.cumsum(counts), int(np.argmax(bad)), side="right"))
        raise ConfigError(
            f"area.file: boundary file {str(path)!r}, feature {row + 1}: a coordinate is not a "
            f"number ({_validate.excerpt(xy[int(np.argmax(bad))].tolist())}); "
            "repair the geometry (QGIS: Vector > Geometry Tools > Check Validity)"
        )
    if len(xy) == 0:
        raise EmptyAreaError(f"boundary file {str(path)!r}: no feature has a geometry")
    west, south = xy.min(axis=0)
    east, north = xy.max(axis=0)
    span = f"x {west:.6g}..{east:.6g}, y {south:.6g}..{north:.6g}"
    if gdf.crs is None:
        projected = not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90)
        raise ConfigError(
            f"area.file: boundary file {str(path)!r} has no CRS"
            + (" and its coordinates look projected" if projected else "")
            + f" ({span}); save it with its CRS (a Shapefile needs its .prj) or {_REPROJECT_HINT}"
        )
    if CRS.from_user_input(gdf.crs).is_geographic and not (
        -180 <= west <= east <= 180 and -90 <= south <= north <= 90
    ):
        raise ConfigError(
            f"area.file: boundary file {str(path)!r} has coordinates in metres, not degrees "
            f"({span}), but is read as lon/lat ({gdf.crs.to_string()}; a GeoJSON without a "
            f"CRS is always lon/lat): {_REPROJECT_HINT}"
        )


def _select_by_name(
    gdf: gpd.GeoDataFrame, path: Path, field: str, names: list[str]
) -> gpd.GeoDataFrame:
    """The features of a boundary file whose ``field`` is one of ``names``."""
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    if field not in gdf.columns:
        raise ConfigError(
            f"area.name_field: boundary file {str(path)!r} has no field {field!r}; "
            f"its fields: {', '.join(columns)}"
        )
    values = gdf[field]
    keys = values.map(lambda v: name_key(v) if isinstance(v, str) else None)
    missing = [n for n in names if name_key(n) not in set(keys.dropna())]
    if missing:
        details = "; ".join(f"{n!r} ({_nearest_text(n, values)})" for n in missing)
        raise ConfigError(
            f"area.names: no feature of {str(path)!r} has {field} equal to {details}"
        )
    wanted = {name_key(n) for n in names}
    return gdf[keys.isin(wanted)]


def _place_key(place: str) -> str:
    return place.split(",")[0].strip()


def _extract_boundaries(config: DistrictConfig) -> gpd.GeoDataFrame:
    """Every administrative boundary of the local extract: ``name``, ``admin_level``, polygon."""
    path = config.osm.extract()  # place names are looked up in it
    if config.osm.source == "pbf":
        import zlib

        import pyrosm
        from google.protobuf.message import DecodeError
        from pyrosm.exceptions import PBFException

        from geodistrict.sources.osm import scan_pbf

        problem, _ = scan_pbf(path)
        if problem is not None:
            raise SourceError(f"OSM extract {str(path)!r} {problem}")
        try:
            gdf = pyrosm.OSM(str(path)).get_boundaries()  # boundary=administrative
        except (OSError, ValueError, KeyError, RuntimeError, EOFError, OverflowError,
                zlib.error, DecodeError, PBFException) as exc:  # fmt: skip
            raise SourceError(
                f"OSM extract {str(path)!r} is corrupt or not an OSM PBF file "
                f"({type(exc).__name__}: {_validate.excerpt(str(exc), limit=200)})"
            ) from exc
    else:
        import xml.etree.ElementTree as ET

        import osmnx as ox
        from osmnx._errors import InsufficientResponseError

        try:
            gdf = ox.features_from_xml(path, tags={"boundary": "administrative"})
        except InsufficientResponseError:
            gdf = None
        except (ET.ParseError, OSError, EOFError, ValueError) as exc:
            raise SourceError(
                f"could not parse OSM XML {str(path)!r}: "
                f"{_validate.excerpt(str(exc), limit=200)}; is it truncated or not OSM XML?"
            ) from exc
    if gdf is None or len(gdf) == 0 or "name" not in gdf.columns:
        return gpd.GeoDataFrame({"name": [], "admin_level": []}, geometry=[], crs=4326)
    level = gdf["admin_level"] if "admin_level" in gdf.columns else None
    out = gpd.GeoDataFrame(
        {
            "name": gdf["name"].to_numpy(),
            "admin_level": (
                pd.to_numeric(level, errors="coerce").to_numpy()
                if level is not None
                else np.full(len(gdf), np.nan)
            ),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=4326,
    )
    return out[out["name"].map(lambda v: isinstance(v, str))].reset_index(drop=True)


def _from_extract(config: DistrictConfig, places: list[str]) -> BaseGeometry:
    """Administrative boundaries named like the places, read from the local extract.

    A name is matched exactly (by :func:`name_key`); when boundaries of several
    levels share it (a *comune* and its *comunità*), the most local level wins.
    """
    path = config.osm.path
    boundaries = _extract_boundaries(config)
    keys = boundaries["name"].map(name_key)
    found: list[BaseGeometry] = []
    missing: list[str] = []
    for place in places:
        rows = boundaries[keys == name_key(_place_key(place))]
        polys = _polygonal(rows.geometry.to_numpy())
        if not polys:
            missing.append(place)
            continue
        levels = rows["admin_level"].dropna()
        if levels.nunique() > 1:
            rows = rows[rows["admin_level"] == levels.max()]
            log.info("area.places: %r names several levels; using admin_level %d",
                     _place_key(place), int(levels.max()))  # fmt: skip
            polys = _polygonal(rows.geometry.to_numpy())
        if len(polys) > 1:
            log.warning("area.places: %d boundaries are named %r in %s; their union is used "
                        "(check the study_area layer)", len(polys), _place_key(place), path.name
                        if path else "the extract")  # fmt: skip
        found.append(shapely.union_all(polys))
    if missing:
        details = "; ".join(
            f"{_place_key(p)!r} ({_nearest_text(_place_key(p), boundaries['name'])})"
            for p in missing
        )
        raise SourceError(
            f"area.places: no administrative boundary named {details} in {str(path)!r}; "
            "names must equal the official name (case and accents do not matter). Use an "
            "extract that contains them, or give area.file / area.bbox"
        )
    return shapely.union_all(found)


def _from_places(config: DistrictConfig, places: list[str]) -> BaseGeometry:
    if config.osm.source in ("pbf", "xml"):
        return _from_extract(config, places)
    if config.osm.source == "sample":
        raise ConfigError(
            "area.places: the embedded sample has no place boundaries; give area.bbox instead"
        )
    import osmnx as ox

    from geodistrict.sources.osm import check_online, configure_osmnx

    check_online("nominatim.openstreetmap.org")
    configure_osmnx(config.osm.resolved_cache_dir)
    gdf = ox.geocode_to_gdf(list[str | dict[str, str]](places))
    return shapely.union_all(gdf.geometry.to_numpy())


def area_label(config: DistrictConfig) -> str:
    """How messages name the study area: by the setting that defines it.

    Examples
    --------
    >>> import geodistrict as gd
    >>> area_label(gd.datasets.sample_config())
    'the study area of area.bbox'
    """
    area = config.area
    if area.file is not None:
        return f"the study area of area.file {str(area.file)!r}"
    if area.places is not None:
        return f"the study area of area.places {', '.join(area.places)!r}"
    return "the study area of area.bbox"


def area_lonlat(config: DistrictConfig) -> BaseGeometry:
    """The study area (without buffer) as a polygon in EPSG:4326."""
    area = config.area
    if area.bbox is not None:
        geom: BaseGeometry = box(*area.bbox)
    elif area.file is not None:
        geom = _from_file(area.file, area.layer, name_field=area.name_field, names=area.names)
    else:
        assert area.places is not None
        geom = _from_places(config, area.places)
    return _validate.area_geometry(geom)


def study_area(config: DistrictConfig) -> gpd.GeoDataFrame:
    """The study area of a district as a one-row GeoDataFrame in the working CRS.

    Parameters
    ----------
    config : DistrictConfig
        The district configuration.

    Returns
    -------
    GeoDataFrame
        One row: ``district``, ``title``, ``defined_by`` (bbox, file or the place
        names), ``buffer_m``, ``area_ha`` and the area polygon (without the buffer).
        Its CRS is the working CRS: ``config.crs`` or the local UTM zone.
    """
    geom = area_lonlat(config)
    crs = local_crs(geom) if config.crs == "auto" else CRS.from_user_input(config.crs)
    if config.area.bbox is not None:
        defined_by = "bbox " + ", ".join(f"{v:g}" for v in config.area.bbox)
    elif config.area.file is not None:
        defined_by = f"file {config.area.file.name}"
        if config.area.names:
            defined_by += ": " + ", ".join(config.area.names)
    else:
        defined_by = "places " + "; ".join(config.area.places or [])
    gdf = gpd.GeoDataFrame(
        {
            "district": [config.district],
            "title": [config.title],
            "defined_by": [defined_by],
            "buffer_m": [float(config.area.buffer_m)],
        },
        geometry=[geom],
        crs=4326,
    ).to_crs(crs)
    gdf["area_ha"] = gdf.area / 10_000
    xmin, ymin, xmax, ymax = gdf.total_bounds
    try:
        check_area_sizes(config, width_m=float(xmax - xmin), height_m=float(ymax - ymin))
    except ConfigError as exc:
        raise ConfigError(f"{area_label(config)}: {exc}") from None
    log.info("study area %s: %.1f ha in %s", config.district, gdf["area_ha"].iloc[0], crs.name)
    return gdf


def clip_polygon(area: gpd.GeoDataFrame) -> BaseGeometry:
    """The study area plus its buffer, in the area's (projected) CRS."""
    _validate.projected_frame(area, what="study area")
    geom = shapely.union_all(area.geometry.to_numpy())
    buffer_m = float(area["buffer_m"].iloc[0]) if "buffer_m" in area.columns else 0.0
    return geom.buffer(buffer_m) if buffer_m > 0 else geom
