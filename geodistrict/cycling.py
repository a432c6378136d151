"""Cycling connectivity: traffic stress, low-stress islands, missing links, circuits.

Everything works on the bike graph of :mod:`geodistrict.network` (an
osmnx-compatible ``MultiDiGraph`` in the projected working CRS, lengths in
metres), which already encodes who may ride where and in which direction.

Level of Traffic Stress (LTS)
-----------------------------
:func:`classify_lts` scores each edge *and direction* from 1 (anyone, a child
too) to 4 (strong and fearless only), after Mekuria, Furth & Nixon (2012,
"Low-Stress Bicycling and Network Connectivity", tables 1-3) as revised by
Furth (2017), with speeds in km/h (25 mph ~ 40, 30 mph ~ 50, 35 mph ~ 60):

* ``cycleway`` (separate cycle path), ``shared_path`` (footway, path,
  pedestrian street, track... open to bicycles), ``living_street``,
  ``traffic_free`` (road closed to motor vehicles) and ``cycle_track``
  (``cycleway*=track``) are LTS 1;
* ``bike_lane`` (``cycleway*=lane|opposite_lane|share_busway``), assumed to run
  alongside parking (OSM rarely says; the Bicycle Network Analysis does the
  same): one through lane per direction: speed <= 40 -> 1, <= 50 -> 2,
  <= 60 -> 3, else 4; two or more lanes per direction: 3, above 60 km/h 4;
* ``mixed_traffic`` (no facility, or a shared-lane marking): traffic volume
  is not in OSM, so the road class stands for it:

  ============================ ===== ===== ===== ===== =====
  speed (km/h), 1 lane per dir  <=30  <=40  <=50  <=60  >60
  ============================ ===== ===== ===== ===== =====
  local (residential, service,   1     1     2     3     4
  unclassified, road)
  collector (tertiary)           2     2     3     4     4
  arterial (secondary)           2     3     3     4     4
  major (primary, trunk)         3     3     4     4     4
  ============================ ===== ===== ===== ===== =====

  two through lanes per direction: 3 up to 40 km/h, else 4; three or more: 4.

Direction: ``cycleway:right`` serves the way's direction and ``cycleway:left``
the opposite one on two-way streets (right-hand traffic); on one-way streets
every side serves the traffic direction and ``opposite*`` values (or
``cycleway:left`` with ``oneway:bicycle=no``) serve the contraflow, which
counts as one lane per direction.

Fallbacks, recorded per edge in ``lts_assumptions``: a missing or unreadable
``maxspeed`` is ``default_speed_kmh`` (50 km/h, the Italian urban limit;
20 km/h on living streets); zone values (``IT:urban`` 50, ``IT:rural`` 90,
``*:zone30`` 30, ``walk`` 6...) are read as their legal limit; a missing
``lanes`` is 2 on two-way roads (4 on trunks) and 1 on one-way roads; lanes
per direction are half the total (rounded down, at least 1) on two-way roads.

Connectivity, islands, links
----------------------------
Origins (residential buildings or H3 cells) and destinations (commercial
units or POIs, schools, stations, services) are snapped to their nearest
graph node. A destination is reachable from an origin when the shortest
route is at most ``bikeshed_m`` long: on any legal route, or on a low-stress
route (every edge at LTS <= threshold). Low-stress islands are the connected
components of the low-stress edges (direction ignored). Missing links are
picked greedily: each candidate (upgrading a high-stress street to low
stress, or a new straight connector of at most ``max_connector_m`` between two
islands) is scored by the origin-destination pairs it makes reachable on
low-stress routes; the best is applied and the rest re-scored.

Map data © OpenStreetMap contributors (ODbL).

Examples
--------
>>> import geodistrict as gd
>>> from geodistrict import cycling
>>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
>>> g = cycling.add_lts(layers.bike_graph)
>>> net = cycling.bike_network(g)
>>> sorted(net["lts"].dropna().unique().astype(int).tolist())
[1, 2, 3, 4]
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point

from geodistrict import _validate
from geodistrict.errors import ConfigError, EmptyAreaError

if TYPE_CHECKING:
    from geodistrict.config import CyclingConfig
    from geodistrict.ingest import BaseLayers

log = logging.getLogger(__name__)

__all__ = [
    "DESTINATION_CATEGORIES",
    "INFRA_TYPES",
    "add_lts",
    "bike_network",
    "circuit",
    "classify_lts",
    "connectivity",
    "cycling_layers",
    "destinations",
    "info_points",
    "isochrones",
    "key_places",
    "low_stress_islands",
    "lts_agreement",
    "missing_links",
    "origins",
    "poi_centres",
]

#: Infrastructure types of :func:`classify_lts`.
INFRA_TYPES = (
    "cycleway",
    "shared_path",
    "living_street",
    "traffic_free",
    "cycle_track",
    "bike_lane",
    "mixed_traffic",
)
#: Destination categories of :func:`destinations`.
DESTINATION_CATEGORIES = ("commerce", "school", "station", "service")

_PATHS = {"footway", "path", "pedestrian", "bridleway", "track", "trail", "sidewalk"}
_LOCAL = {"residential", "unclassified", "service", "road", "living_street", "busway"}
_COLLECTOR = {"tertiary", "tertiary_link"}
_ARTERIAL = {"secondary", "secondary_link"}
_MAJOR = {"primary", "primary_link", "trunk", "trunk_link", "motorway", "motorway_link"}
_SPEED_BINS = np.array([30.0, 40.0, 50.0, 60.0])  # km/h upper bounds of the table columns
_MIXED_TABLE = np.array([[1, 1, 2, 3, 4], [2, 2, 3, 4, 4], [2, 3, 3, 4, 4], [3, 3, 4, 4, 4]])
_LANE_TABLE = np.array([1, 1, 2, 3, 4])
_ZONE_SPEEDS = {
    "urban": 50.0,
    "rural": 90.0,
    "trunk": 110.0,
    "motorway": 130.0,
    "living_street": 20.0,
    "zone30": 30.0,
    "zone:30": 30.0,
    "zone20": 20.0,
    "zone:20": 20.0,
    "bicycle_road": 30.0,
    "walk": 6.0,
}
_LANE_VALUES = {
    "lane",
    "opposite_lane",
    "share_busway",
    "opposite_share_busway",
    "shared_busway",
    "busway",
    "exclusive",
    "advisory",
    "lane;shared_lane",
}
_TRACK_VALUES = {"track", "opposite_track"}
_FOOD = {"restaurant", "cafe", "bar", "pub", "fast_food", "ice_cream", "food_court", "biergarten"}
_SCHOOLS = {"school", "kindergarten", "college", "university", "childcare", "music_school"}
_SERVICES = {
    "townhall",
    "library",
    "post_office",
    "bank",
    "pharmacy",
    "doctors",
    "clinic",
    "hospital",
    "dentist",
    "police",
    "community_centre",
    "social_facility",
    "courthouse",
    "marketplace",
    "fire_station",
    "arts_centre",
    "theatre",
    "cinema",
    "place_of_worship",
    "veterinary",
}
_RESIDENTIAL = {
    "residential",
    "apartments",
    "house",
    "detached",
    "semidetached_house",
    "terrace",
    "dormitory",
    "bungalow",
    "farm",
    "static_caravan",
}


# ---------------------------------------------------------------------------- LTS


def _per_unique(col: pd.Series, func: Any, missing: Any) -> np.ndarray:
    """``func`` applied once per distinct value (tag columns repeat a few values a lot)."""
    try:
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
    except TypeError:  # unhashable values, e.g. lists from a merged edge
        codes, uniques = pd.factorize(col.map(_scalar), use_na_sentinel=True)
    mapped = [func(v) for v in uniques] + [missing]
    return np.array(mapped, dtype=object)[codes]


def _text(frame: pd.DataFrame, *names: str) -> pd.Series:
    """First present column among ``names`` as lower-case text ('' when missing)."""
    for name in names:
        if name in frame.columns:
            values = _per_unique(frame[name], lambda v: str(v).strip().lower(), "")
            return pd.Series(values, index=frame.index, dtype=object)
    return pd.Series("", index=frame.index, dtype=object)


def _speed_kmh(raw: str) -> float:
    """One ``maxspeed`` value in km/h (NaN when unreadable): number, mph, zone."""
    if not raw:
        return math.nan
    first = raw.split(";")[0].strip()
    match = re.match(r"^(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?$", first)
    if match:
        speed = float(match.group(1))
        return speed * 1.609344 if match.group(2) == "mph" else speed
    zone = first.split(":", 1)[-1]
    return _ZONE_SPEEDS.get(zone, _ZONE_SPEEDS.get(first, math.nan))


def _parse_speed(values: pd.Series) -> pd.Series:
    """``maxspeed`` strings to km/h (NaN when unreadable): numbers, mph, zone values."""
    return pd.Series(_per_unique(values, _speed_kmh, math.nan), index=values.index).astype(float)


def _facility(value: pd.Series) -> pd.Series:
    """A cycleway tag value as ``track``, ``lane`` or '' (none / separate / sharrow)."""
    base = value.str.replace("opposite_", "", regex=False)
    return pd.Series(
        np.select(
            [base.isin(_TRACK_VALUES), value.isin(_LANE_VALUES) | base.isin(_LANE_VALUES)],
            ["track", "lane"],
            "",
        ),
        index=value.index,
        dtype=object,
    )


def _best(*options: pd.Series) -> pd.Series:
    """Element-wise best facility among the options: track over lane over none."""
    rank = {"track": 2, "lane": 1, "": 0}
    stacked = np.stack([o.map(rank).to_numpy(dtype=int) for o in options])
    best = stacked.max(axis=0)
    return pd.Series(np.array(["", "lane", "track"], dtype=object)[best], index=options[0].index)


def classify_lts(edges: pd.DataFrame, *, default_speed_kmh: float = 50.0) -> pd.DataFrame:
    """Level of Traffic Stress of street edges in one travel direction each.

    Parameters
    ----------
    edges : DataFrame
        One row per edge direction with OSM tag columns (``highway``,
        ``maxspeed``, ``lanes``, ``cycleway``, ``cycleway:left`` or
        ``cycleway_left``, ``cycleway:right``, ``cycleway:both``,
        ``oneway:bicycle``, ``motor_vehicle``, ``access``...). Optional
        ``reversed`` (bool): the row travels against the way's drawing
        direction; optional ``oneway`` (bool): bicycles may ride this edge in
        one direction only. Missing columns count as untagged.
    default_speed_kmh : float, default 50
        Speed assumed where ``maxspeed`` is missing or unreadable (km/h).

    Returns
    -------
    DataFrame
        Indexed like ``edges``: ``infra`` (one of :data:`INFRA_TYPES`),
        ``lts`` (1-4, int8), ``speed_kmh`` and ``lanes_per_dir`` used, and
        ``lts_assumptions`` (text, '' when nothing was assumed).

    Raises
    ------
    ValueError
        If ``default_speed_kmh`` is not positive.

    Examples
    --------
    >>> import pandas as pd
    >>> tags = pd.DataFrame([{"highway": "residential"},
    ...                      {"highway": "primary", "maxspeed": "50", "cycleway:right": "lane"},
    ...                      {"highway": "cycleway"}])
    >>> out = classify_lts(tags)
    >>> out["lts"].tolist(), out["infra"].tolist()
    ([2, 2, 1], ['mixed_traffic', 'bike_lane', 'cycleway'])
    >>> out["lts_assumptions"].iloc[0]
    'maxspeed assumed 50 km/h; lanes assumed 2'
    """
    if not default_speed_kmh > 0:
        raise ValueError(f"default_speed_kmh must be positive, got {default_speed_kmh!r}")
    used = [c for c in edges.columns if c in _LTS_INPUTS]
    if len(edges) < 500 or not used:
        return _classify_rows(edges, default_speed_kmh)
    # The rules depend on the tags only: classify each distinct combination once.
    key = np.zeros(len(edges), dtype=np.int64)
    for c in used:
        try:
            codes, uniques = pd.factorize(edges[c])
        except TypeError:  # unhashable values, e.g. lists from a merged edge
            codes, uniques = pd.factorize(edges[c].map(_scalar))
        key = key * (len(uniques) + 1) + codes + 1
        key, _ = pd.factorize(key)  # keep the mixed-radix key small
        key = key.astype(np.int64)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    distinct = _classify_rows(edges.iloc[first], default_speed_kmh)
    out = distinct.iloc[inverse.ravel()]
    out.index = edges.index
    return out


_LTS_INPUTS = {
    "highway", "maxspeed", "lanes", "cycleway", "cycleway:left", "cycleway_left",
    "cycleway:right", "cycleway_right", "cycleway:both", "cycleway_both", "oneway:bicycle",
    "oneway_bicycle", "motor_vehicle", "access", "reversed", "oneway",
}  # fmt: skip


def _classify_rows(edges: pd.DataFrame, default_speed_kmh: float) -> pd.DataFrame:
    highway = _text(edges, "highway")
    reversed_ = (
        edges["reversed"].fillna(False).astype(bool).to_numpy()
        if "reversed" in edges.columns
        else np.zeros(len(edges), dtype=bool)
    )
    bike_oneway = (
        edges["oneway"].map(lambda v: v is True or str(v).lower() in ("true", "yes", "1"))
        if "oneway" in edges.columns
        else pd.Series(False, index=edges.index)
    ).to_numpy(dtype=bool)
    raw = {
        side: _text(edges, f"cycleway:{side}", f"cycleway_{side}")
        for side in ("left", "right", "both")
    }
    plain = _text(edges, "cycleway")
    oneway_bicycle = _text(edges, "oneway:bicycle", "oneway_bicycle")
    opposite = plain.str.startswith("opposite")
    for value in raw.values():
        opposite |= value.str.startswith("opposite")
    contraflow_street = (oneway_bicycle.isin({"no", "false", "0"}) | opposite).to_numpy()
    motor_oneway = bike_oneway | contraflow_street
    contra_row = contraflow_street & reversed_

    fac = {k: _facility(v) for k, v in raw.items()}
    fac_plain = _facility(plain)
    not_opp = {k: v.where(~v.str.startswith("opposite"), "") for k, v in raw.items()}
    with_traffic = _best(*(_facility(v) for v in [*not_opp.values(), plain.where(~opposite, "")]))
    forward = _best(fac["right"], fac["both"], fac_plain.where(~opposite, ""))
    backward = _best(fac["left"], fac["both"], fac_plain.where(~opposite, ""))
    contra = _best(
        *(_facility(v).where(v.str.startswith("opposite"), "") for v in [*raw.values(), plain]),
        fac["left"].where(oneway_bicycle.isin({"no", "false", "0"}), ""),
    )
    facility = np.where(
        contra_row,
        contra.to_numpy(),
        np.where(motor_oneway, with_traffic.to_numpy(), np.where(reversed_, backward, forward)),
    )

    speed = _parse_speed(_text(edges, "maxspeed")).to_numpy()
    no_speed = np.isnan(speed)
    fallback_speed = np.where(highway == "living_street", 20.0, default_speed_kmh)
    speed = np.where(no_speed, fallback_speed, speed)
    lanes_raw = _text(edges, "lanes").str.extract(r"(\d+)", expand=False).astype(float)
    lanes = lanes_raw.to_numpy()
    no_lanes = np.isnan(lanes)
    default_lanes = np.where(motor_oneway, 1.0, np.where(highway.isin({"trunk"}), 4.0, 2.0))
    lanes = np.where(no_lanes, default_lanes, np.maximum(lanes, 1.0))
    per_dir = np.where(motor_oneway, lanes, np.maximum(np.floor(lanes / 2), 1.0))
    # A contraflow rider shares no lane with traffic going their way.
    per_dir = np.where(contra_row, 1.0, per_dir).astype(int)

    motor_free = _text(edges, "motor_vehicle").isin({"no"}) | (
        _text(edges, "access").isin({"no"}) & ~_text(edges, "motor_vehicle").isin({"yes"})
    )
    is_road = ~(highway.isin(_PATHS) | (highway == "cycleway")).to_numpy()
    infra = np.select(
        [
            (highway == "cycleway").to_numpy(),
            highway.isin(_PATHS).to_numpy(),
            (highway == "living_street").to_numpy(),
            motor_free.to_numpy() & is_road,
            facility == "track",
            facility == "lane",
        ],
        ["cycleway", "shared_path", "living_street", "traffic_free", "cycle_track", "bike_lane"],
        "mixed_traffic",
    )
    col = np.searchsorted(_SPEED_BINS, speed, side="left")  # 0..4
    cls = np.select(
        [
            highway.isin(_COLLECTOR).to_numpy(),
            highway.isin(_ARTERIAL).to_numpy(),
            highway.isin(_MAJOR).to_numpy(),
        ],
        [1, 2, 3],
        0,
    )
    mixed = _MIXED_TABLE[cls, col]
    mixed = np.where(per_dir == 2, np.where(speed <= 40, np.maximum(mixed, 3), 4), mixed)
    mixed = np.where(per_dir >= 3, 4, mixed)
    lane = np.where(per_dir >= 2, np.where(speed <= 60, 3, 4), _LANE_TABLE[col])
    lts = np.where(infra == "mixed_traffic", mixed, np.where(infra == "bike_lane", lane, 1))

    on_road = np.isin(infra, ["mixed_traffic", "bike_lane"])
    # Build the notes column-wise: a few distinct texts, joined once per row.
    parts = [
        np.where(
            on_road & no_speed,
            pd.Series(fallback_speed).map("maxspeed assumed {:g} km/h".format).to_numpy(),
            "",
        ),
        np.where(
            on_road & no_lanes,
            pd.Series(default_lanes).map("lanes assumed {:g}".format).to_numpy(),
            "",
        ),
        np.where(infra == "bike_lane", "bike lane assumed alongside parking", ""),
        np.where(contra_row & (infra == "mixed_traffic"), "contraflow in mixed traffic", ""),
    ]
    joined = pd.Series(parts[0], dtype=object)
    for part in parts[1:]:
        joined = joined.str.cat(pd.Series(part, dtype=object), sep="; ")
    notes = joined.str.replace(r"(; )+", "; ", regex=True).str.strip("; ")
    return pd.DataFrame(
        {
            "infra": pd.Series(infra, index=edges.index, dtype=object),
            "lts": pd.Series(lts, index=edges.index).astype("int8"),
            "speed_kmh": pd.Series(speed, index=edges.index),
            "lanes_per_dir": pd.Series(per_dir, index=edges.index).astype("int16"),
            "lts_assumptions": pd.Series(notes.to_numpy(dtype=object), index=edges.index),
        }
    )


def add_lts(graph: nx.MultiDiGraph, *, default_speed_kmh: float = 50.0) -> nx.MultiDiGraph:
    """A copy of a bike graph with ``infra``, ``lts`` and ``lts_assumptions`` on every edge.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A projected bike graph (``BaseLayers.bike_graph``); each directed edge
        is one direction of travel (``reversed`` marks travel against the way).
    default_speed_kmh : float, default 50
        See :func:`classify_lts`.

    Returns
    -------
    networkx.MultiDiGraph
        The copy; the input graph is unchanged.

    Examples
    --------
    >>> import geodistrict as gd
    >>> g = gd.load_base_layers(gd.load_config("config/sample.yml")).bike_graph
    >>> scored = add_lts(g)
    >>> {d["lts"] for _, _, d in scored.edges(data=True)} <= {1, 2, 3, 4}
    True
    """
    _validate.projected_graph(graph, what="bike graph")
    rows = [data for _, _, data in graph.edges(data=True)]
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    result = graph.copy()
    if not rows:
        return result
    scored = classify_lts(frame, default_speed_kmh=default_speed_kmh)
    values = scored[["infra", "lts", "lts_assumptions"]].to_dict("records")
    for (_, _, data), value in zip(result.edges(data=True), values, strict=True):
        data["infra"] = value["infra"]
        data["lts"] = int(value["lts"])
        data["lts_assumptions"] = value["lts_assumptions"]
    result.graph["lts_default_speed_kmh"] = default_speed_kmh
    return result


def _scored(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The graph itself when it carries LTS, else a scored copy with default options."""
    _validate.projected_graph(graph, what="bike graph")
    for _, _, data in graph.edges(data=True):
        return graph if "lts" in data else add_lts(graph)
    return graph


