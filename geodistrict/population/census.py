"""ISTAT census sections: the 2021 "basi territoriali" joined to the census variables.

ISTAT publishes the census sections of 2021 as polygons (the *basi
territoriali*, one Shapefile per region in WGS 84 / UTM 32N, EPSG:32632, with
the fields ``COD_REG``, ``COD_UTS``, ``PRO_COM``, ``SEZ21``, ``SEZ21_ID``,
``COD_TIPO_S``, ``TIPO_LOC``, ``LOC21_ID``...) and, separately, the variables
of the permanent census per section (a ``;``-separated CSV per region with
``SEZ21_ID`` and the variables ``P1`` total residents, ``P2``/``P3`` males and
females, ``P14``...``P29`` the sixteen five-year age bands "<5" to ">74"...).
:func:`read_census_sections` joins the two on the national section code
``SEZ21_ID`` and keeps the residents and the age bands asked for.

The variable codes follow the record layout ISTAT kept from the 2011 census
("tracciato record ... coerente con quello dei passati censimenti"); the
codes are configurable (``population.residents_field``, ``age_fields``)
because the official 2021 layout could not be checked for this module (see
``docs/indicators.md``). ISTAT data: CC BY 4.0.

Every problem of the CSV (missing column, a count that is not a whole number
>= 0, a repeated section) is reported at once, with the file, the row and
the column, as the survey readers do.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict import _validate
from geodistrict.errors import Problem, SourceError
from geodistrict.i18n import _

log = logging.getLogger(__name__)

__all__ = [
    "AGE_BANDS_2021",
    "ISTAT_ATTRIBUTION",
    "read_census_sections",
    "section_code",
]

#: Credit line of ISTAT data (licence CC BY 4.0).
ISTAT_ATTRIBUTION = "ISTAT, Censimento permanente della popolazione 2021 (CC BY 4.0)"

#: Default age bands: output column -> ISTAT five-year bands summed (P14 "<5" ... P29 ">74").
AGE_BANDS_2021: dict[str, tuple[str, ...]] = {
    "age_0_14": ("P14", "P15", "P16"),
    "age_15_64": tuple(f"P{i}" for i in range(17, 27)),
    "age_65_plus": ("P27", "P28", "P29"),
}
#: Most problems listed in one message (the rest are counted).
_MAX_PROBLEMS = 30
_ENCODINGS = ("utf-8-sig", "cp1252")


def section_code(value: object) -> str | None:
    """A section code as ISTAT's digits: ``12345000001.0`` and ``"012345000001"`` match.

    Examples
    --------
    >>> section_code(220500000001.0), section_code(" 0220500000001 "), section_code("")
    ('220500000001', '220500000001', None)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    text = text.lstrip("0")
    return text or None


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _census_table(
    path: Path, *, section_field: str, fields: Sequence[str]
) -> tuple[pd.DataFrame, list[Problem]]:
    """The CSV's section codes and whole-number fields; every problem found."""
    text = _read_text(path)
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    name = path.name
    header = [h.strip() for h in next(reader, [])]
    problems: list[Problem] = []
    wanted = [section_field, *fields]
    missing = [f for f in wanted if f not in header]
    if missing:
        problems += [
            Problem(name, 1, f, None, _("column missing; the header has: {columns}").format(
                columns=", ".join(header[:40]) or "-"))
            for f in missing
        ]  # fmt: skip
        return pd.DataFrame(), problems
    at = {f: header.index(f) for f in wanted}
    codes: list[str] = []
    values: list[list[int]] = []
    first_row: dict[str, int] = {}
    for row_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        cells = row + [""] * (len(header) - len(row))
        code = section_code(cells[at[section_field]])
        if code is None:
            problems.append(Problem(name, row_no, section_field, cells[at[section_field]],
                                    _("no section code")))  # fmt: skip
            continue
        if code in first_row:
            problems.append(Problem(name, row_no, section_field, code, _(
                "section repeated (first on row {row})").format(row=first_row[code])))  # fmt: skip
            continue
        first_row[code] = row_no
        numbers = []
        for f in fields:
            cell = cells[at[f]].strip()
            if cell in ("", "-"):
                numbers.append(0)
                continue
            try:
                number = float(cell.replace(",", "."))
            except ValueError:
                number = float("nan")
            if not (np.isfinite(number) and number >= 0 and number == int(number)):
                why = _("not a count (a whole number of 0 or more)")
                problems.append(Problem(name, row_no, f, cell, why))
                numbers.append(0)
                continue
            numbers.append(int(number))
        codes.append(code)
        values.append(numbers)
    table = pd.DataFrame(values, columns=list(fields), index=pd.Index(codes, name="section_id"))
    return table, problems


def _raise(path: Path, problems: list[Problem]) -> None:
    shown = problems[:_MAX_PROBLEMS]
    lines = [_("{n} problem(s) in census file {file}:").format(n=len(problems), file=str(path))]
    lines += [f"  - {p}" for p in shown]
    if len(problems) > len(shown):
        lines.append("  - " + _("... and {n} more").format(n=len(problems) - len(shown)))
    error = SourceError("\n".join(lines))
    error.problems = problems  # type: ignore[attr-defined]
    raise error


