"""The array-built street graphs equal osmnx's graph_from_gdfs + simplify_graph, and the
column-wise tag handling equals the row-by-row one.

Reference: ``build_graph(..., engine="osmnx")`` (osmnx's own code). Compared on the
walk, bike and all graphs of both embedded samples and on hand-made networks whose
simplified form is known by construction.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely

import geodistrict as gd
from geodistrict import ingest
from geodistrict.area import clip_polygon, study_area
from geodistrict.network import build_graph, streets_from_graph
from geodistrict.network.simplify import endpoint_mask, graph_from_tables, simplify_edges
from geodistrict.sources import osm

CRS = "EPSG:32632"
MODES = ("walk", "bike", "all")


def _same_value(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, shapely.Geometry):
        return bool(shapely.equals_exact(a, b, tolerance=0)) and shapely.get_num_coordinates(
            a
        ) == shapely.get_num_coordinates(b)
    if isinstance(a, list):  # osmnx lists distinct values in set order
        return sorted(map(repr, a)) == sorted(map(repr, b))  # type: ignore[call-overload]
    return a == b


def assert_same_graph(new: nx.MultiDiGraph, ref: nx.MultiDiGraph) -> None:
    """Same graph attributes, nodes (in order, with data), edges (in order, with keys,
    attributes in the same order, equal values and geometries) and predecessor order."""
    assert new.graph == ref.graph
    assert list(new.nodes(data=True)) == list(ref.nodes(data=True))
    new_edges = list(new.edges(keys=True, data=True))
    ref_edges = list(ref.edges(keys=True, data=True))
    assert [e[:3] for e in new_edges] == [e[:3] for e in ref_edges]
    for (u, v, k, a), (_, _, _, b) in zip(new_edges, ref_edges, strict=True):
        assert list(a) == list(b), (u, v, k, list(a), list(b))
        bad = [name for name in a if not _same_value(a[name], b[name])]
        assert not bad, (u, v, k, {name: (a[name], b[name]) for name in bad})
    for node in ref.nodes:
        assert list(new.pred[node]) == list(ref.pred[node])


# --------------------------------------------------------------------------- samples


def _raw_streets(config_path: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, object]:
    """The nodes and segments ingest gives build_graph, checking the tag handling on the way."""
    config = gd.load_config(config_path)
    area = study_area(config)
    polygon = gpd.GeoSeries([clip_polygon(area)], crs=area.crs).to_crs(4326).iloc[0]
    checked: list[int] = []
    vectorised = osm._tag_dicts

    def both(frame: pd.DataFrame) -> list[dict[str, str]]:
        new = vectorised(frame)
        ref = osm._tag_dicts_reference(frame)
        assert new == ref
        assert all(list(a) == list(b) for a, b in zip(new, ref, strict=True))
        checked.append(len(frame))
        return new

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(osm, "_tag_dicts", both)
        raw = ingest.read_source(config, polygon)
    assert len(checked) >= 5 and sum(checked) > 1000  # streets, POIs, buildings, ...
    nodes = raw.nodes[raw.nodes.intersects(polygon)]
    inside = set(nodes.index)
    segments = raw.segments[raw.segments["u"].isin(inside) & raw.segments["v"].isin(inside)]
    return nodes, segments, area.crs


@pytest.fixture(scope="module", params=["config/sample.yml", "config/piana_rotaliana.yml"])
def district_streets(
    request: pytest.FixtureRequest,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, object]:
    return _raw_streets(request.param)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_sample_graphs_equal_osmnx(
    district_streets: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, object], mode: str
) -> None:
    nodes, segments, crs = district_streets
    ref = build_graph(nodes, segments, mode=mode, crs=crs, engine="osmnx")  # type: ignore[arg-type]
    new = build_graph(nodes, segments, mode=mode, crs=crs)  # type: ignore[arg-type]
    assert ref.number_of_edges() > 1000
    assert new.number_of_nodes() < len(nodes)  # simplified indeed
    assert_same_graph(new, ref)
    lengths = np.array([d["length"] for *_, d in new.edges(data=True)])
    ref_lengths = np.array([d["length"] for *_, d in ref.edges(data=True)])
    assert np.array_equal(lengths, ref_lengths)  # bit for bit, not only to the mm


@pytest.mark.slow
def test_streets_equal_osmnx_graph_to_gdfs(
    district_streets: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, object],
) -> None:
    nodes, segments, crs = district_streets
    graph = build_graph(nodes, segments, mode="all", crs=crs)  # type: ignore[arg-type]
    ref = ox.graph_to_gdfs(graph, nodes=False).reset_index()
    ref = ref[~ref["reversed"]].drop(columns="reversed").reset_index(drop=True)
    pd.testing.assert_frame_equal(streets_from_graph(graph), ref)
    assert len(ref) > 1000


@pytest.mark.slow
def test_unsimplified_graphs_equal_osmnx(
    district_streets: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, object],
) -> None:
    nodes, segments, crs = district_streets
    ref = build_graph(nodes, segments, mode="bike", crs=crs, simplify=False, engine="osmnx")  # type: ignore[arg-type]
    new = build_graph(nodes, segments, mode="bike", crs=crs, simplify=False)  # type: ignore[arg-type]
    assert new.graph["simplified"] is False
    assert_same_graph(new, ref)


@pytest.mark.slow
def test_helsinki_layer_counts_unchanged() -> None:
    """The counts tests/test_matrix.py asserts for the Helsinki sample."""
    layers = gd.load_base_layers(gd.load_config("config/sample.yml"), use_cache=False)
    assert len(layers.streets) == 4652
    assert layers.walk_graph.number_of_nodes() == 3476


# --------------------------------------------------------------------------- synthetic


def _network(
    coords: Mapping[int, tuple[float, float]], ways: list[tuple[int, list[int], dict[str, str]]]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes and segments (as the OSM readers give them) from node positions in metres
    (east, north of a point in Trentino) and ways (id, node list, tags)."""
    origin = np.array([663000.0, 5120000.0])
    ids = sorted(coords)
    xy = gpd.GeoSeries(
        gpd.points_from_xy(*np.array([coords[i] for i in ids]).T + origin[:, None]), crs=CRS
    ).to_crs(4326)
    nodes = gpd.GeoDataFrame(
        {"x": xy.x.to_numpy(), "y": xy.y.to_numpy()},
        geometry=xy.to_numpy(),
        index=pd.Index(ids, name="osmid"),
        crs=4326,
    )
    rows = []
    for way, refs, tags in ways:
        for a, b in itertools.pairwise(refs):
            row: dict[str, object] = {"u": a, "v": b, "osmid": way}
            row.update({osm.column_name(k): tags.get(k) for k in osm.STREET_TAGS})
            row["tags"] = json.dumps(tags)
            row["geometry"] = shapely.LineString(
                [nodes.geometry[a].coords[0], nodes.geometry[b].coords[0]]
            )
            rows.append(row)
    segments = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=4326)
    segments["osmid"] = segments["osmid"].astype("Int64")
    return nodes, segments


