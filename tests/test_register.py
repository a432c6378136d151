"""The business register: importer, checks, join with the questionnaire, the sample run."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import geodistrict as gd
from geodistrict.errors import SurveyError
from geodistrict.geocode import geocode
from geodistrict.pipeline.steps.surveys import address_index_for
from geodistrict.production.firms import register_coverage
from geodistrict.sources.register import (
    cf_check_char_ok,
    match_register,
    read_register,
    register_points,
    vat_check_digit_ok,
)
from geodistrict.sources.surveys import FIRMS, read_survey

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "piana_rotaliana.yml"
EXTRACT = ROOT / "data" / "piana_rotaliana" / "registro_imprese.csv"
ANSWERS = ROOT / "data" / "piana_rotaliana" / "questionario_imprese.csv"


def _write(tmp_path: Path, text: str, name: str = "elenco.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_digits() -> None:
    assert vat_check_digit_ok("00743110157")
    assert not vat_check_digit_ok("00743110158")
    assert not vat_check_digit_ok("0074311015")
    assert cf_check_char_ok("RSSMRA85T10A562S")
    assert not cf_check_char_ok("RSSMRA85T10A562T")


def test_columns_and_values_as_the_chamber_writes_them(tmp_path: Path) -> None:
    path = _write(tmp_path, (
        "C.F.;N. REA;Prov.;Ragione sociale;Attività primaria (ATECO 2025);"
        "Codici ATECO secondari;Indirizzo sede;Numero civico;Comune;CAP;Classe di addetti;"
        "Natura giuridica;Data inizio attività;Stato attività;Telefono\n"
        "743110157;123456;TN;Rossi Srl;C25.11 - Fabbricazione di strutture metalliche;"
        "33.11, 46.90;V.le G. Verdi;12/A;Mezzolombardo (TN);38017;da 10 a 19;SRL;"
        "01/03/2001;attiva;0461 000\n"
        "RSSMRA85T10A562S;TN-7;;Mario Rossi;62.01;;Via Roma 3;;Mezzocorona;;250 e oltre;"
        "IMPRESA INDIVIDUALE;2020-05-04;cessata;\n"
    ))  # fmt: skip
    reg = read_register(path)
    assert reg["register_id"].tolist() == ["00743110157", "RSSMRA85T10A562S"]
    first, second = reg.iloc[0], reg.iloc[1]
    assert first["rea"] == "TN-123456" and second["rea"] == "TN-7"
    assert (first["ateco_2025"], first["ateco_section"]) == ("25.11", "C")
    assert first["ateco_secondary_2025"] == "33.11;46.90"
    assert (second["ateco_2025"], second["ateco_2007"]) == ("62.10", "62.01")  # converted
    assert first["street_number"] == "12/A" and first["postcode"] == "38017"
    assert (first["employees_min"], first["employees_max"], first["employees_est"]) == (
        10,
        19,
        14.5,
    )
    assert pd.isna(second["employees_max"]) and second["employees_min"] == 250
    assert first["start_date"] == pd.Timestamp("2001-03-01")
    assert first["comune_key"] == "mezzolombardo"
    assert reg["active"].tolist() == [True, False]
    assert reg["Telefono"].tolist()[0] == "0461 000"  # other columns kept as they are


def test_every_problem_is_listed_with_its_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, (
        "Codice fiscale;Denominazione;Codice ATECO primario;Indirizzo;Comune;Classe addetti\n"
        "00743110158;A;25.11;Via Roma 1;Trento;1-5\n"
        "00743110157;B;99.99;Via Roma 2;Trento;molti\n"
        "00743110157;C;25.11;;Trento;0\n"
        ";D;25.11;Via Roma 4;Trento;0\n"
    ))  # fmt: skip
    with pytest.raises(SurveyError) as caught:
        read_register(path)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert (2, "Codice fiscale") in found  # check digit
    assert (3, "Codice ATECO primario") in found  # no such code
    assert (3, "Classe addetti") in found
    assert (4, "Indirizzo") in found  # required
    assert any(p.row == 4 and "repeats row 3" in p.message for p in caught.value.problems)
    assert any(p.row == 5 and "no codice fiscale" in p.message for p in caught.value.problems)
    assert "'00743110158'" in str(caught.value)


def test_missing_required_columns_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "Denominazione;Comune\nRossi;Trento\n")
    with pytest.raises(SurveyError, match="Codice fiscale") as caught:
        read_register(path)
    text = str(caught.value)
    assert "'address'" in text and "'ateco'" in text


def test_xlsx_extract(tmp_path: Path) -> None:
    frame = pd.DataFrame({"Partita IVA": ["IT00743110157"], "Denominazione": ["Rossi"],
                          "ATECO": ["25.11"], "Indirizzo": ["Via Roma 1"],
                          "Comune": ["Trento"]})  # fmt: skip
    path = tmp_path / "elenco.xlsx"
    frame.to_excel(path, index=False)
    reg = read_register(path)
    assert reg["vat_number"].tolist() == ["00743110157"]
    assert reg["register_id"].tolist() == ["00743110157"]


def test_join_rules_in_order() -> None:
    reg = pd.DataFrame({
        "register_id": ["A", "B", "C", "D"],
        "tax_code": ["00743110157", None, None, None],
        "rea": [None, "TN-5", None, None],
        "name": ["Alfa Srl", "Beta", "Gamma Snc", "Delta"],
        "address": ["Via Roma 1", "Via Roma 2", "Via Verdi 3", "Via Roma 9"],
        "municipality": ["Trento"] * 4,
    })  # fmt: skip
    answers = pd.DataFrame({
        "name": ["Qualcosa", "BETA", "Gamma", "Delta", "Epsilon"],
        "Partita IVA": ["IT 00743110157", None, None, None, None],
        "Numero REA": [None, "TN 5", None, None, None],
        "address": [None, None, "V. Verdi, 3", None, None],
        "municipality": ["Trento", "Trento", "Trento", "Trento", "Trento"],
    })  # fmt: skip
    m = match_register(answers, reg)
    assert m["register_id"].tolist()[:4] == ["A", "B", "C", "D"]
    assert m["match_on"].tolist()[:4] == ["tax_code", "rea", "name_address", "name_comune"]
    assert pd.isna(m["register_index"].iloc[4])


def test_coverage_hides_small_groups() -> None:
    reg = pd.DataFrame({"municipality": ["A"] * 20 + ["B"] * 3 + ["C"] * 10,
                        "ateco_section": "C", "active": True})  # fmt: skip
    m = pd.DataFrame({"register_index": [*list(range(10)), 20, *list(range(23, 28))]})
    flat = register_coverage(reg, m, min_group_size=5)
    assert int(flat.loc[flat["level"] == "district", "respondents"].iloc[0]) == 16
    cov = flat.set_index(["level", "municipality"])
    assert int(cov.loc[("comune", "A"), "respondents"]) == 10
    assert cov.loc[("comune", "A"), "response_rate"] == pytest.approx(0.5)
    # One respondent among B's 3 firms: hidden; and C too, else B = district - A - C.
    assert pd.isna(cov.loc[("comune", "B"), "respondents"])
    assert pd.isna(cov.loc[("comune", "C"), "respondents"])
    assert int(cov.loc[("comune", "B"), "register_units"]) == 3  # the register is public


# --- the Italian sample's synthetic extract ---------------------------------------------------


@pytest.fixture(scope="module")
def geocoded():  # type: ignore[no-untyped-def]
    config = gd.load_config(CONFIG)
    base = gd.load_base_layers(config)
    reg = read_register(EXTRACT)
    index = address_index_for(config, base)
    out = geocode(register_points(reg, crs=base.crs), index, number="street_number",
                  postcode="postcode")  # fmt: skip
    return out, index, base


def test_sample_extract_is_read(geocoded) -> None:  # type: ignore[no-untyped-def]
    out, _, _ = geocoded
    assert len(out) == 216
    assert out["register_id"].is_unique
    assert set(out["municipality"]) == {"Mezzolombardo", "Mezzocorona", "San Michele all'Adige"}
    assert out["ateco_section"].notna().all()
    assert (out["Note"].str.startswith("ILLUSTRATIVO")).all()


def test_sample_extract_geocodes_with_the_measured_quality(geocoded) -> None:  # type: ignore[no-untyped-def]
    out, index, _ = geocoded
    quality = out["geocode_quality"]
    # On real OSM addresses: exact, on the addressed feature or one with the same address.
    from_osm = out[out["Note"].str.contains("indirizzo OSM")]
    assert (from_osm["geocode_quality"] == "exact").mean() > 0.98
    points = index.points.set_index("source")
    errors = []
    for note, geom, q in zip(from_osm["Note"], from_osm.geometry, from_osm["geocode_quality"],
                             strict=True):  # fmt: skip
        if q != "exact":
            continue
        src = re.search(r"OSM ((?:node|way|relation)/\d+)", note).group(1)  # type: ignore[union-attr]
        p = points.loc[[src]].iloc[0]
        errors.append(geom.distance(shapely.Point(p["x"], p["y"])))
    assert sorted(errors)[len(errors) // 2] == 0  # median: on the very feature
    assert max(errors) < 100
    between = out[out["Note"].str.contains("civico intermedio")]
    assert len(between) == 10 and (between["geocode_quality"] == "interpolated").all()
    snc = out[out["Note"].str.contains("senza numero civico")]
    assert len(snc) == 6 and (snc["geocode_quality"] == "street").all()
    invented = out[out["Note"].str.contains("inesistente")]
    assert len(invented) == 8 and (invented["geocode_quality"] == "unmatched").all()
    assert invented.geometry.isna().all()
    assert quality.isin(["exact", "interpolated", "street", "unmatched"]).all()


def test_questionnaire_joins_the_sample_register(geocoded) -> None:  # type: ignore[no-untyped-def]
    out, _, base = geocoded
    answers = read_survey(ANSWERS, FIRMS, crs=base.crs)
    m = match_register(answers, out)
    # make_register.py leaves 5 of the 85 respondents out of the register.
    assert int(m["register_index"].notna().sum()) == 80
    assert m["register_index"].dropna().is_unique


def test_sample_pipeline_reports_response_rates_against_the_register(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    result = gd.run(gd.load_config(CONFIG), out=tmp_path, only=["production"])
    cov = gpd.read_file(tmp_path / "piana_rotaliana" / "piana_rotaliana.gpkg",
                        layer="firm_coverage")  # fmt: skip
    district = cov[cov["level"] == "district"].iloc[0]
    assert int(district["register_units"]) == 216
    assert int(district["respondents"]) == 80
    assert float(district["response_rate"]) == pytest.approx(80 / 216, abs=1e-3)
    assert set(cov["level"]) == {"comune_sector", "comune", "sector", "district"}
    notes = " ".join(result.notes.get("firm_coverage", []))
    # the Italian sample speaks Italian (language: it)
    assert "80 su 216" in notes and "5 su 85 rispondenti non sono nel Registro Imprese" in notes
    assert "conteggiate comunque per comune e settore: 10" in notes
    # The surveys step (run first, its notes not part of --only production) logs every
    # unmatched address of the register with its row.
    assert "10 address(es) not found" in caplog.text
    assert "row 215: 'VIA G. ROSSETTI 18'" in caplog.text
