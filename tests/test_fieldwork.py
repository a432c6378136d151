"""The field census project for QField (geodistrict.fieldwork).

The form, the GeoPackage and the prefill are checked here with the project's
Python; QGIS itself (Debian's PyQGIS, through tests/fieldwork_probe.py) opens
the project, reports its form widgets and constraints and writes features
through its own form logic, which then read back as a survey wave that
``geodistrict check`` accepts and ``run`` uses.  The QGIS tests skip where
PyQGIS is not installed, unless GEODISTRICT_REQUIRE_QGIS=1.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from shapely.geometry import Point

import geodistrict as gd
from geodistrict.cli import main
from geodistrict.errors import OutputError, ParameterError
from geodistrict.fieldwork import (
    EXTRA_COLUMNS,
    PROJECT_FILE,
    SURVEY_FILE,
    SURVEY_LAYER,
    fieldwork_units,
    form_fields,
    form_tabs,
    survey_table,
    write_fieldwork,
)
from geodistrict.fieldwork.form import NULL_VALUE
from geodistrict.fieldwork.layers import write_gpkg
from geodistrict.sources.surveys import (
    FIRMS,
    VACANT_UNITS,
    SurveyField,
    SurveySchema,
    read_survey,
)

SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("fieldwork_probe.py")
SAMPLE_DIR = gd.datasets.sample_config_path().parent


def has_qgis() -> bool:
    """Whether Debian's PyQGIS is importable by the system Python."""
    if not Path(SYSTEM_PYTHON).exists():
        return False
    check = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, check=False
    )
    return check.returncode == 0


needs_qgis = pytest.mark.skipif(
    not has_qgis() and os.environ.get("GEODISTRICT_REQUIRE_QGIS") != "1",
    reason="PyQGIS not installed (scripts/qgis.sh installs it)",
)


