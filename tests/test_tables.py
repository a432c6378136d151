"""The spreadsheets of a district: the XLSX workbook and the CSV files for Italian Excel.

Ground truth is the district's own layers: every number read back from the
workbook or the CSV (``sep=";", decimal=","``) equals the layer's value.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Point

from geodistrict import store
from geodistrict.deliverables import Outputs
from geodistrict.deliverables.tables import (
    TABLES,
    csv_bytes,
    priority_class,
    readable,
    sheet_titles,
    write_tables,
)
from geodistrict.i18n import label, use_language
from geodistrict.priority.definitions import CRITERIA

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / ".venv" / "bin" / "geodistrict"
BOM = b"\xef\xbb\xbf"


def _command() -> list[str]:
    """The installed command when there is one, else the module."""
    return [str(CLI)] if CLI.exists() else [sys.executable, "-m", "geodistrict.cli"]


def _copy(src: Path, tmp: Path) -> Path:
    target = tmp / src.name
    shutil.copytree(src, target, symlinks=True)
    return target


def _sheet(book: openpyxl.Workbook, name: str) -> pd.DataFrame:
    rows = list(book[name].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _headers(book: openpyxl.Workbook, name: str) -> list[str]:
    return [c.value for c in book[name][1]]


def _column(ws, header: str) -> list:  # type: ignore[no-untyped-def]
    """The cells (not values) under ``header``."""
    headers = [c.value for c in ws[1]]
    j = headers.index(header) + 1
    return [ws.cell(row=i, column=j) for i in range(2, ws.max_row + 1)]


# --------------------------------------------------------------------------- fast


def _ranked_layer(n: int = 7) -> gpd.GeoDataFrame:
    """A small ranked vacant_units layer with the columns a run writes."""
    weights = {name: float(i % 3) for i, name in enumerate(CRITERIA)}
    frame = gpd.GeoDataFrame(
        {
            "unit_id": [f"SF-{i:03d}" for i in range(n)],
            "address": [f"Via Roma {i}" for i in range(n)],
            "floor_area_m2": [40.5 + i for i in range(n)],
            "vacant_since": pd.to_datetime([f"20{10 + i}-05-01" for i in range(n)]),
            "footfall": [1234.5678 - i for i in range(n)],
            "demand_gap": list(range(n)),
            "score": [1 - i / 10 for i in range(n)],
            "rank": list(range(1, n + 1)),
            "preset": ["rigenerazione"] * n,
            "explanation": ["busy street"] * n,
            "explanation_it": ["strada frequentata"] * n,
            "missing_categories": ["food;fashion"] * n,
            "weights": [json.dumps(weights)] * n,
        },
        geometry=[Point(660000 + 10 * i, 5120000) for i in range(n)],
        crs=32632,
    )
    frame.loc[2, "address"] = '=HYPERLINK("http://x";"y")'
    frame.loc[3, "address"] = "@SUM(A1)"
    return frame


def _district(tmp_path: Path, layers: dict, language: str = "it") -> Path:
    with use_language(language):
        store.write_layers(layers, tmp_path, district="demo", title="Distretto di prova")
    return tmp_path / "demo"


def test_priority_classes_are_thirds_of_the_ranks() -> None:
    classes = priority_class(pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9]))
    assert classes.tolist() == ["high"] * 3 + ["medium"] * 3 + ["low"] * 3
    assert priority_class(pd.Series([1])).tolist() == ["high"]
    assert priority_class(pd.Series([2, 1])).tolist() == ["medium", "high"]


def test_readable_language_twins_labels_and_kinds() -> None:
    frame = pd.DataFrame(
        {
            "tier": ["town_centre"],
            "tier_it": ["Centro urbano"],
            "sector": ["C"],
            "sector_it": ["Manifattura"],
            "sector_en": ["Manufacturing"],
            "vacancy_rate": [0.125],
            "n_units": pd.array([3], dtype="Int64"),
            "status": ["missing"],
            "specialised": [False],
            "date": ["2024-11-30"],
            "fid": [1],
        }
    )
    table, kinds = readable(frame, language="it")
    assert table.columns.tolist() == [
        "tier_it", "sector", "sector_it", "vacancy_rate", "n_units", "status", "specialised",
        "date",
    ]  # fmt: skip
    row = table.iloc[0]
    assert row["tier_it"] == "Centro urbano" and row["sector_it"] == "Manifattura"
    assert row["status"] == label("missing", kind="status", language="it")
    assert row["specialised"] == "no"
    assert kinds["vacancy_rate"] == "share" and kinds["n_units"] == "int"
    assert kinds["date"] == "date" and row["date"] == pd.Timestamp("2024-11-30")
    english, _ = readable(frame, language="en")
    assert "sector_en" in english and english.iloc[0]["sector_en"] == "Manufacturing"
    assert "tier" in english and "tier_it" not in english


def test_italian_csv_cells() -> None:
    table = pd.DataFrame(
        {
            "x": [1234.5, -0.25, float("nan")],
            "n": [1, 2, 3],
            "when": pd.to_datetime(["2016-05-01", None, "2024-12-31"]),
            "t": ["=1+1", "a;b", "-5 m"],
        }
    )
    kinds = {"x": "float", "n": "int", "when": "date", "t": "text"}
    data = csv_bytes(table, kinds, language="it", headers={"x": "Valore"})
    assert data.startswith(BOM)
    lines = data[3:].decode("utf-8").split("\r\n")
    assert lines[1] == "1234,5;1;01/05/2016;'=1+1"
    assert lines[2] == '-0,25;2;;"a;b"'
    assert lines[3] == ";3;31/12/2024;'-5 m"
    back = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig")
    assert back["Valore"].iloc[:2].tolist() == [1234.5, -0.25] and math.isnan(back["Valore"][2])
    english = csv_bytes(table, kinds, language="en").decode("utf-8-sig").split("\r\n")
    assert english[1] == "1234.5,1,2016-05-01,'=1+1"


def test_tables_of_a_small_district_with_formulas(tmp_path: Path) -> None:
    layer = _ranked_layer()
    folder = _district(tmp_path, {"vacant_units": layer})
    written = write_tables(folder)
    book_path = folder / "consegna" / "tabelle_demo.xlsx"
    ranking_csv = folder / "consegna" / "csv" / "graduatoria_locali_sfitti.csv"
    assert written == [book_path, ranking_csv]
    book = openpyxl.load_workbook(book_path)
    title = sheet_titles("it")["vacant_units"]
    assert book.sheetnames == ["Informazioni", title]  # missing layers: no sheet
    info = {r[0]: r[1] for r in book["Informazioni"].iter_rows(values_only=True) if r[0]}
    assert info["Distretto"] == "Distretto di prova"
    assert info["Dati cartografici"] == "© OpenStreetMap contributors, ODbL"
    assert info[sheet_titles("it")["firms"]] == "nessun dato"
    assert "illustrativi" in info["Rilevazioni"]
    ws = book[title]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    addresses = [c.value for c in _column(ws, label("address", language="it"))]
    assert addresses[2] == '\'=HYPERLINK("http://x";"y")' and addresses[3] == "'@SUM(A1)"
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    # weights as columns, one per criterion, with the JSON's values
    weights = json.loads(layer["weights"].iloc[0])
    for name, value in weights.items():
        header = f"Peso: {label(name, kind='criterion', language='it')}"
        assert [c.value for c in _column(ws, header)] == [value] * len(layer)
    dates = _column(ws, label("vacant_since", language="it"))
    assert dates[0].value.date() == dt.date(2010, 5, 1) and dates[0].number_format == "DD/MM/YYYY"
    assert [c.value for c in _column(ws, "Classe di priorità")][:4] == ["Alta"] * 3 + ["Media"]
    text = ranking_csv.read_bytes()
    assert text.startswith(BOM) and b"'=HYPERLINK" in text and b';"=HYPERLINK' not in text
    back = pd.read_csv(ranking_csv, sep=";", decimal=",", encoding="utf-8-sig")
    assert back[label("footfall", language="it")].tolist() == pytest.approx(
        layer["footfall"].tolist(), abs=1e-6
    )


def test_an_empty_district_still_writes_a_workbook(tmp_path: Path) -> None:
    empty = _ranked_layer().iloc[0:0]
    folder = _district(tmp_path, {"vacant_units": empty})
    written = write_tables(folder)
    assert [p.name for p in written] == ["tabelle_demo.xlsx"]
    book = openpyxl.load_workbook(written[0])
    assert book.sheetnames == ["Informazioni"]
    info = {r[0]: r[1] for r in book["Informazioni"].iter_rows(values_only=True) if r[0]}
    assert all(info[title] == "nessun dato" for title in sheet_titles("it").values())
    # A later run with units writes the CSV; one without removes it again.
    folder = _district(tmp_path, {"vacant_units": _ranked_layer()})
    assert len(write_tables(folder)) == 2
    folder = _district(tmp_path, {"vacant_units": empty})
    write_tables(folder)
    assert list((folder / "consegna" / "csv").iterdir()) == []


def test_sheet_titles_fit_excel() -> None:
    for language in ("it", "en"):
        titles = sheet_titles(language)
        assert set(titles) == {t.layer for t in TABLES}
        assert all(len(t) <= 31 and not set(t) & set("[]:*?/\\") for t in titles.values())
        assert len(set(titles.values())) == len(titles)
    assert sheet_titles("it")["vacant_units"] != sheet_titles("en")["vacant_units"]


# --------------------------------------------------------------------------- the samples


@pytest.fixture(scope="module")
def italian_tables(italian_output: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _copy(italian_output, tmp_path_factory.mktemp("tables-it"))
    write_tables(folder)
    return folder


@pytest.mark.slow
def test_italian_workbook(italian_tables: Path) -> None:
    outputs = Outputs.open(italian_tables)
    book = openpyxl.load_workbook(italian_tables / "consegna" / "tabelle_piana_rotaliana.xlsx")
    titles = sheet_titles("it")
    expected = [titles[t.layer] for t in TABLES if outputs.has(t.layer)]
    assert book.sheetnames == ["Informazioni", *expected]
    assert len(expected) >= 9
    for t in TABLES:
        if not outputs.has(t.layer):
            continue
        ws = book[titles[t.layer]]
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref
        headers = _headers(book, titles[t.layer])
        machine = {c for c in outputs.layer(t.layer).columns if "_" in c}
        assert all(headers) and not machine & set(headers), (t.layer, machine & set(headers))
        assert ws.max_row > 1

    # The ranking: ordered by rank, numbers as numeric cells with their formats.
    vacant = outputs.layer("vacant_units").sort_values("rank")
    ws = book[titles["vacant_units"]]
    assert _headers(book, titles["vacant_units"])[:2] == [
        label("rank", language="it"), label("unit_id", language="it")
    ]  # fmt: skip
    assert [c.value for c in _column(ws, label("unit_id", language="it"))] == vacant[
        "unit_id"
    ].tolist()
    scores = _column(ws, label("score", language="it"))
    assert all(c.data_type == "n" and c.number_format == "0.0000" for c in scores)
    assert [c.value for c in scores] == pytest.approx(vacant["score"].tolist())
    area = _column(ws, label("floor_area_m2", language="it"))
    assert {c.number_format for c in area} == {"#,##0.00"}
    explanations = [c.value for c in _column(ws, label("explanation_it", language="it"))]
    assert explanations == vacant["explanation_it"].tolist()
    lon = _column(ws, "Longitudine (WGS84)")
    wgs84 = vacant.geometry.to_crs(4326)
    assert [c.value for c in lon] == pytest.approx(wgs84.x.round(6).tolist(), abs=1e-9)
    assert {c.number_format for c in lon} == {"0.000000"}
    since = _column(ws, label("vacant_since", language="it"))
    known = [c for c in since if c.value is not None]
    assert known and all(c.is_date and c.number_format == "DD/MM/YYYY" for c in known)
    classes = [c.value for c in _column(ws, "Classe di priorità")]
    assert classes.count("Alta") == math.ceil(len(vacant) / 3)
    assert set(classes) == {"Alta", "Media", "Bassa"}
    for name in json.loads(vacant["weights"].iloc[0]):
        assert f"Peso: {label(name, kind='criterion', language='it')}" in _headers(
            book, titles["vacant_units"]
        )

    # Shares are percentages; counts are integers.
    centres = outputs.layer("retail_centres")
    ws = book[titles["retail_centres"]]
    rates = _column(ws, label("vacancy_rate", language="it"))
    assert {c.number_format for c in rates} == {"0.0%"}
    assert [c.value for c in rates] == pytest.approx(centres["vacancy_rate"].tolist())
    units = _column(ws, label("n_units", language="it"))
    assert [c.value for c in units] == centres["n_units"].tolist()
    assert {c.number_format for c in units} == {"#,##0"}

    # Firms only as published: the H3 cells, never survey rows.
    firms = _sheet(book, titles["firms"])
    assert len(firms) == len(outputs.layer("firms"))
    assert (
        firms[label("respondents", language="it")].sum()
        == outputs.layer("firms")["respondents"].sum()
    )

    info = {r[0]: r[1] for r in book["Informazioni"].iter_rows(values_only=True) if r[0]}
    assert info["Dati cartografici"] == "© OpenStreetMap contributors, ODbL"
    assert isinstance(info["Risultati del"], dt.datetime)


@pytest.mark.slow
def test_italian_csv_files(italian_tables: Path) -> None:
    outputs = Outputs.open(italian_tables)
    folder = italian_tables / "consegna" / "csv"
    titles = sheet_titles("it")

    ranking = folder / "graduatoria_locali_sfitti.csv"
    raw = ranking.read_bytes()
    assert raw.startswith(BOM) and raw.count(b"\r\n") == outputs.layer("vacant_units").shape[0] + 1
    header = raw[3:].split(b"\r\n")[0].decode()
    assert header.split(";")[0] == label("rank", language="it")
    assert re.search(rb";\d+,\d+;", raw)  # decimal commas
    back = pd.read_csv(ranking, sep=";", decimal=",", encoding="utf-8-sig")
    vacant = outputs.layer("vacant_units").sort_values("rank")
    assert back[label("unit_id", language="it")].tolist() == vacant["unit_id"].tolist()
    for column in ("score", "footfall", "floor_area_m2", "walk_station_m"):
        assert back[label(column, language="it")].tolist() == pytest.approx(
            vacant[column].tolist(), abs=1e-6, nan_ok=True
        ), column
    dates = back[label("vacant_since", language="it")].dropna()
    assert dates.str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()
    assert "Alta" in set(back["Classe di priorità"])

    centres = pd.read_csv(folder / "poli_commerciali.csv", sep=";", decimal=",",
                          encoding="utf-8-sig")  # fmt: skip
    layer = outputs.layer("retail_centres")
    assert centres[label("retail_share", language="it")].tolist() == pytest.approx(
        layer["retail_share"].tolist(), abs=1e-6
    )

    # Units by category: ground truth from the commercial_units layer.
    counts = pd.read_csv(folder / "unita_per_categoria.csv", sep=";", encoding="utf-8-sig")
    units = outputs.layer("commercial_units")
    assert counts["Totale"].sum() == len(units)
    assert counts["Fuori dai poli"].sum() == int((units["centre_id"] == 0).sum())
    for _, centre in layer.iterrows():
        assert counts[centre["name"]].sum() == int(
            (units["centre_id"] == centre["centre_id"]).sum()
        )
    food = counts[counts[label("category", language="it")] == "Alimentare"]
    assert food["Totale"].item() == int((units["category"] == "food").sum())

    names = {p.name for p in folder.iterdir()}
    assert "graduatoria_locali_sfitti.csv" in names and len(names) == len(
        [t for t in TABLES if outputs.has(t.layer)]
    )
    assert titles["vacant_units"] == "Graduatoria locali sfitti"


@pytest.mark.slow
def test_english_folder_gives_english_tables(sample_output: Path, tmp_path: Path) -> None:
    folder = _copy(sample_output, tmp_path)
    written = write_tables(folder)
    assert written[0].name == "tables_sample.xlsx"
    book = openpyxl.load_workbook(written[0])
    assert book.sheetnames[0] == "Information"
    title = sheet_titles("en")["vacant_units"]
    headers = _headers(book, title)
    assert headers[:2] == [label("rank", language="en"), label("unit_id", language="en")]
    assert headers[0] != label("rank", language="it")
    assert "Priority class" in headers and "Longitude (WGS84)" in headers
    assert any(h.startswith("Weight: ") for h in headers)
    ranking = folder / "consegna" / "csv" / "vacant_units_ranking.csv"
    back = pd.read_csv(ranking, encoding="utf-8-sig")  # "," and "."
    vacant = Outputs.open(folder).layer("vacant_units").sort_values("rank")
    assert back[label("score", language="en")].tolist() == pytest.approx(
        vacant["score"].tolist(), abs=1e-6
    )
    assert back[label("explanation", language="en")].tolist() == vacant["explanation"].tolist()


@pytest.mark.slow
def test_cli_tables_and_rank_to_xlsx(italian_output: Path, tmp_path: Path) -> None:
    folder = _copy(italian_output, tmp_path)
    done = subprocess.run([*_command(), "tables", str(folder)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (folder / "consegna" / "tabelle_piana_rotaliana.xlsx").exists()

    target = tmp_path / "r.xlsx"
    done = subprocess.run(
        [*_command(), "rank", str(folder), "--weight", "footfall=3", "--to", str(target)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Informazioni", sheet_titles("it")["vacant_units"]]
    ranking = _sheet(book, sheet_titles("it")["vacant_units"])
    assert "weights" not in ranking and label("weights", language="it") not in ranking
    footfall = f"Peso: {label('footfall', kind='criterion', language='it')}"
    assert set(ranking[footfall]) == {3}
    weight_columns = [c for c in ranking.columns if c.startswith("Peso: ")]
    assert len(weight_columns) == len(CRITERIA)
    from geodistrict.priority import rank_from_folder

    expected = rank_from_folder(folder, {"footfall": 3})
    assert ranking[label("unit_id", language="it")].tolist() == expected["unit_id"].tolist()

    target = tmp_path / "r.csv"
    done = subprocess.run([*_command(), "rank", str(folder), "--to", str(target)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert target.read_bytes().startswith(BOM)
    back = pd.read_csv(target, sep=";", decimal=",", encoding="utf-8-sig")
    assert back[label("score", language="it")].tolist() == pytest.approx(
        rank_from_folder(folder)["score"].tolist(), abs=1e-6
    )
