"""The published service under hostile use (issue 13, item 4).

- the job manager: synchronous executions are not stored; asynchronous results
  are private (0600), bounded in age and size, and never listed;
- credentials: the PostGIS password is in no published file but the 0600
  ``secrets.env``; the service connects as a role that cannot write;
- ``geodistrict serve``: SIGTERM stops gunicorn and frees the port (exit 0); a
  port in use is exit 2;
- malformed requests answer 4xx naming the bad input, without internals; a
  schema-driven fuzzer (schemathesis) on an offline copy of the OpenAPI
  document finds no 5xx on either store;
- CSV outputs (``rank --to x.csv``, ``?f=csv``) neutralise formula prefixes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import yaml
from test_publish import _free_port, _get, _post, _postgis_dsn

import geodistrict as gd

ROOT = Path(__file__).resolve().parent.parent
#: Survey-like text a spreadsheet would run as formulas.
FORMULAS = ['=HYPERLINK("http://x";"y")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample run, with formula-like text planted in the POI names and vacant units."""
    out = tmp_path_factory.mktemp("hardening-out")
    result = gd.run(gd.load_config(ROOT / "config" / "sample.yml"), out=out)
    layers = {}
    for layer, column in (("pois", "name"), ("vacant_units", "address")):
        frame = gpd.read_file(result.folder / "sample.gpkg", layer=layer)
        for i, text in enumerate(FORMULAS):
            frame.loc[i, column] = text
        layers[layer] = frame
    gd.write_layers(layers, out, district="sample")
    return result.folder


