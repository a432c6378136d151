"""Explanations of a rank in words, in English and Italian: strengths and the main weakness.

The words describe the **value**, never the weight: a unit is called on a
"busy street" / "strada molto frequentata" only when its footfall proxy is in
the top :data:`BUSY_SHARE` (20 %) of the vacant units, "little-frequented" /
"poco frequentata" only in the bottom :data:`QUIET_SHARE` (40 %), and
"moderately frequented" / "mediamente frequentata" in between, with the
number beside the words; the same bands hold for commercial density.  Whether
a criterion is a strength or a weakness depends on the preset (under
``rigenerazione`` a little-frequented street is a strength), so the same words
appear on either side of "held back by".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

from geodistrict.priority.definitions import (
    ANCHOR_CAP_M,
    CRITERIA,
    GAP_MINUTES,
    LOCAL_RADIUS_M,
)

__all__ = ["BUSY_SHARE", "FAR_M", "NEAR_M", "QUIET_SHARE", "SUITABLE", "UNSUITABLE", "describe"]

#: A value is "high" (busy street, many shops) only in the top 20 % of the units.
BUSY_SHARE = 0.20
#: A value is "low" (little-frequented street, few shops) only in the bottom 40 %.
QUIET_SHARE = 0.40
#: Suitability: "suitable" from 0.85 (a ground floor of a usable size in fair
#: condition or better), "hard to reuse" below 0.5, "partly suitable" between.
SUITABLE = 0.85
UNSUITABLE = 0.5
#: Walking distances to an anchor: "near" up to 500 m, "far" from 1000 m.
NEAR_M = 500.0
FAR_M = 1000.0

# Anchors: English phrase; Italian "near" and "from" forms.
_PLACES = {
    "supermarket": ("a supermarket", "a un supermercato", "da un supermercato"),
    "station": ("the station", "alla stazione", "dalla stazione"),
    "school": ("a school", "a una scuola", "da una scuola"),
    "townhall": ("the town hall", "al municipio", "dal municipio"),
}
_CONDITION = {"good": ("good condition", "in buono stato"),
              "fair": ("fair condition", "in stato discreto"),
              "poor": ("poor condition", "in cattivo stato")}  # fmt: skip

Phrase = tuple[str, str]  # (English, Italian)


def _it(number: float, digits: int = 1) -> str:
    """A number with the Italian decimal comma."""
    return f"{number:.{digits}f}".replace(".", ",")


def _m(value: float) -> Phrase:
    if value >= 1000:
        return f"{value / 1000:.1f} km", f"{_it(value / 1000)} km"
    return f"{value:.0f} m", f"{value:.0f} m"


class Shares:
    """Where a value stands among the units: shares at or above it, and at or below it."""

    def __init__(self, values: np.ndarray) -> None:
        finite = values[np.isfinite(values)]
        self.sorted = np.sort(finite)
        self.n = len(finite)

    def top(self, value: float) -> float:
        """Share of the units whose value is at least ``value`` (0-1)."""
        if self.n == 0:
            return 1.0
        return float(self.n - np.searchsorted(self.sorted, value, side="left")) / self.n

    def bottom(self, value: float) -> float:
        """Share of the units whose value is at most ``value`` (0-1)."""
        if self.n == 0:
            return 1.0
        return float(np.searchsorted(self.sorted, value, side="right")) / self.n


def _pc(share: float) -> int:
    """A share as a whole percentage, rounded up (never shown as 0 %)."""
    return max(1, math.ceil(100 * share - 1e-9))


def _band(shares: Shares, value: float) -> tuple[str, int]:
    """``high`` (top BUSY_SHARE), ``low`` (bottom QUIET_SHARE) or ``middle``, and its percent.

    The two bands cannot overlap: a value's top and bottom shares add up to
    more than 1.
    """
    top, bottom = shares.top(value), shares.bottom(value)
    if top <= BUSY_SHARE + 1e-12:
        return "high", _pc(top)
    if bottom <= QUIET_SHARE + 1e-12:
        return "low", _pc(bottom)
    return "middle", _pc(top)


def describe(name: str, value: float, shares: Shares, row: Mapping[str, Any]) -> Phrase:
    """The value of criterion ``name`` in words, in English and Italian.

    Parameters
    ----------
    name : str
        A criterion of :data:`~geodistrict.priority.CRITERIA`.
    value : float
        The unit's value (not missing).
    shares : Shares
        The criterion's values over the units, for the bands.
    row : mapping
        The unit's other columns (floor area, rent...) for the details.

    Examples
    --------
    >>> import numpy as np
    >>> shares = Shares(np.arange(10.0))
    >>> describe("footfall", 9.0, shares, {})[0]
    'busy street (footfall proxy in the top 10 % of the vacant units)'
    >>> describe("footfall", 3.0, shares, {})[1]
    'strada poco frequentata (indicatore di passaggio nel 40 % più basso dei locali sfitti)'
    >>> describe("footfall", 5.0, shares, {})[0]
    'moderately frequented street (footfall proxy in the top 50 % of the vacant units)'
    """
    if name == "footfall":
        band, pct = _band(shares, value)
        if band == "high":
            return (f"busy street (footfall proxy in the top {pct} % of the vacant units)",
                    f"strada molto frequentata (indicatore di passaggio nel {pct} % più alto "
                    "dei locali sfitti)")  # fmt: skip
        if band == "low":
            return (f"little-frequented street (footfall proxy in the bottom {pct} % of the "
                    "vacant units)",
                    f"strada poco frequentata (indicatore di passaggio nel {pct} % più basso "
                    "dei locali sfitti)")  # fmt: skip
        return (f"moderately frequented street (footfall proxy in the top {pct} % of the "
                "vacant units)",
                f"strada mediamente frequentata (indicatore di passaggio nel {pct} % più alto "
                "dei locali sfitti)")  # fmt: skip
    if name == "commercial_density":
        n, r = int(value), f"{LOCAL_RADIUS_M:g} m"
        if n == 0:
            return (f"no shop or service within {r}",
                    f"nessun negozio o servizio entro {r}")  # fmt: skip
        band, pct = _band(shares, value)
        if band == "high":
            return (
                f"many shops and services around ({n} within {r}, top {pct} %)",
                f"molti negozi e servizi intorno ({n} entro {r}, nel {pct} % più alto)",
            )
        if band == "low":
            return (
                f"few shops and services around ({n} within {r}, bottom {pct} %)",
                f"pochi negozi e servizi intorno ({n} entro {r}, nel {pct} % più basso)",
            )
        return f"{n} shops and services within {r}", f"{n} negozi e servizi entro {r}"
    if name == "dist_retail_centre_m":
        if value <= 0:
            return "inside a retail centre", "dentro un centro commerciale naturale"
        en, it = _m(value)
        return (f"{en} from the nearest retail centre",
                f"a {it} dal centro commerciale naturale più vicino")  # fmt: skip
    if name.startswith("walk_"):
        place, near_it, from_it = _PLACES[name[5:-2]]
        en, it = _m(value)
        if value >= ANCHOR_CAP_M:
            cap_en, cap_it = _m(ANCHOR_CAP_M)
            return (f"far from {place} (over {cap_en} walk)",
                    f"lontano {from_it} (oltre {cap_it} a piedi)")  # fmt: skip
        if value >= FAR_M:
            return f"far from {place} ({en} walk)", f"lontano {from_it} ({it} a piedi)"
        if value <= NEAR_M:
            return f"near {place} ({en} walk)", f"vicino {near_it} ({it} a piedi)"
        return f"{en} walk to {place}", f"{it} a piedi {from_it}"
    if name == "transit_access":
        n, r = int(value), f"{LOCAL_RADIUS_M:g} m"
        if n == 0:
            return (f"no public-transport stop within {r}",
                    f"nessuna fermata del trasporto pubblico entro {r}")  # fmt: skip
        stops_en = f"{n} public-transport stop{'s' if n != 1 else ''} within {r}"
        stops_it = f"{n} fermat{'e' if n != 1 else 'a'} del trasporto pubblico entro {r}"
        band, pct = _band(shares, value)
        if band == "high":
            return f"{stops_en} (top {pct} %)", f"{stops_it} (nel {pct} % più alto)"
        if band == "low":
            return f"{stops_en} (bottom {pct} %)", f"{stops_it} (nel {pct} % più basso)"
        return stops_en, stops_it
    if name == "low_stress_bike_m":
        en, it = _m(value)
        return (f"{en} from a low-stress cycle route",
                f"a {it} da un percorso ciclabile a basso stress")  # fmt: skip
    if name == "regeneration_need":
        if value >= 0.5:
            return (
                f"central but with few shops (regeneration need {value:.2f})",
                f"centrale ma con pochi negozi (bisogno di rigenerazione {_it(value, 2)})",
            )
        return (f"little regeneration need ({value:.2f})",
                f"scarso bisogno di rigenerazione ({_it(value, 2)})")  # fmt: skip
    if name == "suitability":
        return _suitability(value, row)
    if name == "demand_gap":
        n, t = int(value), f"{GAP_MINUTES:g}"
        if n == 0:
            return (f"no category missing within a {t}-minute walk",
                    f"nessuna categoria mancante entro {t} minuti a piedi")  # fmt: skip
        return (f"{n} categor{'ies' if n != 1 else 'y'} missing within a {t}-minute walk",
                f"{n} categori{'e mancanti' if n != 1 else 'a mancante'} entro {t} minuti "
                "a piedi")  # fmt: skip
    if name == "vacancy_months":
        if value >= 24:
            return f"vacant for {value / 12:.1f} years", f"sfitto da {_it(value / 12)} anni"
        m = round(value)
        return (f"vacant for {m} month{'s' if m != 1 else ''}",
                f"sfitto da {m} mes{'i' if m != 1 else 'e'}")  # fmt: skip
    if name == "public_ownership":
        if value >= 0.75:
            return "public ownership", "proprietà pubblica"
        if value >= 0.25:
            return ("other ownership (an agreement is possible)",
                    "altra proprietà (accordo possibile)")  # fmt: skip
        return "private ownership", "proprietà privata"
    if name == "asking_rent_ratio":
        return _rent(value, row)
    crit = CRITERIA[name]  # pragma: no cover - every criterion is handled above
    return f"{crit.label} {value:g} {crit.unit}", f"{crit.label} {value:g} {crit.unit}"


def _suitability(value: float, row: Mapping[str, Any]) -> Phrase:
    en, it = [], []
    area = row.get("floor_area_m2")
    if area is not None and pd.notna(area):
        en.append(f"{float(area):.0f} m²")
        it.append(f"{float(area):.0f} m²")
    ground = row.get("ground_floor")
    if ground is not None and pd.notna(ground):
        en.append("ground floor" if bool(ground) else "upper floor")
        it.append("piano terra" if bool(ground) else "piano superiore")
    cond = _CONDITION.get(str(row.get("condition")))
    if cond:
        en.append(cond[0])
        it.append(cond[1])
    d_en = f" ({', '.join(en)})" if en else " (details unknown)"
    d_it = f" ({', '.join(it)})" if it else " (dettagli sconosciuti)"
    if value >= SUITABLE:
        return "suitable unit" + d_en, "locale idoneo" + d_it
    if value < UNSUITABLE:
        return "unit hard to reuse" + d_en, "locale poco idoneo" + d_it
    return "partly suitable unit" + d_en, "locale in parte idoneo" + d_it


def _rent(ratio: float, row: Mapping[str, Any]) -> Phrase:
    if ratio <= 0:
        return "no rent asked", "nessun canone richiesto"
    rent, area = row.get("asking_rent_eur_month"), row.get("floor_area_m2")
    per_m2 = ""
    per_m2_it = ""
    try:
        eur = float(rent) / float(area)  # type: ignore[arg-type]
        if math.isfinite(eur):
            per_m2, per_m2_it = f"{eur:.1f} €/m² a month, ", f"{_it(eur)} €/m² al mese, "
    except (TypeError, ValueError, ZeroDivisionError):
        pass
    off = round(abs(ratio - 1.0) * 100)
    if ratio <= 0.8:
        return (f"low asking rent ({per_m2}{off} % below the district median)",
                f"canone basso ({per_m2_it}{off} % sotto la mediana del distretto)")  # fmt: skip
    if ratio >= 1.2:
        return (f"high asking rent ({per_m2}{off} % above the district median)",
                f"canone alto ({per_m2_it}{off} % sopra la mediana del distretto)")  # fmt: skip
    side_en = "above" if ratio > 1 else "below"
    side_it = "sopra" if ratio > 1 else "sotto"
    return (
        f"asking rent near the district median ({per_m2}{off} % {side_en})",
        f"canone vicino alla mediana del distretto ({per_m2_it}{off} % {side_it})",
    )


def _explain(
    frame: pd.DataFrame, names: list[str], norm: np.ndarray, wn: np.ndarray, n_top: int = 3
) -> tuple[list[str], list[str], list[str]]:
    """Top contributing criteria (names) and explanations in English and Italian, per unit.

    ``norm`` is the min-max normalised (units x criteria) matrix of ``names``
    (1 = best under the preset's directions) and ``wn`` their weights divided
    by their sum.  Strengths are the up to ``n_top`` criteria adding most to
    the weighted sum among those where the unit is in the better half
    (``norm >= 0.5``); the weakness is the one costing it most among the rest.
    """
    gain = norm * wn  # what each criterion adds to the weighted-sum score
    loss = (1.0 - norm) * wn  # what it costs the unit against the best possible
    raw = {n: pd.to_numeric(frame[n], errors="coerce").to_numpy(dtype=float) for n in names}
    shares = {n: Shares(raw[n]) for n in names}
    records = cast(list[dict[str, Any]], frame.to_dict("records"))
    tops, texts_en, texts_it = [], [], []
    for i, row in enumerate(records):
        order = [j for j in np.argsort(-gain[i], kind="stable")
                 if norm[i, j] >= 0.5 and wn[j] > 0][:n_top]  # fmt: skip
        weak = [j for j in np.argsort(-loss[i], kind="stable")
                if norm[i, j] < 0.5 and wn[j] > 0][:1]  # fmt: skip
        good = [describe(names[j], raw[names[j]][i], shares[names[j]], row)
                for j in order if math.isfinite(raw[names[j]][i])]  # fmt: skip
        held = next((describe(names[j], raw[names[j]][i], shares[names[j]], row)
                     for j in weak if math.isfinite(raw[names[j]][i])), None)  # fmt: skip
        en, it = sentences(good, held)
        tops.append(";".join(names[j] for j in order))
        texts_en.append(en)
        texts_it.append(it)
    return tops, texts_en, texts_it


def sentences(good: list[Phrase], held: Phrase | None) -> Phrase:
    """The English and Italian explanation of a unit: its strengths, then what holds it back."""
    en = "; ".join(p[0] for p in good) if good else "no criterion stands out"
    it = "; ".join(p[1] for p in good) if good else "nessun criterio spicca"
    if held is not None:
        en += f" — held back by: {held[0]}"
        it += f" — penalizzato da: {held[1]}"
    return en[:1].upper() + en[1:], it[:1].upper() + it[1:]
