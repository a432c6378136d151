"""The service's web pages in a real headless browser: offline, Italian, maps that draw.

A real server (``geodistrict publish`` then ``geodistrict serve``, gunicorn) is
started on the Italian sample (``italian_output``) and on the Helsinki sample
(``sample_output``, English), and Debian's chromium (``scripts/chromium.sh``)
loads the pages through chromedriver; nothing is downloaded at run time.  The
browser's performance log lists every request a page makes: none may leave
the machine.  Screenshots are kept in ``/tmp/web_pages/`` (or
``GEODISTRICT_WEB_PAGES``) for a person to look at.

The tests skip when chromium or chromedriver is missing, unless
``GEODISTRICT_REQUIRE_BROWSER=1`` (CI), which turns the skip into a failure.

The Helsinki sample is published with ``--tiles``: its atlas draws the line and
polygon layers from the vector tiles (Leaflet.VectorGrid); the Italian sample
without, so its atlas is the GeoJSON fallback.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from servers import serving

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CHROMIUM = os.environ.get("GEODISTRICT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("GEODISTRICT_CHROMEDRIVER", "/usr/bin/chromedriver")
PAGES_DIR = Path(os.environ.get("GEODISTRICT_WEB_PAGES", "/tmp/web_pages"))
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
#: English words of the interface that an Italian page must not show (whole words).
FORBIDDEN_ENGLISH = [
    "Collections", "Processes", "Items", "Browse", "Home", "Limit", "Next", "Prev",
    "Loading", "District", "Layers", "Legend", "Score", "Powered", "Vacant", "Weights",
    "Method", "Results", "Run", "Download", "Full screen", "Open", "License", "Queryables",
    "Storage", "Reference Systems", "Links", "default", "yes", "Rank", "High", "Medium",
    "Low", "survey", "private", "unknown", "other", "missing", "Unit", "Made with",
    "Weighted sum", "Preset", "Point", "Minutes", "Mode", "Description", "Title",
]  # fmt: skip


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} is missing: install Debian's chromium (scripts/chromium.sh)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


@pytest.fixture(scope="module")
def browser_ok() -> None:
    reason = _browser_missing()
    if reason is not None:
        if os.environ.get("GEODISTRICT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"a browser is required (GEODISTRICT_REQUIRE_BROWSER=1): {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def _serve(folder: Path, target: Path, *, tiles: bool = False) -> Iterator[str]:
    """Publish ``folder`` into ``target`` (with vector tiles if ``tiles``) and serve it."""
    port = _free_port()
    publish = [sys.executable, "-m", "geodistrict.cli", "publish", str(folder),
               "--to", str(target), "--port", str(port),
               *(["--tiles"] if tiles else [])]  # fmt: skip
    done = subprocess.run(publish, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    # --tiles: the tile folders the service reads, and the district's one-file tile set
    assert (target / "tiles" / f"{folder.name}.mbtiles").is_file() == tiles
    with serving(target / "pygeoapi.yml", port) as url:
        yield url


@pytest.fixture(scope="module")
def italian_server(
    browser_ok: None, italian_output: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from _serve(italian_output, tmp_path_factory.mktemp("web-it"))


@pytest.fixture(scope="module")
def english_server(
    browser_ok: None, sample_output: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from _serve(sample_output, tmp_path_factory.mktemp("web-en"), tiles=True)


def _driver(language: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", f"--lang={language}",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync"):  # fmt: skip
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": f"{language},en;q=0.1"})
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def italian_browser(browser_ok: None) -> Iterator[Any]:
    driver = _driver("it-IT")
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def english_browser(browser_ok: None) -> Iterator[Any]:
    driver = _driver("en-US")
    try:
        yield driver
    finally:
        driver.quit()


def _network(driver: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """Requests and responses since the last call (from the performance log).

    Returns the URLs requested, and for each response its ``url``, ``status``,
    ``mime`` type and ``bytes`` received (encoded, as on the wire).
    """
    urls: list[str] = []
    responses: dict[str, dict[str, Any]] = {}
    received: dict[str, int] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls.append(params["request"]["url"])
        elif message["method"] == "Network.responseReceived":
            response = params["response"]
            responses[params["requestId"]] = {
                "url": response["url"], "status": int(response["status"]),
                "mime": response.get("mimeType", ""), "bytes": 0,
            }  # fmt: skip
        elif message["method"] == "Network.loadingFinished":
            received[params["requestId"]] = int(params.get("encodedDataLength", 0))
    for request_id, size in received.items():
        if request_id in responses:
            responses[request_id]["bytes"] = size
    return urls, list(responses.values())


def _requests(driver: Any) -> list[str]:
    """URLs the page requested since the last call (from the performance log)."""
    return _network(driver)[0]


def _remote(urls: list[str]) -> list[str]:
    """The URLs that leave the machine (data: and blob: URLs are in the page itself)."""
    outside = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about", "chrome", "chrome-extension"):
            continue
        if parts.hostname not in LOCAL_HOSTS:
            outside.append(url)
    return outside


def _load(driver: Any, url: str, *, ready: str | None = None, timeout: float = 180) -> None:
    """Open ``url``; wait for the document, and for ``ready`` (a JS expression) if given."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    if ready:
        WebDriverWait(driver, timeout).until(lambda d: d.execute_script(f"return {ready}"))


