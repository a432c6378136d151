"""Default QGIS styles, stored in the GeoPackage's ``layer_styles`` table.

QGIS reads that table (the convention of its "Save style to database") and
opens each layer with its default style: traffic stress in the usual
green-to-red, density ramps, priority classes.  Styles are QML documents built
from small specifications: one symbol, categories of an attribute, or graduated
classes of a numeric attribute (class breaks from the data).

Examples
--------
>>> qml = style_qml(LayerStyle("line", single="#888888"))
>>> qml.startswith("<!DOCTYPE qgis")
True
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["STYLES", "LayerStyle", "style_qml", "write_styles"]

#: Traffic-stress colours, LTS 1 (lowest stress) to LTS 4: green to red.
STRESS_COLOURS = ("#1a9641", "#a6d96a", "#fdae61", "#d7191c")
#: A sequential ramp (yellow to dark red) for densities and scores.
RAMP = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


@dataclass(frozen=True)
class LayerStyle:
    """How a layer looks in QGIS.

    Parameters
    ----------
    geometry : {"point", "line", "polygon"}
    single : str, optional
        One colour for every feature.
    attribute : str, optional
        Attribute of a categorized or graduated style.
    categories : mapping, optional
        Attribute value (as text) to (label, colour); the value ``""`` is QGIS's
        "all other values" category.
    graduated : sequence of str, optional
        Colours of equal-count classes of a numeric attribute (low to high).
    size : float
        Point size or line width, in millimetres.
    """

    geometry: str
    single: str | None = None
    attribute: str | None = None
    categories: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    graduated: Sequence[str] = ()
    size: float = 0.6
    description: str = ""


STYLES: dict[str, LayerStyle] = {
    "study_area": LayerStyle("polygon", single="#00000000", size=0.8),
    "streets": LayerStyle("line", single="#9e9e9e", size=0.3),
    "buildings": LayerStyle("polygon", single="#d9d0c9", size=0.1),
    "landuse": LayerStyle(
        "polygon",
        attribute="landuse",
        categories={
            "residential": ("residential", "#f2dad9"),
            "commercial": ("commercial", "#f2c6e0"),
            "retail": ("retail", "#fcbbd0"),
            "industrial": ("industrial", "#e6d1e3"),
            "grass": ("grass", "#cdebb0"),
            "park": ("park", "#c8facc"),
            "": ("other", "#e0e0e0"),
        },
    ),
    "pois": LayerStyle(
        "point",
        # An expression: QGIS compares GeoPackage booleans as true/false, not 0/1.
        attribute="CASE WHEN \"vacant\" THEN 'vacant' ELSE 'in use' END",
        categories={"in use": ("in use", "#3182bd"), "vacant": ("vacant (OSM)", "#e6550d")},
        size=1.6,
    ),
    "transit_stops": LayerStyle(
        "point",
        attribute="kind",
        categories={"station": ("station", "#08306b"), "stop": ("stop", "#6baed6")},
        size=2.0,
    ),
    # commerce
    "commercial_units": LayerStyle(
        "point",
        attribute="category",
        categories={
            name: (name.replace("_", " "), colour)
            for name, colour in zip(
                [
                    "food",
                    "fashion",
                    "personal_services",
                    "bars_restaurants",
                    "health_pharmacy",
                    "household",
                    "culture_leisure",
                    "electronics",
                    "professional_services",
                    "automotive",
                    "accommodation",
                    "other_retail",
                    "",
                ],
                [
                    "#33a02c",
                    "#e31a1c",
                    "#fb9a99",
                    "#ff7f00",
                    "#1f78b4",
                    "#b15928",
                    "#6a3d9a",
                    "#a6cee3",
                    "#cab2d6",
                    "#525252",
                    "#fdbf6f",
                    "#b2df8a",
                    "#bdbdbd",
                ],
                strict=True,
            )
        },
        size=1.8,
        description="Commercial units by merchandise category",
    ),
    "commercial_hex": LayerStyle(
        "polygon",
        attribute="units_per_ha",
        graduated=tuple(c + "cc" for c in RAMP),
        size=0.1,
        description="Commercial units per hectare (quantiles)",
    ),
    "street_frontage": LayerStyle(
        "line",
        attribute="units_per_100m",
        graduated=RAMP,
        size=0.9,
        description="Commercial units per 100 m of street (quantiles)",
    ),
    "retail_centres": LayerStyle(
        "polygon",
        attribute="n_units",
        graduated=tuple(c + "99" for c in RAMP),
        size=0.5,
        description="Retail centres by number of units (quantiles)",
    ),
    "category_gaps": LayerStyle(
        "polygon",
        attribute="status",
        categories={
            "missing": ("missing", "#d7191c66"),
            "under-represented": ("under-represented", "#fdae6166"),
            "as expected": ("as expected", "#bdbdbd33"),
            "over-represented": ("over-represented", "#2c7bb666"),
            "not tested": ("not tested", "#f0f0f033"),
            "": ("other", "#f0f0f033"),
        },
        size=0.3,
    ),
    # vacancy and priority: the higher the score, the darker (top priority dark red)
    "vacant_units": LayerStyle(
        "point",
        attribute="score",
        graduated=RAMP,
        size=3.0,
        description="Vacant units by reactivation priority score (quantile classes)",
    ),
    # cycling: stress levels green (LTS 1) to red (LTS 4)
    "bike_network": LayerStyle(
        "line",
        attribute="lts",
        categories={
            **{str(i + 1): (f"LTS {i + 1}", c) for i, c in enumerate(STRESS_COLOURS)},
            "": ("unknown", "#bdbdbd"),
        },
        size=0.8,
        description="Level of traffic stress (1 lowest, 4 highest)",
    ),
    "low_stress_islands": LayerStyle("polygon", single="#1a964133", size=0.4),
    "bike_gaps": LayerStyle("line", single="#d7191c", size=1.6),
    "bike_circuits": LayerStyle("line", single="#6a3d9a", size=1.2),
    "info_points": LayerStyle("point", single="#ff7f00", size=3.5),
    "isochrones": LayerStyle(
        "polygon", attribute="minutes", graduated=tuple(c + "55" for c in RAMP[:3]), size=0.3
    ),
    # productive district
    "sector_specialisation": LayerStyle(
        "polygon", attribute="lq", graduated=tuple(c + "99" for c in RAMP), size=0.3
    ),
    "service_sites": LayerStyle("point", single="#08519c", size=4.0),
    "firm_clusters": LayerStyle("polygon", single="#6a3d9a55", size=0.4),
}


def _colour(hex_colour: str) -> str:
    """``#rrggbb[aa]`` as QGIS's ``r,g,b,a``."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    a = int(h[6:8], 16) if len(h) == 8 else 255
    return f"{r},{g},{b},{a}"


