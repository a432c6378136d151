"""The district report: one self-contained HTML file and its PDF, in the district's language.

:func:`write_report` reads the current version of a run's results
(:class:`~geodistrict.deliverables.Outputs`), draws the maps offline
(:mod:`geodistrict.deliverables.maps`), fills the Jinja2 template
``templates/report.html`` (CSS inline, maps as ``data:`` URIs: the file makes
no request to any server) and prints it to PDF with WeasyPrint.  Every section
whose layers are missing or empty is replaced by a one-line note, so a district
without shops, surveys or firms still gets a report.  Text goes through the
gettext catalogues, numbers and dates through :func:`~geodistrict.i18n.format_number`,
:func:`~geodistrict.i18n.format_percent` and :func:`~geodistrict.i18n.format_date`.

Examples
--------
>>> from geodistrict.deliverables.report import report_name
>>> report_name("pioltello", "it"), report_name("sample", "en")
('relazione_pioltello', 'report_sample')
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geodistrict.deliverables import Outputs, write_atomically
from geodistrict.deliverables import maps as _maps
from geodistrict.deliverables.report_context import (
    change_section,
    district_section,
    indicators_section,
    methods_section,
    read_config,
    sources_section,
)
from geodistrict.deliverables.report_format import Section, Table
from geodistrict.deliverables.report_sections import (
    commerce_section,
    cycling_section,
    production_section,
    vacancy_section,
)
from geodistrict.i18n import _, format_date, get_language, ngettext, use_language

__all__ = ["render_html", "report_name", "write_report"]

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
#: Fonts the PDF uses (installed with fonts-dejavu on Debian); the HTML falls back to sans-serif.
FONT_FAMILY = '"DejaVu Sans", "Liberation Sans", Arial, sans-serif'


def report_name(district: str, language: str) -> str:
    """The report's file name without suffix: ``relazione_<district>`` in Italian."""
    return f"{'relazione' if language == 'it' else 'report'}_{district}"


@dataclass
class Report:
    """Everything the template shows."""

    language: str
    title: str
    district: str
    subtitle: str
    generated: str
    version: str
    illustrative: bool
    sections: list[Section] = field(default_factory=list)
    attribution: str = ""


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: _(message),
        ngettext=lambda singular, plural, n: ngettext(singular, plural, n),
        newstyle=True,
    )
    return env


def build_report(outputs: Outputs) -> Report:
    """The report's content in the current language (maps drawn, tables formatted)."""
    config = read_config(outputs)
    drawn = _maps.district_maps(outputs)
    sections = [
        district_section(outputs, config),
        sources_section(outputs, config),
        commerce_section(outputs, drawn),
        vacancy_section(outputs, drawn),
        cycling_section(outputs, drawn),
        production_section(outputs, drawn, config),
        indicators_section(outputs),
        change_section(outputs),
        methods_section(outputs, config),
    ]
    updated = outputs.manifest.get("updated") or dt.datetime.now(dt.UTC).isoformat()
    return Report(
        language=get_language(),
        title=outputs.title,
        district=outputs.district,
        subtitle=_("Spatial analysis of the district: commerce, vacant units, cycling, firms"),
        generated=format_date(updated),
        version=str(outputs.manifest.get("version") or outputs.version.name),
        illustrative=bool(config.get("_illustrative")),
        sections=[s for s in sections if s is not None],
        attribution=_("Map data © OpenStreetMap contributors, ODbL 1.0"),
    )


def render_html(outputs: Outputs) -> str:
    """The report as one self-contained HTML document, in the current language."""
    report = build_report(outputs)
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    template = _environment().get_template("report.html")
    return str(template.render(report=report, css=css, font_family=FONT_FAMILY))


def html_to_pdf(html: str) -> bytes:
    """Print the HTML report to PDF with WeasyPrint, offline: only ``data:`` URIs are read.

    Any other reference (``http:``, ``file:``...) stops the printing with an error,
    so a PDF is never made from a report that is not self-contained.
    """
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return bytes(HTML(string=html, url_fetcher=fetcher).write_pdf())


def write_report(folder: str | os.PathLike[str], *, pdf: bool = True) -> list[Path]:
    """Write the district report (HTML, and PDF unless ``pdf=False``) into ``consegna/``.

    Parameters
    ----------
    folder : path
        ``OUT/<district>``: a run's output folder.
    pdf : bool, default True
        Also print the report to PDF (WeasyPrint).

    Returns
    -------
    list of Path
        ``OUT/<district>/consegna/relazione_<district>.html`` (``report_`` in
        English) and the ``.pdf``.

    Raises
    ------
    OutputError
        If the folder holds no run, or a file cannot be written.

    Examples
    --------
    >>> import geodistrict as gd, tempfile
    >>> out = gd.run(gd.datasets.sample_config(), out=tempfile.mkdtemp())  # doctest: +SKIP
    >>> [p.name for p in write_report(out.folder, pdf=False)]  # doctest: +SKIP
    ['report_sample.html']
    """
    outputs = Outputs.open(folder)
    with use_language(outputs.language):
        html = render_html(outputs)
        target = outputs.deliverables_dir()
        stem = report_name(outputs.district, outputs.language)
        written = [write_atomically(target / f"{stem}.html", html.encode("utf-8"))]
        if pdf:
            try:
                document = html_to_pdf(html)
            except OSError as exc:  # WeasyPrint cannot load Pango: the HTML is the report
                log.warning(
                    "no PDF of the report: WeasyPrint cannot run here (%s); install Pango "
                    "(Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0) for the PDF",
                    exc,
                )
            else:
                written.append(write_atomically(target / f"{stem}.pdf", document))
    log.info("report of %s written to %s", outputs.district, target)
    return written


__all__ += ["Report", "Section", "Table", "build_report", "html_to_pdf"]
