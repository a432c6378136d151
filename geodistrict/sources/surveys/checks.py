"""Checking a survey read as raw cells and building the clean GeoDataFrame.

Every problem of a file is collected as a :class:`~geodistrict.errors.Problem`
located by spreadsheet row and column (headers that mean the same field, a
missing required column, bad values, duplicate ids, positions outside the
area or swapped), and raised together as one
:class:`~geodistrict.errors.SurveyError`, so the file can be fixed in one pass.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geodistrict._validate import lonlat_problem
from geodistrict.errors import ParameterError, Problem, SurveyError
from geodistrict.sources.surveys.schema import (
    _COORDS,
    _NUMERIC_KINDS,
    LAT,
    LON,
    SurveySchema,
)
from geodistrict.sources.surveys.values import (
    _BadValueError,
    _column_votes,
    _convert,
    _is_missing,
)

logger = logging.getLogger(__name__)

_RESERVED_COLUMNS = frozenset({"source_row", "geometry"})


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


def _file_problem(path: Path, message: str) -> Problem:
    return Problem(file=str(path), row=None, column=None, value=None, message=message)


def _row_is_blank(record: Sequence[object]) -> bool:
    return all(_is_missing(cell) for cell in record)


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
        raise ParameterError(
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

    # Headers that select no field: near a field the file lacks -> a problem (its values
    # would be lost); near a field read from another column, or far from all -> kept.
    kept: list[tuple[int, str, str]] = []  # (column index, header, note for the log)
    near_reported: set[str] = set()
    for j, header in extras:
        near = schema.near_fields(header)
        absent = [
            (name, accepted)
            for name, accepted in near
            if name not in mapped and not (has_geometry and name in _COORDS)
        ]
        if absent:
            problems.append(Problem(file, 1, header, None, _near_message(schema, absent)))
            near_reported.update(name for name, _ in absent)
            continue
        note = "; ".join(
            f"resembles {accepted!r}, but field {name!r} is read from column "
            f"{raw.headers[mapped[name]]!r}"
            if name in mapped
            else f"resembles {accepted!r}, but the file geometry gives the position"
            for name, accepted in near
        )
        kept.append((j, header, note))

    found = ", ".join(repr(h) for h in raw.headers if h) or "none"
    for fld in schema.fields:
        required = fld.required or (not has_geometry and fld.name in _COORDS)
        if required and fld.name not in mapped and fld.name not in near_reported:
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
    return _frame(schema, values, raw, kept, points, file, crs)


def _near_message(schema: SurveySchema, near: list[tuple[str, str]]) -> str:
    """The problem of a header that selects no field but resembles fields the file lacks."""
    described = []
    for name, accepted in near:
        fld = schema.get_field(name)
        headers = ", ".join(repr(h) for h in fld.accepted_headers)
        units = f"; they may add {', '.join(fld.units)}" if fld.units else ""
        required = "required " if fld.required else ""
        described.append(
            f"{required}field {name!r} (close to {accepted!r}; accepted headers: {headers}{units})"
        )
    return (
        f"this header selects no field of the {schema.name} survey but looks like "
        + " or ".join(described)
        + ": rename the column to an accepted header if it holds that information (otherwise "
        "its values would not be used), or give it a name that does not resemble one"
    )


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
    extras: list[tuple[int, str, str]],
    points: list[Point | None],
    file: str,
    crs: object | None,
) -> gpd.GeoDataFrame:
    data: dict[str, pd.Series] = {f.name: _series(values[f.name], f.kind) for f in schema.fields}
    data["source_row"] = pd.Series(raw.rows, dtype="int64")
    used = set(data) | _RESERVED_COLUMNS
    kept: list[str] = []
    for j, header, note in extras:
        name = header
        suffix = 2
        while name in used:
            name = f"{header}_{suffix}"
            suffix += 1
        used.add(name)
        shown = repr(header) if name == header else f"{header!r} (as {name!r})"
        kept.append(f"{shown} ({note})" if note else shown)
        data[name] = pd.Series(raw.columns[j])
    if kept:
        logger.warning(
            "%s: %d column(s) are not fields of the %s survey; they are kept as they are but "
            "no analysis uses them: %s. If one holds a survey field, rename it to the field "
            "name or an alias (see 'Survey files' in docs/configuration.md)",
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
