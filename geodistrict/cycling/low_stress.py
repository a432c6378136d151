"""Low-stress connectivity: origin-destination reach and low-stress islands.

Origins (homes) and destinations (shops, schools, stations, services) are
snapped to their nearest graph node. A destination is reachable from an
origin when the shortest route is at most ``bikeshed_m`` long: on any legal
route, or on a low-stress route (every edge at LTS <= threshold), in the
spirit of the PeopleForBikes Bicycle Network Analysis. Low-stress islands are
the connected components of the low-stress edges (direction ignored).

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
from geodistrict.cycling.places import DESTINATION_CATEGORIES
from geodistrict.errors import ParameterError
from geodistrict.network import component_labels, graph_arrays, nearest_nodes, reach_counts

log = logging.getLogger(__name__)

__all__ = ["connectivity", "low_stress_islands"]

_DEST_HINT = (
    "make them with gd.cycling.destinations(pois, transit_stops), or add a 'category' "
    f"column with one of {', '.join(DESTINATION_CATEGORIES)}"
)


def _categories(destinations: gpd.GeoDataFrame) -> np.ndarray:
    """Category code of each destination (position in :data:`DESTINATION_CATEGORIES`)."""
    _validate.require_columns(destinations, ["category"], what="destinations", hint=_DEST_HINT)
    cats = list(DESTINATION_CATEGORIES)
    codes = destinations["category"].map({c: i for i, c in enumerate(cats)}).to_numpy()
    if np.isnan(codes.astype(float)).any():
        bad = sorted(set(destinations["category"]) - set(cats), key=str)
        raise ParameterError(f"unknown destination categories {bad!r}; expected one of {cats!r}")
    return codes.astype(int)


def connectivity(
    graph: nx.MultiDiGraph,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    threshold: int = 2,
    bikeshed_m: float = 2500.0,
) -> gpd.GeoDataFrame:
    """Share of destinations within the bike-shed that low-stress routes reach, per origin.

    For each category, destinations reachable within ``bikeshed_m`` on
    low-stress routes (every edge at LTS <= ``threshold``) divided by those
    reachable on any legal route. Origins and destinations are snapped to
    their nearest node; the route is counted from node to node.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Bike graph (scored by :func:`add_lts`, or scored here with defaults).
    origins, destinations : GeoDataFrame
        From :func:`origins` and :func:`destinations` (``category`` column),
        or your own points in the graph's projected CRS.
    threshold : int, default 2
        Highest stress level that counts as low (1-4).
    bikeshed_m : float, default 2500
        Longest route counted (m).

    Returns
    -------
    GeoDataFrame
        ``origins`` (same index) with ``low_<category>`` / ``any_<category>``
        counts per category and ``score`` (mean over categories with any
        reachable destination of the low/any share, 0-1; NaN when nothing is
        reachable). ``attrs["district_score"]`` is the share of all
        origin-destination pairs within reach that low-stress routes connect.

    Raises
    ------
    ParameterError
        If ``threshold`` is not 1-4, ``bikeshed_m`` not positive, or a
        destination category unknown.
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
    """
    check_threshold(threshold)
    _validate.positive(bikeshed_m, name="bikeshed_m")
    _validate.projected_frame(origins, what="origins")
    _validate.projected_frame(destinations, what="destinations")
    d_cat = _categories(destinations)
    graph = _scored(graph)
    arrays = graph_arrays(graph)
    cats = list(DESTINATION_CATEGORIES)
    o_nodes = nearest_nodes(arrays, origins)["pos"].to_numpy()
    d_nodes = nearest_nodes(arrays, destinations)["pos"].to_numpy()
    low = arrays.subgraph(edge_lts(graph) <= threshold)
    uniq, inverse = np.unique(o_nodes, return_inverse=True)
    any_counts, low_counts = (
        reach_counts(
            net, uniq, d_nodes, cutoff_m=bikeshed_m, categories=d_cat, n_categories=len(cats)
        )[inverse]
        for net in (arrays, low)
    )
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
        nearest_nodes(arrays, destinations)["pos"].to_numpy() if dest_cat is not None else None
    )
    orig_node = nearest_nodes(arrays, origins)["pos"].to_numpy() if origins is not None else None
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
