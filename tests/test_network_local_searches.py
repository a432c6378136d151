"""Every bounded search on the local tiled search (issue 17): the same results as before.

Each test runs the former dense code (kept here verbatim as the reference:
``distances_within``, a dense row of the whole network per source) beside the
new local one, on both samples' graphs and on a planted grid with one-way and
missing edges large enough for the searches to be cut into tiles.
"""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from geodistrict.network import (
    GraphArrays,
    NodeTargets,
    distances_within,
    graph_arrays,
    local_distances,
)
from geodistrict.priority import criteria
from geodistrict.priority.definitions import (
    CLOSENESS_FLOOR_M,
    FOOTFALL_RADIUS_M,
    GAP_RADIUS_M,
    LOCAL_RADIUS_M,
)

CRS = "EPSG:32632"


def _planted(n: int = 45, seed: int = 11) -> nx.MultiDiGraph:
    """An n x n grid (100 m), jittered, lengths 1-1.5x the line, 8 % one-way, 5 % missing."""
    rng = np.random.default_rng(seed)
    g = nx.MultiDiGraph(crs=CRS)
    for r in range(n):
        for c in range(n):
            g.add_node(
                r * n + c,
                x=500_000 + c * 100 + rng.uniform(-30, 30),
                y=5_000_000 + r * 100 + rng.uniform(-30, 30),
            )
    for r in range(n):
        for c in range(n):
            a = r * n + c
            for b in ([a + 1] if c + 1 < n else []) + ([a + n] if r + 1 < n else []):
                if rng.random() < 0.05:
                    continue
                pa, pb = g.nodes[a], g.nodes[b]
                straight = math.hypot(pa["x"] - pb["x"], pa["y"] - pb["y"])
                length = straight * rng.uniform(1.0, 1.5)
                pair = [(a, b), (b, a)]
                if rng.random() < 0.08:
                    pair = [pair[int(rng.integers(2))]]  # one way
                for u, v in pair:
                    g.add_edge(u, v, length=length, highway="residential")
    return g


def _italian_layers():  # type: ignore[no-untyped-def]
    import geodistrict as gd
    from geodistrict.config import load_config

    return gd.load_base_layers(load_config("config/piana_rotaliana.yml"))


@pytest.fixture(scope="module")
def all_graphs(sample_layers):  # type: ignore[no-untyped-def]
    italian = _italian_layers()
    planted = _planted()
    return {
        "helsinki": sample_layers.walk_graph,
        "piana": italian.walk_graph,
        "planted": planted,
        "planted-default": planted,
    }


@pytest.fixture
def graphs(all_graphs, request, monkeypatch):  # type: ignore[no-untyped-def]
    """The graphs; on "planted" every tile is cut out (never a whole search), so the
    analyses read local neighbourhoods; "planted-default" mixes both as shipped."""
    if request.node.callspec.params.get("name") == "planted":
        monkeypatch.setattr("geodistrict.network.search._LOCAL_COST", 0.0)
    return all_graphs


NAMES = ["helsinki", "piana", "planted", "planted-default"]


def _random_points(arrays: GraphArrays, k: int, seed: int, crs: object) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    lo, hi = arrays.xy.min(axis=0), arrays.xy.max(axis=0)
    xy = rng.uniform(lo, hi, (k, 2))
    return gpd.GeoSeries(shapely.points(xy), crs=crs)


def _low_stress_like(arrays: GraphArrays, seed: int) -> GraphArrays:
    """About 60 % of the edges, never the straightest: a subgraph with a larger bound."""
    straight = np.hypot(*(arrays.xy[arrays.edge_u] - arrays.xy[arrays.edge_v]).T)
    ratio = arrays.edge_mm / np.where(straight > 0, straight, np.nan)
    keep = (np.random.default_rng(seed).random(arrays.n_edges) < 0.7) & ~(ratio < 1003.0)
    low = arrays.subgraph(keep)
    assert low.mm_per_metre > arrays.mm_per_metre  # the bounds differ: batches must still match
    return low


def _tiles_used(arrays: GraphArrays, sources: np.ndarray, cutoff_m: float) -> bool:
    return any(
        len(nodes) < arrays.n
        for _, nodes, _ in local_distances(arrays, sources, cutoff_m=cutoff_m)
    )


