"""Writing results: one GeoPackage per district plus one GeoParquet per layer.

Layout under the output root::

    OUT/<district>/<district>.gpkg       every layer, in the working CRS
    OUT/<district>/parquet/<layer>.parquet   one GeoParquet 1.1 per layer, for serving
    OUT/<district>/layers.json           the manifest: what was written, when, from what

Writes are atomic: a run writes complete new files next to the old ones and
renames them into place only when everything succeeded, so a run that fails
midway leaves the previous results readable and unchanged.  Each GeoParquet
file adds ``fid`` (the GeoPackage feature id, 1..n) and a ``bbox`` covering
column, so a server can page by id and filter by bbox; OSM identifiers
(:data:`SERVED_AS_TEXT`) are text there, because OGC API clients truncate
64-bit integers read from JSON, and non-finite numbers are null
(:func:`finite_or_null`), because JSON has no ``Infinity`` or ``NaN``.  Layers not
written by a run (for example with ``--only``) are carried over from the
previous outputs.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import CRS

from geodistrict._version import __version__
from geodistrict.catalogue import layer_info
from geodistrict.errors import OutputError
from geodistrict.styles import write_styles

log = logging.getLogger(__name__)

__all__ = ["MANIFEST", "add_raster", "district_dir", "read_manifest", "write_layers"]

MANIFEST = "layers.json"


def district_dir(out_root: str | os.PathLike[str], district: str) -> Path:
    """The output folder of a district: ``OUT/<district>``."""
    return Path(out_root) / district


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
            out[col] = values.where(finite)
        elif values.dtype == object:
            out[col] = values.map(
                lambda v: None if isinstance(v, float) and not math.isfinite(v) else v
            ).astype(object)
    return out


def _served(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame as served: ``fid`` first, OSM ids as text, non-finite numbers as null.

    ``fid`` is the GeoPackage feature id; see :func:`finite_or_null`.
    """
    served = finite_or_null(gdf)
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


def _layer_entry(name: str, gdf: gpd.GeoDataFrame, *, created: str, source: str) -> dict[str, Any]:
    info = layer_info(name)
    crs = CRS.from_user_input(gdf.crs)
    bbox = (
        [round(float(v), 7) for v in gdf.to_crs(4326).total_bounds]
        if len(gdf) and not gdf.geometry.is_empty.all()
        else None
    )
    geom_types = sorted(set(gdf.geom_type.dropna()))
    return {
        "name": name,
        "title": info.title_en,
        "title_it": info.title_it,
        "description": info.description_en,
        "description_it": info.description_it,
        "geometry_types": geom_types,
        "features": len(gdf),
        "crs": f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else crs.to_wkt(),
        "bbox_crs84": bbox,
        "columns": {c: str(gdf[c].dtype) for c in gdf.columns if c != gdf.geometry.name},
        "source": source,
        "attribution": info.attribution,
        "created": created,
        "gpkg_layer": name,
        "parquet": f"parquet/{name}.parquet",
    }


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``layers.json`` of a district output folder.

    Raises
    ------
    OutputError
        If the folder holds no manifest or it cannot be parsed.
    """
    path = Path(folder) / MANIFEST
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise OutputError(
            f"{str(folder)!r} holds no geodistrict results (no {MANIFEST}); "
            "run 'geodistrict run CONFIG' first"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise OutputError(f"cannot read {str(path)!r}: {exc}") from exc
    return data


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file atomically (temporary file in the same folder, then rename)."""
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False,
        encoding="utf-8",
    ) as handle:  # fmt: skip
        handle.write(text)
    os.chmod(handle.name, 0o644)  # readable by a server running as another user
    os.replace(handle.name, path)