def _graph(
    coords: Mapping[int, tuple[float, float]],
    ways: list[tuple[int, list[int], dict[str, str]]],
    mode: str = "walk",
) -> nx.MultiDiGraph:
    """The array-built graph, after checking it equals osmnx's."""
    nodes, segments = _network(coords, ways)
    new = build_graph(nodes, segments, mode=mode, crs=CRS)  # type: ignore[arg-type]
    ref = build_graph(nodes, segments, mode=mode, crs=CRS, engine="osmnx")  # type: ignore[arg-type]
    assert_same_graph(new, ref)
    return new


ROAD = {"highway": "residential"}


def test_ring_becomes_a_self_loop_and_an_isolated_ring_is_dropped() -> None:
    coords = {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100), 5: (-50, 0),
              11: (500, 0), 12: (600, 0), 13: (600, 100)}  # fmt: skip
    g = _graph(coords, [(10, [1, 2, 3, 4, 1], ROAD), (20, [1, 5], ROAD),
                        (30, [11, 12, 13, 11], ROAD)])  # fmt: skip
    assert sorted(g.nodes) == [1, 5]  # the ring 11-12-13 has no endpoint: gone
    loops = sorted(
        (k, round(d["length"], 3), list(d["geometry"].coords)[1][0] > d["geometry"].coords[0][0])
        for u, v, k, d in g.edges(keys=True, data=True)
        if u == v
    )
    assert [(k, length) for k, length, _ in loops] == [(0, 400.0), (1, 400.0)]
    assert {east for *_, east in loops} == {True, False}  # once each way round
    assert g.number_of_edges() == 4  # the two loops and the spur both ways


