"""A transparent priority ranking of vacant units for their reactivation.

Regeneration studies need a ranking they can defend and re-run with other
weights.  This module computes a fixed set of **criteria** per vacant unit
once (:func:`compute_criteria`), then scores and ranks them for any set of
weights in milliseconds (:func:`rescore`), explains each rank in words, and
measures how robust the ranks are to the weights (:func:`sensitivity`).

Criteria
--------
Every criterion has a meaning, a unit and a direction (``benefit``: more is
better; ``cost``: less is better); see :data:`CRITERIA`, which the
documentation tables are built from.  The distances and times inside their
definitions (800 m of walking for the footfall proxy, 400 m for density and
transit, a 10-minute walk at 4.8 km/h = 800 m for the missing categories) are
fixed on purpose, so that a criterion means the same in every district and
study.  A criterion whose input layer is missing (no retail centres, no bike
network...) is **omitted**: it is logged, listed in the ``criteria_omitted``
column and takes no part in the scores.  A unit missing one value (an OSM
unit has no vacancy date) takes the criterion's median, so it neither gains
nor loses on it.

Scoring
-------
Weights are non-negative numbers per criterion; they are merged over
:data:`DEFAULT_WEIGHTS` and divided by their sum, so multiplying all of them
by the same factor changes nothing.

* **Weighted sum**: each criterion is min-max normalised over the units,
  ``(x - min) / (max - min)`` for a benefit and ``(max - x) / (max - min)``
  for a cost (a criterion equal for every unit is 0 for all: it cannot
  separate them), and the score is ``sum_j w_j * n_ij`` in [0, 1].
* **TOPSIS** (Hwang & Yoon 1981): vector normalisation
  ``r_ij = x_ij / sqrt(sum_i x_ij^2)``, weighted ``v_ij = w_j r_ij``; the
  ideal unit has the best ``v`` of every criterion (max for benefit, min for
  cost), the anti-ideal the worst; the score is the relative closeness
  ``d- / (d+ + d-)`` in [0, 1] (0.5 when every unit is identical).

Rank 1 is the best; equal scores share the best rank among them.

Sensitivity
-----------
Monte Carlo: each run multiplies every weight by an independent uniform
factor in ``[1 - spread, 1 + spread]`` (zero weights stay zero), renormalises
and ranks again.  Per unit: ``p_top_k`` (share of runs in which the unit is
among the first ``top_k``), ``rank_lo`` / ``rank_hi`` (5th and 95th
percentiles of its rank: a 90 % rank interval) and ``rank_median``.

Examples
--------
>>> import numpy as np
>>> values = np.array([[10.0, 200.0], [5.0, 100.0], [0.0, 400.0]])
>>> benefit = np.array([True, False])  # criterion 1 more is better, criterion 2 less is better
>>> weighted_sum_scores(values, np.array([1.0, 1.0]), benefit).round(3).tolist()
[0.833, 0.75, 0.0]
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodistrict import _validate
from geodistrict.errors import ConfigError, OutputError

log = logging.getLogger(__name__)

__all__ = [
    "CATEGORY_FLOOR_AREA_M2",
    "CRITERIA",
    "DEFAULT_WEIGHTS",
    "ROBUSTNESS_COLUMNS",
    "SCORE_COLUMNS",
    "Criterion",
    "check_weights",
    "compute_criteria",
    "normalise",
    "prioritise",
    "rank_from_folder",
    "read_ranked",
    "rescore",
    "sensitivity",
    "topsis_scores",
    "weighted_sum_scores",
]

Method = Literal["weighted_sum", "topsis"]

#: Walking distance of the footfall proxy (m).
FOOTFALL_RADIUS_M = 800.0
#: Walking distance of the commercial-density and transit counts (m).
LOCAL_RADIUS_M = 400.0
#: Walking time and speed of the missing-category search: 10 minutes at 4.8 km/h.
GAP_MINUTES = 10.0
WALK_SPEED_KMH = 4.8
GAP_RADIUS_M = WALK_SPEED_KMH * 1000.0 / 60.0 * GAP_MINUTES  # 800 m
#: Anchor distances are capped here (m): "2000" reads "2 km or more, or unreachable".
ANCHOR_CAP_M = 2000.0
#: Nodes closer than this count as this far in the footfall proxy (m), so that a
#: tangle of very short edges at one junction does not dominate the sum.
CLOSENESS_FLOOR_M = 50.0


@dataclass(frozen=True)
class Criterion:
    """One criterion of the ranking.

    Attributes
    ----------
    name : str
        Column of the criteria frame and key of the weights.
    label : str
        Short English name.
    meaning : str
        What it measures and how.
    unit : str
        Unit of the raw value.
    direction : {"benefit", "cost"}
        ``benefit``: a higher value makes a better candidate; ``cost``: lower.
    needs : str
        The input it cannot be computed without.
    """

    name: str
    label: str
    meaning: str
    unit: str
    direction: Literal["benefit", "cost"]
    needs: str


_ANCHORS = {
    "supermarket": ("a supermarket", "pois with shop=supermarket"),
    "station": ("the station", "transit_stops with kind=station"),
    "school": ("a school", "pois with amenity=school"),
    "townhall": ("the town hall", "pois with amenity=townhall"),
}

CRITERIA: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion(
            "footfall", "footfall proxy",
            "Harmonic closeness centrality of the walking-network node nearest the unit "
            f"within {FOOTFALL_RADIUS_M:g} m: sum of 1/d over the nodes reachable (d in km, "
            f"at least {CLOSENESS_FLOOR_M:g} m). High on central, well-connected streets "
            "where many walking routes pass (Porta et al. 2006).",
            "1/km", "benefit", "walk_graph",
        ),
        Criterion(
            "dist_retail_centre_m", "distance to the nearest retail centre",
            "Straight-line distance to the nearest retail_centres polygon; 0 inside one.",
            "m", "cost", "retail_centres layer (commerce step)",
        ),
        *(
            Criterion(
                f"walk_{key}_m", f"walk to {phrase.split(' ', 1)[1]}",
                f"Walking distance to the nearest {phrase.split(' ', 1)[1]} ({source}), "
                f"capped at {ANCHOR_CAP_M:g} m (also when none is reachable).",
                "m", "cost", source,
            )
            for key, (phrase, source) in _ANCHORS.items()
        ),
        Criterion(
            "commercial_density", "commercial density",
            f"Active commercial units within {LOCAL_RADIUS_M:g} m of walking.",
            "units", "benefit", "commercial_units layer (or the taxonomy)",
        ),
        Criterion(
            "transit_access", "public-transport access",
            f"Public-transport stops and stations within {LOCAL_RADIUS_M:g} m of walking.",
            "stops", "benefit", "transit_stops",
        ),
        Criterion(
            "low_stress_bike_m", "low-stress bike access",
            "Straight-line distance to the nearest low-stress street of bike_network "
            "(LTS at most the cycling threshold).",
            "m", "cost", "bike_network layer (cycling step)",
        ),
        Criterion(
            "regeneration_need", "regeneration need",
            "Central but little frequented: percentile of the footfall proxy times one "
            "minus the percentile of commercial density, among the district's vacant units.",
            "0-1", "benefit", "commercial_units layer (or the taxonomy)",
        ),
        Criterion(
            "suitability", "unit suitability",
            "Mean of: floor area (1 between 40 and 250 m2, falling linearly to 0 at 0 m2 and "
            "at 1000 m2), ground floor (1 yes, 0 no) and condition (good 1, fair 0.6, poor "
            "0.2); an unknown part counts 0.5.",
            "0-1", "benefit", "survey (floor_area_m2, ground_floor, condition)",
        ),
        Criterion(
            "demand_gap", "local demand gap",
            f"Categories of the reference mix with no active unit within a "
            f"{GAP_MINUTES:g}-minute walk ({GAP_RADIUS_M:g} m at {WALK_SPEED_KMH:g} km/h).",
            "categories", "benefit", "commercial_units layer (or the taxonomy)",
        ),
        Criterion(
            "vacancy_months", "vacancy duration",
            "Months since the unit became vacant: long-vacant units weigh most on a street.",
            "months", "benefit", "survey (vacant_since)",
        ),
    )
}  # fmt: skip
"""Every criterion, in display order."""

#: Default weights (relative; divided by their sum).
DEFAULT_WEIGHTS: dict[str, float] = {
    "footfall": 2.0,
    "dist_retail_centre_m": 1.5,
    "walk_supermarket_m": 0.5,
    "walk_station_m": 0.5,
    "walk_school_m": 0.5,
    "walk_townhall_m": 0.5,
    "commercial_density": 1.0,
    "transit_access": 1.0,
    "low_stress_bike_m": 0.5,
    "regeneration_need": 1.0,
    "suitability": 1.5,
    "demand_gap": 1.5,
    "vacancy_months": 0.5,
}

#: Indicative floor area (m2) a category needs: (smallest, largest) sensible unit.
CATEGORY_FLOOR_AREA_M2: dict[str, tuple[float, float]] = {
    "food": (40, 1500), "fashion": (30, 600), "personal_services": (20, 200),
    "bars_restaurants": (40, 400), "health_pharmacy": (60, 400), "household": (60, 1500),
    "culture_leisure": (40, 800), "electronics": (20, 400), "professional_services": (20, 400),
    "automotive": (150, 3000), "accommodation": (150, 5000), "other_retail": (20, 600),
}  # fmt: skip

SCORE_COLUMNS = ("score", "rank", "score_ws", "rank_ws", "score_topsis", "rank_topsis",
                 "top_criteria", "explanation")  # fmt: skip
ROBUSTNESS_COLUMNS = ("top_k", "p_top_k", "rank_lo", "rank_median", "rank_hi")


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


# --------------------------------------------------------------------------- explanations


def _pct(series: pd.Series) -> pd.Series:
    return series.rank(pct=True)


def _fmt_m(value: float) -> str:
    return f"{value / 1000:.1f} km" if value >= 1000 else f"{value:.0f} m"


def _phrase(
    name: str, value: float, pct: float, row: Mapping[str, Any], good: bool, n_units: int
) -> str:
    """The criterion's value in words, as a strength (``good``) or a weakness."""
    if name == "footfall":
        # pct is the unit's percentile rank among the units (1 = the highest).
        top = math.ceil(100 * (1 - pct) + 100 / max(n_units, 1) - 1e-9)
        return (
            f"busy street (footfall proxy in the top {min(top, 100)} %)"
            if good
            else f"quiet street (footfall proxy in the bottom {max(1, math.ceil(100 * pct))} %)"
        )
    if name == "dist_retail_centre_m":
        if value <= 0:
            return "inside a retail centre"
        return f"{_fmt_m(value)} from the nearest retail centre"
    if name.startswith("walk_"):
        place = _ANCHORS[name[5:-2]][0]
        far = value >= ANCHOR_CAP_M
        if good:
            return f"near {place} ({_fmt_m(value)} walk)"
        return f"far from {place} ({'over ' if far else ''}{_fmt_m(value)} walk)"
    if name == "commercial_density":
        n = int(value)
        return (
            f"{n} shops and services within {LOCAL_RADIUS_M:g} m"
            if good
            else f"few shops and services around ({n} within {LOCAL_RADIUS_M:g} m)"
        )
    if name == "transit_access":
        return f"{int(value)} public-transport stops within {LOCAL_RADIUS_M:g} m"
    if name == "low_stress_bike_m":
        return f"{_fmt_m(value)} from a low-stress cycle route"
    if name == "regeneration_need":
        return "central but little frequented" if good else "little regeneration need"
    if name == "suitability":
        parts = []
        area = row.get("floor_area_m2")
        if area is not None and pd.notna(area):
            parts.append(f"{float(area):.0f} m²")
        ground = row.get("ground_floor")
        if ground is not None and pd.notna(ground):
            parts.append("ground floor" if bool(ground) else "upper floor")
        cond = row.get("condition")
        if isinstance(cond, str) and cond:
            parts.append(f"{cond} condition")
        detail = f" ({', '.join(parts)})" if parts else " (details unknown)"
        return ("suitable unit" if good else "less suitable unit") + detail
    if name == "demand_gap":
        n = int(value)
        noun = "category" if n == 1 else "categories"
        text = f"{n} missing {noun} within {GAP_MINUTES:g} minutes"
        return text if good else f"little unmet demand nearby ({text})"
    if name == "vacancy_months":
        return (
            f"vacant for {value / 12:.1f} years"
            if value >= 24
            else f"vacant for {value:.0f} months"
        )
    return f"{CRITERIA[name].label} {value:g} {CRITERIA[name].unit}"  # pragma: no cover


