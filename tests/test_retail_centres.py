"""Retail centres by the CDRC method, HDBSCAN and an official perimeter: known answers.

The planted districts are built on the H3 grid itself, so the right answer is
known by construction: units sit a few metres from the centre of chosen
resolution-11 cells, and which cells are neighbours is H3's own k-ring 1.
"""

from __future__ import annotations

import json

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from builders import CRS
from shapely.geometry import Point, box

from geodistrict import commerce, hexagons
from geodistrict.commerce.cdrc import TIER_LABELS, cdrc_tiers
from geodistrict.config import CommerceConfig
from geodistrict.errors import ConfigError, ParameterError
from geodistrict.taxonomy import classify, load_taxonomy

ORIGIN = h3.latlng_to_cell(45.50, 9.33, 11)  # Pioltello
FAR = h3.latlng_to_cell(45.52, 9.36, 11)  # about 3 km away


def _street(start: str, n_cells: int) -> list[str]:
    """``n_cells`` contiguous cells: a straight H3 path from ``start``."""
    end = next(c for c in sorted(h3.grid_ring(start, n_cells - 1)))
    path = h3.grid_path_cells(start, end)
    assert len(path) == n_cells
    return list(path)


def _units(
    cells: list[str], per_cell: int, category: str = "food", **extra: object
) -> gpd.GeoDataFrame:
    """``per_cell`` units at the centre of each cell, or 3 m from it (in the cell, by H3)."""
    lonlat = [h3.cell_to_latlng(c)[::-1] for c in cells for _ in range(per_cell)]
    centre = gpd.GeoSeries(gpd.points_from_xy(*np.array(lonlat).T), crs=4326).to_crs(CRS)
    k = np.arange(len(centre))
    offset = np.where(k % per_cell == 0, 0.0, 3.0)
    angle = k * 2.399  # the golden angle: distinct directions
    frame = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(centre.x + offset * np.cos(angle),
                                    centre.y + offset * np.sin(angle)), crs=CRS,
    )  # fmt: skip
    frame["category"] = category
    frame["osm_key"] = "office" if category == "professional_services" else "shop"
    frame["addr_street"] = "Via Roma"
    for name, value in extra.items():
        frame[name] = value
    return frame


def _cells_of(frame: gpd.GeoDataFrame) -> list[str]:
    lonlat = frame.geometry.to_crs(4326)
    return [h3.latlng_to_cell(p.y, p.x, 11) for p in lonlat]


def _concat(*frames: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=CRS)


# --------------------------------------------------------------------------- the CDRC method


def test_the_planted_units_are_in_their_cells() -> None:
    cells = _street(ORIGIN, 4)
    units = _units(cells, 3)
    assert _cells_of(units) == [c for c in cells for _ in range(3)]


def test_a_sparse_scatter_is_not_a_centre() -> None:
    # 30 units, each alone in a cell, no two cells neighbours (grid distance >= 2).
    picked: list[str] = []
    for cell in sorted(h3.grid_disk(ORIGIN, 20)):
        if all(h3.grid_distance(cell, p) >= 2 for p in picked):
            picked.append(cell)
        if len(picked) == 30:
            break
    units = _units(picked, 1)
    centres, labels = commerce.retail_centres(units)
    assert len(centres) == 0 and (labels == 0).all()
    # Two units a cell, still isolated cells: single-cell tracts of 2 units are not centres.
    centres, _ = commerce.retail_centres(_units(picked[:10], 2))
    assert len(centres) == 0
    # A lattice 60 m apart in metres: one unit a cell, so no cell qualifies.
    xs, ys = np.meshgrid(np.arange(6) * 60.0, np.arange(5) * 60.0)
    lattice = gpd.GeoDataFrame(
        {"category": ["food"] * xs.size},
        geometry=gpd.points_from_xy(515_000 + xs.ravel(), 5_035_000 + ys.ravel()),
        crs=CRS,
    )
    assert len(commerce.retail_centres(lattice)[0]) == 0


def test_a_single_dense_street_is_exactly_one_centre() -> None:
    cells = _street(ORIGIN, 5)
    units = _units(cells, 3)
    centres, labels = commerce.retail_centres(units)
    assert len(centres) == 1
    row = centres.iloc[0]
    assert (row["centre_id"], row["rank"], row["source"]) == (1, 1, "cdrc")
    assert (row["n_units"], row["n_retail"], row["n_cells"]) == (15, 15, 5)
    assert row["tier"] == "town_centre" and row["tier_it"] == TIER_LABELS["town_centre"]
    assert row["name"] == "Via Roma"
    assert (labels == 1).all()
    # The boundary is the union of the five cells, buffered 0.1 m as the reference does.
    union = shapely.union_all(hexagons.cell_polygons(cells, crs=CRS))
    assert union.area <= centres.area.iloc[0] <= union.area + 0.1 * union.length + 1.0
    assert row["area_ha"] == pytest.approx(union.area / 10_000, rel=0.01)
    assert len(centres.geometry.iloc[0].geoms) == 1


