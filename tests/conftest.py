"""Shared fixtures; the OSM cache is isolated by the root conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "config" / "sample.yml"
ITALIAN_CONFIG = ROOT / "config" / "piana_rotaliana.yml"


@pytest.fixture(scope="session")
def sample_config():  # type: ignore[no-untyped-def]
    from geodistrict import load_config

    return load_config(SAMPLE_CONFIG)


@pytest.fixture(scope="session")
def sample_layers(sample_config):  # type: ignore[no-untyped-def]
    from geodistrict import load_base_layers

    return load_base_layers(sample_config)


@pytest.fixture(scope="session")
def sample_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``OUT/sample``: one whole run of the Helsinki sample (English), shared by the session.

    Read-only for tests: copy it (``shutil.copytree(..., symlinks=True)``) to write into it.
    """
    from geodistrict import load_config, run

    out = tmp_path_factory.mktemp("sample_output")
    return run(load_config(SAMPLE_CONFIG), out=out).folder


@pytest.fixture(scope="session")
def italian_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``OUT/piana_rotaliana``: one whole run of the Italian sample, shared by the session.

    Read-only for tests: copy it (``shutil.copytree(..., symlinks=True)``) to write into it.
    """
    from geodistrict import load_config, run

    out = tmp_path_factory.mktemp("italian_output")
    return run(load_config(ITALIAN_CONFIG), out=out).folder


# Run by Debian's system Python with PyQGIS, not collected (nor imported for doctests) here.
collect_ignore = [
    "qgis_probe.py",
    "fieldwork_probe.py",
    "qgis_project_probe.py",
    "qgis_tiles_probe.py",
]
