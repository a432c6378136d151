"""Step ``commerce``: commercial units, density, retail centres, category mix and gaps."""

from __future__ import annotations

from typing import Any

from geodistrict import commerce
from geodistrict.pipeline.runner import RunContext, Step

LAYERS = (
    "commercial_units",
    "commercial_hex",
    "street_frontage",
    "commercial_access",
    "retail_centres",
    "category_gaps",
)


def _run(ctx: RunContext) -> dict[str, Any]:
    result = commerce.commerce_layers(
        ctx["base"],
        config=ctx.config.commerce,
        vacancy=ctx.config.vacancy,
        surveys=ctx["surveys"],
    )
    ctx.rasters["commercial_density.tif"] = lambda path: commerce.write_density_raster_entry(
        result.density, path
    )
    return dict(result.layers)


STEP = Step(
    "commerce",
    "commercial density, retail centres, category mix and gaps",
    _run,
    needs=("base", "surveys"),
    layers=LAYERS,
)
