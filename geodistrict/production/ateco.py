"""ATECO 2025 (and 2007): the classification's tables and classifying firms by their code.

ATECO 2025 (ISTAT), in force since 1 April 2025, is the Italian version of
NACE Rev. 2.1 and equals it down to the class (4 digits); it has 22 sections
(``A``..``V``) and 87 divisions.  Against ATECO 2007 (NACE Rev. 2, 21
sections, 88 divisions) the letters shifted from ``J`` on: information and
communication split into ``J`` (publishing, broadcasting, content) and ``K``
(telecommunication, computer programming, computing infrastructure), so
finance is ``L``, real estate ``M``, professional activities ``N``...  and
division 45 (motor vehicle trade and repair) went to 46, 47 and 95.

Codes are read as ATECO 2025 by default.  A code that exists only in ATECO
2007 (or in its 2022 update) is converted to ATECO 2025 through ISTAT's
correspondence table (*Corrispondenza bidirezionale ATECO 2025 – ATECO 2007
aggiornamento 2022*) and reported as converted.  When ISTAT gives several
2025 codes for one 2007 code the conversion keeps, in this order, the 2025
codes of the same division, and among them those that come wholly from the
2007 code (*copertura totale*); one code left is the answer (``main``),
several give their most precise common parent (``broader``: ``74.10`` →
``74.1``; ``45.11`` → section ``G``).  The three 2007 codes whose 2025
counterparts share no section (``45``, ``45.4``, ``45.40``) cannot be
converted: write the firm's 2025 code.

The tables (``geodistrict/data/ateco2025.csv``, every 2025 code with its
Italian title and, for sections and divisions, the NACE Rev. 2.1 English
title; ``geodistrict/data/ateco2007_2025.csv``, ISTAT's correspondence for
every 2007 code) are copied from ISTAT's files by
``geodistrict/data/make_ateco_tables.py``.  Data © ISTAT, CC-BY 4.0.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from geodistrict._validate import require_columns
from geodistrict.errors import ParameterError, Problem, SurveyError
from geodistrict.sources.surveys.values import _ATECO_HELP, ateco_parts

__all__ = [
    "AtecoCode",
    "Edition",
    "Level",
    "ateco_code_problem",
    "ateco_table",
    "classify_ateco",
    "resolve_ateco",
    "sector_labels",
    "sector_of",
]

log = logging.getLogger(__name__)

Level = Literal["section", "division"]
Edition = Literal["2025", "2007"]
_EDITIONS = ("2025", "2007")


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("geodistrict").joinpath(f"data/{name}").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def _table_2025() -> pd.DataFrame:
    return pd.DataFrame(_read_csv("ateco2025.csv")).set_index("code")


@lru_cache(maxsize=1)
def _table_2007() -> pd.DataFrame:
    return pd.DataFrame(_read_csv("ateco2007.csv")).set_index("code")


@lru_cache(maxsize=1)
def _parents_2025() -> dict[str, str]:
    return {str(k): str(v) for k, v in _table_2025()["parent"].items()}


@lru_cache(maxsize=1)
def _correspondence() -> dict[str, tuple[tuple[str, bool], ...]]:
    """2007 code -> the 2025 codes ISTAT gives for it, each with its *copertura totale*."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for row in _read_csv("ateco2007_2025.csv"):
        out.setdefault(row["code_2007"], []).append((row["code_2025"], row["whole"] == "1"))
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=1)
def _division_sections() -> dict[str, dict[str, str]]:
    """The section letter of each division, per edition."""
    t25, t07 = _table_2025(), _table_2007()
    return {
        "2025": {
            str(c): str(s) for c, s in t25.loc[t25["level"] == "division", "section"].items()
        },
        "2007": {
            str(c): str(s) for c, s in t07.loc[t07["level"] == "division", "section"].items()
        },
    }


def ateco_table(*, edition: Edition = "2025") -> pd.DataFrame:
    """ATECO sections and divisions with Italian and English labels.

    Parameters
    ----------
    edition : {"2025", "2007"}, default "2025"
        ATECO 2025 (NACE Rev. 2.1: 22 sections, 87 divisions) or ATECO 2007
        (NACE Rev. 2: 21 sections, 88 divisions).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``code`` (section letters and two-digit divisions), with
        ``level`` (``section`` / ``division``), ``section`` (the section
        letter), ``label_it`` and ``label_en``.

    Examples
    --------
    >>> from geodistrict.production import ateco_table
    >>> table = ateco_table()
    >>> table.loc["62", "section"], table.loc["K", "label_it"][:16]
    ('K', 'Telecomunicazion')
    >>> int((table["level"] == "division").sum()), int((ateco_table(edition="2007")
    ...     ["level"] == "division").sum())
    (87, 88)
    """
    if edition not in _EDITIONS:
        raise ParameterError(f"edition must be '2025' or '2007', got {edition!r}")
    if edition == "2007":
        return _table_2007().copy()
    table = _table_2025()
    keep = table["level"].isin(["section", "division"])
    return table.loc[keep, ["level", "section", "label_it", "label_en"]].copy()


