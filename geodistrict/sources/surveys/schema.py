"""The schema model of a survey: fields, value kinds, header matching.

A :class:`SurveySchema` is an ordered tuple of :class:`SurveyField`; each field
has a canonical snake-case name, a value kind, optional bounds, choices or a
pattern, and aliases.  File headers select fields case- and accent-insensitively
(:meth:`SurveySchema.match_header`); :func:`schema_table` renders a schema as
the Markdown table of the documentation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal, get_args

from geodistrict.errors import ParameterError

__all__ = ["LAT", "LON", "FieldKind", "SurveyField", "SurveySchema", "schema_table"]

FieldKind = Literal["str", "int", "float", "bool", "date", "choice", "multichoice"]
"""The value types a survey field can have."""

_KINDS: frozenset[str] = frozenset(get_args(FieldKind))
_NUMERIC_KINDS = frozenset({"int", "float"})
_CHOICE_KINDS = frozenset({"choice", "multichoice"})

LON = "lon"
LAT = "lat"
_COORDS = (LON, LAT)


def _header_key(text: str) -> str:
    """Normalise a header: no accents, case-folded, punctuation runs as ``_``."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\ufeff", ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", "_", plain).strip("_")


def _value_key(text: str) -> str:
    """Normalise a choice: no accents, case-folded, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(plain.split())


@dataclass(frozen=True)
class SurveyField:
    """One column of a survey.

    Parameters
    ----------
    name : str
        Canonical name, lower-case snake case; used as output column name.
    kind : {"str", "int", "float", "bool", "date", "choice", "multichoice"}
        Value type.  ``bool`` accepts sì/si/no/yes/true/false/vero/falso/1/0/x;
        ``date`` accepts ISO ``2023-05-01``, Italian day-first ``01/05/2023``
        and Excel dates; ``choice`` must be one of ``choices``; ``multichoice``
        holds several of ``choices`` separated by ``;``, ``|`` or ``,``.
    required : bool
        A missing column, or a blank value, is a problem.
    aliases : tuple of str
        Other accepted headers (Italian names, abbreviations).
    description : str
        Human description, used in the generated documentation.
    minimum, maximum : float, optional
        Bounds of numeric fields, inclusive unless ``minimum_exclusive``.
    choices : tuple of str
        Allowed values of ``choice`` / ``multichoice`` fields, in canonical
        spelling (matching is case- and accent-insensitive).
    not_future : bool
        For ``date`` fields: a date after today is a problem.
    minimum_exclusive : bool
        ``minimum`` itself is not allowed (e.g. an area must be > 0).
    pattern : str, optional
        For ``str`` fields: regular expression every value must match fully.
    pattern_help : str
        What ``pattern`` expects, in words, quoted in the problem message.
    """

    name: str
    kind: FieldKind
    required: bool = False
    aliases: tuple[str, ...] = ()
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    not_future: bool = False
    minimum_exclusive: bool = False
    pattern: str | None = None
    pattern_help: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.aliases, str):
            object.__setattr__(self, "aliases", (self.aliases,))
        else:
            object.__setattr__(self, "aliases", tuple(self.aliases))
        object.__setattr__(self, "choices", tuple(self.choices))
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ParameterError(f"field name {self.name!r} must be lower-case snake case")
        if self.kind not in _KINDS:
            raise ParameterError(f"field {self.name!r}: unknown kind {self.kind!r}")
        if self.kind in _CHOICE_KINDS:
            if not self.choices:
                raise ParameterError(f"field {self.name!r}: a {self.kind} field needs choices")
            keys = [_value_key(c) for c in self.choices]
            if len(set(keys)) != len(keys):
                raise ParameterError(f"field {self.name!r}: choices {self.choices!r} repeat")
        elif self.choices:
            raise ParameterError(f"field {self.name!r}: only choice fields take choices")
        if (self.minimum is not None or self.maximum is not None) and (
            self.kind not in _NUMERIC_KINDS
        ):
            raise ParameterError(f"field {self.name!r}: only int/float fields take bounds")
        if self.not_future and self.kind != "date":
            raise ParameterError(f"field {self.name!r}: not_future only applies to dates")
        if self.pattern is not None:
            if self.kind != "str":
                raise ParameterError(f"field {self.name!r}: only str fields take a pattern")
            re.compile(self.pattern)

    @property
    def header_keys(self) -> tuple[str, ...]:
        """Normalised headers that select this field (its name and aliases)."""
        keys = [_header_key(self.name), *(_header_key(a) for a in self.aliases)]
        return tuple(dict.fromkeys(k for k in keys if k))


@dataclass(frozen=True)
class SurveySchema:
    """The columns expected in one kind of survey.

    Parameters
    ----------
    name : str
        Name of the survey, quoted in log messages.
    fields : tuple of SurveyField
        The fields, in output column order.  Schemas read from tables without
        geometry (CSV, Excel) need fields named ``lon`` and ``lat``.
    id_field : str, optional
        Field whose values must be unique in a file.
    """

    name: str
    fields: tuple[SurveyField, ...]
    id_field: str | None = None
    _by_key: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ParameterError(f"schema {self.name!r}: repeated field names in {names}")
        by_key: dict[str, str] = {}
        for fld in self.fields:
            for key in fld.header_keys:
                other = by_key.setdefault(key, fld.name)
                if other != fld.name:
                    raise ParameterError(
                        f"schema {self.name!r}: header {key!r} matches both "
                        f"{other!r} and {fld.name!r}"
                    )
        object.__setattr__(self, "_by_key", by_key)
        if self.id_field is not None and self.id_field not in names:
            raise ParameterError(
                f"schema {self.name!r}: id_field {self.id_field!r} is not a field"
            )

    @property
    def field_names(self) -> tuple[str, ...]:
        """Canonical field names, in order."""
        return tuple(f.name for f in self.fields)

    def get_field(self, name: str) -> SurveyField:
        """Return the field called ``name``.

        Raises
        ------
        KeyError
            If the schema has no such field.
        """
        for fld in self.fields:
            if fld.name == name:
                return fld
        raise KeyError(f"schema {self.name!r} has no field {name!r}")

    def match_header(self, header: str) -> str | None:
        """Return the field name a file header selects, or ``None``.

        Examples
        --------
        >>> from geodistrict.sources.surveys import VACANT_UNITS
        >>> VACANT_UNITS.match_header(" Superficie (mq) "), VACANT_UNITS.match_header("Note")
        ('floor_area_m2', None)
        """
        return self._by_key.get(_header_key(header))


def schema_table(schema: SurveySchema) -> str:
    """Describe a schema as a Markdown table, for the documentation.

    Parameters
    ----------
    schema : SurveySchema
        The schema to describe.

    Returns
    -------
    str
        A Markdown table with one row per field and the columns *Field*,
        *Type*, *Required*, *Aliases* and *Description*, ending with a newline.
    """
    lines = [
        "| Field | Type | Required | Aliases | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for fld in schema.fields:
        if fld.required:
            required = "yes"
        elif fld.name in _COORDS:
            required = "yes, unless the file has geometry"
        else:
            required = "no"
        if fld.name == schema.id_field:
            required += " (unique)"
        aliases = ", ".join(f"`{a}`" for a in fld.aliases)
        cells = [f"`{fld.name}`", _kind_text(fld), required, aliases, fld.description]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _kind_text(fld: SurveyField) -> str:
    text: str = fld.kind
    bounds = []
    if fld.minimum is not None:
        bounds.append(f"{'>' if fld.minimum_exclusive else '≥'} {_fmt(fld.minimum)}")
    if fld.maximum is not None:
        bounds.append(f"≤ {_fmt(fld.maximum)}")
    if bounds:
        text += " " + ", ".join(bounds)
    if fld.kind in _CHOICE_KINDS:
        text += ": " + ", ".join(f"`{c}`" for c in fld.choices)
    if fld.not_future:
        text += ", not in the future"
    if fld.pattern is not None:
        text += " (form checked)"
    return text


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
