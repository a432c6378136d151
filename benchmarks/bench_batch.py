"""Throughput of many districts on Dask distributed: 1 and 2 workers, peak memory per worker.

Runs the same list of districts on a fresh ``LocalCluster`` per setting: the
three comuni of the Italian sample's extract, each a district of its own, cut
from the extract's boundaries (:func:`geodistrict.batch.areas_from_extract`,
:func:`geodistrict.batch.districts_from_areas`), ``--copies`` copies of each
whose buffers differ by a metre (the same work, each with its own cache key).
Every run is cold (an empty cache of base layers, and of pyrosm's results: the
workers get a fresh ``TMPDIR``), with the extract read once
per worker (``read_once``) or once per district. Reports wall time, districts
per hour, the mean time of a district, each worker's peak resident memory
(``ru_maxrss`` of the worker process, asked of every worker at the end) and the
load average, then the cost model of a region.

Run from the repository root::

    .venv/bin/python benchmarks/bench_batch.py [--workers 1 2] [--modes once own]
        [--copies 3] [--region-districts 1500] [--json results.json]

Prints Markdown for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COMUNI = ["Mezzolombardo", "Mezzocorona", "San Michele all'Adige"]


def _worker_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one(configs: list[Any], *, workers: int, read_once: bool, memory: str) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    from geodistrict.batch import run_districts

    os.environ["GEODISTRICT_CACHE"] = tempfile.mkdtemp(prefix="bench-batch-cache-")
    # pyrosm keeps each read's result in <tempdir>/pyrosm/cache, keyed by file and bbox:
    # a fresh temporary folder per setting makes the workers' reads cold too.
    os.environ["TMPDIR"] = tempfile.mkdtemp(prefix="bench-batch-tmp-")
    out = tempfile.mkdtemp(prefix="bench-batch-out-")
    load_before = os.getloadavg()
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                     memory_limit=memory, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        started = time.perf_counter()
        table = run_districts(configs, out=out, client=client, read_once=read_once)
        wall = time.perf_counter() - started
        peaks = client.run(_worker_peak_mb)
    ok = table[table["status"] == "ok"]
    return {
        "workers": workers,
        "read_once": read_once,
        "districts": len(table),
        "ok": len(ok),
        "wall_s": round(wall, 1),
        "per_hour": round(len(ok) / wall * 3600, 1),
        "mean_district_s": round(float(ok["seconds"].mean()), 1),
        "district_s": dict(zip(ok["district"], ok["seconds"].round(1), strict=True)),
        "first_s": round(float(ok["seconds"].max()), 1),
        "read_s": round(float(ok["read_s"].fillna(0).sum()), 1),
        "worker_peak_mb": sorted(round(v, 0) for v in peaks.values()),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    """Run each setting and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--modes", nargs="+", choices=["once", "own"], default=["once", "own"])
    parser.add_argument("--memory-limit", default="4GiB")
    parser.add_argument("--copies", type=int, default=3, help="copies of each comune")
    parser.add_argument("--region-districts", type=int, default=1500)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    import geodistrict as gd
    from geodistrict.batch import areas_from_extract, districts_from_areas

    base = gd.load_config(ROOT / "config" / "piana_rotaliana.yml")
    areas = areas_from_extract(base, names=COMUNI)
    configs = []
    for k in range(args.copies):
        # Each copy's buffer differs by a metre: the same work, its own cache key.
        area = base.area.model_copy(update={"buffer_m": base.area.buffer_m + k})
        configs += districts_from_areas(
            base.model_copy(update={"area": area}), areas, name_field="name",
            folder=tempfile.mkdtemp(prefix="bench-batch-cfg-"), prefix=f"c{k}_",
        )  # fmt: skip
    results = [
        _one(configs, workers=w, read_once=mode == "once", memory=args.memory_limit)
        for mode in args.modes
        for w in args.workers
    ]
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")  # fmt: skip
    print(f"districts: {len(configs)} = {', '.join(COMUNI)} x {args.copies} copies "
          "(cold cache each run)\n")  # fmt: skip
    print("| workers | extract read | wall (s) | districts/h | mean district (s) | "
          "shared read (s) | peak RSS per worker (MB) | load 1/5/15 before |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        mode = "once per worker" if r["read_once"] else "once per district"
        print(f"| {r['workers']} | {mode} | {r['wall_s']} | {r['per_hour']} | "
              f"{r['mean_district_s']} | {r['read_s']} | "
              f"{', '.join(f'{p:.0f}' for p in r['worker_peak_mb'])} | "
              f"{' / '.join(str(x) for x in r['load_before'])} |")  # fmt: skip
    single = [r for r in results if r["workers"] == 1]
    best = max(results, key=lambda r: r["per_hour"])
    if single:
        t = statistics.mean(r["mean_district_s"] for r in single)
        mem = max(max(r["worker_peak_mb"]) for r in results)
        n = args.region_districts
        print(f"\ncost model: {n} districts x {t:.1f} s / W workers = "
              f"{n * t / 3600:.1f} h / W; memory ~{mem:.0f} MB per worker "
              f"(best measured here: {best['per_hour']} districts/h with "
              f"{best['workers']} workers)")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