def _scalar(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def bike_network(graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """The ``bike_network`` layer: one line per street edge with LTS in both directions.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A bike graph, scored by :func:`add_lts` (scored with default options
        if not).

    Returns
    -------
    GeoDataFrame
        Lines drawn in the OSM way's direction, in the graph's CRS, with
        ``u``, ``v``, ``osmid``, ``name``, ``highway``, ``length_m``,
        ``infra_fwd`` / ``infra_bwd`` and ``lts_fwd`` / ``lts_bwd`` (along /
        against the way; null where cycling that way is not allowed),
        ``infra`` and ``lts`` (the worse allowed direction), ``oneway_bike``,
        ``maxspeed``, ``lanes``, ``lts_assumptions``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> g = gd.load_base_layers(gd.load_config("config/sample.yml")).bike_graph
    >>> net = bike_network(g)
    >>> bool(net["lts"].between(1, 4).all()), net.crs.to_epsg()
    (True, 32635)
    """
    graph = _scored(graph)
    records = []
    for u, v, data in graph.edges(data=True):
        rev = bool(data.get("reversed", False))
        geom = data.get("geometry")
        if geom is None:
            geom = LineString(
                [
                    (graph.nodes[u]["x"], graph.nodes[u]["y"]),
                    (graph.nodes[v]["x"], graph.nodes[v]["y"]),
                ]
            )
        records.append(
            {
                "key": (
                    str(_scalar(data.get("osmid"))),
                    min(u, v),
                    max(u, v),
                    round(float(data.get("length", 0.0)), 1),
                ),
                "reversed": rev,
                "u": v if rev else u,
                "v": u if rev else v,
                "osmid": _scalar(data.get("osmid")),
                "name": _scalar(data.get("name")),
                "highway": _scalar(data.get("highway")),
                "maxspeed": _scalar(data.get("maxspeed")),
                "lanes": _scalar(data.get("lanes")),
                "length_m": float(data.get("length", 0.0)),
                "infra": data["infra"],
                "lts": int(data["lts"]),
                "lts_assumptions": data.get("lts_assumptions", ""),
                "geometry": shapely.reverse(geom) if rev else geom,
            }
        )
    crs = graph.graph["crs"]
    if not records:
        return gpd.GeoDataFrame(geometry=[], crs=crs)
    frame = pd.DataFrame.from_records(records)
    fwd = frame[~frame["reversed"]].drop_duplicates("key").set_index("key")
    bwd = frame[frame["reversed"]].drop_duplicates("key").set_index("key")
    keys = list(dict.fromkeys([*fwd.index, *bwd.index]))
    base = fwd.reindex(keys)
    base = base.fillna(bwd.reindex(keys)) if len(bwd) else base
    base["infra_fwd"] = fwd["infra"].reindex(keys)
    base["infra_bwd"] = bwd["infra"].reindex(keys) if len(bwd) else None
    base["lts_fwd"] = fwd["lts"].reindex(keys).astype("Int8")
    base["lts_bwd"] = (bwd["lts"].reindex(keys) if len(bwd) else pd.Series(index=keys)).astype(
        "Int8"
    )
    worse = np.fmax(base["lts_fwd"].astype(float), base["lts_bwd"].astype(float))
    base["lts"] = pd.Series(worse, index=base.index).astype("Int8")
    base["infra"] = np.where(
        base["lts_bwd"].astype(float).fillna(0) > base["lts_fwd"].astype(float).fillna(0),
        base["infra_bwd"],
        base["infra_fwd"].fillna(base["infra_bwd"]),
    )
    notes_b = bwd["lts_assumptions"].reindex(keys) if len(bwd) else pd.Series("", index=keys)
    notes_f = fwd["lts_assumptions"].reindex(keys)
    base["lts_assumptions"] = [
        "; ".join(
            dict.fromkeys(p for n in (a, b) if isinstance(n, str) and n for p in n.split("; "))
        )
        for a, b in zip(notes_f, notes_b, strict=True)
    ]
    base["oneway_bike"] = base["lts_fwd"].isna() | base["lts_bwd"].isna()
    base["osmid"] = base["osmid"].astype(str)
    for text in ("name", "highway", "maxspeed", "lanes", "infra", "infra_fwd", "infra_bwd"):
        base[text] = base[text].astype(object).where(base[text].notna(), None)
    columns = [
        "u",
        "v",
        "osmid",
        "name",
        "highway",
        "length_m",
        "infra_fwd",
        "infra_bwd",
        "lts_fwd",
        "lts_bwd",
        "infra",
        "lts",
        "oneway_bike",
        "maxspeed",
        "lanes",
        "lts_assumptions",
        "geometry",
    ]
    out = gpd.GeoDataFrame(base[columns].reset_index(drop=True), geometry="geometry", crs=crs)
    out["u"] = out["u"].astype("int64")
    out["v"] = out["v"].astype("int64")
    out["length_m"] = out["length_m"].round(1)
    return out


def lts_agreement(network: pd.DataFrame, *, metric: bool = True) -> dict[str, Any]:
    """Compare :func:`bike_network`'s LTS with the ``osm-lts`` package (Furth, US defaults).

    Parameters
    ----------
    network : DataFrame
        The ``bike_network`` layer, or any frame with ``lts`` and the tag columns
        ``highway``, ``maxspeed``, ``lanes``, ``cycleway*``.
    metric : bool, default True
        Append ``km/h`` to bare ``maxspeed`` numbers before handing them to
        osm-lts, which reads bare numbers as mph (a US convention); OSM's own
        convention is km/h.

    Returns
    -------
    dict
        ``compared`` (rows osm-lts scores), ``agreement`` (share with the same
        level), ``within_one`` (share differing by at most one level),
        ``same_low_high`` (share on the same side of LTS 2/3), ``confusion``
        (DataFrame: ours in rows, osm-lts in columns).

    Raises
    ------
    ImportError
        If ``osm-lts`` is not installed (``pip install osm-lts``, part of the ``dev`` extra).

    Examples
    --------
    >>> import geodistrict as gd
    >>> g = gd.load_base_layers(gd.load_config("config/sample.yml")).bike_graph
    >>> result = lts_agreement(bike_network(g))
    >>> 0.0 <= result["agreement"] <= 1.0
    True
    """
    try:
        import osm_lts
    except ImportError as exc:  # pragma: no cover - bench extra
        raise ImportError("lts_agreement needs osm-lts: pip install osm-lts") from exc
    keys = {
        "highway": "highway",
        "maxspeed": "maxspeed",
        "lanes": "lanes",
        "cycleway": "cycleway",
        "cycleway_left": "cycleway:left",
        "cycleway_right": "cycleway:right",
        "cycleway_both": "cycleway:both",
    }
    ours, theirs = [], []
    present = [c for c in keys if c in network.columns]
    for values in network[[*present, "lts"]].to_dict("records"):
        tags = {keys[c]: str(values[c]) for c in present if _present(values[c])}
        if metric and re.fullmatch(r"\d+", tags.get("maxspeed", "x")):
            tags["maxspeed"] += " km/h"
        level = osm_lts.classify(tags)
        if level is None or not _present(values["lts"]):
            continue
        ours.append(int(values["lts"]))
        theirs.append(int(level))
    a, b = np.array(ours), np.array(theirs)
    n = len(a)
    return {
        "compared": n,
        "agreement": float((a == b).mean()) if n else math.nan,
        "within_one": float((np.abs(a - b) <= 1).mean()) if n else math.nan,
        "same_low_high": float(((a <= 2) == (b <= 2)).mean()) if n else math.nan,
        "confusion": pd.crosstab(pd.Series(a, name="geodistrict"), pd.Series(b, name="osm_lts")),
    }


def _present(value: Any) -> bool:
    return (
        value is not None
        and value is not pd.NA
        and not (isinstance(value, float) and math.isnan(value))
        and str(value) not in ("", "None", "nan")
    )


# ---------------------------------------------------------------- graph as arrays


@dataclass(frozen=True)
class _Net:
    """A graph as arrays: nodes ``0..n-1`` and one row per directed edge."""

    ids: np.ndarray  # OSM node id of each node index
    xy: np.ndarray  # (n, 2) projected coordinates
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    lts: np.ndarray
    street: np.ndarray  # undirected street id shared by the two directions
    geoms: np.ndarray  # LineString per edge
    info: pd.DataFrame  # osmid, name, highway per edge

    @property
    def n(self) -> int:
        return len(self.ids)


def _net(graph: nx.MultiDiGraph, *, lts: bool = True) -> _Net:
    if lts:
        graph = _scored(graph)
    ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    position = {node: i for i, node in enumerate(ids.tolist())}
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in ids.tolist()], dtype=float)
    us, vs, lengths, levels, geoms, osmids, names, highways = [], [], [], [], [], [], [], []
    for a, b, data in graph.edges(data=True):
        us.append(position[a])
        vs.append(position[b])
        lengths.append(float(data.get("length", 0.0)))
        levels.append(int(data.get("lts", 1)))
        geom = data.get("geometry")
        if geom is None:
            geom = LineString([xy[position[a]], xy[position[b]]])
        geoms.append(geom)
        osmids.append(str(_scalar(data.get("osmid"))))
        names.append(_scalar(data.get("name")))
        highways.append(_scalar(data.get("highway")))
    u = np.array(us, dtype=np.int64)
    v = np.array(vs, dtype=np.int64)
    length = np.maximum(np.array(lengths, dtype=float), 0.01)  # csgraph drops zero weights
    info = pd.DataFrame({"osmid": osmids, "name": names, "highway": highways}, dtype=object)
    key = pd.DataFrame(
        {"o": osmids, "a": np.minimum(u, v), "b": np.maximum(u, v), "l": np.round(length)}
    )
    street = key.groupby(["o", "a", "b", "l"], sort=False).ngroup().to_numpy()
    return _Net(
        ids,
        xy,
        u,
        v,
        length,
        np.array(levels, dtype=np.int8),
        street,
        np.array(geoms, dtype=object),
        info,
    )


