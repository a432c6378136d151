"""Lazy street graphs (issue 17): the analyses read the tables, networkx only on request.

A graph from ``build_graph(lazy=True)`` must give the very arrays, edge values
and street lines of the graph built at once, without being built; built on
first access, it must be that graph, edge by edge, dict key by dict key.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geodistrict.network import build_graph, edge_values, graph_arrays, streets_from_graph
from geodistrict.network.lazy import LazyGraph, pending_tables

CONFIGS = ["config/sample.yml", "config/piana_rotaliana.yml"]


def _inputs(config: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Any]:
    """Street nodes and segments of a sample, as ``base_layers_from_raw`` selects them."""
    from geodistrict import ingest
    from geodistrict.area import clip_polygon, study_area
    from geodistrict.config import load_config

    cfg = load_config(config)
    area = study_area(cfg)
    polygon_lonlat = gpd.GeoSeries([clip_polygon(area)], crs=area.crs).to_crs(4326).iloc[0]
    raw = ingest.read_source(cfg, polygon_lonlat)
    nodes = raw.nodes[raw.nodes.intersects(polygon_lonlat)]
    inside = set(nodes.index)
    segs = raw.segments[raw.segments["u"].isin(inside) & raw.segments["v"].isin(inside)]
    return nodes, segs, area.crs


@pytest.fixture(scope="module", params=CONFIGS)
def sample_inputs(request):  # type: ignore[no-untyped-def]
    return _inputs(request.param)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, shapely.Geometry) or isinstance(b, shapely.Geometry):
        return isinstance(a, shapely.Geometry) and shapely.to_wkb(a) == shapely.to_wkb(b)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and bool(a == b)


@pytest.mark.parametrize("mode", ["walk", "bike", "all"])
def test_a_lazy_graph_reads_like_the_built_one(sample_inputs, mode: str) -> None:  # type: ignore[no-untyped-def]
    nodes, segs, crs = sample_inputs
    eager = build_graph(nodes, segs, mode=mode, crs=crs)
    lazy = build_graph(nodes, segs, mode=mode, crs=crs, lazy=True)
    assert type(lazy) is LazyGraph and isinstance(lazy, nx.MultiDiGraph)
    assert lazy.graph == eager.graph

    # arrays, edge values and streets straight from the tables
    a, b = graph_arrays(lazy), graph_arrays(eager)
    for name in ("nodes", "xy", "edge_u", "edge_v", "edge_mm"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a.matrix, name), getattr(b.matrix, name))
    names = {k for _, _, d in eager.edges(data=True) for k in d} | {"lts", "nothing"}
    for name in sorted(names):
        got, expected = edge_values(lazy, name, 7), edge_values(eager, name, 7)
        assert got.dtype == expected.dtype, name
        assert all(_same(x, y) for x, y in zip(got.tolist(), expected.tolist(), strict=True)), name
    if mode == "all":
        assert_geodataframe_equal(streets_from_graph(lazy), streets_from_graph(eager))
    assert pending_tables(lazy) is not None  # none of this built the graph
    assert graph_arrays(lazy) is a

    # built on first access: the same graph, edge by edge and key by key
    built_edges = list(lazy.edges(keys=True, data=True))
    assert type(lazy) is nx.MultiDiGraph and pending_tables(lazy) is None
    expected_edges = list(eager.edges(keys=True, data=True))
    assert [e[:3] for e in built_edges] == [e[:3] for e in expected_edges]
    for (*_, d1), (*_, d2) in zip(built_edges, expected_edges, strict=True):
        assert list(d1) == list(d2)
        assert all(_same(d1[k], d2[k]) for k in d1)
    assert list(lazy.nodes(data=True)) == list(eager.nodes(data=True))
    assert graph_arrays(lazy) is a  # the arrays stay valid for the built graph


def test_a_lazy_graph_pickles_unbuilt_and_copies() -> None:
    nodes, segs, crs = _inputs("config/sample.yml")
    lazy = build_graph(nodes, segs, mode="walk", crs=crs, lazy=True)
    again = pickle.loads(pickle.dumps(lazy))
    assert type(again) is LazyGraph and pending_tables(again) is not None
    eager = build_graph(nodes, segs, mode="walk", crs=crs)
    assert nx.utils.graphs_equal(again, eager)
    copy = lazy.copy()
    assert nx.utils.graphs_equal(copy, eager)
    assert type(copy) is nx.MultiDiGraph and type(lazy) is nx.MultiDiGraph
    assert lazy.number_of_edges() == eager.number_of_edges() > 1000


def test_the_base_step_leaves_the_graphs_unbuilt_through_the_analyses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geodistrict as gd
    from geodistrict import commerce
    from geodistrict.config import load_config
    from geodistrict.cycling import isochrones
    from geodistrict.taxonomy import classify_units

    monkeypatch.setenv("GEODISTRICT_CACHE", str(tmp_path))
    layers = gd.load_base_layers(load_config("config/piana_rotaliana.yml"), use_cache=False)
    walk = layers.walk_graph
    assert pending_tables(walk) is not None and pending_tables(layers.bike_graph) is not None
    units = classify_units(layers.pois)
    commerce.commercial_access(walk, units, distances=(400.0,))
    commerce.walking_coverage(walk, units, commerce.homes(layers.buildings, layers.landuse))
    src = units.iloc[:2]
    iso = isochrones({"walk": walk}, src, minutes=[5])
    assert len(iso) == 2 and pending_tables(walk) is not None
    assert walk.number_of_nodes() == graph_arrays(walk).n  # counted from the tables
    assert pending_tables(walk) is not None
    assert len(list(walk.nodes)) == graph_arrays(walk).n  # a user's look builds it
    assert pending_tables(walk) is None
