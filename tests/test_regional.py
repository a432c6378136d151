"""Regional checks and extension candidates (issue 16, parts 4-5): geodistrict.regional."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geodistrict.errors import GeodistrictError
from geodistrict.regional import (
    CommerceRule,
    IndustrialRule,
    adjacency,
    commerce_district_check,
    contiguous,
    dm1993_indices,
    extension_candidates,
)

ROOT = Path(__file__).resolve().parent.parent
CRS = 32632


def _squares() -> gpd.GeoDataFrame:
    """Three planted squares in a row (1 km sides) and one 5 km away."""
    return gpd.GeoDataFrame(
        {"name": ["Alfa", "Beta", "Gamma", "Lontano"], "prov_acr": ["BG", "BG", "BG", "BG"]},
        geometry=[
            box(0, 0, 1000, 1000),
            box(1000, 0, 2000, 1000),
            box(2000, 0, 3000, 1000),
            box(8000, 0, 9000, 1000),
        ],
        crs=CRS,
    )


def test_contiguity_of_three_planted_squares_and_a_separated_one() -> None:
    squares = _squares()
    pairs = adjacency(squares)
    assert pairs[["a", "b"]].values.tolist() == [["Alfa", "Beta"], ["Beta", "Gamma"]]
    assert pairs["shared_m"].tolist() == [1000.0, 1000.0]
    assert contiguous(squares, ["Alfa", "Beta", "Gamma"])
    assert not contiguous(squares, ["Alfa", "Gamma"])  # only through Beta
    assert not contiguous(squares, ["Alfa", "Beta", "Lontano"])
    # A sliver of 3 m between generalised boundaries still touches; 10 m does not.
    moved = squares.copy()
    moved.loc[1, "geometry"] = box(1003, 0, 2003, 1000)
    assert contiguous(moved, ["Alfa", "Beta"])
    assert not contiguous(moved, ["Alfa", "Beta"], tolerance_m=2)
    with pytest.raises(GeodistrictError, match="Nowhere"):
        contiguous(squares, ["Alfa", "Nowhere"])


def test_intercommunal_and_urban_commerce_districts() -> None:
    squares = _squares()
    small = {"Alfa": 6000, "Beta": 4000, "Gamma": 3000, "Lontano": 2000}
    ok = commerce_district_check(squares, ["Alfa", "Beta", "Gamma"], population=small)
    assert ok["kind"].unique().tolist() == ["DID"]
    assert ok.set_index("check")["passed"].to_dict() == {
        "comuni": True,
        "contiguous": True,
        "same_province": True,
    }
    apart = commerce_district_check(squares, ["Alfa", "Beta", "Lontano"], population=small)
    assert apart.set_index("check").loc["contiguous", "passed"] is False
    two = commerce_district_check(squares, ["Alfa", "Beta"], population=small)
    assert two.set_index("check").loc["comuni", "passed"] is False  # 3 small comuni needed
    big = {**small, "Alfa": 16_000}  # a comune of 15,000+ may join with fewer
    assert (
        commerce_district_check(squares, ["Alfa", "Beta"], population=big)
        .set_index("check")
        .loc["comuni", "passed"]
    )
    duc = commerce_district_check(squares, ["Alfa"], population={"Alfa": 30_000})
    assert duc.iloc[0][["kind", "passed"]].tolist() == ["DUC", True]
    low = commerce_district_check(squares, ["Alfa"], population={"Alfa": 20_000})
    assert low.iloc[0]["passed"] is False
    lowered = CommerceRule(duc_min_population=15_000)
    assert commerce_district_check(squares, ["Alfa"], population={"Alfa": 20_000},
                                   rule=lowered).iloc[0]["passed"]  # fmt: skip
    assert commerce_district_check(squares, ["Alfa"]).iloc[0]["passed"] is None  # no figures


def test_dm1993_indices_by_hand() -> None:
    units = pd.DataFrame(
        {
            "municipality": ["A", "A", "A", "B", "B"],
            "ateco": ["25.11", "C25.62", "47.11", "25.11", "28.30"],
            "employees": [30, 300, 70, 40, 60],
        }
    )
    # Reference: 1000 employees, 200 in manufacturing (25: 50, 28: 150), 800 in trade.
    reference = pd.DataFrame(
        {"employees": [50.0, 150.0, 800.0], "local_units": [5.0, 15.0, 180.0]},
        index=pd.Index(["25", "28", "47"], name="ateco_division"),
    )
    table = dm1993_indices(units, reference, sector="25", population={"A": 1000, "B": 500},
                           reference_population=10_000).set_index("area")  # fmt: skip
    a = table.loc["A"]
    # Manufacturing share 330/400 against 200/1000.
    assert a["industrialisation"] == pytest.approx((330 / 400) / (200 / 1000))
    # Sector 25: 330 of 330 manufacturing employees against 50/200.
    assert a["specialisation"] == pytest.approx(1.0 / 0.25)
    assert a["sector_share"] == 1.0
    # Small firms (<= 249 employees): 30 of the sector's 330.
    assert a["small_firm_share"] == pytest.approx(30 / 330) and a["small_firm_share_ok"] is False
    # Density: 2 manufacturing units per 1000 residents against 20 per 10,000.
    assert a["density"] == pytest.approx((2 / 1000) / (20 / 10_000))
    d = table.loc["district"]
    assert d["manufacturing_employees"] == 430 and d["sector_employees"] == 370
    assert d["specialisation"] == pytest.approx((370 / 430) / 0.25)
    few = IndustrialRule(small_firm_max_employees=20)
    strict = dm1993_indices(units, reference, sector="25", rule=few).set_index("area")
    assert strict.loc["A", "small_firm_share"] == 0
    # Without a sector the district's largest manufacturing division is taken.
    assert dm1993_indices(units, reference)["sector"].iloc[0] == "25"


def test_extension_candidates_rank_the_neighbours() -> None:
    comuni = gpd.GeoDataFrame(
        {"name": ["Core", "Est", "Nord", "Lontano"]},
        geometry=[
            box(0, 0, 1000, 1000),
            box(1000, 0, 2000, 1000),  # shares 1000 m
            box(0, 1000, 400, 1400),  # shares 400 m
            box(9000, 0, 9500, 500),
        ],
        crs=CRS,
    )
    sectors = pd.DataFrame(
        {
            "municipality": ["Core", "Core", "Est", "Nord"],
            "ateco": ["25.11", "28.30", "47.11", "25.62"],
            "employees": [100, 100, 50, 80],
        }
    )
    points = gpd.GeoDataFrame(geometry=[Point(100, 1100), Point(200, 1200), Point(1500, 500)],
                              crs=CRS)  # fmt: skip
    ranked = extension_candidates(comuni, ["Core"], sectors=sectors, points=points,
                                  reach=box(-100, -100, 1200, 1500))  # fmt: skip
    assert ranked["name"].tolist() == ["Nord", "Est"]  # Lontano does not touch
    by = ranked.set_index("name")
    assert by.loc["Est", "shared_border_m"] == pytest.approx(1000, abs=1)
    assert by.loc["Nord", "similarity"] == pytest.approx(2**-0.5)  # (1,1)·(1,0)/√2
    assert by.loc["Est", "similarity"] == 0
    assert by.loc["Nord", "n_within_reach"] == 2 and by.loc["Est", "n_within_reach"] == 0
    assert "similarity" in by.loc["Nord", "reasons"]


def test_istat_boundaries_of_zingonia() -> None:
    comuni = gpd.read_file(ROOT / "data" / "istat" / "comuni_zingonia.geojson").to_crs(CRS)
    core = comuni.loc[comuni["role"] == "core", "name"].tolist()
    assert len(core) == 5 and contiguous(comuni, core)
    check = commerce_district_check(comuni, core).set_index("check")["passed"]
    assert check["comuni"] and check["contiguous"] and check["same_province"]
    # The file's neighbours are the comuni touching a core comune (data/istat/README.md).
    ranked = extension_candidates(comuni, core)
    assert set(ranked["name"]) == set(comuni.loc[comuni["role"] == "neighbour", "name"])
    assert (ranked["shared_border_m"] >= 0).all() and ranked["rank"].tolist() == list(
        range(1, len(ranked) + 1)
    )
