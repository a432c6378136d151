"""The schema model of a survey: fields, value kinds, header matching.

A :class:`SurveySchema` is an ordered tuple of :class:`SurveyField`; each field
has a canonical snake-case name, a value kind, optional bounds, choices or a
pattern, aliases and the unit words a header may add.  File headers select
fields case- and accent-insensitively (:meth:`SurveySchema.match_header`); a
header that selects nothing but resembles a field is found by
:meth:`SurveySchema.near_fields`, so the reader can report it instead of
keeping it as an unknown column; :func:`schema_table` renders a schema as the
Markdown table of the documentation.  The values of a choice field are
:class:`Choice` objects: a stable code and its Italian and English labels and
variants, any of which a file may use (:meth:`SurveyField.choice_code`);
:func:`choices_table` lists them for the documentation.

Header matching
---------------
A header is normalised (:func:`_header_key`): accents dropped, case folded,
``€`` read as ``eur`` and ``%`` as ``perc``, every run of other characters
turned into ``_`` (``"Canone richiesto (€/mese)"`` → ``canone_richiesto_eur_mese``).
It selects a field when

1. it equals the field's name or one of its aliases, normalised the same way;
   or
2. once the field's own unit words (:attr:`SurveyField.units`, e.g. ``eur``,
   ``mese`` for a monthly rent) and a few connecting words (``di``, ``al``...)
   are left out of both, it equals one of them, and no other field is selected
   that way (``canone_richiesto_eur_mese`` → ``canone_richiesto``).

A unit word that belongs to *another* unit (``Canone annuo (€)`` for a monthly
rent) selects nothing: the header is then *near* the field and the reader
reports it, because reading a yearly rent as a monthly one, or dropping it,
would both be wrong without a word.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, get_args

from geodistrict.errors import ParameterError

__all__ = [
    "LAT",
    "LON",
    "Choice",
    "FieldKind",
    "SurveyField",
    "SurveySchema",
    "choices_table",
    "schema_table",
]

FieldKind = Literal["str", "int", "float", "bool", "date", "choice", "multichoice"]
"""The value types a survey field can have."""

_KINDS: frozenset[str] = frozenset(get_args(FieldKind))
_NUMERIC_KINDS = frozenset({"int", "float"})
_CHOICE_KINDS = frozenset({"choice", "multichoice"})

LON = "lon"
LAT = "lat"
_COORDS = (LON, LAT)


# Words that join the parts of a header without adding meaning ("superficie in mq").
_CONNECTIVES = frozenset(
    {"a", "al", "alla", "da", "dal", "dalla", "de", "dei", "del", "della", "delle", "dello",
     "di", "e", "ed", "in", "per", "of", "the", "at", "by"}
)  # fmt: skip
# Units and similar qualifiers a header may carry ("(€/anno)", "(ha)", "n."): a header
# that equals a field's name once they are left out is *near* that field.
_UNIT_WORDS = frozenset(
    {"eur", "euro", "euros", "mese", "mesi", "mensile", "mensili", "month", "monthly",
     "anno", "anni", "annuo", "annui", "annua", "annuale", "year", "years", "yearly",
     "settimana", "settimanale", "giorno", "giorni", "gg", "day", "days", "ore", "h",
     "m", "mt", "m2", "mq", "mt2", "mtq", "sqm", "metri", "quadri", "quadrati", "cm", "km",
     "km2", "kmq", "ha", "ettari", "perc", "percent", "pct", "percentuale", "n", "nr", "num",
     "numero", "no", "tot", "totale", "k", "mila", "migliaia", "usd", "chf", "kg", "t",
     "wgs84", "wgs", "84", "gradi", "deg", "decimali", "dd", "epsg", "4326", "2007", "2025"}
)  # fmt: skip


def _header_key(text: str) -> str:
    """Normalise a header: no accents, case-folded, punctuation runs as ``_``.

    ``€`` is read as ``eur`` and ``%`` as ``perc``, so units in brackets keep
    their meaning (``"Canone (€/mese)"`` → ``canone_eur_mese``).
    """
    text = text.replace("\ufeff", "").replace("€", " eur ").replace("%", " perc ")
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", "_", plain).strip("_")


def _value_key(text: str) -> str:
    """Normalise a yes/no word: no accents, case-folded, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(plain.split())


