"""Reading survey files: CSV/TXT, Excel, GeoPackage, GeoJSON and Shapefile.

Each format is read into a :class:`~geodistrict.sources.surveys.checks._RawTable`
of untouched cells (encodings and delimiters are detected here), which
:func:`read_survey` then checks against a schema.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import logging
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry.base import BaseGeometry

from geodistrict._validate import existing_file
from geodistrict.errors import InputFileNotFoundError, ParameterError, Problem, SurveyError
from geodistrict.sources.surveys.checks import (
    _check_and_build,
    _file_problem,
    _RawTable,
    _row_is_blank,
)
from geodistrict.sources.surveys.exports import adapt_export
from geodistrict.sources.surveys.schema import SurveySchema
from geodistrict.sources.surveys.values import _is_missing
from geodistrict.sources.surveys.xlsx import MAX_COLUMNS, MAX_ROWS, MAX_TEXT_BYTES, check_workbook

__all__ = ["read_survey", "read_surveys"]

logger = logging.getLogger(__name__)

_TABULAR_SUFFIXES = frozenset({".csv", ".txt"})
_EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
_GEO_SUFFIXES = frozenset({".gpkg", ".geojson", ".json", ".shp"})


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
        ``boolean``, ``date`` as ``datetime64[us]``, text as ``str``, choices
        as their code whatever spelling the file uses (``buono`` → ``good``),
        multichoice values as codes ``;``-joined), then
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
    ParameterError
        If ``layer`` is given for a CSV file, or the schema has no ``lon`` /
        ``lat`` fields and the file has no geometry (a ``ValueError``).

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
    >>> import geodistrict as gd
    >>> from geodistrict.sources.surveys import VACANT_UNITS
    >>> path = gd.datasets.sample_config().surveys.vacant_units
    >>> units = read_survey(path, VACANT_UNITS)
    >>> len(units), units.crs.to_epsg()
    (24, 4326)
    >>> units[["unit_id", "floor_area_m2", "condition"]].head(2).values.tolist()
    [['V001', 61.7, 'good'], ['V002', 69.6, 'fair']]
    """
    p = existing_file(path, what="survey file")
    suffix = p.suffix.casefold()
    if suffix in _TABULAR_SUFFIXES:
        if layer is not None:
            raise ParameterError(f"layer={layer!r} does not apply to a {suffix} file")
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
    raw = adapt_export(raw, schema, p)
    return _check_and_build(raw, schema, p, area_lonlat=area_lonlat, crs=crs)


def read_surveys(
    files: Mapping[str, tuple[str | Path, SurveySchema]],
    *,
    area_lonlat: BaseGeometry | None = None,
    crs: object | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Read and check several survey files, reporting the problems of all of them at once.

    Every file is read with :func:`read_survey`, even when an earlier one has
    problems, so one run of ``geodistrict check`` (or ``run``) lists what to
    fix in every file.

    Parameters
    ----------
    files : mapping
        Survey name (e.g. ``"firms"``) to ``(path, schema)``.
    area_lonlat, crs
        As for :func:`read_survey`, the same for every file.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        The surveys read, under their names, in the order of ``files``.

    Raises
    ------
    SurveyError
        If any file is missing, cannot be read or has problems: one error
        listing the problems of every such file, each naming its file (with
        one bad file, exactly the error :func:`read_survey` raises).

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.sources.surveys import FIRMS, VACANT_UNITS
    >>> cfg = gd.datasets.sample_config().surveys
    >>> found = read_surveys({"vacant_units": (cfg.vacant_units, VACANT_UNITS),
    ...                       "firms": (cfg.firms, FIRMS)})
    >>> {name: len(frame) for name, frame in found.items()}
    {'vacant_units': 24, 'firms': 90}
    """
    found: dict[str, gpd.GeoDataFrame] = {}
    failed: list[SurveyError] = []
    for name, (path, schema) in files.items():
        try:
            found[name] = read_survey(path, schema, area_lonlat=area_lonlat, crs=crs)
        except SurveyError as exc:
            failed.append(exc)
        except InputFileNotFoundError as exc:
            failed.append(SurveyError(path, [_file_problem(Path(path), str(exc))]))
        else:
            logger.info("survey %s: %d rows from %s", name, len(found[name]), path)
    if len(failed) == 1:
        raise failed[0]
    if failed:
        paths = " and ".join(exc.path for exc in failed)
        raise SurveyError(paths, [p for exc in failed for p in exc.problems])
    return found


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
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise SurveyError(
            path,
            [
                _file_problem(
                    path,
                    f"file is {size / 2**20:,.0f} MiB, more than a survey file may be "
                    f"({MAX_TEXT_BYTES // 2**20} MiB)",
                )
            ],
        )
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
    if len(records) - start - 1 > MAX_ROWS:
        raise SurveyError(
            path,
            [
                _file_problem(
                    path,
                    f"file has {len(records) - start - 1:,} rows below the header, more than "
                    f"a survey file may have ({MAX_ROWS:,})",
                )
            ],
        )
    if width > MAX_COLUMNS:
        raise SurveyError(
            path,
            [
                _file_problem(
                    path, f"header has {width:,} columns, more than a survey file may have "
                    f"({MAX_COLUMNS:,})"
                )
            ],
        )  # fmt: skip
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


def _read_excel(path: Path, layer: str | None) -> _RawTable:
    check_workbook(path)  # size, rows, columns and no DTD, before openpyxl opens it
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
    except (
        OSError,
        ValueError,  # defusedxml's refusals too
        KeyError,
        TypeError,
        EOFError,
        SyntaxError,  # xml.etree's ParseError and lxml's XMLSyntaxError
        zipfile.BadZipFile,
    ) as exc:
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
