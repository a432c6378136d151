"""Scoring, explanations, weights and sensitivity of geodistrict.priority (offline, fast)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from builders import CRS, points, square_grid
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from geodistrict.errors import ConfigError, MissingColumnError
from geodistrict.priority import (
    CRITERIA,
    DEFAULT_WEIGHTS,
    check_weights,
    compute_criteria,
    normalise,
    prioritise,
    rescore,
    sensitivity,
    topsis_scores,
    weighted_sum_scores,
)

# ----------------------------------------------------------------- hand-computed cases


def test_weighted_sum_matches_hand_computation() -> None:
    # Criterion 1 benefit, min 0 max 10 -> 1, 0.5, 0.
    # Criterion 2 cost, min 100 max 400 -> (400-200)/300, (400-100)/300, 0 = 2/3, 1, 0.
    values = np.array([[10.0, 200.0], [5.0, 100.0], [0.0, 400.0]])
    benefit = np.array([True, False])
    scores = weighted_sum_scores(values, np.array([1.0, 1.0]), benefit)
    assert scores == pytest.approx([(1 + 2 / 3) / 2, (0.5 + 1) / 2, 0.0])
    # Weights 3:1 -> 0.75 * n1 + 0.25 * n2.
    scores = weighted_sum_scores(values, np.array([3.0, 1.0]), benefit)
    assert scores == pytest.approx([0.75 + 0.25 * 2 / 3, 0.375 + 0.25, 0.0])


def test_normalise_constant_criterion_is_zero() -> None:
    n = normalise(np.array([[5.0, 1.0], [5.0, 2.0]]), np.array([True, True]))
    assert n[:, 0].tolist() == [0.0, 0.0]
    assert n[:, 1].tolist() == [0.0, 1.0]


def test_topsis_matches_hand_computation() -> None:
    # x = [[3, 1], [1, 3]], both benefit, w = [3, 1] -> [0.75, 0.25]; column norms sqrt(10).
    # v = [[2.25, 0.25], [0.75, 0.75]] / sqrt(10); ideal [2.25, 0.75], anti [0.75, 0.25].
    # Unit 1: d+ = 0.5, d- = 1.5 -> 0.75.  Unit 2: d+ = 1.5, d- = 0.5 -> 0.25.
    values = np.array([[3.0, 1.0], [1.0, 3.0]])
    scores = topsis_scores(values, np.array([3.0, 1.0]), np.array([True, True]))
    assert scores == pytest.approx([0.75, 0.25])


def test_topsis_cost_and_middle_unit() -> None:
    # One benefit criterion 1, 2, 3: r = [1, 2, 3] / sqrt(14); the middle unit is
    # equidistant from ideal (3) and anti-ideal (1) -> 0.5.
    one = topsis_scores(np.array([[1.0], [2.0], [3.0]]), np.array([1.0]), np.array([True]))
    assert one == pytest.approx([0.0, 0.5, 1.0])
    # A cost criterion reverses it.
    cost = topsis_scores(np.array([[2.0], [4.0]]), np.array([1.0]), np.array([False]))
    assert cost == pytest.approx([1.0, 0.0])


def test_topsis_identical_units_score_one_half() -> None:
    scores = topsis_scores(np.ones((3, 2)), np.array([1.0, 2.0]), np.array([True, False]))
    assert scores.tolist() == [0.5, 0.5, 0.5]


# ----------------------------------------------------------------- rescore


def _criteria(n: int = 6, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "footfall": rng.uniform(100, 5000, n),
            "walk_station_m": rng.uniform(50, 2000, n),
            "suitability": rng.uniform(0, 1, n),
            "demand_gap": rng.integers(0, 6, n).astype(float),
        },
        index=pd.Index([f"u{i}" for i in range(n)], name="unit"),
    )


@settings(max_examples=40, deadline=None)
@given(
    weights=st.lists(st.floats(0.01, 10), min_size=4, max_size=4),
    factor=st.floats(1e-3, 1e3),
    seed=st.integers(0, 10_000),
    method=st.sampled_from(["weighted_sum", "topsis"]),
)
def test_ranks_invariant_to_scaling_all_weights(
    weights: list[float], factor: float, seed: int, method: str
) -> None:
    crit = _criteria(8, seed)
    names = list(crit.columns)
    w = dict(zip(names, weights, strict=True))
    scaled = {k: v * factor for k, v in w.items()}
    a = rescore(crit, w, method=method)  # type: ignore[arg-type]
    b = rescore(crit, scaled, method=method)  # type: ignore[arg-type]
    assert a["rank"].tolist() == b["rank"].tolist()
    assert a["score"].to_numpy() == pytest.approx(b["score"].to_numpy(), abs=1e-6)


def test_rescore_keeps_index_does_not_mutate_and_drops_stale_robustness() -> None:
    crit = _criteria()
    crit["p_top_k"] = 0.5  # from an earlier run with other weights
    before = crit.copy()
    out = rescore(crit, {"footfall": 1})
    pd.testing.assert_frame_equal(crit, before)
    assert list(out.index) == list(crit.index)
    assert "p_top_k" not in out
    assert sorted(out["rank"]) == list(range(1, len(crit) + 1))
    assert {"score", "rank", "score_ws", "rank_ws", "score_topsis", "rank_topsis",
            "explanation", "top_criteria", "weights"} <= set(out.columns)  # fmt: skip


def test_rescore_single_criterion_orders_by_it() -> None:
    crit = _criteria()
    only = {name: 0.0 for name in DEFAULT_WEIGHTS} | {"walk_station_m": 1.0}
    out = rescore(crit, only)
    # A cost criterion: the nearest to the station ranks first, and says so.
    best = crit["walk_station_m"].idxmin()
    assert out.loc[best, "rank"] == 1
    assert out.loc[best, "explanation"].startswith("Near the station (")
    assert out.loc[best, "top_criteria"] == "walk_station_m"
    worst = crit["walk_station_m"].idxmax()
    assert "far from the station" in out.loc[worst, "explanation"]


def test_rescore_missing_value_takes_the_median() -> None:
    crit = pd.DataFrame({"footfall": [1.0, 2.0, 3.0, np.nan]})
    out = rescore(crit, {"footfall": 1})
    assert out["score"].iloc[3] == pytest.approx(out["score"].iloc[1])


def test_explanation_mentions_missing_categories() -> None:
    crit = pd.DataFrame({"demand_gap": [3, 0, 1], "footfall": [1.0, 2.0, 3.0]})
    out = rescore(crit, {"demand_gap": 5, "footfall": 1})
    assert out["rank"].iloc[0] == 1
    assert "3 categories missing within a 10-minute walk" in out["explanation"].iloc[0]
    assert "3 categorie mancanti entro 10 minuti a piedi" in out["explanation_it"].iloc[0]


def test_rescore_needs_a_usable_criterion() -> None:
    crit = pd.DataFrame({"footfall": [1.0, 2.0]})
    with pytest.raises(ConfigError, match="no criterion with a positive weight"):
        rescore(crit, {"footfall": 0})
    with pytest.raises(ConfigError, match="unknown method"):
        rescore(crit, method="borda")  # type: ignore[arg-type]


# ----------------------------------------------------------------- weights


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"footfall": -1}, "weight 'footfall' must not be negative (value -1)"),
        ({"suitability": "high"}, "weight 'suitability' must be a number (value 'high')"),
        ({"suitability": None}, "weight 'suitability' must be a number (value None)"),
        ({"suitability": True}, "weight 'suitability' must be a number (value True)"),
        ({"footfall": math.nan}, "weight 'footfall' must be a finite number (value nan)"),
        ({n: 0 for n in CRITERIA}, "all weights are zero"),
        ({"footfal": 1}, "unknown criterion 'footfal' in the weights; known criteria: footfall"),
    ],
)
def test_bad_weights_are_rejected_with_a_message(weights: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as info:
        check_weights(weights)
    assert message in str(info.value)


def test_weights_merge_over_defaults() -> None:
    merged = check_weights({"footfall": 7})
    assert merged["footfall"] == 7.0
    assert merged["suitability"] == DEFAULT_WEIGHTS["suitability"]
    assert set(merged) == set(CRITERIA)


def test_config_rejects_bad_weights(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from geodistrict import load_config

    path = tmp_path / "d.yml"
    path.write_text(
        "district: d\ntitle: D\narea: {bbox: [9.0, 45.0, 9.1, 45.1]}\n"
        "vacancy:\n  weights: {footfall: -2, suitability: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"vacancy\.weights.*'footfall' must not be negative"):
        load_config(path)
    path.write_text(path.read_text().replace("footfall: -2", "footfall: lots"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"vacancy\.weights\.footfall"):
        load_config(path)


# ----------------------------------------------------------------- sensitivity


def test_sensitivity_without_spread_is_the_rank() -> None:
    crit = _criteria(7)
    ranks = rescore(crit)["rank"]
    # One method: without spread every run is the central ranking.
    sens = sensitivity(crit, method="weighted_sum", spread=0.0, runs=20, top_k=3)
    assert (sens["rank_lo"] == ranks).all() and (sens["rank_hi"] == ranks).all()
    assert sens["p_top_k"].tolist() == [1.0 if r <= 3 else 0.0 for r in ranks]


def test_dominant_unit_is_robust_and_runs_are_reproducible() -> None:
    crit = _criteria(9)
    crit.loc["best"] = [9999.0, 1.0, 1.0, 9.0]  # best on every criterion
    # Footfall a benefit (under rigenerazione it is a cost and "best" is not best).
    for method in ("weighted_sum", "topsis", "both"):
        sens = sensitivity(crit, preset="consolidamento", method=method, runs=300, spread=0.9,
                           top_k=1)  # type: ignore[arg-type]  # fmt: skip
        assert sens.loc["best", "p_top_k"] == 1.0
        assert sens.loc["best", ["rank_lo", "rank_hi"]].tolist() == [1, 1]
        assert (
            (sens["rank_lo"] <= sens["rank_median"]) & (sens["rank_median"] <= sens["rank_hi"])
        ).all()
    a = sensitivity(crit, runs=100, seed=3)
    pd.testing.assert_frame_equal(a, sensitivity(crit, runs=100, seed=3))


def test_sensitivity_close_call_is_uncertain() -> None:
    # Two units trading off two equally weighted criteria: either may come first.
    crit = pd.DataFrame({"footfall": [10.0, 0.0], "suitability": [0.0, 1.0]}, index=["a", "b"])
    sens = sensitivity(crit, {"footfall": 1, "suitability": 1}, preset="consolidamento",
                       runs=500, top_k=1)  # fmt: skip
    assert 0.2 < sens.loc["a", "p_top_k"] < 0.8
    # One unit first per ranking, except the central run (run 0) of each method,
    # where the equal weights tie the two units (ties share rank 1): 1 + 2 / (2 x 500).
    assert sens["p_top_k"].sum() == pytest.approx(1.0 + 2 / 1000)
    assert sens.loc["a", "rank_lo"] == 1 and sens.loc["a", "rank_hi"] == 2


def test_sensitivity_bad_options() -> None:
    crit = _criteria()
    with pytest.raises(ConfigError, match="spread"):
        sensitivity(crit, spread=1.5)
    with pytest.raises(ConfigError, match="runs"):
        sensitivity(crit, runs=0)


def test_prioritise_sorts_by_rank_with_robustness() -> None:
    out = prioritise(_criteria(10), runs=50, top_k=2)
    assert out["rank"].is_monotonic_increasing
    assert {"p_top_k", "rank_lo", "rank_hi", "rank_median", "top_k"} <= set(out.columns)
    assert (out["top_k"] == 2).all()


# ----------------------------------------------------------------- criteria on the user's own data


def test_shops_without_category_name_the_missing_column() -> None:
    units = points([(100, 105)])
    shops = points([(110, 100), (0, 90)])  # not classified yet
    with pytest.raises(MissingColumnError, match=r"'category'.*gd\.classify_units") as info:
        compute_criteria(units, walk_graph=square_grid(3), commercial_units=shops)
    assert info.value.column == "category"


def test_bike_network_without_lts_names_the_missing_column() -> None:
    bikes = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (200, 0)])], crs=CRS)
    with pytest.raises(MissingColumnError, match=r"'lts'.*gd\.add_lts"):
        compute_criteria(points([(100, 105)]), walk_graph=square_grid(3), bike_network=bikes)


def test_units_snap_to_the_largest_strongly_connected_part() -> None:
    # A one-way spur leaves the grid's corner (200, 0) to a node at (1000, 0) it
    # cannot come back from: a unit beside that node walks from the corner instead.
    graph = square_grid(3)
    graph.add_node(99, x=1000.0, y=0.0)
    graph.add_edge(2, 99, length=800.0)
    units = points([(990, 0), (200, 0)], index=["spur", "corner"])
    crit = compute_criteria(units, walk_graph=graph)
    pd.testing.assert_index_equal(crit.index, units.index)
    assert crit.loc["spur", "footfall"] > 0
    assert crit.loc["spur", "footfall"] == crit.loc["corner", "footfall"]


# ----------------------------------------------------------------- rank --to: the files written


def _reranked() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    units = gpd.GeoDataFrame(
        {name: rng.random(6) * 100 for name in CRITERIA},
        geometry=[Point(660000 + 10 * i, 5120000) for i in range(6)],
        crs=32632,
    )
    units["unit_id"] = [f"SF-{i}" for i in range(6)]
    units["address"] = ["=cmd()", "Via Roma 1", "@x", "-5 m", "+1", "Piazza Duomo"]
    return rescore(units, {"footfall": 3.0}).sort_values("rank", kind="stable")


def test_write_ranked_italian_csv_and_xlsx(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import io as _io

    import openpyxl

    from geodistrict.i18n import label
    from geodistrict.priority.io import write_ranked

    ranked = _reranked()
    target = write_ranked(ranked, tmp_path / "r.csv", language="it")
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    back = pd.read_csv(_io.BytesIO(raw), sep=";", decimal=",", encoding="utf-8-sig")
    assert back[label("unit_id", language="it")].tolist() == ranked["unit_id"].tolist()
    assert back[label("score", language="it")].tolist() == pytest.approx(
        ranked["score"].tolist(), abs=1e-6
    )
    weight = f"Peso: {label('footfall', kind='criterion', language='it')}"
    assert set(back[weight]) == {3.0}
    assert sum(c.startswith("Peso: ") for c in back.columns) == len(CRITERIA)
    assert "weights" not in back and "wkt" not in back
    assert "'=cmd()" in set(back[label("address", language="it")])

    book = openpyxl.load_workbook(write_ranked(ranked, tmp_path / "r.xlsx", language="it"))
    ws = book[book.sheetnames[1]]
    headers = [c.value for c in ws[1]]
    assert weight in headers and ws.freeze_panes == "A2"
    column = headers.index(label("score", language="it")) + 1
    assert ws.cell(row=2, column=column).value == pytest.approx(ranked["score"].iloc[0])
    assert ws.cell(row=2, column=column).data_type == "n"


def test_write_ranked_english_csv_keeps_machine_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from geodistrict.errors import OutputError
    from geodistrict.priority.io import write_ranked

    ranked = _reranked()
    back = pd.read_csv(write_ranked(ranked, tmp_path / "r.csv", language="en"))
    assert back["unit_id"].tolist() == ranked["unit_id"].tolist()
    assert json.loads(back["weights"].iloc[0])["footfall"] == 3.0
    assert set(back["weight_footfall"]) == {3.0} and "wkt" in back
    assert "'=cmd()" in set(back["address"]) and "'-5 m" in set(back["address"])
    with pytest.raises(OutputError, match=r"x\.txt"):
        write_ranked(ranked, tmp_path / "x.txt", language="en")
