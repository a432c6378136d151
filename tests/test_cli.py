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
    result = _cli("run", "config/pioltello.yml", "--out", tmp_path)
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
