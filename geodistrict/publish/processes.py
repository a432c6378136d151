"""OGC API - Processes: thin pygeoapi processors over the library functions.

- ``rank-vacant-units``: weights in, the district's vacant units re-ranked
  (:func:`geodistrict.priority.rank_from_folder`) with explanations out;
- ``isochrone``: a point, a mode and minutes in, isochrone polygons out
  (:func:`geodistrict.cycling.isochrones`);
- ``category-gaps``: a polygon in, its missing and under-represented
  merchandise categories out (:func:`geodistrict.commerce.category_gaps`).

Each processor's definition names the district output folders it may use
(``districts: {id: folder}``).  Bad inputs raise :class:`ProcessInputError`,
which pygeoapi answers with HTTP 400 and the message.  Outputs are GeoJSON in
CRS84 with the OpenStreetMap attribution.

What the processes read from a district's outputs is kept in memory per
**file version** (path, inode, modification time in ns and size, as
:func:`geodistrict.publish.snapshots.file_version` gives it), at most
:data:`MEMO_ENTRIES` things per server process, least recently used going
first: a new run switches the ``current`` link, the same path leads to
another file and the next request reads it, without a restart.
``rank-vacant-units`` keeps, per version of the ``vacant_units`` layer, a
:class:`~geodistrict.priority.rerank.Reranker` (the criteria imputed once,
the other presets' ranks and the words of every value) and the layer's
constant part already as GeoJSON, so a request costs the scores, the ranks
and the explanations of its weights; the answer is the one
:func:`~geodistrict.priority.rank_from_folder` gives (``_rank_reference``).
``category-gaps`` keeps the ``commercial_units`` layer and the reference mix;
``isochrone`` the manifest and, per run, the district's graphs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pygeoapi.process.base import BaseProcessor
from shapely.geometry import Point, shape

from geodistrict.errors import GeodistrictError
from geodistrict.priority.definitions import CRITERIA, PRESETS, Method
from geodistrict.priority.mcda import get_preset
from geodistrict.priority.rerank import DROPPED_COLUMNS, Reranker
from geodistrict.publish.snapshots import file_version
from geodistrict.sources.osm import OSM_ATTRIBUTION
from geodistrict.store import MANIFEST, current_version, read_manifest

log = logging.getLogger(__name__)

__all__ = [
    "MEMO_ENTRIES",
    "PROCESS_TITLES",
    "CategoryGapsProcessor",
    "IsochroneProcessor",
    "ProcessInputError",
    "RankVacantUnitsProcessor",
    "clear_memo",
    "process_resources",
]

_JOBS = ["sync-execute", "async-execute"]

# --------------------------------------------------------------------------- memo per file version

#: Most things (manifests, rankings, layers) kept in memory per server process: a
#: district takes up to three (its manifest, its ranking, its commercial units).
MEMO_ENTRIES = 32

_MEMO_LOCK = threading.Lock()
_MEMO: OrderedDict[tuple[Any, ...], Any] = OrderedDict()


def clear_memo() -> None:
    """Forget everything the processes keep in memory (tests; a process freeing memory)."""
    with _MEMO_LOCK:
        _MEMO.clear()
    _graphs.cache_clear()


def _memo[T](key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """The value kept under ``key``, built (outside the lock) when missing; LRU-bounded."""
    with _MEMO_LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
    value = build()  # two threads may build the same value once each: harmless
    with _MEMO_LOCK:
        _MEMO[key] = value
        _MEMO.move_to_end(key)
        while len(_MEMO) > MEMO_ENTRIES:
            _MEMO.popitem(last=False)
    return value


def _manifest(version: Path) -> dict[str, Any]:
    """:func:`read_manifest` of a version folder, kept per version of the file (read-only)."""
    try:
        key = ("manifest", file_version(version / MANIFEST))
    except OSError:  # missing or unreadable: read_manifest says so in its words
        return read_manifest(version)
    return _memo(key, lambda: read_manifest(version))


def _gpkg(folder: Path) -> tuple[Path, dict[str, Any], Path]:
    """The current version folder of a district, its manifest and its GeoPackage."""
    version = current_version(folder)  # manifest and GeoPackage of one version
    manifest = _manifest(version)
    return version, manifest, version / manifest["gpkg"]


class ProcessInputError(GeodistrictError, ValueError):
    """A process was called with inputs it cannot use."""


def _t(en: str, it: str) -> dict[str, str]:
    """A text in both languages (pygeoapi answers the one of the request)."""
    return {"en": en, "it": it}


#: Titles of the processes (English, Italian), also read by the web pages.
PROCESS_TITLES = {
    "rank-vacant-units": ("Rank vacant units", "Classifica dei locali sfitti"),
    "isochrone": ("Isochrones", "Isocrone"),
    "category-gaps": ("Missing categories", "Categorie merceologiche mancanti"),
}


def _district_input(ids: list[str]) -> dict[str, Any]:
    return {
        "title": _t("District", "Distretto"),
        "description": _t("Id of a published district.", "Codice di un distretto pubblicato."),
        "schema": {"type": "string", "enum": ids},
        "minOccurs": 0 if len(ids) == 1 else 1,
        "maxOccurs": 1,
    }


def _metadata(
    pid: str, description: tuple[str, str], inputs: dict[str, Any], ids: list[str]
) -> dict[str, Any]:
    title = PROCESS_TITLES[pid]
    return {
        "version": "0.1.0",
        "id": pid,
        "title": _t(*title),
        "description": _t(*description),
        "jobControlOptions": _JOBS,
        "keywords": ["geodistrict", pid],
        "links": [],
        "inputs": {"district": _district_input(ids), **inputs},
        "outputs": {
            "result": {
                "title": _t("Result", "Risultato"),
                "description": _t(
                    f"GeoJSON FeatureCollection in CRS84; map data {OSM_ATTRIBUTION}.",
                    f"FeatureCollection GeoJSON in CRS84; dati cartografici {OSM_ATTRIBUTION}.",
                ),
                "schema": {"type": "object", "contentMediaType": "application/geo+json"},
            }
        },
        "example": {"inputs": {"district": ids[0] if ids else "sample"}},
    }


class _DistrictProcessor(BaseProcessor):
    """Common plumbing: which district, where its outputs are, GeoJSON out."""

    def __init__(self, processor_def: dict[str, Any], metadata: dict[str, Any]) -> None:
        super().__init__(processor_def, metadata)
        self.districts: dict[str, str] = dict(processor_def.get("districts", {}))

    def folder(self, data: dict[str, Any]) -> Path:
        district = data.get("district")
        if district is None and len(self.districts) == 1:
            district = next(iter(self.districts))
        if not isinstance(district, str) or district not in self.districts:
            raise ProcessInputError(
                f"unknown district {district!r}; published: {sorted(self.districts)}"
            )
        return Path(self.districts[district])

    @staticmethod
    def geojson(frame: gpd.GeoDataFrame) -> dict[str, Any]:
        out = frame.to_crs(4326) if frame.crs is not None else frame
        # Dates (e.g. vacant since) as ISO text; Infinity and NaN (not JSON) as null.
        collection: dict[str, Any] = json.loads(
            out.to_json(drop_id=True, na="null", default=str), parse_constant=lambda _: None
        )
        collection["attribution"] = OSM_ATTRIBUTION
        return collection

    def execute(self, data: dict[str, Any], outputs: Any = None) -> tuple[str, dict[str, Any]]:
        if not isinstance(data, dict):
            raise ProcessInputError(f"inputs must be a JSON object, got {data!r}")
        try:
            return "application/json", self.run(data)
        except GeodistrictError as exc:
            raise ProcessInputError(str(exc)) from exc

    def run(self, data: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProcessInputError(f"{name} must be a number, got {value!r}")
    return float(value)


class RankVacantUnitsProcessor(_DistrictProcessor):
    """Re-rank a district's vacant units with the weights given."""

    def __init__(self, processor_def: dict[str, Any]) -> None:
        ids = list(processor_def.get("districts", {}))
        inputs = {
            "weights": {
                "title": _t("Weights", "Pesi"),
                "description": _t(
                    "Criterion name to weight (non-negative), merged over the weights of the run.",
                    "Peso di ciascun criterio (non negativo), applicato sopra i pesi "
                    "dell'elaborazione.",
                ),
                "schema": {
                    "type": "object",
                    "properties": {
                        name: {"type": "number", "minimum": 0, "title": criterion.label}
                        for name, criterion in CRITERIA.items()
                    },
                    "additionalProperties": {"type": "number"},
                },
                "minOccurs": 0,
                "maxOccurs": 1,
            },
            "preset": {
                "title": _t("Preset", "Scenario di pesi"),
                "description": _t(
                    "Named weighting: rigenerazione (revive little-frequented places), "
                    "consolidamento (strengthen busy shopping streets) or bando (what a "
                    "regional call for Distretti del Commercio rewards); default the run's. "
                    "The weights given apply on top of it.",
                    "Pesi predefiniti: rigenerazione (rianimare i luoghi poco frequentati), "
                    "consolidamento (rafforzare le strade commerciali dense) o bando (ciò che "
                    "premia un bando regionale per i Distretti del Commercio); se assente, "
                    "quello dell'elaborazione. I pesi indicati si applicano sopra.",
                ),
                "schema": {"type": "string", "enum": list(PRESETS)},
                "minOccurs": 0,
                "maxOccurs": 1,
            },
            "method": {
                "title": _t("Method", "Metodo"),
                "schema": {"type": "string", "enum": ["weighted_sum", "topsis"]},
                "minOccurs": 0,
                "maxOccurs": 1,
            },
            "top": {
                "title": _t("Top", "Primi"),
                "description": _t(
                    "Return only the best N units.", "Restituisce solo i primi N locali."
                ),
                "schema": {"type": "integer", "minimum": 1},
                "minOccurs": 0,
                "maxOccurs": 1,
            },
        }
        super().__init__(
            processor_def,
            _metadata(
                "rank-vacant-units",
                (
                    "Scores and ranks the district's vacant units for reactivation with a "
                    "preset and criterion weights (weighted sum or TOPSIS), with the top "
                    "contributing criteria in words (English and Italian) and recommended "
                    "uses.",
                    "Assegna un punteggio ai locali sfitti del distretto e li ordina per la "
                    "riattivazione secondo uno scenario e i pesi dei criteri (somma pesata o "
                    "TOPSIS), spiegando a parole i criteri che contano di più e gli usi "
                    "consigliati.",
                ),
                inputs,
                ids,
            ),
        )

    def run(self, data: dict[str, Any]) -> dict[str, Any]:
        weights, preset, method, top = self.inputs(data)
        folder = self.folder(data)
        entry = _ranking(folder)
        if not entry.reranker.exact:  # non-finite criteria: the reference path as it is
            return _rank_reference(folder, weights, preset=preset, method=method, top=top)
        chosen = get_preset(preset if preset is not None else entry.run_preset).name
        used = entry.run_weights if chosen == entry.run_preset else {}
        columns = entry.reranker.columns({**used, **weights}, method=method, preset=chosen)
        order = np.argsort(columns["rank"], kind="stable")  # as sort_values("rank", "stable")
        if top:
            order = order[:top]
        n = len(columns["rank"])
        scored = {name: _python_values(value, n) for name, value in columns.items()}
        features = [
            {
                "type": "Feature",
                "properties": entry.properties[i] | {name: v[i] for name, v in scored.items()},
                "geometry": entry.geometries[i],
            }
            for i in order.tolist()
        ]
        return entry.collection | {"features": features}

    @staticmethod
    def inputs(data: dict[str, Any]) -> tuple[dict[str, Any], str | None, Method, int | None]:
        """Checked ``weights``, ``preset``, ``method`` and ``top`` of a request."""
        weights = data.get("weights") or {}
        if not isinstance(weights, dict):
            raise ProcessInputError(f"weights must be an object of numbers, got {weights!r}")
        method = data.get("method", "weighted_sum")
        if method not in ("weighted_sum", "topsis"):
            raise ProcessInputError(f"method must be 'weighted_sum' or 'topsis', got {method!r}")
        top = data.get("top")
        if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
            raise ProcessInputError(f"top must be a positive integer, got {top!r}")
        preset = data.get("preset")
        if preset is not None and not isinstance(preset, str):
            raise ProcessInputError(f"preset must be a name, got {preset!r}")
        return weights, preset, method, top


