"""Load-test the OGC API service on loopback: GeoParquet vs PostGIS (vs TiPg).

Publishes the sample district (both stores), starts ``geodistrict serve`` for
each (and, with ``--stock``, the GeoParquet files behind pygeoapi's stock
``Parquet`` provider; with ``--tipg PYTHON``, TiPg on the same PostGIS tables,
run by that interpreter), all at once, and sends a bounded number of
requests at each client count to ``items?limit=100`` and ``items?limit=1000``
of the largest layer, and to the processes when they are published:
``rank-vacant-units`` with the default weights and with other weights,
``category-gaps`` over the study area and a walking ``isochrone``.  With
``--baseline-src DIR`` the GeoParquet store is also served by the geodistrict
package found in ``DIR`` (e.g. a copy of ``geodistrict/`` taken before a
change, put first on ``PYTHONPATH`` of its publish and serve), so the code
before and after a change is measured in the same run, and each process's
answer from both is compared.  The servers take turns cell by cell, so a
change in the machine's load touches all of them alike.  Prints requests per
second, p50/p95 latency, the error count (anything but HTTP 200) and the
1-minute load average before each cell.

Run from the repository root, with PostGIS up (``bash scripts/postgis.sh``) unless
``--stores geoparquet``::

    .venv/bin/python benchmarks/bench_serving.py [--requests 200] [--workers 2] \\
        [--clients 8,32] [--stock] [--tipg /path/to/venv/bin/python] \\
        [--stores geoparquet,postgis] [--baseline-src /tmp/before] [--only rank-vacant-units]

Client and server share the machine's cores, so the figures are a lower bound
of what the server does alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import geodistrict as gd

ROOT = Path(__file__).resolve().parent.parent
DSN = os.environ.get(
    "GEODISTRICT_TEST_POSTGIS", "postgresql://geodistrict:geodistrict@127.0.0.1:5432/geodistrict"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str) -> None:
    for _ in range(480):
        try:
            with urllib.request.urlopen(url, timeout=30):
                return
        except OSError:  # refused, reset or timed out while the workers start
            time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def _running(
    cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None
) -> Iterator[None]:
    process = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=env, cwd=cwd,
    )  # fmt: skip
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@contextmanager
def _server(district: Path, store: str, workers: int, source: str | None = None) -> Iterator[str]:
    """``geodistrict serve`` of the district from ``store``: geoparquet, postgis or stock.

    ``source``: a folder holding another ``geodistrict`` package, put first on
    ``PYTHONPATH`` of the publish and of the server (the code before a change),
    and their working folder (gunicorn puts its working folder first on ``sys.path``).
    """
    port = _free_port()
    target = Path(tempfile.mkdtemp(prefix=f"bench-{store}-"))
    env = None
    if source is not None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (source, os.environ.get("PYTHONPATH")) if p))  # fmt: skip
    cmd = [sys.executable, "-m", "geodistrict.cli", "publish", str(district), "--to",
           str(target), "--port", str(port)]  # fmt: skip
    if store == "postgis":
        cmd += ["--postgis", DSN]
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=source)
    if store == "stock":  # pygeoapi's own Parquet provider on the same files
        config = target / "pygeoapi.yml"
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace("geodistrict.publish.providers.GeoParquetProvider", "Parquet"),
            encoding="utf-8",
        )
    config = target / "pygeoapi.yml"
    serve = [sys.executable, "-m", "geodistrict.cli", "serve", "--config", str(config),
             "--port", str(port), "--workers", str(workers)]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with _running(serve, env, source):
        _wait(f"{url}/conformance?f=json")
        yield url


@contextmanager
def _tipg(python: str, schema: str, workers: int) -> Iterator[str]:
    """TiPg (uvicorn) serving the PostGIS schema the publication loaded."""
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=DSN, TIPG_DB_SCHEMAS=json.dumps([schema]))
    cmd = [python, "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port",
           str(port), "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with _running(cmd, env):
        _wait(f"{url}/collections")
        yield url


def _one(url: str, body: bytes | None) -> tuple[float, bool]:
    started = time.perf_counter()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"} if body else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            ok = response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        ok = False
    return time.perf_counter() - started, ok


def _load(url: str, body: bytes | None, clients: int, total: int) -> dict[str, float]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(lambda _: _one(url, body), range(total)))
    elapsed = time.perf_counter() - started
    latencies = sorted(r[0] for r in results)
    return {
        "rps": total / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "errors": sum(not r[1] for r in results),
    }


def _answer(url: str, body: bytes | None) -> Any:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"} if body else {}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def _number_matched(url: str) -> int | None:
    with urllib.request.urlopen(url, timeout=60) as response:
        body = json.load(response)
    value = body.get("numberMatched")
    return int(value) if value is not None else None


def main() -> None:
    """Run the load test and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests per cell")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--clients", default="8,32", help="client counts, comma-separated")
    parser.add_argument("--stock", action="store_true", help="also pygeoapi's Parquet provider")
    parser.add_argument("--tipg", metavar="PYTHON", help="an interpreter with tipg and uvicorn")
    parser.add_argument("--no-process", action="store_true", help="skip rank-vacant-units")
    parser.add_argument("--stores", default="geoparquet,postgis",
                        help="stores served by geodistrict, comma-separated")  # fmt: skip
    parser.add_argument("--baseline-src", metavar="DIR",
                        help="also serve the GeoParquet store with the geodistrict package "
                        "in DIR (the code before a change)")  # fmt: skip
    parser.add_argument("--only", help="request labels to measure, comma-separated "
                        "(e.g. rank-vacant-units)")  # fmt: skip
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    only = set(args.only.split(",")) if args.only else None

    if args.baseline_src:
        args.baseline_src = str(Path(args.baseline_src).resolve())
    out = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    result = gd.run(gd.load_config(ROOT / "config" / "sample.yml"), out=out)
    layers = result.manifest["layers"]
    largest = max(layers, key=lambda name: layers[name]["features"])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; largest layer: {largest} "
          f"({layers[largest]['features']} features); {args.requests} requests per cell; "
          f"server workers: {args.workers}\n")  # fmt: skip
    stores = args.stores.split(",") + (["stock"] if args.stock else [])
    with ExitStack() as stack:
        urls = {s: stack.enter_context(_server(result.folder, s, args.workers)) for s in stores}
        if args.baseline_src:
            urls["baseline"] = stack.enter_context(
                _server(result.folder, "geoparquet", args.workers, args.baseline_src)
            )
        targets: dict[str, list[tuple[str, str, bytes | None]]] = {}
        weights = {"footfall": 3, "demand_gap": 0.5, "asking_rent_ratio": 2}
        west, south, east, north = layers["study_area"]["bbox_crs84"]
        middle = [(west + east) / 2, (south + north) / 2]
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        processes = {
            "rank-vacant-units": ("rank-vacant-units", {"district": "sample"}),
            "rank-vacant-units weights topsis": ("rank-vacant-units", {
                "district": "sample", "weights": weights, "method": "topsis"}),
            "category-gaps study area": ("category-gaps", {
                "district": "sample", "polygon": {"type": "Polygon", "coordinates": [ring]}}),
            "isochrone walk 5+10 min": ("isochrone", {
                "district": "sample", "point": middle, "minutes": [5, 10]}),
        }  # fmt: skip
        for store, url in urls.items():
            items = f"{url}/collections/sample-{largest}/items?f=json"
            targets[store] = [
                (f"items?limit={n}", f"{items}&limit={n}", None) for n in (100, 1000)
            ]
            print(f"{store}: numberMatched {_number_matched(f'{items}&limit=1')}")
            if not args.no_process and store != "stock":
                for label, (pid, inputs) in processes.items():
                    body = json.dumps({"inputs": inputs}).encode()
                    targets[store].append((label, f"{url}/processes/{pid}/execution", body))
        if args.tipg:
            url = stack.enter_context(_tipg(args.tipg, "gd_sample", args.workers))
            items = f"{url}/collections/gd_sample.{largest}/items?f=geojson"
            targets["tipg"] = [
                (f"items?limit={n}", f"{items}&limit={n}", None) for n in (100, 1000)
            ]
            print(f"tipg: numberMatched {_number_matched(f'{items}&limit=1')}")
        if "baseline" in targets and "geoparquet" in targets:
            for (label, url, body), (_, old_url, old_body) in zip(
                targets["geoparquet"], targets["baseline"], strict=True
            ):
                if body is not None and (only is None or label in only):
                    # the processes: the same answer before and after
                    same = _answer(url, body) == _answer(old_url, old_body)
                    print(f"{label}: same answer as the baseline: {same}")
        print("\n| request | clients | server | req/s | p50 ms | p95 ms | errors | load 1 min |")
        print("|---|---:|---|---:|---:|---:|---:|---:|")
        labels = list(dict.fromkeys(label for t in targets.values() for label, _, _ in t))
        labels = [label for label in labels if only is None or label in only]
        for label in labels:
            for store in targets:
                for _, target, body in (t for t in targets[store] if t[0] == label):
                    _one(target, body)  # warm up: snapshot, plugin, connection pool
                    _one(target, body)
            for n in clients:
                for store in targets:
                    for _, target, body in (t for t in targets[store] if t[0] == label):
                        load = os.getloadavg()[0]
                        row = _load(target, body, n, args.requests)
                        print(f"| {label} | {n} | {store} | {row['rps']:.1f} | "
                              f"{row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {row['errors']} | "
                              f"{load:.1f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
