"""The Italian embedded sample (Piana Rotaliana) and the ISTAT perimeters of Pioltello/Zingonia.

Everything here runs offline: the OSM extract ``data/osm/piana-rotaliana.osm.pbf``
and the ISTAT subsets ``data/istat/*.geojson`` ship with the project.  Expected
areas are computed independently of :mod:`geodistrict.area`: from the extract's
boundaries read directly with pyrosm, and from the ISTAT files with geopandas.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml

import geodistrict as gd
from geodistrict.area import name_key, nearest_names

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "piana_rotaliana.yml"
PBF = ROOT / "data" / "osm" / "piana-rotaliana.osm.pbf"
SURVEYS = ROOT / "data" / "piana_rotaliana"
ISTAT = ROOT / "data" / "istat"
COMUNI = ("Mezzolombardo", "Mezzocorona", "San Michele all'Adige")
UTM32 = 32632


def _config(tmp_path: Path, **area: object) -> gd.DistrictConfig:
    """The Piana Rotaliana configuration with another area, written next to ``tmp_path``."""
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    data["area"] = {**area, "buffer_m": 0}
    data["osm"]["path"] = str(PBF)
    data.pop("surveys")
    data.get("production", {}).pop("reference_file", None)  # relative to config/
    path = tmp_path / "district.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return gd.load_config(path)


@pytest.fixture(scope="module")
def comuni_from_pbf() -> gpd.GeoDataFrame:
    """The three comuni as the extract draws them, read with pyrosm (not with geodistrict)."""
    import pyrosm

    boundaries = pyrosm.OSM(str(PBF)).get_boundaries()
    rows = boundaries[boundaries["name"].isin(COMUNI) & (boundaries["osm_type"] == "relation")]
    assert sorted(rows["name"]) == sorted(COMUNI)
    return gpd.GeoDataFrame(rows[["name", "tags"]], geometry=rows.geometry, crs=4326).to_crs(UTM32)


# --- study area from the extract's boundaries ------------------------------------------------


def test_study_area_is_the_union_of_the_three_comuni(
    comuni_from_pbf: gpd.GeoDataFrame,
) -> None:
    area = gd.study_area(gd.load_config(CONFIG))
    assert area.crs.to_epsg() == UTM32
    expected = shapely.union_all(comuni_from_pbf.geometry.to_numpy())
    got = area.geometry.iloc[0]
    # Contiguous comuni: the union's area is the sum of theirs (about 56 km²).
    assert got.area / 1e6 == pytest.approx(comuni_from_pbf.area.sum() / 1e6, rel=1e-3)
    assert got.symmetric_difference(expected).area < 1e-4 * expected.area
    assert float(area["area_ha"].iloc[0]) == pytest.approx(got.area / 1e4)
    assert 50 < got.area / 1e6 < 62
    # The comunità that contains them is not pulled in by a name match.
    assert area["defined_by"].iloc[0].startswith("places Mezzolombardo")


def test_place_names_ignore_case_accents_and_apostrophes(tmp_path: Path) -> None:
    exact = gd.study_area(_config(tmp_path, places=list(COMUNI)))
    loose = gd.study_area(
        _config(tmp_path, places=["MEZZOLOMBARDO", " mezzocorona ", "San Michele all’Adige"])
    )
    assert loose.geometry.iloc[0].area == pytest.approx(exact.geometry.iloc[0].area)


@pytest.mark.parametrize(
    ("place", "nearest"),
    [
        ("Mezolombardo", "Mezzolombardo"),  # a typo
        ("San Michele", "San Michele all'Adige"),  # a part is not the name
        ("Rotaliana", "Comunità Rotaliana-Königsberg"),  # nor is a part of a longer name
    ],
)
def test_a_name_not_in_the_extract_lists_the_nearest(
    tmp_path: Path, place: str, nearest: str
) -> None:
    config = _config(tmp_path, places=["Mezzocorona", place])
    with pytest.raises(gd.SourceError) as info:
        gd.study_area(config)
    message = str(info.value)
    assert repr(place) in message and repr(nearest) in message
    assert "'Mezzocorona' (" not in message  # the name that exists is not reported


def test_name_key_and_nearest_names() -> None:
    assert name_key("Città  di CASTELLO") == name_key("citta di castello")
    assert name_key("San Michele all’Adige") == name_key("san michele all'adige")
    assert name_key("Mezzolombardo") != name_key("Mezzolombardo Est")
    assert nearest_names("Pioltelo", ["Segrate", "Pioltello", "Rodano"], n=1) == ["Pioltello"]


# --- ISTAT perimeters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("district", "file", "names"),
    [
        ("pioltello", "comuni_pioltello.geojson", ["Pioltello"]),
        (
            "zingonia",
            "comuni_zingonia.geojson",
            [
                "Ciserano",
                "Verdellino",
                "Osio Sopra",
                "Osio Sotto",
                "Boltiere",
                "Arcene",
                "Brembate",
                "Dalmine",
                "Filago",
                "Levate",
                "Pontirolo Nuovo",
                "Verdello",
            ],
        ),
    ],
)
def test_istat_configs_give_the_official_study_area(
    district: str, file: str, names: list[str]
) -> None:
    config = gd.load_config(ROOT / "config" / f"{district}.yml")
    assert config.osm.source == "pbf"  # the extract itself is not needed for the area
    area = gd.study_area(config)
    comuni = gpd.read_file(ISTAT / file).to_crs(UTM32)
    chosen = comuni[comuni["name"].isin(names)]
    assert sorted(chosen["name"]) == sorted(names)
    assert area.crs.to_epsg() == UTM32
    expected_km2 = chosen.area.sum() / 1e6
    got_km2 = float(area["area_ha"].iloc[0]) / 100
    assert got_km2 == pytest.approx(expected_km2, rel=1e-3)
    assert got_km2 == pytest.approx(chosen["area_km2"].sum(), rel=1e-3)
    others = comuni[~comuni["name"].isin(names)]
    assert (others.intersection(area.geometry.iloc[0]).area < 1e3).all()  # m²: edges only


def test_running_without_the_extract_says_where_to_download_it(tmp_path: Path) -> None:
    config = gd.load_config(ROOT / "config" / "zingonia.yml")
    assert config.osm.path is not None
    if config.osm.path.is_file():  # pragma: no cover - the user has downloaded it
        pytest.skip("the Geofabrik extract is present")
    with pytest.raises(gd.InputFileNotFoundError, match=r"download\.geofabrik\.de") as info:
        gd.run(config, out=tmp_path, only=["base"])
    assert str(config.osm.path) in str(info.value)
    assert not (tmp_path / "zingonia").exists()
    from geodistrict.pipeline import check_config

    with pytest.raises(gd.InputFileNotFoundError, match=r"download\.geofabrik\.de"):
        check_config(config)  # geodistrict check says so too, before any run


def test_pioltello_study_area_is_about_13_km2() -> None:
    area = gd.study_area(gd.load_config(ROOT / "config" / "pioltello.yml"))
    # ISTAT gives 13.1 km² for Pioltello; the generalised perimeter measures 13.3 km².
    assert 12.8 < float(area["area_ha"].iloc[0]) / 100 < 13.6
    assert area["defined_by"].iloc[0] == "file comuni_pioltello.geojson: Pioltello"


def _istat_config(tmp_path: Path, area: Mapping[str, object]) -> Path:
    data = {"district": "demo", "title": "Demo", "area": area}
    path = tmp_path / "demo.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_name_not_in_the_file_is_a_config_error_with_the_nearest(tmp_path: Path) -> None:
    file = str(ISTAT / "comuni_zingonia.geojson")
    area = {"file": file, "names": ["Osio sotto", "Verdelino"]}
    config = gd.load_config(_istat_config(tmp_path, area))
    with pytest.raises(gd.ConfigError) as info:
        gd.study_area(config)
    message = str(info.value)
    assert "area.names" in message and "comuni_zingonia.geojson" in message
    assert "'Verdelino'" in message and "'Verdellino'" in message
    assert "'Osio sotto'" not in message  # matched regardless of case


def test_a_name_field_not_in_the_file_lists_its_fields(tmp_path: Path) -> None:
    file = str(ISTAT / "comuni_pioltello.geojson")
    area = {"file": file, "names": ["Pioltello"], "name_field": "COMUNE"}
    config = gd.load_config(_istat_config(tmp_path, area))
    with pytest.raises(gd.ConfigError, match=r"'COMUNE'.*com_istat_code"):
        gd.study_area(config)


@pytest.mark.parametrize(
    ("area", "fragment"),
    [
        ({"bbox": [9.0, 45.0, 9.1, 45.1], "names": ["Pioltello"]}, "'names' only applies"),
        ({"file": "x.geojson", "name_field": "name"}, "'name_field' only applies"),
        ({"file": "x.geojson", "names": []}, "at least one"),
    ],
)
def test_names_and_name_field_are_validated(
    tmp_path: Path, area: dict[str, object], fragment: str
) -> None:
    (tmp_path / "x.geojson").write_text((ISTAT / "comuni_pioltello.geojson").read_text())
    with pytest.raises(gd.ConfigError, match=fragment):
        gd.load_config(_istat_config(tmp_path, area))


# --- the illustrative Italian surveys --------------------------------------------------------


def _raw_rows(name: str, encoding: str) -> list[dict[str, str]]:
    with (SURVEYS / name).open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_surveys_are_written_as_an_italian_office_exports_them() -> None:
    vacant = (SURVEYS / "locali_sfitti.csv").read_bytes()
    firms = (SURVEYS / "questionario_imprese.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        vacant.decode("utf-8")  # Windows-1252
    assert firms.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    for blob in (vacant, firms):
        assert b"\r\n" in blob and b"ILLUSTRATIVO" in blob
    header = vacant.decode("cp1252").splitlines()[0]
    assert header.startswith("Codice unità;Indirizzo;Longitudine;Latitudine;Superficie (mq)")
    assert "sì" in vacant.decode("cp1252") and "sì" in firms.decode("utf-8-sig")


def test_surveys_read_with_italian_values() -> None:
    raw = _raw_rows("locali_sfitti.csv", "cp1252")
    units = gd.read_survey(SURVEYS / "locali_sfitti.csv", gd.VACANT_UNITS)
    assert len(units) == len(raw) == 18
    for row, (_, unit) in zip(raw, units.iterrows(), strict=True):
        assert unit["unit_id"] == row["Codice unità"]
        assert unit["floor_area_m2"] == float(row["Superficie (mq)"].replace(",", "."))
        assert unit["lon"] == float(row["Longitudine"].replace(",", "."))
        assert bool(unit["ground_floor"]) is (row["Piano terra"] == "sì")
        assert unit["vacant_since"] == datetime.strptime(row["Sfitto dal"], "%d/%m/%Y")
        rent = row["Canone richiesto"].replace(".", "").replace(",", ".")
        assert (pd.isna(unit["asking_rent_eur_month"]) and not rent) or (
            unit["asking_rent_eur_month"] == float(rent)
        )
    assert units["asking_rent_eur_month"].max() > 1000  # "1.150,00" is not 1.15
    # Choices are written with the questionnaire's Italian labels and stored as codes.
    stato = {"buono": "good", "discreto": "fair", "scadente": "poor"}
    proprieta = {"privata": "private", "pubblica": "public", "altro": "other"}
    assert list(units["condition"]) == [stato[r["Stato"]] for r in raw]
    assert list(units["owner_type"]) == [proprieta[r["Proprietà"]] for r in raw]
    assert set(units["condition"]) == set(stato.values())  # every label occurs
    assert list(units["note"]) == [r["Note"] for r in raw]

    firms = gd.read_survey(SURVEYS / "questionario_imprese.csv", gd.FIRMS)
    raw_firms = _raw_rows("questionario_imprese.csv", "utf-8-sig")
    assert len(firms) == len(raw_firms) > 60
    assert set(firms["municipality"]) == set(COMUNI)
    assert list(firms["ateco"]) == [r["Codice ATECO"] for r in raw_firms]
    assert firms["exports"].sum() == sum(r["Esporta"] == "sì" for r in raw_firms)
    divisions = set(pd.read_csv(ROOT / "geodistrict" / "data" / "ateco2007.csv", dtype=str)
                    .query("level == 'division'")["code"])  # fmt: skip
    assert {code[:2] for code in firms["ateco"]} <= divisions
    mercati = {"locale": "local", "regionale": "regional", "nazionale": "national", "UE": "eu",
               "mondo": "world"}  # fmt: skip
    tavoli = {"amministrazione": "administration", "comunicazione": "communication",
              "formazione e lavoro": "training_work",
              "relazioni istituzionali": "institutional_relations"}  # fmt: skip

    def codes(cell: str, labels: Mapping[str, str]) -> str:
        return ";".join(labels[item] for item in cell.split(", ")) if cell else ""

    assert list(firms["markets"].fillna("")) == [codes(r["Mercati"], mercati) for r in raw_firms]
    assert list(firms["work_tables"].fillna("")) == [
        codes(r["Tavoli lavoro"], tavoli) for r in raw_firms
    ]
    assert any(", " in r["Mercati"] for r in raw_firms)  # several answers in one cell
    criticita = {
        "infrastrutture": "infrastructure", "sicurezza": "security", "trasporti": "transport",
        "manodopera": "labour", "burocrazia": "bureaucracy", "credito": "credit",
        "energia": "energy", "reputazione": "reputation",
    }  # fmt: skip
    assert list(firms["critical_issues"].fillna("")) == [
        codes(r["Criticità"], criticita) for r in raw_firms
    ]  # fmt: skip
    assert list(firms["note"]) == [r["Note"] for r in raw_firms]


def test_surveys_have_no_unknown_columns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="geodistrict.sources.surveys"):
        for name, schema in (("locali_sfitti.csv", gd.VACANT_UNITS),
                             ("questionario_imprese.csv", gd.FIRMS)):  # fmt: skip
            survey = gd.read_survey(SURVEYS / name, schema)
            assert list(survey.columns) == [*schema.field_names, "source_row", "geometry"]
    assert not [r.getMessage() for r in caplog.records if "not fields" in r.getMessage()]


def _make_surveys() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_surveys", SURVEYS / "make_surveys.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tagged_firms_get_the_ateco_code_of_their_osm_sector() -> None:
    script = _make_surveys()
    assert script.tagged_sector({"craft": "electrician"})[0] == "43.21"
    assert script.tagged_sector({"office": "estate_agent"})[0] == "68.31"
    assert script.tagged_sector({"shop": "car_repair"})[0] == "45.20"
    assert script.tagged_sector({"name": "Distilleria G. Bertagnolli"})[0] == "11.01"
    assert script.tagged_sector({"shop": "clothes"}) is None  # not a productive firm


def _osm_ref(note: str) -> str:
    """The OSM element (``way/123``) a row's note names."""
    return next(w for w in note.replace("(", " ").split() if re.fullmatch(r"[a-z]+/\d+", w))


