"""A whole district run from a cold start: fresh process, no cache of OSM layers.

What a planner waits for after ``geodistrict run config/sample.yml --no-cache``:
the wall time of the command (imports, reading the extract, every step, writing
the GeoPackage and GeoParquet), median of ``--repeat`` fresh processes, and the
time of each step as the run reports it.  With ``--baseline REF`` the same runs
are made, alternating, with the code of an earlier commit (a git worktree on
``PYTHONPATH``, same virtual environment), so the ratio is measured under the
same load.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_cold.py --repeat 5 --baseline f58a1b2
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

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("config/sample.yml", "config/piana_rotaliana.yml")

# The child: the same work as `geodistrict run CONFIG --no-cache --out OUT`, timed inside.
CHILD = """
import json, sys, time
t0 = time.perf_counter()
from geodistrict.cli import main
t1 = time.perf_counter()
from geodistrict.config import load_config
from geodistrict.pipeline import run
config = load_config(sys.argv[1])
result = run(config, out=sys.argv[2], use_cache=False)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "run_s": t2 - t1, "steps": result.seconds}))
"""


def _once(config: str, pythonpath: str | None) -> dict[str, object]:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    with tempfile.TemporaryDirectory(prefix="bench_cold_") as out:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, config, out],
            cwd=pythonpath or ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - start
    numbers = json.loads(done.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, **numbers}


def _worktree(ref: str) -> str:
    path = Path(tempfile.gettempdir()) / f"geodistrict_baseline_{ref}"
    if not path.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), ref], cwd=ROOT, check=True
        )
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", help="an earlier commit to compare with, same run")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS))
    args = parser.parse_args()
    print("load average before:", os.getloadavg())
    variants: dict[str, str | None] = {"current": None}
    if args.baseline:
        variants[args.baseline] = _worktree(args.baseline)
    for config in args.configs:
        runs: dict[str, list[dict[str, object]]] = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, path in variants.items():  # alternate: same load for both
                runs[name].append(_once(str(Path(path or ROOT) / config), path))
        for name, results in runs.items():
            wall = statistics.median(float(r["wall_s"]) for r in results)  # type: ignore[arg-type]
            imp = statistics.median(float(r["import_s"]) for r in results)  # type: ignore[arg-type]
            steps = results[0]["steps"]
            assert isinstance(steps, dict)
            per_step = {
                step: round(statistics.median(float(r["steps"][step]) for r in results), 2)  # type: ignore[index]
                for step in steps
            }
            print(
                f"{config}\t{name}\twall median {wall:.2f} s (of {len(results)}: "
                f"{', '.join(f'{float(r["wall_s"]):.2f}' for r in results)})\t"  # type: ignore[arg-type]
                f"import {imp:.2f} s\tsteps {per_step}"
            )
        if args.baseline:
            new = statistics.median(float(r["wall_s"]) for r in runs["current"])  # type: ignore[arg-type]
            old = statistics.median(float(r["wall_s"]) for r in runs[args.baseline])  # type: ignore[arg-type]
            print(f"{config}\tratio {args.baseline} / current: {old / new:.2f}x")
    print("load average after:", os.getloadavg())


if __name__ == "__main__":
    main()
