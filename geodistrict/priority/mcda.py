"""Multi-criteria scoring: presets, weights, weighted sum, TOPSIS, ranks, robustness.

Pure arithmetic on a (units x criteria) table, no spatial work: :func:`rescore`
re-ranks stored criteria for any preset and weights in milliseconds (the OGC
API process ``rank-vacant-units`` calls it per request) and
:func:`sensitivity` measures how robust the ranks are to the method and the
weights.  The formulas are given in :mod:`geodistrict.priority`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict.errors import ConfigError
from geodistrict.priority.definitions import (
    CRITERIA,
    DEFAULT_PRESET,
    PRESETS,
    ROBUSTNESS_COLUMNS,
    SCORE_COLUMNS,
    Method,
    Preset,
)
from geodistrict.priority.explain import _explain

__all__ = [
    "check_weights",
    "get_preset",
    "normalise",
    "prioritise",
    "rescore",
    "sensitivity",
    "topsis_scores",
    "weighted_sum_scores",
]

# --------------------------------------------------------------------------- presets and weights


def get_preset(preset: str | Preset | None = None) -> Preset:
    """The :class:`Preset` named ``preset`` (default :data:`DEFAULT_PRESET`).

    Raises
    ------
    ConfigError
        For an unknown name; the message lists the known presets.

    Examples
    --------
    >>> get_preset().name, get_preset("consolidamento").direction("footfall")
    ('rigenerazione', 'benefit')
    >>> get_preset("rigenerazione").direction("footfall")
    'cost'
    """
    if isinstance(preset, Preset):
        return preset
    name = DEFAULT_PRESET if preset is None else preset
    if not isinstance(name, str) or name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    return PRESETS[name]


def check_weights(
    weights: Mapping[str, Any] | None, *, preset: str | Preset | None = None
) -> dict[str, float]:
    """Validate weights and merge them over the preset's (default :data:`DEFAULT_PRESET`).

    Parameters
    ----------
    weights : mapping of str to number, optional
        Weights by criterion name; criteria not named keep the preset's weight.
    preset : str or Preset, optional
        The preset whose weights are the base (:data:`PRESETS`).

    Returns
    -------
    dict
        A weight for every criterion of :data:`CRITERIA`.

    Raises
    ------
    ConfigError
        For an unknown criterion (the message lists the known ones), a weight
        that is not a finite number, a negative weight, all weights zero, or
        an unknown preset; the message names the weight and quotes its value.

    Examples
    --------
    >>> check_weights({"footfall": 4})["footfall"]
    4.0
    >>> check_weights(None, preset="consolidamento")["dist_retail_centre_m"]
    2.0
    >>> check_weights({"footfall": -1})
    Traceback (most recent call last):
    ...
    geodistrict.errors.ConfigError: weight 'footfall' must not be negative (value -1)
    """
    merged = dict(get_preset(preset).weights)
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
    criteria: pd.DataFrame, weights: Mapping[str, Any] | None, preset: Preset
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Names, imputed values, weights and directions of the criteria that take part."""
    full = check_weights(weights, preset=preset)
    names = [n for n in _available(criteria) if full[n] > 0]
    if not names:
        raise ConfigError(
            "no criterion with a positive weight can be computed for these units; "
            f"available: {', '.join(_available(criteria)) or 'none'}"
        )
    values = criteria[names].apply(pd.to_numeric, errors="coerce").astype(float)
    values = values.fillna(values.median())
    w = np.array([full[n] for n in names])
    benefit = np.array([preset.direction(n) == "benefit" for n in names])
    return names, values.to_numpy(), w, benefit


def _scores(values: np.ndarray, w: np.ndarray, benefit: np.ndarray, method: str) -> np.ndarray:
    if method == "topsis":
        return topsis_scores(values, w, benefit)
    return weighted_sum_scores(values, w, benefit)


def _check_method(method: str, *, both: bool = False) -> None:
    allowed = ("weighted_sum", "topsis", "both") if both else ("weighted_sum", "topsis")
    if method not in allowed:
        raise ConfigError(
            f"unknown method {method!r}; use " + " or ".join(repr(m) for m in allowed)
        )


# --------------------------------------------------------------------------- public scoring


