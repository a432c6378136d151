"""The district report: HTML and PDF, self-contained, in the district's language."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodistrict.deliverables import Outputs
from geodistrict.deliverables.maps import nice_length, priority_classes
from geodistrict.deliverables.report import report_name, write_report
from geodistrict.deliverables.report_context import read_table_file
from geodistrict.deliverables.report_format import value_label
from geodistrict.i18n import use_language

#: English words a reader must not meet in the Italian report (word starts, case-insensitive).
FORBIDDEN = (
    "vacant", "units", "priority", "layer", "street", "network", "the ", "and ",
    "Map data", "source", "features", "missing", "expected", "share", "rank",
    "firms", "centre", "walk", "legend", "score", "none", "unknown", "link",
    "yes", "true", "false", "nan", "figure", "table", "townhall", "park",
)  # fmt: skip
#: Proper names in the Italian text that contain one of those words.
PROPER_NAMES = ("Bicycle Network Analysis",)


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.parent.name / src.name
    shutil.copytree(src, dst, symlinks=True)
    return dst


def _visible_text(page: str) -> str:
    """The text a reader sees: no style, no images, no bibliography (titles stay English)."""
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r'<ol class="references">.*?</ol>', " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html_lib.unescape(page))


def _pdf_text(pdf: Path) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    pages = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    return re.sub(r"\s+", " ", pages)


def _english_words(text: str) -> list[str]:
    for name in PROPER_NAMES:
        text = text.replace(name, " ")
    found = []
    for word in FORBIDDEN:
        for match in re.finditer(r"(?i)(?<![\w])" + re.escape(word), text):
            found.append(text[max(0, match.start() - 40) : match.end() + 40])
    return found


@pytest.fixture(scope="module")
def italian_report(italian_output: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_report(_copy(italian_output, tmp_path_factory.mktemp("it")))


@pytest.fixture(scope="module")
def english_report(sample_output: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_report(_copy(sample_output, tmp_path_factory.mktemp("en")))


# ------------------------------------------------------------------------------ fast


def test_priority_classes_are_thirds_of_the_ranking() -> None:
    classes = priority_classes(pd.Series([3, 1, 2, 7, 5, 4, 6]))
    assert classes.tolist() == ["high", "high", "high", "low", "medium", "medium", "low"]
    assert priority_classes(pd.Series([1])).tolist() == ["high"]


def test_scale_bar_lengths_are_round_and_fit() -> None:
    for span in (95.0, 800.0, 2600.0, 12_000.0):
        length = nice_length(span)
        assert length <= span / 4
        assert length > span / 20
        assert f"{length:.0f}".lstrip("0")[0] in "125"


def test_values_read_in_the_language() -> None:
    with use_language("it"):
        assert value_label("connector") == "nuovo collegamento"
        assert value_label(None) == "—"
    with use_language("en"):
        assert value_label("connector") == "new connection"


def test_comparison_tables_for_italian_excel_are_read(tmp_path: Path) -> None:
    path = tmp_path / "riepilogo.csv"
    path.write_text("indicatore;prima;dopo\nTasso di sfitto;0,12;0,10\n", encoding="utf-8-sig")
    frame = read_table_file(path)
    assert list(frame.columns) == ["indicatore", "prima", "dopo"]
    assert frame.iloc[0].tolist() == ["Tasso di sfitto", "0,12", "0,10"]


# ------------------------------------------------------------------------------ the samples


@pytest.mark.slow
@pytest.mark.parametrize("which", ["italian", "english"])
def test_html_and_pdf_are_written_and_self_contained(
    which: str, request: pytest.FixtureRequest
) -> None:
    paths = request.getfixturevalue(f"{which}_report")
    html_path, pdf_path = paths
    stem = "relazione_piana_rotaliana" if which == "italian" else "report_sample"
    assert [p.name for p in paths] == [f"{stem}.html", f"{stem}.pdf"]
    assert html_path.parent.name == "consegna"
    page = html_path.read_text(encoding="utf-8")
    # one file: CSS inline, maps inline, nothing fetched from anywhere
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", page)
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", page)
    assert "<link" not in page and "<script" not in page
    maps = re.findall(r'<img src="data:image/png;base64,', page)
    assert len(maps) == 6  # centres, walking time, vacancy, cycling, circuit, firms
    assert "© OpenStreetMap contributors" in page
    assert pdf_path.read_bytes().startswith(b"%PDF-")


@pytest.mark.slow
@pytest.mark.parametrize("which", ["italian", "english"])
def test_pdf_pages_render_and_are_not_blank(which: str, request: pytest.FixtureRequest) -> None:
    import pypdfium2 as pdfium

    pdf_path = request.getfixturevalue(f"{which}_report")[1]
    document = pdfium.PdfDocument(str(pdf_path))
    assert len(document) >= 10
    for index in range(len(document)):
        pixels = np.asarray(document[index].render(scale=0.5).to_pil().convert("L"))
        inked = (pixels < 200).mean()
        least = 0.005 if index in (0, 2) else 0.001  # the cover and the first section
        assert inked > least, f"page {index + 1} looks blank ({inked:.4f} inked)"
    # the six maps are in the PDF, as images
    images = sum(
        len(list(document[i].get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE])))
        for i in range(len(document))
    )
    assert images == 6


@pytest.mark.slow
@pytest.mark.parametrize("which", ["italian", "english"])
def test_maps_are_drawn(which: str, request: pytest.FixtureRequest) -> None:
    import base64
    import io

    from PIL import Image

    page = request.getfixturevalue(f"{which}_report")[0].read_text(encoding="utf-8")
    for encoded in re.findall(r'<img src="data:image/png;base64,([^"]+)"', page):
        image = Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB")
        rgb = np.asarray(image).astype(int)
        assert image.width >= 900 and image.height >= 500
        saturated = ((rgb.max(axis=2) - rgb.min(axis=2)) > 60).mean()
        assert saturated > 0.003, f"a map has almost no colour ({saturated:.4f})"
        assert ((rgb < 100).all(axis=2)).mean() > 0.0005  # text: scale bar, north arrow


@pytest.mark.slow
def test_italian_report_reads_italian(italian_report: list[Path]) -> None:
    html_path, pdf_path = italian_report
    text = _visible_text(html_path.read_text(encoding="utf-8"))
    text = re.sub(r"(ODbL|BY|Attribuzione) \d\.\d", r"\1", text)  # licence versions keep a point
    assert _english_words(text) == []
    assert re.search(r"\d,\d", text), "no Italian decimal"
    assert re.search(r"\b\d{2}/\d{2}/20\d{2}\b", text), "no Italian date"
    # the first unit's score, as the layer holds it, written the Italian way
    units = Outputs.open(html_path.parent.parent).layer("vacant_units").sort_values("rank")
    score = float(units["score"].iloc[0])
    assert f"{score:.2f}".replace(".", ",") in text
    assert f" {score:.2f} " not in text
    for words in ("Locali sfitti", "priorità Alta", "Poli commerciali", "Metodi", "Bibliografia"):
        assert words in text
    assert "illustrativ" in text  # the sample's surveys are invented, and the report says so
    pdf_text = _pdf_text(pdf_path)
    body = pdf_text.split("Bibliografia")[0]
    assert "Locali sfitti" in body
    assert _english_words(body) == []
    assert re.search(r"\d,\d", body)


@pytest.mark.slow
def test_english_report_reads_english(english_report: list[Path]) -> None:
    text = _visible_text(english_report[0].read_text(encoding="utf-8"))
    for words in ("Vacant units", "of high", "Retail centres", "Methods", "References"):
        assert words in text
    assert re.search(r"\d\.\d", text)
    assert "Locali sfitti" not in text and "Priorità" not in text


def _without(folder: Path, names: tuple[str, ...]) -> None:
    """Make ``names`` empty in the current version's manifest (as a run without them)."""
    outputs = Outputs.open(folder)
    manifest_path = outputs.version / "layers.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name in names:
        if name in manifest["layers"]:
            manifest["layers"][name]["features"] = 0
    manifest_path.unlink()  # a copy of the run: replace the file, never the original
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.slow
def test_a_district_without_vacant_units_or_firms_still_gets_a_report(
    italian_output: Path, tmp_path: Path
) -> None:
    folder = _copy(italian_output, tmp_path)
    empty = (
        "vacant_units", "firms", "firm_clusters", "sector_specialisation", "firm_coverage",
        "bike_gaps", "retail_centres", "category_gaps", "isochrones",
    )  # fmt: skip
    _without(folder, empty)
    html_path, pdf_path = write_report(folder)
    page = html_path.read_text(encoding="utf-8")
    text = _visible_text(page)
    assert "Locali sfitti: nessun dato nei risultati del distretto, sezione omessa." in text
    assert "Questionario alle imprese: nessun dato" in text
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 3
    assert _english_words(text) == []
    assert pdf_path.stat().st_size > 10_000


@pytest.mark.slow
def test_the_change_between_waves_is_included_when_present(
    italian_output: Path, tmp_path: Path
) -> None:
    folder = _copy(italian_output, tmp_path)
    text = _visible_text(write_report(folder, pdf=False)[0].read_text(encoding="utf-8"))
    assert "Non è ancora disponibile un confronto tra rilevazioni" in text
    confronto = folder / "consegna" / "confronto"
    confronto.mkdir(parents=True)
    (confronto / "riepilogo.csv").write_text(
        "indicatore,prima,dopo,data\nTasso di sfitto,0.126,0.1,2025-05-01\n", encoding="utf-8"
    )
    paths = write_report(folder, pdf=False)
    assert [p.name for p in paths] == [f"{report_name('piana_rotaliana', 'it')}.html"]
    text = _visible_text(paths[0].read_text(encoding="utf-8"))
    assert "Sintesi del confronto (riepilogo.csv)" in text
    assert "0,13" in text and "0,10" in text and "01/05/2025" in text
