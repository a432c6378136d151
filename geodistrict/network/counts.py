"""Accessibility: units of each category reachable from every street node.

Exact under the engine's convention (:mod:`geodistrict.network.engine`: whole
millimetres, units snapped to their nearest node plus the offset).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from geodistrict.errors import MissingColumnError, ParameterError
from geodistrict.network.engine import (
    GraphArrays,
    graph_arrays,
    local_distances,
    nearest_nodes,
)

__all__ = ["accessibility", "accessibility_reference"]


def _count_columns(categories: list[str], distances: tuple[float, ...]) -> list[str]:
    cols = []
    for d in distances:
        tag = f"{d:g}"
        cols.append(f"n{tag}_total")
        cols += [f"n{tag}_{c}" for c in categories]
    return cols


def _prepare_units(
    arrays: GraphArrays, units: gpd.GeoDataFrame, category: str | None, snap_offsets: bool = True
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    snapped = nearest_nodes(arrays, units)
    if not snap_offsets:
        snapped["offset_mm"] = 0
    if category is not None:
        if category not in units.columns:
            raise MissingColumnError(
                "units",
                category,
                hint="classify them first (gd.classify_units) or pass category=None",
            )
        cats = units[category].astype(str)
        names = sorted(cats.unique())
        codes = pd.Categorical(cats, categories=names).codes
    else:
        names, codes = [], np.zeros(len(units), dtype=np.int64)
    return (
        snapped["pos"].to_numpy(),
        snapped["offset_mm"].to_numpy(),
        names,
        np.asarray(codes, dtype=np.int64),
    )


def _as_frame(
    counts: np.ndarray, arrays: GraphArrays, names: list[str], distances: tuple[float, ...]
) -> pd.DataFrame:
    data: dict[str, np.ndarray] = {}
    for i, d in enumerate(distances):
        tag = f"{d:g}"
        data[f"n{tag}_total"] = counts[i].sum(axis=0).astype(np.int32)
        for k, name in enumerate(names):
            data[f"n{tag}_{name}"] = counts[i, k].astype(np.int32)
    frame = pd.DataFrame(data, index=pd.Index(arrays.nodes, name="node"))
    return frame[_count_columns(names, distances)]


def accessibility(
    graph: nx.MultiDiGraph | GraphArrays,
    units: gpd.GeoDataFrame,
    *,
    category: str | None = "category",
    distances: tuple[float, ...] = (400.0, 800.0, 1600.0),
    max_batch_bytes: int = 32 * 2**20,
    snap_offsets: bool = True,
) -> pd.DataFrame:
    """Units of each category reachable from every street node within network distances.

    Exact under the module's convention (whole millimetres, units snapped to
    their nearest node plus the offset; see the comment above
    :class:`GraphArrays`): the counts equal :func:`accessibility_reference`,
    a plain networkx Dijkstra loop, on every node.  The work runs Dijkstra
    *backwards* from the distinct unit nodes (usually far fewer than street
    nodes), in batches of at most ``max_batch_bytes`` of dense distances.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphArrays
        The street graph (e.g. ``walk_graph``), projected.
    units : GeoDataFrame
        Points in the graph's CRS.
    category : str or None, default "category"
        Column to count by; ``None`` counts totals only.
    distances : tuple of float, default (400, 800, 1600)
        Network distances in metres.
    max_batch_bytes : int, default 32 MiB
        Memory bound of one batch.
    snap_offsets : bool, default True
        Add each unit's straight-line distance to its node; ``False`` counts
        units as if they stood on their node (pandana's convention).

    Returns
    -------
    DataFrame
        Indexed by node id (``node``), one int32 column ``n<d>_total`` and one
        ``n<d>_<category>`` per category and distance.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.taxonomy import classify
    >>> layers = gd.datasets.sample_layers()
    >>> units = classify(layers.pois).units
    >>> acc = accessibility(layers.walk_graph, units)
    >>> bool((acc["n400_total"] <= acc["n800_total"]).all()), "n800_food" in acc
    (True, True)
    """
    from scipy import sparse

    arrays = graph_arrays(graph)
    dists = tuple(float(d) for d in distances)
    if not dists or any(d <= 0 for d in dists):
        raise ParameterError(f"distances must be positive metres, got {distances!r}")
    pos, off, names, codes = _prepare_units(arrays, units, category, snap_offsets)
    n_cat = max(1, len(names))
    counts = np.zeros((len(dists), n_cat, arrays.n), dtype=np.int64)
    if len(pos) == 0:
        return _as_frame(counts, arrays, names, dists)
    limits = np.floor(np.asarray(dists) * 1000.0 + 1e-6)
    uniq, inverse = np.unique(pos, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    # Each unit-node batch is a (batch, n) block; its units' rows are another.
    per_row = max(1, int(np.ceil(len(pos) / len(uniq))))
    bytes_per_source = max(1, max_batch_bytes // (1 + per_row))
    row_of = np.empty(len(uniq), dtype=np.int64)
    for which, nodes, dist in local_distances(
        arrays, uniq, cutoff_m=max(dists), reverse=True, max_batch_bytes=bytes_per_source
    ):
        # the units standing on this batch's nodes, and their row in the block
        members = np.concatenate([order[bounds[i] : bounds[i + 1]] for i in which])
        row_of[which] = np.arange(len(which))
        local = row_of[inverse[members]]
        # Only the reached (finite) cells count: sparse rows, so the work follows the
        # size of the walking neighbourhoods, not the size of the network.
        reached = sparse.csr_matrix(np.where(np.isfinite(dist), dist + 1.0, 0.0))
        rows = reached[local]  # one row per unit of the batch; stored values are mm + 1
        per_row = np.diff(rows.indptr)
        reach = rows.data - 1.0 + np.repeat(off[members], per_row)
        # counted in the batch's own nodes, then added to theirs: O(neighbourhood) per batch
        cells = np.repeat(codes[members], per_row) * len(nodes) + rows.indices
        for i, lim in enumerate(limits):
            ok = reach <= lim
            block = np.bincount(cells[ok], minlength=n_cat * len(nodes))
            counts[i][:, nodes] += block.reshape(n_cat, len(nodes))
    return _as_frame(counts, arrays, names, dists)


def accessibility_reference(
    graph: nx.MultiDiGraph,
    units: gpd.GeoDataFrame,
    *,
    category: str | None = "category",
    distances: tuple[float, ...] = (400.0, 800.0, 1600.0),
    sources: list[Any] | None = None,
    snap_offsets: bool = True,
) -> pd.DataFrame:
    """The plain networkx version of :func:`accessibility` (slow; for tests and benchmarks).

    One ``networkx.single_source_dijkstra_path_length`` per street node, on
    a ``DiGraph`` whose edges weigh their length in whole millimetres, with
    the same snapping convention (:func:`nearest_nodes`).

    Parameters
    ----------
    graph, units, category, distances, snap_offsets
        As :func:`accessibility`.
    sources : list of node ids, optional
        Compute only these rows (default: every node).

    Returns
    -------
    DataFrame
        Like :func:`accessibility`, for the ``sources`` rows.
    """
    arrays = graph_arrays(graph)
    dists = tuple(float(d) for d in distances)
    pos, off, names, codes = _prepare_units(arrays, units, category, snap_offsets)
    # Built from the graph itself (not from the sparse matrix): same convention,
    # whole millimetres and the shortest of parallel edges, separate code.
    simple = nx.DiGraph()
    simple.add_nodes_from(graph.nodes)
    for u, v, data in graph.edges(data=True):
        mm = float(np.rint(data["length"] * 1000.0))
        if u != v and (not simple.has_edge(u, v) or simple[u][v]["mm"] > mm):
            simple.add_edge(u, v, mm=mm)
    where = {node: i for i, node in enumerate(graph.nodes)}
    limits = np.floor(np.asarray(dists) * 1000.0 + 1e-6)
    rows = arrays.positions(sources) if sources is not None else np.arange(arrays.n)
    n_cat = max(1, len(names))
    counts = np.zeros((len(dists), n_cat, len(rows)), dtype=np.int64)
    for j, s in enumerate(rows):
        lengths = nx.single_source_dijkstra_path_length(
            simple, arrays.nodes[s], cutoff=limits.max(), weight="mm"
        )
        node_dist = np.full(arrays.n, np.inf)
        node_dist[[where[node] for node in lengths]] = list(lengths.values())
        reach = node_dist[pos] + off
        for i, lim in enumerate(limits):
            counts[i, :, j] = np.bincount(codes[reach <= lim], minlength=n_cat)
    sub = GraphArrays(nodes=arrays.nodes[rows], xy=arrays.xy[rows], matrix=None)
    return _as_frame(counts, sub, names, dists)
