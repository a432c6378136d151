"""Vacant-unit inventory, criteria on a synthetic district, the pipeline step and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from builders import CRS, square_grid
from builders import points as _points
from shapely.geometry import LineString, box

from geodistrict.errors import MissingColumnError, SurveyError
from geodistrict.pipeline.steps.vacancy import vacancy_layer
from geodistrict.priority import compute_criteria, rescore, sensitivity
from geodistrict.sources.surveys import VACANT_UNITS, read_survey
from geodistrict.taxonomy import classify_units
from geodistrict.vacancy import (
    check_units,
    vacancy_by_centre,
    vacancy_by_street,
    vacant_units,
)

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 1, 1)

# ----------------------------------------------------------------- a synthetic district


@pytest.fixture(scope="module")
def district() -> dict[str, object]:
    """Anchors, stops and shops around the centre; three vacant units A (centre), B, C."""
    cats = ["food", "fashion", "bars_restaurants", "personal_services"]
    shops = [{"category": cats[k % 4], "x": 600 + dx, "y": 600 + dy}
             for k, (dx, dy) in enumerate([(10, 20), (-30, 40), (50, -10), (-20, -60), (80, 30),
                                           (-70, 10), (30, 90), (110, -40)])]  # fmt: skip
    pois = _points([
        {"shop": "supermarket", "amenity": None, "vacant": False, "x": 640, "y": 600},
        {"shop": None, "amenity": "school", "vacant": False, "x": 600, "y": 660},
        {"shop": None, "amenity": "townhall", "vacant": False, "x": 560, "y": 600},
    ])  # fmt: skip
    stops = _points([
        {"kind": "station", "x": 620, "y": 620},
        {"kind": "stop", "x": 590, "y": 580},
        {"kind": "stop", "x": 700, "y": 610},
    ])  # fmt: skip
    units = _points([
        # A: in the centre, ground floor, good, a suitable size, vacant for years.
        {"unit_id": "A", "floor_area_m2": 120.0, "ground_floor": True, "condition": "good",
         "vacancy_months": 60.0, "x": 605, "y": 605},
        # B: at the edge of the district, upper floor, poor, tiny, recently vacant.
        {"unit_id": "B", "floor_area_m2": 15.0, "ground_floor": False, "condition": "poor",
         "vacancy_months": 2.0, "x": 1190, "y": 1195},
        # C: in between.
        {"unit_id": "C", "floor_area_m2": 60.0, "ground_floor": True, "condition": "fair",
         "vacancy_months": 20.0, "x": 905, "y": 910},
    ])  # fmt: skip
    units["ground_floor"] = units["ground_floor"].astype("boolean")
    # A walking grid of 13 x 13 nodes, 100 m apart, centre at (600, 600).
    return {"graph": square_grid(13, 100.0), "pois": pois, "stops": stops, "units": units,
            "shops": _points(shops)}  # fmt: skip


def _criteria(d: dict[str, object], **extra: object) -> gpd.GeoDataFrame:
    return compute_criteria(
        d["units"],  # type: ignore[arg-type]
        walk_graph=d["graph"],
        pois=d["pois"],  # type: ignore[arg-type]
        transit_stops=d["stops"],  # type: ignore[arg-type]
        commercial_units=d["shops"],  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


# Every criterion on which A is the best by construction (the others trade off).
A_BEST = {"footfall": 1, "walk_supermarket_m": 1, "walk_station_m": 1, "walk_school_m": 1,
          "walk_townhall_m": 1, "commercial_density": 1, "transit_access": 1, "suitability": 1,
          "vacancy_months": 1, "dist_retail_centre_m": 1, "low_stress_bike_m": 1,
          "regeneration_need": 0, "demand_gap": 0}  # fmt: skip


def test_best_unit_known_by_construction(district: dict[str, object]) -> None:
    centre = gpd.GeoDataFrame({"centre_id": [1], "n_units": [8]},
                              geometry=[box(500, 500, 700, 700)], crs=CRS)  # fmt: skip
    bikes = gpd.GeoDataFrame({"lts": [1, 4]}, geometry=[LineString([(600, 0), (600, 1200)]),
                             LineString([(1200, 0), (1200, 1200)])], crs=CRS)  # fmt: skip
    crit = _criteria(district, retail_centres=centre, bike_network=bikes).set_index("unit_id")
    # The raw values are what the layout says.
    assert crit.loc["A", "dist_retail_centre_m"] == 0.0
    assert crit.loc["A", "walk_station_m"] < crit.loc["C", "walk_station_m"]
    assert crit.loc["C", "walk_station_m"] < crit.loc["B", "walk_station_m"]
    assert crit.loc["A", "commercial_density"] == 8
    assert crit.loc["B", "commercial_density"] == 0
    assert crit.loc["A", "transit_access"] == 3
    assert crit.loc["A", "low_stress_bike_m"] == pytest.approx(5.0)
    assert 1200 < crit.loc["B", "walk_station_m"] < 2000  # 1200 m of grid plus the offsets
    # A_BEST reads footfall and density as benefits: the consolidamento directions.
    for method in ("weighted_sum", "topsis"):
        ranked = rescore(crit, A_BEST, method=method, preset="consolidamento")  # type: ignore[arg-type]
        assert ranked["rank"].to_dict() == {"A": 1, "C": 2, "B": 3}
        sens = sensitivity(crit, A_BEST, preset="consolidamento", method=method, spread=1.0,
                           runs=200, top_k=1)  # type: ignore[arg-type]  # fmt: skip
        assert sens.loc["A", "p_top_k"] == 1.0
    # Where nothing is sold, the demand gap is largest: B misses every category.
    gap_only = {k: 0 for k in A_BEST} | {"demand_gap": 1}
    assert rescore(crit, gap_only)["rank"]["B"] == 1
    # 11 categories: the catch-all other_retail is never a missing category (issue 12).
    assert crit.loc["B", "demand_gap"] == 11 and crit.loc["A", "demand_gap"] == 7


def test_recommended_uses_fit_the_floor_area(district: dict[str, object]) -> None:
    crit = _criteria(district).set_index("unit_id")
    a_uses = crit.loc["A", "recommended_uses"].split(";")
    assert 1 <= len(a_uses) <= 3
    assert set(a_uses) <= set(crit.loc["A", "missing_categories"].split(";"))
    assert not {"food", "fashion", "bars_restaurants", "personal_services"} & set(a_uses)
    # B has 15 m2: too small for a supermarket, a bar or a pharmacy (CATEGORY_FLOOR_AREA_M2).
    b_uses = crit.loc["B", "recommended_uses"].split(";")
    assert not {"food", "bars_restaurants", "health_pharmacy", "automotive"} & set(b_uses)
    assert crit.loc["A", "recommended_uses_en"]


def test_gaps_layer_puts_district_missing_categories_first(district: dict[str, object]) -> None:
    gaps = pd.DataFrame({"scope": ["district"], "category": ["electronics"],
                         "status": ["missing"]})  # fmt: skip
    crit = _criteria(district, category_gaps=gaps).set_index("unit_id")
    # With a status column, uses come only from its missing / under rows (issue 12).
    assert crit.loc["A", "recommended_uses"] == "electronics"


def test_criteria_omitted_without_commerce_and_cycling(district: dict[str, object]) -> None:
    crit = compute_criteria(
        district["units"],  # type: ignore[arg-type]
        walk_graph=district["graph"],
        pois=district["pois"].iloc[:0],  # type: ignore[attr-defined]
        transit_stops=district["stops"],  # type: ignore[arg-type]
    )
    for name in ("dist_retail_centre_m", "low_stress_bike_m", "commercial_density",
                 "demand_gap", "regeneration_need", "walk_supermarket_m"):  # fmt: skip
        assert name not in crit
        assert name in crit["criteria_omitted"].iloc[0]
    assert "footfall" in crit and "walk_station_m" in crit
    ranked = rescore(crit)
    assert sorted(ranked["rank"]) == [1, 2, 3]


def test_footfall_is_highest_in_the_middle(district: dict[str, object]) -> None:
    crit = _criteria(district).set_index("unit_id")
    assert crit.loc["A", "footfall"] > crit.loc["C", "footfall"] > crit.loc["B", "footfall"]


# ----------------------------------------------------------------- inventory


def _pois(rows: list[dict]) -> gpd.GeoDataFrame:  # type: ignore[type-arg]
    for row in rows:
        row.setdefault("tags", json.dumps(row.pop("t", {})))
        row.setdefault("osm_type", "node")
    return _points(rows)


def test_survey_and_osm_merged_one_to_one() -> None:
    pois = _pois([
        {"osm_id": 1, "vacant": True, "x": 0, "y": 0,
         "t": {"disused:shop": "bakery", "addr:street": "Via Roma", "addr:housenumber": "3"}},
        {"osm_id": 2, "vacant": True, "x": 500, "y": 0, "t": {"shop": "vacant", "level": "0"}},
        {"osm_id": 3, "vacant": False, "x": 100, "y": 0, "t": {"shop": "bakery"}},
    ])  # fmt: skip
    survey = _points([
        {"unit_id": "S1", "floor_area_m2": 50.0, "address": None, "source_row": 2, "x": 8, "y": 0,
         "vacant_since": pd.Timestamp("2024-01-01")},
        {"unit_id": "S2", "floor_area_m2": 70.0, "address": "Via Po 1", "source_row": 3,
         "x": -4, "y": 10, "vacant_since": pd.Timestamp("2025-01-01")},  # also near OSM 1
        {"unit_id": "S3", "floor_area_m2": 90.0, "address": "Via Po 9", "source_row": 4,
         "x": 530, "y": 0, "vacant_since": None},  # 30 m from OSM 2: not the same unit
    ])  # fmt: skip
    units = vacant_units(pois, survey, merge_distance_m=15, as_of=date(2025, 1, 1))
    by_id = units.set_index("unit_id")
    assert len(units) == 4  # S1+OSM 1, S2, S3, OSM 2
    assert by_id.loc["S1", "source"] == "both"
    assert by_id.loc["S1", "osm_id"] == 1
    assert by_id.loc["S1", "merge_distance_m"] == pytest.approx(8.0)
    assert by_id.loc["S1", "address"] == "Via Roma 3"  # filled from OSM
    assert by_id.loc["S1", "last_use"] == "bakery (disused:shop)"
    assert by_id.loc["S2", "source"] == "survey"  # OSM 1 was taken by the nearer S1
    assert by_id.loc["S3", "source"] == "survey"
    assert by_id.loc["osm-node-2", "source"] == "osm"
    assert bool(by_id.loc["osm-node-2", "ground_floor"]) is True  # level=0
    assert by_id.loc["S1", "vacancy_months"] == pytest.approx(12.0)
    assert by_id.loc["S2", "vacancy_months"] == 0.0
    assert pd.isna(by_id.loc["S3", "vacancy_months"])
    assert by_id.loc["S1", "survey_row"] == 2
    assert units.crs == pois.crs


def test_merge_distance_zero_keeps_all() -> None:
    pois = _pois([{"osm_id": 1, "vacant": True, "x": 0, "y": 0}])
    survey = _points([{"unit_id": "S1", "x": 5, "y": 0}])
    assert len(vacant_units(pois, survey, merge_distance_m=0)) == 2


def test_bad_survey_frame_rows_reported_with_row_and_field() -> None:
    pois = _pois([{"osm_id": 1, "vacant": True, "x": 0, "y": 0}])
    future = pd.Timestamp(date.today() + timedelta(days=30))
    survey = _points([
        {"unit_id": "S1", "floor_area_m2": -20.0, "vacant_since": None, "x": 10, "y": 10},
        {"unit_id": "S2", "floor_area_m2": 40.0, "vacant_since": future, "x": 20, "y": 20},
        {"unit_id": "S3", "floor_area_m2": 40.0, "vacant_since": None, "x": 5000, "y": 20},
    ])  # fmt: skip
    with pytest.raises(SurveyError) as info:
        vacant_units(pois, survey, area=box(-100, -100, 100, 100))
    where = {(p.row, p.column) for p in info.value.problems}
    assert where == {(2, "floor_area_m2"), (3, "vacant_since"), (4, "geometry")}
    assert "(value -20.0)" in str(info.value)
    assert check_units(survey.iloc[:0]) == []


def test_bad_survey_file_rows_reported_with_row_and_field(tmp_path: Path) -> None:
    future = (date.today() + timedelta(days=40)).isoformat()
    path = tmp_path / "sfitti.csv"
    path.write_text(
        "unit_id,address,lon,lat,floor_area_m2,vacant_since\n"
        "V1,Via Roma 1,24.940,60.170,-12,2023-01-01\n"
        f"V2,Via Roma 2,24.941,60.170,50,{future}\n"
        "V3,Via Roma 3,9.190,45.460,50,2023-01-01\n",
        encoding="utf-8",
    )
    with pytest.raises(SurveyError) as info:
        read_survey(path, VACANT_UNITS, area_lonlat=box(24.93, 60.16, 24.96, 60.18))
    where = {(p.row, p.column) for p in info.value.problems}
    assert (2, "floor_area_m2") in where
    assert (3, "vacant_since") in where
    assert (4, "lon/lat") in where
    assert "outside the study area" in str(info.value)


def test_vacancy_rates_per_street_and_centre() -> None:
    streets = gpd.GeoDataFrame(
        {"name": ["Via Roma", "Via Po", None]},
        geometry=[LineString([(0, 0), (200, 0)]), LineString([(0, 100), (200, 100)]),
                  LineString([(0, 300), (200, 300)])], crs=CRS,
    )  # fmt: skip
    vacant = _points([{"x": 10, "y": 5}, {"x": 20, "y": 95}, {"x": 30, "y": 96}])
    shops = _points([{"x": 50, "y": 5}, {"x": 60, "y": 5}, {"x": 70, "y": 5},
                     {"x": 80, "y": 95}, {"x": 90, "y": 298}])  # fmt: skip
    table, street = vacancy_by_street(vacant, shops, streets)
    assert table.loc["Via Roma", "vacancy_rate"] == pytest.approx(1 / 4)
    assert table.loc["Via Po", "vacancy_rate"] == pytest.approx(2 / 3)
    assert street.tolist() == ["Via Roma", "Via Po", "Via Po"]
    centres = gpd.GeoDataFrame({"centre_id": [7]}, geometry=[box(0, 0, 100, 50)], crs=CRS)
    rates = vacancy_by_centre(vacant, centres, commercial_units=shops)
    assert rates.loc[7, ["n_units", "n_vacant"]].tolist() == [3, 1]
    assert rates.loc[7, "vacancy_rate"] == pytest.approx(0.25)
    with pytest.raises(MissingColumnError, match="'n_units'"):
        vacancy_by_centre(vacant, centres)
    with pytest.raises(MissingColumnError, match="'name'"):
        vacancy_by_street(vacant, shops, streets[["geometry"]])
    with pytest.raises(MissingColumnError, match="'unit_id'"):
        vacant_units(_pois([{"osm_id": 1, "vacant": True, "x": 0, "y": 0}]), vacant)


# ----------------------------------------------------------------- sample, pipeline, CLI


@pytest.fixture(scope="module")
def sample_layer(sample_config, sample_layers) -> gpd.GeoDataFrame:  # type: ignore[no-untyped-def]
    survey = read_survey(sample_config.surveys.vacant_units, VACANT_UNITS, crs=sample_layers.crs)
    # Only the active units of the commerce step (the pipeline gives them all).
    shops = {"commercial_units": classify_units(sample_layers.pois)}
    return vacancy_layer(sample_layers, sample_config.vacancy,
                         surveys={"vacant_units": survey}, layers=shops, as_of=AS_OF)  # fmt: skip


def test_sample_layer_carries_everything(sample_layer: gpd.GeoDataFrame) -> None:
    layer = sample_layer
    assert len(layer) == 27
    assert layer["rank"].tolist() == sorted(layer["rank"])
    for col in ("footfall", "suitability", "demand_gap", "score", "rank", "p_top_k", "rank_lo",
                "rank_hi", "explanation", "recommended_uses", "vacancy_months",
                "street_vacancy_rate", "criteria_omitted"):  # fmt: skip
        assert col in layer, col
    assert layer["explanation"].str.len().gt(10).all()
    assert ((layer["rank_lo"] <= layer["rank"]) | (layer["rank_hi"] >= layer["rank"])).all()
    assert layer["p_top_k"].between(0, 1).all()
    # No centres / cycling layers given: the centre and bike criteria are omitted, said so.
    assert "dist_retail_centre_m" not in layer
    assert "no retail_centres layer" in layer["criteria_omitted"].iloc[0]
    assert "low_stress_bike_m" in layer["criteria_omitted"].iloc[0]


def test_sample_layer_uses_commerce_layers(sample_layers, sample_config) -> None:  # type: ignore[no-untyped-def]
    from geodistrict.commerce import retail_centres

    units = classify_units(sample_layers.pois)
    centres, _ = retail_centres(units, min_units=10)
    survey = read_survey(sample_config.surveys.vacant_units, VACANT_UNITS, crs=sample_layers.crs)
    layer = vacancy_layer(
        sample_layers,
        sample_config.vacancy,
        surveys={"vacant_units": survey},
        layers={"commercial_units": units, "retail_centres": centres},
    )
    assert "dist_retail_centre_m" in layer
    assert layer["centre_id"].notna().any()
    assert layer.loc[layer["centre_id"].notna(), "centre_vacancy_rate"].between(0, 1).all()


def test_pipeline_step_and_cli_rank(sample_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from geodistrict import run

    result = run(sample_config, out=tmp_path, only=["vacancy"])
    assert result.written["vacant_units"] == 27
    entry = result.manifest["layers"]["vacant_units"]
    assert entry["title_it"].startswith("Locali sfitti")
    folder = result.folder

    out_csv = tmp_path / "reranked.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", "rank", str(folder), "--weight",
         "demand_gap=10", "--weight", "footfall=0", "--to", str(out_csv)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "© OpenStreetMap contributors" in proc.stdout
    reranked = pd.read_csv(out_csv)
    weights = json.loads(reranked["weights"].iloc[0])
    assert weights["demand_gap"] == 10 and weights["footfall"] == 0
    # The same as re-scoring in Python from the stored criteria.
    from geodistrict.priority import read_ranked

    stored = read_ranked(folder)
    again = rescore(stored, weights).sort_values("rank", kind="stable")
    assert reranked["unit_id"].tolist() == again["unit_id"].tolist()
    top = reranked.iloc[0]
    assert top["unit_id"] in proc.stdout.splitlines()[2]

    # Another preset: its weights (not the run's), --weight on top; Italian words too.
    proc = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", "rank", str(folder), "--preset",
         "consolidamento", "--weight", "vacancy_months=3", "--to", str(out_csv)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "re-ranked (weighted_sum, preset consolidamento)" in proc.stdout
    reranked = pd.read_csv(out_csv)
    assert set(reranked["preset"]) == {"consolidamento"}
    weights = json.loads(reranked["weights"].iloc[0])
    assert weights["vacancy_months"] == 3 and weights["footfall"] == 2.5
    assert reranked["explanation_it"].str.len().gt(10).all()
    assert (reranked["rank"] == reranked["rank_consolidamento"]).all()
    # The OGC API process gives the same answer for the same preset and weights.
    from geodistrict.publish.processes import ProcessInputError, RankVacantUnitsProcessor

    process = RankVacantUnitsProcessor({"name": "rank", "districts": {"sample": str(folder)}})
    _, body = process.execute({"preset": "consolidamento", "weights": {"vacancy_months": 3},
                               "top": 3})  # fmt: skip
    assert [f["properties"]["unit_id"] for f in body["features"]] == reranked["unit_id"][
        :3
    ].tolist()
    with pytest.raises(ProcessInputError, match="unknown preset 'rilancio'"):
        process.execute({"preset": "rilancio"})

    bad = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", "rank", str(folder), "--weight", "footfall=-1"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "weight 'footfall' must not be negative (value -1.0)" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", "rank", str(tmp_path / "nowhere")],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert missing.returncode == 2 and "no geodistrict results" in missing.stderr


def test_rescore_is_stable_on_the_stored_layer(sample_layer: gpd.GeoDataFrame) -> None:
    # Re-ranking with the weights the layer was made with reproduces its ranks.
    weights = json.loads(sample_layer["weights"].iloc[0])
    again = rescore(sample_layer, weights)
    assert again["rank"].tolist() == sample_layer["rank"].tolist()
    assert np.allclose(again["score"], sample_layer["score"])
