"""Low-stress connectivity: origin-destination reach and low-stress islands.

Origins (homes) and destinations (shops, schools, stations, services, parks)
are snapped to the nearest node of the largest strongly connected part of the
graph. :func:`connectivity` follows the PeopleForBikes Bicycle Network
Analysis (BNA): a destination within ``bikeshed_m`` counts as connected when a
low-stress route (every edge at LTS <= threshold) is at most ``detour_ratio``
(1.25) times the shortest route; scores per BNA destination type, weighted
by people, and an overall weighted score. Low-stress islands are the
connected components of the low-stress edges (direction ignored).

Distances come from :mod:`geodistrict.network` (whole millimetres).

Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geodistrict import _validate
from geodistrict.cycling._common import (
    check_threshold,
    edge_geoms,
    edge_info,
    edge_lengths,
    edge_lts,
    street_ids,
)
from geodistrict.cycling.lts import _scored
from geodistrict.cycling.places import BNA_TYPES, BNA_WEIGHTS, DESTINATION_CATEGORIES
from geodistrict.errors import ParameterError
from geodistrict.network import (
    GraphArrays,
    NodeTargets,
    component_labels,
    graph_arrays,
    local_distances,
    nearest_nodes,
)

log = logging.getLogger(__name__)

__all__ = ["BNA_STEPS", "bna_step_score", "connectivity", "low_stress_islands"]

_DEST_HINT = (
    "make them with gd.cycling.destinations(pois, transit_stops), or add a 'category' "
    f"column with one of {', '.join(DESTINATION_CATEGORIES)}"
)

#: Value of the first, second and third destination of a sub-type reached at
#: low stress (BNA ``first``/``second``/``third``; the rest share what is left
#: of 1 in proportion), from brokenspoke-analyzer's run script.
BNA_STEPS: dict[str, tuple[float, float, float]] = {
    "schools": (0.3, 0.2, 0.2), "colleges": (0.7, 0.0, 0.0), "universities": (0.7, 0.0, 0.0),
    "doctors": (0.4, 0.2, 0.1), "dentists": (0.4, 0.2, 0.1), "hospitals": (0.7, 0.0, 0.0),
    "pharmacies": (0.4, 0.2, 0.1), "supermarkets": (0.6, 0.2, 0.0),
    "social_services": (0.7, 0.0, 0.0), "retail": (0.4, 0.2, 0.1), "parks": (0.3, 0.2, 0.2),
    "community_centers": (0.4, 0.2, 0.1), "transit": (0.6, 0.0, 0.0),
}  # fmt: skip
#: People score: share of people reached at low stress -> score (BNA steps
#: 0.03 -> 0.1, 0.2 -> 0.4, 0.5 -> 0.8, linear in between).
PEOPLE_STEPS = ((0.0, 0.03, 0.2, 0.5, 1.0), (0.0, 0.1, 0.4, 0.8, 1.0))
#: Sub-type of destinations that carry only our ``category``.
_DEFAULT_SUBTYPE = {"commerce": "retail", "school": "schools", "station": "transit",
                    "recreation": "parks", "service": ""}  # fmt: skip


def _subtypes(destinations: gpd.GeoDataFrame) -> np.ndarray:
    """BNA sub-type of each destination ('' when not counted)."""
    _validate.require_columns(destinations, ["category"], what="destinations", hint=_DEST_HINT)
    cats = list(DESTINATION_CATEGORIES)
    unknown = ~destinations["category"].isin(cats)
    if unknown.any():
        bad = sorted(set(destinations["category"][unknown]), key=str)
        raise ParameterError(f"unknown destination categories {bad!r}; expected one of {cats!r}")
    if "bna_subtype" in destinations.columns:
        sub = destinations["bna_subtype"].fillna("").astype(str).to_numpy(dtype=object)
    else:
        sub = destinations["category"].map(_DEFAULT_SUBTYPE).to_numpy(dtype=object)
    bad = sorted({v for v in sub if v and v not in BNA_STEPS})
    if bad:
        raise ParameterError(
            f"unknown bna_subtype {bad!r}; expected one of {sorted(BNA_STEPS)!r} or ''"
        )
    return sub


def _check_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    out = dict(BNA_WEIGHTS if weights is None else weights)
    bad = sorted(set(out) - set(BNA_WEIGHTS))
    if bad:
        raise ParameterError(
            f"unknown connectivity weights {bad!r}; expected some of {list(BNA_WEIGHTS)!r}"
        )
    for key, value in out.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ParameterError(f"weight of {key!r} must be a number >= 0, got {value!r}")
    if not sum(out.values()) > 0:
        raise ParameterError(f"connectivity weights must not all be 0, got {out!r}")
    return {k: float(out.get(k, 0.0)) for k in BNA_WEIGHTS}


def bna_step_score(
    low: np.ndarray, high: np.ndarray, steps: tuple[float, float, float]
) -> np.ndarray:
    """The BNA's score of one destination sub-type from low- and any-stress counts.

    The first, second and third destination reached at low stress are worth
    ``steps`` (0 means: no such step, a plain ratio from there); the others
    share what is left of 1 in proportion to ``low / high``. NaN where nothing
    is reachable (``high == 0``); 1 where everything is reached at low stress.

    Examples
    --------
    >>> bna_step_score(np.array([0, 1, 2, 3, 5]), np.array([10, 10, 10, 10, 5]),
    ...                (0.4, 0.2, 0.1)).round(3).tolist()
    [0.0, 0.4, 0.6, 0.7, 1.0]
    >>> bna_step_score(np.array([1, 2]), np.array([3, 0]), (0.7, 0.0, 0.0)).tolist()
    [0.7, nan]
    """
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    first, second, third = steps
    given = [v for v in (first, second, third)]
    n_steps = 0 if first == 0 else 1 if second == 0 else 2 if third == 0 else 3
    cum = np.cumsum([0.0, *given[:n_steps]])  # value of the first k destinations
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.minimum(low, n_steps).astype(int)
        rest = (1.0 - cum[n_steps]) * (low - n_steps) / (high - n_steps)
        score = np.where(low <= n_steps, cum[k], cum[n_steps] + rest)
    score = np.where(low == 0, 0.0, score)
    score = np.where((low >= high) & (high > 0), 1.0, score)
    return np.where(high > 0, np.clip(score, 0.0, 1.0), np.nan)


def _reach_pairs(
    arrays: GraphArrays,
    low_net: GraphArrays,
    uniq: np.ndarray,
    d_nodes: np.ndarray,
    onehot: np.ndarray,
    people_at: np.ndarray,
    *,
    bikeshed_m: float,
    detour_ratio: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Destinations (per sub-type) and people within the bikeshed of each origin node,
    on any route and on low-stress routes: ``(any_cnt, low_cnt, p_any, p_low)``.

    Both networks are searched around each origin node only, in the same batches
    over the same nodes (the low-stress network is cut with the whole network's
    straight-line bound): the destinations and people outside are beyond reach.
    """
    n_sub = onehot.shape[1]
    low_cnt = np.zeros((len(uniq), n_sub))
    any_cnt = np.zeros((len(uniq), n_sub))
    p_low = np.zeros(len(uniq))
    p_any = np.zeros(len(uniq))
    limit = math.floor(bikeshed_m * 1000.0 + 1e-6)  # the engine's cutoff rule
    dests_at = NodeTargets(d_nodes, arrays.n)
    people_nodes = np.flatnonzero(people_at)
    people_of = NodeTargets(people_nodes, arrays.n)
    for (which, nodes, d_any), (which_low, nodes_low, d_low) in zip(
        local_distances(arrays, uniq, cutoff_m=bikeshed_m),
        local_distances(low_net, uniq, cutoff_m=bikeshed_m, mm_per_metre=arrays.mm_per_metre),
        strict=True,
    ):
        if not (np.array_equal(which, which_low) and np.array_equal(nodes, nodes_low)):
            raise RuntimeError("the two searches must come in the same batches")
        for at, kind in ((dests_at, "dest"), (people_of, "people")):
            picked, column = at.on(nodes)
            a = d_any[:, column]
            ok_any = a <= limit
            b = d_low[:, column]
            ok_low = ok_any & (b <= limit) & (b <= detour_ratio * a)
            if kind == "dest":
                any_cnt[which] = ok_any @ onehot[picked]
                low_cnt[which] = ok_low @ onehot[picked]
            else:
                people = people_at[people_nodes[picked]]
                p_any[which] = ok_any @ people
                p_low[which] = ok_low @ people
    return any_cnt, low_cnt, p_any, p_low