def _rank_reference(
    folder: Path,
    weights: dict[str, Any],
    *,
    preset: str | None,
    method: Method,
    top: int | None,
) -> dict[str, Any]:
    """The answer of ``rank-vacant-units`` without memo: :func:`rank_from_folder`, as GeoJSON."""
    from geodistrict.priority import rank_from_folder

    ranked = rank_from_folder(folder, weights, preset=preset, method=method)
    return _DistrictProcessor.geojson(ranked.head(top) if top else ranked)


def _python_values(value: Any, n: int) -> list[Any]:
    """A column of :meth:`Reranker.columns` as the Python values ``to_json`` writes."""
    if isinstance(value, str):
        return [value] * n
    if isinstance(value, np.ndarray):
        return value.tolist()  # numpy int64/float64 to int/float, as astype(object)
    if isinstance(value, pd.api.extensions.ExtensionArray):
        return [None if v is pd.NA else int(v) for v in value]
    return list(value)


@dataclass(frozen=True)
class _Ranking:
    """What ``rank-vacant-units`` keeps of one version of a ``vacant_units`` layer."""

    reranker: Reranker
    #: The run's preset and its weights (``rank_from_folder`` merges the request over them).
    run_preset: str | None
    run_weights: dict[str, Any]
    #: The GeoJSON of the layer without the scored columns: collection members,
    #: then per unit its properties (in column order) and its geometry.
    collection: dict[str, Any]
    properties: list[dict[str, Any]]
    geometries: list[Any]