def _csr(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> sparse.csr_matrix:
    """A sparse adjacency matrix keeping the shortest of parallel edges."""
    if len(u) == 0:
        return sparse.csr_matrix((n, n))
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return sparse.csr_matrix((w[first], (u[first], v[first])), shape=(n, n))


def _snap(net: _Net, points: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Nearest node index and distance (m) of each point."""
    if len(points) == 0 or net.n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    pts = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
    dist, idx = cKDTree(net.xy).query(pts)
    return idx.astype(np.int64), dist


def _points(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    geoms = frame.geometry
    return geoms.where(geoms.geom_type == "Point", geoms.representative_point())


# ------------------------------------------------------- destinations and origins


def destinations(
    pois: gpd.GeoDataFrame,
    transit_stops: gpd.GeoDataFrame,
    *,
    commercial_units: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Destinations of the connectivity analysis, one point each with a ``category``.

    Parameters
    ----------
    pois : GeoDataFrame
        The ``pois`` base layer (projected); vacant units are left out.
    transit_stops : GeoDataFrame
        The ``transit_stops`` base layer; stops of ``kind`` station count.
    commercial_units : GeoDataFrame, optional
        The commerce step's ``commercial_units``; when given they are the
        ``commerce`` destinations instead of the shop and food POIs.

    Returns
    -------
    GeoDataFrame
        ``category`` (one of :data:`DESTINATION_CATEGORIES`: commerce = shops,
        bars and restaurants; school; station; service = town hall, library,
        post, bank, pharmacy, health...), ``name``, point geometry.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> dest = destinations(layers.pois, layers.transit_stops)
    >>> sorted(dest["category"].unique())
    ['commerce', 'school', 'service', 'station']
    """
    _validate.projected_frame(pois, what="pois")
    _validate.projected_frame(transit_stops, what="transit_stops")
    vacant = pois["vacant"].fillna(False).astype(bool) if "vacant" in pois else False
    live = pois[~vacant] if "vacant" in pois else pois
    shop = _text(live, "shop")
    amenity = _text(live, "amenity")
    healthcare = _text(live, "healthcare")
    office = _text(live, "office")
    category = np.select(
        [
            amenity.isin(_SCHOOLS).to_numpy(),
            (
                amenity.isin(_SERVICES) | (healthcare != "") | office.isin({"government"})
            ).to_numpy(),
            ((shop != "") | amenity.isin(_FOOD)).to_numpy(),
        ],
        ["school", "service", "commerce"],
        "",
    )
    parts = [
        gpd.GeoDataFrame(
            {"category": category, "name": _text(live, "name").to_numpy()},
            geometry=_points(live).to_numpy(),
            crs=pois.crs,
        )
    ]
    if commercial_units is not None and len(commercial_units):
        units = _validate.projected_frame(commercial_units, what="commercial_units")
        parts[0] = parts[0][parts[0]["category"] != "commerce"]
        parts.append(
            gpd.GeoDataFrame(
                {"category": "commerce", "name": _text(units, "name").to_numpy()},
                geometry=_points(units).to_crs(pois.crs).to_numpy(),
                crs=pois.crs,
            )
        )
    stations = transit_stops[_text(transit_stops, "kind") == "station"]
    parts.append(
        gpd.GeoDataFrame(
            {"category": "station", "name": _text(stations, "name").to_numpy()},
            geometry=_points(stations).to_crs(pois.crs).to_numpy(),
            crs=pois.crs,
        )
    )
    out = pd.concat(parts, ignore_index=True)
    out = out[out["category"] != ""].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=pois.crs)


def origins(
    buildings: gpd.GeoDataFrame,
    *,
    kind: Literal["buildings", "hex"] = "buildings",
    min_residential: int = 50,
    area: gpd.GeoDataFrame | None = None,
    hex_resolution: int = 9,
) -> gpd.GeoDataFrame:
    """Origins of the connectivity analysis: residential buildings or H3 cell centres.

    Parameters
    ----------
    buildings : GeoDataFrame
        The ``buildings`` base layer (projected).
    kind : {"buildings", "hex"}, default "buildings"
        Residential buildings (``building=residential|apartments|house|...``),
        falling back to every building when fewer than ``min_residential``;
        or the centres of the H3 cells covering ``area``.
    min_residential : int, default 50
        See ``kind``.
    area : GeoDataFrame, optional
        The study area; needed for ``kind="hex"``.
    hex_resolution : int, default 9
        H3 resolution of hex origins.

    Returns
    -------
    GeoDataFrame
        Points with ``origin_id``, ``kind`` (``residential``, ``building`` or
        ``hex``) and ``ref`` (OSM building id or H3 cell).

    Raises
    ------
    ValueError
        If ``kind`` is unknown, or ``kind="hex"`` without ``area``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> o = origins(layers.buildings)
    >>> o["kind"].iloc[0], len(o) == len(layers.buildings)
    ('building', True)
    """
    _validate.projected_frame(buildings, what="buildings")
    if kind == "hex":
        if area is None:
            raise ValueError("origins(kind='hex') needs the study area (area=...)")
        import h3

        lonlat = area.to_crs(4326).geometry.union_all()
        cells = sorted(h3.geo_to_cells(lonlat.__geo_interface__, hex_resolution))
        pts = [Point(lon, lat) for lat, lon in (h3.cell_to_latlng(c) for c in cells)]
        frame = gpd.GeoDataFrame({"kind": "hex", "ref": cells}, geometry=pts, crs=4326)
        frame = frame.to_crs(buildings.crs)
    elif kind == "buildings":
        use = _text(buildings, "building")
        residential = buildings[use.isin(_RESIDENTIAL)]
        label = "residential"
        if len(residential) < min_residential:
            log.info(
                "%d residential buildings (< %d): every building is an origin",
                len(residential),
                min_residential,
            )
            residential, label = buildings, "building"
        ref = _text(residential, "osm_id") if "osm_id" in residential else residential.index
        frame = gpd.GeoDataFrame(
            {"kind": label, "ref": pd.Series(ref).astype(str).to_numpy()},
            geometry=_points(residential).to_numpy(),
            crs=buildings.crs,
        )
    else:
        raise ValueError(f"origins kind must be 'buildings' or 'hex', got {kind!r}")
    frame.insert(0, "origin_id", np.arange(len(frame)))
    return frame.reset_index(drop=True)


# ---------------------------------------------------------------- connectivity


def _reach_counts(
    csr: sparse.csr_matrix,
    sources: np.ndarray,
    dest_nodes: np.ndarray,
    dest_cat: np.ndarray,
    n_cat: int,
    limit: float,
    chunk: int = 256,
) -> np.ndarray:
    """Destinations of each category within ``limit`` of each source node: (sources, n_cat)."""
    onehot = np.zeros((len(dest_nodes), n_cat))
    onehot[np.arange(len(dest_nodes)), dest_cat] = 1.0
    out = np.zeros((len(sources), n_cat))
    for start in range(0, len(sources), chunk):
        block = sources[start : start + chunk]
        dist = csgraph.dijkstra(csr, directed=True, indices=block, limit=limit)
        out[start : start + len(block)] = np.isfinite(dist[:, dest_nodes]) @ onehot
    return out


def connectivity(
    graph: nx.MultiDiGraph,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    threshold: int = 2,
    bikeshed_m: float = 2500.0,
) -> gpd.GeoDataFrame:
    """Share of destinations within the bike-shed that low-stress routes reach, per origin.

    In the spirit of the PeopleForBikes Bicycle Network Analysis: for each
    category, destinations reachable within ``bikeshed_m`` on low-stress
    routes (every edge at LTS <= ``threshold``) divided by those reachable on
    any legal route.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Bike graph (scored by :func:`add_lts`, or scored here with defaults).
    origins, destinations : GeoDataFrame
        From :func:`origins` and :func:`destinations` (``category`` column).
    threshold : int, default 2
        Highest stress level that counts as low (1-4).
    bikeshed_m : float, default 2500
        Longest route counted (m).

    Returns
    -------
    GeoDataFrame
        ``origins`` with ``low_<category>`` / ``any_<category>`` counts per
        category and ``score`` (mean over categories with any reachable
        destination of the low/any share, 0-1; NaN when nothing is
        reachable). ``attrs["district_score"]`` is the share of all
        origin-destination pairs within reach that low-stress routes connect.

    Raises
    ------
    ValueError
        If ``threshold`` is not 1-4 or ``bikeshed_m`` not positive.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> scores = connectivity(layers.bike_graph, origins(layers.buildings),
    ...                       destinations(layers.pois, layers.transit_stops))
    >>> 0 < scores.attrs["district_score"] <= 1
    True
    """
    _check_threshold(threshold)
    if not bikeshed_m > 0:
        raise ValueError(f"bikeshed_m must be positive, got {bikeshed_m!r}")
    _validate.projected_frame(origins, what="origins")
    _validate.projected_frame(destinations, what="destinations")
    net = _net(graph)
    cats = list(DESTINATION_CATEGORIES)
    o_nodes, _ = _snap(net, origins.geometry)
    d_nodes, _ = _snap(net, destinations.geometry)
    d_cat = destinations["category"].map({c: i for i, c in enumerate(cats)}).to_numpy()
    if np.isnan(d_cat.astype(float)).any():
        bad = sorted(set(destinations["category"]) - set(cats))
        raise ValueError(f"unknown destination categories {bad!r}; expected one of {cats!r}")
    d_cat = d_cat.astype(int)
    low = net.lts <= threshold
    uniq, inverse = np.unique(o_nodes, return_inverse=True)
    full = _csr(net.n, net.u, net.v, net.length)
    low_csr = _csr(net.n, net.u[low], net.v[low], net.length[low])
    any_counts = _reach_counts(full, uniq, d_nodes, d_cat, len(cats), bikeshed_m)[inverse]
    low_counts = _reach_counts(low_csr, uniq, d_nodes, d_cat, len(cats), bikeshed_m)[inverse]
    out = origins.copy()
    for i, c in enumerate(cats):
        out[f"low_{c}"] = low_counts[:, i].astype(int)
        out[f"any_{c}"] = any_counts[:, i].astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(any_counts > 0, low_counts / any_counts, np.nan)
    valid = ~np.isnan(share)
    out["score"] = np.where(
        valid.any(axis=1), np.nansum(share, axis=1) / np.maximum(valid.sum(axis=1), 1), np.nan
    ).round(4)
    total_any = any_counts.sum()
    out.attrs["district_score"] = float(low_counts.sum() / total_any) if total_any else math.nan
    out.attrs["pairs_low"] = int(low_counts.sum())
    out.attrs["pairs_any"] = int(total_any)
    return out


def _check_threshold(threshold: int) -> None:
    if threshold not in (1, 2, 3, 4):
        raise ValueError(f"LTS threshold must be 1, 2, 3 or 4, got {threshold!r}")


# ------------------------------------------------------------------- islands


def _components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    adj = sparse.csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    return csgraph.connected_components(adj, directed=False)[1]


def low_stress_islands(
    graph: nx.MultiDiGraph,
    *,
    threshold: int = 2,
    destinations: gpd.GeoDataFrame | None = None,
    origins: gpd.GeoDataFrame | None = None,
    buffer_m: float = 25.0,
    min_length_m: float = 100.0,
) -> gpd.GeoDataFrame:
    """Connected components of the low-stress network, as polygons.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Bike graph (scored by :func:`add_lts`, or scored here with defaults).
    threshold : int, default 2
        Highest stress level that counts as low.
    destinations, origins : GeoDataFrame, optional
        Counted inside each island (by their nearest node).
    buffer_m : float, default 25
        Buffer around the island's streets that makes its polygon (m).
    min_length_m : float, default 100
        Islands with less street length (m) are left out.

    Returns
    -------
    GeoDataFrame
        One polygon per island, largest first: ``island_id`` (1 = longest),
        ``length_m`` (street length, each street once), ``n_edges``,
        ``n_nodes``, ``n_units`` (commerce destinations), ``n_<category>`` per
        destination category, ``n_destinations``, ``n_origins``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> g = gd.load_base_layers(gd.load_config("config/sample.yml")).bike_graph
    >>> islands = low_stress_islands(g)
    >>> bool(islands["length_m"].is_monotonic_decreasing), int(islands["island_id"].iloc[0])
    (True, 1)
    """
    _check_threshold(threshold)
    net = _net(graph)
    crs = graph.graph["crs"]
    low = net.lts <= threshold
    labels = _components(net.n, net.u[low], net.v[low])
    edge_comp = labels[net.u[low]]
    streets = pd.DataFrame(
        {"comp": edge_comp, "street": net.street[low], "length": net.length[low]}
    ).drop_duplicates(["comp", "street"])
    length = streets.groupby("comp")["length"].sum()
    keep = length[length >= min_length_m].sort_values(ascending=False)
    node_counts = pd.Series(labels).value_counts()
    dest_node = _snap(net, destinations.geometry)[0] if destinations is not None else None
    orig_node = _snap(net, origins.geometry)[0] if origins is not None else None
    rows = []
    low_geoms = net.geoms[low]
    for rank, (comp, total) in enumerate(keep.items(), start=1):
        mask = edge_comp == comp
        polygon = shapely.union_all(shapely.buffer(low_geoms[mask], buffer_m))
        row: dict[str, Any] = {
            "island_id": rank,
            "length_m": round(float(total), 1),
            "n_edges": int((streets["comp"].to_numpy() == comp).sum()),
            "n_nodes": int(node_counts.get(comp, 0)),
        }
        if destinations is not None and dest_node is not None:
            inside = destinations["category"].to_numpy()[labels[dest_node] == comp]
            for cat in DESTINATION_CATEGORIES:
                row[f"n_{cat}"] = int((inside == cat).sum())
            row["n_units"] = row["n_commerce"]
            row["n_destinations"] = len(inside)
        if origins is not None and orig_node is not None:
            row["n_origins"] = int((labels[orig_node] == comp).sum())
        row["geometry"] = polygon
        rows.append(row)
    if not rows:
        return gpd.GeoDataFrame({"island_id": pd.Series(dtype=int)}, geometry=[], crs=crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


# ---------------------------------------------------------------- missing links


def _pairs_through(
    dist_to_a: np.ndarray,
    dist_from_b: np.ndarray,
    w: float,
    o_nodes: np.ndarray,
    o_weight: np.ndarray,
    d_nodes: np.ndarray,
    limit: float,
) -> float:
    """Origin-destination pairs whose route o -> a -(w)- b -> d is within ``limit``."""
    r = dist_to_a[o_nodes]
    s = np.sort(dist_from_b[d_nodes])
    ok = np.isfinite(r)
    if not ok.any() or not np.isfinite(s).any():
        return 0.0
    counts = np.searchsorted(s, limit - w - r[ok], side="right")
    return float((counts * o_weight[ok]).sum())


def missing_links(
    graph: nx.MultiDiGraph,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    threshold: int = 2,
    bikeshed_m: float = 2500.0,
    max_connector_m: float = 150.0,
    n_links: int = 10,
    min_cost_m: float = 25.0,
) -> gpd.GeoDataFrame:
    """Rank network improvements by a greedy sequence with re-evaluation after each pick.

    Candidates are (a) upgrading a high-stress street (both directions
    allowed to cyclists) to low stress, and (b) a new straight connector of at
    most ``max_connector_m`` between the closest nodes of two low-stress
    islands (not already joined by a street). A candidate's benefit is the
    number of origin-destination pairs (each origin once, each destination
    once) newly reachable within ``bikeshed_m`` on low-stress routes. The best
    benefit per metre of cost is picked, the network is updated and every
    candidate re-scored, so benefits shrink down the ranking.

    Only candidates joining two different islands are considered: upgrades
    inside an island only shorten routes. Connectors are straight lines;
    whether they can be built (buildings, water, rails) is not checked.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Bike graph (scored by :func:`add_lts`, or scored here with defaults).
    origins, destinations : GeoDataFrame
        From :func:`origins` and :func:`destinations`.
    threshold : int, default 2
        Highest stress level that counts as low.
    bikeshed_m : float, default 2500
        Longest route counted (m).
    max_connector_m : float, default 150
        Longest new connector (m).
    n_links : int, default 10
        Most links picked; the sequence stops early when nothing helps.
    min_cost_m : float, default 25
        Floor of the cost proxy when ranking, so that a 2-metre connector
        (often a mapping gap or a kerb) does not win on cost alone.

    Returns
    -------
    GeoDataFrame
        Lines, in pick order: ``rank``, ``kind`` (``upgrade`` / ``connector``),
        ``osmid``, ``name``, ``highway``, ``lts_before``, ``cost_m`` (length),
        ``benefit`` (new low-stress pairs), ``benefit_per_km``,
        ``cumulative_benefit``, ``low_stress_share`` (district share of pairs
        within reach connected at low stress after this pick).

    Raises
    ------
    ValueError
        If an option is out of range.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> gaps = missing_links(layers.bike_graph, origins(layers.buildings),
    ...                      destinations(layers.pois, layers.transit_stops), n_links=3)
    >>> gaps["rank"].tolist(), bool(gaps["cumulative_benefit"].is_monotonic_increasing)
    ([1, 2, 3], True)
    """
    _check_threshold(threshold)
    for name, value in (("bikeshed_m", bikeshed_m), ("max_connector_m", max_connector_m)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
    if n_links < 1:
        raise ValueError(f"n_links must be at least 1, got {n_links!r}")
    net = _net(graph)
    crs = graph.graph["crs"]
    o_all, _ = _snap(net, origins.geometry)
    d_nodes, _ = _snap(net, destinations.geometry)
    o_nodes, o_weight = np.unique(o_all, return_counts=True)
    o_count = np.bincount(o_nodes, weights=o_weight, minlength=net.n)
    d_count = np.bincount(d_nodes, minlength=net.n).astype(float)
    full = _csr(net.n, net.u, net.v, net.length)
    low = net.lts <= threshold
    eu, ev, ew = net.u[low], net.v[low], net.length[low]

    def low_pairs(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> float:
        counts = _reach_counts(
            _csr(net.n, u, v, w),
            o_nodes,
            d_nodes,
            np.zeros(len(d_nodes), dtype=int),
            1,
            bikeshed_m,
        )
        return float((counts[:, 0] * o_weight).sum())

    pairs_any = float(
        (
            _reach_counts(
                full, o_nodes, d_nodes, np.zeros(len(d_nodes), dtype=int), 1, bikeshed_m
            )[:, 0]
            * o_weight
        ).sum()
    )
    pairs_low = low_pairs(eu, ev, ew)

    # Upgrade candidates: high-stress streets with their allowed directions.
    high = np.flatnonzero(~low)
    upgrades: dict[int, list[int]] = {}
    for e in high:
        upgrades.setdefault(int(net.street[e]), []).append(int(e))
    cand_edges: list[list[tuple[int, int, float]]] = []
    cand_meta: list[dict[str, Any]] = []
    for edges in upgrades.values():
        e0 = edges[0]
        if net.u[e0] == net.v[e0]:
            continue
        cand_edges.append([(int(net.u[e]), int(net.v[e]), float(net.length[e])) for e in edges])
        cand_meta.append(
            {
                "kind": "upgrade",
                "osmid": net.info.at[e0, "osmid"],
                "name": net.info.at[e0, "name"],
                "highway": net.info.at[e0, "highway"],
                "lts_before": int(net.lts[edges].max()),
                "cost_m": float(net.length[e0]),
                "geometry": net.geoms[e0],
            }
        )
    # Connector candidates: close node pairs not joined by any street.
    linked = set(
        zip(np.minimum(net.u, net.v).tolist(), np.maximum(net.u, net.v).tolist(), strict=True)
    )
    pairs = cKDTree(net.xy).query_pairs(max_connector_m, output_type="ndarray")
    if len(pairs):
        keep = [(int(a), int(b)) not in linked for a, b in pairs]
        pairs = pairs[np.array(keep, dtype=bool)]
    gap = np.linalg.norm(net.xy[pairs[:, 0]] - net.xy[pairs[:, 1]], axis=1) if len(pairs) else []
    n_upgrades = len(cand_edges)
    for (a, b), dist in zip(pairs.tolist() if len(pairs) else [], gap, strict=True):
        w = max(float(dist), 0.01)
        cand_edges.append([(a, b, w), (b, a, w)])
        cand_meta.append(
            {
                "kind": "connector",
                "osmid": None,
                "name": None,
                "highway": None,
                "lts_before": None,
                "cost_m": w,
                "geometry": LineString([net.xy[a], net.xy[b]]),
            }
        )
    ends = np.array([[c[0][0], c[0][1]] for c in cand_edges], dtype=np.int64).reshape(-1, 2)
    cost = np.maximum(np.array([m["cost_m"] for m in cand_meta], dtype=float), min_cost_m)
    is_connector = np.arange(len(cand_edges)) >= n_upgrades

    picks: list[dict[str, Any]] = []
    cumulative = 0.0
    while len(picks) < n_links and len(cand_edges):
        labels = _components(net.n, eu, ev)
        ca, cb = labels[ends[:, 0]], labels[ends[:, 1]]
        o_comp = np.bincount(labels, weights=o_count)
        d_comp = np.bincount(labels, weights=d_count)
        bound = o_comp[ca] * d_comp[cb] + o_comp[cb] * d_comp[ca]
        valid = (ca != cb) & (bound > 0)
        # Among connectors keep the shortest per pair of islands.
        conn = np.flatnonzero(valid & is_connector)
        if len(conn):
            key = np.minimum(ca[conn], cb[conn]) * net.n + np.maximum(ca[conn], cb[conn])
            order = conn[np.lexsort((cost[conn], key))]
            first = np.ones(len(order), dtype=bool)
            sorted_key = np.minimum(ca[order], cb[order]) * net.n + np.maximum(
                ca[order], cb[order]
            )
            first[1:] = sorted_key[1:] != sorted_key[:-1]
            valid[conn] = False
            valid[order[first]] = True
        idx = np.flatnonzero(valid)
        if not len(idx):
            break
        low_csr = _csr(net.n, eu, ev, ew)
        low_t = low_csr.T.tocsr()
        ratio_bound = bound[idx] / cost[idx]
        best, best_ratio, best_benefit = -1, 0.0, 0.0
        for i in idx[np.argsort(-ratio_bound)]:
            if bound[i] / cost[i] <= best_ratio:
                break  # lazy evaluation: no remaining candidate can beat the best
            benefit = 0.0
            for a, b, w in cand_edges[i]:
                to_a = csgraph.dijkstra(low_t, indices=a, limit=bikeshed_m)
                from_b = csgraph.dijkstra(low_csr, indices=b, limit=bikeshed_m)
                benefit += _pairs_through(to_a, from_b, w, o_nodes, o_weight, d_nodes, bikeshed_m)
            if benefit / cost[i] > best_ratio:
                best, best_ratio, best_benefit = int(i), benefit / cost[i], benefit
        if best < 0:
            break
        cumulative += best_benefit
        new = cand_edges[best]
        eu = np.concatenate([eu, [a for a, _, _ in new]])
        ev = np.concatenate([ev, [b for _, b, _ in new]])
        ew = np.concatenate([ew, [w for _, _, w in new]])
        share = min((pairs_low + cumulative) / pairs_any, 1.0) if pairs_any else math.nan
        picks.append(
            {
                "rank": len(picks) + 1,
                **cand_meta[best],
                "benefit": best_benefit,
                "benefit_per_km": round(best_ratio * 1000, 2),
                "cumulative_benefit": cumulative,
                "low_stress_share": round(share, 4),
            }
        )
        log.debug("gap %d: %s, benefit %.0f", len(picks), cand_meta[best]["kind"], best_benefit)
    columns = [
        "rank",
        "kind",
        "osmid",
        "name",
        "highway",
        "lts_before",
        "cost_m",
        "benefit",
        "benefit_per_km",
        "cumulative_benefit",
        "low_stress_share",
        "geometry",
    ]
    if not picks:
        return gpd.GeoDataFrame(pd.DataFrame(columns=columns), geometry="geometry", crs=crs)
    out = gpd.GeoDataFrame(pd.DataFrame(picks)[columns], geometry="geometry", crs=crs)
    out["cost_m"] = out["cost_m"].round(1)
    out["lts_before"] = out["lts_before"].astype("Int8")
    out.attrs["low_stress_share_before"] = pairs_low / pairs_any if pairs_any else math.nan
    return out


# ------------------------------------------------------------- places, circuit


def poi_centres(
    pois: gpd.GeoDataFrame, *, n: int = 3, eps_m: float = 75.0, min_units: int = 10
) -> gpd.GeoDataFrame:
    """The densest clusters of shops and food POIs, as a stand-in for retail centres.

    DBSCAN on the live (not vacant) shop and food-and-drink POIs: points with at
    least ``min_units`` others within ``eps_m`` seed a cluster.

    Parameters
    ----------
    pois : GeoDataFrame
        The ``pois`` base layer (projected).
    n : int, default 3
        Most clusters returned, the largest first.
    eps_m : float, default 75
        Neighbourhood radius (m).
    min_units : int, default 10
        Fewest POIs that make a cluster.

    Returns
    -------
    GeoDataFrame
        Polygons (convex hull buffered by ``eps_m / 2``) with ``centre_id``,
        ``name`` and ``n_units``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> centres = poi_centres(gd.load_base_layers(gd.load_config("config/sample.yml")).pois)
    >>> len(centres), bool(centres["n_units"].is_monotonic_decreasing)
    (3, True)
    """
    from sklearn.cluster import DBSCAN

    _validate.projected_frame(pois, what="pois")
    dest = destinations(pois, pois.iloc[:0].assign(kind=pd.Series(dtype=object)))
    units = dest[dest["category"] == "commerce"]
    if len(units) < min_units:
        return gpd.GeoDataFrame(
            {
                "centre_id": pd.Series(dtype=int),
                "name": pd.Series(dtype=object),
                "n_units": pd.Series(dtype=int),
            },
            geometry=[],
            crs=pois.crs,
        )
    xy = np.column_stack([units.geometry.x, units.geometry.y])
    labels = DBSCAN(eps=eps_m, min_samples=min_units).fit_predict(xy)
    sizes = pd.Series(labels[labels >= 0]).value_counts().head(n)
    rows = []
    for rank, (label, size) in enumerate(sizes.items(), start=1):
        hull = shapely.MultiPoint(xy[labels == label]).convex_hull.buffer(eps_m / 2)
        rows.append(
            {
                "centre_id": rank,
                "name": f"POI cluster {rank}",
                "n_units": int(size),
                "geometry": hull,
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=pois.crs)


def key_places(
    pois: gpd.GeoDataFrame,
    transit_stops: gpd.GeoDataFrame,
    *,
    centres: gpd.GeoDataFrame | None = None,
    max_places: int = 8,
    n_centres: int = 3,
) -> gpd.GeoDataFrame:
    """Places a district circuit should join: centres, stations, town hall, parks.

    Parameters
    ----------
    pois, transit_stops : GeoDataFrame
        Base layers (projected).
    centres : GeoDataFrame, optional
        Retail centres (e.g. the commerce step's ``retail_centres``); when
        missing or empty, :func:`poi_centres` stands in.
    max_places : int, default 8
        Most places kept: centres first, then stations and the town hall,
        then parks, nearest to the centres first.
    n_centres : int, default 3
        Most centres used: the first by ``rank`` (or most ``n_units``) of
        ``centres``, else the largest POI clusters.

    Returns
    -------
    GeoDataFrame
        Points with ``place_id``, ``name``, ``kind`` (``centre``, ``station``,
        ``townhall``, ``park``) and ``priority`` (1 highest).

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> places = key_places(layers.pois, layers.transit_stops)
    >>> places["kind"].iloc[0], len(places) <= 8
    ('centre', True)
    """
    _validate.projected_frame(pois, what="pois")
    crs = pois.crs
    if centres is None or len(centres) == 0:
        centres = poi_centres(pois, n=n_centres)
    elif "rank" in centres:
        centres = centres.sort_values("rank", kind="stable")
    elif "n_units" in centres:
        centres = centres.sort_values("n_units", ascending=False, kind="stable")
    centres = centres.head(n_centres).to_crs(crs)
    name_col = next((c for c in ("name", "centre_name", "label") if c in centres), None)
    rows: list[dict[str, Any]] = []
    for i, (geom, name) in enumerate(
        zip(
            _points(centres), centres[name_col] if name_col else [None] * len(centres), strict=True
        ),
        start=1,
    ):
        rows.append(
            {
                "name": name if _present(name) else f"Centre {i}",
                "kind": "centre",
                "priority": 1,
                "geometry": geom,
            }
        )
    stations = transit_stops[_text(transit_stops, "kind") == "station"].to_crs(crs)
    seen: set[str] = set()
    for geom, name in zip(_points(stations), _text(stations, "name"), strict=True):
        key = name or f"{geom.x:.0f},{geom.y:.0f}"
        if key not in seen:
            seen.add(key)
            rows.append(
                {
                    "name": name.title() if name else "Station",
                    "kind": "station",
                    "priority": 2,
                    "geometry": geom,
                }
            )
    for kind, mask, priority in (
        ("townhall", _text(pois, "amenity") == "townhall", 2),
        ("park", _text(pois, "leisure") == "park", 3),
    ):
        chosen = pois[mask]
        for geom, name in zip(_points(chosen), _text(chosen, "name"), strict=True):
            rows.append(
                {
                    "name": name.title() if name else kind.title(),
                    "kind": kind,
                    "priority": priority,
                    "geometry": geom,
                }
            )
    if not rows:
        return gpd.GeoDataFrame(
            {
                "place_id": pd.Series(dtype=int),
                "name": pd.Series(dtype=object),
                "kind": pd.Series(dtype=object),
                "priority": pd.Series(dtype=int),
            },
            geometry=[],
            crs=crs,
        )
    places = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    anchor = places[places["kind"] == "centre"].geometry.union_all()
    if anchor.is_empty:
        anchor = places.geometry.union_all()
    places["_d"] = places.distance(anchor.centroid)
    places = places.sort_values(["priority", "_d"], kind="stable").head(max_places)
    places = places.drop(columns="_d").reset_index(drop=True)
    places.insert(0, "place_id", np.arange(1, len(places) + 1))
    return places


def _path(pred: np.ndarray, source: int, target: int) -> list[int]:
    nodes = [target]
    while nodes[-1] != source:
        prev = int(pred[nodes[-1]])
        if prev < 0:
            return []
        nodes.append(prev)
    return nodes[::-1]


def circuit(
    graph: nx.MultiDiGraph,
    places: gpd.GeoDataFrame,
    *,
    max_km: float = 15.0,
    threshold: int = 2,
    stress_penalty: float = 1.0,
) -> gpd.GeoDataFrame:
    """A closed cycling loop joining key places, preferring low-stress streets.

    Places are snapped to the largest strongly connected part of the bike
    network; the visiting order is a nearest-neighbour tour improved by 2-opt
    on stress-weighted route costs (length x (1 + ``stress_penalty`` x levels
    above ``threshold``)); legs are then routed one after the other, with
    streets already used made three times as costly so the loop does not
    retrace itself. While the loop is longer than ``max_km`` the place of
    lowest priority (farthest from the centres among equals) is dropped.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Bike graph (scored by :func:`add_lts`, or scored here with defaults).
    places : GeoDataFrame
        From :func:`key_places` (``name``, ``kind``, ``priority``).
    max_km : float, default 15
        Longest loop (km).
    threshold : int, default 2
        Highest stress level that counts as low.
    stress_penalty : float, default 1
        Extra cost per stress level above the threshold.

    Returns
    -------
    GeoDataFrame
        One line per leg, in order: ``leg``, ``from_stop``, ``to_stop``,
        ``from_kind``, ``length_m``, ``low_stress_share`` (share of the leg's
        length at LTS <= threshold), ``cum_length_m``; ``circuit_length_m``
        and ``stops`` (the stops in order, '>'-separated) repeat on each leg.
        The last leg ends where the first starts.

    Raises
    ------
    EmptyAreaError
        If fewer than two distinct places can be reached.
    ConfigError
        If no loop through two places fits within ``max_km``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> legs = circuit(layers.bike_graph, key_places(layers.pois, layers.transit_stops))
    >>> first = legs.geometry.iloc[0].coords[0]; last = legs.geometry.iloc[-1].coords[-1]
    >>> first == last, float(legs["circuit_length_m"].iloc[0]) <= 15000
    (True, True)
    """
    _check_threshold(threshold)
    if not max_km > 0:
        raise ValueError(f"max_km must be positive, got {max_km!r}")
    net = _net(graph)
    crs = graph.graph["crs"]
    full = _csr(net.n, net.u, net.v, np.ones(len(net.u)))
    _, scc = csgraph.connected_components(full, directed=True, connection="strong")
    main = np.bincount(scc).argmax() if net.n else 0
    inside = np.flatnonzero(scc == main)
    if len(places) == 0 or len(inside) < 2:
        raise EmptyAreaError("no key places or no connected bike network for a circuit")
    _validate.projected_frame(places, what="places")
    tree = cKDTree(net.xy[inside])
    _, near = tree.query(np.column_stack([places.geometry.x, places.geometry.y]))
    stops = places.assign(_node=inside[near]).drop_duplicates("_node").reset_index(drop=True)
    if len(stops) < 2:
        raise EmptyAreaError(f"the key places snap to {len(stops)} network node(s); need 2")
    cost = net.length * (1.0 + stress_penalty * np.maximum(net.lts.astype(float) - threshold, 0))
    low = net.lts <= threshold

    # Cheapest edge of each (u, v) pair, looked up when turning node paths into edges.
    order_e = np.lexsort((cost, net.v, net.u))
    best_edge = {}
    for e in order_e[::-1].tolist():
        best_edge[(int(net.u[e]), int(net.v[e]))] = e

    def route(order: list[int]) -> tuple[list[list[int]], float]:
        """Edges of each leg, and the total length, with reuse penalties."""
        weight = cost.copy()
        legs: list[list[int]] = []
        total = 0.0
        for k in range(len(order)):
            a = int(stops.at[order[k], "_node"])
            b = int(stops.at[order[(k + 1) % len(order)], "_node"])
            csr = _csr(net.n, net.u, net.v, weight)
            _, pred = csgraph.dijkstra(csr, indices=a, return_predecessors=True)
            nodes = _path(pred, a, b)
            edges = [best_edge[(x, y)] for x, y in itertools.pairwise(nodes)]
            # Streets already ridden cost three times as much for the next legs.
            weight[np.isin(net.street, net.street[edges])] *= 3.0
            legs.append(edges)
            total += float(net.length[edges].sum())
        return legs, total

    while True:
        nodes = stops["_node"].to_numpy()
        csr = _csr(net.n, net.u, net.v, cost)
        matrix = csgraph.dijkstra(csr, indices=nodes)[:, nodes]
        order = _tour(matrix)
        legs, total = route(order)
        if total <= max_km * 1000 or len(stops) <= 2:
            break
        drop = stops.sort_values(["priority", "place_id"], kind="stable").index[-1]
        stops = stops.drop(index=drop).reset_index(drop=True)
    if total > max_km * 1000:
        raise ConfigError(
            f"cycling.circuit_max_km={max_km!r} is too short: the shortest loop through two key "
            f"places is {total / 1000:.2f} km"
        )
    names = [str(stops.at[i, "name"]) for i in order]
    rows, cum = [], 0.0
    for k, edges in enumerate(legs):
        coords: list[tuple[float, float]] = []
        for e in edges:
            part = list(net.geoms[e].coords)
            coords.extend(part if not coords else part[1:])
        length = float(net.length[edges].sum())
        cum += length
        low_len = float(net.length[edges][low[edges]].sum())
        rows.append(
            {
                "leg": k + 1,
                "from_stop": names[k],
                "to_stop": names[(k + 1) % len(names)],
                "from_kind": str(stops.at[order[k], "kind"]),
                "length_m": round(length, 1),
                "low_stress_share": round(low_len / length, 3) if length else 1.0,
                "cum_length_m": round(cum, 1),
                "geometry": LineString(coords) if len(coords) >= 2 else None,
            }
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    out = out[out.geometry.notna()].reset_index(drop=True)
    out.insert(0, "circuit", 1)
    out["circuit_length_m"] = round(total, 1)
    out["stops"] = " > ".join([*names, names[0]])
    return out


def _tour(matrix: np.ndarray) -> list[int]:
    """Nearest-neighbour tour from stop 0, improved by 2-opt (asymmetric costs)."""
    n = len(matrix)
    m = np.where(np.isfinite(matrix), matrix, 1e12)
    order, left = [0], set(range(1, n))
    while left:
        nxt = min(left, key=lambda j: m[order[-1], j])
        order.append(nxt)
        left.remove(nxt)

    def length(o: Sequence[int]) -> float:
        return float(sum(m[o[i], o[(i + 1) % n]] for i in range(n)))

    improved = True
    while improved:
        improved = False
        for i in range(1, n - 1):
            for j in range(i + 1, n):
                trial = order[:i] + order[i : j + 1][::-1] + order[j + 1 :]
                if length(trial) < length(order) - 1e-9:
                    order, improved = trial, True
    return order


def info_points(
    legs: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    *,
    k: int = 5,
    radius_m: float = 200.0,
    spacing_m: float = 100.0,
    method: Literal["auto", "greedy"] = "auto",
) -> gpd.GeoDataFrame:
    """Sites for ``k`` digital information totems covering the circuit and key places.

    A maximal covering location problem (spopt ``MCLP``, solved with the CBC
    solver that ships inside PuLP): demand points every ``spacing_m`` along
    the circuit (weight 1) and the key places (weight 10 for centres, 5 for
    the others); candidate sites are the same points. A demand point is
    covered within ``radius_m`` (straight-line). When the solver is not
    available, a greedy heuristic (repeatedly take the site covering the most
    uncovered weight) is used instead; ``solver`` says which.

    Parameters
    ----------
    legs : GeoDataFrame
        The circuit from :func:`circuit`.
    places : GeoDataFrame
        Key places (``name``, ``kind``).
    k : int, default 5
        Number of totems.
    radius_m : float, default 200
        Distance a totem covers (m).
    spacing_m : float, default 100
        Spacing of demand points along the circuit (m).
    method : {"auto", "greedy"}, default "auto"
        ``auto``: the exact MCLP, falling back to greedy; ``greedy``: always
        the heuristic.

    Returns
    -------
    GeoDataFrame
        Points: ``point_id``, ``covered_weight``, ``covered_share`` (of all
        demand weight, cumulative over the chosen sites), ``near`` (closest
        key place), ``on_circuit``, ``solver``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> places = key_places(layers.pois, layers.transit_stops)
    >>> pts = info_points(circuit(layers.bike_graph, places), places, k=3)
    >>> len(pts), bool(pts["covered_share"].max() <= 1)
    (3, True)
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}")
    if method not in ("auto", "greedy"):
        raise ValueError(f"method must be 'auto' or 'greedy', got {method!r}")
    if not radius_m > 0 or not spacing_m > 0:
        raise ValueError(
            f"radius_m and spacing_m must be positive, got {radius_m!r}, {spacing_m!r}"
        )
    _validate.projected_frame(legs, what="circuit")
    crs = legs.crs
    line = shapely.line_merge(shapely.union_all(legs.geometry.to_numpy()))
    samples: list[Point] = []
    for geom in legs.geometry:
        steps = np.arange(0.0, geom.length, spacing_m)
        samples.extend(shapely.line_interpolate_point(geom, steps).tolist())
    place_pts = _points(places.to_crs(crs)) if len(places) else gpd.GeoSeries([], crs=crs)
    demand = samples + list(place_pts)
    weights = np.array(
        [1.0] * len(samples) + [10.0 if kd == "centre" else 5.0 for kd in places.get("kind", [])]
    )
    xy = np.array([(p.x, p.y) for p in demand])
    cost = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)  # clients x sites
    k = min(k, len(demand))
    chosen, solver = _mclp(cost, weights, radius_m, k, method)
    covered = np.zeros(len(demand), dtype=bool)
    rows = []
    for rank, site in enumerate(chosen, start=1):
        newly = (cost[:, site] <= radius_m) & ~covered
        covered |= newly
        nearest = ""
        if len(places):
            d = place_pts.distance(demand[site]).to_numpy()
            nearest = str(places["name"].iloc[int(np.argmin(d))])
        rows.append(
            {
                "point_id": rank,
                "covered_weight": float(weights[newly].sum()),
                "covered_share": round(float(weights[covered].sum() / weights.sum()), 4),
                "near": nearest,
                "on_circuit": bool(line.distance(demand[site]) < 1.0),
                "solver": solver,
                "geometry": demand[site],
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def _mclp(
    cost: np.ndarray, weights: np.ndarray, radius: float, k: int, method: str
) -> tuple[list[int], str]:
    """Sites chosen by spopt's MCLP with CBC, or greedily; ordered by marginal coverage."""
    cover = cost <= radius
    chosen: list[int] = []
    used = "greedy"
    if method == "auto":
        try:
            import warnings

            import pulp
            from spopt.locate import MCLP

            with warnings.catch_warnings():
                # PuLP 3 deprecates the bundled-CBC API that it still ships and uses.
                warnings.simplefilter("ignore", DeprecationWarning)
                solver = pulp.PULP_CBC_CMD(msg=False)
                if not solver.available():
                    raise RuntimeError("PuLP's bundled CBC solver is not available")
                model = MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=k)
                model.solve(solver)
            chosen = [i for i, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]
            used = "spopt MCLP (CBC)"
        except Exception as exc:  # any solver failure: fall back, and say so
            log.warning("MCLP solver failed (%s); using the greedy heuristic", exc)
            chosen = []
    pool = chosen if len(chosen) == k else list(range(len(weights)))
    if len(chosen) != k:
        used = "greedy"
    left = np.ones(len(weights), dtype=bool)
    picks: list[int] = []
    for _ in range(k):
        gain = (cover[:, pool] & left[:, None]).T @ weights
        gain[[pool.index(p) for p in picks]] = -1
        best = pool[int(np.argmax(gain))]
        picks.append(best)
        left &= ~cover[:, best]
    return picks, used


# ------------------------------------------------------------------ isochrones


class _Raster:
    """A grid over some points that turns a subset of them into buffered polygons."""

    def __init__(self, xy: np.ndarray, cell: float, buffer: float) -> None:
        pad = buffer + 2 * cell
        self.x0, self.y1 = xy[:, 0].min() - pad, xy[:, 1].max() + pad
        self.cell = cell
        self.shape = (
            int(np.ceil((self.y1 - xy[:, 1].min() + pad) / cell)) + 1,
            int(np.ceil((xy[:, 0].max() + pad - self.x0) / cell)) + 1,
        )
        r = int(np.ceil(buffer / cell))
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        self.disk = (xx**2 + yy**2) * cell**2 <= buffer**2

    def polygon(self, xy: np.ndarray) -> Any:
        from rasterio import features
        from rasterio.transform import from_origin
        from scipy import ndimage

        grid = np.zeros(self.shape, dtype=bool)
        rows = np.clip(((self.y1 - xy[:, 1]) / self.cell).astype(int), 0, self.shape[0] - 1)
        cols = np.clip(((xy[:, 0] - self.x0) / self.cell).astype(int), 0, self.shape[1] - 1)
        grid[rows, cols] = True
        grid = ndimage.binary_dilation(grid, structure=self.disk)
        transform = from_origin(self.x0, self.y1, self.cell, self.cell)
        shapes = features.shapes(grid.astype(np.uint8), mask=grid, transform=transform)
        return shapely.union_all([shapely.geometry.shape(g) for g, _ in shapes])


def isochrones(
    graphs: Mapping[str, nx.MultiDiGraph],
    sources: gpd.GeoDataFrame,
    *,
    minutes: Iterable[int] = (5, 10, 15),
    speeds_kmh: Mapping[str, float] | None = None,
    threshold: int = 2,
    buffer_m: float = 30.0,
    cell_m: float = 10.0,
) -> gpd.GeoDataFrame:
    """Areas reached within given minutes from each source, by mode.

    The streets reached (edges cut where the time runs out) are sampled every
    ``cell_m``, marked on a ``cell_m`` grid, dilated by ``buffer_m`` and turned
    into polygons: a raster buffer, much faster than unioning line buffers and
    accurate to about one cell.

    Parameters
    ----------
    graphs : mapping
        Graph per mode: ``"walk"``, ``"bike"``; a ``"bike"`` graph also gives
        ``"bike_low_stress"`` (only edges at LTS <= ``threshold``).
    sources : GeoDataFrame
        Points (or polygons, taken at a point inside) with ``name`` and ``kind``.
    minutes : iterable of int, default (5, 10, 15)
        Travel times.
    speeds_kmh : mapping, optional
        Speed per mode (default walk 4.8, bike 15 km/h).
    threshold : int, default 2
        Highest stress level that counts as low.
    buffer_m : float, default 30
        Buffer around the reached streets (m).
    cell_m : float, default 10
        Grid cell and sampling step (m).

    Returns
    -------
    GeoDataFrame
        Polygons: ``source``, ``source_kind``, ``mode``, ``minutes``,
        ``speed_kmh``, ``distance_m``, ``area_ha``. Isochrones are nested (the
        10-minute area contains the 5-minute one).

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> src = key_places(layers.pois, layers.transit_stops).head(1)
    >>> iso = isochrones({"walk": layers.walk_graph}, src, minutes=[5, 10])
    >>> iso["minutes"].tolist(), bool(iso["area_ha"].is_monotonic_increasing)
    ([5, 10], True)
    """
    speeds = {"walk": 4.8, "bike": 15.0, "bike_low_stress": 15.0, **(speeds_kmh or {})}
    if not buffer_m > 0 or not cell_m > 0:
        raise ValueError(f"buffer_m and cell_m must be positive, got {buffer_m!r}, {cell_m!r}")
    minutes = sorted(set(minutes))
    if not minutes or minutes[0] <= 0:
        raise ValueError(f"minutes must be positive, got {minutes!r}")
    _validate.projected_frame(sources, what="isochrone sources")
    nets: dict[str, tuple[_Net, np.ndarray]] = {}
    for mode, graph in graphs.items():
        if mode not in speeds:
            raise ValueError(f"unknown mode {mode!r}; expected walk, bike or bike_low_stress")
        scored = mode.startswith("bike")
        net = _net(graph, lts=scored)
        nets[mode] = (net, np.ones(len(net.u), dtype=bool))
        if mode == "bike":
            nets["bike_low_stress"] = (net, net.lts <= threshold)
    rows = []
    points = _points(sources)
    for mode, (net, mask) in nets.items():
        speed = speeds[mode]
        limit = max(minutes) * speed * 1000 / 60
        csr = _csr(net.n, net.u[mask], net.v[mask], net.length[mask])
        eu, el, eg = net.u[mask], net.length[mask], net.geoms[mask]
        # Points every cell_m along every edge, with their offset from the edge start.
        steps = np.ceil(el / cell_m).astype(int) + 1
        pt_edge = np.repeat(np.arange(len(el)), steps)
        pt_off = np.minimum(
            (np.arange(len(pt_edge)) - np.repeat(np.cumsum(steps) - steps, steps)) * cell_m,
            el[pt_edge],
        )
        pt_xy = shapely.get_coordinates(shapely.line_interpolate_point(eg[pt_edge], pt_off))
        raster = _Raster(pt_xy, cell_m, buffer_m)
        nodes, _ = _snap(net, gpd.GeoSeries(points.to_numpy(), crs=sources.crs))
        for (_, src), node in zip(sources.iterrows(), nodes, strict=True):
            dist = csgraph.dijkstra(csr, indices=int(node), limit=limit)
            at = dist[eu[pt_edge]] + pt_off
            for m in minutes:
                reach = m * speed * 1000 / 60
                poly = raster.polygon(np.vstack([pt_xy[at <= reach], net.xy[node][None, :]]))
                rows.append(
                    {
                        "source": str(src.get("name", "")),
                        "source_kind": str(src.get("kind", "")),
                        "mode": mode,
                        "minutes": int(m),
                        "speed_kmh": speed,
                        "distance_m": round(reach, 1),
                        "area_ha": round(poly.area / 10_000, 2),
                        "geometry": poly,
                    }
                )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=sources.crs)


# ----------------------------------------------------------------- all layers


def cycling_layers(
    base: BaseLayers,
    config: CyclingConfig,
    *,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Every cycling layer of a district, as the ``cycling`` pipeline step writes them.

    Parameters
    ----------
    base : BaseLayers
        The district's base layers and graphs.
    config : CyclingConfig
        The ``cycling`` section of the district configuration.
    layers : mapping, optional
        Layers of earlier steps; ``commercial_units`` and ``retail_centres``
        (commerce step) are used when present, else POIs stand in.

    Returns
    -------
    dict
        ``bike_network``, ``low_stress_islands``, ``bike_connectivity``,
        ``bike_gaps``, ``bike_circuits``, ``info_points``, ``isochrones``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> cfg = gd.load_config("config/sample.yml")
    >>> out = cycling_layers(gd.load_base_layers(cfg), cfg.cycling)
    >>> all(len(layer) > 0 for layer in out.values())
    True
    """
    layers = layers or {}
    graph = add_lts(base.bike_graph, default_speed_kmh=config.default_speed_kmh)
    dest = destinations(
        base.pois, base.transit_stops, commercial_units=layers.get("commercial_units")
    )
    orig = origins(
        base.buildings,
        kind=config.origins,
        area=base.study_area,
        min_residential=config.min_residential_origins,
        hex_resolution=config.hex_resolution,
    )
    if len(orig) == 0 or len(dest) == 0:
        raise EmptyAreaError(
            f"cycling needs origins and destinations; found {len(orig)} origins "
            f"({config.origins!r}) and {len(dest)} destinations"
        )
    thr = config.lts_threshold
    scores = connectivity(graph, orig, dest, threshold=thr, bikeshed_m=config.bikeshed_m)
    log.info("district low-stress connectivity: %.3f", scores.attrs["district_score"])
    islands = low_stress_islands(
        graph,
        threshold=thr,
        destinations=dest,
        origins=orig,
        buffer_m=config.island_buffer_m,
        min_length_m=config.min_island_m,
    )
    gaps = missing_links(
        graph,
        orig,
        dest,
        threshold=thr,
        bikeshed_m=config.bikeshed_m,
        max_connector_m=config.max_connector_m,
        n_links=config.n_gaps,
    )
    places = key_places(
        base.pois,
        base.transit_stops,
        centres=layers.get("retail_centres"),
        max_places=config.circuit_max_stops,
        n_centres=config.n_centres,
    )
    legs = circuit(
        graph,
        places,
        max_km=config.circuit_max_km,
        threshold=thr,
        stress_penalty=config.stress_penalty,
    )
    totems = info_points(legs, places, k=config.n_info_points, radius_m=config.info_point_radius_m)
    sources = places[places["kind"].isin(["centre", "station"])]
    iso = isochrones(
        {"walk": base.walk_graph, "bike": graph},
        sources,
        minutes=config.isochrone_minutes,
        threshold=thr,
        speeds_kmh={
            "walk": config.walk_speed_kmh,
            "bike": config.bike_speed_kmh,
            "bike_low_stress": config.bike_speed_kmh,
        },
    )
    scores = scores.drop(columns=[]).assign(
        district_score=round(scores.attrs["district_score"], 4)
    )
    scores.attrs = {}
    gaps.attrs = {}
    return {
        "bike_network": bike_network(graph),
        "low_stress_islands": islands,
        "bike_connectivity": scores,
        "bike_gaps": gaps,
        "bike_circuits": legs,
        "info_points": totems,
        "isochrones": iso,
    }
