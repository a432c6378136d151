"""Pre-built vector tiles (MVT) of the embedded store, served as OGC API - Tiles.

Ground truth: the layer's own features (GeoParquet read with geopandas). Every
feature is in the tiles of every zoom level, in the tiles its geometry touches
and in no other; pygeoapi's MVT-tippecanoe provider serves the files; QGIS
(system Python with PyQGIS, as tests/test_qgis.py) opens them as a vector tile
layer through the service, and the district's MBTiles file offline.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import pytest
import shapely
from servers import serving
from test_publish import _free_port, _get, _postgis_dsn

import geodistrict as gd
from geodistrict.errors import ParameterError
from geodistrict.publish import pygeoapi_config, write_pygeoapi_config
from geodistrict.publish.tiles import (
    read_mbtiles_metadata,
    tile_bounds,
    tileable_layers,
    tiles_covering,
    write_mbtiles,
    write_tiles,
)

ZOOMS = (13, 16)
LAYERS = ["streets", "buildings", "isochrones"]
SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("qgis_tiles_probe.py")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiles(sample_output: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("tiles") / "sample"  # and sample.mbtiles beside it
    write_tiles(sample_output, target, layers=LAYERS, zooms=ZOOMS)
    return target


def _decoded(path: Path) -> dict[str, list[dict[str, object]]]:
    layers = mapbox_vector_tile.decode(path.read_bytes())
    return {name: layer["features"] for name, layer in layers.items()}


def test_only_lines_and_polygons_are_tiled(sample_output: Path) -> None:
    names = tileable_layers(gd.read_manifest(sample_output))
    assert {"streets", "buildings", "isochrones", "bike_network"} <= set(names)
    assert not {"pois", "transit_stops", "vacant_units"} & set(names)
    with pytest.raises(ParameterError, match="'nope'"):
        write_tiles(sample_output, sample_output / "x", layers=["nope"])
    with pytest.raises(ParameterError, match="zooms"):
        write_tiles(sample_output, sample_output / "x", zooms=(16, 12))


def _visible(frame: gpd.GeoDataFrame, z: int) -> gpd.GeoDataFrame:
    """Features at least 2 tile units wide (lines: either way; polygons: both ways).

    Smaller ones round to a point or to no area on the integer grid of an MVT tile
    and are left out, as every MVT encoder (and tippecanoe) does.
    """
    unit = 2 * 20037508.342789244 / 2**z / 4096
    bounds = frame.bounds
    width, height = bounds.maxx - bounds.minx, bounds.maxy - bounds.miny
    lines = frame.geom_type.str.contains("LineString")
    wide = (lines & ((width >= 2 * unit) | (height >= 2 * unit))) | (
        ~lines & (width >= 2 * unit) & (height >= 2 * unit)
    )
    return frame[wide]


def test_every_feature_is_in_the_tiles_it_touches(sample_output: Path, tiles: Path) -> None:
    for layer in ("streets", "buildings", "isochrones"):
        whole = gpd.read_parquet(sample_output / "parquet" / f"{layer}.parquet").to_crs(3857)
        meta = json.loads((tiles / layer / "metadata.json").read_text())
        assert (int(meta["minzoom"]), int(meta["maxzoom"])) == ZOOMS
        assert json.loads(meta["json"])["vector_layers"][0]["id"] == layer
        for z in range(ZOOMS[0], ZOOMS[1] + 1):
            frame = _visible(whole, z)
            assert len(frame) > 0.95 * len(whole), (layer, z)
            columns, rows = tiles_covering(whole.total_bounds, z)
            seen: dict[int, int] = {}
            for x in columns:
                for y in rows:
                    box = shapely.box(*tile_bounds(z, x, y))
                    touching = set(frame.loc[frame.intersects(box), "fid"].astype(int))
                    path = tiles / layer / str(z) / str(x) / f"{y}.pbf"
                    if not path.exists():
                        assert not touching, (layer, z, x, y)  # no empty tile is missing
                        continue
                    features = _decoded(path)[layer]
                    ids = {int(f["id"]) for f in features}
                    # the buffer may add neighbours; every feature touching the tile is there
                    assert touching <= ids, (layer, z, x, y, sorted(touching - ids)[:5])
                    for f in features:
                        seen[int(f["id"])] = seen.get(int(f["id"]), 0) + 1
                        assert int(f["properties"]["fid"]) == int(f["id"])
            assert set(frame["fid"].astype(int)) <= set(seen) <= set(whole["fid"].astype(int))


def test_streets_keep_their_properties(sample_output: Path, tiles: Path) -> None:
    frame = gpd.read_parquet(sample_output / "parquet" / "streets.parquet").set_index("fid")
    z = ZOOMS[1]
    tile = next((tiles / "streets" / str(z)).glob("*/*.pbf"))
    features = _decoded(tile)["streets"]
    assert features
    for feature in features:
        row = frame.loc[int(feature["id"])]
        props = feature["properties"]
        assert props.get("highway") == row["highway"]
        assert props["walk"] == bool(row["walk"])
        assert abs(props["length"] - row["length"]) < 1e-6


@pytest.fixture(scope="module", params=["geoparquet", "postgis"])
def tile_server(
    request: pytest.FixtureRequest, sample_output: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The service with tiles: pre-built files (GeoParquet) or made by PostGIS."""
    port = _free_port()
    target = tmp_path_factory.mktemp(f"pygeoapi-tiles-{request.param}")
    secrets: dict[str, str] = {}
    dsn = None
    if request.param == "postgis":
        from geodistrict.publish.config import PASSWORD_ENV
        from geodistrict.publish.postgis import ensure_reader, load_layers, with_credentials

        admin = _postgis_dsn()
        if admin is None:
            pytest.skip("no PostGIS server reachable (set GEODISTRICT_TEST_POSTGIS)")
        reader = ensure_reader(admin)
        load_layers(sample_output, admin, reader=reader[0] if reader else None)
        dsn = with_credentials(admin, *reader) if reader else admin
        from sqlalchemy.engine import make_url

        secrets[PASSWORD_ENV] = make_url(dsn).password or ""
    config = pygeoapi_config(
        [sample_output], url=f"http://127.0.0.1:{port}", port=port, jobs_dir=target / "jobs",
        postgis_dsn=dsn, tiles_dir=target / "tiles", tile_zooms=ZOOMS,
    )  # fmt: skip
    path = write_pygeoapi_config(config, target, secrets=secrets or None)
    assert (target / "tiles").is_dir() == (request.param == "geoparquet")
    pygeoapi = Path(sys.executable).with_name("pygeoapi")
    checked = subprocess.run([str(pygeoapi), "config", "validate", "-c", str(path)],
                             capture_output=True, text=True, check=False,
                             env={**os.environ, **secrets})  # fmt: skip
    assert checked.returncode == 0 and "Valid configuration" in checked.stdout, checked
    with serving(path, port, attempts=240) as url:
        yield url


