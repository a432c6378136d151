"""LTS scoring on a graph not built yet (issue 17): the cycling step builds no networkx graph.

``with_way_tags`` and ``add_lts`` on a :class:`~geodistrict.network.lazy.LazyGraph`
work on its tables and return an unbuilt graph; built, it must be the graph
the networkx path gives, edge by edge and dict key by dict key (order too).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest

from geodistrict import cycling
from geodistrict.network.lazy import GraphTables, LazyGraph, edges_with_data, pending_tables

CONFIGS = ["config/sample.yml", "config/piana_rotaliana.yml"]


def _items(graph: nx.MultiDiGraph) -> list[tuple[Any, Any, Any, list[tuple[str, Any]]]]:
    return [(u, v, k, list(d.items())) for u, v, k, d in graph.edges(keys=True, data=True)]


def _built(graph: LazyGraph) -> nx.MultiDiGraph:
    """A built copy of an unbuilt graph (the original stays unbuilt)."""
    copy = pickle.loads(pickle.dumps(graph))
    list(copy.nodes)
    assert pending_tables(copy) is None
    return copy


@pytest.fixture(scope="module", params=CONFIGS)
def sample_base(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    import os

    from geodistrict.config import load_config
    from geodistrict.ingest import load_base_layers

    os.environ["GEODISTRICT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    try:
        return load_base_layers(load_config(request.param), use_cache=False)
    finally:
        del os.environ["GEODISTRICT_CACHE"]


def test_lts_on_the_tables_equals_lts_on_the_built_graph(sample_base) -> None:  # type: ignore[no-untyped-def]
    lazy = sample_base.bike_graph
    assert pending_tables(lazy) is not None
    scored = cycling.add_lts(cycling.with_way_tags(lazy, sample_base.streets))
    assert pending_tables(scored) is not None and pending_tables(lazy) is not None
    reference = cycling.add_lts(cycling.with_way_tags(_built(lazy), sample_base.streets))
    assert pending_tables(reference) is None
    assert list(edges_with_data(scored)) == list(reference.edges(data=True))
    assert scored.graph == reference.graph
    assert _items(_built(scored)) == _items(reference)
    assert {d["lts"] for _, _, d in reference.edges(data=True)} >= {1, 2}


def test_way_tags_keep_values_and_order_like_setdefault() -> None:
    # Edge 0 already has vehicle=no (kept, in its place); edge 1 gets vehicle then
    # motorcar after its own attributes; edge 2 (way 9) gets nothing.
    nodes = pd.DataFrame({"x": [0.0, 100.0, 200.0], "y": [0.0, 0.0, 0.0]}, index=[1, 2, 3])
    edges = pd.DataFrame(
        {
            "u": [1, 2, 3],
            "v": [2, 3, 1],
            "key": [0, 0, 0],
            "osmid": [7, 8, 9],
            "vehicle": ["no", None, None],
            "highway": ["residential", "primary", "service"],
            "length": [100.0, 100.0, 200.0],
        }
    )
    lazy = LazyGraph.from_tables(GraphTables(nodes, edges), crs="EPSG:32632")
    streets = pd.DataFrame(
        {
            "osmid": [7, 8],
            "tags": [
                '{"vehicle": "yes", "motorcar": "yes"}',
                '{"motorcar": "no", "vehicle": "yes"}',
            ],
        }
    )
    tagged = cycling.with_way_tags(lazy, streets)
    assert pending_tables(tagged) is not None
    reference = cycling.with_way_tags(_built(lazy), streets)
    assert _items(_built(tagged)) == _items(reference)
    by_way = {d["osmid"]: d for _, _, d in reference.edges(data=True)}
    assert by_way[7]["vehicle"] == "no" and list(by_way[8])[-2:] == ["vehicle", "motorcar"]
    assert "motorcar" not in by_way[9]


def test_the_cycling_step_builds_no_networkx_graph(
    sample_base, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from geodistrict.config import load_config
    from geodistrict.pipeline.steps.cycling import cycling_layers

    def refuse(self: LazyGraph) -> None:
        raise AssertionError("the cycling step built a networkx graph")

    config = load_config(CONFIGS[0]).cycling
    monkeypatch.setattr(LazyGraph, "_materialise", refuse)
    layers = cycling_layers(sample_base, config)
    assert len(layers["bike_network"]) > 100
    assert pending_tables(sample_base.bike_graph) is not None
