"""Step ``base``: the OSM base layers and the street graphs.

A base layer with no feature (no transit stop, no building, no landuse in the
study area) is not written; it is reported as skipped with the reason, and
the empty, typed frame stays in :class:`~geodistrict.ingest.BaseLayers` for
the other steps.
"""

from __future__ import annotations

from typing import Any

from geodistrict.config import DistrictConfig
from geodistrict.i18n import N_
from geodistrict.ingest import BASE_LAYERS, load_base_layers
from geodistrict.pipeline.runner import RunContext, Step
from geodistrict.pipeline.steps._outcome import nonempty

#: Why a base layer can be empty, in words.
EMPTY_REASONS = {
    "streets": N_("no street in the OSM data of the study area"),
    "pois": N_(
        "no point of interest (shop, amenity, office, craft...) in the OSM data of the study area"
    ),
    "buildings": N_("no building in the OSM data of the study area"),
    "landuse": N_("no landuse polygon in the OSM data of the study area"),
    "transit_stops": N_("no transit stop or station in the OSM data of the study area"),
}


def _check(config: DistrictConfig) -> None:
    """The OSM extract of a ``pbf`` or ``xml`` source must exist (``geodistrict check``)."""
    if config.osm.source in ("pbf", "xml"):
        config.osm.extract()


def _run(ctx: RunContext) -> dict[str, Any]:
    base = load_base_layers(ctx.config, use_cache=ctx.use_cache)
    return {"base": base, **nonempty(ctx, base.layers(), EMPTY_REASONS)}


STEP = Step(
    "base",
    N_("OSM base layers and street graphs"),
    _run,
    layers=BASE_LAYERS,
    data=("base",),
    check=_check,
)
