"""The data of the field census: the survey layer (empty or prefilled) and the context layers.

The survey layer has one typed column per field of the schema
(:func:`~geodistrict.fieldwork.form.form_fields`), points in EPSG:4326, and is
written alone in its own GeoPackage, so that the file QField brings back is a
survey wave :func:`~geodistrict.sources.surveys.read_survey` (and so
``geodistrict check`` / ``run``) reads as it is.  The context layers (study
area, streets, buildings) are in the working CRS, in another GeoPackage.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely

from geodistrict import _validate
from geodistrict.errors import ParameterError
from geodistrict.fieldwork.form import FormField, form_fields
from geodistrict.sources.surveys.schema import LAT, LON, SurveySchema
from geodistrict.sources.surveys.schemas import VACANT_UNITS

__all__ = ["SURVEY_LAYER", "context_layers", "fieldwork_units", "survey_table", "write_gpkg"]

log = logging.getLogger(__name__)

#: Name of the survey layer in its GeoPackage (the schema's name).
SURVEY_LAYER = VACANT_UNITS.name

_ARROW_TYPES = {
    "TEXT": pa.string(),
    "REAL": pa.float64(),
    "INTEGER": pa.int64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
}
_ORIGIN = {"osm": "osm", "survey": "wave", "both": "both"}


def _column(values: pd.Series, fld: FormField) -> pd.Series:
    """One column converted to the Arrow type of its GeoPackage column (nulls kept)."""
    arrow = _ARROW_TYPES[fld.gpkg_type]
    if fld.gpkg_type == "DATE":
        stamps = pd.to_datetime(values, errors="coerce")
        items = [None if pd.isna(t) else t.date() for t in stamps]
    elif fld.gpkg_type in ("REAL", "INTEGER"):
        numbers = pd.to_numeric(values, errors="coerce")
        items = [None if pd.isna(v) else v for v in numbers]
    elif fld.gpkg_type == "BOOLEAN":
        items = [None if v is None or v is pd.NA or pd.isna(v) else bool(v) for v in values]
    else:
        items = [None if v is None or v is pd.NA or pd.isna(v) else str(v) for v in values]
    return pd.Series(pd.array(items, dtype=pd.ArrowDtype(arrow)), index=values.index)


def survey_table(
    units: gpd.GeoDataFrame | None = None, *, schema: SurveySchema = VACANT_UNITS
) -> gpd.GeoDataFrame:
    """The survey layer as written to the GeoPackage: typed columns, points in EPSG:4326.

    Parameters
    ----------
    units : GeoDataFrame, optional
        Points (any CRS) with any of the columns of the layer
        (:func:`~geodistrict.fieldwork.form.form_fields`); others are left
        out.  ``None``: an empty layer.
    schema : SurveySchema
        The survey (default :data:`~geodistrict.sources.surveys.VACANT_UNITS`).

    Returns
    -------
    GeoDataFrame
        One column per field of the form, in order, each with the Arrow type
        of its GeoPackage column (``string``, ``double``, ``int64``, ``bool``,
        ``date32``); ``lon`` / ``lat`` from the points (7 decimals); EPSG:4326.

    Examples
    --------
    >>> table = survey_table()
    >>> len(table), table.crs.to_epsg(), str(table["vacant_since"].dtype)
    (0, 4326, 'date32[day][pyarrow]')
    """
    fields = form_fields(schema)
    if units is None:
        units = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    if units.crs is None:
        raise ParameterError("units have no CRS; set one (e.g. units.set_crs('EPSG:4326'))")
    points = units.geometry.to_crs("EPSG:4326").reset_index(drop=True)
    kinds = set(points.geom_type.dropna())
    if kinds - {"Point"}:
        raise ParameterError(f"units must be points, found {sorted(kinds)}")
    frame = pd.DataFrame(units.drop(columns=units.geometry.name)).reset_index(drop=True)
    xy = shapely.get_coordinates(points.to_numpy()) if len(points) else np.zeros((0, 2))
    frame[LON], frame[LAT] = np.round(xy[:, 0], 7), np.round(xy[:, 1], 7)
    columns = {
        fld.name: _column(
            frame[fld.name] if fld.name in frame else pd.Series([None] * len(frame)), fld
        )
        for fld in fields
    }
    return gpd.GeoDataFrame(columns, geometry=points.to_numpy(), crs="EPSG:4326")


def _empty_pois(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"vacant": pd.Series([], dtype=bool), "tags": pd.Series([], dtype=str)},
        geometry=gpd.GeoSeries([], crs=crs),
    )


def fieldwork_units(
    pois: gpd.GeoDataFrame | None = None,
    last_wave: gpd.GeoDataFrame | None = None,
    *,
    merge_distance_m: float = 15.0,
    schema: SurveySchema = VACANT_UNITS,
) -> gpd.GeoDataFrame:
    """The units a census starts from: OSM vacant units and the last wave, merged once.

    The same merging rule as the analyses
    (:func:`geodistrict.vacancy.vacant_units`): a last-wave unit and an OSM
    vacant unit closer than ``merge_distance_m`` are one unit, which keeps
    the last wave's position, code and values and takes blanks (address,
    last use, ground floor) from OSM.  An OSM unit whose code
    (``osm-<type>-<id>``) the last wave already has is that unit, wherever it
    is now.  Every unit is *to be checked*: ``survey_date`` is empty and
    ``origin`` says where it came from (``osm``, ``wave`` or ``both``).

    Parameters
    ----------
    pois : GeoDataFrame, optional
        The ``pois`` base layer (projected CRS, with ``vacant`` and ``tags``);
        ``None``: no OSM units.
    last_wave : GeoDataFrame, optional
        A survey read with :func:`~geodistrict.sources.surveys.read_survey`
        and :data:`~geodistrict.sources.surveys.VACANT_UNITS`; ``None``: none.
    merge_distance_m : float, default 15
        A last-wave unit and an OSM unit closer than this (m) are one unit.
    schema : SurveySchema
        The survey (default :data:`~geodistrict.sources.surveys.VACANT_UNITS`).

    Returns
    -------
    GeoDataFrame
        :func:`survey_table` of the units: typed columns, EPSG:4326.

    Examples
    --------
    >>> import geodistrict as gd
    >>> units = fieldwork_units(gd.datasets.sample_layers().pois)
    >>> len(units), sorted(set(units["origin"]))
    (3, ['osm'])
    """
    from geodistrict.vacancy import vacant_units

    if pois is None and last_wave is None:
        return survey_table(schema=schema)
    if pois is None:
        assert last_wave is not None
        pois = _empty_pois(last_wave.estimate_utm_crs() if len(last_wave) else "EPSG:32632")
    _validate.projected_frame(pois, what="pois")
    merged = vacant_units(pois, last_wave, merge_distance_m=merge_distance_m)
    surveyed = set(merged.loc[merged["source"] != "osm", "unit_id"])
    duplicate = (merged["source"] == "osm") & merged["unit_id"].isin(surveyed)
    if duplicate.any():
        log.info("%d OSM unit(s) already in the last wave by code: left out", int(duplicate.sum()))
    merged = merged[~duplicate.to_numpy()].reset_index(drop=True)
    # every unit is to be checked again: the date of the last wave is not this survey's
    table = pd.DataFrame(
        merged.drop(columns=[merged.geometry.name, "survey_date"], errors="ignore")
    )
    if last_wave is not None and len(last_wave):
        # Fields the merging does not carry (e.g. the notes) come from the last wave by code.
        previous = pd.DataFrame(last_wave.drop(columns=last_wave.geometry.name))
        previous = previous.assign(unit_id=previous["unit_id"].astype(str)).set_index("unit_id")
        for name in schema.field_names:
            if name not in table and name in previous:
                table[name] = table["unit_id"].map(previous[name])
    table["origin"] = table["source"].map(_ORIGIN)
    units = gpd.GeoDataFrame(table, geometry=merged.geometry.to_numpy(), crs=merged.crs)
    log.info("fieldwork units: %d (%s)", len(units), units["origin"].value_counts().to_dict())
    return survey_table(units, schema=schema)


def _dedupe(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    keys = shapely.to_wkb(shapely.normalize(lines.geometry.to_numpy()))
    return lines[~pd.Series(keys).duplicated().to_numpy()]


def context_layers(
    study_area: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> dict[str, gpd.GeoDataFrame]:
    """The context layers of the field project, small enough for a phone.

    Parameters
    ----------
    study_area, streets, buildings : GeoDataFrame
        The base layers of the same names (working CRS).

    Returns
    -------
    dict of str to GeoDataFrame
        ``area`` (the study area, ``title``), ``streets`` (one row per
        segment, ``name``, ``highway``), ``buildings`` (``name``,
        ``building``, ``addr_street``, ``addr_housenumber``), polygons and
        lines as multi-part geometries, in the CRS of ``study_area``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.datasets.sample_layers()
    >>> context = context_layers(layers.study_area, layers.streets, layers.buildings)
    >>> sorted(context), context["streets"].crs == layers.crs
    (['area', 'buildings', 'streets'], True)
    """
    crs = study_area.crs
    _validate.projected_crs(crs, what="study area")

    def keep(
        frame: gpd.GeoDataFrame, columns: list[str], kinds: tuple[str, ...]
    ) -> gpd.GeoDataFrame:
        frame = frame.to_crs(crs)
        frame = frame[frame.geom_type.isin(kinds).to_numpy()]
        data = {
            c: frame[c].astype(object).where(frame[c].notna(), None).to_numpy()
            if c in frame
            else [None] * len(frame)
            for c in columns
        }
        multi = [
            shapely.multipolygons([g])
            if g.geom_type == "Polygon"
            else shapely.multilinestrings([g])
            if g.geom_type == "LineString"
            else g
            for g in frame.geometry
        ]
        return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(multi, crs=crs))

    area = keep(study_area, ["title"], ("Polygon", "MultiPolygon"))
    lines = keep(_dedupe(streets), ["name", "highway"], ("LineString", "MultiLineString"))
    built = keep(
        buildings,
        ["name", "building", "addr_street", "addr_housenumber"],
        ("Polygon", "MultiPolygon"),
    )
    return {"area": area, "streets": lines, "buildings": built}


def write_gpkg(path: Path, layers: dict[str, tuple[gpd.GeoDataFrame, str, str]]) -> None:
    """Write layers to a new GeoPackage 1.2 (read without warnings by QGIS 3.22 and QField).

    ``layers`` maps a layer name to (frame, geometry type, description).
    Columns typed with Arrow dtypes keep their types (``date32`` as ``DATE``,
    ``bool`` as ``BOOLEAN``), even in an empty layer.
    """
    for i, (name, (frame, geometry_type, description)) in enumerate(layers.items()):
        pyogrio.write_dataframe(
            frame,
            path,
            layer=name,
            driver="GPKG",
            use_arrow=True,
            geometry_type=geometry_type,
            dataset_options={"VERSION": "1.2"} if i == 0 else None,
            layer_options={"DESCRIPTION": description},
            append=i > 0,
        )
