"""Parsing of the values Italian offices write in their surveys.

Decimal commas and points with thousands separators (``1.250,5``,
``1,250.5``, ``1 250,5``), yes/no words in Italian and English (sì/no,
vero/falso, x), ISO, day-first and Excel serial dates, choices written as
their code, Italian or English label or a common variant (``buono``,
``Pessimo``, ``UE``; case, accents and spacing aside) and stored as the code,
and the written form of ATECO codes.  Each
converter raises :class:`_BadValueError` whose message says what is wrong
with the cell, in words the surveyor understands.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from geodistrict.sources.surveys.schema import (
    _COORDS,
    _NUMERIC_KINDS,
    SurveyField,
    _choice_key,
    _fmt,
    _value_key,
)

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

_ATECO_PATTERN = r"[A-Va-v]?\s*(?:\d{2}(?:\.\d(?:\d(?:\.\d{1,2})?)?)?|\d{4}|\d{6})"
_ATECO_HELP = (
    "an ATECO 2025 or 2007 code such as 25, 25.1, 25.11, 25.11.0, 25.11.00, 2511 or "
    "251100, optionally preceded by the section letter (C25.11); keep the leading zero "
    "(01.11) by formatting the column as text in Excel"
)
_ATECO_PARTS = re.compile(r"([A-Va-v])?(\d{2}(?:\.\d(?:\d(?:\.\d{1,2})?)?)?|\d{4}|\d{6})")


def ateco_parts(code: str) -> tuple[str | None, str] | None:
    """Section letter (upper case, or ``None``) and dotted code of a well-formed ATECO code.

    Spaces are ignored and compact codes get their dots (``2511`` → ``25.11``,
    ``251100`` → ``25.11.00``); returns ``None`` when the code is malformed.
    Whether the code exists is :func:`ateco_problem`'s business.

    Examples
    --------
    >>> ateco_parts("c 25.11"), ateco_parts("25.11.00"), ateco_parts("2511")
    (('C', '25.11'), (None, '25.11.00'), (None, '25.11'))
    >>> ateco_parts("25111"), ateco_parts("1.11")
    (None, None)
    """
    match = _ATECO_PARTS.fullmatch(re.sub(r"\s+", "", str(code)))
    if match is None:
        return None
    letter = match.group(1).upper() if match.group(1) else None
    digits = match.group(2)
    if "." not in digits and len(digits) > 2:
        digits = ".".join([digits[:2], digits[2:4], digits[4:]]).rstrip(".")
    return letter, digits


def ateco_problem(code: str) -> str | None:
    """What is wrong with an ATECO code, in words, or ``None`` if it is a valid code.

    The one check of ATECO codes: the survey reader calls it on every cell of
    the ``ateco`` column (so ``geodistrict check`` finds what
    :func:`geodistrict.production.classify_ateco` would reject), and
    ``classify_ateco`` runs the same check on frames built in Python.  A code
    is valid when it is well formed (``25``, ``25.1``, ``25.11``, ``25.11.0``,
    ``25.11.00``, ``2511``, ``251100``, optionally ``C25.11`` or ``C 25.11``),
    exists in ATECO 2025 or in ATECO 2007 (a 2007 code must have an ATECO 2025
    counterpart) and its section letter, if any, is its division's in one of
    them: see :func:`geodistrict.production.resolve_ateco`.

    Examples
    --------
    >>> ateco_problem("25.11") is None, ateco_problem("K62.10") is None
    (True, True)
    >>> print(ateco_problem("34.10").split(" (")[0])
    ATECO division '34' does not exist in ATECO 2025 nor 2007
    >>> print(ateco_problem("A25.11").split(";")[0])
    section letter 'A' does not match division 25, which is in section C
    """
    # The ATECO tables and the 2007 -> 2025 correspondence live with the
    # production analyses; imported here, when a code is checked, to keep the
    # survey reader importable on its own.
    from geodistrict.production.ateco import ateco_code_problem

    return ateco_code_problem(code)


class _BadValueError(Exception):
    """A cell value that cannot be converted; the message says why."""


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


def _allowed(fld: SurveyField) -> str:
    """The accepted values of a choice field, Italian labels first, then the codes."""
    labels = ", ".join(o.it for o in fld.options)
    codes = [o.code for o in fld.options]
    if [_choice_key(o.it) for o in fld.options] == [_choice_key(c) for c in codes]:
        return labels
    return f"{labels} (or the codes {', '.join(codes)})"


def _did_you_mean(fld: SurveyField, texts: Sequence[str]) -> str:
    near = list(dict.fromkeys(n for t in texts for n in fld.nearest_choices(t)))
    return f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""


def _space_separated(fld: SurveyField, text: str) -> list[str] | None:
    """The codes of a multiple choice written with spaces only, or ``None``.

    ODK and KoboToolbox export a ``select_multiple`` answer as its choice
    names separated by spaces (``security transport``), or, in a "labels"
    export, the labels the same way (``sicurezza formazione e lavoro``).  A
    text without ``;``, ``|`` or ``,`` that is not one choice is split into
    runs of words that each spell a choice, longest runs first; ``None`` when
    the text has a separator, is one choice, or cannot be split that way.
    """
    if _MULTI_SEPARATORS.search(text) or fld.choice_code(text) is not None:
        return None
    words = text.split()
    if len(words) < 2:
        return None
    memo: dict[int, list[str] | None] = {len(words): []}

    def split_from(start: int) -> list[str] | None:
        if start not in memo:
            memo[start] = None
            for end in range(len(words), start, -1):
                code = fld.choice_code(" ".join(words[start:end]))
                rest = split_from(end) if code is not None else None
                if code is not None and rest is not None:
                    memo[start] = [code, *rest]
                    break
        return memo[start]

    return split_from(0)


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
        choice = fld.choice_code(text)
        if choice is None:
            raise _BadValueError(
                f"not an allowed value{_did_you_mean(fld, [text])}; use one of: {_allowed(fld)}"
            )
        return choice
    if kind == "multichoice":
        spaced = _space_separated(fld, text)
        if spaced is not None:
            return ";".join(dict.fromkeys(spaced)) or None
        items = [i.strip() for i in _MULTI_SEPARATORS.split(text) if _choice_key(i)]
        codes = [fld.choice_code(i) for i in items]
        unknown = [i for i, code in zip(items, codes, strict=True) if code is None]
        if unknown:
            raise _BadValueError(
                f"{', '.join(repr(u) for u in unknown)} not allowed"
                f"{_did_you_mean(fld, unknown)}; use one or more of: {_allowed(fld)} "
                "(separated by ';', '|' or ',')"
            )
        return ";".join(dict.fromkeys(c for c in codes if c is not None)) or None
    if fld.pattern is not None and re.fullmatch(fld.pattern, text) is None:
        raise _BadValueError(f"malformed value; expected {fld.pattern_help or fld.pattern}")
    if fld.validator is not None:
        problem = fld.validator(text)
        if problem is not None:
            raise _BadValueError(problem)
    return text
