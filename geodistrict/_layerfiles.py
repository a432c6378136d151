"""How one layer is written: the GeoPackage table and the served GeoParquet file.

The version bookkeeping (transactions, manifest, switch) is in
:mod:`geodistrict.store`; these are the file-level pieces it uses, and
:func:`finite_or_null`, which the PostGIS loader shares.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

from geodistrict.errors import OutputError

__all__ = ["SERVED_AS_TEXT", "finite_or_null"]


def _plain_strings(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """String columns as Python objects, which Arrow writes as ``string`` (not ``large_string``).

    pygeoapi's Parquet provider does not handle ``large_string``.
    """
    out = gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


#: OSM identifiers: 64-bit integers in the GeoPackage, text when served.  JSON has no
#: 64-bit integer type that clients honour: GDAL's OAPIF client (QGIS) infers field
#: types from the first page and truncates larger ids to 32 bits.
SERVED_AS_TEXT = ("osm_id", "osmid", "u", "v")


def finite_or_null(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy with every non-finite number (``inf``, ``-inf``, ``NaN``) as null.

    Served data say "unknown / not reachable" with null: JSON has no infinity
    (Python writes ``Infinity``, which ``JSON.parse`` rejects) and Arrow, SQL
    and GDAL readers treat null, not NaN, as missing.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame({"d": [1.0, float("inf")]}, geometry=[Point(0, 0)] * 2)
    >>> finite_or_null(pts)["d"].isna().tolist()
    [False, True]
    """
    out = frame.copy()
    geometry = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geometry:
            continue
        values = out[col]
        if pd.api.types.is_float_dtype(values.dtype):
            finite = np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
            if not finite.all():
                out[col] = values.where(finite)
        elif values.dtype == object:
            cells = values.to_numpy()
            bad = np.fromiter(
                (isinstance(v, float) and not math.isfinite(v) for v in cells), bool, len(cells)
            )
            if bad.any():
                cells = cells.copy()
                cells[bad] = None
                out[col] = pd.Series(cells, index=out.index, dtype=object)
    return out


def _served(gdf: gpd.GeoDataFrame, *, finite: bool = False) -> gpd.GeoDataFrame:
    """The frame as served: ``fid`` first, OSM ids as text, non-finite numbers as null.

    ``fid`` is the GeoPackage feature id; see :func:`finite_or_null` (skipped when
    ``finite`` says the frame went through it already).
    """
    served = gdf.copy() if finite else finite_or_null(gdf)
    for col in SERVED_AS_TEXT:
        if col in served.columns:
            # object dtype: pandas 3 would store a list of str as Arrow large_string.
            served[col] = pd.Series(
                [None if pd.isna(v) else str(int(v)) for v in served[col]],
                index=served.index,
                dtype=object,
            )
    served.insert(0, "fid", range(1, len(served) + 1))
    return served


def _lonlat_bounds(gdf: gpd.GeoDataFrame) -> list[float]:
    """``gdf.to_crs(4326).total_bounds`` rounded to 7 decimals, without building geometries.

    The vertices go through the same transformer ``to_crs`` uses, so the
    numbers are the same.
    """
    from pyproj import Transformer

    xy = shapely.get_coordinates(gdf.geometry.to_numpy())
    if CRS.from_user_input(gdf.crs).equals(CRS.from_epsg(4326)):
        lon, lat = xy[:, 0], xy[:, 1]
    else:
        transformer = Transformer.from_crs(gdf.crs, 4326, always_xy=True)
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
    return [round(float(v), 7) for v in (np.min(lon), np.min(lat), np.max(lon), np.max(lat))]


def _gpkg_tables(gpkg: Path) -> set[str]:
    import sqlite3

    if not gpkg.is_file():
        return set()
    try:
        with contextlib.closing(sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)) as db:
            return {row[0] for row in db.execute("SELECT table_name FROM gpkg_contents")}
    except sqlite3.Error as exc:
        raise OutputError(f"cannot read the GeoPackage {str(gpkg)!r}: {exc}") from exc


#: GDAL's SQLite settings while a transaction writes its private GeoPackage.
_UNSYNCED_SQLITE = {"OGR_SQLITE_SYNCHRONOUS": "OFF", "OGR_SQLITE_JOURNAL": "MEMORY"}


@contextlib.contextmanager
def _unsynced_sqlite() -> Iterator[None]:
    """GeoPackage writes without SQLite's sync and journal file for each layer.

    By default SQLite syncs the file to disk at the end of every statement
    batch: about 0.1 s per layer here, most of a run's writing time.  The
    GeoPackage a transaction writes is its own copy in the new version, which
    is synced to disk as a whole (:func:`~geodistrict._outdir.fsync_tree`)
    before readers are switched to it and thrown away if anything fails, so the
    per-statement sync and the rollback journal protect nothing here.
    """
    import pyogrio

    before = {name: pyogrio.get_gdal_config_option(name) for name in _UNSYNCED_SQLITE}
    pyogrio.set_gdal_config_options(_UNSYNCED_SQLITE)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)  # None unsets an option


def _drop_gpkg_layer(gpkg: Path, name: str) -> None:
    """Delete a layer and its GeoPackage bookkeeping (contents, spatial index, styles)."""
    import sqlite3

    if not gpkg.is_file():
        return
    with sqlite3.connect(gpkg) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if name not in tables:
            return
        # The spatial index is a virtual table; dropping it drops its shadow tables.
        virtual = "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'"
        for (index,) in db.execute(virtual).fetchall():
            if index.startswith(f"rtree_{name}_"):
                db.execute(f'DROP TABLE "{index}"')
        db.execute(f'DROP TABLE "{name}"')
        for table, column in (
            ("gpkg_contents", "table_name"),
            ("gpkg_geometry_columns", "table_name"),
            ("gpkg_extensions", "table_name"),
            ("gpkg_ogr_contents", "table_name"),
            ("gpkg_metadata_reference", "table_name"),
            ("layer_styles", "f_table_name"),
        ):
            if table in tables:
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (name,))


def _write_parquet(frame: gpd.GeoDataFrame, path: Path, entry: Mapping[str, Any]) -> None:
    """Write the served frame as GeoParquet 1.1 with the layer's metadata, in one pass.

    The bbox covering column (GeoParquet 1.1) lets servers filter by bbox.
    geopandas builds the Arrow table (its ``geo`` metadata and covering column);
    if its internal builder ever changes, the file is written by geopandas and
    read back instead (same bytes, one more pass).
    """
    try:
        from geopandas.io.arrow import _geopandas_to_arrow

        table = _geopandas_to_arrow(
            frame, index=False, schema_version="1.1.0", write_covering_bbox=True
        )
    except (ImportError, TypeError):
        frame.to_parquet(path, index=False, schema_version="1.1.0", write_covering_bbox=True)
        table = pq.read_table(path)
    _stamp_table(table, path, entry)


def _stamp_table(table: pa.Table, path: Path, entry: Mapping[str, Any]) -> None:
    """Write ``table`` to ``path`` with the layer's metadata in its key-value metadata."""
    # All-null columns come out as Arrow "null"; servers and QGIS expect a real type.
    for i, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(
                i, field.with_type(pa.string()), table.column(i).cast(pa.string())
            )
    meta = dict(table.schema.metadata or {})
    meta[b"geodistrict"] = json.dumps(entry, ensure_ascii=False).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