def _screenshot(driver: Any, name: str) -> tuple[Path, int]:
    """Save a screenshot; return its path and its number of distinct colours."""
    from PIL import Image

    PAGES_DIR.mkdir(parents=True, exist_ok=True)
    png = driver.get_screenshot_as_png()
    path = PAGES_DIR / f"{name}.png"
    path.write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    return path, len(colours)


def _english_words(text: str) -> list[str]:
    text = text.replace("Open Database License", "")  # the licence's name
    return [w for w in FORBIDDEN_ENGLISH if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]


ITALIAN_PAGES = [
    ("it-landing", "/", None),
    ("it-collections", "/collections", None),
    ("it-collection", "/collections/piana_rotaliana-vacant_units",
     "document.getElementById('collection-map').dataset.features > 0"),
    ("it-items", "/collections/piana_rotaliana-vacant_units/items",
     "document.getElementById('items-map').dataset.features > 0"),
    ("it-item", "/collections/piana_rotaliana-vacant_units/items/1", None),
    ("it-atlas", "/atlas", "document.getElementById('atlas-map').dataset.ready === '1'"),
    ("it-process", "/processes/rank-vacant-units", None),
    ("it-isochrone", "/processes/isochrone", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "path", "ready"), ITALIAN_PAGES, ids=[p[0] for p in ITALIAN_PAGES]
)
def test_italian_pages_load_offline_in_italian(
    italian_server: str, italian_browser: Any, name: str, path: str, ready: str | None
) -> None:
    driver = italian_browser
    _requests(driver)  # forget the previous page's requests
    _load(driver, italian_server + path, ready=ready)
    time.sleep(0.5)  # late requests (fonts, images) of the page
    requested = _requests(driver)
    assert any(italian_server in u for u in requested), requested
    assert not _remote(requested), f"{path} requested outside the machine: {_remote(requested)}"
    assert driver.execute_script("return document.documentElement.lang") == "it"
    text = driver.find_element("tag name", "body").text
    assert not _english_words(text), f"{path} shows English: {_english_words(text)}"
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    shot, colours = _screenshot(driver, name)
    assert colours > 30, f"{shot} looks blank ({colours} colours)"


