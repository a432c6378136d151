"""KoboToolbox and ODK exports, read as they come.

A form filled in with ODK Collect, KoboCollect or Enketo is downloaded from
KoboToolbox or ODK Central as CSV or XLSX with the layout of the form, not of
the survey schema.  :func:`adapt_export` turns what such an export looks like
into what :func:`~geodistrict.sources.surveys.read_survey` checks, before any
check, so every problem is still reported by row and column of the file:

Group prefixes
    ``impresa/ateco`` (KoboToolbox), ``impresa-ateco`` (ODK Central) or
    ``g1/g2/ateco``: a header that selects no field is tried without its
    leading groups.
Multiple choices
    ``select_multiple`` answers as choice names separated by spaces
    (``security transport``) are read by the value parser; the one-column-per-
    choice layout (``criticita/sicurezza`` = 1, ``impresa/critical_issues/security``
    = 0) is gathered into one value of the field, each cell 1/0, true/false or
    blank.  When the export has both layouts, the joined column is read and the
    per-choice columns are kept as export columns.
Geopoint
    One column named like the form's geopoint (:data:`GEOPOINT` or one of
    :data:`GEOPOINT_NAMES`: ``posizione``, ``location``, ``gps``...) holding
    ``latitude longitude altitude accuracy`` as ODK writes it gives ``lon``
    and ``lat``; so do the split columns ``_posizione_latitude`` /
    ``_posizione_longitude`` (KoboToolbox) or ``posizione-Latitude`` /
    ``posizione-Longitude`` (ODK Central), which win over the joined column.
Meta columns
    ``_id``, ``_uuid``, ``_submission_time``, ``_index``,
    ``_validation_status``, ``start``, ``end``, ``deviceid``, ``__version__``,
    ``meta/instanceID``, ``SubmissionDate``, ``KEY``... (:data:`META_COLUMNS`)
    are kept in the result as they are but never reported as unknown columns
    (``_id`` is not the firm's ``id``).
Repeated submissions
    A file with such meta columns is an export: two submissions with the same
    identifier (``firm_id``), or with the same name (``same_entity`` of the
    schema) and positions within
    :data:`~geodistrict.sources.surveys.checks.SAME_PLACE_M` metres, are one
    firm submitted twice; the one submitted last (``_submission_time``,
    ``SubmissionDate``, else ``end``, else file order) is kept and the others
    are reported in one WARNING (see
    :func:`~geodistrict.sources.surveys.read_survey`), never dropped silently.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from geodistrict.errors import Problem
from geodistrict.sources.surveys.checks import SAME_PLACE_M, _RawTable
from geodistrict.sources.surveys.schema import (
    _COORDS,
    LAT,
    LON,
    SurveySchema,
    _header_key,
    _value_key,
)
from geodistrict.sources.surveys.values import _is_missing

__all__ = ["GEOPOINT", "GEOPOINT_NAMES", "META_COLUMNS", "SAME_PLACE_M", "adapt_export"]

logger = logging.getLogger(__name__)

GEOPOINT = "posizione"
"""Name of the geopoint question of the forms geodistrict writes."""

GEOPOINT_NAMES = frozenset(
    {GEOPOINT, "location", "geopoint", "gps", "punto_gps", "posizione_gps", "coordinate",
     "coordinates", "geolocalizzazione", "geolocation"}
)  # fmt: skip
"""Names (normalised) of a geopoint column: ``lat lon alt accuracy`` in one cell."""

# Normalised names (schema._header_key) of the columns KoboToolbox, ODK Central and
# ODK Briefcase add to every submission.
META_COLUMNS = frozenset(
    {"id", "uuid", "submission_time", "index", "validation_status", "notes", "status",
     "submitted_by", "version", "version_", "tags", "attachments", "geolocation",
     "xform_id_string", "parent_table_name", "parent_index", "submission_uuid",
     "submission_id", "media_count", "total_media", "media_all_received", "duration",
     "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
     "username", "email", "audit", "instanceid", "instancename", "rootuuid", "deprecatedid",
     "meta_instanceid", "meta_instancename", "meta_rootuuid", "meta_deprecatedid",
     "meta_audit", "formhub_uuid", "submissiondate", "key", "submitterid", "submittername",
     "attachmentspresent", "attachmentsexpected", "reviewstate", "edits", "formversion"}
)  # fmt: skip
"""Normalised headers of the meta columns of an export (``_uuid`` → ``uuid``)."""

# Headers that are meta columns only when written with the leading underscore (a plain
# "id" or "status" may be a survey column).
_UNDERSCORED_ONLY = frozenset({"id", "index", "status", "notes", "tags", "version", "duration"})
# Meta columns of the submission time, most trusted first.
_TIME_COLUMNS = ("submission_time", "submissiondate", "end", "start")
_GROUP_SEPARATORS = re.compile(r"[/-]")
_GEO_PART = re.compile(
    r"_?(?:.*[/-])?(?P<geo>[^/-]+?)[_-](?P<part>latitude|longitude|altitude|precision|accuracy)",
    re.IGNORECASE,
)
_TRUE_CELLS = frozenset({"1", "true", "vero", "yes", "si", "x"})
_FALSE_CELLS = frozenset({"0", "false", "falso", "no"})


def _meta_key(header: str) -> str | None:
    """The :data:`META_COLUMNS` key of a header, or ``None`` if it is no meta column."""
    text = header.strip()
    key = _header_key(text)
    if key in META_COLUMNS and (key not in _UNDERSCORED_ONLY or text.startswith("_")):
        return key
    last = _header_key(_GROUP_SEPARATORS.split(text)[-1])
    if text.casefold().startswith(("meta/", "meta-", "formhub/")) and last in META_COLUMNS:
        return last
    return None


def _without_groups(header: str) -> list[str]:
    """The header without one, two... leading group names, longest first."""
    parts = _GROUP_SEPARATORS.split(header.strip())
    return ["/".join(parts[k:]) for k in range(1, len(parts))]


def _cell_flag(cell: object) -> bool | None:
    """A cell of a one-column-per-choice layout: selected, not selected (or blank: None)."""
    if _is_missing(cell):
        return None
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int | float) and cell in (0, 1):
        return bool(cell)
    key = _value_key(str(cell))
    if key in _TRUE_CELLS or key in {"1.0"}:
        return True
    if key in _FALSE_CELLS or key in {"0.0"}:
        return False
    raise ValueError(cell)


def _geopoint(cell: object) -> tuple[float, float] | None:
    """``(lon, lat)`` of an ODK geopoint ``"lat lon [alt [accuracy]]"``; ``None`` if blank."""
    if _is_missing(cell):
        return None
    parts = str(cell).replace(",", " ").split()
    if not 2 <= len(parts) <= 4:
        raise ValueError(cell)
    lat, lon = float(parts[0]), float(parts[1])
    return lon, lat


def _timestamp(cell: object) -> pd.Timestamp | None:
    if _is_missing(cell):
        return None
    try:
        stamp = pd.Timestamp(str(cell).strip() if isinstance(cell, str) else cell)
    except (ValueError, TypeError, OverflowError):
        return None
    if stamp is pd.NaT:
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def adapt_export(raw: _RawTable, schema: SurveySchema, path: Path) -> _RawTable:
    """Read a KoboToolbox/ODK export's columns as the schema's fields.

    Parameters
    ----------
    raw : _RawTable
        The file as read, untouched.
    schema : SurveySchema
        The survey the file holds.
    path : Path
        The file, named in problems.

    Returns
    -------
    _RawTable
        The same cells with, when the file looks like an export, the columns
        that select a field by the export's naming (``field_of``), the meta
        columns (``meta``), the submission times (``submitted``, set only for
        an export) and the columns gathered from a per-choice layout or a
        geopoint added; a file that is no export comes back as it was read.
        Cells that cannot be gathered (a per-choice cell that is not 0/1, a
        geopoint that is not ``lat lon alt accuracy``) are problems of their
        row and column.
    """
    if raw.geometry is not None:
        return raw
    file = str(path)
    meta: dict[int, str] = {}
    field_of: dict[int, str] = {}
    per_choice: dict[str, list[tuple[int, str]]] = {}  # field -> [(column, code)]
    geo_columns: list[int] = []
    split_coords: dict[str, int] = {}
    for j, header in enumerate(raw.headers):
        if not header:
            continue
        key = _meta_key(header)
        if key is not None:
            meta[j] = key
            continue
        if schema.match_header(header) is not None:
            continue
        geo = _GEO_PART.fullmatch(header.strip())
        if geo is not None and _header_key(geo.group("geo")) in GEOPOINT_NAMES:
            part = geo.group("part").casefold()
            coord = {"latitude": LAT, "longitude": LON}.get(part)
            if coord is not None and coord not in split_coords:
                split_coords[coord] = j
            else:
                meta[j] = f"geopoint {part}"
            continue
        stripped = [header.strip(), *_without_groups(header)]
        if any(_header_key(s) in GEOPOINT_NAMES for s in stripped):
            geo_columns.append(j)
            continue
        parts = _GROUP_SEPARATORS.split(header.strip())
        if len(parts) >= 2:
            owner = schema.match_header(parts[-2])
            fld = schema.get_field(owner) if owner is not None else None
            code = fld.choice_code(parts[-1]) if fld is not None else None
            if fld is not None and fld.kind == "multichoice" and code is not None:
                per_choice.setdefault(fld.name, []).append((j, code))
                continue
        for candidate in _without_groups(header):
            name = schema.match_header(candidate)
            if name is not None:
                field_of[j] = name
                break
    is_export = bool(meta)
    if not (is_export or field_of or per_choice or geo_columns or split_coords):
        return raw
    headers = list(raw.headers)
    columns = [list(c) for c in raw.columns]
    problems = list(raw.problems)
    n_rows = len(raw.rows)
    taken = {schema.match_header(h) for h in headers if h} | set(field_of.values())
    for coord, j in split_coords.items():
        field_of[j] = coord
        taken.add(coord)

    # One column per choice -> one multiple-choice value.
    for name, members in per_choice.items():
        if name in taken:  # the joined column is there too: read it, keep these as they are
            meta.update((j, f"{name} choice") for j, _ in members)
            continue
        fld = schema.get_field(name)
        order = {o.code: k for k, o in enumerate(fld.options)}
        members.sort(key=lambda m: order[m[1]])
        gathered: list[object] = []
        for i, row in enumerate(raw.rows):
            chosen: list[str] = []
            answered = False
            for j, code in members:
                try:
                    flag = _cell_flag(raw.columns[j][i])
                except ValueError:
                    problems.append(
                        Problem(
                            file, row, headers[j], raw.columns[j][i],
                            "not 1 or 0: a column of one choice of a multiple choice holds "
                            "1 (chosen) or 0 (not chosen)",
                        )
                    )  # fmt: skip
                    continue
                answered = answered or flag is not None
                if flag:
                    chosen.append(code)
            gathered.append(";".join(chosen) if answered else None)
        first = headers[members[0][0]]
        prefix = _GROUP_SEPARATORS.split(first)[:-1]
        headers.append("/".join(prefix) + "/*")
        columns.append(gathered)
        field_of[len(headers) - 1] = name
        meta.update((j, f"{name} choice") for j, _ in members)
        taken.add(name)

    # A geopoint "lat lon alt accuracy" -> lon, lat (unless read from other columns).
    position_header = None
    bad_position: set[int] = set()
    for j in geo_columns:
        if LON in taken or LAT in taken:
            meta[j] = "geopoint"
            continue
        lons: list[object] = []
        lats: list[object] = []
        for i, row in enumerate(raw.rows):
            try:
                point = _geopoint(raw.columns[j][i])
            except ValueError:
                problems.append(
                    Problem(
                        file, row, headers[j], raw.columns[j][i],
                        "not a GPS position: ODK and KoboToolbox write 'latitude longitude "
                        "altitude accuracy', e.g. '46.2013 11.1305 210 5'",
                    )
                )  # fmt: skip
                bad_position.add(i)
                point = None
            lons.append(None if point is None else point[0])
            lats.append(None if point is None else point[1])
        for coord, values in ((LON, lons), (LAT, lats)):
            headers.append(f"{headers[j]} ({coord})")
            columns.append(values)
            field_of[len(headers) - 1] = coord
        meta[j] = "geopoint"
        taken.update(_COORDS)
        position_header = headers[j]

    submitted: list[pd.Timestamp | None] | None = None
    if is_export:
        by_key = {key: j for j, key in sorted(meta.items(), reverse=True)}
        time_column = next((by_key[k] for k in _TIME_COLUMNS if k in by_key), None)
        if time_column is None:
            submitted = [None] * n_rows
        else:
            submitted = [_timestamp(c) for c in raw.columns[time_column]]
        logger.info(
            "%s: a KoboToolbox/ODK export; %d meta column(s) kept aside: %s",
            file,
            len(meta),
            ", ".join(repr(raw.headers[j]) for j in sorted(meta) if j < len(raw.headers)),
        )
    return _RawTable(
        headers,
        columns,
        list(raw.rows),
        False if is_export else raw.decimal_comma,  # ODK writes decimal points
        problems=problems,
        field_of=field_of,
        meta=set(meta),
        submitted=submitted,
        position_header=position_header,
        bad_position=bad_position,
    )
