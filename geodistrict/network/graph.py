"""Street graphs from OSM street segments: who may walk or ride where.

Graphs are osmnx-compatible ``MultiDiGraph`` objects in the working CRS:
nodes carry ``x``/``y`` (projected), ``lon``/``lat``; edges carry ``osmid``
(the way id), ``length`` in metres, ``geometry``, ``oneway``, ``reversed`` and
the street tags kept by :data:`geodistrict.sources.osm.STREET_TAGS`. They are
simplified the osmnx way (interstitial nodes removed) without merging
different OSM ways, so every edge keeps one way's tags. The simplification runs
on edge tables (:mod:`geodistrict.network.simplify`) and gives the very graph
that osmnx's ``graph_from_gdfs`` + ``simplify_graph`` give (``engine="osmnx"``).

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
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geodistrict import _validate
from geodistrict.errors import ParameterError
from geodistrict.network.lazy import GraphTables, LazyGraph, pending_tables
from geodistrict.network.simplify import graph_from_tables, simplify_edges

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


def _directed_edges(
    nodes: gpd.GeoDataFrame, segments: gpd.GeoDataFrame, *, mode: Mode, crs: CRS | str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, CRS]:
    """Projected nodes, directed edges of ``mode`` (before simplification) and the CRS.

    Edges come as ``graph_from_gdfs`` takes them: ``u``, ``v``, ``key``
    columns, the forward copies of the usable segments, then the backward ones.
    """
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
    return node_gdf, gpd.GeoDataFrame(edges, geometry="geometry", crs=target), target


def _node_order(node_index: pd.Index, edges: pd.DataFrame) -> list[int]:
    """Node ids in the order ``graph_from_gdfs`` adds them (first appearance in the edges)."""
    pairs = np.column_stack([edges["u"].to_numpy(), edges["v"].to_numpy()]).reshape(-1)
    order = pd.unique(pairs).tolist()
    order.extend(set(node_index) - set(order))  # nodes without edges, as osmnx adds them
    return order


def _build_graph_osmnx(
    node_gdf: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, *, crs: CRS, mode: Mode, simplify: bool
) -> nx.MultiDiGraph:
    """The reference: osmnx's ``graph_from_gdfs`` + ``simplify_graph`` (slow)."""
    import osmnx as ox

    indexed = edges.set_index(["u", "v", "key"])
    graph = ox.graph_from_gdfs(node_gdf, indexed, graph_attrs={"crs": crs, "mode": mode})
    graph.graph["simplified"] = False
    if simplify and graph.number_of_edges() > 0:
        graph = ox.simplify_graph(graph, edge_attrs_differ=["osmid"])
    return graph


def _graph_tables(
    node_gdf: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, *, crs: CRS, mode: Mode, simplify: bool
) -> tuple[GraphTables, dict[str, object]]:
    """The tables of the graph :func:`_build_graph_osmnx` builds (simplified on arrays)."""
    order = _node_order(node_gdf.index, edges)
    node_table = pd.DataFrame(node_gdf.drop(columns=node_gdf.geometry.name)).loc[order]
    table = pd.DataFrame(edges)[["u", "v", "key", *[c for c in edges.columns
                                                    if c not in ("u", "v", "key")]]]  # fmt: skip
    attrs: dict[str, object] = {"crs": crs, "mode": mode, "simplified": False}
    if not simplify or len(table) == 0:
        return GraphTables(node_table, table), attrs
    simple = simplify_edges(
        node_table.index.to_numpy(), table, coords=node_table[["x", "y"]].to_numpy(),
        edge_attrs_differ=["osmid"],
    )  # fmt: skip
    attrs["simplified"] = True
    tables = GraphTables(
        node_table.iloc[simple.nodes], simple.edges.drop(columns="merged"), simple.key_order
    )
    return tables, attrs


