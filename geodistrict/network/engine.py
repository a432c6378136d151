"""The network engine: a street graph as arrays, snapping, bounded shortest paths.

Every analysis of geodistrict (commerce, priority, cycling, production, the
OGC API processes) computes network distances here, on one representation
built once per graph (:func:`graph_arrays`, memoised on the graph object, as
cityseer keeps its ``NetworkStructure``).

Conventions
-----------
* Distances are counted in **whole millimetres**: each edge weighs its
  ``length`` rounded to the nearest mm (the smallest of parallel edges). Integer
  sums are exact in float64, so any correct shortest-path algorithm (scipy's,
  networkx's, forwards or backwards) gives bit-identical distances, and "within
  400 m" means ``d_mm <= 400_000``. Public functions take and return metres.
* A point (a shop, a home) is snapped to its nearest graph node and its
  straight-line offset, rounded to the mm, is added to the network distance.
  With ``largest_component=True`` it snaps to the nearest node of the largest
  *strongly* connected component, so that a route can leave it and come back
  (a dead-end or one-way trap would otherwise reach almost nothing).
* Edge arrays (``edge_u``, ``edge_v``, ``edge_mm``) follow the order of
  ``graph.edges(keys=True)``; :func:`edge_values` reads any edge attribute in
  that order, so a mask over edges (e.g. low-stress edges) is a plain boolean
  array and :meth:`GraphArrays.subgraph` keeps only those edges.
* Work is done in batches of sources whose dense distance block stays under
  ``max_batch_bytes``, so memory is flat as the network grows.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geodistrict import _validate
from geodistrict.errors import EmptyAreaError, ParameterError
from geodistrict.network import search
from geodistrict.network.lazy import GraphTables, pending_tables
from geodistrict.network.search import _submatrix, _tiles

log = logging.getLogger(__name__)

__all__ = [
    "GraphArrays",
    "component_labels",
    "distances_within",
    "edge_values",
    "graph_arrays",
    "local_distances",
    "multi_source_distance",
    "nearest_nodes",
    "reach_counts",
    "route",
    "shortest_paths",
]

_DEFAULT_BATCH = 32 * 2**20


def _csr(n: int, u: np.ndarray, v: np.ndarray, w_mm: np.ndarray) -> sparse.csr_matrix:
    """Sparse adjacency in mm keeping the shortest of parallel edges, loops dropped.

    Zero-length edges are stored as explicit entries: scipy's csgraph treats
    explicit zeros of a CSR matrix as edges.
    """
    keep = u != v
    u, v, w = u[keep], v[keep], w_mm[keep]
    if len(u) == 0:
        return sparse.csr_matrix((n, n), dtype=float)
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w = u[first], v[first], w[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, u + 1, 1)
    return sparse.csr_matrix(
        (w.astype(float), v.astype(np.int32), np.cumsum(indptr)), shape=(n, n)
    )


@dataclass(frozen=True, eq=False)
class GraphArrays:
    """A street graph as arrays: node ids and positions, edges, a sparse matrix in mm.

    Attributes
    ----------
    nodes : ndarray
        Node ids; a node's position in this array is its matrix row/column.
    xy : ndarray, shape (n, 2)
        Projected node coordinates (working CRS, metres).
    matrix : scipy.sparse.csr_matrix
        ``matrix[i, j]`` is the length in whole millimetres of the shortest
        edge from node ``i`` to node ``j`` (explicit zeros are edges).
    edge_u, edge_v : ndarray of int
        Matrix positions of each edge's ends, in ``graph.edges(keys=True)`` order.
    edge_mm : ndarray of float
        Each edge's length in whole millimetres, same order.
    """

    nodes: np.ndarray
    xy: np.ndarray
    matrix: Any
    edge_u: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    edge_v: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    edge_mm: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        """Number of directed edges (parallel edges and loops included)."""
        return len(self.edge_u)

    def positions(self, node_ids: Any) -> np.ndarray:
        """Matrix positions of the given node ids."""
        lookup = pd.Index(self.nodes)
        pos = lookup.get_indexer(np.asarray(node_ids))
        if (pos < 0).any():
            missing = np.asarray(node_ids)[pos < 0][:5].tolist()
            raise ParameterError(f"node ids not in the graph: {missing!r}")
        return pos

    @cached_property
    def transposed(self) -> sparse.csr_matrix:
        """The matrix of the reversed graph (distances *to* a node)."""
        return self.matrix.T.tocsr()

    @cached_property
    def mm_per_metre(self) -> float:
        """Least edge weight (mm) per metre of straight line between its ends.

        Any path weighs at least this times the straight-line distance between
        its ends, so a search bounded by ``limit`` mm never leaves the disc of
        radius ``limit / mm_per_metre`` metres around its source: the bound that
        makes :func:`local_distances` exact. 0 when no such bound holds (an
        edge of weight 0 between distinct points, or missing coordinates).
        """
        coo = self.matrix.tocoo()
        if coo.nnz == 0:
            return np.inf
        xy = np.asarray(self.xy, dtype=float)
        if xy.shape != (self.n, 2) or not np.isfinite(xy).all():
            return 0.0
        straight = np.hypot(*(xy[coo.row] - xy[coo.col]).T)
        moving = straight > 0
        if not moving.any():
            return np.inf
        ratio = float(np.min(coo.data[moving] / straight[moving]))
        return max(ratio, 0.0)

    @cached_property
    def all_positions(self) -> np.ndarray:
        """``arange(n)``, read-only: the nodes of a whole-graph search."""
        out = np.arange(self.n)
        out.setflags(write=False)
        return out

    @cached_property
    def span(self) -> np.ndarray:
        """Extent of the nodes along x and y (metres)."""
        xy = np.asarray(self.xy, dtype=float)
        return np.ptp(xy, axis=0) if self.n else np.zeros(2)

    @cached_property
    def largest_component(self) -> np.ndarray:
        """Boolean mask of the nodes of the largest strongly connected component."""
        if self.n == 0:
            return np.zeros(0, dtype=bool)
        labels = component_labels(self, strong=True)
        return labels == np.bincount(labels).argmax()

    def with_edges(self, u: np.ndarray, v: np.ndarray, edge_mm: np.ndarray) -> GraphArrays:
        """The same nodes with extra directed edges appended (e.g. candidate connectors).

        Parameters
        ----------
        u, v : array of int
            Matrix positions of the new edges' ends.
        edge_mm : array of float
            Their lengths in millimetres.

        Examples
        --------
        >>> import geodistrict as gd
        >>> arrays = gd.network.graph_arrays(gd.datasets.grid_graph(1, 3, spacing_m=100))
        >>> grown = arrays.with_edges(np.array([0]), np.array([2]), np.array([150_000.0]))
        >>> grown.n_edges - arrays.n_edges, float(grown.matrix[0, 2])
        (1, 150000.0)
        """
        u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
        mm = np.rint(np.asarray(edge_mm, dtype=float))
        if not len(u) == len(v) == len(mm):
            raise ParameterError(
                f"u, v and edge_mm differ in length: {len(u)}, {len(v)}, {len(mm)}"
            )
        if len(u) and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= self.n):
            raise ParameterError(f"new edges must join node positions 0..{self.n - 1}")
        all_u = np.concatenate([self.edge_u, u])
        all_v = np.concatenate([self.edge_v, v])
        all_mm = np.concatenate([self.edge_mm, mm])
        return GraphArrays(
            nodes=self.nodes,
            xy=self.xy,
            matrix=_csr(self.n, all_u, all_v, all_mm),
            edge_u=all_u,
            edge_v=all_v,
            edge_mm=all_mm,
        )

    def subgraph(self, edge_mask: np.ndarray) -> GraphArrays:
        """The same nodes with only the edges where ``edge_mask`` is true.

        Parameters
        ----------
        edge_mask : array of bool
            One value per edge, in the order of :attr:`edge_u`.

        Examples
        --------
        >>> import geodistrict as gd
        >>> arrays = gd.network.graph_arrays(gd.datasets.grid_graph(3, 3, spacing_m=100))
        >>> arrays.subgraph(arrays.edge_mm > 1e9).matrix.nnz
        0
        """
        return self.with_weights(self.edge_mm, edge_mask=edge_mask)

    def with_weights(
        self, edge_mm: np.ndarray, *, edge_mask: np.ndarray | None = None
    ) -> GraphArrays:
        """The same nodes and edges weighed by ``edge_mm`` (e.g. a stress-penalised length).

        Weights are rounded to whole millimetres; ``edge_mask`` keeps only some edges.
        """
        weights = np.rint(np.asarray(edge_mm, dtype=float))
        if weights.shape != self.edge_mm.shape:
            raise ParameterError(
                f"edge weights must have one value per edge ({self.n_edges}), got {weights.shape}"
            )
        mask = np.ones(self.n_edges, dtype=bool) if edge_mask is None else np.asarray(edge_mask)
        if mask.shape != self.edge_mm.shape or mask.dtype != bool:
            raise ParameterError(
                f"edge_mask must be {self.n_edges} booleans, got {mask.dtype} {mask.shape}"
            )
        return GraphArrays(
            nodes=self.nodes,
            xy=self.xy,
            matrix=_csr(self.n, self.edge_u[mask], self.edge_v[mask], weights[mask]),
            edge_u=self.edge_u[mask],
            edge_v=self.edge_v[mask],
            edge_mm=weights[mask],
        )


# Memo of graph_arrays by graph object; an entry is reused only while the graph
# keeps the same number of nodes and edges (graphs are treated as immutable).
_MEMO: weakref.WeakKeyDictionary[Any, tuple[tuple[int, int, str], GraphArrays]] = (
    weakref.WeakKeyDictionary()
)


def graph_arrays(graph: nx.MultiDiGraph | GraphArrays, *, weight: str = "length") -> GraphArrays:
    """A projected street graph as :class:`GraphArrays` (weights in whole mm).

    Built once per graph object and weight, then reused: every analysis calling
    this on the same graph shares one set of arrays.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphArrays
        A projected graph (nodes with ``x``/``y``, edges with ``weight`` in
        metres), e.g. from :func:`geodistrict.network.build_graph` or osmnx
        after ``ox.project_graph``. ``GraphArrays`` are returned as they are.
    weight : str, default "length"
        Edge attribute holding the length in metres.

    Returns
    -------
    GraphArrays

    Raises
    ------
    CRSError
        If the graph has no projected ``crs``.
    ParameterError
        If an edge has no valid ``weight``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> g = gd.datasets.grid_graph(3, 4, spacing_m=100)
    >>> arrays = graph_arrays(g)
    >>> arrays.n, arrays.n_edges, float(arrays.matrix.max())
    (12, 34, 100000.0)
    >>> graph_arrays(g) is arrays
    True
    """
    if isinstance(graph, GraphArrays):
        return graph
    _validate.projected_graph(graph)
    tables = pending_tables(graph)  # a LazyGraph not built yet: read its tables
    stamp = (
        (len(tables.nodes), len(tables.edges), weight)
        if tables is not None
        else (graph.number_of_nodes(), graph.number_of_edges(), weight)
    )
    try:
        cached = _MEMO.get(graph)
    except TypeError:
        cached = None
    if cached is not None and cached[0] == stamp:
        return cached[1]
    arrays = (
        _arrays_from_tables(tables, weight) if tables is not None else _build_arrays(graph, weight)
    )
    with contextlib.suppress(TypeError):  # a graph class without weak references
        _MEMO[graph] = (stamp, arrays)
    return arrays


def _build_arrays(graph: nx.MultiDiGraph, weight: str) -> GraphArrays:
    ids = list(graph.nodes)
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    rows, cols, lengths = [], [], []
    for u, v, data in graph.edges(data=True):
        length = data.get(weight)
        if length is None or not np.isfinite(length) or length < 0:
            raise ParameterError(f"edge ({u!r}, {v!r}) has no valid {weight!r}: {length!r}")
        rows.append(u)
        cols.append(v)
        lengths.append(length)
    return _arrays(ids, xy, rows, cols, lengths)


def _arrays(
    ids: list[Any], xy: np.ndarray, rows: list[Any], cols: list[Any], lengths: list[Any]
) -> GraphArrays:
    try:
        nodes = np.array(ids, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        nodes = np.array(ids, dtype=object)
    if xy.size == 0:
        xy = xy.reshape(0, 2)
    index = pd.Index(ids)
    edge_u = index.get_indexer(pd.Index(rows, dtype=index.dtype)) if rows else np.zeros(0, int)
    edge_v = index.get_indexer(pd.Index(cols, dtype=index.dtype)) if cols else np.zeros(0, int)
    edge_u = np.asarray(edge_u, dtype=np.int64)
    edge_v = np.asarray(edge_v, dtype=np.int64)
    edge_mm = np.rint(np.asarray(lengths, dtype=float) * 1000.0)
    return GraphArrays(
        nodes=nodes,
        xy=xy,
        matrix=_csr(len(ids), edge_u, edge_v, edge_mm),
        edge_u=edge_u,
        edge_v=edge_v,
        edge_mm=edge_mm,
    )


def _arrays_from_tables(tables: GraphTables, weight: str) -> GraphArrays:
    """:func:`_build_arrays` of the graph the tables make, without building it."""
    ids = tables.nodes.index.tolist()
    xy = tables.nodes[["x", "y"]].to_numpy(dtype=float).reshape(-1, 2)
    edges = tables.edges.iloc[tables.edge_order()]
    lengths = tables.edge_column(weight) if len(edges) else []
    bad = [i for i, x in enumerate(lengths) if x is None or not np.isfinite(x) or x < 0]
    if bad:
        u, v = edges["u"].iloc[bad[0]], edges["v"].iloc[bad[0]]
        raise ParameterError(f"edge ({u!r}, {v!r}) has no valid {weight!r}: {lengths[bad[0]]!r}")
    return _arrays(ids, xy, edges["u"].tolist(), edges["v"].tolist(), lengths)


def edge_values(graph: nx.MultiDiGraph, name: str, default: Any = None) -> np.ndarray:
    """One attribute of every edge, in the order of :class:`GraphArrays` edges.

    Always a 1-D array with one item per edge: list values (osmnx's merged
    ``osmid`` lists) stay whole items of an object array.

    Examples
    --------
    >>> import geodistrict as gd
    >>> g = gd.datasets.grid_graph(2, 2, spacing_m=50)
    >>> edge_values(g, "length")[:2].tolist()
    [50.0, 50.0]
    >>> g.edges[0, 1, 0]["osmid"] = [11, 12]
    >>> edge_values(g, "osmid")[:2].tolist()
    [[11, 12], None]
    """
    tables = pending_tables(graph)
    values = (
        tables.edge_column(name, default)
        if tables is not None
        else [data.get(name, default) for _, _, data in graph.edges(data=True)]
    )
    out = np.empty(len(values), dtype=object)
    out[:] = values
    if values and all(isinstance(v, int | float | np.number) for v in values):
        return (
            out.astype(float)
            if any(isinstance(v, float) for v in values)
            else out.astype(np.int64)
        )
    return out


def component_labels(graph: nx.MultiDiGraph | GraphArrays, *, strong: bool = True) -> np.ndarray:
    """Connected-component label of every node (strongly connected by default)."""
    arrays = graph_arrays(graph)
    _, labels = csgraph.connected_components(
        arrays.matrix, directed=True, connection="strong" if strong else "weak"
    )
    return np.asarray(labels)


def _points(points: gpd.GeoSeries | gpd.GeoDataFrame) -> gpd.GeoSeries:
    return points.geometry if isinstance(points, gpd.GeoDataFrame) else points


def nearest_nodes(
    graph: nx.MultiDiGraph | GraphArrays,
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    largest_component: bool = False,
) -> pd.DataFrame:
    """Snap points to their nearest graph node (straight line).

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphArrays
        The street graph, in the same projected CRS as ``points``.
    points : GeoSeries or GeoDataFrame
        Points (other geometries use their representative point).
    largest_component : bool, default False
        Snap only to nodes of the largest strongly connected component, so
        that routes from and to the point exist both ways.

    Returns
    -------
    DataFrame
        Indexed like ``points``: ``node`` (node id), ``pos`` (matrix
        position), ``offset_m`` (straight-line distance to the node, metres,
        rounded to the mm) and ``offset_mm`` (the same, integer mm).

    Examples
    --------
    >>> import geopandas as gpd, geodistrict as gd
    >>> from shapely.geometry import Point
    >>> g = gd.datasets.grid_graph(3, 3, spacing_m=100)
    >>> pts = gpd.GeoSeries([Point(10, 0), Point(190, 160)], crs=g.graph["crs"])
    >>> nearest_nodes(g, pts)[["pos", "offset_m"]].values.tolist()
    [[0.0, 10.0], [8.0, 41.231]]
    """
    from scipy.spatial import cKDTree

    arrays = graph_arrays(graph)
    geoms = _points(points)
    if geoms.crs is not None:
        _validate.projected_crs(geoms.crs, what="points")
    if arrays.n == 0:
        raise EmptyAreaError("the graph has no nodes to snap to")
    pts = shapely.get_coordinates(geoms.representative_point().to_numpy())
    if len(pts) != len(geoms):
        raise ParameterError("points must not be empty geometries")
    candidates = (
        np.flatnonzero(arrays.largest_component) if largest_component else np.arange(arrays.n)
    )
    if len(pts) == 0:
        dist, pos = np.zeros(0), np.zeros(0, dtype=np.int64)
    else:
        dist, local = cKDTree(arrays.xy[candidates]).query(pts)
        pos = candidates[np.asarray(local, dtype=np.int64)]
    offset_mm = np.rint(np.asarray(dist) * 1000.0).astype(np.int64)
    return pd.DataFrame(
        {"node": arrays.nodes[pos], "pos": pos, "offset_m": offset_mm / 1000.0,
         "offset_mm": offset_mm},
        index=geoms.index,
    )  # fmt: skip


def _limit_mm(cutoff_m: float) -> float:
    if not np.isfinite(cutoff_m):
        return np.inf
    if cutoff_m < 0:
        raise ParameterError(f"cutoff must be a non-negative distance in metres, got {cutoff_m!r}")
    return float(np.floor(cutoff_m * 1000.0 + 1e-6))


def _batch_rows(n_nodes: int, max_batch_bytes: int) -> int:
    return max(1, int(max_batch_bytes // max(1, 8 * n_nodes)))


def distances_within(
    graph: nx.MultiDiGraph | GraphArrays,
    sources: np.ndarray,
    *,
    cutoff_m: float,
    reverse: bool = False,
    max_batch_bytes: int = _DEFAULT_BATCH,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Network distances from source nodes to every node within a cutoff, in batches.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphArrays
        The graph (:func:`graph_arrays`).
    sources : array of int
        Matrix positions of the sources.
    cutoff_m : float
        Largest distance computed (metres); farther nodes get ``inf``.
    reverse : bool, default False
        Distances *to* the sources instead of *from* them (the transposed graph).
    max_batch_bytes : int, default 32 MiB
        Size of the dense distance block of one batch; memory stays flat.

    Yields
    ------
    (positions, distances_mm)
        The batch's source positions and a ``(batch, n)`` float array of
        distances in whole millimetres (``inf`` beyond the cutoff).

    Examples
    --------
    >>> import geodistrict as gd
    >>> arrays = graph_arrays(gd.datasets.grid_graph(3, 3, spacing_m=100))
    >>> batch, dist = next(distances_within(arrays, np.array([0, 4]), cutoff_m=150))
    >>> dist.shape, dist[0, :3].tolist()
    ((2, 9), [0.0, 100000.0, inf])
    """
    arrays = graph_arrays(graph)
    matrix = arrays.transposed if reverse else arrays.matrix
    limit = _limit_mm(cutoff_m)
    sources = np.asarray(sources, dtype=np.int64)
    step = _batch_rows(arrays.n, max_batch_bytes)
    for start in range(0, len(sources), step):
        batch = sources[start : start + step]
        yield batch, csgraph.dijkstra(matrix, directed=True, indices=batch, limit=limit)


