"""Readers for the district's own surveys (vacant units, firms...).

Municipal offices keep their surveys in Excel and export them in whatever
form the office PC produces.  :func:`read_survey` reads such a file against a
:class:`SurveySchema`, checks every value and either returns a clean, typed
:class:`geopandas.GeoDataFrame` or raises one :class:`~geodistrict.errors.SurveyError`
that lists *all* the problems of the file, each located by row and column, so
the file can be fixed in one pass.

Supported formats (chosen by the file suffix)
--------------------------------------------
``.csv`` / ``.txt``
    Delimiter ``,``, ``;`` or tab (sniffed).  Encoding UTF-8 with or without
    BOM, UTF-16 with BOM (Excel "Unicode text"), otherwise Windows-1252.
    Numbers may use a decimal comma (``12,5``, ``1.250,5``) or a decimal point
    (``12.5``, ``1,250.5``).
``.xlsx`` / ``.xlsm``
    Read with openpyxl through pandas; ``layer`` names the sheet (default: the
    first one).  Cells typed by Excel (numbers, dates, booleans) are used as
    they are; cells typed as text are parsed like CSV values.
``.gpkg`` / ``.geojson`` / ``.json`` / ``.shp``
    Read with pyogrio through geopandas; ``layer`` names the layer (required
    when the file holds more than one).  The geometry comes from the file and
    is reprojected to EPSG:4326 before the coordinate checks; any ``lon`` /
    ``lat`` attribute columns are ignored in favour of the geometry.

Row numbers
-----------
Rows are numbered like a spreadsheet: the header is row 1 and the first data
row is row 2.  Fully blank rows are skipped but still counted, so the number
always matches what the user sees in Excel.  For GeoPackage, GeoJSON and
Shapefile inputs, feature *i* (counting from 0 in file order) is row *i + 2*,
as if the attribute table had been exported to a spreadsheet.

Headers
-------
Headers are matched case-insensitively, ignoring surrounding spaces, accents
and punctuation (``" Superficie (mq) "`` matches the alias ``superficie_mq``,
``"Proprietà"`` matches ``proprieta``).  Each field also accepts its aliases.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import logging
import math
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geodistrict._validate import existing_file, lonlat_problem
from geodistrict.errors import Problem, SurveyError

__all__ = [
    "FIRMS",
    "VACANT_UNITS",
    "FieldKind",
    "SurveyField",
    "SurveySchema",
    "read_survey",
    "schema_table",
]

logger = logging.getLogger(__name__)

FieldKind = Literal["str", "int", "float", "bool", "date", "choice", "multichoice"]
"""The value types a survey field can have."""

_KINDS: frozenset[str] = frozenset(get_args(FieldKind))
_NUMERIC_KINDS = frozenset({"int", "float"})
_CHOICE_KINDS = frozenset({"choice", "multichoice"})

LON = "lon"
LAT = "lat"
_COORDS = (LON, LAT)

_TABULAR_SUFFIXES = frozenset({".csv", ".txt"})
_EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
_GEO_SUFFIXES = frozenset({".gpkg", ".geojson", ".json", ".shp"})
_RESERVED_COLUMNS = frozenset({"source_row", "geometry"})

_TRUE_WORDS = frozenset({"si", "s", "yes", "y", "true", "vero", "1", "x"})
_FALSE_WORDS = frozenset({"no", "n", "false", "falso", "0"})

# Excel serial dates: day 0 is 1899-12-30 (Excel's 1900 leap-year bug included).
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIAL_MIN = 10_000  # 1927-05-18; smaller numbers are more likely years or typos
_EXCEL_SERIAL_MAX = 2_958_465  # 9999-12-31

_ISO_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_DAY_FIRST_DATE = re.compile(
    r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?: \d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+")
_NUMBER_BODY = re.compile(r"([+-]?)([\d.,]+)")
_MULTI_SEPARATORS = re.compile(r"[;|,]")

_ATECO_PATTERN = r"[A-Va-v]?\d{2}(?:\.\d(?:\d(?:\.\d{1,2})?)?)?"
_ATECO_HELP = (
    "an ATECO 2007/2025 code such as 25, 25.1, 25.11, 25.11.0 or 25.11.00, optionally "
    "preceded by the section letter (C25.11); keep the leading zero (01.11) by formatting "
    "the column as text in Excel"
)


# --------------------------------------------------------------------------- schema


def _header_key(text: str) -> str:
    """Normalise a header: no accents, case-folded, punctuation runs as ``_``."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\ufeff", ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", "_", plain).strip("_")


