"""Street graphs from OSM street segments: who may walk or ride where.

Graphs are osmnx-compatible ``MultiDiGraph`` objects in the working CRS:
nodes carry ``x``/``y`` (projected), ``lon``/``lat``; edges carry ``osmid``
(the way id), ``length`` in metres, ``geometry``, ``oneway``, ``reversed`` and
the street tags kept by :data:`geodistrict.sources.osm.STREET_TAGS`. They are
simplified the osmnx way (interstitial nodes removed) without merging
different OSM ways, so every edge keeps one way's tags.

Access rules
------------
walk
    every ``highway`` except motorways, trunks and non-ways (construction,
    proposed, platform...), ``foot=no``, and private access without
    ``foot=yes|designated|permissive``; cycleways are walkable unless
    ``foot=no``. Both directions.
bike
    roads and cycleways without ``bicycle=no|dismount``; footways, paths,
    pedestrian streets, bridleways and tracks only with
    ``bicycle=yes|designated|permissive``; never motorways, steps, corridors,
    elevators. One-way streets are one way unless ``oneway:bicycle=no`` or an
    ``opposite*`` cycleway (contraflow).
"""

from __future__ import annotations

import logging
from typing import Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geodistrict import _validate

log = logging.getLogger(__name__)

Mode = Literal["walk", "bike", "all"]

__all__ = ["access_mask", "build_graph", "oneway_direction", "streets_from_graph"]

_NOT_A_WAY = {
    "proposed", "construction", "abandoned", "platform", "raceway", "bus_guideway", "escape",
    "razed", "disused", "planned", "no", "rest_area", "services",
}  # fmt: skip
_MOTOR_ONLY = {"motorway", "motorway_link", "trunk", "trunk_link"}
_BIKE_NEVER = {"steps", "corridor", "elevator", "busway"}
_BIKE_IF_ALLOWED = {"footway", "path", "pedestrian", "bridleway", "track", "trail", "sidewalk"}
_YES = {"yes", "designated", "permissive", "official", "use_sidepath"}
_PRIVATE = {"no", "private", "agricultural", "forestry", "delivery", "customers"}


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].astype(object).where(frame[name].notna(), None).astype(str)
    return pd.Series("None", index=frame.index)


def access_mask(segments: pd.DataFrame, mode: Mode) -> pd.Series:
    """Boolean mask of the segments that ``mode`` may use (see the module docstring)."""
    highway = _col(segments, "highway")
    access = _col(segments, "access")
    valid = ~highway.isin(_NOT_A_WAY) & (highway != "None")
    if mode == "all":
        return valid
    if mode == "walk":
        foot = _col(segments, "foot")
        private = access.isin(_PRIVATE) & ~foot.isin(_YES)
        return valid & ~highway.isin(_MOTOR_ONLY) & (foot != "no") & ~private
    bicycle = _col(segments, "bicycle")
    private = access.isin(_PRIVATE) & ~bicycle.isin(_YES)
    conditional = highway.isin(_BIKE_IF_ALLOWED) & ~bicycle.isin(_YES)
    banned = bicycle.isin({"no", "dismount", "use_sidepath"})
    return valid & ~highway.isin(_MOTOR_ONLY | _BIKE_NEVER) & ~conditional & ~banned & ~private


def oneway_direction(segments: pd.DataFrame, mode: Mode) -> pd.Series:
    """Travel direction allowed for ``mode``: 0 both ways, 1 forward only, -1 backward only."""
    if mode != "bike":
        return pd.Series(0, index=segments.index, dtype="int8")
    oneway = _col(segments, "oneway").str.lower()
    roundabout = _col(segments, "junction").isin({"roundabout", "circular"})
    direction = np.where(
        oneway.isin({"yes", "true", "1"}) | roundabout, 1, np.where(oneway == "-1", -1, 0)
    )
    contraflow = _col(segments, "oneway:bicycle").isin({"no", "false", "0"})
    for key in ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both"):
        contraflow |= _col(segments, key).str.startswith("opposite")
    direction = np.where(contraflow, 0, direction)
    return pd.Series(direction, index=segments.index, dtype="int8")


