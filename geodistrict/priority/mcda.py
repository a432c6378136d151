"""Multi-criteria scoring: weights, normalisation, weighted sum, TOPSIS, ranks, sensitivity.

Pure arithmetic on a (units x criteria) table, no spatial work: :func:`rescore`
re-ranks stored criteria for any weights in milliseconds (the OGC API process
``rank-vacant-units`` calls it per request) and :func:`sensitivity` measures
how robust the ranks are to the weights by Monte Carlo.  The formulas are
given in :mod:`geodistrict.priority`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict.errors import ConfigError
from geodistrict.priority.definitions import (
    CRITERIA,
    DEFAULT_WEIGHTS,
    ROBUSTNESS_COLUMNS,
    SCORE_COLUMNS,
    Method,
)
from geodistrict.priority.explain import _explain

__all__ = [
    "check_weights",
    "normalise",
    "prioritise",
    "rescore",
    "sensitivity",
    "topsis_scores",
    "weighted_sum_scores",
]

# --------------------------------------------------------------------------- weights


def check_weights(weights: Mapping[str, Any] | None) -> dict[str, float]:
    """Validate weights and merge them over :data:`DEFAULT_WEIGHTS`.

    Parameters
    ----------
    weights : mapping of str to number, optional
        Weights by criterion name; criteria not named keep their default.

    Returns
    -------
    dict
        A weight for every criterion of :data:`CRITERIA`.

    Raises
    ------
    ConfigError
        For an unknown criterion (the message lists the known ones), a weight
        that is not a finite number, a negative weight, or all weights zero;
        the message names the weight and quotes its value.

    Examples
    --------
    >>> check_weights({"footfall": 4})["footfall"]
    4.0
    >>> check_weights({"footfall": -1})
    Traceback (most recent call last):
    ...
    geodistrict.errors.ConfigError: weight 'footfall' must not be negative (value -1)
    """
    merged = dict(DEFAULT_WEIGHTS)
    for name, value in (weights or {}).items():
        if name not in CRITERIA:
            raise ConfigError(
                f"unknown criterion {name!r} in the weights; known criteria: "
                + ", ".join(CRITERIA)
            )
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ConfigError(f"weight {name!r} must be a number (value {value!r})")
        number = float(value)
        if not math.isfinite(number):
            raise ConfigError(f"weight {name!r} must be a finite number (value {value!r})")
        if number < 0:
            raise ConfigError(f"weight {name!r} must not be negative (value {value!r})")
        merged[name] = number
    if not any(w > 0 for w in merged.values()):
        raise ConfigError(
            f"all weights are zero ({weights!r}); give at least one a positive value"
        )
    return merged


# --------------------------------------------------------------------------- scoring core


def _normalised_weights(weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    total = w.sum(axis=-1, keepdims=True)
    if np.any(total <= 0):
        raise ConfigError("the weights of the available criteria are all zero")
    return w / total


def normalise(values: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """Min-max normalise a (units x criteria) matrix to [0, 1], 1 = best.

    Benefit columns ``(x - min) / (max - min)``, cost columns
    ``(max - x) / (max - min)``; a constant column is 0.

    Examples
    --------
    >>> normalise(np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([False, True])).tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """
    x = np.asarray(values, dtype=float)
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = hi - lo
    safe = np.where(span > 0, span, 1.0)
    n = np.where(np.asarray(benefit), (x - lo) / safe, (hi - x) / safe)
    return np.where(span > 0, n, 0.0)


def weighted_sum_scores(
    values: np.ndarray, weights: np.ndarray, benefit: np.ndarray
) -> np.ndarray:
    """Weighted-sum scores in [0, 1] of a (units x criteria) matrix (see the module docstring).

    Examples
    --------
    >>> weighted_sum_scores(np.array([[0.0], [2.0]]), np.array([3.0]), np.array([True])).tolist()
    [0.0, 1.0]
    """
    return normalise(values, benefit) @ _normalised_weights(weights)


def _topsis_parts(values: np.ndarray, benefit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared deviations from the ideal and the anti-ideal (unweighted),."""
    x = np.asarray(values, dtype=float)
    norm = np.sqrt((x**2).sum(axis=0))
    r = x / np.where(norm > 0, norm, 1.0)
    best = np.where(benefit, r.max(axis=0), r.min(axis=0))
    worst = np.where(benefit, r.min(axis=0), r.max(axis=0))
    return (r - best) ** 2, (r - worst) ** 2


def _topsis_from_parts(dp: np.ndarray, dm: np.ndarray, weights: np.ndarray) -> np.ndarray:
    w2 = (_normalised_weights(weights) ** 2).T  # (m,) or (m, runs)
    d_plus, d_minus = np.sqrt(dp @ w2), np.sqrt(dm @ w2)
    total = d_plus + d_minus
    return np.where(total > 0, d_minus / np.where(total > 0, total, 1.0), 0.5)


