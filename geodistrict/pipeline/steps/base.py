"""Step ``base``: the OSM base layers and the street graphs."""

from __future__ import annotations

from typing import Any

from geodistrict.ingest import BASE_LAYERS, load_base_layers
from geodistrict.pipeline.runner import RunContext, Step


def _run(ctx: RunContext) -> dict[str, Any]:
    base = load_base_layers(ctx.config, use_cache=ctx.use_cache)
    return {"base": base, **base.layers()}


STEP = Step(
    "base",
    "OSM base layers and street graphs",
    _run,
    layers=BASE_LAYERS,
    data=("base",),
)
