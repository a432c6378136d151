"""Agenda 2030 and programme indicators: hand counts on a synthetic district, and both samples.

The synthetic district is a 1 km street grid (nodes every 100 m) where walking
distances are counted by hand along the streets.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from builders import CRS, points, square_grid
from shapely.geometry import LineString, box

import geodistrict
from geodistrict.i18n import use_language
from geodistrict.indicators import (
    COLUMNS,
    built_up_area,
    district_indicators,
    open_space_shares,
    stop_capacity,
    street_area,
    transit_access,
)
from geodistrict.taxonomy import load_taxonomy

AREA = gpd.GeoDataFrame(geometry=[box(-50, -50, 1050, 1050)], crs=CRS)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with use_language("en"):
        yield


def _people() -> gpd.GeoDataFrame:
    """Four homes in two census sections, on grid nodes."""
    return points([(0, 0), (600, 0), (1000, 1000), (0, 1000)], zone=["S1", "S1", "S2", "S2"],
                  residents=[100.0, 50.0, 30.0, 20.0])  # fmt: skip


def _zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"zone": ["S1", "S2"]},
                            geometry=[box(-50, -50, 1050, 500), box(-50, 500, 1050, 1050)],
                            crs=CRS)  # fmt: skip


def _table(**layers: gpd.GeoDataFrame) -> pd.DataFrame:
    table = district_indicators(
        _people(), walk_graph=square_grid(11), area=AREA, district="Testville",
        date="2024-06-30", population_source="ISTAT", estimated=False, zones=_zones(), **layers,
    )  # fmt: skip
    assert list(table.columns) == [*COLUMNS, "geometry"]
    return table.set_index(["indicator", "scope"])


def test_sdg_11_2_1_equals_the_hand_count() -> None:
    stops = points([(0, 400), (1000, 300)], mode=["bus", "rail"])
    table = _table(transit_stops=stops)
    # Walks along the grid: (0,0) -> bus 400 m (yes); (600,0) -> bus 1,000 m, rail 700 m (yes);
    # (1000,1000) -> rail 700 m (yes); (0,1000) -> bus 600 m, rail 1,700 m (no).
    assert table.loc[("sdg_11_2_1", "Testville"), "value"] == pytest.approx(100 * 180 / 200)
    assert table.loc[("sdg_11_2_1", "S1"), "value"] == pytest.approx(100.0)
    assert table.loc[("sdg_11_2_1", "S2"), "value"] == pytest.approx(100 * 30 / 50)
    row = table.loc[("sdg_11_2_1", "S2")]
    assert row["unit"] == "%" and row["date"] == "2024-06-30" and not row["estimated"]
    assert "500 m" in row["method"] and "1000 m" in row["method"]
    assert row["geometry"].equals(_zones().geometry.iloc[1])
    assert table.loc[("residents", "Testville"), "value"] == 200.0


def test_a_bus_stop_at_600_m_is_not_convenient_but_a_station_is() -> None:
    home = points([(0, 0)])
    graph = square_grid(11)
    far_bus = transit_access(graph, home, points([(600, 0)], mode=["bus"]))
    far_rail = transit_access(graph, home, points([(600, 0)], mode=["rail"]))
    exact = transit_access(graph, home, points([(500, 0)], mode=["tram"]))
    assert far_bus["walk_low_m"].tolist() == [600.0] and not far_bus["transit_access"].iloc[0]
    assert far_rail["walk_high_m"].tolist() == [600.0] and far_rail["transit_access"].iloc[0]
    assert exact["transit_access"].iloc[0]  # 500 m is within the 500 m
    assert stop_capacity(points([(0, 0)] * 4, mode=["subway", "ferry", "tram", "bus"])).tolist() \
        == ["high", "high", "low", "low"]  # fmt: skip


def test_units_per_1000_residents_match_the_hand_computation() -> None:
    units = points([(10, 10), (20, 10), (30, 10), (40, 10), (50, 10), (5000, 5000)],
                   category=["food", "food", "food", "fashion", "fashion", "food"],
                   subcategory=["grocery", "bakery", "grocery", "clothes", "shoes",
                                "grocery"])  # fmt: skip
    table = _table(commercial_units=units)
    # 5 units in the area (one lies outside it) for 200 residents.
    assert table.loc[("units_per_1000", "Testville"), "value"] == pytest.approx(25.0)
    assert table.loc[("units_per_1000_food", "Testville"), "value"] == pytest.approx(15.0)
    assert table.loc[("units_per_1000_fashion", "Testville"), "value"] == pytest.approx(10.0)
    assert table.loc[("units_per_1000_electronics", "Testville"), "value"] == 0.0
    assert table.loc[("units_per_1000_food", "Testville"), "unit"] == "units per 1,000 residents"


def test_everyday_needs_share_of_residents_not_of_homes() -> None:
    units = points([(0, 100)], category=["food"], subcategory=["grocery"])
    table = _table(commercial_units=units, taxonomy=load_taxonomy())
    # 10 minutes at 4.8 km/h = 800 m: (0,0) at 100 m and (600,0) at 700 m reach the grocery.
    assert table.loc[("everyday_need_grocery", "Testville"), "value"] == pytest.approx(75.0)
    assert table.loc[("everyday_need_pharmacy", "Testville"), "value"] == 0.0
    assert table.loc[("everyday_needs_all", "Testville"), "value"] == 0.0


def test_sdg_11_7_1_on_a_planted_park() -> None:
    # Two building blocks 20 m apart, closed by 15 m: the built-up area is the 100 x 100 m
    # square; a 20 x 60 m park in the gap is 12 % of it.
    blocks = gpd.GeoDataFrame(geometry=[box(0, 0, 40, 100), box(60, 0, 100, 100)], crs=CRS)
    park = gpd.GeoDataFrame({"kind": ["park"]}, geometry=[box(40, 20, 60, 80)], crs=CRS)
    built = built_up_area(blocks, area=box(-500, -500, 500, 500), closing_m=15, open_spaces=park)
    assert built.area == pytest.approx(10_000.0)
    shares = open_space_shares(built, park)
    assert shares["open_space_share"] == pytest.approx(0.12)
    # A 6 m wide street across the square: 600 m2, of which 120 m2 in the park.
    street = gpd.GeoDataFrame({"highway": ["residential"], "width": ["6"]},
                              geometry=[LineString([(0, 50), (100, 50)])], crs=CRS)  # fmt: skip
    lanes = street_area(street, within=built)
    assert lanes.area == pytest.approx(600.0)
    with_streets = open_space_shares(built, park, lanes)
    assert with_streets["street_m2"] == pytest.approx(480.0)
    assert with_streets["share"] == pytest.approx((1200 + 480) / 10_000)


def test_sdg_11_7_1_rows_and_residents_within_400_m() -> None:
    blocks = gpd.GeoDataFrame(geometry=[box(0, 0, 40, 100), box(60, 0, 100, 100)], crs=CRS)
    park = gpd.GeoDataFrame({"kind": ["park"]}, geometry=[box(40, 20, 60, 80)], crs=CRS)
    table = _table(open_spaces=park, buildings=blocks)
    assert table.loc[("sdg_11_7_1_open_space", "Testville"), "value"] == pytest.approx(12.0)
    assert table.loc[("sdg_11_7_1", "Testville"), "value"] == pytest.approx(12.0)  # no streets
    # The park's outline is entered from its nearest street nodes: (40,20) from node (0,0),
    # 44.7 m; (60,20) from node (100,0). The home at (0,0) is 45 m away (yes); (600,0) walks
    # 500 m to node (100,0), 545 m in all (no); the homes at y = 1000 are farther (no).
    assert table.loc[("sdg_11_7_1_access", "Testville"), "value"] == pytest.approx(50.0)
    assert table.loc[("sdg_11_7_1_access", "S2"), "value"] == 0.0
    assert not table.loc[("sdg_11_7_1", "Testville"), "estimated"]


def test_vacancy_rate_and_low_stress_connectivity_weighted_by_residents() -> None:
    units = points([(10 * i, 10) for i in range(9)], category=["food"] * 9,
                   subcategory=["grocery"] * 9)  # fmt: skip
    vacant = points([(500, 500), (9000, 9000)])  # the second lies outside the area
    origins = points([(0, 0), (500, 1000)], low_retail=[8, 0], any_retail=[10, 10],
                     score=[0.8, 0.2])  # fmt: skip
    table = _table(commercial_units=units, vacant_units=vacant, bike_connectivity=origins)
    assert table.loc[("vacancy_rate", "Testville"), "value"] == pytest.approx(10.0)
    # Residents nearest to each origin: 150 (S1) to the first, 50 (S2) to the second.
    assert table.loc[("low_stress_connectivity", "Testville"), "value"] == pytest.approx(
        100 * (150 * 8 + 50 * 0) / (150 * 10 + 50 * 10)
    )
    assert table.loc[("bike_network_score", "Testville"), "value"] == pytest.approx(
        100 * (150 * 0.8 + 50 * 0.2) / 200
    )


def test_labels_in_the_district_language() -> None:
    with use_language("it"):
        table = _table(transit_stops=points([(0, 400)], mode=["bus"]))
    labels = table.xs("Testville", level="scope")["label"]
    assert labels["sdg_11_2_1"].startswith("SDG 11.2.1 Residenti con accesso agevole")
    assert labels["residents"] == "Residenti"


def test_the_analyses_know_nothing_of_the_pipeline() -> None:
    root = Path(geodistrict.__file__).parent
    for package in ("population", "indicators"):
        for path in (root / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
                a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
            }
            banned = [n for n in names if n and n.startswith(
                ("geodistrict.config", "geodistrict.ingest", "geodistrict.pipeline",
                 "scipy.sparse.csgraph"))]  # fmt: skip
            assert banned == [], path


# ------------------------------------------------------------------- the samples


def _check_sample(folder: Path, *, total: float, language: str) -> pd.DataFrame:
    population = gpd.read_parquet(folder / "parquet" / "population.parquet")
    table = gpd.read_parquet(folder / "parquet" / "indicators.parquet")
    assert population["estimated"].all()
    assert population["residents"].sum() == pytest.approx(total, rel=1e-9)
    assert list(table.columns) == ["fid", *COLUMNS, "geometry"] or list(table.columns) == [
        *COLUMNS,
        "geometry",
    ]
    assert table["estimated"].dtype == bool
    rows = table.set_index("indicator")
    assert rows.loc["residents", "value"] == pytest.approx(total, rel=1e-6)
    assert rows.loc["residents", "estimated"]
    for name in ("sdg_11_2_1", "sdg_11_7_1", "sdg_11_7_1_access", "everyday_needs_all"):
        assert 0 <= rows.loc[name, "value"] <= 100, name
    assert np.isfinite(rows.loc["units_per_1000", "value"])
    word = "Residenti" if language == "it" else "Residents"
    assert rows.loc["residents", "label"] == word
    return table


@pytest.mark.slow
def test_helsinki_sample_writes_population_and_indicators(sample_output: Path) -> None:
    table = _check_sample(sample_output, total=15_000, language="en")
    assert {"vacancy_rate", "low_stress_connectivity"} <= set(table["indicator"])


@pytest.mark.slow
def test_italian_sample_writes_population_and_indicators(italian_output: Path) -> None:
    table = _check_sample(italian_output, total=17_000, language="it")
    assert table.set_index("indicator").loc["sdg_11_2_1", "unit"] == "%"
