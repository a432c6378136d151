"""A QGIS project of a district's results: ``OUT/<district>/<district>.qgz``.

The project sits next to the stable GeoPackage link and reads it with relative
paths (``./<district>.gpkg|layername=...``), so the folder can be copied or
zipped and opened elsewhere.  Layers are grouped by theme (Commercio, Locali
sfitti, Ciclabilità, Imprese, Indicatori, Base), named with their catalogue
titles in the district's language, and styled with the same QML as the
GeoPackage's default styles (:mod:`geodistrict.styles`): priority
Alta/Media/Bassa, isochrones 5/10/15 min, LTS 1-4 green to red.  The density
raster (one band per category) becomes one single-band pseudocolour layer per
band.  The project CRS is the layers' CRS, the start extent the study area, and
the OSM attribution is in the project metadata.

The styles are also written as files for QGIS users of the OGC API service
(``consegna/stili/<layer>.qml`` and ``.sld``): QGIS 3.22's OAPIF provider reads
no style from the server, so a layer added from the service is styled with
*Layer properties → Style → Load style* from these files (or from the service,
where the publishing configuration links them).  When a publishing
configuration (``OUT/pygeoapi/pygeoapi.yml``) serves the district, the service
address is recorded in the project metadata and in
``consegna/connessione_ogcapi.xml``, which QGIS imports as an OGC API -
Features connection (*Manage connections → Load*).

Examples
--------
>>> from geodistrict.deliverables.qgis import theme_of
>>> theme_of("vacant_units"), theme_of("bike_network"), theme_of("something_new")
('vacancy', 'cycling', 'other')
"""

from __future__ import annotations

import io
import logging
import math
import os
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from pyproj import CRS

from geodistrict.catalogue import layer_info
from geodistrict.deliverables import Outputs, write_atomically
from geodistrict.deliverables.sld import style_sld
from geodistrict.errors import OutputError
from geodistrict.fieldwork.qgs import QGIS_VERSION, _extent, _option, _srs, _sub
from geodistrict.i18n import _, format_number, label, pgettext, use_language
from geodistrict.sources.osm import OSM_ATTRIBUTION, OSM_LICENSE
from geodistrict.styles import RAMP, LayerStyle, legend_classes, style_for, style_qml

__all__ = ["THEMES", "raster_qml", "theme_of", "write_project"]

log = logging.getLogger(__name__)

#: Themes (groups) top to bottom and their layers, top to bottom (drawing order).
THEMES: dict[str, tuple[str, ...]] = {
    "vacancy": ("vacant_units",),
    "commerce": (
        "commercial_units", "pois", "commercial_access", "street_frontage",
        "retail_centres", "category_gaps", "commercial_hex",
    ),
    "cycling": (
        "info_points", "bike_gaps", "bike_circuits", "bike_network", "bike_connectivity",
        "low_stress_islands", "isochrones",
    ),
    "firms": (
        "service_sites", "firms", "firm_clusters", "sector_specialisation",
        "production_needs", "firm_coverage",
    ),
    "indicators": ("indicators", "population"),
    "base": ("study_area", "transit_stops", "streets", "buildings", "landuse"),
    "other": (),
}  # fmt: skip

#: Layers shown when the project opens (the others are in the tree, unticked).
SHOWN = frozenset(
    {
        "vacant_units", "info_points", "bike_gaps", "bike_circuits", "bike_network",
        "commercial_units", "retail_centres", "service_sites",
        "study_area", "transit_stops", "streets", "buildings",
    }
)  # fmt: skip

DENSITY = "commercial_density"
STYLES_DIR = "stili"
CONNECTION_FILE = "connessione_ogcapi.xml"

_WKB = {
    "POINT": ("Point", "Point"),
    "MULTIPOINT": ("Point", "MultiPoint"),
    "LINESTRING": ("Line", "LineString"),
    "MULTILINESTRING": ("Line", "MultiLineString"),
    "POLYGON": ("Polygon", "Polygon"),
    "MULTIPOLYGON": ("Polygon", "MultiPolygon"),
}


