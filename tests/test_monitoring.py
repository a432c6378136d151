"""Survey waves and change between two runs (issue 16, part 6): geodistrict.monitoring."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

import geodistrict as gd
from geodistrict.errors import GeodistrictError, SurveyError
from geodistrict.monitoring import (
    CHANGES,
    WaveMismatchError,
    dated_survey,
    dated_surveys,
    unit_changes,
    vacancy_rate_change,
    wave_date,
    write_comparison,
)
from geodistrict.vacancy import vacant_units

ROOT = Path(__file__).resolve().parent.parent
PIANA = ROOT / "data" / "piana_rotaliana"
SAMPLE = ROOT / "geodistrict" / "data" / "sample"
CRS = 32632


def _points(**named: tuple[float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"unit_id": list(named)}, geometry=[Point(*xy) for xy in named.values()], crs=CRS
    )


# --- units between two waves ------------------------------------------------------------------


def test_a_unit_vacant_in_wave_1_and_let_in_wave_2_is_reactivated() -> None:
    wave1 = _points(A=(0, 0), B=(100, 0), C=(200, 0))
    wave2 = _points(B=(100, 0), D=(300, 0))
    shops1 = gpd.GeoDataFrame(
        {"osm_type": ["node", "node"], "osm_id": [1, 2]},
        geometry=[Point(500, 0), Point(600, 0)],
        crs=CRS,
    )
    shops2 = gpd.GeoDataFrame(
        {"osm_type": ["node", "node"], "osm_id": [2, 3]},
        geometry=[Point(600, 0), Point(700, 0)],
        crs=CRS,
    )
    changes = unit_changes(shops1, wave1, shops2, wave2)
    by_unit = dict(zip(changes["unit_id"], changes["change"], strict=True))
    assert by_unit["A"] == by_unit["C"] == "reactivated"
    assert by_unit["B"] == "still_vacant"
    assert by_unit["D"] == "newly_vacant"
    assert by_unit["osm/node/3"] == "opened" and by_unit["osm/node/1"] == "closed"
    assert "osm/node/2" not in by_unit  # active in both waves: no change
    assert list(dict.fromkeys(changes["change"])) == [c for c in CHANGES if c in by_unit.values()]


def test_units_without_a_common_id_match_by_position() -> None:
    wave1 = _points(OLD=(0, 0), FAR=(100, 0))
    wave2 = _points(NEW=(10, 0))  # renumbered by the surveyor, 10 m away: the same unit
    changes = unit_changes(None, wave1, None, wave2, match_distance_m=15)
    assert changes.set_index("unit_id")["change"].to_dict() == {
        "NEW": "still_vacant",
        "FAR": "reactivated",
    }
    strict = unit_changes(None, wave1, None, wave2, match_distance_m=5)
    assert set(strict["change"]) == {"reactivated", "newly_vacant"}


def test_vacancy_rate_change_by_centre_is_the_hand_count() -> None:
    centres = gpd.GeoDataFrame(
        {"centre_id": [1, 2], "name": ["Centro", "Stazione"], "n_units": [99, 99]},
        geometry=[box(0, 0, 100, 100), box(200, 0, 300, 100)],
        crs=CRS,
    )

    def pts(*xs: float) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(geometry=[Point(x, 50) for x in xs], crs=CRS)

    # Centro: 3 active + 1 vacant -> 4 active + 0 vacant; Stazione: 2 + 2 -> 2 + 1.
    table = vacancy_rate_change(
        centres,
        pts(10, 20, 30, 210, 220),
        pts(40, 230, 240),
        pts(10, 20, 30, 40, 210, 220),
        pts(230),
    ).set_index("centre_id")
    assert table.loc[1, "vacancy_rate_before"] == pytest.approx(1 / 4)
    assert table.loc[1, "vacancy_rate_after"] == 0
    assert table.loc[2, "vacancy_rate_before"] == pytest.approx(2 / 4)
    assert table.loc[2, "vacancy_rate_after"] == pytest.approx(1 / 3)
    assert table.loc[2, "vacancy_rate_change"] == pytest.approx(1 / 3 - 1 / 2)
    assert table.loc[2, "n_units_before"] == 2 and table.loc[2, "n_vacant_after"] == 1


# --- survey dates ----------------------------------------------------------------------------


def test_wave_names_a_month_or_a_day() -> None:
    assert wave_date("2025-05") == date(2025, 5, 1)
    assert wave_date("2025-05-20") == date(2025, 5, 20)
    with pytest.raises(GeodistrictError, match="2025-13"):
        wave_date("2025-13")


def test_vacancy_months_count_to_the_survey_date_not_to_the_run(sample_layers) -> None:  # type: ignore[no-untyped-def]
    survey = gpd.GeoDataFrame(
        {
            "unit_id": ["A", "B"],
            "vacant_since": pd.to_datetime(["2024-01-01", "2024-01-01"]),
            "Data rilevazione": ["01/01/2025", None],
        },
        geometry=[Point(24.944, 60.168), Point(24.946, 60.170)],
        crs=4326,
    )
    found, as_of = dated_surveys({"vacant_units": survey}, wave="2024-07")
    assert as_of == date(2024, 7, 1)
    units = vacant_units(sample_layers.pois, found["vacant_units"], as_of=as_of)
    months = units.set_index("unit_id")["vacancy_months"]
    # A: its own date, 366 days; B: the wave's date, 182 days (days / 30.4375).
    assert months["A"] == round(366 / (365.25 / 12), 1)
    assert months["B"] == round(182 / (365.25 / 12), 1)
    dates = units.set_index("unit_id")["survey_date"]
    assert dates["A"] == pd.Timestamp("2025-01-01") and dates["B"] == pd.Timestamp("2024-07-01")
    osm = units[units["source"] == "osm"]
    assert len(osm) and (osm["survey_date"] == pd.Timestamp("2024-07-01")).all()


def test_bad_survey_dates_are_reported_by_row() -> None:
    rows = pd.DataFrame(
        {
            "unit_id": ["A", "B", "C"],
            "vacant_since": pd.to_datetime(["2020-01-01", "2025-06-01", "2020-01-01"]),
            "survey_date": ["2999-01-01", "2025-05-01", "ieri"],
            "source_row": [2, 3, 4],  # as read_survey numbers them
        }
    )
    with pytest.raises(SurveyError) as err:
        dated_survey(rows, file="locali.csv")
    text = str(err.value)
    assert "row 2" in text and "future" in text and "row 4" in text and "'ieri'" in text
    with pytest.raises(SurveyError, match=r"row 3.*after the survey date 2025-05-01"):
        dated_survey(rows.iloc[[1]])


def test_second_waves_of_the_samples_read_and_dated() -> None:
    for wave1, wave2 in (
        (SAMPLE / "vacant_units.csv", SAMPLE / "vacant_units_wave2.csv"),
        (PIANA / "locali_sfitti.csv", PIANA / "locali_sfitti_2026.csv"),
    ):
        first = gd.read_survey(wave1, gd.VACANT_UNITS)
        second = dated_survey(gd.read_survey(wave2, gd.VACANT_UNITS), file=str(wave2))
        assert second["survey_date"].between("2026-10-01", "2026-10-31").all()
        kept = set(first["unit_id"]) & set(second["unit_id"])
        assert 0 < len(kept) < len(first)  # some let, some still vacant
        assert set(second["unit_id"]) - kept  # and new ones


# --- comparing two runs (the Italian sample: wave 1 and wave 2) ------------------------------


def _wave2_config():  # type: ignore[no-untyped-def]
    config = gd.load_config(ROOT / "config" / "piana_rotaliana.yml")
    surveys = config.surveys.model_copy(
        update={"vacant_units": PIANA / "locali_sfitti_2026.csv", "wave": "2026-10"}
    )
    return config.model_copy(update={"surveys": surveys})


@pytest.mark.slow
def test_compare_two_waves_of_the_italian_sample(italian_output: Path, tmp_path: Path) -> None:
    after = gd.run(_wave2_config(), out=tmp_path / "wave2").folder
    to = tmp_path / "confronto"
    result = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", "compare", str(italian_output), str(after),
         "--to", str(to)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    names = {p.name for p in to.iterdir()}
    assert {"confronto.gpkg", "variazioni_locali.csv", "sfitto_per_centro.csv",
            "sfitto_per_via.csv", "indicatori.csv", "sintesi.csv", "sintesi.json",
            "indicatore_district_vacancy_rate.png"} <= names  # fmt: skip
    summary = json.loads((to / "sintesi.json").read_text(encoding="utf-8"))
    # Ground truth: the ids of the two survey files.
    with (PIANA / "locali_sfitti.csv").open(encoding="cp1252") as fh:
        first = {r["Codice unità"] for r in csv.DictReader(fh, delimiter=";")}
    with (PIANA / "locali_sfitti_2026.csv").open(encoding="cp1252") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    second = {r["Codice unità"] for r in rows}
    assert summary["units"]["reactivated"] == len(first - second) == 5
    assert summary["units"]["still_vacant"] == len(first & second)
    assert summary["units"]["newly_vacant"] == len(second - first)
    latest = max(pd.to_datetime([r["Data rilevazione"] for r in rows], dayfirst=True))
    assert summary["after"]["date"] == latest.date().isoformat()
    assert summary["after"]["date_source"] == "vacant_units.survey_date"
    units = gpd.read_file(to / "confronto.gpkg", layer="unit_changes")
    assert set(units.loc[units["change"] == "reactivated", "unit_id"]) == first - second
    assert (
        units.loc[units["change"] == "reactivated", "change_label"] == "Riattivato (locato)"
    ).all()
    raw = (to / "variazioni_locali.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Excel opens it
    header = raw.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Variazione;") and "Mesi di sfitto" in header
    assert ",0" in (to / "sintesi.csv").read_text(encoding="utf-8-sig")  # decimal comma
    # The same wave twice, or another district: exit status 2 and nothing written.
    again = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", "compare", str(after), str(after),
         "--to", str(tmp_path / "none")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert again.returncode == 2 and "same run" in again.stderr
    assert not (tmp_path / "none").exists()


@pytest.mark.slow
def test_compare_refuses_two_districts(italian_output: Path, tmp_path: Path) -> None:
    other = tmp_path / "other" / "piana_rotaliana"
    shutil.copytree(italian_output, other, symlinks=True)
    version = (other / "current").resolve()
    manifest = json.loads((version / "layers.json").read_text(encoding="utf-8"))
    manifest["district"] = "altro_distretto"
    (version / "layers.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(WaveMismatchError, match=r"different districts.*altro_distretto"):
        write_comparison(italian_output, other, to=tmp_path / "out")
    assert not (tmp_path / "out").exists()