def test_every_asset_is_served_by_the_service(italian_server: str) -> None:
    """No template of the service names a host: the pages only load from the service."""
    from geodistrict.publish.web import STATIC, TEMPLATES

    pattern = re.compile(r"""(?:src|href)\s*=\s*["'](https?:)?//""")
    loads = [p for p in TEMPLATES.rglob("*.html") if pattern.search(p.read_text())]
    assert not loads, loads
    for asset in ("vendor/leaflet/leaflet.js", "vendor/leaflet/LICENSE",
                  "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
                  "vendor/leaflet.vectorgrid/LICENSE",
                  "vendor/bootstrap/bootstrap.min.css", "vendor/swagger-ui/swagger-ui-bundle.js",
                  "js/geodistrict.js"):  # fmt: skip
        assert (STATIC / asset).is_file()
        assert _status(f"{italian_server}/static/{asset}") == 200


def test_swagger_ui_loads_offline(italian_server: str, italian_browser: Any) -> None:
    driver = italian_browser
    _requests(driver)
    _load(driver, f"{italian_server}/openapi?f=html",
          ready="document.querySelectorAll('.opblock').length > 0")  # fmt: skip
    requested = _requests(driver)
    assert not _remote(requested), _remote(requested)


def test_atlas_draws_every_shown_layer_with_legends_and_tables(
    italian_server: str, italian_browser: Any
) -> None:
    driver = italian_browser
    _requests(driver)
    _load(driver, f"{italian_server}/atlas/piana_rotaliana?totem=1",
          ready="document.getElementById('atlas-map').dataset.ready === '1'")  # fmt: skip
    # published without tiles: every layer from its GeoJSON items, no tile, no VectorGrid
    requested = _requests(driver)
    assert not [u for u in requested if "/tiles/" in u or "vectorgrid" in u.lower()], requested
    assert any("/collections/piana_rotaliana-streets/items" in u for u in requested), requested
    drawn = driver.execute_script(
        "return document.querySelectorAll('#atlas-map path.leaflet-interactive').length"
    )
    background = driver.execute_script(
        "return document.querySelectorAll('#atlas-map path').length"
    )
    assert drawn > 0 and background > drawn, (drawn, background)
    legend = driver.find_element("id", "atlas-legend").text
    assert "Alta" in legend and "Locali sfitti" in legend, legend
    ranking = driver.find_elements("css selector", "#ranking tbody tr")
    assert len(ranking) == 10
    first = ranking[0].find_elements("tag name", "td")
    assert first[0].text == "1" and re.fullmatch(r"\d,\d\d", first[2].text), first[2].text
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", first[3].text), first[3].text
    assert driver.find_elements("css selector", "#info-points tbody tr")
    assert "© OpenStreetMap contributors" in driver.find_element("id", "atlas-map").text
    assert "gd-totem" in driver.find_element("tag name", "body").get_attribute("class")
    # a hidden layer is fetched and drawn when ticked
    before = drawn
    box = driver.find_element("css selector", "input[data-layer='bike_network']")
    driver.execute_script("arguments[0].click()", box)
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 120).until(
        lambda d: (
            d.execute_script(
                "return document.querySelectorAll('#atlas-map path.leaflet-interactive').length"
            )
            > before
        )
    )
    assert "LTS" in driver.find_element("id", "atlas-legend").text
    shot, colours = _screenshot(driver, "it-atlas-totem")
    assert colours > 100, f"{shot} looks blank ({colours} colours)"


def test_items_table_is_readable(italian_server: str, italian_browser: Any) -> None:
    driver = italian_browser
    _load(driver, f"{italian_server}/collections/piana_rotaliana-vacant_units/items")
    table = driver.find_element("id", "items-table")
    headers = [th.text for th in table.find_elements("css selector", "thead th")]
    for internal in ("fid", "unit_id", "osm_id", "weights", "survey_row", "centre_id"):
        assert internal not in headers
    assert "Sfitto dal" in headers and "Punteggio" in headers, headers
    body = table.find_element("tag name", "tbody").text
    assert re.search(r"\b\d\d/\d\d/\d{4}\b", body), "no date as 01/05/2016"
    assert not re.search(r"\d{4}-\d\d-\d\d", body), "a date as 2016-05-01"