@dataclass(frozen=True)
class AtecoCode:
    """An ATECO code read as ATECO 2025 (see :func:`resolve_ateco`).

    Attributes
    ----------
    code : str
        The ATECO 2025 code, dotted (``"62.10"``, ``"62.10.00"``, ``"74.1"``),
        or a section letter when a 2007 code converts only to a section.
    section : str
        The ATECO 2025 section letter.
    division : str or None
        The ATECO 2025 division, ``None`` when only the section is known.
    converted_from : str or None
        The ATECO 2007 code (dotted) it was converted from, else ``None``.
    conversion : str or None
        ``exact`` (ISTAT gives this one 2025 code), ``main`` (one code chosen
        among ISTAT's, see the module notes), ``broader`` (the common parent of
        several), or ``None`` when not converted.
    alternatives : tuple of str
        The other 2025 codes ISTAT's correspondence gives for the 2007 code.
    """

    code: str
    section: str
    division: str | None
    converted_from: str | None = None
    conversion: str | None = None
    alternatives: tuple[str, ...] = ()


def _lookup(code: str, known: Iterable[str] | dict[str, object]) -> str | None:
    """The code itself if known, else the code without its trailing zero digits."""
    while code:
        if code in known:
            return code
        if not code.endswith("0") or len(code) <= 5:  # never below the class
            return None
        code = code[:-1].rstrip(".")
    return None


def _ancestors(code: str) -> list[str]:
    parents, chain = _parents_2025(), [code]
    while parents.get(chain[-1]):
        chain.append(parents[chain[-1]])
    return chain


def _common_parent(codes: list[str]) -> str | None:
    chains = [_ancestors(c) for c in codes]
    shared = set(chains[0]).intersection(*chains[1:])
    return next((c for c in chains[0] if c in shared), None)


def _of_2025(code: str, **extra: object) -> AtecoCode:
    row = _table_2025().loc[code]
    division = code[:2] if row["level"] != "section" else None
    return AtecoCode(code, str(row["section"]), division, **extra)  # type: ignore[arg-type]


def _convert(code: str) -> AtecoCode | str:
    """An ATECO 2007 code as ATECO 2025, or why it cannot be converted."""
    targets = _correspondence()[code]
    codes = sorted({t for t, _ in targets})
    if len(codes) == 1:
        return _of_2025(codes[0], converted_from=code, conversion="exact")
    whole = {t for t, w in targets if w}
    pool = [t for t in codes if t[:2] == code[:2]] or codes
    chosen = [t for t in pool if t in whole] or pool
    parent = _common_parent(chosen)
    if parent is None:
        return (
            f"ATECO 2007 code {code!r} has no single ATECO 2025 counterpart (ISTAT's "
            f"correspondence gives {', '.join(codes)}, in different sections); write the "
            "firm's ATECO 2025 code"
        )
    return _of_2025(
        parent,
        converted_from=code,
        conversion="main" if len(chosen) == 1 else "broader",
        alternatives=tuple(c for c in codes if c != parent),
    )