def _ranking(folder: Path) -> _Ranking:
    """The :class:`_Ranking` of a district's current ``vacant_units``, kept per file version."""
    from geodistrict.priority import read_ranked

    version, manifest, gpkg = _gpkg(folder)
    entry = manifest.get("layers", {}).get("vacant_units")
    if entry is None:  # read_ranked raises the error of a folder without the layer
        read_ranked(folder)
        return _ranking(folder)  # unless a run added the layer meanwhile
    try:
        key = ("ranking", file_version(gpkg), entry["gpkg_layer"])
    except OSError:  # the GeoPackage is gone: read_ranked says so in its words
        read_ranked(version)
        raise
    return _memo(key, lambda: _build_ranking(version, folder))


def _build_ranking(version: Path, folder: Path) -> _Ranking:
    from geodistrict.priority import read_ranked
    from geodistrict.priority.io import run_settings

    layer = read_ranked(version)
    run_preset, run_weights = run_settings(layer, folder=folder)
    constant = layer.drop(columns=[c for c in DROPPED_COLUMNS if c in layer])
    collection = _DistrictProcessor.geojson(constant)
    features, collection["features"] = collection["features"], []  # keeps the key's place
    return _Ranking(
        reranker=Reranker(layer),
        run_preset=run_preset,
        run_weights=run_weights,
        collection=collection,
        properties=[f["properties"] for f in features],
        geometries=[f["geometry"] for f in features],
    )