@pytest.mark.slow
def test_survey_points_stand_on_the_osm_features_their_note_names() -> None:
    layers = gd.load_base_layers(gd.load_config(CONFIG))
    features = pd.concat([layers.pois, layers.buildings], ignore_index=True)
    features.index = features["osm_type"] + "/" + features["osm_id"].astype(str)
    features = features[~features.index.duplicated()]
    script = _make_surveys()
    firms = gd.read_survey(SURVEYS / "questionario_imprese.csv", gd.FIRMS)
    units = gd.read_survey(SURVEYS / "locali_sfitti.csv", gd.VACANT_UNITS)
    for survey in (units, firms):
        survey = survey.to_crs(layers.study_area.crs)
        for note, point in zip(survey["note"], survey.geometry, strict=True):
            ref = _osm_ref(note)
            assert ref in features.index, note
            assert features.geometry[ref].distance(point) < 1.0, note  # metres
    tagged = firms[~firms["note"].str.contains("settore illustrativo")]
    assert len(tagged) >= 20
    for note, code in zip(tagged["note"], tagged["ateco"], strict=True):
        tags = json.loads(features.loc[_osm_ref(note), "tags"])
        assert script.tagged_sector(tags)[0] == code, note


@pytest.mark.slow
def test_survey_script_is_deterministic(tmp_path: Path) -> None:
    script = _make_surveys()
    script.HERE = tmp_path  # type: ignore[attr-defined]
    script.main()
    for name in ("locali_sfitti.csv", "questionario_imprese.csv"):
        assert (tmp_path / name).read_bytes() == (SURVEYS / name).read_bytes(), name


