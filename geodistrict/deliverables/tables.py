"""Spreadsheets of a district's results: one XLSX workbook and CSV files for Italian Excel.

:func:`write_tables` writes, into ``OUT/<district>/consegna/``, the workbook
``tabelle_<district>.xlsx`` (``tables_<district>.xlsx`` for an English
district) with a first sheet of information (district, date, sources and
attribution) and one sheet per main table: the ranking of the vacant units,
the category gaps, the commercial units by category and centre, the retail
centres, the sector specialisation, the firms *as published* (the ``firms``
layer: H3 cells of at least k respondents, never survey rows), the needs of
the productive district, the gaps of the bike network, the info points and
the indicators. Headers are the column labels of the district's language
(:func:`geodistrict.i18n.label`), categories and statuses their labels;
numbers are real numeric cells with Excel number formats (an Italian Excel
shows them with decimal commas by itself), dates real dates shown as
``DD/MM/YYYY``; the header row is frozen and filtered. Geometry is left out;
point layers get WGS84 longitude and latitude (6 decimals).

The same tables go to ``consegna/csv/`` as CSV files that Italian Excel
opens as they are: ``;`` between cells, decimal comma, UTF-8 with a BOM
(English districts: ``,`` and decimal point). Text starting with ``=``,
``+``, ``-``, ``@``, a tab or CR gets a ``'`` in front (formula injection,
:mod:`geodistrict._csvsafe`), in the CSV files and in the workbook.

A layer the run did not write, or wrote empty, has no sheet and no CSV; the
information sheet says "no data" beside it. Every file is built in memory,
then replaced atomically.

Examples
--------
>>> import pandas as pd
>>> from geodistrict.deliverables.tables import csv_bytes, readable
>>> frame, kinds = readable(pd.DataFrame({"lq": [1.25], "sector": ["C"]}), language="it")
>>> kinds
{'lq': 'float', 'sector': 'text'}
>>> csv_bytes(frame, kinds, language="it").decode("utf-8-sig").splitlines()[1]
'1,25;C'
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import logging
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict._csvsafe import formula_safe
from geodistrict.deliverables import Outputs, write_atomically
from geodistrict.i18n import _, label, pgettext, use_language
from geodistrict.priority.classes import priority_class

__all__ = [
    "CSV_DIR",
    "TABLES",
    "Kinds",
    "Table",
    "csv_bytes",
    "priority_class",
    "rank_sheets",
    "ranking_table",
    "readable",
    "sheet_titles",
    "workbook_bytes",
    "write_tables",
]

log = logging.getLogger(__name__)

#: Folder of the CSV files inside ``consegna/``.
CSV_DIR = "csv"
#: Kind of each column of a readable table: int, float, small, share, coord, date or text.
Kinds = dict[str, str]

#: Excel number formats of the column kinds (the locale of Excel shows the separators).
NUMBER_FORMATS = {
    "int": "#,##0",
    "float": "#,##0.00",
    "small": "0.0000",
    "share": "0.0%",
    "coord": "0.000000",
    "date": "DD/MM/YYYY",
}
#: Shares (0-1) shown as percentages.
SHARE_COLUMNS = frozenset({"p_top_k", "covered_share", "share_within", "vacancy_rate",
                           "centre_vacancy_rate", "street_vacancy_rate",
                           "response_rate"})  # fmt: skip
SHARE_SUFFIXES = ("_share", "_rate")
#: Values too small for two decimals.
SMALL_COLUMNS = frozenset({"p_value", "q_value", "score", "score_ws", "score_topsis",
                           "regeneration_need", "suitability", "shannon"})  # fmt: skip
#: Columns whose values are machine names with a label, and the label's kind.
VALUE_KINDS: dict[str, str] = {
    "category": "category", "dominant_category": "category", "dominant_1": "category",
    "dominant_2": "category", "dominant_3": "category", "missing_categories": "category",
    "recommended_uses": "category",
    "top_criteria": "criterion", "criteria_omitted": "criterion",
    "status": "status", "scope": "status", "tier": "status", "kind": "status",
    "level": "status", "zone": "status", "area_kind": "status", "condition": "status",
    "owner_type": "status", "source": "status", "from_kind": "status",
}  # fmt: skip
#: Codes kept beside their name in the district's language (``sector`` "C" and ``sector_it``).
CODE_COLUMNS = frozenset({"sector", "ateco_section"})
#: Machine names joined in one cell (e.g. ``food;fashion``).
LIST_SEPARATOR = ";"
#: Columns never shown: internal ids, raw OSM tags, JSON.
HIDDEN = frozenset({"fid", "tags", "weights", "geometry_type", "lts_assumptions"})
_MAX_WIDTH = 60
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what XML (and openpyxl) refuses
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _lonlat_headers() -> dict[str, str]:
    return {
        "lon": pgettext("tables", "Longitude (WGS84)"),
        "lat": pgettext("tables", "Latitude (WGS84)"),
    }


def _header(column: str, headers: Mapping[str, str]) -> str:
    return headers.get(column) or label(column, kind="column")


def _kind_of(name: str, series: pd.Series) -> str:
    dtype = series.dtype
    if name in ("lon", "lat"):
        return "coord"
    if pd.api.types.is_bool_dtype(dtype):
        return "text"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        if name in SHARE_COLUMNS or name.endswith(SHARE_SUFFIXES):
            return "share"
        return "small" if name in SMALL_COLUMNS else "float"
    return "text"


def _yes_no(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return pgettext("tables", "yes") if bool(value) else pgettext("tables", "no")


def _labelled(value: Any, kind: str) -> Any:
    if not isinstance(value, str) or not value:
        return value
    one = _category_label if kind == "category" else (lambda v: label(v, kind=kind))
    if LIST_SEPARATOR in value:
        return "; ".join(one(p.strip()) for p in value.split(LIST_SEPARATOR) if p.strip())
    return one(value)


def _looks_like_dates(name: str, series: pd.Series) -> bool:
    """A text column named like a date whose every value is an ISO date."""
    if not (name == "date" or name.endswith(("_date", "_since"))):
        return False
    if not (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
        return False
    values = series.dropna()
    if values.empty or not values.map(lambda v: isinstance(v, str)).all():
        return False
    return bool(values.str.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][\d:.]+)?").all())


def readable(
    frame: pd.DataFrame,
    *,
    language: str,
    columns: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, Kinds]:
    """A layer as a person reads it: values in ``language``, no geometry, lon/lat for points.

    Columns keep their machine names (the headers are labelled when written).
    A column ``x`` with a twin in ``language`` (``x_it``, ``x_en``) is replaced
    by the twin (a code such as ``sector`` is kept beside it); category, status and
    criterion names read their labels; booleans read yes/no; geometry is
    dropped and a point layer gains ``lon`` and ``lat`` (WGS84).

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        The layer (not changed).
    language : {"it", "en"}
    columns : sequence of str, optional
        The columns to keep, in this order (those missing are skipped);
        default all but the hidden ones.

    Returns
    -------
    (DataFrame, dict)
        The table and the kind of each column (``int``, ``float``, ``small``,
        ``share``, ``coord``, ``date`` or ``text``).

    Examples
    --------
    >>> import pandas as pd
    >>> from geodistrict.deliverables.tables import readable
    >>> table, kinds = readable(
    ...     pd.DataFrame({"tier": ["town"], "tier_it": ["Centro"], "n_units": [4],
    ...                   "retail_share": [0.5], "specialised": [True]}), language="it")
    >>> table.columns.tolist(), kinds["retail_share"]
    (['tier_it', 'n_units', 'retail_share', 'specialised'], 'share')
    >>> table.loc[0, "tier_it"], table.loc[0, "specialised"]
    ('Centro', 'sì')
    """
    with use_language(language):
        if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame:
            table = pd.DataFrame(frame.drop(columns=[frame.geometry.name]))
            geometry = frame.geometry
            if frame.crs is not None and len(frame) and geometry.geom_type.eq("Point").all():
                points = geometry.to_crs(4326)
                table["lon"] = points.x.round(6).to_numpy()
                table["lat"] = points.y.round(6).to_numpy()
        else:
            table = pd.DataFrame(frame).copy()
        bases = [c for c in table.columns if not c.endswith(("_it", "_en"))]
        wanted = [c for c in bases if c not in HIDDEN] if columns is None else list(columns)
        keep: list[str] = []
        for name in wanted:
            own = f"{name}_{language}"
            if own in table.columns:  # the text in the district's language
                keep += [name, own] if name in CODE_COLUMNS and name in table.columns else [own]
            elif name in table.columns:
                keep.append(name)
        table = table[keep].copy()
        kinds: Kinds = {}
        for name in table.columns:
            series = table[name]
            if _looks_like_dates(name, series):
                series = table[name] = pd.to_datetime(series, errors="coerce")
            kind = _kind_of(name, series)
            if pd.api.types.is_bool_dtype(series.dtype):
                table[name] = series.astype(object).map(_yes_no)
            elif name in VALUE_KINDS and kind == "text":
                table[name] = series.map(lambda v, k=VALUE_KINDS[name]: _labelled(v, k))
            elif (kind == "text" and series.dtype == object
                  and series.map(lambda v: isinstance(v, bool | np.bool_)).any()):  # fmt: skip
                table[name] = series.map(_yes_no)
            kinds[name] = kind
        return table.reset_index(drop=True), kinds


# --------------------------------------------------------------------------- cells


def _cell(value: Any, kind: str) -> Any:
    """A Python value for an XLSX cell (None for missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if kind in ("int", "float", "small", "share", "coord"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return _text(value)
        if not math.isfinite(number):
            return None
        return int(number) if kind == "int" and number.is_integer() else number
    if kind == "date":
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else stamp.date()
    if isinstance(value, float) and math.isnan(value):
        return None
    return _text(value)


def _text(value: Any) -> str:
    return str(formula_safe(_ILLEGAL.sub("", str(value))))


def _cell_or_none(value: Any, kind: str) -> Any:
    cell = _cell(value, kind)
    return None if cell == "" else cell


def _csv_cell(value: Any, kind: str, language: str) -> str:
    cell = _cell(value, kind)
    if cell is None:
        return ""
    if kind == "date":
        from geodistrict.i18n import format_date

        return format_date(cell, language="it") if language == "it" else cell.isoformat()
    if isinstance(cell, float):  # 6 decimals (6 significant digits below 0.001)
        small = cell != 0 and abs(cell) < 1e-3
        text = np.format_float_positional(cell, precision=6, fractional=not small, trim="-")
        return text.replace(".", ",") if language == "it" else text
    if isinstance(cell, int):
        return str(cell)
    return str(cell)


def csv_bytes(
    table: pd.DataFrame,
    kinds: Mapping[str, str],
    *,
    language: str,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """A readable table as CSV: Italian Excel's (``;``, decimal comma) or English (``,``, ``.``).

    UTF-8 with a BOM (so Excel reads the accents), rows ended by CRLF, labelled
    headers, dates ``DD/MM/YYYY`` (English: ISO), numbers with 6 decimals at
    most (6 significant digits below 0.001) and no thousands separators,
    formula-like text neutralised.

    Examples
    --------
    >>> import pandas as pd
    >>> from geodistrict.deliverables.tables import csv_bytes
    >>> data = csv_bytes(pd.DataFrame({"x": [0.5], "t": ["=1+1"]}), {"x": "float", "t": "text"},
    ...                  language="it", headers={"x": "Valore", "t": "Testo"})
    >>> data[:3] == b"\\xef\\xbb\\xbf", data.decode("utf-8-sig").splitlines()
    (True, ['Valore;Testo', "0,5;'=1+1"])
    """
    headers = headers or {}
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";" if language == "it" else ",", lineterminator="\r\n")
    with use_language(language):
        writer.writerow([_text(_header(c, headers)) for c in table.columns])
        columns = [(table[c].tolist(), kinds.get(c, "text")) for c in table.columns]
        for i in range(len(table)):
            writer.writerow([_csv_cell(values[i], kind, language) for values, kind in columns])
    return buffer.getvalue().encode("utf-8-sig")


# --------------------------------------------------------------------------- workbook


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its title, its table and how to read its columns."""

    title: str
    table: pd.DataFrame
    kinds: Kinds
    headers: Mapping[str, str]


def _sheet_title(title: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub("-", title).strip("'")[:31] or "-"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def _fill_sheet(ws: Any, sheet: Sheet) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    table, kinds = sheet.table, sheet.kinds
    bold = Font(bold=True)
    widths: list[int] = []
    for j, name in enumerate(table.columns, start=1):
        header = _text(_header(name, sheet.headers))
        cell = ws.cell(row=1, column=j, value=header)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        widths.append(min(_MAX_WIDTH, max(8, len(header) + 2)))
    for j, name in enumerate(table.columns, start=1):
        kind = kinds.get(name, "text")
        fmt = NUMBER_FORMATS.get(kind)
        longest = widths[j - 1]
        for i, value in enumerate(table[name].tolist(), start=2):
            cell = ws.cell(row=i, column=j, value=_cell_or_none(value, kind))
            if fmt is not None:
                cell.number_format = fmt
            if cell.value is not None:
                shown = 12 if kind != "text" else len(str(cell.value)) + 2
                longest = max(longest, min(_MAX_WIDTH, shown))
        ws.column_dimensions[get_column_letter(j)].width = longest
    ws.freeze_panes = "A2"
    if len(table.columns):
        last = get_column_letter(len(table.columns))
        ws.auto_filter.ref = f"A1:{last}{len(table) + 1}"


def _notes_sheet(ws: Any, rows: Sequence[tuple[str, Any]]) -> None:
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    for i, (key, value) in enumerate(rows, start=1):
        ws.cell(row=i, column=1, value=_text(key) if key else None).font = bold
        if isinstance(value, dt.date):
            cell = ws.cell(row=i, column=2, value=value)
            cell.number_format = NUMBER_FORMATS["date"]
            cell.alignment = Alignment(horizontal="left")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ws.cell(row=i, column=2, value=value).number_format = NUMBER_FORMATS["int"]
        elif value is not None:
            cell = ws.cell(row=i, column=2, value=_text(value))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 100


def workbook_bytes(
    notes_title: str, notes: Sequence[tuple[str, Any]], sheets: Iterable[Sheet]
) -> bytes:
    """An XLSX workbook: an information sheet of (key, value) rows, then one sheet per table.

    Examples
    --------
    >>> import io, openpyxl, pandas as pd
    >>> from geodistrict.deliverables.tables import Sheet, workbook_bytes
    >>> data = workbook_bytes("Note", [("Distretto", "demo")],
    ...                       [Sheet("Dati", pd.DataFrame({"n": [3]}), {"n": "int"}, {"n": "N"})])
    >>> book = openpyxl.load_workbook(io.BytesIO(data))
    >>> book.sheetnames, book["Dati"]["A2"].value, book["Dati"].freeze_panes
    (['Note', 'Dati'], 3, 'A2')
    """
    from openpyxl import Workbook

    book = Workbook()
    used: set[str] = set()
    info = book.active
    info.title = _sheet_title(notes_title, used)
    _notes_sheet(info, notes)
    for sheet in sheets:
        _fill_sheet(book.create_sheet(_sheet_title(sheet.title, used)), sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- the ranking


def _priority_labels() -> dict[str, str]:
    return {"high": pgettext("tables", "High"), "medium": pgettext("tables", "Medium"),
            "low": pgettext("tables", "Low")}  # fmt: skip


#: Columns of the ranking, in order (criteria and robustness follow when present).
RANKING_COLUMNS = ("rank", "unit_id", "name", "address", "priority", "score", "explanation",
                   "recommended_uses", "missing_categories", "floor_area_m2", "ground_floor",
                   "vacant_since", "condition", "owner_type", "asking_rent_eur_month",
                   "preset")  # fmt: skip
ROBUSTNESS = ("p_top_k", "rank_lo", "rank_median", "rank_hi", "stable")


def ranking_table(
    ranked: pd.DataFrame, *, language: str
) -> tuple[pd.DataFrame, Kinds, dict[str, str]]:
    """The ranking of the vacant units as a readable table, with one column per criterion weight.

    Sorted by rank: rank, unit, name and address, priority class (the first
    third of the ranks "high"), score, explanation and recommended uses in
    ``language``, the unit's survey facts, the value of every criterion, the
    robustness columns when computed, longitude and latitude, then the
    weights (``weights`` JSON) as columns headed "Weight: <criterion>".

    Returns
    -------
    (DataFrame, dict, dict)
        The table, its column kinds and the headers of the columns made
        here (the others are column labels).

    Examples
    --------
    >>> import pandas as pd
    >>> from geodistrict.deliverables.tables import ranking_table
    >>> ranked = pd.DataFrame({"unit_id": ["b", "a"], "rank": [2, 1], "score": [0.2, 0.9],
    ...                        "weights": ['{"footfall": 2.0}'] * 2})
    >>> table, kinds, headers = ranking_table(ranked, language="it")
    >>> table["unit_id"].tolist(), table["priority"].tolist(), headers["weight:footfall"][:6]
    (['a', 'b'], ['Alta', 'Media'], 'Peso: ')
    """
    from geodistrict.priority.definitions import CRITERIA

    with use_language(language):
        frame = ranked.sort_values("rank", kind="stable") if "rank" in ranked else ranked
        frame = frame.copy()
        if "rank" in frame:
            frame["priority"] = priority_class(frame["rank"])
        criteria = [c for c in CRITERIA if c in frame.columns]
        columns = [*RANKING_COLUMNS, *criteria, *ROBUSTNESS, "top_criteria", "lon", "lat"]
        table, kinds = readable(frame, language=language, columns=columns)
        headers = _lonlat_headers()
        if "priority" in table:
            labels = _priority_labels()
            table["priority"] = table["priority"].map(labels.get)
            headers["priority"] = pgettext("tables", "Priority class")
        weights = _weights(frame)
        for name in CRITERIA:
            if name in weights:
                column = f"weight:{name}"
                table[column] = [weights[name]] * len(table)
                kinds[column] = "float"
                headers[column] = pgettext("tables", "Weight: {criterion}").format(
                    criterion=label(name, kind="criterion")
                )
        return table, kinds, headers


def _weights(frame: pd.DataFrame) -> dict[str, float]:
    if "weights" not in frame or not len(frame) or not isinstance(frame["weights"].iloc[0], str):
        return {}
    try:
        given = json.loads(frame["weights"].iloc[0])
    except ValueError:
        log.warning("the weights column is not JSON: %.80s", frame["weights"].iloc[0])
        return {}
    return {k: float(v) for k, v in given.items() if isinstance(v, int | float)}


def rank_sheets(
    ranked: pd.DataFrame, *, language: str, title: str, notes: Sequence[tuple[str, Any]] = ()
) -> bytes:
    """The XLSX of a re-ranking (``geodistrict rank --to x.xlsx``): information, the ranking."""
    with use_language(language):
        table, kinds, headers = ranking_table(ranked, language=language)
        rows = [(pgettext("tables", "District"), title), *notes, *_attribution_rows()]
        sheet = Sheet(sheet_titles(language)["vacant_units"], table, kinds, headers)
        return workbook_bytes(pgettext("tables", "Information"), rows, [sheet])


# --------------------------------------------------------------------------- the tables

Made = tuple[pd.DataFrame, Kinds, dict[str, str]]


@dataclass(frozen=True)
class Table:
    """One main table: its layer and its columns (its title: :func:`sheet_titles`).

    ``columns`` chooses and orders the layer's columns (default all but the
    hidden ones); ``make`` builds a table that is not a plain selection.
    """

    layer: str
    columns: tuple[str, ...] | None = None
    make: Callable[[Outputs, str], Made] | None = None

    def build(self, outputs: Outputs, language: str) -> Made:
        """The readable table, its kinds and headers, from the district's outputs."""
        if self.make is not None:
            return self.make(outputs, language)
        table, kinds = readable(outputs.layer(self.layer), language=language, columns=self.columns)
        return table, kinds, _lonlat_headers()


def _ranking(outputs: Outputs, language: str) -> Made:
    return ranking_table(outputs.layer("vacant_units"), language=language)


def _gaps(outputs: Outputs, language: str) -> Made:
    gaps = pd.DataFrame(outputs.layer("category_gaps"))
    twin = f"label_{language}"
    if twin in gaps and "category" in gaps:
        gaps["category"] = gaps[twin].where(
            gaps[twin].notna() & (gaps[twin] != ""), gaps["category"]
        )
    gaps = gaps.drop(columns=[c for c in ("label_it", "label_en") if c in gaps])
    columns = ("scope", "centre_id", "category", "status", "observed", "expected",
               "observed_share", "expected_share", "location_quotient", "p_value", "q_value",
               "origins", "origins_within", "share_within", "median_walk_m", "p90_walk_m",
               "max_walk_m")  # fmt: skip
    table, kinds = readable(gaps, language=language, columns=columns)
    return table, kinds, {}


def _units_by_category(outputs: Outputs, language: str) -> Made:
    """Commercial units counted by category (rows) and retail centre (columns)."""
    units = outputs.layer("commercial_units")
    index = units.index
    category = (units["category"] if "category" in units else pd.Series("", index=index)).fillna(
        ""
    )
    category = category.astype(str)
    has_centres = "centre_id" in units
    centre = pd.to_numeric(units["centre_id"], errors="coerce") if has_centres else None
    centre = (centre if centre is not None else pd.Series(0, index=index)).fillna(0).astype(int)
    keys = sorted(set(category) - {""}) + ([""] if (category == "").any() else [])
    counts = pd.crosstab(category, centre).reindex(index=keys, fill_value=0)
    names: dict[int, str] = {}
    if has_centres and outputs.has("retail_centres"):
        centres = outputs.layer("retail_centres")
        if {"centre_id", "name"} <= set(centres.columns):
            names = {int(c): n for c, n in zip(centres["centre_id"], centres["name"], strict=True)
                     if isinstance(n, str) and n}  # fmt: skip
    own = f"category_{language}"
    labels = {}
    if own in units:
        labels = dict(zip(category, units[own].fillna(""), strict=True))
    with use_language(language):
        shown = [
            labels.get(k) or _category_label(k) if k else pgettext("tables", "Not classified")
            for k in keys
        ]
        table = pd.DataFrame({"category": shown})
        kinds: Kinds = {"category": "text"}
        headers: dict[str, str] = {}
        for cid in sorted(c for c in counts.columns if c != 0):
            column = f"centre:{cid}"
            table[column] = counts[cid].to_numpy()
            kinds[column] = "int"
            headers[column] = names.get(cid) or pgettext("tables", "Centre {n}").format(n=cid)
        if has_centres:
            table["centre:none"] = counts[0].to_numpy() if 0 in counts.columns else 0
            kinds["centre:none"] = "int"
            headers["centre:none"] = pgettext("tables", "Outside the centres")
        table["total"] = counts.sum(axis=1).to_numpy()
        kinds["total"] = "int"
        headers["total"] = pgettext("tables", "Total")
    return table, kinds, headers


def _category_label(key: str) -> str:
    """The category's label; the taxonomy's when no label table has it."""
    found = label(key, kind="category")
    if found != key.replace("_", " "):
        return found
    from geodistrict.i18n import get_language

    names = _taxonomy_labels().get(key)
    if names is None:
        return found
    return names[0] if get_language() == "it" else names[1]


@functools.cache
def _taxonomy_labels() -> dict[str, tuple[str, str]]:
    """Italian and English label of every category of the shipped taxonomy."""
    from geodistrict.taxonomy import load_taxonomy

    return {k: (c.it, c.en) for k, c in load_taxonomy().categories.items()}


#: The main tables, in the workbook's order.
TABLES: tuple[Table, ...] = (
    Table("vacant_units", make=_ranking),
    Table("category_gaps", make=_gaps),
    Table("commercial_units", make=_units_by_category),
    Table("retail_centres"),
    Table("sector_specialisation"),
    Table("firms", ("cell", "h3_resolution", "respondents", "position", "lon", "lat")),
    Table("production_needs"),
    Table("bike_gaps"),
    Table("info_points"),
    Table("indicators", ("indicator", "label", "value", "unit", "method", "source", "date",
                         "scope")),
)  # fmt: skip


def sheet_titles(language: str | None = None) -> dict[str, str]:
    """The sheet title (at most 31 characters) of each table, by layer, in ``language``.

    Examples
    --------
    >>> from geodistrict.deliverables.tables import sheet_titles
    >>> sheet_titles("en")["vacant_units"]
    'Vacant units ranking'
    """
    return {
        "vacant_units": pgettext("sheet", "Vacant units ranking", language=language),
        "category_gaps": pgettext("sheet", "Category gaps", language=language),
        "commercial_units": pgettext("sheet", "Units by category", language=language),
        "retail_centres": pgettext("sheet", "Retail centres", language=language),
        "sector_specialisation": pgettext("sheet", "Sector specialisation", language=language),
        "firms": pgettext("sheet", "Firms (H3 aggregates)", language=language),
        "production_needs": pgettext("sheet", "Production needs", language=language),
        "bike_gaps": pgettext("sheet", "Bike network gaps", language=language),
        "info_points": pgettext("sheet", "Info points", language=language),
        "indicators": pgettext("sheet", "Indicators", language=language),
    }


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_") or "table"


def _csv_name(table: Table, language: str) -> str:
    return f"{_slug(sheet_titles(language)[table.layer])}.csv"


def _workbook_name(district: str, language: str) -> str:
    return f"{'tabelle' if language == 'it' else 'tables'}_{district}.xlsx"


def _attribution_rows() -> list[tuple[str, Any]]:
    surveys = _(
        "The vacant units and the firms come from the district's surveys; in the sample "
        "districts shipped with geodistrict the survey data are illustrative."
    )
    classes = _("High: the first third of the ranks; Medium: the second third; Low: the rest.")
    return [
        (pgettext("tables", "Map data"), "© OpenStreetMap contributors, ODbL"),
        (pgettext("tables", "Surveys"), surveys),
        (pgettext("tables", "Priority class"), classes),
    ]


def _date_of(value: Any) -> dt.date | None:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp.date()


def _notes(outputs: Outputs) -> list[tuple[str, Any]]:
    firms = _(
        "Firms are shown only as published: H3 cells with at least the minimum number of "
        "respondents, never single answers."
    )
    rows: list[tuple[str, Any]] = [
        (pgettext("tables", "District"), outputs.title),
        (pgettext("tables", "District code"), outputs.district),
        (pgettext("tables", "Results of"), _date_of(outputs.manifest.get("updated"))),
        (pgettext("tables", "Tables written on"), dt.date.today()),
        (pgettext("tables", "Produced with"), outputs.manifest.get("generator")),
        *_attribution_rows(),
        (pgettext("tables", "Firms"), firms),
    ]  # fmt: skip
    if outputs.has("sector_specialisation"):
        spec = outputs.layer("sector_specialisation")
        if "lq_reference" in spec and (spec["lq_reference"] == "istat").any():
            rows.append(
                (pgettext("tables", "Reference shares"), pgettext("tables", "ISTAT, CC BY 4.0"))
            )
    return rows


def write_tables(folder: str | os.PathLike[str]) -> list[Path]:
    """Write the district's spreadsheets: the XLSX workbook and one CSV per table.

    Parameters
    ----------
    folder : path-like
        A district output folder, ``OUT/<district>`` (its current version is read).

    Returns
    -------
    list of Path
        The workbook (``consegna/tabelle_<district>.xlsx``, English
        ``tables_<district>.xlsx``) and the CSV files (``consegna/csv/``).

    Raises
    ------
    OutputError
        If the folder holds no results or cannot be written.

    Examples
    --------
    >>> import geopandas as gpd, tempfile
    >>> from shapely.geometry import Point
    >>> from geodistrict import store
    >>> from geodistrict.deliverables.tables import write_tables
    >>> out = tempfile.mkdtemp()
    >>> firms = gpd.GeoDataFrame({"cell": ["881ea49407fffff"], "respondents": [5]},
    ...                          geometry=[Point(660000, 5120000)], crs=32632)
    >>> _ = store.write_layers({"firms": firms}, out, district="demo")
    >>> [p.name for p in write_tables(f"{out}/demo")]
    ['tabelle_demo.xlsx', 'imprese_per_cella_h3.csv']
    """
    outputs = Outputs.open(folder)
    language = outputs.language
    with use_language(language):
        target = outputs.deliverables_dir()
        sheets: list[tuple[Table, Sheet]] = []
        titles = sheet_titles(language)
        contents: list[tuple[str, Any]] = [
            ("", None),
            (pgettext("tables", "Sheet"), pgettext("tables", "Content")),
        ]
        for spec in TABLES:
            title = titles[spec.layer]
            entry = outputs.manifest.get("layers", {}).get(spec.layer) or {}
            described = str(
                entry.get("description_it" if language == "it" else "description") or ""
            )
            if not outputs.has(spec.layer):
                contents.append((title, pgettext("tables", "no data")))
                continue
            try:
                table, kinds, headers = spec.build(outputs, language)
            except (KeyError, ValueError, TypeError, OSError) as exc:
                log.warning("table %s left out: %s", spec.layer, exc, exc_info=True)
                contents.append(
                    (title, pgettext("tables", "not available: {error}").format(error=exc))
                )
                continue
            if table.empty:
                contents.append((title, pgettext("tables", "no data")))
                continue
            sheets.append((spec, Sheet(title, table, kinds, headers)))
            rows = _rows(len(table))
            contents.append((title, f"{rows}. {described}".strip()))
        data = workbook_bytes(pgettext("tables", "Information"), [*_notes(outputs), *contents],
                              [sheet for _spec, sheet in sheets])  # fmt: skip
        book = target / _workbook_name(outputs.district, language)
        written = [write_atomically(book, data)]
        for other in ("it", "en"):  # the other language's workbook is stale
            stale = target / _workbook_name(outputs.district, other)
            if other != language and stale.exists():
                stale.unlink()
        csv_dir = target / CSV_DIR
        csv_dir.mkdir(exist_ok=True)
        for spec, sheet in sheets:
            path = csv_dir / _csv_name(spec, language)
            body = csv_bytes(sheet.table, sheet.kinds, language=language, headers=sheet.headers)
            written.append(write_atomically(path, body))
        for spec in TABLES:  # tables of an earlier run that this one did not write
            for other in ("it", "en"):
                stale = csv_dir / _csv_name(spec, other)
                if stale not in written and stale.exists():
                    stale.unlink()
    log.info("%s: %d tables written to %s", outputs.district, len(sheets), target)
    return written


def _rows(n: int) -> str:
    """'1 row' / '{n} rows' in the current language."""
    from geodistrict.i18n import format_number, ngettext

    return ngettext("{n} row", "{n} rows", n).format(n=format_number(n))