def rescore(
    criteria: pd.DataFrame,
    weights: Mapping[str, Any] | None = None,
    *,
    method: Method = "weighted_sum",
    preset: str | Preset | None = None,
) -> gpd.GeoDataFrame:
    """Score and rank units from criteria already computed, for a preset and weights.

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
        Weights by criterion name, merged over the preset's
        (:func:`check_weights`).  Criteria missing from ``criteria`` are
        ignored.
    method : {"weighted_sum", "topsis"}, default "weighted_sum"
        Which of the two scores becomes ``score`` / ``rank``.
    preset : str or Preset, optional
        The weighting and directions (:data:`PRESETS`); default
        :data:`DEFAULT_PRESET` (``rigenerazione``).

    Returns
    -------
    GeoDataFrame
        A copy indexed like ``criteria`` with ``preset``, ``score`` and
        ``rank`` (of ``method``), ``score_ws``, ``rank_ws``,
        ``score_topsis``, ``rank_topsis``, ``rank_<preset>`` for every preset
        (its own weights, or these ones for the chosen preset, with
        ``method``), ``top_criteria`` (the up to three criteria that add most
        to the weighted sum, ``;``-separated), ``explanation`` (English) and
        ``explanation_it`` (Italian), in words with the main weakness, and
        ``weights`` (JSON of the weights used); stale robustness columns
        (``p_top_k``...) are dropped, because they belong to other weights.
        ``recommended_uses`` does not depend on the weights and is kept.

    Raises
    ------
    ConfigError
        Bad weights (:func:`check_weights`), an unknown preset or method, or
        no usable criterion.

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"footfall": [50.0, 10.0, 30.0], "suitability": [0.2, 0.9, 0.5]})
    >>> rescore(units, {"footfall": 1, "suitability": 0}, preset="consolidamento")["rank"].tolist()
    [1, 3, 2]
    >>> rescore(units, {"footfall": 1, "suitability": 0}, preset="rigenerazione")["rank"].tolist()
    [3, 1, 2]
    >>> rescore(units, {"footfall": 0, "suitability": 1})["rank"].tolist()
    [3, 1, 2]
    """
    _check_method(method)
    chosen_preset = get_preset(preset)
    names, values, w, benefit = _matrix(criteria, weights, chosen_preset)
    ws = weighted_sum_scores(values, w, benefit)
    tp = topsis_scores(values, w, benefit)
    out = criteria.drop(
        columns=[c for c in (*SCORE_COLUMNS, *ROBUSTNESS_COLUMNS, "weights") if c in criteria]
    ).copy()
    if not isinstance(out, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out)
    chosen = ws if method == "weighted_sum" else tp
    out["preset"] = chosen_preset.name
    out["score"] = chosen.round(6)
    out["rank"] = _ranks(chosen)
    out["score_ws"] = ws.round(6)
    out["rank_ws"] = _ranks(ws)
    out["score_topsis"] = tp.round(6)
    out["rank_topsis"] = _ranks(tp)
    for other in PRESETS.values():
        if other.name == chosen_preset.name:
            out[f"rank_{other.name}"] = out["rank"].to_numpy()
            continue
        try:
            _, o_values, o_w, o_benefit = _matrix(criteria, None, other)
        except ConfigError:  # none of its criteria could be computed here
            out[f"rank_{other.name}"] = pd.array([pd.NA] * len(out), dtype="Int64")
            continue
        out[f"rank_{other.name}"] = _ranks(_scores(o_values, o_w, o_benefit, method))
    out["top_criteria"], out["explanation"], out["explanation_it"] = _explain(
        criteria, names, normalise(values, benefit), _normalised_weights(w)
    )
    # Every criterion's weight, so a re-ranking from the layer starts from these.
    out["weights"] = json.dumps(check_weights(weights, preset=chosen_preset))
    return out


