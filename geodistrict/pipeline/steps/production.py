"""Step ``production``: firms, specialisation, clusters, service sites, needs.

Reads the ``production`` section of the configuration and calls the analyses
of :mod:`geodistrict.production` on the ``firms`` survey, the base layers and
(when configured) the ``vacant_units`` survey.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd

from geodistrict import production as pr
from geodistrict._validate import projected_frame
from geodistrict.config import DistrictConfig, ProductionConfig
from geodistrict.errors import ConfigError, EmptyAreaError, ParameterError
from geodistrict.ingest import BaseLayers
from geodistrict.pipeline.runner import RunContext, Step

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
) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the productive district, as the pipeline step ``production`` writes them.

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

    Returns
    -------
    dict of str to GeoDataFrame
        ``firms``, ``sector_specialisation``, ``firm_clusters``,
        ``service_sites`` and ``production_needs``.

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
        raise EmptyAreaError("the firms survey has no rows")
    k = config.min_group_size
    core, extension = config.core_municipalities, config.extension_municipalities
    answers = pr.classify_ateco(firms)
    area = base.study_area.geometry.union_all()
    areas = pr.areas_from_firms(answers, area.union(answers.geometry.union_all().buffer(50)))
    osm = pr.osm_firms(base.pois, buildings=base.buildings, landuse=base.landuse)
    matches = pr.match_firms(answers, osm, max_distance_m=config.match_distance_m)
    graph = {"walk": base.walk_graph, "bike": base.bike_graph}.get(config.service_mode)
    layers = {
        "firms": pr.firms_layer(
            answers,
            osm=osm,
            matches=matches,
            areas=areas,
            publish_answers=config.publish_firm_answers,
            h3_resolution=config.h3_resolution,
            core=core,
            extension=extension,
        ),
        "sector_specialisation": pr.sector_specialisation(
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
        "firm_clusters": pr.firm_clusters(
            answers,
            eps_m=config.cluster_distance_m,
            min_firms=k,
            level=config.specialisation_level,
            h3_resolution=config.h3_resolution,
            core=core,
            extension=extension,
        ),
        "service_sites": pr.service_sites(
            answers,
            graph=graph,
            p=config.service_sites,
            max_distance_m=config.service_distance_m,
            weight=config.service_weight,
            min_group_size=k,
            core=core,
            extension=extension,
        ),
        "production_needs": pr.needs_summary(
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


def _run(ctx: RunContext) -> dict[str, Any]:
    surveys = ctx["surveys"]
    firms = surveys.get("firms")
    if firms is None:
        for layer in LAYERS:
            ctx.skip(layer, "no firms survey configured (surveys.firms)")
        return {}
    return dict(
        production_layers(
            ctx["base"], firms, ctx.config.production, vacant_units=surveys.get("vacant_units")
        )
    )


STEP = Step(
    "production",
    "firms, specialisation, clusters, service sites, needs",
    _run,
    needs=("base", "surveys"),
    layers=LAYERS,
    check=_check,
)