def build_graph(
    nodes: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    *,
    mode: Mode,
    crs: CRS | str,
    simplify: bool = True,
) -> nx.MultiDiGraph:
    """Build a directed, projected street graph for one travel mode.

    Parameters
    ----------
    nodes : GeoDataFrame
        Street nodes indexed by OSM id with ``x``/``y`` in EPSG:4326.
    segments : GeoDataFrame
        Street segments (``u``, ``v``, ``osmid``, tag columns), EPSG:4326.
    mode : {"walk", "bike", "all"}
        Who travels: selects the segments and the one-way rules.
    crs : CRS or str
        Projected working CRS of the graph.
    simplify : bool, default True
        Remove interstitial nodes (osmnx's ``simplify_graph``), keeping OSM
        ways apart.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-compatible graph; ``graph.graph`` holds ``crs``, ``mode`` and
        ``simplified``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> g = layers.bike_graph
    >>> g.graph["mode"], g.number_of_edges() > 1000
    ('bike', True)
    """
    import osmnx as ox

    target = _validate.projected_crs(crs, what="graph CRS")
    usable = segments[access_mask(segments, mode)]
    direction = oneway_direction(usable, mode)
    usable = usable.drop(columns=["tags"], errors="ignore").to_crs(target)
    usable["length"] = usable.geometry.length.round(3)
    used = pd.unique(np.concatenate([usable["u"].to_numpy(), usable["v"].to_numpy()]))
    node_frame = nodes.loc[nodes.index.isin(used)]
    projected = node_frame.to_crs(target)
    node_gdf = gpd.GeoDataFrame(
        {
            "x": projected.geometry.x.to_numpy(),
            "y": projected.geometry.y.to_numpy(),
            "lon": node_frame["x"].to_numpy(),
            "lat": node_frame["y"].to_numpy(),
        },
        geometry=projected.geometry.to_numpy(),
        index=node_frame.index,
        crs=target,
    )
    forward = usable[direction >= 0].copy()
    forward["reversed"] = False
    backward = usable[direction <= 0].copy()
    backward[["u", "v"]] = backward[["v", "u"]].to_numpy()
    backward["geometry"] = shapely.reverse(backward.geometry.to_numpy())
    backward["reversed"] = True
    edges = pd.concat([forward, backward], ignore_index=True)
    edges["oneway"] = np.concatenate(
        [direction[direction >= 0].to_numpy() != 0, direction[direction <= 0].to_numpy() != 0]
    )
    edges["key"] = edges.groupby(["u", "v"]).cumcount()
    edges = gpd.GeoDataFrame(edges, geometry="geometry", crs=target).set_index(["u", "v", "key"])
    graph = ox.graph_from_gdfs(node_gdf, edges, graph_attrs={"crs": target, "mode": mode})
    graph.graph["simplified"] = False
    if simplify and graph.number_of_edges() > 0:
        graph = ox.simplify_graph(graph, edge_attrs_differ=["osmid"])
    graph.graph["mode"] = mode
    log.info(
        "%s graph: %d nodes, %d edges", mode, graph.number_of_nodes(), graph.number_of_edges()
    )
    return graph


