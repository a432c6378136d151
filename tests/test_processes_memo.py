"""The processes' memo per file version and the vectorised re-ranking: same answers, fresh data.

``rank-vacant-units`` answers from a :class:`~geodistrict.priority.rerank.Reranker`
kept per version of the ``vacant_units`` layer; these tests hold it to the
unmemoised path (``rank_from_folder`` + GeoJSON, the answer before the memo)
byte for byte, on both samples and on planted frames, and check that a new
run is seen by the next request.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geodistrict.errors import ConfigError
from geodistrict.priority import CRITERIA, PRESETS, read_ranked, rescore
from geodistrict.priority.rerank import Reranker
from geodistrict.publish import processes
from geodistrict.publish.processes import (
    CategoryGapsProcessor,
    IsochroneProcessor,
    ProcessInputError,
    RankVacantUnitsProcessor,
    _rank_reference,
)


def _bodies(seed: int, n: int) -> list[dict[str, Any]]:
    """Execution inputs: random weights (some zero), every preset and method, some tops."""
    rng = np.random.default_rng(seed)
    names = list(CRITERIA)
    bodies: list[dict[str, Any]] = [{}, {"method": "topsis"}, {"top": 3}, {"top": 1000}]
    for k in range(n):
        chosen = rng.random(len(names)) < 0.5
        values = rng.choice([0.0, 0.5, 1.0, 2.0, 3.7, float(rng.random() * 5)], len(names))
        body: dict[str, Any] = {
            "weights": {n: float(v) for n, v, c in zip(names, values, chosen, strict=True) if c},
            "method": ("weighted_sum", "topsis")[k % 2],
        }
        if k % 4:
            body["preset"] = list(PRESETS)[k % 3]
        if k % 5 == 0:
            body["top"] = int(rng.integers(1, 12))
        bodies.append(body)
    bodies.append({"weights": {"footfall": 1.0}, "preset": "bando"})  # one criterion only
    return bodies


def _reference(folder: Path, body: dict[str, Any]) -> dict[str, Any]:
    return _rank_reference(
        folder, body.get("weights") or {}, preset=body.get("preset"),
        method=body.get("method", "weighted_sum"), top=body.get("top"),
    )  # fmt: skip


@pytest.mark.parametrize("which", ["sample_output", "italian_output"])
def test_rank_process_answers_as_the_unmemoised_path(
    which: str, request: pytest.FixtureRequest
) -> None:
    """Same body, same JSON (keys in the same order), first call and memo hits alike."""
    folder: Path = request.getfixturevalue(which)
    processes.clear_memo()
    process = RankVacantUnitsProcessor({"name": "rank", "districts": {"d": str(folder)}})
    bodies = _bodies(seed=len(which), n=24)
    for body in bodies:
        expected = json.dumps(_reference(folder, body))
        for _ in range(2):  # building the memo, then reading it
            mimetype, answer = process.execute({"district": "d", **body})
            assert mimetype == "application/json"
            assert json.dumps(answer) == expected, body
    # The weights did reach the answer: not every body gives the default ranking.
    first = [f["properties"]["unit_id"] for f in _reference(folder, {})["features"]]
    orders = {
        tuple(f["properties"]["unit_id"] for f in process.execute({"district": "d", **b})[1][
            "features"])
        for b in bodies if "top" not in b
    }  # fmt: skip
    assert tuple(first) in orders and len(orders) > 3


def test_rank_process_errors_as_the_unmemoised_path(sample_output: Path) -> None:
    process = RankVacantUnitsProcessor({"name": "rank", "districts": {"d": str(sample_output)}})
    for body in (
        {"weights": {"nonsense": 1}},
        {"weights": {"footfall": -1}},
        {"weights": dict.fromkeys(CRITERIA, 0)},
        {"preset": "unknown"},
    ):
        with pytest.raises(ConfigError) as reference:
            _reference(sample_output, body)
        with pytest.raises(ProcessInputError) as answer:
            process.execute({"district": "d", **body})
        assert str(answer.value) == str(reference.value)


def _planted(seed: int, n: int = 40) -> gpd.GeoDataFrame:
    """Units with every criterion: ties (repeated rows), missing values, a constant column."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "footfall": rng.choice([0.0, 12.5, 40.0, 300.0, 812.3], n),
            "walk_supermarket_m": rng.uniform(0, 2600, n).round(1),
            "walk_station_m": rng.uniform(0, 2000, n).round(1),
            "walk_school_m": rng.choice([120.0, 480.0, 1500.0, 2000.0], n),
            "walk_townhall_m": np.full(n, 700.0),  # constant: separates nobody
            "dist_retail_centre_m": rng.choice([0.0, 80.0, 1200.0], n),
            "commercial_density": rng.integers(0, 30, n).astype(float),
            "transit_access": rng.integers(0, 4, n).astype(float),
            "low_stress_bike_m": rng.uniform(0, 900, n).round(0),
            "regeneration_need": rng.random(n).round(2),
            "suitability": rng.choice([0.3, 0.6, 0.9, 1.0], n),
            "public_ownership": rng.choice([0.0, 0.5, 1.0], n),
            "asking_rent_ratio": rng.choice([0.0, 0.7, 1.0, 1.1, 1.6], n),
            "demand_gap": rng.integers(0, 5, n).astype(float),
            "vacancy_months": rng.uniform(0, 60, n).round(1),
            "floor_area_m2": rng.uniform(20, 300, n).round(1),
            "ground_floor": pd.array(rng.choice([True, False], n), dtype="boolean"),
            "condition": rng.choice(["good", "fair", "poor"], n),
            "asking_rent_eur_month": rng.uniform(300, 3000, n).round(0),
        }
    )
    frame.iloc[5:10] = frame.iloc[0]  # identical units: tied scores, tied ranks
    for column, rows in (("vacancy_months", [1, 7, 12]), ("footfall", [3]),
                         ("asking_rent_ratio", [2, 20])):  # fmt: skip
        frame.loc[rows, column] = np.nan  # imputed with the median
    assert set(CRITERIA) <= set(frame)
    geometry = [Point(float(x), float(y)) for x, y in rng.uniform(0, 1000, (n, 2))]
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=32632)


