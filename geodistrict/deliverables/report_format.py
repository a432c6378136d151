"""Formatting for the district report: tables, headers, values and numbers in the language.

Column headers, categories and statuses come from the label tables
(``geodistrict.i18n.label``), with the report's own wording where no label
exists yet; numbers and dates go through the i18n formatters.

Examples
--------
>>> from geodistrict.i18n import use_language
>>> from geodistrict.deliverables.report_format import num, pct
>>> with use_language("it"):
...     num(1234.5, 1), pct(0.125), num(None)
('1.234,5', '12,5 %', '—')
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from geodistrict.deliverables import Outputs
from geodistrict.deliverables.maps import MapImage
from geodistrict.i18n import (
    N_,
    _,
    catalogue,
    format_number,
    format_percent,
    get_language,
    label,
    ngettext,
)

__all__ = [
    "DASH",
    "HEADERS",
    "VALUES",
    "Section",
    "Table",
    "header",
    "num",
    "pct",
    "table",
    "text",
    "value_label",
    "yes_no",
]

log = logging.getLogger(__name__)

DASH = "—"
#: How many rows the longest tables show.
TOP_UNITS = 10
MAX_ROWS = 30


@dataclass
class Table:
    """A formatted table: caption, headers, rows of text, which columns are numbers."""

    caption: str
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    note: str = ""
    #: Optional text under each row, across all columns (e.g. an explanation).
    details: list[str] = field(default_factory=list)
    details_label: str = ""


@dataclass
class Section:
    """A chapter of the report."""

    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    maps: list[MapImage] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    warning: str = ""


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def num(value: Any, decimals: int | None = None) -> str:
    """A number in the current language, or a dash when missing."""
    if _missing(value):
        return DASH
    try:
        return format_number(float(value), decimals=decimals)
    except (TypeError, ValueError):
        return str(value)


def pct(share: Any, decimals: int = 1) -> str:
    """A share (0-1) as a percentage in the current language, or a dash."""
    return DASH if _missing(share) else format_percent(float(share), decimals=decimals)


def text(value: Any) -> str:
    """Text of a cell, a dash when missing."""
    return DASH if _missing(value) or str(value).strip() == "" else str(value)


def yes_no(value: Any) -> str:
    if _missing(value):
        return DASH
    return _("yes") if bool(value) else _("no")


#: The report's own column headers, used where the label tables have none yet.
HEADERS: dict[str, str] = {
    "rank": N_("Rank"),
    "name": N_("Name"),
    "tier": N_("Tier"),
    "n_units": N_("Commercial units"),
    "n_vacant": N_("Vacant units"),
    "vacancy_rate": N_("Vacancy rate"),
    "area_ha": N_("Area (ha)"),
    "dominant_1": N_("Main category"),
    "category": N_("Category"),
    "observed": N_("Observed"),
    "expected": N_("Expected"),
    "location_quotient": N_("Location quotient"),
    "q_value": N_("q value"),
    "status": N_("Status"),
    "scope": N_("Area"),
    "need": N_("Everyday need"),
    "share_within": N_("Homes within 10 minutes"),
    "median_walk_m": N_("Median walk (m)"),
    "unit_id": N_("Code"),
    "address": N_("Address"),
    "floor_area_m2": N_("Floor area (m²)"),
    "score": N_("Score"),
    "explanation": N_("Why this rank"),
    "recommended_uses": N_("Suggested uses"),
    "stable": N_("Robust rank"),
    "kind": N_("Intervention"),
    "cost_m": N_("Length (m)"),
    "benefit": N_("Connections gained"),
    "low_stress_share": N_("Low-stress share"),
    "leg": N_("Leg"),
    "from_stop": N_("From"),
    "to_stop": N_("To"),
    "length_m": N_("Length (m)"),
    "point_id": N_("Info point"),
    "near": N_("Near"),
    "covered_share": N_("Cumulative coverage"),
    "on_circuit": N_("On the circuit"),
    "area": N_("Area"),
    "zone": N_("Zone"),
    "sector": N_("Sector"),
    "firms": N_("Firms"),
    "employees": N_("Employees"),
    "area_share": N_("Share of firms"),
    "reference_share": N_("Reference share"),
    "lq": N_("Location quotient"),
    "specialised": N_("Specialised"),
    "cluster_id": N_("Cluster"),
    "municipalities": N_("Municipalities"),
    "register_units": N_("Register units"),
    "respondents": N_("Respondents"),
    "response_rate": N_("Response rate"),
    "indicator": N_("Indicator"),
    "label": N_("Indicator"),
    "value": N_("Value"),
    "unit": N_("Unit of measure"),
    "method": N_("Method"),
    "source": N_("Source"),
    "date": N_("Date"),
    "estimated": N_("Note"),
    "what": N_("Data"),
    "licence": N_("Licence and attribution"),
    "figure": N_("Item"),
}

#: Values the report shows, where the label tables have none yet (kind -> value -> text).
VALUES: dict[str, dict[str, str]] = {
    "status": {
        "missing": N_("missing"),
        "under-represented": N_("under-represented"),
        "as expected": N_("as expected"),
        "over-represented": N_("over-represented"),
        "not tested": N_("not tested"),
        "covered": N_("covered"),
        "partial": N_("partly covered"),
        "not covered": N_("not covered"),
    },
    "category": {
        "connector": N_("new connection"),
        "upgrade": N_("street made low-stress"),
        "core": N_("core"),
        "extension": N_("extension"),
        "municipality": N_("municipality"),
        "district": N_("district"),
        "centre": N_("retail centre"),
        "station": N_("station"),
        "townhall": N_("town hall"),
        "park": N_("park"),
        "school": N_("school"),
        "service": N_("public service"),
        "town_centre": N_("Town centre"),
        "major_town_centre": N_("Major town centre"),
        "district_centre": N_("District centre"),
        "local_centre": N_("Local centre"),
        "small_local_centre": N_("Small local centre"),
    },
}


def _catalogued(kind: str, name: str) -> bool:
    lang = get_language()
    return (kind, name) in catalogue(lang) or (lang == "en" and (kind, name) in catalogue("en"))


def header(column: str) -> str:
    """The header of ``column``: its label, else the report's wording, else the name."""
    if _catalogued("column", column) or column not in HEADERS:
        return label(column, kind="column")
    return _(HEADERS[column])