def _value_key(text: str) -> str:
    """Normalise a choice: no accents, case-folded, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(plain.split())


@dataclass(frozen=True)
class SurveyField:
    """One column of a survey.

    Parameters
    ----------
    name : str
        Canonical name, lower-case snake case; used as output column name.
    kind : {"str", "int", "float", "bool", "date", "choice", "multichoice"}
        Value type.  ``bool`` accepts sì/si/no/yes/true/false/vero/falso/1/0/x;
        ``date`` accepts ISO ``2023-05-01``, Italian day-first ``01/05/2023``
        and Excel dates; ``choice`` must be one of ``choices``; ``multichoice``
        holds several of ``choices`` separated by ``;``, ``|`` or ``,``.
    required : bool
        A missing column, or a blank value, is a problem.
    aliases : tuple of str
        Other accepted headers (Italian names, abbreviations).
    description : str
        Human description, used in the generated documentation.
    minimum, maximum : float, optional
        Bounds of numeric fields, inclusive unless ``minimum_exclusive``.
    choices : tuple of str
        Allowed values of ``choice`` / ``multichoice`` fields, in canonical
        spelling (matching is case- and accent-insensitive).
    not_future : bool
        For ``date`` fields: a date after today is a problem.
    minimum_exclusive : bool
        ``minimum`` itself is not allowed (e.g. an area must be > 0).
    pattern : str, optional
        For ``str`` fields: regular expression every value must match fully.
    pattern_help : str
        What ``pattern`` expects, in words, quoted in the problem message.
    """

    name: str
    kind: FieldKind
    required: bool = False
    aliases: tuple[str, ...] = ()
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    not_future: bool = False
    minimum_exclusive: bool = False
    pattern: str | None = None
    pattern_help: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.aliases, str):
            object.__setattr__(self, "aliases", (self.aliases,))
        else:
            object.__setattr__(self, "aliases", tuple(self.aliases))
        object.__setattr__(self, "choices", tuple(self.choices))
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"field name {self.name!r} must be lower-case snake case")
        if self.kind not in _KINDS:
            raise ValueError(f"field {self.name!r}: unknown kind {self.kind!r}")
        if self.kind in _CHOICE_KINDS:
            if not self.choices:
                raise ValueError(f"field {self.name!r}: a {self.kind} field needs choices")
            keys = [_value_key(c) for c in self.choices]
            if len(set(keys)) != len(keys):
                raise ValueError(f"field {self.name!r}: choices {self.choices!r} repeat")
        elif self.choices:
            raise ValueError(f"field {self.name!r}: only choice fields take choices")
        if (self.minimum is not None or self.maximum is not None) and (
            self.kind not in _NUMERIC_KINDS
        ):
            raise ValueError(f"field {self.name!r}: only int/float fields take bounds")
        if self.not_future and self.kind != "date":
            raise ValueError(f"field {self.name!r}: not_future only applies to dates")
        if self.pattern is not None:
            if self.kind != "str":
                raise ValueError(f"field {self.name!r}: only str fields take a pattern")
            re.compile(self.pattern)

    @property
    def header_keys(self) -> tuple[str, ...]:
        """Normalised headers that select this field (its name and aliases)."""
        keys = [_header_key(self.name), *(_header_key(a) for a in self.aliases)]
        return tuple(dict.fromkeys(k for k in keys if k))


@dataclass(frozen=True)
class SurveySchema:
    """The columns expected in one kind of survey.

    Parameters
    ----------
    name : str
        Name of the survey, quoted in log messages.
    fields : tuple of SurveyField
        The fields, in output column order.  Schemas read from tables without
        geometry (CSV, Excel) need fields named ``lon`` and ``lat``.
    id_field : str, optional
        Field whose values must be unique in a file.
    """

    name: str
    fields: tuple[SurveyField, ...]
    id_field: str | None = None
    _by_key: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"schema {self.name!r}: repeated field names in {names}")
        by_key: dict[str, str] = {}
        for fld in self.fields:
            for key in fld.header_keys:
                other = by_key.setdefault(key, fld.name)
                if other != fld.name:
                    raise ValueError(
                        f"schema {self.name!r}: header {key!r} matches both "
                        f"{other!r} and {fld.name!r}"
                    )
        object.__setattr__(self, "_by_key", by_key)
        if self.id_field is not None and self.id_field not in names:
            raise ValueError(f"schema {self.name!r}: id_field {self.id_field!r} is not a field")

    @property
    def field_names(self) -> tuple[str, ...]:
        """Canonical field names, in order."""
        return tuple(f.name for f in self.fields)

    def get_field(self, name: str) -> SurveyField:
        """Return the field called ``name``.

        Raises
        ------
        KeyError
            If the schema has no such field.
        """
        for fld in self.fields:
            if fld.name == name:
                return fld
        raise KeyError(f"schema {self.name!r} has no field {name!r}")

    def match_header(self, header: str) -> str | None:
        """Return the field name a file header selects, or ``None``."""
        return self._by_key.get(_header_key(header))


def _lon_field(description_suffix: str = "") -> SurveyField:
    return SurveyField(
        LON,
        "float",
        aliases=("longitudine", "longitude", "lng", "long", "x"),
        description=(
            "Longitude in decimal degrees, WGS 84 (EPSG:4326), e.g. `9.19`. Required unless "
            "the file carries its own geometry (GeoPackage, GeoJSON, Shapefile)."
            + description_suffix
        ),
    )


def _lat_field(description_suffix: str = "") -> SurveyField:
    return SurveyField(
        LAT,
        "float",
        aliases=("latitudine", "latitude", "y"),
        description=(
            "Latitude in decimal degrees, WGS 84 (EPSG:4326), e.g. `45.46`. Required unless "
            "the file carries its own geometry. A pair that looks swapped with the longitude "
            "is reported." + description_suffix
        ),
    )


VACANT_UNITS = SurveySchema(
    name="vacant_units",
    id_field="unit_id",
    fields=(
        SurveyField(
            "unit_id",
            "str",
            required=True,
            aliases=("id_unita", "id", "codice_unita"),
            description="Identifier of the vacant unit, unique within the survey "
            "(e.g. the code used by the surveyors).",
        ),
        SurveyField(
            "address",
            "str",
            aliases=("indirizzo",),
            description="Street address of the unit as written by the surveyor, "
            "e.g. `Via Roma 12`.",
        ),
        _lon_field(),
        _lat_field(),
        SurveyField(
            "floor_area_m2",
            "float",
            aliases=("superficie_mq", "superficie", "floor_area", "area_m2"),
            minimum=0,
            minimum_exclusive=True,
            description="Floor area of the unit in square metres; must be greater than 0.",
        ),
        SurveyField(
            "ground_floor",
            "bool",
            aliases=("piano_terra",),
            description="Whether the unit is at ground floor, with access from the street "
            "(sì/no, yes/no, x, 1/0).",
        ),
        SurveyField(
            "vacant_since",
            "date",
            aliases=("sfitto_dal",),
            not_future=True,
            description="Date since when the unit has been vacant: ISO `2023-05-01`, Italian "
            "`01/05/2023` or an Excel date; cannot be in the future.",
        ),
        SurveyField(
            "last_use",
            "str",
            aliases=("ultimo_uso",),
            description="Last known use of the unit, free text (e.g. `bar`, `clothing shop`).",
        ),
        SurveyField(
            "condition",
            "choice",
            aliases=("stato", "condizione"),
            choices=("good", "fair", "poor"),
            description="State of repair: `good` (usable as it is), `fair` (needs minor works) "
            "or `poor` (needs major renovation).",
        ),
        SurveyField(
            "owner_type",
            "choice",
            aliases=("proprieta", "tipo_proprieta"),
            choices=("private", "public", "other"),
            description="Who owns the unit: `private`, `public` (municipality or another "
            "public body) or `other` (church, foundation...).",
        ),
        SurveyField(
            "asking_rent_eur_month",
            "float",
            aliases=("canone_richiesto", "canone"),
            minimum=0,
            description="Monthly rent asked by the owner, in euros; at least 0. Leave blank "
            "when unknown or not on the market.",
        ),
    ),
)
"""Survey of the vacant commercial units (*locali sfitti*) of a district."""

_MARKETS = ("local", "regional", "national", "eu", "world")
_CRITICAL_ISSUES = (
    "infrastructure",
    "security",
    "transport",
    "labour",
    "bureaucracy",
    "credit",
    "energy",
    "reputation",
    "other",
)
_WORK_TABLES = ("administration", "communication", "training_work", "institutional_relations")

FIRMS = SurveySchema(
    name="firms",
    id_field="firm_id",
    fields=(
        SurveyField(
            "firm_id",
            "str",
            required=True,
            aliases=("id_impresa", "id", "codice_impresa"),
            description="Identifier of the firm, unique within the survey (e.g. the "
            "questionnaire number or the VAT number).",
        ),
        SurveyField(
            "name",
            "str",
            required=True,
            aliases=("ragione_sociale", "denominazione", "firm_name"),
            description="Registered name of the firm (*ragione sociale*).",
        ),
        _lon_field(" Use the location of the premises surveyed, not the registered office."),
        _lat_field(),
        SurveyField(
            "municipality",
            "str",
            aliases=("comune",),
            description="Municipality (*comune*) where the premises are.",
        ),
        SurveyField(
            "ateco",
            "str",
            required=True,
            aliases=("codice_ateco", "ateco_code"),
            pattern=_ATECO_PATTERN,
            pattern_help=_ATECO_HELP,
            description="Main activity code, ATECO 2007 or 2025: division `25`, group `25.1`, "
            "class `25.11`, category or subcategory `25.11.0` / `25.11.00`, optionally "
            "preceded by the section letter (`C25.11`).",
        ),
        SurveyField(
            "employees",
            "int",
            aliases=("addetti", "dipendenti"),
            minimum=0,
            description="Number of people working in the firm (*addetti*), at least 0.",
        ),
        SurveyField(
            "markets",
            "multichoice",
            aliases=("mercati",),
            choices=_MARKETS,
            description="Markets the firm sells to, one or more of `local`, `regional`, "
            "`national`, `eu`, `world`, separated by `;`, `|` or `,`.",
        ),
        SurveyField(
            "innovation_readiness",
            "int",
            aliases=("propensione_innovazione",),
            minimum=1,
            maximum=5,
            description="Self-assessed readiness to innovate, from 1 (none) to 5 (very high).",
        ),
        SurveyField(
            "expansion_space_m2",
            "float",
            aliases=("spazio_espansione_mq",),
            minimum=0,
            description="Additional floor space the firm would need to expand, in square "
            "metres; 0 if none.",
        ),
        SurveyField(
            "exports",
            "bool",
            aliases=("export", "esporta"),
            description="Whether the firm sells abroad (sì/no).",
        ),
        SurveyField(
            "hiring_needs",
            "int",
            aliases=("fabbisogno_assunzioni",),
            minimum=0,
            description="Number of people the firm plans to hire in the next year.",
        ),
        SurveyField(
            "training_needs",
            "str",
            aliases=("fabbisogno_formazione",),
            description="Training the firm needs for its staff, free text.",
        ),
        SurveyField(
            "funding_access",
            "bool",
            aliases=("accesso_finanziamenti",),
            description="Whether the firm has obtained public funding or subsidised credit "
            "(sì/no).",
        ),
        SurveyField(
            "critical_issues",
            "multichoice",
            aliases=("criticita",),
            choices=_CRITICAL_ISSUES,
            description="Main problems of the area for the firm, one or more of "
            + ", ".join(f"`{c}`" for c in _CRITICAL_ISSUES)
            + ", separated by `;`, `|` or `,`.",
        ),
        SurveyField(
            "work_tables",
            "multichoice",
            aliases=("tavoli_lavoro",),
            choices=_WORK_TABLES,
            description="District working groups (*tavoli di lavoro*) the firm wants to join, "
            "one or more of " + ", ".join(f"`{c}`" for c in _WORK_TABLES) + ".",
        ),
    ),
)
"""Survey of the firms of a productive district (*questionario imprese*)."""


def schema_table(schema: SurveySchema) -> str:
    """Describe a schema as a Markdown table, for the documentation.

    Parameters
    ----------
    schema : SurveySchema
        The schema to describe.

    Returns
    -------
    str
        A Markdown table with one row per field and the columns *Field*,
        *Type*, *Required*, *Aliases* and *Description*, ending with a newline.
    """
    lines = [
        "| Field | Type | Required | Aliases | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for fld in schema.fields:
        if fld.required:
            required = "yes"
        elif fld.name in _COORDS:
            required = "yes, unless the file has geometry"
        else:
            required = "no"
        if fld.name == schema.id_field:
            required += " (unique)"
        aliases = ", ".join(f"`{a}`" for a in fld.aliases)
        cells = [f"`{fld.name}`", _kind_text(fld), required, aliases, fld.description]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _kind_text(fld: SurveyField) -> str:
    text: str = fld.kind
    bounds = []
    if fld.minimum is not None:
        bounds.append(f"{'>' if fld.minimum_exclusive else '≥'} {_fmt(fld.minimum)}")
    if fld.maximum is not None:
        bounds.append(f"≤ {_fmt(fld.maximum)}")
    if bounds:
        text += " " + ", ".join(bounds)
    if fld.kind in _CHOICE_KINDS:
        text += ": " + ", ".join(f"`{c}`" for c in fld.choices)
    if fld.not_future:
        text += ", not in the future"
    if fld.pattern is not None:
        text += " (form checked)"
    return text


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


# --------------------------------------------------------------------------- reading


@dataclass
class _RawTable:
    """A file read as text/typed cells, before any check.

    ``columns[j][i]`` is the cell of column ``j`` in data row ``i``, whose
    spreadsheet number is ``rows[i]``.
    """

    headers: list[str]
    columns: list[list[object]]
    rows: list[int]
    decimal_comma: bool
    geometry: gpd.GeoSeries | None = None
    problems: list[Problem] = field(default_factory=list)


class _BadValueError(Exception):
    """A cell value that cannot be converted; the message says why."""


def read_survey(
    path: str | Path,
    schema: SurveySchema,
    *,
    area_lonlat: BaseGeometry | None = None,
    crs: object | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read and check a survey file.

    Parameters
    ----------
    path : str or Path
        CSV/TXT, XLSX, GeoPackage, GeoJSON or Shapefile (see the module
        documentation for the details of each format).
    schema : SurveySchema
        Expected fields, e.g. :data:`VACANT_UNITS` or :data:`FIRMS`.
    area_lonlat : shapely geometry, optional
        Study area in EPSG:4326; points outside it are reported (and points
        that fall inside once longitude and latitude are exchanged are
        reported as swapped).
    crs : optional
        CRS of the result (anything :mod:`pyproj` understands); default
        EPSG:4326.
    layer : str, optional
        Sheet of an Excel workbook (default: the first sheet) or layer of a
        GeoPackage (required when it holds several layers).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per data row of the file, with a RangeIndex and the columns:
        the schema fields in order (missing optional fields as all-null
        columns; ``int`` as ``Int64``, ``float`` as ``float64``, ``bool`` as
        ``boolean``, ``date`` as ``datetime64[us]``, text and choices as
        ``str``, multichoice values ``;``-joined in canonical spelling), then
        ``source_row`` (the spreadsheet row number, header = 1), then any
        column not in the schema, unchanged, then a point ``geometry``.
        Non-point geometries of spatial files are replaced by their
        representative point, after repair with :func:`shapely.make_valid`;
        for spatial files the ``lon`` / ``lat`` columns are filled from that
        point.  ``lon`` / ``lat`` stay in degrees whatever ``crs`` is.

    Raises
    ------
    InputFileNotFoundError
        If ``path`` is not an existing file.
    SurveyError
        If the file cannot be read, is empty, or has any problem; the error
        lists every :class:`~geodistrict.errors.Problem` found.
    ValueError
        If ``layer`` is given for a CSV file, or the schema has no ``lon`` /
        ``lat`` fields and the file has no geometry.

    Notes
    -----
    Numbers written as text may use a decimal comma or a decimal point, with
    thousands separators (``1.250,5``, ``1,250.5``, ``1 250,5``).  A lone
    separator followed by exactly three digits (``1.250``) is ambiguous: it is
    read with the convention the same column (or, failing that, the file)
    clearly uses elsewhere; with no evidence, semicolon/tab files and Excel
    text cells use the decimal comma, comma-separated and spatial files the
    decimal point.  Integer fields always read it as a thousands separator,
    ``lon`` / ``lat`` always as a decimal one.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> units = read_survey("sfitti.csv", VACANT_UNITS,
    ...                     area_lonlat=box(9.15, 45.44, 9.22, 45.49))  # doctest: +SKIP
    """
    p = existing_file(path, what="survey file")
    suffix = p.suffix.casefold()
    if suffix in _TABULAR_SUFFIXES:
        if layer is not None:
            raise ValueError(f"layer={layer!r} does not apply to a {suffix} file")
        raw = _read_delimited(p)
    elif suffix in _EXCEL_SUFFIXES:
        raw = _read_excel(p, layer)
    elif suffix in _GEO_SUFFIXES:
        raw = _read_geo(p, layer)
    else:
        hint = " (old Excel format: save it as .xlsx)" if suffix == ".xls" else ""
        supported = sorted(_TABULAR_SUFFIXES | _EXCEL_SUFFIXES | _GEO_SUFFIXES)
        raise SurveyError(
            p,
            [_file_problem(p, f"unsupported file type {suffix!r}{hint}; use one of {supported}")],
        )
    return _check_and_build(raw, schema, p, area_lonlat=area_lonlat, crs=crs)


