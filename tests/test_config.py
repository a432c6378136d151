"""Tests of geodistrict.config: the shipped configurations and every kind of bad file.

Bad configurations are written into ``tmp_path``; each test checks that the
:class:`ConfigError` message names the file, the key path and the bad value.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from geodistrict.config import (
    CommerceConfig,
    CyclingConfig,
    DistrictConfig,
    SurveysConfig,
    VacancyConfig,
    load_config,
)
from geodistrict.errors import ConfigError, GeodistrictError, InputFileNotFoundError

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / "config"

HEAD = "district: demo\ntitle: Demo district\n"
AREA = "area:\n  bbox: [9.0, 45.0, 9.1, 45.1]\n"


def write(folder: Path, text: str, name: str = "district.yml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def assert_names(message: str, path: Path, key: str, *fragments: str) -> None:
    """The message names the file, has a line for ``key`` and contains every fragment."""
    assert str(path) in message, message
    assert f"  - {key}: " in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# --- shipped configurations -------------------------------------------------------


def test_sample_config_loads() -> None:
    cfg = load_config(CONFIG_DIR / "sample.yml")
    assert isinstance(cfg, DistrictConfig)
    assert cfg.district == "sample"
    assert cfg.area.bbox == (24.9352, 60.1642, 24.9534, 60.1791)
    assert cfg.area.places is None and cfg.area.file is None
    assert cfg.osm.source == "sample"
    assert cfg.osm.path is None
    assert cfg.crs == "auto"
    assert cfg.source_file == (CONFIG_DIR / "sample.yml").resolve()
    expected = {
        "vacant_units": ROOT / "geodistrict" / "data" / "sample" / "vacant_units.csv",
        "firms": ROOT / "geodistrict" / "data" / "sample" / "firms.csv",
    }
    for key, want in expected.items():
        got = getattr(cfg.surveys, key)
        assert got is not None
        assert got.is_absolute(), got
        assert got.is_file(), got
        assert got == want.resolve()
        assert ".." not in got.parts


def test_sample_config_loads_from_another_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(CONFIG_DIR / "sample.yml")
    assert cfg.surveys.firms == (ROOT / "geodistrict" / "data" / "sample" / "firms.csv").resolve()
    assert cfg.surveys.vacant_units is not None and cfg.surveys.vacant_units.is_file()


def test_packaged_sample_is_the_same_district_as_config_sample() -> None:
    """gd.datasets.sample_config() (inside the package) and config/sample.yml must not drift."""
    from geodistrict import datasets

    repo = load_config(CONFIG_DIR / "sample.yml").model_dump(exclude={"source_file"})
    packaged = datasets.sample_config().model_dump(exclude={"source_file"})
    assert packaged == repo


def test_zingonia_config_loads() -> None:
    # Loads although the Geofabrik extract it reads is not in the repository.
    cfg = load_config(CONFIG_DIR / "zingonia.yml")
    assert cfg.district == "zingonia"
    assert cfg.area.bbox is None and cfg.area.places is None
    assert cfg.area.file == ROOT / "data" / "istat" / "comuni_zingonia.geojson"
    assert cfg.area.names is not None and len(cfg.area.names) == 12
    assert cfg.area.buffer_m == 500
    assert cfg.osm.source == "pbf"
    assert cfg.osm.path == ROOT / "data" / "osm" / "nord-ovest-latest.osm.pbf"
    assert cfg.production.core_municipalities == [
        "Ciserano",
        "Verdellino",
        "Osio Sopra",
        "Osio Sotto",
        "Boltiere",
    ]
    assert len(cfg.production.extension_municipalities) == 7
    assert cfg.production.min_group_size == 5
    # Core and extension together are exactly the comuni of the area.
    municipalities = cfg.production.core_municipalities + cfg.production.extension_municipalities
    assert sorted(municipalities) == sorted(cfg.area.names)


def test_pioltello_config_loads() -> None:
    cfg = load_config(CONFIG_DIR / "pioltello.yml")
    assert cfg.district == "pioltello"
    assert cfg.area.file == ROOT / "data" / "istat" / "comuni_pioltello.geojson"
    assert cfg.area.names == ["Pioltello"]
    assert cfg.area.buffer_m == 300
    assert cfg.osm.source == "pbf"
    assert cfg.commerce.h3_resolution == 9
    assert cfg.commerce.kde_bandwidth_m == 200
    assert cfg.surveys == SurveysConfig()


# --- exception types --------------------------------------------------------------


def test_config_error_is_value_error(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "area:\n  bbox: [9.1, 45.0, 9.0, 45.1]\n")
    with pytest.raises(ValueError) as info:
        load_config(path)
    assert isinstance(info.value, ConfigError)
    assert isinstance(info.value, GeodistrictError)
    assert issubclass(ConfigError, ValueError)


def test_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "district.yml"
    with pytest.raises(FileNotFoundError) as info:
        load_config(missing)
    assert isinstance(info.value, InputFileNotFoundError)
    assert isinstance(info.value, GeodistrictError)
    assert str(missing) in str(info.value)


def test_config_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputFileNotFoundError):
        load_config(tmp_path)


# --- unknown keys -----------------------------------------------------------------


def test_unknown_top_level_key_near_miss(tmp_path: Path) -> None:
    path = write(tmp_path, "distrct: demo\ntitle: Demo\n" + AREA)
    message = error_of(path)
    assert_names(message, path, "distrct", "unknown key", "'demo'", "did you mean 'district'?")
    # The real key is then missing, and both problems are reported.
    assert "  - district: required key is missing" in message


def test_unknown_top_level_key_far_off_lists_known_keys(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + AREA + "zzzz: 42\n")
    message = error_of(path)
    assert_names(message, path, "zzzz", "unknown key", "42", "known keys:", "district", "osm")
    assert "did you mean" not in message
    assert "source_file" not in message


def test_unknown_nested_key(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "area:\n  bbox: [9.0, 45.0, 9.1, 45.1]\n  bufer_m: 300\n")
    message = error_of(path)
    assert_names(message, path, "area.bufer_m", "unknown key", "300", "did you mean 'buffer_m'?")


def test_unknown_key_in_surveys(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + AREA + "surveys:\n  firm: firms.csv\n")
    message = error_of(path)
    assert_names(message, path, "surveys.firm", "'firms.csv'", "did you mean 'firms'?")


# --- wrong values -----------------------------------------------------------------

BAD_VALUES = [
    pytest.param(
        HEAD + "area:\n  bbox: [9.0, 45.0, 9.1, 45.1]\n  buffer_m: lots\n",
        "area.buffer_m",
        ["'lots'", "valid number"],
        id="buffer-wrong-type",
    ),
    pytest.param(
        HEAD + "area:\n  bbox: [9.0, 45.0, 9.1, 45.1]\n  buffer_m: -5\n",
        "area.buffer_m",
        ["(value -5)", "greater than or equal to 0"],
        id="buffer-negative",
    ),
    pytest.param(
        HEAD + AREA + "commerce:\n  h3_resolution: 20\n",
        "commerce.h3_resolution",
        ["(value 20)", "less than or equal to 12"],
        id="h3-too-fine",
    ),
    pytest.param(
        HEAD + AREA + "commerce:\n  h3_resolution: 9.5\n",
        "commerce.h3_resolution",
        ["(value 9.5)", "integer"],
        id="h3-fractional",
    ),
    pytest.param(
        HEAD + AREA + "cycling:\n  lts_threshold: 7\n",
        "cycling.lts_threshold",
        ["(value 7)", "less than or equal to 4"],
        id="lts-out-of-range",
    ),
    pytest.param(
        HEAD + AREA + "vacancy:\n  weights:\n    footfall: high\n",
        "vacancy.weights.footfall",
        ["'high'", "valid number"],
        id="weight-not-a-number",
    ),
    pytest.param(
        HEAD + "area:\n  bbox: [9.1, 45.0, 9.0, 45.1]\n",
        "area.bbox",
        ["west (9.1) must be less than east (9.0)", "[9.1, 45.0, 9.0, 45.1]"],
        id="bbox-west-east",
    ),
    pytest.param(
        HEAD + "area:\n  bbox: [9.0, 45.1, 9.1, 45.0]\n",
        "area.bbox",
        ["south (45.1) must be less than north (45.0)", "[9.0, 45.1, 9.1, 45.0]"],
        id="bbox-south-north",
    ),
    pytest.param(
        HEAD + "area:\n  bbox: [35.6, 139.6, 35.7, 139.8]\n",
        "area.bbox",
        ["swapped", "south=139.6", "[35.6, 139.6, 35.7, 139.8]"],
        id="bbox-lat-lon-swapped",
    ),
    pytest.param(
        HEAD + "area:\n  bbox: [9.0, 45.0, 9.1]\n",
        "area.bbox[3]",
        ["missing"],
        id="bbox-three-numbers",
    ),
    pytest.param(
        HEAD + "area:\n  bbox: [9.0, north, 9.1, 45.1]\n",
        "area.bbox[1]",
        ["'north'"],
        id="bbox-not-a-number",
    ),
    pytest.param(
        HEAD + "area:\n  bbox: [9.0, 45.0, 9.1, 45.1]\n  places: [Pioltello]\n",
        "area",
        ["exactly one of 'places', 'file' or 'bbox'", "(got places, bbox)"],
        id="bbox-and-places",
    ),
    pytest.param(
        HEAD + "area:\n  buffer_m: 100\n",
        "area",
        ["exactly one of 'places', 'file' or 'bbox'"],
        id="no-area-kind",
    ),
    pytest.param(
        HEAD + "area:\n  places: []\n",
        "area.places",
        ["at least one place", "(value [])"],
        id="places-empty",
    ),
    pytest.param(
        HEAD + "area:\n  places: ['Pioltello', '  ']\n",
        "area.places",
        ["blank", "'  '"],
        id="places-blank",
    ),
    pytest.param(
        HEAD + "area:\n  bbox: [9.0, 45.0, 9.1, 45.1]\n  layer: confini\n",
        "area",
        ["'layer' only applies together with 'file'"],
        id="layer-without-file",
    ),
    pytest.param(
        HEAD + AREA + "osm:\n  source: pbf\n",
        "osm",
        ["source 'pbf' needs 'path'"],
        id="pbf-without-path",
    ),
    pytest.param(
        HEAD + AREA + "osm:\n  source: geofabrik\n",
        "osm.source",
        ["'geofabrik'", "'pbf'"],
        id="unknown-source",
    ),
    pytest.param(
        HEAD + AREA + "osm: pbf\n",
        "osm",
        ["(value 'pbf')", "dictionary"],
        id="section-not-a-mapping",
    ),
    pytest.param(
        "district: My District\ntitle: Demo\n" + AREA,
        "district",
        ["'My District'", "lower-case"],
        id="district-id-with-spaces",
    ),
    pytest.param(
        "district: demo\n" + AREA,
        "title",
        ["required key is missing"],
        id="title-missing",
    ),
    pytest.param(
        HEAD + AREA + "crs: EPSG:4326\n",
        "crs",
        ["'EPSG:4326'", "projected", "geographic"],
        id="crs-geographic",
    ),
    pytest.param(
        HEAD + AREA + "crs: EPSG:999999\n",
        "crs",
        ["'EPSG:999999'", "unknown CRS"],
        id="crs-unknown-code",
    ),
    pytest.param(
        HEAD + AREA + "crs: not-a-crs\n",
        "crs",
        ["'not-a-crs'", "unknown CRS"],
        id="crs-gibberish",
    ),
]


@pytest.mark.parametrize(("text", "key", "fragments"), BAD_VALUES)
def test_bad_value_is_reported(tmp_path: Path, text: str, key: str, fragments: list[str]) -> None:
    path = write(tmp_path, text)
    message = error_of(path)
    assert_names(message, path, key, *fragments)
    assert "1 error(s)" in message


def test_projected_crs_accepted(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, HEAD + AREA + "crs: EPSG:32632\n"))
    assert cfg.crs == "EPSG:32632"


# --- input files ------------------------------------------------------------------


def test_missing_extract_is_reported_when_read_with_resolved_path(tmp_path: Path) -> None:
    # The configuration loads (its study area needs no extract); reading the extract fails.
    path = write(
        tmp_path / "cfg", HEAD + AREA + "osm:\n  source: pbf\n  path: nord-ovest.osm.pbf\n"
    )
    cfg = load_config(path)
    resolved = tmp_path / "cfg" / "nord-ovest.osm.pbf"
    assert cfg.osm.path == resolved
    with pytest.raises(InputFileNotFoundError) as info:
        cfg.osm.extract()
    message = str(info.value)
    assert "osm.path" in message and repr(str(resolved)) in message
    assert "download.geofabrik.de" in message


def test_extract_path_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "nord-ovest.osm.pbf").mkdir()
    path = write(tmp_path, HEAD + AREA + "osm:\n  source: pbf\n  path: nord-ovest.osm.pbf\n")
    assert_names(error_of(path), path, "osm.path", "is a folder")


def test_missing_survey_file_names_resolved_path(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + AREA + "surveys:\n  firms: rilievi/imprese.csv\n")
    message = error_of(path)
    resolved = tmp_path / "rilievi" / "imprese.csv"
    assert_names(message, path, "surveys.firms", "file not found", str(resolved))
    assert "'rilievi/imprese.csv'" in message


def test_pbf_source_with_wrong_suffix(tmp_path: Path) -> None:
    (tmp_path / "nord-ovest.osm").write_text("<osm/>\n")
    path = write(tmp_path, HEAD + AREA + "osm:\n  source: pbf\n  path: nord-ovest.osm\n")
    message = error_of(path)
    assert_names(message, path, "osm", ".osm.pbf", "'nord-ovest.osm'")


def test_pbf_source_with_right_suffix(tmp_path: Path) -> None:
    (tmp_path / "nord-ovest.osm.pbf").write_bytes(b"\x00")
    cfg = load_config(
        write(tmp_path, HEAD + AREA + "osm:\n  source: pbf\n  path: nord-ovest.osm.pbf\n")
    )
    assert cfg.osm.source == "pbf"
    assert cfg.osm.path == (tmp_path / "nord-ovest.osm.pbf").resolve()


def test_sample_source_takes_no_path(tmp_path: Path) -> None:
    (tmp_path / "extract.osm.pbf").write_bytes(b"\x00")
    path = write(tmp_path, HEAD + AREA + "osm:\n  source: sample\n  path: extract.osm.pbf\n")
    message = error_of(path)
    assert_names(message, path, "osm", "takes no 'path'", "extract.osm.pbf")


@pytest.mark.parametrize("value", ["''", "rilievi"])
def test_survey_path_that_is_a_folder_is_rejected(tmp_path: Path, value: str) -> None:
    (tmp_path / "rilievi").mkdir()
    path = write(tmp_path, HEAD + AREA + f"surveys:\n  firms: {value}\n")
    message = error_of(path)
    assert_names(message, path, "surveys.firms", "not a file")


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("commerce:\n  h3_resolution: true\n", "commerce.h3_resolution", "True"),
        ("commerce:\n  h3_resolution: '9'\n", "commerce.h3_resolution", "'9'"),
        ("area:\n  bbox: [9.0, 45.0, 9.1, 45.1]\n  buffer_m: .inf\n", "area.buffer_m", "inf"),
    ],
)
def test_numbers_are_not_coerced(tmp_path: Path, text: str, key: str, value: str) -> None:
    body = HEAD + (text if text.startswith("area") else AREA + text)
    path = write(tmp_path, body)
    assert_names(error_of(path), path, key, value)


def test_crs_auto_is_case_insensitive(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + AREA + "crs: AUTO\n")
    assert load_config(path).crs == "auto"


def test_duplicated_yaml_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + AREA + "crs: auto\ncrs: EPSG:32632\n")
    message = error_of(path)
    assert str(path) in message and "duplicated key 'crs'" in message and "line 6" in message


# --- relative paths ---------------------------------------------------------------


def test_relative_survey_paths_resolve_against_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "district" / "rilievi" / "imprese.csv"
    decoy = tmp_path / "elsewhere" / "rilievi" / "imprese.csv"
    for file in (real, decoy):
        file.parent.mkdir(parents=True)
        file.write_text("id\n1\n")
    config = write(tmp_path / "district", HEAD + AREA + "surveys:\n  firms: rilievi/imprese.csv\n")
    monkeypatch.chdir(tmp_path / "elsewhere")
    cfg = load_config(config)
    assert cfg.surveys.firms == real.resolve()
    assert cfg.surveys.firms != decoy.resolve()


def test_relative_survey_path_existing_only_under_cwd_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    beside_cwd = tmp_path / "cwd" / "imprese.csv"
    beside_cwd.parent.mkdir()
    beside_cwd.write_text("id\n1\n")
    config = write(tmp_path / "district", HEAD + AREA + "surveys:\n  firms: imprese.csv\n")
    monkeypatch.chdir(tmp_path / "cwd")
    message = error_of(config)
    assert_names(message, config, "surveys.firms", str(tmp_path / "district" / "imprese.csv"))


def test_relative_config_path_gives_absolute_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    survey = tmp_path / "data" / "locali.csv"
    survey.parent.mkdir()
    survey.write_text("id\n1\n")
    write(tmp_path / "cfg", HEAD + AREA + "surveys:\n  vacant_units: ../data/locali.csv\n")
    monkeypatch.chdir(tmp_path)
    cfg = load_config("cfg/district.yml")
    assert cfg.surveys.vacant_units == survey.resolve()
    assert cfg.surveys.vacant_units.is_absolute()
    assert cfg.source_file == (tmp_path / "cfg" / "district.yml").resolve()


# --- whole-file problems ----------------------------------------------------------


def test_malformed_yaml_reports_line(tmp_path: Path) -> None:
    text = HEAD + "area:\n  bbox: [9.0, 45.0, 9.1, 45.1]\n  buffer_m: [100\ncrs: auto\n"
    path = write(tmp_path, text)
    message = error_of(path)
    assert str(path) in message
    assert "malformed YAML" in message
    assert "line 6" in message, message


def test_yaml_with_tab_indent_reports_line(tmp_path: Path) -> None:
    path = write(tmp_path, "district: demo\n\ttitle: Demo\n")
    message = error_of(path)
    assert str(path) in message
    assert "at line 2" in message, message


def test_yaml_list_instead_of_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- district: demo\n- title: Demo\n")
    message = error_of(path)
    assert str(path) in message
    assert "expected a mapping" in message
    assert "list" in message
    assert "'district': 'demo'" in message


def test_empty_yaml_file(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing here\n")
    message = error_of(path)
    assert str(path) in message
    assert "expected a mapping" in message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "district.yml"
    path.write_bytes(HEAD.encode() + "title: Citt\u00e0\n".encode("latin-1") + AREA.encode())
    message = error_of(path)
    assert str(path) in message
    assert "UTF-8" in message


def test_empty_sections_are_defaults(tmp_path: Path) -> None:
    text = HEAD + AREA + "osm:\nsurveys:\ncommerce:\nvacancy:\ncycling:\nproduction:\noutput:\n"
    cfg = load_config(write(tmp_path, text))
    assert cfg.surveys == SurveysConfig()
    assert cfg.commerce == CommerceConfig()
    assert cfg.commerce.h3_resolution == 9
    assert cfg.vacancy == VacancyConfig()
    assert cfg.cycling == CyclingConfig()
    assert cfg.osm.source == "sample"
    assert cfg.production.core_municipalities == []
    assert cfg.output.dir == Path("out")


def test_empty_area_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "area:\n")
    message = error_of(path)
    assert_names(message, path, "area", "(value None)")


def test_several_errors_reported_at_once(tmp_path: Path) -> None:
    text = (
        "district: My District\n"
        "title: Demo\n"
        "area:\n"
        "  bbox: [9.1, 45.0, 9.0, 45.1]\n"
        "  buffer_m: lots\n"
        "crs: EPSG:4326\n"
        "commerce:\n"
        "  h3_resolution: 20\n"
        "distrct: typo\n"
    )
    path = write(tmp_path, text)
    message = error_of(path)
    assert str(path) in message
    assert "6 error(s)" in message, message
    for key, value in [
        ("district", "'My District'"),
        ("area.bbox", "west (9.1)"),
        ("area.buffer_m", "'lots'"),
        ("crs", "'EPSG:4326'"),
        ("commerce.h3_resolution", "(value 20)"),
        ("distrct", "did you mean 'district'?"),
    ]:
        line = next((ln for ln in message.splitlines() if ln.startswith(f"  - {key}: ")), None)
        assert line is not None, f"no line for {key} in {message!r}"
        assert value in line, line


# --- command line -----------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_cli_check_bad_config(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + AREA + "commerce:\n  h3_resolution: 20\n", name="bad.yml")
    result = run_cli("check", str(path))
    assert result.returncode == 2, result
    assert "bad.yml" in result.stderr
    assert str(path) in result.stderr
    assert "commerce.h3_resolution" in result.stderr
    assert "(value 20)" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout


def test_cli_check_missing_config(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yml"
    result = run_cli("check", str(missing))
    assert result.returncode == 2, result
    assert "absent.yml" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
