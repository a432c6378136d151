"""Commerce analyses on synthetic districts with known answers, and on the real sample."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from builders import CRS, points
from shapely.geometry import LineString, Point, Polygon, box

from geodistrict import commerce, vacancy
from geodistrict.errors import ConfigError, MissingColumnError
from geodistrict.taxonomy import classify, classify_units, load_taxonomy

X0, Y0 = 515_000.0, 5_035_000.0  # near Pioltello, UTM 32N


def _units(coords: list[tuple[float, float]], categories: list[str]) -> gpd.GeoDataFrame:
    return points(
        [(X0 + x, Y0 + y) for x, y in coords],
        category=categories, subcategory=categories, addr_street="Via Roma",
    )  # fmt: skip


def _two_clusters(seed: int = 7) -> tuple[gpd.GeoDataFrame, list[int]]:
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 25, size=(40, 2)) + np.array([300, 300])
    b = rng.normal(0, 25, size=(30, 2)) + np.array([1500, 1200])
    noise = rng.uniform(0, 2000, size=(15, 2))
    pts = np.vstack([a, b, noise])
    cats = ["food", "fashion", "bars_restaurants"] * 28 + ["food"]
    truth = [1] * 40 + [2] * 30 + [0] * 15
    return _units([tuple(p) for p in pts], cats), truth


def test_two_planted_clusters_become_two_centres() -> None:
    units, truth = _two_clusters()
    vacant = gpd.GeoDataFrame(geometry=[Point(X0 + 300, Y0 + 300), Point(X0 + 5, Y0 + 5)], crs=CRS)
    # HDBSCAN (commerce.centre_method: hdbscan); the CDRC default is in test_retail_centres.py.
    centres, labels = commerce.retail_centres(units, method="hdbscan", min_units=10, vacant=vacant)
    assert len(centres) == 2
    assert centres["rank"].tolist() == [1, 2]
    # The CDRC hierarchy (issue 12): the area's largest centre, then by retail units.
    assert centres["tier"].tolist() == ["town_centre", "small_local_centre"]
    assert centres["source"].tolist() == ["hdbscan", "hdbscan"]
    # Each planted cluster is one centre, the bigger one ranks first.
    assert set(labels[np.array(truth) == 1]) == {1}
    assert set(labels[np.array(truth) == 2]) == {2}
    assert centres.loc[0, "n_units"] >= 40 and centres.loc[1, "n_units"] >= 30
    assert centres.geometry.contains(Point(X0 + 300, Y0 + 300)).iloc[0]
    # The vacant unit in the big cluster counts there only.
    assert centres["n_vacant"].tolist() == [1, 0]
    assert centres.loc[0, "vacancy_rate"] == pytest.approx(1 / (centres.loc[0, "n_units"] + 1))
    assert centres.loc[0, "hill_q0"] == 3
    assert centres.loc[0, "name"] == "Via Roma"


def test_no_centre_without_enough_units() -> None:
    units = _units([(i * 400.0, 0.0) for i in range(6)], ["food"] * 6)
    centres, labels = commerce.retail_centres(units, min_units=10)
    assert len(centres) == 0 and (labels == 0).all()
    assert "vacancy_rate" in centres.columns


def test_a_missing_category_is_reported_with_expected_and_observed() -> None:
    units, _ = _two_clusters()
    reference = pd.Series(
        {"food": 0.3, "fashion": 0.3, "bars_restaurants": 0.3, "health_pharmacy": 0.1}
    )
    reference = reference.reindex(list(load_taxonomy().categories), fill_value=0.0)
    centres, labels = commerce.retail_centres(units, min_units=10)
    gaps = commerce.category_gaps(
        units, box(X0, Y0, X0 + 2000, Y0 + 2000), reference, centres=centres, labels=labels
    )
    district = gaps[gaps["scope"] == "district"].set_index("category")
    row = district.loc["health_pharmacy"]
    assert row["observed"] == 0
    assert row["expected"] == pytest.approx(0.1 * len(units), abs=0.01)
    assert row["status"] == "missing"
    assert row["label_it"] == "Salute e farmacia"
    assert district.loc["food", "status"] == "as expected"
    # Every centre has its own rows, with its own expected counts.
    per_centre = gaps[gaps["scope"] == "centre"]
    assert sorted(per_centre["centre_id"].unique()) == [1, 2]
    big = per_centre[
        (per_centre["centre_id"] == 1) & (per_centre["category"] == "health_pharmacy")
    ]
    assert big["expected"].iloc[0] == pytest.approx(0.1 * centres.loc[0, "n_units"], abs=0.01)
    # Issue 12: 4 expected among ~40 units and none observed happens by chance
    # (binomial P(X=0) = 0.9^40 ~ 0.015, two-sided 0.03, q over all tests > 0.05):
    # not "missing" any more (it was, before the exact test with FDR correction).
    assert big["p_value"].iloc[0] == pytest.approx(
        min(1.0, 2 * 0.9 ** int(centres.loc[0, "n_units"])), rel=1e-6
    )
    assert big["status"].iloc[0] == "as expected"


def test_under_represented_needs_a_significant_shortfall() -> None:
    cats = ["food"] * 90 + ["fashion"] * 10
    units = _units([(i, 0.0) for i in range(100)], cats)
    reference = pd.Series({"food": 0.5, "fashion": 0.5})
    gaps = commerce.category_gaps(units, box(X0 - 10, Y0 - 10, X0 + 200, Y0 + 10), reference)
    status = gaps.set_index("category")["status"]
    assert status["fashion"] == "under-represented"
    assert status["food"] == "over-represented"


def test_reference_mix_from_yaml_and_from_another_district(tmp_path: Path) -> None:
    mix = tmp_path / "mix.yml"
    mix.write_text("shares: {food: 2, fashion: 2}\n", encoding="utf-8")
    shares = commerce.load_reference_mix(mix)
    assert shares["food"] == 0.5 and shares["automotive"] == 0.0
    other = tmp_path / "commercial_units.parquet"
    _units([(0, 0), (1, 1), (2, 2), (3, 3)], ["food", "food", "food", "fashion"]).to_parquet(other)
    measured = commerce.load_reference_mix(other)
    assert measured["food"] == 0.75 and measured["fashion"] == 0.25
    bad = tmp_path / "bad.yml"
    bad.write_text("shares: {food: 1, spaceships: 1}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="spaceships"):
        commerce.load_reference_mix(bad)
    negative = tmp_path / "negative.yml"
    negative.write_text("shares: {food: -1}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="non-negative"):
        commerce.load_reference_mix(negative)


def test_unclassified_tags_are_counted_logged_and_returned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tags = [{"shop": "bakery"}, {"shop": "spaceships"}, {"shop": "spaceships"},
            {"amenity": "bench"}, {"office": "time_travel"}, {"shop": "vacant"},
            {"amenity": "cafe;restaurant"}, {"shop": "yes"}]  # fmt: skip
    pois = gpd.GeoDataFrame(
        {"osm_id": range(1, 9), "tags": [json.dumps(t) for t in tags],
         "vacant": [False] * 5 + [True] + [False] * 2},
        geometry=[Point(X0 + i, Y0) for i in range(8)], crs=CRS,
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="geodistrict.taxonomy"):
        result = classify(pois)
    assert result.units["subcategory"].tolist() == ["bakery", "bar_cafe", "other_shop"]
    assert result.n_unclassified == 3
    table = result.unclassified.set_index(["key", "value"])
    assert table.loc[("shop", "spaceships"), "count"] == 2
    assert table.loc[("shop", "spaceships"), "osm_ids"] == "2, 3"
    assert table.loc[("office", "time_travel"), "count"] == 1
    assert result.ignored == 1 and result.vacant == 1
    assert "shop=spaceships (2)" in caplog.text
    # Nothing vanished: every POI is a unit, unclassified, ignored or vacant.
    assert len(result.units) + result.n_unclassified + result.ignored + result.vacant == len(pois)
    assert result.units.index.tolist() == [0, 6, 7]  # indexed like the input


def test_taxonomy_override_and_errors(tmp_path: Path) -> None:
    extra = tmp_path / "tax.yml"
    extra.write_text(
        "subcategories:\n  space:\n    category: other_retail\n    it: Astronavi\n"
        "    en: Spaceships\n    tags: {shop: [spaceships]}\n",
        encoding="utf-8",
    )
    tax = load_taxonomy(extra)
    assert tax.lookup("shop", "spaceships").category == "other_retail"
    assert tax.lookup("shop", "bakery").category == "food"  # the shipped map is still there
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "subcategories:\n  dup:\n    category: food\n    it: X\n    en: X\n"
        "    tags: {shop: [bakery]}\n"
        "  lost:\n    category: nowhere\n    it: Y\n    en: Y\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_taxonomy(broken)
    assert "'bakery' is already in subcategories" in str(err.value)
    assert "unknown category 'nowhere'" in str(err.value)


def test_diversity_numbers() -> None:
    d = commerce.diversity([5, 5, 5, 5])
    assert (
        d["hill_q0"] == 4 and d["hill_q1"] == pytest.approx(4) and d["hill_q2"] == pytest.approx(4)
    )
    skewed = commerce.diversity([97, 1, 1, 1])
    assert skewed["hill_q0"] == 4 and skewed["hill_q2"] < skewed["hill_q1"] < 4
    assert commerce.diversity([0, 0])["shannon"] == 0.0


def test_density_raster_integrates_to_the_units_and_masks_outside() -> None:
    units = _units([(300, 300), (320, 300), (1500, 1500)], ["food", "fashion", "food"])
    area = Polygon([(X0, Y0), (X0 + 1000, Y0), (X0, Y0 + 1000)])  # a triangle
    r = commerce.density_raster(
        units, area, bandwidth_m=100, cell_m=5, categories=["food", "fashion"]
    )
    assert r.band_names == ("all", "food", "fashion")
    assert r.data.shape == (3, 200, 200)
    inside = r.data[0][r.data[0] != r.nodata]
    # Two units lie well inside: their kernels integrate to 2 units (ha -> cells of 25 m²).
    assert inside.sum() * 25 / 10_000 == pytest.approx(2.0, rel=1e-3)
    assert r.data[1].max() == pytest.approx(r.data[2].max(), rel=1e-6)
    assert (r.data[:, 0, -1] == r.nodata).all()  # the north-east corner is outside
    assert (r.data[:, -1, 0] != r.nodata).all()  # the south-west corner is inside
    with pytest.raises(ValueError, match="bandwidth_m"):
        commerce.density_raster(units, area, bandwidth_m=0)


def test_street_frontage_counts_units_per_100m() -> None:
    streets = gpd.GeoDataFrame(
        {"u": [1, 2], "v": [2, 3], "key": 0, "osmid": [10, 11], "name": ["Via Roma", "Via Milano"],
         "highway": ["residential", "steps"], "walk": [True, True]},
        geometry=[LineString([(X0, Y0), (X0 + 200, Y0)]),
                  LineString([(X0, Y0 + 500), (X0 + 50, Y0 + 500)])],
        crs=CRS,
    )  # fmt: skip
    units = _units(
        [(20, 5), (60, -5), (100, 8), (150, 3), (25, 300)], ["food"] * 3 + ["fashion"] * 2
    )
    frontage = commerce.street_frontage(streets, units, max_distance_m=40)
    assert len(frontage) == 1  # steps are no frontage
    row = frontage.iloc[0]
    assert row["n_units"] == 4 and row["units_per_100m"] == pytest.approx(2.0)
    assert row["dominant_category"] == "food" and row["n_categories"] == 2


def test_walking_coverage_uses_network_distance() -> None:
    g = nx.MultiDiGraph(crs=CRS)
    for i in range(4):
        g.add_node(i, x=X0 + i * 300.0, y=Y0)
    for i in range(3):
        g.add_edge(i, i + 1, length=300.0)
        g.add_edge(i + 1, i, length=300.0)
    g.add_node(9, x=X0 + 150.0, y=Y0 + 10.0)  # near in a straight line, not connected
    units = _units([(900, 2)], ["health_pharmacy"])
    units["subcategory"] = "pharmacy"
    origins = gpd.GeoDataFrame(geometry=[Point(X0, Y0 + 1), Point(X0 + 900, Y0 - 3)], crs=CRS)
    d = commerce.walking_coverage(g, units, origins, max_m=800)
    assert d["walk_m_pharmacy"].tolist() == [903.0, 5.0]
    assert np.isinf(d["walk_m_grocery"]).all()


def test_walking_quantiles_beyond_reach_are_null_without_warnings() -> None:
    """Issue 11: origins that reach no unit (inf) made ``median_walk_m`` infinite (invalid
    JSON) and numpy warn ``invalid value encountered in subtract`` on every run."""
    tax = load_taxonomy()
    origins = points([(0, 0), (10, 0), (20, 0), (30, 0)])
    walk = pd.DataFrame({f"walk_m_{k}": [100.0, 300.0, np.inf, np.inf] for k in tax.everyday})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        rows = commerce.coverage_rows(walk, origins, taxonomy=tax, max_m=800)
    row = rows.iloc[0]
    assert np.isnan(row["median_walk_m"]) and np.isnan(row["p90_walk_m"])
    assert row["max_walk_m"] == 300.0 and row["origins_within"] == 2
    walk = pd.DataFrame({f"walk_m_{k}": [100.0, 300.0, 500.0, np.inf] for k in tax.everyday})
    row = commerce.coverage_rows(walk, origins, taxonomy=tax, max_m=800).iloc[0]
    assert row["median_walk_m"] == 400.0  # as numpy.median: between the middle two
    assert np.isnan(row["p90_walk_m"])  # falls between 500 m and the unreachable origin
    finite = np.array([100.0, 300.0, 500.0, 700.0])
    assert commerce.access.walk_quantile(finite, 0.9) == pytest.approx(np.quantile(finite, 0.9))


def test_vacant_points_merge_osm_and_survey() -> None:
    pois = gpd.GeoDataFrame(
        {"osm_id": [1, 2], "vacant": [True, False]},
        geometry=[Point(X0, Y0), Point(X0 + 50, Y0)], crs=CRS,
    )  # fmt: skip
    survey = gpd.GeoDataFrame(
        {"unit_id": ["V1", "V2"]}, geometry=[Point(X0 + 5, Y0), Point(X0 + 300, Y0)], crs=CRS
    )
    vacant = vacancy.vacant_units(pois, survey, merge_distance_m=15)  # the one merging rule
    assert vacant["source"].tolist() == ["both", "survey"]
    assert vacant["unit_id"].tolist() == ["V1", "V2"]


def test_own_shops_without_category_say_how_to_classify_them() -> None:
    shops = points([(X0, Y0), (X0 + 10, Y0)], name=["Forno", "Bar"])
    area = box(X0 - 100, Y0 - 100, X0 + 100, Y0 + 100)
    calls = [
        lambda: commerce.retail_centres(shops),
        lambda: commerce.category_gaps(shops, area, pd.Series({"food": 1.0})),
        lambda: commerce.commercial_hex(shops, area),
        lambda: commerce.street_frontage(
            gpd.GeoDataFrame(geometry=[LineString([(X0, Y0), (X0 + 50, Y0)])], crs=CRS), shops
        ),
        lambda: commerce.density_raster(shops, area, bandwidth_m=50),
    ]
    for call in calls:
        with pytest.raises(MissingColumnError, match=r"'category'.*gd\.classify_units"):
            call()
    g = nx.MultiDiGraph(crs=CRS)
    g.add_node(0, x=X0, y=Y0)
    with pytest.raises(MissingColumnError, match="'subcategory'"):
        commerce.walking_coverage(g, shops, shops)
    # Classified, the same shops work.
    pois = points([(X0, Y0), (X0 + 10, Y0)], shop=["bakery", "clothes"])
    assert classify_units(pois)["category"].tolist() == ["food", "fashion"]
    with pytest.raises(MissingColumnError, match="'tags'"):
        classify_units(shops)


def test_bad_parameters_are_parameter_errors() -> None:
    from geodistrict.errors import ParameterError

    units, _ = _two_clusters()
    with pytest.raises(ParameterError, match=r"min_units.*1"):
        commerce.retail_centres(units, min_units=1)


# --------------------------------------------------------------------------- the real sample


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory, sample_config):  # type: ignore[no-untyped-def]
    import geodistrict as gd

    out = tmp_path_factory.mktemp("commerce-out")
    return gd.run(sample_config, out=out, only=["base", "surveys", "commerce"])


LAYERS = ("commercial_units", "commercial_hex", "street_frontage", "commercial_access",
          "retail_centres", "category_gaps")  # fmt: skip


def test_sample_run_writes_every_commerce_layer(sample_run) -> None:  # type: ignore[no-untyped-def]
    manifest = sample_run.manifest
    for name in LAYERS:
        entry = manifest["layers"][name]
        assert entry["features"] > 0, name
        assert entry["title_it"] and entry["title"] != name, name  # in the catalogue
        gdf = gpd.read_file(sample_run.folder / "sample.gpkg", layer=name)
        assert len(gdf) == entry["features"]
    units = gpd.read_parquet(sample_run.folder / "parquet" / "commercial_units.parquet")
    assert units["category"].notna().all() and len(units) > 1000
    assert set(units["category"]) <= set(load_taxonomy().categories)
    centres = gpd.read_parquet(sample_run.folder / "parquet" / "retail_centres.parquet")
    assert centres["rank"].tolist() == sorted(centres["rank"])
    # The illustrative survey adds vacant units: some centre has a vacancy rate.
    assert centres["n_vacant"].sum() > 0 and centres["vacancy_rate"].max() > 0
    gaps = gpd.read_parquet(sample_run.folder / "parquet" / "category_gaps.parquet")
    assert {"district", "centre", "walking (homes)"} <= set(gaps["scope"])
    walking = gaps[gaps["scope"] == "walking (homes)"]
    assert walking["share_within"].between(0, 1).all()


def test_sample_density_raster_is_a_cog_with_a_band_per_category(sample_run) -> None:  # type: ignore[no-untyped-def]
    import rasterio

    path = sample_run.folder / "commercial_density.tif"
    entry = sample_run.manifest["rasters"]["commercial_density.tif"]
    categories = list(load_taxonomy().categories)
    assert entry["bands"] == ["all", *categories]
    with rasterio.open(path) as src:
        assert src.count == 1 + len(categories)
        assert src.crs.to_epsg() == 32635
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.descriptions[0] == "all"
        data = src.read(1, masked=True)
        assert data.mask.any() and not data.mask.all()  # nodata outside the study area
        assert float(data.max()) > 10  # units per hectare in central Helsinki
    # A later run of another step keeps the raster's manifest entry.
    import geodistrict as gd

    again = gd.run(
        gd.load_config("config/sample.yml"), out=sample_run.folder.parent, only=["base"]
    )
    assert "commercial_density.tif" in again.manifest["rasters"]


def test_sample_accessibility_layer_is_monotone(sample_run) -> None:  # type: ignore[no-untyped-def]
    acc = gpd.read_parquet(sample_run.folder / "parquet" / "commercial_access.parquet")
    assert (acc["n400_total"] <= acc["n800_total"]).all()
    assert (acc["n800_total"] <= acc["n1600_total"]).all()
    cats = [c for c in acc.columns if c.startswith("n400_") and c != "n400_total"]
    assert (acc[cats].sum(axis=1) == acc["n400_total"]).all()
