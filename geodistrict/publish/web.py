"""The service's web pages: offline assets, the district's language, readable tables, atlas.

pygeoapi renders its HTML pages with Jinja2 templates and serves a static
folder; both are configurable (``server.templates``).  This module supplies
what geodistrict's own templates (``publish/templates``) need:

- :data:`TEMPLATES` and :data:`STATIC`: the templates, and the static folder
  with Leaflet, Leaflet.VectorGrid, Bootstrap and Swagger UI vendored (their
  licences beside them),
  so that no page loads anything from another machine;
- :func:`web_section`: for every published layer, the columns a person reads
  (internal ids hidden, one column per language kept) with their labels, the
  date columns, readable labels of category and status values, and the
  colours of the layer's QGIS style (:mod:`geodistrict.styles`), in both
  languages (keys ``lang_it``, ``lang_en``: pygeoapi would replace a dict keyed
  by language codes with one of its values); the templates pick the language
  of the request.  Maps keyed by
  data values are lists of pairs (``[[value, label], ...]``): pygeoapi walks
  its configuration for language structures, and a dict whose keys all look
  like language codes (``{"bar": ...}``) would be mistaken for one;
- :func:`write_catalogue`: the Italian messages of the templates (pygeoapi's
  ``{% trans %}`` texts and ours, from ``locale/it/LC_MESSAGES/*.po``) as the
  compiled ``messages.mo`` pygeoapi reads from ``server.locale_dir``;
- :func:`register_pages`: the district atlas (``/atlas``, ``/atlas/<district>``),
  a full-screen map of every layer with legends, the ranking of the vacant
  units and the cycling circuit with its info points.  Line and polygon layers
  published as vector tiles (``publish --tiles``, :func:`tile_layers`) are
  drawn from their MVT tiles with Leaflet.VectorGrid (vendored), styled with
  the same classes and colours; the other layers, and every layer of a
  district published without tiles, from their GeoJSON items.

Examples
--------
>>> visible_columns(["fid", "name", "category", "category_it", "category_en",
...                  "centre_id", "osm_id"], language="it")
['name', 'category_it']
>>> visible_columns(["explanation", "explanation_it"], language="en")
['explanation']
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from geodistrict.i18n import LANGUAGES, N_, catalogue, format_date, format_number, gettext, label

log = logging.getLogger(__name__)

__all__ = [
    "HIDDEN_COLUMNS",
    "LANGUAGE_TAGS",
    "STATIC",
    "TEMPLATES",
    "layer_colours",
    "register_pages",
    "tile_layers",
    "visible_columns",
    "web_section",
    "write_catalogue",
]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
#: pygeoapi's language tags of the district languages.
LANGUAGE_TAGS = {"it": "it-IT", "en": "en-US"}
#: Internal identifiers and machine columns no page shows.
HIDDEN_COLUMNS = frozenset(
    {"fid", "u", "v", "key", "node", "osmid", "osm_id", "osm_type", "tags", "h3", "cell",
     "bbox", "weights", "geometry_type", "survey_row", "h3_resolution", "osm_key",
     "lts_assumptions", "criteria_omitted"}
)  # fmt: skip
#: Layers drawn as the atlas' background (no tiles from the internet), bottom first.
BACKGROUND = ("study_area", "landuse", "streets")
#: Layers of the atlas, bottom first, and whether they are shown at first.
ATLAS_LAYERS = (
    ("commercial_hex", False), ("retail_centres", True), ("category_gaps", False),
    ("isochrones", False), ("sector_specialisation", False), ("firm_clusters", False),
    ("low_stress_islands", False), ("bike_network", False), ("bike_gaps", False),
    ("bike_circuits", True), ("street_frontage", False), ("commercial_units", False),
    ("transit_stops", False), ("service_sites", False), ("vacant_units", True),
    ("info_points", True),
)  # fmt: skip
#: Most features the atlas draws of one layer (a request per layer, bounded).
ATLAS_LIMIT = 5000
#: Value labels are looked up for text columns with at most this many distinct values.
MAX_LABELLED_VALUES = 60
_VALUE_KINDS = ("category", "status")
_OPTION_LABELS = {
    "weighted_sum": N_("Weighted sum"),
    "topsis": N_("TOPSIS (closeness to the ideal unit)"),
    "walk": N_("On foot"),
    "bike": N_("By bike"),
    "bike_low_stress": N_("By bike, low-stress streets only"),
}


def _base_and_language(column: str) -> tuple[str, str | None]:
    for lang in LANGUAGES:
        if column.endswith(f"_{lang}"):
            return column[: -len(lang) - 1], lang
    return column, None


def visible_columns(columns: Iterable[str], *, language: str) -> list[str]:
    """The columns a page shows in ``language``: no internal ids, one column per language.

    ``X_it`` is shown instead of ``X`` and ``X_en`` in Italian; ``X_en`` (or
    ``X``) in English.  Internal ids are :data:`HIDDEN_COLUMNS` and ``*_id``.
    """
    names = [c for c in columns if c != "geometry"]
    present = set(names)
    shown = []
    for column in names:
        if column in HIDDEN_COLUMNS or column.endswith("_id"):
            continue
        _base, lang = _base_and_language(column)
        if lang is not None:
            if lang != language:
                continue
        elif f"{column}_{language}" in present:
            continue  # the language's own column is shown instead
        elif language != "en" and any(f"{column}_{x}" in present for x in LANGUAGES):
            continue  # only another language's version: the machine column stays hidden
        shown.append(column)
    if language == "en":  # X and X_en both English: keep one
        shown = [c for c in shown if not (c.endswith("_en") and c[:-3] in shown)]
    return shown


def _known_label(value: str, language: str) -> str | None:
    """A translated label of a category or status value, or None when nobody labelled it."""
    for kind in _VALUE_KINDS:
        for lang in (language, "en"):
            found = catalogue(lang).get((kind, value))
            if isinstance(found, str):
                return found
    return None


def _geometry(types: Iterable[str]) -> str:
    kind = " ".join(types).upper()
    if "POINT" in kind:
        return "point"
    if "LINE" in kind:
        return "line"
    return "polygon"


def _hex(colour: str) -> tuple[str, float]:
    """``#rrggbb[aa]`` as (``#rrggbb``, opacity)."""
    text = colour.strip()
    if len(text) == 9:
        return text[:7], round(int(text[7:9], 16) / 255, 3)
    return text[:7], 1.0