# --------------------------------------------------------------------------- priority


def _walk_reach_dense(arrays, uniq, inverse, unit_off, shops, codes, n_categories, stops):  # type: ignore[no-untyped-def]
    """The former ``criteria._walk_reach`` (dense rows)."""
    footfall = np.zeros(len(uniq))
    density = np.zeros(len(uniq), dtype=np.int64)
    transit = np.zeros(len(uniq), dtype=np.int64)
    within = np.zeros((len(uniq), n_categories), dtype=np.int64)
    radius = max(FOOTFALL_RADIUS_M, GAP_RADIUS_M, LOCAL_RADIUS_M)
    row0 = 0
    for batch, dist in distances_within(arrays, uniq, cutoff_m=radius):
        for k in range(len(batch)):
            d = dist[k]
            i = row0 + k
            near = np.isfinite(d) & (d > 0) & (d <= FOOTFALL_RADIUS_M * 1000)
            footfall[i] = (1.0 / (np.maximum(d[near], CLOSENESS_FLOOR_M * 1000) / 1e6)).sum()
            own = unit_off[inverse == i].min()
            if len(shops.pos):
                reach = d[shops.pos] + shops.off + own
                density[i] = int((reach <= LOCAL_RADIUS_M * 1000).sum())
                hit = codes[(reach <= GAP_RADIUS_M * 1000) & (codes >= 0)]
                within[i] = np.bincount(hit, minlength=n_categories)
            if len(stops.pos):
                transit[i] = int((d[stops.pos] + stops.off + own <= LOCAL_RADIUS_M * 1000).sum())
        row0 += len(batch)
    return criteria._Reach(footfall, density, transit, within)


@pytest.mark.parametrize("name", NAMES)
def test_priority_walk_reach_equals_the_dense_search(graphs, name: str) -> None:  # type: ignore[no-untyped-def]
    arrays = graph_arrays(graphs[name])
    crs = graphs[name].graph["crs"]
    units = gpd.GeoDataFrame(geometry=_random_points(arrays, 300, 1, crs))
    shops = gpd.GeoDataFrame(geometry=_random_points(arrays, 900, 2, crs))
    stops = gpd.GeoDataFrame(geometry=_random_points(arrays, 120, 3, crs))
    unit_sites = criteria._snap(arrays, units, crs)
    uniq, inverse = np.unique(unit_sites.pos, return_inverse=True)
    codes = np.random.default_rng(4).integers(-1, 6, len(shops))
    args = (arrays, uniq, inverse, unit_sites.off, criteria._snap(arrays, shops, crs), codes, 6,
            criteria._snap(arrays, stops, crs))  # fmt: skip
    new, old = criteria._walk_reach(*args), _walk_reach_dense(*args)
    for got, expected in zip(new, old, strict=True):
        np.testing.assert_array_equal(got, expected)  # bit for bit, footfall sums included
    assert old.density.sum() > 0 and old.within.sum() > 0 and old.transit.sum() > 0
    if name == "planted":
        assert _tiles_used(arrays, uniq, FOOTFALL_RADIUS_M)


# --------------------------------------------------------------------------- production


def _cost_dense(arrays, fpos, foff, cpos, coff, max_distance_m):  # type: ignore[no-untyped-def]
    """The former loop of ``production.services._network_cost``."""
    cost = np.full((len(fpos), len(cpos)), np.inf)
    start = 0
    for batch, dist_mm in distances_within(arrays, cpos, cutoff_m=max_distance_m, reverse=True):
        cols = slice(start, start + len(batch))
        cost[:, cols] = dist_mm[:, fpos].T / 1000.0 + foff[:, None] + coff[None, cols]
        start += len(batch)
    return cost


