"""The layer catalogue: title, description and sources of every layer, in English and Italian.

The store writes this metadata into the GeoPackage and the manifest; the
publishing layer turns it into OGC API collection titles and descriptions.
Analyses register their layers here as they are added.
"""

from __future__ import annotations

from dataclasses import dataclass

from geodistrict.sources.osm import OSM_ATTRIBUTION

__all__ = ["LAYERS", "LayerInfo", "layer_info"]


@dataclass(frozen=True)
class LayerInfo:
    """Descriptive metadata of one output layer."""

    name: str
    title_en: str
    title_it: str
    description_en: str
    description_it: str
    sources: tuple[str, ...] = ("osm",)
    step: str = "base"

    @property
    def attribution(self) -> str:
        """Credit line: OSM's whenever OpenStreetMap is among the sources."""
        return OSM_ATTRIBUTION if "osm" in self.sources else ""


_LAYERS = [
    LayerInfo(
        "study_area",
        "Study area",
        "Area di studio",
        "The district's study area (without the analysis buffer).",
        "L'area di studio del distretto (senza la fascia di analisi).",
        sources=("config",),
    ),
    LayerInfo(
        "streets",
        "Streets",
        "Strade",
        "OSM streets between intersections, with walking and cycling access flags and tags.",
        "Strade OSM tra incroci, con accessibilità pedonale e ciclabile e i tag OSM.",
    ),
    LayerInfo(
        "pois",
        "Points of interest",
        "Punti di interesse",
        "OSM shops, amenities, crafts, offices, tourism, leisure and healthcare places, "
        "and units tagged vacant or disused; polygons reduced to a point inside them.",
        "Negozi, servizi, artigiani, uffici, turismo, tempo libero e sanità da OSM, e "
        "locali segnati come sfitti o dismessi; i poligoni ridotti a un punto interno.",
    ),
    LayerInfo(
        "buildings",
        "Buildings",
        "Edifici",
        "OSM building footprints with use, levels and address.",
        "Sagome degli edifici OSM con uso, piani e indirizzo.",
    ),
    LayerInfo(
        "landuse",
        "Land use",
        "Uso del suolo",
        "OSM land-use polygons clipped to the study area.",
        "Poligoni di uso del suolo OSM ritagliati sull'area di studio.",
    ),
    LayerInfo(
        "transit_stops",
        "Public transport stops",
        "Fermate del trasporto pubblico",
        "OSM stations and stops with kind (station/stop) and mode (bus, tram, subway, rail...).",
        "Stazioni e fermate OSM con tipo (stazione/fermata) e modo (bus, tram, metro, treno...).",
    ),
]

LAYERS: dict[str, LayerInfo] = {layer.name: layer for layer in _LAYERS}


def layer_info(name: str) -> LayerInfo:
    """Metadata of a layer; layers not in the catalogue get a generic entry."""
    if name in LAYERS:
        return LAYERS[name]
    label = name.replace("_", " ").capitalize()
    return LayerInfo(name, label, label, f"Layer {name!r}.", f"Layer {name!r}.", sources=())
