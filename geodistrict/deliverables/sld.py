"""Styled Layer Descriptor (SLD 1.1 / SE 1.1) versions of the QGIS styles.

QGIS loads SLD (*Layer properties → Style → Load style*), as do GeoServer,
MapServer and web clients; the classes and colours are the ones of
:func:`geodistrict.styles.legend_classes`, so every client shows the same
meaning.

Examples
--------
>>> from geodistrict.styles import STYLES, legend_classes
>>> style = STYLES["bike_network"]
>>> sld = style_sld(style, legend_classes(style, language="it"), name="bike_network")
>>> "<ogc:Literal>1</ogc:Literal>" in sld and "LTS 1" in sld
True
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from geodistrict.styles import LayerStyle, LegendClass

__all__ = ["style_sld"]

SLD = "http://www.opengis.net/sld"
SE = "http://www.opengis.net/se"
OGC = "http://www.opengis.net/ogc"

ET.register_namespace("sld", SLD)
ET.register_namespace("se", SE)
ET.register_namespace("ogc", OGC)
ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _el(
    parent: ET.Element, ns: str, tag: str, text: str | None = None, **attrs: str
) -> ET.Element:
    element = ET.SubElement(parent, _q(ns, tag), attrs)
    if text is not None:
        element.text = text
    return element


def _split(colour: str) -> tuple[str, str]:
    h = colour.lstrip("#")
    alpha = int(h[6:8], 16) / 255 if len(h) == 8 else 1.0
    return f"#{h[:6]}", f"{alpha:.2f}"


def _param(parent: ET.Element, name: str, value: str) -> None:
    _el(parent, SE, "SvgParameter", value, name=name)


def _symbolizer(rule: ET.Element, geometry: str, colour: str, size: float) -> None:
    fill, opacity = _split(colour)
    if geometry == "line":
        stroke = _el(_el(rule, SE, "LineSymbolizer"), SE, "Stroke")
        _param(stroke, "stroke", fill)
        _param(stroke, "stroke-opacity", opacity)
        _param(stroke, "stroke-width", f"{size * 3.78:.1f}")  # mm to pixels at 96 dpi
        _param(stroke, "stroke-linecap", "round")
    elif geometry == "point":
        graphic = _el(_el(rule, SE, "PointSymbolizer"), SE, "Graphic")
        mark = _el(graphic, SE, "Mark")
        _el(mark, SE, "WellKnownName", "circle")
        fill_el = _el(mark, SE, "Fill")
        _param(fill_el, "fill", fill)
        _param(fill_el, "fill-opacity", opacity)
        stroke = _el(mark, SE, "Stroke")
        _param(stroke, "stroke", "#ffffff")
        _param(stroke, "stroke-width", "0.8")
        _el(graphic, SE, "Size", f"{size * 3.78:.1f}")
    else:
        symbolizer = _el(rule, SE, "PolygonSymbolizer")
        fill_el = _el(symbolizer, SE, "Fill")
        _param(fill_el, "fill", fill)
        _param(fill_el, "fill-opacity", opacity)
        stroke = _el(symbolizer, SE, "Stroke")
        _param(stroke, "stroke", "#505050")
        _param(stroke, "stroke-width", f"{max(size * 1.9, 0.3):.1f}")


def _compare(parent: ET.Element, op: str, prop: str, literal: str) -> None:
    element = _el(parent, OGC, op)
    _el(element, OGC, "PropertyName", prop)
    _el(element, OGC, "Literal", literal)


def _number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def _filter(rule: ET.Element, style: LayerStyle, c: LegendClass) -> None:
    attribute = style.attribute or ""
    if c.value is not None:
        if c.value == "":
            _el(rule, SE, "ElseFilter")
            return
        prop, literal = style.sld_filters.get(c.value, (attribute, c.value))
        _compare(_el(rule, OGC, "Filter"), "PropertyIsEqualTo", prop, literal)
        return
    lower = c.lower if c.lower is not None and math.isfinite(c.lower) else None
    upper = c.upper if c.upper is not None and math.isfinite(c.upper) else None
    if lower is None and upper is None:
        return
    filt = _el(rule, OGC, "Filter")
    target = _el(filt, OGC, "And") if lower is not None and upper is not None else filt
    if lower is not None:
        _compare(target, "PropertyIsGreaterThanOrEqualTo", attribute, _number(lower))
    if upper is not None:
        _compare(target, "PropertyIsLessThanOrEqualTo", attribute, _number(upper))


def style_sld(
    style: LayerStyle, classes: Sequence[LegendClass], *, name: str, title: str = ""
) -> str:
    """The SLD 1.1 document of a style with its legend ``classes`` (one rule per class).

    Parameters
    ----------
    style : LayerStyle
    classes : sequence of LegendClass
        From :func:`geodistrict.styles.legend_classes` (labels already translated).
    name, title : str
        Layer name and the title shown (default: the name).
    """
    root = ET.Element(
        _q(SLD, "StyledLayerDescriptor"),
        {
            "version": "1.1.0",
            "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation": (
                "http://www.opengis.net/sld "
                "http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"
            ),
        },
    )
    layer = _el(root, SLD, "NamedLayer")
    _el(layer, SE, "Name", name)
    user = _el(layer, SLD, "UserStyle")
    _el(user, SE, "Name", name)
    description = _el(user, SE, "Description")
    _el(description, SE, "Title", title or name)
    feature_style = _el(user, SE, "FeatureTypeStyle")
    # Categories with an "all other values" class: SLD's ElseFilter rule comes last.
    ordered = sorted(classes, key=lambda c: c.value == "")
    plain = style.attribute is None or style.attribute.replace("_", "").isalnum()
    for c in ordered:
        rule = _el(feature_style, SE, "Rule")
        _el(rule, SE, "Name", c.label or name)
        _el(_el(rule, SE, "Description"), SE, "Title", c.label or title or name)
        if style.attribute and (plain or style.sld_filters):
            _filter(rule, style, c)
        _symbolizer(rule, style.geometry, c.colour, style.size)
    ET.indent(root, space=" ")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    )
