"""The OGC API service with real clients: GDAL's OAPIF driver and OWSLib, both stores.

A real pygeoapi server (``geodistrict serve``, gunicorn) is started on a free
local port for each store: the GeoParquet files, and PostGIS when a server is
reachable (``GEODISTRICT_TEST_POSTGIS``; CI sets ``GEODISTRICT_REQUIRE_POSTGIS=1``
so that a missing database fails instead of skipping).
"""

from __future__ import annotations

import json
import os
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
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import serving
from shapely.geometry import shape

import geodistrict as gd

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DSN = "postgresql://geodistrict:geodistrict@127.0.0.1:5432/geodistrict"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
STORE_OF: dict[str, str] = {}  # server URL -> store it serves from


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")  # JSON.parse rejects Infinity and NaN


def _strict(body: bytes | str) -> Any:
    """Parse as JSON.parse would: Infinity, -Infinity and NaN are errors."""
    return json.loads(body, parse_constant=_not_json)


def _parsed(body: bytes, content_type: str, url: str) -> Any:
    """JSON answers parsed strictly (a failure names the URL); others as bytes."""
    if "json" not in content_type:
        return body
    try:
        return _strict(body)
    except ValueError as exc:
        raise AssertionError(f"{url} answered invalid JSON: {exc}") from exc


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            body, status = response.read(), response.status
            kind = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        body, status, kind = err.read(), err.code, err.headers.get("Content-Type", "")
    return status, _parsed(body, kind, url)


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


#: Non-finite values planted into the sample's outputs: layer -> column -> fid -> value.
#: Written through the store (``write_layers``), which must serve them as null ...
PLANTED_STORE = {
    "commercial_hex": {"walk_m_grocery": {1: np.inf, 2: -np.inf, 3: np.nan}},
    "category_gaps": {"median_walk_m": {1: np.inf, 2: np.inf}},
}
#: ... and straight into a GeoParquet file, bypassing the store (a file written by an
#: older version or by hand): the providers and the PostGIS loader must serve null.
PLANTED_RAW = {"retail_centres": {"vacancy_rate": {1: np.inf, 2: -np.inf, 3: np.nan}}}