def local_distances(
    graph: nx.MultiDiGraph | GraphArrays,
    sources: np.ndarray,
    *,
    cutoff_m: float,
    reverse: bool = False,
    max_batch_bytes: int = _DEFAULT_BATCH,
    mm_per_metre: float | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Bounded distances from sources, each searched only in its own neighbourhood.

    Sources are grouped in square tiles; a tile's sources search the subgraph
    of the nodes within reach of the tile (the tile grown by the largest
    straight-line distance a path of ``cutoff_m`` can cover, see
    :attr:`GraphArrays.mm_per_metre`). Every node within the cutoff and every
    shortest path to it lie inside, so the distances are exactly those of the
    whole graph, and the work per source follows the size of its neighbourhood,
    not of the network: the total grows linearly with the network for a fixed
    cutoff. Graphs without a straight-line bound, or small enough for one
    neighbourhood to cover them, are searched whole, and so are the sources of
    a tile whose neighbourhood is not much smaller than the graph (cutting it
    out would cost more than the whole search); the distances are the same.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphArrays
    sources : array of int
        Matrix positions of the sources.
    cutoff_m : float
        Largest distance computed (metres, finite).
    reverse : bool, default False
        Distances *to* the sources instead of *from* them.
    max_batch_bytes : int, default 32 MiB
        Size of one dense block of distances; memory stays flat.
    mm_per_metre : float, optional
        A lower bound to use if below the graph's own
        :attr:`GraphArrays.mm_per_metre` (the least of the two is used, so
        the distances stay exact): e.g. that of the graph a
        :meth:`GraphArrays.subgraph` was cut from, so that searches on both
        come in the same batches over the same nodes.

    Yields
    ------
    (which, nodes, distances_mm)
        ``which``: indices into ``sources`` of this batch (every source comes
        once, in tile order); ``nodes``: the matrix positions of the searched
        nodes; ``distances_mm``: a ``(len(which), len(nodes))`` array in whole
        millimetres, ``inf`` beyond the cutoff. Nodes not in ``nodes`` are
        beyond the cutoff.

    Examples
    --------
    >>> import geodistrict as gd
    >>> arrays = graph_arrays(gd.datasets.grid_graph(1, 2000, spacing_m=100))
    >>> which, nodes, dist = next(local_distances(arrays, np.array([0]), cutoff_m=150))
    >>> which.tolist(), dist[0][np.isfinite(dist[0])].tolist(), len(nodes) < 2000
    ([0], [0.0, 100000.0], True)
    """
    arrays = graph_arrays(graph)
    matrix = arrays.transposed if reverse else arrays.matrix
    limit = _limit_mm(cutoff_m)
    sources = np.asarray(sources, dtype=np.int64)
    if len(sources) == 0:
        return
    ratio = arrays.mm_per_metre
    if mm_per_metre is not None:
        ratio = min(ratio, max(float(mm_per_metre), 0.0))
    xy = np.asarray(arrays.xy, dtype=float)
    span = arrays.span
    reach = (limit / ratio) * (1 + 1e-9) + 1e-3 if ratio > 0 and np.isfinite(limit) else np.inf
    # A tile of half the reach: its neighbourhood is (2.5 reach)^2, 6x the disc searched.
    tile = reach / 2
    whole_step = _batch_rows(arrays.n, max_batch_bytes)
    area = max(float(span[0]), reach) * max(float(span[1]), reach)  # a line has some width
    node_density = arrays.n / area if np.isfinite(reach) else np.inf
    k = len(sources)  # even one tile of them all would not pay for cutting a square out:
    too_dense = (search._LOCAL_COST + k) * node_density * (2 * reach) ** 2 >= k * arrays.n
    if not np.isfinite(reach) or bool(np.all(span <= 2 * reach + tile)) or too_dense:
        for start in range(0, len(sources), whole_step):
            which = np.arange(start, min(start + whole_step, len(sources)))
            dist = csgraph.dijkstra(matrix, directed=True, indices=sources[which], limit=limit)
            yield which, arrays.all_positions, dist
        return
    tile = search.tile_size(reach, len(sources), span)
    index = _tiles(arrays, tile)
    columns, by_key, sorted_keys = index.columns, index.by_key, index.sorted_keys
    source_keys = index.node_keys[sources]
    order = np.argsort(source_keys, kind="stable")
    tiles, first = np.unique(source_keys[order], return_index=True)
    bounds = np.append(first, len(order))
    ring = int(np.ceil(reach / tile))
    whole: list[np.ndarray] = []
    for t, key in enumerate(tiles):
        which = order[bounds[t] : bounds[t + 1]]
        box_lo = xy[sources[which]].min(axis=0) - reach
        box_hi = xy[sources[which]].max(axis=0) + reach
        expected = node_density * float(np.prod(box_hi - box_lo))  # nodes, if spread evenly
        if (search._LOCAL_COST + len(which)) * expected >= len(which) * arrays.n:
            whole.append(which)  # far too large a neighbourhood: no need to cut it out
            continue
        tx, ty = int(key % columns), int(key // columns)
        keys = [
            (ty + dy) * columns + (tx + dx)
            for dy in range(-ring, ring + 1)
            for dx in range(-ring, ring + 1)
            if 0 <= tx + dx < columns
        ]
        lo = np.searchsorted(sorted_keys, keys, side="left")
        hi = np.searchsorted(sorted_keys, keys, side="right")
        near = np.concatenate([by_key[a:b] for a, b in zip(lo, hi, strict=True)])
        inside = ((xy[near] >= box_lo) & (xy[near] <= box_hi)).all(axis=1)
        nodes = near[inside]
        if (search._LOCAL_COST + len(which)) * len(nodes) >= len(which) * arrays.n:
            whole.append(which)  # cutting it out would cost more than a whole search
            continue
        nodes = np.sort(nodes)
        sub = _submatrix(matrix, nodes)
        local_sources = np.searchsorted(nodes, sources[which])
        step = _batch_rows(len(nodes), max_batch_bytes)
        for start in range(0, len(which), step):
            part = slice(start, start + step)
            dist = csgraph.dijkstra(sub, directed=True, indices=local_sources[part], limit=limit)
            yield which[part], nodes, dist
    if whole:
        rest = np.concatenate(whole)
        for start in range(0, len(rest), whole_step):
            batch = rest[start : start + whole_step]
            dist = csgraph.dijkstra(matrix, directed=True, indices=sources[batch], limit=limit)
            yield batch, arrays.all_positions, dist


def multi_source_distance(
    graph: nx.MultiDiGraph | GraphArrays,
    sources: np.ndarray,
    offsets_mm: np.ndarray | None = None,
    *,
    cutoff_m: float = np.inf,
    reverse: bool = True,
) -> np.ndarray:
    """Distance (m) between every node and its nearest source, offsets included.

    One Dijkstra from a virtual node joined to each source node by an edge of
    its offset, so ``result[i] = min_s dist(i -> s) + offset(s)`` (with
    ``reverse=True``, the default: the way from each node to the sources).

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphArrays
    sources : array of int
        Matrix positions of the sources (repeats allowed).
    offsets_mm : array of int, optional
        Offset of each source in mm (snap distance); default 0.
    cutoff_m : float, default inf
        Farther nodes get ``inf``.
    reverse : bool, default True
        Distance from each node to the sources; ``False`` from the sources.

    Returns
    -------
    ndarray of float, shape (n,)
        Metres (whole millimetres / 1000); ``inf`` when unreachable or beyond.

    Examples
    --------
    >>> import geodistrict as gd
    >>> arrays = graph_arrays(gd.datasets.grid_graph(3, 3, spacing_m=100))
    >>> d = multi_source_distance(arrays, np.array([0]), np.array([1500]))
    >>> d[:3].tolist()
    [1.5, 101.5, 201.5]
    """
    arrays = graph_arrays(graph)
    sources = np.asarray(sources, dtype=np.int64)
    offs = (
        np.zeros(len(sources), dtype=float)
        if offsets_mm is None
        else np.asarray(offsets_mm, float)
    )
    n = arrays.n
    if len(sources) == 0:
        return np.full(n, np.inf)
    base = arrays.transposed if reverse else arrays.matrix
    best = pd.Series(offs).groupby(sources).min()
    virtual = sparse.csr_matrix(
        (best.to_numpy(float), (np.full(len(best), n), best.index.to_numpy())),
        shape=(n + 1, n + 1),
    )
    grown = sparse.vstack([sparse.hstack([base, sparse.csr_matrix((n, 1))]), virtual[n]]).tocsr()
    dist = csgraph.dijkstra(grown, directed=True, indices=n, limit=_limit_mm(cutoff_m))[:n]
    return np.asarray(dist) / 1000.0


def reach_counts(
    graph: nx.MultiDiGraph | GraphArrays,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    cutoff_m: float,
    target_offsets_mm: np.ndarray | None = None,
    categories: np.ndarray | None = None,
    n_categories: int | None = None,
    weights: np.ndarray | None = None,
    max_batch_bytes: int = _DEFAULT_BATCH,
) -> np.ndarray:
    """How many targets of each category every source reaches within a distance.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphArrays
        The graph (possibly a :meth:`GraphArrays.subgraph`).
    sources : array of int
        Matrix positions of the sources.
    targets : array of int
        Matrix positions of the targets (repeats allowed: one entry per target).
    cutoff_m : float
        A target counts when ``dist(source -> target node) + offset <= cutoff``.
    target_offsets_mm : array, optional
        Snap offset of each target in mm (default 0).
    categories : array of int, optional
        Category code ``0..n_categories-1`` of each target (default: all 0).
    n_categories : int, optional
        Number of categories (default ``categories.max() + 1``).
    weights : array of float, optional
        Weight of each target (default 1: counts).
    max_batch_bytes : int, default 32 MiB
        Memory bound of one batch of sources.

    Returns
    -------
    ndarray of float, shape (len(sources), n_categories)

    Examples
    --------
    >>> import geodistrict as gd
    >>> arrays = graph_arrays(gd.datasets.grid_graph(1, 5, spacing_m=100))
    >>> reach_counts(arrays, np.array([0, 2]), np.array([1, 3, 4]), cutoff_m=250).ravel().tolist()
    [1.0, 3.0]
    """
    arrays = graph_arrays(graph)
    targets = np.asarray(targets, dtype=np.int64)
    codes = (
        np.zeros(len(targets), dtype=np.int64) if categories is None else np.asarray(categories)
    )
    n_cat = int(
        n_categories if n_categories is not None else (codes.max() + 1 if len(codes) else 1)
    )
    offs = (
        np.zeros(len(targets))
        if target_offsets_mm is None
        else np.asarray(target_offsets_mm, float)
    )
    w = np.ones(len(targets)) if weights is None else np.asarray(weights, float)
    sources = np.asarray(sources, dtype=np.int64)
    out = np.zeros((len(sources), n_cat))
    if len(targets) == 0 or len(sources) == 0:
        return out
    limit = _limit_mm(cutoff_m)
    # targets grouped by node (CSR): a batch gathers those of its own nodes only
    by_node = np.argsort(targets, kind="stable")
    starts = np.searchsorted(targets[by_node], np.arange(arrays.n + 1))
    for which, nodes, dist in local_distances(
        arrays, sources, cutoff_m=cutoff_m, max_batch_bytes=max_batch_bytes
    ):
        lengths = starts[nodes + 1] - starts[nodes]
        picked = by_node[
            np.repeat(starts[nodes] - (np.cumsum(lengths) - lengths), lengths)
            + np.arange(int(lengths.sum()))
        ]  # targets on the searched nodes; the others are beyond the cutoff
        column = np.repeat(np.arange(len(nodes)), lengths)
        ok = (dist[:, column] + offs[picked]) <= limit
        block = np.zeros((len(which), n_cat))
        for k in range(n_cat):
            sel = codes[picked] == k
            if sel.any():
                block[:, k] = ok[:, sel] @ w[picked][sel]
        out[which] = block
    return out


def shortest_paths(
    graph: nx.MultiDiGraph | GraphArrays,
    sources: np.ndarray,
    *,
    cutoff_m: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Distances (m) and predecessors from each source, for :func:`route`.

    Returns
    -------
    (distances_m, predecessors)
        Arrays of shape ``(len(sources), n)``; predecessors are ``-9999``
        where there is none (scipy's convention).
    """
    arrays = graph_arrays(graph)
    dist, pred = csgraph.dijkstra(
        arrays.matrix,
        directed=True,
        indices=np.asarray(sources, dtype=np.int64),
        limit=_limit_mm(cutoff_m),
        return_predecessors=True,
    )
    return np.atleast_2d(dist) / 1000.0, np.atleast_2d(pred)


def route(predecessors: np.ndarray, source: int, target: int) -> list[int]:
    """Node positions of the shortest route from ``source`` to ``target``.

    ``predecessors`` is the row of :func:`shortest_paths` for ``source``;
    an empty list means no route.

    Examples
    --------
    >>> import geodistrict as gd
    >>> arrays = graph_arrays(gd.datasets.grid_graph(1, 4, spacing_m=100))
    >>> _, pred = shortest_paths(arrays, np.array([0]))
    >>> route(pred[0], 0, 3)
    [0, 1, 2, 3]
    """
    if source == target:
        return [int(source)]
    path = [int(target)]
    node = int(target)
    while node != source:
        node = int(predecessors[node])
        if node < 0:
            return []
        path.append(node)
    return path[::-1]