def _theme_titles() -> dict[str, str]:
    """Group names in the current language."""
    return {
        "vacancy": pgettext("qgis group", "Vacant units"),
        "cycling": pgettext("qgis group", "Cycling"),
        "commerce": pgettext("qgis group", "Commerce"),
        "firms": pgettext("qgis group", "Firms"),
        "indicators": pgettext("qgis group", "Indicators"),
        "base": pgettext("qgis group", "Base layers"),
        "other": pgettext("qgis group", "Other layers"),
    }


def theme_of(name: str) -> str:
    """The theme (group) of layer ``name``; layers of no theme go to ``other``."""
    for theme, names in THEMES.items():
        if name in names:
            return theme
    return "other"


@dataclass(frozen=True)
class _Layer:
    layer_id: str
    name: str
    title: str
    kind: str  # "vector" or "raster"
    source: str
    provider: str
    crs: CRS
    bounds: tuple[float, float, float, float]
    style: ET.Element  # the QML root (<qgis>)
    shown: bool
    abstract: str = ""
    geometry: tuple[str, str] = ("", "")


def _title(name: str, language: str) -> str:
    info = layer_info(name)
    return info.title_it if language == "it" else info.title_en


def _abstract(name: str, language: str) -> str:
    info = layer_info(name)
    return info.description_it if language == "it" else info.description_en


def _gpkg_geometries(gpkg: Path) -> dict[str, tuple[str, int]]:
    """GeoPackage table -> (geometry type name, srs id)."""
    try:
        with sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True) as db:
            rows = db.execute(
                "select table_name, geometry_type_name, srs_id from gpkg_geometry_columns"
            ).fetchall()
    except sqlite3.Error as exc:
        raise OutputError(f"cannot read the GeoPackage {str(gpkg)!r}: {exc}") from exc
    return {str(t): (str(g).upper(), int(s)) for t, g, s in rows}


def _geometry(kind: str, geom_types: Sequence[str]) -> tuple[str, str]:
    if kind in _WKB:
        return _WKB[kind]
    found = {t.upper() for t in geom_types}
    for wkb in ("MULTIPOLYGON", "MULTILINESTRING", "MULTIPOINT"):
        if found & {wkb, wkb[5:]}:
            return _WKB[wkb]
    return ("Unknown", "Unknown")


def _qml_root(qml: str) -> ET.Element:
    return ET.fromstring(qml.split(">", 1)[1])


def _vector_layers(outputs: Outputs, language: str) -> list[_Layer]:
    geometries = _gpkg_geometries(outputs.gpkg)
    gpkg = f"./{outputs.gpkg.name}"
    layers = []
    for name in outputs.layer_names:
        if not outputs.has(name) or name not in geometries:
            continue  # empty in this district, or not in the GeoPackage
        frame = outputs.layer(name)
        if frame.crs is None:
            log.warning("layer %s has no CRS; left out of the project", name)
            continue
        style = style_for(name, geometries[name][0])
        bounds = tuple(float(v) for v in frame.total_bounds)
        if not all(math.isfinite(v) for v in bounds):
            continue
        layers.append(
            _Layer(
                layer_id=f"{name}_{outputs.district}",
                name=name,
                title=_title(name, language),
                kind="vector",
                source=f"{gpkg}|layername={name}",
                provider="ogr",
                crs=CRS.from_user_input(frame.crs),
                bounds=bounds,  # type: ignore[arg-type]
                style=_qml_root(style_qml(style, frame, language=language)),
                shown=name in SHOWN,
                abstract=_abstract(name, language),
                geometry=_geometry(geometries[name][0], frame.geom_type.unique().tolist()),
            )
        )
    return layers


def _density_file(outputs: Outputs) -> Path | None:
    for key in (DENSITY, f"{DENSITY}.tif"):
        path = outputs.raster(key)
        if path is not None and path.is_file():
            return path
    return None