def run_probe(project: Path, features: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run fieldwork_probe.py with the system Python and return what QGIS saw and did."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    args = [SYSTEM_PYTHON, str(PROBE), str(project)]
    if features is not None:
        spec = project.parent.parent / f"{project.parent.name}-features.json"
        spec.write_text(json.dumps(features), encoding="utf-8")
        args.append(str(spec))
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def declared_types(gpkg: Path, table: str) -> dict[str, str]:
    with sqlite3.connect(gpkg) as db:
        return {row[1]: row[2] for row in db.execute(f'pragma table_info("{table}")')}


# --- the form, from the schema ---------------------------------------------------------


def test_aliases_are_the_schema_labels() -> None:
    """The form shows the schema's own Italian labels (the questionnaire's), not a copy."""
    fields = {f.name: f for f in form_fields(VACANT_UNITS)}
    for fld in VACANT_UNITS.fields:
        assert fld.label_it, fld.name
        assert fields[fld.name].alias == fld.label_it


def test_form_follows_the_schema() -> None:
    fields = form_fields(VACANT_UNITS)
    names = [f.name for f in fields]
    assert names == [*VACANT_UNITS.field_names, *EXTRA_COLUMNS]
    by_name = {f.name: f for f in fields}
    for fld in VACANT_UNITS.fields:
        form = by_name[fld.name]
        if fld.kind == "choice":
            # Italian label shown, code stored, in the schema's order, after the "no value".
            entries = [next(iter(e.items())) for e in form.config["map"]]  # type: ignore[attr-defined]
            assert entries[0][1] == NULL_VALUE
            assert entries[1:] == [(o.it, o.code) for o in fld.options]
        assert form.not_null == (fld.required or fld.name == VACANT_UNITS.id_field)
        if fld.minimum is not None:
            sign = ">" if fld.minimum_exclusive else ">="
            assert f'"{fld.name}" {sign} {fld.minimum:g}' in form.expression, fld.name
    assert by_name["unit_id"].unique and by_name["unit_id"].default  # a code to start from
    assert by_name["vacant_since"].expression.endswith("<= to_date(now()))")
    assert by_name["ground_floor"].widget == "ValueMap"
    assert by_name["survey_date"].default == "now()"
    assert by_name["photo"].widget == "ExternalResource"
    assert by_name["photo"].config["RelativeStorage"] == 1  # relative to the project
    assert not by_name["lon"].editable and by_name["lon"].default_on_update
    tabs = form_tabs(fields)
    placed = [name for _, members in tabs for name in members]
    assert sorted(placed) == sorted(names)  # every column in exactly one tab


def test_form_refuses_what_it_cannot_show() -> None:
    with pytest.raises(ParameterError, match="multichoice"):
        form_fields(FIRMS)
    no_position = SurveySchema("x", (SurveyField("code", "str"),))
    with pytest.raises(ParameterError, match="lon"):
        form_fields(no_position)


# --- the GeoPackage and the prefill -----------------------------------------------------


def test_survey_layer_has_a_typed_column_per_field(tmp_path: Path) -> None:
    units = gpd.GeoDataFrame(
        {
            "unit_id": ["A"],
            "floor_area_m2": [42.5],
            "ground_floor": [True],
            "vacant_since": [pd.Timestamp("2022-03-01")],
            "condition": ["fair"],
        },
        geometry=[Point(500_000, 5_000_000)],
        crs=32632,
    )
    for name, frame in (("empty", survey_table()), ("one", survey_table(units))):
        path = tmp_path / f"{name}.gpkg"
        write_gpkg(path, {SURVEY_LAYER: (frame, "Point", "")})
        types = declared_types(path, SURVEY_LAYER)
        expected = {f.name: f.gpkg_type for f in form_fields(VACANT_UNITS)}
        assert {k: types[k] for k in expected} == expected, name
        assert types["vacant_since"] == "DATE" and types["ground_floor"] == "BOOLEAN"
    back = read_survey(tmp_path / "one.gpkg", VACANT_UNITS)
    assert back.loc[0, "unit_id"] == "A" and back.loc[0, "condition"] == "fair"
    assert bool(back.loc[0, "ground_floor"]) is True
    assert back.loc[0, "vacant_since"] == pd.Timestamp("2022-03-01")
    assert back.loc[0, "lon"] == pytest.approx(9.0, abs=1e-6)  # UTM 32N, false easting


def _pois(points: list[tuple[float, float, int, dict[str, str]]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "osm_id": [p[2] for p in points],
            "osm_type": ["node"] * len(points),
            "vacant": [True] * len(points),
            "tags": [json.dumps(p[3]) for p in points],
        },
        geometry=[Point(p[0], p[1]) for p in points],
        crs=32632,
    )


def test_prefill_merges_osm_and_the_last_wave_once(tmp_path: Path) -> None:
    x0, y0 = 515_000.0, 5_035_000.0
    last = gpd.GeoDataFrame(
        {
            "unit_id": ["V1", "osm-node-3"],
            "note": ["vetrine rotte", None],
            "floor_area_m2": [80.0, None],
            "condition": ["poor", None],
        },
        geometry=[Point(x0, y0), Point(x0 + 500, y0)],
        crs=32632,
    ).to_crs(4326)
    wave = tmp_path / "wave.gpkg"
    last.to_file(wave, layer="vacant_units")
    last_wave = read_survey(wave, VACANT_UNITS)
    pois = _pois(
        [
            (
                x0 + 6,
                y0,
                1,
                {"disused:shop": "bakery", "addr:street": "Via Roma", "addr:housenumber": "3"},
            ),  # 6 m from V1: the same unit
            (x0 + 200, y0, 2, {"shop": "vacant"}),  # alone: a new OSM unit
            (x0 + 540, y0, 3, {"shop": "vacant"}),  # 40 m from its code in the wave: the same
        ]
    )
    units = fieldwork_units(pois, last_wave).set_index("unit_id")
    assert sorted(units.index) == ["V1", "osm-node-2", "osm-node-3"]
    assert units.loc["V1", "origin"] == "both"
    assert units.loc["V1", "note"] == "vetrine rotte"  # carried from the wave by code
    assert units.loc["V1", "address"] == "Via Roma 3"  # a blank filled from OSM
    assert units.loc["V1", "condition"] == "poor" and units.loc["V1", "floor_area_m2"] == 80.0
    assert units.loc["osm-node-2", "origin"] == "osm"
    assert units.loc["osm-node-3", "origin"] == "wave"
    assert units["survey_date"].isna().all()  # every prefilled unit is still to be checked
    # the wave's position is kept (EPSG:4326, lon/lat columns from the point)
    v1 = last.geometry.iloc[0]
    assert units.loc["V1", "lon"] == pytest.approx(v1.x, abs=1e-7)
    only_osm = fieldwork_units(pois)
    assert sorted(only_osm["origin"]) == ["osm", "osm", "osm"]
    assert len(fieldwork_units()) == 0


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "rilievo"
    out.mkdir()
    (out / SURVEY_FILE).write_bytes(b"field data")
    square = gpd.GeoDataFrame({"title": ["T"]}, geometry=[Point(0, 0).buffer(100)], crs=32632)
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=32632))
    with pytest.raises(OutputError, match="already exists"):
        write_fieldwork(out, study_area=square, streets=empty, buildings=empty)
    assert (out / SURVEY_FILE).read_bytes() == b"field data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rilievo"]  # no scratch left