def sensitivity(
    criteria: pd.DataFrame,
    weights: Mapping[str, Any] | None = None,
    *,
    preset: str | Preset | None = None,
    method: Method | Literal["both"] = "both",
    runs: int = 1000,
    spread: float = 0.25,
    top_k: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Robustness of the ranks to the method and to the weights (Monte Carlo).

    Each run draws a weighting: every weight multiplied by an independent
    uniform factor in ``[1 - spread, 1 + spread]`` and renormalised; run 0 is
    the central weighting itself.  Every weighting is ranked by each method
    (``method="both"``: weighted sum **and** TOPSIS), so a unit the two
    methods place on either side of the top ``k`` can never have
    ``p_top_k = 1``.

    Parameters
    ----------
    criteria : DataFrame
        As for :func:`rescore`.
    weights : mapping, optional
        The central weights (merged over the preset's).
    preset : str or Preset, optional
        As for :func:`rescore`.
    method : {"both", "weighted_sum", "topsis"}, default "both"
        The methods whose rankings are pooled.
    runs : int, default 1000
        Weightings drawn (the first is the central one).
    spread : float, default 0.25
        0 <= spread <= 1.
    top_k : int, default 5
        The "top" whose membership probability is reported.
    seed : int, default 0
        Random seed: the same inputs give the same result.

    Returns
    -------
    DataFrame
        Indexed like ``criteria``: ``top_k``; ``p_top_k`` (share of the
        rankings, runs x methods, placing the unit in the top k);
        ``rank_lo``, ``rank_median``, ``rank_hi`` (5th, 50th and 95th
        percentiles of its rank over them); ``rank_min`` and ``rank_max``
        (the widest of that interval and the central ranks of every method);
        ``stable`` (true when the unit is in the top k for every method
        and weighting of that span, ``rank_max <= k``, or out of it for all,
        ``rank_min > k``).

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"footfall": [50.0, 10.0, 30.0], "suitability": [0.2, 0.9, 0.5]})
    >>> sens = sensitivity(units, {"footfall": 1, "suitability": 0}, preset="consolidamento",
    ...                    top_k=1, runs=200)
    >>> sens["p_top_k"].tolist(), sens["rank_hi"].tolist(), sens["stable"].tolist()
    ([1.0, 0.0, 0.0], [1, 3, 2], [True, True, True])
    """
    if runs < 1:
        raise ConfigError(f"runs must be at least 1 (value {runs!r})")
    if not 0 <= spread <= 1:
        raise ConfigError(f"spread must be between 0 and 1 (value {spread!r})")
    if top_k < 1:
        raise ConfigError(f"top_k must be at least 1 (value {top_k!r})")
    _check_method(method, both=True)
    names, values, w, benefit = _matrix(criteria, weights, get_preset(preset))
    rng = np.random.default_rng(seed)
    factors = rng.uniform(1.0 - spread, 1.0 + spread, size=(runs, len(names)))
    factors[0] = 1.0  # run 0: the central weighting
    wr = _normalised_weights(w * factors)  # (runs, m)
    blocks = []
    if method in ("both", "weighted_sum"):
        blocks.append(wr @ normalise(values, benefit).T)  # (runs, n)
    if method in ("both", "topsis"):
        dp, dm = _topsis_parts(values, benefit)
        blocks.append(_topsis_from_parts(dp, dm, wr).T)
    scores = np.vstack(blocks)
    # Rank per ranking, ties "min" like rescore: 1 + number of units strictly better.
    ascending = np.sort(scores, axis=1)
    n = scores.shape[1]
    ranks = np.empty(scores.shape, dtype=np.int64)
    for r in range(len(scores)):  # one searchsorted per ranking: n log n, exact on ties
        ranks[r] = 1 + n - np.searchsorted(ascending[r], scores[r], side="right")
    # The central rankings exactly as rescore computes them (same arithmetic, same ties).
    methods = ["weighted_sum", "topsis"] if method == "both" else [method]
    for b, name in enumerate(methods):
        ranks[b * runs] = _ranks(_scores(values, w, benefit, name))
    lo, med, hi = np.percentile(ranks, [5, 50, 95], axis=0, method="nearest")
    central = ranks[::runs]  # run 0 of each method
    rank_min = np.minimum(lo, central.min(axis=0)).astype(np.int64)
    rank_max = np.maximum(hi, central.max(axis=0)).astype(np.int64)
    return pd.DataFrame(
        {
            "top_k": np.full(n, top_k, dtype=np.int64),
            "p_top_k": (ranks <= top_k).mean(axis=0).round(4),
            "rank_lo": lo.astype(np.int64),
            "rank_median": med.astype(np.int64),
            "rank_hi": hi.astype(np.int64),
            "rank_min": rank_min,
            "rank_max": rank_max,
            "stable": (rank_max <= top_k) | (rank_min > top_k),
        },
        index=criteria.index,
    )


def prioritise(
    criteria: pd.DataFrame,
    weights: Mapping[str, Any] | None = None,
    *,
    method: Method = "weighted_sum",
    preset: str | Preset | None = None,
    runs: int = 1000,
    spread: float = 0.25,
    top_k: int = 5,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """:func:`rescore` plus the :func:`sensitivity` columns (both methods), sorted by rank.

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"footfall": [50.0, 10.0, 30.0], "suitability": [0.2, 0.9, 0.5]})
    >>> ranked = prioritise(units, {"footfall": 3, "suitability": 1}, preset="consolidamento",
    ...                     runs=100, top_k=1)
    >>> ranked[["rank", "p_top_k"]].values.tolist()
    [[1.0, 1.0], [2.0, 0.0], [3.0, 0.0]]
    """
    scored = rescore(criteria, weights, method=method, preset=preset)
    sens = sensitivity(
        criteria, weights, preset=preset, runs=runs, spread=spread, top_k=top_k, seed=seed
    )
    for col in ROBUSTNESS_COLUMNS:
        scored[col] = sens[col]
    return scored.sort_values(["rank", "score_ws"], ascending=[True, False], kind="stable")