@lru_cache(maxsize=4)
def _graphs(
    config_file: str, run: tuple[Any, ...] = ()
) -> tuple[nx.MultiDiGraph, nx.MultiDiGraph, dict[str, Any]]:
    """Walk graph, LTS-tagged bike graph and isochrone options of a district.

    The bike graph is scored as the pipeline's ``cycling`` step scores it
    (way tags, default speed, crossings), and the options are the district's
    ``cycling`` settings, so the process answers as the published layers do.
    ``run`` (the output version and the configuration file's version) only
    keys the cache: a new run, or an edited configuration, builds them again.
    """
    from geodistrict.config import load_config
    from geodistrict.cycling import add_lts, with_way_tags
    from geodistrict.ingest import load_base_layers

    config = load_config(config_file)
    cfg = config.cycling
    layers = load_base_layers(config)
    bike = layers.bike_graph
    if {"osmid", "tags"} <= set(layers.streets.columns):
        bike = with_way_tags(bike, layers.streets)
    bike = add_lts(bike, default_speed_kmh=cfg.default_speed_kmh, crossings=cfg.lts_crossings)
    options = {
        "threshold": cfg.lts_threshold,
        "speeds_kmh": {
            "walk": cfg.walk_speed_kmh,
            "bike": cfg.bike_speed_kmh,
            "bike_low_stress": cfg.bike_speed_kmh,
        },
    }
    return layers.walk_graph, bike, options


