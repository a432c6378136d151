"""Step ``production``: firms, specialisation, clusters, service sites, needs.

Reads the ``production`` section of the configuration and calls the analyses
of :mod:`geodistrict.production` on the ``firms`` survey, the base layers and
(when configured) the ``vacant_units`` survey.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import geopandas as gpd

from geodistrict import production as pr
from geodistrict._validate import projected_frame
from geodistrict.config import DistrictConfig, ProductionConfig
from geodistrict.errors import ConfigError, EmptyAreaError, ParameterError
from geodistrict.ingest import BaseLayers
from geodistrict.pipeline.runner import RunContext, Step
from geodistrict.pipeline.steps._outcome import Report, Reporter, attempt, nonempty

log = logging.getLogger(__name__)

LAYERS = (
    "firms",
    "sector_specialisation",
    "firm_clusters",
    "service_sites",
    "production_needs",
)


def production_layers(
    base: BaseLayers,
    firms: gpd.GeoDataFrame,
    config: ProductionConfig,
    *,
    vacant_units: gpd.GeoDataFrame | None = None,
    report: Reporter | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the productive district, as the pipeline step ``production`` writes them.

    A layer the data cannot give (e.g. no firm to site services for) is left
    out and reported with its reason (``report.skip``); the others are still
    computed.

    Parameters
    ----------
    base : BaseLayers
        The district's base layers and graphs.
    firms : GeoDataFrame
        The firm questionnaire read with the ``FIRMS`` schema, in the working CRS.
    config : ProductionConfig
        The ``production`` section of the district configuration.
    vacant_units : GeoDataFrame, optional
        The vacant units survey (available space).
    report : Reporter, optional
        Where skipped layers go (the pipeline's ``RunContext``); default a
        :class:`~geodistrict.pipeline.steps._outcome.Report` that only logs them.

    Returns
    -------
    dict of str to GeoDataFrame
        Those produced among ``firms``, ``sector_specialisation``,
        ``firm_clusters``, ``service_sites`` and ``production_needs``.

    Raises
    ------
    EmptyAreaError
        If the survey has no firm, or no firm has a municipality to draw
        the areas from.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.pipeline.steps.production import production_layers
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg, base = gd.datasets.sample_config(), gd.datasets.sample_layers()
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
    >>> sorted(production_layers(base, firms, cfg.production))
    ['firm_clusters', 'firms', 'production_needs', 'sector_specialisation', 'service_sites']
    """
    projected_frame(firms, what="firms")
    if len(firms) == 0:
        raise EmptyAreaError("the firms survey has no firm in the study area")
    k = config.min_group_size
    core, extension = config.core_municipalities, config.extension_municipalities
    answers = pr.classify_ateco(firms)
    area = base.study_area.geometry.union_all()
    areas = pr.areas_from_firms(answers, area.union(answers.geometry.union_all().buffer(50)))
    osm = pr.osm_firms(base.pois, buildings=base.buildings, landuse=base.landuse)
    matches = pr.match_firms(answers, osm, max_distance_m=config.match_distance_m)
    graph = {"walk": base.walk_graph, "bike": base.bike_graph}.get(config.service_mode)
    thunks: dict[str, Callable[[], gpd.GeoDataFrame]] = {
        "firms": lambda: pr.firms_layer(
            answers,
            osm=osm,
            matches=matches,
            areas=areas,
            publish_answers=config.publish_firm_answers,
            h3_resolution=config.h3_resolution,
            core=core,
            extension=extension,
        ),
        "sector_specialisation": lambda: pr.sector_specialisation(
            answers,
            areas=areas,
            by=config.specialisation_by,
            h3_resolution=max(config.h3_resolution - 1, 5),
            level=config.specialisation_level,
            weight=config.specialisation_weight,
            min_group_size=k,
            core=core,
            extension=extension,
        ),
        "firm_clusters": lambda: pr.firm_clusters(
            answers,
            eps_m=config.cluster_distance_m,
            min_firms=k,
            level=config.specialisation_level,
            h3_resolution=config.h3_resolution,
            core=core,
            extension=extension,
        ),
        "service_sites": lambda: pr.service_sites(
            answers,
            graph=graph,
            p=config.service_sites,
            max_distance_m=config.service_distance_m,
            weight=config.service_weight,
            min_group_size=k,
            core=core,
            extension=extension,
        ),
        "production_needs": lambda: pr.needs_summary(
            answers,
            areas,
            min_group_size=k,
            osm=osm,
            matches=matches,
            vacant_units=vacant_units,
            osm_vacant=base.pois[base.pois["vacant"].astype(bool)],
            landuse=base.landuse,
            core=core,
            extension=extension,
        ),
    }
    report = report if report is not None else Report()
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name, thunk in thunks.items():
        layer = attempt(report, [name], thunk)
        if layer is not None:
            layers[name] = layer
    for name, layer in layers.items():
        log.info("production: %s has %d features", name, len(layer))
    return layers


def _check(config: DistrictConfig) -> None:
    """A municipality cannot be both in the core and in the extension of the district."""
    section = config.production
    try:
        pr.zone_of(
            [], core=section.core_municipalities, extension=section.extension_municipalities
        )
    except ParameterError as exc:
        raise ConfigError(
            f"production.core_municipalities / production.extension_municipalities: {exc}"
        ) from None


#: Why a production layer can come out empty.
EMPTY_REASONS = {
    "firm_clusters": "no cluster: no sector has production.min_group_size firms within "
    "production.cluster_distance_m of each other",
    "service_sites": "no service site could be placed",
    "production_needs": "no need to summarise: every group is smaller than "
    "production.min_group_size",
}


def _run(ctx: RunContext) -> dict[str, Any]:
    surveys = ctx["surveys"]
    firms = surveys.get("firms")
    if firms is None:
        for layer in LAYERS:
            ctx.skip(layer, "no firms survey configured (surveys.firms)")
        return {}
    k = ctx.config.production.min_group_size
    layers = attempt(
        ctx,
        LAYERS,
        lambda: production_layers(
            ctx["base"],
            firms,
            ctx.config.production,
            vacant_units=surveys.get("vacant_units"),
            report=ctx,
        ),
    )
    if layers is None:
        return {}
    spec = layers.get("sector_specialisation", gpd.GeoDataFrame())
    shown = int(spec.attrs.pop("cells_published", len(spec)))
    hidden = int(spec.attrs.pop("cells_suppressed", 0))
    spec.attrs = {}
    reasons = dict(EMPTY_REASONS)
    if hidden and shown:
        ctx.note("sector_specialisation", f"{hidden} of {shown + hidden} area x sector cells "
                 f"with firms are suppressed: groups of fewer than {k} firms "
                 "(production.min_group_size) are not published")  # fmt: skip
    reasons["sector_specialisation"] = (
        f"every one of the {hidden} area x sector cells with firms is suppressed: groups of "
        f"fewer than {k} firms (production.min_group_size) are not published"
        if hidden
        else "no firm of the survey has both an area and an ATECO sector"
    )
    return nonempty(ctx, layers, reasons)


STEP = Step(
    "production",
    "firms, specialisation, clusters, service sites, needs",
    _run,
    needs=("base", "surveys"),
    layers=LAYERS,
    check=_check,
)