@lru_cache(maxsize=4096)
def _resolve(text: str, edition: str) -> AtecoCode | str:
    parts = ateco_parts(text)
    if parts is None:
        return f"malformed ATECO code; expected {_ATECO_HELP}"
    letter, code = parts
    division = code[:2]
    sections = _division_sections()
    if division not in sections["2025"] and division not in sections["2007"]:
        known = set(sections["2025"]) | set(sections["2007"])
        gaps = ", ".join(f"{d:02d}" for d in range(1, 100) if f"{d:02d}" not in known)
        return (
            f"ATECO division {division!r} does not exist in ATECO 2025 nor 2007 (there are "
            f"no divisions {gaps}); check the code"
        )
    found = {
        "2025": _lookup(code, _parents_2025()),
        "2007": _lookup(code, _correspondence()),
    }
    order = (edition, *(e for e in _EDITIONS if e != edition))
    fits = [e for e in order if letter is None or sections[e].get(division) == letter]
    if not fits:
        s25, s07 = sections["2025"].get(division), sections["2007"].get(division)
        both = s25 if s07 in (s25, None) else f"{s25} in ATECO 2025 and {s07} in ATECO 2007"
        return (
            f"section letter {letter!r} does not match division {division}, which is in "
            f"section {both}; write '{s25 or s07}{code}' or leave the letter out"
        )
    # A letter of one edition with a code of the other (S90.01: the 2025 letter, the 2007
    # class) is read as the code says: the letter still names the division's section.
    for e in (*fits, *(e for e in order if e not in fits)):
        known_code = found[e]
        if known_code is not None:
            return _of_2025(known_code) if e == "2025" else _convert(known_code)
    return (
        f"ATECO code {code!r} does not exist in ATECO 2025 nor 2007; check the code against "
        "ISTAT's table"
    )


def resolve_ateco(code: str, *, edition: Edition = "2025") -> AtecoCode:
    """Read one ATECO code in any written form as an ATECO 2025 code.

    Accepted forms: ``62``, ``62.1``, ``62.10``, ``62.10.0``, ``62.10.00``,
    ``6210``, ``621000``, each optionally after the section letter (``K62.10``,
    ``K 62.1``; case and spaces aside).  The code is looked up in ATECO 2025
    and in ATECO 2007 (with its 2022 update); trailing zero digits below the
    class may be dropped (``47.11.00`` is the class ``47.11``).  A code that
    exists in both editions is read in ``edition``; a section letter decides
    the edition when it fits only one (``J62.01`` is ATECO 2007).  An ATECO
    2007 code is converted as the module notes say.

    Parameters
    ----------
    code : str
        The code as written.
    edition : {"2025", "2007"}, default "2025"
        The edition of codes that exist in both.

    Returns
    -------
    AtecoCode

    Raises
    ------
    ParameterError
        When the code is malformed, exists in neither edition, has a section
        letter that fits neither, or cannot be converted; the message says
        which.

    Examples
    --------
    >>> from geodistrict.production import resolve_ateco
    >>> resolve_ateco("K 62.1").code, resolve_ateco("6210").section
    ('62.1', 'K')
    >>> old = resolve_ateco("62.01")
    >>> old.code, old.section, old.converted_from, old.conversion
    ('62.10', 'K', '62.01', 'exact')
    >>> resolve_ateco("47.71", edition="2007").converted_from
    '47.71'
    """
    if edition not in _EDITIONS:
        raise ParameterError(f"edition must be '2025' or '2007', got {edition!r}")
    result = _resolve(str(code), edition)
    if isinstance(result, str):
        raise ParameterError(f"{code!r}: {result}")
    return result


def ateco_code_problem(code: str, *, edition: Edition = "2025") -> str | None:
    """Why an ATECO code cannot be read (see :func:`resolve_ateco`), or ``None``.

    Examples
    --------
    >>> from geodistrict.production.ateco import ateco_code_problem
    >>> ateco_code_problem("L64.19") is None, ateco_code_problem("N69.10") is None
    (True, True)
    >>> print(ateco_code_problem("45.40").split(" (")[0])
    ATECO 2007 code '45.40' has no single ATECO 2025 counterpart
    """
    result = _resolve(str(code), edition)
    return result if isinstance(result, str) else None


def _rows_of(frame: pd.DataFrame) -> list[int]:
    """Spreadsheet row numbers of a survey frame (``source_row``) or index + 2."""
    if "source_row" in frame.columns:
        return [int(r) for r in frame["source_row"]]
    return [i + 2 for i in range(len(frame))]


def _missing(code: object) -> bool:
    return code is None or (isinstance(code, float) and np.isnan(code)) or bool(pd.isna(code))