class IsochroneProcessor(_DistrictProcessor):
    """Isochrones around a point, walking or cycling."""

    MODES = ("walk", "bike", "bike_low_stress")

    def __init__(self, processor_def: dict[str, Any]) -> None:
        ids = list(processor_def.get("districts", {}))
        inputs = {
            "point": {
                "title": _t("Point", "Punto"),
                "description": _t(
                    "[longitude, latitude] (CRS84) or a GeoJSON Point.",
                    "[longitudine, latitudine] (CRS84) o un punto GeoJSON.",
                ),
                "schema": {
                    "oneOf": [
                        {
                            "type": "array",
                            "items": {"type": "number"},
                            "minItems": 2,
                            "maxItems": 2,
                        },
                        {"type": "object"},
                    ]
                },
                "minOccurs": 1,
                "maxOccurs": 1,
            },
            "mode": {
                "title": _t("Mode", "Modo"),
                "schema": {"type": "string", "enum": list(self.MODES)},
                "minOccurs": 0,
                "maxOccurs": 1,
            },
            "minutes": {
                "title": _t("Minutes", "Minuti"),
                "description": _t(
                    "Travel times, 1 to 60 (default [5, 10, 15]).",
                    "Tempi di percorrenza, da 1 a 60 (predefiniti 5, 10, 15).",
                ),
                "schema": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1, "maximum": 60},
                },
                "minOccurs": 0,
                "maxOccurs": 1,
            },
        }
        super().__init__(
            processor_def,
            _metadata(
                "isochrone",
                (
                    "Areas reached within the given minutes from a point, walking, cycling, "
                    "or cycling on low-stress streets only (LTS up to the district's "
                    "cycling.lts_threshold, 2 by default).",
                    "Aree raggiunte entro i minuti indicati da un punto, a piedi, in bici o in "
                    "bici solo su strade a basso stress (LTS fino alla soglia "
                    "cycling.lts_threshold del distretto, 2 se non indicata).",
                ),
                inputs,
                ids,
            ),
        )

    def run(self, data: dict[str, Any]) -> dict[str, Any]:
        from geodistrict.cycling import isochrones

        folder = self.folder(data)
        version = current_version(folder)
        manifest = _manifest(version)
        point = data.get("point")
        if isinstance(point, dict):
            try:
                geom = shape(point)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ProcessInputError(f"point is not a GeoJSON geometry: {point!r}") from exc
            if geom.geom_type != "Point":
                raise ProcessInputError(f"point must be a Point, got a {geom.geom_type}")
        elif isinstance(point, list) and len(point) == 2:
            geom = Point(_number(point[0], "point[0]"), _number(point[1], "point[1]"))
        else:
            raise ProcessInputError(f"point must be [lon, lat] or a GeoJSON Point, got {point!r}")
        west, south, east, north = manifest["layers"]["study_area"]["bbox_crs84"]
        if not (west - 0.05 <= geom.x <= east + 0.05 and south - 0.05 <= geom.y <= north + 0.05):
            hint = " (are longitude and latitude swapped?)" if south <= geom.x <= north else ""
            raise ProcessInputError(
                f"point ({geom.x}, {geom.y}) is outside the district {manifest['district']!r}"
                f"{hint}"
            )
        mode = data.get("mode", "walk")
        if mode not in self.MODES:
            raise ProcessInputError(f"mode must be one of {list(self.MODES)}, got {mode!r}")
        minutes = data.get("minutes", [5, 10, 15])
        if not isinstance(minutes, list) or not minutes:
            raise ProcessInputError(f"minutes must be a list of integers, got {minutes!r}")
        for m in minutes:
            if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 60:
                raise ProcessInputError(f"minutes must be integers from 1 to 60, got {m!r}")
        config_file = manifest.get("config")
        if not config_file or not Path(config_file).is_file():
            raise ProcessInputError(f"the district's configuration {config_file!r} is gone")
        walk, bike, options = _graphs(config_file, (str(version), file_version(config_file)))
        crs = walk.graph["crs"]
        source = gpd.GeoDataFrame(
            {"name": ["point"], "kind": ["input"]}, geometry=[geom], crs=4326
        ).to_crs(crs)
        graphs = {"walk": walk} if mode == "walk" else {"bike": bike}
        # Snapped inside isochrones() to the largest strongly connected part of
        # the mode's network: a point on a dead-end one-way street is no trap.
        result = isochrones(graphs, source, minutes=sorted(set(minutes)), **options)
        result = result[result["mode"] == mode].reset_index(drop=True)
        return self.geojson(result)