def raster_qml(band: int, values: np.ndarray, *, unit: str = "") -> str:
    """QML of a single-band pseudocolour ramp of ``band`` (1-based) for ``values``.

    Zero is transparent; the ramp's stops are at the 60th, 80th, 90th, 97th and
    100th percentiles of the positive values, the first one half transparent
    (labels rounded, in the current language).

    Examples
    --------
    >>> import numpy as np
    >>> qml = raster_qml(2, np.array([0.0, 0.1, 0.5, 2.0]))
    >>> 'type="singlebandpseudocolor"' in qml and 'band="2"' in qml
    True
    """
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size:
        stops = [float(v) for v in np.quantile(positive, [0.6, 0.8, 0.9, 0.97, 1.0])]
    else:
        stops = [1.0, 2.0, 3.0, 4.0, 5.0]
    for i in range(1, len(stops)):  # strictly increasing
        stops[i] = max(stops[i], stops[i - 1] * 1.0001 + 1e-9)
    top = stops[-1]
    places = 0 if top >= 20 else (1 if top >= 2 else 2)
    suffix = f" {unit}" if unit else ""
    root = ET.Element("qgis", version="3.22.0", styleCategories="Symbology")
    pipe = _sub(root, "pipe")
    renderer = _sub(
        pipe,
        "rasterrenderer",
        type="singlebandpseudocolor",
        band=str(band),
        opacity="0.75",
        alphaBand="-1",
        classificationMin="0",
        classificationMax=repr(top),
        nodataColor="",
    )
    _sub(_sub(renderer, "rasterTransparency"), "singleValuePixelList")
    _sub(renderer, "minMaxOrigin")
    shader = _sub(renderer, "rastershader")
    ramp = _sub(
        shader,
        "colorrampshader",
        colorRampType="INTERPOLATED",
        classificationMode="3",
        clip="0",
        minimumValue="0",
        maximumValue=repr(top),
        labelPrecision=str(places),
    )
    _sub(ramp, "item", value="0", color="#ffffb2", alpha="0", label=format_number(0))
    for i, (value, colour) in enumerate(zip(stops, RAMP, strict=True)):
        text = format_number(value, decimals=places) + suffix
        alpha = "110" if i == 0 else "255"
        _sub(ramp, "item", value=repr(value), color=colour, alpha=alpha, label=text)
    _sub(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    _sub(pipe, "huesaturation", saturation="0", grayscaleMode="0", colorizeOn="0")
    _sub(root, "blendMode", "0")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>" + ET.tostring(
        root, encoding="unicode"
    )


def _raster_layers(outputs: Outputs, path: Path, language: str) -> list[_Layer]:
    import rasterio

    try:
        link = outputs.folder / path.name
        source = f"./{path.name}" if link.exists() else os.path.relpath(path, outputs.folder)
        with rasterio.open(path) as raster:
            crs = CRS.from_user_input(raster.crs.to_wkt())
            b = raster.bounds
            bounds = (float(b.left), float(b.bottom), float(b.right), float(b.top))
            names = list(raster.descriptions)
            bands = [raster.read(i, masked=True).compressed() for i in range(1, raster.count + 1)]
    except rasterio.errors.RasterioError as exc:
        raise OutputError(f"cannot read the density raster {str(path)!r}: {exc}") from exc
    entry = outputs.manifest.get("rasters", {}).get(path.name) or {}
    names = [n or str(i + 1) for i, n in enumerate(entry.get("bands") or names)]
    title = str(entry.get("title_it" if language == "it" else "title") or _("Commercial density"))
    unit = _("units/ha")
    layers = []
    for i, band_name in enumerate(names, start=1):
        what = _("all categories") if band_name == "all" else label(band_name, kind="category")
        layers.append(
            _Layer(
                layer_id=f"{DENSITY}_{i}_{outputs.district}",
                name=f"{DENSITY}_{band_name}",
                title=f"{title} – {what}",
                kind="raster",
                source=source,
                provider="gdal",
                crs=crs,
                bounds=bounds,
                style=_qml_root(raster_qml(i, np.asarray(bands[i - 1]), unit=unit)),
                shown=False,
                abstract=_(
                    "Kernel density of commercial units ({what}), units per hectare."
                ).format(what=what),
            )
        )
    return layers


