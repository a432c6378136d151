"""Time the cycling analyses on the sample and on a synthetic 100k-edge network.

Run from the repository root (the sample runs without the commerce step's layers)::

    .venv/bin/python benchmarks/bench_cycling.py [--side 160] [--repeat 3]

Prints Markdown tables for docs/BENCHMARKS.md: the median and best wall time of
each step, the peak Python memory it allocates (tracemalloc, a separate run),
and the LTS classification throughput of geodistrict against the ``osm-lts``
package (same edges, same process). The synthetic network is a ``side x side``
grid of 100 m blocks (side 160: 25,600 nodes, 101,760 directed edges) with a
random but seeded mix of street types, speed limits, lanes and bike lanes.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point

import geodistrict as gd
from geodistrict import cycling
from geodistrict.pipeline.steps.cycling import cycling_layers

CRS = "EPSG:32632"


def _measure(func: Callable[[], Any], repeat: int) -> tuple[float, float, float, Any]:
    """Median s, best s, peak MiB (tracemalloc, one extra run), last result."""
    runs, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        runs.append(time.perf_counter() - started)
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(runs), min(runs), peak / 2**20, result


def synthetic(side: int, seed: int = 0) -> nx.MultiDiGraph:
    """A side x side grid of two-way streets with seeded random tags, in UTM 32N."""
    rng = np.random.default_rng(seed)
    graph = nx.MultiDiGraph(crs=CRS, mode="bike")
    x0, y0, step = 500_000.0, 5_000_000.0, 100.0
    for i in range(side):
        for j in range(side):
            graph.add_node(i * side + j, x=x0 + j * step, y=y0 + i * step)
    kinds = np.array(
        [
            "residential",
            "residential",
            "tertiary",
            "secondary",
            "primary",
            "cycleway",
            "service",
            "unclassified",
        ]
    )
    speeds = np.array(["30", "50", "", "40", "70"], dtype=object)
    way = 0
    for i in range(side):
        for j in range(side):
            for di, dj in ((0, 1), (1, 0)):
                a, b = i * side + j, (i + di) * side + (j + dj)
                if i + di >= side or j + dj >= side:
                    continue
                way += 1
                tags = {
                    "osmid": way,
                    "highway": str(rng.choice(kinds)),
                    "maxspeed": rng.choice(speeds) or None,
                    "lanes": str(rng.choice([2, 2, 2, 4])),
                    "cycleway": "lane" if rng.random() < 0.1 else None,
                }
                pa = (graph.nodes[a]["x"], graph.nodes[a]["y"])
                pb = (graph.nodes[b]["x"], graph.nodes[b]["y"])
                graph.add_edge(
                    a,
                    b,
                    **tags,
                    length=step,
                    reversed=False,
                    oneway=False,
                    geometry=LineString([pa, pb]),
                )
                graph.add_edge(
                    b,
                    a,
                    **tags,
                    length=step,
                    reversed=True,
                    oneway=False,
                    geometry=LineString([pb, pa]),
                )
    return graph


def _random_points(graph: nx.MultiDiGraph, n: int, seed: int) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    xs = np.array([d["x"] for _, d in graph.nodes(data=True)])
    ys = np.array([d["y"] for _, d in graph.nodes(data=True)])
    px = rng.uniform(xs.min(), xs.max(), n)
    py = rng.uniform(ys.min(), ys.max(), n)
    return gpd.GeoSeries([Point(x, y) for x, y in zip(px, py, strict=True)], crs=CRS)


def _steps(
    graph: nx.MultiDiGraph,
    orig: gpd.GeoDataFrame,
    dest: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    walk: nx.MultiDiGraph | None,
    repeat: int,
    circuit_km: float,
) -> list[tuple[str, tuple[float, float, float, Any]]]:
    rows = []
    add = _measure(lambda: cycling.add_lts(graph), repeat)
    rows.append(("add_lts (LTS per edge and direction)", add))
    scored = add[3]
    rows.append(("bike_network layer", _measure(lambda: cycling.bike_network(scored), repeat)))
    rows.append(
        ("connectivity", _measure(lambda: cycling.connectivity(scored, orig, dest), repeat))
    )
    rows.append(
        (
            "low_stress_islands",
            _measure(lambda: cycling.low_stress_islands(scored, destinations=dest), repeat),
        )
    )
    rows.append(
        (
            "missing_links (10 picks)",
            _measure(lambda: cycling.missing_links(scored, orig, dest, n_links=10), 1),
        )
    )
    circ = _measure(lambda: cycling.circuit(scored, places, max_km=circuit_km), repeat)
    rows.append(("circuit", circ))
    rows.append(
        ("info_points (MCLP, k=5)", _measure(lambda: cycling.info_points(circ[3], places), 1))
    )
    graphs = {"bike": scored} if walk is None else {"walk": walk, "bike": scored}
    sources = places.head(3)
    rows.append(
        (
            f"isochrones ({len(sources)} sources x {len(graphs) + 1} modes x 3 times)",
            _measure(lambda: cycling.isochrones(graphs, sources), 1),
        )
    )
    return rows


def _table(title: str, rows: list[tuple[str, tuple[float, float, float, Any]]]) -> None:
    print(f"\n{title}\n\n| step | median s | best s | peak MiB (tracemalloc) |")
    print("|---|---:|---:|---:|")
    for name, (median, best, peak, _) in rows:
        print(f"| {name} | {median:.3f} | {best:.3f} | {peak:.0f} |")


def _lts_throughput(graph: nx.MultiDiGraph) -> None:
    import osm_lts

    frame = pd.DataFrame.from_records([d for _, _, d in graph.edges(data=True)])
    frame = frame.drop(columns=["geometry"])
    tags = [
        {
            k: str(v)
            for k, v in row.items()
            if k in ("highway", "maxspeed", "lanes", "cycleway") and v is not None and v == v
        }
        for row in frame.to_dict("records")
    ]
    ours = _measure(lambda: cycling.classify_lts(frame), 3)
    # The same rules on every row, without classifying each tag combination once.
    rowwise = _measure(lambda: cycling._classify_rows(frame, 50.0), 3)
    theirs = _measure(lambda: [osm_lts.classify(t) for t in tags], 3)
    n = len(frame)
    print(f"\nLTS classification of {n:,} directed edges (same process, median of 3)\n")
    print("| implementation | median s | edges / s | peak MiB |\n|---|---:|---:|---:|")
    for name, (median, _, peak, _) in (
        ("geodistrict `classify_lts` (per direction, with assumptions)", ours),
        ("geodistrict, same rules without the distinct-combination shortcut", rowwise),
        ("osm-lts 0.5.1 `classify` (per way, a Python loop over tag dicts)", theirs),
    ):
        print(f"| {name} | {median:.3f} | {n / median:,.0f} | {peak:.0f} |")
    print(f"\nRatio: geodistrict is {theirs[0] / ours[0]:.1f}x the throughput of osm-lts.")


def main() -> None:
    """Run the measurements and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=160)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(
        f"Machine: {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, geodistrict {gd.__version__}"
    )
    cfg = gd.datasets.sample_config()
    base = gd.datasets.sample_layers()
    dest = cycling.destinations(base.pois, base.transit_stops)
    orig = cycling.origins(base.buildings)
    places = cycling.key_places(base.pois, base.transit_stops)
    started = time.perf_counter()
    cycling_layers(base, cfg.cycling)
    total = time.perf_counter() - started
    rows = _steps(base.bike_graph, orig, dest, places, base.walk_graph, args.repeat, 15.0)
    g = base.bike_graph
    _table(
        f"Sample ({g.number_of_nodes():,} nodes, {g.number_of_edges():,} directed bike edges, "
        f"{len(orig)} origins, {len(dest)} destinations); whole `cycling_layers`: {total:.2f} s",
        rows,
    )

    big = synthetic(args.side)
    rng = np.random.default_rng(1)
    s_orig = gpd.GeoDataFrame({"origin_id": range(2000)}, geometry=_random_points(big, 2000, 2))
    s_dest = gpd.GeoDataFrame(
        {"category": rng.choice(list(cycling.DESTINATION_CATEGORIES), 2000)},
        geometry=_random_points(big, 2000, 3),
    )
    s_places = gpd.GeoDataFrame(
        {
            "place_id": range(1, 7),
            "name": [f"P{i}" for i in range(6)],
            "kind": "centre",
            "priority": 1,
        },
        geometry=_random_points(big, 6, 4).to_numpy(),
        crs=CRS,
    )
    rows = _steps(big, s_orig, s_dest, s_places, None, 1, 60.0)
    _table(
        f"Synthetic grid ({big.number_of_nodes():,} nodes, {big.number_of_edges():,} directed "
        "edges, 2,000 origins, 2,000 destinations, 6 places)",
        rows,
    )
    _lts_throughput(big)
    print(
        f"\nPeak RSS of the whole run: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
