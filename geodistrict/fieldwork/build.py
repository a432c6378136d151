"""Writing the field census folder: GeoPackages, QGIS project, ``DCIM/``, a note in Italian."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
from pyproj import CRS

from geodistrict import _validate
from geodistrict.config import DistrictConfig
from geodistrict.errors import OutputError
from geodistrict.fieldwork.form import FormField, form_fields
from geodistrict.fieldwork.layers import (
    SURVEY_LAYER,
    context_layers,
    fieldwork_units,
    survey_table,
    write_gpkg,
)
from geodistrict.fieldwork.qgs import (
    QgsLayer,
    project_xml,
    qfield_properties,
    rule_renderer,
    single_renderer,
)
from geodistrict.sources.osm import OSM_ATTRIBUTION
from geodistrict.sources.surveys.schema import SurveySchema
from geodistrict.sources.surveys.schemas import VACANT_UNITS
from geodistrict.styles import LayerStyle

__all__ = [
    "CONTEXT_FILE",
    "PROJECT_FILE",
    "SURVEY_FILE",
    "FieldworkProject",
    "fieldwork",
    "write_fieldwork",
]

log = logging.getLogger(__name__)

#: File names inside the fieldwork folder.
PROJECT_FILE = "rilievo.qgs"
SURVEY_FILE = "rilievo.gpkg"
CONTEXT_FILE = "contesto.gpkg"
_NOTE_FILE = "LEGGIMI.txt"

_STREET_CLASSES = {
    "primary": ("strada primaria", "#3a3a3a"),
    "secondary": ("strada secondaria", "#3a3a3a"),
    "tertiary": ("strada terziaria", "#555555"),
    "residential": ("strada residenziale", "#6f6f6f"),
    "pedestrian": ("area pedonale", "#9c6f96"),
    "footway": ("percorso pedonale", "#bdbdbd"),
    "cycleway": ("pista ciclabile", "#6f9fc0"),
    "": ("altre strade", "#8f8f8f"),
}


@dataclass(frozen=True)
class FieldworkProject:
    """What :func:`write_fieldwork` wrote.

    Attributes
    ----------
    folder, project, survey, context : Path
        The folder, the QGIS project, the survey GeoPackage (one layer,
        ``vacant_units``) and the context GeoPackage.
    units : int
        Units in the survey layer (0 for an empty census).
    origins : dict
        Prefilled units by origin (``osm``, ``wave``, ``both``).
    context : dict
        Features of each context layer.
    """

    folder: Path
    project: Path
    survey: Path
    context: Path
    units: int
    origins: dict[str, int] = field(default_factory=dict)
    context_features: dict[str, int] = field(default_factory=dict)


def _note(title: str, units: int) -> str:
    heading = f"{title}: rilievo dei locali sfitti con QField"
    files = [
        (PROJECT_FILE, "progetto QGIS/QField (apritelo in QField o in QGIS)"),
        (
            SURVEY_FILE,
            f"i locali sfitti da rilevare ({units} già presenti): è il file del rilievo",
        ),
        (CONTEXT_FILE, "area di studio, strade, edifici (solo consultazione)"),
        ("DCIM/", "le foto scattate con QField (percorsi relativi, es. DCIM/sfitto_V001_...jpg)"),
    ]
    listing = "\n".join(f"  {name:<15} {what}" for name, what in files)
    return f"""{heading}
{"=" * len(heading)}

Contenuto della cartella
{listing}

Sul campo
  1. Copiate l'intera cartella sul telefono o sul tablet (cavo USB, QFieldSync o QFieldCloud)
     e aprite {PROJECT_FILE} in QField.
  2. Per ogni locale: toccate il punto (o aggiungetene uno nuovo), compilate la scheda;
     i locali con "Data del rilievo" vuota (arancioni) sono ancora da verificare.
     Un locale non più sfitto si elimina.
  3. Chiudete QField, poi riportate in ufficio {SURVEY_FILE} e la cartella DCIM/
     (con QFieldSync: "Sincronizza da QField").

In ufficio
  Indicate il file nella configurazione del distretto (surveys: vacant_units: .../{SURVEY_FILE}),
  poi: geodistrict check CONFIG   e   geodistrict run CONFIG