def _plant_raw(path: Path, column: str, values: dict[int, float]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    fids = table.column("fid").to_pylist()
    data = table.column(column).to_pylist()
    for fid, value in values.items():
        data[fids.index(fid)] = value
    i = table.column_names.index(column)
    # from_pandas=False: NaN stays a NaN value, not a null.
    planted = pa.array(data, type=table.schema.field(i).type, from_pandas=False)
    pq.write_table(table.set_column(i, table.schema.field(i), planted), path)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("publish-out")
    result = gd.run(gd.load_config(ROOT / "config" / "sample.yml"), out=out)
    layers = {}
    for layer, columns in PLANTED_STORE.items():
        frame = _gpkg(result.folder, layer)
        for column, values in columns.items():
            for fid, value in values.items():
                frame.loc[fid, column] = value
        layers[layer] = frame.reset_index(drop=True)
    gd.write_layers(layers, out, district="sample")
    for layer, columns in PLANTED_RAW.items():
        for column, values in columns.items():
            _plant_raw(result.folder / "parquet" / f"{layer}.parquet", column, values)
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
    pygeoapi = Path(sys.executable).with_name("pygeoapi")
    validate = [str(pygeoapi), "config", "validate", "-c", str(target / "pygeoapi.yml")]
    from geodistrict.publish.config import read_secrets

    # pygeoapi.yml names the PostGIS password ${GEODISTRICT_POSTGIS_PASSWORD}: it is kept
    # in the 0600 secrets.env next to it, as `geodistrict serve` reads it.
    env = {**os.environ, **read_secrets(target)}
    checked = subprocess.run(validate, capture_output=True, text=True, check=False, env=env)
    assert checked.returncode == 0 and "Valid configuration" in checked.stdout, checked
    with serving(target / "pygeoapi.yml", port, attempts=240) as url:
        STORE_OF[url] = request.param
        yield url


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
        if "osm_id" in expected.columns:  # exact 64-bit ids (served as text), nulls kept
            by_fid = served.set_index(served["fid"].astype(int)).sort_index()
            as_text = expected["osm_id"].map(
                lambda v: None if v is None or v != v else str(int(v))
            )
            assert by_fid["osm_id"].tolist() == as_text.tolist(), layer


def test_owslib_pages_through_every_collection(server: str, district: Path) -> None:
    from owslib.ogcapi.features import Features

    api = Features(server)
    ids = {c["id"] for c in api.collections()["collections"]}
    rasters = {Path(r).stem for r in gd.read_manifest(district).get("rasters", {})}
    assert ids == {f"sample-{name}" for name in [*_layers(district), *rasters]}
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
    assert status == 200 and {"amenity", "osm_id"} <= set(queryables["properties"])


def _feature_collections(server: str) -> list[str]:
    status, body = _get(f"{server}/collections?f=json")
    assert status == 200
    return [c["id"] for c in body["collections"] if c.get("itemType") == "feature"]


def _assert_bbox_holds_coordinates(geojson: dict[str, Any], where: str) -> None:
    """A ``bbox`` (optional in GeoJSON) must contain the coordinates it comes with."""
    if "bbox" not in geojson:
        return
    box = geojson["bbox"]
    west, south, east, north = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
    geoms = [f["geometry"] for f in geojson.get("features", [])] or [geojson.get("geometry")]
    tol = 1e-9 * max(1.0, abs(west), abs(north))
    for geom in filter(None, geoms):
        x0, y0, x1, y1 = shape(geom).bounds
        inside = west - tol <= x0 and x1 <= east + tol and south - tol <= y0 and y1 <= north + tol
        assert inside, (where, box, (x0, y0, x1, y1))


def test_planted_non_finite_values_are_in_the_test_data(district: Path) -> None:
    """The served-JSON tests below can fail: the outputs really hold inf, -inf and NaN."""
    import pyarrow.parquet as pq

    for layer, columns in PLANTED_STORE.items():
        frame = _gpkg(district, layer)
        for column, values in columns.items():
            assert (~np.isfinite(frame.loc[list(values), column].astype(float))).all(), layer
    for layer, columns in PLANTED_RAW.items():
        table = pq.read_table(district / "parquet" / f"{layer}.parquet").to_pandas()
        for column, values in columns.items():
            planted = table.set_index("fid").loc[list(values), column].to_numpy()
            assert (~np.isfinite(planted)).all() and not any(v is None for v in planted), layer


def test_the_store_writes_null_for_non_finite_numbers(district: Path) -> None:
    """GeoParquet files written by write_layers hold null, never inf or NaN values."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for layer in set(_layers(district)) - set(PLANTED_RAW):
        table = pq.read_table(district / "parquet" / f"{layer}.parquet")
        for field in table.schema:
            if pa.types.is_floating(field.type):
                column = table.column(field.name)
                finite = pc.is_finite(column)  # null where the value is null
                assert pc.all(pc.or_kleene(finite, pc.is_null(column))).as_py(), (layer, field)
    for layer, columns in PLANTED_STORE.items():
        table = pq.read_table(district / "parquet" / f"{layer}.parquet").to_pandas()
        for column, values in columns.items():
            assert table.set_index("fid").loc[list(values), column].isna().all(), layer


def test_every_collection_serves_strict_json_without_a_stale_bbox(
    server: str, district: Path
) -> None:
    """Items pages and single items of every collection: valid JSON (no Infinity/NaN),
    non-finite numbers as null, and any bbox in the response CRS."""
    utm = "http://www.opengis.net/def/crs/EPSG/0/32635"
    collections = _feature_collections(server)
    assert {f"sample-{name}" for name in _layers(district)} == set(collections)
    for cid in collections:
        for crs in (CRS84, utm):
            url = f"{server}/collections/{cid}/items?f=json&limit=10000&crs={crs}"
            status, body = _get(url)  # strict: raises on Infinity / NaN
            assert status == 200, url
            _assert_bbox_holds_coordinates(body, url)
            for feature in body["features"]:
                _assert_bbox_holds_coordinates(feature, f"{url} feature {feature['id']}")
                assert "bbox" not in feature["properties"], url  # GeoParquet covering column
        first = body["features"][0]["id"]
        for crs in (CRS84, utm):
            url = f"{server}/collections/{cid}/items/{first}?f=json&crs={crs}"
            status, item = _get(url)
            assert status == 200, url
            _assert_bbox_holds_coordinates(item, url)
    status, body = _get(f"{server}/collections/sample-commercial_hex/items?f=jsonld&limit=50")
    assert status == 200 and body["features"], body
    for layer, columns in {**PLANTED_STORE, **PLANTED_RAW}.items():
        for column, values in columns.items():
            for fid in values:
                url = f"{server}/collections/sample-{layer}/items/{fid}?f=json"
                status, item = _get(url)
                assert status == 200 and item["properties"][column] is None, (url, item)
            status, page = _get(f"{server}/collections/sample-{layer}/items?f=json&limit=10000")
            served = {int(f["id"]): f["properties"][column] for f in page["features"]}
            assert all(served[fid] is None for fid in values), (layer, column)


def test_process_output_is_strict_json_with_null_for_non_finite() -> None:
    """The processes' GeoJSON encoder writes null where a result holds inf or NaN."""
    from shapely.geometry import Point

    from geodistrict.publish.processes import RankVacantUnitsProcessor

    frame = gpd.GeoDataFrame(
        {"d": [1.0, np.inf, -np.inf, np.nan]}, geometry=[Point(24.9, 60.2)] * 4, crs=4326
    )
    text = json.dumps(RankVacantUnitsProcessor.geojson(frame))
    served = [f["properties"]["d"] for f in _strict(text)["features"]]
    assert served == [1.0, None, None, None]


#: Requests that pygeoapi 0.24 answered with a 500 on one store or both, and what they
#: must get instead.
BAD_REQUESTS = [
    ("collections/sample-category_gaps/items/abc", 404),
    ("collections/sample-category_gaps/items/1.5", 404),
    ("collections/sample-category_gaps/items?datetime=2020", 400),
    ("collections/sample-category_gaps/items?datetime=2020-01-01/..", 400),
    ("collections/sample-category_gaps/items?fid=abc", 400),
    ("collections/sample-category_gaps/items?fid=1.5", 400),
    ("collections/sample-category_gaps/items?origins=abc", 400),
    ("collections/sample-category_gaps/items?centre_id=", 400),
    ("collections/sample-category_gaps/items?resulttype=nope", 400),
    ("collections/sample-category_gaps/items?bbox=24.9,60.1,0,25,60.2,10", 200),
    ("collections/sample-category_gaps/items?filter=fid%3D'a'&filter-lang=cql2-text", None),
    ("collections/sample-commercial_density/coverage?bbox=1,2,3", 400),
    ("collections/sample-commercial_density/coverage?bbox=a,b,c,d", 400),
    ("collections/sample-commercial_density/coverage?bbox=0,0,1,1", 400),
    ("collections/sample-commercial_density/coverage?bbox-crs=foo&bbox=1,2,3,4", 400),
    (f"collections/sample-commercial_density/coverage?bbox=24.94,60.165,24.95,60.172"
     f"&bbox-crs={CRS84}&f=json", 200),
]  # fmt: skip


def test_bad_requests_are_answered_4xx_with_a_reason(server: str) -> None:
    for path, expected in BAD_REQUESTS:
        status, body = _get(f"{server}/{path}")
        assert status < 500, (path, body)
        if expected is not None:  # None: 200 or 400 depending on the store
            assert status == expected, (path, status, body)
        if status >= 400:
            assert isinstance(body, dict) and body.get("description"), (path, body)


_ODD = st.sampled_from(
    ["0,0,1,1,2,2", "1,2,3", "a,b,c,d", "3,4,1,2", "nan,nan,nan,nan", "-1e308,0,1e308,1",
     CRS84, "http://www.opengis.net/def/crs/EPSG/0/32635", "EPSG:4326", "foo", "json", "html",
     "jsonld", "xyz", "2020-01-01/..", "../..", "hits", "-fid", "fid='a'", "cql2-text",
     "cql2-json", "1.5", "-1", "0", "inf", "", "fid,nope", "true"]
)  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(
    collection=st.sampled_from(
        ["category_gaps", "retail_centres", "pois", "study_area", "commercial_density", "nope"]
    ),
    endpoint=st.one_of(
        st.sampled_from(["items", "coverage", "queryables", "schema", ""]),
        st.one_of(st.integers(-2, 10**6).map(str), st.text(max_size=6), _ODD).map(
            lambda item: f"items/{quote(item, safe='')}"
        ),
    ),
    params=st.dictionaries(
        st.sampled_from(
            [
                "bbox",
                "bbox-crs",
                "crs",
                "limit",
                "offset",
                "properties",
                "f",
                "datetime",
                "resulttype",
                "sortby",
                "filter",
                "filter-lang",
                "skipGeometry",
                "subset",
                "fid",
                "amenity",
                "vacancy_rate",
                "centre_id",
            ]
        ),
        st.one_of(_ODD, st.text(max_size=10), st.integers(-5, 10**6).map(str)),
        max_size=4,
    ),
)
def test_collection_endpoints_never_answer_5xx(
    server: str, collection: str, endpoint: str, params: dict[str, str]
) -> None:
    """Any query string on any collection endpoint: a 2xx, 3xx or 4xx, never a 5xx."""
    from urllib.parse import urlencode

    url = f"{server}/collections/sample-{collection}/{endpoint}?{urlencode(params)}"
    status, _ = _get(url)
    assert status < 500, url


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


# --------------------------------------------------------------------------- processes


def _post(
    url: str, inputs: object, *, prefer_async: bool = False
) -> tuple[int, Any, dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if prefer_async:
        headers["Prefer"] = "respond-async"
    request = urllib.request.Request(
        url, data=json.dumps({"inputs": inputs}).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, body, head = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as err:
        status, body, head = err.code, err.read(), dict(err.headers)
    return status, _parsed(body, head.get("Content-Type", ""), url), head


@pytest.fixture(scope="module")
def parquet_server(server: str) -> str:
    """Processes do not depend on the store: run their tests on one of the two servers."""
    if STORE_OF[server] != "geoparquet":
        pytest.skip("processes are tested on the GeoParquet server")
    return server


def test_processes_are_listed(parquet_server: str) -> None:
    status, body = _get(f"{parquet_server}/processes?f=json")
    assert status == 200
    assert {p["id"] for p in body["processes"]} == {
        "rank-vacant-units",
        "isochrone",
        "category-gaps",
    }


def test_rank_vacant_units_matches_the_library(parquet_server: str, district: Path) -> None:
    from geodistrict.priority import rank_from_folder

    weights = {"footfall": 3}
    status, body, _ = _post(
        f"{parquet_server}/processes/rank-vacant-units/execution", {"weights": weights, "top": 5}
    )
    assert status == 200, body
    props = [f["properties"] for f in body["features"]]
    assert [p["rank"] for p in props] == [1, 2, 3, 4, 5]
    assert all(p["explanation"] for p in props)
    expected = rank_from_folder(district, weights).head(5)
    assert [p["unit_id"] for p in props] == expected["unit_id"].tolist()
    assert body["attribution"] == "© OpenStreetMap contributors"


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ({"weights": {"footfall": -1}}, "footfall"),
        ({"weights": {"footfall": "lots"}}, "footfall"),
        ({"weights": {"nonsense": 1}}, "nonsense"),
        ({"method": "magic"}, "magic"),
        ({"top": 0}, "top"),
        ({"district": "atlantis"}, "atlantis"),
    ],
)
def test_rank_vacant_units_rejects_bad_inputs(
    parquet_server: str, inputs: dict[str, Any], fragment: str
) -> None:
    status, body, _ = _post(f"{parquet_server}/processes/rank-vacant-units/execution", inputs)
    assert status == 400, body
    assert fragment in body["description"]


def test_isochrone_sync_and_async(parquet_server: str) -> None:
    url = f"{parquet_server}/processes/isochrone/execution"
    inputs = {"point": [24.945, 60.170], "mode": "walk", "minutes": [5, 10]}
    status, body, _ = _post(url, inputs)
    assert status == 200, body
    areas = {f["properties"]["minutes"]: f["properties"]["area_ha"] for f in body["features"]}
    assert set(areas) == {5, 10} and areas[5] < areas[10]

    status, _, headers = _post(url, inputs, prefer_async=True)
    assert status == 201
    job = headers["Location"]
    for _ in range(240):  # bounded polling
        status, info = _get(f"{job}?f=json")
        if info.get("status") in ("successful", "failed"):
            break
        time.sleep(0.25)
    assert info["status"] == "successful", info
    status, result = _get(f"{job}/results?f=json")
    assert status == 200
    assert {f["properties"]["minutes"] for f in result["features"]} == {5, 10}


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ({"point": [60.170, 24.945]}, "swapped"),
        ({"point": [9.33, 45.49]}, "outside"),
        ({"point": "here"}, "point"),
        ({"point": [24.945, 60.170], "minutes": [0]}, "minutes"),
        ({"point": [24.945, 60.170], "mode": "car"}, "mode"),
    ],
)
def test_isochrone_rejects_bad_inputs(
    parquet_server: str, inputs: dict[str, Any], fragment: str
) -> None:
    status, body, _ = _post(f"{parquet_server}/processes/isochrone/execution", inputs)
    assert status == 400, body
    assert fragment in body["description"]


