"""Re-ranking stored criteria many times: everything that does not depend on the weights, once.

:func:`~geodistrict.priority.rescore` works on a criteria frame: per call it
selects and imputes the criterion columns with pandas (three times: the
chosen preset and the two others), normalises them, and writes the
explanations unit by unit.  Of that, only the weighted sum, TOPSIS, the ranks
and the choice of the explained criteria depend on the weights; the imputed
values, the directions under each preset, the ranks under the other presets'
own weights and the words describing each unit's value of each criterion do
not.  A :class:`Reranker` computes those once for a frame (e.g. the
``vacant_units`` layer a run wrote) and answers any preset, method and weights
with numpy over the (units x criteria) matrix.

Its results are those of :func:`~geodistrict.priority.rescore`, value for
value: the same functions compute the scores on arrays of the same layout,
ranks are pandas' ``min`` ranks as there (counted with numpy: one plus the
number of units scoring strictly more), and the explanations join the same
phrases in the same order.  A frame whose imputed criteria are not all finite
(stored layers never are: their infinities are written as nulls) is handed to
:func:`~geodistrict.priority.rescore` itself.

Examples
--------
>>> import pandas as pd
>>> units = pd.DataFrame({"footfall": [50.0, 10.0, 30.0], "suitability": [0.2, 0.9, 0.5]})
>>> fast = Reranker(units)
>>> fast.columns({"footfall": 1, "suitability": 0}, preset="consolidamento")["rank"].tolist()
[1, 3, 2]
>>> fast.frame({"footfall": 1, "suitability": 0}).equals(
...     rescore(units, {"footfall": 1, "suitability": 0}))
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict.errors import ConfigError
from geodistrict.priority.definitions import (
    PRESETS,
    ROBUSTNESS_COLUMNS,
    SCORE_COLUMNS,
    Method,
    Preset,
)
from geodistrict.priority.explain import Phrase, Shares, describe, sentences
from geodistrict.priority.mcda import (
    _available,
    _check_method,
    _normalised_weights,
    _ranks,
    _scores,
    check_weights,
    get_preset,
    normalise,
    rescore,
    topsis_scores,
    weighted_sum_scores,
)

__all__ = ["DROPPED_COLUMNS", "SCORED_COLUMNS", "Reranker"]

#: The columns a re-ranking writes, in the order :func:`rescore` appends them.
SCORED_COLUMNS = (*SCORE_COLUMNS, "weights")
#: Columns :func:`rescore` drops from the criteria before appending its own.
DROPPED_COLUMNS = (*SCORE_COLUMNS, *ROBUSTNESS_COLUMNS, "weights")

_N_TOP = 3  # strengths named per unit, as in explain._explain


def _min_ranks(scores: np.ndarray) -> np.ndarray:
    """``mcda._ranks`` (pandas' descending ``min`` rank) in numpy: 1 + the units scoring more.

    Exact for finite scores (ties are equal floats, compared exactly, as pandas
    compares them); anything else goes to ``mcda._ranks`` itself.
    """
    if not np.isfinite(scores).all():
        return _ranks(scores)
    ascending = np.sort(scores)
    return (1 + len(scores) - np.searchsorted(ascending, scores, side="right")).astype(np.int64)


class Reranker:
    """The weight-independent part of :func:`~geodistrict.priority.rescore`, for one frame.

    Parameters
    ----------
    criteria : GeoDataFrame or DataFrame
        One row per unit with criterion columns (:data:`CRITERIA` names), as
        for :func:`~geodistrict.priority.rescore`.  It is kept (not copied):
        do not change it while the reranker is in use.

    Attributes
    ----------
    criteria : DataFrame
        The frame given.
    exact : bool
        False when the imputed criteria hold a non-finite value: then every
        call is answered by :func:`~geodistrict.priority.rescore` itself.

    Notes
    -----
    The object only reads its caches after building them (the per-preset
    ones are filled on first use with values that do not depend on the
    caller), so threads may share it.
    """

    def __init__(self, criteria: pd.DataFrame) -> None:
        self.criteria = criteria
        self.available = _available(criteria)
        self._position = {name: k for k, name in enumerate(self.available)}
        if self.available:
            # Imputation is per column (the median of the column), so imputing every
            # available criterion at once gives each the values rescore computes.
            table = criteria[self.available].apply(pd.to_numeric, errors="coerce").astype(float)
            table = table.fillna(table.median())
            values = np.asfortranarray(table.to_numpy(dtype=float))
        else:
            values = np.zeros((len(criteria), 0), order="F")
        self.values = values
        self.exact = bool(np.isfinite(values).all())
        self._other_ranks: dict[tuple[str, str], np.ndarray | None] = {}
        self._phrases: dict[str, list[Phrase | None]] = {}
        self._raw_finite: dict[str, np.ndarray] = {}
        if self.exact and len(criteria):
            self._prepare_phrases()

    # ------------------------------------------------------------------ constant parts

    def _prepare_phrases(self) -> None:
        """Every unit's value of every available criterion in words (explain.describe)."""
        records = cast(list[dict[str, Any]], self.criteria.to_dict("records"))
        for name in self.available:
            raw = pd.to_numeric(self.criteria[name], errors="coerce").to_numpy(dtype=float)
            shares = Shares(raw)
            finite = np.isfinite(raw)
            self._raw_finite[name] = finite
            self._phrases[name] = [
                describe(name, raw[i], shares, records[i]) if finite[i] else None
                for i in range(len(raw))
            ]

    def _select(
        self, weights: Mapping[str, Any] | None, preset: Preset
    ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
        """As ``mcda._matrix``: names, imputed values, weights, directions; and all weights."""
        full = check_weights(weights, preset=preset)
        names = [n for n in self.available if full[n] > 0]
        if not names:
            raise ConfigError(
                "no criterion with a positive weight can be computed for these units; "
                f"available: {', '.join(self.available) or 'none'}"
            )
        index = [self._position[n] for n in names]
        values = np.asfortranarray(self.values[:, index])
        w = np.array([full[n] for n in names])
        benefit = np.array([preset.direction(n) == "benefit" for n in names])
        return names, values, w, benefit, full

    def _preset_ranks(self, other: Preset, method: str) -> np.ndarray | None:
        """Ranks under another preset's own weights with ``method`` (None: not computable)."""
        key = (other.name, method)
        if key not in self._other_ranks:
            try:
                _, values, w, benefit, _ = self._select(None, other)
            except ConfigError:  # none of its criteria could be computed here
                self._other_ranks[key] = None
            else:
                self._other_ranks[key] = _ranks(_scores(values, w, benefit, method))
        return self._other_ranks[key]

    # ------------------------------------------------------------------ per weighting

    def _explain(
        self, names: list[str], norm: np.ndarray, wn: np.ndarray
    ) -> tuple[list[str], list[str], list[str]]:
        """``explain._explain`` with the phrases prepared: only the choice is per call."""
        gain = norm * wn
        loss = (1.0 - norm) * wn
        by_gain = np.argsort(-gain, axis=1, kind="stable")
        by_loss = np.argsort(-loss, axis=1, kind="stable")
        positive = wn > 0
        strong = (norm >= 0.5) & positive
        weak = (norm < 0.5) & positive
        phrases = [self._phrases[n] for n in names]
        tops, texts_en, texts_it = [], [], []
        for i in range(norm.shape[0]):
            order = [int(j) for j in by_gain[i] if strong[i, j]][:_N_TOP]
            worst = next((int(j) for j in by_loss[i] if weak[i, j]), None)
            good = [p for j in order if (p := phrases[j][i]) is not None]
            en, it = sentences(good, None if worst is None else phrases[worst][i])
            tops.append(";".join(names[j] for j in order))
            texts_en.append(en)
            texts_it.append(it)
        return tops, texts_en, texts_it

    def columns(
        self,
        weights: Mapping[str, Any] | None = None,
        *,
        method: Method = "weighted_sum",
        preset: str | Preset | None = None,
    ) -> dict[str, Any]:
        """The columns :func:`~geodistrict.priority.rescore` adds, by name, in its order.

        Parameters are those of :func:`~geodistrict.priority.rescore`.

        Returns
        -------
        dict
            :data:`SCORED_COLUMNS` to arrays (ranks ``int64``, or ``Int64``
            with missing values for a preset none of whose criteria can be
            computed), lists (texts) or a scalar (``preset``, ``weights``).

        Raises
        ------
        ConfigError
            As :func:`~geodistrict.priority.rescore`.
        """
        if not self.exact or not len(self.criteria):
            scored = rescore(self.criteria, weights, method=method, preset=preset)
            return {col: scored[col].array for col in SCORED_COLUMNS}
        _check_method(method)
        chosen_preset = get_preset(preset)
        names, values, w, benefit, full = self._select(weights, chosen_preset)
        ws = weighted_sum_scores(values, w, benefit)
        tp = topsis_scores(values, w, benefit)
        chosen = ws if method == "weighted_sum" else tp
        rank_ws, rank_tp = _min_ranks(ws), _min_ranks(tp)
        rank = rank_ws if method == "weighted_sum" else rank_tp
        out: dict[str, Any] = {
            "preset": chosen_preset.name,
            "score": chosen.round(6),
            "rank": rank.copy(),
            "score_ws": ws.round(6),
            "rank_ws": rank_ws,
            "score_topsis": tp.round(6),
            "rank_topsis": rank_tp,
        }
        for other in PRESETS.values():
            if other.name == chosen_preset.name:
                out[f"rank_{other.name}"] = rank.copy()
                continue
            ranks = self._preset_ranks(other, method)
            out[f"rank_{other.name}"] = (
                pd.array([pd.NA] * len(rank), dtype="Int64") if ranks is None else ranks.copy()
            )
        out["top_criteria"], out["explanation"], out["explanation_it"] = self._explain(
            names, normalise(values, benefit), _normalised_weights(w)
        )
        out["weights"] = json.dumps(full)
        return out

    def frame(
        self,
        weights: Mapping[str, Any] | None = None,
        *,
        method: Method = "weighted_sum",
        preset: str | Preset | None = None,
    ) -> gpd.GeoDataFrame:
        """The frame :func:`~geodistrict.priority.rescore` returns, from :meth:`columns`."""
        criteria = self.criteria
        if not self.exact or not len(criteria):
            return rescore(criteria, weights, method=method, preset=preset)
        columns = self.columns(weights, method=method, preset=preset)
        out = criteria.drop(columns=[c for c in DROPPED_COLUMNS if c in criteria]).copy()
        if not isinstance(out, gpd.GeoDataFrame):
            out = gpd.GeoDataFrame(out)
        for col in SCORED_COLUMNS:
            out[col] = columns[col]
        return out
