"""Pre-built vector tiles (MVT) of a district's line and polygon layers.

:func:`write_tiles` cuts every line and polygon layer of an output folder into
Mapbox Vector Tiles of the WebMercatorQuad tile matrix set, one folder per
layer laid out as tippecanoe lays it out (``<layer>/{z}/{x}/{y}.pbf`` and a
``metadata.json``), so pygeoapi's ``MVT-tippecanoe`` provider serves them as
OGC API - Tiles (``/collections/<id>/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt``)
with no database: :func:`tile_provider` is that provider's definition, added
to each collection by :func:`geodistrict.publish.pygeoapi_config` when it is
given a ``tiles_dir`` (for PostGIS tables, :func:`postgis_tile_provider`:
pygeoapi's ``MVT-postgresql`` provider, tiles made by the database).  QGIS
opens them as a vector tile layer; web maps (MapLibre, OpenLayers,
Leaflet.VectorGrid) read the same URL template.

Beside the folders, :func:`write_tiles` writes one MBTiles file per district
(``<to>.mbtiles``, :func:`write_mbtiles`): the same tiles in one SQLite file
(MBTiles 1.3: every layer of a tile in one gzip-compressed MVT, rows in TMS
order, ``metadata`` with ``name``, ``format=pbf``, ``json`` listing the
``vector_layers``, ``bounds``, ``minzoom``/``maxzoom`` and ``attribution``),
which QGIS opens with no network (*Layer > Add Layer > Add Vector Tile Layer*,
or a ``type=mbtiles&url=<file>`` data source).

Each tile holds one MVT layer named after the layer, features with their
``fid`` as id and their properties (nulls and non-finite numbers left out, as
MVT has no null), geometries clipped to the tile plus a buffer of
:data:`BUFFER` units of :data:`EXTENT`, so lines and polygon edges join
across tiles.  Tiles without features are not written: pygeoapi answers 204
for a tile inside the zoom range with no file.

Examples
--------
>>> import geodistrict as gd, tempfile
>>> out = tempfile.mkdtemp()
>>> _ = gd.run(gd.datasets.sample_config(), out=out)
>>> written = write_tiles(f"{out}/sample", f"{out}/tiles", zooms=(14, 15))
>>> "streets" in written and "pois" not in written  # points stay OGC API Features
True
>>> (written["streets"] / "metadata.json").is_file()
True
>>> read_mbtiles_metadata(f"{out}/tiles.mbtiles")["format"]
'pbf'
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geodistrict.errors import OutputError, ParameterError
from geodistrict.store import current_version, read_manifest

log = logging.getLogger(__name__)

__all__ = [
    "BUFFER",
    "DEFAULT_ZOOMS",
    "EXTENT",
    "MVT_MIMETYPE",
    "postgis_tile_provider",
    "read_mbtiles_metadata",
    "tile_bounds",
    "tile_provider",
    "tileable_layers",
    "tiles_covering",
    "write_mbtiles",
    "write_tiles",
]

#: Tile coordinates per side (the MVT default).
EXTENT = 4096
#: Geometry kept beyond each tile edge, in tile units (as tippecanoe's default).
BUFFER = 64
#: Zoom levels written by default: a town (z10, ~40 km tiles) down to blocks (z16).
DEFAULT_ZOOMS = (10, 16)
MVT_MIMETYPE = "application/vnd.mapbox-vector-tile"
#: Half the side of the WebMercatorQuad square (metres of EPSG:3857).
_HALF = 20037508.342789244
_LINES_AND_POLYGONS = {"LineString", "MultiLineString", "Polygon", "MultiPolygon"}
#: Attribution of a tile set whose layers name none (every layer comes from OSM).
DEFAULT_ATTRIBUTION = "© OpenStreetMap contributors"


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """EPSG:3857 bounds ``(minx, miny, maxx, maxy)`` of WebMercatorQuad tile z/x/y.

    >>> [round(v) for v in tile_bounds(1, 0, 0)]
    [-20037508, 0, 0, 20037508]
    """
    size = 2 * _HALF / 2**z
    return (-_HALF + x * size, _HALF - (y + 1) * size, -_HALF + (x + 1) * size, _HALF - y * size)


def tiles_covering(
    bounds: Iterable[float], z: int
) -> tuple[range, range]:  # fmt: skip
    """Column and row ranges of the zoom-``z`` tiles over EPSG:3857 ``bounds``.

    >>> tiles_covering((-1.0, -1.0, 1.0, 1.0), 1)
    (range(0, 2), range(0, 2))
    """
    minx, miny, maxx, maxy = bounds
    size = 2 * _HALF / 2**z
    last = 2**z - 1

    def index(value: float) -> int:
        return min(max(math.floor(value / size), 0), last)

    columns = range(index(minx + _HALF), index(maxx + _HALF) + 1)
    rows = range(index(_HALF - maxy), index(_HALF - miny) + 1)
    return columns, rows


def tileable_layers(manifest: Mapping[str, Any]) -> list[str]:
    """Names of the manifest's layers whose geometries are all lines or polygons."""
    names = []
    for name, entry in manifest["layers"].items():
        kinds = set(entry.get("geometry_types") or [])
        if kinds and kinds <= _LINES_AND_POLYGONS:
            names.append(name)
    return names


