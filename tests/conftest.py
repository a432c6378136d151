"""Shared fixtures; the OSM cache is isolated by the root conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "config" / "sample.yml"


@pytest.fixture(scope="session")
def sample_config():  # type: ignore[no-untyped-def]
    from geodistrict import load_config

    return load_config(SAMPLE_CONFIG)


@pytest.fixture(scope="session")
def sample_layers(sample_config):  # type: ignore[no-untyped-def]
    from geodistrict import load_base_layers

    return load_base_layers(sample_config)


# Run by Debian's system Python with PyQGIS, not collected (nor imported for doctests) here.
collect_ignore = ["qgis_probe.py", "fieldwork_probe.py"]