@pytest.mark.parametrize("name", NAMES)
def test_service_costs_equal_the_dense_search(graphs, name: str) -> None:  # type: ignore[no-untyped-def]
    from geodistrict.production import services

    graph = graphs[name]
    arrays = graph_arrays(graph)
    crs = graph.graph["crs"]
    firms = gpd.GeoDataFrame(geometry=_random_points(arrays, 250, 5, crs))
    candidates = _random_points(arrays, 60, 6, crs)
    fxy = shapely.get_coordinates(firms.geometry.to_numpy())
    for cands in (candidates, None):  # given candidates, then the graph nodes near firms
        cost, _cxy, _labels = services._network_cost(
            graph, firms, fxy, cands, max_distance_m=600.0, max_candidates=80
        )
        from geodistrict.network import nearest_nodes

        snapped = nearest_nodes(arrays, firms.geometry)
        if cands is not None:
            csnap = nearest_nodes(arrays, cands)
            cpos, coff = csnap["pos"].to_numpy(), csnap["offset_m"].to_numpy()
        else:
            cpos = arrays.positions(
                np.array([int(label.split()[-1]) for label in _labels], dtype=np.int64)
            )
            coff = np.zeros(len(cpos))
        expected = _cost_dense(arrays, snapped["pos"].to_numpy(), snapped["offset_m"].to_numpy(),
                               cpos, coff, 600.0)  # fmt: skip
        np.testing.assert_array_equal(cost, expected)
        assert np.isfinite(cost).any() and np.isinf(cost).any()
    if name == "planted":
        assert _tiles_used(arrays, cpos, 600.0)


# --------------------------------------------------------------------------- cycling


def _people_and_dests(arrays: GraphArrays, seed: int, fractional: bool):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    o_nodes = rng.integers(0, arrays.n, 400)
    weights = rng.uniform(0.2, 7.0, 400) if fractional else np.ones(400)
    d_nodes = rng.integers(0, arrays.n, 300)
    d_code = rng.integers(0, 5, 300)
    onehot = np.zeros((300, 5))
    onehot[np.arange(300), d_code] = 1.0
    people_at = np.bincount(o_nodes, weights=weights, minlength=arrays.n)
    return np.unique(o_nodes), d_nodes, onehot, people_at


def _reach_pairs_dense(arrays, low_net, uniq, d_nodes, onehot, people_at, bikeshed_m, detour):  # type: ignore[no-untyped-def]
    """The former inner loop of ``cycling.connectivity``."""
    people_nodes = np.flatnonzero(people_at)
    n_sub = onehot.shape[1]
    low_cnt, any_cnt = np.zeros((len(uniq), n_sub)), np.zeros((len(uniq), n_sub))
    p_low, p_any = np.zeros(len(uniq)), np.zeros(len(uniq))
    limit = math.floor(bikeshed_m * 1000.0 + 1e-6)
    start = 0
    for (batch, d_any), (_, d_low) in zip(
        distances_within(arrays, uniq, cutoff_m=bikeshed_m),
        distances_within(low_net, uniq, cutoff_m=bikeshed_m),
        strict=True,
    ):
        rows = slice(start, start + len(batch))
        start += len(batch)
        for targets, kind in ((d_nodes, "dest"), (people_nodes, "people")):
            a = d_any[:, targets]
            ok_any = a <= limit
            b = d_low[:, targets]
            ok_low = ok_any & (b <= limit) & (b <= detour * a)
            if kind == "dest":
                any_cnt[rows] = ok_any @ onehot
                low_cnt[rows] = ok_low @ onehot
            else:
                p_any[rows] = ok_any @ people_at[targets]
                p_low[rows] = ok_low @ people_at[targets]
    return any_cnt, low_cnt, p_any, p_low


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fractional", [False, True])
def test_connectivity_reach_equals_the_dense_search(graphs, name: str, fractional: bool) -> None:  # type: ignore[no-untyped-def]
    from geodistrict.cycling.low_stress import _reach_pairs

    arrays = graph_arrays(graphs[name])
    low_net = _low_stress_like(arrays, 8)
    uniq, d_nodes, onehot, people_at = _people_and_dests(arrays, 9, fractional)
    new = _reach_pairs(arrays, low_net, uniq, d_nodes, onehot, people_at,
                       bikeshed_m=900.0, detour_ratio=1.25)  # fmt: skip
    old = _reach_pairs_dense(arrays, low_net, uniq, d_nodes, onehot, people_at, 900.0, 1.25)
    for got, expected in zip(new[:2], old[:2], strict=True):  # destination counts
        np.testing.assert_array_equal(got, expected)
    if fractional:  # sums of fractional weights: the same terms, another BLAS grouping
        np.testing.assert_allclose(new[2], old[2], rtol=1e-12, atol=0)
        np.testing.assert_allclose(new[3], old[3], rtol=1e-12, atol=0)
    else:
        np.testing.assert_array_equal(new[2], old[2])
        np.testing.assert_array_equal(new[3], old[3])
    assert 0 < old[1].sum() < old[0].sum()  # the low-stress network reaches less
    if name == "planted":
        assert _tiles_used(arrays, uniq, 900.0)


