"""Placing addresses with the district's own OSM extract, offline.

For each address (:func:`~geodistrict.geocode.normalise.parse_address`):

1. **the street**: the index's street keys equal to the address's; else those
   that :func:`~geodistrict.geocode.normalise.words_match` it either way
   (``G. Verdi`` / ``Giuseppe Verdi``, ``Via Verdi`` / ``Via Giuseppe Verdi``,
   a missing street type); else the closest spelling (``difflib`` ratio at
   least 0.88, noted ``nome simile``). Streets and points of another comune
   are left out (those with no known comune are kept). Several different
   streets left → ``unmatched`` (``ambiguous``).
2. ``exact``: an address point of that street with that number (same suffix
   preferred; another suffix, or none, is noted), the most precise kind first
   (entrance, address node, building, POI);
3. ``interpolated``: along an ``addr:interpolation`` way whose range and
   parity hold the number; else between the two nearest numbered points of
   the same parity on either side (at most 400 m apart), in proportion to
   the numbers;
4. ``street``: the middle of the street (the point half-way along its longest
   merged line), for ``snc`` (*senza numero civico*), no number, or a number
   the street's points do not bracket;
5. ``unmatched``: no street of that name in the comune; the row keeps no
   geometry and its ``geocode_note`` says why.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry

from geodistrict._validate import require_columns
from geodistrict.errors import ParameterError
from geodistrict.geocode.index import KIND_ORDER, AddressIndex, Street
from geodistrict.geocode.normalise import ParsedAddress, parse_address, words_match

__all__ = ["QUALITIES", "Match", "geocode", "locate"]

log = logging.getLogger(__name__)

#: Match qualities, best first.
QUALITIES = ("exact", "interpolated", "street", "unmatched")
_FUZZY_CUTOFF = 0.88
_MAX_BRACKET_M = 400.0


@dataclass(frozen=True)
class Match:
    """Where an address was placed: quality, position (``None`` if unmatched), note, source."""

    quality: str
    x: float | None
    y: float | None
    note: str
    source: str = ""


def _comune_ok(place: str, comune: str) -> bool:
    return not comune or not place or place == comune


def _street_keys(parsed: ParsedAddress, index: AddressIndex) -> tuple[list[str], str]:
    """The index street keys an address may mean, and a note on how they were found."""
    key = parsed.key
    if key in index.by_key or key in index.streets_by_key:
        return [key], ""
    keys = index.keys
    found = [k for k in keys if words_match(key, k) or words_match(k, key)]
    if found:
        return found, f"via '{found[0]}'" if len(found) == 1 else ""
    close = difflib.get_close_matches(key, keys, n=2, cutoff=_FUZZY_CUTOFF)
    if close:
        return close[:1], f"nome simile: '{close[0]}'"
    return [], ""


def _midpoint(geom: BaseGeometry) -> Point:
    if isinstance(geom, MultiLineString):
        geom = max(geom.geoms, key=lambda g: g.length)
    if isinstance(geom, LineString):
        return geom.interpolate(0.5, normalized=True)
    return geom.representative_point()


def _filter_comune(values: list[int], comuni: list[str], comune: str) -> list[int]:
    """Candidates of the comune; those of unknown comune only if none is known to be in it."""
    if not comune:
        return values
    known = [v for v, c in zip(values, comuni, strict=True) if c == comune]
    if known:
        return known
    return [v for v, c in zip(values, comuni, strict=True) if not c]


def locate(
    parsed: ParsedAddress | None,
    index: AddressIndex,
    *,
    exclude: frozenset[str] = frozenset(),
) -> Match:
    """Place one parsed address (see the module documentation for the rules).

    Parameters
    ----------
    parsed : ParsedAddress or None
        From :func:`~geodistrict.geocode.normalise.parse_address`; ``None``
        (no street) is unmatched.
    index : AddressIndex
    exclude : frozenset of str
        Sources (``node/123``...) not to use, e.g. the feature whose position
        is being checked (the leave-one-out of ``benchmarks/bench_geocode.py``).

    Returns
    -------
    Match
    """
    if parsed is None:
        return Match("unmatched", None, None, "nessuna via nell'indirizzo")
    if parsed.comune and index.comuni and parsed.comune not in index.comuni:
        return Match(
            "unmatched", None, None, f"comune '{parsed.comune}' non presente nell'estratto OSM"
        )
    keys, how = _street_keys(parsed, index)
    if not keys:
        return Match("unmatched", None, None, f"via '{parsed.street}' non trovata in OSM")
    pts = index.points
    cand = [i for k in keys for i in index.by_key.get(k, [])]
    cand = [i for i in cand if pts.at[i, "source"] not in exclude]
    cand = _filter_comune(cand, [pts.at[i, "comune"] for i in cand], parsed.comune)
    streets = [j for k in keys for j in index.streets_by_key.get(k, [])]
    streets = _filter_comune(streets, [index.streets[j].comune for j in streets], parsed.comune)
    found_keys = {pts.at[i, "key"] for i in cand} | {index.streets[j].key for j in streets}
    if len(found_keys) > 1:
        return Match(
            "unmatched", None, None,
            "via ambigua: " + ", ".join(f"'{k}'" for k in sorted(found_keys)),
        )  # fmt: skip
    if not found_keys:
        elsewhere = sorted(
            {str(pts.at[i, "comune"]) for k in keys for i in index.by_key.get(k, [])}
            | {index.streets[j].comune for k in keys for j in index.streets_by_key.get(k, [])}
            - {""}
        )
        where = f" (c'è nei comuni: {', '.join(elsewhere)})" if elsewhere else ""
        return Match(
            "unmatched", None, None,
            f"via '{parsed.street}' non trovata nel comune '{parsed.comune}'{where}",
        )  # fmt: skip
    notes = [how] if how else []
    civic = parsed.civic
    if civic.number is not None:
        found = _exact(cand, index, civic.number, civic.suffix, notes)
        if found is not None:
            return found
        found = _interpolated(cand, streets, index, parsed, notes, exclude)
        if found is not None:
            return found
        notes.append(f"civico {civic} non trovato")
    elif civic.snc:
        notes.append("snc: senza numero civico")
    else:
        notes.append("senza numero civico")
    if streets:
        lines = [index.streets[j] for j in streets]
        best: Street = max(lines, key=lambda s: s.geometry.length)
        point = _midpoint(best.geometry)
        if len(lines) > 1:
            notes.append(f"{len(lines)} tratti della via (comune non noto): il più lungo")
        return Match("street", point.x, point.y, "; ".join(["centro della via", *notes]))
    xs = np.array([pts.at[i, "x"] for i in cand])
    ys = np.array([pts.at[i, "y"] for i in cand])
    return Match(
        "street",
        float(xs.mean()),
        float(ys.mean()),
        "; ".join(["centro dei civici noti della via (via senza tracciato in OSM)", *notes]),
    )


def _exact(
    cand: list[int], index: AddressIndex, number: int, suffix: str, notes: list[str]
) -> Match | None:
    pts = index.points
    same = [i for i in cand if pts.at[i, "number"] == number]
    if not same:
        return None
    with_suffix = [i for i in same if pts.at[i, "suffix"] == suffix]
    chosen = with_suffix or same
    extra = list(notes)
    if not with_suffix:
        found = sorted({str(pts.at[i, "suffix"]) for i in same})
        shown = ", ".join(f"{number}{('/' + s.upper()) if s else ''}" for s in found)
        wanted = f"{number}/{suffix.upper()}" if suffix else str(number)
        extra.append(f"civico {wanted}: in OSM solo {shown}")
    rank = {k: r for r, k in enumerate(KIND_ORDER)}
    chosen.sort(key=lambda i: rank.get(str(pts.at[i, "kind"]), len(rank)))
    best = chosen[0]
    far = [
        i for i in chosen
        if np.hypot(pts.at[i, "x"] - pts.at[best, "x"], pts.at[i, "y"] - pts.at[best, "y"]) > 50
    ]  # fmt: skip
    if far:
        extra.append(f"{len(far) + 1} punti OSM con lo stesso indirizzo a più di 50 m")
    note = "; ".join([f"{pts.at[best, 'kind']} {pts.at[best, 'source']}", *extra])
    return Match(
        "exact", float(pts.at[best, "x"]), float(pts.at[best, "y"]), note, pts.at[best, "source"]
    )


def _interpolated(
    cand: list[int],
    streets: list[int],
    index: AddressIndex,
    parsed: ParsedAddress,
    notes: list[str],
    exclude: frozenset[str],
) -> Match | None:
    number = parsed.civic.number
    assert number is not None
    key = index.points.at[cand[0], "key"] if cand else index.streets[streets[0]].key
    for way in index.interpolations:
        if way.key != key or way.source in exclude or not _comune_ok(way.comune, parsed.comune):
            continue
        low, high = sorted((way.start, way.end))
        if not low <= number <= high or high == low:
            continue
        if way.parity is not None and number % 2 != way.parity:
            continue
        share = (number - way.start) / (way.end - way.start)
        point = way.line.interpolate(share, normalized=True)
        note = f"interpolazione OSM {way.source} ({way.start}-{way.end})"
        return Match("interpolated", point.x, point.y, "; ".join([note, *notes]), way.source)
    pts = index.points
    if not cand:
        return None
    numbers = np.array([pts.at[i, "number"] for i in cand])
    xy = np.array([[pts.at[i, "x"], pts.at[i, "y"]] for i in cand])
    for parity_only in (True, False):
        ok = (numbers % 2 == number % 2) if parity_only else np.ones(len(cand), dtype=bool)
        below = np.flatnonzero(ok & (numbers < number))
        above = np.flatnonzero(ok & (numbers > number))
        if len(below) == 0 or len(above) == 0:
            continue
        lo = below[np.argmax(numbers[below])]
        hi = above[np.argmin(numbers[above])]
        gap = float(np.hypot(*(xy[hi] - xy[lo])))
        if gap > _MAX_BRACKET_M:
            continue
        share = (number - numbers[lo]) / (numbers[hi] - numbers[lo])
        x, y = xy[lo] + share * (xy[hi] - xy[lo])
        note = (
            f"tra i civici {numbers[lo]} e {numbers[hi]}"
            + ("" if parity_only else " (di parità diversa)")
            + f", {gap:.0f} m"
        )
        return Match("interpolated", float(x), float(y), "; ".join([note, *notes]))
    return None


def geocode(
    frame: pd.DataFrame,
    index: AddressIndex,
    *,
    address: str = "address",
    number: str | None = None,
    municipality: str | None = "municipality",
    postcode: str | None = None,
    only_missing: bool = True,
    exclude: str | None = None,
) -> gpd.GeoDataFrame:
    """Place the rows of a table from their address, offline, with the OSM index.

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        Rows with an address column. A GeoDataFrame keeps the positions it
        has (unless ``only_missing=False``) and is returned in its CRS.
    index : AddressIndex
        From :func:`~geodistrict.geocode.address_index`.
    address : str, default "address"
        Column of the address (street and civic number; a ``, Comune`` or
        ``CAP Comune`` tail is understood).
    number : str, optional
        Column of the civic number when it is separate from the street.
    municipality : str or None, default "municipality"
        Column of the comune (ISTAT name); ignored when absent from ``frame``.
    postcode : str, optional
        Column of the postcode (CAP), kept in the note only.
    only_missing : bool, default True
        Geocode only the rows without a geometry; the others get quality
        ``given``.
    exclude : str, optional
        Column of an OSM source id (``node/123``) each row must not be placed
        on (for measuring the geocoder against known positions).

    Returns
    -------
    GeoDataFrame
        A copy of ``frame`` (same index) with the geometry set where an
        address was placed, and the columns ``geocode_quality`` (``given``,
        ``exact``, ``interpolated``, ``street``, ``unmatched``) and
        ``geocode_note`` (what was matched, or why not). Unmatched rows are
        kept, with an empty geometry.

    Raises
    ------
    MissingColumnError
        If ``address`` (or ``number``, ``postcode``, ``exclude`` when given)
        is not a column.
    ParameterError
        If ``frame`` is a GeoDataFrame in another CRS than the index.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import pandas as pd
    >>> from shapely.geometry import LineString, Point
    >>> from geodistrict.geocode import address_index, geocode
    >>> pois = gpd.GeoDataFrame(
    ...     {"osm_id": [1, 2], "osm_type": ["node", "node"],
    ...      "tags": ['{"addr:street": "Viale Giuseppe Verdi", "addr:housenumber": "10"}',
    ...               '{"addr:street": "Viale Giuseppe Verdi", "addr:housenumber": "20"}']},
    ...     geometry=[Point(0, 0), Point(100, 0)], crs=32632)
    >>> streets = gpd.GeoDataFrame({"name": ["Viale Giuseppe Verdi"]},
    ...                            geometry=[LineString([(0, 0), (300, 0)])], crs=32632)
    >>> index = address_index(pois=pois, streets=streets)
    >>> rows = pd.DataFrame({"address": ["V.le G. Verdi 10", "Viale Verdi, 14", "V.le Verdi snc",
    ...                                  "Via Roma 1"]})
    >>> out = geocode(rows, index)
    >>> out["geocode_quality"].tolist()
    ['exact', 'interpolated', 'street', 'unmatched']
    >>> [round(p.x) for p in out.geometry[:3]]
    [0, 40, 150]
    """
    for column in (address, number, postcode, exclude):
        if column is not None:
            require_columns(frame, [column], what="rows to geocode",
                            hint="name the column of the address with address=...")  # fmt: skip
    if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None and index.crs is not None:
        if not frame.crs.equals(index.crs):
            raise ParameterError(
                f"the rows are in {frame.crs}, the address index in {index.crs}: "
                "reproject the rows with .to_crs(index.crs)"
            )
        geometry = frame.geometry.copy()
    else:
        geometry = gpd.GeoSeries([None] * len(frame), index=frame.index, crs=index.crs)
    out = gpd.GeoDataFrame(pd.DataFrame(frame).drop(columns="geometry", errors="ignore"),
                           geometry=geometry, crs=index.crs)  # fmt: skip
    has = municipality is not None and municipality in frame.columns
    quality: list[str] = []
    notes: list[str] = []
    points: list[Point | None] = []
    for pos in range(len(out)):
        given = geometry.iloc[pos]
        if only_missing and given is not None and not given.is_empty:
            quality.append("given")
            notes.append("")
            points.append(given)
            continue
        row = frame.iloc[pos]
        place = row[municipality] if has and municipality is not None else None
        parsed = parse_address(
            row[address],
            number=row[number] if number is not None and pd.notna(row[number]) else None,
            comune=place if isinstance(place, str) and place.strip() else None,
            postcode=row[postcode] if postcode is not None else None,
        )
        skip = row[exclude] if exclude is not None else None
        match = locate(parsed, index, exclude=frozenset([skip]) if isinstance(skip, str) else
                       frozenset())  # fmt: skip
        quality.append(match.quality)
        notes.append(match.note)
        points.append(Point(match.x, match.y) if match.x is not None else None)
    out["geocode_quality"] = pd.Series(quality, index=out.index, dtype="str")
    out["geocode_note"] = pd.Series(notes, index=out.index, dtype="str")
    out = out.set_geometry(gpd.GeoSeries(points, index=out.index, crs=index.crs))
    counts = out["geocode_quality"].value_counts().to_dict()
    log.info("geocoded %d rows: %s", len(out), counts)
    return out