def _explain(
    frame: pd.DataFrame, names: list[str], norm: np.ndarray, w: np.ndarray, n_top: int = 3
) -> tuple[list[str], list[str]]:
    """Top contributing criteria (names) and an explanation in words, per unit."""
    wn = _normalised_weights(w)
    gain = norm * wn  # what each criterion adds to the weighted-sum score
    loss = (1.0 - norm) * wn  # what it costs the unit against the best possible
    pcts = {n: _pct(pd.to_numeric(frame[n], errors="coerce")).to_numpy() for n in names}
    records = cast(list[dict[str, Any]], frame.to_dict("records"))
    tops, texts = [], []
    for i, row in enumerate(records):
        order = [j for j in np.argsort(-gain[i], kind="stable") if norm[i, j] >= 0.5][:n_top]
        weak = [j for j in np.argsort(-loss[i], kind="stable") if norm[i, j] < 0.5][:1]
        parts = []
        for j in order:
            value = float(pd.to_numeric(row[names[j]], errors="coerce"))
            if math.isnan(value):
                continue
            parts.append(
                _phrase(names[j], value, float(pcts[names[j]][i]), row, True, len(records))
            )
        text = "; ".join(parts) if parts else "no criterion stands out"
        for j in weak:
            value = float(pd.to_numeric(row[names[j]], errors="coerce"))
            if not math.isnan(value):
                phrase = _phrase(
                    names[j], value, float(pcts[names[j]][i]), row, False, len(records)
                )
                text += f" — held back by: {phrase}"
        tops.append(";".join(names[j] for j in order))
        texts.append(text[:1].upper() + text[1:])
    return tops, texts


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
        criteria, names, normalise(values, benefit), w
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


