"""ATECO 2007: the table of sections and divisions, and classifying firms by their code.

ATECO 2007 is the Italian version of NACE Rev. 2 and equals it down to the
division (2 digits). The table ships with the package (``data/ateco2007.csv``)
with Italian and English labels.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from geodistrict._validate import require_columns
from geodistrict.errors import ParameterError, Problem, SurveyError
from geodistrict.sources.surveys.values import ateco_parts, ateco_problem

__all__ = ["Level", "ateco_table", "classify_ateco", "sector_labels", "sector_of"]

Level = Literal["section", "division"]


@lru_cache(maxsize=1)
def _ateco_frame() -> pd.DataFrame:
    text = resources.files("geodistrict").joinpath("data/ateco2007.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return pd.DataFrame(rows).set_index("code")


def ateco_table() -> pd.DataFrame:
    """ATECO 2007 sections and divisions with Italian and English labels.

    ATECO 2007 is the Italian version of NACE Rev. 2 and equals it down to the
    division (2 digits).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``code`` (``"A"``..``"U"`` for sections, ``"01"``..``"99"``
        for the 88 divisions), with ``level`` (``section`` / ``division``),
        ``section`` (the section letter), ``label_it`` and ``label_en``.

    Examples
    --------
    >>> from geodistrict.production import ateco_table
    >>> table = ateco_table()
    >>> table.loc["25", "section"], table.loc["C", "label_en"]
    ('C', 'Manufacturing')
    >>> int((table["level"] == "division").sum())
    88
    """
    return _ateco_frame().copy()


def _ateco_dict(column: str) -> dict[str, str]:
    """One column of the ATECO table as a code -> value dictionary."""
    return {str(k): str(v) for k, v in _ateco_frame()[column].items()}


def _rows_of(frame: pd.DataFrame) -> list[int]:
    """Spreadsheet row numbers of a survey frame (``source_row``) or index + 2."""
    if "source_row" in frame.columns:
        return [int(r) for r in frame["source_row"]]
    return [i + 2 for i in range(len(frame))]


def classify_ateco(
    firms: pd.DataFrame, *, column: str = "ateco", source: str = "firms"
) -> pd.DataFrame:
    """Add the ATECO division and section (with labels) of each firm.

    Parameters
    ----------
    firms : DataFrame or GeoDataFrame
        Firms with an ATECO code column (as read with the ``FIRMS`` schema).
    column : str, default "ateco"
        The code column.
    source : str, default "firms"
        Name of the input quoted in error messages (e.g. the file path).

    Returns
    -------
    same type as ``firms``
        A copy with ``ateco_division`` (``"25"``), ``ateco_section`` (``"C"``),
        ``section_en`` and ``section_it``.

    Raises
    ------
    MissingColumnError
        When ``firms`` has no ``column``.
    SurveyError
        Listing every row whose code is malformed, names a division that does
        not exist in ATECO 2007 (e.g. ``34``) or carries a section letter that
        does not match its division (``A25.11``): the check of
        :func:`geodistrict.sources.surveys.values.ateco_problem`, which
        :func:`~geodistrict.sources.surveys.read_survey` already ran on a
        survey file.

    Examples
    --------
    >>> import pandas as pd
    >>> from geodistrict.production import classify_ateco
    >>> out = classify_ateco(pd.DataFrame({"ateco": ["25.62", "C10.71", "62"]}))
    >>> out["ateco_section"].tolist(), out["ateco_division"].tolist()
    (['C', 'C', 'J'], ['25', '10', '62'])
    """
    require_columns(
        firms,
        [column],
        what=source,
        hint="add the ATECO 2007 code of each firm (e.g. '25.62'), or name its column "
        "with classify_ateco(firms, column=...)",
    )
    section_of = _ateco_dict("section")
    divisions: list[object] = []
    sections: list[object] = []
    problems: list[Problem] = []
    for row, code in zip(_rows_of(firms), firms[column], strict=True):
        if code is None or (isinstance(code, float) and np.isnan(code)) or pd.isna(code):
            divisions.append(None)
            sections.append(None)
            continue
        # The survey reader runs the same check on every file (so `geodistrict check` finds
        # these); here it guards frames built in Python.
        message = ateco_problem(str(code))
        parts = ateco_parts(str(code))
        if message is not None or parts is None:
            problems.append(Problem(source, row, column, code, message or "malformed"))
            divisions.append(None)
            sections.append(None)
        else:
            divisions.append(parts[1])
            sections.append(section_of[parts[1]])
    if problems:
        raise SurveyError(source, problems)
    out = firms.copy()
    out["ateco_division"] = pd.Series(divisions, index=firms.index, dtype="str")
    out["ateco_section"] = pd.Series(sections, index=firms.index, dtype="str")
    labels, labels_it = _ateco_dict("label_en"), _ateco_dict("label_it")
    out["section_en"] = out["ateco_section"].map(labels).astype("str")
    out["section_it"] = out["ateco_section"].map(labels_it).astype("str")
    return out


def sector_of(firms: pd.DataFrame, level: Level) -> pd.Series:
    """The ATECO section or division of each firm (classified first if need be)."""
    if level not in ("section", "division"):
        raise ParameterError(f"level must be 'section' or 'division', got {level!r}")
    if "ateco_section" not in firms.columns:
        firms = classify_ateco(firms)
    return firms["ateco_section" if level == "section" else "ateco_division"]


def sector_labels(codes: Iterable[object]) -> tuple[list[str | None], list[str | None]]:
    """English and Italian labels of ATECO codes (``None`` for unknown codes).

    Examples
    --------
    >>> sector_labels(["C", "62"])[0]
    ['Manufacturing', 'Computer programming, consultancy and related activities']
    """
    en, it = _ateco_dict("label_en"), _ateco_dict("label_it")
    return [en.get(str(c)) for c in codes], [it.get(str(c)) for c in codes]