def _publish(district: Path, target: Path, port: int, *extra: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "geodistrict.cli",
        "publish",
        str(district),
        "--to",
        str(target),
        "--port",
        str(port),
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _start(config: Path, port: int, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "geodistrict.cli",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_until_up(process: subprocess.Popen, url: str, log: Path) -> None:
    for _ in range(240):  # bounded wait for gunicorn to answer
        try:
            if _get(f"{url}/conformance?f=json")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        time.sleep(0.25)
    pytest.fail("the server did not start")


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture(scope="module", params=["geoparquet", "postgis"])
def served(
    request: pytest.FixtureRequest, district: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, str]]:
    """(URL, published folder, store) of a running server."""
    port = _free_port()
    target = tmp_path_factory.mktemp(f"hardened-{request.param}")
    extra: list[str] = []
    if request.param == "postgis":
        dsn = _postgis_dsn()
        if dsn is None:
            pytest.skip("no PostGIS server reachable (set GEODISTRICT_TEST_POSTGIS)")
        extra = ["--postgis", dsn]
    done = _publish(district, target, port, *extra)
    assert done.returncode == 0, done.stderr
    log = target / "server.log"
    process = _start(target / "pygeoapi.yml", port, log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, url, log)
        yield url, target, request.param
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


@pytest.fixture(scope="module")
def parquet(served: tuple[str, Path, str]) -> tuple[str, Path]:
    """Store-independent checks run on the GeoParquet server only."""
    if served[2] != "geoparquet":
        pytest.skip("checked on the GeoParquet server")
    return served[0], served[1]


# --------------------------------------------------------------------------- serve


def test_sigterm_stops_the_server_and_frees_the_port(district: Path, tmp_path: Path) -> None:
    port = _free_port()
    assert _publish(district, tmp_path, port).returncode == 0
    log = tmp_path / "serve.log"
    process = _start(tmp_path / "pygeoapi.yml", port, log)
    try:
        _wait_until_up(process, f"http://127.0.0.1:{port}", log)
        process.send_signal(signal.SIGTERM)  # to geodistrict serve alone, not its group
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert code == 0, log.read_text(errors="replace")[-2000:]
    assert _port_is_free(port), "gunicorn still holds the port"


def test_a_port_in_use_is_exit_2_with_a_message(district: Path, tmp_path: Path) -> None:
    assert _publish(district, tmp_path, 5000).returncode == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "geodistrict.cli",
                "serve",
                "--config",
                str(tmp_path / "pygeoapi.yml"),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    assert done.returncode == 2, done
    assert f"port {port}" in done.stderr and "in use" in done.stderr
    assert "Traceback" not in done.stderr


# --------------------------------------------------------------------------- jobs


def _outputs(folder: Path) -> list[Path]:
    return sorted((folder / "jobs" / "outputs").iterdir())


def _job_records(folder: Path) -> list[dict[str, Any]]:
    text = (folder / "jobs" / "jobs.db").read_text() or "{}"
    return list(json.loads(text).get("_default", {}).values())


def test_sync_executions_are_not_stored(parquet: tuple[str, Path]) -> None:
    url, folder = parquet
    before, records = _outputs(folder), len(_job_records(folder))
    status, body, headers = _post(
        f"{url}/processes/isochrone/execution", {"point": [24.945, 60.170], "minutes": [5]}
    )
    assert status == 200, body
    assert "Location" not in headers  # nothing stored, nothing to point to
    assert _outputs(folder) == before
    assert len(_job_records(folder)) == records


def test_async_results_are_private_and_jobs_are_not_listed(parquet: tuple[str, Path]) -> None:
    url, folder = parquet
    status, _, headers = _post(
        f"{url}/processes/isochrone/execution",
        {"point": [24.945, 60.170], "minutes": [5]},
        prefer_async=True,
    )
    assert status == 201
    job = headers["Location"]
    for _ in range(240):  # bounded polling
        info = _get(f"{job}?f=json")[1]
        if info.get("status") in ("successful", "failed"):
            break
        time.sleep(0.25)
    assert info["status"] == "successful", info
    assert _get(f"{job}/results?f=json")[0] == 200
    files = [p for p in _outputs(folder) if p.name.endswith(job.rsplit("/", 1)[1])]
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "jobs" / "jobs.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "jobs" / "outputs").stat().st_mode) == 0o700
    for listing in ("jobs", "jobs?f=json", "jobs?f=html", "jobs/"):
        status, body = _get(f"{url}/{listing}")
        assert status == 403, (listing, body)
    assert _get(f"{url}/jobs/00000000-0000-4000-8000-000000000000?f=json")[0] == 404


def test_job_results_are_bounded_in_age_and_size(district: Path, tmp_path: Path) -> None:
    from pygeoapi.util import RequestedProcessExecutionMode as Mode

    from geodistrict.publish import pygeoapi_config
    from geodistrict.publish.jobs import JobManager

    config = pygeoapi_config([district], jobs_dir=tmp_path)
    manager_def = dict(config["server"]["manager"])
    manager_def["processes"] = {
        k: v for k, v in config["resources"].items() if v["type"] == "process"
    }
    assert manager_def["name"] == "geodistrict.publish.jobs.JobManager"
    assert (manager_def["max_age_hours"], manager_def["max_mb"]) == (24.0, 200.0)

    def run_async(manager: JobManager) -> dict[str, Any]:
        job_id, *_ = manager.execute_process(
            "rank-vacant-units", {"top": 3}, execution_mode=Mode.respond_async
        )
        for _ in range(400):  # bounded polling of the job thread
            job = manager.get_job(job_id)
            if job["status"] in ("successful", "failed"):
                return job
            time.sleep(0.05)
        pytest.fail("the job did not finish")

    manager = JobManager(manager_def)
    sync = manager.execute_process("rank-vacant-units", {"top": 3})
    assert sync[3].value == "successful" and len(sync[2]["features"]) == 3
    outputs = tmp_path / "outputs"
    assert manager.get_jobs()["numberMatched"] == 0 and not list(outputs.iterdir())

    first, second = run_async(manager), run_async(manager)
    assert first["status"] == second["status"] == "successful"
    size = Path(first["location"]).stat().st_size
    # room for one result only: the oldest goes
    small = JobManager(manager_def | {"max_mb": 1.5 * size / 1e6})
    assert [j["identifier"] for j in small.get_jobs()["jobs"]] == [second["identifier"]]
    assert not Path(first["location"]).exists() and Path(second["location"]).exists()
    # a result larger than the limit is refused with a message
    tiny = JobManager(manager_def | {"max_mb": size / 2e6})
    refused = run_async(tiny)
    assert refused["status"] == "failed" and "larger than the jobs limit" in refused["message"]
    # expired: everything goes, files and records, and so do orphan files
    orphan = outputs / "left-behind"
    orphan.write_text("x")
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    expired = JobManager(manager_def | {"max_age_hours": 1e-9})
    assert expired.get_jobs()["numberMatched"] == 0
    assert list(outputs.iterdir()) == []


def test_process_errors_name_the_input_without_internals() -> None:
    from geodistrict.errors import ParameterError
    from geodistrict.publish.jobs import MAX_MESSAGE, error_body

    internal = error_body(TypeError("unhashable type: 'list'"))
    assert "unhashable" not in internal["description"]
    assert internal["description"].startswith("processing failed")
    ours = error_body(ParameterError("minutes must be integers, got 'x'"))
    assert ours["description"] == "minutes must be integers, got 'x'"
    long = error_body(ParameterError("bad point " + "9" * 10_000))
    assert len(long["description"]) <= MAX_MESSAGE


# --------------------------------------------------------------------------- requests

#: The malformed requests of the audit: (method, path, body) -> 4xx with a description.
MALFORMED: list[tuple[str, str, Any]] = [
    ("GET", "collections/sample-pois/items?limit=1&limit=2&limit=x", None),
    ("GET", "collections/sample-pois/items?sortby=name&sortby=name", None),
    ("GET", "collections/sample-pois/items/abc", None),
    ("GET", "collections/sample-pois/items/99999999999999999999", None),
    ("GET", "collections/sample-pois/items/1%20OR%201=1", None),
    ("GET", "collections/sample-pois/items?fid=abc", None),
    ("GET", "collections/sample-pois/items?fid=99999999999999999999", None),
    ("GET", "collections/sample-pois/items?fid=1%20OR%201=1", None),
    ("GET", "collections/sample-pois/items?datetime=garbage", None),
    ("GET", "collections/sample-pois/items?name=%00", None),
    ("GET", "collections/sample-pois/items?bbox-crs=http://example.org/nope&bbox=1,2,3,4", None),
    ("GET", "collections/sample-commercial_density/coverage?bbox=a,b,c,d", None),
    (
        "GET",
        "collections/sample-commercial_density/coverage?bbox-crs=http://x/y&bbox=1,2,3,4",
        None,
    ),
    ("POST", "processes/isochrone/execution", None),  # JSON null
    ("POST", "processes/isochrone/execution", []),
    ("POST", "processes/isochrone/execution", [{"inputs": {}}]),
    ("POST", "processes/isochrone/execution", "inputs"),
    ("POST", "processes/isochrone/execution", {"inputs": []}),
    ("POST", "processes/isochrone/execution", {"inputs": {"district": []}}),
    ("POST", "processes/isochrone/execution", {"inputs": {"point": [[1], [2]]}}),
    (
        "POST",
        "processes/category-gaps/execution",
        {
            "inputs": {
                "polygon": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [1, 1e308], [1e308, 1], [0, 0]]],
                }
            }
        },
    ),
    (
        "POST",
        "processes/isochrone/execution",
        {"inputs": {}, "subscriber": {"successUri": "http://127.0.0.1:9/steal"}},
    ),
    (
        "POST",
        "processes/isochrone/execution",
        {"inputs": {"a": json.loads("[" * 100 + "]" * 100)}},
    ),
    ("POST", "collections/sample-pois/items", [227]),
]
#: Words that betray internals in an answer.
INTERNALS = ("Traceback", "unhashable", "GEOS", 'File "', "psycopg", "sqlalchemy", "/work/")