Dati cartografici {OSM_ATTRIBUTION} (ODbL).
"""


def write_fieldwork(
    out: str | Path,
    *,
    study_area: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None = None,
    title: str = "",
    schema: SurveySchema = VACANT_UNITS,
) -> FieldworkProject:
    """Write a field census project for QField into a new folder.

    The folder holds ``rilievo.gpkg`` (the survey layer ``vacant_units``:
    one typed column per field of the schema plus ``survey_date``, ``photo``
    and ``origin``, points in EPSG:4326), ``contesto.gpkg`` (study area,
    streets, buildings in the working CRS), ``rilievo.qgs`` (the QGIS project
    whose form matches the schema: value maps with Italian labels storing the
    codes, constraints, default survey date, photo field, tabs), an empty
    ``DCIM/`` and ``LEGGIMI.txt``.  It is written next to ``out`` and moved
    into place at the end, so a failed write leaves nothing behind.

    Why EPSG:4326 for the survey layer: it is the system of the schema's
    ``lon`` / ``lat``, of the positions the device's GNSS gives (QField stores
    them with no transformation) and of what
    :func:`~geodistrict.sources.surveys.read_survey` returns, so the file
    reads the same anywhere.  The project and the context layers are in the
    working CRS, in metres, like the outputs of ``geodistrict run``.

    Parameters
    ----------
    out : str or Path
        The folder to create; it must not exist, or be empty (a folder that
        may hold field data is never overwritten).
    study_area, streets, buildings : GeoDataFrame
        The base layers of the district (projected working CRS).
    units : GeoDataFrame, optional
        Units to prefill (:func:`~geodistrict.fieldwork.fieldwork_units`);
        default: an empty survey layer.
    title : str
        Title of the project (default: the study area's ``title``).
    schema : SurveySchema
        The survey (default :data:`~geodistrict.sources.surveys.VACANT_UNITS`).

    Returns
    -------
    FieldworkProject

    Raises
    ------
    OutputError
        If ``out`` exists and is not an empty folder.
    CRSError
        If the study area is not in a projected CRS.

    Examples
    --------
    >>> import tempfile, geodistrict as gd
    >>> layers = gd.datasets.sample_layers()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     done = write_fieldwork(f"{tmp}/rilievo", study_area=layers.study_area,
    ...                            streets=layers.streets, buildings=layers.buildings)
    ...     sorted(p.name for p in done.folder.iterdir())
    ['DCIM', 'LEGGIMI.txt', 'contesto.gpkg', 'rilievo.gpkg', 'rilievo.qgs']
    """
    target = _new_folder(out)
    crs = CRS.from_user_input(_validate.projected_frame(study_area, what="study area").crs)
    title = title or str(study_area["title"].iloc[0] if "title" in study_area else "Distretto")
    fields = form_fields(schema)
    table = survey_table(units, schema=schema)
    context = context_layers(study_area, streets, buildings)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        description = (
            f"{title}: locali sfitti (rilievo sul campo, schema {schema.name}); "
            f"posizioni WGS 84. {OSM_ATTRIBUTION} (ODbL) per i locali da OSM."
        )
        write_gpkg(scratch / SURVEY_FILE, {SURVEY_LAYER: (table, "Point", description)})
        credit = f"{OSM_ATTRIBUTION} (ODbL)"
        write_gpkg(
            scratch / CONTEXT_FILE,
            {
                "area": (context["area"], "MultiPolygon", f"{title}: area di studio"),
                "streets": (context["streets"], "MultiLineString", f"Strade. {credit}"),
                "buildings": (context["buildings"], "MultiPolygon", f"Edifici. {credit}"),
            },
        )
        layers = _project_layers(fields, schema, crs, credit)
        area = study_area.to_crs(crs).total_bounds
        pad = 0.05 * max(area[2] - area[0], area[3] - area[1])
        bounds = (area[0] - pad, area[1] - pad, area[2] + pad, area[3] + pad)
        lonlat = study_area.to_crs(4326).total_bounds
        extents = {layer.layer_id: tuple(area) for layer in layers}
        extents[_layer_id(SURVEY_LAYER)] = (
            tuple(table.total_bounds) if len(table) else tuple(lonlat)
        )
        xml = project_xml(
            title=f"{title} – rilievo dei locali sfitti",
            crs=crs,
            bounds=bounds,
            layers=layers,
            layer_bounds=extents,
            abstract="Censimento dei locali sfitti del distretto con QField (geodistrict).",
            rights=credit,
        )
        (scratch / PROJECT_FILE).write_text(xml, encoding="utf-8")
        (scratch / "DCIM").mkdir()
        (scratch / _NOTE_FILE).write_text(_note(title, len(table)), encoding="utf-8")
        os.chmod(scratch, 0o755)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(scratch, target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    origins = table["origin"].dropna().value_counts().to_dict() if len(table) else {}
    done = FieldworkProject(
        folder=target,
        project=target / PROJECT_FILE,
        survey=target / SURVEY_FILE,
        context=target / CONTEXT_FILE,
        units=len(table),
        origins={str(k): int(v) for k, v in origins.items()},
        context_features={name: len(frame) for name, frame in context.items()},
    )
    log.info("field project written to %s: %d unit(s) %s", target, done.units, done.origins)
    return done


def _project_layers(
    fields: tuple[FormField, ...], schema: SurveySchema, crs: CRS, credit: str
) -> list[QgsLayer]:
    """The layers of the project, top first: the survey layer, then the context."""
    names = [f.name for f in fields]
    display = f'"{schema.id_field or names[0]}"'
    if "address" in names:
        display += " || coalesce(' – ' || \"address\", '')"

    return [
        QgsLayer(
            _layer_id(SURVEY_LAYER),
            "Locali sfitti",
            f"./{SURVEY_FILE}|layername={SURVEY_LAYER}",
            "Point",
            CRS.from_epsg(4326),
            rule_renderer(
                "point",
                [
                    ("da verificare", '"survey_date" IS NULL', "#ff8c00", 3.4),
                    ("rilevato", "ELSE", "#1a9641", 3.4),
                ],
            ),
            read_only=False,
            fields=fields,
            display=display,
            properties=qfield_properties(fields, prefix="sfitto", id_field=schema.id_field),
            rights=credit,
        ),
        QgsLayer(
            _layer_id("area"),
            "Area di studio",
            f"./{CONTEXT_FILE}|layername=area",
            "MultiPolygon",
            crs,
            single_renderer(LayerStyle("polygon", single="#00000000", size=1.2)),
            properties=_context_properties(),
            rights=credit,
        ),
        QgsLayer(
            _layer_id("streets"),
            "Strade",
            f"./{CONTEXT_FILE}|layername=streets",
            "MultiLineString",
            crs,
            single_renderer(
                LayerStyle("line", attribute="highway", categories=_STREET_CLASSES, size=0.5)
            ),
            labels="name",
            display='coalesce("name", "highway")',
            properties=_context_properties(),
            rights=credit,
        ),
        QgsLayer(
            _layer_id("buildings"),
            "Edifici",
            f"./{CONTEXT_FILE}|layername=buildings",
            "MultiPolygon",
            crs,
            single_renderer(LayerStyle("polygon", single="#e0d6cc", size=0.2)),
            display='coalesce("name", "building")',
            properties=_context_properties(),
            rights=credit,
        ),
    ]


def _layer_id(name: str) -> str:
    """A layer id QGIS keeps (it replaces ids of 10 characters or fewer)."""
    return f"fieldwork_{name}"


def _new_folder(out: str | Path) -> Path:
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputError(
            f"{str(target)!r} already exists and is not an empty folder; the field project "
            "is written into a new folder (an existing one may hold field data)"
        )
    return target


def _context_properties() -> dict[str, str]:
    # Copied to the device as they are; read-only there.
    return {"QFieldSync/action": "copy", "QFieldSync/cloud_action": "no_action"}


def fieldwork(
    config: DistrictConfig,
    out: str | Path,
    *,
    prefill: bool = False,
    from_survey: str | Path | None = None,
    merge_distance_m: float = 15.0,
    use_cache: bool = True,
) -> FieldworkProject:
    """Write the field census project of a district (what ``geodistrict fieldwork`` runs).

    Parameters
    ----------
    config : DistrictConfig
        The district (:func:`geodistrict.load_config`); its base layers give
        the study area, streets and buildings and, with ``prefill``, the OSM
        vacant units.
    out : str or Path
        The new folder (see :func:`write_fieldwork`).
    prefill : bool, default False
        Start from the OSM vacant units (``pois`` with ``vacant``).
    from_survey : str or Path, optional
        The last wave (any file :func:`~geodistrict.sources.surveys.read_survey`
        reads, e.g. the ``rilievo.gpkg`` of the previous census): its units
        are prefilled, merged once with the OSM ones
        (:func:`~geodistrict.fieldwork.fieldwork_units`).
    merge_distance_m : float, default 15
        A last-wave unit and an OSM unit closer than this (m) are one unit.
    use_cache : bool, default True
        Reuse the cached base layers.

    Returns
    -------
    FieldworkProject

    Raises
    ------
    SurveyError
        If the last wave has problems (each located by row and column).
    OutputError
        If ``out`` exists and is not an empty folder.

    Examples
    --------
    >>> import tempfile, geodistrict as gd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     done = fieldwork(gd.datasets.sample_config(), f"{tmp}/rilievo", prefill=True)
    >>> done.units, done.origins
    (3, {'osm': 3})
    """
    from geodistrict.area import clip_polygon
    from geodistrict.ingest import load_base_layers
    from geodistrict.sources.surveys import read_survey

    target = _new_folder(out)
    if from_survey is not None:
        _validate.existing_file(from_survey, what="survey file")  # before the slow part
    base = load_base_layers(config, use_cache=use_cache)
    last_wave = None
    if from_survey is not None:
        area = gpd.GeoSeries([clip_polygon(base.study_area)], crs=base.crs).to_crs(4326).iloc[0]
        last_wave = read_survey(from_survey, VACANT_UNITS, area_lonlat=area, crs=base.crs)
    units = None
    if prefill or last_wave is not None:
        units = fieldwork_units(
            base.pois if prefill else None, last_wave, merge_distance_m=merge_distance_m
        )
    return write_fieldwork(
        target,
        study_area=base.study_area,
        streets=base.streets,
        buildings=base.buildings,
        units=units,
        title=config.title,
    )
