"""Time the base step of both samples: array-built graphs and column-wise tags vs osmnx.

"new" is the code as shipped: ``build_graph(engine="arrays")`` (vectorised
simplification, one ``add_edges_from``) and the column-wise ``_tag_dicts``.
"osmnx" is the former path, kept as the reference: ``build_graph(engine="osmnx")``
(``graph_from_gdfs`` + ``simplify_graph``) and ``_tag_dicts_reference`` (row by
row). Both give the same layers and graphs (tests/test_simplify.py).

Run from the repository root::

    .venv/bin/python benchmarks/bench_base.py [--repeat 5]

Each measurement is one base step (``load_base_layers(use_cache=False)``: read
the extract, tags, clip, project, the walk/bike/all graphs, streets) in a fresh
Python process, after its imports, as in a cold ``geodistrict run``; the rows
"graphs" and "tags" are the time spent inside the three ``build_graph`` calls
and inside the tag handling of the same runs. The two paths alternate, so that
a change of load hits both; medians are shown, with the load average before
and after. Map data © OpenStreetMap contributors.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = {"Helsinki (sample.yml)": "sample.yml",
           "Piana Rotaliana (piana_rotaliana.yml)": "piana_rotaliana.yml"}  # fmt: skip
PATHS = ("new", "osmnx")


def _child(path: str, config_file: str) -> dict[str, Any]:
    """One cold base step in this process; seconds of the whole and of its parts."""
    os.environ["GEODISTRICT_CACHE"] = tempfile.mkdtemp(prefix="bench-base-")
    import osmnx  # noqa: F401 - imports are not part of the measurement
    import pyrosm  # noqa: F401

    import geodistrict as gd
    from geodistrict import ingest
    from geodistrict.network import graph as graph_module
    from geodistrict.sources import osm

    spent = {"graphs": 0.0, "tags": 0.0}

    def timed(part: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[part] += time.perf_counter() - started

        return wrapper

    build = graph_module.build_graph
    tags = osm._tag_dicts
    if path == "osmnx":
        build = functools.partial(graph_module.build_graph, engine="osmnx")
        tags = osm._tag_dicts_reference
    ingest.build_graph = timed("graphs", build)
    osm._tag_dicts = timed("tags", tags)
    config = gd.load_config(ROOT / "config" / config_file)
    area = gd.study_area(config)
    started = time.perf_counter()
    layers = ingest.load_base_layers(config, area=area, use_cache=False)
    total = time.perf_counter() - started
    return {
        "base": total,
        **spent,
        "nodes": {
            "walk": layers.walk_graph.number_of_nodes(),
            "bike": layers.bike_graph.number_of_nodes(),
            "streets": len(layers.streets),
        },
    }


def _run_child(path: str, config_file: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", path, config_file],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run the measurements and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    n = args.repeat
    load_before = os.getloadavg()
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for _ in range(n):
        for file in SAMPLES.values():
            for path in PATHS:
                runs.setdefault((file, path), []).append(_run_child(path, file))
    load_after = os.getloadavg()
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}")  # fmt: skip
    print(f"Load average (1/5/15 min): before {load_before[0]:.2f}/{load_before[1]:.2f}/"
          f"{load_before[2]:.2f}, after {load_after[0]:.2f}/{load_after[1]:.2f}/"
          f"{load_after[2]:.2f}")  # fmt: skip
    print(f"Command: .venv/bin/python benchmarks/bench_base.py --repeat {n} "
          f"(median of {n} fresh processes per cell)\n")  # fmt: skip
    print("| sample | part | new (s) | osmnx path (s) | osmnx / new |")
    print("|---|---|---:|---:|---:|")
    for label, file in SAMPLES.items():
        new, old = runs[(file, "new")], runs[(file, "osmnx")]
        assert new[0]["nodes"] == old[0]["nodes"], (new[0]["nodes"], old[0]["nodes"])
        sizes = new[0]["nodes"]
        parts = {
            "base step": "base",
            f"of which the 3 graphs ({sizes['walk']:,} walk, {sizes['bike']:,} bike nodes)":
                "graphs",
            "of which the tag handling": "tags",
        }  # fmt: skip
        for part, key in parts.items():
            a = statistics.median(r[key] for r in new)
            b = statistics.median(r[key] for r in old)
            print(f"| {label} | {part} | {a:.2f} | {b:.2f} | {b / a:.1f}× |")


if __name__ == "__main__":
    main()
