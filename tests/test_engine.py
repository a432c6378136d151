"""The one network engine: arrays, snapping, reach counts, routes, subgraphs (known answers)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from builders import CRS, grid_graph, points
from shapely.geometry import Point

from geodistrict.errors import CRSError, ParameterError
from geodistrict.network import (
    component_labels,
    edge_values,
    graph_arrays,
    nearest_nodes,
    reach_counts,
    route,
    shortest_paths,
)


def _with_trap() -> nx.MultiDiGraph:
    """A 3 x 3 grid plus node 99 at (0, -20) joined to node 0 by a one-way edge only.

    99 is the nearest node to points just south of the grid, but nothing can be
    reached from it: the trap the largest strongly connected component avoids.
    """
    g = grid_graph(3, 3, spacing_m=100)
    g.add_node(99, x=0.0, y=-20.0)
    g.add_edge(0, 99, length=20.0)
    return g


def test_arrays_are_built_once_and_rebuilt_when_the_graph_grows() -> None:
    g = grid_graph(2, 2, spacing_m=50)
    first = graph_arrays(g)
    assert graph_arrays(g) is first
    g.add_edge(0, 3, length=70.0)
    again = graph_arrays(g)
    assert again is not first and again.n_edges == first.n_edges + 1


def test_edge_order_matches_edge_values() -> None:
    g = grid_graph(2, 3, spacing_m=10)
    for i, (u, v, k) in enumerate(g.edges(keys=True)):
        g.edges[u, v, k]["length"] = float(i + 1)
    arrays = graph_arrays(g, weight="length")
    assert (arrays.edge_mm / 1000 == edge_values(g, "length").astype(float)).all()
    ids = arrays.nodes
    assert [(ids[a], ids[b]) for a, b in zip(arrays.edge_u, arrays.edge_v, strict=True)] == [
        (u, v) for u, v in g.edges()
    ]


def test_largest_component_snapping_avoids_a_one_way_trap() -> None:
    g = _with_trap()
    pts = points([(0, -25)], crs=CRS)
    anywhere = nearest_nodes(g, pts)
    safe = nearest_nodes(g, pts, largest_component=True)
    assert anywhere["node"].iloc[0] == 99 and anywhere["offset_m"].iloc[0] == 5.0
    assert safe["node"].iloc[0] == 0 and safe["offset_m"].iloc[0] == 25.0
    labels = component_labels(g)
    assert len(set(labels)) == 2  # the trap is its own strongly connected component
    assert len(set(component_labels(g, strong=False))) == 1


def test_reach_counts_equal_networkx_on_a_line_with_categories() -> None:
    g = grid_graph(1, 6, spacing_m=100)  # nodes 0..5 along x
    arrays = graph_arrays(g)
    targets = np.array([1, 2, 5, 5])
    cats = np.array([0, 1, 1, 0])
    offsets = np.array([0, 60_000, 0, 0])  # the second target stands 60 m off its node
    got = reach_counts(
        arrays, np.array([0, 3]), targets, cutoff_m=250, target_offsets_mm=offsets,
        categories=cats,
    )  # fmt: skip
    # From 0: node 1 (100 m) counts, node 2 at 200 + 60 = 260 m does not.
    # From 3: node 1 (200 m) and node 2 (100 + 60 m) count, node 5 (200 m) twice.
    assert got.tolist() == [[1.0, 0.0], [2.0, 2.0]]
    dist = nx.single_source_dijkstra_path_length(g, 3, weight="length")
    expected = sum(dist[t] + o / 1000 <= 250 for t, o in zip(targets, offsets, strict=True))
    assert got[1].sum() == expected


def test_subgraph_and_weights_change_routes() -> None:
    g = grid_graph(2, 3, spacing_m=100)  # 0 1 2 / 3 4 5
    arrays = graph_arrays(g)
    u, v = arrays.edge_u, arrays.edge_v
    closed = ((u == 1) & (v == 2)) | ((u == 2) & (v == 1))
    _, pred = shortest_paths(arrays.subgraph(~closed), np.array([0]))
    assert route(pred[0], 0, 2) == [0, 1, 4, 5, 2] or route(pred[0], 0, 2) == [0, 3, 4, 5, 2]
    slow = arrays.with_weights(np.where(closed, 1e9, arrays.edge_mm))
    dist, _ = shortest_paths(slow, np.array([0]))
    assert dist[0, 2] == 400.0
    with pytest.raises(ParameterError, match="one value per edge"):
        arrays.with_weights(np.ones(3))
    with pytest.raises(ParameterError, match="edge_mask"):
        arrays.subgraph(np.ones(arrays.n_edges))


def test_unreachable_route_is_empty() -> None:
    arrays = graph_arrays(_with_trap())
    trap = int(arrays.positions([99])[0])
    _, pred = shortest_paths(arrays, np.array([trap]))
    assert route(pred[0], trap, 0) == []


def test_bad_inputs_name_the_problem() -> None:
    g = grid_graph(2, 2)
    g.graph["crs"] = "EPSG:4326"
    with pytest.raises(CRSError, match="geographic"):
        graph_arrays(g)
    h = grid_graph(2, 2)
    h.edges[0, 1, 0]["length"] = -1.0
    with pytest.raises(ParameterError, match="no valid 'length'"):
        graph_arrays(h)
    with pytest.raises(ParameterError, match="cutoff"):
        reach_counts(grid_graph(1, 2), np.array([0]), np.array([1]), cutoff_m=-5)
    import geopandas as gpd

    with pytest.raises(CRSError):
        nearest_nodes(grid_graph(1, 2), gpd.GeoSeries([Point(0, 0)], crs=4326))
