"""Vector tiles: cutting time and size (folder vs MBTiles), and the atlas page GeoJSON vs tiles.

For each district output folder given (default: both samples, run first into a
temporary folder when ``--out`` is not given):

1. **Cutting**: :func:`geodistrict.publish.tiles.write_tiles` into a folder of
   ``{z}/{x}/{y}.pbf`` files (zoom 10-16, every line and polygon layer), then
   :func:`geodistrict.publish.tiles.write_mbtiles` of those folders into one
   file; the median of ``--repeat`` runs of each, the number of files, their
   bytes, the disk space they take (``du``) and the MBTiles file's size.
2. **Atlas in the browser** (Debian chromium through selenium, as
   tests/test_web.py): ``geodistrict publish`` without and with ``--tiles``,
   both served at once by ``geodistrict serve``; the atlas page
   (``/atlas/<district>``) is loaded ``--loads`` times from each, taking turns,
   with the browser cache off.  Reported: time from navigation to the first
   layer drawn on the map and to every shown layer drawn (the page's
   ``data-first-drawn``/``data-ready-at``), bytes received (encoded, as on
   the wire: the whole page, and the map data alone: ``items`` or tiles), and
   the number of requests.

Run from the repository root::

    .venv/bin/python benchmarks/bench_tiles.py [--out OUT] [--repeat 3] [--loads 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

READY = "document.getElementById('atlas-map').dataset.ready === '1'"


def _du(path: Path) -> int:
    done = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[0]) * 1024


def cutting(folder: Path, work: Path, repeat: int) -> dict[str, Any]:
    from geodistrict.publish.tiles import write_mbtiles, write_tiles

    folder_s, mbtiles_s = [], []
    for _ in range(repeat):
        target = work / folder.name
        shutil.rmtree(target, ignore_errors=True)
        start = time.perf_counter()
        written = write_tiles(folder, target, mbtiles=False)
        folder_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        mbtiles = write_mbtiles(written, work / f"{folder.name}.mbtiles", name=folder.name)
        mbtiles_s.append(time.perf_counter() - start)
    files = list(target.rglob("*.pbf"))
    return {
        "district": folder.name,
        "layers": len(written),
        "folder_s": statistics.median(folder_s),
        "mbtiles_s": statistics.median(mbtiles_s),
        "files": len(files),
        "folder_bytes": sum(f.stat().st_size for f in files),
        "folder_du": _du(target),
        "mbtiles_bytes": mbtiles.stat().st_size,
    }


def _publish(folder: Path, target: Path, port: int, tiles: bool) -> Path:
    command = [sys.executable, "-m", "geodistrict.cli", "publish", str(folder), "--to",
               str(target), "--port", str(port), *(["--tiles"] if tiles else [])]  # fmt: skip
    subprocess.run(command, capture_output=True, text=True, check=True)
    return target / "pygeoapi.yml"


def atlas(folder: Path, work: Path, loads: int) -> dict[str, dict[str, float]]:
    from contextlib import ExitStack

    from servers import serving
    from test_web import _driver, _free_port, _load, _network

    district = folder.name
    urls: dict[str, str] = {}
    found: dict[str, list[dict[str, float]]] = {"geojson": [], "tiles": []}
    with ExitStack() as stack:
        for kind in found:
            port = _free_port()
            config = _publish(folder, work / f"pub-{district}-{kind}", port, kind == "tiles")
            urls[kind] = stack.enter_context(serving(config, port))
        driver = _driver("en-US")
        stack.callback(driver.quit)
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        for _kind, url in urls.items():  # one load each first, not counted (server warm-up)
            _load(driver, f"{url}/atlas/{district}", ready=READY)
        for _ in range(loads):
            for kind, url in urls.items():
                driver.get("about:blank")
                _network(driver)
                _load(driver, f"{url}/atlas/{district}", ready=READY)
                time.sleep(0.5)
                _, responses = _network(driver)
                data = [r for r in responses if "/items" in r["url"] or "/tiles/" in r["url"]]
                times = driver.execute_script(
                    "var d = document.getElementById('atlas-map').dataset;"
                    "return [d.firstDrawn, d.readyAt];"
                )
                found[kind].append({
                    "first_ms": float(times[0]), "ready_ms": float(times[1]),
                    "bytes": sum(r["bytes"] for r in responses),
                    "data_bytes": sum(r["bytes"] for r in data),
                    "requests": len(responses), "data_requests": len(data),
                })  # fmt: skip
    return {
        kind: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        for kind, runs in found.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder with sample/ and piana_rotaliana/")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_tiles_"))
    if args.out is None:
        import geodistrict as gd

        args.out = work / "out"
        for config in ("config/sample.yml", "config/piana_rotaliana.yml"):
            gd.run(gd.load_config(ROOT / config), out=args.out)
    folders = [args.out / "sample", args.out / "piana_rotaliana"]
    print(f"# {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"load average before: {os.getloadavg()}")  # fmt: skip
    print(
        "\n| district | layers | folder (s) | MBTiles from folder (s) | files | folder bytes "
        "| folder on disk (du) | MBTiles bytes | folder/MBTiles bytes |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for folder in folders:
        c = cutting(folder, work, args.repeat)
        print(f"| {c['district']} | {c['layers']} | {c['folder_s']:.2f} | {c['mbtiles_s']:.2f} "
              f"| {c['files']} | {c['folder_bytes'] / 1e6:.2f} MB | {c['folder_du'] / 1e6:.2f} MB "
              f"| {c['mbtiles_bytes'] / 1e6:.2f} MB "
              f"| {c['folder_bytes'] / c['mbtiles_bytes']:.1f}× |", flush=True)  # fmt: skip
    print(f"\nload average after cutting: {os.getloadavg()}", flush=True)
    if args.no_browser:
        return
    print(
        "\n| district | atlas from | first layer drawn (ms) | all shown layers (ms) "
        "| bytes received | map data bytes | requests | map data requests |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for folder in folders:
        result = atlas(folder, work, args.loads)
        for kind, m in result.items():
            print(f"| {folder.name} | {kind} | {m['first_ms']:.0f} | {m['ready_ms']:.0f} "
                  f"| {m['bytes'] / 1e6:.2f} MB | {m['data_bytes'] / 1e6:.2f} MB "
                  f"| {m['requests']:.0f} | {m['data_requests']:.0f} |", flush=True)  # fmt: skip
        g, t = result["geojson"], result["tiles"]
        print(f"| {folder.name} | GeoJSON/tiles | {g['first_ms'] / t['first_ms']:.2f}× "
              f"| {g['ready_ms'] / t['ready_ms']:.2f}× | {g['bytes'] / t['bytes']:.2f}× "
              f"| {g['data_bytes'] / t['data_bytes']:.2f}× | | |", flush=True)  # fmt: skip
    print(f"\nload average after: {os.getloadavg()}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