def write_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    out_root: str | os.PathLike[str],
    *,
    district: str,
    title: str = "",
    source: str = "",
    config_file: str | None = None,
    remove: Iterable[str] = (),
) -> dict[str, Any]:
    """Write layers into a district's GeoPackage and GeoParquet files, atomically.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layers to write, by name; all in the working CRS.
    out_root : path-like
        The output root; files go to ``out_root/<district>/``.
    district : str
        District id.
    title : str, optional
        District title, stored in the manifest.
    source : str, optional
        Short description of the data source (e.g. ``"OSM pbf: Helsinki.osm.pbf"``).
    config_file : str, optional
        The configuration that produced the run, stored in the manifest.
    remove : iterable of str, optional
        Layers of an earlier run to delete in the same swap (a step that no
        longer produces them: their old content would be stale), and raster
        files to delete afterwards.

    Returns
    -------
    dict
        The new manifest (also written to ``layers.json``).

    Raises
    ------
    OutputError
        If anything cannot be written; the previous outputs are then untouched.

    Examples
    --------
    >>> import geopandas as gpd, tempfile
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(0, 0)], crs=32632)
    >>> manifest = write_layers({"pois": pts}, tempfile.mkdtemp(), district="demo")
    >>> manifest["layers"]["pois"]["features"]
    1
    """
    folder = district_dir(out_root, district)
    gpkg = folder / f"{district}.gpkg"
    parquet_dir = folder / "parquet"
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        previous = read_manifest(folder) if (folder / MANIFEST).is_file() else {}
    except (OSError, OutputError) as exc:
        raise OutputError(f"cannot prepare output folder {str(folder)!r}: {exc}") from exc

    work = Path(tempfile.mkdtemp(prefix=".run-", dir=folder))
    try:
        new_gpkg = work / gpkg.name
        new_parquet = work / "parquet"
        if gpkg.is_file():
            shutil.copy2(gpkg, new_gpkg)
        if parquet_dir.is_dir():
            shutil.copytree(parquet_dir, new_parquet)
        new_parquet.mkdir(exist_ok=True)
        entries: dict[str, Any] = dict(previous.get("layers", {}))
        rasters: dict[str, Any] = dict(previous.get("rasters", {}))
        for name in set(remove) - set(layers):
            if name in entries:
                _drop_gpkg_layer(new_gpkg, name)
                (new_parquet / f"{name}.parquet").unlink(missing_ok=True)
                del entries[name]
                log.info("removed stale layer %s", name)
            rasters.pop(name, None)
        for name, gdf in layers.items():
            info = layer_info(name)
            # The deliverable holds the same values as the served copy: null, never inf.
            plain = finite_or_null(_plain_strings(gdf.reset_index(drop=True)))
            plain.to_file(
                new_gpkg,
                layer=name,
                driver="GPKG",
                engine="pyogrio",
                layer_options={"IDENTIFIER": info.title_en, "DESCRIPTION": info.description_en},
                # GeoPackage 1.2: read without warnings by the GDAL of older QGIS LTRs.
                dataset_options={"VERSION": "1.2"},
            )
            target = new_parquet / f"{name}.parquet"
            # fid matches the GeoPackage's feature ids (1..n), so both stores share ids;
            # the bbox covering column (GeoParquet 1.1) lets servers filter by bbox.
            served = _served(plain)
            served.to_parquet(
                target, index=False, schema_version="1.1.0", write_covering_bbox=True
            )
            _stamp_parquet(target, _layer_entry(name, gdf, created=created, source=source))
            entries[name] = _layer_entry(name, gdf, created=created, source=source)
            log.info("wrote layer %s (%d features)", name, len(gdf))
        if new_gpkg.is_file():
            write_styles(new_gpkg, {**{n: pd.DataFrame() for n in entries}, **layers})
        manifest = {
            "district": district,
            "title": title or previous.get("title", district),
            "generator": f"geodistrict {__version__}",
            "updated": created,
            "config": config_file or previous.get("config"),
            "attribution": "Map data © OpenStreetMap contributors, ODbL 1.0",
            "gpkg": gpkg.name,
            "layers": entries,
            # Raster files (add_raster) are not rewritten here: keep their entries.
            **({"rasters": rasters} if rasters else {}),
        }
        # Swap in the new files: each rename is atomic; old copies go only after success.
        if new_gpkg.is_file():
            os.replace(new_gpkg, gpkg)
        old_parquet = work / "parquet.old"
        if parquet_dir.is_dir():
            os.replace(parquet_dir, old_parquet)
        os.replace(new_parquet, parquet_dir)
        atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
        for name in set(previous.get("rasters", {})) - set(rasters):
            (folder / name).unlink(missing_ok=True)  # no longer in the manifest: not served
    except Exception as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(
            f"writing results to {str(folder)!r} failed ({exc.__class__.__name__}: {exc}); "
            "the previous results were left in place"
        ) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


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


def _stamp_parquet(path: Path, entry: Mapping[str, Any]) -> None:
    """Add the layer's metadata to the GeoParquet file's key-value metadata."""
    table = pq.read_table(path)
    # All-null columns come out as Arrow "null"; servers and QGIS expect a real type.
    for i, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(
                i, field.with_type(pa.string()), table.column(i).cast(pa.string())
            )
    meta = dict(table.schema.metadata or {})
    meta[b"geodistrict"] = json.dumps(entry, ensure_ascii=False).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def add_raster(
    folder: str | os.PathLike[str],
    name: str,
    write: Callable[[Path], Mapping[str, Any]],
) -> dict[str, Any]:
    """Write a raster file into a district output folder and record it in the manifest.

    ``write(path)`` must write the complete file at ``path`` atomically (a
    temporary file in the same folder, then a rename) and return its
    metadata (title, bands, units...).  The manifest (``layers.json``) gets a
    ``rasters`` section with ``name``, ``file``, the metadata and ``created``;
    it is rewritten atomically too.

    Parameters
    ----------
    folder : path-like
        The district output folder (``OUT/<district>``), next to the GeoPackage.
    name : str
        File name, e.g. ``commercial_density.tif``.
    write : callable
        Writes the file; returns its metadata.

    Returns
    -------
    dict
        The updated manifest.

    Raises
    ------
    OutputError
        If the file or the manifest cannot be written.
    """
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
        manifest = read_manifest(target) if (target / MANIFEST).is_file() else {}
        meta = dict(write(target / name))
    except OutputError:
        raise
    except Exception as exc:
        raise OutputError(
            f"cannot write the raster {name!r} into {str(target)!r} "
            f"({exc.__class__.__name__}: {exc})"
        ) from exc
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    rasters = dict(manifest.get("rasters", {}))
    rasters[name] = {"name": name, "file": name, **meta, "created": created}
    manifest["rasters"] = rasters
    try:
        atomic_write_text(target / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    except OSError as exc:
        raise OutputError(f"cannot update the manifest in {str(target)!r}: {exc}") from exc
    log.info("wrote raster %s", target / name)
    return manifest
