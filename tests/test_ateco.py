"""ATECO 2025 by default, ATECO 2007 accepted and converted (issue 12).

Known answers come from ISTAT's tables as shipped in ``geodistrict/data``
(``ateco2025.csv``: the structure of ATECO 2025; ``ateco2007_2025.csv``: the
*Corrispondenza bidirezionale ATECO 2025 – ATECO 2007 aggiornamento 2022*).
"""

from __future__ import annotations

import csv
import logging
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from geodistrict import production as pr
from geodistrict.errors import ParameterError, SurveyError
from geodistrict.sources.surveys import FIRMS, read_survey
from geodistrict.sources.surveys.values import ateco_problem


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("geodistrict").joinpath(f"data/{name}").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


TABLE_2025 = {r["code"]: r for r in _rows("ateco2025.csv")}


def _first_class(section: str) -> str:
    return next(c for c, r in TABLE_2025.items() if r["section"] == section and len(c) == 5)


@pytest.mark.parametrize("section", list("ABCDEFGHIJKLMNOPQRSTUV"))
def test_every_2025_section_letter_round_trips(section: str) -> None:
    code = _first_class(section)  # e.g. 62.10 for K... the first class of the section
    for written in (f"{section}{code}", f"{section} {code}", code, code.replace(".", "")):
        read = pr.resolve_ateco(written)
        assert (read.section, read.code, read.converted_from) == (section, code, None), written
    assert pr.resolve_ateco(code[:2]).section == section  # the division alone


def test_the_2025_sections_are_those_of_nace_rev_2_1() -> None:
    sections = {c: r for c, r in TABLE_2025.items() if r["level"] == "section"}
    assert list(sections) == list("ABCDEFGHIJKLMNOPQRSTUV")
    assert sections["K"]["label_it"].startswith("Telecomunicazioni, programmazione")
    assert sections["L"]["label_en"] == "Financial and insurance activities"
    assert sections["M"]["label_en"] == "Real estate activities"
    assert sections["N"]["label_en"] == "Professional, scientific and technical activities"


@pytest.mark.parametrize(
    "written", ["K62.10", "62.10", "62.10.00", "6210", "621000", "K 62.1", "k62.10", "62"]
)
def test_every_written_form_is_read_in_ateco_2025(written: str) -> None:
    read = pr.resolve_ateco(written)
    assert read.section == "K" and read.division == "62" and read.converted_from is None
    assert ateco_problem(written) is None


def test_the_codes_the_issue_quotes_are_accepted() -> None:
    """Issue 12: K62.10, L64.19, N69.10 and S90.01 were rejected with the 2007 letters."""
    assert [pr.resolve_ateco(c).section for c in ("K62.10", "L64.19", "N69.10")] == [
        "K",
        "L",
        "N",
    ]
    # S is the 2025 letter of division 90; 90.01 is a 2007 class (ISTAT: -> 90.20).
    s = pr.resolve_ateco("S90.01")
    assert (s.code, s.section, s.converted_from, s.conversion) == ("90.20", "S", "90.01", "exact")


@pytest.mark.parametrize(
    ("old", "new", "section"),
    [
        ("62.01", "62.10", "K"),  # software production -> computer programming
        ("62.02", "62.20", "K"),  # IT consultancy
        ("45.20", "95.31", "T"),  # repair of motor vehicles moved to division 95
        ("90.01", "90.20", "S"),  # performing arts
        ("72.19", "72.10", "N"),  # R&D on natural sciences and engineering
        ("31.09", "31.00", "C"),  # furniture
        ("J62.01", "62.10", "K"),  # the 2007 letter says the 2007 edition
    ],
)
def test_a_2007_code_converts_to_its_2025_code(old: str, new: str, section: str) -> None:
    read = pr.resolve_ateco(old)
    assert (read.code, read.section, read.conversion) == (new, section, "exact")
    assert read.converted_from == old.lstrip("J")
    corr = [r for r in _rows("ateco2007_2025.csv") if r["code_2007"] == old.lstrip("J")]
    assert [r["code_2025"] for r in corr] == [new]  # ISTAT's table has that one row


