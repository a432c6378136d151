"""The XLSForm questionnaires generated from the survey schemas (converted with pyxform)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import openpyxl
import pytest

from geodistrict.errors import ParameterError
from geodistrict.sources.surveys import FIRMS, VACANT_UNITS, SurveySchema
from geodistrict.sources.surveys.forms import FORM_LANGUAGES, write_xlsform, xlsform_sheets

xls2xform = pytest.importorskip("pyxform.xls2xform")

ROOT = Path(__file__).resolve().parents[1]
IT, EN = FORM_LANGUAGES
SCHEMAS = {"firms": FIRMS, "vacant-units": VACANT_UNITS}


def _sheet(path: Path, name: str) -> list[dict[str, object]]:
    rows = list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.mark.parametrize("survey", SCHEMAS)
def test_pyxform_converts_the_form_without_error_or_warning(tmp_path: Path, survey: str) -> None:
    path = write_xlsform(SCHEMAS[survey], tmp_path / f"{survey}.xlsx")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # ODK Validate (a Java program shipped with pyxform) when Java is here
        found = xls2xform.xls2xform_convert(
            xlsform_path=str(path),
            xform_path=str(tmp_path / f"{survey}.xml"),
            validate=shutil.which("java") is not None,
        )
    assert found == []
    assert [str(w.message) for w in caught if w.category is not DeprecationWarning] == []
    xform = (tmp_path / f"{survey}.xml").read_text(encoding="utf-8")
    assert 'lang="Italiano (it)" default="true()"' in xform
    assert 'type="geopoint" required="true()"' in xform


@pytest.mark.parametrize("schema", [FIRMS, VACANT_UNITS], ids=lambda s: s.name)
def test_every_field_is_asked_with_the_schema_rules(schema: SurveySchema) -> None:
    sheets = xlsform_sheets(schema)
    questions = {q["name"]: q for q in sheets["survey"]}
    kinds = {"str": "text", "int": "integer", "float": "decimal", "date": "date",
             "bool": "select_one si_no"}  # fmt: skip
    for fld in schema.fields:
        if fld.name in ("lon", "lat"):
            assert questions["posizione"]["type"] == "geopoint"
            assert questions["posizione"]["required"] == "yes"
            continue
        q = questions[fld.name]
        expected = kinds.get(fld.kind) or (
            f"select_one {fld.name}" if fld.kind == "choice" else f"select_multiple {fld.name}"
        )
        assert q["type"] == expected
        assert q[f"label::{IT}"] == fld.label_it and q[f"label::{EN}"] == fld.label_en
        assert (q.get("required") == "yes") == fld.required
        if fld.kind in ("choice", "multichoice"):
            listed = [c for c in sheets["choices"] if c["list_name"] == fld.name]
            assert [c["name"] for c in listed] == list(fld.choices)
            assert [c[f"label::{IT}"] for c in listed] == [o.it for o in fld.options]
            assert [c[f"label::{EN}"] for c in listed] == [o.en for o in fld.options]
    assert sheets["settings"][0]["default_language"] == IT


def test_constraints_match_the_readers_rules() -> None:
    questions = {q["name"]: q for q in xlsform_sheets(FIRMS)["survey"]}
    assert questions["innovation_readiness"]["constraint"] == ". >= 1 and . <= 5"
    assert questions["employees"]["constraint"] == ". >= 0"
    units = {q["name"]: q for q in xlsform_sheets(VACANT_UNITS)["survey"]}
    assert units["floor_area_m2"]["constraint"] == ". > 0"
    assert units["vacant_since"]["constraint"] == ". <= today()"
    assert "maggiore di 0" in units["floor_area_m2"][f"constraint_message::{IT}"]
    # the ATECO regex() accepts exactly what the reader's pattern accepts
    match = re.fullmatch(r"regex\(\., '(.*)'\)", questions["ateco"]["constraint"])
    assert match is not None
    form_regex = re.compile(match.group(1))
    pattern = FIRMS.get_field("ateco").pattern
    assert pattern is not None
    for code in ["25", "25.1", "25.11", "25.11.0", "25.11.00", "2511", "251100", "C25.11",
                 "c 25.11", "25111", "1.11", "25.11.000", "abc", "C", "25,11"]:  # fmt: skip
        assert (form_regex.search(code) is not None) == (
            re.fullmatch(pattern, code) is not None
        ), code


def test_firm_form_opens_with_the_consent_note(tmp_path: Path) -> None:
    path = write_xlsform(FIRMS, tmp_path / "imprese.xlsx", min_group_size=7)
    survey = _sheet(path, "survey")
    note = next(r for r in survey if r["type"] == "note")
    assert survey.index(note) < next(i for i, r in enumerate(survey) if r["name"] == "firm_id")
    assert "almeno 7 imprese" in str(note[f"label::{IT}"])
    assert "at least 7" in str(note[f"label::{EN}"])
    assert not any(r["type"] == "note" for r in xlsform_sheets(VACANT_UNITS)["survey"])
    assert [r["list_name"] for r in _sheet(path, "choices")].count("critical_issues") == len(
        FIRMS.get_field("critical_issues").options
    )
    assert _sheet(path, "settings")[0]["form_id"] == "geodistrict_firms"


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"'.*x\.csv'"):
        write_xlsform(FIRMS, tmp_path / "x.csv")
    with pytest.raises(ParameterError, match="0"):
        write_xlsform(FIRMS, tmp_path / "x.xlsx", min_group_size=0)
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.integration
@pytest.mark.parametrize("survey", SCHEMAS)
def test_form_command_writes_the_xlsform(tmp_path: Path, survey: str) -> None:
    target = tmp_path / "sub" / "form.xlsx"
    result = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", "form", survey, "--to", str(target)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    assert openpyxl.load_workbook(target).sheetnames == ["survey", "choices", "settings"]
    bad = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", "form", survey, "--to", str(tmp_path / "f.ods")],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
