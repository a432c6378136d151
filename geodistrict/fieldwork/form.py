"""The attribute form of the field census, derived from the survey schema.

Everything a QGIS/QField form needs for one survey layer is computed here from
the :class:`~geodistrict.sources.surveys.SurveySchema` the readers validate
(never a copy of its lists): the column of each field and its GeoPackage type,
the widget (a value map of the :class:`~geodistrict.sources.surveys.Choice`
objects, Italian label shown and code stored; a date picker; text), the
constraints (not null for required fields, unique identifier, expressions for
bounds, dates not in the future and patterns), default values, the Italian
labels of the schema (:attr:`SurveyField.label_it`) as aliases and the tabs of
the drag-and-drop form.  :mod:`~geodistrict.fieldwork.qgs`
turns it into QGIS project XML.

Three columns are added to the schema's fields for the fieldwork itself:
``survey_date`` (*data del rilievo*, default today), ``photo`` (*foto*, a path
relative to the project, ``DCIM/...jpg``) and ``origin`` (*origine*: where a
prefilled unit came from).  The reader keeps them as extra columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from geodistrict.errors import ParameterError
from geodistrict.sources.surveys.schema import LAT, LON, SurveyField, SurveySchema

__all__ = [
    "EXTRA_COLUMNS",
    "NULL_VALUE",
    "ORIGINS",
    "FormField",
    "form_fields",
    "form_tabs",
]

#: QGIS's marker of the "no value" entry of a value map (QgsValueMapFieldFormatter::NULL_VALUE).
NULL_VALUE = "{2839923C-8B7D-419E-B84B-CA2FE9B80EC7}"
#: Label of the "no value" entry of a value map.
NULL_LABEL = "(non rilevato)"

#: Codes of the ``origin`` column and their Italian labels.
ORIGINS: dict[str, str] = {
    "osm": "OpenStreetMap (da verificare)",
    "wave": "rilievo precedente (da verificare)",
    "both": "rilievo precedente e OpenStreetMap (da verificare)",
}

#: Columns the field project adds to the schema's fields (name -> Italian alias).
EXTRA_COLUMNS: dict[str, str] = {
    "survey_date": "Data del rilievo",
    "photo": "Foto",
    "origin": "Origine",
}

# Tabs of the form: (Italian title, fields); fields no tab names go to the last tab.
_TABS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Locale", ("unit_id", "address", "ground_floor", "floor_area_m2", "last_use")),
    ("Stato e proprietà", ("vacant_since", "condition", "owner_type", "asking_rent_eur_month")),
    ("Rilievo", ("survey_date", "photo", "note", "origin", LON, LAT)),
)

_GPKG_TYPES = {
    "str": "TEXT",
    "choice": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "bool": "BOOLEAN",
    "date": "DATE",
}


@dataclass(frozen=True)
class FormField:
    """One column of the survey layer and how its form shows and checks it.

    Attributes
    ----------
    name : str
        Column name (the schema field's canonical name).
    kind : str
        Value kind: a schema kind, or ``"photo"``.
    gpkg_type : str
        Column type in the GeoPackage (``TEXT``, ``REAL``, ``INTEGER``,
        ``BOOLEAN``, ``DATE``).
    alias : str
        Italian label shown in the form.
    widget : str
        QGIS editor widget: ``TextEdit``, ``ValueMap``, ``DateTime``,
        ``ExternalResource``.
    config : mapping
        The widget's configuration, as QGIS stores it.
    not_null, unique : bool
        Hard constraints.
    expression, expression_help : str
        Constraint expression (empty: none) and its Italian description.
    default, default_on_update : str, bool
        Default value expression (empty: none); re-evaluated on every change.
    editable : bool
        Whether the surveyor can change it in the form.
    """

    name: str
    kind: str
    gpkg_type: str
    alias: str
    widget: str
    config: Mapping[str, object] = field(default_factory=dict)
    not_null: bool = False
    unique: bool = False
    expression: str = ""
    expression_help: str = ""
    default: str = ""
    default_on_update: bool = False
    editable: bool = True


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A QGIS expression string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _constraint(fld: SurveyField) -> tuple[str, str]:
    """The constraint expression of a field's value checks and its Italian description."""
    column = _quoted(fld.name)
    tests: list[str] = []
    words: list[str] = []
    if fld.minimum is not None:
        operator = ">" if fld.minimum_exclusive else ">="
        tests.append(f"{column} {operator} {_number(fld.minimum)}")
        bound = "maggiore di" if fld.minimum_exclusive else "almeno"
        words.append(f"{bound} {_number(fld.minimum)}")
    if fld.maximum is not None:
        tests.append(f"{column} <= {_number(fld.maximum)}")
        words.append(f"al massimo {_number(fld.maximum)}")
    if fld.not_future:
        # to_date: a value the form has not converted yet may still carry the time of day.
        tests.append(f"to_date({column}) <= to_date(now())")
        words.append("non nel futuro")
    if fld.pattern is not None:
        tests.append(f"regexp_match({column}, {_literal('^(?:' + fld.pattern + ')$')}) > 0")
        words.append(f"nella forma {fld.pattern_help or fld.pattern}")
    if not tests:
        return "", ""
    expression = f"{column} IS NULL OR ({' AND '.join(tests)})"
    return expression, "Deve essere " + ", ".join(words)


def _value_map(pairs: list[tuple[str, str]], *, with_null: bool) -> dict[str, object]:
    """QGIS's value-map configuration: an ordered list of {label: stored value}."""
    entries = [{NULL_LABEL: NULL_VALUE}] if with_null else []
    entries += [{label: value} for label, value in pairs]
    return {"map": entries}


def _date_config() -> dict[str, object]:
    return {
        "allow_null": True,
        "calendar_popup": True,
        "display_format": "dd/MM/yyyy",
        "field_format": "yyyy-MM-dd",
        "field_iso_format": False,
    }


def _photo_config() -> dict[str, object]:
    # DocumentViewer 1: image; RelativeStorage 1: path relative to the project file.
    return {
        "DocumentViewer": 1,
        "DocumentViewerHeight": 0,
        "DocumentViewerWidth": 0,
        "FileWidget": True,
        "FileWidgetButton": True,
        "FileWidgetFilter": "Immagini (*.jpg *.jpeg *.png)",
        "RelativeStorage": 1,
        "StorageMode": 0,
        "UseLink": False,
        "FullUrl": False,
    }


def _schema_field(fld: SurveyField, schema: SurveySchema) -> FormField:
    if fld.kind == "multichoice":
        raise ParameterError(
            f"field {fld.name!r} of schema {schema.name!r} is a multichoice: the field "
            "project has no widget for several choices (use the XLSForm questionnaire)"
        )
    alias = fld.label_it or fld.name.replace("_", " ").capitalize()
    is_id = fld.name == schema.id_field
    not_null = fld.required or is_id
    expression, help_text = _constraint(fld)
    base = FormField(
        name=fld.name,
        kind=fld.kind,
        gpkg_type=_GPKG_TYPES[fld.kind],
        alias=alias,
        widget="TextEdit",
        config={"IsMultiline": fld.name == "note", "UseHtml": False},
        not_null=not_null,
        unique=is_id,
        expression=expression,
        expression_help=help_text,
    )
    if fld.name in (LON, LAT):
        # Filled from the point (the layer is in EPSG:4326), kept up to date when it moves.
        axis = "x" if fld.name == LON else "y"
        return replace(
            base, default=f"round({axis}($geometry), 7)", default_on_update=True, editable=False
        )
    if fld.kind == "choice":
        pairs = [(option.it, option.code) for option in fld.options]
        return replace(base, widget="ValueMap", config=_value_map(pairs, with_null=not not_null))
    if fld.kind == "bool":
        pairs = [("sì", "true"), ("no", "false")]
        return replace(base, widget="ValueMap", config=_value_map(pairs, with_null=not not_null))
    if fld.kind == "date":
        return replace(base, widget="DateTime", config=_date_config())
    if is_id and fld.kind == "str":
        # A code the surveyor may keep or overwrite: when the unit was recorded.
        return replace(base, default="'R-' || format_date(now(), 'yyyyMMdd-hhmmss')")
    return base


def form_fields(schema: SurveySchema) -> tuple[FormField, ...]:
    """The columns of a survey layer and their form settings, in column order.

    The schema's fields, then ``survey_date``, ``photo`` and ``origin``
    (:data:`EXTRA_COLUMNS`).

    Parameters
    ----------
    schema : SurveySchema
        The survey, e.g. :data:`~geodistrict.sources.surveys.VACANT_UNITS`.
        It must have ``lon`` / ``lat`` fields and no ``multichoice`` field.

    Returns
    -------
    tuple of FormField

    Raises
    ------
    ParameterError
        If the schema has a ``multichoice`` field, lacks ``lon`` / ``lat``,
        or already has a field named like an added column.

    Examples
    --------
    >>> from geodistrict.sources.surveys import VACANT_UNITS
    >>> stato = {f.name: f for f in form_fields(VACANT_UNITS)}["condition"]
    >>> stato.widget, stato.alias, stato.config["map"][1]
    ('ValueMap', 'Stato di conservazione', {'buono': 'good'})
    >>> {f.name: f.default for f in form_fields(VACANT_UNITS)}["survey_date"]
    'now()'
    """
    names = set(schema.field_names)
    if not {LON, LAT} <= names:
        raise ParameterError(f"schema {schema.name!r} has no 'lon'/'lat' fields")
    clash = sorted(names & set(EXTRA_COLUMNS))
    if clash:
        raise ParameterError(f"schema {schema.name!r} already has fields {clash}")
    fields = [_schema_field(fld, schema) for fld in schema.fields]
    fields.append(
        FormField(
            "survey_date",
            "date",
            "DATE",
            EXTRA_COLUMNS["survey_date"],
            "DateTime",
            config=_date_config(),
            default="now()",
            expression='"survey_date" IS NULL OR to_date("survey_date") <= to_date(now())',
            expression_help="Deve essere non nel futuro",
        )
    )
    fields.append(
        FormField(
            "photo",
            "photo",
            "TEXT",
            EXTRA_COLUMNS["photo"],
            "ExternalResource",
            config=_photo_config(),
        )
    )
    origins = [(label, code) for code, label in ORIGINS.items()]
    fields.append(
        FormField(
            "origin",
            "str",
            "TEXT",
            EXTRA_COLUMNS["origin"],
            "ValueMap",
            config=_value_map([("nuovo rilievo", NULL_VALUE), *origins], with_null=False),
            editable=False,
        )
    )
    return tuple(fields)


def form_tabs(fields: tuple[FormField, ...]) -> list[tuple[str, list[str]]]:
    """The tabs of the form (Italian title, column names); every column is in one tab.

    Examples
    --------
    >>> from geodistrict.sources.surveys import VACANT_UNITS
    >>> [title for title, _ in form_tabs(form_fields(VACANT_UNITS))]
    ['Locale', 'Stato e proprietà', 'Rilievo']
    """
    names = [f.name for f in fields]
    tabs = [(title, [n for n in members if n in names]) for title, members in _TABS]
    placed = {n for _, members in tabs for n in members}
    tabs[-1][1].extend(n for n in names if n not in placed)
    return [(title, members) for title, members in tabs if members]
