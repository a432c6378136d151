"""The OGC API service with real clients: GDAL's OAPIF driver and OWSLib, both stores.

A real pygeoapi server (``geodistrict serve``, gunicorn) is started on a free
local port for each store: the GeoParquet files, and PostGIS when a server is
reachable (``GEODISTRICT_TEST_POSTGIS``; CI sets ``GEODISTRICT_REQUIRE_POSTGIS=1``
so that a missing database fails instead of skipping).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geodistrict as gd

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DSN = "postgresql://geodistrict:geodistrict@127.0.0.1:5432/geodistrict"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as err:
        body, status = err.read(), err.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def _postgis_dsn() -> str | None:
    dsn = os.environ.get("GEODISTRICT_TEST_POSTGIS", DEFAULT_DSN)
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine(dsn.replace("postgresql://", "postgresql+psycopg2://"))
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("select postgis_version()"))
        engine.dispose()
        return dsn
    except Exception as exc:
        if os.environ.get("GEODISTRICT_REQUIRE_POSTGIS") == "1":
            pytest.fail(f"PostGIS required but unreachable at {dsn}: {exc}")
        return None


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("publish-out")
    result = gd.run(gd.load_config(ROOT / "config" / "sample.yml"), out=out)
    return result.folder


@pytest.fixture(scope="module", params=["geoparquet", "postgis"])
def server(
    request: pytest.FixtureRequest, district: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = _free_port()
    target = tmp_path_factory.mktemp(f"pygeoapi-{request.param}")
    publish = [sys.executable, "-m", "geodistrict.cli", "publish", str(district),
               "--to", str(target), "--port", str(port)]  # fmt: skip
    if request.param == "postgis":
        dsn = _postgis_dsn()
        if dsn is None:
            pytest.skip("no PostGIS server reachable (set GEODISTRICT_TEST_POSTGIS)")
        publish += ["--postgis", dsn]
    done = subprocess.run(publish, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "geodistrict.cli",
            "serve",
            "--config",
            str(target / "pygeoapi.yml"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):  # bounded wait for gunicorn to answer
            try:
                if _get(f"{url}/conformance?f=json")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.25)
        else:
            pytest.fail("the server did not start")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _gpkg(district: Path, layer: str) -> gpd.GeoDataFrame:
    return gpd.read_file(district / "sample.gpkg", layer=layer, fid_as_index=True)


def _layers(district: Path) -> list[str]:
    return list(gd.read_manifest(district)["layers"])


def test_gdal_reads_every_collection_completely(server: str, district: Path) -> None:
    for layer in _layers(district):
        expected = _gpkg(district, layer)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. GDAL truncating 64-bit ids
            served = pyogrio.read_dataframe(f"OAPIF:{server}/collections/sample-{layer}")
        assert len(served) == len(expected), layer
        assert sorted(served["fid"].astype(int)) == sorted(expected.index), layer
        if "osm_id" in expected.columns:
            by_fid = served.set_index(served["fid"].astype(int)).sort_index()
            assert (by_fid["osm_id"].astype("int64") == expected["osm_id"]).all(), layer


def test_owslib_pages_through_every_collection(server: str, district: Path) -> None:
    from owslib.ogcapi.features import Features

    api = Features(server)
    ids = {c["id"] for c in api.collections()["collections"]}
    assert ids == {f"sample-{layer}" for layer in _layers(district)}
    for layer in ["pois", "transit_stops", "buildings"]:
        seen: list[int] = []
        offset = 0
        while True:
            page = api.collection_items(f"sample-{layer}", limit=500, offset=offset)
            seen += [f["properties"]["fid"] for f in page["features"]]
            offset += 500
            if offset >= page["numberMatched"]:
                break
        assert sorted(seen) == sorted(_gpkg(district, layer).index), layer


def test_geometries_land_in_the_same_place_in_crs84_and_utm(server: str, district: Path) -> None:
    expected = _gpkg(district, "transit_stops")
    for crs, frame, tolerance in [
        (CRS84, expected.to_crs(4326), 1e-7),
        ("http://www.opengis.net/def/crs/EPSG/0/32635", expected, 0.01),
    ]:
        status, body = _get(
            f"{server}/collections/sample-transit_stops/items?f=json&limit=1000&crs={crs}"
        )
        assert status == 200
        served = gpd.GeoDataFrame.from_features(body["features"])
        served.index = [int(f["id"]) for f in body["features"]]
        served = served.sort_index()
        truth = frame.loc[served.index]
        distance = np.hypot(
            served.geometry.x - truth.geometry.x, served.geometry.y - truth.geometry.y
        )
        assert distance.max() < tolerance, crs


def test_bbox_and_property_filters_match_geopandas(server: str, district: Path) -> None:
    pois = _gpkg(district, "pois")
    west, south, east, north = pois.total_bounds
    box = (west, south, (west + east) / 2, (south + north) / 2)
    status, body = _get(
        f"{server}/collections/sample-pois/items?f=json&limit=10000&bbox={','.join(map(str, box))}"
        "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/32635"
    )
    assert status == 200
    inside = pois.cx[box[0] : box[2], box[1] : box[3]]
    assert sorted(int(f["id"]) for f in body["features"]) == sorted(inside.index)
    assert body["numberMatched"] == len(inside)

    status, body = _get(f"{server}/collections/sample-pois/items?f=json&limit=10000&amenity=cafe")
    assert status == 200
    cafes = pois[pois["amenity"] == "cafe"]
    assert len(cafes) > 5
    assert sorted(int(f["id"]) for f in body["features"]) == sorted(cafes.index)


def test_collections_carry_titles_crs_and_attribution(server: str) -> None:
    status, body = _get(f"{server}/collections/sample-pois?f=json")
    assert status == 200
    assert "Points of interest" in body["title"]
    assert "© OpenStreetMap contributors" in body["description"]
    assert body["storageCrs"].endswith("/EPSG/0/32635")
    assert {CRS84, "http://www.opengis.net/def/crs/EPSG/0/3857"} <= set(body["crs"])
    assert any(link["rel"] == "license" for link in body["links"])
    status, italian = _get(f"{server}/collections/sample-pois?f=json&lang=it")
    assert status == 200 and "Punti di interesse" in italian["title"]
    status, queryables = _get(f"{server}/collections/sample-pois/queryables?f=json")
    assert status == 200 and "amenity" in queryables["properties"]


def test_qgis_reads_every_collection_completely(server: str, district: Path) -> None:
    from test_qgis import has_qgis, run_probe

    if not has_qgis():
        if os.environ.get("GEODISTRICT_REQUIRE_QGIS") == "1":
            pytest.fail("PyQGIS required but not installed")
        pytest.skip("PyQGIS not installed (scripts/qgis.sh installs it)")
    seen = run_probe(str(district / "sample.gpkg"), server, "sample")
    for layer in _layers(district):
        assert seen[layer]["oapif_valid"], layer
        assert seen[layer]["oapif_features"] == len(_gpkg(district, layer)), layer


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(
    layer=st.sampled_from(["pois", "streets", "study_area"]),
    limit=st.one_of(st.integers(-5, 20000), st.text(max_size=5)),
    offset=st.one_of(st.integers(-5, 10**7), st.text(max_size=5)),
    bbox=st.one_of(
        st.lists(st.floats(-1e7, 1e7, allow_nan=False), min_size=0, max_size=6),
        st.text(max_size=12),
    ),
    prop=st.sampled_from(["amenity", "shop", "highway", "nonexistent", "fid"]),
    value=st.text(max_size=8),
)
def test_items_endpoint_never_answers_5xx(
    server: str, layer: str, limit: object, offset: object, bbox: object, prop: str, value: str
) -> None:
    from urllib.parse import urlencode

    box = ",".join(map(str, bbox)) if isinstance(bbox, list) else bbox
    query = urlencode({"f": "json", "limit": limit, "offset": offset, "bbox": box, prop: value})
    status, _ = _get(f"{server}/collections/sample-{layer}/items?{query}")
    assert status < 500, query
