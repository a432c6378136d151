"""In-memory snapshots of the served GeoParquet files: one per file version.

The GeoParquet provider (:class:`geodistrict.publish.providers.GeoParquetProvider`)
answers ``items`` requests from a :class:`Snapshot` of the file: the
properties as a pyarrow table (non-finite numbers already null), the
geometries decoded once into a shapely array with their bounds, and, made on
first use, a copy reprojected (vectorised, with the same pyproj pipeline
pygeoapi would use per feature) into each CRS asked for.  A snapshot is keyed
by the file's *version* (real path, modification time in ns and size, see
:func:`file_version`): a later run switches the ``current`` link, the path
resolves to another file and a new snapshot is made; the old one ages out.

So ``numberMatched`` is exact and costs nothing without filters (the row
count), and a filter costs one vectorised pass: property equality and the
``datetime`` range as a pyarrow expression, ``bbox`` as an overlap of the
feature bounds refined by an exact ``intersects`` (the semantics of PostGIS'
``ST_Intersects`` and of geopandas' ``.cx``).

Snapshots together stay under ``GEODISTRICT_SERVE_CACHE_MB`` megabytes per
server process (default :data:`DEFAULT_CACHE_MB`; least recently used go
first).  A file too large for it is scanned instead (:func:`scan`): the same
filter pushed down to pyarrow (row groups skipped by the statistics of the
GeoParquet ``bbox`` covering column), batch by batch, with its counts cached
per file version and filter.

Examples
--------
>>> import geopandas as gpd, tempfile
>>> from shapely.geometry import Point
>>> path = tempfile.mkdtemp() + "/p.parquet"
>>> frame = gpd.GeoDataFrame({"fid": [1, 2, 3], "kind": ["a", "b", "a"]},
...     geometry=[Point(0, 0), Point(5, 5), Point(9, 9)], crs="EPSG:32632")
>>> frame.to_parquet(path, write_covering_bbox=True)
>>> snap = snapshot(path)
>>> snap.rows, snap.select(Query(bbox=(4.0, 4.0, 10.0, 10.0))).tolist()
(3, [1, 2])
>>> snap.select(Query(properties=(("kind", "a"),))).tolist()
[0, 2]
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import shapely

log = logging.getLogger(__name__)

__all__ = [
    "CACHE_ENV",
    "DEFAULT_CACHE_MB",
    "Query",
    "Snapshot",
    "cache_limit_bytes",
    "clear",
    "file_version",
    "scan",
    "snapshot",
    "transformer",
]

#: The environment variable bounding the snapshots of one server process (MB).
CACHE_ENV = "GEODISTRICT_SERVE_CACHE_MB"
DEFAULT_CACHE_MB = 512.0
#: Rows read per batch when a file is scanned instead of held in memory.
SCAN_BATCH = 65_536

_LOCK = threading.RLock()
_SNAPSHOTS: OrderedDict[tuple[str, int, int, int], Snapshot] = OrderedDict()
#: Counts of scanned files: (version, query) -> numberMatched.
_COUNTS: OrderedDict[tuple[Any, ...], int] = OrderedDict()
_TOO_LARGE: set[tuple[str, int, int, int]] = set()

Version = tuple[str, int, int, int]


def file_version(source: str | os.PathLike[str]) -> Version:
    """``(path, inode, mtime in ns, size)`` of the file a path leads to now.

    Links are followed: when a run switches ``OUT/<district>/current``, the
    same path leads to another inode, so to another version.
    """
    stat = os.stat(source)
    return os.fspath(source), stat.st_ino, stat.st_mtime_ns, stat.st_size


def cache_limit_bytes() -> int:
    """The snapshots' bound in bytes (``GEODISTRICT_SERVE_CACHE_MB``, default 512)."""
    try:
        megabytes = float(os.environ.get(CACHE_ENV, DEFAULT_CACHE_MB))
    except ValueError:
        megabytes = DEFAULT_CACHE_MB
    return int(max(megabytes, 0.0) * 1e6)


def clear() -> None:
    """Forget every snapshot and cached count (tests; a process that must free memory)."""
    with _LOCK:
        _SNAPSHOTS.clear()
        _COUNTS.clear()
        _TOO_LARGE.clear()