def _pairs_dense(dist_to_a, dist_from_b, w, o_nodes, o_weight, d_nodes, limit):  # type: ignore[no-untyped-def]
    """The former ``cycling.gaps._pairs_through`` on dense rows."""
    r = dist_to_a[o_nodes]
    s = np.sort(dist_from_b[d_nodes])
    ok = np.isfinite(r)
    if not ok.any() or not np.isfinite(s).any():
        return 0.0
    counts = np.searchsorted(s, limit - w - r[ok], side="right")
    return float((counts * o_weight[ok]).sum())


@pytest.mark.parametrize("name", NAMES)
def test_gap_benefits_equal_the_dense_search(graphs, name: str) -> None:  # type: ignore[no-untyped-def]
    from geodistrict.cycling import gaps

    arrays = graph_arrays(graphs[name])
    rng = np.random.default_rng(12)
    o_nodes, o_weight = np.unique(rng.integers(0, arrays.n, 500), return_counts=True)
    d_nodes = rng.integers(0, arrays.n, 400)
    d_per_node = np.bincount(d_nodes, minlength=arrays.n)
    limit = math.floor(700.0 * 1000.0 + 1e-6)
    found = 0.0
    for a, b in rng.integers(0, arrays.n, (25, 2)):
        w = float(rng.uniform(0, 120_000))
        dense_to = next(distances_within(arrays, np.array([a]), cutoff_m=700.0, reverse=True))[1][
            0
        ]
        dense_from = next(distances_within(arrays, np.array([b]), cutoff_m=700.0))[1][0]
        new = gaps._pairs_through(
            gaps._distances(arrays, int(a), 700.0, reverse=True),
            gaps._distances(arrays, int(b), 700.0, reverse=False),
            w, o_nodes, o_weight, d_nodes, d_per_node, limit,
        )  # fmt: skip
        assert new == _pairs_dense(dense_to, dense_from, w, o_nodes, o_weight, d_nodes, limit)
        found += new
    assert found > 0


@pytest.mark.parametrize("name", NAMES)
def test_isochrone_points_equal_the_dense_search(graphs, name: str) -> None:  # type: ignore[no-untyped-def]
    from geodistrict.cycling.isochrone import _reached_points

    arrays = graph_arrays(graphs[name])
    rng = np.random.default_rng(13)
    pt_edge = np.repeat(np.arange(arrays.n_edges), rng.integers(1, 4, arrays.n_edges))
    pt_off = rng.uniform(0, 80, len(pt_edge))
    eu = arrays.edge_u
    sources = rng.integers(0, arrays.n, 12)
    limit = 1000.0
    got = _reached_points(arrays, sources, NodeTargets(eu[pt_edge], arrays.n), pt_off, limit)
    dense = np.concatenate([d for _, d in distances_within(arrays, sources, cutoff_m=limit)])
    for (picked, at), row in zip(got, dense / 1000.0, strict=True):
        old_at = row[eu[pt_edge]] + pt_off
        for reach in (300.0, 650.0, limit):
            expected = np.flatnonzero(old_at <= reach)
            np.testing.assert_array_equal(np.sort(picked[at <= reach]), expected)
            ordered = np.argsort(picked)
            kept = ordered[np.isin(picked[ordered], expected)]
            np.testing.assert_array_equal(at[kept], old_at[expected])