class CategoryGapsProcessor(_DistrictProcessor):
    """Missing and under-represented categories inside a polygon."""

    def __init__(self, processor_def: dict[str, Any]) -> None:
        ids = list(processor_def.get("districts", {}))
        inputs = {
            "polygon": {
                "title": _t("Polygon", "Poligono"),
                "description": _t(
                    "A GeoJSON Polygon or MultiPolygon in CRS84.",
                    "Un Polygon o MultiPolygon GeoJSON in CRS84.",
                ),
                "schema": {"type": "object"},
                "minOccurs": 1,
                "maxOccurs": 1,
            }
        }
        super().__init__(
            processor_def,
            _metadata(
                "category-gaps",
                (
                    "Compares the merchandise categories of the commercial units inside a "
                    "polygon with the district's reference mix: observed vs expected counts, "
                    "missing and under-represented categories.",
                    "Confronta le categorie merceologiche delle attività commerciali dentro "
                    "un poligono con il mix di riferimento del distretto: numeri osservati e "
                    "attesi, categorie mancanti e sottorappresentate.",
                ),
                inputs,
                ids,
            ),
        )

    def run(self, data: dict[str, Any]) -> dict[str, Any]:
        from geodistrict.commerce import category_gaps

        folder = self.folder(data)
        raw = data.get("polygon")
        try:
            polygon = shape(raw) if isinstance(raw, dict) else None
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise ProcessInputError(f"polygon is not a GeoJSON geometry: {raw!r}") from exc
        if polygon is None or polygon.geom_type not in ("Polygon", "MultiPolygon"):
            raise ProcessInputError(f"polygon must be a GeoJSON Polygon, got {raw!r}")
        if not polygon.is_valid:
            polygon = shapely.make_valid(polygon)
        if polygon.is_empty or polygon.area == 0:
            raise ProcessInputError("polygon is empty")
        _, _, gpkg = _gpkg(folder)
        try:
            key = ("layer", file_version(gpkg), "commercial_units")
        except OSError:  # gone: reading it says so in its words
            units = gpd.read_file(gpkg, layer="commercial_units")
        else:  # kept per version of the GeoPackage and shared: read, never changed
            units = _memo(key, lambda: gpd.read_file(gpkg, layer="commercial_units"))
        area = gpd.GeoSeries([polygon], crs=4326).to_crs(units.crs).iloc[0]
        inside = units[units.within(area)]
        if inside.empty:
            raise ProcessInputError("no commercial unit lies inside the polygon")
        gaps = category_gaps(inside, area, _reference_mix().copy())
        return self.geojson(gaps)


def _reference_mix() -> pd.Series:
    """The shipped reference mix (:func:`load_reference_mix`), kept per version of its file."""
    from geodistrict.commerce import load_reference_mix
    from geodistrict.commerce.gaps import default_reference_mix_path

    path = default_reference_mix_path()
    try:
        key = ("reference_mix", file_version(path))
    except OSError:  # load_reference_mix reports it
        return load_reference_mix()
    return _memo(key, load_reference_mix)


def process_resources(districts: dict[str, str], layers: set[str]) -> dict[str, Any]:
    """pygeoapi ``resources`` entries of the processes the published layers allow."""
    wanted = {"isochrone": IsochroneProcessor}
    if "vacant_units" in layers:
        wanted["rank-vacant-units"] = RankVacantUnitsProcessor
    if "commercial_units" in layers:
        wanted["category-gaps"] = CategoryGapsProcessor
    return {
        pid: {
            "type": "process",
            "processor": {"name": f"{cls.__module__}.{cls.__name__}", "districts": districts},
        }
        for pid, cls in wanted.items()
    }
