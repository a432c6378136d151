"""Questionnaires as XLSForm, generated from the survey schemas.

:func:`write_xlsform` writes the XLSForm (an ``.xlsx`` with the sheets
``survey``, ``choices`` and ``settings``) that KoboToolbox, ODK Central and
ODK Collect turn into a form, from the very :class:`SurveySchema` the readers
check the answers against (:data:`~geodistrict.sources.surveys.FIRMS`,
:data:`~geodistrict.sources.surveys.VACANT_UNITS`), so the form cannot drift
from the checks:

* each field becomes a question named like the field (the export's headers
  then select the fields: see :mod:`~geodistrict.sources.surveys.exports`),
  labelled in Italian and English (``label::Italiano (it)``,
  ``label::English (en)``), ``required`` when the field is;
* ``str`` → ``text`` (a ``pattern`` becomes ``regex(., '^...$')``), ``int`` →
  ``integer``, ``float`` → ``decimal`` (bounds become the constraint),
  ``date`` → ``date`` (not in the future: ``. <= today()``), ``bool`` →
  ``select_one si_no`` (``yes``/``no``), ``choice`` / ``multichoice`` →
  ``select_one`` / ``select_multiple`` with the schema's options: name = the
  code, labels = the Italian and English labels;
* ``lon`` and ``lat`` become one required ``geopoint`` question named
  :data:`~geodistrict.sources.surveys.exports.GEOPOINT`;
* the questions sit in one group (``impresa`` or ``locale``), as a real form
  would, so the exports carry group prefixes (``impresa/ateco``) that the
  readers strip;
* the firm questionnaire opens with a consent note: the answers are published
  only as aggregates of at least ``min_group_size`` firms (the
  ``production.min_group_size`` of the district);
* ``settings``: the Italian title, a ``form_id`` (``geodistrict_firms``), a
  version and ``default_language`` ``Italiano (it)``.

Checks a form cannot make (an ATECO code that is well formed but does not
exist, a position outside the study area) are made when the export is read
(``geodistrict check``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from openpyxl import Workbook

from geodistrict.errors import OutputError, ParameterError
from geodistrict.sources.surveys.exports import GEOPOINT
from geodistrict.sources.surveys.schema import _COORDS, LAT, LON, SurveyField, SurveySchema, _fmt

__all__ = ["FORM_LANGUAGES", "write_xlsform", "xlsform_sheets"]

logger = logging.getLogger(__name__)

IT = "Italiano (it)"
EN = "English (en)"
FORM_LANGUAGES = (IT, EN)
"""The languages of the forms, as XLSForm column suffixes (``label::Italiano (it)``)."""

_YES_NO = "si_no"
_GROUPS = {"firms": ("impresa", "Impresa", "Firm"), "vacant_units": ("locale", "Locale", "Unit")}
_FORM_VERSION = "2025.1"

_SURVEY_COLUMNS = (
    "type", "name", f"label::{IT}", f"label::{EN}", f"hint::{IT}", f"hint::{EN}", "required",
    f"required_message::{IT}", f"required_message::{EN}", "constraint",
    f"constraint_message::{IT}", f"constraint_message::{EN}", "appearance",
)  # fmt: skip
_CHOICE_COLUMNS = ("list_name", "name", f"label::{IT}", f"label::{EN}")
_SETTINGS_COLUMNS = ("form_title", "form_id", "version", "default_language", "style")


def _consent(schema: SurveySchema, min_group_size: int) -> tuple[str, str]:
    it = (
        "**Informativa.** Le risposte di questo questionario servono al distretto per "
        "conoscere le imprese del territorio e programmarne i servizi. Le risposte della "
        "sua impresa non saranno mai pubblicate singolarmente: i risultati sono pubblicati "
        f"solo in forma aggregata, per gruppi di almeno {min_group_size} imprese, e i gruppi "
        "più piccoli sono oscurati. Proseguendo acconsente a questo uso delle risposte."
    )
    en = (
        "**Notice.** The answers to this questionnaire help the district know the firms of "
        "the area and plan their services. Your firm's answers will never be published on "
        f"their own: results are published only as aggregates of at least {min_group_size} "
        "firms, and smaller groups are suppressed. By going on you agree to this use of "
        "your answers."
    )
    return it, en


def _constraint(fld: SurveyField) -> tuple[str, str, str]:
    """XPath constraint of a field and its messages in Italian and English ('' if none)."""
    parts: list[str] = []
    it: list[str] = []
    en: list[str] = []
    if fld.kind in ("int", "float"):
        if fld.minimum is not None:
            op = ">" if fld.minimum_exclusive else ">="
            parts.append(f". {op} {_fmt(fld.minimum)}")
            word_it = "maggiore di" if fld.minimum_exclusive else "almeno"
            word_en = "greater than" if fld.minimum_exclusive else "at least"
            it.append(f"{word_it} {_fmt(fld.minimum)}")
            en.append(f"{word_en} {_fmt(fld.minimum)}")
        if fld.maximum is not None:
            parts.append(f". <= {_fmt(fld.maximum)}")
            it.append(f"al massimo {_fmt(fld.maximum)}")
            en.append(f"at most {_fmt(fld.maximum)}")
        if not parts:
            return "", "", ""
        return (
            " and ".join(parts),
            "Il valore deve essere " + " e ".join(it) + ".",
            "The value must be " + " and ".join(en) + ".",
        )
    if fld.kind == "date" and fld.not_future:
        return (
            ". <= today()",
            "La data non può essere nel futuro.",
            "The date cannot be in the future.",
        )
    if fld.kind == "str" and fld.pattern is not None:
        if "'" in fld.pattern:
            raise ParameterError(
                f"field {fld.name!r}: pattern {fld.pattern!r} has a quote, which an XLSForm "
                "regex() cannot hold"
            )
        return (
            f"regex(., '^\\s*(?:{fld.pattern})\\s*$')",
            "Valore non valido: " + _italian_help(fld),
            "Malformed value: expected " + (fld.pattern_help or fld.pattern) + ".",
        )
    return "", "", ""


def _italian_help(fld: SurveyField) -> str:
    if fld.name == "ateco":
        return (
            "scrivere un codice ATECO 2025 o 2007 come 25, 25.1, 25.11, 25.11.0 o 25.11.00, "
            "eventualmente preceduto dalla lettera della sezione (C25.11)."
        )
    return f"il valore deve avere la forma {fld.pattern}."


def _question(fld: SurveyField) -> dict[str, str]:
    kinds = {"str": "text", "int": "integer", "float": "decimal", "date": "date"}
    if fld.kind in kinds:
        kind = kinds[fld.kind]
    elif fld.kind == "bool":
        kind = f"select_one {_YES_NO}"
    elif fld.kind == "choice":
        kind = f"select_one {fld.name}"
    else:
        kind = f"select_multiple {fld.name}"
    row = {
        "type": kind,
        "name": fld.name,
        f"label::{IT}": fld.label_it,
        f"label::{EN}": fld.label_en,
    }
    if fld.kind == "str" and fld.name == "note":
        row["appearance"] = "multiline"
    if fld.kind == "multichoice":
        row[f"hint::{IT}"] = "Una o più risposte."
        row[f"hint::{EN}"] = "One or more answers."
    if fld.required:
        row["required"] = "yes"
        row[f"required_message::{IT}"] = "Risposta obbligatoria."
        row[f"required_message::{EN}"] = "An answer is required."
    constraint, message_it, message_en = _constraint(fld)
    if constraint:
        row["constraint"] = constraint
        row[f"constraint_message::{IT}"] = message_it
        row[f"constraint_message::{EN}"] = message_en
    return row


def xlsform_sheets(
    schema: SurveySchema, *, min_group_size: int = 5
) -> dict[str, list[dict[str, str]]]:
    """The rows of the ``survey``, ``choices`` and ``settings`` sheets of a schema's form.

    Parameters
    ----------
    schema : SurveySchema
        :data:`~geodistrict.sources.surveys.FIRMS`,
        :data:`~geodistrict.sources.surveys.VACANT_UNITS` or a schema of the
        same kind (with ``lon`` and ``lat`` fields).
    min_group_size : int, default 5
        Smallest group of firms whose answers are published together, quoted
        in the consent note of the firm questionnaire.

    Returns
    -------
    dict of str to list of dict
        Sheet name to rows, each row a mapping of column to text.

    Examples
    --------
    >>> from geodistrict.sources.surveys import FIRMS
    >>> sheets = xlsform_sheets(FIRMS)
    >>> [r["type"] for r in sheets["survey"] if r["name"] in ("ateco", "posizione", "markets")]
    ['geopoint', 'text', 'select_multiple markets']
    >>> sheets["settings"][0]["default_language"]
    'Italiano (it)'
    """
    if (
        isinstance(min_group_size, bool)
        or not isinstance(min_group_size, int)
        or min_group_size < 1
    ):
        raise ParameterError(f"min_group_size must be a whole number ≥ 1, got {min_group_size!r}")
    if not set(_COORDS) <= set(schema.field_names):
        raise ParameterError(f"schema {schema.name!r} has no 'lon'/'lat' fields for the geopoint")
    group, group_it, group_en = _GROUPS.get(
        schema.name, (schema.name, schema.title_it, schema.title_en)
    )
    survey: list[dict[str, str]] = [
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
    ]
    if schema.name == "firms":
        it, en = _consent(schema, min_group_size)
        survey.append(
            {"type": "note", "name": "informativa", f"label::{IT}": it, f"label::{EN}": en}
        )
    survey.append(
        {"type": "begin_group", "name": group, f"label::{IT}": group_it, f"label::{EN}": group_en}
    )
    choices: list[dict[str, str]] = []
    yes_no = False
    for fld in schema.fields:
        if fld.name == LAT:
            continue
        if fld.name == LON:
            survey.append(
                {
                    "type": "geopoint",
                    "name": GEOPOINT,
                    f"label::{IT}": "Posizione (GPS o punto sulla mappa)",
                    f"label::{EN}": "Position (GPS or a point on the map)",
                    f"hint::{IT}": "Al portone o all'ingresso della sede rilevata.",
                    f"hint::{EN}": "At the door or entrance of the premises surveyed.",
                    "required": "yes",
                    f"required_message::{IT}": "Risposta obbligatoria.",
                    f"required_message::{EN}": "An answer is required.",
                }
            )
            continue
        survey.append(_question(fld))
        if fld.kind == "bool":
            yes_no = True
        for option in fld.options:
            choices.append(
                {"list_name": fld.name, "name": option.code, f"label::{IT}": option.it,
                 f"label::{EN}": option.en}
            )  # fmt: skip
    survey.append({"type": "end_group", "name": ""})
    if yes_no:
        choices += [
            {"list_name": _YES_NO, "name": "yes", f"label::{IT}": "sì", f"label::{EN}": "yes"},
            {"list_name": _YES_NO, "name": "no", f"label::{IT}": "no", f"label::{EN}": "no"},
        ]
    settings = [
        {
            "form_title": schema.title_it,
            "form_id": f"geodistrict_{schema.name}",
            "version": _FORM_VERSION,
            "default_language": IT,
            "style": "pages",
        }
    ]
    return {"survey": survey, "choices": choices, "settings": settings}


def write_xlsform(schema: SurveySchema, path: str | Path, *, min_group_size: int = 5) -> Path:
    """Write a schema's questionnaire as an XLSForm ``.xlsx`` for KoboToolbox and ODK.

    Parameters
    ----------
    schema : SurveySchema
        :data:`~geodistrict.sources.surveys.FIRMS` or
        :data:`~geodistrict.sources.surveys.VACANT_UNITS`.
    path : str or Path
        The ``.xlsx`` to write (its folder is created).
    min_group_size : int, default 5
        Quoted in the consent note of the firm questionnaire (see
        :func:`xlsform_sheets`).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ParameterError
        If ``path`` does not end in ``.xlsx`` or ``min_group_size`` is not a
        whole number of at least 1.
    OutputError
        If the file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from geodistrict.sources.surveys import VACANT_UNITS
    >>> out = write_xlsform(VACANT_UNITS, Path(tempfile.mkdtemp()) / "sfitti.xlsx")
    >>> import openpyxl
    >>> openpyxl.load_workbook(out).sheetnames
    ['survey', 'choices', 'settings']
    """
    target = Path(path)
    if target.suffix.casefold() != ".xlsx":
        raise ParameterError(f"an XLSForm is an .xlsx file, got {str(path)!r}")
    sheets = xlsform_sheets(schema, min_group_size=min_group_size)
    columns = {
        "survey": _SURVEY_COLUMNS,
        "choices": _CHOICE_COLUMNS,
        "settings": _SETTINGS_COLUMNS,
    }
    book = Workbook()
    default = book.active
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(list(columns[name]))
        for row in rows:
            sheet.append([row.get(c, "") or None for c in columns[name]])
    if default is not None:
        book.remove(default)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        book.save(partial)
        partial.replace(target)
    except OSError as exc:
        raise OutputError(f"cannot write the form {target}: {exc}") from exc
    logger.info("form %s written to %s", schema.name, target)
    return target