def connectivity(
    graph: nx.MultiDiGraph,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    threshold: int = 2,
    bikeshed_m: float = 2500.0,
    detour_ratio: float = 1.25,
    weights: Mapping[str, float] | None = None,
) -> gpd.GeoDataFrame:
    """Low-stress connectivity per origin and for the district, in the BNA's terms.

    The PeopleForBikes Bicycle Network Analysis (BNA; brokenspoke-analyzer,
    ``connected_census_blocks.sql``, ``access_*.sql``, ``score_inputs.sql``,
    ``overall_scores.sql``): a destination is *reachable* from an origin when
    the shortest legal route is at most ``bikeshed_m`` long, and *connected*
    when moreover a low-stress route (every edge at LTS <= ``threshold``)
    exists that is at most ``bikeshed_m`` and at most ``detour_ratio`` times
    the shortest route (BNA: 1.25). Per origin and destination sub-type
    (:data:`~geodistrict.cycling.places.BNA_TYPES`) the score rewards the
    first destinations most (:func:`bna_step_score`); a type's score is the
    mean of its sub-types' scores weighted as the BNA does, over the
    sub-types reachable. The people score compares the people reached at
    low stress with those reachable (origins weighted by their ``weight``).
    District scores are the means over origins weighted by people (origins
    that reach nothing of a sub-type left out), and the overall score the
    weighted mean of the type scores over the types reachable, with the
    weights given (default :data:`~geodistrict.cycling.places.BNA_WEIGHTS`).

    Origins and destinations snap to the nearest node of the largest
    strongly connected part of the graph, so none starts in a trap (a
    dead-end one-way street); routes count from node to node.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Bike graph (scored by :func:`add_lts`, or scored here with defaults).
    origins : GeoDataFrame
        From :func:`origins` (optional ``weight``: people; default 1 each),
        or your own points in the graph's projected CRS.
    destinations : GeoDataFrame
        From :func:`destinations` (``category``; optional ``bna_subtype``,
        else derived from ``category``: commerce -> retail, school ->
        schools, station -> transit, recreation -> parks, service -> not
        counted).
    threshold : int, default 2
        Highest stress level that counts as low (1-4).
    bikeshed_m : float, default 2500
        Longest route counted (m); the BNA uses 2,680 m.
    detour_ratio : float, default 1.25
        Longest low-stress route as a multiple of the shortest route (BNA 1.25).
    weights : mapping, optional
        Weight of ``people`` and of each destination type in the overall
        score; missing keys weigh 0 (default the BNA's, 15/20/20/15/15/15).

    Returns
    -------
    GeoDataFrame
        ``origins`` (same index) with ``weight``, ``people_low`` /
        ``people_any`` and ``score_people``; ``low_<type>`` / ``any_<type>``
        (destinations connected / reachable) and ``score_<type>`` per BNA
        type; ``score`` (overall, 0-1; NaN when nothing is reachable).
        ``attrs``: ``district_score`` (overall), ``district_scores`` (per
        type and people), ``pairs_low`` / ``pairs_any`` (connected /
        reachable origin-destination pairs), ``detour_ratio``.

    Raises
    ------
    ParameterError
        If ``threshold`` is not 1-4, ``bikeshed_m`` not positive,
        ``detour_ratio`` below 1, a weight unknown or negative, a
        destination category or sub-type unknown, or an origin weight negative.
    MissingColumnError
        If ``destinations`` have no ``category``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import cycling
    >>> layers = gd.datasets.sample_layers()
    >>> scores = connectivity(layers.bike_graph, cycling.origins(layers.buildings),
    ...                       cycling.destinations(layers.pois, layers.transit_stops))
    >>> 0 < scores.attrs["district_score"] <= 1
    True
    >>> sorted(scores.attrs["district_scores"])[:3]
    ['core_services', 'opportunity', 'people']
    """
    check_threshold(threshold)
    _validate.positive(bikeshed_m, name="bikeshed_m")
    if not (isinstance(detour_ratio, int | float) and detour_ratio >= 1):
        raise ParameterError(f"detour_ratio must be a number >= 1, got {detour_ratio!r}")
    _validate.projected_frame(origins, what="origins")
    _validate.projected_frame(destinations, what="destinations")
    w_type = _check_weights(weights)
    sub = _subtypes(destinations)
    o_weight = (
        pd.to_numeric(origins["weight"], errors="coerce").to_numpy(dtype=float)
        if "weight" in origins.columns
        else np.ones(len(origins))
    )
    if len(o_weight) and not (np.isfinite(o_weight).all() and (o_weight >= 0).all()):
        raise ParameterError("origin weights must be numbers >= 0 (people per origin)")
    graph = _scored(graph)
    arrays = graph_arrays(graph)
    subs = list(BNA_STEPS)
    d_code = np.array([subs.index(v) if v else -1 for v in sub], dtype=int)
    counted = d_code >= 0
    o_nodes = nearest_nodes(arrays, origins, largest_component=True)["pos"].to_numpy()
    d_nodes = nearest_nodes(arrays, destinations, largest_component=True)["pos"].to_numpy()
    d_nodes, d_code = d_nodes[counted], d_code[counted]
    low_net = arrays.subgraph(edge_lts(graph) <= threshold)
    uniq, inverse = np.unique(o_nodes, return_inverse=True)
    onehot = np.zeros((len(d_code), len(subs)))
    onehot[np.arange(len(d_code)), d_code] = 1.0
    people_at = np.bincount(o_nodes, weights=o_weight, minlength=arrays.n) if len(o_nodes) else (
        np.zeros(arrays.n)
    )  # fmt: skip
    any_cnt, low_cnt, p_any, p_low = _reach_pairs(
        arrays, low_net, uniq, d_nodes, onehot, people_at,
        bikeshed_m=bikeshed_m, detour_ratio=detour_ratio,
    )  # fmt: skip
    any_cnt, low_cnt, p_any, p_low = (
        any_cnt[inverse],
        low_cnt[inverse],
        p_any[inverse],
        p_low[inverse],
    )
    # Per sub-type scores, then per type (BNA sub-weights over the sub-types reachable).
    sub_score = np.column_stack(
        [bna_step_score(low_cnt[:, j], any_cnt[:, j], BNA_STEPS[s]) for j, s in enumerate(subs)]
    ) if len(subs) else np.zeros((len(origins), 0))  # fmt: skip
    with np.errstate(invalid="ignore", divide="ignore"):
        people_score = np.where(
            p_any > 0, np.interp(p_low / np.where(p_any > 0, p_any, 1), *PEOPLE_STEPS), np.nan
        )
    out = origins.copy()
    out["weight"] = o_weight
    out["people_low"] = p_low.round(3)
    out["people_any"] = p_any.round(3)
    out["score_people"] = people_score.round(4)
    type_scores = {"people": people_score}
    district: dict[str, float] = {"people": _weighted_mean(people_score, o_weight)}
    for t, members in BNA_TYPES.items():
        cols = [subs.index(m) for m in members]
        sw = np.array([members[m] for m in members])
        out[f"low_{t}"] = low_cnt[:, cols].sum(axis=1).astype(int)
        out[f"any_{t}"] = any_cnt[:, cols].sum(axis=1).astype(int)
        type_scores[t] = _mean_present(sub_score[:, cols], sw)
        out[f"score_{t}"] = type_scores[t].round(4)
        per_sub = np.array([_weighted_mean(sub_score[:, c], o_weight) for c in cols])
        district[t] = float(_mean_present(per_sub[None, :], sw)[0])
    wt = np.array([w_type[t] for t in type_scores])
    out["score"] = _mean_present(np.column_stack(list(type_scores.values())), wt).round(4)
    overall = float(_mean_present(np.array([list(district.values())]), wt)[0])
    out.attrs["district_score"] = overall
    out.attrs["district_scores"] = {k: round(v, 4) for k, v in district.items()}
    out.attrs["pairs_low"] = int((low_cnt.sum(axis=1)).sum())
    out.attrs["pairs_any"] = int((any_cnt.sum(axis=1)).sum())
    out.attrs["detour_ratio"] = float(detour_ratio)
    return out


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Mean of ``values`` weighted by ``weights``, NaN values left out (NaN if none)."""
    ok = ~np.isnan(values) & (weights > 0)
    total = weights[ok].sum()
    return float((values[ok] * weights[ok]).sum() / total) if total > 0 else math.nan


def _mean_present(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise mean weighted by ``weights`` over the non-NaN columns with weight > 0."""
    values = np.atleast_2d(values)
    ok = ~np.isnan(values) & (weights[None, :] > 0)
    total = (ok * weights[None, :]).sum(axis=1)
    num = np.where(ok, values, 0.0) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, num / np.where(total > 0, total, 1), np.nan)


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
        Counted inside each island (by their nearest node); destinations need
        a ``category`` (see :func:`destinations`).
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
    >>> islands = low_stress_islands(gd.datasets.sample_layers().bike_graph)
    >>> bool(islands["length_m"].is_monotonic_decreasing), int(islands["island_id"].iloc[0])
    (True, 1)
    """
    check_threshold(threshold)
    _validate.positive(buffer_m, name="buffer_m")
    dest_cat = None
    if destinations is not None:
        _validate.projected_frame(destinations, what="destinations")
        _validate.require_columns(destinations, ["category"], what="destinations", hint=_DEST_HINT)
        dest_cat = destinations["category"].to_numpy()
    if origins is not None:
        _validate.projected_frame(origins, what="origins")
    graph = _scored(graph)
    arrays = graph_arrays(graph)
    crs = graph.graph["crs"]
    low = edge_lts(graph) <= threshold
    lengths = edge_lengths(graph)
    streets = street_ids(arrays, edge_info(graph)["osmid"], lengths)
    labels = component_labels(arrays.subgraph(low), strong=False)
    edge_comp = labels[arrays.edge_u[low]]
    per_street = pd.DataFrame(
        {"comp": edge_comp, "street": streets[low], "length": lengths[low]}
    ).drop_duplicates(["comp", "street"])
    length = per_street.groupby("comp")["length"].sum()
    keep = length[length >= min_length_m].sort_values(ascending=False)
    node_counts = pd.Series(labels).value_counts()
    dest_node = (
        nearest_nodes(arrays, destinations, largest_component=True)["pos"].to_numpy()
        if dest_cat is not None
        else None
    )
    orig_node = (
        nearest_nodes(arrays, origins, largest_component=True)["pos"].to_numpy()
        if origins is not None
        else None
    )
    rows = []
    low_geoms = edge_geoms(graph, arrays)[low]
    for rank, (comp, total) in enumerate(keep.items(), start=1):
        mask = edge_comp == comp
        polygon = shapely.union_all(shapely.buffer(low_geoms[mask], buffer_m))
        row: dict[str, Any] = {
            "island_id": rank,
            "length_m": round(float(total), 1),
            "n_edges": int((per_street["comp"].to_numpy() == comp).sum()),
            "n_nodes": int(node_counts.get(comp, 0)),
        }
        if dest_cat is not None and dest_node is not None:
            inside = dest_cat[labels[dest_node] == comp]
            for cat in DESTINATION_CATEGORIES:
                row[f"n_{cat}"] = int((inside == cat).sum())
            row["n_units"] = row["n_commerce"]
            row["n_destinations"] = len(inside)
        if orig_node is not None:
            row["n_origins"] = int((labels[orig_node] == comp).sum())
        row["geometry"] = polygon
        rows.append(row)
    if not rows:
        return gpd.GeoDataFrame({"island_id": pd.Series(dtype=int)}, geometry=[], crs=crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
