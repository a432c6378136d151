"""The criteria of the priority ranking: meaning, unit, direction, default weight.

:data:`CRITERIA` is the one table the computation, the explanations, the
weights check and the documentation are built from.  The distances and times
inside the definitions are fixed on purpose, so that a criterion means the
same in every district and study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

__all__ = [
    "ANCHOR_CAP_M",
    "CATEGORY_FLOOR_AREA_M2",
    "CLOSENESS_FLOOR_M",
    "CRITERIA",
    "DEFAULT_WEIGHTS",
    "FOOTFALL_RADIUS_M",
    "GAP_MINUTES",
    "GAP_RADIUS_M",
    "LOCAL_RADIUS_M",
    "ROBUSTNESS_COLUMNS",
    "SCORE_COLUMNS",
    "WALK_SPEED_KMH",
    "Criterion",
    "Method",
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


def _pct(series: pd.Series) -> pd.Series:
    """Percentile rank among the units (1 = the highest value)."""
    return series.rank(pct=True)
