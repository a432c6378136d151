"""The one network engine: arrays, snapping, reach counts, routes, subgraphs (known answers)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from builders import CRS, grid_graph, points, square_grid
from shapely.geometry import Point

from geodistrict.errors import CRSError, ParameterError
from geodistrict.network import (
    GraphArrays,
    component_labels,
    edge_values,
    graph_arrays,
    local_distances,
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


# --- bounded searches in local neighbourhoods (issue 17) --------------------------------


def _irregular_grid(n: int, seed: int) -> nx.MultiDiGraph:
    """An n x n grid with jittered nodes, random extra lengths, one-way and missing edges."""
    rng = np.random.default_rng(seed)
    g = square_grid(n, 100.0)
    for node in g.nodes:
        g.nodes[node]["x"] += rng.uniform(-30, 30)
        g.nodes[node]["y"] += rng.uniform(-30, 30)
    for u, v, k in list(g.edges(keys=True)):
        if rng.random() < 0.08:
            g.remove_edge(u, v, k)
            continue
        a, b = g.nodes[u], g.nodes[v]
        straight = float(np.hypot(a["x"] - b["x"], a["y"] - b["y"]))
        g.edges[u, v, k]["length"] = straight * rng.uniform(1.0, 1.6)
    return g


def _whole_graph(arrays: GraphArrays, sources: np.ndarray, cutoff_m: float) -> np.ndarray:
    from scipy.sparse import csgraph

    return csgraph.dijkstra(
        arrays.matrix, directed=True, indices=sources, limit=np.floor(cutoff_m * 1000 + 1e-6)
    )


@pytest.mark.parametrize(("seed", "scale"), [(1, 1.0), (2, 0.5), (3, 3.0)])
def test_local_searches_equal_the_whole_graph(
    seed: int, scale: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Always cut neighbourhoods out, even where a whole search would be cheaper.
    monkeypatch.setattr("geodistrict.network.search._LOCAL_COST", 0.0)
    # scale < 1: weights below the straight line (the bound widens); > 1: a penalty.
    arrays = graph_arrays(_irregular_grid(30, seed))
    arrays = arrays.with_weights(arrays.edge_mm * scale)
    sources = np.random.default_rng(seed).choice(arrays.n, 200, replace=False)
    reference = _whole_graph(arrays, sources, 450.0)
    seen = np.zeros(len(sources), dtype=int)
    searched = []
    for which, nodes, dist in local_distances(arrays, sources, cutoff_m=450.0):
        seen[which] += 1
        searched.append(len(nodes))
        full = np.full((len(which), arrays.n), np.inf)
        full[:, nodes] = dist
        np.testing.assert_array_equal(full, reference[which])
    assert (seen == 1).all()
    assert max(searched) < arrays.n  # the neighbourhoods were really local


def test_local_reach_counts_equal_the_whole_graph() -> None:
    arrays = graph_arrays(_irregular_grid(30, 4))
    rng = np.random.default_rng(4)
    targets = rng.integers(0, arrays.n, 300)
    codes = rng.integers(0, 3, 300)
    sources = np.arange(arrays.n)
    counts = reach_counts(arrays, sources, targets, cutoff_m=400.0, categories=codes)
    ok = _whole_graph(arrays, sources, 400.0)[:, targets] <= 400_000
    expected = np.stack([ok[:, codes == k].sum(axis=1) for k in range(3)], axis=1)
    np.testing.assert_array_equal(counts, expected)


def test_a_graph_without_a_straight_line_bound_is_searched_whole() -> None:
    g = square_grid(20, 100.0)
    g.edges[0, 1, 0]["length"] = 0.0  # two distinct points joined at no cost
    arrays = graph_arrays(g)
    assert arrays.mm_per_metre == 0.0
    (_which, nodes, dist), *_ = list(local_distances(arrays, np.array([0]), cutoff_m=250.0))
    assert len(nodes) == arrays.n
    np.testing.assert_array_equal(dist, _whole_graph(arrays, np.array([0]), 250.0))