def test_a_2007_code_with_several_2025_codes_keeps_what_is_certain() -> None:
    # ISTAT: 56.10 -> 56.11 (restaurants) and 56.12 (mobile food): the group is certain.
    broad = pr.resolve_ateco("56.10")
    assert (broad.code, broad.conversion, broad.alternatives) == (
        "56.1",
        "broader",
        ("56.11", "56.12"),
    )
    # 82.99 -> 27 codes; 82.99 of 2025 comes wholly from it and is in its division.
    main = pr.resolve_ateco("82.99", edition="2007")
    assert (main.code, main.conversion) == ("82.99", "main") and len(main.alternatives) == 26
    # 45.11 (car dealers) -> 46.18, 46.71, 47.81, 47.92: only the section G is certain.
    dealer = pr.resolve_ateco("45.11")
    assert (dealer.code, dealer.section, dealer.division) == ("G", "G", None)
    with pytest.raises(ParameterError, match="no single ATECO 2025 counterpart"):
        pr.resolve_ateco("45.40")  # 46.x, 47.x and 95.32: no common section


def test_a_code_of_both_editions_is_read_in_the_chosen_edition() -> None:
    # 25.62 is "machining" in ATECO 2007 and "locks and hinges" in ATECO 2025.
    assert pr.resolve_ateco("25.62").converted_from is None
    old = pr.resolve_ateco("25.62", edition="2007")
    assert (old.code, old.converted_from) == ("25.53", "25.62")
    assert pr.resolve_ateco("62.10", edition="2007").converted_from is None  # only 2025


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("34.10", "division '34' does not exist"),
        ("A25.11", "section letter 'A' does not match division 25"),
        ("25.98", "does not exist in ATECO 2025 nor 2007"),
        ("25111", "malformed"),
        ("1.11", "malformed"),
    ],
)
def test_bad_codes_are_explained(code: str, words: str) -> None:
    problem = ateco_problem(code)
    assert problem is not None and words in problem
    with pytest.raises(ParameterError, match=words.split("'")[0]):
        pr.resolve_ateco(code)


def test_classify_reports_converted_codes(caplog: pytest.LogCaptureFixture) -> None:
    frame = pd.DataFrame({"ateco": ["K62.10", "62.01", "45.20", "56.10", None]})
    with caplog.at_level(logging.WARNING, logger="geodistrict.production.ateco"):
        out = pr.classify_ateco(frame)
    assert out["ateco_code"].tolist()[:4] == ["62.10", "62.10", "95.31", "56.1"]
    assert out["ateco_section"].tolist()[:4] == ["K", "K", "T", "I"]
    assert pd.isna(out["ateco_converted_from"].iloc[0])  # a 2025 code: not converted
    assert out["ateco_converted_from"].tolist()[1:4] == ["62.01", "45.20", "56.10"]
    assert out["ateco_conversion"].tolist()[1:4] == ["exact", "exact", "broader"]
    assert out["section_en"].iloc[0].startswith("Telecommunication, computer programming")
    assert "3 of 4 ATECO codes are ATECO 2007" in caplog.text
    assert "62.01 -> 62.10" in caplog.text


def test_the_survey_reader_accepts_2025_codes(tmp_path: Path) -> None:
    codes = ["K62.10", "6210", "K 62.1", "L64.19", "62.01", "251100"]
    rows = "".join(f'F{i},Firm {i},24.94,60.17,"{c}"\n' for i, c in enumerate(codes))
    path = tmp_path / "firms.csv"
    path.write_text("firm_id,name,lon,lat,ateco\n" + rows, encoding="utf-8")
    firms = read_survey(path, FIRMS)
    assert firms["ateco"].tolist() == codes
    assert pr.classify_ateco(firms)["ateco_section"].tolist() == ["K", "K", "K", "L", "K", "C"]
    path.write_text("firm_id,name,lon,lat,ateco\nF1,Firm,24.94,60.17,45.40\n", encoding="utf-8")
    with pytest.raises(SurveyError, match="no single ATECO 2025 counterpart"):
        read_survey(path, FIRMS)


def test_the_shipped_tables_are_consistent() -> None:
    for code, row in TABLE_2025.items():
        if row["parent"]:
            assert TABLE_2025[row["parent"]]["section"] == row["section"], code
    targets = {r["code_2025"] for r in _rows("ateco2007_2025.csv")}
    assert targets <= set(TABLE_2025)
    assert sum(r["level"] == "division" for r in TABLE_2025.values()) == 87
    assert all(r["label_en"] for r in TABLE_2025.values() if r["level"] in ("section", "division"))