def _file_problem(path: Path, message: str) -> Problem:
    return Problem(file=str(path), row=None, column=None, value=None, message=message)


def _decode(data: bytes) -> tuple[str, str]:
    """Decode a text file: UTF-8 (BOM or not), UTF-16 with BOM, else cp1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _is_blank_record(record: Sequence[str]) -> bool:
    return all(not cell.strip() for cell in record)


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter (``;``, tab or ``,``) that splits the file most consistently."""
    sample = text[:65536]
    truncated = len(text) > len(sample)
    best = ","
    best_score: tuple[bool, float, int] = (False, 0.0, 0)
    for delimiter in (",", ";", "\t"):
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            records = [r for r in itertools.islice(reader, 200) if not _is_blank_record(r)]
        except csv.Error:
            continue
        if not records:
            continue
        if truncated and len(records) > 2:
            records = records[:-1]
        width = len(records[0])
        body = records[1:]
        consistent = sum(len(r) == width for r in body) / len(body) if body else 1.0
        score = (width > 1, consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_delimited(path: Path) -> _RawTable:
    data = path.read_bytes()
    text, encoding = _decode(data)
    if not text.strip():
        raise SurveyError(path, [_file_problem(path, "file is empty (no header, no data)")])
    delimiter = _sniff_delimiter(text)
    logger.debug("%s: encoding %s, delimiter %r", path, encoding, delimiter)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise SurveyError(path, [_file_problem(path, f"cannot parse the file: {exc}")]) from exc
    return _table_from_records(path, [list(r) for r in records], delimiter != ",")


def _table_from_records(path: Path, records: list[list[object]], decimal_comma: bool) -> _RawTable:
    """Turn rows of cells (header first, blank rows allowed) into a :class:`_RawTable`."""
    start = next((i for i, r in enumerate(records) if not _row_is_blank(r)), None)
    if start is None:
        raise SurveyError(path, [_file_problem(path, "file is empty (no header, no data)")])
    header_cells = list(records[start])
    while header_cells and _is_missing(header_cells[-1]):
        header_cells.pop()
    headers = [
        "" if _is_missing(h) else str(h).replace("\ufeff", "").strip() for h in header_cells
    ]
    width = len(headers)
    problems: list[Problem] = []
    columns: list[list[object]] = [[] for _ in range(width)]
    rows: list[int] = []
    for index in range(start + 1, len(records)):
        record = list(records[index])
        row = index + 1
        if _row_is_blank(record):
            continue
        if len(record) > width:
            if not _row_is_blank(record[width:]):
                problems.append(
                    Problem(
                        file=str(path),
                        row=row,
                        column=None,
                        value=None,
                        message=f"row has {len(record)} values but the header has {width} "
                        "columns (check the delimiter, quotes or decimal commas)",
                    )
                )
                continue
            record = record[:width]
        record += [""] * (width - len(record))
        rows.append(row)
        for j, cell in enumerate(record):
            columns[j].append(cell)
    return _RawTable(headers, columns, rows, decimal_comma, problems=problems)


def _row_is_blank(record: Sequence[object]) -> bool:
    return all(_is_missing(cell) for cell in record)


def _read_excel(path: Path, layer: str | None) -> _RawTable:
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            sheets = [str(s) for s in book.sheet_names]
            if layer is None:
                if not sheets:
                    raise SurveyError(path, [_file_problem(path, "workbook has no sheets")])
                sheet = sheets[0]
                if len(sheets) > 1:
                    logger.info("%s: reading the first sheet %r of %s", path, sheet, sheets)
            elif layer in sheets:
                sheet = layer
            else:
                raise SurveyError(
                    path, [_file_problem(path, f"sheet {layer!r} not found; sheets: {sheets}")]
                )
            frame = pd.read_excel(
                book, sheet_name=sheet, header=None, dtype=object, na_filter=False
            )
    except SurveyError:
        raise
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise SurveyError(
            path, [_file_problem(path, f"cannot read the Excel file: {exc}")]
        ) from exc
    records: list[list[object]] = [list(r) for r in frame.itertuples(index=False, name=None)]
    return _table_from_records(path, records, True)


def _read_geo(path: Path, layer: str | None) -> _RawTable:
    try:
        if layer is None:
            layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
            if len(layers) > 1:
                raise SurveyError(
                    path,
                    [_file_problem(path, f"file has several layers {layers}; pass layer=...")],
                )
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except SurveyError:
        raise
    except (OSError, RuntimeError, ValueError) as exc:
        raise SurveyError(path, [_file_problem(path, f"cannot read the file: {exc}")]) from exc
    geometry = frame.geometry
    if geometry.crs is None:
        logger.warning("%s has no CRS; assuming EPSG:4326 (longitude, latitude)", path)
        geometry = geometry.set_crs("EPSG:4326")
    else:
        geometry = geometry.to_crs("EPSG:4326")
    geometry = geometry.reset_index(drop=True)
    headers = [str(c) for c in frame.columns if c != frame.geometry.name]
    columns = [frame[c].astype(object).tolist() for c in frame.columns if c != frame.geometry.name]
    rows = [i + 2 for i in range(len(frame))]
    return _RawTable(headers, columns, rows, False, geometry=geometry)


# --------------------------------------------------------------------------- values


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, np.datetime64) and bool(np.isnat(value)):
        return True
    return isinstance(value, str) and not value.strip()