def test_the_thresholds_are_the_papers() -> None:
    two = _street(ORIGIN, 2)
    # Exactly 10 units over exactly 2 contiguous cells: a centre.
    assert len(commerce.retail_centres(_units(two, 5))[0]) == 1
    # 9 units over 3 cells: too few units.
    assert len(commerce.retail_centres(_units(_street(ORIGIN, 3), 3)[:9])[0]) == 0
    # Two cells with 6 units each, not neighbours: two one-cell tracts of 6, none a centre.
    apart = [ORIGIN, sorted(h3.grid_ring(ORIGIN, 2))[0]]
    assert len(commerce.retail_centres(_units(apart, 6))[0]) == 0
    # A lone cell holding 12 units (a shopping centre in one building) is one, as in the code.
    centres, _ = commerce.retail_centres(_units([ORIGIN], 12))
    assert centres["n_cells"].tolist() == [1]
    assert len(commerce.retail_centres(_units([ORIGIN], 9))[0]) == 0
    # A one-unit cell between two dense cells drops out and splits the street.
    street = _street(ORIGIN, 3)
    split = _concat(_units(street[:1], 6), _units(street[1:2], 1), _units(street[2:], 6))
    assert len(commerce.retail_centres(split)[0]) == 0
    # The parameters move the answer the way the paper defines them.
    assert len(commerce.retail_centres(split, min_cell_units=1)[0]) == 1
    assert len(commerce.retail_centres(_units(two, 5), min_units=11)[0]) == 0
    assert len(commerce.retail_centres(_units(two, 5), min_cells=3)[0]) == 0


def test_two_dense_streets_far_apart_are_two_centres_in_tier_order() -> None:
    big = _units(_street(ORIGIN, 8), 20)  # 160 retail units
    small = _units(_street(FAR, 4), 3, addr_street="Via Milano")  # 12
    centres, labels = commerce.retail_centres(_concat(small, big))
    assert centres["n_retail"].tolist() == [160, 12]
    assert centres["tier"].tolist() == ["town_centre", "small_local_centre"]
    assert centres["name"].tolist() == ["Via Roma", "Via Milano"]
    assert (labels.iloc[:12] == 2).all() and (labels.iloc[12:] == 1).all()
    assert not centres.geometry.iloc[0].intersects(centres.geometry.iloc[1])


def test_the_hierarchy_follows_the_reference_thresholds() -> None:
    assert cdrc_tiers([400, 360, 260, 150, 120, 99]) == [
        "major_town_centre", "town_centre", "town_centre", "district_centre",
        "local_centre", "small_local_centre",
    ]  # fmt: skip
    assert cdrc_tiers([12]) == ["town_centre"]  # the area's largest centre
    assert cdrc_tiers([]) == []


def test_offices_alone_never_make_a_centre() -> None:
    cells = _street(ORIGIN, 5)
    offices = _units(cells, 6, "professional_services")
    for method in ("cdrc", "hdbscan"):
        centres, labels = commerce.retail_centres(offices, method=method)  # type: ignore[arg-type]
        assert len(centres) == 0 and (labels == 0).all(), method
    # An office=* unit never counts as retail, whatever category a taxonomy gives it.
    recast = offices.assign(category="food")
    assert len(commerce.retail_centres(recast)[0]) == 0
    # Beside a retail street, offices inside its cells belong to the centre but do not rank it.
    shops = _units(cells[:2], 5)
    centres, labels = commerce.retail_centres(_concat(shops, offices))
    assert len(centres) == 1
    row = centres.iloc[0]
    assert (row["n_retail"], row["n_cells"]) == (10, 2)
    assert row["n_units"] == 10 + 12  # the 12 offices of the two retail cells
    assert row["n_units"] == row["n_food"] + row["n_professional_services"]
    assert int((labels == 1).sum()) == row["n_units"]
    assert row["retail_share"] == pytest.approx(10 / 22)


# --------------------------------------------------------------------------- HDBSCAN


