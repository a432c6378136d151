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
from geodistrict.errors import ConfigError, EmptyAreaError
from geodistrict.i18n import N_, _, format_number
from geodistrict.pipeline.runner import RunContext, Step
from geodistrict.pipeline.steps._outcome import Report, Reporter, attempt, nonempty

if TYPE_CHECKING:
    import networkx as nx

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
    report: Reporter | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Every cycling layer of a district, as the ``cycling`` pipeline step writes them.

    A layer the district's data cannot give is left out and reported with
    its reason (``report.skip``): no street open to bicycles, no origin or
    destination, fewer than two key places for a circuit, no centre or
    station to draw isochrones from. A circuit that leaves key places out
    (too far for ``circuit_max_km``, or not on the connected network) is
    reported with ``report.note``.

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
    report : Reporter, optional
        Where skipped layers and notes go (the pipeline's ``RunContext``);
        default a :class:`~geodistrict.pipeline.steps._outcome.Report` that
        only logs them.

    Returns
    -------
    dict
        The layers produced among ``bike_network``, ``low_stress_islands``,
        ``bike_connectivity``, ``bike_gaps``, ``bike_circuits``,
        ``info_points``, ``isochrones``; each one has rows.

    Examples
    --------
    >>> import geodistrict as gd
    >>> cfg = gd.datasets.sample_config()
    >>> out = cycling_layers(gd.datasets.sample_layers(), cfg.cycling)
    >>> sorted(out) == sorted(LAYERS)
    True
    """
    layers = layers or {}
    report = report if report is not None else Report()
    # The base graph keeps only some way tags: add the motorised modes' access
    # (motorcar=yes over motor_vehicle=no...) from the streets layer by way id.
    bike = base.bike_graph
    if "tags" in base.streets.columns and "osmid" in base.streets.columns:
        bike = cycling.with_way_tags(bike, base.streets)
    graph = cycling.add_lts(
        bike, default_speed_kmh=config.default_speed_kmh, crossings=config.lts_crossings
    )
    if graph.number_of_edges() == 0:
        for name in LAYERS:
            report.skip(name, _("no street of the study area may be ridden by bicycle"))
        return {}
    thr = config.lts_threshold
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
    out: dict[str, gpd.GeoDataFrame | None] = {"bike_network": cycling.bike_network(graph)}
    for warning in graph.graph.get("lts_warnings", []):
        report.note("bike_network", f"LTS: {warning}")
    islands = cycling.low_stress_islands(
        graph,
        threshold=thr,
        destinations=dest,
        origins=orig,
        buffer_m=config.island_buffer_m,
        min_length_m=config.min_island_m,
    )
    out["low_stress_islands"] = islands
    if len(orig) == 0 or len(dest) == 0:
        missing = []
        if len(orig) == 0:
            missing.append(
                _("no origin (no building in the study area)")
                if config.origins == "buildings"
                else _("no origin (no H3 cell)")
            )
        if len(dest) == 0:
            missing.append(_("no destination (no shop, school, station or public service)"))
        for name in ("bike_connectivity", "bike_gaps"):
            report.skip(name, _("cycling connectivity needs origins and destinations: {missing}")
                        .format(missing=_(" and ").join(missing)))  # fmt: skip
    else:
        scores = cycling.connectivity(
            graph,
            orig,
            dest,
            threshold=thr,
            bikeshed_m=config.bikeshed_m,
            detour_ratio=config.detour_ratio,
            weights=config.connectivity_weights,
        )
        district = scores.attrs.get("district_score", float("nan"))
        per_type = scores.attrs.get("district_scores", {})
        log.info(
            "district low-stress connectivity (BNA): %.3f; %s",
            district,
            ", ".join(f"{k} {v:.3f}" for k, v in per_type.items()),
        )
        scores = scores.assign(
            district_score=round(district, 4),
            **{f"district_score_{k}": v for k, v in per_type.items()},
        )
        scores.attrs = {}
        gaps = cycling.missing_links(
            graph,
            orig,
            dest,
            threshold=thr,
            bikeshed_m=config.bikeshed_m,
            max_connector_m=config.max_connector_m,
            n_links=config.n_gaps,
        )
        gaps.attrs = {}
        out["bike_connectivity"] = scores
        out["bike_gaps"] = gaps
    places = cycling.key_places(
        base.pois,
        base.transit_stops,
        centres=layers.get("retail_centres"),
        max_places=config.circuit_max_stops,
        n_centres=config.n_centres,
    )
    legs = attempt(
        report,
        ("bike_circuits", "info_points"),
        lambda: _circuit(graph, places, config, threshold=thr),
    )
    if legs is not None:
        if "retail_centres" not in layers:
            report.note(
                "bike_circuits",
                _(
                    "no retail centre from the commerce step: the circuit joins stations, "
                    "the town hall and parks only"
                ),
            )
        _note_left_out(report, places, legs, config)
        out["bike_circuits"] = legs
        out["info_points"] = cycling.info_points(
            legs, places, k=config.n_info_points, radius_m=config.info_point_radius_m
        )
    sources = places[places["kind"].isin(["centre", "station"])]
    if len(sources) == 0:
        report.skip("isochrones", _("no isochrone source: no retail centre and no station "
                                    "among the key places"))  # fmt: skip
    else:
        out["isochrones"] = cycling.isochrones(
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
    return nonempty(report, out, EMPTY_REASONS)


#: Why a cycling layer can come out empty.
EMPTY_REASONS = {
    "low_stress_islands": N_("no low-stress island at least cycling.min_island_m long"),
    "bike_gaps": N_("no missing link joins two low-stress islands with a benefit"),
}


def _circuit(
    graph: nx.MultiDiGraph, places: gpd.GeoDataFrame, config: CyclingConfig, *, threshold: int
) -> gpd.GeoDataFrame:
    """The circuit; a limit too short for this district is a reason to skip, not a failure."""
    if len(places) < 2:
        raise EmptyAreaError(
            f"a circuit needs two key places (retail centres, stations, town hall, parks); "
            f"the district has {len(places)}"
        )
    try:
        return cycling.circuit(
            graph,
            places,
            max_km=config.circuit_max_km,
            threshold=threshold,
            stress_penalty=config.stress_penalty,
        )
    except ConfigError as exc:
        raise EmptyAreaError(str(exc)) from None


def _note_left_out(
    report: Reporter, places: gpd.GeoDataFrame, legs: gpd.GeoDataFrame, config: CyclingConfig
) -> None:
    """Note the key places the circuit does not join, each with its reason."""
    left = list(legs.attrs.pop("left_out", []))
    legs.attrs = {}
    if left:
        report.note(
            "bike_circuits",
            _(
                "the circuit joins {joined} of {n} key places "
                "(cycling.circuit_max_km={max_km}); left out: {left}"
            ).format(
                joined=len(places) - len(left),
                n=len(places),
                max_km=format_number(config.circuit_max_km),
                left="; ".join(f"{name} ({why})" for name, why in left),
            ),
        )


def _run(ctx: RunContext) -> dict[str, Any]:
    # Commerce always runs first (declared needs); a layer it left out is simply not passed.
    earlier: dict[str, gpd.GeoDataFrame] = {
        n: ctx[n] for n in ("commercial_units", "retail_centres") if n in ctx.values
    }
    return cycling_layers(ctx["base"], ctx.config.cycling, layers=earlier, report=ctx)


STEP = Step(
    "cycling",
    N_("traffic stress, low-stress islands, gaps, circuits"),
    _run,
    needs=("base", "commercial_units", "retail_centres"),
    layers=LAYERS,
)