def _number_label(low: float, high: float, language: str) -> str:
    def fmt(x: float) -> str:
        return format_number(x, decimals=0 if abs(x) >= 100 else 2, language=language)

    return f"{fmt(low)} – {fmt(high)}"


def _fallback_colours(name: str, frame: Any, language: str) -> dict[str, Any]:
    """Colours of a layer from its QGIS style (:data:`geodistrict.styles.STYLES`)."""
    import numpy as np
    import pandas as pd

    from geodistrict.styles import STYLES

    def _breaks(values: Any, n: int) -> list[float]:
        finite = pd.to_numeric(values, errors="coerce").dropna()
        if finite.empty:
            return [0.0] * (n + 1)
        return [float(v) for v in np.quantile(finite, np.linspace(0, 1, n + 1))]

    style = STYLES.get(name)
    if style is None:
        return {"field": None, "classes": [{"value": None, "label": "", "colour": "#636363"}]}
    if style.categories and style.attribute:
        field = style.attribute
        categories = dict(style.categories)
        if field not in getattr(frame, "columns", []) and "vacant" in getattr(
            frame, "columns", []
        ):
            field = "vacant"  # the QGIS expression on the boolean column
            categories = {"false": categories.get("in use", ("", "#3182bd")),
                          "true": categories.get("vacant", ("", "#e6550d"))}  # fmt: skip
        classes = []
        for value, (text, colour) in categories.items():
            shown = _known_label(value, language) if value else None
            if shown is None:
                shown = gettext("other", language=language) if value == "" else text
            classes.append({"value": value, "label": shown, "colour": colour})
        return {"field": field, "classes": classes}
    if style.graduated and style.attribute and style.attribute in getattr(frame, "columns", []):
        edges = _breaks(frame[style.attribute], len(style.graduated))
        return {
            "field": style.attribute,
            "classes": [
                {"min": edges[i], "max": edges[i + 1], "colour": colour,
                 "label": _number_label(edges[i], edges[i + 1], language)}
                for i, colour in enumerate(style.graduated)
            ],
        }  # fmt: skip
    return {"field": None, "classes": [{"value": None, "label": "", "colour": style.single}]}