def _clean_number_text(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f']", "", text)


def _grouped(int_part: str, separator: str) -> bool:
    return re.fullmatch(rf"\d{{1,3}}(?:{re.escape(separator)}\d{{3}})*", int_part) is not None


def _ambiguous(int_part: str, frac: str) -> bool:
    """``1.250`` / ``1,250``: a thousands separator or a decimal one?"""
    return len(frac) == 3 and 1 <= len(int_part) <= 3 and not int_part.startswith("0")


def _parse_number(
    text: str, *, decimal_comma: bool, integer: bool, coordinate: bool = False
) -> float:
    """Parse ``12,5``, ``1.250,5``, ``12.5``, ``1,250.5``, ``1e3``...

    A lone separator followed by exactly three digits (``1.250``) is read
    according to ``decimal_comma``, except that it is a thousands separator
    for integer fields and a decimal one for coordinates (whose values never
    reach 1000).
    """
    s = _clean_number_text(text)
    if _SCIENTIFIC.fullmatch(s):
        return float(s)
    match = _NUMBER_BODY.fullmatch(s)
    if match is None or not any(c.isdigit() for c in s):
        raise _BadValueError("not a number")
    sign, body = match.groups()
    if "," in body and "." in body:
        dec = "," if body.rfind(",") > body.rfind(".") else "."
        thousands = "." if dec == "," else ","
        int_part, _, frac = body.rpartition(dec)
        if thousands in frac or not frac.isdigit() or not _grouped(int_part, thousands):
            raise _BadValueError("not a number (mixed or misplaced separators)")
        return float(f"{sign}{int_part.replace(thousands, '')}.{frac}")
    separator = "," if "," in body else "." if "." in body else ""
    if not separator:
        return float(sign + body)
    parts = body.split(separator)
    if len(parts) > 2:
        if _grouped(body, separator):
            return float(sign + body.replace(separator, ""))
        raise _BadValueError("not a number (misplaced separators)")
    int_part, frac = parts
    if (
        (int_part and not int_part.isdigit())
        or (frac and not frac.isdigit())
        or not (int_part or frac)
    ):
        raise _BadValueError("not a number")
    if _ambiguous(int_part, frac) and not coordinate:
        as_thousands = integer or (separator == ",") != decimal_comma
        if as_thousands:
            return float(sign + int_part + frac)
    return float(f"{sign}{int_part or '0'}.{frac or '0'}")


def _decimal_vote(value: object) -> int:
    """+1 if a cell clearly uses a decimal comma, -1 a decimal point, 0 if unclear."""
    if not isinstance(value, str):
        return 0
    s = _clean_number_text(value)
    if _NUMBER_BODY.fullmatch(s) is None:
        return 0
    if "," in s and "." in s:
        return 1 if s.rfind(",") > s.rfind(".") else -1
    for separator, vote in ((",", 1), (".", -1)):
        count = s.count(separator)
        if count > 1:
            return -vote  # repeated: a thousands separator
        if count == 1:
            int_part, _, frac = s.lstrip("+-").partition(separator)
            return 0 if _ambiguous(int_part, frac) else vote
    return 0


def _column_votes(column: Sequence[object]) -> int:
    return sum(_decimal_vote(v) for v in column)


def _to_float(
    value: object, *, decimal_comma: bool, integer: bool, coordinate: bool = False
) -> float:
    if isinstance(value, bool | np.bool_):
        raise _BadValueError("not a number")
    if isinstance(value, int | np.integer):
        return float(value)
    if isinstance(value, float | np.floating):
        number = float(value)
    elif isinstance(value, str):
        number = _parse_number(
            value, decimal_comma=decimal_comma, integer=integer, coordinate=coordinate
        )
    else:
        raise _BadValueError("not a number")
    if not math.isfinite(number):
        raise _BadValueError("not a finite number")
    return number


def _check_bounds(number: float, fld: SurveyField) -> None:
    if fld.minimum is not None:
        if fld.minimum_exclusive and number <= fld.minimum:
            raise _BadValueError(f"must be greater than {_fmt(fld.minimum)}")
        if number < fld.minimum:
            raise _BadValueError(f"must be at least {_fmt(fld.minimum)}")
    if fld.maximum is not None and number > fld.maximum:
        raise _BadValueError(f"must be at most {_fmt(fld.maximum)}")


def _to_bool(value: object) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating):
        if value in (0, 1):
            return bool(value)
        raise _BadValueError("not a yes/no value (use sì/no, yes/no, x, 1/0)")
    key = _value_key(str(value))
    if key in _TRUE_WORDS:
        return True
    if key in _FALSE_WORDS:
        return False
    raise _BadValueError("not a yes/no value (use sì/no, yes/no, x, 1/0)")


