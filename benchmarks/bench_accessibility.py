"""Walking accessibility: geodistrict vs pandana, cityseer and a plain networkx loop.

Every method counts, for every node of the sample's walk graph, the commercial
units of each category (and in total) within 400, 800 and 1600 m of network
distance, on the same graph and the same units, in one run of this script.
Each method runs in its own child process so that its memory is its own.

Run from the repository root (the peers are the ``bench`` extra)::

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python benchmarks/bench_accessibility.py [--repeat 3] [--scaling]

Reported per method: preparation time (building the method's network
structure), query time (the counts), exact agreement with the networkx
reference (share of nodes whose 39 counts all equal it) and peak memory above
the process's baseline (resident set size sampled every 2 ms while the method
runs; it includes native allocations, which ``tracemalloc`` misses).
``--scaling`` adds geodistrict's peak memory on synthetic grids of growing
size, to show that the batched work keeps it flat apart from the output.
Then it times the whole ``commerce`` step on the sample.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DISTANCES = (400, 800, 1600)
METHODS = ("geodistrict", "pandana", "cityseer", "networkx")


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class PeakMemory:
    """Peak resident memory above the baseline while the block runs (sampled)."""

    def __enter__(self) -> PeakMemory:
        self.baseline = _rss_mib()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mib())
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mib())

    @property
    def above_baseline(self) -> float:
        return self.peak - self.baseline


def _sample_inputs() -> tuple[Any, Any]:
    import geodistrict as gd
    from geodistrict.taxonomy import classify_units

    layers = gd.datasets.sample_layers()
    return layers.walk_graph, classify_units(layers.pois)


def _columns(categories: list[str]) -> list[str]:
    cols = []
    for d in DISTANCES:
        cols += [f"n{d}_total", *[f"n{d}_{c}" for c in categories]]
    return cols


# --------------------------------------------------------------------------- methods
# Each returns (prepare, query): prepare() builds the structure, query(structure)
# returns a DataFrame indexed by OSM node id with the _columns().


def _geodistrict(graph: Any, units: Any) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    from geodistrict.network import accessibility, graph_arrays

    return (lambda: graph_arrays(graph)), (
        lambda arrays: accessibility(arrays, units, distances=DISTANCES)
    )


def _networkx(graph: Any, units: Any) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    from geodistrict.network import accessibility_reference

    return (lambda: graph), (lambda g: accessibility_reference(g, units, distances=DISTANCES))


def _pandana(graph: Any, units: Any) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    import pandana

    nodes = pd.DataFrame(
        [(n, d["x"], d["y"]) for n, d in graph.nodes(data=True)], columns=["id", "x", "y"]
    ).set_index("id")
    edges = pd.DataFrame(
        [(u, v, d["length"]) for u, v, d in graph.edges(data=True) if u != v],
        columns=["from", "to", "length"],
    )
    categories = sorted(units["category"].unique())

    def prepare() -> Any:
        net = pandana.Network(
            nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["length"]], twoway=False
        )
        net.precompute(max(DISTANCES))
        return net

    def query(net: Any) -> pd.DataFrame:
        ids = net.get_node_ids(units.geometry.x, units.geometry.y)
        net.set(ids, variable=np.ones(len(ids)), name="total")
        for cat in categories:
            mask = (units["category"] == cat).to_numpy()
            net.set(ids[mask], variable=np.ones(int(mask.sum())), name=cat)
        out = {}
        for d in DISTANCES:
            for name in ("total", *categories):
                out[f"n{d}_{name}"] = net.aggregate(d, type="sum", decay="flat", name=name)
        frame = pd.DataFrame(out).round().astype(np.int64)
        return frame[_columns(categories)]

    return prepare, query


def _cityseer(graph: Any, units: Any) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    from cityseer.metrics import layers
    from cityseer.tools import io

    categories = sorted(units["category"].unique())
    data = units[["category", "geometry"]].reset_index(drop=True)

    def prepare() -> Any:
        g = graph.copy()
        g.graph["crs"] = graph.graph["crs"]
        multigraph = io.nx_from_osm_nx(g)
        nodes_gdf, _edges, structure = io.network_structure_from_nx(multigraph)
        return nodes_gdf, structure

    def query(prepared: Any) -> pd.DataFrame:
        nodes_gdf, structure = prepared
        result = layers.compute_accessibilities(
            data, "category", categories, nodes_gdf, structure, distances=list(DISTANCES)
        )
        out = {}
        for d in DISTANCES:
            per_cat = {c: result[f"cc_{c}_{d}_nw"].round().astype(np.int64) for c in categories}
            out[f"n{d}_total"] = sum(per_cat.values())
            out.update({f"n{d}_{c}": v for c, v in per_cat.items()})
        frame = pd.DataFrame(out)
        frame.index = [int(str(i).split("-")[0]) if str(i).isdigit() else i for i in frame.index]
        return frame[_columns(categories)]

    return prepare, query


FACTORIES = {"geodistrict": _geodistrict, "pandana": _pandana, "cityseer": _cityseer,
             "networkx": _networkx}  # fmt: skip


def _child(method: str, repeat: int, out: Path) -> None:
    graph, units = _sample_inputs()
    prepare, query = FACTORIES[method](graph, units)
    preps, queries = [], []
    with PeakMemory() as memory:
        for _ in range(repeat):
            started = time.perf_counter()
            structure = prepare()
            preps.append(time.perf_counter() - started)
            started = time.perf_counter()
            counts = query(structure)
            queries.append(time.perf_counter() - started)
    counts.to_parquet(out / f"{method}.parquet")
    stats = {"prep": statistics.median(preps), "query": statistics.median(queries),
             "peak_mib": memory.above_baseline, "nodes": graph.number_of_nodes(),
             "units": len(units)}  # fmt: skip
    (out / f"{method}.json").write_text(json.dumps(stats))


def _scaling_child(side: int, out: Path) -> None:
    import geopandas as gpd
    import networkx as nx
    from shapely.geometry import Point

    from geodistrict.network import accessibility, graph_arrays

    rng = np.random.default_rng(side)
    g = nx.MultiDiGraph(crs="EPSG:32632")
    for i in range(side):
        for j in range(side):
            g.add_node(i * side + j, x=j * 80.0, y=i * 80.0)
    for i in range(side):
        for j in range(side):
            for a, b in ((i, j + 1), (i + 1, j)):
                if a < side and b < side:
                    length = float(rng.uniform(70, 110))
                    g.add_edge(i * side + j, a * side + b, length=length)
                    g.add_edge(a * side + b, i * side + j, length=length)
    n_units = side * side // 3
    extent = side * 80.0
    units = gpd.GeoDataFrame(
        {"category": rng.choice([f"c{k}" for k in range(12)], n_units)},
        geometry=[Point(p) for p in rng.uniform(0, extent, size=(n_units, 2))],
        crs="EPSG:32632",
    )
    with PeakMemory() as memory:
        started = time.perf_counter()
        acc = accessibility(graph_arrays(g), units, distances=DISTANCES)
        seconds = time.perf_counter() - started
    output_mib = acc.memory_usage(deep=True).sum() / 2**20
    (out / f"scale-{side}.json").write_text(json.dumps({
        "nodes": side * side, "units": n_units, "seconds": seconds,
        "peak_mib": memory.above_baseline, "output_mib": output_mib,
    }))  # fmt: skip


def _run_child(args: list[str]) -> None:
    env = {**os.environ, "CITYSEER_QUIET_MODE": "true", "TQDM_DISABLE": "1"}
    subprocess.run([sys.executable, __file__, *args], check=True, cwd=ROOT, env=env)


def _commerce_step_seconds(repeat: int) -> tuple[float, float]:
    import geodistrict as gd
    from geodistrict.pipeline.steps.commerce import commerce_layers

    cfg = gd.datasets.sample_config()
    layers = gd.datasets.sample_layers()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        commerce_layers(layers, config=cfg.commerce, vacancy=cfg.vacancy)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), min(runs)


def main() -> None:
    """Run every method in a child process, compare, and print the Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.repeat, Path(args.out))
        return
    if args.scale_child:
        _scaling_child(args.scale_child, Path(args.out))
        return

    _sample_inputs()  # fill the base-layer cache once, outside the timings
    out = Path(tempfile.mkdtemp(prefix="bench-access-"))
    for method in METHODS:
        repeat = 1 if method == "networkx" else args.repeat
        print(f"running {method} ...", file=sys.stderr)
        _run_child(["--child", method, "--repeat", str(repeat), "--out", str(out)])
    reference = pd.read_parquet(out / "networkx.parquet")
    # Pandana counts a unit as standing on its nearest node: compare it (and the
    # others) also with the networkx reference without offsets, on random nodes.
    from geodistrict.network import accessibility_reference

    graph, units = _sample_inputs()
    rng = np.random.default_rng(0)
    some = rng.choice(np.array(list(graph.nodes)), size=500, replace=False).tolist()
    no_offsets = accessibility_reference(
        graph, units, distances=DISTANCES, sources=some, snap_offsets=False
    )
    stats = {m: json.loads((out / f"{m}.json").read_text()) for m in METHODS}
    first = stats["geodistrict"]
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"Network: sample walk graph, {first['nodes']} nodes; {first['units']} commercial "
          f"units; counts per category and in total within {', '.join(map(str, DISTANCES))} m "
          f"(median of {args.repeat} runs, networkx 1 run)\n")  # fmt: skip
    print(
        "| method | preparation s | query s | total s | nodes identical to the networkx "
        "reference | total within 800 m identical | nodes identical to the reference "
        "without offsets (500 nodes) | peak memory MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for method in METHODS:
        counts = pd.read_parquet(out / f"{method}.parquet")
        common = reference.index.intersection(counts.index)
        ref, got = reference.loc[common], counts.loc[common, reference.columns]
        all_equal = (ref.to_numpy() == got.to_numpy()).all(axis=1).mean() * 100
        total_equal = (ref["n800_total"] == got["n800_total"]).mean() * 100
        s = stats[method]
        coverage = "" if len(common) == len(reference) else f" (of {len(common)} shared nodes)"
        total = s["prep"] + s["query"]
        shared = no_offsets.index.intersection(counts.index)
        same = (
            no_offsets.loc[shared].to_numpy() == counts.loc[shared, no_offsets.columns].to_numpy()
        )
        plain = same.all(axis=1).mean() * 100
        print(f"| {method} | {s['prep']:.2f} | {s['query']:.2f} | {total:.2f} "
              f"| {all_equal:.1f} %{coverage} | {total_equal:.1f} % | {plain:.1f} % "
              f"| {s['peak_mib']:.0f} |")  # fmt: skip
    fastest_peer = min(stats[m]["prep"] + stats[m]["query"] for m in ("pandana", "cityseer"))
    ours = first["prep"] + first["query"]
    loop = stats["networkx"]["prep"] + stats["networkx"]["query"]
    print(f"\ngeodistrict vs the fastest peer (prep + query): {fastest_peer / ours:.1f}x faster; "
          f"vs the networkx loop: {loop / ours:.0f}x")  # fmt: skip

    if args.scaling:
        print("\n| grid nodes | units | seconds | peak memory above baseline MiB | "
              "of which the output table MiB |\n|---:|---:|---:|---:|---:|")  # fmt: skip
        for side in (50, 100, 150, 200):
            _run_child(["--scale-child", str(side), "--out", str(out)])
            s = json.loads((out / f"scale-{side}.json").read_text())
            print(f"| {s['nodes']} | {s['units']} | {s['seconds']:.2f} | {s['peak_mib']:.0f} | "
                  f"{s['output_mib']:.0f} |")  # fmt: skip

    median, best = _commerce_step_seconds(args.repeat)
    print(f"\nWhole commerce step on the sample (commerce_layers, base layers cached): "
          f"median {median:.2f} s, best {best:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
