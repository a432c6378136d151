"""The district's language: translated messages and labels, Italian numbers and dates.

Everything a person reads (CLI summaries, layer and column labels, legends,
the report, spreadsheets, web pages) goes through this module, so a district
configured with ``language: it`` reads Italian throughout and ``en`` stays
available. It is gettext: the messages are English ``msgid`` strings marked in
the code with :func:`_` (or :func:`N_` where the translation must wait, e.g.
module constants), translated in the PO catalogues of
``geodistrict/locale/<language>/LC_MESSAGES/*.po`` (one file per subject, all
merged) and read with Babel. Labels of machine names (columns, categories,
statuses) are messages with a context (``msgctxt "column"``), translated into
English too, so the stable machine names never change.

The current language is a context variable: the CLI and the pipeline set it
from the configuration with :func:`use_language`; library code asks
:func:`get_language` or takes ``language=`` explicitly.

Examples
--------
>>> from geodistrict.i18n import _, format_number, use_language
>>> with use_language("it"):
...     format_number(1234.5, decimals=1)
'1.234,5'
>>> with use_language("en"):
...     format_number(1234.5, decimals=1)
'1,234.5'
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Literal

from geodistrict.errors import ParameterError

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "Language",
    "_",
    "catalogue",
    "format_date",
    "format_number",
    "format_percent",
    "get_language",
    "gettext",
    "label",
    "ngettext",
    "pgettext",
    "set_language",
    "use_language",
]

log = logging.getLogger(__name__)

Language = Literal["it", "en"]
LANGUAGES: tuple[str, ...] = ("it", "en")
DEFAULT_LANGUAGE: Language = "it"
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN_DIR = "LC_MESSAGES"
# Babel locales of the languages: number symbols and date patterns
_BABEL_LOCALE = {"it": "it_IT", "en": "en_GB"}
_DATE_PATTERN = {"it": "dd/MM/yyyy", "en": "d MMM yyyy"}

_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "geodistrict_language", default=DEFAULT_LANGUAGE
)


def _checked(language: str | None) -> str:
    if language is None:
        return _current.get()
    if language not in LANGUAGES:
        raise ParameterError(
            f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}"
        )
    return language


def get_language() -> str:
    """The current language ('it' unless set).

    Examples
    --------
    >>> from geodistrict.i18n import get_language
    >>> get_language() in ("it", "en")
    True
    """
    return _current.get()


def set_language(language: str) -> contextvars.Token[str]:
    """Set the current language; returns the token that restores the previous one.

    Examples
    --------
    >>> from geodistrict.i18n import _current, set_language
    >>> token = set_language("en")
    >>> _current.reset(token)
    """
    return _current.set(_checked(language))


@contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Use ``language`` inside the block (``None`` keeps the current one).

    Examples
    --------
    >>> from geodistrict.i18n import get_language, use_language
    >>> with use_language("en"):
    ...     get_language()
    'en'
    """
    if language is None:
        yield _current.get()
        return
    token = set_language(language)
    try:
        yield language
    finally:
        _current.reset(token)


Key = tuple[str | None, str]


@cache
def catalogue(language: str) -> dict[Key, str | tuple[str, ...]]:
    """The merged translations of ``language``: ``(context, msgid) -> msgstr``.

    Plural messages map to a tuple of forms. Untranslated entries are left out,
    so lookups fall back to the English message.

    Examples
    --------
    >>> from geodistrict.i18n import catalogue
    >>> isinstance(catalogue("it"), dict)
    True
    """
    from babel.messages.pofile import read_po

    merged: dict[Key, str | tuple[str, ...]] = {}
    folder = LOCALE_DIR / _checked(language) / DOMAIN_DIR
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as handle:
            po = read_po(handle, locale=_BABEL_LOCALE[language].split("_")[0])
        for message in po:
            if not message.id:
                continue  # the header
            msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
            value = message.string
            forms = tuple(value) if isinstance(value, tuple | list) else None
            if forms is not None:
                if all(forms):
                    merged[(message.context, msgid)] = forms
            elif isinstance(value, str) and value:
                merged[(message.context, msgid)] = value
    return merged


def gettext(message: str, *, language: str | None = None) -> str:
    """``message`` in the current (or given) language.

    Examples
    --------
    >>> from geodistrict.i18n import gettext
    >>> gettext("a message nobody translated", language="it")
    'a message nobody translated'
    """
    lang = _checked(language)
    if lang == "en":
        return message
    found = catalogue(lang).get((None, message))
    return found if isinstance(found, str) else message


