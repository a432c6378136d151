"""The district's language: every message marked in the code has an Italian translation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from geodistrict import i18n
from geodistrict.errors import ParameterError

PACKAGE = Path(i18n.__file__).parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
METHODS = [
    ("**/locale/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
]


def _marked() -> list[tuple[str, int, str | None, str]]:
    """(file, line, context, msgid) of every message marked in the package."""
    found = []
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(PACKAGE), METHODS, keywords=KEYWORDS, options_map={"**/templates/**.html": {}}
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.append((filename, lineno, context, msgid))
    return found


def test_every_marked_message_has_an_italian_translation() -> None:
    marked = _marked()
    assert marked, "no message is marked for translation"
    italian = i18n.catalogue("it")
    missing = sorted(
        f"{file}:{line}: {msgid!r}"
        for file, line, context, msgid in marked
        if (context, msgid) not in italian
    )
    assert not missing, "messages without an Italian translation:\n" + "\n".join(missing)


def test_catalogues_agree_where_they_repeat_a_message() -> None:
    for language in i18n.LANGUAGES:
        seen: dict[tuple[str | None, str], tuple[str, object]] = {}
        for path in sorted((i18n.LOCALE_DIR / language / i18n.DOMAIN_DIR).glob("*.po")):
            with path.open("rb") as handle:
                po = read_po(handle)
            for message in po:
                if not message.id:
                    continue
                key = (message.context, str(message.id))
                if key in seen and seen[key][1] != message.string:
                    pytest.fail(f"{path.name} and {seen[key][0]} translate {key} differently")
                seen[key] = (path.name, message.string)


def test_italian_numbers_and_dates() -> None:
    assert i18n.format_number(1234567.891, decimals=2, language="it") == "1.234.567,89"
    assert i18n.format_number(float("nan"), language="it") == ""
    assert i18n.format_percent(0.0349, language="it") == "3,5 %"
    assert i18n.format_date(dt.datetime(2016, 5, 1), language="it") == "01/05/2016"
    assert i18n.format_date("2024-11-30T10:00:00", language="it") == "30/11/2024"


def test_the_language_is_scoped_and_checked() -> None:
    before = i18n.get_language()
    with i18n.use_language("en"):
        assert i18n.get_language() == "en"
        with i18n.use_language("it"):
            assert i18n.get_language() == "it"
        assert i18n.get_language() == "en"
    assert i18n.get_language() == before
    with pytest.raises(ParameterError, match="'fr'"):
        i18n.set_language("fr")