def test_hdbscan_finds_the_one_centre_of_a_one_centre_area() -> None:
    rng = np.random.default_rng(3)
    xy = rng.normal(0, 30, size=(40, 2)) + np.array([515_000.0, 5_035_000.0])
    units = gpd.GeoDataFrame(
        {"category": ["food"] * len(xy)}, geometry=gpd.points_from_xy(*xy.T), crs=CRS
    )
    centres, labels = commerce.retail_centres(units, method="hdbscan", min_units=10)
    # Without allow_single_cluster HDBSCAN calls all 40 noise (issue 12): no centre.
    assert len(centres) == 1 and centres["source"].tolist() == ["hdbscan"]
    assert (labels == 1).sum() >= 10
    assert centres.geometry.iloc[0].contains(Point(515_000.0, 5_035_000.0))


# --------------------------------------------------------------------------- official perimeter


def test_a_duc_perimeter_replaces_the_delineation() -> None:
    big = _units(_street(ORIGIN, 8), 3)
    small = _units(_street(FAR, 4), 3)
    units = _concat(big, small)
    x0, y0, x1, y1 = small.total_bounds
    duc = gpd.GeoDataFrame({"nome": ["Centro storico"]},
                           geometry=[box(x0 - 30, y0 - 30, x1 + 30, y1 + 30)],
                           crs=CRS).to_crs(4326)  # fmt: skip
    vacant = gpd.GeoDataFrame(geometry=[Point(x0, y0)], crs=CRS)
    centres, labels = commerce.retail_centres(units, perimeter=duc, vacant=vacant)
    assert len(centres) == 1
    row = centres.iloc[0]
    assert (row["source"], row["name"], row["n_units"], row["n_retail"]) == (
        "duc", "Centro storico", 12, 12,
    )  # fmt: skip
    assert pd.isna(row["n_cells"]) and row["n_vacant"] == 1
    assert (labels.iloc[:24] == 0).all() and (labels.iloc[24:] == 1).all()
    assert centres.crs == units.crs
    # Beside: the official centre, and the delineated one that does not touch it.
    centres, labels = commerce.retail_centres(units, perimeter=duc, perimeter_mode="beside")
    assert centres["source"].tolist() == ["cdrc", "duc"]
    assert centres["n_retail"].tolist() == [24, 12]
    assert (labels.iloc[:24] == 1).all() and (labels.iloc[24:] == 2).all()
    # A perimeter with no unit inside stays, empty, with no vacancy rate.
    empty = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=CRS)
    centres, labels = commerce.retail_centres(units, perimeter=empty, vacant=vacant)
    assert centres["n_units"].tolist() == [0] and np.isnan(centres["vacancy_rate"].iloc[0])
    assert (labels == 0).all()


def test_a_perimeter_must_be_polygons(tmp_path) -> None:  # type: ignore[no-untyped-def]
    units = _units(_street(ORIGIN, 2), 5)
    with pytest.raises(ParameterError, match="no polygon"):
        commerce.retail_centres(units, perimeter=gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=CRS))
    path = tmp_path / "duc.geojson"
    gpd.GeoDataFrame(geometry=[Point(9.33, 45.5)], crs=4326).to_file(path)
    with pytest.raises(ParameterError, match=r"duc\.geojson.*no polygon"):
        commerce.read_perimeter(path)
    with pytest.raises(FileNotFoundError, match=r"nowhere\.gpkg"):
        commerce.read_perimeter(tmp_path / "nowhere.gpkg")
    with pytest.raises(ParameterError, match="'voronoi'"):
        commerce.retail_centres(units, method="voronoi")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="'inside'"):
        commerce.retail_centres(units, perimeter_mode="inside")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"min_cells.*0"):
        commerce.retail_centres(units, min_cells=0)


# --------------------------------------------------------------------------- taxonomy


def test_a_private_pool_or_gym_is_not_a_unit() -> None:
    tags = [
        {"leisure": "swimming_pool", "access": "private"},
        {"leisure": "swimming_pool"},  # the water area itself
        {"leisure": "fitness_centre", "access": "private"},
        {"leisure": "sports_centre", "access": "no"},
        {"shop": "spaceships", "access": "private"},  # private: not even unclassified
        {"leisure": "fitness_centre", "access": "members"},  # a gym's members are its trade
        {"shop": "bakery", "access": "customers"},
        {"leisure": "fitness_centre"},
    ]
    pois = gpd.GeoDataFrame(
        {"tags": [json.dumps(t) for t in tags]},
        geometry=[Point(515_000 + 5 * i, 5_035_000) for i in range(len(tags))], crs=CRS,
    )  # fmt: skip
    found = classify(pois)
    assert found.units.index.tolist() == [5, 6, 7]
    # Both pools are ignored (the water area is not a facility); the rest private.
    assert found.private == 3 and found.n_unclassified == 0 and found.ignored == 2
    # One column per OSM key works too.
    columns = gpd.GeoDataFrame(
        {"leisure": ["fitness_centre", "fitness_centre"], "access": ["private", None]},
        geometry=[Point(0, 0), Point(1, 1)], crs=CRS,
    )  # fmt: skip
    assert classify(columns).units.index.tolist() == [1]


