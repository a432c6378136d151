"""KoboToolbox / ODK exports of the generated forms, read back (all offline).

The exports are simulated from the XLSForm geodistrict writes
(:func:`xlsform_sheets`): the columns are those KoboToolbox (``/`` groups,
``_<geopoint>_latitude``, one 0/1 column per choice, ``_uuid`` ...) or ODK
Central (``-`` groups, ``<geopoint>-Latitude``, ``SubmissionDate`` ...) write
for that form, the answers are the sample firms'.
"""

from __future__ import annotations

import csv
import logging
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml
from shapely.geometry import box

from geodistrict.datasets import sample_config_path
from geodistrict.errors import SurveyError
from geodistrict.sources.surveys import FIRMS, VACANT_UNITS, SurveySchema, read_survey
from geodistrict.sources.surveys.forms import xlsform_sheets

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = sample_config_path().parent
AREA = box(24.9352, 60.1642, 24.9534, 60.1791)  # the sample district's bbox
KOBO_META = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
             "_submitted_by", "__version__", "_tags", "_index"]  # fmt: skip
CENTRAL_META = ["SubmissionDate", "meta-instanceID", "KEY", "SubmitterID", "SubmitterName",
                "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState",
                "DeviceID", "Edits", "FormVersion"]  # fmt: skip


