"""The house rules of the package, checked on its source (see CONTRIBUTING.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import geodistrict as gd

PACKAGE = Path(gd.__file__).resolve().parent
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "data" not in p.relative_to(PACKAGE).parts)
# Analyses: plain functions over GeoDataFrames and graphs, knowing nothing of the
# configuration file, the ingestion or the pipeline.
ANALYSES = ("commerce", "cycling", "production", "priority", "vacancy", "taxonomy",
            "siting", "hexagons", "network", "sources/surveys", "geocode",
            "sources/register", "population", "indicators", "monitoring", "regional")  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def test_no_module_is_too_long() -> None:
    long = {_rel(p): n for p in MODULES if (n := len(p.read_text().splitlines())) > 900}
    assert long == {}


def test_one_network_engine() -> None:
    """Shortest paths and graph components are computed in geodistrict/network only."""
    outside = [
        _rel(p)
        for p in MODULES
        if not _rel(p).startswith("network/")
        and any(name.startswith("scipy.sparse.csgraph") for name in _imports(p))
    ]
    assert outside == []


@pytest.mark.parametrize("subject", ANALYSES)
def test_analyses_do_not_know_the_pipeline(subject: str) -> None:
    root = PACKAGE / subject
    files = sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]
    banned = ("geodistrict.config", "geodistrict.ingest", "geodistrict.pipeline")
    bad = {
        _rel(f): sorted(i for i in _imports(f) if i.startswith(banned))
        for f in files
        if any(i.startswith(banned) for i in _imports(f))
    }
    assert bad == {}


def test_examples_do_not_depend_on_the_working_folder() -> None:
    """Docstring examples use gd.datasets, not a path relative to the repository."""
    relative = [_rel(p) for p in MODULES if '"config/sample.yml"' in p.read_text()]
    assert relative == []


def test_examples_run_from_another_folder(tmp_path: Path) -> None:
    root = PACKAGE.parent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(root),
         "-c", str(root / "pyproject.toml"), str(PACKAGE / "datasets.py"),
         str(PACKAGE / "network" / "engine.py"), str(PACKAGE / "siting.py")],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]
    assert " passed" in done.stdout


def test_errors_are_geodistrict_errors_and_builtins() -> None:
    assert issubclass(gd.ParameterError, gd.GeodistrictError)
    assert issubclass(gd.ParameterError, ValueError)
    assert issubclass(gd.MissingColumnError, KeyError)
    assert str(gd.MissingColumnError("units", "category", hint="classify them")) == (
        "units have no column 'category': classify them"
    )


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's "From Python" block is what a notebook user types first."""
    root = PACKAGE.parent
    text = (root / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(root)
    namespace: dict[str, object] = {}
    exec(code.replace('out="out"', f"out={str(tmp_path)!r}"), namespace)
    assert len(namespace["centres"]) > 0  # type: ignore[arg-type]
    assert set(namespace["iso"]["mode"]) == {"walk", "bike", "bike_low_stress"}  # type: ignore[index]
    assert (tmp_path / "sample" / "layers.json").is_file()
    import folium  # the README's explore(): a folium map credited to OpenStreetMap

    assert isinstance(namespace["m"], folium.Map)
    assert "OpenStreetMap contributors" in namespace["m"].get_root().render()  # type: ignore[attr-defined]
