"""The addresses OpenStreetMap knows, as an index the geocoder searches.

:func:`address_index` gathers, in the working CRS:

* **address points**: every feature with ``addr:street`` + ``addr:housenumber``
  (or ``addr:place`` + ``addr:housenumber``) among the POIs, the buildings
  (their representative point) and any extra features read from the extract
  (address nodes and entrances, :func:`geodistrict.sources.osm.read_address_points`);
* **interpolation ways** (``addr:interpolation=odd|even|all|1|2``) whose two
  ends are address points of the same street;
* **street lines**: the ``streets`` layer's ways that have a ``name``, merged
  per street and comune.

The comune of a point is its ``addr:city``, else the municipality polygon that
holds it (when ``municipalities`` are given); a street's comune is the
polygon that holds most of it, else the most common ``addr:city`` of the
address points along it, else unknown (it then matches any comune).
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry

from geodistrict._validate import projected_frame
from geodistrict.errors import CRSError
from geodistrict.geocode.normalise import comune_key, parse_civic, street_key

__all__ = ["AddressIndex", "address_index"]

log = logging.getLogger(__name__)

#: Which kind of feature wins when several carry the same address (most precise first).
KIND_ORDER = ("entrance", "address", "building", "poi")
_PARITY = {"odd": 1, "even": 0, "all": None, "1": None, "2": None}


@dataclass(frozen=True)
class Street:
    """One street of one comune: its key, its comune key and its merged lines."""

    key: str
    comune: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class Interpolation:
    """An ``addr:interpolation`` way between two numbered ends."""

    key: str
    comune: str
    start: int
    end: int
    parity: int | None
    line: LineString
    source: str


@dataclass
class AddressIndex:
    """Address points, interpolation ways and named streets of a district.

    Build it with :func:`address_index`; search it with
    :func:`geodistrict.geocode.geocode`.

    Attributes
    ----------
    points : DataFrame
        One row per address point: ``source`` (``node/123``...), ``kind``
        (``entrance``, ``address``, ``building``, ``poi``), ``street``
        (the OSM text), ``key``, ``number``, ``suffix``, ``comune``,
        ``postcode``, ``x``, ``y``.
    streets : list of Street
    interpolations : list of Interpolation
    crs : object
        The CRS of ``x``/``y`` and of the lines.
    """

    points: pd.DataFrame
    streets: list[Street]
    interpolations: list[Interpolation]
    crs: object
    by_key: dict[str, list[int]] = field(default_factory=dict, repr=False)
    streets_by_key: dict[str, list[int]] = field(default_factory=dict, repr=False)
    comuni: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        by_key: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(self.points["key"]):
            by_key[key].append(i)
        self.by_key = dict(by_key)
        streets: dict[str, list[int]] = defaultdict(list)
        for i, street in enumerate(self.streets):
            streets[street.key].append(i)
        self.streets_by_key = dict(streets)
        self.comuni = frozenset(
            {c for c in self.points["comune"] if c} | {s.comune for s in self.streets if s.comune}
        )

    @property
    def keys(self) -> list[str]:
        """Every street key the index knows (from points, streets and interpolations)."""
        return sorted(set(self.by_key) | set(self.streets_by_key))

    def __len__(self) -> int:
        return len(self.points)


def _tags(value: object) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str) and value:
        try:
            loaded = json.loads(value)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
    return {}


def _frame_tags(frame: gpd.GeoDataFrame) -> list[dict[str, str]]:
    """Full tags of each row: the ``tags`` JSON, with ``addr_*`` columns as fallbacks."""
    out = [_tags(t) for t in frame["tags"]] if "tags" in frame else [{} for _ in range(len(frame))]
    for column, key in (("addr_street", "addr:street"), ("addr_housenumber", "addr:housenumber")):
        if column in frame:
            for tags, value in zip(out, frame[column], strict=True):
                if key not in tags and isinstance(value, str) and value:
                    tags[key] = value
    return out


def _source_ids(frame: gpd.GeoDataFrame) -> list[str]:
    if "osm_id" in frame and "osm_type" in frame:
        return [f"{t}/{i}" for t, i in zip(frame["osm_type"], frame["osm_id"], strict=True)]
    return [f"row/{i}" for i in frame.index]


def _address_rows(
    frame: gpd.GeoDataFrame, kind: str, crs: object
) -> tuple[list[dict[str, object]], list[tuple[dict[str, str], BaseGeometry, str]]]:
    """Address points of one layer, and its interpolation ways (tags, line, source)."""
    if frame is None or len(frame) == 0:
        return [], []
    projected_frame(frame, what=f"{kind} layer")
    if not frame.crs.equals(crs):
        raise CRSError(f"the {kind} layer is in {frame.crs}, the other layers in {crs}")
    rows: list[dict[str, object]] = []
    ways: list[tuple[dict[str, str], BaseGeometry, str]] = []
    tags_list = _frame_tags(frame)
    kinds = frame["kind"].tolist() if "kind" in frame else [kind] * len(frame)
    for tags, geom, source, row_kind in zip(
        tags_list, frame.geometry, _source_ids(frame), kinds, strict=True
    ):
        if geom is None or geom.is_empty:
            continue
        if "addr:interpolation" in tags and geom.geom_type in ("LineString", "MultiLineString"):
            ways.append((tags, geom, source))
            continue
        street = tags.get("addr:street") or tags.get("addr:place")
        number = tags.get("addr:housenumber")
        if not street or not number:
            continue
        point = geom if geom.geom_type == "Point" else geom.representative_point()
        city = tags.get("addr:city") or ""
        # "12;14" or "12,14": one point per number.
        for part in str(number).replace(",", ";").split(";"):
            civic = parse_civic(part)
            if civic is None or civic.number is None:
                continue
            rows.append(
                {
                    "source": source,
                    "kind": "entrance" if "entrance" in tags else str(row_kind),
                    "street": street,
                    "key": street_key(street),
                    "number": civic.number,
                    "suffix": civic.suffix,
                    "comune": comune_key(city),
                    "postcode": tags.get("addr:postcode", ""),
                    "x": point.x,
                    "y": point.y,
                }
            )
    return rows, ways


def _municipality_of(
    geoms: Iterable[BaseGeometry], municipalities: gpd.GeoDataFrame | None
) -> list[str]:
    """The comune key of the municipality polygon that holds (most of) each geometry."""
    geoms = list(geoms)
    if municipalities is None or len(municipalities) == 0 or not geoms:
        return [""] * len(geoms)
    names = [comune_key(n) for n in municipalities["name"]]
    polys = list(municipalities.geometry)
    tree = shapely.STRtree(polys)
    out = []
    for geom in geoms:
        best, share = "", 0.0
        for j in tree.query(geom, predicate="intersects"):
            part = (
                polys[j].intersection(geom).length
                if geom.geom_type != "Point"
                else float(polys[j].covers(geom))
            )
            if part > share:
                best, share = names[j], part
        out.append(best)
    return out


def address_index(
    *,
    pois: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    extra: gpd.GeoDataFrame | None = None,
    municipalities: gpd.GeoDataFrame | None = None,
) -> AddressIndex:
    """Build the address index of a district from its OSM layers.

    Parameters
    ----------
    pois, buildings, streets : GeoDataFrame, optional
        The base layers (projected, one CRS); addresses are read from their
        ``tags`` JSON (and ``addr_street`` / ``addr_housenumber`` columns).
    extra : GeoDataFrame, optional
        More addressed features in the same CRS, e.g. address nodes,
        entrances and interpolation ways read from the extract with
        :func:`geodistrict.sources.osm.read_address_points` (column ``kind``
        optional, default ``address``).
    municipalities : GeoDataFrame, optional
        Municipality polygons with a ``name`` (ISTAT name), same CRS: the
        comune of points without ``addr:city`` and of the streets.

    Returns
    -------
    AddressIndex

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.geocode import address_index
    >>> base = gd.datasets.sample_layers()
    >>> index = address_index(pois=base.pois, buildings=base.buildings, streets=base.streets)
    >>> len(index) > 900, len(index.streets) > 50
    (True, True)
    """
    frames = [f for f in (pois, buildings, streets, extra) if f is not None and len(f)]
    if not frames:
        empty = pd.DataFrame(
            columns=[
                "source",
                "kind",
                "street",
                "key",
                "number",
                "suffix",
                "comune",
                "postcode",
                "x",
                "y",
            ]
        )
        return AddressIndex(empty, [], [], None)
    crs = frames[0].crs
    rows: list[dict[str, object]] = []
    ways: list[tuple[dict[str, str], BaseGeometry, str]] = []
    for frame, kind in ((pois, "poi"), (buildings, "building"), (extra, "address")):
        if frame is not None:
            found, found_ways = _address_rows(frame, kind, crs)
            rows += found
            ways += found_ways
    points = pd.DataFrame(
        rows,
        columns=[
            "source",
            "kind",
            "street",
            "key",
            "number",
            "suffix",
            "comune",
            "postcode",
            "x",
            "y",
        ],
    )
    if municipalities is not None and len(municipalities):
        municipalities = municipalities.to_crs(crs)
    if len(points):
        # One point per (feature, number): the same feature may come from two layers.
        points = points.drop_duplicates(["source", "number", "suffix"]).reset_index(drop=True)
        blank = points["comune"] == ""
        if blank.any() and municipalities is not None:
            xy = shapely.points(points.loc[blank, "x"], points.loc[blank, "y"])
            points.loc[blank, "comune"] = _municipality_of(xy, municipalities)
    points["number"] = points["number"].astype("int64")
    lines = _street_lines(streets, points, municipalities, crs)
    interpolations = _interpolations(ways, points, municipalities)
    log.info(
        "address index: %d address points, %d streets, %d interpolation ways",
        len(points),
        len(lines),
        len(interpolations),
    )
    return AddressIndex(points, lines, interpolations, crs)


def _merge(geoms: list[BaseGeometry]) -> BaseGeometry:
    """The lines of ``geoms`` merged where they touch end to end."""
    parts = shapely.get_parts(shapely.union_all(geoms))
    lines = [g for g in parts if g.geom_type in ("LineString", "MultiLineString")]
    return shapely.line_merge(shapely.union_all(lines)) if lines else shapely.union_all(parts)


def _cut(
    line: BaseGeometry, municipalities: gpd.GeoDataFrame | None
) -> list[tuple[str, BaseGeometry]]:
    """A line cut along the municipality polygons: (comune key, piece); ``""`` outside them."""
    if municipalities is None or len(municipalities) == 0:
        return [("", line)]
    out: list[tuple[str, BaseGeometry]] = []
    rest = line
    for name, poly in zip(municipalities["name"], municipalities.geometry, strict=True):
        if not poly.intersects(line):
            continue
        piece = poly.intersection(line)
        lines = [g for g in shapely.get_parts(piece) if g.geom_type == "LineString"]
        if lines:
            out.append((comune_key(name), shapely.line_merge(shapely.union_all(lines))))
            rest = rest.difference(poly)
    if not rest.is_empty and rest.length > 1.0:
        out.append(("", rest))
    return out


def _street_lines(
    streets: gpd.GeoDataFrame | None,
    points: pd.DataFrame,
    municipalities: gpd.GeoDataFrame | None,
    crs: object,
) -> list[Street]:
    if streets is None or len(streets) == 0 or "name" not in streets:
        return []
    projected_frame(streets, what="streets layer")
    named = streets[streets["name"].map(lambda v: isinstance(v, str) and bool(v.strip()))]
    groups: dict[str, list[BaseGeometry]] = defaultdict(list)
    for name, geom in zip(named["name"], named.geometry, strict=True):
        if geom is not None and not geom.is_empty:
            groups[street_key(name)].append(geom)
    by_key_points = points.groupby("key") if len(points) else None
    out: list[Street] = []
    for key, geoms in groups.items():
        merged = _merge(geoms)
        parts = list(merged.geoms) if isinstance(merged, MultiLineString) else [merged]
        # Parts of one street name in one comune are one street: a part is cut along the
        # municipality polygons; a part outside them takes the most common addr:city of the
        # address points near it.
        per_place: dict[str, list[BaseGeometry]] = defaultdict(list)
        unknown: list[BaseGeometry] = []
        for part in parts:
            pieces = _cut(part, municipalities)
            for place, piece in pieces:
                (per_place[place] if place else unknown).append(piece)
        if unknown and by_key_points is not None and key in by_key_points.groups:
            near = by_key_points.get_group(key)
            xy = shapely.points(near["x"].to_numpy(), near["y"].to_numpy())
            for part in unknown:
                close = shapely.dwithin(xy, part, 150.0) & (near["comune"] != "").to_numpy()
                votes = Counter(near["comune"].to_numpy()[close])
                per_place[votes.most_common(1)[0][0] if votes else ""].append(part)
        else:
            for part in unknown:
                per_place[""].append(part)
        for place, pieces in per_place.items():
            out.append(Street(key, place, _merge(pieces)))
    return out


def _interpolations(
    ways: list[tuple[dict[str, str], BaseGeometry, str]],
    points: pd.DataFrame,
    municipalities: gpd.GeoDataFrame | None,
) -> list[Interpolation]:
    out: list[Interpolation] = []
    if not ways or len(points) == 0:
        return out
    xy = shapely.points(points["x"].to_numpy(), points["y"].to_numpy())
    tree = shapely.STRtree(xy)
    for tags, geom, source in ways:
        line = _merge([geom])
        if not isinstance(line, LineString):
            continue
        kind = tags.get("addr:interpolation", "all")
        if kind not in _PARITY:
            continue
        ends = []
        for end in (shapely.Point(line.coords[0]), shapely.Point(line.coords[-1])):
            near = tree.query(end, predicate="dwithin", distance=1.0)
            ends.append(points.iloc[near[0]] if len(near) else None)
        if ends[0] is None or ends[1] is None or ends[0]["key"] != ends[1]["key"]:
            log.debug("interpolation way %s: ends without matching addresses", source)
            continue
        comune = ends[0]["comune"] or ends[1]["comune"]
        if not comune and municipalities is not None:
            comune = _municipality_of([line], municipalities)[0]
        out.append(
            Interpolation(
                str(ends[0]["key"]),
                str(comune),
                int(ends[0]["number"]),
                int(ends[1]["number"]),
                _PARITY[kind],
                line,
                source,
            )
        )
    return out


def xy_array(points: pd.DataFrame) -> np.ndarray:
    """The ``x``, ``y`` of address points as an (n, 2) array."""
    return points[["x", "y"]].to_numpy(dtype="float64")
