"""The base step and the whole cold run with lazy networkx graphs vs graphs built at once.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_lazy_graphs.py [--repeat 3] [--no-run]

"lazy" is the code as shipped: ``build_graph(lazy=True)`` in the base step, the
analyses reading the graphs' tables as arrays, the networkx dicts built only
if something walks the graph. "eager" is the same code with the base step
building the three networkx graphs at once (``lazy=False``), as before. Each
measurement is a fresh process (imports before the timer for the base step);
the two paths alternate so that a change of load hits both; medians shown.
The cold run is ``geodistrict run <config> --no-cache --out <tmp>`` timed from
outside (process start to exit). Map data © OpenStreetMap contributors.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = {"Helsinki (sample.yml)": "config/sample.yml",
           "Piana Rotaliana (piana_rotaliana.yml)": "config/piana_rotaliana.yml"}  # fmt: skip
PATHS = ("lazy", "eager")


def _patch(path: str) -> None:
    """Make the base step build its graphs at once (``eager``) or lazily (as shipped)."""
    from geodistrict import ingest
    from geodistrict.network import graph as graph_module

    original = graph_module.build_graph

    def build(*args: Any, **kwargs: Any) -> Any:
        kwargs["lazy"] = path == "lazy"
        return original(*args, **kwargs)

    ingest.build_graph = build  # type: ignore[assignment]


def _base_child(path: str, config_file: str) -> dict[str, Any]:
    os.environ["GEODISTRICT_CACHE"] = tempfile.mkdtemp(prefix="bench-lazy-")
    import osmnx  # noqa: F401 - imports are not part of the measurement
    import pyrosm  # noqa: F401

    import geodistrict as gd
    from geodistrict import ingest
    from geodistrict.network import graph_arrays

    _patch(path)
    config = gd.load_config(ROOT / config_file)
    area = gd.study_area(config)
    started = time.perf_counter()
    layers = ingest.load_base_layers(config, area=area, use_cache=False)
    seconds = time.perf_counter() - started
    return {"base": seconds, "walk_nodes": graph_arrays(layers.walk_graph).n}


def _run_child(path: str, config_file: str) -> None:
    """``geodistrict run`` in this process with the graphs built as ``path`` says."""
    _patch(path)
    from geodistrict.cli import main

    out = tempfile.mkdtemp(prefix="bench-lazy-run-")
    os.environ["GEODISTRICT_CACHE"] = tempfile.mkdtemp(prefix="bench-lazy-cache-")
    sys.argv = ["geodistrict", "run", config_file, "--no-cache", "--out", out]
    main()


def _child(kind: str, path: str, config_file: str) -> dict[str, Any]:
    if kind == "base":
        out = subprocess.run([sys.executable, __file__, "--child", "base", path, config_file],
                             check=True, capture_output=True, text=True, cwd=ROOT)  # fmt: skip
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child", "run", path, config_file], check=True,
                   capture_output=True, cwd=ROOT)  # fmt: skip
    return {"run": time.perf_counter() - started}


def main() -> None:
    """Run the measurements and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-run", action="store_true", help="only the base step")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, config_file = args.child
        if kind == "base":
            print(json.dumps(_base_child(path, config_file)))
        else:
            _run_child(path, config_file)
        return
    print(f"load average before: {os.getloadavg()}", flush=True)
    kinds = ["base"] + ([] if args.no_run else ["run"])
    results: dict[tuple[str, str, str], list[float]] = {}
    for _ in range(args.repeat):
        for label, file in SAMPLES.items():
            for kind in kinds:
                for path in PATHS:
                    value = _child(kind, path, file)[kind]
                    results.setdefault((label, kind, path), []).append(value)
    print(f"load average after: {os.getloadavg()}")
    print("\n| sample | measure | eager s (median) | lazy s (median) | eager / lazy |")
    print("|---|---|---:|---:|---:|")
    for label in SAMPLES:
        for kind in kinds:
            eager = statistics.median(results[(label, kind, "eager")])
            lazy = statistics.median(results[(label, kind, "lazy")])
            name = "base step" if kind == "base" else "cold `geodistrict run`"
            print(f"| {label} | {name} | {eager:.2f} | {lazy:.2f} | {eager / lazy:.2f}× |")
    print("\nall values:", json.dumps({" / ".join(k): [round(v, 2) for v in vals]
                                      for k, vals in results.items()}))  # fmt: skip


if __name__ == "__main__":
    main()
