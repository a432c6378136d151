"""A transparent priority ranking of vacant units for their reactivation.

Regeneration studies need a ranking they can defend and re-run with other
weights.  This package computes a fixed set of **criteria** per vacant unit
once (:func:`compute_criteria`), then scores and ranks them for any set of
weights in milliseconds (:func:`rescore`), explains each rank in words, and
measures how robust the ranks are to the weights (:func:`sensitivity`).

* :mod:`~geodistrict.priority.definitions`: the criteria table and the presets;
* :mod:`~geodistrict.priority.criteria`: :func:`compute_criteria` (the spatial part);
* :mod:`~geodistrict.priority.mcda`: presets and weights, normalisation, weighted
  sum, TOPSIS, ranks, sensitivity, :func:`rescore` and :func:`prioritise`;
* :mod:`~geodistrict.priority.explain`: each rank in words (English and Italian);
* :mod:`~geodistrict.priority.io`: re-ranking a run's stored layer (:func:`rank_from_folder`).

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

Presets
-------
A preset (:data:`PRESETS`) is a named weighting tied to a programme's aim,
with its rationale in Italian and English: ``rigenerazione`` (the default:
revive little-frequented places, where a quiet street and few shops are
benefits, with demand gaps nearby, public ownership and a low rent),
``consolidamento`` (strengthen busy, dense shopping streets) and ``bando``
(what a regional call for Distretti del Commercio is assumed to reward).  A
preset may reverse a criterion's direction (``rigenerazione`` makes
``footfall`` and ``commercial_density`` costs).

Scoring
-------
Weights are non-negative numbers per criterion; they are merged over the
preset's and divided by their sum, so multiplying all of them by the same
factor changes nothing.

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

Robustness
----------
Method and weights: each run multiplies every weight by an independent
uniform factor in ``[1 - spread, 1 + spread]`` (zero weights stay zero; run
0 keeps the central weights), renormalises and ranks again **with both
methods**.  Per unit: ``p_top_k`` (share of the rankings, runs x methods, in
which the unit is among the first ``top_k``: below 1 whenever the two methods
disagree about it), ``rank_lo`` / ``rank_hi`` (5th and 95th percentiles of
its rank: a 90 % rank interval), ``rank_median``, ``rank_min`` /
``rank_max`` (that interval widened to the central rank of each method) and
``stable`` (in the top k over that whole span, or out of it).  The rank under
each preset (``rank_<preset>``) shows how the choice of programme moves a
unit; it is a choice, not an uncertainty, and is not part of the span.

Examples
--------
>>> import numpy as np
>>> values = np.array([[10.0, 200.0], [5.0, 100.0], [0.0, 400.0]])
>>> benefit = np.array([True, False])  # criterion 1 more is better, criterion 2 less is better
>>> weighted_sum_scores(values, np.array([1.0, 1.0]), benefit).round(3).tolist()
[0.833, 0.75, 0.0]
"""

from geodistrict.priority.criteria import compute_criteria
from geodistrict.priority.definitions import (
    ANCHOR_CAP_M,
    CATCH_ALL_CATEGORIES,
    CATEGORY_FLOOR_AREA_M2,
    CLOSENESS_FLOOR_M,
    CRITERIA,
    DEFAULT_PRESET,
    DEFAULT_WEIGHTS,
    FOOTFALL_RADIUS_M,
    GAP_MINUTES,
    GAP_RADIUS_M,
    LOCAL_RADIUS_M,
    OWNER_EASE,
    PRESETS,
    ROBUSTNESS_COLUMNS,
    SCORE_COLUMNS,
    WALK_SPEED_KMH,
    Criterion,
    Method,
    Preset,
)
from geodistrict.priority.explain import BUSY_SHARE, QUIET_SHARE
from geodistrict.priority.io import rank_from_folder, read_ranked
from geodistrict.priority.mcda import (
    check_weights,
    get_preset,
    normalise,
    prioritise,
    rescore,
    sensitivity,
    topsis_scores,
    weighted_sum_scores,
)

__all__ = [
    "ANCHOR_CAP_M",
    "BUSY_SHARE",
    "CATCH_ALL_CATEGORIES",
    "CATEGORY_FLOOR_AREA_M2",
    "CLOSENESS_FLOOR_M",
    "CRITERIA",
    "DEFAULT_PRESET",
    "DEFAULT_WEIGHTS",
    "FOOTFALL_RADIUS_M",
    "GAP_MINUTES",
    "GAP_RADIUS_M",
    "LOCAL_RADIUS_M",
    "OWNER_EASE",
    "PRESETS",
    "QUIET_SHARE",
    "ROBUSTNESS_COLUMNS",
    "SCORE_COLUMNS",
    "WALK_SPEED_KMH",
    "Criterion",
    "Method",
    "Preset",
    "check_weights",
    "compute_criteria",
    "get_preset",
    "normalise",
    "prioritise",
    "rank_from_folder",
    "read_ranked",
    "rescore",
    "sensitivity",
    "topsis_scores",
    "weighted_sum_scores",
]
