"""QGIS project XML (``.qgs``) for the field census, written without QGIS.

The document holds what QGIS 3.22+ and QField read from a project: the
project CRS and start extent, the layer tree, and for each layer its data
source (relative to the project), CRS, renderer and, for the survey layer,
the attribute form: editor widgets, aliases, default values, constraints,
read-only fields and the drag-and-drop (tab) layout, plus the QFieldSync
properties (offline editing of the survey layer, photo naming in ``DCIM/``).
Layer symbols come from :func:`geodistrict.styles.style_qml`.
"""

from __future__ import annotations

import json
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pyproj import CRS

from geodistrict.fieldwork.form import FormField, _quoted, form_tabs
from geodistrict.styles import LayerStyle, style_qml

__all__ = ["QgsLayer", "project_xml"]

#: Version written in the project; QGIS and QField read it and anything newer.
QGIS_VERSION = "3.22.0-Białowieża"

_WKB = {
    "Point": ("Point", "Point"),
    "MultiLineString": ("Line", "MultiLineString"),
    "MultiPolygon": ("Polygon", "MultiPolygon"),
}


@dataclass(frozen=True)
class QgsLayer:
    """One vector layer of the project.

    Attributes
    ----------
    layer_id, name : str
        Unique id in the project and the name shown (Italian).
    source : str
        OGR data source relative to the project, e.g.
        ``./rilievo.gpkg|layername=vacant_units``.
    geometry : {"Point", "MultiLineString", "MultiPolygon"}
    crs : pyproj.CRS
    renderer : xml.etree.ElementTree.Element
        The ``renderer-v2`` element (:func:`single_renderer`, ...).
    read_only : bool
    fields : tuple of FormField
        The survey layer's columns and form; empty for context layers.
    labels : str
        Field labelled along lines (empty: no labels).
    display : str
        Display expression (QField's feature list title).
    properties : mapping
        Custom properties (QFieldSync settings).
    rights : str
        Attribution kept in the layer metadata.
    """

    layer_id: str
    name: str
    source: str
    geometry: str
    crs: CRS
    renderer: ET.Element
    read_only: bool = True
    fields: tuple[FormField, ...] = ()
    labels: str = ""
    display: str = ""
    properties: Mapping[str, str] = field(default_factory=dict)
    rights: str = ""


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _srs(parent: ET.Element, crs: CRS) -> None:
    srs = _sub(parent, "spatialrefsys")
    epsg = crs.to_epsg()
    _sub(srs, "wkt", crs.to_wkt())
    with warnings.catch_warnings():  # "lose projection information": QGIS reads the WKT
        warnings.simplefilter("ignore", UserWarning)
        _sub(srs, "proj4", crs.to_proj4())
    _sub(srs, "srid", str(epsg or 0))
    _sub(srs, "authid", f"EPSG:{epsg}" if epsg else "")
    _sub(srs, "description", crs.name)
    _sub(srs, "geographicflag", "true" if crs.is_geographic else "false")


def _extent(parent: ET.Element, tag: str, bounds: Sequence[float]) -> ET.Element:
    box = _sub(parent, tag)
    for name, value in zip(("xmin", "ymin", "xmax", "ymax"), bounds, strict=True):
        _sub(box, name, repr(float(value)))
    return box


def _option(parent: ET.Element, value: object, name: str | None = None) -> None:
    """QGIS's ``<Option>`` encoding of a value (map, list, bool, int, float, text)."""
    attrs = {"name": name} if name is not None else {}
    if isinstance(value, Mapping):
        element = _sub(parent, "Option", type="Map", **attrs)
        for key, item in value.items():
            _option(element, item, str(key))
    elif isinstance(value, list | tuple):
        element = _sub(parent, "Option", type="List", **attrs)
        for item in value:
            _option(element, item)
    elif isinstance(value, bool):
        _sub(parent, "Option", type="bool", value="true" if value else "false", **attrs)
    elif isinstance(value, int):
        _sub(parent, "Option", type="int", value=str(value), **attrs)
    elif isinstance(value, float):
        _sub(parent, "Option", type="double", value=repr(value), **attrs)
    else:
        _sub(parent, "Option", type="QString", value=str(value), **attrs)


def _renderer_of(style: LayerStyle) -> ET.Element:
    found = ET.fromstring(style_qml(style).split(">", 1)[1]).find("renderer-v2")
    assert found is not None
    return found


def single_renderer(style: LayerStyle) -> ET.Element:
    """The ``renderer-v2`` element of a style of :mod:`geodistrict.styles`."""
    return _renderer_of(style)