def _planted_cases() -> list[tuple[str, gpd.GeoDataFrame]]:
    full = _planted(1)
    stale = _planted(2)
    stale["score"], stale["rank"], stale["p_top_k"] = 0.5, 1, 0.2  # scored columns to drop
    stale["weights"] = "{}"
    non_finite = _planted(3)
    non_finite.loc[4, "footfall"] = np.inf  # not exact: handed to rescore itself
    return [
        ("all criteria", full),
        ("stale scores", stale),
        ("two criteria", _planted(4)[["public_ownership", "walk_school_m", "geometry"]]),
        ("retail centre only", _planted(5)[["dist_retail_centre_m", "geometry"]]),
        ("one unit", _planted(6).iloc[:1]),
        ("no unit", _planted(7).iloc[:0]),
        ("non finite", non_finite),
        ("plain frame", pd.DataFrame(_planted(8).drop(columns="geometry"))),
    ]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # rescore's arithmetic on an infinity
@pytest.mark.parametrize(("label", "frame"), _planted_cases(), ids=lambda v: str(v)[:20])
def test_reranker_equals_rescore_on_planted_frames(label: str, frame: pd.DataFrame) -> None:
    """Every column, dtype and value as rescore, or the same ConfigError."""
    fast = Reranker(frame)
    assert fast.exact == (label != "non finite")
    for k, body in enumerate(_bodies(seed=11, n=16)):
        weights, preset = body.get("weights"), body.get("preset")
        method = body.get("method", "weighted_sum")
        try:
            expected = rescore(frame, weights, method=method, preset=preset)
        except ConfigError as exc:
            with pytest.raises(ConfigError) as raised:
                fast.frame(weights, method=method, preset=preset)
            assert str(raised.value) == str(exc)
            continue
        pd.testing.assert_frame_equal(
            fast.frame(weights, method=method, preset=preset), expected, check_exact=True
        )
        if k == 0 and label == "all criteria":  # ties are there, and shared
            assert expected["rank"].duplicated().any()


def test_numpy_ranks_are_pandas_min_ranks() -> None:
    from geodistrict.priority.mcda import _ranks
    from geodistrict.priority.rerank import _min_ranks

    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 300):
        for scores in (rng.random(n), rng.choice([0.0, 0.25, 1 / 3, 0.5], n), np.zeros(n)):
            expected = _ranks(scores)
            assert _min_ranks(scores).tolist() == expected.tolist()
            assert _min_ranks(scores).dtype == expected.dtype


def test_reranker_keeps_a_missing_preset_rank_missing() -> None:
    frame = _planted(4)[["public_ownership", "walk_school_m", "geometry"]]
    ranked = Reranker(frame).frame(preset="rigenerazione")
    assert ranked["rank_consolidamento"].isna().all()  # none of its criteria is here
    assert ranked["rank_bando"].notna().all()


def _copy(folder: Path, tmp_path: Path) -> Path:
    shutil.copytree(folder.parent, tmp_path / "out", symlinks=True)
    return tmp_path / "out" / folder.name


