"""Street networks: graphs from OSM and the one engine every analysis shares.

* :mod:`~geodistrict.network.graph`: who may walk or ride where, osmnx-compatible
  ``MultiDiGraph`` objects from OSM street segments;
* :mod:`~geodistrict.network.engine`: a graph as arrays (built once per graph),
  snapping to nodes, bounded shortest paths, reach counts, routes, subgraphs;
* :mod:`~geodistrict.network.counts`: units of each category within
  walking distances of every node;
* :mod:`~geodistrict.network.search`: helpers of the local bounded searches;
* :mod:`~geodistrict.network.lazy`: graphs whose networkx dicts are built on
  first use (the base layers' graphs).
"""

from geodistrict.network.counts import accessibility, accessibility_reference
from geodistrict.network.engine import (
    GraphArrays,
    component_labels,
    distances_within,
    edge_values,
    graph_arrays,
    local_distances,
    multi_source_distance,
    nearest_nodes,
    reach_counts,
    route,
    shortest_paths,
)
from geodistrict.network.graph import (
    Mode,
    access_mask,
    build_graph,
    oneway_direction,
    streets_from_graph,
)
from geodistrict.network.lazy import LazyGraph
from geodistrict.network.search import NodeTargets

__all__ = [
    "GraphArrays",
    "LazyGraph",
    "Mode",
    "NodeTargets",
    "access_mask",
    "accessibility",
    "accessibility_reference",
    "build_graph",
    "component_labels",
    "distances_within",
    "edge_values",
    "graph_arrays",
    "local_distances",
    "multi_source_distance",
    "nearest_nodes",
    "oneway_direction",
    "reach_counts",
    "route",
    "shortest_paths",
    "streets_from_graph",
]