def _mvt_value(value: Any) -> Any:
    """A property value MVT can carry (str, int, float, bool), or None to leave it out."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    return str(value)  # dates, decimals: as text


def _layer_tiles(
    name: str, frame: Any, target: Path, zooms: tuple[int, int]
) -> dict[str, Any]:  # fmt: skip
    """Write one layer's tiles into ``target``; return its metadata.json content."""
    import mapbox_vector_tile

    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty].to_crs(3857)
    columns = [c for c in frame.columns if c not in (frame.geometry.name, "bbox")]
    records = frame[columns].to_dict("records")
    properties = [
        {k: v for k, v in ((k, _mvt_value(v)) for k, v in row.items()) if v is not None}
        for row in records
    ]
    ids = frame["fid"].astype("int64").tolist() if "fid" in frame else list(range(len(frame)))
    geometry = np.asarray(frame.geometry.values, dtype=object)
    tree = shapely.STRtree(geometry)
    written = 0
    for z in range(zooms[0], zooms[1] + 1):
        columns_, rows = tiles_covering(frame.total_bounds, z)
        unit = 2 * _HALF / 2**z / EXTENT  # one tile unit, in metres at this zoom
        pad = BUFFER * unit
        # Vertices closer than half a tile unit would land on the same integer: drop them.
        shapes = shapely.simplify(geometry, unit / 2, preserve_topology=True)
        for x in columns_:
            for y in rows:
                minx, miny, maxx, maxy = tile_bounds(z, x, y)
                padded = (minx - pad, miny - pad, maxx + pad, maxy + pad)
                hits = tree.query(shapely.box(*padded), predicate="intersects")
                if not len(hits):
                    continue
                clipped = shapely.clip_by_rect(shapes[hits], *padded)
                # To integer tile coordinates in one vectorised pass: the very numbers
                # the encoder's own per-vertex Python quantisation would give.
                scale = np.array([EXTENT / (maxx - minx), EXTENT / (maxy - miny)])
                local = shapely.set_coordinates(
                    clipped.copy(),
                    np.round(scale * (shapely.get_coordinates(clipped) - [minx, miny])),
                )
                features = [
                    {"geometry": g, "properties": properties[i], "id": ids[i]}
                    for i, g, c in zip(hits.tolist(), local, clipped, strict=True)
                    if not c.is_empty
                ]
                if not features:
                    continue
                tile = mapbox_vector_tile.encode(
                    [{"name": name, "features": features}],
                    default_options={"extents": EXTENT},
                )
                path = target / str(z) / str(x) / f"{y}.pbf"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(tile)
                written += 1
    west, south, east, north = frame.to_crs(4326).total_bounds if len(frame) else (0, 0, 0, 0)
    fields = {c: _field_type(frame[c]) for c in columns}
    log.info("tiles of %s: %d tiles, zoom %d-%d", name, written, *zooms)
    return {
        "name": name,
        "format": "pbf",
        "minzoom": str(zooms[0]),
        "maxzoom": str(zooms[1]),
        "bounds": f"{west},{south},{east},{north}",
        "center": f"{(west + east) / 2},{(south + north) / 2},{zooms[0]}",
        "type": "overlay",
        "json": json.dumps(
            {
                "vector_layers": [
                    {
                        "id": name,
                        "description": "",
                        "minzoom": zooms[0],
                        "maxzoom": zooms[1],
                        "fields": fields,
                    }
                ]
            }
        ),
        "tiles": written,
    }


def _field_type(column: Any) -> str:
    kind = getattr(column.dtype, "kind", "O")
    return {"b": "Boolean", "i": "Number", "u": "Number", "f": "Number"}.get(kind, "String")


