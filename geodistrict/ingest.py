"""Base layers of a district from its OSM source: the foundation every analysis uses.

:func:`load_base_layers` reads the configured source for the study area plus
its buffer, reprojects to the working CRS, clips, builds the walk and bike
graphs, and caches the result so that loading the same source twice is fast.

Layers
------
study_area
    The area polygon (without buffer).
streets
    One line per street between intersections, with ``walk`` / ``bike``
    access flags and the street tags.
pois
    Points of interest (``shop``, ``amenity``, ``craft``, ``office``,
    ``tourism``, ``leisure``, ``healthcare``) and OSM vacancy tags, as points
    (polygons reduced to a point inside them, and inside the area plus buffer);
    ``vacant`` flags units tagged
    ``shop=vacant``, ``vacant=yes``, ``disused:*=*`` or ``abandoned:*=*`` (the
    raw ``vacant`` tag stays in ``tags``).
buildings, landuse
    Polygons with their main tags.
transit_stops
    Stations and stops as points, with ``kind`` (station/stop) and ``mode``.

Feature layers carry ``tags`` (all OSM tags as JSON) and ``osm_id`` / ``osm_type``;
``streets`` carries ``tags`` and ``osmid`` (the way id, osmnx's name for it) and
always the same tag columns, whether or not a tag occurs in the district.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from geodistrict import _validate
from geodistrict._version import __version__
from geodistrict.area import area_label, clip_polygon, study_area
from geodistrict.config import DistrictConfig
from geodistrict.errors import EmptyAreaError
from geodistrict.network import access_mask, build_graph, streets_from_graph
from geodistrict.sources import osm

log = logging.getLogger(__name__)

__all__ = ["BASE_LAYERS", "BaseLayers", "base_layers_from_raw", "load_base_layers"]

BASE_LAYERS = ("study_area", "streets", "pois", "buildings", "landuse", "transit_stops")
# Bump when the shape of cached layers changes, so old caches are not reused.
_CACHE_FORMAT = 3


@dataclass(frozen=True)
class BaseLayers:
    """The base layers and street graphs of a district, in its working CRS.

    ``walk_graph`` and ``bike_graph`` are osmnx-compatible ``MultiDiGraph``
    objects built lazily (:class:`geodistrict.network.LazyGraph`): the analyses
    read their tables as arrays, and the networkx dicts are made the first time
    someone reads the graph's nodes or edges.
    """

    study_area: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    landuse: gpd.GeoDataFrame
    transit_stops: gpd.GeoDataFrame
    walk_graph: nx.MultiDiGraph
    bike_graph: nx.MultiDiGraph

    @property
    def crs(self) -> CRS:
        """The working CRS."""
        return CRS.from_user_input(self.study_area.crs)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The vector layers by name, in the order of :data:`BASE_LAYERS`."""
        return {name: getattr(self, name) for name in BASE_LAYERS}


def _vacant_mask(pois: gpd.GeoDataFrame) -> np.ndarray:
    tags = [json.loads(t) for t in pois["tags"]]
    # "was:" marks a feature that is gone, not an empty unit: it does not count.
    lifecycle = ("disused:", "abandoned:", "vacant:")
    return np.array(
        [
            t.get("shop") == "vacant"
            or t.get("vacant") in ("yes", "true")
            or any(k.startswith(lifecycle) for k in t)
            for t in tags
        ],
        dtype=bool,
    )


def _transit_kind_and_mode(stops: gpd.GeoDataFrame) -> tuple[list[str], list[str]]:
    kinds, modes = [], []
    for raw in stops["tags"]:
        t = json.loads(raw)
        station = (
            t.get("railway") in ("station", "halt")
            or t.get("public_transport") == "station"
            or t.get("amenity") in ("bus_station", "ferry_terminal")
        )
        kinds.append("station" if station else "stop")
        if (
            t.get("subway") == "yes"
            or t.get("station") == "subway"
            or "subway" in t.get("railway", "")
        ):
            modes.append("subway")
        elif t.get("railway") == "tram_stop" or t.get("tram") == "yes":
            modes.append("tram")
        elif t.get("railway") in ("station", "halt") or t.get("train") == "yes":
            modes.append("rail")
        elif t.get("ferry") == "yes" or t.get("amenity") == "ferry_terminal":
            modes.append("ferry")
        else:
            modes.append("bus")
    return kinds, modes