def _excel_serial(number: float) -> date:
    if not _EXCEL_SERIAL_MIN <= number <= _EXCEL_SERIAL_MAX:
        raise _BadValueError("not a date (use 2023-05-01 or 01/05/2023)")
    return _EXCEL_EPOCH + timedelta(days=int(number))


def _to_date(value: object, today: date) -> date:
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool | np.bool_):
        raise _BadValueError("not a date (use 2023-05-01 or 01/05/2023)")
    if isinstance(value, int | float | np.integer | np.floating):
        return _excel_serial(float(value))
    text = str(value).strip()
    if re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        return _excel_serial(float(text.replace(",", ".")))
    match = _ISO_DATE.fullmatch(text)
    if match is not None:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _DAY_FIRST_DATE.fullmatch(text)
        if match is None:
            raise _BadValueError("not a date (use 2023-05-01 or 01/05/2023)")
        day, month, year = (int(g) for g in match.groups())
        if len(match.group(3)) == 2:
            year += 2000 if year <= today.year % 100 else 1900
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise _BadValueError(f"not a valid date ({exc})") from exc


def _to_text(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, datetime | pd.Timestamp):
        return value.isoformat(sep=" ").removesuffix(" 00:00:00")
    return str(value).strip()


def _choice_map(fld: SurveyField) -> dict[str, str]:
    return {_value_key(c): c for c in fld.choices}