def test_category_gaps_in_a_polygon(parquet_server: str, district: Path) -> None:
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [[24.94, 60.165], [24.95, 60.165], [24.95, 60.172], [24.94, 60.172], [24.94, 60.165]]
        ],
    }
    status, body, _ = _post(
        f"{parquet_server}/processes/category-gaps/execution", {"polygon": polygon}
    )
    assert status == 200, body
    rows = [f["properties"] for f in body["features"] if f["properties"]["scope"] == "district"]
    units = _gpkg(district, "commercial_units").to_crs(4326)
    inside = units[units.within(shape(polygon))]
    assert sum(r["observed"] for r in rows) == len(inside)
    assert {r["status"] for r in rows} <= {
        "missing",
        "under-represented",
        "over-represented",
        "as expected",
        "not tested",  # issue 12: catch-all categories (other_retail) are not tested
    }
    assert all(r["q_value"] is None or 0 <= r["q_value"] <= 1 for r in rows)
    status, body, _ = _post(
        f"{parquet_server}/processes/category-gaps/execution", {"polygon": {"type": "Point"}}
    )
    assert status == 400


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(
    process=st.sampled_from(["rank-vacant-units", "isochrone", "category-gaps"]),
    inputs=st.dictionaries(
        st.sampled_from(
            ["weights", "method", "top", "point", "mode", "minutes", "polygon", "district"]
        ),
        st.recursive(
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(-10, 10**6),
                st.floats(allow_nan=False, allow_infinity=False),
                st.text(max_size=6),
            ),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=6), inner, max_size=3)
            ),
            max_leaves=6,
        ),
        max_size=4,
    ),
)
def test_process_endpoints_never_answer_5xx(
    parquet_server: str, process: str, inputs: dict[str, Any]
) -> None:
    status, body, _ = _post(f"{parquet_server}/processes/{process}/execution", inputs)
    assert status < 500, (inputs, body)