def test_project_xml_without_qgis(tmp_path: Path) -> None:
    square = gpd.GeoDataFrame({"title": ["Borgo"]}, geometry=[Point(0, 0).buffer(100)], crs=32632)
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=32632))
    done = write_fieldwork(tmp_path / "p", study_area=square, streets=empty, buildings=empty)
    root = ET.parse(done.project).getroot()
    assert root.tag == "qgis" and root.find("title").text.startswith("Borgo")  # type: ignore[union-attr]
    assert root.findtext("projectCrs/spatialrefsys/authid") == "EPSG:32632"
    sources = [e.text for e in root.iter("datasource")]
    assert sources and all(s.startswith("./") for s in sources)  # type: ignore[union-attr]
    ids = [e.text or "" for e in root.iter("id")]
    assert all(len(i) > 10 for i in ids)  # QGIS replaces shorter layer ids
    assert root.findtext("properties/Paths/Absolute") == "false"
    assert done.units == 0 and (done.folder / "DCIM").is_dir()
    assert "OpenStreetMap" in (done.folder / "LEGGIMI.txt").read_text(encoding="utf-8")


# --- QGIS opens the project, writes through its form, the wave reads back --------------


def _sample_config(tmp_path: Path, vacant_units: Path) -> Path:
    config = yaml.safe_load((SAMPLE_DIR / "sample.yml").read_text(encoding="utf-8"))
    config["surveys"] = {"vacant_units": str(vacant_units)}
    config.pop("production", None)
    path = tmp_path / "district.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sample_fieldwork(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample district's project, prefilled from OSM and the sample's survey (the CLI)."""
    root = tmp_path_factory.mktemp("fieldwork")
    out = root / "rilievo"
    code = main(
        [
            "fieldwork",
            str(gd.datasets.sample_config_path()),
            str(out),
            "--prefill",
            "--from-survey",
            str(SAMPLE_DIR / "vacant_units.csv"),
        ]
    )
    assert code == 0
    return out


@pytest.mark.integration
def test_cli_refuses_a_folder_with_data(sample_fieldwork: Path, capsys: Any) -> None:
    code = main(["fieldwork", str(gd.datasets.sample_config_path()), str(sample_fieldwork)])
    assert code == 2
    assert "already exists" in capsys.readouterr().err


