"""Root pytest configuration: applies to the tests and to the docstring examples."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the OSM cache of tests and doctests out of the user's home, shared per session."""
    os.environ["GEODISTRICT_CACHE"] = str(tmp_path_factory.mktemp("geodistrict-cache"))
