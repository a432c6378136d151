"""A district cycling circuit through key places, and information totems along it.

:func:`circuit` orders the key places into a closed loop on stress-penalised
route costs and routes it leg by leg without retracing streets;
:func:`info_points` sites totems covering the loop and the places with
:func:`geodistrict.siting.maximal_covering`.

Routes come from :mod:`geodistrict.network` (whole millimetres).

Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, Point

from geodistrict import _validate
from geodistrict.cycling._common import (
    check_threshold,
    edge_geoms,
    edge_info,
    edge_lengths,
    edge_lts,
    points_of,
    street_ids,
)
from geodistrict.cycling.lts import _scored
from geodistrict.errors import ConfigError, EmptyAreaError, ParameterError
from geodistrict.i18n import gettext
from geodistrict.network import graph_arrays, nearest_nodes, route, shortest_paths
from geodistrict.siting import maximal_covering

log = logging.getLogger(__name__)

__all__ = ["circuit", "info_points"]

_PLACES_HINT = "make them with gd.cycling.key_places(pois, transit_stops)"


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
        From :func:`key_places` (``name``, ``kind``, ``priority``: 1 highest,
        optional ``place_id``), in the graph's projected CRS.
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
        The last leg ends where the first starts. ``attrs["left_out"]`` lists
        ``(name, reason)`` for each place the loop does not join (same
        nearest node as another place, or beyond ``max_km``).

    Raises
    ------
    EmptyAreaError
        If fewer than two distinct places can be reached.
    ConfigError
        If no loop through two places fits within ``max_km``.
    MissingColumnError
        If ``places`` lack one of the columns above.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import cycling
    >>> layers = gd.datasets.sample_layers()
    >>> places = cycling.key_places(layers.pois, layers.transit_stops)
    >>> legs = circuit(layers.bike_graph, places)
    >>> first = legs.geometry.iloc[0].coords[0]; last = legs.geometry.iloc[-1].coords[-1]
    >>> first == last, float(legs["circuit_length_m"].iloc[0]) <= 15000
    (True, True)
    """
    check_threshold(threshold)
    _validate.positive(max_km, name="max_km")
    _validate.positive(stress_penalty, name="stress_penalty", allow_zero=True)
    _validate.projected_frame(places, what="places")
    _validate.require_columns(
        places, ["name", "kind", "priority"], what="places", hint=_PLACES_HINT
    )
    graph = _scored(graph)
    arrays = graph_arrays(graph)
    crs = graph.graph["crs"]
    if len(places) == 0 or arrays.largest_component.sum() < 2:
        raise EmptyAreaError(
            f"a circuit needs key places and a connected bike network; found {len(places)} "
            f"place(s) and a largest connected part of {int(arrays.largest_component.sum())} "
            "node(s)"
        )
    snapped = nearest_nodes(arrays, places, largest_component=True)
    stops = places.assign(_node=snapped["pos"].to_numpy())
    same = stops.duplicated("_node")
    first_at = stops[~same].set_index("_node")["name"]
    left_out = [
        (str(name), gettext("same nearest network node as {other}").format(other=first_at[node]))
        for name, node in zip(stops.loc[same, "name"], stops.loc[same, "_node"], strict=True)
    ]
    stops = stops[~same].reset_index(drop=True)
    if len(stops) < 2:
        raise EmptyAreaError(
            f"a circuit needs two key places at different nodes of the connected bike "
            f"network; the {len(places)} key place(s) snap to {len(stops)} node(s)"
        )
    if len(stops) < len(places):
        log.warning(
            "%d of %d key places share their nearest network node with another place: "
            "the circuit visits that node once",
            len(places) - len(stops),
            len(places),
        )
    lts = edge_lts(graph).astype(float)
    lengths = edge_lengths(graph)
    streets = street_ids(arrays, edge_info(graph)["osmid"], lengths)
    geoms = edge_geoms(graph, arrays)
    penalty = 1.0 + stress_penalty * np.maximum(lts - threshold, 0)
    cost_mm = arrays.edge_mm * penalty
    low = lts <= threshold

    # Cheapest edge of each (u, v) pair, looked up when turning node paths into edges.
    order_e = np.lexsort((cost_mm, arrays.edge_v, arrays.edge_u))
    best_edge = {}
    for e in order_e[::-1].tolist():
        best_edge[(int(arrays.edge_u[e]), int(arrays.edge_v[e]))] = e

    def ride(order: list[int]) -> tuple[list[list[int]], float]:
        """Edges of each leg, and the total length, with reuse penalties."""
        weight = cost_mm.copy()
        legs: list[list[int]] = []
        total = 0.0
        for k in range(len(order)):
            a = int(stops.at[order[k], "_node"])
            b = int(stops.at[order[(k + 1) % len(order)], "_node"])
            _, pred = shortest_paths(arrays.with_weights(weight), np.array([a]))
            nodes = route(pred[0], a, b)
            edges = [best_edge[(x, y)] for x, y in itertools.pairwise(nodes)]
            # Streets already ridden cost three times as much for the next legs.
            weight[np.isin(streets, streets[edges])] *= 3.0
            legs.append(edges)
            total += float(lengths[edges].sum())
        return legs, total

    costed = arrays.with_weights(cost_mm)
    while True:
        nodes = stops["_node"].to_numpy()
        matrix = shortest_paths(costed, nodes)[0][:, nodes]
        order = _tour(matrix)
        legs, total = ride(order)
        if total <= max_km * 1000 or len(stops) <= 2:
            break
        # Without place ids the row order breaks ties (the sort is stable).
        ties = ["priority", "place_id"] if "place_id" in stops else ["priority"]
        drop = stops.sort_values(ties, kind="stable").index[-1]
        left_out.append(
            (str(stops.at[drop, "name"]), f"the loop through it would exceed max_km={max_km}")
        )
        log.warning(
            "the circuit through %d places is %.1f km, longer than max_km=%s: %r left out",
            len(stops), total / 1000, max_km, stops.at[drop, "name"],
        )  # fmt: skip
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
            part = list(geoms[e].coords)
            coords.extend(part if not coords else part[1:])
        length = float(lengths[edges].sum())
        cum += length
        low_len = float(lengths[edges][low[edges]].sum())
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
    # Places the loop does not join, with the reason (the pipeline step reports them).
    out.attrs["left_out"] = left_out
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
    method: Literal["auto", "exact", "greedy"] = "auto",
) -> gpd.GeoDataFrame:
    """Sites for ``k`` digital information totems covering the circuit and key places.

    A maximal covering location problem
    (:func:`geodistrict.siting.maximal_covering`: the MCLP integer programme
    solved with the HiGHS solver that ships inside SciPy): demand points every ``spacing_m``
    along the circuit (weight 1) and the key places (weight 10 for centres, 5
    for the others); candidate sites are the same points. A demand point is
    covered within ``radius_m`` (straight-line). When the solver is not
    available, a greedy heuristic (repeatedly take the site covering the most
    uncovered weight) is used instead; ``solver`` says which.

    Parameters
    ----------
    legs : GeoDataFrame
        The circuit from :func:`circuit` (lines, projected CRS).
    places : GeoDataFrame
        Key places (``name``, ``kind``).
    k : int, default 5
        Number of totems.
    radius_m : float, default 200
        Distance a totem covers (m).
    spacing_m : float, default 100
        Spacing of demand points along the circuit (m).
    method : {"auto", "exact", "greedy"}, default "auto"
        ``auto``: the exact MCLP, falling back to greedy; ``exact``: the MCLP
        or an error; ``greedy``: always the heuristic.

    Returns
    -------
    GeoDataFrame
        Points: ``point_id``, ``covered_weight``, ``covered_share`` (of all
        demand weight, cumulative over the chosen sites), ``near`` (closest
        key place), ``on_circuit``, ``solver``.

    Raises
    ------
    ParameterError
        If ``k``, ``radius_m``, ``spacing_m`` or ``method`` is out of range.
    MissingColumnError
        If ``places`` lack ``name`` or ``kind``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import cycling
    >>> layers = gd.datasets.sample_layers()
    >>> places = cycling.key_places(layers.pois, layers.transit_stops)
    >>> pts = info_points(circuit(layers.bike_graph, places), places, k=3)
    >>> len(pts), bool(pts["covered_share"].max() <= 1)
    (3, True)
    """
    if k < 1:
        raise ParameterError(f"k must be at least 1, got {k!r}")
    if method not in ("auto", "exact", "greedy"):
        raise ParameterError(f"method must be 'auto', 'exact' or 'greedy', got {method!r}")
    _validate.positive(radius_m, name="radius_m")
    _validate.positive(spacing_m, name="spacing_m")
    _validate.projected_frame(legs, what="circuit")
    _validate.require_columns(places, ["name", "kind"], what="places", hint=_PLACES_HINT)
    crs = legs.crs
    line = shapely.line_merge(shapely.union_all(legs.geometry.to_numpy()))
    samples: list[Point] = []
    for geom in legs.geometry:
        steps = np.arange(0.0, geom.length, spacing_m)
        samples.extend(shapely.line_interpolate_point(geom, steps).tolist())
    place_pts = points_of(places.to_crs(crs)) if len(places) else gpd.GeoSeries([], crs=crs)
    demand = samples + list(place_pts)
    weights = np.array(
        [1.0] * len(samples) + [10.0 if kd == "centre" else 5.0 for kd in places["kind"]]
    )
    if not demand:
        raise EmptyAreaError("no circuit and no places to site information points on")
    xy = np.array([(p.x, p.y) for p in demand])
    cost = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)  # clients x sites
    chosen = maximal_covering(cost, weights, radius=radius_m, k=min(k, len(demand)), method=method)
    covered = np.zeros(len(demand), dtype=bool)
    rows = []
    for rank, site in enumerate(chosen.sites, start=1):
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
                "solver": chosen.solver,
                "geometry": demand[site],
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