def _old_polygon(raster, xy):  # type: ignore[no-untyped-def]
    """The former ``_Raster.polygon``: the whole grid over the network, GDAL's transform."""
    from rasterio import features
    from rasterio.transform import from_origin
    from scipy import ndimage

    grid = np.zeros(raster.shape, dtype=bool)
    rows = np.clip(((raster.y1 - xy[:, 1]) / raster.cell).astype(int), 0, raster.shape[0] - 1)
    cols = np.clip(((xy[:, 0] - raster.x0) / raster.cell).astype(int), 0, raster.shape[1] - 1)
    grid[rows, cols] = True
    grid = ndimage.binary_dilation(grid, structure=raster.disk)
    transform = from_origin(raster.x0, raster.y1, raster.cell, raster.cell)
    shapes = features.shapes(grid.astype(np.uint8), mask=grid, transform=transform)
    return shapely.union_all([shapely.geometry.shape(g) for g, _ in shapes])


@pytest.mark.parametrize("seed", range(12))
def test_isochrone_window_polygon_equals_the_whole_grid(seed: int) -> None:
    from geodistrict.cycling.isochrone import _Raster

    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 4000, (1500, 2)) + np.array([612_345.678, 5_034_567.891])
    raster = _Raster(xy, float(rng.choice([10.0, 7.3, 12.5])), float(rng.choice([30.0, 11.0])))
    part = xy[rng.choice(len(xy), int(rng.integers(1, 200)), replace=False)]
    if seed == 0:  # a corner point: the window meets the grid's edge
        part = np.vstack([part, xy[np.argmin(xy.sum(axis=1))]])
    expected = _old_polygon(raster, part)
    assert shapely.to_wkb(raster.polygon(part)) == shapely.to_wkb(expected)
    assert shapely.to_wkb(raster.polygon(part, whole=True)) == shapely.to_wkb(expected)


def test_isochrones_on_the_sample_keep_their_areas(sample_layers) -> None:  # type: ignore[no-untyped-def]
    """The whole function, windows against the whole grid, on the sample graphs."""
    from geodistrict.cycling import isochrone

    g = sample_layers.walk_graph
    arrays = graph_arrays(g)
    src = gpd.GeoDataFrame({"name": ["a", "b"]},
                           geometry=_random_points(arrays, 2, 14, g.graph["crs"]))  # fmt: skip
    new = isochrone.isochrones({"walk": g}, src, minutes=[3, 8])
    original = isochrone._Raster.polygon
    try:
        isochrone._Raster.polygon = lambda self, xy, whole=True: original(self, xy, whole=True)  # type: ignore[method-assign]
        old = isochrone.isochrones({"walk": g}, src, minutes=[3, 8])
    finally:
        isochrone._Raster.polygon = original  # type: ignore[method-assign]
    assert new.drop(columns="geometry").equals(old.drop(columns="geometry"))
    assert list(shapely.to_wkb(new.geometry.to_numpy())) == list(
        shapely.to_wkb(old.geometry.to_numpy())
    )


@pytest.mark.parametrize("cost", [0.0, None])
def test_a_subgraph_searched_with_the_whole_bound_comes_in_the_same_batches(
    cost: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if cost is not None:
        monkeypatch.setattr("geodistrict.network.search._LOCAL_COST", cost)
    arrays = graph_arrays(_planted())
    low = _low_stress_like(arrays, 3)
    sources = np.arange(0, arrays.n, 7)
    whole = [(w, n) for w, n, _ in local_distances(arrays, sources, cutoff_m=600.0)]
    cut = list(local_distances(low, sources, cutoff_m=600.0, mm_per_metre=arrays.mm_per_metre))
    assert len(whole) == len(cut) >= 1
    if cost == 0.0:
        assert len(cut) > 1 and max(len(n) for _, n, _ in cut) < arrays.n
    reference = distances_within(low, sources, cutoff_m=600.0)
    dense = np.concatenate([d for _, d in reference])
    for (w, n), (w2, n2, d) in zip(whole, cut, strict=True):
        np.testing.assert_array_equal(w, w2)
        np.testing.assert_array_equal(n, n2)
        full = np.full((len(w2), arrays.n), np.inf)
        full[:, n2] = d
        np.testing.assert_array_equal(full, dense[w2])