def test_a_new_run_is_seen_by_the_next_request(sample_output: Path, tmp_path: Path) -> None:
    """A new version of the outputs is read by the next request, without a restart."""
    import geodistrict as gd

    folder = _copy(sample_output, tmp_path)
    process = RankVacantUnitsProcessor({"name": "rank", "districts": {"d": str(folder)}})
    gaps = CategoryGapsProcessor({"name": "gaps", "districts": {"d": str(folder)}})
    west, south, east, north = gd.read_manifest(folder)["layers"]["study_area"]["bbox_crs84"]
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    polygon = {"district": "d", "polygon": {"type": "Polygon", "coordinates": [ring]}}
    body = {"district": "d", "weights": {"footfall": 4}, "top": 10}
    before = process.execute(body)[1]
    gaps_before = gaps.execute(polygon)[1]
    assert before == _reference(folder, body)

    # A new run: the vacant units' footfall reversed, half the commercial units gone.
    layer = read_ranked(folder)
    layer["footfall"] = layer["footfall"].max() - layer["footfall"]
    version = gd.read_manifest(folder)
    units = gpd.read_file(folder / version["gpkg"], layer="commercial_units")
    gd.write_layers({"vacant_units": layer, "commercial_units": units.iloc[::2]},
                    folder.parent, district=folder.name)  # fmt: skip

    after = process.execute(body)[1]
    assert after == _reference(folder, body)
    assert after != before
    gaps_after = gaps.execute(polygon)[1]
    assert gaps_after != gaps_before
    processes.clear_memo()  # what a freshly started server answers
    assert gaps.execute(polygon)[1] == gaps_after
    assert process.execute(body)[1] == after


@pytest.mark.parametrize("stored", ["own weights", "no preset"])
def test_rank_process_merges_over_the_run_weights(
    stored: str, sample_output: Path, tmp_path: Path
) -> None:
    """A run with its own weights (or older than the presets) answers as the reference."""
    import geodistrict as gd

    folder = _copy(sample_output, tmp_path)
    layer = read_ranked(folder)
    if stored == "own weights":
        own = dict(PRESETS["consolidamento"].weights, footfall=0.0, demand_gap=6.0)
        layer["preset"], layer["weights"] = "consolidamento", json.dumps(own)
    else:
        layer = layer.drop(columns=["preset", "weights"])
    gd.write_layers({"vacant_units": layer}, folder.parent, district=folder.name)
    process = RankVacantUnitsProcessor({"name": "rank", "districts": {"d": str(folder)}})
    answers = set()
    for body in [{"weights": {"suitability": 3}}, *_bodies(seed=5, n=8)]:
        answer = json.dumps(process.execute({"district": "d", **body})[1])
        assert answer == json.dumps(_reference(folder, body)), body
        answers.add(answer)
    if stored == "own weights":  # the stored weights count: not the preset's own ranking
        plain = _reference(sample_output, {"preset": "consolidamento"})
        ours = process.execute({"district": "d", "preset": "consolidamento"})[1]
        assert [f["properties"]["unit_id"] for f in ours["features"]] != [
            f["properties"]["unit_id"] for f in plain["features"]
        ]


def test_isochrone_graphs_are_keyed_by_the_run(
    sample_output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The graphs the isochrone process keeps are those of the current run."""
    import geodistrict as gd

    folder = _copy(sample_output, tmp_path)
    keys: list[tuple[Any, ...]] = []

    class StopError(Exception):
        pass

    def graphs(config_file: str, run: tuple[Any, ...] = ()) -> Any:
        keys.append(run)
        raise StopError

    monkeypatch.setattr(processes, "_graphs", graphs)
    process = IsochroneProcessor({"name": "iso", "districts": {"d": str(folder)}})
    west, south, east, north = gd.read_manifest(folder)["layers"]["study_area"]["bbox_crs84"]
    body = {"district": "d", "point": [(west + east) / 2, (south + north) / 2]}
    for _ in range(2):
        with pytest.raises(StopError):
            process.execute(body)
    gd.write_layers({"vacant_units": read_ranked(folder)}, folder.parent, district=folder.name)
    with pytest.raises(StopError):
        process.execute(body)
    assert keys[0] == keys[1] != keys[2]


def test_memo_is_bounded() -> None:
    processes.clear_memo()
    built = []
    for k in range(processes.MEMO_ENTRIES + 5):
        processes._memo(("test", k), lambda k=k: built.append(k) or k)
    assert len(processes._MEMO) == processes.MEMO_ENTRIES
    assert processes._memo(("test", processes.MEMO_ENTRIES + 4), lambda: -1) != -1  # kept
    assert processes._memo(("test", 0), lambda: -1) == -1  # the oldest went first
    processes.clear_memo()
    assert not processes._MEMO