@needs_qgis
@pytest.mark.integration
def test_qgis_opens_the_project_with_the_schema_form(sample_fieldwork: Path) -> None:
    seen = run_probe(sample_fieldwork / PROJECT_FILE)
    assert seen["read"] is True
    layers = gd.datasets.sample_layers()
    assert seen["crs"] == layers.crs.to_string()
    xmin, ymin, xmax, ymax, crs = seen["default_extent"]
    a = layers.study_area.total_bounds
    assert crs == seen["crs"] and xmin < a[0] < a[2] < xmax and ymin < a[1] < a[3] < ymax
    by_name = {entry["name"]: entry for entry in seen["layers"].values()}
    assert set(by_name) == {"Locali sfitti", "Area di studio", "Strade", "Edifici"}
    assert all(entry["valid"] for entry in by_name.values())
    survey = by_name["Locali sfitti"]
    assert not survey["read_only"] and survey["crs"] == "EPSG:4326"
    assert survey["features"] == 27  # 24 of the last wave + 3 OSM vacant units
    assert survey["custom"]["QFieldSync/action"] == "offline"
    naming = json.loads(survey["custom"]["QFieldSync/attachment_naming"])
    assert naming["photo"].startswith("'DCIM/")
    assert all(by_name[n]["read_only"] for n in ("Area di studio", "Strade", "Edifici"))
    assert by_name["Strade"]["labels"] == "name" and by_name["Strade"]["features"] > 1000
    assert by_name["Strade"]["renderer"] == "categorizedSymbol"
    assert survey["renderer"] == "RuleRenderer"
    assert all("OpenStreetMap" in " ".join(e["rights"]) for e in by_name.values())

    fields = seen["fields"]
    for fld in VACANT_UNITS.fields:
        entry = fields[fld.name]
        if fld.kind == "choice":
            assert entry["widget"] == "ValueMap"
            assert {o.code: o.it for o in fld.options}.items() <= entry["shown"].items()
        assert (entry["not_null"] == 1) == (fld.required or fld.name == "unit_id"), fld.name
    assert fields["condition"]["shown"]["good"] == "buono"
    assert fields["owner_type"]["shown"]["public"] == "pubblica"
    assert fields["ground_floor"]["shown"] == {
        NULL_VALUE: "(non rilevato)",
        "true": "sì",
        "false": "no",
    }
    assert fields["unit_id"]["unique"] == 1
    assert fields["unit_id"]["alias"] == VACANT_UNITS.get_field("unit_id").label_it
    assert fields["survey_date"]["widget"] == "DateTime"
    assert fields["survey_date"]["default"] == "now()"
    assert fields["survey_date"]["type"] == "Date"
    assert fields["vacant_since"]["widget"] == "DateTime"
    assert fields["photo"]["widget"] == "ExternalResource"
    assert fields["photo"]["config"]["RelativeStorage"] == 1
    assert (
        fields["floor_area_m2"]["expression"] == '"floor_area_m2" IS NULL OR ("floor_area_m2" > 0)'
    )
    assert fields["floor_area_m2"]["alias"] == "Superficie (m²)"  # the schema's label
    assert (
        fields["ground_floor"]["type"] == "Boolean" and fields["floor_area_m2"]["type"] == "Real"
    )
    assert not fields["lon"]["form_editable"] and not fields["origin"]["form_editable"]
    assert seen["layout"] == 1  # drag-and-drop (tabs)
    assert [t for t, _ in seen["tabs"]] == ["Locale", "Stato e proprietà", "Rilievo"]


