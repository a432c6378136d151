"""The notebooks in notebooks/: stored executed, small, credited, in their district's language.

The stored outputs are what a reader sees without running anything (GitHub, a
council's intranet), so they are checked as stored: every code cell executed in
order with an output, no errors or warnings, below the size limit, the OSM
credit in the text and in every interactive map, Italian prose in the notebooks
of an Italian district. The slow test runs each notebook again from the top with
this interpreter's kernel, offline. ``scripts/execute_notebooks.py`` stores new
outputs.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]
#: The size limit of a stored notebook (interactive maps embed their data).
MAX_BYTES = 5_000_000
CREDIT = "© OpenStreetMap contributors"

# Function words: frequent, short, and not shared by the two languages.
_ITALIAN = """il lo la le gli di del della delle dei degli da dal dalla è che con un una uno
sono nel nella nei al alla ai si più ogni anche quando dove sulla sul tra fra questa questo"""
_ENGLISH = """the of and to is are with for this that which from by each an on at be as it its
into than when where every"""
ITALIAN_WORDS = frozenset(_ITALIAN.split())
ENGLISH_WORDS = frozenset(_ENGLISH.split())


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _markdown(notebook: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]


def _language(notebook: nbformat.NotebookNode) -> str:
    """The language of the district configuration the notebook loads."""
    source = "\n".join(cell.source for cell in _code(notebook))
    found = re.findall(r"config/([\w-]+\.yml)", source)
    assert found, "the notebook loads no district configuration from config/"
    config = yaml.safe_load((ROOT / "config" / found[0]).read_text(encoding="utf-8"))
    return str(config.get("language", "it"))


def _prose_words(markdown: str) -> list[str]:
    """The words of the prose: without code blocks, inline code, links' targets."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.findall(r"[a-zàèéìòù]+", text.lower().replace("’", "'").replace("'", " "))


def _maps(notebook: nbformat.NotebookNode) -> list[str]:
    """The HTML of the interactive (folium) maps among the outputs."""
    return [
        output["data"]["text/html"]
        for cell in _code(notebook)
        for output in cell.get("outputs", [])
        if "folium" in output.get("data", {}).get("text/html", "")
    ]


def test_there_are_notebooks_in_both_languages() -> None:
    languages = {_language(_read(path)) for path in NOTEBOOKS}
    assert languages == {"it", "en"}
    assert any(path.name.startswith("05_") for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_with_outputs_in_order(path: Path) -> None:
    cells = _code(_read(path))
    counts = [cell.get("execution_count") for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), f"not executed top to bottom: {counts}"
    silent = [n for n, cell in enumerate(cells, 1) if not cell.get("outputs")]
    assert not silent, f"code cells {silent} have no stored output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_outputs_have_no_errors_or_warnings(path: Path) -> None:
    for n, cell in enumerate(_code(_read(path)), 1):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"cell {n}: {output.get('evalue')}"
            if output["output_type"] == "stream":
                text = output["text"][:300]
                assert output["name"] == "stdout", f"cell {n} wrote to stderr: {text}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_notebook_is_small(path: Path) -> None:
    assert path.stat().st_size < MAX_BYTES


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_osm_credited_in_text_and_in_every_map(path: Path) -> None:
    notebook = _read(path)
    assert CREDIT in "\n".join(_markdown(notebook))
    for page in _maps(notebook):
        # The map is an iframe whose srcdoc is escaped HTML; the tile layer's options are JSON.
        found = re.findall(r'"attribution":\s*("(?:[^"\\]|\\.)*")', html.unescape(page))
        assert found, "a map without a tile layer attribution"
        assert all(CREDIT in json.loads(text) for text in found), found


def test_some_notebooks_have_an_interactive_map() -> None:
    with_maps = [path.name for path in NOTEBOOKS if _maps(_read(path))]
    assert len(with_maps) >= 4, with_maps


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_prose_is_in_the_districts_language(path: Path) -> None:
    notebook = _read(path)
    language = _language(notebook)
    for text in _markdown(notebook):
        words = _prose_words(text)
        italian = sum(word in ITALIAN_WORDS for word in words)
        english = sum(word in ENGLISH_WORDS for word in words)
        if italian + english < 3:
            continue  # a title or a line too short to judge
        wanted, other = (italian, english) if language == "it" else (english, italian)
        assert wanted >= 4 * other, f"markdown not in {language}: {text[:200]!r}"


def test_the_language_check_tells_the_languages_apart() -> None:
    italian = _prose_words("Il punteggio è la somma pesata dei criteri; la posizione `rank`.")
    english = _prose_words("The score is the weighted sum of the criteria, and the rank.")
    assert sum(w in ITALIAN_WORDS for w in italian) >= 4 > sum(w in ENGLISH_WORDS for w in italian)
    assert sum(w in ENGLISH_WORDS for w in english) >= 4 > sum(w in ITALIAN_WORDS for w in english)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_top_to_bottom(path: Path) -> None:
    notebook = _read(path)
    # Run from the repository root, as the README says, with this interpreter's kernel.
    client = NotebookClient(
        notebook,
        timeout=None,  # no wall-clock limit in a test
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.km = client.kernel_manager_class(kernel_name="python3")
    client.km.kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    client.execute()
    errors = [
        output
        for cell in _code(notebook)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    assert all(cell.get("outputs") for cell in _code(notebook))