def write_tiles(
    folder: str | os.PathLike[str],
    to: str | os.PathLike[str],
    *,
    layers: Iterable[str] | None = None,
    zooms: tuple[int, int] = DEFAULT_ZOOMS,
    mbtiles: bool = True,
) -> dict[str, Path]:
    """Write MVT tiles of a district's line and polygon layers; return their folders.

    Parameters
    ----------
    folder : path-like
        District output folder (``OUT/<district>``); its current version is read.
    to : path-like
        Where to write: one folder per layer, ``<to>/<layer>/{z}/{x}/{y}.pbf``
        and ``<to>/<layer>/metadata.json`` (replaced whole, atomically per layer).
    layers : iterable of str, optional
        Layers to tile; default every line and polygon layer
        (:func:`tileable_layers`).
    zooms : (int, int)
        Lowest and highest zoom level, within 0-22.
    mbtiles : bool
        Also write every layer's tiles into one MBTiles file beside ``to``,
        ``<to>.mbtiles`` (:func:`write_mbtiles`; e.g. ``tiles/<district>.mbtiles``
        beside ``tiles/<district>/``).  Default true.

    Returns
    -------
    dict
        Layer name -> its tile folder.

    Raises
    ------
    ParameterError
        If ``zooms`` is not a range within 0-22 or a layer is unknown.
    """
    import geopandas as gpd

    low, high = zooms
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high <= 22):
        raise ParameterError(
            f"zooms must be two zoom levels 0 <= low <= high <= 22, got {zooms!r}"
        )
    version = current_version(folder)
    manifest = read_manifest(version)
    wanted = list(layers) if layers is not None else tileable_layers(manifest)
    unknown = [n for n in wanted if n not in manifest["layers"]]
    if unknown:
        raise ParameterError(
            f"no layer {unknown[0]!r} in {os.fspath(folder)!r}; layers: "
            f"{', '.join(manifest['layers'])}"
        )
    target = Path(to)
    target.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in wanted:
        frame = gpd.read_parquet(version / manifest["layers"][name]["parquet"])
        staging = target / f".{name}.{os.getpid()}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            metadata = _layer_tiles(name, frame, staging, (low, high))
            (staging / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
            final = target / name
            old = target / f".{name}.{os.getpid()}.old"
            if final.exists():
                final.rename(old)
            staging.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(f"cannot write the tiles of {name!r} into {target}: {exc}") from exc
        written[name] = final
    if mbtiles and written:
        attributions = {manifest["layers"][n].get("attribution") or "" for n in written}
        write_mbtiles(
            written,
            target.resolve().with_name(f"{target.resolve().name}.mbtiles"),
            name=str(manifest.get("title") or manifest.get("district") or target.name),
            attribution="; ".join(sorted(a for a in attributions if a)) or DEFAULT_ATTRIBUTION,
        )
    return written


def _tile_files(folder: Path) -> Iterator[tuple[int, int, int, Path]]:
    """``(z, x, y, path)`` of every ``{z}/{x}/{y}.pbf`` under a layer's tile folder."""
    for zdir in folder.iterdir():
        if not (zdir.is_dir() and zdir.name.isdigit()):
            continue
        for xdir in zdir.iterdir():
            if not (xdir.is_dir() and xdir.name.isdigit()):
                continue
            for path in xdir.glob("*.pbf"):
                if path.stem.isdigit():
                    yield int(zdir.name), int(xdir.name), int(path.stem), path


def write_mbtiles(
    folders: Mapping[str, str | os.PathLike[str]],
    path: str | os.PathLike[str],
    *,
    name: str,
    attribution: str = DEFAULT_ATTRIBUTION,
    description: str = "",
) -> Path:
    """Write layers' tile folders (:func:`write_tiles`) as one MBTiles 1.3 file.

    Every tile of the file holds the MVT layers of all the folders that have
    that tile (an MVT tile is a list of layers: the layers' encoded tiles are
    concatenated, in the order of ``folders``), gzip-compressed, its row in TMS
    order (``2**z - 1 - y``: row 0 in the south).  ``metadata`` holds ``name``,
    ``format`` (``pbf``), ``json`` (``vector_layers`` of every layer, with
    its fields and zoom range), ``bounds`` and ``center`` (WGS84, the union of
    the layers'), ``minzoom``, ``maxzoom``, ``attribution``, ``description``,
    ``type`` (``overlay``) and ``version``.

    Parameters
    ----------
    folders : mapping
        Layer name -> its tile folder (with the ``metadata.json`` written by
        :func:`write_tiles`), e.g. the result of :func:`write_tiles`.
    path : path-like
        The ``.mbtiles`` file, replaced whole (written beside it, then renamed).
    name, attribution, description : str
        The tile set's name, its attribution (shown by QGIS and web maps) and
        description.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ParameterError
        If ``folders`` is empty or a folder has no ``metadata.json``.
    OutputError
        If the file cannot be written.
    """
    if not folders:
        raise ParameterError("no tile folder to write into an MBTiles file")
    layers: dict[str, dict[str, Any]] = {}
    for layer, folder in folders.items():
        meta_path = Path(folder) / "metadata.json"
        if not meta_path.is_file():
            raise ParameterError(f"{os.fspath(folder)!r} holds no tiles (no metadata.json)")
        layers[layer] = json.loads(meta_path.read_text(encoding="utf-8"))
    # Union of the layers' bounds, zoom ranges and vector_layers.
    boxes = np.array([[float(v) for v in m["bounds"].split(",")] for m in layers.values()])
    west, south = boxes[:, 0].min(), boxes[:, 1].min()
    east, north = boxes[:, 2].max(), boxes[:, 3].max()
    minzoom = min(int(m["minzoom"]) for m in layers.values())
    maxzoom = max(int(m["maxzoom"]) for m in layers.values())
    vector_layers = [v for m in layers.values() for v in json.loads(m["json"])["vector_layers"]]
    tiles: dict[tuple[int, int, int], list[Path]] = {}
    for folder in folders.values():
        for z, x, y, tile in _tile_files(Path(folder)):
            tiles.setdefault((z, x, y), []).append(tile)
    metadata = {
        "name": name,
        "format": "pbf",
        "bounds": f"{west},{south},{east},{north}",
        "center": f"{(west + east) / 2},{(south + north) / 2},{minzoom}",
        "minzoom": str(minzoom),
        "maxzoom": str(maxzoom),
        "attribution": attribution,
        "description": description,
        "type": "overlay",
        "version": "1.3",
        "json": json.dumps({"vector_layers": vector_layers}),
    }
    target = Path(path)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    staging.unlink(missing_ok=True)
    try:
        db = sqlite3.connect(staging)
        try:
            with db:
                db.executescript(
                    "CREATE TABLE metadata (name TEXT, value TEXT);"
                    "CREATE UNIQUE INDEX name ON metadata (name);"
                    "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER,"
                    " tile_row INTEGER, tile_data BLOB);"
                    "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"
                )
                db.executemany("INSERT INTO metadata VALUES (?, ?)", metadata.items())
                db.executemany(
                    "INSERT INTO tiles VALUES (?, ?, ?, ?)",
                    (
                        (z, x, 2**z - 1 - y,
                         gzip.compress(b"".join(p.read_bytes() for p in paths), mtime=0))
                        for (z, x, y), paths in sorted(tiles.items())
                    ),
                )  # fmt: skip
        finally:
            db.close()
        os.replace(staging, target)
    except (OSError, sqlite3.Error) as exc:
        staging.unlink(missing_ok=True)
        raise OutputError(f"cannot write the MBTiles file {target}: {exc}") from exc
    log.info("MBTiles %s: %d tiles of %d layers", target, len(tiles), len(layers))
    return target


def read_mbtiles_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``metadata`` table of an MBTiles file as a dict (read-only)."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    db = sqlite3.connect(uri, uri=True)
    try:
        rows = db.execute("SELECT name, value FROM metadata").fetchall()
    finally:
        db.close()
    return {str(k): str(v) for k, v in rows}


def tile_provider(tiles: str | os.PathLike[str], zooms: tuple[int, int]) -> dict[str, Any]:
    """pygeoapi's ``MVT-tippecanoe`` provider definition for one layer's tile folder."""
    return {
        "type": "tile",
        "name": "MVT-tippecanoe",
        "data": os.path.abspath(tiles),
        "options": {"zoom": {"min": zooms[0], "max": zooms[1]}, "schemes": ["WebMercatorQuad"]},
        "format": {"name": "pbf", "mimetype": MVT_MIMETYPE},
    }


def postgis_tile_provider(
    data: Mapping[str, Any], table: str, storage_crs: str, zooms: tuple[int, int]
) -> dict[str, Any]:
    """pygeoapi's ``MVT-postgresql`` provider definition: tiles made by PostGIS on request
    (``ST_AsMVT``) from a table that :func:`geodistrict.publish.postgis.load_layers` loaded."""
    return {
        "type": "tile",
        "name": "MVT-postgresql",
        "data": dict(data),
        "id_field": "fid",
        "table": table,
        "geom_field": "geometry",
        "storage_crs": storage_crs,
        # No "schemes" list: pygeoapi 0.24 passes every non-dict option to the database
        # driver (a list fails); this provider offers WebMercatorQuad and WorldCRS84Quad.
        "options": {"zoom": {"min": zooms[0], "max": zooms[1]}},
        "format": {"name": "pbf", "mimetype": MVT_MIMETYPE},
    }