def _maplayer(parent: ET.Element, layer: _Layer, rights: str) -> None:
    attrs = {
        "type": layer.kind,
        "hasScaleBasedVisibilityFlag": "0",
        "minScale": "100000000",
        "maxScale": "0",
        "styleCategories": "AllStyleCategories",
    }
    if layer.kind == "vector":
        attrs.update(
            geometry=layer.geometry[0],
            wkbType=layer.geometry[1],
            readOnly="1",
            labelsEnabled="0",
        )
    element = _sub(parent, "maplayer", **attrs)
    _extent(element, "extent", layer.bounds)
    _sub(element, "id", layer.layer_id)
    _sub(element, "datasource", layer.source)
    _sub(element, "layername", layer.title)
    _srs(_sub(element, "srs"), layer.crs)
    metadata = _sub(element, "resourceMetadata")
    _sub(metadata, "title", layer.title)
    _sub(metadata, "abstract", layer.abstract)
    _sub(metadata, "rights", rights)
    _sub(element, "provider", layer.provider, encoding="UTF-8")
    flags = _sub(element, "flags")
    for flag, value in (("Identifiable", "1"), ("Removable", "1"), ("Searchable", "1")):
        _sub(flags, flag, value)
    for child in layer.style:
        if child.tag != "layerGeometryType":
            element.append(child)
    _sub(element, "attribution", rights, href="https://www.openstreetmap.org/copyright")
    if layer.kind == "vector":
        _sub(element, "layerOpacity", "1")


def _tree(parent: ET.Element, groups: dict[str, list[_Layer]], titles: dict[str, str]) -> None:
    root = _sub(parent, "layer-tree-group")
    _option(_sub(root, "customproperties"), {})
    for theme, members in groups.items():
        if not members:
            continue  # a theme with no layer in this district: no empty group
        shown = any(m.shown for m in members)
        group = _sub(
            root,
            "layer-tree-group",
            name=titles[theme],
            checked="Qt::Checked" if shown else "Qt::Unchecked",
            expanded="1" if shown else "0",
        )
        _option(_sub(group, "customproperties"), {})
        vectors = [m for m in members if m.kind == "vector"]
        rasters = [m for m in members if m.kind == "raster"]
        for member in vectors:
            _tree_layer(group, member)
        if rasters:
            sub = _sub(
                group,
                "layer-tree-group",
                name=pgettext("qgis group", "Commercial density by category"),
                checked="Qt::Checked",
                expanded="0",
            )
            _option(_sub(sub, "customproperties"), {})
            for member in rasters:
                _tree_layer(sub, member)


def _tree_layer(parent: ET.Element, layer: _Layer) -> None:
    node = _sub(
        parent,
        "layer-tree-layer",
        id=layer.layer_id,
        name=layer.title,
        source=layer.source,
        providerKey=layer.provider,
        checked="Qt::Checked" if layer.shown else "Qt::Unchecked",
        expanded="1" if layer.shown else "0",
    )
    _option(_sub(node, "customproperties"), {})


def _service(outputs: Outputs) -> str | None:
    """The OGC API address serving this district, from ``OUT/pygeoapi/pygeoapi.yml``."""
    import yaml

    config = outputs.folder.parent / "pygeoapi" / "pygeoapi.yml"
    if not config.is_file():
        return None
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        log.warning("cannot read %s (%s); no OGC API connection in the project", config, exc)
        return None
    resources = data.get("resources") or {}
    prefix = f"{outputs.district}-"
    if not any(str(key).startswith(prefix) for key in resources):
        return None
    url = (data.get("server") or {}).get("url")
    return str(url).rstrip("/") if url else None


def _connection_xml(name: str, url: str) -> bytes:
    """QGIS's export of a WFS / OGC API - Features connection (*Manage connections → Load*)."""
    root = ET.Element("qgsWFSConnections", version="1.0")
    ET.SubElement(
        root,
        "wfs",
        name=name,
        url=url,
        version="OGC_API_FEATURES",
        maxnumfeatures="",
        pagesize="",
        pagingenabled="true",
        ignoreAxisOrientation="0",
        invertAxisOrientation="0",
        username="",
        password="",
    )
    ET.indent(root, space=" ")
    return ("<!DOCTYPE connections>\n" + ET.tostring(root, encoding="unicode") + "\n").encode()