def _allowed(fld: SurveyField) -> str:
    return ", ".join(fld.choices)


def _convert(value: object, fld: SurveyField, *, decimal_comma: bool, today: date) -> object:
    """Convert one non-missing cell to the field's Python type, or raise _BadValueError."""
    kind = fld.kind
    if kind in _NUMERIC_KINDS:
        number = _to_float(
            value,
            decimal_comma=decimal_comma,
            integer=kind == "int",
            coordinate=fld.name in _COORDS,
        )
        if kind == "int" and not number.is_integer():
            raise _BadValueError("not a whole number")
        _check_bounds(number, fld)
        return int(number) if kind == "int" else number
    if kind == "bool":
        return _to_bool(value)
    if kind == "date":
        day = _to_date(value, today)
        if fld.not_future and day > today:
            raise _BadValueError(f"date is in the future (today is {today.isoformat()})")
        return datetime(day.year, day.month, day.day)
    text = _to_text(value)
    if kind == "choice":
        choice = _choice_map(fld).get(_value_key(text))
        if choice is None:
            raise _BadValueError(f"not an allowed value; use one of: {_allowed(fld)}")
        return choice
    if kind == "multichoice":
        choices = _choice_map(fld)
        items = [i for i in (_value_key(p) for p in _MULTI_SEPARATORS.split(text)) if i]
        unknown = [i for i in items if i not in choices]
        if unknown:
            raise _BadValueError(
                f"{', '.join(repr(u) for u in unknown)} not allowed; use one or more of: "
                f"{_allowed(fld)} (separated by ';', '|' or ',')"
            )
        return ";".join(dict.fromkeys(choices[i] for i in items)) or None
    if fld.pattern is not None and re.fullmatch(fld.pattern, text) is None:
        raise _BadValueError(f"malformed value; expected {fld.pattern_help or fld.pattern}")
    return text