def _a_tile(sample_output: Path, layer: str, z: int) -> tuple[int, int, set[int]]:
    """A tile (x, y) at zoom z with features of the layer, and the ids touching it."""
    frame = gpd.read_parquet(sample_output / "parquet" / f"{layer}.parquet").to_crs(3857)
    columns, rows = tiles_covering(frame.total_bounds, z)
    for x in columns:
        for y in rows:
            touching = frame.loc[frame.intersects(shapely.box(*tile_bounds(z, x, y))), "fid"]
            if len(touching) > 3:
                return x, y, set(touching.astype(int))
    raise AssertionError(f"no tile of {layer} at zoom {z}")


def test_tiles_are_served_as_ogc_api_tiles(tile_server: str, sample_output: Path) -> None:
    status, body = _get(f"{tile_server}/collections/sample-streets/tiles?f=json")
    assert status == 200
    assert "WebMercatorQuad" in json.dumps(body)
    status, _ = _get(f"{tile_server}/collections/sample-pois/tiles?f=json")
    assert status >= 400  # points: OGC API Features only
    z = ZOOMS[1]
    x, y, touching = _a_tile(sample_output, "buildings", z)
    url = f"{tile_server}/collections/sample-buildings/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt"
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.status == 200
        data = response.read()
    features = mapbox_vector_tile.decode(data)["buildings"]["features"]
    # pygeoapi's MVT-postgresql provider writes the id as a property "id", not as the MVT id
    ids = {
        int(f["properties"].get("fid", f["properties"].get("id", f.get("id")))) for f in features
    }
    assert touching <= ids
    # the features of the same collection are still served
    status, body = _get(f"{tile_server}/collections/sample-buildings/items?f=json&limit=5")
    assert status == 200 and body["numberMatched"] == len(
        gpd.read_parquet(sample_output / "parquet" / "buildings.parquet")
    )


def _mbtiles_rows(path: Path) -> dict[tuple[int, int, int], bytes]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")
        found = {(int(z), int(x), int(y)): bytes(data) for z, x, y, data in rows}
    db.close()
    return found


