"""Level of Traffic Stress (LTS) of street edges, per direction of travel.

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

Examples
--------
>>> import geodistrict as gd
>>> scored = add_lts(gd.datasets.sample_layers().bike_graph)
>>> sorted({d["lts"] for _, _, d in scored.edges(data=True)})
[1, 2, 3, 4]
"""

from __future__ import annotations

import math
import re

import networkx as nx
import numpy as np
import pandas as pd

from geodistrict import _validate
from geodistrict.cycling._common import per_unique, scalar, text
from geodistrict.errors import ParameterError

__all__ = ["INFRA_TYPES", "add_lts", "classify_lts"]

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

_PATHS = {"footway", "path", "pedestrian", "bridleway", "track", "trail", "sidewalk"}
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
    return pd.Series(per_unique(values, _speed_kmh, math.nan), index=values.index).astype(float)


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
    ParameterError
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
        raise ParameterError(f"default_speed_kmh must be positive, got {default_speed_kmh!r}")
    used = [c for c in edges.columns if c in _LTS_INPUTS]
    if len(edges) < 500 or not used:
        return _classify_rows(edges, default_speed_kmh)
    # The rules depend on the tags only: classify each distinct combination once.
    key = np.zeros(len(edges), dtype=np.int64)
    for c in used:
        try:
            codes, uniques = pd.factorize(edges[c])
        except TypeError:  # unhashable values, e.g. lists from a merged edge
            codes, uniques = pd.factorize(edges[c].map(scalar))
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
    highway = text(edges, "highway")
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
        side: text(edges, f"cycleway:{side}", f"cycleway_{side}")
        for side in ("left", "right", "both")
    }
    plain = text(edges, "cycleway")
    oneway_bicycle = text(edges, "oneway:bicycle", "oneway_bicycle")
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

    speed = _parse_speed(text(edges, "maxspeed")).to_numpy()
    no_speed = np.isnan(speed)
    fallback_speed = np.where(highway == "living_street", 20.0, default_speed_kmh)
    speed = np.where(no_speed, fallback_speed, speed)
    lanes_raw = text(edges, "lanes").str.extract(r"(\d+)", expand=False).astype(float)
    lanes = lanes_raw.to_numpy()
    no_lanes = np.isnan(lanes)
    default_lanes = np.where(motor_oneway, 1.0, np.where(highway.isin({"trunk"}), 4.0, 2.0))
    lanes = np.where(no_lanes, default_lanes, np.maximum(lanes, 1.0))
    per_dir = np.where(motor_oneway, lanes, np.maximum(np.floor(lanes / 2), 1.0))
    # A contraflow rider shares no lane with traffic going their way.
    per_dir = np.where(contra_row, 1.0, per_dir).astype(int)

    motor_free = text(edges, "motor_vehicle").isin({"no"}) | (
        text(edges, "access").isin({"no"}) & ~text(edges, "motor_vehicle").isin({"yes"})
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
        A projected bike graph (``BaseLayers.bike_graph``, or an osmnx graph
        after ``ox.project_graph``); each directed edge is one direction of
        travel (``reversed`` marks travel against the way). Edge tags are
        read as in :func:`classify_lts`; missing tags count as untagged.
    default_speed_kmh : float, default 50
        See :func:`classify_lts`.

    Returns
    -------
    networkx.MultiDiGraph
        The copy; the input graph is unchanged.

    Examples
    --------
    >>> import geodistrict as gd
    >>> g = gd.datasets.grid_graph(2, 3, spacing_m=100)
    >>> scored = add_lts(g)
    >>> {d["lts"] for _, _, d in scored.edges(data=True)}, "lts" in g.edges[0, 1, 0]
    ({2}, False)
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
    """The graph itself when it carries LTS, else a scored copy with default options.

    Callers that analyse one graph several times should score it once with
    :func:`add_lts`: the network arrays are built once per graph object.
    """
    _validate.projected_graph(graph, what="bike graph")
    for _, _, data in graph.edges(data=True):
        return graph if "lts" in data else add_lts(graph)
    return graph