def rule_renderer(geometry: str, rules: Sequence[tuple[str, str, str, float]]) -> ET.Element:
    """A rule-based renderer: (label, filter expression or ``ELSE``, colour, size) per rule."""
    renderer = ET.Element(
        "renderer-v2", type="RuleRenderer", symbollevels="0", enableorderby="0", forceraster="0"
    )
    root = _sub(renderer, "rules", key="root")
    symbols = _sub(renderer, "symbols")
    for i, (label, expression, colour, size) in enumerate(rules):
        _sub(root, "rule", key=f"rule_{i}", label=label, filter=expression, symbol=str(i))
        symbol = _renderer_of(LayerStyle(geometry, single=colour, size=size)).find(
            "symbols/symbol"
        )
        assert symbol is not None
        symbol.set("name", str(i))
        symbols.append(symbol)
    return renderer


def _labeling(layer_element: ET.Element, field_name: str) -> None:
    """Street names along the lines, from 1:5000 inwards, with a white halo."""
    labeling = _sub(layer_element, "labeling", type="simple")
    settings = _sub(labeling, "settings", calloutType="simple")
    text = _sub(
        settings,
        "text-style",
        fieldName=field_name,
        isExpression="0",
        fontSize="8",
        fontSizeUnit="Point",
        textColor="60,60,60,255",
        fontItalic="1",
        textOpacity="1",
        namedStyle="",
        fontFamily="",
    )
    _sub(
        text,
        "text-buffer",
        bufferDraw="1",
        bufferSize="0.8",
        bufferSizeUnits="MM",
        bufferColor="255,255,255,255",
        bufferOpacity="1",
        bufferNoFill="1",
    )
    _sub(settings, "text-format", multilineAlign="3")
    _sub(
        settings,
        "placement",
        placement="3",
        placementFlags="10",
        dist="0",
        repeatDistance="0",
        maxCurvedCharAngleIn="25",
        maxCurvedCharAngleOut="-25",
    )
    _sub(
        settings,
        "rendering",
        scaleVisibility="1",
        scaleMin="1",
        scaleMax="5000",
        mergeLines="1",
        obstacle="1",
        drawLabels="1",
        upsidedownLabels="0",
    )


def _form(element: ET.Element, fields: tuple[FormField, ...]) -> None:
    config = _sub(element, "fieldConfiguration")
    for f in fields:
        node = _sub(config, "field", name=f.name, configurationFlags="None")
        widget = _sub(node, "editWidget", type=f.widget)
        _option(_sub(widget, "config"), dict(f.config))
    aliases = _sub(element, "aliases")
    defaults = _sub(element, "defaults")
    constraints = _sub(element, "constraints")
    expressions = _sub(element, "constraintExpressions")
    editable = _sub(element, "editable")
    for i, f in enumerate(fields, start=1):  # index 0 is the GeoPackage fid
        _sub(aliases, "alias", field=f.name, index=str(i), name=f.alias)
        _sub(
            defaults,
            "default",
            field=f.name,
            expression=f.default,
            applyOnUpdate="1" if f.default_on_update else "0",
        )
        flags = (1 if f.not_null else 0) | (2 if f.unique else 0) | (4 if f.expression else 0)
        _sub(
            constraints,
            "constraint",
            field=f.name,
            constraints=str(flags),
            notnull_strength="1" if f.not_null else "0",
            unique_strength="1" if f.unique else "0",
            exp_strength="1" if f.expression else "0",
        )
        _sub(expressions, "constraint", field=f.name, exp=f.expression, desc=f.expression_help)
        _sub(editable, "field", name=f.name, editable="1" if f.editable else "0")
    _sub(element, "editform", tolerant="1")
    _sub(element, "editorlayout", "tablayout")
    form = _sub(element, "attributeEditorForm")
    index = {f.name: i for i, f in enumerate(fields, start=1)}
    for title, names in form_tabs(fields):
        tab = _sub(
            form,
            "attributeEditorContainer",
            name=title,
            groupBox="0",
            showLabel="1",
            columnCount="1",
            visibilityExpressionEnabled="0",
            visibilityExpression="",
        )
        for name in names:
            _sub(tab, "attributeEditorField", name=name, index=str(index[name]), showLabel="1")


def _layer(parent: ET.Element, layer: QgsLayer, bounds: Sequence[float]) -> None:
    kind, wkb = _WKB[layer.geometry]
    element = _sub(
        parent,
        "maplayer",
        type="vector",
        geometry=kind,
        wkbType=wkb,
        readOnly="1" if layer.read_only else "0",
        labelsEnabled="1" if layer.labels else "0",
        hasScaleBasedVisibilityFlag="0",
        minScale="100000000",
        maxScale="0",
        styleCategories="AllStyleCategories",
    )
    _extent(element, "extent", bounds)
    _sub(element, "id", layer.layer_id)
    _sub(element, "datasource", layer.source)
    _sub(element, "layername", layer.name)
    _srs(_sub(element, "srs"), layer.crs)
    metadata = _sub(element, "resourceMetadata")
    _sub(metadata, "title", layer.name)
    if layer.rights:
        _sub(metadata, "rights", layer.rights)
    _sub(element, "provider", "ogr", encoding="UTF-8")
    flags = _sub(element, "flags")
    for name, value in (
        ("Identifiable", "1"),
        ("Removable", "1"),
        ("Searchable", "1"),
        ("Private", "0"),
    ):
        _sub(flags, name, value)
    element.append(layer.renderer)
    if layer.labels:
        _labeling(element, layer.labels)
    properties = _sub(element, "customproperties")
    _option(properties, dict(layer.properties))
    if layer.rights:
        _sub(element, "attribution", layer.rights, href="https://www.openstreetmap.org/copyright")
    if layer.fields:
        _form(element, layer.fields)
    _sub(element, "previewExpression", layer.display)
    _sub(element, "layerOpacity", "1")