def test_process_form_runs_the_ranking(italian_server: str, italian_browser: Any) -> None:
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = italian_browser
    _requests(driver)
    _load(driver, f"{italian_server}/processes/rank-vacant-units")
    Select(driver.find_element("id", "in-preset")).select_by_value("consolidamento")
    top = driver.find_element("id", "in-top")
    top.clear()
    top.send_keys("5")
    driver.find_element("id", "w-footfall").send_keys("3")
    driver.execute_script("arguments[0].click()", driver.find_element("id", "run"))
    WebDriverWait(driver, 180).until(
        lambda d: (
            d.find_elements("css selector", "#result-table tbody tr")
            or "(" in d.find_element("id", "status").text
        )
    )
    rows = driver.find_elements("css selector", "#result-table tbody tr")
    assert len(rows) == 5, driver.find_element("id", "status").text
    headers = [th.text for th in driver.find_elements("css selector", "#result-table thead th")]
    assert "Posizione" in headers and "unit_id" not in headers, headers
    ranks = [r.find_elements("tag name", "td")[headers.index("Posizione")].text for r in rows]
    assert ranks == ["1", "2", "3", "4", "5"]
    drawn = driver.execute_script(
        "return document.querySelectorAll('#result-map path.leaflet-interactive').length"
    )
    assert drawn >= 5
    assert not _remote(_requests(driver))
    _screenshot(driver, "it-process-result")


def test_english_district_pages_are_english(english_server: str, english_browser: Any) -> None:
    driver = english_browser
    _requests(driver)
    _load(driver, f"{english_server}/atlas",
          ready="document.getElementById('atlas-map').dataset.ready === '1'")  # fmt: skip
    assert driver.execute_script("return document.documentElement.lang") == "en"
    text = driver.find_element("tag name", "body").text
    assert "District atlas" in text and "Legend" in text
    drawn = driver.execute_script(
        "return document.querySelectorAll('#atlas-map path.leaflet-interactive').length"
    )
    assert drawn > 0
    assert not _remote(_requests(driver))
    shot, colours = _screenshot(driver, "en-atlas")
    assert colours > 100, f"{shot} looks blank ({colours} colours)"


#: Line and polygon layers the Helsinki atlas shows at first (background and ticked).
TILED_AT_FIRST = ("study_area", "landuse", "streets", "retail_centres", "bike_circuits")
MVT_MIMETYPE = "application/vnd.mapbox-vector-tile"
_PATHS_BY_PANE = """
var out = {};
document.querySelectorAll('#atlas-map .leaflet-pane').forEach(function (pane) {
  var name = Array.from(pane.classList).find(function (c) { return /^leaflet-(bg|l)-/.test(c); });
  if (!name) return;
  var paths = pane.querySelectorAll('svg.leaflet-tile path');
  function distinct(attribute) {
    return Array.from(new Set(Array.from(paths, function (p) {
      return (p.getAttribute(attribute) || '').toLowerCase();
    })));
  }
  out[name.slice(8, -5)] = {n: paths.length, fills: distinct('fill'), strokes: distinct('stroke')};
});
return out;
"""
_CLICKABLE_TILE_PATH = """
var best = null, area = 1e18;
var paths = document.querySelectorAll(arguments[0] + ' svg.leaflet-tile path.leaflet-interactive');
paths.forEach(function (p) {
  var r = p.getBoundingClientRect();
  if (r.width < 6 || r.height < 6) return;
  var x = r.x + r.width / 2, y = r.y + r.height / 2;
  if (document.elementFromPoint(x, y) === p && r.width * r.height < area) {
    area = r.width * r.height; best = [x, y];
  }
});
return best;
"""