def _choice_key(text: str) -> str:
    """Normalise a choice: no accents, case-folded, letters and digits only.

    Spaces, punctuation and apostrophes are left out, so ``"Formazione e
    lavoro"``, ``"formazione  e lavoro"`` and ``"FORMAZIONE-E-LAVORO"`` are one
    key, and so are ``"training_work"`` and ``"Training work"``.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", "", plain)


_MULTI_SEPARATOR_CHARS = frozenset(";|,")


@dataclass(frozen=True)
class Choice:
    """One allowed value of a ``choice`` or ``multichoice`` field.

    The reader stores :attr:`code`, whatever spelling of the value a file
    uses: the code itself, the Italian label, the English label or one of the
    variants, compared case-, accent-, spacing- and punctuation-insensitively.

    Parameters
    ----------
    code : str
        The stable value stored in the output (``"good"``); analyses compare
        with it.
    it : str
        Italian label, as a questionnaire prints it (``"buono"``); quoted first
        in problem messages and templates.
    en : str, optional
        English label (default: the code with ``_`` read as a space).
    variants : tuple of str
        Other spellings an office writes for the same value (``"ottimo"``,
        ``"buone condizioni"``...).

    Examples
    --------
    >>> Choice("training_work", "formazione e lavoro").spellings
    ('training_work', 'formazione e lavoro', 'training work')
    """

    code: str
    it: str
    en: str = ""
    variants: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        variants = (self.variants,) if isinstance(self.variants, str) else tuple(self.variants)
        object.__setattr__(self, "variants", variants)
        if not self.en:
            object.__setattr__(self, "en", self.code.replace("_", " "))
        empty = [s for s in (self.code, self.it, self.en, *variants) if not _choice_key(s)]
        if empty:
            raise ParameterError(
                f"choice {self.code!r}: spellings {empty!r} have no letters or digits"
            )

    @property
    def spellings(self) -> tuple[str, ...]:
        """The code, the Italian and English labels and the variants, without repeats."""
        return tuple(dict.fromkeys((self.code, self.it, self.en, *self.variants)))


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
        and Excel dates; ``choice`` must be one of ``options`` (any of its
        spellings); ``multichoice`` holds several of them separated by ``;``,
        ``|`` or ``,``.  Both are stored as the :attr:`Choice.code`.
    required : bool
        A missing column, or a blank value, is a problem.
    aliases : tuple of str
        Other accepted headers (Italian names, abbreviations).
    description : str
        Human description, used in the generated documentation.
    minimum, maximum : float, optional
        Bounds of numeric fields, inclusive unless ``minimum_exclusive``.
    choices : tuple of str
        Codes of the allowed values of ``choice`` / ``multichoice`` fields.
        Filled from ``options`` when only those are given; given alone, each
        code is its own label.
    options : tuple of Choice
        The allowed values with their Italian and English labels and the
        variants an office writes (:class:`Choice`); every spelling of every
        option must normalise to a different key (case, accents, spaces and
        punctuation aside), and for a ``multichoice`` field contain no
        separator (``;``, ``|``, ``,``).
    not_future : bool
        For ``date`` fields: a date after today is a problem.
    minimum_exclusive : bool
        ``minimum`` itself is not allowed (e.g. an area must be > 0).
    pattern : str, optional
        For ``str`` fields: regular expression every value must match fully.
    pattern_help : str
        What ``pattern`` expects, in words, quoted in the problem message.
    units : tuple of str
        Normalised words a header may add to the name or an alias without
        changing the field: its unit and similar qualifiers (``("eur", "mese")``
        lets ``Canone richiesto (€/mese)`` select the alias ``canone_richiesto``).
    validator : callable, optional
        For ``str`` fields: called with the text of each value that passed
        ``pattern``; returns ``None`` when the value is acceptable, else the
        problem in words (e.g. an ATECO division that does not exist).
    label_it, label_en : str
        The question as a questionnaire asks it, in Italian and English
        (what :func:`~geodistrict.sources.surveys.forms.write_xlsform` prints);
        default: the name with ``_`` read as a space.
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
    units: tuple[str, ...] = ()
    validator: Callable[[str], str | None] | None = field(default=None, compare=False)
    options: tuple[Choice, ...] = ()
    label_it: str = ""
    label_en: str = ""
    _choice_index: dict[str, str] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        for name in ("aliases", "units"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        bad_units = [u for u in self.units if _header_key(u) != u or "_" in u]
        if bad_units:
            raise ParameterError(
                f"field {self.name!r}: units {bad_units!r} must be single normalised words "
                "(lower case, no accents or punctuation)"
            )
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ParameterError(f"field name {self.name!r} must be lower-case snake case")
        for label in ("label_it", "label_en"):
            if not getattr(self, label):
                object.__setattr__(self, label, self.name.replace("_", " "))
        if self.kind not in _KINDS:
            raise ParameterError(f"field {self.name!r}: unknown kind {self.kind!r}")
        self._set_options()
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
        if self.validator is not None and self.kind != "str":
            raise ParameterError(f"field {self.name!r}: only str fields take a validator")

    def _set_options(self) -> None:
        """Check ``choices`` / ``options`` and index every spelling of every option."""
        choices = (self.choices,) if isinstance(self.choices, str) else tuple(self.choices)
        options = tuple(self.options)
        if options and choices and choices != tuple(o.code for o in options):
            raise ParameterError(
                f"field {self.name!r}: choices {choices!r} are not the codes of its options"
            )
        if not options:
            options = tuple(Choice(c, c, c) for c in choices)
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "choices", tuple(o.code for o in options))
        if self.kind not in _CHOICE_KINDS:
            if options:
                raise ParameterError(f"field {self.name!r}: only choice fields take choices")
            return
        if not options:
            raise ParameterError(f"field {self.name!r}: a {self.kind} field needs choices")
        if len(set(self.choices)) != len(self.choices):
            raise ParameterError(f"field {self.name!r}: choices {self.choices!r} repeat")
        index: dict[str, str] = {}
        for option in options:
            for spelling in option.spellings:
                if self.kind == "multichoice" and _MULTI_SEPARATOR_CHARS & set(spelling):
                    raise ParameterError(
                        f"field {self.name!r}: spelling {spelling!r} of choice {option.code!r} "
                        "contains a separator of multiple choices (';', '|' or ',')"
                    )
                other = index.setdefault(_choice_key(spelling), option.code)
                if other != option.code:
                    raise ParameterError(
                        f"field {self.name!r}: choices repeat: spelling {spelling!r} means "
                        f"both {other!r} and {option.code!r}"
                    )
        object.__setattr__(self, "_choice_index", index)

    def choice_code(self, text: str) -> str | None:
        """The code a written choice means, or ``None`` if it means none.

        Any spelling of an option is accepted (code, Italian or English label,
        variant), case-, accent-, spacing- and punctuation-insensitively.

        Examples
        --------
        >>> from geodistrict.sources.surveys import VACANT_UNITS
        >>> stato = VACANT_UNITS.get_field("condition")
        >>> [stato.choice_code(t) for t in ("Buono", "good", "PESSIMO", "in ottimo  stato")]
        ['good', 'good', 'poor', 'good']
        >>> stato.choice_code("sconosciuto") is None
        True
        """
        return self._choice_index.get(_choice_key(text))

    def option(self, code: str) -> Choice:
        """The :class:`Choice` of a code (e.g. to print its Italian label).

        Raises
        ------
        KeyError
            If ``code`` is not a code of this field.
        """
        for option in self.options:
            if option.code == code:
                return option
        raise KeyError(f"field {self.name!r} has no choice {code!r}")

    def nearest_choices(self, text: str, *, limit: int = 2) -> list[str]:
        """Italian labels of the options a choice that means none is closest to.

        A close spelling (:mod:`difflib` ratio of at least 0.75) of any spelling
        of an option, or a text that starts with one of them, counts;
        closest first.
        """
        key = _choice_key(text)
        if not key:
            return []
        best: dict[str, float] = {}
        for option in self.options:
            for spelling in option.spellings:
                other = _choice_key(spelling)
                score = difflib.SequenceMatcher(None, key, other).ratio()
                if len(other) >= 4 and (key.startswith(other) or other.startswith(key)):
                    score = max(score, 0.8)
                if score >= 0.75 and score > best.get(option.it, 0.0):
                    best[option.it] = score
        ranked = sorted(best.items(), key=lambda item: -item[1])
        return [label for label, _ in ranked[:limit]]

    @property
    def header_keys(self) -> tuple[str, ...]:
        """Normalised headers that select this field (its name and aliases)."""
        keys = [_header_key(self.name), *(_header_key(a) for a in self.aliases)]
        return tuple(dict.fromkeys(k for k in keys if k))

    @property
    def accepted_headers(self) -> tuple[str, ...]:
        """The name and the aliases, as a user may write them in a header."""
        return tuple(dict.fromkeys((self.name, *self.aliases)))


def _core(key: str, drop: frozenset[str] | set[str]) -> str:
    """A normalised header without the words in ``drop`` and the connectives."""
    return "_".join(t for t in key.split("_") if t and t not in drop and t not in _CONNECTIVES)


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
    same_entity : tuple of str
        Text fields that, with the position, name one entity (a firm's
        ``name``): in a KoboToolbox/ODK export two submissions with the same
        values there and positions within
        :data:`~geodistrict.sources.surveys.checks.SAME_PLACE_M` metres are
        one entity submitted twice (as are two with the same ``id_field``).
    title_it, title_en : str
        Title of the questionnaire, in Italian and English.
    """

    name: str
    fields: tuple[SurveyField, ...]
    id_field: str | None = None
    same_entity: tuple[str, ...] = ()
    title_it: str = ""
    title_en: str = ""
    _by_key: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)
    _by_core: dict[str, str | None] = field(init=False, repr=False, compare=False, hash=False)

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
        # Name and aliases without the field's unit words: a core two fields share selects
        # neither (None).
        by_core: dict[str, str | None] = {}
        for fld in self.fields:
            for key in fld.header_keys:
                core = _core(key, set(fld.units))
                if core:
                    by_core[core] = fld.name if by_core.get(core, fld.name) == fld.name else None
        object.__setattr__(self, "_by_core", by_core)
        if self.id_field is not None and self.id_field not in names:
            raise ParameterError(
                f"schema {self.name!r}: id_field {self.id_field!r} is not a field"
            )
        same = (self.same_entity,) if isinstance(self.same_entity, str) else self.same_entity
        object.__setattr__(self, "same_entity", tuple(same))
        if not set(self.same_entity) <= set(names):
            raise ParameterError(
                f"schema {self.name!r}: same_entity {self.same_entity!r} are not all fields"
            )
        for title in ("title_it", "title_en"):
            if not getattr(self, title):
                object.__setattr__(self, title, self.name.replace("_", " "))

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

        The header selects a field when, normalised, it equals the field's
        name or an alias, or does so once the field's unit words and the
        connectives are left out of both (see the module documentation).

        Examples
        --------
        >>> from geodistrict.sources.surveys import VACANT_UNITS
        >>> VACANT_UNITS.match_header(" Superficie (mq) "), VACANT_UNITS.match_header("Note")
        ('floor_area_m2', 'note')
        >>> VACANT_UNITS.match_header("Telefono proprietario") is None
        True
        >>> VACANT_UNITS.match_header("Canone richiesto (€/mese)")
        'asking_rent_eur_month'
        >>> VACANT_UNITS.match_header("Canone annuo (€)") is None  # a yearly rent is not monthly
        True
        """
        key = _header_key(header)
        name = self._by_key.get(key)
        if name is not None or not key:
            return name
        tokens = key.split("_")
        found: set[str] = set()
        for fld in self.fields:
            dropped = set(fld.units) | _CONNECTIVES
            if not any(t in dropped for t in tokens):
                continue  # nothing but the bare words: only an exact match selects
            core = _core(key, set(fld.units))
            if core and self._by_core.get(core) == fld.name:
                found.add(fld.name)
        return found.pop() if len(found) == 1 else None

    def near_fields(self, header: str, *, limit: int = 3) -> list[tuple[str, str]]:
        """Fields a header that selects none resembles, closest first.

        A header is near a field when, normalised, it equals the field's name
        or an alias once every unit word is left out (``Canone annuo (€)`` and
        ``canone``), is a close spelling of one (:mod:`difflib` ratio of at
        least 0.8 for names of four letters or more: ``Superfice``), contains
        all the words of a name of two words or more (``Fabbisogno formazione
        tecnica``), or contains a one-word name of five letters or more
        (``Dipendenti 2024``).

        Parameters
        ----------
        header : str
            A header as written in the file.
        limit : int, default 3
            Most fields returned.

        Returns
        -------
        list of (str, str)
            ``(field name, the accepted header it resembles)`` pairs, closest
            first; empty when the header resembles no field.

        Examples
        --------
        >>> from geodistrict.sources.surveys import VACANT_UNITS
        >>> VACANT_UNITS.near_fields("Canone annuo (€)")
        [('asking_rent_eur_month', 'canone')]
        >>> VACANT_UNITS.near_fields("Telefono proprietario")
        []
        """
        key = _header_key(header)
        if not key or self.match_header(header) is not None:
            return []
        every_unit = _UNIT_WORDS.union(*(f.units for f in self.fields))
        bare = _core(key, every_unit)
        words = set(bare.split("_")) - {""}
        best: dict[str, tuple[float, str]] = {}
        for fld in self.fields:
            for accepted in fld.accepted_headers:
                other = _header_key(accepted)
                other_bare = _core(other, every_unit)
                other_words = set(other_bare.split("_")) - {""}
                score = 0.0
                if bare and bare == other_bare:
                    score = 1.0
                else:
                    pairs = [(key, other), (bare, other_bare)]
                    for a, b in pairs:
                        if min(len(a), len(b)) >= 4:
                            ratio = difflib.SequenceMatcher(None, a, b).ratio()
                            score = max(score, ratio if ratio >= 0.8 else 0.0)
                    if len(other_words) >= 2 and other_words <= words:
                        score = max(score, 0.9)
                    elif len(words) >= 2 and words <= other_words:
                        score = max(score, 0.85)
                    elif len(other_words) == 1 and len(other_bare) >= 5 and other_words <= words:
                        score = max(score, 0.8)
                if score > best.get(fld.name, (0.0, ""))[0]:
                    best[fld.name] = (score, accepted)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])
        return [(name, accepted) for name, (_, accepted) in ranked[:limit]]


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
        *Type*, *Required*, *Aliases* (with the unit words a header may add)
        and *Description*, ending with a newline.
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
        if fld.units:
            aliases += "; may add " + ", ".join(f"`{u}`" for u in fld.units)
        cells = [f"`{fld.name}`", _kind_text(fld), required, aliases, fld.description]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def choices_table(schema: SurveySchema) -> str:
    """Describe the values of a schema's choice fields as a Markdown table.

    Parameters
    ----------
    schema : SurveySchema
        The schema to describe.

    Returns
    -------
    str
        A Markdown table with one row per option of every ``choice`` and
        ``multichoice`` field and the columns *Field*, *Code* (what the reader
        stores), *Italiano*, *English* and *Also accepted* (the variants),
        ending with a newline; an empty string when the schema has no choice
        field.

    Examples
    --------
    >>> from geodistrict.sources.surveys import VACANT_UNITS
    >>> print(choices_table(VACANT_UNITS).splitlines()[2])  # doctest: +ELLIPSIS
    | `condition` | `good` | buono | good | buona, buone, ...
    """
    rows = [
        (fld.name, option) for fld in schema.fields if fld.kind in _CHOICE_KINDS
        for option in fld.options
    ]  # fmt: skip
    if not rows:
        return ""
    lines = [
        "| Field | Code | Italiano | English | Also accepted |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, option in rows:
        variants = ", ".join(option.variants)
        cells = [f"`{name}`", f"`{option.code}`", option.it, option.en, variants]
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
        text += ": " + ", ".join(
            f"`{o.code}`" if _choice_key(o.it) == _choice_key(o.code) else f"`{o.code}` ({o.it})"
            for o in fld.options
        )
    if fld.not_future:
        text += ", not in the future"
    if fld.pattern is not None:
        text += " (form checked)"
    return text


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