def _send(url: str, method: str, body: Any) -> tuple[int, str]:
    data = None if method == "GET" else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


def test_malformed_requests_are_4xx_naming_the_input(served: tuple[str, Path, str]) -> None:
    url = served[0]
    for method, path, body in MALFORMED:
        status, text = _send(f"{url}/{path}", method, body)
        assert 400 <= status < 500, (path, body, status, text[:300])
        assert json.loads(text).get("description"), (path, text[:300])
        assert not any(word in text for word in INTERNALS), (path, text[:300])
    # a property asked for twice is served once (pygeoapi 0.24: duplicated columns, 500)
    status, body = _get(f"{url}/collections/sample-pois/items?properties=name,name&limit=2")
    assert status == 200 and list(body["features"][0]["properties"]).count("name") == 1, body
    deep = b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    request = urllib.request.Request(
        f"{url}/processes/isochrone/execution", data=deep, method="POST"
    )
    try:
        urllib.request.urlopen(request, timeout=120)
        status = 200
    except urllib.error.HTTPError as err:
        status = err.code
    assert status in (400, 413)


# --------------------------------------------------------------------------- fuzzer


def offline_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """pygeoapi's OpenAPI document with the remote ``$ref`` (schemas.opengis.net) left out.

    Remote responses become a bare description, remote schemas accept anything,
    and the execution request is an object with ``inputs``: the fuzzer then
    needs no network.
    """

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                if "/responses/" in ref or ref.endswith("Async.yaml"):
                    return {"description": "remote response (left out offline)"}
                if ref.endswith("execute.yaml"):
                    return {"type": "object", "properties": {"inputs": {"type": "object"}}}
                return {}
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(document)  # type: ignore[no-any-return]


