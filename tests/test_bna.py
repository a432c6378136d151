"""Issue 12: snapping that cannot trap, and connectivity in the terms of the BNA.

Known answers built by hand: a point on a dead-end one-way street gets an
isochrone that grows with the minutes; two islands joined by a low-stress
detour longer than 1.25 x the shortest route are not connected (PeopleForBikes
Bicycle Network Analysis); ``motorcar=yes`` beats ``motor_vehicle=no``; an
unsignalised crossing of a wide fast road raises its approaches (Mekuria,
Furth & Nixon 2012, table 4); a graph without the tags the rules need warns.
"""

from __future__ import annotations

import json
import logging

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from builders import CRS
from shapely.geometry import LineString, Point

import geodistrict as gd
from geodistrict import cycling
from geodistrict.errors import ParameterError
from geodistrict.i18n import use_language
from geodistrict.network import build_graph, graph_arrays

LON0, LAT0, DLON, DLAT = 9.33, 45.49, 0.00128, 0.0009  # about 100 m per grid step

QUIET = {"highway": "residential", "maxspeed": "30", "name": "Via Quieta"}
BUSY = {"highway": "primary", "maxspeed": "50", "lanes": "4", "name": "Strada Padana"}


def _lonlat(col: float, row: float) -> tuple[float, float]:
    return LON0 + col * DLON, LAT0 + row * DLAT


def _graph(
    edges: list[tuple[tuple[float, float], tuple[float, float], dict[str, str]]],
) -> nx.MultiDiGraph:
    """A bike graph from ``(start, end, tags)`` in grid units (about 100 m)."""
    ids: dict[tuple[float, float], int] = {}
    for a, b, _ in edges:
        for p in (a, b):
            ids.setdefault(p, len(ids) + 1)
    nodes = gpd.GeoDataFrame(
        {"x": [_lonlat(*p)[0] for p in ids], "y": [_lonlat(*p)[1] for p in ids]},
        geometry=[Point(_lonlat(*p)) for p in ids],
        index=pd.Index(list(ids.values()), name="osmid"),
        crs=4326,
    )
    rows = [
        {"u": ids[a], "v": ids[b], "osmid": 500 + i, **tags,
         "geometry": LineString([_lonlat(*a), _lonlat(*b)])}
        for i, (a, b, tags) in enumerate(edges)
    ]  # fmt: skip
    segments = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    return build_graph(nodes, segments, mode="bike", crs=CRS, simplify=False)


def _pts(coords: list[tuple[float, float]], **columns: object) -> gpd.GeoDataFrame:
    geoms = gpd.GeoSeries([Point(_lonlat(*c)) for c in coords], crs=4326).to_crs(CRS)
    return gpd.GeoDataFrame(dict(columns), geometry=geoms.to_numpy(), crs=CRS)


def _grid(n: int) -> list[tuple[tuple[float, float], tuple[float, float], dict[str, str]]]:
    out = []
    for c in range(n):
        for r in range(n):
            if c < n - 1:
                out.append(((c, r), (c + 1, r), QUIET))
            if r < n - 1:
                out.append(((c, r), (c, r + 1), QUIET))
    return out


# ------------------------------------------------------------- snapping without traps


def _grid_with_one_way_dead_end() -> nx.MultiDiGraph:
    """A 7 x 7 grid and a one-way street leaving it at (6, 3) and ending at (7.5, 3)."""
    return cycling.add_lts(_graph([*_grid(7), ((6, 3), (7.5, 3), {**QUIET, "oneway": "yes"})]))


def test_isochrone_from_a_one_way_dead_end_grows_with_minutes() -> None:
    graph = _grid_with_one_way_dead_end()
    arrays = graph_arrays(graph)
    trap = _pts([(7.5, 3)], name=["trap"], kind=["input"])
    # The dead end is a trap: nothing leaves it, so it is outside the largest strong part.
    end = int(np.argmin(np.hypot(*(arrays.xy - trap.geometry.iloc[0].coords[0]).T)))
    assert not arrays.largest_component[end]
    iso = cycling.isochrones({"bike": graph, "walk": graph}, trap, minutes=[1, 2, 3])
    for mode, group in iso.groupby("mode"):
        areas = group.sort_values("minutes")["area_ha"].to_numpy()
        assert (np.diff(areas) > 0).all(), (mode, areas)  # strictly larger every minute
    bike = iso[iso["mode"] == "bike"].sort_values("minutes")["area_ha"].to_numpy()
    assert bike[0] > 5, bike  # 250 m of grid streets in a minute, not a stub
    assert (iso["snap_m"] > 100).all()  # started from the grid, 150 m away


