"""Time the priority ranking: re-scoring 1,000 units and a whole sensitivity run.

Run from the repository root::

    .venv/bin/python benchmarks/bench_priority.py [--units 1000] [--repeat 5]

The criteria are synthetic (every criterion of geodistrict.priority.CRITERIA,
random but seeded); re-scoring does no spatial work, so their origin does not
matter.  Also times the criteria of the sample district once (spatial part,
for scale).  Prints a Markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from geodistrict import priority


def _time(func: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), min(runs)


def synthetic_criteria(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` units with a plausible value for every criterion."""
    rng = np.random.default_rng(seed)
    data = {
        "footfall": rng.uniform(500, 6000, n),
        "dist_retail_centre_m": rng.exponential(150, n),
        "commercial_density": rng.poisson(80, n),
        "transit_access": rng.poisson(6, n),
        "low_stress_bike_m": rng.exponential(80, n),
        "regeneration_need": rng.uniform(0, 1, n),
        "suitability": rng.uniform(0, 1, n),
        "demand_gap": rng.integers(0, 8, n),
        "public_ownership": rng.choice([0.0, 0.5, 1.0], n),
        "asking_rent_ratio": rng.lognormal(0.0, 0.3, n),
        "vacancy_months": rng.uniform(0, 120, n),
        "floor_area_m2": rng.lognormal(4.3, 0.6, n),
        "ground_floor": rng.random(n) < 0.8,
        "condition": rng.choice(["good", "fair", "poor"], n),
    }
    for anchor in ("supermarket", "station", "school", "townhall"):
        data[f"walk_{anchor}_m"] = np.minimum(rng.exponential(600, n), 2000)
    return pd.DataFrame(data, index=pd.Index([f"U{i:05d}" for i in range(n)], name="unit_id"))


def main() -> None:
    """Print the timings as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1000, help="Monte-Carlo runs")
    args = parser.parse_args()
    crit = synthetic_criteria(args.units)
    weights = {"demand_gap": 3.0, "footfall": 1.0}
    n, r = args.units, args.runs
    rows = [
        (f"rescore, weighted sum ({n} units, with explanations)",
         _time(lambda: priority.rescore(crit, weights), args.repeat)),
        (f"rescore, TOPSIS ({n} units, with explanations)",
         _time(lambda: priority.rescore(crit, weights, method="topsis"), args.repeat)),
        (f"scores only, weighted sum ({n} units, numpy core)",
         _time(lambda: priority.weighted_sum_scores(
             crit[list(priority.DEFAULT_WEIGHTS)].to_numpy(float),
             np.array(list(priority.DEFAULT_WEIGHTS.values())),
             np.array([c.direction == "benefit" for c in priority.CRITERIA.values()])),
             args.repeat)),
        (f"sensitivity, weighted sum ({n} units x {r} runs)",
         _time(lambda: priority.sensitivity(crit, weights, runs=r, method="weighted_sum"),
               args.repeat)),
        (f"sensitivity, TOPSIS ({n} units x {r} runs)",
         _time(lambda: priority.sensitivity(crit, weights, runs=r, method="topsis"), args.repeat)),
        (f"prioritise = rescore + sensitivity ({n} units x {r} runs)",
         _time(lambda: priority.prioritise(crit, weights, runs=r), args.repeat)),
    ]  # fmt: skip

    import geodistrict as gd
    from geodistrict.sources.surveys import VACANT_UNITS, read_survey
    from geodistrict.vacancy import vacant_units

    cfg = gd.load_config("config/sample.yml")
    base = gd.load_base_layers(cfg)
    units = vacant_units(
        base.pois, read_survey(cfg.surveys.vacant_units, VACANT_UNITS, crs=base.crs)
    )
    rows.append((
        f"compute_criteria, sample district ({len(units)} units, walk graph "
        f"{base.walk_graph.number_of_nodes()} nodes)",
        _time(lambda: priority.compute_criteria(
            units, walk_graph=base.walk_graph, pois=base.pois,
            transit_stops=base.transit_stops), max(1, args.repeat // 2)),
    ))  # fmt: skip
    print(f"Python {platform.python_version()}, {platform.processor() or platform.machine()}")
    print()
    print("| operation | median (ms) | best (ms) |")
    print("|---|---:|---:|")
    for name, (median, best) in rows:
        print(f"| {name} | {median * 1000:.1f} | {best * 1000:.1f} |")


if __name__ == "__main__":
    main()