def test_one_way_chain_is_one_edge_for_bikes_and_two_for_walkers() -> None:
    coords = {1: (0, 0), 2: (50, 0), 3: (100, 10), 4: (150, 0)}
    ways = [(10, [1, 2, 3, 4], {"highway": "residential", "oneway": "yes"})]
    bike = _graph(coords, ways, "bike")
    assert list(bike.edges(keys=True)) == [(1, 4, 0)]
    data = bike.edges[1, 4, 0]
    assert data["oneway"] is True and data["reversed"] is False
    assert len(data["geometry"].coords) == 4
    assert data["length"] == pytest.approx(50 + 2 * np.hypot(50, 10), abs=1e-3)
    walk = _graph(coords, ways, "walk")
    assert sorted(walk.edges(keys=True)) == [(1, 4, 0), (4, 1, 0)]
    assert walk.edges[4, 1, 0]["reversed"] is True


def test_chain_keeps_the_node_where_the_way_changes() -> None:
    coords = {1: (0, 0), 2: (50, 0), 3: (100, 0), 4: (150, 0), 5: (200, 0)}
    g = _graph(coords, [(10, [1, 2, 3], {**ROAD, "name": "Via Roma"}),
                        (20, [3, 4, 5], {**ROAD, "name": "Via Dante"})])  # fmt: skip
    assert sorted(g.edges()) == [(1, 3), (3, 1), (3, 5), (5, 3)]
    assert g.edges[3, 5, 0]["osmid"] == 20 and g.edges[3, 5, 0]["name"] == "Via Dante"
    assert g.edges[1, 3, 0]["length"] == 100.0


def test_dead_end_and_junction() -> None:
    coords = {1: (0, 0), 2: (50, 0), 3: (100, 0), 4: (100, 50), 5: (100, 100)}
    g = _graph(coords, [(10, [1, 2, 3], ROAD), (20, [3, 4, 5], ROAD)])
    assert sorted(g.nodes) == [1, 3, 5]  # dead ends 1 and 5, way change at 3
    assert endpoint_mask(3, np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1])).tolist() == [
        True,
        False,
        True,
    ]


def test_a_network_of_rings_only_is_empty() -> None:
    coords = {1: (0, 0), 2: (100, 0), 3: (100, 100)}
    g = _graph(coords, [(10, [1, 2, 3, 1], ROAD)])
    assert g.number_of_nodes() == 0 and g.graph["simplified"] is True


def test_nothing_to_simplify() -> None:
    coords = {1: (0, 0), 2: (100, 0), 3: (0, 100), 4: (-100, 0)}
    g = _graph(coords, [(10, [1, 2], ROAD), (20, [1, 3], ROAD), (30, [4, 1], ROAD)])
    assert g.number_of_nodes() == 4 and g.number_of_edges() == 6


def test_parallel_edges_get_keys_in_order() -> None:
    coords = {1: (0, 0), 2: (50, 30), 3: (100, 0), 4: (50, -30), 5: (-50, 0), 6: (150, 0)}
    g = _graph(coords, [(10, [1, 2, 3], ROAD), (20, [1, 4, 3], ROAD), (30, [1, 3], ROAD),
                        (40, [5, 1], ROAD), (50, [3, 6], ROAD)])  # fmt: skip
    keys = {k: d["osmid"] for u, v, k, d in g.edges(keys=True, data=True) if (u, v) == (1, 3)}
    assert keys == {0: 30, 1: 10, 2: 20}  # the direct way first, then the merged ones


def test_irregular_middle_nodes_are_walked_like_osmnx() -> None:
    """Duplicate one-way segments of one way (osmnx warns and keeps the first edge)."""
    coords = {1: (0, 0), 2: (50, 0), 3: (100, 0), 4: (0, 50), 5: (100, 50)}
    one_way = {"highway": "residential", "oneway": "yes"}
    g = _graph(coords, [(10, [1, 2, 3], one_way), (10, [1, 2, 3], one_way),
                        (20, [4, 1], ROAD), (30, [3, 5], ROAD)], "bike")  # fmt: skip
    assert 2 not in g.nodes and g.has_edge(1, 3)


