"""How accessibility grows with the network: geodistrict beside pandana on grids.

Usage (from the repository root; pandana is in the ``bench`` extra)::

    .venv/bin/python benchmarks/bench_scaling.py [--sides 100 200 400 500 1000]
        [--peer-max-side 500]

Each method and grid runs in its own process. Grids: ``side x side`` nodes
80 m apart, two-way edges of random length 70-110 m, one unit per three nodes
at a random node, 12 categories, counts within 400, 800 and 1600 m of every
node. Units stand on their node (``snap_offsets=False``), the convention
pandana uses, so the two methods' counts are compared cell by cell.
Time = building the method's structure + the counts; peak memory = the
child's VmHWM minus its resident size before the work. The growth exponent is
the slope of log(time) over log(nodes) between the smallest and largest grid
each method ran.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DISTANCES = (400.0, 800.0, 1600.0)
CATEGORIES = 12


def _vm(field: str) -> float:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+)", text).group(1)) / 1024  # type: ignore[union-attr]


def _grid(side: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(side)
    ids = np.arange(side * side)
    x, y = (ids % side) * 80.0, (ids // side) * 80.0
    right = ids[(ids % side) < side - 1]
    up = ids[ids < side * (side - 1)]
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + side])
    length = rng.uniform(70, 110, len(u))
    units = rng.choice(ids, side * side // 3)
    codes = rng.integers(0, CATEGORIES, len(units))
    return {
        "x": x, "y": y, "u": np.concatenate([u, v]), "v": np.concatenate([v, u]),
        "length": np.concatenate([length, length]), "units": units, "codes": codes,
    }  # fmt: skip


def _geodistrict(grid: dict[str, np.ndarray]) -> pd.DataFrame:
    import geopandas as gpd

    from geodistrict.network import GraphArrays, accessibility
    from geodistrict.network.engine import _csr

    n = len(grid["x"])
    mm = np.rint(grid["length"] * 1000.0)
    arrays = GraphArrays(
        nodes=np.arange(n), xy=np.column_stack([grid["x"], grid["y"]]),
        matrix=_csr(n, grid["u"], grid["v"], mm), edge_u=grid["u"], edge_v=grid["v"], edge_mm=mm,
    )  # fmt: skip
    pts = gpd.GeoDataFrame(
        {"category": [f"c{k:02d}" for k in grid["codes"]]},
        geometry=gpd.points_from_xy(grid["x"][grid["units"]], grid["y"][grid["units"]]),
        crs="EPSG:32632",
    )
    acc = accessibility(arrays, pts, distances=DISTANCES, snap_offsets=False)
    return acc[[c for c in acc.columns if not c.endswith("_total")]]


def _pandana(grid: dict[str, np.ndarray]) -> pd.DataFrame:
    import pandana

    net = pandana.Network(
        pd.Series(grid["x"]), pd.Series(grid["y"]), pd.Series(grid["u"]), pd.Series(grid["v"]),
        pd.DataFrame({"length": np.rint(grid["length"] * 1000.0) / 1000.0}), twoway=False,
    )  # fmt: skip
    net.precompute(max(DISTANCES))
    out = {}
    for d in DISTANCES:
        for k in range(CATEGORIES):
            ids = grid["units"][grid["codes"] == k]
            net.set(pd.Series(ids), variable=np.ones(len(ids)), name=f"c{k:02d}")
            out[f"n{d:g}_c{k:02d}"] = net.aggregate(d, type="sum", decay="flat", name=f"c{k:02d}")
    return pd.DataFrame(out).round().astype(np.int64)


def _child(method: str, side: int, out: Path) -> None:
    grid = _grid(side)
    before = _vm("VmRSS")
    started = time.perf_counter()
    counts = (_geodistrict if method == "geodistrict" else _pandana)(grid)
    seconds = time.perf_counter() - started
    counts.to_numpy(dtype=np.int64).tofile(out / f"{method}-{side}.bin")
    stats = {"seconds": seconds, "peak_mib": _vm("VmHWM") - before, "shape": counts.shape}
    (out / f"{method}-{side}.json").write_text(json.dumps(stats))


def main() -> None:
    """Run the grids and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sides", type=int, nargs="+", default=[100, 200, 400, 500, 1000])
    parser.add_argument("--peer-max-side", type=int, default=500)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]), Path(args.out))
        return
    print(f"load average before: {os.getloadavg()}")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        for side in args.sides:
            methods = ["geodistrict"] + (["pandana"] if side <= args.peer_max_side else [])
            result: dict[str, dict[str, float]] = {}
            for method in methods:
                subprocess.run([sys.executable, __file__, "--child", method, str(side), "--out",
                                str(out)], check=True, cwd=ROOT)  # fmt: skip
                result[method] = json.loads((out / f"{method}-{side}.json").read_text())
            same = ""
            if "pandana" in result:
                ours = np.fromfile(out / f"geodistrict-{side}.bin", dtype=np.int64)
                theirs = np.fromfile(out / f"pandana-{side}.bin", dtype=np.int64)
                same = f"{100.0 * np.mean(ours == theirs):.1f} %"
            rows.append((side * side, result, same))
            g = result["geodistrict"]
            p = result.get("pandana")
            peer = (
                f"{p['seconds']:.2f} | {p['peak_mib']:.0f} | {p['seconds'] / g['seconds']:.1f}x"
                if p
                else "- | - | -"
            )
            print(f"\n| {side * side:,} | {g['seconds']:.2f} | {g['peak_mib']:.0f} | {peer} | "
                  f"{same or '-'} |", flush=True)  # fmt: skip
    for method in ("geodistrict", "pandana"):
        ran = [(n, r[method]["seconds"]) for n, r, _ in rows if method in r]
        if len(ran) >= 2:
            (n0, t0), (n1, t1) = ran[0], ran[-1]
            print(f"{method}: growth exponent {math.log(t1 / t0) / math.log(n1 / n0):.2f} "
                  f"({n0:,} -> {n1:,} nodes)")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
