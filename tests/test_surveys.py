"""Tests of the survey readers (geodistrict.sources.surveys); all offline."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from geodistrict.errors import InputFileNotFoundError, ParameterError, Problem, SurveyError
from geodistrict.sources.surveys import (
    FIRMS,
    VACANT_UNITS,
    Choice,
    SurveyField,
    SurveySchema,
    choices_table,
    read_survey,
    schema_table,
)

HELSINKI = box(24.93, 60.16, 24.96, 60.18)

VACANT_HEADER = (
    "unit_id,address,lon,lat,floor_area_m2,ground_floor,vacant_since,last_use,condition,"
    "owner_type,asking_rent_eur_month"
)
GOOD_ROW = "U1,Via Roma 1,24.94,60.17,120.5,yes,2023-05-01,bar,good,private,1250.5"


def _expected_vacant() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_id": pd.Series(["U1", "U2", "U3"], dtype="str"),
            "address": pd.Series(["Via Roma 1", "Città Alta 3", "Piazza Duomo 5"], dtype="str"),
            "lon": [24.94, 24.95, 24.935],
            "lat": [60.17, 60.165, 60.175],
            "floor_area_m2": [120.5, 80.0, 1250.75],
            "ground_floor": pd.Series([True, False, True], dtype="boolean"),
            "vacant_since": pd.Series(
                [datetime(2023, 5, 1), datetime(2022, 2, 1), None], dtype="datetime64[us]"
            ),
            "last_use": pd.Series(["bar", None, "shop"], dtype="str"),
            "condition": pd.Series(["good", "fair", "poor"], dtype="str"),
            "owner_type": pd.Series(["private", "public", "other"], dtype="str"),
            "asking_rent_eur_month": [1250.5, float("nan"), 0.0],
            "note": pd.Series([None, None, None], dtype="str"),
            "source_row": pd.Series([2, 3, 4], dtype="int64"),
        }
    )


def _csv_comma_utf8(tmp_path: Path) -> Path:
    path = tmp_path / "vacant.csv"
    path.write_text(
        VACANT_HEADER + "\n"
        "U1,Via Roma 1,24.94,60.17,120.5,yes,2023-05-01,bar,good,private,1250.5\n"
        "U2,Città Alta 3,24.95,60.165,80,no,2022-02-01,,Fair,PUBLIC,\n"
        'U3,Piazza Duomo 5,24.935,60.175,"1,250.75",x,,shop,poor,other,0\n',
        encoding="utf-8",
    )
    return path


def _csv_semicolon_cp1252(tmp_path: Path) -> Path:
    # Italian headers (with accents and a unit in brackets), decimal commas,
    # thousands points, day-first dates, CRLF line ends, as Excel writes them.
    path = tmp_path / "sfitti.csv"
    text = (
        "ID_Unità;Indirizzo;Longitudine;Latitudine;Superficie (mq);Piano terra;Sfitto dal;"
        "Ultimo uso;Stato;Proprietà;Canone richiesto\r\n"
        "U1;Via Roma 1;24,94;60,17;120,5;Sì;01/05/2023;bar;buono;privata;1.250,50\r\n"
        "U2;Città Alta 3;24,95;60,165;80;no;01/02/2022;;Discreto;PUBBLICA;\r\n"
        "U3;Piazza Duomo 5;24,935;60,175;1.250,75;X;;shop;pessimo;Mista;0\r\n"
    )
    path.write_bytes(text.encode("cp1252"))
    return path


def _xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "vacant.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            " Unit_ID ",
            "ADDRESS",
            "lng",
            "Lat",
            "superficie_mq",
            "Ground floor",
            "vacant_since",
            "last_use",
            "condition",
            "owner_type",
            "asking_rent_eur_month",
        ]
    )
    sheet.append(
        [
            "U1",
            "Via Roma 1",
            24.94,
            60.17,
            120.5,
            True,
            datetime(2023, 5, 1),
            "bar",
            "good",
            "private",
            1250.5,
        ]
    )
    sheet.append(
        [
            "U2",
            "Città Alta 3",
            24.95,
            60.165,
            80,
            False,
            "01/02/2022",
            None,
            "fair",
            "public",
            None,
        ]
    )
    sheet.append(
        [
            "U3",
            "Piazza Duomo 5",
            24.935,
            60.175,
            "1.250,75",
            "sì",
            None,
            "shop",
            "poor",
            "other",
            0,
        ]
    )
    book.save(path)
    return path


def _geo_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "unit_id": ["U1", "U2", "U3"],
            "indirizzo": ["Via Roma 1", "Città Alta 3", "Piazza Duomo 5"],
            "superficie_mq": [120.5, 80.0, 1250.75],
            "piano_terra": [True, False, True],
            "sfitto_dal": ["2023-05-01", "2022-02-01", None],
            "ultimo_uso": ["bar", None, "shop"],
            "stato": ["Buono", "discreto", "SCADENTE"],
            "proprieta": ["privato", "Comunale", "altro"],
            "canone_richiesto": [1250.5, None, 0.0],
        },
        geometry=[Point(24.94, 60.17), Point(24.95, 60.165), Point(24.935, 60.175)],
        crs="EPSG:4326",
    )


def _geojson(tmp_path: Path) -> Path:
    path = tmp_path / "vacant.geojson"
    _geo_frame().to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def _gpkg(tmp_path: Path) -> Path:
    # Stored in a projected CRS with real date values: the reader must go back to lon/lat.
    path = tmp_path / "vacant.gpkg"
    frame = _geo_frame()
    frame["sfitto_dal"] = pd.to_datetime(frame["sfitto_dal"])
    frame.to_crs("EPSG:3067").to_file(path, layer="sfitti", engine="pyogrio")
    return path


@pytest.mark.parametrize(
    "make",
    [_csv_comma_utf8, _csv_semicolon_cp1252, _xlsx, _geojson, _gpkg],
    ids=lambda f: f.__name__,
)
def test_good_files_in_every_format_give_the_same_frame(
    make: Callable[[Path], Path], tmp_path: Path
) -> None:
    result = read_survey(make(tmp_path), VACANT_UNITS, area_lonlat=HELSINKI)

    assert isinstance(result, gpd.GeoDataFrame)
    assert isinstance(result.index, pd.RangeIndex)
    assert result.crs is not None and result.crs.to_epsg() == 4326
    pd.testing.assert_frame_equal(
        pd.DataFrame(result.drop(columns="geometry")), _expected_vacant()
    )
    assert result.geometry.x.tolist() == pytest.approx([24.94, 24.95, 24.935])
    assert result.geometry.y.tolist() == pytest.approx([60.17, 60.165, 60.175])


def test_output_types_and_column_order(tmp_path: Path) -> None:
    result = read_survey(_csv_comma_utf8(tmp_path), VACANT_UNITS)
    assert list(result.columns) == [*VACANT_UNITS.field_names, "source_row", "geometry"]
    assert result["floor_area_m2"].dtype == "float64"
    assert result["ground_floor"].dtype == "boolean"
    assert str(result["vacant_since"].dtype).startswith("datetime64")
    assert result["unit_id"].dtype == "str"
    assert result.geometry.geom_type.eq("Point").all()


def _write(tmp_path: Path, text: str, name: str = "survey.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(
    path: Path,
    schema: SurveySchema = VACANT_UNITS,
    *,
    area_lonlat: BaseGeometry | None = None,
    layer: str | None = None,
) -> list[Problem]:
    with pytest.raises(SurveyError) as caught:
        read_survey(path, schema, area_lonlat=area_lonlat, layer=layer)
    assert caught.value.path == str(path)
    assert all(p.file == str(path) for p in caught.value.problems)
    return caught.value.problems


def test_missing_required_column_is_one_problem_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "address,lon,lat\nVia Roma 1,24.94,60.17\nVia Po 2,24.95,60.17\n")
    with pytest.raises(SurveyError) as caught:
        read_survey(path, VACANT_UNITS)
    problems = caught.value.problems
    assert len(problems) == 1
    assert problems[0].column == "unit_id"
    assert problems[0].row is None
    message = str(caught.value)
    assert str(path) in message
    assert "'unit_id'" in message and "missing" in message
    assert "'address'" in problems[0].message  # lists the columns that were found


def test_coordinates_are_required_without_geometry(tmp_path: Path) -> None:
    path = _write(tmp_path, "unit_id,address\nU1,Via Roma 1\n")
    problems = _problems(path)
    assert {p.column for p in problems} == {"lon", "lat"}


def test_swapped_lat_lon_names_the_row(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "unit_id,lon,lat\nU1,24.94,60.17\nU2,60.17,24.95\n",
    )
    problems = _problems(path, area_lonlat=HELSINKI)
    assert len(problems) == 1
    assert problems[0].row == 3
    assert "swapped" in problems[0].message
    assert "row 3" in str(problems[0])


def test_point_outside_the_area(tmp_path: Path) -> None:
    path = _write(tmp_path, "unit_id,lon,lat\nU1,24.94,60.17\nU2,12.49,41.89\n")
    (problem,) = _problems(path, area_lonlat=HELSINKI)
    assert problem.row == 3
    assert "outside" in problem.message
    # Without an area the same point is fine.
    assert len(read_survey(path, VACANT_UNITS)) == 2


def test_blank_coordinate_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "unit_id,lon,lat\nU1,24.94,\n")
    (problem,) = _problems(path)
    assert problem.row == 2
    assert "missing coordinate" in problem.message


@pytest.mark.parametrize("area", ["-5", "0", "-1,5"])
def test_negative_or_zero_area(tmp_path: Path, area: str) -> None:
    path = _write(tmp_path, f'unit_id,lon,lat,floor_area_m2\nU1,24.94,60.17,"{area}"\n')
    (problem,) = _problems(path)
    assert (problem.row, problem.column, problem.value) == (2, "floor_area_m2", area)
    assert "greater than 0" in problem.message


def test_future_date(tmp_path: Path) -> None:
    future = (date.today() + timedelta(days=30)).strftime("%d/%m/%Y")
    path = _write(tmp_path, f"unit_id,lon,lat,sfitto_dal\nU1,24.94,60.17,{future}\n")
    (problem,) = _problems(path)
    assert problem.column == "sfitto_dal"
    assert "future" in problem.message


@pytest.mark.parametrize("value", ["31/02/2023", "2023-13-01", "ieri", "2023"])
def test_bad_date(tmp_path: Path, value: str) -> None:
    path = _write(tmp_path, f"unit_id,lon,lat,vacant_since\nU1,24.94,60.17,{value}\n")
    (problem,) = _problems(path)
    assert problem.value == value
    assert "date" in problem.message


def test_bad_choice_lists_the_italian_labels_first(tmp_path: Path) -> None:
    path = _write(tmp_path, "unit_id;lon;lat;Stato\nU1;24,94;60,17;buonissimo\n")
    (problem,) = _problems(path)
    assert (problem.row, problem.column, problem.value) == (2, "Stato", "buonissimo")
    message = problem.message
    assert "use one of: buono, discreto, scadente (or the codes good, fair, poor)" in message
    assert message.index("buono") < message.index("good")
    assert "did you mean 'buono'?" in message
    # Nothing close: no guess, only the accepted values.
    path = _write(tmp_path, "unit_id;lon;lat;Proprietà\nU1;24,94;60,17;boh\n")
    (problem,) = _problems(path)
    assert "did you mean" not in problem.message
    assert "privata, pubblica, altro (or the codes private, public, other)" in problem.message


def _spellings_of_every_option() -> list[tuple[SurveySchema, str, str, str]]:
    """(schema, field, written value, code) for every spelling of every choice, as written
    and with case, accents and spacing changed the way an office types them."""
    cases = []
    for schema in (VACANT_UNITS, FIRMS):
        for fld in schema.fields:
            for option in fld.options:
                for spelling in option.spellings:
                    plain = "".join(
                        c for c in unicodedata.normalize("NFKD", spelling)
                        if not unicodedata.combining(c)
                    )  # fmt: skip
                    for written in {spelling, spelling.upper(), f"  {plain.title()} ",
                                    spelling.replace(" ", "  ").replace("_", " ")}:  # fmt: skip
                        cases.append((schema, fld.name, written, option.code))
    return cases


def test_every_spelling_of_every_choice_is_read_as_its_code(tmp_path: Path) -> None:
    cases = _spellings_of_every_option()
    assert len({(c[0].name, c[1]) for c in cases}) == 5  # every choice field of both schemas
    assert len(cases) > 400
    for schema, name in {(c[0], c[1]) for c in cases}:
        mine = [c for c in cases if c[0] is schema and c[1] == name]
        id_field = "unit_id" if schema is VACANT_UNITS else "firm_id"
        extra = "" if schema is VACANT_UNITS else ";name;ateco"
        header = f"{id_field};lon;lat;{name}{extra}\n"
        rows = "".join(
            f"R{i};24,94;60,17;{written}{';Rossi;25.62' if extra else ''}\n"
            for i, (_, _, written, _) in enumerate(mine)
        )
        result = read_survey(_write(tmp_path, header + rows, f"{name}.csv"), schema)
        assert result[name].tolist() == [code for *_, code in mine], name


@pytest.mark.parametrize(
    ("schema", "field", "written", "code"),
    [
        (VACANT_UNITS, "condition", "buono", "good"),
        (VACANT_UNITS, "condition", "Good", "good"),
        (VACANT_UNITS, "condition", "good", "good"),
        (VACANT_UNITS, "condition", "Ottimo", "good"),
        (VACANT_UNITS, "condition", "discreto", "fair"),
        (VACANT_UNITS, "condition", "SCADENTE", "poor"),
        (VACANT_UNITS, "condition", "pessimo", "poor"),
        (VACANT_UNITS, "condition", "da  ristrutturare", "poor"),
        (VACANT_UNITS, "owner_type", "Privata", "private"),
        (VACANT_UNITS, "owner_type", "PUBBLICA", "public"),
        (VACANT_UNITS, "owner_type", "comunale", "public"),
        (VACANT_UNITS, "owner_type", "mista", "other"),
        (VACANT_UNITS, "owner_type", "Proprieta privata", "private"),  # no accent
        (FIRMS, "markets", "locale", "local"),
        (FIRMS, "markets", "Nazionale", "national"),
        (FIRMS, "markets", "UE", "eu"),
        (FIRMS, "markets", "Unione Europea", "eu"),
        (FIRMS, "markets", "extra-UE", "world"),
        (FIRMS, "markets", "Mondo", "world"),
        (FIRMS, "critical_issues", "Criminalità", "security"),
        (FIRMS, "critical_issues", "costo dell’energia", "energy"),  # typographic apostrophe
        (FIRMS, "work_tables", "Formazione e Lavoro", "training_work"),
        (FIRMS, "work_tables", "training_work", "training_work"),
        (FIRMS, "work_tables", "training work", "training_work"),
    ],
)
def test_italian_labels_variants_and_codes_give_the_same_code(
    schema: SurveySchema, field: str, written: str, code: str
) -> None:
    assert schema.get_field(field).choice_code(written) == code


def test_multichoice_with_italian_labels(tmp_path: Path) -> None:
    text = (
        "ID impresa;Ragione sociale;Longitudine;Latitudine;Codice ATECO;Mercati;Criticità;"
        "Tavoli lavoro\n"
        'F1;Rossi Srl;24,94;60,17;25.62;"locale, regionale, UE";"Burocrazia | credito";'
        '"formazione e lavoro; relazioni istituzionali"\n'
        "F2;Bianchi Snc;24,95;60,17;25.62;Nazionale;trasporti;comunicazione\n"
        # Code, Italian and English spellings of one choice are one answer.
        "F3;Verdi Sas;24,95;60,17;25.62;eu;energia, energy, ENERGIA;amministrazione\n"
    )
    firms = read_survey(_write(tmp_path, text), FIRMS)
    assert firms["markets"].tolist() == ["local;regional;eu", "national", "eu"]
    assert firms["critical_issues"].tolist() == ["bureaucracy;credit", "transport", "energy"]
    assert firms["work_tables"].tolist() == [
        "training_work;institutional_relations", "communication", "administration"
    ]  # fmt: skip

    bad = text.replace("trasporti;", "trasporti, burocraziaa, marte;")
    (problem,) = _problems(_write(tmp_path, bad, "bad.csv"), FIRMS)
    assert (problem.row, problem.column) == (3, "Criticità")
    assert "'burocraziaa', 'marte' not allowed (did you mean 'burocrazia'?)" in problem.message
    assert problem.message.index("infrastrutture") < problem.message.index("infrastructure")
    assert "separated by ';', '|' or ','" in problem.message


def test_note_column_is_a_field_kept_in_the_output(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for header in ("Note", "Osservazioni", "ANNOTAZIONI", "Note del rilevatore"):
        assert VACANT_UNITS.match_header(header) == "note", header
        assert FIRMS.match_header(header) == "note", header
    path = _write(
        tmp_path,
        "Codice unità;Longitudine;Latitudine;Stato;Osservazioni\n"
        "L01;24,94;60,17;buono;ex panificio, vetrine da sostituire\nL02;24,95;60,17;;\n",
    )
    with caplog.at_level(logging.INFO, logger="geodistrict.sources.surveys"):
        units = read_survey(path, VACANT_UNITS)
    assert units["note"].tolist()[0] == "ex panificio, vetrine da sostituire"
    assert pd.isna(units["note"].iloc[1])
    assert "Osservazioni" not in units.columns
    assert not [r for r in caplog.records if "not fields" in r.getMessage()]


def test_choice_definitions_are_checked() -> None:
    with pytest.raises(ValueError, match="both 'a' and 'b'"):
        SurveyField("x", "choice", options=(Choice("a", "uno"), Choice("b", "Uno ")))
    with pytest.raises(ValueError, match="separator"):
        SurveyField("x", "multichoice", options=(Choice("a", "uno, due"),))
    with pytest.raises(ValueError, match="not the codes"):
        SurveyField("x", "choice", choices=("a",), options=(Choice("b", "bi"),))
    with pytest.raises(ValueError, match="only choice fields"):
        SurveyField("x", "str", options=(Choice("a", "uno"),))
    # Codes alone still work: each code is its own label.
    plain = SurveyField("x", "choice", choices=("yes_please", "no"))
    assert plain.choice_code("Yes please") == "yes_please"
    assert plain.option("no").it == "no"


FIRMS_HEADER = "firm_id,name,lon,lat,ateco"


@pytest.mark.parametrize(
    "code", ["25111", "25.111", "1.11", "C-25.11", "25.1.1", "ATECO", "25,11"]
)
def test_malformed_ateco(tmp_path: Path, code: str) -> None:
    path = _write(tmp_path, f'{FIRMS_HEADER}\nF1,Rossi Srl,24.94,60.17,"{code}"\n')
    (problem,) = _problems(path, FIRMS)
    assert (problem.row, problem.column, problem.value) == (2, "ateco", code)
    assert "ATECO" in problem.message


def test_wellformed_ateco_codes_are_accepted(tmp_path: Path) -> None:
    codes = ["25", "25.1", "25.11", "25.11.0", "25.11.00", "C25.11", "01.11"]
    rows = "".join(f"F{i},Firm {i},24.94,60.17,{c}\n" for i, c in enumerate(codes))
    result = read_survey(_write(tmp_path, FIRMS_HEADER + "\n" + rows), FIRMS)
    assert result["ateco"].tolist() == codes


def test_duplicated_id_reports_both_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, "unit_id,lon,lat\nU1,24.94,60.17\nU2,24.95,60.17\nU1,24.95,60.17\n")
    (problem,) = _problems(path)
    assert problem.row == 4
    assert problem.value == "U1"
    assert "duplicate" in problem.message and "2" in problem.message


def test_all_problems_of_a_file_are_reported_at_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        VACANT_HEADER
        + "\n"
        + GOOD_ROW
        + "\n"
        + "U2,Via Po 2,60.17,24.95,-3,forse,2023-05-01,,good,private,10\n"
        + ",Via Po 4,24.95,60.17,50,no,,,terrible,private,\n"
        + "U2,Via Po 6,24.95,60.17,50,no,,,good,private,abc\n",
    )
    problems = _problems(path, area_lonlat=HELSINKI)
    found = {(p.row, p.column) for p in problems}
    assert found == {
        (3, "lon/lat"),  # swapped
        (3, "floor_area_m2"),  # negative
        (3, "ground_floor"),  # not a yes/no
        (4, "unit_id"),  # required value missing
        (4, "condition"),  # bad choice
        (5, "unit_id"),  # duplicate of row 3
        (5, "asking_rent_eur_month"),  # not a number
    }
    assert [p.row for p in problems] == sorted(p.row or 0 for p in problems)


def test_row_with_too_many_values_is_reported(tmp_path: Path) -> None:
    # An unquoted decimal comma in a comma-separated file shifts the columns.
    path = _write(tmp_path, "unit_id,lon,lat,floor_area_m2\nU1,24.94,60.17,12,5\n")
    (problem,) = _problems(path)
    assert problem.row == 2
    assert "values" in problem.message


def test_invalid_polygon_is_repaired(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bowtie = Polygon([(24.94, 60.165), (24.95, 60.175), (24.95, 60.165), (24.94, 60.175)])
    assert not bowtie.is_valid
    path = tmp_path / "units.geojson"
    gpd.GeoDataFrame({"unit_id": ["U1"]}, geometry=[bowtie], crs="EPSG:4326").to_file(path)

    with caplog.at_level(logging.INFO, logger="geodistrict.sources.surveys"):
        result = read_survey(path, VACANT_UNITS, area_lonlat=HELSINKI)

    point = result.geometry.iloc[0]
    assert point.geom_type == "Point" and point.is_valid
    centre = (24.945, 60.17)  # the two lobes of the bow tie meet here
    lobes = Polygon([(24.94, 60.165), centre, (24.94, 60.175)]).union(
        Polygon([(24.95, 60.175), (24.95, 60.165), centre])
    )
    assert lobes.covers(point) and HELSINKI.covers(point)
    assert result["lon"].iloc[0] == pytest.approx(point.x)
    assert "repaired" in caplog.text


def test_missing_geometry_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "units.gpkg"
    gpd.GeoDataFrame(
        {"unit_id": ["U1", "U2"]}, geometry=[Point(24.94, 60.17), None], crs="EPSG:4326"
    ).to_file(path)
    (problem,) = _problems(path)
    assert (problem.row, problem.column) == (3, "geometry")


def test_swapped_geometry_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "units.geojson"
    gpd.GeoDataFrame({"unit_id": ["U1"]}, geometry=[Point(60.17, 24.94)], crs=4326).to_file(path)
    (problem,) = _problems(path, area_lonlat=HELSINKI)
    assert problem.row == 2 and "swapped" in problem.message


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.csv", ""), ("header_only.csv", VACANT_HEADER + "\n"), ("blank.csv", "\n ;;\n")],
)
def test_empty_file_is_an_error(tmp_path: Path, name: str, content: str) -> None:
    path = _write(tmp_path, content, name)
    problems = _problems(path)
    assert any("empty" in p.message or "no data rows" in p.message for p in problems)


def test_empty_workbook_sheet_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.append(["unit_id", "lon", "lat"])
    book.save(path)
    (problem,) = _problems(path)
    assert "no data rows" in problem.message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InputFileNotFoundError) as caught:
        read_survey(path, VACANT_UNITS)
    assert isinstance(caught.value, FileNotFoundError)
    assert str(path) in str(caught.value)


def test_unsupported_suffix(tmp_path: Path) -> None:
    (problem,) = _problems(_write(tmp_path, "x", "survey.xls"))
    assert ".xlsx" in problem.message


@pytest.mark.parametrize(
    ("delimiter", "cell", "expected"),
    [
        (";", "12,5", 12.5),
        (";", "1.250,5", 1250.5),
        (";", "1.250", 1250.0),  # Italian file: a lone point before 3 digits groups thousands
        (";", "1.250.000", 1250000.0),
        (";", "12.5", 12.5),  # unambiguous decimal point is accepted too
        (",", "12.5", 12.5),
        (",", "1.250", 1.25),
        (",", '"1,250.5"', 1250.5),
        (",", '"12,5"', 12.5),
        ("\t", " 1 250,5 ", 1250.5),
    ],
)
def test_number_formats(tmp_path: Path, delimiter: str, cell: str, expected: float) -> None:
    header = delimiter.join(["unit_id", "lon", "lat", "floor_area_m2"])
    row = delimiter.join(["U1", "24.94", "60.17", cell])
    result = read_survey(_write(tmp_path, f"{header}\n{row}\n"), VACANT_UNITS)
    assert result["floor_area_m2"].iloc[0] == pytest.approx(expected)


def test_firms_values_are_normalised(tmp_path: Path) -> None:
    text = (
        "ID impresa;Ragione sociale;Longitudine;Latitudine;Codice ATECO;Addetti;Mercati;"
        "Propensione innovazione;Export;Criticità;Tavoli lavoro;Accesso finanziamenti\n"
        "F1;Rossi Srl;24,94;60,17;C25.11;12;Local | EU;5;Sì;Energy, credit;training_work;0\n"
        "F2;Bianchi SpA;24,95;60,17;46.69.19;1.250;national;1;no;;;x\n"
    )
    result = read_survey(_write(tmp_path, text), FIRMS)
    assert result["markets"].tolist() == ["local;eu", "national"]
    assert result["critical_issues"].iloc[0] == "energy;credit"
    assert pd.isna(result["critical_issues"].iloc[1])
    assert result["employees"].dtype == "Int64"
    assert result["employees"].tolist() == [12, 1250]
    assert result["exports"].tolist() == [True, False]
    assert result["funding_access"].tolist() == [False, True]
    assert result["innovation_readiness"].tolist() == [5, 1]
    assert result["municipality"].isna().all()  # optional column absent from the file
    assert result["municipality"].dtype == "str"


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("innovation_readiness", "6", "at most 5"),
        ("innovation_readiness", "2,5", "whole number"),
        ("markets", "local;mars", "'mars'"),
        ("exports", "forse", "yes/no"),
        ("employees", "-1", "at least 0"),
    ],
)
def test_firm_value_problems(tmp_path: Path, column: str, value: str, words: str) -> None:
    path = _write(tmp_path, f'{FIRMS_HEADER},{column}\nF1,Rossi,24.94,60.17,25.11,"{value}"\n')
    (problem,) = _problems(path, FIRMS)
    assert (problem.column, problem.value) == (column, value)
    assert words in problem.message


@pytest.mark.parametrize(
    "value", ["2023-05-01", "01/05/2023", "1/5/2023", "01.05.2023", "45047", "2023-05-01 00:00:00"]
)
def test_date_formats(tmp_path: Path, value: str) -> None:
    path = _write(tmp_path, f"unit_id,lon,lat,vacant_since\nU1,24.94,60.17,{value}\n")
    result = read_survey(path, VACANT_UNITS)
    assert result["vacant_since"].iloc[0] == pd.Timestamp(2023, 5, 1)


def test_unknown_columns_are_kept_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(tmp_path, "Telefono,unit_id,lon,lat,geometry\n0461,U1,24.94,60.17,WKT\n")
    with caplog.at_level(logging.WARNING, logger="geodistrict.sources.surveys"):
        result = read_survey(path, VACANT_UNITS)
    canonical = list(VACANT_UNITS.field_names)
    assert list(result.columns) == [
        *canonical, "source_row", "Telefono", "geometry_2", "geometry"
    ]  # fmt: skip
    assert result["Telefono"].tolist() == ["0461"]
    # One warning per file naming every kept column, with the way to fix it.
    (record,) = [r for r in caplog.records if "not fields" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "'Telefono'" in record.getMessage() and "'geometry' (as 'geometry_2')" in (
        record.getMessage()
    )
    assert "rename it" in record.getMessage()


def test_result_is_reprojected_to_crs(tmp_path: Path) -> None:
    result = read_survey(_csv_comma_utf8(tmp_path), VACANT_UNITS, crs="EPSG:3067")
    assert result.crs is not None and result.crs.to_epsg() == 3067
    assert 380_000 < result.geometry.x.iloc[0] < 390_000
    assert result["lon"].iloc[0] == pytest.approx(24.94)  # lon/lat stay in degrees


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("utf-8-sig", "\t"), ("utf-16", "\t"), ("cp1252", ",")]
)
def test_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str) -> None:
    text = delimiter.join(["unit_id", "indirizzo", "lon", "lat"]) + "\r\n"
    text += delimiter.join(["U1", "Città Alta 3", "24.94", "60.17"]) + "\r\n"
    path = tmp_path / "survey.txt"
    path.write_bytes(text.encode(encoding))
    result = read_survey(path, VACANT_UNITS)
    assert result["address"].tolist() == ["Città Alta 3"]
    assert result["unit_id"].tolist() == ["U1"]


def test_blank_rows_are_skipped_but_counted(tmp_path: Path) -> None:
    path = _write(tmp_path, "unit_id,lon,lat\nU1,24.94,60.17\n,,\n\nU2,24.95,60.17\n")
    result = read_survey(path, VACANT_UNITS)
    assert result["source_row"].tolist() == [2, 5]
    assert isinstance(result.index, pd.RangeIndex)


def test_gpkg_with_several_layers_needs_a_layer(tmp_path: Path) -> None:
    path = tmp_path / "survey.gpkg"
    frame = gpd.GeoDataFrame({"unit_id": ["U1"]}, geometry=[Point(24.94, 60.17)], crs=4326)
    frame.to_file(path, layer="units")
    frame.to_file(path, layer="old")
    (problem,) = _problems(path)
    assert "units" in problem.message and "old" in problem.message
    assert read_survey(path, VACANT_UNITS, layer="units")["unit_id"].tolist() == ["U1"]


def test_xlsx_sheet_is_chosen_with_layer(tmp_path: Path) -> None:
    path = tmp_path / "survey.xlsx"
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.title = "Legenda"
    book.active.append(["read me"])
    data = book.create_sheet("Imprese")
    data.append(["ID impresa", "Ragione sociale", "lon", "lat", "ATECO", "Addetti"])
    data.append([101, "Rossi Srl", 24.94, 60.17, 25.11, 3.0])
    book.save(path)
    result = read_survey(path, FIRMS, layer="Imprese")
    assert result["firm_id"].tolist() == ["101"]
    assert result["ateco"].tolist() == ["25.11"]
    assert result["employees"].tolist() == [3]
    (problem,) = _problems(path, FIRMS, layer="Missing")
    assert "Imprese" in problem.message


def test_two_columns_for_the_same_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "unit_id,id_unita,lon,lat\nU1,U1,24.94,60.17\n")
    (problem,) = _problems(path)
    assert "unit_id" in problem.message and "id_unita" in problem.message


def test_schema_table_lists_every_field() -> None:
    table = schema_table(VACANT_UNITS)
    lines = table.strip().splitlines()
    assert lines[0].startswith("| Field | Type | Required | Aliases | Description |")
    assert len(lines) == 2 + len(VACANT_UNITS.fields)
    assert "`superficie_mq`" in table and "float > 0" in table
    assert all(f.description for f in (*VACANT_UNITS.fields, *FIRMS.fields))


def test_documented_tables_are_the_schemas() -> None:
    """docs/configuration.md and docs/production.md carry the generated tables, unedited."""
    docs = Path(__file__).resolve().parent.parent / "docs"
    configuration = (docs / "configuration.md").read_text(encoding="utf-8")
    production = (docs / "production.md").read_text(encoding="utf-8")
    assert schema_table(VACANT_UNITS) in configuration
    assert schema_table(FIRMS) in configuration and schema_table(FIRMS) in production
    for schema in (VACANT_UNITS, FIRMS):
        rows = choices_table(schema).splitlines()[2:]
        assert rows and all(row in configuration for row in rows)
    assert "`good` (buono)" in schema_table(VACANT_UNITS)


def test_schema_rejects_inconsistent_definitions() -> None:
    with pytest.raises(ValueError, match="choices"):
        SurveyField("state", "choice")
    with pytest.raises(ValueError, match="both"):
        SurveySchema("s", (SurveyField("a", "str", aliases=("x",)), SurveyField("x", "str")))
    with pytest.raises(ValueError, match="id_field"):
        SurveySchema("s", (SurveyField("a", "str"),), id_field="b")


@pytest.mark.parametrize("name", ["broken.xlsx", "broken.gpkg", "broken.geojson"])
def test_unreadable_file_is_a_survey_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x00garbage\xff")
    (problem,) = _problems(path)
    assert problem.row is None
    assert "cannot read" in problem.message


def test_misused_arguments_are_parameter_errors(tmp_path: Path) -> None:
    path = _csv_comma_utf8(tmp_path)
    with pytest.raises(ParameterError, match="layer='x'"):
        read_survey(path, VACANT_UNITS, layer="x")
    no_position = SurveySchema("s", (SurveyField("unit_id", "str"),))
    with pytest.raises(ParameterError, match="no 'lon'/'lat' fields"):
        read_survey(path, no_position)
    with pytest.raises(ParameterError, match="snake case"):
        SurveyField("Unit ID", "str")


# --- Italian office exports: aliases, near-miss headers, ATECO divisions -------------------

SFITTI_HEADER = (
    "Codice unità;Indirizzo;Longitudine;Latitudine;Superficie (m²);Piano terra;Sfitto dal;"
    "Stato;Tipo di proprietà;{rent}"
)


def _sfitti(tmp_path: Path, rent_header: str, name: str = "sfitti.csv") -> Path:
    """A vacant-units export as an Italian office PC writes it: ';', decimal commas, cp1252."""
    text = (
        SFITTI_HEADER.format(rent=rent_header) + "\r\n"
        "L01;Via Roma 1;24,94;60,17;120,5;sì;01/05/2023;good;private;1.250,50\r\n"
        "L02;Piazza Duomo 5;24,935;60,175;80;no;01/02/2022;fair;public;\r\n"
    )
    path = tmp_path / name
    path.write_bytes(text.encode("cp1252"))
    return path


@pytest.mark.parametrize(
    "header",
    ["Canone richiesto (€/mese)", "Canone mensile (€)", "Canone (euro al mese)", "CANONE €"],
)
def test_rent_headers_of_real_exports_are_read(tmp_path: Path, header: str) -> None:
    units = read_survey(_sfitti(tmp_path, header), VACANT_UNITS, area_lonlat=HELSINKI)
    assert units["asking_rent_eur_month"].tolist()[0] == 1250.5
    assert pd.isna(units["asking_rent_eur_month"].iloc[1])
    assert units["floor_area_m2"].tolist() == [120.5, 80.0]  # "Superficie (m²)"
    assert units["owner_type"].tolist() == ["private", "public"]  # "Tipo di proprietà"
    assert header not in units.columns  # mapped, not kept as an extra column


@pytest.mark.parametrize(
    ("header", "near"),
    [
        ("Canone annuo (€)", "'canone'"),  # another unit: a yearly rent is not monthly
        ("Canone (€/anno)", "'canone'"),
        ("Canone richeisto", "'canone_richiesto'"),  # typo
        ("Affitto richiesto annuale", "'affitto_richiesto'"),
    ],
)
def test_near_miss_header_is_a_problem_naming_the_nearest_fields(
    tmp_path: Path, header: str, near: str
) -> None:
    path = _sfitti(tmp_path, header)
    (problem,) = _problems(path, area_lonlat=HELSINKI)
    assert (problem.row, problem.column) == (1, header)
    assert "'asking_rent_eur_month'" in problem.message
    assert f"close to {near}" in problem.message
    assert "'canone_richiesto'" in problem.message  # the accepted headers, to rename it
    assert "rename" in problem.message
    assert f"column {header!r}" in str(problem) and str(path) in str(problem)


def test_near_miss_of_a_required_field_is_reported_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "ID impresa;Ragione sociale;Longitudine;Latitudine;Codice ATECO prevalente\n"
        "F01;Rossi Srl;24,94;60,17;25.62\n",
    )
    (problem,) = _problems(path, FIRMS)
    assert problem.column == "Codice ATECO prevalente"
    assert "required field 'ateco'" in problem.message


def test_header_near_a_field_read_elsewhere_is_kept_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(
        tmp_path,
        "Codice unità;Longitudine;Latitudine;Superficie (mq);Superficie magazzino (mq);"
        "Telefono\nL01;24,94;60,17;120,5;30;0461 123456\n",
    )
    with caplog.at_level(logging.WARNING, logger="geodistrict.sources.surveys"):
        units = read_survey(path, VACANT_UNITS)
    assert units["floor_area_m2"].tolist() == [120.5]
    assert units["Superficie magazzino (mq)"].tolist() == ["30"]
    assert units["Telefono"].tolist() == ["0461 123456"]
    message = caplog.records[-1].getMessage()
    assert caplog.records[-1].levelno == logging.WARNING
    assert "'Superficie magazzino (mq)'" in message and "'Telefono'" in message
    assert "read from column 'Superficie (mq)'" in message


@pytest.mark.parametrize(
    ("schema", "header"),
    [
        (VACANT_UNITS, "Telefono"),
        (VACANT_UNITS, "Telefono proprietario"),
        (VACANT_UNITS, "Data sopralluogo"),
        (VACANT_UNITS, "Foto"),
        (VACANT_UNITS, "osm_building_id"),
        (FIRMS, "Partita IVA"),
        (FIRMS, "Codice fiscale"),
        (FIRMS, "Fatturato (€)"),
        (FIRMS, "PEC"),
        (FIRMS, "Indirizzo"),
    ],
)
def test_clearly_extra_headers_are_near_no_field(schema: SurveySchema, header: str) -> None:
    assert schema.match_header(header) is None
    assert schema.near_fields(header) == []


@pytest.mark.parametrize(
    ("schema", "header", "field"),
    [
        (FIRMS, "Codice ATECO", "ateco"),
        (FIRMS, "Codice ATECO 2007", "ateco"),
        (FIRMS, "Cod. ATECO", "ateco"),
        (FIRMS, "Numero addetti", "employees"),
        (FIRMS, "Addetti (n.)", "employees"),
        (FIRMS, "Spazio espansione (m²)", "expansion_space_m2"),
        (FIRMS, "Latitudine (WGS84)", "lat"),
        (VACANT_UNITS, "Superficie in mq", "floor_area_m2"),
        (VACANT_UNITS, "Sfitto dal", "vacant_since"),
    ],
)
def test_italian_headers_with_units_select_their_field(
    schema: SurveySchema, header: str, field: str
) -> None:
    assert schema.match_header(header) == field


def test_a_unit_word_of_another_field_does_not_select(tmp_path: Path) -> None:
    # "mq" is a unit of floor_area_m2, not of the rent: no silent mapping either way.
    assert VACANT_UNITS.match_header("Canone (mq)") is None
    assert VACANT_UNITS.near_fields("Canone (mq)")[0][0] == "asking_rent_eur_month"
    assert VACANT_UNITS.match_header("Area") is None  # bare word of "area_m2": ask the user
    assert VACANT_UNITS.near_fields("Area") == [("floor_area_m2", "area_m2")]


IMPRESE_HEADER = "ID impresa;Ragione sociale;Longitudine;Latitudine;Comune;Codice ATECO;Addetti"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("34.10", "division '34' does not exist"),
        ("04", "division '04' does not exist"),
        ("A25.11", "section letter 'A' does not match division 25"),
    ],
)
def test_ateco_division_must_exist_when_the_file_is_read(
    tmp_path: Path, code: str, words: str
) -> None:
    path = _write(
        tmp_path,
        IMPRESE_HEADER + "\n"
        "F01;Rossi Srl;24,94;60,17;Milano;25.62;3\n"
        f"F02;Bianchi Snc;24,95;60,17;Milano;{code};12\n",
        name="imprese.csv",
    )
    (problem,) = _problems(path, FIRMS)
    assert (problem.row, problem.column, problem.value) == (3, "Codice ATECO", code)
    assert words in problem.message
    assert str(problem).startswith(f"{path}, row 3, column 'Codice ATECO': ")


def test_classify_ateco_and_the_reader_share_one_check(tmp_path: Path) -> None:
    from geodistrict.production import classify_ateco
    from geodistrict.sources.surveys.values import ateco_problem

    codes = ["25.62", "C25.62", "34.10", "A25.11", "01.11", "99", "2511"]
    for code in codes:
        path = _write(tmp_path, f"{FIRMS_HEADER}\nF1,Rossi Srl,24.94,60.17,{code}\n")
        try:
            read_survey(path, FIRMS)
            read_ok = True
        except SurveyError:
            read_ok = False
        try:
            classify_ateco(pd.DataFrame({"ateco": [code]}))
            classify_ok = True
        except SurveyError:
            classify_ok = False
        assert read_ok == classify_ok == (ateco_problem(code) is None), code


def _imprese(tmp_path: Path, code: str, name: str = "imprese.csv") -> Path:
    return _write(
        tmp_path,
        IMPRESE_HEADER + f"\nF01;Rossi Srl;24,94;60,17;Milano;{code};3\n",
        name=name,
    )


def test_read_surveys_reports_every_file_at_once(tmp_path: Path) -> None:
    from geodistrict.sources.surveys import read_surveys

    sfitti = _sfitti(tmp_path, "Canone annuo (€)")
    imprese = _imprese(tmp_path, "34.10")
    with pytest.raises(SurveyError) as caught:
        read_surveys(
            {"vacant_units": (sfitti, VACANT_UNITS), "firms": (imprese, FIRMS)},
            area_lonlat=HELSINKI,
        )
    files = [p.file for p in caught.value.problems]
    assert files == [str(sfitti), str(imprese)]
    assert str(sfitti) in str(caught.value) and str(imprese) in str(caught.value)

    # A missing file is one more problem, not a stop.
    with pytest.raises(SurveyError) as caught:
        read_surveys(
            {"vacant_units": (tmp_path / "assente.csv", VACANT_UNITS), "firms": (imprese, FIRMS)}
        )
    assert [p.file for p in caught.value.problems] == [str(tmp_path / "assente.csv"), str(imprese)]

    # One bad file: exactly read_survey's error; all good: every frame.
    with pytest.raises(SurveyError) as caught:
        read_surveys({"firms": (imprese, FIRMS)})
    assert caught.value.path == str(imprese)
    good = read_surveys(
        {"vacant_units": (_sfitti(tmp_path, "Canone (€/mese)", "ok.csv"), VACANT_UNITS),
         "firms": (_imprese(tmp_path, "C25.62", "ok_imprese.csv"), FIRMS)},
        area_lonlat=HELSINKI,
    )  # fmt: skip
    assert {k: len(v) for k, v in good.items()} == {"vacant_units": 2, "firms": 1}


def test_field_units_and_validators_are_checked() -> None:
    with pytest.raises(ValueError, match="units"):
        SurveyField("rent", "float", units=("€/mese",))
    with pytest.raises(ValueError, match="validator"):
        SurveyField("rent", "float", validator=lambda text: None)


# --- Excel files that would exhaust the memory or the parser (issue 13) ------------------


def _xlsx_with_part(tmp_path: Path, name: str, part: str, chunks: Callable[[], object]) -> Path:
    """A real workbook (the sample header and one row) whose ``part`` is replaced by ``chunks``."""
    import zipfile

    source = tmp_path / "source.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(VACANT_HEADER.split(","))
    sheet.append(GOOD_ROW.split(","))
    book.save(source)
    target = tmp_path / name
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        assert part in src.namelist()
        for info in src.infolist():
            if info.filename != part:
                dst.writestr(info, src.read(info))
                continue
            with dst.open(part, "w", force_zip64=True) as out:
                for chunk in chunks():  # type: ignore[attr-defined]
                    out.write(chunk)
    return target


_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"


def _rows(n: int, *, numbered: bool = False) -> Callable[[], object]:
    def chunks():  # type: ignore[no-untyped-def]
        yield _SHEET_HEAD
        block = 10_000
        for start in range(0, n, block):
            if numbered:
                yield b"".join(
                    b'<row r="%d"><c r="A%d" t="n"><v>1</v></c></row>' % (i + 1, i + 1)
                    for i in range(start, min(n, start + block))
                )
            else:
                yield b'<row><c t="n"><v>1</v></c></row>' * min(block, n - start)
        yield _SHEET_TAIL

    return chunks


def _billion_laughs() -> Callable[[], object]:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE worksheet [' + "".join(entities) + "]>"
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    return lambda: [text.encode()]


def _external_entity() -> Callable[[], object]:
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE workbook [<!ENTITY secret SYSTEM '
        '"file:///etc/passwd">]><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><sheets><sheet name="&secret;" sheetId="1"/></sheets>'
        "</workbook>"
    )
    return lambda: [text.encode()]


def _far_cells() -> Callable[[], object]:
    body = b'<row r="1"><c r="XFD1" t="n"><v>1</v></c></row>'
    return lambda: [_SHEET_HEAD, body, _SHEET_TAIL]


def _check_rss(config: Path) -> tuple[int, str, int]:
    """``geodistrict check`` in a child process: exit status, stderr and peak RSS (bytes)."""
    import subprocess
    import sys

    code = (
        "import re, sys\n"
        "from geodistrict.cli import main\n"
        f"status = main(['check', {str(config)!r}])\n"
        # VmHWM belongs to this address space; ru_maxrss would carry the peak
        # of the pytest process that forked us (Linux keeps it across exec)
        "status_text = open('/proc/self/status').read()\n"
        "peak = int(re.search(r'VmHWM:\\s+(\\d+)', status_text).group(1)) * 1024\n"
        "print('PEAK', peak, file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    peak = int(done.stderr.rsplit("PEAK ", 1)[1].split()[0])
    return done.returncode, done.stderr, peak


_BOMBS: dict[str, tuple[str, Callable[[], Callable[[], object]], str]] = {
    # 5 million rows in ~0.5 MB: the sheet expands to 165 MiB
    "rows_bytes": ("xl/worksheets/sheet1.xml", lambda: _rows(5_000_000), "expands to"),
    # fewer bytes, too many rows: counted while parsing, stopped at the first row over
    "rows_count": ("xl/worksheets/sheet1.xml", lambda: _rows(150_000, numbered=True), "rows"),
    "billion_laughs": ("xl/worksheets/sheet1.xml", _billion_laughs, "DTD"),
    "external_entity": ("xl/workbook.xml", _external_entity, "DTD"),
    "far_cells": ("xl/worksheets/sheet1.xml", _far_cells, "columns"),
}


@pytest.mark.parametrize("bomb", _BOMBS)
def test_excel_bombs_are_refused_with_a_survey_error(tmp_path: Path, bomb: str) -> None:
    part, make, words = _BOMBS[bomb]
    path = _xlsx_with_part(tmp_path, "bomb.xlsx", part, make())
    assert path.stat().st_size < 2 * 2**20
    with pytest.raises(SurveyError) as info:
        read_survey(path, VACANT_UNITS)
    (problem,) = info.value.problems
    assert problem.file == str(path) and "cannot read the Excel file" in problem.message
    assert words in problem.message, problem.message


def test_workbook_limits_leave_real_files_alone(tmp_path: Path) -> None:
    rows = 3_000
    path = _xlsx_with_part(tmp_path, "big.xlsx", "xl/worksheets/sheet1.xml", lambda: [
        _SHEET_HEAD,
        b'<row r="1">' + b"".join(
            b'<c r="%s1" t="inlineStr"><is><t>%s</t></is></c>' % (col.encode(), name.encode())
            for col, name in zip("ABCDEFGHIJK", VACANT_HEADER.split(","), strict=True)
        ) + b"</row>",
        *(
            b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>U%d</t></is></c>'
            b'<c r="C%d"><v>24.94</v></c><c r="D%d"><v>60.17</v></c></row>'
            % (i, i, i, i, i)
            for i in range(2, rows + 2)
        ),
        _SHEET_TAIL,
    ])  # fmt: skip
    frame = read_survey(path, VACANT_UNITS, area_lonlat=HELSINKI)
    assert len(frame) == rows and frame["unit_id"].iloc[-1] == f"U{rows + 1}"


def test_a_file_that_is_no_zip_is_a_survey_error(tmp_path: Path) -> None:
    path = tmp_path / "finto.xlsx"
    path.write_text("unit_id,lon,lat\n", encoding="utf-8")
    with pytest.raises(SurveyError, match=r"not an \.xlsx workbook"):
        read_survey(path, VACANT_UNITS)


@pytest.mark.integration
@pytest.mark.parametrize("bomb", ["rows_bytes", "billion_laughs"])
def test_check_refuses_excel_bombs_in_bounded_memory(tmp_path: Path, bomb: str) -> None:
    import yaml

    part, make, words = _BOMBS[bomb]
    path = _xlsx_with_part(tmp_path, "sfitti.xlsx", part, make())
    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config" / "sample.yml").read_text(encoding="utf-8"))
    config["surveys"] = {"vacant_units": str(path)}
    config_path = tmp_path / "distretto.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    status, stderr, peak = _check_rss(config_path)
    assert status == 2, stderr
    assert "Traceback" not in stderr and "sfitti.xlsx" in stderr and words in stderr
    assert peak < 2**30, f"peak RSS {peak / 2**20:.0f} MiB"
