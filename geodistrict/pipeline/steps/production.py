"""Step ``production``: firms, specialisation, clusters, service sites, needs."""

from __future__ import annotations

import logging
from typing import Any

from geodistrict import production
from geodistrict.pipeline.runner import RunContext, Step

log = logging.getLogger(__name__)

LAYERS = (
    "firms",
    "sector_specialisation",
    "firm_clusters",
    "service_sites",
    "production_needs",
)


def _run(ctx: RunContext) -> dict[str, Any]:
    surveys = ctx["surveys"]
    firms = surveys.get("firms")
    if firms is None:
        log.info("production: no firms survey configured (surveys.firms), nothing to do")
        return {}
    return dict(
        production.production_layers(
            ctx["base"], firms, ctx.config.production, vacant_units=surveys.get("vacant_units")
        )
    )


STEP = Step(
    "production",
    "firms, specialisation, clusters, service sites, needs",
    _run,
    needs=("base", "surveys"),
    layers=LAYERS,
)