def test_schema_driven_fuzzer_finds_no_5xx(served: tuple[str, Path, str]) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    import requests
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.generation import GenerationMode

    url, folder, store = served
    document = yaml.safe_load((folder / "runtime" / "openapi.yml").read_text())
    offline = offline_openapi(document)
    assert "schemas.opengis.net" not in json.dumps(offline)
    schema = schemathesis.openapi.from_dict(offline)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100  # every collection's endpoints, processes and jobs
    session = requests.Session()
    statuses: Counter[int] = Counter()
    server_errors: list[tuple[str, int, str]] = []

    def fuzz(operation: Any, mode: Any) -> None:
        @settings(
            max_examples=4,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case: Any) -> None:
            response = case.call(base_url=url, session=session, timeout=120)
            statuses[response.status_code // 100 * 100] += 1
            if response.status_code >= 500:
                server_errors.append(
                    (operation.label, response.status_code, str(response.request.url)[:300])
                )

        with contextlib.suppress(Unsatisfiable):  # no negative case (e.g. no inputs at all)
            call()

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode)
    print(f"fuzzer on {store}: {len(operations)} operations, answers by class {dict(statuses)}")
    assert statuses[200] > 0 and statuses[400] > 0  # it reached the data and the checks
    assert server_errors == [], server_errors[:10]


# --------------------------------------------------------------------------- credentials


def test_postgis_password_only_in_the_private_secrets_file(
    served: tuple[str, Path, str],
) -> None:
    url, folder, store = served
    if store != "postgis":
        pytest.skip("the PostGIS server only")
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError

    secrets = (folder / "secrets.env").read_text()
    assert stat.S_IMODE((folder / "secrets.env").stat().st_mode) == 0o600
    password = dict(
        line.split("=", 1) for line in secrets.splitlines() if line and not line.startswith("#")
    )["GEODISTRICT_POSTGIS_PASSWORD"]
    assert len(password) >= 16
    owner_password = str(_postgis_dsn()).split(":")[2].split("@")[0]
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "secrets.env" and path.suffix in (".yml", ".db"):
            content = path.read_text(errors="replace")
            assert password not in content, path
            assert f"password: {owner_password}" not in content, path
    config = yaml.safe_load((folder / "pygeoapi.yml").read_text())
    served_as = {
        r["providers"][0]["data"]["user"]
        for r in config["resources"].values()
        if r["type"] == "collection" and r["providers"][0]["type"] == "feature"
    }
    assert served_as == {"geodistrict_reader"}
    assert _get(f"{url}/collections/sample-pois/items?limit=1&f=json")[0] == 200

    from geodistrict.publish.postgis import with_credentials

    reader = with_credentials(str(_postgis_dsn()), "geodistrict_reader", password)
    engine = create_engine(reader.replace("postgresql://", "postgresql+psycopg2://"))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from gd_sample.pois")).scalar() > 0
        for statement in (
            "insert into gd_sample.pois (fid) values (-1)",
            "update gd_sample.pois set name = 'x'",
            "delete from gd_sample.pois",
            "drop table gd_sample.pois",
            "create table gd_sample.intruder (x int)",
            "create table public.intruder (x int)",
            "alter table gd_sample.pois add column x int",
        ):
            with engine.connect() as conn, pytest.raises(ProgrammingError, match=r"denied|owner"):
                conn.execute(text(statement))
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- CSV


def _cells(text: str) -> list[str]:
    """The text cells of a CSV (numbers such as -3.5 are left out: they are not formulas)."""
    cells = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            try:
                float(cell)
            except ValueError:
                cells.append(cell)
    return cells


def test_served_csv_neutralises_formulas(served: tuple[str, Path, str]) -> None:
    url = served[0]
    with urllib.request.urlopen(
        f"{url}/collections/sample-pois/items?f=csv&limit=20&skipGeometry=true", timeout=60
    ) as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        cells = _cells(response.read().decode())
    for text in FORMULAS:
        assert "'" + text in cells, text
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)


def test_rank_csv_neutralises_formulas(district: Path, tmp_path: Path) -> None:
    target = tmp_path / "ranked.csv"
    done = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", "rank", str(district), "--to", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with target.open(encoding="utf-8", newline="") as handle:  # keep a CR inside a cell
        cells = _cells(handle.read())
    for text in FORMULAS:
        assert "'" + text in cells, text
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
