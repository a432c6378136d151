"""Shared fixtures. Tests run offline; the OSM cache lives in a per-session folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "config" / "sample.yml"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the tests' OSM cache out of the user's home, shared across the session."""
    os.environ["GEODISTRICT_CACHE"] = str(tmp_path_factory.mktemp("geodistrict-cache"))


@pytest.fixture(scope="session")
def sample_config():  # type: ignore[no-untyped-def]
    from geodistrict import load_config

    return load_config(SAMPLE_CONFIG)


@pytest.fixture(scope="session")
def sample_layers(sample_config):  # type: ignore[no-untyped-def]
    from geodistrict import load_base_layers

    return load_base_layers(sample_config)
