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

import logging
import math
import re
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from geodistrict import _validate
from geodistrict.cycling._common import per_unique, present, scalar, text
from geodistrict.errors import ParameterError
from geodistrict.i18n import N_, gettext
from geodistrict.network.lazy import GraphTables, LazyGraph, edges_with_data, pending_tables

log = logging.getLogger(__name__)

__all__ = [
    "INFRA_TYPES",
    "WAY_TAGS",
    "add_lts",
    "classify_lts",
    "crossing_lts",
    "lts_tag_warnings",
    "with_way_tags",
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


#: Motorised modes and the key each one falls back on (OSM access hierarchy:
#: ``access`` > ``vehicle`` > ``motor_vehicle`` > ``motorcar``, ``psv`` > ``bus``...).
_MOTOR_MODES = {
    "motorcar": "motor_vehicle",
    "motorcycle": "motor_vehicle",
    "hgv": "motor_vehicle",
    "goods": "motor_vehicle",
    "psv": "motor_vehicle",
    "bus": "psv",
    "motor_vehicle": "vehicle",
    "vehicle": "access",
}
#: Access values that keep a mode out (anything else, ``private`` and
#: ``destination`` included, lets motor traffic in).
_CLOSED = {"no"}

_LTS_INPUTS = {
    "highway", "maxspeed", "lanes", "cycleway", "cycleway:left", "cycleway_left",
    "cycleway:right", "cycleway_right", "cycleway:both", "cycleway_both", "oneway:bicycle",
    "oneway_bicycle", "access", "reversed", "oneway", *_MOTOR_MODES,
}  # fmt: skip


def _motor_free(edges: pd.DataFrame) -> np.ndarray:
    """Rows closed to every motorised mode, reading the OSM access hierarchy.

    Each mode's access is its own tag when present, else its parent's
    (``bus`` -> ``psv`` -> ``motor_vehicle`` -> ``vehicle`` -> ``access``),
    else open. A road is traffic-free only when cars, motorcycles, lorries
    and buses are all closed: ``motor_vehicle=no`` + ``motorcar=yes`` is a
    road with cars, and ``motor_vehicle=no`` + ``psv=yes`` a bus street.
    """
    values = {
        key: text(edges, key).str.split(";").str[0].str.strip()
        for key in {"access", *_MOTOR_MODES}
    }
    resolved: dict[str, pd.Series] = {}

    def access_of(mode: str) -> pd.Series:
        if mode not in resolved:
            parent = _MOTOR_MODES.get(mode)
            own = values[mode]
            resolved[mode] = own if parent is None else own.where(own != "", access_of(parent))
        return resolved[mode]

    closed = np.ones(len(edges), dtype=bool)
    for mode in ("motorcar", "motorcycle", "hgv", "goods", "bus"):
        closed &= access_of(mode).isin(_CLOSED).to_numpy()
    return closed


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

    motor_free = pd.Series(_motor_free(edges), index=edges.index)
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


def add_lts(
    graph: nx.MultiDiGraph, *, default_speed_kmh: float = 50.0, crossings: bool = True
) -> nx.MultiDiGraph:
    """A copy of a bike graph with ``infra``, ``lts`` and ``lts_assumptions`` on every edge.

    The stress of an edge is the worse of its segment (:func:`classify_lts`)
    and of the crossing at its end node (:func:`crossing_lts`, when
    ``crossings``): an approach to an unsignalised crossing of a wide or fast
    road is as stressful as the crossing, as in the Bicycle Network Analysis
    and Mekuria, Furth & Nixon (2012, table 4).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A projected bike graph (``BaseLayers.bike_graph``, or an osmnx graph
        after ``ox.project_graph``); each directed edge is one direction of
        travel (``reversed`` marks travel against the way). Edge tags are
        read as in :func:`classify_lts`; missing tags count as untagged.
        Node tags ``highway=traffic_signals`` / ``crossing=traffic_signals``
        and ``crossing:island=yes`` are read for the crossings.
    default_speed_kmh : float, default 50
        See :func:`classify_lts`.
    crossings : bool, default True
        Rate crossings at nodes. Skipped, with a warning, when no node of the
        graph carries a tag (signals cannot be told from their absence).

    Returns
    -------
    networkx.MultiDiGraph
        The copy (the input graph is unchanged), with ``lts_segment`` and
        ``lts_crossing`` (0: no crossing raises it) beside ``lts`` on every
        edge, and ``graph.graph["lts_warnings"]``: the rules that could not be
        applied because the graph lacks the tags they need (see
        :func:`lts_tag_warnings`); each is also logged as a warning.

    Examples
    --------
    >>> import geodistrict as gd
    >>> g = gd.datasets.grid_graph(2, 3, spacing_m=100)
    >>> scored = add_lts(g)
    >>> {d["lts"] for _, _, d in scored.edges(data=True)}, "lts" in g.edges[0, 1, 0]
    ({2}, False)
    >>> scored.graph["lts_warnings"][0][:38]  # in the current language (Italian by default)
    'nessun tratto ha i tag cycleway, cycle'
    """
    _validate.projected_graph(graph, what="bike graph")
    node_tags = crossings and _has_node_tags(graph)
    # A graph not built yet (LazyGraph) is scored on its tables and stays unbuilt,
    # unless crossings need its nodes' neighbourhoods.
    tables = None if node_tags else pending_tables(graph)
    rows = _edge_records(graph)
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    warnings = lts_tag_warnings(graph, crossings=crossings)
    for message in warnings:
        log.warning("LTS: %s", message)
    attrs = {"lts_warnings": warnings, "lts_default_speed_kmh": default_speed_kmh}
    if not rows:
        result = graph.copy()
        result.graph.update(attrs)
        return result
    scored = classify_lts(frame, default_speed_kmh=default_speed_kmh)
    segment = scored["lts"].to_numpy(dtype=int)
    cross = np.zeros(len(frame), dtype=int)
    notes = scored["lts_assumptions"].to_numpy(dtype=object).copy()
    if node_tags:
        cross, names = _crossing_per_edge(graph, frame, scored)
        raised = cross > segment
        for j in np.flatnonzero(raised):
            note = f"unsignalised crossing of {names[j]} (LTS {cross[j]})"
            notes[j] = f"{notes[j]}; {note}" if notes[j] else note
    lts = np.maximum(segment, cross)
    columns = {
        "infra": scored["infra"].tolist(),
        "lts_segment": [int(v) for v in segment],
        "lts_crossing": [int(c) if c > s else 0 for c, s in zip(cross, segment, strict=True)],
        "lts": [int(v) for v in lts],
        "lts_assumptions": list(notes),
    }
    if tables is not None:
        return _with_edge_values(graph, tables, columns, attrs, dicts=rows)
    result = graph.copy()
    result.graph.update(attrs)
    for i, (_, _, data) in enumerate(result.edges(data=True)):
        for name, values in columns.items():
            data[name] = values[i]
    return result


def _edge_records(graph: nx.MultiDiGraph) -> list[dict[str, Any]]:
    """The attribute dict of every edge, in ``graph.edges`` order, without building a LazyGraph."""
    return [data for _, _, data in edges_with_data(graph)]


def _with_edge_values(
    graph: nx.MultiDiGraph,
    tables: GraphTables,
    values: dict[str, list[Any]],
    attrs: dict[str, Any],
    *,
    dicts: list[dict[str, Any]],
    only_missing: bool = False,
    row_order: list[list[str]] | None = None,
) -> LazyGraph:
    """An unbuilt copy of ``graph`` whose edges get ``values`` (lists in ``graph.edges`` order).

    Each edge's dict changes as ``data[name] = value`` in the order of
    ``values`` would change it (with ``only_missing``, as ``data.setdefault``
    for the values that are not None, in the order ``row_order`` gives for
    that edge): an existing attribute keeps its place, new ones come last.
    ``dicts`` are the edges' dicts as they are (``tables.edge_dicts()``).
    """
    order = tables.edge_order()
    before = set(tables.edges.columns)
    edges = tables.edges.copy()
    gained: dict[int, list[str]] = {}
    for name, column in values.items():
        new = np.empty(len(edges), dtype=object)
        new[order] = column
        if only_missing and name in edges:
            old = edges[name].to_numpy(dtype=object)
            new = np.where(np.asarray(pd.isna(old), dtype=bool), new, old)
        edges[name] = new
        for at in np.flatnonzero(~np.asarray(pd.isna(new[order]), dtype=bool)).tolist():
            if name not in dicts[at]:
                gained.setdefault(at, []).append(name)
    key_order = dict(tables.key_order)
    for i, names in gained.items():
        if row_order is not None:
            names = [n for n in row_order[i] if n in names]
        row = int(order[i])
        # A row is built in column order (new columns are last) unless it has an
        # explicit order or gains a column that already existed, or in another order.
        in_column_order = names == [n for n in values if n in names]
        if row in key_order or not in_column_order or before.intersection(names):
            key_order[row] = list(dicts[i]) + names
    return LazyGraph.from_tables(
        GraphTables(tables.nodes, edges, key_order), **{**graph.graph, **attrs}
    )


#: Way tags :func:`with_way_tags` copies by default: the access hierarchy of
#: the motorised modes, which street graphs often leave out.
WAY_TAGS = ("vehicle", "motorcar", "motorcycle", "hgv", "goods", "psv", "bus")


def with_way_tags(
    graph: nx.MultiDiGraph, streets: pd.DataFrame, *, keys: tuple[str, ...] = WAY_TAGS
) -> nx.MultiDiGraph:
    """A copy of a graph with more OSM way tags on its edges, joined by way id.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A street graph whose edges carry ``osmid`` (the way id).
    streets : DataFrame
        One row per street with ``osmid`` and ``tags`` (JSON text or dict of
        all the way's tags), e.g. ``BaseLayers.streets``.
    keys : tuple of str, default :data:`WAY_TAGS`
        Tags copied; an edge keeps a value it already has.

    Returns
    -------
    networkx.MultiDiGraph
        The copy; the input graph is unchanged.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.datasets.sample_layers()
    >>> g = with_way_tags(layers.bike_graph, layers.streets)
    >>> sum("motorcar" in d for _, _, d in g.edges(data=True)) > 0
    True
    """
    import json

    _validate.require_columns(streets, ["osmid", "tags"], what="streets",
                              hint="use BaseLayers.streets")  # fmt: skip
    by_way: dict[str, dict[str, str]] = {}
    for way, tags in zip(streets["osmid"], streets["tags"], strict=True):
        values = json.loads(tags) if isinstance(tags, str) else dict(tags or {})
        kept = {k: str(values[k]) for k in keys if k in values}
        if kept:
            by_way.setdefault(str(scalar(way)).split(";")[0], {}).update(kept)
    tables = pending_tables(graph)
    if tables is not None:  # scored on the tables: the graph stays unbuilt
        dicts = tables.edge_dicts()
        ways = [str(scalar(d.get("osmid"))).split(";")[0] for d in dicts]
        added: dict[str, list[Any]] = {}
        for i, way in enumerate(ways):
            for key, value in by_way.get(way, {}).items():
                added.setdefault(key, [None] * len(ways))[i] = value
        order = [list(by_way.get(way, {})) for way in ways]  # setdefault's order per edge
        return _with_edge_values(
            graph, tables, added, {}, dicts=dicts, only_missing=True, row_order=order
        )
    result = graph.copy()
    for _, _, data in result.edges(data=True):
        extra = by_way.get(str(scalar(data.get("osmid"))).split(";")[0])
        if extra:
            for key, value in extra.items():
                data.setdefault(key, value)
    return result


#: Edge tags the rules read, by what is lost without them.
_NEEDED_EDGE_TAGS = {
    N_("painted lanes and tracks score as mixed traffic"): (
        "cycleway", "cycleway:left", "cycleway_left", "cycleway:right", "cycleway_right",
        "cycleway:both", "cycleway_both",
    ),
    N_("every speed is the assumed default"): ("maxspeed",),
    N_("roads closed to motor traffic cannot be told apart"): (
        "motor_vehicle", "access", "vehicle", "motorcar",
    ),
}  # fmt: skip


def lts_tag_warnings(graph: nx.MultiDiGraph, *, crossings: bool = True) -> list[str]:
    """Rules of :func:`add_lts` that this graph cannot apply, for lack of tags.

    A plain osmnx graph (``ox.graph_from_*`` with the default
    ``useful_tags_way``) drops the ``cycleway*`` and ``motor_vehicle`` tags:
    a primary road with a cycle track then scores LTS 3-4 as if it had
    none. Roads only are checked (a graph of paths needs no ``maxspeed``).

    Returns
    -------
    list of str
        One sentence per missing group of tags; empty when the graph has them.

    Examples
    --------
    >>> import geodistrict as gd
    >>> len(lts_tag_warnings(gd.datasets.sample_layers().bike_graph))
    1
    """
    keys: set[str] = set()
    roads = 0
    for data in _edge_records(graph):
        keys.update(data)
        highway = str(scalar(data.get("highway", ""))).split(";")[0]
        roads += highway not in _PATHS and highway != "cycleway"
    out = []
    if roads:
        for loss, needed in _NEEDED_EDGE_TAGS.items():
            if not keys.intersection(needed):
                out.append(
                    gettext(
                        "no edge carries {tags}: {loss} (was the graph built without these "
                        "tags, e.g. osmnx's default useful_tags_way?)"
                    ).format(
                        tags=", ".join(n for n in needed if not n.startswith("cycleway_")),
                        loss=gettext(loss),
                    )
                )
    if crossings and roads and not _has_node_tags(graph):
        out.append(
            gettext(
                "no node carries highway/crossing tags: signals cannot be told apart, so "
                "crossing stress is not rated (keep node tags, e.g. osmnx useful_tags_node)"
            )
        )
    return out


def _has_node_tags(graph: nx.MultiDiGraph) -> bool:
    tables = pending_tables(graph)
    if tables is not None:  # read the node table, leave the graph unbuilt
        return any(
            present(v)
            for name in ("highway", "crossing")
            if name in tables.nodes
            for v in tables.nodes[name].tolist()
        )
    return any(
        present(d.get("highway")) or present(d.get("crossing")) for _, d in graph.nodes(data=True)
    )


#: Crossing LTS without a median refuge (Mekuria, Furth & Nixon 2012, table 4):
#: rows speed of the street crossed <= 40 / <= 50 / <= 60 / > 60 km/h (25, 30, 35,
#: 40+ mph), columns through lanes crossed <= 3 / 4-5 / >= 6.
_CROSSING_TABLE = np.array([[1, 2, 4], [1, 2, 4], [2, 3, 4], [3, 4, 4]])
#: The same with a median refuge (``crossing:island=yes``).
_CROSSING_ISLAND = np.array([[1, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 4]])
_SIGNALS = {"traffic_signals"}


def crossing_lts(speed_kmh: np.ndarray, lanes: np.ndarray, *, island: Any = False) -> np.ndarray:
    """LTS of crossing a street at an unsignalised crossing (Furth table 4).

    Parameters
    ----------
    speed_kmh : array
        Speed limit of the street crossed (km/h).
    lanes : array
        Through lanes crossed (both directions).
    island : bool or array, default False
        A median refuge (``crossing:island=yes``).

    Examples
    --------
    >>> crossing_lts(np.array([50, 50, 70]), np.array([2, 4, 2])).tolist()
    [1, 2, 3]
    """
    speed = np.asarray(speed_kmh, dtype=float)
    row = np.searchsorted(np.array([40.0, 50.0, 60.0]), speed, side="left")
    col = np.searchsorted(np.array([3.0, 5.0]), np.asarray(lanes, dtype=float), side="left")
    return np.where(np.asarray(island, dtype=bool), _CROSSING_ISLAND[row, col],
                    _CROSSING_TABLE[row, col])  # fmt: skip


def _crossing_per_edge(
    graph: nx.MultiDiGraph, frame: pd.DataFrame, scored: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Crossing LTS at the end node of each edge, and the name of the street crossed.

    The streets met at a node are the motor roads (not paths, cycleways,
    living streets or traffic-free roads) of another street than the edge's
    own (a street: its ``name``, else its ``highway`` class). Their crossing
    LTS comes from their speed and total lanes (:func:`crossing_lts`); a
    node with signals (``highway`` or ``crossing`` = ``traffic_signals``)
    raises nothing.
    """
    ends = np.array([(u, v) for u, v in graph.edges()], dtype=object)
    highway = text(frame, "highway")
    name = text(frame, "name")
    street = np.where(name != "", name, "~" + highway).astype(object)
    shown = (
        frame["name"].map(lambda v: str(scalar(v)) if present(v) else "")
        if "name" in frame.columns
        else pd.Series("", index=frame.index)
    ).to_numpy(dtype=object)
    shown = np.where(shown != "", shown, "a " + highway.to_numpy(dtype=object) + " road")
    display = dict(zip(street, shown, strict=True))
    infra = scored["infra"].to_numpy()
    motor = np.isin(infra, ["mixed_traffic", "bike_lane", "cycle_track"])
    lanes_total = np.where(
        np.asarray(frame.get("oneway", pd.Series(False, index=frame.index)).map(
            lambda v: v is True or str(v).lower() in ("true", "yes", "1")), dtype=bool),
        scored["lanes_per_dir"].to_numpy(),
        2 * scored["lanes_per_dir"].to_numpy(),
    )  # fmt: skip
    level = crossing_lts(scored["speed_kmh"].to_numpy(), lanes_total)
    # A street met at a node, at either end of its edges.
    met = pd.DataFrame(
        {
            "node": np.concatenate([ends[motor, 0], ends[motor, 1]]),
            "street": np.concatenate([street[motor], street[motor]]),
            "level": np.concatenate([level[motor], level[motor]]),
        }
    )
    signals: set[Any] = set()
    islands: set[Any] = set()
    for node, data in graph.nodes(data=True):
        tags = {str(scalar(data.get(k, ""))).lower() for k in ("highway", "crossing")}
        if tags & _SIGNALS:
            signals.add(node)
        if str(data.get("crossing:island", data.get("crossing_island", ""))).lower() == "yes":
            islands.add(node)
    met = met[~met["node"].isin(signals)]
    if islands:
        on_island = met["node"].isin(islands).to_numpy()
        lanes_again = pd.Series(np.concatenate([lanes_total[motor], lanes_total[motor]]))
        speed_again = pd.Series(np.concatenate([scored["speed_kmh"].to_numpy()[motor]] * 2))
        met.loc[on_island, "level"] = crossing_lts(
            speed_again[on_island].to_numpy(), lanes_again[on_island].to_numpy(), island=True
        )
    best = (
        met.groupby(["node", "street"], sort=False)["level"].max().reset_index()
        .sort_values(["node", "level"], ascending=[True, False], kind="stable")
    )  # fmt: skip
    first = best.groupby("node", sort=False).nth(0).set_index("node")
    second = best.groupby("node", sort=False).nth(1).set_index("node")
    end = pd.Index(ends[:, 1])
    f_street = first["street"].reindex(end).to_numpy()
    f_level = first["level"].reindex(end).fillna(0).to_numpy()
    s_street = second["street"].reindex(end).to_numpy()
    s_level = second["level"].reindex(end).fillna(0).to_numpy()
    own = f_street == street
    cross = np.where(own, s_level, f_level).astype(int)
    names = np.where(own, s_street, f_street)
    names = np.array([display.get(n, "") if isinstance(n, str) else "" for n in names])
    return cross, names


def _scored(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The graph itself when it carries LTS, else a scored copy with default options.

    Callers that analyse one graph several times should score it once with
    :func:`add_lts`: the network arrays are built once per graph object.
    """
    _validate.projected_graph(graph, what="bike graph")
    for _, _, data in edges_with_data(graph):
        return graph if "lts" in data else add_lts(graph)
    return graph