# --- the whole pipeline ----------------------------------------------------------------------


@pytest.mark.slow
def test_italian_district_runs_to_the_end_offline(
    tmp_path: Path, comuni_from_pbf: gpd.GeoDataFrame
) -> None:
    from geodistrict.pipeline.steps import STEPS

    result = gd.run(gd.load_config(CONFIG), out=tmp_path)
    declared = {layer for step in STEPS for layer in step.layers}
    assert set(result.written) | set(result.skipped) == declared
    assert all(reason.strip() for reason in result.skipped.values())
    # With its surveys, the Italian sample writes every layer.
    assert result.skipped == {}, result.skipped
    gpkg = result.folder / "piana_rotaliana.gpkg"
    study = gpd.read_file(gpkg, layer="study_area")
    expected = shapely.union_all(comuni_from_pbf.geometry.to_numpy())
    assert study.to_crs(UTM32).geometry.iloc[0].symmetric_difference(expected).area < (
        1e-4 * expected.area
    )
    assert result.written["vacant_units"] == 18  # every surveyed unit, none from OSM
    # Firms are published only as H3 cells of at least k respondents (disclosure control,
    # issue 13): never more respondents than answered, no cell below k.
    firms = gpd.read_file(gpkg, layer="firms")
    counts = firms["respondents"].dropna()
    assert 0 < counts.sum() <= len(_raw_rows("questionario_imprese.csv", "utf-8-sig"))
    assert (counts >= 5).all()
    needs = gpd.read_file(gpkg, layer="production_needs")
    zones = needs[needs["level"] == "area"].set_index("name")["zone"].to_dict()
    assert zones == {"Mezzolombardo": "core", "Mezzocorona": "core",
                     "San Michele all'Adige": "extension"}  # fmt: skip
    assert result.written["commercial_units"] > 100
    assert "© OpenStreetMap contributors" in json.dumps(result.manifest, ensure_ascii=False)