# --------------------------------------------------------------------------- checking


def _excel_column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _check_and_build(
    raw: _RawTable,
    schema: SurveySchema,
    path: Path,
    *,
    area_lonlat: BaseGeometry | None,
    crs: object | None,
) -> gpd.GeoDataFrame:
    file = str(path)
    problems = list(raw.problems)
    has_geometry = raw.geometry is not None
    if not has_geometry and not set(_COORDS) <= set(schema.field_names):
        raise ValueError(
            f"schema {schema.name!r} has no 'lon'/'lat' fields, needed to locate the rows of "
            f"a file without geometry ({path})"
        )
    n_rows = len(raw.rows)

    # Headers -> fields.
    mapped: dict[str, int] = {}
    extras: list[tuple[int, str]] = []
    ignored: list[str] = []
    for j, header in enumerate(raw.headers):
        if not header:
            if _row_is_blank(raw.columns[j]):
                continue
            header = f"column_{_excel_column_letter(j)}"
            raw.headers[j] = header
        name = schema.match_header(header)
        if name is None:
            extras.append((j, header))
        elif has_geometry and name in _COORDS:
            ignored.append(header)
        elif name in mapped:
            first = raw.headers[mapped[name]]
            problems.append(
                Problem(
                    file=file,
                    row=1,
                    column=header,
                    value=None,
                    message=f"columns {first!r} and {header!r} both mean field {name!r}; "
                    "keep only one",
                )
            )
        else:
            mapped[name] = j
    if ignored:
        logger.info("%s: ignoring columns %s, the file geometry gives the position", file, ignored)

    found = ", ".join(repr(h) for h in raw.headers if h) or "none"
    for fld in schema.fields:
        required = fld.required or (not has_geometry and fld.name in _COORDS)
        if required and fld.name not in mapped:
            accepted = ", ".join(repr(a) for a in (fld.name, *fld.aliases))
            problems.append(
                Problem(
                    file=file,
                    row=None,
                    column=fld.name,
                    value=None,
                    message=f"required column {fld.name!r} is missing (accepted headers: "
                    f"{accepted}); columns found: {found}",
                )
            )
    if n_rows == 0 and not raw.problems:
        empty = (
            "file has no features" if has_geometry else "file has no data rows below the header"
        )
        problems.append(_file_problem(path, empty))

    # Values.
    file_votes = sum(
        _column_votes(raw.columns[mapped[f.name]])
        for f in schema.fields
        if f.name in mapped and f.kind in _NUMERIC_KINDS and f.name not in _COORDS
    )
    file_decimal_comma = file_votes > 0 if file_votes else raw.decimal_comma
    today = date.today()
    values: dict[str, list[object]] = {}
    bad_cells: dict[str, set[int]] = {}
    for fld in schema.fields:
        if fld.name not in mapped:
            values[fld.name] = [None] * n_rows
            continue
        column = raw.columns[mapped[fld.name]]
        header = raw.headers[mapped[fld.name]]
        decimal_comma = file_decimal_comma
        if fld.kind in _NUMERIC_KINDS:
            votes = _column_votes(column)
            decimal_comma = votes > 0 if votes else file_decimal_comma
        is_coordinate = not has_geometry and fld.name in _COORDS
        converted: list[object] = []
        bad: set[int] = set()
        for i, (row, cell) in enumerate(zip(raw.rows, column, strict=True)):
            if _is_missing(cell):
                converted.append(None)
                if fld.required and not is_coordinate:
                    problems.append(Problem(file, row, header, None, "required value is missing"))
                continue
            try:
                converted.append(_convert(cell, fld, decimal_comma=decimal_comma, today=today))
            except _BadValueError as exc:
                converted.append(None)
                bad.add(i)
                problems.append(Problem(file, row, header, cell, str(exc)))
        values[fld.name] = converted
        bad_cells[fld.name] = bad

    # Unique ids.
    if schema.id_field is not None and schema.id_field in mapped:
        header = raw.headers[mapped[schema.id_field]]
        seen: dict[object, list[int]] = {}
        for row, ident in zip(raw.rows, values[schema.id_field], strict=True):
            if ident is not None:
                seen.setdefault(ident, []).append(row)
        for ident, id_rows in seen.items():
            for row in id_rows[1:]:
                others = ", ".join(str(r) for r in id_rows if r != row)
                problems.append(
                    Problem(
                        file,
                        row,
                        header,
                        ident,
                        f"duplicate {schema.id_field} {ident!r}, also in row(s) {others}",
                    )
                )

    # Positions.
    if has_geometry:
        assert raw.geometry is not None
        points = _check_geometries(raw.geometry, raw.rows, file, area_lonlat, problems)
    else:
        points = _check_lonlat(
            values,
            bad_cells,
            raw,
            mapped,
            file,
            area_lonlat,
            problems,
            all_present=LON in mapped and LAT in mapped,
        )

    if problems:
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        raise SurveyError(path, problems)

    if has_geometry:
        values[LON] = [p.x if p is not None else None for p in points]
        values[LAT] = [p.y if p is not None else None for p in points]
    return _frame(schema, values, raw, extras, points, file, crs)