def sample_firms() -> list[dict[str, str]]:
    with open(SAMPLE / "firms.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _answer(kind: str, value: str) -> str:
    if not value:
        return ""
    if kind.startswith("select_multiple"):
        return " ".join(value.split(";"))
    if kind == "select_one si_no":
        return {"yes": "yes", "no": "no", "true": "yes", "false": "no"}[value.casefold()]
    return value


def export_rows(
    schema: SurveySchema,
    firms: list[dict[str, str]],
    *,
    central: bool = False,
    multi: dict[str, str] | None = None,
    geo: str = "string",
    times: list[str] | None = None,
) -> list[list[str]]:
    """Header and rows of the export of ``schema``'s form filled in with ``firms``.

    ``multi`` maps a select_multiple field to ``joined`` (space-separated codes),
    ``split`` (one 0/1 column per choice) or ``both`` (default: both, as
    KoboToolbox exports); ``geo`` is ``string`` (``lat lon alt acc``), ``split``
    or ``both``; ``central`` names groups and geopoint parts the ODK Central way.
    """
    multi = multi or {}
    sheets = xlsform_sheets(schema)
    choices: dict[str, list[str]] = {}
    for c in sheets["choices"]:
        choices.setdefault(c["list_name"], []).append(c["name"])
    sep = "-" if central else "/"
    header: list[str] = [] if central else ["start", "end"]
    makers: list = []  # one function firm -> cell per column
    groups: list[str] = []
    for q in sheets["survey"]:
        kind, name = q["type"], q["name"]
        if kind == "begin_group":
            groups.append(name)
            continue
        if kind == "end_group":
            groups.pop()
            continue
        if kind in ("start", "end", "note"):
            continue
        path = sep.join([*groups, name])
        if kind == "geopoint":
            parts = {"latitude": "lat", "longitude": "lon"}
            if geo in ("string", "both"):
                header.append(path)
                makers.append(lambda f: f"{f['lat']} {f['lon']} 12.5 4.9")
            if geo in ("split", "both"):
                for part in ("latitude", "longitude", "altitude", "precision"):
                    if central:
                        header.append(f"{path}-{part.title().replace('Precision', 'Accuracy')}")
                    else:
                        header.append(f"_{path}_{part}")
                    key = parts.get(part)
                    makers.append(lambda f, key=key: f[key] if key else "0")
            continue
        field = name
        if kind.startswith("select_multiple"):
            style = multi.get(field, "both")
            if style in ("joined", "both"):
                header.append(path)
                makers.append(lambda f, k=kind, n=field: _answer(k, f[n]))
            if style in ("split", "both"):
                for code in choices[kind.split()[1]]:
                    header.append(f"{path}/{code}")
                    makers.append(
                        lambda f, n=field, c=code: (
                            ("1" if c in f[n].split(";") else "0") if f[n] else ""
                        )
                    )
            continue
        header.append(path)
        makers.append(lambda f, k=kind, n=field: _answer(k, f.get(n, "")))
    meta = CENTRAL_META if central else KOBO_META
    header += meta
    rows = [header]
    for i, firm in enumerate(firms):
        when = times[i] if times else f"2025-03-{1 + i % 28:02d}T10:{i % 60:02d}:00"
        cells = [] if central else [f"{when}.000+01:00", f"{when}.000+01:00"]
        cells += [m(firm) for m in makers]
        if central:
            cells += [f"{when}.000Z", f"uuid:{i}", f"uuid:{i}", "5", "rilevatore", "0", "0",
                      "", "", "dev", "0", "2025.1"]  # fmt: skip
        else:
            cells += [str(1000 + i), f"uuid-{i}", when, "", "", "submitted_via_web", "", "v1",
                      "", str(i + 1)]  # fmt: skip
        rows.append(cells)
    return rows


def write_csv(rows: list[list[str]], path: Path, *, delimiter: str = ";") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(rows: list[list[str]], path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def five_firms_and_a_repeat() -> tuple[list[dict[str, str]], list[str]]:
    """Five sample firms, the third submitted twice: first with 99 employees, then fixed."""
    firms = sample_firms()[:5]
    stale = dict(firms[2], employees="99")
    times = ["2025-03-01T09:00:00", "2025-03-01T10:00:00", "2025-03-01T11:00:00",
             "2025-03-02T09:00:00", "2025-03-03T09:00:00", "2025-03-04T09:00:00"]  # fmt: skip
    # the stale copy comes first in the file but also the fixed one is submitted later
    return [firms[0], firms[1], stale, firms[3], firms[4], firms[2]], times


def _codes(value: str) -> list[str]:
    return sorted(value.split(";")) if value else []


@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
def test_kobo_export_reads_valid(tmp_path: Path, writer, caplog: pytest.LogCaptureFixture) -> None:
    firms, times = five_firms_and_a_repeat()
    rows = export_rows(
        FIRMS, firms, multi={"markets": "joined", "critical_issues": "split"}, times=times
    )
    assert "impresa/ateco" in rows[0] and "impresa/critical_issues/security" in rows[0]
    assert "impresa/critical_issues" not in rows[0] and "impresa/posizione" in rows[0]
    path = writer(rows, tmp_path / f"kobo.{'csv' if writer is write_csv else 'xlsx'}")
    with caplog.at_level(logging.WARNING):
        frame = read_survey(path, FIRMS, area_lonlat=AREA)
    expected = sample_firms()[:5]
    assert frame["firm_id"].tolist() == [f["firm_id"] for f in expected[:2]] + [
        f["firm_id"] for f in expected[3:]
    ] + [expected[2]["firm_id"]]
    by_id = frame.set_index("firm_id")
    for firm in expected:
        got = by_id.loc[firm["firm_id"]]
        assert got["ateco"] == firm["ateco"]
        assert got["employees"] == int(firm["employees"])  # the later submission: not 99
        assert _codes(got["markets"]) == _codes(firm["markets"])
        assert _codes(got["critical_issues"]) == _codes(firm["critical_issues"])
        assert _codes(got["work_tables"]) == _codes(firm["work_tables"])
        assert got["lon"] == pytest.approx(float(firm["lon"]))
        assert got["lat"] == pytest.approx(float(firm["lat"]))
        assert bool(got["exports"]) == (firm["exports"] == "yes")
    # the meta columns are kept, untouched, and no WARNING calls them unknown
    assert {"_uuid", "_submission_time", "start", "end"} <= set(frame.columns)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not any("not fields of" in w for w in warnings), warnings
    # the repeated submission: reported at WARNING with its row and the row kept
    assert len(warnings) == 1 and "repeated submission" in warnings[0]
    (repeat,) = frame.attrs["warnings"]
    assert repeat.row == 4 and repeat.value == expected[2]["firm_id"]
    assert "row 7" in repeat.message and "firm_id" in repeat.message
    assert frame.loc[frame["firm_id"] == expected[2]["firm_id"], "source_row"].item() == 7


def test_odk_central_export_with_dashes_and_split_geopoint(tmp_path: Path) -> None:
    firms = sample_firms()[:5]
    rows = export_rows(FIRMS, firms, central=True, geo="split", multi={"work_tables": "split"})
    assert "impresa-ateco" in rows[0] and "impresa-posizione-Latitude" in rows[0]
    frame = read_survey(write_xlsx(rows, tmp_path / "central.xlsx"), FIRMS, area_lonlat=AREA)
    assert frame["firm_id"].tolist() == [f["firm_id"] for f in firms]
    assert frame["lat"].tolist() == pytest.approx([float(f["lat"]) for f in firms])
    assert [_codes(v) for v in frame["work_tables"]] == [_codes(f["work_tables"]) for f in firms]
    assert "SubmissionDate" in frame.columns and frame.attrs["warnings"] == []


def test_labels_export_with_spaces_in_labels(tmp_path: Path) -> None:
    """A KoboToolbox 'labels' export: Italian labels, some of several words, space-separated."""
    firms = [dict(f) for f in sample_firms()[:5]]
    firms[0]["work_tables"] = "comunicazione formazione e lavoro"
    rows = export_rows(FIRMS, firms, multi={"work_tables": "joined"})
    rows[1][rows[0].index("impresa/work_tables")] = "comunicazione formazione e lavoro"
    frame = read_survey(write_csv(rows, tmp_path / "labels.csv"), FIRMS, area_lonlat=AREA)
    assert frame["work_tables"].iloc[0] == "communication;training_work"


def test_export_problems_name_the_export_columns(tmp_path: Path) -> None:
    firms = sample_firms()[:5]
    rows = export_rows(FIRMS, firms, multi={"critical_issues": "split"})
    head = rows[0]
    rows[2][head.index("impresa/ateco")] = "34.10"  # division that does not exist
    rows[3][head.index("impresa/critical_issues/energy")] = "2"
    rows[4][head.index("impresa/posizione")] = "60.17"
    rows[5][head.index("impresa/innovation_readiness")] = "7"
    with pytest.raises(SurveyError) as info:
        read_survey(write_csv(rows, tmp_path / "bad.csv"), FIRMS, area_lonlat=AREA)
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {
        (3, "impresa/ateco"),
        (4, "impresa/critical_issues/energy"),
        (5, "impresa/posizione"),
        (6, "impresa/innovation_readiness"),
    }, info.value
    text = str(info.value)
    assert "'34'" in text and "not 1 or 0" in text and "latitude longitude" in text
    assert "must be at most 5" in text


def test_same_name_and_place_is_one_firm_submitted_twice(tmp_path: Path) -> None:
    firms = sample_firms()[:3]
    again = dict(firms[1], firm_id="F999", employees="13", lon=str(float(firms[1]["lon"]) + 1e-4))
    rows = export_rows(FIRMS, [*firms, again])
    frame = read_survey(write_csv(rows, tmp_path / "twice.csv"), FIRMS, area_lonlat=AREA)
    assert frame["firm_id"].tolist() == [firms[0]["firm_id"], firms[2]["firm_id"], "F999"]
    (repeat,) = frame.attrs["warnings"]
    assert repeat.row == 3 and "same name" in repeat.message and "m apart" in repeat.message


def test_same_name_far_apart_are_two_firms(tmp_path: Path) -> None:
    firms = sample_firms()[:3]
    branch = dict(firms[1], firm_id="F999", lat=str(float(firms[1]["lat"]) + 0.002))  # ~220 m
    rows = export_rows(FIRMS, [*firms, branch])
    frame = read_survey(write_csv(rows, tmp_path / "branch.csv"), FIRMS, area_lonlat=AREA)
    assert len(frame) == 4 and frame.attrs["warnings"] == []


def test_repeated_id_in_a_plain_file_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    lines = (SAMPLE / "firms.csv").read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines[:4], lines[2]]) + "\n", encoding="utf-8")
    with pytest.raises(SurveyError, match="duplicate firm_id 'F002', also in row"):
        read_survey(path, FIRMS, area_lonlat=AREA)


