"""Missing categories with statistics that hold (issue 12, item 2): known answers.

Exact binomial test per category and area, Benjamini–Hochberg q values over
every test of a call, ``missing`` only when nothing is observed and the
shortfall is significant, catch-all categories never tested nor recommended.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from builders import CRS, points
from scipy.stats import binom
from shapely.geometry import Point, box

import geodistrict as gd
from geodistrict import commerce
from geodistrict.commerce.gaps import CATCH_ALL_CATEGORIES, STATUSES, q_values
from geodistrict.errors import ConfigError, ParameterError
from geodistrict.priority import compute_criteria

X0, Y0 = 515_000.0, 5_035_000.0
AREA = box(X0 - 10, Y0 - 10, X0 + 1000, Y0 + 10)


def _units(categories: list[str]) -> gpd.GeoDataFrame:
    return points([(X0 + i, Y0) for i in range(len(categories))], category=categories)


def _district(gaps: gpd.GeoDataFrame) -> pd.DataFrame:
    return gaps[gaps["scope"] == "district"].set_index("category")


# --------------------------------------------------------------------------- the test


def test_a_category_absent_by_chance_is_not_missing() -> None:
    # 30 units, a 4 % share: 1.2 expected, P(X = 0) = 0.96^30 = 0.294.
    mix = {"food": 0.48, "fashion": 0.48, "health_pharmacy": 0.04}
    row = _district(commerce.category_gaps(_units(["food", "fashion"] * 15), AREA, mix)).loc[
        "health_pharmacy"
    ]
    assert row["observed"] == 0 and row["expected"] == pytest.approx(1.2)
    assert pytest.approx(0.2939, abs=1e-4) == 0.96**30
    assert row["p_value"] == pytest.approx(2 * 0.96**30)  # two-sided: twice the smaller tail
    assert row["status"] == "as expected"


def test_a_category_expected_25_and_absent_is_missing() -> None:
    # 100 units, a 25 % share: 25 expected, P(X = 0) = 0.75^100 = 3.2e-13.
    mix = {"food": 0.375, "fashion": 0.375, "health_pharmacy": 0.25}
    gaps = commerce.category_gaps(_units(["food", "fashion"] * 50), AREA, mix)
    row = _district(gaps).loc["health_pharmacy"]
    assert row["expected"] == pytest.approx(25.0)
    assert row["p_value"] == pytest.approx(2 * 0.75**100, rel=1e-9)
    assert row["q_value"] < 0.05 and row["status"] == "missing"
    # The q value is BH over the three tests of the call: this p is the smallest.
    assert row["q_value"] == pytest.approx(3 * row["p_value"], rel=1e-9)


def test_p_values_are_the_exact_binomial_tails() -> None:
    # 90 food and 10 fashion against 50/50: both far from 50, in opposite directions.
    gaps = _district(
        commerce.category_gaps(
            _units(["food"] * 90 + ["fashion"] * 10), AREA, {"food": 0.5, "fashion": 0.5}
        )
    )
    assert gaps.loc["fashion", "p_value"] == pytest.approx(2 * binom.cdf(10, 100, 0.5))
    assert gaps.loc["food", "p_value"] == pytest.approx(2 * binom.sf(89, 100, 0.5))
    assert gaps.loc["fashion", "status"] == "under-represented"
    assert gaps.loc["food", "status"] == "over-represented"
    assert gaps.loc["food", "units_tested"] == 100
    # A small shortfall is not significant: 46 of 100 against 50 %.
    near = _district(
        commerce.category_gaps(
            _units(["food"] * 54 + ["fashion"] * 46), AREA, {"food": 0.5, "fashion": 0.5}
        )
    )
    assert set(near["status"].reindex(["food", "fashion"])) == {"as expected"}


def test_a_few_units_with_one_category_short_are_not_under_represented() -> None:
    # 12 units, 3 expected fashion, 1 observed: P(X <= 1) = 0.158, not significant.
    mix = {"food": 0.75, "fashion": 0.25}
    row = _district(commerce.category_gaps(_units(["food"] * 11 + ["fashion"]), AREA, mix)).loc[
        "fashion"
    ]
    assert row["p_value"] == pytest.approx(min(1.0, 2 * binom.cdf(1, 12, 0.25)))
    assert row["status"] == "as expected"


# --------------------------------------------------------------------------- the q values


def test_bh_q_values_equal_a_hand_computation() -> None:
    p = [0.01, 0.04, 0.03, 0.005, 0.20]
    # Sorted: 0.005 0.01 0.03 0.04 0.20; m p_(i) / i = 0.025 0.025 0.05 0.05 0.20;
    # running minimum from the top: 0.025 0.025 0.05 0.05 0.20; back to input order:
    assert q_values(p) == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.20])
    # Untested rows (NaN) stay NaN and do not count in m.
    q = q_values([0.01, np.nan, 0.04, 0.03, 0.005, 0.20, np.nan])
    assert np.isnan(q[[1, 6]]).all()
    assert q[[0, 2, 3, 4, 5]] == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.20])
    # Benjamini–Yekutieli multiplies by 1 + 1/2 + 1/3 + 1/4 + 1/5 = 137/60.
    assert q_values(p, method="by") == pytest.approx(
        np.minimum(1, np.array([0.025, 0.05, 0.05, 0.025, 0.20]) * 137 / 60)
    )
    with pytest.raises(ParameterError, match="'holm'"):
        q_values(p, method="holm")
    with pytest.raises(ParameterError, match=r"1\.5"):
        q_values([0.2, 1.5])


def test_q_values_span_the_district_and_every_centre() -> None:
    units, labels = _centres_case()
    centres = _centre_polygons(units, labels)
    mix = {"food": 0.4, "fashion": 0.4, "health_pharmacy": 0.2}
    gaps = commerce.category_gaps(units, AREA, mix, centres=centres, labels=labels)
    tested = gaps["p_value"].notna()
    assert tested.sum() == 3 * 3  # district and two centres, three categories each
    assert gaps.loc[tested, "q_value"].to_numpy() == pytest.approx(
        q_values(gaps.loc[tested, "p_value"].to_numpy())
    )
    # Centre 2 (10 units): 2 pharmacies expected, none seen, P(0) = 0.8^10 = 0.107.
    small = gaps[(gaps["centre_id"] == 2) & (gaps["category"] == "health_pharmacy")].iloc[0]
    assert small["p_value"] == pytest.approx(min(1, 2 * 0.8**10))
    assert small["status"] == "as expected"
    # Centre 1 (60 units): 12 expected, none seen: missing after the correction.
    big = gaps[(gaps["centre_id"] == 1) & (gaps["category"] == "health_pharmacy")].iloc[0]
    assert big["status"] == "missing" and big["q_value"] < 0.05
    # A stricter alpha changes the status, not the numbers.
    strict = commerce.category_gaps(units, AREA, mix, centres=centres, labels=labels, alpha=1e-9)
    assert strict["q_value"].equals(gaps["q_value"])
    assert (strict["status"] == "missing").sum() <= (gaps["status"] == "missing").sum()
    with pytest.raises(ParameterError, match=r"1\.5"):
        commerce.category_gaps(units, AREA, mix, alpha=1.5)


def _centres_case() -> tuple[gpd.GeoDataFrame, pd.Series]:
    cats = ["food", "fashion"] * 30 + ["food", "fashion"] * 5
    units = _units(cats)
    labels = pd.Series([1] * 60 + [2] * 10, index=units.index)
    return units, labels


def _centre_polygons(units: gpd.GeoDataFrame, labels: pd.Series) -> gpd.GeoDataFrame:
    geoms = [units[labels == c].union_all().buffer(5) for c in (1, 2)]
    return gpd.GeoDataFrame({"centre_id": [1, 2]}, geometry=geoms, crs=CRS)


# --------------------------------------------------------------------------- catch-alls


def test_other_retail_is_never_tested_nor_missing() -> None:
    assert "other_retail" in CATCH_ALL_CATEGORIES
    # A mix that expects 30 other_retail of 100 units, and none observed.
    mix = {"food": 0.35, "fashion": 0.35, "other_retail": 0.3}
    gaps = _district(commerce.category_gaps(_units(["food", "fashion"] * 50), AREA, mix))
    row = gaps.loc["other_retail"]
    assert row["status"] == "not tested"
    assert np.isnan(row["p_value"]) and np.isnan(row["q_value"]) and pd.isna(row["units_tested"])
    assert row["expected"] == pytest.approx(30.0)  # shown, raw share x all units
    # Tested categories are renormalised over the tested units: 50 food of 100 is 0.5.
    assert gaps.loc["food", "expected"] == pytest.approx(50.0)
    assert gaps.loc["food", "status"] == "as expected"
    # Unclassified shops (other_retail) do not make the real categories look short:
    # 50 food, 50 fashion and 100 shop=yes against the default-like mix.
    crowded = _district(
        commerce.category_gaps(
            _units(["food", "fashion"] * 25 + ["other_retail"] * 100), AREA, mix
        )
    )
    assert crowded.loc["food", "expected"] == pytest.approx(25.0)
    assert crowded.loc["food", "units_tested"] == 50
    assert crowded.loc["other_retail", "status"] == "not tested"
    assert set(crowded["status"]) <= set(STATUSES)
    # Told explicitly that nothing is a catch-all, other_retail is tested like the rest.
    tested = _district(commerce.category_gaps(_units(["food", "fashion"] * 50), AREA, mix,
                                              catch_all=()))  # fmt: skip
    assert tested.loc["other_retail", "status"] == "missing"


def test_a_category_with_no_reference_share_is_not_tested() -> None:
    gaps = _district(
        commerce.category_gaps(_units(["food"] * 20 + ["automotive"] * 5), AREA, {"food": 1.0})
    )
    assert gaps.loc["automotive", "status"] == "not tested"
    assert gaps.loc["food", "units_tested"] == 20 and gaps.loc["food", "status"] == "as expected"


def test_other_retail_is_never_a_recommended_use() -> None:
    # Around the vacant unit, 20 shops of every category but electronics and
    # other_retail: both are significantly short when other_retail is tested
    # (catch_all=()), yet only electronics may be recommended.
    g = gd.datasets.grid_graph(5, 5, spacing_m=100)
    crs = g.graph["crs"]
    vacant = gpd.GeoDataFrame({"floor_area_m2": [100.0]}, geometry=[Point(200, 200)], crs=crs)
    cats = [c for c in gd.load_taxonomy().categories if c not in ("other_retail", "electronics")]
    sold = [c for c in cats for _ in range(20)]
    shops = gpd.GeoDataFrame(
        {"category": sold}, geometry=[Point(200 + k % 50, 210) for k in range(len(sold))], crs=crs
    )
    mix = commerce.load_reference_mix()
    area = box(0, 0, 400, 400)
    tested = commerce.category_gaps(shops, area, mix, catch_all=())
    assert _district(tested).loc["other_retail", "status"] == "missing"
    for gaps in (tested, commerce.category_gaps(shops, area, mix), None):
        crit = compute_criteria(vacant, walk_graph=g, commercial_units=shops, category_gaps=gaps)
        uses = crit["recommended_uses"].iloc[0].split(";")
        assert "other_retail" not in uses
        assert uses[0] == "electronics"


# --------------------------------------------------------------------------- reference from


def _output_folder(root: Path, name: str, categories: list[str]) -> Path:
    from geodistrict.store import district_dir, write_layers

    # A real output folder, as `geodistrict run` writes it (versions, manifest, links).
    write_layers({"commercial_units": _units(categories)}, root, district=name)
    return district_dir(root, name)


def test_reference_from_another_districts_output(tmp_path: Path) -> None:
    folder = _output_folder(tmp_path / "out", "other", ["food"] * 3 + ["fashion"])
    mix = commerce.load_reference_mix(folder)
    assert mix["food"] == 0.75 and mix["fashion"] == 0.25 and mix["automotive"] == 0
    # The --out folder above one district works too; above two it must be told which.
    assert commerce.load_reference_mix(tmp_path / "out").equals(mix)
    _output_folder(tmp_path / "out", "second", ["food"])
    with pytest.raises(ConfigError, match="2 districts"):
        commerce.load_reference_mix(tmp_path / "out")
    with pytest.raises(ConfigError, match="not a geodistrict output folder"):
        commerce.load_reference_mix(tmp_path)


def _config(tmp_path: Path, commerce_yaml: str) -> Path:
    path = tmp_path / "district.yml"
    path.write_text(
        "district: t\ntitle: T\narea:\n  bbox: [9.28, 45.49, 9.30, 45.50]\ncommerce:\n"
        + commerce_yaml,
        encoding="utf-8",
    )
    return path


def test_config_of_the_gaps(tmp_path: Path) -> None:
    folder = _output_folder(tmp_path, "other", ["food", "fashion"])
    cfg = gd.load_config(_config(tmp_path, "  reference_from: other\n  gap_alpha: 0.1\n"))
    assert cfg.commerce.reference_from == folder.resolve()
    assert cfg.commerce.gap_alpha == 0.1 and cfg.commerce.gap_fdr_method == "bh"
    assert cfg.commerce.catch_all_categories == ["other_retail"]
    mix = tmp_path / "mix.yml"
    mix.write_text("shares: {food: 1}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not both"):
        gd.load_config(_config(tmp_path, "  reference_from: other\n  reference_mix: mix.yml\n"))
    with pytest.raises(ConfigError, match="gap_alpha"):
        gd.load_config(_config(tmp_path, "  gap_alpha: 1.0\n"))
    with pytest.raises(ConfigError, match="nowhere"):
        gd.load_config(_config(tmp_path, "  reference_from: nowhere\n"))
    from geodistrict.pipeline import check_config

    bad = gd.load_config(_config(tmp_path, "  catch_all_categories: [spaceships]\n"))
    with pytest.raises(ConfigError, match="spaceships"):
        check_config(bad)


# --------------------------------------------------------------------------- the sample


def test_sample_missing_rows_are_significant(sample_layers) -> None:  # type: ignore[no-untyped-def]
    from geodistrict.pipeline.steps.commerce import commerce_layers

    gaps = commerce_layers(sample_layers).layers["category_gaps"]
    rows = gaps[gaps["scope"].isin(["district", "centre"])]
    assert set(rows["status"]) <= set(STATUSES)
    missing = rows[rows["status"] == "missing"]
    assert (missing["observed"] == 0).all() and (missing["q_value"] < 0.05).all()
    # No missing row is one that chance alone would give one time in twenty.
    n = missing["units_tested"].astype(float)
    p0 = (1 - missing["expected_share"].astype(float)) ** n
    assert (p0 <= 0.05).all()
    assert (rows.loc[rows["category"] == "other_retail", "status"] == "not tested").all()
    tested = rows["p_value"].notna()
    assert rows.loc[tested, "q_value"].to_numpy() == pytest.approx(
        q_values(rows.loc[tested, "p_value"].to_numpy())
    )