def test_connectivity_from_a_one_way_dead_end_reaches_the_grid() -> None:
    graph = _grid_with_one_way_dead_end()
    home = _pts([(7.5, 3)])
    shops = _pts([(2, 2), (4, 4)], category=["commerce", "commerce"])
    scores = cycling.connectivity(graph, home, shops)
    assert scores["any_retail"].tolist() == [2] and scores["low_retail"].tolist() == [2]


# -------------------------------------------------------------------- detour limit


def _islands_with_detour(height: float) -> nx.MultiDiGraph:
    """Islands A (x = 0) and B (x = 3) joined by a busy 300 m primary and a quiet detour.

    The detour goes up ``height`` grid units, across and down again: its length is
    300 + 2 x 100 x ``height`` metres.
    """
    edges = [
        ((0, 0), (1, 0), BUSY), ((1, 0), (2, 0), BUSY), ((2, 0), (3, 0), BUSY),
        ((0, 0), (0, height), QUIET), ((0, height), (3, height), QUIET),
        ((3, height), (3, 0), QUIET),
    ]  # fmt: skip
    return cycling.add_lts(_graph(edges))


@pytest.mark.parametrize(
    ("height", "ratio", "connected"),
    [
        (1.0, 1.25, False),  # 500 m low-stress vs 300 m: 1.67 x, beyond the BNA's 1.25
        (1.0, 2.0, True),  # the same detour with a looser limit
        (0.3, 1.25, True),  # 360 m vs 300 m: 1.2 x, within the limit
    ],
)
def test_two_islands_joined_by_a_long_detour_are_not_connected(
    height: float, ratio: float, connected: bool
) -> None:
    graph = _islands_with_detour(height)
    home = _pts([(0, 0)])
    shop = _pts([(3, 0)], category=["commerce"])
    scores = cycling.connectivity(graph, home, shop, detour_ratio=ratio)
    assert scores["any_retail"].tolist() == [1]
    assert scores["low_retail"].tolist() == [int(connected)]
    assert scores["score_retail"].tolist() == [1.0 if connected else 0.0]


def test_detour_ratio_is_checked() -> None:
    graph = _islands_with_detour(1.0)
    with pytest.raises(ParameterError, match=r"0\.9"):
        cycling.connectivity(graph, _pts([(0, 0)]), _pts([(3, 0)], category=["commerce"]),
                             detour_ratio=0.9)  # fmt: skip


# ------------------------------------------------------------ BNA scores and weights


def test_bna_step_scores_by_hand() -> None:
    # retail: first 0.4, second 0.2, third 0.1, then the remaining 0.3 in proportion
    low, high = np.array([0, 1, 2, 3, 4, 10, 0]), np.array([10, 10, 10, 10, 10, 10, 0])
    got = cycling.bna_step_score(low, high, cycling.BNA_STEPS["retail"])
    assert got[:6].tolist() == pytest.approx([0.0, 0.4, 0.6, 0.7, 0.7 + 0.3 / 7, 1.0])
    assert np.isnan(got[6])
    # transit: first 0.6, then a plain ratio of the rest
    got = cycling.bna_step_score(np.array([1, 2]), np.array([3, 3]), cycling.BNA_STEPS["transit"])
    assert got.round(4).tolist() == [0.6, 0.8]


def test_district_scores_are_weighted_by_people_and_types() -> None:
    graph = _islands_with_detour(1.0)
    # Home 1 sits on the primary (only high-stress reach to the shop); home 2 on island B.
    homes = _pts([(0, 0), (3, 0.5)], weight=[3.0, 1.0])
    shop = _pts([(3, 0)], category=["commerce"])
    scores = cycling.connectivity(graph, homes, shop)
    assert scores["score_retail"].tolist() == [0.0, 1.0]
    district = scores.attrs["district_scores"]
    assert district["retail"] == pytest.approx((3 * 0.0 + 1 * 1.0) / 4)
    # Only people and retail are reachable: the overall score weighs them 15 : 15.
    assert scores.attrs["district_score"] == pytest.approx(
        (district["people"] + district["retail"]) / 2, abs=1e-4
    )
    only_retail = cycling.connectivity(graph, homes, shop, weights={"retail": 1.0})
    assert only_retail.attrs["district_score"] == pytest.approx(district["retail"], abs=1e-4)
    with pytest.raises(ParameterError, match="shops"):
        cycling.connectivity(graph, homes, shop, weights={"shops": 1.0})


