"""Missing links: the network improvements that connect the most, picked greedily.

Each candidate (upgrading a high-stress street to low stress, or a new
straight connector of at most ``max_connector_m`` between two low-stress
islands) is scored by the origin-destination pairs it makes reachable on
low-stress routes; the best per metre is applied and the rest re-scored.

Distances come from :mod:`geodistrict.network` (whole millimetres).

Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from shapely.geometry import LineString

from geodistrict import _validate
from geodistrict.cycling._common import (
    check_threshold,
    edge_geoms,
    edge_info,
    edge_lengths,
    edge_lts,
    empty_layer,
    osm_ids,
    street_ids,
)
from geodistrict.cycling.lts import _scored
from geodistrict.errors import ParameterError
from geodistrict.network import (
    GraphArrays,
    component_labels,
    graph_arrays,
    local_distances,
    nearest_nodes,
    reach_counts,
)

log = logging.getLogger(__name__)

__all__ = ["missing_links"]

_COLUMNS = [
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
_DTYPES = {
    "rank": "int64",
    "kind": "str",
    "osmid": "Int64",
    "name": "object",
    "highway": "object",
    "lts_before": "Int8",
    "cost_m": "float64",
    "benefit": "float64",
    "benefit_per_km": "float64",
    "cumulative_benefit": "float64",
    "low_stress_share": "float64",
}


#: One bounded search: the nodes reached (ascending) and their distances in mm, or
#: ``None`` and a row of distances over the whole graph (a whole-graph search).
_Reached = tuple[np.ndarray | None, np.ndarray]


def _pairs_through(
    to_a: _Reached,
    from_b: _Reached,
    w: float,
    o_nodes: np.ndarray,
    o_weight: np.ndarray,
    d_nodes: np.ndarray,
    d_per_node: np.ndarray,
    limit: float,
) -> float:
    """Origin-destination pairs whose route o -> a -(w)- b -> d is within ``limit`` (mm).

    ``o_nodes`` are distinct and ascending; ``d_per_node`` counts the
    destinations ``d_nodes`` on every node. From a local search only the nodes
    reached are read, so the work follows the bikeshed, not the network.
    """
    nodes_a, dist_a = to_a
    if nodes_a is None:
        r = dist_a[o_nodes]
        inside = np.isfinite(r)
        r, weight = r[inside], o_weight[inside]
    else:
        at = np.searchsorted(o_nodes, nodes_a)
        inside = at < len(o_nodes)
        inside[inside] = o_nodes[at[inside]] == nodes_a[inside]
        r, weight = dist_a[inside], o_weight[at[inside]]  # in the order of o_nodes
    nodes_b, dist_b = from_b
    if nodes_b is None:
        s = np.sort(dist_b[d_nodes])
        s = s[np.isfinite(s)]
    else:
        s = np.sort(np.repeat(dist_b, d_per_node[nodes_b]))
    if not len(r) or not len(s):
        return 0.0
    counts = np.searchsorted(s, limit - w - r, side="right")
    return float((counts * weight).sum())


def _distances(net: GraphArrays, node: int, cutoff_m: float, *, reverse: bool) -> _Reached:
    """Nodes reached from ``node`` (towards it with ``reverse``) within the cutoff, in mm."""
    ((_, nodes, dist),) = local_distances(
        net, np.array([node]), cutoff_m=cutoff_m, reverse=reverse
    )
    if len(nodes) == net.n:  # searched whole: the row as it is
        return None, np.asarray(dist[0])
    reached = np.isfinite(dist[0])
    return nodes[reached], np.asarray(dist[0][reached])


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
        From :func:`origins` and :func:`destinations`, or your own points in
        the graph's projected CRS (snapped to the nearest node of the largest
        strongly connected part of the graph).
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
    ParameterError
        If an option is out of range.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import cycling
    >>> layers = gd.datasets.sample_layers()
    >>> gaps = missing_links(layers.bike_graph, cycling.origins(layers.buildings),
    ...                      cycling.destinations(layers.pois, layers.transit_stops), n_links=3)
    >>> gaps["rank"].tolist(), bool(gaps["cumulative_benefit"].is_monotonic_increasing)
    ([1, 2, 3], True)
    """
    check_threshold(threshold)
    _validate.positive(bikeshed_m, name="bikeshed_m")
    _validate.positive(max_connector_m, name="max_connector_m")
    _validate.positive(min_cost_m, name="min_cost_m", allow_zero=True)
    if n_links < 1:
        raise ParameterError(f"n_links must be at least 1, got {n_links!r}")
    _validate.projected_frame(origins, what="origins")
    _validate.projected_frame(destinations, what="destinations")
    graph = _scored(graph)
    arrays = graph_arrays(graph)
    crs = graph.graph["crs"]
    n = arrays.n
    limit_mm = math.floor(bikeshed_m * 1000.0 + 1e-6)  # the engine's cutoff rule
    # Snapped to the largest strongly connected part, as in connectivity().
    o_all = nearest_nodes(arrays, origins, largest_component=True)["pos"].to_numpy()
    d_nodes = nearest_nodes(arrays, destinations, largest_component=True)["pos"].to_numpy()
    o_nodes, o_weight = np.unique(o_all, return_counts=True)
    o_count = np.bincount(o_nodes, weights=o_weight, minlength=n)
    d_per_node = np.bincount(d_nodes, minlength=n)
    d_count = d_per_node.astype(float)
    lts = edge_lts(graph)
    lengths = edge_lengths(graph)
    info = edge_info(graph)
    geoms = edge_geoms(graph, arrays)
    streets = street_ids(arrays, info["osmid"], lengths)
    low = lts <= threshold

    def pairs(net: GraphArrays) -> float:
        counts = reach_counts(net, o_nodes, d_nodes, cutoff_m=bikeshed_m)
        return float((counts[:, 0] * o_weight).sum())

    pairs_any = pairs(arrays)
    pairs_low = pairs(arrays.subgraph(low))

    # Upgrade candidates: high-stress streets with their allowed directions.
    upgrades: dict[int, list[int]] = {}
    for e in np.flatnonzero(~low):
        upgrades.setdefault(int(streets[e]), []).append(int(e))
    cand_edges: list[list[int]] = []  # edge positions in the grown arrays
    cand_meta: list[dict[str, Any]] = []
    for edges in upgrades.values():
        e0 = edges[0]
        if arrays.edge_u[e0] == arrays.edge_v[e0]:
            continue
        cand_edges.append(edges)
        cand_meta.append(
            {
                "kind": "upgrade",
                "osmid": info.at[e0, "osmid"],
                "name": info.at[e0, "name"],
                "highway": info.at[e0, "highway"],
                "lts_before": int(lts[edges].max()),
                "cost_m": float(lengths[e0]),
                "geometry": geoms[e0],
            }
        )
    # Connector candidates: close node pairs not joined by any street. (A KD-tree
    # over node pairs generates candidates; it snaps nothing.) Tens of thousands in
    # a town: kept as arrays, their rows (and lines) made only for the picks.
    lo = np.minimum(arrays.edge_u, arrays.edge_v).astype(np.int64)
    hi = np.maximum(arrays.edge_u, arrays.edge_v).astype(np.int64)
    close = cKDTree(arrays.xy).query_pairs(max_connector_m, output_type="ndarray")
    close = np.asarray(close, dtype=np.int64).reshape(-1, 2)
    if len(close):  # query_pairs gives i < j
        close = close[~np.isin(close[:, 0] * n + close[:, 1], lo * n + hi)]
    gap = np.linalg.norm(arrays.xy[close[:, 0]] - arrays.xy[close[:, 1]], axis=1)
    conn_m = np.maximum(gap, 0.01)
    n_upgrades = len(cand_edges)
    first = arrays.n_edges + 2 * np.arange(len(close), dtype=np.int64)
    cand_edges += np.stack([first, first + 1], axis=1).tolist()
    grown = arrays.with_edges(
        close.ravel(),  # a -> b, then b -> a, for each pair
        close[:, ::-1].ravel(),
        np.repeat(np.round(conn_m * 1000.0), 2).astype(float),
    )

    def meta(i: int) -> dict[str, Any]:
        if i < n_upgrades:
            return cand_meta[i]
        a, b = close[i - n_upgrades]
        return {"kind": "connector", "osmid": None, "name": None, "highway": None,
                "lts_before": None, "cost_m": float(conn_m[i - n_upgrades]),
                "geometry": LineString([arrays.xy[a], arrays.xy[b]])}  # fmt: skip

    in_low = np.concatenate([low, np.zeros(2 * len(close), dtype=bool)])
    first_edge = np.array([c[0] for c in cand_edges[:n_upgrades]], dtype=np.int64)
    ends = np.concatenate(
        [np.stack([grown.edge_u[first_edge], grown.edge_v[first_edge]], axis=1), close]
    ).astype(np.int64)
    cost = np.maximum(
        np.concatenate([np.array([m["cost_m"] for m in cand_meta], dtype=float), conn_m]),
        max(min_cost_m, 0.01),
    )
    is_connector = np.arange(len(cand_edges)) >= n_upgrades

    picks: list[dict[str, Any]] = []
    cumulative = 0.0
    while len(picks) < n_links and len(cand_edges):
        net = grown.subgraph(in_low)
        labels = component_labels(net, strong=False)
        ca, cb = labels[ends[:, 0]], labels[ends[:, 1]]
        o_comp = np.bincount(labels, weights=o_count)
        d_comp = np.bincount(labels, weights=d_count)
        bound = o_comp[ca] * d_comp[cb] + o_comp[cb] * d_comp[ca]
        valid = (ca != cb) & (bound > 0)
        # Among connectors keep the shortest per pair of islands.
        conn = np.flatnonzero(valid & is_connector)
        if len(conn):
            key = np.minimum(ca[conn], cb[conn]) * n + np.maximum(ca[conn], cb[conn])
            order = conn[np.lexsort((cost[conn], key))]
            first_of = np.ones(len(order), dtype=bool)
            sorted_key = np.minimum(ca[order], cb[order]) * n + np.maximum(ca[order], cb[order])
            first_of[1:] = sorted_key[1:] != sorted_key[:-1]
            valid[conn] = False
            valid[order[first_of]] = True
        idx = np.flatnonzero(valid)
        if not len(idx):
            break
        # The network is fixed within one pick: each node's distances are computed once.
        to_node: dict[int, _Reached] = {}
        from_node: dict[int, _Reached] = {}
        ratio_bound = bound[idx] / cost[idx]
        best, best_ratio, best_benefit = -1, 0.0, 0.0
        for i in idx[np.argsort(-ratio_bound)]:
            if bound[i] / cost[i] <= best_ratio:
                break  # lazy evaluation: no remaining candidate can beat the best
            benefit = 0.0
            for e in cand_edges[i]:
                a, b = int(grown.edge_u[e]), int(grown.edge_v[e])
                if a not in to_node:
                    to_node[a] = _distances(net, a, bikeshed_m, reverse=True)
                if b not in from_node:
                    from_node[b] = _distances(net, b, bikeshed_m, reverse=False)
                w_mm = float(grown.edge_mm[e])
                benefit += _pairs_through(
                    to_node[a],
                    from_node[b],
                    w_mm,
                    o_nodes,
                    o_weight,
                    d_nodes,
                    d_per_node,
                    limit_mm,
                )
            if benefit / cost[i] > best_ratio:
                best, best_ratio, best_benefit = int(i), benefit / cost[i], benefit
        if best < 0:
            break
        cumulative += best_benefit
        in_low[cand_edges[best]] = True
        share = min((pairs_low + cumulative) / pairs_any, 1.0) if pairs_any else math.nan
        picked = meta(best)
        picks.append(
            {
                "rank": len(picks) + 1,
                **picked,
                "benefit": best_benefit,
                "benefit_per_km": round(best_ratio * 1000, 2),
                "cumulative_benefit": cumulative,
                "low_stress_share": round(share, 4),
            }
        )
        log.debug("gap %d: %s, benefit %.0f", len(picks), picked["kind"], best_benefit)
    if not picks:
        return empty_layer(_DTYPES, crs)
    out = gpd.GeoDataFrame(pd.DataFrame(picks)[_COLUMNS], geometry="geometry", crs=crs)
    out["cost_m"] = out["cost_m"].round(1)
    out["lts_before"] = out["lts_before"].astype("Int8")
    out["osmid"] = osm_ids(out["osmid"]).array
    out.attrs["low_stress_share_before"] = pairs_low / pairs_any if pairs_any else math.nan
    return out
