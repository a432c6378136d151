"""Default QGIS styles, stored in the GeoPackage's ``layer_styles`` table.

QGIS reads that table (the convention of its "Save style to database") and
opens each layer with its default style: traffic stress in the usual
green-to-red, priority classes, isochrones by minutes, retail centres by type,
categories by colour.  Styles are QML documents built from small
specifications (:data:`STYLES`): one symbol, categories of an attribute,
classes with a meaning (priority Alta/Media/Bassa, LQ bands), or graduated
classes of a numeric attribute (breaks from the data, bounds rounded and
written as people read them: ``0,19 – 0,46``).

Legends are in the district's language (``language=``, default the current
one).  :func:`layer_colours` gives the same classes as plain data, so that
web maps colour features by the same meaning as QGIS.

Examples
--------
>>> qml = style_qml(LayerStyle("line", single="#888888"))
>>> qml.startswith("<!DOCTYPE qgis")
True
>>> colours = layer_colours("bike_network", language="it")
>>> colours["field"], colours["classes"][0]["label"][:5], colours["classes"][0]["colour"]
('lts', 'LTS 1', '#1a9641')
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from geodistrict.i18n import N_, format_number, gettext, label, pgettext, use_language

log = logging.getLogger(__name__)

__all__ = [
    "CATEGORY_COLOURS",
    "STYLES",
    "LayerStyle",
    "LegendClass",
    "layer_colours",
    "legend_classes",
    "style_for",
    "style_qml",
    "write_styles",
]

#: Traffic-stress colours, LTS 1 (lowest stress) to LTS 4: green to red.
STRESS_COLOURS = ("#1a9641", "#a6d96a", "#fdae61", "#d7191c")
#: A sequential ramp (yellow to dark red) for densities and scores.
RAMP = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
#: Priority of vacant units: high (dark red), medium (orange), low (yellow).
PRIORITY_COLOURS = ("#bd0026", "#fd8d3c", "#fed976")
#: Isochrones, shortest time darkest.
ISOCHRONE_COLOURS = ("#006d2c", "#31a354", "#74c476", "#bae4b3", "#edf8e9")

#: One colour per merchandise category (shared by units, hexagons and web maps).
CATEGORY_COLOURS: dict[str, str] = {
    "food": "#33a02c",
    "fashion": "#e31a1c",
    "personal_services": "#fb9a99",
    "bars_restaurants": "#ff7f00",
    "health_pharmacy": "#1f78b4",
    "household": "#b15928",
    "culture_leisure": "#6a3d9a",
    "electronics": "#a6cee3",
    "professional_services": "#cab2d6",
    "automotive": "#525252",
    "accommodation": "#fdbf6f",
    "other_retail": "#b2df8a",
}

#: Tiers of retail centres (largest first), their labels and colours.
#: Labels come from the status labels (``label(tier, kind="status")``).
TIER_STYLES: dict[str, tuple[str, str]] = {
    "major_town_centre": ("major_town_centre", "#54278f59"),
    "town_centre": ("town_centre", "#756bb159"),
    "district_centre": ("district_centre", "#9e9ac859"),
    "local_centre": ("local_centre", "#bcbddc59"),
    "small_local_centre": ("small_local_centre", "#dadaeb59"),
    "": (N_("Other retail centre"), "#f0f0f059"),
}


@dataclass(frozen=True)
class LegendClass:
    """One class of a legend: a category (``value``) or a range (``lower``-``upper``).

    Ranges hold ``lower <= v <= upper``, the first class that holds wins (as in
    QGIS); ``upper`` may be ``inf``.  ``value`` ``""`` is "all other values".
    """

    label: str
    colour: str
    value: str | None = None
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class LayerStyle:
    """How a layer looks in QGIS.

    Parameters
    ----------
    geometry : {"point", "line", "polygon"}
    single : str, optional
        One colour for every feature.
    attribute : str, optional
        Attribute (or QGIS expression) of a categorized or graduated style.
    categories : mapping, optional
        Attribute value (as text) to (label, colour); the value ``""`` is QGIS's
        "all other values" category.  Labels are English messages translated at
        use, or, with ``label_kind``, come from :func:`geodistrict.i18n.label`.
    graduated : sequence of str, optional
        Colours of equal-count classes of a numeric attribute (low to high).
    size : float
        Point size or line width, in millimetres.
    description : str
        What the style shows (English message, translated at use).
    label_kind : str, optional
        Context of the category labels (``"category"``, ``"status"``).
    ranges : sequence of (lower, upper, label, colour), optional
        Fixed classes with a meaning (labels translated at use).
    classes : callable, optional
        ``classes(data) -> list[LegendClass]``: classes computed from the data
        (priority terciles, the isochrones' minutes), in the current language.
    unit : str
        Unit appended to the bounds of graduated classes (translated at use).
    sld_filters : mapping, optional
        For an expression ``attribute``: category value to (property, literal)
        of the equivalent SLD filter.
    """

    geometry: str
    single: str | None = None
    attribute: str | None = None
    categories: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    graduated: Sequence[str] = ()
    size: float = 0.6
    description: str = ""
    label_kind: str | None = None
    ranges: Sequence[tuple[float, float, str, str]] = ()
    classes: Callable[[pd.DataFrame | None], list[LegendClass]] | None = None
    unit: str = ""
    sld_filters: Mapping[str, tuple[str, str]] = field(default_factory=dict)


def _priority_classes(data: pd.DataFrame | None) -> list[LegendClass]:
    """Alta/Media/Bassa: the top, middle and bottom third of the ranking (``rank`` 1 = first)."""
    ranks = (
        pd.to_numeric(data["rank"], errors="coerce").dropna()
        if data is not None and _has(data, "rank")
        else None
    )
    n = int(ranks.max()) if ranks is not None and len(ranks) else 0
    names = (
        pgettext("priority", "High"),
        pgettext("priority", "Medium"),
        pgettext("priority", "Low"),
    )
    if n == 0:  # no ranking known: the classes by position alone
        return [
            LegendClass(name, colour, lower=lo, upper=hi)
            for name, colour, lo, hi in zip(
                names, PRIORITY_COLOURS, (0.5, 10.5, 20.5), (10.5, 20.5, math.inf), strict=True
            )
        ]
    from geodistrict.priority.classes import priority_cuts  # the one rule of every deliverable

    cuts = [0, *priority_cuts(n), n]
    out = []
    for i, (name, colour) in enumerate(zip(names, PRIORITY_COLOURS, strict=True)):
        first, last = cuts[i] + 1, cuts[i + 1]
        if first > last:
            continue
        where = (
            gettext("rank {first}").format(first=first)
            if first == last
            else gettext("ranks {first}–{last}").format(first=first, last=last)
        )
        out.append(LegendClass(f"{name} – {where}", colour, lower=first - 0.5, upper=last + 0.5))
    return out


def _isochrone_classes(data: pd.DataFrame | None) -> list[LegendClass]:
    """One class per travel time (5, 10, 15 min unless the data has others), shortest darkest."""
    minutes: list[float] = [5, 10, 15]
    if data is not None and _has(data, "minutes"):
        found = pd.to_numeric(data["minutes"], errors="coerce").dropna().unique()
        if len(found):
            minutes = sorted(int(m) if float(m).is_integer() else float(m) for m in found)
    colours = ISOCHRONE_COLOURS[: len(minutes)] if len(minutes) <= 5 else ISOCHRONE_COLOURS
    return [
        LegendClass(
            f"{format_number(m)} min", colours[min(i, len(colours) - 1)] + "59", value=str(m)
        )
        for i, m in enumerate(minutes)
    ]


STYLES: dict[str, LayerStyle] = {
    "study_area": LayerStyle(
        "polygon", single="#00000000", size=0.8, description=N_("Study area")
    ),
    "streets": LayerStyle("line", single="#9e9e9e", size=0.3, description=N_("Streets")),
    "buildings": LayerStyle("polygon", single="#d9d0c9", size=0.1, description=N_("Buildings")),
    "landuse": LayerStyle(
        "polygon",
        attribute="landuse",
        categories={
            "residential": (N_("Residential land"), "#f2dad9"),
            "commercial": (N_("Commercial land"), "#f2c6e0"),
            "retail": (N_("Retail land"), "#fcbbd0"),
            "industrial": (N_("Industrial land"), "#e6d1e3"),
            "grass": (N_("Grassland"), "#cdebb0"),
            "park": (N_("Park"), "#c8facc"),
            "": (N_("Other land use"), "#e0e0e0"),
        },
        description=N_("Land use"),
    ),
    "pois": LayerStyle(
        "point",
        # An expression: QGIS compares GeoPackage booleans as true/false, not 0/1.
        attribute="CASE WHEN \"vacant\" THEN 'vacant' ELSE 'in use' END",
        categories={
            "in use": (N_("Place in use"), "#3182bd"),
            "vacant": (N_("Vacant (OpenStreetMap)"), "#e6550d"),
        },
        size=1.6,
        description=N_("Points of interest, vacant ones in orange"),
        sld_filters={"in use": ("vacant", "false"), "vacant": ("vacant", "true")},
    ),
    "transit_stops": LayerStyle(
        "point",
        attribute="kind",
        categories={
            "station": (N_("Railway station"), "#08306b"),
            "stop": (N_("Bus or tram stop"), "#6baed6"),
        },
        size=2.0,
        description=N_("Public transport stops"),
    ),
    # commerce
    "commercial_units": LayerStyle(
        "point",
        attribute="category",
        categories={
            **{name: (name, colour) for name, colour in CATEGORY_COLOURS.items()},
            "": (N_("Other activities"), "#bdbdbd"),
        },
        label_kind="category",
        size=1.8,
        description=N_("Commercial units by merchandise category"),
    ),
    "commercial_hex": LayerStyle(
        "polygon",
        attribute="units_per_ha",
        graduated=tuple(c + "cc" for c in RAMP),
        size=0.1,
        unit=N_("units/ha"),
        description=N_("Commercial units per hectare (quantiles)"),
    ),
    "street_frontage": LayerStyle(
        "line",
        attribute="units_per_100m",
        graduated=RAMP,
        size=0.9,
        unit=N_("units per 100 m"),
        description=N_("Commercial units per 100 m of street (quantiles)"),
    ),
    "retail_centres": LayerStyle(
        "polygon",
        attribute="tier",
        categories=TIER_STYLES,
        label_kind="status",
        size=0.5,
        description=N_("Retail centres by type"),
    ),
    "category_gaps": LayerStyle(
        "polygon",
        attribute="status",
        categories={
            "missing": ("missing", "#d7191c66"),
            "under-represented": ("under-represented", "#fdae6166"),
            "gap": ("gap", "#d7191c66"),
            "partial": ("partial", "#fdae6166"),
            "as expected": ("as expected", "#bdbdbd33"),
            "covered": ("covered", "#1a964133"),
            "over-represented": ("over-represented", "#2c7bb666"),
            "not tested": ("not tested", "#f0f0f033"),
            "": (N_("Other outcome"), "#f0f0f033"),
        },
        label_kind="status",
        size=0.3,
        description=N_("Missing and under-represented categories"),
    ),
    # vacancy and priority: the top third of the ranking dark red
    "vacant_units": LayerStyle(
        "point",
        attribute="rank",
        classes=_priority_classes,
        size=3.0,
        description=N_("Vacant units by reactivation priority (thirds of the ranking)"),
    ),
    # cycling: stress levels green (LTS 1) to red (LTS 4)
    "bike_network": LayerStyle(
        "line",
        attribute="lts",
        categories={
            "1": (N_("LTS 1 – suitable for everyone, children included"), STRESS_COLOURS[0]),
            "2": (N_("LTS 2 – suitable for most adults"), STRESS_COLOURS[1]),
            "3": (N_("LTS 3 – confident cyclists"), STRESS_COLOURS[2]),
            "4": (N_("LTS 4 – experienced cyclists only"), STRESS_COLOURS[3]),
            "": (N_("Stress level not classified"), "#bdbdbd"),
        },
        size=0.8,
        description=N_("Level of traffic stress (1 lowest, 4 highest)"),
    ),
    "low_stress_islands": LayerStyle(
        "polygon", single="#1a964133", size=0.4, description=N_("Low-stress islands")
    ),
    "bike_gaps": LayerStyle("line", single="#d7191c", size=1.6, description=N_("Gaps to mend")),
    "bike_circuits": LayerStyle(
        "line", single="#6a3d9a", size=1.2, description=N_("Cycling circuit")
    ),
    "info_points": LayerStyle(
        "point", single="#ff7f00", size=3.5, description=N_("Information points")
    ),
    "isochrones": LayerStyle(
        "polygon",
        attribute="minutes",
        classes=_isochrone_classes,
        size=0.3,
        description=N_("Areas reached in 5, 10 and 15 minutes"),
    ),
    # productive district
    "sector_specialisation": LayerStyle(
        "polygon",
        attribute="lq",
        ranges=(
            (-math.inf, 1.0, N_("Below the reference (LQ < 1)"), "#f7f7f799"),
            (1.0, 1.5, N_("Slightly specialised (LQ 1–1.5)"), "#fdae6199"),
            (1.5, 2.0, N_("Specialised (LQ 1.5–2)"), "#f03b2099"),
            (2.0, math.inf, N_("Highly specialised (LQ ≥ 2)"), "#bd002699"),
        ),
        size=0.3,
        description=N_("Sector specialisation (location quotient)"),
    ),
    "service_sites": LayerStyle(
        "point", single="#08519c", size=4.0, description=N_("Sites of shared services")
    ),
    "firm_clusters": LayerStyle(
        "polygon", single="#6a3d9a55", size=0.4, description=N_("Clusters of firms")
    ),
}


def _has(data: pd.DataFrame | None, column: str) -> bool:
    return data is not None and column in data.columns and len(data) > 0


def style_for(name: str, geometry_type: str = "") -> LayerStyle:
    """The style of layer ``name``: its own, or a plain one for its geometry type.

    Examples
    --------
    >>> style_for("bike_network").attribute, style_for("unknown", "POINT").geometry
    ('lts', 'point')
    """
    return STYLES.get(name) or _fallback(geometry_type)


def _bound(value: float) -> str:
    """A class bound rounded as people read it: 42, 5,9, 0,19 (in the current language)."""
    size = abs(value)
    if size >= 10 or float(value).is_integer():
        return format_number(value, decimals=0)
    if size >= 1:
        return format_number(value, decimals=1)
    return format_number(value, decimals=2 if size >= 0.01 else 3)


def _graduated(style: LayerStyle, data: pd.DataFrame | None) -> list[LegendClass]:
    """Equal-count classes; where many values are the lowest (often 0), that value is a class."""
    values = pd.Series(dtype=float)
    if data is not None and style.attribute and _has(data, style.attribute):
        values = pd.to_numeric(data[style.attribute], errors="coerce").dropna()
    colours = list(style.graduated)
    unit = f" {gettext(style.unit)}" if style.unit else ""
    if values.empty:
        return [LegendClass(unit.strip(), colours[-1], lower=-math.inf, upper=math.inf)]
    low = float(values.min())
    floor_class = (values == low).mean() >= 0.2 and (values > low).any()
    rest = values[values > low] if floor_class else values
    n = len(colours) - 1 if floor_class else len(colours)
    edges = sorted({float(v) for v in np.quantile(rest, np.linspace(0, 1, n + 1))})
    out: list[LegendClass] = []
    if floor_class:
        shown = _bound(low)
        out.append(LegendClass(f"{shown}{unit}", colours[0], lower=low, upper=low))
    if len(edges) == 1:
        edges = [edges[0], edges[0]]
    spans = list(itertools.pairwise(edges))
    # the colours of the classes kept, spread over the ramp (darkest for the top class)
    ramp = colours[1:] if floor_class else colours
    picks = [ramp[round(i * (len(ramp) - 1) / max(len(spans) - 1, 1))] for i in range(len(spans))]
    for (lo, hi), colour in zip(spans, picks, strict=True):
        shown_lo, shown_hi = _bound(lo), _bound(hi)
        text = f"{shown_lo}{unit}" if shown_lo == shown_hi else f"{shown_lo} – {shown_hi}{unit}"
        out.append(LegendClass(text, colour, lower=lo, upper=hi))
    return out


def legend_classes(
    style: LayerStyle, data: pd.DataFrame | None = None, *, language: str | None = None
) -> list[LegendClass]:
    """The legend of a style, in ``language`` (default: the current one).

    Parameters
    ----------
    style : LayerStyle
    data : DataFrame, optional
        The layer's attributes: class breaks and data-driven classes come from it.
    language : str, optional

    Examples
    --------
    >>> [c.label for c in legend_classes(STYLES["isochrones"], language="it")]
    ['5 min', '10 min', '15 min']
    """
    with use_language(language):
        if style.classes is not None:
            return style.classes(data)
        if style.categories and style.attribute:
            return [
                LegendClass(
                    label(value, kind=style.label_kind)
                    if style.label_kind and value
                    else gettext(text),
                    colour,
                    value=value,
                )
                for value, (text, colour) in style.categories.items()
            ]
        if style.ranges and style.attribute:
            return [
                LegendClass(gettext(text), colour, lower=lo, upper=hi)
                for lo, hi, text, colour in style.ranges
            ]
        if style.graduated and style.attribute:
            return _graduated(style, data)
        return [
            LegendClass(
                gettext(style.description) if style.description else "", style.single or "#777777"
            )
        ]


def layer_colours(
    layer: str, *, data: pd.DataFrame | None = None, language: str | None = None
) -> dict[str, Any]:
    """How layer ``layer`` is coloured, as plain data for web maps (the QGIS classes).

    Parameters
    ----------
    layer : str
        Layer name (``vacant_units``, ``bike_network``...).
    data : DataFrame, optional
        The layer itself: needed where the classes come from the data (graduated
        breaks, priority thirds, the isochrones' minutes).
    language : str, optional
        Language of the labels (default: the current one).

    Returns
    -------
    dict
        ``kind`` ("single", "categorized" or "graduated"), ``field`` (None for a
        single colour, or a QGIS expression where ``expression`` is true),
        ``description`` and ``classes``: a list of ``{"label", "colour",
        "value"}`` (categories; ``""`` is every other value) or ``{"label",
        "colour", "min", "max"}`` (ranges, ``min <= v <= max``, first match;
        ``None`` is unbounded).  Colours are ``#rrggbb`` with ``opacity`` 0-1.

    Examples
    --------
    >>> import pandas as pd
    >>> ranked = pd.DataFrame({"rank": range(1, 10)})
    >>> c = layer_colours("vacant_units", data=ranked, language="it")
    >>> c["field"], [k["label"] for k in c["classes"]]
    ('rank', ['Alta – posizioni 1–3', 'Media – posizioni 4–6', 'Bassa – posizioni 7–9'])
    """
    style = STYLES.get(layer) or _fallback("")
    classes = legend_classes(style, data, language=language)
    kind = "single"
    if style.attribute and classes and classes[0].value is not None:
        kind = "categorized"
    elif style.attribute and classes and classes[0].lower is not None:
        kind = "graduated"
    with use_language(language):
        description = gettext(style.description) if style.description else ""
    out_classes = []
    for c in classes:
        colour, opacity = _split_colour(c.colour)
        entry: dict[str, Any] = {"label": c.label, "colour": colour, "opacity": opacity}
        if kind == "categorized":
            entry["value"] = c.value
        elif kind == "graduated":
            entry["min"] = c.lower if c.lower is not None and math.isfinite(c.lower) else None
            entry["max"] = c.upper if c.upper is not None and math.isfinite(c.upper) else None
        out_classes.append(entry)
    attribute = style.attribute if kind != "single" else None
    return {
        "layer": layer,
        "kind": kind,
        "field": attribute,
        "expression": bool(attribute) and not _plain_field(attribute or ""),
        "geometry": style.geometry,
        "description": description,
        "classes": out_classes,
    }


def _plain_field(attribute: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", attribute) is not None


def _split_colour(hex_colour: str) -> tuple[str, float]:
    """``#rrggbb[aa]`` as ``(#rrggbb, opacity)``."""
    h = hex_colour.lstrip("#")
    alpha = int(h[6:8], 16) / 255 if len(h) == 8 else 1.0
    return f"#{h[:6].lower()}", round(alpha, 3)


def _colour(hex_colour: str) -> str:
    """``#rrggbb[aa]`` as QGIS's ``r,g,b,a``."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    a = int(h[6:8], 16) if len(h) == 8 else 255
    return f"{r},{g},{b},{a}"


def _symbol(geometry: str, colour: str, size: float, name: str, level: int = 0) -> str:
    c = _colour(colour)
    if geometry == "line":
        layer = (
            f'<layer class="SimpleLine" enabled="1" locked="0" pass="{level}"><Option type="Map">'
            f'<Option name="line_color" type="QString" value="{c}"/>'
            f'<Option name="line_width" type="QString" value="{size}"/>'
            '<Option name="line_width_unit" type="QString" value="MM"/>'
            '<Option name="capstyle" type="QString" value="round"/>'
            "</Option></layer>"
        )
    elif geometry == "point":
        layer = (
            f'<layer class="SimpleMarker" enabled="1" locked="0" pass="{level}">'
            '<Option type="Map"><Option name="name" type="QString" value="circle"/>'
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
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="{level}"><Option type="Map">'
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


def _qml_number(value: float) -> str:
    if math.isinf(value):
        return "1e+300" if value > 0 else "-1e+300"
    return repr(float(value))


def style_qml(
    style: LayerStyle, data: pd.DataFrame | None = None, *, language: str | None = None
) -> str:
    """The QML document of a style, with its legend in ``language`` (default: the current one).

    ``data`` gives the class breaks of graduated styles and data-driven classes.
    """
    classes = legend_classes(style, data, language=language)
    attribute = style.attribute
    if attribute and classes and classes[0].value is not None:
        # Later classes (shorter isochrones) drawn over earlier ones: symbol levels.
        levels = style.classes is not None
        cats = "".join(
            f"<category value={quoteattr(c.value or '')} label={quoteattr(c.label)} "
            f'symbol="{i}" render="true"/>'
            for i, c in enumerate(classes)
        )
        symbols = "".join(
            _symbol(style.geometry, c.colour, style.size, str(i), i if levels else 0)
            for i, c in enumerate(classes)
        )
        renderer = (
            f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attribute)} '
            f'symbollevels="{int(levels)}" enableorderby="0" forceraster="0">'
            f"<categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>"
        )
    elif attribute and classes and classes[0].lower is not None:
        ranges = "".join(
            f'<range lower="{_qml_number(c.lower or 0.0)}" '
            f'upper="{_qml_number(c.upper if c.upper is not None else 0.0)}" symbol="{i}" '
            f'label={quoteattr(c.label)} render="true"/>'
            for i, c in enumerate(classes)
        )
        symbols = "".join(
            _symbol(style.geometry, c.colour, style.size, str(i)) for i, c in enumerate(classes)
        )
        mode = "quantile" if style.graduated else "manual"
        renderer = (
            f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(attribute)} '
            'graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><ranges>{ranges}</ranges><symbols>{symbols}</symbols>'
            f'<mode name="{mode}"/></renderer-v2>'
        )
    else:
        symbol = _symbol(style.geometry, style.single or "#777777", style.size, "0")
        renderer = (
            '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><symbols>{symbol}</symbols></renderer-v2>'
        )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        f'<qgis version="3.22.0" styleCategories="Symbology">{renderer}'
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


def _stored_data(db: sqlite3.Connection, table: str, style: LayerStyle) -> pd.DataFrame | None:
    """The styled attribute of ``table`` as stored, for layers not rewritten by this write."""
    if not style.attribute or not _plain_field(style.attribute):
        return None
    columns = {row[1] for row in db.execute(f'pragma table_info("{table}")')}
    if style.attribute not in columns:
        return None
    rows = db.execute(f'select "{style.attribute}" from "{table}"').fetchall()
    return pd.DataFrame({style.attribute: [r[0] for r in rows]})


def write_styles(
    gpkg: str | Path, layers: Mapping[str, pd.DataFrame], *, language: str | None = None
) -> list[str]:
    """Store the default style of every layer of ``layers`` in ``gpkg``.

    Layers in :data:`STYLES` get their own style, others a plain one for their
    geometry type; legends are in ``language`` (default: the current one).
    Where a frame of ``layers`` lacks the styled attribute (a layer kept from
    an earlier version), its values are read from the GeoPackage.  Replaces
    earlier styles of the same layers; returns the layers styled.
    """
    with sqlite3.connect(gpkg) as db:
        db.execute(_CREATE)
        geometry = {
            table: (column, kind)
            for table, column, kind in db.execute(
                "select table_name, column_name, geometry_type_name from gpkg_geometry_columns"
            )
        }
        styles = {name: style_for(name, geometry[name][1])
                  for name in layers if name in geometry}  # fmt: skip
        styled = list(styles)
        for name in styled:
            style = styles[name]
            data: pd.DataFrame | None = layers[name]
            if style.attribute and (data is None or style.attribute not in data.columns):
                data = _stored_data(db, name, style)
            with use_language(language):
                description = gettext(style.description) if style.description else ""
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
                    style_qml(style, data, language=language),
                    description or f"geodistrict {name}",
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
