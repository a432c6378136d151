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
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import shapely
from pygeoapi.process.base import BaseProcessor
from shapely.geometry import Point, shape

from geodistrict.errors import GeodistrictError
from geodistrict.priority.definitions import CRITERIA, PRESETS
from geodistrict.sources.osm import OSM_ATTRIBUTION
from geodistrict.store import current_version, read_manifest

log = logging.getLogger(__name__)

__all__ = [
    "PROCESS_TITLES",
    "CategoryGapsProcessor",
    "IsochroneProcessor",
    "ProcessInputError",
    "RankVacantUnitsProcessor",
    "process_resources",
]

_JOBS = ["sync-execute", "async-execute"]


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
        from geodistrict.priority import rank_from_folder

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
        ranked = rank_from_folder(self.folder(data), weights, preset=preset, method=method)
        return self.geojson(ranked.head(top) if top else ranked)


@lru_cache(maxsize=4)
def _graphs(config_file: str) -> tuple[nx.MultiDiGraph, nx.MultiDiGraph, dict[str, Any]]:
    """Walk graph, LTS-tagged bike graph and isochrone options of a district.

    The bike graph is scored as the pipeline's ``cycling`` step scores it
    (way tags, default speed, crossings), and the options are the district's
    ``cycling`` settings, so the process answers as the published layers do.
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
        manifest = read_manifest(folder)
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
        walk, bike, options = _graphs(config_file)
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
        from geodistrict.commerce import category_gaps, load_reference_mix

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
        version = current_version(folder)  # the manifest and the GeoPackage of one version
        gpkg = version / read_manifest(version)["gpkg"]
        units = gpd.read_file(gpkg, layer="commercial_units")
        area = gpd.GeoSeries([polygon], crs=4326).to_crs(units.crs).iloc[0]
        inside = units[units.within(area)]
        if inside.empty:
            raise ProcessInputError("no commercial unit lies inside the polygon")
        gaps = category_gaps(inside, area, load_reference_mix())
        return self.geojson(gaps)


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
