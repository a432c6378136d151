"""Maximal covering (MCLP): geodistrict's HiGHS programme beside spopt's MCLP with CBC.

Demand points and candidate sites uniform in a 5 km square (Euclidean cost),
integer weights 1-19, radius 500 m, 8 sites: the shape of the shared-service
and info-point problems. Both solvers must reach the same covered weight (the
optimum); the time is the solve, in the same process, one after the other.

Usage (the ``bench`` extra installs spopt)::

    .venv/bin/python benchmarks/bench_siting.py
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

from geodistrict import siting


def _spopt(cost: np.ndarray, weights: np.ndarray, radius: float, k: int) -> list[int]:
    import pulp
    from spopt.locate import MCLP

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=k)
        model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=60))
    return [i for i, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]


def _covered(cost: np.ndarray, weights: np.ndarray, radius: float, sites: list[int]) -> float:
    return float(weights[(cost[:, sites] <= radius).any(axis=1)].sum())


def main() -> None:
    print("load average before:", os.getloadavg())
    rng = np.random.default_rng(1)
    print("demand\tsites\tHiGHS s\tspopt+CBC s\tratio\tcovered HiGHS\tcovered spopt")
    for n_demand, n_sites in [(300, 100), (1000, 200), (2000, 400)]:
        demand = rng.uniform(0, 5000, (n_demand, 2))
        sites = rng.uniform(0, 5000, (n_sites, 2))
        cost = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
        weights = rng.integers(1, 20, n_demand).astype(float)
        start = time.perf_counter()
        ours = siting._exact(cost, weights, 500.0, 8)
        t_ours = time.perf_counter() - start
        start = time.perf_counter()
        theirs = _spopt(cost, weights, 500.0, 8)
        t_theirs = time.perf_counter() - start
        got = [_covered(cost, weights, 500.0, s) for s in (ours, theirs)]
        print(
            f"{n_demand}\t{n_sites}\t{t_ours:.2f}\t{t_theirs:.2f}\t{t_theirs / t_ours:.1f}x\t"
            f"{got[0]:.0f}\t{got[1]:.0f}"
        )
    print("load average after:", os.getloadavg())


if __name__ == "__main__":
    main()
