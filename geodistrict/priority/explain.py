"""Explanations of a rank in words: the strengths and the main weakness of a unit."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

from geodistrict.priority.definitions import (
    _ANCHORS,
    ANCHOR_CAP_M,
    CRITERIA,
    GAP_MINUTES,
    LOCAL_RADIUS_M,
    _pct,
)


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
    frame: pd.DataFrame, names: list[str], norm: np.ndarray, wn: np.ndarray, n_top: int = 3
) -> tuple[list[str], list[str]]:
    """Top contributing criteria (names) and an explanation in words, per unit.

    ``norm`` is the min-max normalised (units x criteria) matrix of ``names``
    and ``wn`` their weights divided by their sum.
    """
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