def _lonlat_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile (x, y: row 0 in the north) of a WGS84 point (the slippy-map formula)."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_mbtiles_holds_the_tiles_of_every_layer(sample_output: Path, tiles: Path) -> None:
    path = tiles.with_name("sample.mbtiles")
    assert path.is_file()
    meta = read_mbtiles_metadata(path)
    assert meta["format"] == "pbf" and meta["name"] == gd.read_manifest(sample_output)["title"]
    assert (int(meta["minzoom"]), int(meta["maxzoom"])) == ZOOMS
    assert meta["attribution"] == "© OpenStreetMap contributors"
    assert [v["id"] for v in json.loads(meta["json"])["vector_layers"]] == LAYERS
    west, south, east, north = (float(v) for v in meta["bounds"].split(","))
    union = gpd.GeoSeries(
        [g for layer in LAYERS
         for g in gpd.read_parquet(sample_output / "parquet" / f"{layer}.parquet")
         .to_crs(4326).geometry]
    ).total_bounds  # fmt: skip
    assert [west, south, east, north] == pytest.approx(list(union), abs=1e-9)
    # Every folder tile, of every layer, is the same MVT layer in the file's tile (TMS row).
    folder: dict[tuple[int, int, int], dict[str, list[dict[str, object]]]] = {}
    for layer in LAYERS:
        for pbf in (tiles / layer).glob("*/*/*.pbf"):
            z, x, y = int(pbf.parent.parent.name), int(pbf.parent.name), int(pbf.stem)
            folder.setdefault((z, x, y), {})[layer] = _decoded(pbf)[layer]
    rows = _mbtiles_rows(path)
    assert set(rows) == {(z, x, 2**z - 1 - y) for z, x, y in folder}
    for (z, x, y), layers in folder.items():
        data = rows[(z, x, 2**z - 1 - y)]
        assert data[:2] == b"\x1f\x8b"  # gzip
        decoded = mapbox_vector_tile.decode(gzip.decompress(data))
        assert {name: d["features"] for name, d in decoded.items()} == layers, (z, x, y)
    # Planted: the tile of a street's midpoint, found with the slippy-map formula (not ours).
    street = gpd.read_parquet(sample_output / "parquet" / "streets.parquet").to_crs(4326).iloc[0]
    point = street.geometry.interpolate(0.5, normalized=True)
    z = ZOOMS[1]
    x, y = _lonlat_tile(point.x, point.y, z)
    streets = mapbox_vector_tile.decode(gzip.decompress(rows[(z, x, 2**z - 1 - y)]))["streets"]
    assert int(street["fid"]) in {int(f["id"]) for f in streets["features"]}
    # Written whole again: the same bytes (gzip without a time stamp).
    again = write_mbtiles({n: tiles / n for n in LAYERS}, tiles.with_name("again.mbtiles"),
                          name=meta["name"])  # fmt: skip
    assert _mbtiles_rows(again) == rows
    with pytest.raises(ParameterError, match=r"no metadata\.json"):
        write_mbtiles({"streets": tiles}, tiles.with_name("bad.mbtiles"), name="x")


def _has_qgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                          check=False)  # fmt: skip
    return done.returncode == 0


@pytest.mark.skipif(
    not _has_qgis() and os.environ.get("GEODISTRICT_REQUIRE_QGIS") != "1",
    reason="PyQGIS not installed (scripts/qgis.sh installs it)",
)
def test_qgis_opens_the_tiles_as_a_vector_tile_layer(
    tile_server: str, sample_output: Path
) -> None:
    z = ZOOMS[1]
    x, y, _ = _a_tile(sample_output, "streets", z)
    template = (
        f"{tile_server}/collections/sample-streets/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?f=mvt"
    )
    seen = _probe(template, ZOOMS, tile_bounds(z, x, y))
    assert seen["valid"] and (seen["zmin"], seen["zmax"]) == ZOOMS, seen
    # QGIS fetched and decoded the streets of the tile (more than a few pixels drawn),
    # and draws nothing where the district has no streets.
    assert seen["drawn"] > 500 and seen["drawn_far"] == 0, seen


def _probe(source: str, zooms: tuple[int, int], extent: tuple[float, ...], *layers: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run(
        [SYSTEM_PYTHON, str(PROBE), source, str(zooms[0]), str(zooms[1]),
         *map(str, extent), *layers],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.skipif(
    not _has_qgis() and os.environ.get("GEODISTRICT_REQUIRE_QGIS") != "1",
    reason="PyQGIS not installed (scripts/qgis.sh installs it)",
)
def test_qgis_opens_the_mbtiles_offline(sample_output: Path, tiles: Path) -> None:
    """QGIS reads the one-file tile set with no server: valid, zooms, every layer drawn."""
    z = ZOOMS[1]
    x, y, _ = _a_tile(sample_output, "buildings", z)
    seen = _probe(str(tiles.with_name("sample.mbtiles")), (0, 0), tile_bounds(z, x, y),
                  *LAYERS)  # fmt: skip
    assert seen["valid"] and (seen["zmin"], seen["zmax"]) == ZOOMS, seen
    assert seen["drawn"] > 500 and seen["drawn_far"] == 0, seen
    # each MVT layer of the file is decoded and drawn; a style of a layer not there draws nothing
    assert seen["layers"]["streets"] > 50 and seen["layers"]["buildings"] > 500, seen
    assert seen["drawn_unknown_layer"] == 0, seen
