"""The criteria of the priority ranking and the presets that weigh them.

:data:`CRITERIA` is the one table the computation, the explanations, the
weights check and the documentation are built from.  The distances and times
inside the definitions are fixed on purpose, so that a criterion means the
same in every district and study.

:data:`PRESETS` are named weightings tied to what a district programme wants
from its vacant units (``rigenerazione``, ``consolidamento``, ``bando``): each
gives a weight to every criterion and may reverse a criterion's direction
(under ``rigenerazione`` a little-frequented street is a benefit), with its
rationale in Italian and English.  Weights given by the user are merged on top
of the preset's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from geodistrict.commerce.gaps import CATCH_ALL_CATEGORIES as GAP_CATCH_ALL

__all__ = [
    "ANCHOR_CAP_M",
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
    "ROBUSTNESS_COLUMNS",
    "SCORE_COLUMNS",
    "WALK_SPEED_KMH",
    "Criterion",
    "Method",
    "Preset",
]

Method = Literal["weighted_sum", "topsis"]
Direction = Literal["benefit", "cost"]

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
    direction: Direction
    needs: str

    def title(self, language: str | None = None) -> str:
        """The criterion's readable name in ``language`` (default: the current one).

        From the ``msgctxt "criterion"`` labels of the ``labels.po`` catalogues.

        Examples
        --------
        >>> from geodistrict.priority import CRITERIA
        >>> CRITERIA["vacancy_months"].title("it")
        'Durata dello sfitto'
        """
        from geodistrict.i18n import label

        return label(self.name, kind="criterion", language=language)


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
        Criterion(
            "public_ownership", "ownership that eases reactivation",
            "Who owns the unit (survey owner_type): public (municipality or another public "
            "body, which can let it at a reduced rent or by a call) 1, other (church, "
            "foundation, mixed: an agreement is possible) 0.5, private 0.",
            "0-1", "benefit", "survey (owner_type)",
        ),
        Criterion(
            "asking_rent_ratio", "asking rent against the district",
            "Asking rent per m2 (asking_rent_eur_month / floor_area_m2) divided by the median "
            "rent per m2 of the district's vacant units that have both: 1 is the median, "
            "0.8 is 20 % below it.",
            "ratio", "cost", "survey (asking_rent_eur_month, floor_area_m2)",
        ),
    )
}  # fmt: skip
"""Every criterion, in display order."""

#: Ease of reactivation by the survey's ``owner_type`` (``public_ownership``);
#: Italian values are accepted for frames built by hand.
OWNER_EASE: dict[str, float] = {
    "public": 1.0, "pubblica": 1.0, "pubblico": 1.0, "comunale": 1.0, "municipal": 1.0,
    "other": 0.5, "altro": 0.5, "altra": 0.5, "mista": 0.5,
    "private": 0.0, "privata": 0.0, "privato": 0.0,
}  # fmt: skip

#: Catch-all categories: never a recommended use nor a missing category (a shop
#: the taxonomy could not place says nothing about what the street lacks). The
#: same list the category-gap tests leave untested, defined once there.
CATCH_ALL_CATEGORIES = frozenset(GAP_CATCH_ALL)


@dataclass(frozen=True)
class Preset:
    """A named weighting of the criteria, tied to a programme's aim.

    Attributes
    ----------
    name : str
        Key (``vacancy.preset``, ``geodistrict rank --preset``).
    title_it, title_en : str
        Short title.
    rationale_it, rationale_en : str
        Why these weights: what the programme wants and what is assumed.
    weights : dict
        A weight for every criterion of :data:`CRITERIA` (relative).
    directions : dict
        Criteria whose direction the preset reverses, with the direction it uses.
    """

    name: str
    title_it: str
    title_en: str
    rationale_it: str
    rationale_en: str
    weights: Mapping[str, float]
    directions: Mapping[str, Direction] = field(default_factory=dict)

    def direction(self, criterion: str) -> Direction:
        """The direction of ``criterion`` under this preset."""
        return self.directions.get(criterion, CRITERIA[criterion].direction)


def _weights(**given: float) -> dict[str, float]:
    """A weight for every criterion: those given, 0 for the others."""
    unknown = set(given) - set(CRITERIA)
    if unknown:  # pragma: no cover - a typo in the presets below
        raise KeyError(f"unknown criteria in a preset: {sorted(unknown)}")
    return {name: float(given.get(name, 0.0)) for name in CRITERIA}


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "rigenerazione",
            "Rigenerazione: rianimare i luoghi poco frequentati",
            "Regeneration: revive little-frequented places",
            "Per programmi che vogliono riportare vita nei luoghi poco frequentati (come "
            "Pioltello): una strada poco frequentata e con pochi negozi è un merito, non un "
            "difetto, perché è lì che un locale riattivato cambia di più; contano le "
            "categorie che mancano nel raggio di 10 minuti a piedi (una domanda locale da "
            "servire), la proprietà pubblica o comunale e un canone basso rispetto alla "
            "mediana del distretto (riattivazione più facile: bandi, comodato, canone "
            "calmierato), la durata dello sfitto (il degrado che si vuole fermare) e "
            "l'idoneità del locale; un po' di peso all'accesso a piedi, in bici e coi mezzi "
            "e alla vicinanza di scuole e municipio, che portano persone.",
            "For programmes that want to bring life back to little-frequented places (as "
            "Pioltello does): a quiet street with few shops is a merit, not a flaw, because "
            "that is where a reactivated unit changes most; what counts is the categories "
            "missing within a 10-minute walk (local demand to serve), public or municipal "
            "ownership and a rent below the district median (reactivation is easier: calls, "
            "free loan, capped rent), how long the unit has been vacant (the decay to stop) "
            "and the unit's suitability; some weight to walking, cycling and transit access "
            "and to nearby schools and the town hall, which bring people.",
            _weights(
                footfall=2.0, commercial_density=1.5, demand_gap=2.0, public_ownership=1.5,
                asking_rent_ratio=1.0, vacancy_months=1.0, suitability=1.0,
                transit_access=0.5, low_stress_bike_m=0.5, walk_school_m=0.5,
                walk_townhall_m=0.5,
            ),
            {"footfall": "cost", "commercial_density": "cost"},
        ),
        Preset(
            "consolidamento",
            "Consolidamento: rafforzare le strade commerciali dense",
            "Consolidation: strengthen high-density shopping streets",
            "Per programmi che vogliono rafforzare le vie commerciali che già funzionano: "
            "un locale sfitto in una strada frequentata, dentro un centro commerciale "
            "naturale, tra molti negozi e vicino ai mezzi pubblici interrompe il fronte "
            "commerciale e si riempie più facilmente; contano anche l'idoneità del locale, "
            "le categorie che completano l'offerta, gli attrattori (supermercato, stazione) "
            "e un canone non fuori mercato.",
            "For programmes that want to strengthen the shopping streets that already work: "
            "a vacant unit on a busy street, inside a retail centre, among many shops and "
            "near public transport breaks the shopping frontage and is the easiest to fill; "
            "the unit's suitability, the categories that complete the mix, the anchors "
            "(supermarket, station) and a rent in line with the market count too.",
            _weights(
                footfall=2.5, dist_retail_centre_m=2.0, commercial_density=2.0,
                transit_access=1.5, suitability=1.5, demand_gap=1.0, walk_supermarket_m=0.5,
                walk_station_m=0.5, low_stress_bike_m=0.5, vacancy_months=0.5,
                asking_rent_ratio=0.5,
            ),
        ),
        Preset(
            "bando",
            "Bando: ciò che premia un bando regionale per i Distretti del Commercio",
            "Call: what a regional call for Distretti del Commercio rewards",
            "Ipotesi, da verificare sul testo del bando di ogni edizione (per esempio i "
            "bandi di Regione Lombardia per i Distretti del Commercio): sono premiati la "
            "riapertura di locali sfitti al piano terra e in buono stato (idoneità del "
            "locale), gli sfitti di lunga durata, la proprietà pubblica o gli accordi con i "
            "proprietari (canone calmierato rispetto alla mediana del distretto), i locali "
            "dentro il perimetro del distretto o vicini ai suoi centri, raggiungibili a "
            "piedi, in bici e coi mezzi e vicini ai servizi (supermercato, scuola, "
            "municipio, stazione), e le categorie mancanti nel quartiere; la frequentazione "
            "della strada e la densità commerciale non contano.",
            "Assumptions, to check against the text of each edition of the call (for "
            "instance Regione Lombardia's calls for Distretti del Commercio): the call "
            "rewards reopening vacant ground-floor units in good condition (the unit's "
            "suitability), long vacancies, public ownership or agreements with the owners "
            "(a capped rent against the district median), units inside the district's "
            "perimeter or near its centres, reachable on foot, by bike and by transit and "
            "close to services (supermarket, school, town hall, station), and the "
            "categories the neighbourhood lacks; how busy the street is and the commercial "
            "density do not count.",
            _weights(
                suitability=2.0, vacancy_months=1.5, public_ownership=1.5,
                asking_rent_ratio=1.0, dist_retail_centre_m=1.0, demand_gap=1.0,
                walk_supermarket_m=0.5, walk_station_m=0.5, walk_school_m=0.5,
                walk_townhall_m=0.5, transit_access=0.5, low_stress_bike_m=0.5,
            ),
        ),
    )
}  # fmt: skip
"""The named presets, ``rigenerazione`` (the default) first."""

#: The preset used when none is named: the Distretti del Commercio programmes
#: this library serves aim first at reviving vacant units where life is thin.
DEFAULT_PRESET = "rigenerazione"

#: Weights of the default preset (relative; divided by their sum).
DEFAULT_WEIGHTS: dict[str, float] = dict(PRESETS[DEFAULT_PRESET].weights)

#: Indicative floor area (m2) a category needs: (smallest, largest) sensible unit.
CATEGORY_FLOOR_AREA_M2: dict[str, tuple[float, float]] = {
    "food": (40, 1500), "fashion": (30, 600), "personal_services": (20, 200),
    "bars_restaurants": (40, 400), "health_pharmacy": (60, 400), "household": (60, 1500),
    "culture_leisure": (40, 800), "electronics": (20, 400), "professional_services": (20, 400),
    "automotive": (150, 3000), "accommodation": (150, 5000), "other_retail": (20, 600),
}  # fmt: skip

SCORE_COLUMNS = ("preset", "score", "rank", "score_ws", "rank_ws", "score_topsis",
                 "rank_topsis", *(f"rank_{p}" for p in PRESETS), "top_criteria",
                 "explanation", "explanation_it")  # fmt: skip
ROBUSTNESS_COLUMNS = ("top_k", "p_top_k", "rank_lo", "rank_median", "rank_hi", "rank_min",
                      "rank_max", "stable")  # fmt: skip


def _pct(series: pd.Series) -> pd.Series:
    """Percentile rank among the units (1 = the highest value)."""
    return series.rank(pct=True)