def streets_from_graph(graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """One line per street edge, without the reverse duplicates of two-way edges.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A graph from :func:`build_graph` (usually ``mode="all"``).

    Returns
    -------
    GeoDataFrame
        Edges with ``u``, ``v``, ``key`` as columns and a fresh RangeIndex.
    """
    import osmnx as ox

    _validate.projected_graph(graph)
    edges = ox.graph_to_gdfs(graph, nodes=False).reset_index()
    if "reversed" in edges.columns:
        edges = edges[~edges["reversed"].astype(bool)]
    return edges.drop(columns=["reversed"], errors="ignore").reset_index(drop=True)


# ---------------------------------------------------------------------------
# Shortest paths and accessibility on sparse matrices (issue 3).
#
# Convention used by every function below, and by the networkx reference:
#
# * distances are counted in whole millimetres: each edge weighs its
#   ``length`` rounded to the nearest mm (the smallest of parallel edges), and
#   a point (a shop, a home) is snapped to its nearest graph node with the
#   straight-line offset, also rounded to the nearest mm, added to the network
#   distance.  Integer sums are exact in float64, so any correct shortest-path
#   algorithm - scipy's, networkx's, forwards or backwards - gives the same
#   bit-identical distances, and "within 400 m" means ``d_mm <= 400_000``;
# * a unit u counts for street node s within cutoff c when
#   ``dist(s -> node(u)) + offset(u) <= c``: the walk goes *from* the node *to*
#   the unit (on a directed graph the direction matters);
# * work is done in batches of source rows whose dense distance block stays
#   under ``max_batch_bytes``, so memory is flat as the network grows.
# ---------------------------------------------------------------------------

# This section's own imports, kept with it so that it stays self-contained.
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

__all__ += [
    "GraphArrays",
    "accessibility",
    "accessibility_reference",
    "distances_within",
    "graph_arrays",
    "multi_source_distance",
    "nearest_nodes",
]


@dataclass(frozen=True)
class GraphArrays:
    """A street graph as arrays: node ids, coordinates and a sparse weight matrix.

    Attributes
    ----------
    nodes : ndarray
        Node ids; a node's position in this array is its matrix row/column.
    xy : ndarray, shape (n, 2)
        Projected node coordinates (working CRS, metres).
    matrix : scipy.sparse.csr_matrix
        ``matrix[i, j]`` is the length in whole millimetres of the shortest
        edge from node ``i`` to node ``j`` (explicit zeros are edges).
    """

    nodes: np.ndarray
    xy: np.ndarray
    matrix: Any

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    def positions(self, node_ids: Any) -> np.ndarray:
        """Matrix positions of the given node ids."""
        lookup = pd.Index(self.nodes)
        pos = lookup.get_indexer(np.asarray(node_ids))
        if (pos < 0).any():
            missing = np.asarray(node_ids)[pos < 0][:5].tolist()
            raise KeyError(f"node ids not in the graph: {missing!r}")
        return pos


def graph_arrays(graph: nx.MultiDiGraph, *, weight: str = "length") -> GraphArrays:
    """Turn a projected street graph into :class:`GraphArrays` (weights in mm).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A graph from :func:`build_graph` (nodes with ``x``/``y``, edges with
        ``weight`` in metres).
    weight : str, default "length"
        Edge attribute holding the length in metres.

    Returns
    -------
    GraphArrays

    Examples
    --------
    >>> import geodistrict as gd
    >>> g = gd.load_base_layers(gd.load_config("config/sample.yml")).walk_graph
    >>> arrays = graph_arrays(g)
    >>> arrays.n == g.number_of_nodes(), arrays.matrix.dtype
    (True, dtype('float64'))
    """
    from scipy import sparse

    _validate.projected_graph(graph)
    ids = list(graph.nodes)
    try:
        nodes = np.array(ids, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        nodes = np.array(ids, dtype=object)
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    if xy.size == 0:
        xy = xy.reshape(0, 2)
    index = pd.Index(ids)
    rows, cols, mm = [], [], []
    for u, v, data in graph.edges(data=True):
        if u == v:
            continue  # a loop never shortens a path
        length = data.get(weight)
        if length is None or not np.isfinite(length) or length < 0:
            raise ValueError(f"edge ({u!r}, {v!r}) has no valid {weight!r}: {length!r}")
        rows.append(u)
        cols.append(v)
        mm.append(length)
    frame = pd.DataFrame(
        {
            "r": index.get_indexer(pd.Index(rows, dtype=index.dtype)) if rows else [],
            "c": index.get_indexer(pd.Index(cols, dtype=index.dtype)) if cols else [],
            "w": np.rint(np.asarray(mm, dtype=float) * 1000.0),
        }
    )
    frame = frame.groupby(["r", "c"], as_index=False).agg(w=("w", "min"))
    matrix = sparse.csr_matrix(
        (frame["w"].to_numpy(float), (frame["r"].to_numpy(), frame["c"].to_numpy())),
        shape=(len(ids), len(ids)),
    )
    return GraphArrays(nodes=nodes, xy=xy, matrix=matrix)


def nearest_nodes(
    graph: nx.MultiDiGraph | GraphArrays, points: gpd.GeoSeries | gpd.GeoDataFrame
) -> pd.DataFrame:
    """Snap points to their nearest graph node (straight line).

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphArrays
        The street graph, in the same projected CRS as ``points``.
    points : GeoSeries or GeoDataFrame
        Points (other geometries use their representative point).

    Returns
    -------
    DataFrame
        Indexed like ``points``: ``node`` (node id), ``pos`` (matrix
        position), ``offset_m`` (straight-line distance to the node, metres,
        rounded to the mm) and ``offset_mm`` (the same, integer mm).

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> snapped = nearest_nodes(layers.walk_graph, layers.pois)
    >>> len(snapped) == len(layers.pois), bool((snapped["offset_m"] >= 0).all())
    (True, True)
    """
    from scipy.spatial import cKDTree

    arrays = graph if isinstance(graph, GraphArrays) else graph_arrays(graph)
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if isinstance(graph, nx.MultiDiGraph) and geoms.crs is not None:
        _validate.projected_crs(geoms.crs, what="points")
    if arrays.n == 0:
        raise ValueError("the graph has no nodes to snap to")
    pts = shapely.get_coordinates(geoms.representative_point().to_numpy())
    if len(pts) != len(geoms):
        raise ValueError("points must not be empty geometries")
    dist, pos = cKDTree(arrays.xy).query(pts)
    offset_mm = np.rint(np.asarray(dist) * 1000.0).astype(np.int64)
    return pd.DataFrame(
        {"node": arrays.nodes[pos], "pos": pos, "offset_m": offset_mm / 1000.0,
         "offset_mm": offset_mm},
        index=geoms.index,
    )  # fmt: skip


def _batch_rows(n_nodes: int, max_batch_bytes: int) -> int:
    return max(1, int(max_batch_bytes // max(1, 8 * n_nodes)))


def distances_within(
    arrays: GraphArrays,
    sources: np.ndarray,
    *,
    cutoff_m: float,
    reverse: bool = False,
    max_batch_bytes: int = 32 * 2**20,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Network distances from source nodes to every node within a cutoff, in batches.

    Parameters
    ----------
    arrays : GraphArrays
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
    >>> g = gd.load_base_layers(gd.load_config("config/sample.yml")).walk_graph
    >>> arrays = graph_arrays(g)
    >>> batch, dist = next(distances_within(arrays, np.array([0, 1]), cutoff_m=400))
    >>> finite = dist[np.isfinite(dist)]
    >>> dist.shape == (2, arrays.n), float(dist[0, 0]), bool((finite <= 400_000).all())
    (True, 0.0, True)
    """
    from scipy.sparse.csgraph import dijkstra

    matrix = arrays.matrix.T.tocsr() if reverse else arrays.matrix
    limit = float(np.floor(cutoff_m * 1000.0 + 1e-6))
    sources = np.asarray(sources, dtype=np.int64)
    step = _batch_rows(arrays.n, max_batch_bytes)
    for start in range(0, len(sources), step):
        batch = sources[start : start + step]
        yield batch, dijkstra(matrix, directed=True, indices=batch, limit=limit)


def multi_source_distance(
    arrays: GraphArrays,
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
    arrays : GraphArrays
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
    >>> g = gd.load_base_layers(gd.load_config("config/sample.yml")).walk_graph
    >>> arrays = graph_arrays(g)
    >>> d = multi_source_distance(arrays, np.array([0]), np.array([1500]))
    >>> float(d[0])
    1.5
    """
    from scipy import sparse
    from scipy.sparse.csgraph import dijkstra

    sources = np.asarray(sources, dtype=np.int64)
    offs = (
        np.zeros(len(sources), dtype=float)
        if offsets_mm is None
        else np.asarray(offsets_mm, float)
    )
    n = arrays.n
    if len(sources) == 0:
        return np.full(n, np.inf)
    base = arrays.matrix.T.tocsr() if reverse else arrays.matrix
    best = pd.Series(offs).groupby(sources).min()
    virtual = sparse.csr_matrix(
        (best.to_numpy(float), (np.full(len(best), n), best.index.to_numpy())),
        shape=(n + 1, n + 1),
    )
    grown = sparse.vstack([sparse.hstack([base, sparse.csr_matrix((n, 1))]), virtual[n]]).tocsr()
    limit = np.inf if not np.isfinite(cutoff_m) else float(np.floor(cutoff_m * 1000.0 + 1e-6))
    dist = dijkstra(grown, directed=True, indices=n, limit=limit)[:n]
    return np.asarray(dist) / 1000.0


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
            raise KeyError(f"units have no column {category!r}")
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
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> units = classify(layers.pois).units
    >>> acc = accessibility(layers.walk_graph, units)
    >>> bool((acc["n400_total"] <= acc["n800_total"]).all()), "n800_food" in acc
    (True, True)
    """
    from scipy import sparse

    arrays = graph if isinstance(graph, GraphArrays) else graph_arrays(graph)
    dists = tuple(float(d) for d in distances)
    if not dists or any(d <= 0 for d in dists):
        raise ValueError(f"distances must be positive metres, got {distances!r}")
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
    start = 0
    for batch, dist in distances_within(
        arrays, uniq, cutoff_m=max(dists), reverse=True, max_batch_bytes=bytes_per_source
    ):
        first = start
        start += len(batch)
        members = order[bounds[first] : bounds[start]]
        local = inverse[members] - first
        # Only the reached (finite) cells count: sparse rows, so the work follows the
        # size of the walking neighbourhoods, not the size of the network.
        reached = sparse.csr_matrix(np.where(np.isfinite(dist), dist + 1.0, 0.0))
        rows = reached[local]  # one row per unit of the batch; stored values are mm + 1
        per_row = np.diff(rows.indptr)
        reach = rows.data - 1.0 + np.repeat(off[members], per_row)
        cells = np.repeat(codes[members], per_row) * arrays.n + rows.indices
        for i, lim in enumerate(limits):
            ok = reach <= lim
            counts[i] += np.bincount(cells[ok], minlength=n_cat * arrays.n).reshape(
                n_cat, arrays.n
            )
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
