"""Every bounded search of the analyses, dense (before issue 17) vs local, on growing grids.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_bounded.py [--sides 100 200 400 500]

Each grid runs in its own process. Grids as in ``bench_scaling.py``: ``side x
side`` nodes 80 m apart, two-way edges of random length 70-110 m. The
searches, with as many sources as the network has nodes divided by a fixed
number (so a district twice as large brings twice the sources):

* ``priority``: ``criteria._walk_reach`` (800 m), one unit node per 50 nodes,
  a shop per 10 nodes, a stop per 100;
* ``production``: ``services._cost_matrix`` (600 m, reverse searches), a
  candidate per 100 nodes, a firm per 20;
* ``connectivity``: ``low_stress._reach_pairs`` (bikeshed 2500 m, any and
  low-stress network), an origin node per 50 nodes, a destination per 30;
* ``gaps``: ``gaps._distances`` to and from a node + ``_pairs_through``, one
  candidate link per 1000 nodes (2500 m);
* ``isochrones``: ``isochrone._reached_points`` (15 min by bike, 3750 m), one
  source per 5000 nodes, a sample point per edge.

"dense" is the former code (a dense row of the whole network per source,
kept in ``tests/test_network_local_searches.py`` as the tests' reference);
"local" is the code as shipped. Both run on the same inputs, their results are
compared, and the growth exponent is the slope of log(time) over log(nodes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("priority", "production", "connectivity", "gaps", "isochrones")


def _arrays(side: int) -> Any:
    from geodistrict.network import GraphArrays
    from geodistrict.network.engine import _csr

    rng = np.random.default_rng(side)
    ids = np.arange(side * side)
    x, y = (ids % side) * 80.0, (ids // side) * 80.0
    right = ids[(ids % side) < side - 1]
    up = ids[ids < side * (side - 1)]
    u0, v0 = np.concatenate([right, up]), np.concatenate([right + 1, up + side])
    mm = np.rint(rng.uniform(70, 110, len(u0)) * 1000.0)
    u, v, mm = np.concatenate([u0, v0]), np.concatenate([v0, u0]), np.concatenate([mm, mm])
    n = side * side
    return GraphArrays(
        nodes=ids, xy=np.column_stack([x, y]), matrix=_csr(n, u, v, mm),
        edge_u=u, edge_v=v, edge_mm=mm,
    )  # fmt: skip


def _cases(arrays: Any) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """For each search: (local, dense) callables on the same inputs."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_network_local_searches as ref

    from geodistrict.cycling import gaps
    from geodistrict.cycling.isochrone import _reached_points
    from geodistrict.cycling.low_stress import _reach_pairs
    from geodistrict.network import NodeTargets, distances_within
    from geodistrict.priority import criteria
    from geodistrict.production import services

    n = arrays.n
    rng = np.random.default_rng(0)
    sites = criteria._Sites
    units = rng.integers(0, n, max(1, n // 50))
    uniq, inverse = np.unique(units, return_inverse=True)
    unit_off = rng.integers(0, 20_000, len(units)).astype(float)
    shops = sites(rng.integers(0, n, n // 10), rng.integers(0, 20_000, n // 10).astype(float))
    stops = sites(rng.integers(0, n, n // 100), rng.integers(0, 20_000, n // 100).astype(float))
    codes = rng.integers(-1, 8, n // 10)
    walk = (arrays, uniq, inverse, unit_off, shops, codes, 8, stops)

    fpos, cpos = rng.integers(0, n, n // 20), rng.integers(0, n, max(1, n // 100))
    foff, coff = rng.uniform(0, 30, len(fpos)), rng.uniform(0, 30, len(cpos))

    low = arrays.subgraph(rng.random(arrays.n_edges) < 0.6)
    o_nodes = np.unique(rng.integers(0, n, max(1, n // 50)))
    d_nodes = rng.integers(0, n, n // 30)
    onehot = np.zeros((len(d_nodes), 5))
    onehot[np.arange(len(d_nodes)), rng.integers(0, 5, len(d_nodes))] = 1.0
    people_at = np.bincount(o_nodes, minlength=n).astype(float)

    links = rng.integers(0, n, (max(1, n // 1000), 2))
    o_weight = np.ones(len(o_nodes), dtype=np.int64)
    d_per_node = np.bincount(d_nodes, minlength=n)
    limit = math.floor(2500.0 * 1000.0 + 1e-6)

    def gaps_local() -> list[float]:
        return [
            gaps._pairs_through(
                gaps._distances(arrays, int(a), 2500.0, reverse=True),
                gaps._distances(arrays, int(b), 2500.0, reverse=False),
                50_000.0,
                o_nodes,
                o_weight,
                d_nodes,
                d_per_node,
                limit,
            )
            for a, b in links
        ]

    def gaps_dense() -> list[float]:
        out = []
        for a, b in links:
            to_a = next(distances_within(arrays, np.array([a]), cutoff_m=2500.0, reverse=True))
            from_b = next(distances_within(arrays, np.array([b]), cutoff_m=2500.0))
            out.append(ref._pairs_dense(to_a[1][0], from_b[1][0], 50_000.0, o_nodes, o_weight,
                                        d_nodes, limit))  # fmt: skip
        return out

    iso_sources = rng.integers(0, n, max(1, n // 5000))
    pt_off = rng.uniform(0, 80, arrays.n_edges)
    points_at = NodeTargets(arrays.edge_u, n)

    def iso_local() -> list[np.ndarray]:
        found = _reached_points(arrays, iso_sources, points_at, pt_off, 3750.0)
        return [np.sort(picked) for picked, _ in found]

    def iso_dense() -> list[np.ndarray]:
        out = []
        for _, dist in distances_within(arrays, iso_sources, cutoff_m=3750.0):
            for row in dist / 1000.0:
                out.append(np.flatnonzero(np.isfinite(row[arrays.edge_u] + pt_off)))
        return out

    return {
        "priority": (lambda: criteria._walk_reach(*walk), lambda: ref._walk_reach_dense(*walk)),
        "production": (
            lambda: services._cost_matrix(arrays, fpos, foff, cpos, coff, 600.0),
            lambda: ref._cost_dense(arrays, fpos, foff, cpos, coff, 600.0),
        ),
        "connectivity": (
            lambda: _reach_pairs(
                arrays,
                low,
                o_nodes,
                d_nodes,
                onehot,
                people_at,
                bikeshed_m=2500.0,
                detour_ratio=1.25,
            ),
            lambda: ref._reach_pairs_dense(
                arrays, low, o_nodes, d_nodes, onehot, people_at, 2500.0, 1.25
            ),
        ),
        "gaps": (gaps_local, gaps_dense),
        "isochrones": (iso_local, iso_dense),
    }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def _child(side: int, kinds: list[str], dense_max_side: int, out: Path) -> None:
    arrays = _arrays(side)
    arrays.mm_per_metre  # noqa: B018 - structure built before timing, as in the analyses
    arrays.transposed  # noqa: B018
    cases = _cases(arrays)
    result: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        local, dense = cases[kind]
        started = time.perf_counter()
        got = local()
        row: dict[str, Any] = {"local": time.perf_counter() - started}
        if side <= dense_max_side:
            started = time.perf_counter()
            expected = dense()
            row["dense"] = time.perf_counter() - started
            row["same"] = _same(got, expected)
        result[kind] = row
    (out / f"{side}.json").write_text(json.dumps(result))


def _slope(xs: list[float], ys: list[float]) -> float:
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0]) if len(xs) > 1 else math.nan


def _coverage(repeat: int) -> None:
    """``commerce.coverage_rows`` before (a buffer and a union per need) and as shipped."""
    import statistics

    import geodistrict as gd
    from geodistrict import commerce
    from geodistrict.commerce.units import polygonal
    from geodistrict.config import load_config
    from geodistrict.taxonomy import classify_units, load_taxonomy

    print("\n| sample | origins | before s | now s | before / now | same outlines |")
    print("|---|---:|---:|---:|---:|---|")
    for config in ("config/sample.yml", "config/piana_rotaliana.yml"):
        layers = gd.load_base_layers(load_config(ROOT / config))
        origins = commerce.homes(layers.buildings, layers.landuse)
        walk = commerce.walking_coverage(
            layers.walk_graph, classify_units(layers.pois), origins, max_m=400.0
        )
        needs = list(load_taxonomy().everyday.values())

        def before(origins: Any = origins, walk: Any = walk, needs: Any = needs) -> list[Any]:
            out = []
            for need in needs:  # the former loop of coverage_rows (geometry part)
                beyond = origins.geometry.to_numpy()[~(walk[f"walk_m_{need.key}"] <= 400.0)]
                out.append(polygonal(shapely.union_all(shapely.buffer(beyond, 1.0)))
                           if len(beyond) else None)  # fmt: skip
            return out

        def now(origins: Any = origins, walk: Any = walk) -> list[Any]:
            return list(commerce.coverage_rows(walk, origins, max_m=400.0).geometry)

        times: dict[str, list[float]] = {"before": [], "now": []}
        for _ in range(repeat):
            for name, func in (("before", before), ("now", now)):
                started = time.perf_counter()
                result = func()
                times[name].append(time.perf_counter() - started)
                if name == "before":
                    expected = result
        same = all(
            (a is None and b is None) or shapely.to_wkb(a) == shapely.to_wkb(b)
            for a, b in zip(result, expected, strict=True)
        )
        b, n = statistics.median(times["before"]), statistics.median(times["now"])
        print(f"| {config} | {len(origins):,} | {b:.3f} | {n:.3f} | {b / n:.1f}× | {same} |")


def main() -> None:
    """Run the grids and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sides", type=int, nargs="+", default=[100, 200, 400, 500])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--dense-max-side", type=int, default=500)
    parser.add_argument(
        "--coverage",
        type=int,
        metavar="REPEAT",
        default=0,
        help="only time commerce.coverage_rows on both samples",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.kinds, args.dense_max_side, Path(args.out))
        return
    if args.coverage:
        print(f"load average before: {os.getloadavg()}")
        _coverage(args.coverage)
        print(f"load average after: {os.getloadavg()}")
        return
    print(f"load average before: {os.getloadavg()}")
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for side in args.sides:
            subprocess.run([sys.executable, __file__, "--child", str(side), "--out", scratch,
                            "--dense-max-side", str(args.dense_max_side),
                            "--kinds", *args.kinds], check=True, cwd=ROOT)  # fmt: skip
            results[side] = json.loads((Path(scratch) / f"{side}.json").read_text())
            print(f"side {side} done: {results[side]}", flush=True)
    print(f"load average after: {os.getloadavg()}")
    print("\n| search | grid nodes | dense s | local s | dense / local | identical |")
    print("|---|---:|---:|---:|---:|---|")
    for kind in args.kinds:
        for side, res in results.items():
            r = res[kind]
            dense = r.get("dense")
            ratio = f"{dense / r['local']:.1f}×" if dense else "–"
            print(f"| {kind} | {side * side:,} | {f'{dense:.2f}' if dense else 'not run'} | "
                  f"{r['local']:.2f} | {ratio} | {r.get('same', '–')} |")  # fmt: skip
    print("\nGrowth exponents (slope of log time over log nodes, all grids):")
    nodes = [s * s for s in results]
    for kind in args.kinds:
        local = _slope(nodes, [results[s][kind]["local"] for s in results])
        ran = [s for s in results if "dense" in results[s][kind]]
        dense = _slope([s * s for s in ran], [results[s][kind]["dense"] for s in ran])
        print(f"- {kind}: local n^{local:.2f}, dense n^{dense:.2f}")


if __name__ == "__main__":
    main()
