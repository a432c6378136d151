"""End to end through the real command line, as a user runs it."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "geodistrict.cli"]
BASE_LAYERS = {"study_area", "streets", "pois", "buildings", "landuse", "transit_stops"}


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, cwd=ROOT, check=False
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    result = _cli("run", "config/sample.yml", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "© OpenStreetMap contributors" in result.stdout
    return out


def test_run_writes_every_base_layer_non_empty(sample_run: Path) -> None:
    gpkg = sample_run / "sample" / "sample.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert layers >= BASE_LAYERS
    for name in BASE_LAYERS:
        frame = gpd.read_file(gpkg, layer=name)
        assert len(frame) > 0, name
        assert frame.crs.to_epsg() == 32635, name
        assert (sample_run / "sample" / "parquet" / f"{name}.parquet").is_file()


def test_layers_command_lists_what_was_written(sample_run: Path) -> None:
    result = _cli("layers", sample_run / "sample")
    assert result.returncode == 0, result.stderr
    for name in BASE_LAYERS:
        assert name in result.stdout
    # the Helsinki sample is configured in English: English titles and words
    assert "Study area" in result.stdout and "Points of interest" in result.stdout
    assert ", updated " in result.stdout.splitlines()[0]


# --- the district's language: an Italian district reads Italian ------------------------------

#: English words of the command line that must not reach the reader of an Italian district.
FORBIDDEN_ENGLISH = ("layer", "layers", "feature", "features", "wrote", "written", "warning",
                     "steps", "updated", "version", "units", "vacant", "weights", "preset",
                     "map data")  # fmt: skip


def _english_words(text: str) -> list[str]:
    """The forbidden English words in ``text`` (whole words; machine names are left alone)."""
    import re

    return [w for w in FORBIDDEN_ENGLISH if re.search(rf"(?<![\w/.-]){w}(?![\w/.-])", text, re.I)]


@pytest.mark.slow
def test_layers_of_an_italian_district_are_italian(italian_output: Path) -> None:
    import json

    from geodistrict.catalogue import LAYERS

    result = _cli("layers", italian_output)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((italian_output / "layers.json").read_text(encoding="utf-8"))
    lines = result.stdout.splitlines()
    assert "aggiornato il" in lines[0] and "versione" in lines[0]
    for name, entry in manifest["layers"].items():
        line = next(ln for ln in lines if ln.split()[0] == name)
        assert line.rstrip().endswith(LAYERS[name].title_it), line
        # feature counts with the Italian thousands separator
        assert line.split()[1] == f"{entry['features']:,}".replace(",", "."), line
    assert "Densità commerciale" in result.stdout  # the raster's Italian title
    assert "Poligono" in result.stdout and "Polygon" not in result.stdout
    assert _english_words(result.stdout) == [], result.stdout


@pytest.mark.slow
def test_rank_of_an_italian_district_is_italian(italian_output: Path) -> None:
    result = _cli("rank", italian_output, "--top", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "locali sfitti rimessi in graduatoria (Somma pesata, profilo rigenerazione)" in lines[0]
    assert lines[1].startswith("  pesi: ") and "=0,5" in lines[1]
    top = lines[2].split()
    assert top[0] == "1" and "," in top[2] and "." not in top[2]  # the score, decimal comma
    assert "Dati cartografici © OpenStreetMap contributors" in result.stdout
    assert _english_words(result.stdout) == [], result.stdout


@pytest.mark.slow
def test_run_summary_of_an_italian_district_is_italian(tmp_path: Path) -> None:
    result = _cli("run", "config/piana_rotaliana.yml", "--out", tmp_path, "--only", "base")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert ": scritti 6 strati in " in lines[0], lines[0]
    assert any(ln.split()[:1] == ["streets"] and ln.rstrip().endswith(" elementi") for ln in lines)
    assert any(ln.strip().startswith("fasi: base ") and ln.rstrip().endswith(" s") for ln in lines)
    assert "Dati cartografici © OpenStreetMap contributors (ODbL)" in result.stdout
    assert _english_words(result.stdout.replace(str(tmp_path), "")) == [], result.stdout


def test_unknown_step_is_a_user_error(tmp_path: Path) -> None:
    result = _cli("run", "config/sample.yml", "--out", tmp_path, "--only", "nonsense")
    assert result.returncode == 2
    assert "nonsense" in result.stderr and "base" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_is_a_user_error() -> None:
    result = _cli("run", "config/nowhere.yml")
    assert result.returncode == 2
    assert "nowhere.yml" in result.stderr and "Traceback" not in result.stderr


def test_layers_of_an_empty_folder_is_explained(tmp_path: Path) -> None:
    result = _cli("layers", tmp_path)
    assert result.returncode == 2 and "geodistrict run" in result.stderr


def test_offline_overpass_exits_3_with_the_pbf_recipe(tmp_path: Path) -> None:
    # The shipped Pioltello district with Overpass instead of its Geofabrik extract.
    config = yaml.safe_load((ROOT / "config" / "pioltello.yml").read_text(encoding="utf-8"))
    config["area"]["file"] = str(ROOT / "data" / "istat" / "comuni_pioltello.geojson")
    config["osm"] = {"source": "overpass"}
    online = tmp_path / "pioltello-overpass.yml"
    online.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = _cli("run", online, "--out", tmp_path)
    if result.returncode == 0:  # pragma: no cover - CI machines are offline
        pytest.skip("this machine is online")
    assert result.returncode == 3, result.stderr
    assert "source: pbf" in result.stderr and "Traceback" not in result.stderr


def test_failing_run_leaves_the_previous_outputs_intact(sample_run: Path, tmp_path: Path) -> None:
    """A run that fails midway (bad survey after the OSM step) changes nothing."""
    out = tmp_path / "out"
    shutil.copytree(sample_run, out)
    gpkg = out / "sample" / "sample.gpkg"
    before = _sha(gpkg), _sha(out / "sample" / "layers.json")

    bad_survey = tmp_path / "vacant_units.csv"
    lines = (
        (ROOT / "geodistrict" / "data" / "sample" / "vacant_units.csv").read_text().splitlines()
    )
    header = lines[0].split(",")
    row = lines[3].split(",")
    row[header.index("floor_area_m2")] = "-40"
    bad_survey.write_text("\n".join([lines[0], lines[1], lines[2], ",".join(row)]) + "\n")
    config = yaml.safe_load((ROOT / "config" / "sample.yml").read_text())
    config["surveys"] = {"vacant_units": str(bad_survey)}
    bad_config = tmp_path / "sample.yml"
    bad_config.write_text(yaml.safe_dump(config))

    result = _cli("run", bad_config, "--out", out)
    assert result.returncode == 2
    assert "vacant_units.csv" in result.stderr and "row 4" in result.stderr
    assert "floor_area_m2" in result.stderr and "Traceback" not in result.stderr
    assert (_sha(gpkg), _sha(out / "sample" / "layers.json")) == before
    assert len(gpd.read_file(gpkg, layer="pois")) > 0


# --- geodistrict check: every survey file, every problem, as run would find them ----------


def _district_with_surveys(tmp_path: Path, sfitti: str, imprese: str) -> Path:
    """The sample district with Italian survey exports (';', decimal comma, cp1252)."""
    vacant, firms = tmp_path / "sfitti.csv", tmp_path / "imprese.csv"
    vacant.write_bytes(sfitti.encode("cp1252"))
    firms.write_bytes(imprese.encode("cp1252"))
    config = yaml.safe_load((ROOT / "config" / "sample.yml").read_text())
    config["surveys"] = {"vacant_units": str(vacant), "firms": str(firms)}
    path = tmp_path / "distretto.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return path


SFITTI = (
    "Codice unità;Indirizzo;Longitudine;Latitudine;Superficie (m²);Piano terra;Sfitto dal;"
    "Stato;Proprietà;{rent};Telefono referente\r\n"
    "S01;Eteläesplanadi 25;24,948433;60,166922;61,7;sì;01/12/2017;buono;privata;1.500;\r\n"
    "S02;Uudenmaankatu 16;24,942488;60,164565;{area};sì;01/01/2020;discreto;privata;2.670;"
    "02 1234567\r\n"
)
IMPRESE = (
    "ID impresa;Ragione sociale;Longitudine;Latitudine;Comune;Codice ATECO;Numero addetti\r\n"
    "F01;Rossi Srl;24,937883;60,175579;Kamppi;25.62;6\r\n"
    "F02;Bianchi Snc;24,937413;60,166851;Punavuori;{ateco};12\r\n"
)


def test_check_reports_every_problem_of_every_survey_file(tmp_path: Path) -> None:
    config = _district_with_surveys(
        tmp_path,
        SFITTI.format(rent="Canone annuo (€)", area="-69,6"),
        IMPRESE.format(ateco="34.10"),
    )
    result = _cli("check", config)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    err = result.stderr
    assert "sfitti.csv" in err and "imprese.csv" in err  # the second file is checked too
    # the division check that `run` used to make only in the production analysis
    assert "imprese.csv, row 3, column 'Codice ATECO'" in err and "'34'" in err
    # the near-miss header: reported with the nearest accepted names, not dropped
    assert "sfitti.csv, row 1, column 'Canone annuo (€)'" in err
    assert "'asking_rent_eur_month'" in err and "'canone_richiesto'" in err
    assert "sfitti.csv, row 3, column 'Superficie (m²)'" in err
    assert "survey files are valid" not in result.stdout

    # run stops on the very same problems, before writing anything
    out = tmp_path / "out"
    ran = _cli("run", config, "--out", out)
    assert ran.returncode == 2 and "Traceback" not in ran.stderr
    assert [ln for ln in ran.stderr.splitlines() if ln.startswith("  - ")] == [
        ln for ln in err.splitlines() if ln.startswith("  - ")
    ]
    assert not (out / "sample" / "layers.json").exists()


def test_check_accepts_italian_headers_and_warns_of_extra_columns(tmp_path: Path) -> None:
    config = _district_with_surveys(
        tmp_path,
        SFITTI.format(rent="Canone richiesto (€/mese)", area="69,6"),
        IMPRESE.format(ateco="C10.71"),
    )
    result = _cli("check", config)
    assert result.returncode == 0, result.stderr
    assert "configuration is valid" in result.stdout
    assert "survey files are valid" in result.stdout
    # the one column no field takes is listed once, at WARNING, with the way to fix it
    warnings = [ln for ln in result.stderr.splitlines() if ln.startswith("WARNING")]
    assert (
        len(warnings) == 1
        and "sfitti.csv" in warnings[0]
        and "'Telefono referente'" in warnings[0]
    )
    assert "Canone" not in warnings[0]  # the rent was read, not kept aside


def test_check_reports_configuration_and_survey_problems_together(tmp_path: Path) -> None:
    config = _district_with_surveys(
        tmp_path, SFITTI.format(rent="Canone", area="69,6"), IMPRESE.format(ateco="A25.62")
    )
    settings = yaml.safe_load(config.read_text())
    settings["production"]["extension_municipalities"] = ["Kamppi"]  # also core
    config.write_text(yaml.safe_dump(settings, allow_unicode=True))
    result = _cli("check", config)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 2, result.stderr
    assert "production.core_municipalities" in errors[0]
    assert "imprese.csv, row 3, column 'Codice ATECO'" in result.stderr
    assert "section letter 'A'" in result.stderr