def read_census_sections(
    sections: str | Path | gpd.GeoDataFrame,
    census: str | Path,
    *,
    section_field: str = "SEZ21_ID",
    residents_field: str = "P1",
    age_fields: Mapping[str, Sequence[str]] | None = None,
    crs: object = None,
    area: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Census sections with their residents: ISTAT's polygons joined to the 2021 variables.

    Parameters
    ----------
    sections : path or GeoDataFrame
        The *basi territoriali* 2021 (Shapefile, GeoPackage...) with ``section_field``.
    census : path
        The census variables per section: CSV (``;`` or ``,``), UTF-8 or Windows-1252.
    section_field : str, default "SEZ21_ID"
        The national section code, in both files.
    residents_field : str, default "P1"
        Total residents.
    age_fields : mapping, optional
        Output column -> census variables summed (default :data:`AGE_BANDS_2021`).
    crs : CRS, optional
        Output CRS (default the sections' own).
    area : GeoDataFrame, optional
        Keep only the sections whose representative point lies in this area.

    Returns
    -------
    GeoDataFrame
        ``section_id`` (text), ``pro_com`` (comune code, when the sections have
        ``PRO_COM``), ``residents`` and one column per age band (whole
        numbers), ``estimated`` (False), ``source``. A section without a
        row in the CSV has 0 residents (ISTAT lists only sections with data).

    Raises
    ------
    SourceError
        Naming the file, row and column of every problem; or when no section
        code of the polygons is in the CSV (codes of another year or region).
    MissingColumnError
        If the polygons have no ``section_field``.

    Examples
    --------
    >>> import geopandas as gpd, tempfile, pathlib
    >>> from shapely.geometry import box
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> polys = gpd.GeoDataFrame({"SEZ21_ID": [220500000001, 220500000002]},
    ...                          geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
    ...                          crs=32632)
    >>> _ = (folder / "sez.csv").write_text("SEZ21_ID;P1\\n220500000001;12\\n220500000002;30\\n")
    >>> out = read_census_sections(polys, folder / "sez.csv", age_fields={})
    >>> out[["section_id", "residents"]].values.tolist()
    [['220500000001', 12], ['220500000002', 30]]
    """
    bands = {k: tuple(v) for k, v in (AGE_BANDS_2021 if age_fields is None
                                      else age_fields).items()}  # fmt: skip
    census_path = _validate.existing_file(census, what="census file")
    if isinstance(sections, gpd.GeoDataFrame):
        polys, polys_name = sections, "sections"
    else:
        polys_path = _validate.existing_file(sections, what="census sections file")
        polys, polys_name = gpd.read_file(polys_path), polys_path.name
    _validate.require_columns(
        polys, [section_field], what=f"census sections {polys_name!r}",
        hint="the ISTAT basi territoriali 2021 name it SEZ21_ID (population.section_field)",
    )  # fmt: skip
    if polys.crs is None:
        raise SourceError(_("census sections {file}: no CRS (ISTAT's are EPSG:32632)").format(
            file=polys_name))  # fmt: skip
    fields = list(dict.fromkeys([residents_field, *(f for fs in bands.values() for f in fs)]))
    table, problems = _census_table(census_path, section_field=section_field, fields=fields)
    codes = polys[section_field].map(section_code)
    blank = codes.isna()
    if blank.any():
        problems.append(Problem(polys_name, int(np.flatnonzero(blank.to_numpy())[0]) + 1,
                                section_field, None, _("section without a code")))  # fmt: skip
    if problems:
        _raise(census_path, problems)
    out = gpd.GeoDataFrame({"section_id": codes.astype(str)}, geometry=polys.geometry.values,
                           crs=polys.crs)  # fmt: skip
    if "PRO_COM" in polys.columns:
        out["pro_com"] = polys["PRO_COM"].map(section_code).astype("string")
    if crs is not None:
        out = out.to_crs(crs)
    if area is not None:
        inside = out.representative_point().within(area.to_crs(out.crs).geometry.union_all())
        out = out[inside.to_numpy()]
    matched = out["section_id"].isin(table.index)
    if len(out) and not matched.any():
        example = ", ".join(out["section_id"].head(3))
        other = ", ".join(table.index[:3].astype(str)) or "-"
        raise SourceError(_(
            "no section of {sections} is in the census file {census} (field {field}): codes "
            "such as {example} against {other}; are they of the same year (2021) and region?"
        ).format(sections=polys_name, census=census_path.name, field=section_field,
                 example=example, other=other))  # fmt: skip
    joined = table.reindex(out["section_id"]).fillna(0).astype("int64")
    out["residents"] = joined[residents_field].to_numpy()
    for column, parts in bands.items():
        out[column] = joined[list(parts)].sum(axis=1).to_numpy() if parts else 0
    out["estimated"] = False
    out["source"] = ISTAT_ATTRIBUTION
    log.info("census: %d section(s), %d resident(s); %d section(s) without data",
             len(out), int(out["residents"].sum()), int((~matched).sum()))  # fmt: skip
    return out.reset_index(drop=True)