def test_density_raster_is_served_as_a_coverage(
    server: str, district: Path, tmp_path: Path
) -> None:
    import rasterio

    rasters = gd.read_manifest(district).get("rasters", {})
    assert "commercial_density.tif" in rasters
    with urllib.request.urlopen(
        f"{server}/collections/sample-commercial_density/coverage?f=GTiff", timeout=120
    ) as response:
        assert response.status == 200
        (tmp_path / "served.tif").write_bytes(response.read())
    with (
        rasterio.open(tmp_path / "served.tif") as served,
        rasterio.open(district / "commercial_density.tif") as original,
    ):
        assert (served.count, served.shape, served.crs) == (
            original.count,
            original.shape,
            original.crs,
        )
        assert np.allclose(served.read(), original.read(), equal_nan=True)


# ---------------------------------------------------------------- the GeoParquet provider
# In-process: the provider that pygeoapi builds per request, against ground truth read
# with geopandas, both from the in-memory snapshot and scanning the file (a file over
# GEODISTRICT_SERVE_CACHE_MB is scanned with the filters pushed down to pyarrow).


@pytest.fixture(scope="module")
def provider_defs(district: Path) -> dict[str, dict[str, Any]]:
    from geodistrict.publish.config import pygeoapi_config

    resources = pygeoapi_config([district])["resources"]
    return {
        name.removeprefix("sample-"): res["providers"][0]
        for name, res in resources.items()
        if res.get("type") == "collection" and res["providers"][0]["type"] == "feature"
    }