def test_destinations_map_to_bna_types() -> None:
    pois = _pts(
        [(0, 0)] * 7,
        shop=["supermarket", "shoes", None, None, None, None, None],
        amenity=[None, None, "pharmacy", "school", "townhall", "community_centre", None],
        leisure=[None, None, None, None, None, None, "park"],
    )
    stops = _pts([(1, 1)], kind=["station"], name=["Stazione"])
    dest = cycling.destinations(pois, stops)
    assert dest["bna_type"].tolist() == [
        "core_services", "retail", "core_services", "opportunity", "", "recreation",
        "recreation", "transit",
    ]  # fmt: skip
    assert dest["bna_subtype"].iloc[0] == "supermarkets"


# ---------------------------------------------------------------------------- LTS


@pytest.mark.parametrize(
    ("tags", "infra", "lts"),
    [
        ({**BUSY, "lanes": "2", "motor_vehicle": "no", "motorcar": "yes"}, "mixed_traffic", 4),
        ({**BUSY, "lanes": "2", "motor_vehicle": "no"}, "traffic_free", 1),
        ({**BUSY, "lanes": "2", "motor_vehicle": "no", "psv": "yes"}, "mixed_traffic", 4),
        ({**BUSY, "lanes": "2", "vehicle": "no"}, "traffic_free", 1),
        ({**BUSY, "lanes": "2", "access": "no", "motorcycle": "yes"}, "mixed_traffic", 4),
    ],
)
def test_modal_overrides(tags: dict[str, str], infra: str, lts: int) -> None:
    out = cycling.classify_lts(pd.DataFrame([tags]))
    assert (out["infra"].iloc[0], int(out["lts"].iloc[0])) == (infra, lts)


def test_way_tags_restore_the_motorcar_override() -> None:
    """The pipeline's graph keeps motor_vehicle but not motorcar: the streets layer has it."""
    primary = {**BUSY, "lanes": "2", "motor_vehicle": "no"}
    graph = _graph([((0, 0), (5, 0), primary)])
    assert {d["infra"] for _, _, d in cycling.add_lts(graph).edges(data=True)} == {"traffic_free"}
    streets = pd.DataFrame({"osmid": [500], "tags": [json.dumps({**primary, "motorcar": "yes"})]})
    fixed = cycling.add_lts(cycling.with_way_tags(graph, streets))
    assert {(d["infra"], d["lts"]) for _, _, d in fixed.edges(data=True)} == {("mixed_traffic", 4)}
    assert all("motorcar" not in d for _, _, d in graph.edges(data=True))  # input unchanged


def _crossing(
    node_tags: dict[str, str] | None, *, lanes: str = "4", speed: str = "70"
) -> nx.MultiDiGraph:
    """A quiet street crossing a primary at (1, 0); ``node_tags`` go on that node."""
    busy = {**BUSY, "lanes": lanes, "maxspeed": speed}
    graph = _graph([
        ((0, 0), (1, 0), busy), ((1, 0), (2, 0), busy),
        ((1, -1), (1, 0), QUIET), ((1, 0), (1, 1), QUIET),
    ])  # fmt: skip
    if node_tags is not None:
        arrays = graph_arrays(graph)
        x, y = gpd.GeoSeries([Point(_lonlat(1, 0))], crs=4326).to_crs(CRS).iloc[0].coords[0]
        node = arrays.nodes[int(np.argmin(np.hypot(arrays.xy[:, 0] - x, arrays.xy[:, 1] - y)))]
        graph.nodes[node].update(node_tags)
    return cycling.add_lts(graph)


def _quiet_lts(graph: nx.MultiDiGraph, *, into_crossing: bool) -> set[int]:
    crossing = {n for n, d in graph.nodes(data=True) if graph.degree(n) == 8}
    return {
        d["lts"]
        for u, v, d in graph.edges(data=True)
        if d["highway"] == "residential" and ((v in crossing) == into_crossing)
    }


def test_unsignalised_crossing_raises_its_approaches() -> None:
    # 4 lanes at 70 km/h, no median: Furth table 4 -> LTS 4.
    plain = _crossing({"highway": "crossing", "crossing": "uncontrolled"})
    assert _quiet_lts(plain, into_crossing=True) == {4}
    assert _quiet_lts(plain, into_crossing=False) == {1}  # leaving it is not crossing it
    notes = {d["lts_assumptions"].split("; ")[-1] for _, v, d in plain.edges(data=True)
             if d["lts"] == 4 and d["highway"] == "residential"}  # fmt: skip
    assert notes == {"unsignalised crossing of Strada Padana (LTS 4)"}
    # The primary is not raised by itself, only rated as a segment.
    assert {
        d["lts_crossing"] for _, _, d in plain.edges(data=True) if d["highway"] == "primary"
    } == {0}