def _project(
    outputs: Outputs,
    layers: list[_Layer],
    *,
    crs: CRS,
    bounds: Sequence[float],
    rights: str,
    service: str | None,
    language: str,
) -> str:
    title = outputs.title
    root = ET.Element("qgis", version=QGIS_VERSION, projectname=title)
    _sub(root, "homePath", path="")
    _sub(root, "title", title)
    _srs(_sub(root, "projectCrs"), crs)
    groups: dict[str, list[_Layer]] = {theme: [] for theme in THEMES}
    for layer in layers:
        groups["commerce" if layer.kind == "raster" else theme_of(layer.name)].append(layer)
    for theme, names in THEMES.items():
        rank = {n: i for i, n in enumerate(names)}
        groups[theme].sort(key=lambda m: (m.kind == "raster", rank.get(m.name, len(rank))))
    _tree(root, groups, _theme_titles())
    canvas = _sub(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    _sub(canvas, "units", "degrees" if crs.is_geographic else "meters")
    _extent(canvas, "extent", bounds)
    _sub(canvas, "rotation", "0")
    _srs(_sub(canvas, "destinationsrs"), crs)
    project_layers = _sub(root, "projectlayers")
    ordered = [m for members in groups.values() for m in members]
    for layer in ordered:
        _maplayer(project_layers, layer, rights)
    order = _sub(root, "layerorder")
    for layer in ordered:
        _sub(order, "layer", id=layer.layer_id)
    properties = _sub(root, "properties")
    _sub(_sub(properties, "Paths"), "Absolute", "false", type="bool")
    measure = _sub(properties, "Measurement")
    _sub(measure, "DistanceUnits", "meters", type="QString")
    _sub(measure, "AreaUnits", "m2", type="QString")
    _sub(_sub(properties, "SpatialRefSys"), "ProjectionsEnabled", "1", type="int")
    if service:
        geodistrict = _sub(properties, "geodistrict")
        _sub(geodistrict, "ogcapi_url", service, type="QString")
    view = _sub(root, "ProjectViewSettings", UseProjectScales="0", rotation="0")
    _sub(view, "Scales")
    default = ET.SubElement(
        view,
        "DefaultViewExtent",
        {k: repr(float(v)) for k, v in zip(("xmin", "ymin", "xmax", "ymax"), bounds, strict=True)},
    )
    _srs(default, crs)
    metadata = _sub(root, "projectMetadata")
    _sub(metadata, "identifier", outputs.district)
    _sub(metadata, "title", title)
    _sub(metadata, "type", "dataset")
    _sub(
        metadata,
        "abstract",
        _(
            "Results of geodistrict for {title}: layers grouped by theme. Map data {credit}."
        ).format(title=title, credit=f"{OSM_ATTRIBUTION}, {OSM_LICENSE}"),
    )
    _sub(metadata, "language", "ITA" if language == "it" else "ENG")
    links = _sub(metadata, "links")
    _sub(
        links,
        "link",
        name="OpenStreetMap copyright",
        type="WWW:LINK",
        url="https://www.openstreetmap.org/copyright",
        description=rights,
        format="",
        mimeType="text/html",
        size="",
    )
    if service:
        _sub(
            links,
            "link",
            name=_("OGC API service of the district"),
            type="OGC:API-Features",
            url=service,
            description=_("Collections {prefix}<layer> of the service.").format(
                prefix=f"{outputs.district}-"
            ),
            format="application/geo+json",
            mimeType="application/json",
            size="",
        )
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def _start_extent(outputs: Outputs, layers: list[_Layer]) -> tuple[float, ...]:
    if outputs.has("study_area"):
        b = outputs.layer("study_area").total_bounds
    else:
        boxes = np.array([layer.bounds for layer in layers])
        b = [boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()]
    pad = 0.03 * max(b[2] - b[0], b[3] - b[1])
    return (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)


def _write_styles_dir(
    outputs: Outputs, vectors: list[_Layer], rasters: list[_Layer], language: str
) -> list[Path]:
    folder = outputs.deliverables_dir() / STYLES_DIR
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {str(folder)!r}: {exc.strerror or exc}") from exc
    written = []
    for layer in vectors:
        frame = outputs.layer(layer.name)
        style: LayerStyle = style_for(layer.name, layer.geometry[1])
        qml = style_qml(style, frame, language=language)
        written.append(write_atomically(folder / f"{layer.name}.qml", qml.encode("utf-8")))
        classes = legend_classes(style, frame, language=language)
        sld = style_sld(style, classes, name=layer.name, title=layer.title)
        written.append(write_atomically(folder / f"{layer.name}.sld", sld.encode("utf-8")))
    if rasters:
        qml = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>" + ET.tostring(
            rasters[0].style, encoding="unicode"
        )
        written.append(write_atomically(folder / f"{DENSITY}.qml", qml.encode("utf-8")))
    return written


