"""Load-test the OGC API service on loopback: GeoParquet vs PostGIS.

Publishes the sample district (both stores), starts ``geodistrict serve`` for
each, and sends a bounded number of requests at 1, 8 and 32 concurrent clients
to ``items?limit=100`` and ``items?limit=1000`` of the largest layer (and to
the ``rank-vacant-units`` process when it is published).  Prints requests per
second, p50/p95 latency and the error count (anything but HTTP 200).

Run from the repository root, with PostGIS up (``bash scripts/postgis.sh``)::

    .venv/bin/python benchmarks/bench_serving.py [--requests 200] [--workers 2]

Client and server share the machine's cores, so the figures are a lower bound
of what the server does alone.
"""

from __future__ import annotations

import argparse
import json
import os
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
from contextlib import contextmanager
from pathlib import Path

import geodistrict as gd

ROOT = Path(__file__).resolve().parent.parent
DSN = os.environ.get(
    "GEODISTRICT_TEST_POSTGIS", "postgresql://geodistrict:geodistrict@127.0.0.1:5432/geodistrict"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(district: Path, store: str, workers: int) -> Iterator[str]:
    port = _free_port()
    target = Path(tempfile.mkdtemp(prefix=f"bench-{store}-"))
    cmd = [sys.executable, "-m", "geodistrict.cli", "publish", str(district), "--to",
           str(target), "--port", str(port)]  # fmt: skip
    if store == "postgis":
        cmd += ["--postgis", DSN]
    subprocess.run(cmd, check=True, capture_output=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "geodistrict.cli", "serve", "--config",
         str(target / "pygeoapi.yml"), "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{url}/conformance?f=json", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.25)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


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


def main() -> None:
    """Run the load test and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests per cell")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()

    out = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    result = gd.run(gd.load_config(ROOT / "config" / "sample.yml"), out=out)
    layers = result.manifest["layers"]
    largest = max(layers, key=lambda name: layers[name]["features"])
    print(f"largest layer: {largest} ({layers[largest]['features']} features); "
          f"{args.requests} requests per cell; gunicorn workers: {args.workers}\n")  # fmt: skip
    print("| store | request | clients | req/s | p50 ms | p95 ms | errors |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for store in ("geoparquet", "postgis"):
        with _server(result.folder, store, args.workers) as url:
            targets: list[tuple[str, str, bytes | None]] = [
                (f"items?limit={n}", f"{url}/collections/sample-{largest}/items?f=json&limit={n}",
                 None) for n in (100, 1000)
            ]  # fmt: skip
            with urllib.request.urlopen(f"{url}/processes?f=json", timeout=30) as response:
                processes = {p["id"] for p in json.load(response).get("processes", [])}
            if "rank-vacant-units" in processes:
                body = json.dumps({"inputs": {"district": "sample"}}).encode()
                targets.append(
                    ("rank-vacant-units", f"{url}/processes/rank-vacant-units/execution", body)
                )
            for label, target, body in targets:
                _one(target, body)  # warm up
                for clients in (1, 8, 32):
                    row = _load(target, body, clients, args.requests)
                    print(f"| {store} | {label} | {clients} | {row['rps']:.1f} | "
                          f"{row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {row['errors']} |",
                          flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