def test_signals_and_islands_lower_the_crossing() -> None:
    signals = _crossing({"highway": "traffic_signals"})
    assert _quiet_lts(signals, into_crossing=True) == {1}
    # 6 lanes at 50 km/h: 4 without a median refuge, 3 with one.
    wide = _crossing({"highway": "crossing"}, lanes="6", speed="50")
    island = _crossing({"highway": "crossing", "crossing:island": "yes"}, lanes="6", speed="50")
    assert _quiet_lts(wide, into_crossing=True) == {4}
    assert _quiet_lts(island, into_crossing=True) == {3}
    # 2 lanes at 50 km/h: an easy crossing, nothing raised.
    narrow = _crossing({"highway": "crossing"}, lanes="2", speed="50")
    assert _quiet_lts(narrow, into_crossing=True) == {1}


def test_missing_tags_warn(caplog: pytest.LogCaptureFixture) -> None:
    # No node tags: signals unknown, crossings not rated (and said so).
    with use_language("en"):
        untagged = _crossing(None)
    assert _quiet_lts(untagged, into_crossing=True) == {1}
    assert any("crossing stress is not rated" in w for w in untagged.graph["lts_warnings"])
    # A plain osmnx-like graph: no cycleway*, no motor_vehicle.
    plain = gd.datasets.grid_graph(3, 3, spacing_m=100)
    with (
        caplog.at_level(logging.WARNING, logger="geodistrict.cycling.lts"),
        use_language("en"),
    ):
        scored = cycling.add_lts(plain)
    warnings = scored.graph["lts_warnings"]
    assert any(w.startswith("no edge carries cycleway, cycleway:left") for w in warnings)
    assert any("motor_vehicle" in w for w in warnings)
    assert any("painted lanes and tracks" in r.getMessage() for r in caplog.records)
    # A graph with the tags has no edge-tag warning.
    tagged = _graph([((0, 0), (1, 0), {**BUSY, "cycleway": "lane", "motor_vehicle": "yes"})])
    tagged.nodes[next(iter(tagged.nodes))]["highway"] = "crossing"
    assert cycling.lts_tag_warnings(tagged) == []


# -------------------------------------------------------------------------- samples


def test_sample_step_notes_the_missing_node_tags(sample_layers, sample_config) -> None:  # type: ignore[no-untyped-def]
    from geodistrict.pipeline.steps._outcome import Report
    from geodistrict.pipeline.steps.cycling import cycling_layers

    report = Report()
    with use_language(sample_config.language):  # as the pipeline runs it: English here
        out = cycling_layers(sample_layers, sample_config.cycling, report=report)
    assert any("crossing stress" in n for n in report.notes.get("bike_network", []))
    scores = out["bike_connectivity"]
    for name in ("district_score", *(f"district_score_{t}" for t in cycling.BNA_WEIGHTS)):
        assert scores[name].between(0, 1).all(), name
    iso = out["isochrones"]
    for _, group in iso.groupby(["source", "mode"]):
        areas = group.sort_values("minutes")["area_ha"].to_numpy()
        assert (np.diff(areas) >= 0).all()
    bike15 = iso[(iso["mode"] == "bike") & (iso["minutes"] == 15)]["area_ha"]
    walk15 = iso[(iso["mode"] == "walk") & (iso["minutes"] == 15)]["area_ha"]
    # Before issue 12 six of eight sources started in traps (0.3-14 ha by bike).
    assert bike15.min() > 0.5 * walk15.median()


def test_isochrone_process_from_a_trap_grows(tmp_path_factory: pytest.TempPathFactory) -> None:
    from geodistrict.publish.processes import IsochroneProcessor

    config = gd.datasets.sample_config()
    result = gd.run(config, out=tmp_path_factory.mktemp("iso-process"), only=["base"])
    bike = gd.datasets.sample_layers().bike_graph
    arrays = graph_arrays(bike)
    trapped = np.flatnonzero(~arrays.largest_component)
    assert len(trapped), "the sample has trap nodes"
    node = bike.nodes[arrays.nodes[trapped[0]]]
    process = IsochroneProcessor(
        {"name": "isochrone", "districts": {"sample": str(result.folder)}}
    )
    answer = process.run({"point": [node["lon"], node["lat"]], "mode": "bike", "minutes": [5, 15]})
    areas = {f["properties"]["minutes"]: f["properties"]["area_ha"] for f in answer["features"]}
    assert areas[15] > areas[5] > 10, areas