def _build_graph_arrays(
    node_gdf: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, *, crs: CRS, mode: Mode, simplify: bool
) -> nx.MultiDiGraph:
    """The same graph as :func:`_build_graph_osmnx`, simplified on arrays."""
    tables, attrs = _graph_tables(node_gdf, edges, crs=crs, mode=mode, simplify=simplify)
    return graph_from_tables(
        tables.nodes, tables.edges, graph_attrs=attrs, key_order=tables.key_order
    )


def build_graph(
    nodes: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    *,
    mode: Mode,
    crs: CRS | str,
    simplify: bool = True,
    engine: Literal["arrays", "osmnx"] = "arrays",
    lazy: bool = False,
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
    engine : {"arrays", "osmnx"}, default "arrays"
        ``"arrays"`` simplifies the edge table with vectorised code
        (:mod:`geodistrict.network.simplify`) and builds the graph in one
        pass; ``"osmnx"`` uses ``graph_from_gdfs`` + ``simplify_graph`` (the
        reference: the same graph, several times slower).
    lazy : bool, default False
        With ``engine="arrays"``, return a :class:`~geodistrict.network.lazy.LazyGraph`:
        the same graph, whose networkx dicts are built only when someone reads
        its nodes or edges; :func:`graph_arrays`, :func:`edge_values` and
        :func:`streets_from_graph` read its tables without building it.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-compatible graph; ``graph.graph`` holds ``crs``, ``mode`` and
        ``simplified``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.datasets.sample_layers()
    >>> g = layers.bike_graph
    >>> g.graph["mode"], g.number_of_edges() > 1000
    ('bike', True)
    """
    if engine not in ("arrays", "osmnx"):
        raise ParameterError(f"engine must be 'arrays' or 'osmnx', not {engine!r}")
    node_gdf, edges, target = _directed_edges(nodes, segments, mode=mode, crs=crs)
    if lazy and engine == "arrays":
        tables, attrs = _graph_tables(node_gdf, edges, crs=target, mode=mode, simplify=simplify)
        log.info("%s graph: %d nodes, %d edges", mode, len(tables.nodes), len(tables.edges))
        return LazyGraph.from_tables(tables, **attrs)
    build = _build_graph_arrays if engine == "arrays" else _build_graph_osmnx
    graph = build(node_gdf, edges, crs=target, mode=mode, simplify=simplify)
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
    _validate.projected_graph(graph)
    edges = _edges_frame(graph).reset_index()
    if "reversed" in edges.columns:
        edges = edges[~edges["reversed"].astype(bool)]
    return edges.drop(columns=["reversed"], errors="ignore").reset_index(drop=True)


def _edges_frame(graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """``osmnx.graph_to_gdfs(graph, nodes=False)``, drawing only the missing geometries."""
    tables = pending_tables(graph)  # a LazyGraph not built yet: its tables, in graph order
    if (len(tables.edges) if tables is not None else graph.number_of_edges()) == 0:
        raise ParameterError(
            f"the {graph.graph.get('mode', '')} street graph has no edges: no street to list"
        )
    node_of: Any
    if tables is not None:
        rows = tables.edges.iloc[tables.edge_order()]
        u, v, k = rows["u"].tolist(), rows["v"].tolist(), rows["key"].tolist()
        data: Any = tables.edge_dicts()
        node_of = tables.nodes[["x", "y"]].to_dict("index")
    else:
        u, v, k, data = zip(*graph.edges(keys=True, data=True), strict=True)
        node_of = graph.nodes
    geometry = [d.get("geometry") for d in data]
    for i, line in enumerate(geometry):
        if line is None:  # osmnx's straight line between the end nodes
            a, b = node_of[u[i]], node_of[v[i]]
            geometry[i] = shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])
    edges = gpd.GeoDataFrame(data, crs=graph.graph["crs"], geometry=geometry)
    edges["u"] = u
    edges["v"] = v
    edges["key"] = k
    return edges.set_index(["u", "v", "key"])
