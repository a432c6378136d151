"""The maximal covering location problem: exact answers against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from geodistrict.errors import ParameterError
from geodistrict.siting import EXACT_SOLVER, maximal_covering


def _covered(cost: np.ndarray, weights: np.ndarray, radius: float, sites: list[int]) -> float:
    return float(weights[(cost[:, sites] <= radius).any(axis=1)].sum())


@pytest.mark.parametrize("seed", range(40))
def test_exact_solution_is_the_brute_force_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_demand, n_sites = int(rng.integers(5, 60)), int(rng.integers(2, 11))
    demand = rng.uniform(0, 1000, (n_demand, 2))
    sites = rng.uniform(0, 1000, (n_sites, 2))
    cost = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    cost[rng.random(cost.shape) < 0.05] = np.inf  # some pairs unreachable
    weights = rng.integers(0, 6, n_demand).astype(float)
    k = int(rng.integers(1, n_sites + 1))
    best = max(
        _covered(cost, weights, 250.0, list(c)) for c in itertools.combinations(range(n_sites), k)
    )
    result = maximal_covering(cost, weights, radius=250.0, k=k, method="exact")
    assert result.solver == EXACT_SOLVER
    assert len(set(result.sites)) == k
    assert _covered(cost, weights, 250.0, result.sites) == best
    assert sum(result.gains) == best


def test_exact_beats_greedy_where_greedy_is_trapped() -> None:
    # Site 0 covers the middle 3 points; sites 1 and 2 cover two points each at the ends
    # plus one middle point. Greedy takes site 0 first, then one end: 5; exact takes 1 + 2: 6.
    cover = np.array(
        [
            [1, 1, 0],
            [1, 0, 1],
            [1, 0, 0],
            [0, 1, 0],
            [0, 1, 0],
            [0, 0, 1],
            [0, 0, 1],
        ],
        dtype=bool,
    )
    cost = np.where(cover, 0.0, 10.0)
    weights = np.ones(7)
    exact = maximal_covering(cost, weights, radius=1, k=2, method="exact")
    greedy = maximal_covering(cost, weights, radius=1, k=2, method="greedy")
    assert sorted(exact.sites) == [1, 2] and sum(exact.gains) == 6
    assert greedy.sites[0] == 0 and sum(greedy.gains) == 5


def test_bad_k_names_the_value() -> None:
    with pytest.raises(ParameterError, match="got 4"):
        maximal_covering(np.zeros((2, 3)), np.ones(2), radius=1, k=4)