def test_tables_without_simplification_and_empty_graphs() -> None:
    coords = {1: (0, 0), 2: (50, 0)}
    nodes, segments = _network(coords, [(10, [1, 2], {"highway": "construction"})])
    g = build_graph(nodes, segments, mode="walk", crs=CRS)
    assert g.number_of_edges() == 0 and g.graph["simplified"] is False
    table = pd.DataFrame({"u": [1, 2], "v": [2, 3], "key": 0, "osmid": [5, 5], "length": 1.0})
    out = simplify_edges([1, 2, 3], table, coords=np.array([[0, 0], [1, 0], [2, 0.0]]))
    graph = graph_from_tables(pd.DataFrame({"x": [0.0, 2.0], "y": 0.0}, index=[1, 3]),
                              out.edges.drop(columns="merged"))  # fmt: skip
    assert list(graph.edges(data="length")) == [(1, 3, 2.0)]
    assert list(graph.edges[1, 3, 0]["geometry"].coords) == [(0, 0), (1, 0), (2, 0)]
    with pytest.raises(gd.errors.ParameterError, match="'fast'"):
        build_graph(nodes, segments, mode="walk", crs=CRS, engine="fast")  # type: ignore[arg-type]


def test_tag_dicts_equal_the_reference_on_every_kind_of_column() -> None:
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "a": [1.5, np.nan, 2.0],
            "b": [1, 2, 3],
            "c": [True, False, True],
            "d": [None, [], ["x"]],
            "e": pd.array([1, None, 3], dtype="Int64"),
            "f": [np.float32("nan"), "x", {}],
            "g": pd.array(["s", None, "t"], dtype="string"),
            "h": pd.Series(["u", None, "w"], dtype="str"),
            "tags": ['{"k": 1, "z": null, "h": "over"}', None, ""],
        }
    )
    new, ref = osm._tag_dicts(frame), osm._tag_dicts_reference(frame)
    assert new == ref
    assert [list(t) for t in new] == [list(t) for t in ref]
    assert new[0] == {"a": "1.5", "b": "1", "c": "True", "e": "1", "g": "s", "h": "over",
                      "k": "1"}  # fmt: skip


def test_a_chain_that_osmnx_cannot_finish_is_handled_the_same_way() -> None:
    """A middle node entered twice one-way from one side: osmnx's "unexpected pattern"."""
    coords = {1: (0, 0), 2: (50, 0), 3: (100, 0), 4: (-50, 0), 5: (150, 0)}
    one_way = {"highway": "residential", "oneway": "yes"}
    g = _graph(coords, [(10, [1, 2], ROAD), (10, [3, 2], one_way), (10, [3, 2], one_way),
                        (20, [4, 1], ROAD), (30, [3, 5], ROAD)], "bike")  # fmt: skip
    assert sorted(g.edges(keys=True)) == [(1, 4, 0), (3, 1, 0), (3, 5, 0), (4, 1, 0), (5, 3, 0)]


def test_values_that_differ_along_a_chain_become_lists() -> None:
    """One OSM id with different tags on its segments (osmnx keeps each distinct value)."""
    coords = {1: (0, 0), 2: (50, 0), 3: (100, 0), 4: (150, 0)}
    g = _graph(coords, [(10, [1, 2], {"highway": "residential", "maxspeed": "30"}),
                        (10, [2, 3], {"highway": "service"}),
                        (10, [3, 4], {"highway": "service", "name": "Via Verdi"})])  # fmt: skip
    data = g.edges[1, 4, 0]
    assert sorted(data["highway"]) == ["residential", "service"]
    assert data["maxspeed"] == "30" and data["name"] == "Via Verdi"
    assert list(data).index("geometry") > list(data).index("maxspeed")
    # osmnx orders the keys by first appearance along the chain
    assert list(data)[-1] == "name" and list(g.edges[4, 1, 0])[-1] == "maxspeed"