@needs_qgis
@pytest.mark.integration
def test_features_written_by_qgis_read_back_as_a_wave(
    sample_fieldwork: Path, tmp_path: Path, capsys: Any
) -> None:
    import shutil

    field = tmp_path / "dal_campo"
    shutil.copytree(sample_fieldwork, field)
    seen = run_probe(field / PROJECT_FILE)
    shown = {code: label for code, label in seen["fields"]["ground_floor"]["shown"].items()}
    yes = next(code for code, label in shown.items() if label == "sì")  # as the surveyor picks
    attempts = [
        {
            "lon": 24.9425,
            "lat": 60.1712,
            "values": {
                "unit_id": "N1",
                "address": "Mannerheimintie 5",
                "condition": "poor",
                "owner_type": "public",
                "ground_floor": yes,
                "floor_area_m2": 55.5,
                "vacant_since": "2023-05-01",
                "asking_rent_eur_month": 900,
                "photo": "DCIM/sfitto_N1_20250101_101010.jpg",
                "note": "serranda abbassata",
            },
        },
        {"lon": 24.9430, "lat": 60.1715, "values": {"floor_area_m2": 20}},  # defaults only
        {"lon": 24.9440, "lat": 60.1720, "values": {"unit_id": "N3", "floor_area_m2": -5}},
        {
            "lon": 24.9450,
            "lat": 60.1725,
            "values": {"unit_id": "N4", "vacant_since": "2999-01-01"},
        },
        {"lon": 24.9460, "lat": 60.1730, "values": {"unit_id": "V001"}},  # the wave has it
    ]
    done = run_probe(field / PROJECT_FILE, attempts)
    results = done["attempts"]
    assert [r["added"] for r in results] == [True, True, False, False, False]
    assert set(results[2]["failed"]) == {"floor_area_m2"}
    assert set(results[3]["failed"]) == {"vacant_since"}
    assert set(results[4]["failed"]) == {"unit_id"}  # unique
    assert done["committed"] is True
    default_id = results[1]["values"]["unit_id"]
    assert default_id.startswith("R-")  # the form's default code
    assert results[1]["values"]["survey_date"] == pd.Timestamp.today().strftime("%Y-%m-%d")
    assert results[1]["values"]["lon"] == pytest.approx(24.943)  # from the point

    wave = read_survey(field / SURVEY_FILE, VACANT_UNITS)
    assert len(wave) == 27 + 2
    new = wave.set_index("unit_id").loc["N1"]
    assert new["condition"] == "poor" and new["owner_type"] == "public"
    assert bool(new["ground_floor"]) is True and new["floor_area_m2"] == 55.5
    assert new["vacant_since"] == pd.Timestamp("2023-05-01")
    assert new["photo"] == "DCIM/sfitto_N1_20250101_101010.jpg"
    assert new["survey_date"] == pd.Timestamp.today().normalize()
    assert new["geometry"].distance(Point(24.9425, 60.1712)) < 1e-9
    assert wave.set_index("unit_id").loc[default_id, "floor_area_m2"] == 20

    config = _sample_config(tmp_path, field / SURVEY_FILE)
    assert main(["check", str(config)]) == 0
    assert "survey files are valid" in capsys.readouterr().out
    result = gd.run(gd.load_config(config), out=tmp_path / "out", only=["vacancy"])
    ranked = gpd.read_file(result.folder / result.manifest["gpkg"], layer="vacant_units")
    assert {"N1", default_id} <= set(ranked["unit_id"])
    assert len(ranked) == 29  # the 3 OSM units of the wave merge with OSM again, not doubled


@needs_qgis
@pytest.mark.integration
def test_qgis_checks_patterns_and_upper_bounds(tmp_path: Path) -> None:
    schema = SurveySchema(
        "kiosks",
        (
            SurveyField(
                "kiosk_id",
                "str",
                required=True,
                pattern=r"K\d{3}",
                pattern_help="K and three digits",
            ),
            SurveyField("lon", "float"),
            SurveyField("lat", "float"),
            SurveyField("stalls", "int", minimum=1, maximum=12),
        ),
        id_field="kiosk_id",
    )
    square = gpd.GeoDataFrame(
        {"title": ["Mercato"]}, geometry=[Point(500_000, 5_000_000).buffer(300)], crs=32632
    )
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=32632))
    done = write_fieldwork(
        tmp_path / "k", study_area=square, streets=empty, buildings=empty, schema=schema
    )
    attempts = [
        {"lon": 9.0, "lat": 45.1, "values": {"kiosk_id": "K123", "stalls": 12}},
        {"lon": 9.0, "lat": 45.1, "values": {"kiosk_id": "K12", "stalls": 3}},
        {"lon": 9.0, "lat": 45.1, "values": {"kiosk_id": "K124", "stalls": 13}},
        {"lon": 9.0, "lat": 45.1, "values": {"kiosk_id": "k125", "stalls": 0}},
    ]
    seen = run_probe(done.project, attempts)
    assert seen["fields"]["stalls"]["type"] == "Integer64"
    failed = [sorted(r["failed"]) for r in seen["attempts"]]
    assert failed == [[], ["kiosk_id"], ["stalls"], ["kiosk_id", "stalls"]]
    back = read_survey(done.survey, schema)
    assert back["kiosk_id"].tolist() == ["K123"] and back["stalls"].tolist() == [12]