def _symbol(geometry: str, colour: str, size: float, name: str) -> str:
    c = _colour(colour)
    if geometry == "line":
        layer = (
            '<layer class="SimpleLine" enabled="1" locked="0" pass="0"><Option type="Map">'
            f'<Option name="line_color" type="QString" value="{c}"/>'
            f'<Option name="line_width" type="QString" value="{size}"/>'
            '<Option name="line_width_unit" type="QString" value="MM"/>'
            '<Option name="capstyle" type="QString" value="round"/>'
            "</Option></layer>"
        )
    elif geometry == "point":
        layer = (
            '<layer class="SimpleMarker" enabled="1" locked="0" pass="0"><Option type="Map">'
            '<Option name="name" type="QString" value="circle"/>'
            f'<Option name="color" type="QString" value="{c}"/>'
            '<Option name="outline_color" type="QString" value="255,255,255,255"/>'
            '<Option name="outline_width" type="QString" value="0.2"/>'
            f'<Option name="size" type="QString" value="{size}"/>'
            '<Option name="size_unit" type="QString" value="MM"/>'
            "</Option></layer>"
        )
    else:
        outline = "0,0,0,255" if colour.endswith("00") and len(colour) == 9 else "80,80,80,255"
        layer = (
            '<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">'
            f'<Option name="color" type="QString" value="{c}"/>'
            f'<Option name="outline_color" type="QString" value="{outline}"/>'
            f'<Option name="outline_width" type="QString" value="{size / 2}"/>'
            '<Option name="outline_width_unit" type="QString" value="MM"/>'
            '<Option name="style" type="QString" value="solid"/>'
            "</Option></layer>"
        )
    kind = {"line": "line", "point": "marker", "polygon": "fill"}[geometry]
    return (
        f'<symbol type="{kind}" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f"{layer}</symbol>"
    )


def _breaks(values: pd.Series, n: int) -> list[float]:
    finite = pd.to_numeric(values, errors="coerce").dropna()
    if finite.empty:
        return [0.0] * (n + 1)
    return [float(v) for v in np.quantile(finite, np.linspace(0, 1, n + 1))]


