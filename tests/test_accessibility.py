"""Sparse-matrix shortest paths and accessibility against a plain networkx reference."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from builders import CRS
from shapely.geometry import Point

from geodistrict.network import (
    accessibility,
    accessibility_reference,
    distances_within,
    graph_arrays,
    local_distances,
    multi_source_distance,
    nearest_nodes,
)


def _random_street_graph(
    seed: int, size: int = 12, *, oneway_share: float = 0.3
) -> nx.MultiDiGraph:
    """A jittered grid with random lengths, some one-way edges and parallel edges."""
    rng = np.random.default_rng(seed)
    g = nx.MultiDiGraph(crs=CRS)
    for i in range(size):
        for j in range(size):
            g.add_node(
                i * size + j, x=j * 90.0 + rng.uniform(-20, 20), y=i * 90.0 + rng.uniform(-20, 20)
            )
    for i in range(size):
        for j in range(size):
            here = i * size + j
            for nb in ((i, j + 1), (i + 1, j)):
                if nb[0] >= size or nb[1] >= size:
                    continue
                there = nb[0] * size + nb[1]
                length = float(rng.uniform(40, 160)) + float(rng.integers(0, 1000)) / 997.0
                g.add_edge(here, there, length=length)
                if rng.random() > oneway_share:
                    g.add_edge(there, here, length=length)
                if rng.random() < 0.05:  # a longer parallel edge must not win
                    g.add_edge(here, there, length=length + 50.0)
    return g


def _random_units(g: nx.MultiDiGraph, n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xs = [d["x"] for _, d in g.nodes(data=True)]
    ys = [d["y"] for _, d in g.nodes(data=True)]
    pts = [Point(rng.uniform(min(xs), max(xs)), rng.uniform(min(ys), max(ys))) for _ in range(n)]
    cats = rng.choice(["food", "fashion", "bars_restaurants"], size=n)
    return gpd.GeoDataFrame({"category": cats}, geometry=pts, crs=CRS)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_accessibility_equals_networkx_reference_on_directed_graphs(seed: int) -> None:
    g = _random_street_graph(seed)
    units = _random_units(g, 150, seed)
    distances = (150.0, 400.0, 800.0)
    fast = accessibility(g, units, distances=distances)
    slow = accessibility_reference(g, units, distances=distances)
    assert list(fast.columns) == list(slow.columns)
    assert fast.index.equals(slow.index)
    assert (fast.to_numpy() == slow.to_numpy()).all()
    # Not trivially zero or saturated: the cutoffs do cut.
    assert 0 < fast["n400_total"].mean() < len(units)
    assert (fast["n150_total"] <= fast["n400_total"]).all()


def test_accessibility_in_local_neighbourhoods_equals_the_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Always cut neighbourhoods out, even where a whole search would be cheaper.
    monkeypatch.setattr("geodistrict.network.search._LOCAL_COST", 0.0)
    # Large enough for the searches to be cut into tiles (issue 17): same counts.
    g = _random_street_graph(7, size=45)
    units = _random_units(g, 400, 7)
    distances = (150.0, 400.0)
    arrays = graph_arrays(g)
    searched = [len(nodes) for _, nodes, _ in local_distances(arrays, np.arange(50), cutoff_m=400)]
    assert max(searched) < arrays.n / 2
    fast = accessibility(g, units, distances=distances)
    slow = accessibility_reference(g, units, distances=distances)
    assert (fast.to_numpy() == slow.to_numpy()).all()
    assert 0 < fast["n400_total"].mean() < len(units)


def test_accessibility_batches_do_not_change_the_counts() -> None:
    g = _random_street_graph(5)
    units = _random_units(g, 80, 5)
    whole = accessibility(g, units)
    tiny = accessibility(g, units, max_batch_bytes=1)  # one source node per batch
    assert whole.equals(tiny)
    # Units counted on their node (pandana's convention): still exactly the reference.
    on_node = accessibility(g, units, snap_offsets=False)
    assert on_node.equals(accessibility_reference(g, units, snap_offsets=False))
    assert (on_node["n800_total"] >= whole["n800_total"]).all()


def test_accessibility_totals_only_and_empty_units() -> None:
    g = _random_street_graph(3, size=5)
    units = _random_units(g, 20, 3)
    totals = accessibility(g, units, category=None, distances=(500.0,))
    assert list(totals.columns) == ["n500_total"]
    none = accessibility(g, units.iloc[:0], distances=(500.0,))
    assert (none["n500_total"] == 0).all() and len(none) == g.number_of_nodes()
    with pytest.raises(ValueError, match="positive"):
        accessibility(g, units, distances=(0.0,))


def test_offsets_and_direction_on_a_line() -> None:
    # 0 -> 1 -> 2 one way, 100 m each; a unit 5 m beside node 2.
    g = nx.MultiDiGraph(crs=CRS)
    for i in range(3):
        g.add_node(i, x=i * 100.0, y=0.0)
    g.add_edge(0, 1, length=100.0)
    g.add_edge(1, 2, length=100.0)
    units = gpd.GeoDataFrame({"category": ["food"]}, geometry=[Point(200, 5)], crs=CRS)
    acc = accessibility(g, units, distances=(204.0, 205.0))
    # From node 0: 200 m + 5 m offset; within 205 m, not within 204 m.
    assert acc.loc[0, "n204_total"] == 0 and acc.loc[0, "n205_total"] == 1
    # Node 2 reaches it; nothing leads back from 2 to 0, so direction matters.
    assert acc.loc[2, "n204_total"] == 1
    snapped = nearest_nodes(g, units)
    assert snapped.loc[0, "node"] == 2 and snapped.loc[0, "offset_m"] == 5.0
    arrays = graph_arrays(g)
    to_unit = multi_source_distance(arrays, snapped["pos"].to_numpy(), snapped["offset_mm"])
    assert to_unit.tolist() == [205.0, 105.0, 5.0]
    from_unit = multi_source_distance(arrays, np.array([0]), reverse=False)
    assert from_unit.tolist() == [0.0, 100.0, 200.0]
    batch, dist = next(distances_within(arrays, np.array([0]), cutoff_m=150))
    assert batch.tolist() == [0] and dist[0].tolist() == [0.0, 100_000.0, np.inf]


def test_accessibility_equals_reference_on_the_sample(sample_layers) -> None:  # type: ignore[no-untyped-def]
    from geodistrict.taxonomy import classify

    g = sample_layers.walk_graph
    units = classify(sample_layers.pois).units
    fast = accessibility(g, units)
    rng = np.random.default_rng(42)
    sources = rng.choice(np.array(list(g.nodes)), size=150, replace=False).tolist()
    slow = accessibility_reference(g, units, sources=sources)
    assert (fast.loc[sources].to_numpy() == slow.to_numpy()).all()
    assert fast["n1600_total"].max() > 500  # the centre of Helsinki is dense
