"""Root pytest configuration: applies to the tests and to the docstring examples."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the OSM cache of tests and doctests out of the user's home, shared per session."""
    os.environ["GEODISTRICT_CACHE"] = str(tmp_path_factory.mktemp("geodistrict-cache"))


# Files whose tests start servers, QGIS or notebooks: the integration tests.
_INTEGRATION = {
    "test_publish.py", "test_qgis.py", "test_notebooks.py", "test_cli.py", "test_web.py",
}  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark integration tests and the tests and examples that load the sample district.

    ``make check`` deselects both for a run of seconds; ``make test`` runs everything.
    """
    for item in items:
        if item.path.name in _INTEGRATION:
            item.add_marker(pytest.mark.integration)
        fixtures = getattr(item, "fixturenames", ())
        if isinstance(item, pytest.DoctestItem):
            source = "".join(example.source for example in item.dtest.examples)
            if "sample" in source or "load_base_layers" in source:
                item.add_marker(pytest.mark.slow)
        elif any("sample" in name for name in fixtures):
            item.add_marker(pytest.mark.slow)