def qfield_properties(
    fields: tuple[FormField, ...], *, prefix: str, id_field: str | None
) -> dict[str, str]:
    """QFieldSync settings of the survey layer: offline editing, photos named in ``DCIM/``.

    A photo is saved as ``DCIM/<prefix>_<code>_<yyyyMMdd_hhmmss>.jpg`` (the code of the
    unit with anything but letters, digits, ``_`` and ``-`` replaced by ``_``).
    """
    code = f"coalesce(to_string({_quoted(id_field)}), 'senza_codice')" if id_field else "'x'"
    naming = {
        f.name: f"'DCIM/{prefix}_' || regexp_replace({code}, '[^A-Za-z0-9_-]', '_') "
        "|| '_' || format_date(now(), 'yyyyMMdd_hhmmss') || '.jpg'"
        for f in fields
        if f.widget == "ExternalResource"
    }
    return {
        "QFieldSync/action": "offline",
        "QFieldSync/cloud_action": "offline",
        "QFieldSync/attachment_naming": json.dumps(naming),
        "QFieldSync/photo_naming": json.dumps(naming),  # QField before 2.7
    }


def project_xml(
    *,
    title: str,
    crs: CRS,
    bounds: Sequence[float],
    layers: Sequence[QgsLayer],
    layer_bounds: Mapping[str, Sequence[float]],
    abstract: str = "",
    rights: str = "",
) -> str:
    """The ``.qgs`` document of a project.

    Parameters
    ----------
    title : str
        Project title.
    crs : pyproj.CRS
        Project CRS.
    bounds : sequence of 4 floats
        Start extent (xmin, ymin, xmax, ymax) in ``crs``.
    layers : sequence of QgsLayer
        Top first (drawing order: the first is drawn last, on top).
    layer_bounds : mapping
        Layer id to its extent in the layer's CRS.
    abstract, rights : str
        Project description and attribution (project metadata).

    Returns
    -------
    str
        The XML document, starting with QGIS's DOCTYPE.
    """
    root = ET.Element("qgis", version=QGIS_VERSION, projectname=title)
    _sub(root, "homePath", path="")
    _sub(root, "title", title)
    _srs(_sub(root, "projectCrs"), crs)
    tree = _sub(root, "layer-tree-group")
    for layer in layers:
        _sub(
            tree,
            "layer-tree-layer",
            id=layer.layer_id,
            name=layer.name,
            source=layer.source,
            providerKey="ogr",
            checked="Qt::Checked",
            expanded="1",
        )
    canvas = _sub(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    _sub(canvas, "units", "degrees" if crs.is_geographic else "meters")
    _extent(canvas, "extent", bounds)
    _sub(canvas, "rotation", "0")
    _srs(_sub(canvas, "destinationsrs"), crs)
    project_layers = _sub(root, "projectlayers")
    for layer in layers:
        _layer(project_layers, layer, layer_bounds[layer.layer_id])
    order = _sub(root, "layerorder")
    for layer in layers:
        _sub(order, "layer", id=layer.layer_id)
    properties = _sub(root, "properties")
    _sub(_sub(properties, "Paths"), "Absolute", "false", type="bool")
    measure = _sub(properties, "Measurement")
    _sub(measure, "DistanceUnits", "meters", type="QString")
    _sub(measure, "AreaUnits", "m2", type="QString")
    _sub(_sub(properties, "SpatialRefSys"), "ProjectionsEnabled", "1", type="int")
    view = _sub(root, "ProjectViewSettings", UseProjectScales="0", rotation="0")
    _sub(view, "Scales")
    default = ET.SubElement(
        view,
        "DefaultViewExtent",
        {k: repr(float(v)) for k, v in zip(("xmin", "ymin", "xmax", "ymax"), bounds, strict=True)},
    )
    _srs(default, crs)
    metadata = _sub(root, "projectMetadata")
    _sub(metadata, "title", title)
    _sub(metadata, "abstract", abstract)
    _sub(metadata, "language", "ITA")
    if rights:
        _sub(metadata, "rights", rights)
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"