def topsis_scores(values: np.ndarray, weights: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """TOPSIS relative closeness in [0, 1] of a (units x criteria) matrix.

    Examples
    --------
    >>> values = np.array([[3.0, 4.0], [4.0, 3.0]])
    >>> topsis_scores(values, np.array([1.0, 1.0]), np.array([True, True])).tolist()
    [0.5, 0.5]
    """
    dp, dm = _topsis_parts(values, np.asarray(benefit))
    return _topsis_from_parts(dp, dm, np.asarray(weights, dtype=float))


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Rank 1 = highest score; ties share the best rank ("min" method)."""
    return pd.Series(scores).rank(ascending=False, method="min").to_numpy(dtype=np.int64)


# --------------------------------------------------------------------------- matrix from a frame


def _available(criteria: pd.DataFrame) -> list[str]:
    return [name for name in CRITERIA if name in criteria.columns and criteria[name].notna().any()]


def _matrix(
    criteria: pd.DataFrame, weights: Mapping[str, Any] | None
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Names, imputed values, weights and directions of the criteria that take part."""
    full = check_weights(weights)
    names = [n for n in _available(criteria) if full[n] > 0]
    if not names:
        raise ConfigError(
            "no criterion with a positive weight can be computed for these units; "
            f"available: {', '.join(_available(criteria)) or 'none'}"
        )
    values = criteria[names].apply(pd.to_numeric, errors="coerce").astype(float)
    values = values.fillna(values.median())
    w = np.array([full[n] for n in names])
    benefit = np.array([CRITERIA[n].direction == "benefit" for n in names])
    return names, values.to_numpy(), w, benefit


# --------------------------------------------------------------------------- public scoring


def rescore(
    criteria: pd.DataFrame,
    weights: Mapping[str, Any] | None = None,
    *,
    method: Method = "weighted_sum",
) -> gpd.GeoDataFrame:
    """Score and rank units from criteria already computed, for a set of weights.

    This is the fast path: no spatial work, only arithmetic on the criterion
    columns, so it can run for every request of the OGC API process
    ``rank-vacant-units`` or for each weighting a study wants to compare.

    Parameters
    ----------
    criteria : GeoDataFrame or DataFrame
        One row per unit with criterion columns (:data:`CRITERIA` names), as
        returned by :func:`compute_criteria` or read back from the
        ``vacant_units`` layer.  Other columns are kept.
    weights : mapping of str to number, optional
        Weights by criterion name, merged over :data:`DEFAULT_WEIGHTS`
        (:func:`check_weights`).  Criteria missing from ``criteria`` are
        ignored.
    method : {"weighted_sum", "topsis"}, default "weighted_sum"
        Which of the two scores becomes ``score`` / ``rank``.

    Returns
    -------
    GeoDataFrame
        A copy indexed like ``criteria`` with ``score`` and ``rank`` (of
        ``method``), ``score_ws``, ``rank_ws``, ``score_topsis``,
        ``rank_topsis``, ``top_criteria`` (the up to three criteria that add
        most to the weighted sum, ``;``-separated), ``explanation`` (in words,
        with the main weakness) and ``weights`` (JSON of the weights used);
        stale robustness columns (``p_top_k``...) are dropped, because they
        belong to other weights.  ``recommended_uses`` does not depend on the
        weights and is kept as it is.

    Raises
    ------
    ConfigError
        Bad weights (:func:`check_weights`) or no usable criterion.

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"footfall": [50.0, 10.0, 30.0], "suitability": [0.2, 0.9, 0.5]})
    >>> rescore(units, {"footfall": 1, "suitability": 0})["rank"].tolist()
    [1, 3, 2]
    >>> rescore(units, {"footfall": 0, "suitability": 1})["rank"].tolist()
    [3, 1, 2]
    """
    if method not in ("weighted_sum", "topsis"):
        raise ConfigError(f"unknown method {method!r}; use 'weighted_sum' or 'topsis'")
    names, values, w, benefit = _matrix(criteria, weights)
    ws = weighted_sum_scores(values, w, benefit)
    tp = topsis_scores(values, w, benefit)
    out = criteria.drop(
        columns=[c for c in (*SCORE_COLUMNS, *ROBUSTNESS_COLUMNS, "weights") if c in criteria]
    ).copy()
    if not isinstance(out, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out)
    chosen = ws if method == "weighted_sum" else tp
    out["score"] = chosen.round(6)
    out["rank"] = _ranks(chosen)
    out["score_ws"] = ws.round(6)
    out["rank_ws"] = _ranks(ws)
    out["score_topsis"] = tp.round(6)
    out["rank_topsis"] = _ranks(tp)
    out["top_criteria"], out["explanation"] = _explain(
        criteria, names, normalise(values, benefit), _normalised_weights(w)
    )
    # Every criterion's weight, so a re-ranking from the layer starts from these.
    out["weights"] = json.dumps(check_weights(weights))
    return out


def sensitivity(
    criteria: pd.DataFrame,
    weights: Mapping[str, Any] | None = None,
    *,
    method: Method = "weighted_sum",
    runs: int = 1000,
    spread: float = 0.25,
    top_k: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Monte-Carlo robustness of the ranks to the weights.

    Parameters
    ----------
    criteria : DataFrame
        As for :func:`rescore`.
    weights : mapping, optional
        The central weights (merged over :data:`DEFAULT_WEIGHTS`).
    method : {"weighted_sum", "topsis"}
    runs : int, default 1000
        Perturbed weight sets drawn.
    spread : float, default 0.25
        Each weight is multiplied by a uniform factor in
        ``[1 - spread, 1 + spread]``; 0 <= spread <= 1.
    top_k : int, default 5
        The "top" whose membership probability is reported.
    seed : int, default 0
        Random seed: the same inputs give the same result.

    Returns
    -------
    DataFrame
        Indexed like ``criteria``: ``top_k``, ``p_top_k`` (0-1),
        ``rank_lo``, ``rank_median``, ``rank_hi`` (5th, 50th and 95th
        percentile of the rank over the runs).

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"footfall": [50.0, 10.0, 30.0], "suitability": [0.2, 0.9, 0.5]})
    >>> sens = sensitivity(units, {"footfall": 1, "suitability": 0}, top_k=1, runs=200)
    >>> sens["p_top_k"].tolist(), sens["rank_hi"].tolist()
    ([1.0, 0.0, 0.0], [1, 3, 2])
    """
    if runs < 1:
        raise ConfigError(f"runs must be at least 1 (value {runs!r})")
    if not 0 <= spread <= 1:
        raise ConfigError(f"spread must be between 0 and 1 (value {spread!r})")
    if top_k < 1:
        raise ConfigError(f"top_k must be at least 1 (value {top_k!r})")
    names, values, w, benefit = _matrix(criteria, weights)
    rng = np.random.default_rng(seed)
    factors = rng.uniform(1.0 - spread, 1.0 + spread, size=(runs, len(names)))
    wr = _normalised_weights(w * factors)  # (runs, m)
    if method == "topsis":
        dp, dm = _topsis_parts(values, benefit)
        scores = _topsis_from_parts(dp, dm, wr).T  # (runs, n)
    else:
        scores = wr @ normalise(values, benefit).T
    # Rank per run, ties "min" like rescore: 1 + number of units strictly better.
    ascending = np.sort(scores, axis=1)
    n = scores.shape[1]
    ranks = np.empty(scores.shape, dtype=np.int64)
    for r in range(runs):  # one searchsorted per run: n log n, exact on ties
        ranks[r] = 1 + n - np.searchsorted(ascending[r], scores[r], side="right")
    lo, med, hi = np.percentile(ranks, [5, 50, 95], axis=0, method="nearest")
    return pd.DataFrame(
        {
            "top_k": np.full(n, top_k, dtype=np.int64),
            "p_top_k": (ranks <= top_k).mean(axis=0).round(4),
            "rank_lo": lo.astype(np.int64),
            "rank_median": med.astype(np.int64),
            "rank_hi": hi.astype(np.int64),
        },
        index=criteria.index,
    )


def prioritise(
    criteria: pd.DataFrame,
    weights: Mapping[str, Any] | None = None,
    *,
    method: Method = "weighted_sum",
    runs: int = 1000,
    spread: float = 0.25,
    top_k: int = 5,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """:func:`rescore` plus the :func:`sensitivity` columns, sorted by rank.

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"footfall": [50.0, 10.0, 30.0], "suitability": [0.2, 0.9, 0.5]})
    >>> ranked = prioritise(units, {"footfall": 3, "suitability": 1}, runs=100, top_k=1)
    >>> ranked[["rank", "p_top_k"]].values.tolist()
    [[1.0, 1.0], [2.0, 0.0], [3.0, 0.0]]
    """
    scored = rescore(criteria, weights, method=method)
    sens = sensitivity(
        criteria, weights, method=method, runs=runs, spread=spread, top_k=top_k, seed=seed
    )
    for col in ROBUSTNESS_COLUMNS:
        scored[col] = sens[col]
    return scored.sort_values(["rank", "score_ws"], ascending=[True, False], kind="stable")