def layer_colours(name: str, frame: Any = None, *, language: str) -> dict[str, Any]:
    """The colours of a layer's QGIS style for web maps: field and classes.

    From :func:`geodistrict.styles.layer_colours` (class breaks from ``frame``), else from the
    style table.  Each class has a ``colour`` (``#rrggbb``), an ``opacity``, a
    ``label`` and either a ``value`` (categories; ``""`` is every other value,
    ``None`` every feature) or ``min``/``max`` (classes of a number).
    """
    from geodistrict import styles

    spec: dict[str, Any] | None = None
    styles_colours: Any = getattr(styles, "layer_colours", None)
    if styles_colours is not None:
        try:
            spec = dict(styles_colours(name, data=frame, language=language))
        except Exception as exc:  # a layer the styles do not know, or another interface
            log.debug("styles.layer_colours(%r) failed: %s", name, exc)
            spec = None
    if not spec or not spec.get("classes"):
        spec = _fallback_colours(name, frame, language)
    columns = set(getattr(frame, "columns", []))
    field = spec.get("field")
    renamed = {"vacant": "true", "in use": "false"}  # QGIS's expression on the boolean
    if field and columns and field not in columns and "vacant" in columns:
        field = "vacant"
        spec = dict(spec, classes=[
            dict(c, value=renamed.get(str(c.get("value")), c.get("value")))
            for c in spec.get("classes", [])
        ])  # fmt: skip
    classes = []
    for item in spec.get("classes", []):
        entry = dict(item)
        value = entry.get("value")
        if isinstance(value, list | tuple) and len(value) == 2 and "min" not in entry:
            entry["min"], entry["max"] = value
            entry.pop("value")
        elif value is not None and "min" not in entry:
            entry["value"] = str(value).lower() if isinstance(value, bool) else str(value)
        colour, opacity = _hex(str(entry.get("colour") or entry.get("color") or "#636363"))
        entry["colour"], entry["opacity"] = colour, entry.get("opacity", opacity)
        entry["label"] = str(entry.get("label", ""))
        classes.append(entry)
    return {"field": field, "classes": classes}