@pytest.fixture(params=["snapshot", "scan"])
def serving_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from geodistrict.publish import snapshots

    snapshots.clear()
    if request.param == "scan":
        monkeypatch.setenv(snapshots.CACHE_ENV, "0")
    yield request.param
    snapshots.clear()


def _query(pdef: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    from geodistrict.publish.providers import GeoParquetProvider

    args: dict[str, Any] = {"offset": 0, "limit": 10, "resulttype": "results", "bbox": [],
                            "datetime_": None, "properties": [], "select_properties": [],
                            "skip_geometry": False, "crs_transform_spec": None}  # fmt: skip
    return GeoParquetProvider(dict(pdef)).query(**(args | kwargs))


def test_parquet_counts_and_pages_are_the_layers(
    district: Path, provider_defs: dict[str, dict[str, Any]], serving_mode: str
) -> None:
    manifest = gd.read_manifest(district)["layers"]
    for layer, pdef in provider_defs.items():
        truth = gpd.read_parquet(pdef["data"]["source"])
        assert manifest[layer]["features"] == len(truth)
        hits = _query(pdef, resulttype="hits")
        assert hits["numberMatched"] == len(truth), (layer, serving_mode)
        ids: list[int] = []
        for offset in range(0, len(truth) + 1, 700):
            page = _query(pdef, offset=offset, limit=700, skip_geometry=True)
            assert page["numberMatched"] == len(truth), (layer, offset)
            ids += [int(f["id"]) for f in page["features"]]
        assert ids == truth["fid"].tolist(), (layer, serving_mode)


def _corner_boxes(frame: gpd.GeoDataFrame) -> list[tuple[float, float, float, float]]:
    """1 m boxes inside a feature's bounds but off the feature (a bounds test is not enough)."""
    from shapely.geometry import box

    boxes = []
    for minx, miny, _, _ in frame.bounds.itertuples(index=False):
        corner = (minx, miny, minx + 1, miny + 1)
        overlapping = frame.bounds.query(
            f"minx <= {corner[2]} and maxx >= {corner[0]} and miny <= {corner[3]} "
            f"and maxy >= {corner[1]}"
        )
        if len(overlapping) > frame.intersects(box(*corner)).sum():
            boxes.append(corner)
        if len(boxes) == 2:
            break
    return boxes


def test_parquet_bbox_and_property_filters_equal_geopandas(
    provider_defs: dict[str, dict[str, Any]], serving_mode: str
) -> None:
    from shapely.geometry import box

    for layer in ("streets", "buildings", "pois", "landuse"):
        pdef = provider_defs[layer]
        frame = gpd.read_parquet(pdef["data"]["source"])
        west, south, east, north = frame.total_bounds
        for bounds in [
            (west, south, (west + east) / 2, (south + north) / 2),
            ((west + east) / 2 - 150, (south + north) / 2 - 150, (west + east) / 2 + 150,
             (south + north) / 2 + 150),
            (east + 10, north + 10, east + 20, north + 20),  # nothing there
            *_corner_boxes(frame),
        ]:  # fmt: skip
            expected = frame[frame.intersects(box(*bounds))]
            body = _query(pdef, bbox=list(bounds), limit=100000)
            assert body["numberMatched"] == len(expected), (layer, bounds)
            assert [int(f["id"]) for f in body["features"]] == expected["fid"].tolist()
            page = _query(pdef, bbox=list(bounds), offset=3, limit=5)
            assert [int(f["id"]) for f in page["features"]] == expected["fid"].tolist()[3:8]
            assert page["numberMatched"] == len(expected)
    streets = provider_defs["streets"]
    frame = gpd.read_parquet(streets["data"]["source"])
    for value in (True, False):
        body = _query(streets, properties=[("walk", "true" if value else "false")], limit=100000)
        expected = frame[frame["walk"] == value]
        assert 0 < len(expected) < len(frame)
        assert body["numberMatched"] == len(expected)
        assert [int(f["id"]) for f in body["features"]] == expected["fid"].tolist()
    highway = str(frame["highway"].mode()[0])
    west, south, east, north = frame.total_bounds
    bounds = (west, south, (west + east) / 2, north)
    body = _query(streets, properties=[("highway", highway)], bbox=list(bounds), limit=100000)
    expected = frame[(frame["highway"] == highway) & frame.intersects(box(*bounds))]
    assert len(expected) > 0
    assert [int(f["id"]) for f in body["features"]] == expected["fid"].tolist()
    assert body["numberMatched"] == len(expected)


def test_parquet_features_equal_pygeoapis_own_provider(
    provider_defs: dict[str, dict[str, Any]], serving_mode: str
) -> None:
    """Same features (ids, properties, coordinates to the bit) as pygeoapi's stock
    Parquet provider, in CRS84, EPSG:4326 (lat, lon) and the storage CRS."""
    from pygeoapi.crs import create_crs_transform_spec
    from pygeoapi.provider.parquet import ParquetProvider
    from pygeoapi.util import to_json

    from geodistrict.publish.providers import _served_feature

    for layer, pdef in provider_defs.items():
        stock = ParquetProvider(dict(pdef, name="Parquet"))
        for crs in (None, "http://www.opengis.net/def/crs/EPSG/0/4326", pdef["storage_crs"]):
            spec = create_crs_transform_spec(pdef, crs)
            for offset, limit, select in ((0, 100, []), (5, 7, ["fid"])):
                kwargs = {"offset": offset, "limit": limit, "crs_transform_spec": spec}
                theirs = stock.query(**kwargs, select_properties=list(select))["features"]
                ours = _query(pdef, **kwargs, select_properties=list(select))["features"]
                expected = [_served_feature(f) for f in theirs]
                assert json.loads(to_json({"f": ours})) == json.loads(to_json({"f": expected})), (
                    layer, crs, offset
                )  # fmt: skip


def test_parquet_serves_a_new_file_version_at_once(
    district: Path, provider_defs: dict[str, dict[str, Any]], tmp_path: Path, serving_mode: str
) -> None:
    pdef = provider_defs["pois"]
    frame = gpd.read_parquet(pdef["data"]["source"])
    for name, part in (("a", frame), ("b", frame.iloc[:40])):
        part.to_parquet(tmp_path / f"{name}.parquet", write_covering_bbox=True)
    link = tmp_path / "current.parquet"
    link.symlink_to(tmp_path / "a.parquet")
    served = dict(pdef, data={"source": str(link)})
    assert _query(served)["numberMatched"] == len(frame)
    link.unlink()
    link.symlink_to(tmp_path / "b.parquet")  # a later run switches the link
    assert _query(served)["numberMatched"] == 40
    frame.iloc[:12].to_parquet(tmp_path / "b.parquet", write_covering_bbox=True)  # rewritten
    body = _query(served, limit=100)
    assert body["numberMatched"] == 12
    assert [int(f["id"]) for f in body["features"]] == frame["fid"].tolist()[:12]
