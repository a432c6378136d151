"""Step ``vacancy``: vacant units and their reactivation priority."""

from __future__ import annotations

from typing import Any

from geodistrict import vacancy
from geodistrict.pipeline.runner import RunContext, Step

USES = ("commercial_units", "retail_centres", "category_gaps", "bike_network")


def _run(ctx: RunContext) -> dict[str, Any]:
    earlier = {n: ctx.values[n] for n in USES if n in ctx.values}
    layer = vacancy.vacancy_layer(
        ctx["base"], ctx.config.vacancy, surveys=ctx["surveys"], layers=earlier,
        lts_threshold=ctx.config.cycling.lts_threshold,
    )  # fmt: skip
    return {"vacant_units": layer} if len(layer) else {}


STEP = Step(
    "vacancy",
    "vacant units and their reactivation priority",
    _run,
    needs=("base", "surveys"),
    uses=USES,
    layers=("vacant_units",),
)