def _(message: str) -> str:
    """Shorthand of :func:`gettext` in the current language (the gettext marker)."""
    return gettext(message)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark ``message`` for translation without translating it now (module constants)."""
    return message


def ngettext(singular: str, plural: str, n: int, *, language: str | None = None) -> str:
    """The singular or plural message for ``n`` in the current (or given) language.

    Examples
    --------
    >>> from geodistrict.i18n import ngettext
    >>> ngettext("{n} layer", "{n} layers", 2, language="en").format(n=2)
    '2 layers'
    """
    lang = _checked(language)
    if lang != "en":
        forms = catalogue(lang).get((None, singular))
        if isinstance(forms, tuple):
            return forms[0] if n == 1 else forms[min(1, len(forms) - 1)]
    return singular if n == 1 else plural


def pgettext(context: str, message: str, *, language: str | None = None) -> str:
    """``message`` translated in ``context`` (e.g. 'column', 'category', 'status').

    Examples
    --------
    >>> from geodistrict.i18n import pgettext
    >>> pgettext("nothing", "x", language="it")
    'x'
    """
    found = catalogue(_checked(language)).get((context, message))
    return found if isinstance(found, str) else message


def label(name: str, *, kind: str = "column", language: str | None = None) -> str:
    """The readable label of a machine name (a column, category, status...).

    Looked up with ``msgctxt`` ``kind`` in the language's catalogue, then in the
    English one; a name nobody labelled reads as itself with spaces.

    Examples
    --------
    >>> from geodistrict.i18n import label
    >>> label("some_new_column", language="it")
    'some new column'
    """
    lang = _checked(language)
    for candidate in (lang, "en"):
        found = catalogue(candidate).get((kind, name))
        if isinstance(found, str):
            return found
    return name.replace("_", " ")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(math.isnan(value))
    except TypeError:
        return False


def format_number(
    value: float | int | None,
    *,
    decimals: int | None = None,
    language: str | None = None,
) -> str:
    """``value`` with the language's separators (Italian: ``1.234,5``); '' when missing.

    Parameters
    ----------
    value : float or int
        The number (``None`` or NaN gives an empty string).
    decimals : int, optional
        Fixed number of decimals; default: as many as needed, at most 3.
    language : str, optional
        Default: the current language.

    Examples
    --------
    >>> from geodistrict.i18n import format_number
    >>> format_number(0.25, decimals=2, language="it")
    '0,25'
    """
    if _missing(value):
        return ""
    from babel.numbers import format_decimal

    locale = _BABEL_LOCALE[_checked(language)]
    if decimals is None:
        return format_decimal(float(value), format="#,##0.###", locale=locale)  # type: ignore[arg-type]
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(round(float(value), decimals), format=pattern, locale=locale)  # type: ignore[arg-type]


def format_percent(share: float | None, *, decimals: int = 1, language: str | None = None) -> str:
    """A share (0-1) as a percentage: ``0.125`` -> ``'12,5 %'`` in Italian.

    Examples
    --------
    >>> from geodistrict.i18n import format_percent
    >>> format_percent(0.125, language="it")
    '12,5 %'
    >>> format_percent(0.125, language="en")
    '12.5%'
    """
    if _missing(share):
        return ""
    lang = _checked(language)
    number = format_number(float(share) * 100, decimals=decimals, language=lang)  # type: ignore[arg-type]
    return f"{number} %" if lang == "it" else f"{number}%"


def format_date(value: dt.date | dt.datetime | str | Any, *, language: str | None = None) -> str:
    """A date as people write it: ``01/05/2016`` in Italian, ``1 May 2016`` in English.

    Accepts dates, datetimes, pandas timestamps and ISO strings; the time of
    day is left out. Missing values give an empty string.

    Examples
    --------
    >>> import datetime as dt
    >>> from geodistrict.i18n import format_date
    >>> format_date(dt.datetime(2016, 5, 1, 0, 0), language="it")
    '01/05/2016'
    >>> format_date("2016-05-01", language="en")
    '1 May 2016'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp (NaT has no year)
        if value != value:  # NaT
            return ""
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        value = value.date()
    from babel.dates import format_date as babel_format_date

    lang = _checked(language)
    return babel_format_date(value, format=_DATE_PATTERN[lang], locale=_BABEL_LOCALE[lang])