@lru_cache(maxsize=64)
def transformer(source_wkt: str, target_wkt: str, always_xy: bool) -> Any:
    """pyproj's transformer between two CRSs (as pygeoapi builds it), memoised."""
    import pyproj

    return pyproj.Transformer.from_crs(
        pyproj.CRS.from_wkt(source_wkt), pyproj.CRS.from_wkt(target_wkt), always_xy=always_xy
    )


def _project(geometry: np.ndarray, project: Any) -> np.ndarray:
    """Every coordinate of a shapely array through a pyproj transformer, in one call per
    dimensionality (2-D and 3-D geometries keep theirs)."""

    def xy(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(project.transform(coords[:, 0], coords[:, 1]))

    def xyz(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(project.transform(coords[:, 0], coords[:, 1], coords[:, 2]))

    out = geometry.copy()
    present = ~shapely.is_missing(geometry)
    has_z = present & shapely.has_z(geometry)
    flat = present & ~has_z
    if flat.any():
        out[flat] = shapely.transform(geometry[flat], xy)
    if has_z.any():
        out[has_z] = shapely.transform(geometry[has_z], xyz, include_z=True)
    return out


@dataclass(frozen=True)
class Query:
    """The filters of an ``items`` request, in the storage CRS.

    ``bbox`` is ``(minx, miny, maxx, maxy)``; ``properties`` are
    ``(name, value)`` equalities, values already of the column's type;
    ``time`` is ``(field, begin, end)`` with ``None`` for an open end, or
    ``(field, instant, instant)`` for one instant.
    """

    bbox: tuple[float, float, float, float] | None = None
    properties: tuple[tuple[str, Any], ...] = ()
    time: tuple[str, Any, Any] | None = None

    @property
    def empty(self) -> bool:
        """True when nothing is filtered."""
        return self.bbox is None and not self.properties and self.time is None

    def expression(self, schema: pa.Schema, *, covering: bool) -> pads.Expression | None:
        """The filter as a pyarrow expression (bbox as an overlap of the covering column)."""
        parts = []
        for name, value in self.properties:
            kind = schema.field(name).type
            parts.append(pc.field(name) == pa.scalar(value).cast(kind))
        if self.time is not None:
            name, begin, end = self.time
            if begin is not None and begin == end:
                parts.append(pc.field(name) == pa.scalar(begin))
            else:
                if begin is not None:
                    parts.append(pc.field(name) >= pa.scalar(begin))
                if end is not None:
                    parts.append(pc.field(name) <= pa.scalar(end))
        if self.bbox is not None and covering:
            minx, miny, maxx, maxy = self.bbox
            parts += [
                pc.field("bbox", "xmin") <= maxx,
                pc.field("bbox", "xmax") >= minx,
                pc.field("bbox", "ymin") <= maxy,
                pc.field("bbox", "ymax") >= miny,
            ]
        if not parts:
            return None
        expression = parts[0]
        for part in parts[1:]:
            expression = expression & part
        return expression


def _finite(table: pa.Table) -> pa.Table:
    """``table`` with every NaN and ±inf of its float columns as null (JSON has neither)."""
    for i, column in enumerate(table.columns):
        if pa.types.is_floating(column.type):
            keep = pc.fill_null(pc.is_finite(column), False)
            cleaned = pc.if_else(keep, column, pa.nulls(len(column), column.type))
            table = table.set_column(i, table.field(i), cleaned)
    return table


@dataclass
class Snapshot:
    """One version of a GeoParquet file, decoded for serving (see the module)."""

    table: pa.Table
    geometry: np.ndarray
    bounds: np.ndarray
    nbytes: int
    projected: dict[tuple[str, str, bool], np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_table(cls, table: pa.Table, geometry_column: str | None = "geometry") -> Snapshot:
        """Decode a table read from a GeoParquet file (WKB geometry, optional bbox column)."""
        if geometry_column and geometry_column in table.column_names:
            wkb = table.column(geometry_column).combine_chunks()
            geometry = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False))
            table = table.drop_columns([geometry_column])
            geometry_bytes = int(wkb.nbytes)
        else:
            geometry = np.full(table.num_rows, None, dtype=object)
            geometry_bytes = 0
        if "bbox" in table.column_names and pa.types.is_struct(table.schema.field("bbox").type):
            table = table.drop_columns(["bbox"])
        bounds = shapely.bounds(geometry)
        table = _finite(table).combine_chunks()
        # WKB size x2: GEOS holds coordinates plus per-geometry overhead.
        nbytes = int(table.nbytes + 2 * geometry_bytes + bounds.nbytes)
        return cls(table=table, geometry=geometry, bounds=bounds, nbytes=nbytes)

    @property
    def flat(self) -> bool:
        """True when every property column is a plain value (no lists, maps or structs),
        so non-finite floats are all null already."""
        return not any(pa.types.is_nested(t) for t in self.table.schema.types)

    @property
    def rows(self) -> int:
        """Number of features."""
        return int(self.table.num_rows)

    def select(self, query: Query) -> np.ndarray:
        """Positions of the features matching ``query``, in file order."""
        mask = np.ones(self.rows, dtype=bool)
        expression = query.expression(self.table.schema, covering=False)
        if expression is not None:
            rows = pa.table({"__row": np.arange(self.rows)})
            for name in self.table.column_names:
                rows = rows.append_column(name, self.table.column(name))
            kept = rows.filter(expression).column("__row").to_numpy()
            mask[:] = False
            mask[kept] = True
        if query.bbox is not None:
            minx, miny, maxx, maxy = query.bbox
            b = self.bounds
            with np.errstate(invalid="ignore"):  # empty/missing geometries have NaN bounds
                mask &= (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy)
                mask &= b[:, 3] >= miny
            candidates = np.flatnonzero(mask)
            exact = shapely.intersects(self.geometry[candidates], shapely.box(*query.bbox))
            mask[candidates[~exact]] = False
        return np.flatnonzero(mask)

    def geometry_in(self, crs_key: tuple[str, str, bool] | None) -> np.ndarray:
        """The geometries in the storage CRS (``None``) or reprojected, made once per CRS."""
        if crs_key is None:
            return self.geometry
        with _LOCK:
            done = self.projected.get(crs_key)
        if done is None:
            done = _project(self.geometry, transformer(*crs_key))
            with _LOCK:
                self.projected[crs_key] = done
                self.nbytes += self.nbytes_of_geometry()
        return done

    def nbytes_of_geometry(self) -> int:
        """Rough size of one copy of the geometries (2 x 16 bytes per coordinate)."""
        return int(32 * shapely.get_num_coordinates(self.geometry).sum())

    def features(
        self,
        rows: np.ndarray,
        *,
        id_field: str | None,
        columns: Sequence[str] | None = None,
        crs_key: tuple[str, str, bool] | None = None,
        skip_geometry: bool = False,
    ) -> list[dict[str, Any]]:
        """GeoJSON features of ``rows`` (positions), properties in ``columns`` order."""
        table = self.table.take(pa.array(rows, type=pa.int64()))
        names = [c for c in (columns or table.column_names) if c in table.column_names]
        properties = table.select(names).to_pylist()
        if id_field and id_field in table.column_names:
            # as geopandas' __geo_interface__ (pygeoapi's Parquet provider) writes them
            ids: list[Any] = [str(i) for i in table.column(id_field).to_pylist()]
        else:
            ids = [str(r) for r in rows]
        if skip_geometry:
            shapes: list[Any] = [None] * len(rows)
        else:
            shapes = [_mapping(g) for g in self.geometry_in(crs_key)[rows]]
        return [
            {"type": "Feature", "id": i, "properties": p, "geometry": g}
            for i, p, g in zip(ids, properties, shapes, strict=True)
        ]


def _mapping(geometry: Any) -> dict[str, Any] | None:
    """GeoJSON mapping of one shapely geometry (``None`` for a missing one)."""
    return None if geometry is None else geometry.__geo_interface__


def _remember(key: Version, snap: Snapshot, limit: int) -> None:
    with _LOCK:
        _SNAPSHOTS[key] = snap
        _SNAPSHOTS.move_to_end(key)
        # Older versions of the same path are gone for good.
        for old in [k for k in _SNAPSHOTS if k[0] == key[0] and k != key]:
            del _SNAPSHOTS[old]
        while len(_SNAPSHOTS) > 1 and sum(s.nbytes for s in _SNAPSHOTS.values()) > limit:
            evicted, _ = _SNAPSHOTS.popitem(last=False)
            log.info("serving cache: dropped %s", evicted[0])


def snapshot(source: str | os.PathLike[str], *, limit: int | None = None) -> Snapshot | None:
    """The snapshot of the file's current version, or ``None`` if it exceeds the bound."""
    key = file_version(source)
    limit = cache_limit_bytes() if limit is None else limit
    with _LOCK:
        snap = _SNAPSHOTS.get(key)
        if snap is not None:
            _SNAPSHOTS.move_to_end(key)
            return snap
        if key in _TOO_LARGE:
            return None
    import pyarrow.parquet as pq

    real = os.path.realpath(key[0])  # this version's file, whatever the links do next
    if file_version(real)[1:] != key[1:]:
        return snapshot(source, limit=limit)  # switched meanwhile: take the new one
    metadata = pq.read_metadata(real)
    uncompressed = sum(
        metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)
    )
    if uncompressed > limit:
        with _LOCK:
            _TOO_LARGE.add(key)
        log.info("serving cache: %s (%d MB) is scanned per request", key[0], uncompressed // 10**6)
        return None
    geometry_column = _geometry_column_of(metadata.schema.to_arrow_schema())
    snap = Snapshot.from_table(pq.read_table(real), geometry_column)
    _remember(key, snap, limit)
    return snap


def scan(
    source: str | os.PathLike[str],
    query: Query,
    *,
    offset: int,
    limit: int,
    id_field: str | None,
    columns: Sequence[str] | None = None,
    crs_key: tuple[str, str, bool] | None = None,
    skip_geometry: bool = False,
    dataset: pads.Dataset | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """``(numberMatched, features)`` of a file too large to hold, read batch by batch.

    The filter is pushed down to pyarrow (row groups outside the bbox are
    skipped by the statistics of the covering column); geometries are decoded
    only for the batches that hold wanted rows or need the exact bbox test.
    The count of a (file version, query) is cached, so the next page of the
    same query reads only up to its rows.
    """
    key = file_version(source)
    dataset = dataset if dataset is not None else pads.dataset(os.path.realpath(key[0]))
    schema = dataset.schema
    geometry_column = _geometry_column_of(schema)
    covering = "bbox" in schema.names and pa.types.is_struct(schema.field("bbox").type)
    expression = query.expression(schema, covering=covering)
    count_key = (key, query)
    with _LOCK:
        known = _COUNTS.get(count_key)
    matched = 0
    features: list[dict[str, Any]] = []
    for batch in _batches(dataset, expression):
        table = pa.Table.from_batches([batch])
        wanted = offset - matched, offset + limit - matched
        need_rows = wanted[1] > 0 and wanted[0] < table.num_rows
        if query.bbox is None and not need_rows:
            matched += table.num_rows
            if known is not None and matched >= offset + limit:
                break
            continue
        snap = Snapshot.from_table(table, geometry_column)
        rows = snap.select(Query(bbox=query.bbox))  # other filters already applied
        page = rows[max(wanted[0], 0) : max(wanted[1], 0)]
        if len(page):
            features += snap.features(page, id_field=id_field, columns=columns,
                                      crs_key=crs_key, skip_geometry=skip_geometry)  # fmt: skip
        matched += len(rows)
        if known is not None and matched >= offset + limit:
            break
    if known is None:
        with _LOCK:
            _COUNTS[count_key] = matched
            while len(_COUNTS) > 1024:
                _COUNTS.popitem(last=False)
        known = matched
    return known, features


def _geometry_column_of(schema: pa.Schema) -> str | None:
    """The GeoParquet primary geometry column named by a schema's metadata (or None)."""
    import json

    meta = schema.metadata or {}
    if b"geo" not in meta:
        return None
    return str(json.loads(meta[b"geo"]).get("primary_column") or "") or None


def _batches(dataset: pads.Dataset, expression: Any) -> Iterator[pa.RecordBatch]:
    scanner = dataset.scanner(filter=expression, batch_size=SCAN_BATCH, batch_readahead=2)
    yield from scanner.to_batches()
