"""Cycling: LTS rules on hand-made tags, islands and gaps on a network built to a known answer."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
from builders import CRS, points  # CRS: UTM 32N, Pioltello
from shapely.geometry import LineString, Point

from geodistrict import cycling
from geodistrict.errors import ConfigError, MissingColumnError
from geodistrict.network import build_graph
from geodistrict.pipeline.steps.cycling import cycling_layers

LON0, LAT0, DLON, DLAT = 9.33, 45.49, 0.00128, 0.0009  # about 100 m per grid step


# ------------------------------------------------------------------ LTS rules


@pytest.mark.parametrize(
    ("tags", "infra", "lts"),
    [
        ({"highway": "cycleway"}, "cycleway", 1),
        ({"highway": "footway", "bicycle": "yes"}, "shared_path", 1),
        ({"highway": "living_street"}, "living_street", 1),
        ({"highway": "residential", "maxspeed": "30"}, "mixed_traffic", 1),
        ({"highway": "residential"}, "mixed_traffic", 2),  # 50 km/h assumed
        ({"highway": "residential", "maxspeed": "IT:urban"}, "mixed_traffic", 2),
        ({"highway": "residential", "maxspeed": "70"}, "mixed_traffic", 4),
        ({"highway": "residential", "maxspeed": "20 mph"}, "mixed_traffic", 1),
        ({"highway": "tertiary", "maxspeed": "30"}, "mixed_traffic", 2),
        ({"highway": "tertiary", "maxspeed": "50"}, "mixed_traffic", 3),
        ({"highway": "secondary", "maxspeed": "40"}, "mixed_traffic", 3),
        ({"highway": "primary"}, "mixed_traffic", 4),
        ({"highway": "primary", "maxspeed": "30"}, "mixed_traffic", 3),
        ({"highway": "residential", "maxspeed": "30", "lanes": "4"}, "mixed_traffic", 3),
        ({"highway": "residential", "maxspeed": "50", "lanes": "4"}, "mixed_traffic", 4),
        ({"highway": "unclassified", "maxspeed": "30", "lanes": "6"}, "mixed_traffic", 4),
        ({"highway": "primary", "maxspeed": "50", "cycleway": "lane"}, "bike_lane", 2),
        ({"highway": "primary", "maxspeed": "40", "cycleway": "lane"}, "bike_lane", 1),
        ({"highway": "primary", "maxspeed": "70", "cycleway": "lane"}, "bike_lane", 4),
        (
            {"highway": "primary", "maxspeed": "50", "lanes": "4", "cycleway": "lane"},
            "bike_lane",
            3,
        ),
        ({"highway": "primary", "maxspeed": "70", "cycleway:both": "track"}, "cycle_track", 1),
        ({"highway": "primary", "cycleway": "separate"}, "mixed_traffic", 4),
        (
            {"highway": "residential", "maxspeed": "30", "cycleway": "shared_lane"},
            "mixed_traffic",
            1,
        ),
        ({"highway": "service", "motor_vehicle": "no"}, "traffic_free", 1),
    ],
)
def test_lts_rules(tags: dict[str, str], infra: str, lts: int) -> None:
    out = cycling.classify_lts(pd.DataFrame([tags]))
    assert out["infra"].iloc[0] == infra
    assert int(out["lts"].iloc[0]) == lts


def test_lts_per_direction() -> None:
    # A two-way street with a lane on the right side only: the lane serves the forward way.
    two_way = {"highway": "secondary", "maxspeed": "50", "cycleway:right": "lane"}
    # A one-way street with a contraflow lane: the backward direction rides the lane.
    contra = {
        "highway": "residential",
        "maxspeed": "50",
        "oneway:bicycle": "no",
        "cycleway:left": "opposite_lane",
        "lanes": "2",
    }
    frame = pd.DataFrame(
        [
            {**two_way, "reversed": False, "oneway": False},
            {**two_way, "reversed": True, "oneway": False},
            {**contra, "reversed": False, "oneway": False},
            {**contra, "reversed": True, "oneway": False},
        ]
    )
    out = cycling.classify_lts(frame)
    assert out["infra"].tolist() == ["bike_lane", "mixed_traffic", "mixed_traffic", "bike_lane"]
    assert out["lts"].tolist() == [2, 3, 4, 2]  # with traffic: 2 lanes one way at 50 km/h


def test_lts_assumptions_are_recorded() -> None:
    frame = pd.DataFrame(
        [
            {"highway": "residential"},
            {"highway": "residential", "maxspeed": "30", "lanes": "2"},
            {"highway": "primary", "maxspeed": "none", "lanes": "2", "cycleway": "lane"},
            {"highway": "cycleway"},
        ]
    )
    notes = cycling.classify_lts(frame, default_speed_kmh=40)["lts_assumptions"].tolist()
    assert notes[0] == "maxspeed assumed 40 km/h; lanes assumed 2"
    assert notes[1] == ""
    assert notes[2] == "maxspeed assumed 40 km/h; bike lane assumed alongside parking"
    assert notes[3] == ""


def test_lts_bad_default_speed() -> None:
    with pytest.raises(ValueError, match="-5"):
        cycling.classify_lts(pd.DataFrame([{"highway": "residential"}]), default_speed_kmh=-5)


# --------------------------------------------------- a network with a known answer


def _node(col: float, row: float) -> tuple[float, float]:
    return LON0 + col * DLON, LAT0 + row * DLAT


def _two_islands() -> nx.MultiDiGraph:
    """Two 3 x 3 grids of 30 km/h streets, 200 m apart, joined by one 4-lane primary.

    Island A: columns 0-2; island B: columns 4-6; the primary runs from (2, 1)
    to (4, 1). A dead-end primary spur hangs off A at (0, 2) -> (0, 3).
    """
    ids: dict[tuple[int, int], int] = {}
    for col in [0, 1, 2, 4, 5, 6]:
        for row in range(3):
            ids[(col, row)] = len(ids) + 1
    ids[(0, 3)] = len(ids) + 1
    nodes = gpd.GeoDataFrame(
        {"x": [_node(*k)[0] for k in ids], "y": [_node(*k)[1] for k in ids]},
        geometry=[Point(_node(*k)) for k in ids],
        index=pd.Index(list(ids.values()), name="osmid"),
        crs=4326,
    )
    quiet = {"highway": "residential", "maxspeed": "30"}
    busy = {"highway": "primary", "maxspeed": "50", "lanes": "4", "name": "Strada Padana"}
    rows = []

    def add(a: tuple[int, int], b: tuple[int, int], tags: dict[str, str]) -> None:
        rows.append(
            {
                "u": ids[a],
                "v": ids[b],
                "osmid": 100 + len(rows),
                **tags,
                "geometry": LineString([_node(*a), _node(*b)]),
            }
        )

    for first in (0, 4):
        for c in range(first, first + 3):
            for r in range(3):
                if c < first + 2:
                    add((c, r), (c + 1, r), quiet)
                if r < 2:
                    add((c, r), (c, r + 1), quiet)
    add((2, 1), (4, 1), busy)
    add((0, 2), (0, 3), {**busy, "name": "Spur"})
    segments = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    return build_graph(nodes, segments, mode="bike", crs=CRS, simplify=False)


def _points(cols_rows: list[tuple[float, float]]) -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(_node(c, r)) for c, r in cols_rows], crs=4326).to_crs(CRS)


@pytest.fixture(scope="module")
def two_islands() -> nx.MultiDiGraph:
    return cycling.add_lts(_two_islands())


@pytest.fixture(scope="module")
def od() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    homes = gpd.GeoDataFrame(
        {"origin_id": range(4)},
        geometry=_points([(0.1, 0.1), (1.1, 1.1), (0.1, 1.9), (1.9, 0.1)]),
        crs=CRS,
    )
    shops = gpd.GeoDataFrame(
        {"category": ["commerce", "commerce", "school", "service", "commerce"]},
        geometry=_points([(4.9, 0.1), (5.9, 1.1), (5.1, 1.9), (6.1, 0.9), (1.1, 0.1)]),
        crs=CRS,
    )
    return homes, shops


def test_two_islands_are_found(two_islands: nx.MultiDiGraph, od: tuple) -> None:
    homes, shops = od
    islands = cycling.low_stress_islands(two_islands, destinations=shops, origins=homes)
    assert len(islands) == 2
    assert islands["length_m"].round(-1).tolist() == [1200.0, 1200.0]  # 12 blocks of 100 m
    by_origins = islands.set_index("n_origins")
    assert by_origins.loc[4, "n_units"] == 1 and by_origins.loc[0, "n_units"] == 2
    assert islands.geometry.is_valid.all()
    assert not islands.geometry.iloc[0].intersects(islands.geometry.iloc[1])


def test_upgrading_the_link_is_gap_rank_one(two_islands: nx.MultiDiGraph, od: tuple) -> None:
    homes, shops = od
    gaps = cycling.missing_links(two_islands, homes, shops, max_connector_m=150, n_links=3)
    first = gaps.iloc[0]
    assert first["kind"] == "upgrade"
    assert first["name"] == "Strada Padana"
    assert int(first["lts_before"]) == 4
    # Every home reaches the four destinations of island B once the link is low-stress.
    assert first["benefit"] == 4 * 4
    assert len(gaps) == 1  # nothing else joins anything: the spur leads nowhere
    before = cycling.connectivity(two_islands, homes, shops)
    # 4 homes x 4 destinations the BNA counts (the plain 'service' is not a BNA type,
    # issue 12: it was 20 pairs when every category counted).
    assert before.attrs["pairs_low"] == 4 and before.attrs["pairs_any"] == 16
    assert first["low_stress_share"] == pytest.approx(1.0)


def test_connector_between_close_islands(two_islands: nx.MultiDiGraph, od: tuple) -> None:
    homes, shops = od
    # Allowing 250 m connectors makes a straight link between the islands a candidate too;
    # the existing street is shorter-or-equal so it still wins, and a pair is never joined twice.
    gaps = cycling.missing_links(two_islands, homes, shops, max_connector_m=250, n_links=5)
    assert len(gaps) == 1
    assert gaps["cumulative_benefit"].iloc[-1] == 16


def test_connectivity_scores(two_islands: nx.MultiDiGraph, od: tuple) -> None:
    homes, shops = od
    scores = cycling.connectivity(two_islands, homes, shops, bikeshed_m=2500)
    assert scores["low_retail"].tolist() == [1, 1, 1, 1]
    assert scores["any_retail"].tolist() == [3, 3, 3, 3]
    # BNA scores (issue 12): retail 1 of 3 -> the first destination's 0.4; schools 0 of 1
    # -> 0; people: the four homes reach each other at low stress -> 1; the plain
    # 'service' is no BNA type and no station is reachable. Overall weighted 15/20/15:
    # (15 * 1 + 20 * 0 + 15 * 0.4) / 50 = 0.42.
    assert scores["score_retail"].tolist() == pytest.approx([0.4] * 4)
    assert scores["score_opportunity"].tolist() == pytest.approx([0.0] * 4)
    assert scores["score_people"].tolist() == pytest.approx([1.0] * 4)
    assert scores["score"].tolist() == pytest.approx([0.42] * 4, abs=1e-4)
    assert scores.attrs["district_score"] == pytest.approx(0.42, abs=1e-4)
    short = cycling.connectivity(two_islands, homes, shops, bikeshed_m=50)
    assert short["any_retail"].sum() < scores["any_retail"].sum()
    with pytest.raises(ValueError, match="5"):
        cycling.connectivity(two_islands, homes, shops, threshold=5)


def test_circuit_is_closed_and_within_limit(two_islands: nx.MultiDiGraph) -> None:
    places = gpd.GeoDataFrame(
        {
            "place_id": [1, 2, 3],
            "name": ["Centro", "Stazione", "Parco"],
            "kind": ["centre", "station", "park"],
            "priority": [1, 2, 3],
        },
        geometry=_points([(0, 0), (6, 2), (5, 0)]),
        crs=CRS,
    )
    legs = cycling.circuit(two_islands, places, max_km=3.0)
    assert legs.geometry.iloc[0].coords[0] == legs.geometry.iloc[-1].coords[-1]
    for a, b in zip(legs.geometry.iloc[:-1], legs.geometry.iloc[1:], strict=True):
        assert a.coords[-1] == b.coords[0]
    assert legs["circuit_length_m"].iloc[0] <= 3000
    assert legs["length_m"].sum() == pytest.approx(legs["circuit_length_m"].iloc[0], abs=1)
    assert legs["stops"].iloc[0].startswith("Centro")
    # A tighter limit drops the park (lowest priority) and keeps a closed loop.
    assert legs["stops"].iloc[0] == "Centro > Parco > Stazione > Centro"
    short = cycling.circuit(two_islands, places, max_km=1.7)
    assert short["stops"].iloc[0] == "Centro > Stazione > Centro"
    assert short["circuit_length_m"].iloc[0] <= 1700
    with pytest.raises(ConfigError, match=r"circuit_max_km=0\.1"):
        cycling.circuit(two_islands, places, max_km=0.1)


def test_info_points_cover_the_circuit(two_islands: nx.MultiDiGraph) -> None:
    places = gpd.GeoDataFrame(
        {
            "name": ["A", "B"],
            "kind": ["centre", "station"],
            "priority": [1, 2],
            "place_id": [1, 2],
        },
        geometry=_points([(0, 0), (6, 2)]),
        crs=CRS,
    )
    legs = cycling.circuit(two_islands, places, max_km=5)
    pts = cycling.info_points(legs, places, k=2, radius_m=150)
    assert len(pts) == 2
    assert pts["covered_share"].is_monotonic_increasing
    assert pts["solver"].iloc[0] in ("MCLP (HiGHS)", "greedy")
    # Both heavily weighted places get a totem within reach.
    for place in places.geometry:
        assert pts.distance(place).min() <= 150
    greedy = cycling.info_points(legs, places, k=2, radius_m=150, method="greedy")
    assert greedy["solver"].iloc[0] == "greedy"
    # The exact model covers at least as much as the heuristic.
    assert pts["covered_share"].iloc[-1] >= greedy["covered_share"].iloc[-1]


def test_isochrones_nested_and_low_stress_smaller(two_islands: nx.MultiDiGraph) -> None:
    src = gpd.GeoDataFrame(
        {"name": ["A"], "kind": ["centre"]}, geometry=_points([(1, 1)]), crs=CRS
    )
    iso = cycling.isochrones({"bike": two_islands}, src, minutes=[1, 3])
    assert set(iso["mode"]) == {"bike", "bike_low_stress"}
    bike = iso[iso["mode"] == "bike"].set_index("minutes").geometry
    low = iso[iso["mode"] == "bike_low_stress"].set_index("minutes").geometry
    assert bike[3].buffer(1).contains(bike[1])
    # 3 minutes at 15 km/h = 750 m: the bike reaches island B, the low-stress bike does not.
    assert bike[3].contains(_points([(5, 1)]).iloc[0])
    assert not low[3].contains(_points([(5, 1)]).iloc[0])


def test_bike_network_layer(two_islands: nx.MultiDiGraph) -> None:
    net = cycling.bike_network(two_islands)
    assert len(net) == 26  # 24 grid streets + the link + the spur, each once
    link = net[net["name"] == "Strada Padana"].iloc[0]
    assert (link["lts_fwd"], link["lts_bwd"], link["lts"]) == (4, 4, 4)
    assert net["lts"].between(1, 4).all()
    assert net.crs == two_islands.graph["crs"]


def test_inputs_are_not_mutated(two_islands: nx.MultiDiGraph) -> None:
    raw = _two_islands()
    cycling.add_lts(raw)
    assert all("lts" not in d for _, _, d in raw.edges(data=True))


def test_missing_columns_are_named(two_islands: nx.MultiDiGraph, od: tuple) -> None:
    homes, shops = od
    with pytest.raises(MissingColumnError, match=r"'category'.*destinations"):
        cycling.connectivity(two_islands, homes, shops.drop(columns="category"))
    with pytest.raises(MissingColumnError, match="'category'"):
        cycling.low_stress_islands(two_islands, destinations=shops.drop(columns="category"))
    places = points([(0, 0), (100, 0)], name=["A", "B"], kind=["centre", "park"])
    with pytest.raises(MissingColumnError, match=r"'priority'.*key_places"):
        cycling.circuit(two_islands, places)
    with pytest.raises(MissingColumnError, match="'lts'"):
        cycling.lts_agreement(pd.DataFrame({"highway": ["residential"]}))


# ------------------------------------------- issue 11: real districts, empty inputs


def _one_way_against() -> nx.MultiDiGraph:
    """Way 4781367 drawn 1 -> 2 -> 3 with ``oneway=-1`` (ridden 3 -> 2 -> 1 only), and a
    two-way street 3 -> 4."""
    ids = {(0, 0): 1, (1, 0): 2, (2, 0): 3, (3, 0): 4}
    nodes = gpd.GeoDataFrame(
        {"x": [_node(*k)[0] for k in ids], "y": [_node(*k)[1] for k in ids]},
        geometry=[Point(_node(*k)) for k in ids],
        index=pd.Index(list(ids.values()), name="osmid"),
        crs=4326,
    )
    rows = [
        {"u": 1, "v": 2, "osmid": 4781367, "highway": "residential", "oneway": "-1",
         "geometry": LineString([_node(0, 0), _node(1, 0)])},
        {"u": 2, "v": 3, "osmid": 4781367, "highway": "residential", "oneway": "-1",
         "geometry": LineString([_node(1, 0), _node(2, 0)])},
        {"u": 3, "v": 4, "osmid": 4781368, "highway": "residential",
         "geometry": LineString([_node(2, 0), _node(3, 0)])},
    ]  # fmt: skip
    segments = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    return build_graph(nodes, segments, mode="bike", crs=CRS)


def test_bike_network_keeps_integer_ids_on_streets_ridden_against_their_drawing() -> None:
    """``oneway=-1`` gives a street only a backward edge: its ``osmid`` used to turn into
    ``4781367.0`` (float), and writing then failed for the whole run."""
    net = cycling.bike_network(_one_way_against())
    assert str(net["osmid"].dtype) == "Int64" and net["u"].dtype == "int64"
    against = net[net["osmid"] == 4781367].iloc[0]
    # Drawn 1 -> 3 (simplified into one edge), allowed only against that direction.
    assert (int(against["u"]), int(against["v"])) == (1, 3)
    assert pd.isna(against["lts_fwd"]) and int(against["lts_bwd"]) >= 1
    assert bool(against["oneway_bike"])
    start, end = against.geometry.coords[0], against.geometry.coords[-1]
    assert start[0] < end[0]  # drawn west to east, as in OSM
    assert set(net["osmid"]) == {4781367, 4781368}


def test_empty_inputs_give_typed_empty_layers(two_islands: nx.MultiDiGraph) -> None:
    """No key place, no origin, a graph without edges: frames with no row keep their
    geometry column, CRS and column types (an empty frame used to lack its geometry)."""
    no_places = gpd.GeoDataFrame(
        {"name": pd.Series(dtype=str), "kind": pd.Series(dtype=str)},
        geometry=gpd.GeoSeries([], crs=CRS),
        crs=CRS,
    )
    iso = cycling.isochrones({"walk": two_islands}, no_places, minutes=[5])
    assert len(iso) == 0 and iso.geometry.name == "geometry" and iso.crs == CRS
    assert iso["minutes"].dtype == "int64" and iso["area_ha"].dtype == "float64"
    lonely = nx.MultiDiGraph(crs=CRS)
    lonely.add_node(1, x=0.0, y=0.0)
    net = cycling.bike_network(lonely)
    assert len(net) == 0 and net.crs == CRS and str(net["osmid"].dtype) == "Int64"
    src = points([(0, 0)], name=["Piazza"], kind=["centre"])
    ring = cycling.isochrones({"walk": lonely}, src, minutes=[5, 10])
    assert ring["area_ha"].is_monotonic_increasing and (ring["area_ha"] > 0).all()
    gaps = cycling.missing_links(
        two_islands,
        gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=CRS), crs=CRS),
        points([(0, 0)], category=["commerce"]),
    )
    assert len(gaps) == 0 and gaps["rank"].dtype == "int64" and gaps.crs == CRS


def test_circuit_says_which_places_it_leaves_out(two_islands: nx.MultiDiGraph) -> None:
    """Places are no longer dropped without a word: ``attrs['left_out']`` gives each reason."""
    corner, twin, near, far = _points([(0, 0), (0.05, 0.0), (1, 1), (6, 2)])
    places = gpd.GeoDataFrame(
        {"name": ["Piazza", "Gemella", "Vicino", "Lontano"],
         "kind": ["centre", "park", "park", "park"], "priority": [1, 3, 2, 3]},
        geometry=[corner, twin, near, far], crs=CRS,
    )  # fmt: skip
    legs = cycling.circuit(two_islands, places, max_km=50)
    # reasons in the current language (Italian by default)
    assert dict(legs.attrs["left_out"]) == {"Gemella": "stesso nodo di rete più vicino di Piazza"}
    assert legs["stops"].iloc[0].count(" > ") == 3
    # A loop through the far place is longer than 1 km: it is dropped, and said so.
    short = cycling.circuit(two_islands, places, max_km=1.0)
    left = dict(short.attrs["left_out"])
    assert set(left) == {"Gemella", "Lontano"} and "max_km=1.0" in left["Lontano"]
    assert "Lontano" not in short["stops"].iloc[0]


# --------------------------------------------------------------------- sample


@pytest.fixture(scope="module")
def sample_cycling(sample_layers, sample_config):  # type: ignore[no-untyped-def]
    return cycling_layers(sample_layers, sample_config.cycling)


@pytest.mark.slow
def test_sample_layers_non_empty(sample_cycling: dict, sample_config) -> None:  # type: ignore[no-untyped-def]
    expected = {
        "bike_network",
        "low_stress_islands",
        "bike_connectivity",
        "bike_gaps",
        "bike_circuits",
        "info_points",
        "isochrones",
    }
    assert set(sample_cycling) == expected
    for name, layer in sample_cycling.items():
        assert len(layer) > 0, name
        assert layer.crs.to_epsg() == 32635, name
    legs = sample_cycling["bike_circuits"]
    assert legs.geometry.iloc[0].coords[0] == legs.geometry.iloc[-1].coords[-1]
    assert legs["circuit_length_m"].iloc[0] <= sample_config.cycling.circuit_max_km * 1000
    gaps = sample_cycling["bike_gaps"]
    assert gaps["rank"].tolist() == list(range(1, len(gaps) + 1))
    assert (gaps["cost_m"] <= sample_config.cycling.max_connector_m).all() or (
        gaps["kind"] == "upgrade"
    ).any()
    assert (gaps.loc[gaps["kind"] == "connector", "cost_m"] <= 150).all()


@pytest.mark.slow
def test_distinct_tag_shortcut_gives_the_row_by_row_answer(sample_layers) -> None:  # type: ignore[no-untyped-def]
    edges = pd.DataFrame.from_records([d for _, _, d in sample_layers.bike_graph.edges(data=True)])
    assert len(edges) > 500  # the shortcut applies
    fast = cycling.classify_lts(edges, default_speed_kmh=40)
    slow = cycling._classify_rows(edges, 40)
    pd.testing.assert_frame_equal(fast, slow)


@pytest.mark.slow
def test_sample_agrees_with_osm_lts_on_low_vs_high(sample_cycling: dict) -> None:
    result = cycling.lts_agreement(sample_cycling["bike_network"])
    assert result["compared"] > 1000
    assert result["same_low_high"] > 0.85
    assert result["within_one"] > 0.9