def value_label(value: Any, kind: str = "category") -> str:
    """A category or status value in words (the label tables first, then the report's)."""
    if _missing(value):
        return DASH
    name = str(value)
    if _catalogued(kind, name) or name not in VALUES.get(kind, {}):
        return label(name, kind=kind) if _catalogued(kind, name) else name
    return _(VALUES[kind][name])


def _language_column(frame: pd.DataFrame, stem: str) -> str | None:
    """``<stem>_it`` in Italian, ``<stem>_en`` (or ``<stem>``) in English, if present."""
    lang = get_language()
    for column in (f"{stem}_{lang}", stem if lang == "en" else "", f"{stem}_en"):
        if column and column in frame:
            return column
    return None


Formatter = Callable[[Any], str]


def table(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str, Formatter, bool]],
    *,
    caption: str,
    note: str = "",
    limit: int = MAX_ROWS,
    details: str | None = None,
) -> Table:
    """Format ``frame``: ``columns`` are (header key, column, formatter, numeric).

    ``details`` names a column shown as a line of text under each row.
    """
    rows, lines = [], []
    for _index, row in frame.head(limit).iterrows():
        rows.append([fmt(row.get(col)) if col in row else DASH for _k, col, fmt, _n in columns])
        if details is not None:
            lines.append(text(row.get(details)) if details in row else DASH)
    more = len(frame) - limit
    if more > 0:
        extra = ngettext("{n} more row not shown.", "{n} more rows not shown.", more).format(
            n=format_number(more)
        )
        note = f"{note} {extra}".strip()
    return Table(
        caption=caption,
        headers=[header(key) for key, _c, _f, _n in columns],
        rows=rows,
        numeric=[numeric for _k, _c, _f, numeric in columns],
        note=note,
        details=lines,
    )


def _layer(outputs: Outputs, name: str) -> pd.DataFrame | None:
    return outputs.layer(name) if outputs.has(name) else None


def _missing_note(what: str) -> str:
    return _("{what}: no data in this district's results, section omitted.").format(what=what)