def _collection_web(folder: Path, name: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """What the templates need of one layer, in every language."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / entry["parquet"]
    schema = pq.read_schema(path)
    columns = [c for c in schema.names if c not in ("geometry", "bbox")]
    dates = [f.name for f in schema if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)]
    texts = [
        f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    distinct: dict[str, list[str]] = {}
    frame = None
    try:
        import geopandas as gpd

        frame = gpd.read_parquet(path)
        for column in texts:
            values = frame[column].dropna().unique()
            if 0 < len(values) <= MAX_LABELLED_VALUES:
                distinct[column] = sorted(str(v) for v in values)
    except Exception as exc:  # an unreadable file: the page shows the raw values
        log.warning("cannot read %s for the web pages: %s", path, exc)
    web: dict[str, Any] = {
        "district": None, "layer": name, "dates": dates,
        "geometry": _geometry(entry.get("geometry_types") or []),
        "columns": {}, "values": {}, "colours": {},
    }  # fmt: skip
    for lang in LANGUAGES:
        shown = visible_columns(columns, language=lang)
        web["columns"][f"lang_{lang}"] = [
            [c, label(c, kind="column", language=lang)] for c in shown
        ]
        pairs = []
        for column, values in distinct.items():
            known = [[v, _known_label(v, lang)] for v in values]
            known = [[v, text] for v, text in known if text is not None]
            if known:
                pairs.append([column, known])
        web["values"][f"lang_{lang}"] = pairs
        web["colours"][f"lang_{lang}"] = layer_colours(name, frame, language=lang)
    return web


def web_section(folders: Mapping[str, Path], manifests: Mapping[str, Mapping[str, Any]]) -> dict:
    """The ``geodistrict`` section of the pygeoapi configuration, read by the templates.

    Parameters
    ----------
    folders, manifests : mapping
        District id to its output folder and to its manifest (``layers.json``).
    """
    from geodistrict.priority.definitions import CRITERIA, PRESETS

    collections: dict[str, Any] = {}
    districts: dict[str, Any] = {}
    for district, manifest in manifests.items():
        folder = folders[district]
        layers = manifest.get("layers", {})
        for name, entry in layers.items():
            web = _collection_web(folder, name, entry)
            web["district"] = district
            collections[f"{district}-{name}"] = web
        bbox = (layers.get("study_area") or {}).get("bbox_crs84")
        districts[district] = {
            "title": manifest.get("title", district),
            "language": manifest.get("language", "it"),
            "bbox": bbox or next((e["bbox_crs84"] for e in layers.values()), None),
            "background": [n for n in BACKGROUND if n in layers],
            "layers": [[n, shown] for n, shown in ATLAS_LAYERS if n in layers],
            "titles": {
                f"lang_{lang}": [[n, e.get("title_it" if lang == "it" else "title", n)]
                       for n, e in layers.items()]
                for lang in LANGUAGES
            },
        }  # fmt: skip
    options = {f"lang_{lang}": [[k, gettext(v, language=lang)] for k, v in _OPTION_LABELS.items()]
               for lang in LANGUAGES}  # fmt: skip
    for lang in LANGUAGES:
        options[f"lang_{lang}"] += [[p.name, p.title_it if lang == "it" else p.title_en]
                          for p in PRESETS.values()]  # fmt: skip
    criteria = {
        f"lang_{lang}": [[c, label(c, kind="criterion", language=lang)
                if catalogue(lang).get(("criterion", c)) or catalogue("en").get(("criterion", c))
                else CRITERIA[c].label] for c in CRITERIA]
        for lang in LANGUAGES
    }  # fmt: skip
    from geodistrict.publish.processes import PROCESS_TITLES

    processes = {f"lang_{lang}": [[pid, titles[1] if lang == "it" else titles[0]]
                        for pid, titles in PROCESS_TITLES.items()]
                 for lang in LANGUAGES}  # fmt: skip
    return {
        "web": {
            "districts": districts,
            "processes": processes,
            "collections": collections,
            "options": options,
            "criteria": criteria,
            "atlas_limit": ATLAS_LIMIT,
        }
    }


def write_catalogue(folder: str | os.PathLike[str]) -> Path:
    """Compile the Italian catalogue into ``folder/it/LC_MESSAGES/messages.mo``; return ``folder``.

    pygeoapi translates its templates' ``{% trans %}`` texts with the ``messages``
    domain of ``server.locale_dir``; English needs no catalogue (the texts are English).
    """
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from geodistrict.i18n import DOMAIN_DIR

    target = Path(folder)
    for lang in LANGUAGES:
        if lang == "en":
            continue
        merged = Catalog(locale=lang, domain="messages")
        for (context, msgid), value in catalogue(lang).items():
            if isinstance(value, str):
                merged.add(msgid, value, context=context)
        buffer = io.BytesIO()
        write_mo(buffer, merged)
        path = target / lang / DOMAIN_DIR / "messages.mo"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".messages.{os.getpid()}.tmp")
        tmp.write_bytes(buffer.getvalue())
        os.replace(tmp, path)
    return target


# ---------------------------------------------------------------------------- the atlas


def _ranking(folder: Path, entry: Mapping[str, Any], language: str, top: int = 10) -> list:
    """The best ``top`` vacant units as rows of readable text (the atlas' table)."""
    import pandas as pd

    frame = pd.read_parquet(folder / entry["parquet"])
    if "rank" not in frame or frame.empty:
        return []
    frame = frame.sort_values("rank").head(top)
    suffix = "_it" if language == "it" else ""
    rows = []
    for _, row in frame.iterrows():
        place = " – ".join(str(row[c]) for c in ("name", "address") if c in row and _text(row[c]))
        uses = row.get(f"recommended_uses{suffix}", row.get("recommended_uses"))
        rows.append(
            {
                "rank": int(row["rank"]),
                "place": place or gettext("(no name)", language=language),
                "score": format_number(row.get("score"), decimals=2, language=language),
                "since": format_date(row.get("vacant_since"), language=language)
                if "vacant_since" in row
                else "",
                "why": _text(row.get(f"explanation{suffix}", row.get("explanation"))),
                "uses": _text(uses),
            }
        )
    return rows


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _info_points(folder: Path, entry: Mapping[str, Any], language: str) -> list[dict[str, str]]:
    import pandas as pd

    frame = pd.read_parquet(folder / entry["parquet"])
    rows = []
    for i, (_, row) in enumerate(frame.iterrows(), start=1):
        rows.append(
            {
                "n": str(i),
                "near": _text(row.get("near")),
                "share": format_number(100 * float(row.get("covered_share") or 0), decimals=1,
                                       language=language) + " %",
            }
        )  # fmt: skip
    return rows


def register_pages(app: Any) -> None:
    """Add the atlas pages (``/atlas``, ``/atlas/<district>``) to pygeoapi's Flask app."""
    from flask import Response, request
    from pygeoapi.api import APIRequest
    from pygeoapi.flask_app import api_
    from pygeoapi.util import render_j2_template

    from geodistrict.store import read_manifest

    def atlas(district: str | None = None) -> Response:
        web = (api_.config.get("geodistrict") or {}).get("web") or {}
        districts = web.get("districts") or {}
        if not districts:
            return Response("no district is published", status=404, mimetype="text/plain")
        district = district or next(iter(districts))
        if district not in districts:
            known = ", ".join(sorted(districts))
            return Response(f"unknown district {district!r}; published: {known}",
                            status=404, mimetype="text/plain")  # fmt: skip
        api_request = APIRequest.from_flask(request, api_.locales)
        locale = api_request.locale
        language = locale.language if locale.language in LANGUAGES else "en"
        folder = _district_folder(api_.config, district)
        ranking: list = []
        points: list = []
        if folder is not None:
            manifest = read_manifest(folder)
            layers = manifest.get("layers", {})
            if "vacant_units" in layers:
                ranking = _ranking(folder, layers["vacant_units"], language)
            if "info_points" in layers:
                points = _info_points(folder, layers["info_points"], language)
        data = {
            "district": district,
            "title": districts[district]["title"],
            "ranking": ranking,
            "info_points": points,
            "language": language,
            "totem": request.args.get("totem") in ("1", "true", "yes"),
            "tiles": tile_layers(api_.config, district),
            "links": [],
        }
        html = render_j2_template(
            api_.tpl_config, api_.config["server"].get("templates"), "atlas.html", data, locale
        )
        headers = api_request.get_response_headers(force_type="text/html")
        return Response(html, status=200, headers=headers)

    if "geodistrict_atlas" not in app.view_functions:
        app.add_url_rule("/atlas", "geodistrict_atlas", atlas)
        app.add_url_rule("/atlas/<district>", "geodistrict_atlas_district", atlas)


def tile_layers(config: Mapping[str, Any], district: str) -> dict[str, dict[str, Any]]:
    """The district's layers served as vector tiles, as the atlas draws them.

    A layer is listed when its collection has a ``tile`` provider (``publish --tiles``:
    pre-built files, or PostGIS on request); the atlas draws the others from their
    GeoJSON items.

    Parameters
    ----------
    config : mapping
        The pygeoapi configuration (with the ``geodistrict`` section of :func:`web_section`).
    district : str
        District id.

    Returns
    -------
    dict
        Layer name -> ``url`` (the OGC API - Tiles ``{z}/{x}/{y}`` template of the
        WebMercatorQuad tiles), ``zooms`` (``[min, max]``) and ``bbox`` (WGS84).

    Examples
    --------
    >>> tile = {"type": "tile", "options": {"zoom": {"min": 10, "max": 16}}}
    >>> config = {"server": {"url": "http://h"},
    ...           "geodistrict": {"web": {"collections": {"d-streets": {"district": "d",
    ...                                                                  "layer": "streets"}}}},
    ...           "resources": {"d-streets": {
    ...               "extents": {"spatial": {"bbox": [1, 2, 3, 4]}},
    ...               "providers": [{"type": "feature"}, tile]}}}
    >>> tile_layers(config, "d")["streets"]["url"]
    'http://h/collections/d-streets/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt'
    >>> tile_layers(config, "other")
    {}
    """
    web = (config.get("geodistrict") or {}).get("web") or {}
    resources = config.get("resources") or {}
    url = str((config.get("server") or {}).get("url", "")).rstrip("/")
    found: dict[str, dict[str, Any]] = {}
    for collection, entry in (web.get("collections") or {}).items():
        if entry.get("district") != district or collection not in resources:
            continue
        resource = resources[collection]
        for provider in resource.get("providers") or []:
            if provider.get("type") != "tile":
                continue
            zoom = (provider.get("options") or {}).get("zoom") or {}
            found[str(entry["layer"])] = {
                "url": f"{url}/collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
                "?f=mvt",
                "zooms": [int(zoom.get("min", 0)), int(zoom.get("max", 22))],
                "bbox": ((resource.get("extents") or {}).get("spatial") or {}).get("bbox"),
            }
            break
    return found


def _district_folder(config: Mapping[str, Any], district: str) -> Path | None:
    """The output folder of a published district (from its processes' definitions)."""
    for resource in config.get("resources", {}).values():
        if resource.get("type") != "process":
            continue
        folder = (resource.get("processor") or {}).get("districts", {}).get(district)
        if folder:
            return Path(folder)
    return None