def test_a_district_taxonomy_adds_to_not_public(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tax.yml"
    path.write_text("not_public:\n  access: [residents]\n", encoding="utf-8")
    tax = load_taxonomy(path)
    assert tax.is_private({"shop": "bakery", "access": "residents"})
    assert tax.is_private({"shop": "bakery", "access": "private"})  # the shipped ones stay
    path.write_text("not_public:\n  access: private\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not_public\.access"):
        load_taxonomy(path)


def test_private_gyms_in_a_dense_street_make_no_centre() -> None:
    cells = _street(ORIGIN, 4)
    pts = _units(cells, 4).to_crs(CRS)
    pois = gpd.GeoDataFrame(
        {"tags": [json.dumps({"leisure": "fitness_centre", "access": "private"})] * len(pts)},
        geometry=pts.geometry, crs=CRS,
    )  # fmt: skip
    units = classify(pois).units
    assert len(units) == 0
    public = classify(pois.assign(tags=json.dumps({"leisure": "fitness_centre"}))).units
    assert len(commerce.retail_centres(public)[0]) == 1


# --------------------------------------------------------------------------- configuration


def test_the_configuration_defaults_are_the_papers() -> None:
    cfg = CommerceConfig()
    assert (cfg.centre_method, cfg.cdrc_h3_resolution, cfg.cdrc_min_units, cfg.cdrc_min_cells,
            cfg.cdrc_min_cell_units) == ("cdrc", 11, 10, 2, 2)  # fmt: skip
    assert tuple(cfg.retail_categories) == commerce.RETAIL_CATEGORIES
    assert set(commerce.RETAIL_CATEGORIES) < set(load_taxonomy().categories)
    assert "professional_services" not in commerce.RETAIL_CATEGORIES
    with pytest.raises(ValueError, match="retail category"):
        CommerceConfig(retail_categories=[])
    with pytest.raises(ValueError, match="centre_method"):
        CommerceConfig(centre_method="kmeans")  # type: ignore[arg-type]


def test_the_sample_with_a_duc_file_and_unknown_retail_categories(sample_layers, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from geodistrict.pipeline.steps.commerce import commerce_layers

    area = sample_layers.study_area
    x0, y0, x1, y1 = area.total_bounds
    path = tmp_path / "duc.gpkg"
    gpd.GeoDataFrame({"nome": ["Centro"]}, geometry=[box(x0, y0, (x0 + x1) / 2, y1)],
                     crs=area.crs).to_crs(4326).to_file(path)  # fmt: skip
    result = commerce_layers(sample_layers, config=CommerceConfig(duc_file=path))
    centres = result.layers["retail_centres"]
    assert centres["source"].tolist() == ["duc"] and centres["name"].tolist() == ["Centro"]
    units = result.layers["commercial_units"]
    inside = units.within(box(x0, y0, (x0 + x1) / 2, y1))
    assert int((units["centre_id"] == 1).sum()) == int(inside.sum()) == centres["n_units"].iloc[0]
    with pytest.raises(ConfigError, match="'shops'"):
        commerce_layers(sample_layers, config=CommerceConfig(retail_categories=["shops"]))


def test_the_hierarchy_ranks_within_each_comune_when_given() -> None:
    big = _units(_street(ORIGIN, 8), 3)  # 24 retail units
    small = _units(_street(FAR, 4), 3)  # 12
    units = _concat(big, small)
    centres, _ = commerce.retail_centres(units)
    assert centres["tier"].tolist() == ["town_centre", "small_local_centre"]
    # Two comuni, one centre each: each is its comune's main centre, as the reference
    # ranks within each local authority.
    x0, y0, x1, y1 = small.total_bounds
    comuni = gpd.GeoDataFrame(
        {"name": ["A", "B"]},
        geometry=[box(x0 - 50, y0 - 50, x1 + 50, y1 + 50), box(*big.total_bounds).buffer(50)],
        crs=CRS,
    )
    centres, _ = commerce.retail_centres(units, areas=comuni)
    assert centres["tier"].tolist() == ["town_centre", "town_centre"]
    with pytest.raises(ParameterError, match="areas rows"):
        commerce.retail_centres(units, areas=gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=CRS))