def classify_ateco(
    firms: pd.DataFrame,
    *,
    column: str = "ateco",
    source: str = "firms",
    edition: Edition = "2025",
) -> pd.DataFrame:
    """Add the ATECO 2025 code, division and section (with labels) of each firm.

    Parameters
    ----------
    firms : DataFrame or GeoDataFrame
        Firms with an ATECO code column (as read with the ``FIRMS`` schema).
    column : str, default "ateco"
        The code column.
    source : str, default "firms"
        Name of the input quoted in error messages (e.g. the file path).
    edition : {"2025", "2007"}, default "2025"
        How to read codes that exist in both editions (see :func:`resolve_ateco`).

    Returns
    -------
    same type as ``firms``
        A copy with ``ateco_code`` (the ATECO 2025 code), ``ateco_division``
        (``"25"``; empty when a 2007 code converts only to a section),
        ``ateco_section`` (``"C"``), ``section_en``, ``section_it``,
        ``ateco_converted_from`` (the ATECO 2007 code, empty when the code is
        ATECO 2025) and ``ateco_conversion`` (``exact``, ``main``, ``broader``
        or empty).  A WARNING in the log counts the converted codes.

    Raises
    ------
    MissingColumnError
        When ``firms`` has no ``column``.
    SurveyError
        Listing every row whose code cannot be read (malformed, in neither
        edition, a section letter that fits neither, a 2007 code without a
        2025 counterpart): the check of
        :func:`geodistrict.sources.surveys.values.ateco_problem`, which
        :func:`~geodistrict.sources.surveys.read_survey` already ran on a
        survey file.

    Examples
    --------
    >>> import pandas as pd
    >>> from geodistrict.production import classify_ateco
    >>> out = classify_ateco(pd.DataFrame({"ateco": ["25.62", "K62.10", "62", "62.01"]}))
    >>> out["ateco_section"].tolist(), out["ateco_code"].tolist()
    (['C', 'K', 'K', 'K'], ['25.62', '62.10', '62', '62.10'])
    >>> out["ateco_converted_from"].tolist()
    [nan, nan, nan, '62.01']
    """
    require_columns(
        firms,
        [column],
        what=source,
        hint="add the ATECO code of each firm (e.g. '25.62' or 'K62.10'), or name its "
        "column with classify_ateco(firms, column=...)",
    )
    if edition not in _EDITIONS:
        raise ParameterError(f"edition must be '2025' or '2007', got {edition!r}")
    read: list[AtecoCode | None] = []
    problems: list[Problem] = []
    for row, code in zip(_rows_of(firms), firms[column], strict=True):
        if _missing(code):
            read.append(None)
            continue
        result = _resolve(str(code), edition)
        if isinstance(result, str):
            problems.append(Problem(source, row, column, code, result))
            read.append(None)
        else:
            read.append(result)
    if problems:
        raise SurveyError(source, problems)

    def column_of(name: str) -> pd.Series:
        values = [getattr(r, name) if r is not None else None for r in read]
        return pd.Series(values, index=firms.index, dtype="str")

    out = firms.copy()
    out["ateco_code"] = column_of("code")
    out["ateco_division"] = column_of("division")
    out["ateco_section"] = column_of("section")
    labels = _table_2025()
    out["section_en"] = out["ateco_section"].map(labels["label_en"]).astype("str")
    out["section_it"] = out["ateco_section"].map(labels["label_it"]).astype("str")
    out["ateco_converted_from"] = column_of("converted_from")
    out["ateco_conversion"] = column_of("conversion")
    converted = [r for r in read if r is not None and r.converted_from is not None]
    if converted:
        kinds = pd.Series([r.conversion for r in converted]).value_counts()
        log.warning(
            "%s: %d of %d ATECO codes are ATECO 2007 and were converted to ATECO 2025 "
            "through ISTAT's correspondence (%s; see the column ateco_converted_from): %s",
            source,
            len(converted),
            sum(r is not None for r in read),
            ", ".join(f"{n} {k}" for k, n in kinds.items()),
            ", ".join(sorted({f"{r.converted_from} -> {r.code}" for r in converted})),
        )
    return out


def sector_of(firms: pd.DataFrame, level: Level) -> pd.Series:
    """The ATECO 2025 section or division of each firm (classified first if need be)."""
    if level not in ("section", "division"):
        raise ParameterError(f"level must be 'section' or 'division', got {level!r}")
    if "ateco_section" not in firms.columns:
        firms = classify_ateco(firms)
    return firms["ateco_section" if level == "section" else "ateco_division"]


def sector_labels(codes: Iterable[object]) -> tuple[list[str | None], list[str | None]]:
    """English and Italian labels of ATECO 2025 codes (``None`` for unknown codes).

    Examples
    --------
    >>> sector_labels(["C", "62"])[0]
    ['Manufacturing', 'Computer programming, consultancy and related activities']
    """
    table = _table_2025()
    en = {str(k): str(v) for k, v in table["label_en"].items() if v}
    it = {str(k): str(v) for k, v in table["label_it"].items()}
    return [en.get(str(c)) for c in codes], [it.get(str(c)) for c in codes]