def _check_lonlat(
    values: dict[str, list[object]],
    bad_cells: dict[str, set[int]],
    raw: _RawTable,
    mapped: dict[str, int],
    file: str,
    area_lonlat: BaseGeometry | None,
    problems: list[Problem],
    *,
    all_present: bool,
) -> list[Point | None]:
    """Check the lon/lat pairs of a table; return the points (``None`` if bad)."""
    if not all_present:
        return [None] * len(raw.rows)
    column = f"{raw.headers[mapped[LON]]}/{raw.headers[mapped[LAT]]}"
    points: list[Point | None] = []
    skip = bad_cells[LON] | bad_cells[LAT]
    for i, row in enumerate(raw.rows):
        lon, lat = values[LON][i], values[LAT][i]
        if i in skip:
            points.append(None)
            continue
        x = float(lon) if isinstance(lon, float | int) else math.nan
        y = float(lat) if isinstance(lat, float | int) else math.nan
        message = lonlat_problem(x, y, area_lonlat=area_lonlat)
        if message is not None:
            problems.append(Problem(file, row, column, None, message))
            points.append(None)
        else:
            points.append(Point(x, y))
    return points


def _check_geometries(
    geometry: gpd.GeoSeries,
    rows: list[int],
    file: str,
    area_lonlat: BaseGeometry | None,
    problems: list[Problem],
) -> list[Point | None]:
    """Check (and repair) the geometries of a spatial file, in EPSG:4326."""
    points: list[Point | None] = []
    repaired: list[int] = []
    for row, geom in zip(rows, geometry, strict=True):
        if geom is None or geom.is_empty:
            problems.append(Problem(file, row, "geometry", None, "missing or empty geometry"))
            points.append(None)
            continue
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            fixed = shapely.make_valid(geom)
            if fixed is None or fixed.is_empty or not fixed.is_valid:
                problems.append(
                    Problem(
                        file,
                        row,
                        "geometry",
                        None,
                        f"invalid geometry ({reason}) that could not be repaired",
                    )
                )
                points.append(None)
                continue
            geom = fixed
            repaired.append(row)
        point = geom if isinstance(geom, Point) else geom.representative_point()
        message = lonlat_problem(point.x, point.y, area_lonlat=area_lonlat)
        if message is not None:
            problems.append(Problem(file, row, "geometry", None, message))
            points.append(None)
        else:
            points.append(point)
    if repaired:
        logger.info("%s: repaired invalid geometries in rows %s", file, repaired)
    return points


def _series(values: list[object], kind: str) -> pd.Series:
    if kind == "int":
        return pd.Series(values, dtype="Int64")
    if kind == "float":
        return pd.Series([math.nan if v is None else v for v in values], dtype="float64")
    if kind == "bool":
        return pd.Series(values, dtype="boolean")
    if kind == "date":
        return pd.Series(values, dtype="datetime64[us]")
    return pd.Series(values, dtype="str")


def _frame(
    schema: SurveySchema,
    values: dict[str, list[object]],
    raw: _RawTable,
    extras: list[tuple[int, str]],
    points: list[Point | None],
    file: str,
    crs: object | None,
) -> gpd.GeoDataFrame:
    data: dict[str, pd.Series] = {f.name: _series(values[f.name], f.kind) for f in schema.fields}
    data["source_row"] = pd.Series(raw.rows, dtype="int64")
    used = set(data) | _RESERVED_COLUMNS
    kept: list[str] = []
    for j, header in extras:
        name = header
        suffix = 2
        while name in used:
            name = f"{header}_{suffix}"
            suffix += 1
        used.add(name)
        kept.append(name if name == header else f"{header} (as {name})")
        data[name] = pd.Series(raw.columns[j])
    if kept:
        logger.info(
            "%s: keeping %d column(s) not in schema %r: %s",
            file,
            len(kept),
            schema.name,
            ", ".join(kept),
        )
    frame = pd.DataFrame(data)
    geometry = gpd.GeoSeries(points, crs="EPSG:4326")
    result = gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
    if crs is not None:
        result = result.to_crs(crs)
    return result
