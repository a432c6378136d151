"""Step ``vacancy``: vacant units and their reactivation priority.

The configuration glue of :mod:`geodistrict.vacancy`: :func:`vacancy_layer`
reads the ``vacancy`` section, builds the inventory (survey plus OSM,
:func:`geodistrict.vacancy.vacant_units`) and ranks it
(:func:`geodistrict.vacancy.rank_vacant_units`) with the commerce layers,
which the step needs (the runner runs ``commerce`` first, even under
``--only vacancy``), and the cycling network when that step runs too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

import geopandas as gpd

from geodistrict import priority
from geodistrict.config import DistrictConfig, VacancyConfig
from geodistrict.errors import ConfigError
from geodistrict.i18n import N_, _
from geodistrict.ingest import BaseLayers
from geodistrict.monitoring import waves
from geodistrict.pipeline.runner import RunContext, Step
from geodistrict.vacancy import rank_vacant_units, vacant_units

log = logging.getLogger(__name__)

__all__ = ["NEEDS", "STEP", "USES", "vacancy_layer"]

#: Commerce layers the ranking needs (density, demand gap, centres, vacancy rates).
NEEDS = ("base", "surveys", "commercial_units", "retail_centres", "category_gaps")
#: Layers used when their step runs too.
USES = ("bike_network",)


def vacancy_layer(
    base: BaseLayers,
    config: VacancyConfig | None = None,
    *,
    surveys: Mapping[str, gpd.GeoDataFrame] | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    lts_threshold: int = 2,
    as_of: date | None = None,
) -> gpd.GeoDataFrame:
    """The ``vacant_units`` layer: inventory, vacancy rates, criteria, ranking, robustness.

    Parameters
    ----------
    base : BaseLayers
        The district's base layers and graphs.
    config : VacancyConfig, optional
        The ``vacancy`` section (merge distance, preset, weights, method,
        Monte Carlo).
    surveys : mapping, optional
        Survey layers; ``vacant_units`` is used when present.
    layers : mapping, optional
        Layers of earlier steps: ``commercial_units``, ``retail_centres``,
        ``category_gaps`` (commerce) and ``bike_network`` (cycling).  The
        pipeline always gives the commerce layers; criteria that cannot be
        computed without a layer are omitted (``criteria_omitted``).
    lts_threshold : int, default 2
        Highest LTS that is low stress (``cycling.lts_threshold``).
    as_of : date, optional
        Reference date of the vacancy duration (default today).

    Returns
    -------
    GeoDataFrame
        Sorted by rank; see ``docs/architecture.md`` for every column.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.sources.surveys import VACANT_UNITS, read_survey
    >>> from geodistrict.taxonomy import classify_units
    >>> cfg = gd.datasets.sample_config()
    >>> base = gd.datasets.sample_layers()
    >>> survey = read_survey(cfg.surveys.vacant_units, VACANT_UNITS, crs=base.crs)
    >>> layer = vacancy_layer(base, cfg.vacancy, surveys={"vacant_units": survey},
    ...                       layers={"commercial_units": classify_units(base.pois)})
    >>> int(layer["rank"].min()), bool(layer["explanation"].str.len().gt(0).all())
    (1, True)
    """
    cfg = config if config is not None else VacancyConfig()
    layers = layers or {}
    units = vacant_units(
        base.pois, (surveys or {}).get("vacant_units"), merge_distance_m=cfg.merge_distance_m,
        as_of=as_of,
    )  # fmt: skip
    if len(units) == 0:
        log.warning("no vacant unit in the survey nor tagged in OSM: vacant_units is empty")
    area = base.study_area.geometry.union_all()
    outside = ~units.geometry.within(area.buffer(max(cfg.merge_distance_m, 1.0)))
    if outside.any():
        log.info("%d vacant unit(s) lie in the analysis buffer, outside the area",
                 int(outside.sum()))  # fmt: skip
    return rank_vacant_units(
        units, walk_graph=base.walk_graph, pois=base.pois, transit_stops=base.transit_stops,
        streets=base.streets, commercial_units=layers.get("commercial_units"),
        retail_centres=layers.get("retail_centres"), category_gaps=layers.get("category_gaps"),
        bike_network=layers.get("bike_network"), lts_threshold=lts_threshold,
        weights=cfg.weights, preset=cfg.preset, method=cfg.method, runs=cfg.mc_runs,
        spread=cfg.mc_spread, top_k=cfg.top_k, seed=cfg.seed,
    )  # fmt: skip


def _check(config: DistrictConfig) -> None:
    """Preset and criterion names and an all-zero weighting, which only priority knows."""
    try:
        priority.get_preset(config.vacancy.preset)
    except ConfigError as exc:
        raise ConfigError(f"vacancy.preset: {exc}") from None
    try:
        priority.check_weights(config.vacancy.weights, preset=config.vacancy.preset)
    except ConfigError as exc:
        raise ConfigError(f"vacancy.weights: {exc}") from None


def _run(ctx: RunContext) -> dict[str, Any]:
    earlier = {n: ctx.values[n] for n in (*NEEDS[2:], *USES) if n in ctx.values}
    # Vacancy durations count to the survey wave's date, not to the day of the run.
    found, as_of = waves.dated_surveys(ctx["surveys"], wave=ctx.config.surveys.wave,
                                       file=str(ctx.config.surveys.vacant_units))  # fmt: skip
    layer = vacancy_layer(
        ctx["base"], ctx.config.vacancy, surveys=found, layers=earlier,
        lts_threshold=ctx.config.cycling.lts_threshold, as_of=as_of,
    )  # fmt: skip
    if len(layer) == 0:
        ctx.skip("vacant_units", _("no vacant unit: none in the survey and none tagged in OSM"))
        return {}
    omitted = sorted({part for text in layer["criteria_omitted"].dropna() for part in
                      str(text).split("; ") if part})  # fmt: skip
    if omitted:
        ctx.note("vacant_units", _("criteria left out of the ranking: {criteria}").format(
            criteria="; ".join(omitted)))  # fmt: skip
    if "recommended_uses" in layer and not layer["recommended_uses"].fillna("").astype(bool).any():
        ctx.note(
            "vacant_units",
            _(
                "no recommended use: no category is missing or under-represented "
                "(category_gaps) that fits the units"
            ),
        )
    return {"vacant_units": layer}


STEP = Step(
    "vacancy",
    N_("vacant units and their reactivation priority"),
    _run,
    needs=NEEDS,
    uses=USES,
    layers=("vacant_units",),
    check=_check,
)