def style_qml(style: LayerStyle, data: pd.DataFrame | None = None) -> str:
    """The QML document of a style; ``data`` gives the class breaks of graduated styles."""
    if style.categories and style.attribute:
        cats = "".join(
            f"<category value={quoteattr(value)} label={quoteattr(label)} "
            f'symbol="{i}" render="true"/>'
            for i, (value, (label, _)) in enumerate(style.categories.items())
        )
        symbols = "".join(
            _symbol(style.geometry, colour, style.size, str(i))
            for i, (_, colour) in enumerate(style.categories.values())
        )
        renderer = (
            f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(style.attribute)} '
            'symbollevels="0" enableorderby="0" forceraster="0">'
            f"<categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>"
        )
    elif style.graduated and style.attribute:
        values = data[style.attribute] if data is not None and style.attribute in data else None
        edges = _breaks(
            values if values is not None else pd.Series(dtype=float), len(style.graduated)
        )
        ranges = "".join(
            f'<range lower="{edges[i]}" upper="{edges[i + 1]}" symbol="{i}" '
            f'label="{edges[i]:.3g} - {edges[i + 1]:.3g}" render="true"/>'
            for i in range(len(style.graduated))
        )
        symbols = "".join(
            _symbol(style.geometry, colour, style.size, str(i))
            for i, colour in enumerate(style.graduated)
        )
        renderer = (
            f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(style.attribute)} '
            'graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><ranges>{ranges}</ranges><symbols>{symbols}</symbols>'
            '<mode name="quantile"/></renderer-v2>'
        )
    else:
        symbol = _symbol(style.geometry, style.single or "#777777", style.size, "0")
        renderer = (
            '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><symbols>{symbol}</symbols></renderer-v2>'
        )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        f'<qgis version="3.28.0" styleCategories="Symbology">{renderer}'
        "<layerGeometryType>"
        + {"point": "0", "line": "1", "polygon": "2"}[style.geometry]
        + "</layerGeometryType></qgis>"
    )


def _fallback(geometry_type: str) -> LayerStyle:
    """A plain style for layers without a specific one, from the GeoPackage geometry type."""
    kind = geometry_type.upper()
    if "POINT" in kind:
        return LayerStyle("point", single="#636363", size=1.4)
    if "LINE" in kind or ("CURVE" in kind and "POLYGON" not in kind):
        return LayerStyle("line", single="#636363", size=0.5)
    return LayerStyle("polygon", single="#63636380", size=0.3)


_CREATE = """
create table if not exists layer_styles (
  id integer primary key autoincrement, f_table_catalog text(256), f_table_schema text(256),
  f_table_name text(256), f_geometry_column text(256), styleName text(30), styleQML text,
  styleSLD text, useAsDefault boolean, description text, owner text(30), ui text(30),
  update_time datetime default current_timestamp
)"""


def write_styles(gpkg: str | Path, layers: Mapping[str, pd.DataFrame]) -> list[str]:
    """Store the default style of every layer of ``layers`` in ``gpkg``.

    Layers in :data:`STYLES` get their own style, others a plain one for their
    geometry type.  Replaces earlier styles of the same layers; returns the
    layers styled.
    """
    with sqlite3.connect(gpkg) as db:
        db.execute(_CREATE)
        geometry = {
            table: (column, kind)
            for table, column, kind in db.execute(
                "select table_name, column_name, geometry_type_name from gpkg_geometry_columns"
            )
        }
        styles = {name: STYLES.get(name) or _fallback(geometry[name][1])
                  for name in layers if name in geometry}  # fmt: skip
        styled = list(styles)
        for name in styled:
            db.execute("delete from layer_styles where f_table_name = ?", (name,))
            db.execute(
                "insert into layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, useAsDefault, description, owner, "
                "update_time) "
                "values ('', '', ?, ?, ?, ?, 1, ?, 'geodistrict', "
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                (
                    name,
                    geometry[name][0],
                    f"geodistrict {name}",
                    style_qml(styles[name], layers[name]),
                    styles[name].description or f"Default style of {name}",
                ),
            )
        # GeoPackage readers expect extension tables to be registered as attributes.
        db.execute(
            "insert into gpkg_contents (table_name, data_type, identifier) "
            "select 'layer_styles', 'attributes', 'layer_styles' where not exists "
            "(select 1 from gpkg_contents where table_name = 'layer_styles')"
        )
    log.info("styled %d layers in %s", len(styled), gpkg)
    return styled
