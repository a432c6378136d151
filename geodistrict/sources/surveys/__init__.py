"""Readers for the district's own surveys (vacant units, firms...).

Municipal offices keep their surveys in Excel and export them in whatever
form the office PC produces.  :func:`read_survey` reads such a file against a
:class:`SurveySchema`, checks every value and either returns a clean, typed
:class:`geopandas.GeoDataFrame` or raises one :class:`~geodistrict.errors.SurveyError`
that lists *all* the problems of the file, each located by row and column, so
the file can be fixed in one pass.

Supported formats (chosen by the file suffix)
--------------------------------------------
``.csv`` / ``.txt``
    Delimiter ``,``, ``;`` or tab (sniffed).  Encoding UTF-8 with or without
    BOM, UTF-16 with BOM (Excel "Unicode text"), otherwise Windows-1252.
    Numbers may use a decimal comma (``12,5``, ``1.250,5``) or a decimal point
    (``12.5``, ``1,250.5``).
``.xlsx`` / ``.xlsm``
    Read with openpyxl through pandas; ``layer`` names the sheet (default: the
    first one).  Cells typed by Excel (numbers, dates, booleans) are used as
    they are; cells typed as text are parsed like CSV values.
``.gpkg`` / ``.geojson`` / ``.json`` / ``.shp``
    Read with pyogrio through geopandas; ``layer`` names the layer (required
    when the file holds more than one).  The geometry comes from the file and
    is reprojected to EPSG:4326 before the coordinate checks; any ``lon`` /
    ``lat`` attribute columns are ignored in favour of the geometry.

Row numbers
-----------
Rows are numbered like a spreadsheet: the header is row 1 and the first data
row is row 2.  Fully blank rows are skipped but still counted, so the number
always matches what the user sees in Excel.  For GeoPackage, GeoJSON and
Shapefile inputs, feature *i* (counting from 0 in file order) is row *i + 2*,
as if the attribute table had been exported to a spreadsheet.

Headers
-------
Headers are matched case-insensitively, ignoring surrounding spaces, accents
and punctuation (``" Superficie (mq) "`` matches the alias ``superficie_mq``,
``"Proprietà"`` matches ``proprieta``).  Each field also accepts its aliases,
and the unit words it declares (``"Canone richiesto (€/mese)"`` is the monthly
rent).  A header that selects no field but resembles one the file lacks
(``"Canone annuo (€)"``, ``"Superfice"``) is a problem naming the nearest
accepted headers; any other unknown column is kept and listed in one warning.
No column is dropped without a word.  Free notes (``Note``, ``Osservazioni``,
``Annotazioni``...) are the ``note`` field of both schemas.

Values
------
Choice fields accept, for each allowed value, its code (``good``), its Italian
label (``buono``), its English label and the variants offices write
(``ottimo``, ``pessimo``, ``comunale``, ``extra UE``...), case-, accent- and
spacing-insensitively, and store the code; a value that means none is a
problem listing the Italian labels, then the codes (see
:func:`~geodistrict.sources.surveys.schema.choices_table`).

KoboToolbox and ODK
-------------------
Exports of a KoboToolbox or ODK form (CSV or XLSX) are read as they come:
group prefixes (``impresa/ateco``, ``impresa-ateco``), multiple choices as
space-separated codes or one 0/1 column per choice, a geopoint as
``lat lon alt accuracy`` or split columns, meta columns (``_uuid``,
``_submission_time``...) kept aside, and repeated submissions of one firm
reduced to the latest with a WARNING (see
:mod:`~geodistrict.sources.surveys.exports`).
:func:`~geodistrict.sources.surveys.forms.write_xlsform` writes the form
itself from the same schema (``geodistrict form firms --to imprese.xlsx``).

Limits
------
Excel workbooks are inspected before loading
(:mod:`~geodistrict.sources.surveys.xlsx`): at most 100,000 rows, 1,000
columns and 2 million cells, 100 MiB per uncompressed part, and no DTD or XML
entity; CSV files at most 100 MiB.  A file over a bound is a
:class:`~geodistrict.errors.SurveyError` naming it.

Several files
-------------
:func:`read_surveys` reads every file before raising, and one
:class:`~geodistrict.errors.SurveyError` lists the problems of all of them
(what the pipeline's ``surveys`` step, hence ``geodistrict check`` and
``geodistrict run``, calls).

Layout
------
* :mod:`~geodistrict.sources.surveys.schema`: :class:`SurveyField`, :class:`SurveySchema`,
  :class:`Choice`, header and choice matching, :func:`schema_table` and
  :func:`choices_table`;
* :mod:`~geodistrict.sources.surveys.values`: parsing of Italian values (decimal
  commas, sì/no, dates, ATECO codes);
* :mod:`~geodistrict.sources.surveys.readers`: :func:`read_survey` and the file formats;
* :mod:`~geodistrict.sources.surveys.checks`: every problem of a file, and the result;
* :mod:`~geodistrict.sources.surveys.schemas`: :data:`VACANT_UNITS` and :data:`FIRMS`.
* :mod:`~geodistrict.sources.surveys.exports`: KoboToolbox/ODK exports;
* :mod:`~geodistrict.sources.surveys.xlsx`: the safety checks of Excel files;
* :mod:`~geodistrict.sources.surveys.forms`: the XLSForm questionnaires.
"""

from geodistrict.sources.surveys.forms import write_xlsform, xlsform_sheets
from geodistrict.sources.surveys.readers import read_survey, read_surveys
from geodistrict.sources.surveys.schema import (
    LAT,
    LON,
    Choice,
    FieldKind,
    SurveyField,
    SurveySchema,
    choices_table,
    schema_table,
)
from geodistrict.sources.surveys.schemas import FIRMS, VACANT_UNITS

__all__ = [
    "FIRMS",
    "LAT",
    "LON",
    "VACANT_UNITS",
    "Choice",
    "FieldKind",
    "SurveyField",
    "SurveySchema",
    "choices_table",
    "read_survey",
    "read_surveys",
    "schema_table",
    "write_xlsform",
    "xlsform_sheets",
]