def test_vacant_units_export_reads_valid(tmp_path: Path) -> None:
    with open(SAMPLE / "vacant_units.csv", encoding="utf-8", newline="") as f:
        units = list(csv.DictReader(f))[:6]
    rows = export_rows(VACANT_UNITS, units, geo="both")
    assert "locale/condition" in rows[0] and "_locale/posizione_latitude" in rows[0]
    frame = read_survey(write_xlsx(rows, tmp_path / "sfitti.xlsx"), VACANT_UNITS, area_lonlat=AREA)
    assert frame["unit_id"].tolist() == [u["unit_id"] for u in units]
    assert frame["condition"].tolist() == [u["condition"] or None for u in units]
    assert frame["lon"].tolist() == pytest.approx([float(u["lon"]) for u in units])


# --- the command line: check and run on an export ------------------------------------------


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def _district(tmp_path: Path, firms: Path) -> Path:
    config = yaml.safe_load((ROOT / "config" / "sample.yml").read_text(encoding="utf-8"))
    config["surveys"] = {"firms": str(firms)}
    path = tmp_path / "distretto.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.integration
def test_check_accepts_the_kobo_export(tmp_path: Path) -> None:
    firms, times = five_firms_and_a_repeat()
    rows = export_rows(FIRMS, firms, multi={"markets": "joined"}, times=times)
    config = _district(tmp_path, write_csv(rows, tmp_path / "kobo.csv"))
    result = _cli("check", config)
    assert result.returncode == 0, result.stderr
    assert "survey files are valid" in result.stdout
    warnings = [ln for ln in result.stderr.splitlines() if ln.startswith("WARNING")]
    assert len(warnings) == 1 and "1 repeated submission" in warnings[0], result.stderr
    assert "kobo.csv, row 4, column 'impresa/firm_id'" in result.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_round_trip_form_export_check_run(tmp_path: Path) -> None:
    """Form -> simulated KoboToolbox export of all the sample firms -> check -> run."""
    form = tmp_path / "questionario.xlsx"
    made = _cli("form", "firms", "--to", form)
    assert made.returncode == 0 and form.is_file(), made.stderr
    sheets = {s.title: s for s in openpyxl.load_workbook(form)}
    names = {r[1] for r in sheets["survey"].iter_rows(min_row=2, values_only=True)}
    assert {"ateco", "posizione", "critical_issues", "work_tables"} <= names

    rows = export_rows(FIRMS, sample_firms(), geo="both")
    config = _district(tmp_path, write_xlsx(rows, tmp_path / "export.xlsx"))
    checked = _cli("check", config)
    assert checked.returncode == 0, checked.stderr
    assert "WARNING" not in checked.stderr, checked.stderr
    out = tmp_path / "out"
    ran = _cli("run", config, "--out", out, "--only", "production")
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr
    assert (out / "sample" / "layers.json").is_file()
    written = [ln.split()[0] for ln in ran.stdout.splitlines() if ln.strip().endswith("features")]
    assert {"firms", "sector_specialisation", "production_needs"} <= set(written), ran.stdout