def _clip_features(
    frame: gpd.GeoDataFrame, polygon: BaseGeometry, crs: CRS, *, cut: bool
) -> gpd.GeoDataFrame:
    """Project ``frame`` and keep what intersects ``polygon``; ``cut`` trims geometries."""
    if len(frame) == 0:
        return frame.set_crs(crs, allow_override=True)
    projected = frame.to_crs(crs)
    projected = projected[projected.geometry.notna() & ~projected.geometry.is_empty]
    projected = projected.set_geometry(shapely.make_valid(projected.geometry.to_numpy()))
    inside = projected[projected.intersects(polygon)].copy()
    if cut:
        inside = inside.set_geometry(inside.intersection(polygon))
        inside = inside[~inside.geometry.is_empty]
    return inside.reset_index(drop=True)


def _points_inside(frame: gpd.GeoDataFrame, polygon: BaseGeometry) -> gpd.GeoSeries:
    """One point per feature, inside ``polygon``: features that only reach into it
    (a park, a station building on the edge) are placed on their part inside."""
    points = frame.geometry.representative_point()
    outside = ~points.within(polygon)
    if outside.any():
        inside = frame.geometry[outside].intersection(polygon).representative_point()
        points = points.copy()
        points[outside] = inside
    return points


def _typed(frame: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """The same frame with ``osm_id`` an integer column and the working CRS, even with no rows.

    An empty source frame comes with ``object`` columns; the id must stay an
    integer so that the layer keeps its type in every district.
    """
    out = frame.copy()
    if "osm_id" in out.columns and out["osm_id"].dtype != "Int64":
        out["osm_id"] = pd.array(out["osm_id"].tolist(), dtype="Int64")
    return out.set_crs(crs, allow_override=True)


def _polygons_only(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    polys = frame.geometry.apply(
        lambda g: (
            g
            if g.geom_type in ("Polygon", "MultiPolygon")
            else shapely.union_all([p for p in getattr(g, "geoms", []) if p.area > 0]) or None
        )
    )
    out = frame.set_geometry(polys.to_numpy())
    return out[out.geometry.notna() & ~out.geometry.is_empty & (out.area > 0)].reset_index(
        drop=True
    )


def base_layers_from_raw(raw: osm.RawOSM, area: gpd.GeoDataFrame) -> BaseLayers:
    """Turn raw OSM data (EPSG:4326) into clipped, projected base layers and graphs.

    Parameters
    ----------
    raw : RawOSM
        What a source reader returned.
    area : GeoDataFrame
        The study area from :func:`geodistrict.area.study_area`, in the
        working CRS, with ``buffer_m``.

    Returns
    -------
    BaseLayers
    """
    _validate.projected_frame(area, what="study area")
    crs = CRS.from_user_input(area.crs)
    polygon = clip_polygon(area)
    polygon_lonlat = gpd.GeoSeries([polygon], crs=crs).to_crs(4326).iloc[0]

    # Graph nodes must lie inside the area plus buffer (osmnx's truncate_by_edge=False).
    nodes = raw.nodes[raw.nodes.intersects(polygon_lonlat)]
    inside = set(nodes.index)
    segs = raw.segments[raw.segments["u"].isin(inside) & raw.segments["v"].isin(inside)]
    if len(segs) == 0:
        raise EmptyAreaError("no street of the OSM source lies inside the study area")
    # Lazy graphs: the analyses read their tables as arrays; the networkx dicts are
    # built only if someone walks the graph (network.lazy).
    all_graph = build_graph(nodes, segs, mode="all", crs=crs, lazy=True)
    streets = streets_from_graph(all_graph)
    streets["walk"] = access_mask(streets, "walk").to_numpy()
    streets["bike"] = access_mask(streets, "bike").to_numpy()
    streets = streets.merge(
        segs[["osmid", "tags"]].drop_duplicates("osmid"), on="osmid", how="left"
    )
    # The graph's boolean "oneway" is per mode; the layer shows the OSM tag itself.
    streets["oneway"] = [json.loads(t).get("oneway") for t in streets["tags"]]
    # The same columns in every district, even where a tag never occurs.
    for tag in osm.STREET_TAGS:
        if osm.column_name(tag) not in streets.columns:
            streets[osm.column_name(tag)] = None

    pois = _typed(_clip_features(raw.pois, polygon, crs, cut=False), crs)
    pois["geometry_type"] = pd.Series(
        pois.geometry.geom_type.to_numpy(), index=pois.index, dtype="str"
    )
    pois = pois.set_geometry(_points_inside(pois, polygon))
    pois["vacant"] = _vacant_mask(pois) if len(pois) else np.zeros(0, dtype=bool)

    stops = _typed(_clip_features(raw.transit_stops, polygon, crs, cut=False), crs)
    stops = stops.set_geometry(_points_inside(stops, polygon))
    kinds, modes = _transit_kind_and_mode(stops) if len(stops) else ([], [])
    stops["kind"] = pd.Series(kinds, index=stops.index, dtype="str")
    stops["mode"] = pd.Series(modes, index=stops.index, dtype="str")

    layers = BaseLayers(
        study_area=area.reset_index(drop=True),
        streets=gpd.GeoDataFrame(streets, geometry="geometry", crs=crs),
        pois=pois,
        buildings=_typed(
            _polygons_only(_clip_features(raw.buildings, polygon, crs, cut=False)), crs
        ),
        landuse=_typed(_polygons_only(_clip_features(raw.landuse, polygon, crs, cut=True)), crs),
        transit_stops=stops,
        walk_graph=build_graph(nodes, segs, mode="walk", crs=crs, lazy=True),
        bike_graph=build_graph(nodes, segs, mode="bike", crs=crs, lazy=True),
    )
    for name, layer in layers.layers().items():
        log.info("%s: %d features", name, len(layer))
    return layers


def _source_fingerprint(config: DistrictConfig) -> dict[str, object]:
    if config.osm.source == "sample":
        path = osm.sample_pbf_path()
    elif config.osm.source in ("pbf", "xml"):
        path = config.osm.extract()  # a missing file says where to download one
    else:
        return {"source": "overpass"}
    stat = path.stat()
    return {"source": config.osm.source, "path": str(path), "size": stat.st_size,
            "mtime": stat.st_mtime_ns}  # fmt: skip


def _cache_key(config: DistrictConfig, area: gpd.GeoDataFrame) -> str:
    payload = {
        "format": _CACHE_FORMAT,
        "version": __version__,
        "source": _source_fingerprint(config),
        "area": shapely.to_wkb(clip_polygon(area), hex=True),
        "crs": CRS.from_user_input(area.crs).to_wkt(),
    }
    blob = json.dumps(payload, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def read_source(config: DistrictConfig, polygon_lonlat: BaseGeometry) -> osm.RawOSM:
    """Read the configured OSM source for an area given in EPSG:4326."""
    source = config.osm.source
    label = area_label(config)  # an area outside the extract is blamed on its setting
    if source == "sample":
        return osm.read_pbf(osm.sample_pbf_path(), polygon_lonlat, area_label=label)
    if source == "pbf":
        assert config.osm.path is not None
        return osm.read_pbf(config.osm.path, polygon_lonlat, area_label=label)
    if source == "xml":
        assert config.osm.path is not None
        return osm.read_xml(config.osm.path, polygon_lonlat, area_label=label)
    return osm.read_overpass(polygon_lonlat, cache_dir=config.osm.resolved_cache_dir)


def load_base_layers(
    config: DistrictConfig, *, area: gpd.GeoDataFrame | None = None, use_cache: bool = True
) -> BaseLayers:
    """Load a district's base layers from its OSM source, reusing the cache.

    Parameters
    ----------
    config : DistrictConfig
        The district configuration.
    area : GeoDataFrame, optional
        The study area, if already computed (:func:`geodistrict.study_area`).
    use_cache : bool, default True
        Reuse layers cached by an earlier load of the same source, area and CRS
        (in ``osm.cache_dir``); the cache key includes the source file's size
        and modification time, so an updated extract is read again.

    Returns
    -------
    BaseLayers

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.datasets.sample_config())
    >>> sorted(layers.layers())[:3]
    ['buildings', 'landuse', 'pois']
    """
    area = study_area(config) if area is None else area
    cache = config.osm.resolved_cache_dir / "layers" / _cache_key(config, area)
    if use_cache and (cache / "layers.pkl").is_file():
        try:
            with (cache / "layers.pkl").open("rb") as handle:
                cached = pickle.load(handle)
            if isinstance(cached, BaseLayers):
                log.info("reusing cached base layers from %s", cache)
                return cached
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
            log.warning("ignoring unreadable cache %s: %s", cache, exc)
    polygon_lonlat = gpd.GeoSeries([clip_polygon(area)], crs=area.crs).to_crs(4326).iloc[0]
    raw = read_source(config, polygon_lonlat)
    layers = base_layers_from_raw(raw, area)
    if use_cache:
        _write_cache(cache, layers)
    return layers


def _write_cache(folder: Path, layers: BaseLayers) -> None:
    """Pickle the layers atomically; a cache that cannot be written is only logged."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as handle:
            pickle.dump(layers, handle, protocol=pickle.HIGHEST_PROTOCOL)
        Path(handle.name).replace(folder / "layers.pkl")
    except OSError as exc:
        log.warning("could not write the cache %s: %s", folder, exc)
        shutil.rmtree(folder, ignore_errors=True)
