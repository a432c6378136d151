"""Study area: from OSM place names, a boundary file or a bbox; the working CRS.

Place names are looked up in the OSM extract itself when the source is a
local file (``pbf`` or ``xml``: administrative boundaries whose ``name``
matches the first part of the place name), so a district such as Zingonia can
be run offline from a Geofabrik extract; with the ``overpass`` source they are
geocoded online through osmnx (Nominatim).

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

import logging
from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import CRS
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geodistrict import _validate
from geodistrict.config import DistrictConfig
from geodistrict.errors import ConfigError, EmptyAreaError, SourceError

log = logging.getLogger(__name__)

__all__ = ["area_lonlat", "clip_polygon", "local_crs", "study_area"]


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


def _from_file(path: Path, layer: str | None) -> BaseGeometry:
    import pyogrio

    try:
        gdf = gpd.read_file(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise ConfigError(f"area.file: cannot read boundary file {str(path)!r}: {exc}") from exc
    if len(gdf) == 0:
        raise EmptyAreaError(f"boundary file {str(path)!r} has no features")
    if gdf.crs is None:
        raise ConfigError(
            f"area.file: boundary file {str(path)!r} has no CRS; save it with one "
            "(GeoJSON is always EPSG:4326)"
        )
    geoms = shapely.make_valid(gdf.to_crs(4326).geometry.to_numpy())
    polys = [g for g in geoms if g is not None and g.area > 0]
    if not polys:
        raise EmptyAreaError(f"boundary file {str(path)!r} has no polygon with an area")
    return shapely.union_all(polys)


def _place_key(place: str) -> str:
    return place.split(",")[0].strip()


def _from_extract(config: DistrictConfig, places: list[str]) -> BaseGeometry:
    """Administrative boundaries named like the places, read from the local extract."""
    path = config.osm.path
    assert path is not None
    found: list[BaseGeometry] = []
    missing: list[str] = []
    if config.osm.source == "pbf":
        import pyrosm

        osm = pyrosm.OSM(str(path))
        for place in places:
            gdf = osm.get_boundaries(name=_place_key(place))
            if gdf is not None:  # pyrosm matches substrings: "Milano" is not its metro area
                gdf = gdf[gdf["name"].str.casefold() == _place_key(place).casefold()]
            if gdf is None or len(gdf) == 0:
                missing.append(place)
            else:
                found.append(shapely.union_all(shapely.make_valid(gdf.geometry.to_numpy())))
    else:
        import osmnx as ox
        from osmnx._errors import InsufficientResponseError

        for place in places:
            try:
                gdf = ox.features_from_xml(path, tags={"boundary": "administrative"})
            except InsufficientResponseError:
                gdf = gpd.GeoDataFrame(geometry=[], crs=4326)
            names = gdf["name"].astype(str).str.casefold() if "name" in gdf else None
            gdf = gdf[names == _place_key(place).casefold()] if names is not None else gdf[:0]
            if len(gdf) == 0:
                missing.append(place)
            else:
                found.append(shapely.union_all(gdf.geometry.to_numpy()))
    if missing:
        raise SourceError(
            f"area.places: no administrative boundary named {[_place_key(p) for p in missing]!r} "
            f"in {str(path)!r}; use an extract that contains them, or give area.file / area.bbox"
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


def area_lonlat(config: DistrictConfig) -> BaseGeometry:
    """The study area (without buffer) as a polygon in EPSG:4326."""
    area = config.area
    if area.bbox is not None:
        geom: BaseGeometry = box(*area.bbox)
    elif area.file is not None:
        geom = _from_file(area.file, area.layer)
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
    log.info("study area %s: %.1f ha in %s", config.district, gdf["area_ha"].iloc[0], crs.name)
    return gdf


def clip_polygon(area: gpd.GeoDataFrame) -> BaseGeometry:
    """The study area plus its buffer, in the area's (projected) CRS."""
    _validate.projected_frame(area, what="study area")
    geom = shapely.union_all(area.geometry.to_numpy())
    buffer_m = float(area["buffer_m"].iloc[0]) if "buffer_m" in area.columns else 0.0
    return geom.buffer(buffer_m) if buffer_m > 0 else geom