def write_project(folder: str | os.PathLike[str]) -> Path:
    """Write the district's QGIS project ``OUT/<district>/<district>.qgz``; returns its path.

    Also writes the layer styles as QML and SLD files in
    ``OUT/<district>/consegna/stili/`` (for layers added from the OGC API
    service) and, when ``OUT/pygeoapi/pygeoapi.yml`` serves the district, the
    connection file ``consegna/connessione_ogcapi.xml``.

    Parameters
    ----------
    folder : path
        ``OUT/<district>``, the output folder of a run.

    Returns
    -------
    Path
        The ``.qgz`` file (a zip holding ``<district>.qgs``).

    Raises
    ------
    OutputError
        If the folder holds no results, no layer can be shown, or a file
        cannot be written.

    Examples
    --------
    >>> import geodistrict as gd, tempfile
    >>> out = gd.run(gd.datasets.sample_config(), out=tempfile.mkdtemp())  # doctest: +SKIP
    >>> write_project(out.folder).name  # doctest: +SKIP
    'sample.qgz'
    """
    outputs = Outputs.open(folder)
    language = outputs.language
    with use_language(language):
        if not outputs.gpkg.is_file():
            raise OutputError(f"{str(outputs.folder)!r} has no GeoPackage {outputs.gpkg.name!r}")
        vectors = _vector_layers(outputs, language)
        density = _density_file(outputs)
        rasters = _raster_layers(outputs, density, language) if density else []
        if not vectors and not rasters:
            raise OutputError(f"{str(outputs.folder)!r} has no layer to put in a QGIS project")
        if rasters:
            rasters[0] = _shown(rasters[0])
        first = next((v for v in vectors if v.name == "study_area"), None) or (
            vectors[0] if vectors else rasters[0]
        )
        crs = first.crs
        bounds = _start_extent(outputs, vectors or rasters)
        rights = f"{OSM_ATTRIBUTION} (ODbL)"
        service = _service(outputs)
        xml = _project(
            outputs,
            vectors + rasters,
            crs=crs,
            bounds=bounds,
            rights=rights,
            service=service,
            language=language,
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{outputs.district}.qgs", xml)
        target = outputs.folder / f"{outputs.district}.qgz"
        write_atomically(target, buffer.getvalue())
        styles = _write_styles_dir(outputs, vectors, rasters, language)
        if service:
            write_atomically(
                outputs.deliverables_dir() / CONNECTION_FILE,
                _connection_xml(f"geodistrict {outputs.district}", service),
            )
        else:
            log.info(
                "no publishing configuration serves %s: no OGC API connection", outputs.district
            )
    log.info(
        "QGIS project %s: %d layers, %d raster bands, %d style files",
        target,
        len(vectors),
        len(rasters),
        len(styles),
    )
    return target


def _shown(layer: _Layer) -> _Layer:
    return replace(layer, shown=True)