def test_atlas_draws_line_and_polygon_layers_from_vector_tiles(
    english_server: str, english_browser: Any, sample_output: Path
) -> None:
    """Published with --tiles: the atlas fetches MVT tiles from the service (nothing else
    from another host), draws them as SVG paths coloured like the QGIS style, and the
    point layers still come as GeoJSON."""
    import geopandas as gpd

    from geodistrict.publish.web import layer_colours

    driver = english_browser
    _network(driver)
    _load(driver, f"{english_server}/atlas/sample",
          ready="document.getElementById('atlas-map').dataset.ready === '1'")  # fmt: skip
    time.sleep(0.5)
    requested, responses = _network(driver)
    assert not _remote(requested), _remote(requested)
    tiles = [r for r in responses if "/tiles/WebMercatorQuad/" in r["url"]]
    assert tiles and {urlsplit(r["url"]).hostname for r in tiles} == {"127.0.0.1"}, tiles[:3]
    drawn_tiles = [r for r in tiles if r["status"] == 200]
    assert all(r["mime"] == MVT_MIMETYPE and r["bytes"] > 0 for r in drawn_tiles), drawn_tiles[:3]
    assert all(r["status"] in (200, 204) for r in tiles), [r for r in tiles if r["status"] >= 300]
    tiled = {re.search(r"/collections/sample-(\w+)/tiles/", r["url"])[1] for r in drawn_tiles}  # type: ignore[index]
    assert set(TILED_AT_FIRST) <= tiled, tiled
    items = {re.search(r"/collections/sample-(\w+)/items", u)[1]  # type: ignore[index]
             for u in requested if "/items" in u}  # fmt: skip
    assert not items & tiled, items & tiled  # no GeoJSON of a tiled layer
    assert {"vacant_units", "info_points"} <= items  # points: GeoJSON
    assert driver.execute_script("return typeof L.vectorGrid.protobuf") == "function"
    panes = driver.execute_script(_PATHS_BY_PANE)
    assert panes["bg-streets"]["n"] > 100 and panes["bg-streets"]["strokes"] == ["#b0b0b0"]
    assert panes["l-bike_circuits"]["n"] > 0 and panes["l-retail_centres"]["n"] > 0, panes
    # the colours of the layer's style classes, as the GeoJSON layers and QGIS use them
    frame = gpd.read_parquet(sample_output / "parquet" / "retail_centres.parquet")
    spec = layer_colours("retail_centres", frame, language="en")
    allowed = {c["colour"].lower() for c in spec["classes"]} | {"#bdbdbd"}
    fills = set(panes["l-retail_centres"]["fills"])
    assert fills and fills <= allowed and len(fills) > 1, (fills, allowed)
    assert "© OpenStreetMap contributors" in driver.find_element("id", "atlas-map").text
    # a tile feature answers a click with its popup (properties from the MVT)
    point = driver.execute_script(_CLICKABLE_TILE_PATH, ".leaflet-l-retail_centres-pane")
    assert point is not None
    driver.execute_script(
        "var e = document.elementFromPoint(arguments[0], arguments[1]);"
        "e.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: arguments[0],"
        " clientY: arguments[1]}));", *point)  # fmt: skip
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: d.find_elements("css selector", ".leaflet-popup"))
    popup = driver.execute_script(
        "return document.querySelector('.leaflet-popup-content').textContent"
    )  # the whole text: a long popup may be partly outside the map
    assert "Retail centres" in popup and "Units per hectare" in popup, popup
    # a hidden tiled layer is fetched as tiles and drawn when ticked
    box = driver.find_element("css selector", "input[data-layer='bike_network']")
    driver.execute_script("arguments[0].click()", box)
    WebDriverWait(driver, 120).until(
        lambda d: d.execute_script(_PATHS_BY_PANE).get("l-bike_network", {}).get("n", 0) > 0
    )
    requested, _ = _network(driver)
    assert any("/collections/sample-bike_network/tiles/" in u for u in requested)
    assert not any("/collections/sample-bike_network/items" in u for u in requested)
    assert not _remote(requested)
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    shot, colours = _screenshot(driver, "en-atlas-tiles")
    assert colours > 100, f"{shot} looks blank ({colours} colours)"
