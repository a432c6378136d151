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
    _value_key,
)
from geodistrict.sources.surveys.values import (
    _BadValueError,
    _column_votes,
    _convert,
    _is_missing,
)

logger = logging.getLogger(__name__)

_RESERVED_COLUMNS = frozenset({"source_row", "geometry"})

SAME_PLACE_M = 30.0
"""Two submissions of an export with the same name this close (metres) are one entity."""


@dataclass
class _RawTable:
    """A file read as text/typed cells, before any check.

    ``columns[j][i]`` is the cell of column ``j`` in data row ``i``, whose
    spreadsheet number is ``rows[i]``.  A KoboToolbox/ODK export
    (:func:`~geodistrict.sources.surveys.exports.adapt_export`) also sets
    ``field_of`` (columns that select a field by the export's naming),
    ``meta`` (its meta columns: kept, never reported as unknown),
    ``submitted`` (the submission time of each row; ``None`` for a file that
    is no export), ``position_header`` (the geopoint column that gave
    ``lon``/``lat``, named in their problems) and ``bad_position`` (rows whose
    geopoint was already reported).
    """

    headers: list[str]
    columns: list[list[object]]
    rows: list[int]
    decimal_comma: bool
    geometry: gpd.GeoSeries | None = None
    problems: list[Problem] = field(default_factory=list)
    field_of: dict[int, str] = field(default_factory=dict)
    meta: set[int] = field(default_factory=set)
    submitted: list[pd.Timestamp | None] | None = None
    position_header: str | None = None
    bad_position: set[int] = field(default_factory=set)


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
        if j in raw.meta:
            continue
        name = raw.field_of.get(j) or schema.match_header(header)
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

    # Repeated submissions of an export: the latest is kept, the others reported.
    warnings: list[Problem] = []
    if raw.submitted is not None:
        dropped, warnings = _repeated_submissions(schema, values, points, raw, mapped, file)
        if dropped:
            dropped_rows = {raw.rows[i] for i in dropped}
            problems = [p for p in problems if p.row not in dropped_rows]
            keep = [i for i in range(n_rows) if i not in dropped]
            values = {name: [column[i] for i in keep] for name, column in values.items()}
            points = [points[i] for i in keep]
            raw = _subset(raw, keep)

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

    if problems:
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        raise SurveyError(path, problems)

    if has_geometry:
        values[LON] = [p.x if p is not None else None for p in points]
        values[LAT] = [p.y if p is not None else None for p in points]
    result = _frame(schema, values, raw, kept, points, file, crs)
    if warnings:
        logger.warning(
            "%s: %d repeated submission(s) left out, the latest of each kept:\n%s",
            file,
            len(warnings),
            "\n".join(f"  - {w}" for w in warnings),
        )
    result.attrs["warnings"] = warnings
    return result


def _subset(raw: _RawTable, keep: list[int]) -> _RawTable:
    """The rows ``keep`` (indices) of a table, everything else alike."""
    return _RawTable(
        raw.headers,
        [[column[i] for i in keep] for column in raw.columns],
        [raw.rows[i] for i in keep],
        raw.decimal_comma,
        problems=raw.problems,
        field_of=raw.field_of,
        meta=raw.meta,
        submitted=None if raw.submitted is None else [raw.submitted[i] for i in keep],
        position_header=raw.position_header,
        bad_position={k for k, i in enumerate(keep) if i in raw.bad_position},
    )


def _metres(a: Point, b: Point) -> float:
    """Great-circle distance between two lon/lat points, in metres."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a.x, a.y, b.x, b.y))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def _repeated_submissions(
    schema: SurveySchema,
    values: dict[str, list[object]],
    points: list[Point | None],
    raw: _RawTable,
    mapped: dict[str, int],
    file: str,
) -> tuple[set[int], list[Problem]]:
    """Rows (indices) of an export submitted again later, and a warning for each.

    Two rows are one entity when they share the identifier, or when every
    ``same_entity`` text is the same (case, accents and spacing aside) and
    their positions lie within :data:`SAME_PLACE_M`; of each such group the
    row submitted last (ties: the lower one in the file) is kept.
    """
    n = len(raw.rows)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    reasons: dict[tuple[int, int], str] = {}

    def join(i: int, j: int, reason: str) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[b] = a
        reasons.setdefault((min(i, j), max(i, j)), reason)

    if schema.id_field is not None and schema.id_field in mapped:
        first: dict[object, int] = {}
        for i, ident in enumerate(values[schema.id_field]):
            if ident is not None:
                join(first.setdefault(ident, i), i, f"same {schema.id_field} {ident!r}")
    names = [f for f in schema.same_entity if f in mapped]
    if names and len(names) == len(schema.same_entity):
        groups: dict[tuple[str, ...], list[int]] = {}
        for i in range(n):
            texts = [values[f][i] for f in names]
            if points[i] is None or any(t is None for t in texts):
                continue
            groups.setdefault(tuple(_value_key(str(t)) for t in texts), []).append(i)
        for key, members in groups.items():
            for a, i in enumerate(members):
                for j in members[a + 1 :]:
                    pi, pj = points[i], points[j]
                    assert pi is not None and pj is not None
                    distance = _metres(pi, pj)
                    if distance <= SAME_PLACE_M:
                        what = " and ".join(f"{f} {t!r}" for f, t in zip(names, key, strict=True))
                        join(i, j, f"same {what}, {distance:.0f} m apart")
    clusters: dict[int, list[int]] = {}
    for i in range(n):
        clusters.setdefault(find(i), []).append(i)
    submitted = raw.submitted or [None] * n
    dropped: set[int] = set()
    warnings: list[Problem] = []
    id_header = raw.headers[mapped[schema.id_field]] if schema.id_field in mapped else None
    for members in clusters.values():
        if len(members) < 2:
            continue

        def order(i: int) -> tuple[bool, pd.Timestamp, int]:
            stamp = submitted[i]
            return (
                stamp is not None,
                stamp if stamp is not None else pd.Timestamp(0, tz="UTC"),
                i,
            )

        kept = max(members, key=order)
        when = submitted[kept]
        shown = f", submitted {when.isoformat()}" if when is not None else ", lower in the file"
        for i in sorted(members):
            if i == kept:
                continue
            dropped.add(i)
            reason = reasons.get((min(i, kept), max(i, kept))) or next(
                r for (a, b), r in reasons.items() if i in (a, b)
            )
            ident = values[schema.id_field][i] if schema.id_field in mapped else None
            stamp = submitted[i]
            this = f" (submitted {stamp.isoformat()})" if stamp is not None else ""
            warnings.append(
                Problem(
                    file,
                    raw.rows[i],
                    id_header,
                    ident,
                    f"repeated submission{this} of the {schema.name} entry in row "
                    f"{raw.rows[kept]} ({reason}); row {raw.rows[kept]}{shown}, is kept and "
                    "this one left out",
                )
            )
    warnings.sort(key=lambda p: p.row or 0)
    return dropped, warnings


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
    column = raw.position_header or f"{raw.headers[mapped[LON]]}/{raw.headers[mapped[LAT]]}"
    points: list[Point | None] = []
    skip = bad_cells[LON] | bad_cells[LAT] | raw.bad_position
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
    for j in sorted(raw.meta):
        name = raw.headers[j]
        while name in used:
            name = f"{name}_"
        used.add(name)
        data[name] = pd.Series(raw.columns[j])
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
