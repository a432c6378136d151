"""Step ``cycling``: traffic stress, low-stress islands, connectivity, gaps, circuit.

Reads the ``cycling`` section of the configuration and calls the analyses of
:mod:`geodistrict.cycling`. The commerce step's ``commercial_units`` are the
commerce destinations and its ``retail_centres`` the circuit's centres and
isochrone sources, so commerce always runs first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from geodistrict import cycling
from geodistrict.errors import EmptyAreaError
from geodistrict.pipeline.runner import RunContext, Step

if TYPE_CHECKING:
    from geodistrict.config import CyclingConfig
    from geodistrict.ingest import BaseLayers

log = logging.getLogger(__name__)

LAYERS = (
    "bike_network",
    "low_stress_islands",
    "bike_connectivity",
    "bike_gaps",
    "bike_circuits",
    "info_points",
    "isochrones",
)


def cycling_layers(
    base: BaseLayers,
    config: CyclingConfig,
    *,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Every cycling layer of a district, as the ``cycling`` pipeline step writes them.

    Parameters
    ----------
    base : BaseLayers
        The district's base layers and graphs.
    config : CyclingConfig
        The ``cycling`` section of the district configuration.
    layers : mapping, optional
        Layers of earlier steps: ``commercial_units`` (commerce destinations
        instead of the shop and food POIs) and ``retail_centres`` (centres of
        the circuit and isochrone sources; without them there are none).

    Returns
    -------
    dict
        ``bike_network``, ``low_stress_islands``, ``bike_connectivity``,
        ``bike_gaps``, ``bike_circuits``, ``info_points``, ``isochrones``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> cfg = gd.datasets.sample_config()
    >>> out = cycling_layers(gd.datasets.sample_layers(), cfg.cycling)
    >>> all(len(layer) > 0 for layer in out.values())
    True
    """
    layers = layers or {}
    graph = cycling.add_lts(base.bike_graph, default_speed_kmh=config.default_speed_kmh)
    dest = cycling.destinations(
        base.pois, base.transit_stops, commercial_units=layers.get("commercial_units")
    )
    orig = cycling.origins(
        base.buildings,
        kind=config.origins,
        area=base.study_area,
        min_residential=config.min_residential_origins,
        hex_resolution=config.hex_resolution,
    )
    if len(orig) == 0 or len(dest) == 0:
        raise EmptyAreaError(
            f"cycling needs origins and destinations; found {len(orig)} origins "
            f"({config.origins!r}) and {len(dest)} destinations"
        )
    thr = config.lts_threshold
    scores = cycling.connectivity(graph, orig, dest, threshold=thr, bikeshed_m=config.bikeshed_m)
    log.info("district low-stress connectivity: %.3f", scores.attrs["district_score"])
    islands = cycling.low_stress_islands(
        graph,
        threshold=thr,
        destinations=dest,
        origins=orig,
        buffer_m=config.island_buffer_m,
        min_length_m=config.min_island_m,
    )
    gaps = cycling.missing_links(
        graph,
        orig,
        dest,
        threshold=thr,
        bikeshed_m=config.bikeshed_m,
        max_connector_m=config.max_connector_m,
        n_links=config.n_gaps,
    )
    places = cycling.key_places(
        base.pois,
        base.transit_stops,
        centres=layers.get("retail_centres"),
        max_places=config.circuit_max_stops,
        n_centres=config.n_centres,
    )
    legs = cycling.circuit(
        graph,
        places,
        max_km=config.circuit_max_km,
        threshold=thr,
        stress_penalty=config.stress_penalty,
    )
    totems = cycling.info_points(
        legs, places, k=config.n_info_points, radius_m=config.info_point_radius_m
    )
    sources = places[places["kind"].isin(["centre", "station"])]
    iso = cycling.isochrones(
        {"walk": base.walk_graph, "bike": graph},
        sources,
        minutes=config.isochrone_minutes,
        threshold=thr,
        speeds_kmh={
            "walk": config.walk_speed_kmh,
            "bike": config.bike_speed_kmh,
            "bike_low_stress": config.bike_speed_kmh,
        },
    )
    scores = scores.assign(district_score=round(scores.attrs["district_score"], 4))
    scores.attrs = {}
    gaps.attrs = {}
    return {
        "bike_network": cycling.bike_network(graph),
        "low_stress_islands": islands,
        "bike_connectivity": scores,
        "bike_gaps": gaps,
        "bike_circuits": legs,
        "info_points": totems,
        "isochrones": iso,
    }


def _run(ctx: RunContext) -> dict[str, Any]:
    # Commerce always runs first (declared needs); a layer it left out is simply not passed.
    earlier: dict[str, gpd.GeoDataFrame] = {
        n: ctx[n] for n in ("commercial_units", "retail_centres") if n in ctx.values
    }
    return cycling_layers(ctx["base"], ctx.config.cycling, layers=earlier)


STEP = Step(
    "cycling",
    "traffic stress, low-stress islands, gaps, circuits",
    _run,
    needs=("base", "commercial_units", "retail_centres"),
    layers=LAYERS,
)