def read_ranked(folder: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read the ``vacant_units`` layer a run wrote into ``OUT/<district>``.

    Raises
    ------
    OutputError
        If the folder holds no results or no ``vacant_units`` layer.
    """
    from geodistrict.store import read_manifest

    manifest = read_manifest(folder)
    if "vacant_units" not in manifest.get("layers", {}):
        raise OutputError(
            f"{str(folder)!r} has no vacant_units layer; run 'geodistrict run CONFIG' with the "
            "vacancy step first"
        )
    path = Path(folder) / manifest["gpkg"]
    layer = gpd.read_file(path, layer=manifest["layers"]["vacant_units"]["gpkg_layer"])
    if "ground_floor" in layer:  # GeoPackage stores booleans as integers
        layer["ground_floor"] = pd.array(
            [None if pd.isna(v) else bool(v) for v in layer["ground_floor"]], dtype="boolean"
        )
    return layer


def rank_from_folder(
    folder: str | os.PathLike[str],
    weights: Mapping[str, Any] | None = None,
    *,
    method: Method = "weighted_sum",
    runs: int = 0,
    to: str | os.PathLike[str] | None = None,
) -> gpd.GeoDataFrame:
    """Re-rank a run's vacant units with other weights, from its stored criteria.

    ``weights`` are merged over the weights the run used (the layer's
    ``weights`` column), which were merged over :data:`DEFAULT_WEIGHTS`.
    Nothing is recomputed but the scores (``geodistrict rank`` calls this).

    Parameters
    ----------
    folder : path-like
        A district output folder, ``OUT/<district>``.
    weights : mapping, optional
        Weights to change, by criterion name.
    method : {"weighted_sum", "topsis"}
    runs : int, default 0
        Monte-Carlo sensitivity runs; 0 leaves the robustness columns out.
    to : path-like, optional
        Also write the result: ``.gpkg``, ``.geojson``, ``.parquet`` or
        ``.csv`` (geometry as WKT).

    Returns
    -------
    GeoDataFrame
        Sorted by rank.
    """
    layer = read_ranked(folder)
    used: dict[str, Any] = {}
    if "weights" in layer and len(layer) and isinstance(layer["weights"].iloc[0], str):
        used = json.loads(layer["weights"].iloc[0])
    merged = {**used, **dict(weights or {})}
    if runs > 0:
        ranked = prioritise(layer, merged, method=method, runs=runs)
    else:
        ranked = rescore(layer, merged, method=method).sort_values("rank", kind="stable")
    if to is not None:
        target = Path(to)
        suffix = target.suffix.lower()
        if suffix == ".csv":
            table = pd.DataFrame(ranked.drop(columns=ranked.geometry.name))
            table["wkt"] = ranked.geometry.to_wkt().to_numpy()
            table.to_csv(target, index=False)
        elif suffix == ".parquet":
            ranked.to_parquet(target)
        elif suffix in (".gpkg", ".geojson", ".json"):
            ranked.to_file(target, layer="vacant_units" if suffix == ".gpkg" else None)
        else:
            raise OutputError(
                f"cannot write {str(target)!r}: use .gpkg, .geojson, .parquet or .csv"
            )
    return ranked


# --------------------------------------------------------------------------- criteria


def _suitability(units: pd.DataFrame) -> np.ndarray:
    n = len(units)
    area = pd.to_numeric(units.get("floor_area_m2", pd.Series(np.nan, index=units.index)))
    a = area.to_numpy(dtype=float)
    area_s = np.where(a < 40, a / 40, np.where(a <= 250, 1.0, (1000 - a) / 750))
    area_s = np.where(np.isnan(a), 0.5, np.clip(area_s, 0.0, 1.0))
    ground = units["ground_floor"] if "ground_floor" in units else pd.Series([pd.NA] * n)
    g = np.array([0.5 if pd.isna(v) else (1.0 if bool(v) else 0.0) for v in ground])
    cond = units["condition"] if "condition" in units else pd.Series([None] * n)
    c = np.array([{"good": 1.0, "fair": 0.6, "poor": 0.2}.get(str(v), 0.5) for v in cond])
    return np.round((area_s + g + c) / 3.0, 4)


def _fits(category: str, area: float) -> bool:
    if math.isnan(area):
        return True
    lo, hi = CATEGORY_FLOOR_AREA_M2.get(category, (0.0, math.inf))
    return lo <= area <= hi


def compute_criteria(
    units: gpd.GeoDataFrame,
    *,
    walk_graph: Any,
    pois: gpd.GeoDataFrame | None = None,
    transit_stops: gpd.GeoDataFrame | None = None,
    commercial_units: gpd.GeoDataFrame | None = None,
    retail_centres: gpd.GeoDataFrame | None = None,
    category_gaps: gpd.GeoDataFrame | None = None,
    bike_network: gpd.GeoDataFrame | None = None,
    lts_threshold: int = 2,
    reference_mix: Mapping[str, float] | None = None,
    taxonomy: Any = None,
) -> gpd.GeoDataFrame:
    """Compute every criterion of :data:`CRITERIA` that the inputs allow, per unit.

    Parameters
    ----------
    units : GeoDataFrame
        Vacant units (points, projected CRS), e.g. from
        :func:`geodistrict.vacancy.vacant_units`; ``floor_area_m2``,
        ``ground_floor``, ``condition`` and ``vacancy_months`` are used when
        present.
    walk_graph : networkx.MultiDiGraph or GraphArrays
        The walking graph, same CRS.
    pois, transit_stops : GeoDataFrame, optional
        Base layers: anchors (supermarket, school, town hall) and stations /
        stops.
    commercial_units : GeoDataFrame, optional
        Active units with ``category`` (commerce step); without it commercial
        density, regeneration need and demand gap are omitted.
    retail_centres : GeoDataFrame, optional
        Retail-centre polygons (commerce step).
    category_gaps : GeoDataFrame, optional
        Commerce's gap table: district-level ``missing`` and
        ``under-represented`` categories come first in ``recommended_uses``.
    bike_network : GeoDataFrame, optional
        Lines with ``lts`` (cycling step).
    lts_threshold : int, default 2
        Highest LTS that is low stress.
    reference_mix : mapping, optional
        Shares per category: the categories looked for in the demand gap
        (those with a positive share) and their order; default every
        category of ``CATEGORY_FLOOR_AREA_M2`` (or of ``commercial_units``).
    taxonomy : Taxonomy, optional
        For the Italian and English labels of the recommended uses.

    Returns
    -------
    GeoDataFrame
        A copy of ``units`` with one column per computed criterion,
        ``missing_categories`` (``;``-separated keys), ``recommended_uses``
        (at most three categories that fit the floor area
        (:data:`CATEGORY_FLOOR_AREA_M2`): first those missing within the walk,
        district-level ``missing`` / ``under-represented`` ones first, then
        those most under-supplied against the reference mix of the units
        within the walk, by at least one unit), ``recommended_uses_en``,
        ``recommended_uses_it`` and
        ``criteria_omitted`` (each omitted criterion and why).

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.vacancy import vacant_units
    >>> cfg = gd.load_config("config/sample.yml")
    >>> layers = gd.load_base_layers(cfg)
    >>> units = vacant_units(layers.pois)
    >>> crit = compute_criteria(units, walk_graph=layers.walk_graph, pois=layers.pois,
    ...                         transit_stops=layers.transit_stops)
    >>> bool((crit["footfall"] > 0).all()), "dist_retail_centre_m" in crit
    (True, False)
    """
    from geodistrict.network import (
        GraphArrays,
        distances_within,
        graph_arrays,
        multi_source_distance,
        nearest_nodes,
    )

    _validate.projected_frame(units, what="vacant units")
    arrays = walk_graph if isinstance(walk_graph, GraphArrays) else graph_arrays(walk_graph)
    crs = units.crs
    out = units.copy()
    omitted: dict[str, str] = {}
    n = len(units)
    if n == 0:
        for name in CRITERIA:
            out[name] = pd.Series(dtype=float)
        return out

    # Snap to the largest connected part of the walking network only: a unit snapped
    # to a stray footway inside a courtyard would otherwise reach nothing.
    from scipy.sparse.csgraph import connected_components

    _, comp = connected_components(arrays.matrix, directed=True, connection="weak")
    main = np.flatnonzero(comp == np.bincount(comp).argmax())
    snap_to = GraphArrays(nodes=arrays.nodes[main], xy=arrays.xy[main], matrix=None)

    def _points(frame: gpd.GeoDataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        if frame is None or len(frame) == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        s = nearest_nodes(snap_to, frame.to_crs(crs))
        return main[s["pos"].to_numpy()], s["offset_mm"].to_numpy().astype(float)

    upos, uoff = _points(units)
    uniq, inverse = np.unique(upos, return_inverse=True)

    have_units = commercial_units is not None and "category" in commercial_units
    if have_units:
        assert commercial_units is not None
        cpos, coff = _points(commercial_units)
        cats = commercial_units["category"].astype(str).to_numpy()
    else:
        cpos, coff, cats = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, dtype=object)
    stops = transit_stops if transit_stops is not None else None
    spos, soff = _points(stops)
    mix = {c: float(s) for c, s in (reference_mix or {}).items() if s > 0} or {
        c: 1.0 for c in CATEGORY_FLOOR_AREA_M2
    }
    considered = list(mix)
    shares = np.array([mix[c] for c in considered]) / sum(mix.values())
    code_of = {c: k for k, c in enumerate(considered)}
    codes = np.array([code_of.get(c, -1) for c in cats], dtype=np.int64)

    # One bounded Dijkstra from each distinct unit node serves footfall, density,
    # transit and the demand gap (walking distances are symmetric).
    footfall = np.zeros(len(uniq))
    density = np.zeros(len(uniq), dtype=np.int64)
    transit = np.zeros(len(uniq), dtype=np.int64)
    within = np.zeros((len(uniq), len(considered)), dtype=np.int64)  # units per category
    radius = max(FOOTFALL_RADIUS_M, GAP_RADIUS_M, LOCAL_RADIUS_M)
    row0 = 0
    for batch, dist in distances_within(arrays, uniq, cutoff_m=radius):
        for k in range(len(batch)):
            d = dist[k]
            i = row0 + k
            near = np.isfinite(d) & (d > 0) & (d <= FOOTFALL_RADIUS_M * 1000)
            footfall[i] = (1.0 / (np.maximum(d[near], CLOSENESS_FLOOR_M * 1000) / 1e6)).sum()
            own = uoff[inverse == i].min()  # offsets of units on this node are alike
            if len(cpos):
                reach = d[cpos] + coff + own
                density[i] = int((reach <= LOCAL_RADIUS_M * 1000).sum())
                hit = codes[(reach <= GAP_RADIUS_M * 1000) & (codes >= 0)]
                within[i] = np.bincount(hit, minlength=len(considered))
            if len(spos):
                transit[i] = int((d[spos] + soff + own <= LOCAL_RADIUS_M * 1000).sum())
        row0 += len(batch)
    out["footfall"] = footfall[inverse].round(3)

    # Anchors: one multi-source Dijkstra per kind.
    anchor_sets: dict[str, gpd.GeoDataFrame | None] = {
        "supermarket": _select(pois, "shop", "supermarket"),
        "station": _select(transit_stops, "kind", "station"),
        "school": _select(pois, "amenity", "school"),
        "townhall": _select(pois, "amenity", "townhall"),
    }
    for key, frame in anchor_sets.items():
        name = f"walk_{key}_m"
        if frame is None or len(frame) == 0:
            omitted[name] = f"no {CRITERIA[name].needs} in the district"
            continue
        apos, aoff = _points(frame)
        to_anchor = multi_source_distance(arrays, apos, aoff, cutoff_m=ANCHOR_CAP_M)
        d = to_anchor[upos] + uoff / 1000.0
        out[name] = np.minimum(np.where(np.isfinite(d), d, ANCHOR_CAP_M), ANCHOR_CAP_M).round(1)

    if retail_centres is not None and len(retail_centres):
        polys = shapely.union_all(retail_centres.to_crs(crs).geometry.to_numpy())
        out["dist_retail_centre_m"] = np.round(
            shapely.distance(units.geometry.to_numpy(), polys), 1
        )
    else:
        omitted["dist_retail_centre_m"] = "no retail_centres layer (commerce step)"

    if have_units:
        out["commercial_density"] = density[inverse]
    else:
        for name in ("commercial_density", "regeneration_need", "demand_gap"):
            omitted[name] = "no commercial_units layer (commerce step)"
    if stops is not None and len(stops):
        out["transit_access"] = transit[inverse]
    else:
        omitted["transit_access"] = "no transit_stops in the district"

    if bike_network is not None and len(bike_network) and "lts" in bike_network:
        lts = pd.to_numeric(bike_network["lts"], errors="coerce")
        low = bike_network[lts.le(lts_threshold).to_numpy()]
        if len(low):
            lines = shapely.union_all(low.to_crs(crs).geometry.to_numpy())
            out["low_stress_bike_m"] = np.round(
                shapely.distance(units.geometry.to_numpy(), lines), 1
            )
        else:
            omitted["low_stress_bike_m"] = f"no bike_network street with LTS <= {lts_threshold}"
    else:
        omitted["low_stress_bike_m"] = "no bike_network layer (cycling step)"

    if have_units:
        out["regeneration_need"] = (
            _pct(out["footfall"]) * (1.0 - _pct(out["commercial_density"].astype(float)))
        ).round(4)
    out["suitability"] = _suitability(units)
    if "vacancy_months" in units and units["vacancy_months"].notna().any():
        out["vacancy_months"] = pd.to_numeric(units["vacancy_months"]).astype(float)
    else:
        out = out.drop(columns=["vacancy_months"], errors="ignore")
        omitted["vacancy_months"] = "no vacancy date (survey vacant_since)"

    # Demand gap and recommended uses.
    if have_units:
        order = _gap_priority(category_gaps, considered)
        counts = within[inverse]  # (units, categories) within the 10-minute walk
        missing = [[c for c, k in zip(considered, row, strict=True) if k == 0] for row in counts]
        out["demand_gap"] = np.array([len(m) for m in missing], dtype=np.int64)
        # Shortfall against the reference mix of the units within the walk: where
        # nothing is missing, the most under-supplied categories are still the uses to seek.
        shortfall = shares[None, :] * counts.sum(axis=1, keepdims=True) - counts
        areas = pd.to_numeric(
            units.get("floor_area_m2", pd.Series(np.nan, index=units.index))
        ).to_numpy(dtype=float)
        recs = []
        for i, m in enumerate(missing):
            first = sorted((c for c in m if _fits(c, areas[i])), key=order.index)
            short = [considered[j] for j in np.argsort(-shortfall[i], kind="stable")
                     if shortfall[i, j] >= 1 and considered[j] not in m
                     and _fits(considered[j], areas[i])]  # fmt: skip
            recs.append((first + short)[:3])
        labels_en, labels_it = _labels(taxonomy)
        out["missing_categories"] = [";".join(m) for m in missing]
        out["recommended_uses"] = [";".join(r) for r in recs]
        out["recommended_uses_en"] = ["; ".join(labels_en.get(c) or c for c in r) for r in recs]
        out["recommended_uses_it"] = ["; ".join(labels_it.get(c) or c for c in r) for r in recs]
    for name, why in omitted.items():
        log.info("criterion %s omitted: %s", name, why)
    out["criteria_omitted"] = "; ".join(f"{k}: {v}" for k, v in omitted.items())
    out.attrs = {}
    return out


def _select(frame: gpd.GeoDataFrame | None, column: str, value: str) -> gpd.GeoDataFrame | None:
    if frame is None or column not in frame:
        return None
    return frame[frame[column].astype(str).eq(value).to_numpy()]


def _gap_priority(gaps: pd.DataFrame | None, considered: list[str]) -> list[str]:
    """Categories, most needed first: district-level missing, under-represented, the rest."""
    rank = {c: 2 for c in considered}
    if gaps is not None and len(gaps) and {"scope", "category", "status"} <= set(gaps.columns):
        district = gaps[gaps["scope"].astype(str).eq("district")]
        for cat, status in zip(district["category"], district["status"], strict=True):
            if cat in rank and status in ("missing", "under-represented"):
                rank[cat] = 0 if status == "missing" else 1
    return sorted(considered, key=lambda c: (rank[c], considered.index(c)))


def _labels(taxonomy: Any) -> tuple[dict[str, str], dict[str, str]]:
    if taxonomy is None:
        try:
            from geodistrict.taxonomy import load_taxonomy

            taxonomy = load_taxonomy()
        except Exception:  # labels are a nicety; keys still say what is meant
            return {}, {}
    cats = getattr(taxonomy, "categories", {})
    return {k: c.en for k, c in cats.items()}, {k: c.it for k, c in cats.items()}
