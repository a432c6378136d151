"""Choosing sites: the maximal covering location problem, exact with a greedy fallback.

Church & ReVelle (1974): choose ``k`` of the candidate sites so that the
weight of the demand points within ``radius`` of a chosen site is largest.
Solved exactly as the textbook integer programme (the formulation of spopt's
``MCLP``) with the HiGHS solver that SciPy ships (:func:`scipy.optimize.milp`);
when the solver fails or hits its time limit, a greedy heuristic (each pick
adds the most uncovered weight) gives a (1 - 1/e)-approximation, and the result
says which method was used. Info points (cycling) and shared-service sites
(production) both use it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

from geodistrict.errors import ParameterError

log = logging.getLogger(__name__)

__all__ = ["CoveringResult", "maximal_covering"]

Method = Literal["auto", "exact", "greedy"]


@dataclass(frozen=True)
class CoveringResult:
    """Sites chosen by :func:`maximal_covering`.

    Attributes
    ----------
    sites : list of int
        Chosen candidate columns, ordered by the weight each adds (largest first).
    gains : list of float
        Weight newly covered by each site, in that order.
    solver : str
        ``"MCLP (HiGHS)"`` or ``"greedy"``.
    """

    sites: list[int]
    gains: list[float]
    solver: str


#: Solver time limit (s): beyond it the greedy heuristic answers instead.
EXACT_TIME_LIMIT_S = 60.0
EXACT_SOLVER = "MCLP (HiGHS)"


def _exact(cost: np.ndarray, weights: np.ndarray, radius: float, k: int) -> list[int]:
    """Solve the MCLP integer programme; the chosen candidate columns.

    Variables: ``y_j`` (site ``j`` chosen, binary) and ``z_i`` (demand ``i``
    covered, in [0, 1]: it takes an integer value at the optimum because its
    only upper bound is a sum of binaries).  Maximise ``sum w_i z_i`` subject to
    ``z_i <= sum_{j covers i} y_j`` and ``sum y_j = k``.  Demand that no
    candidate covers, or that weighs nothing, cannot change the choice and is
    left out of the programme.
    """
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    cover = cost <= radius
    useful = cover.any(axis=1) & (weights > 0)
    cover, w = cover[useful], weights[useful]
    n_demand, n_sites = cover.shape
    # Columns: y (n_sites) then z (n_demand); minimise -w.z.
    objective = np.concatenate([np.zeros(n_sites), -w])
    rows = sparse.hstack([-sparse.csr_matrix(cover, dtype=float), sparse.eye(n_demand)])
    count = np.concatenate([np.ones(n_sites), np.zeros(n_demand)])[None, :]
    constraints = [
        LinearConstraint(rows, -np.inf, 0.0),
        LinearConstraint(count, k, k),
    ]
    integrality = np.concatenate([np.ones(n_sites), np.zeros(n_demand)])
    result = milp(
        objective,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"time_limit": EXACT_TIME_LIMIT_S},
    )
    if result.status != 0 or result.x is None:
        raise RuntimeError(f"HiGHS did not solve the MCLP: {result.message}")
    return [int(j) for j in np.flatnonzero(result.x[:n_sites] > 0.5)]


def maximal_covering(
    cost: np.ndarray,
    weights: np.ndarray,
    *,
    radius: float,
    k: int,
    method: Method = "auto",
) -> CoveringResult:
    """Choose ``k`` candidate sites covering the most demand weight within ``radius``.

    Parameters
    ----------
    cost : ndarray, shape (demand, candidates)
        Distance (or time) from each demand point to each candidate; ``inf``
        where unreachable.
    weights : ndarray, shape (demand,)
        Weight of each demand point (firms, employees, metres of circuit...).
    radius : float
        A demand point is covered by a site within this cost.
    k : int
        Number of sites (at most the number of candidates).
    method : {"auto", "exact", "greedy"}, default "auto"
        ``auto`` tries the exact solver and falls back to greedy with a
        warning; ``exact`` raises if the solver fails; ``greedy`` never calls it.

    Returns
    -------
    CoveringResult

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0, 5, 9], [1, 5, 9], [9, 5, 0], [9, 9, 1]], dtype=float)
    >>> result = maximal_covering(cost, np.ones(4), radius=2, k=2, method="greedy")
    >>> result.sites, result.gains, result.solver
    ([0, 2], [2.0, 2.0], 'greedy')
    """
    cost = np.asarray(cost, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if cost.ndim != 2 or cost.shape[0] != len(weights):
        raise ParameterError(
            f"cost must be (demand, candidates) with {len(weights)} demand rows, got {cost.shape}"
        )
    n_candidates = cost.shape[1]
    if not 1 <= k <= n_candidates:
        raise ParameterError(f"k must be between 1 and {n_candidates} candidates, got {k!r}")
    if method not in ("auto", "exact", "greedy"):
        raise ParameterError(f"method must be 'auto', 'exact' or 'greedy', got {method!r}")
    chosen: list[int] = []
    solver = "greedy"
    if method != "greedy":
        try:
            chosen = _exact(cost, weights, radius, k)
            solver = EXACT_SOLVER
        except Exception as exc:  # any solver failure: fall back, and say so
            if method == "exact":
                raise
            log.warning("MCLP solver failed (%s); using the greedy heuristic", exc)
            chosen = []
    if len(chosen) != k:
        solver = "greedy"
    pool = chosen if solver != "greedy" else list(range(n_candidates))
    cover = cost <= radius
    left = np.ones(len(weights), dtype=bool)
    picks: list[int] = []
    gains: list[float] = []
    for _ in range(k):
        gain = (cover[:, pool] & left[:, None]).T @ weights
        gain[[pool.index(p) for p in picks]] = -1
        best = pool[int(np.argmax(gain))]
        picks.append(best)
        gains.append(float(gain[pool.index(best)]))
        left &= ~cover[:, best]
    return CoveringResult(sites=picks, gains=gains, solver=solver)
