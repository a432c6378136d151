"""A field census project for QField: the vacant units surveyed street by street.

``geodistrict fieldwork CONFIG OUT`` (or :func:`fieldwork`) writes a new
folder ``OUT`` that a surveyor copies to a phone or tablet and opens in QField
(or in QGIS):

``rilievo.gpkg``
    The survey layer ``vacant_units``, alone in its GeoPackage: one typed
    column per field of :data:`~geodistrict.sources.surveys.VACANT_UNITS`
    (text, real, integer, boolean, date; choices store their code), plus
    ``survey_date``, ``photo`` and ``origin``; points in EPSG:4326.  Empty, or
    prefilled with the OSM vacant units (``--prefill``) and the units of the
    last wave (``--from-survey FILE``), merged once (:func:`fieldwork_units`).
    Brought back from the field, it is a survey wave:
    :func:`~geodistrict.sources.surveys.read_survey` reads it, and
    ``surveys.vacant_units`` of the district configuration can point at it.
``contesto.gpkg``
    Study area, streets and buildings of the base layers, in the working CRS.
``rilievo.qgs``
    The QGIS project (XML written here, no QGIS needed): project CRS the
    working CRS, start extent on the district, styled context layers with
    street names, and the form of the survey layer generated from the schema
    (:mod:`~geodistrict.fieldwork.form`): value maps showing the Italian label
    and storing the code of each :class:`~geodistrict.sources.surveys.Choice`,
    not-null and unique constraints, expressions for bounds and dates, default
    survey date ``now()``, a photo field saved under ``DCIM/`` with a path
    relative to the project, Italian aliases, tabs.
``DCIM/``, ``LEGGIMI.txt``
    The photos' folder and instructions in Italian.

Layout: :mod:`~geodistrict.fieldwork.form` (the form from the schema),
:mod:`~geodistrict.fieldwork.layers` (survey table, prefill, context layers,
GeoPackage writing), :mod:`~geodistrict.fieldwork.qgs` (project XML),
:mod:`~geodistrict.fieldwork.build` (the folder).
"""

from geodistrict.fieldwork.build import (
    CONTEXT_FILE,
    PROJECT_FILE,
    SURVEY_FILE,
    FieldworkProject,
    fieldwork,
    write_fieldwork,
)
from geodistrict.fieldwork.form import EXTRA_COLUMNS, ORIGINS, FormField, form_fields, form_tabs
from geodistrict.fieldwork.layers import (
    SURVEY_LAYER,
    context_layers,
    fieldwork_units,
    survey_table,
)

__all__ = [
    "CONTEXT_FILE",
    "EXTRA_COLUMNS",
    "ORIGINS",
    "PROJECT_FILE",
    "SURVEY_FILE",
    "SURVEY_LAYER",
    "FieldworkProject",
    "FormField",
    "context_layers",
    "fieldwork",
    "fieldwork_units",
    "form_fields",
    "form_tabs",
    "survey_table",
    "write_fieldwork",
]
