"""Step ``cycling``: traffic stress, low-stress islands, connectivity, gaps, circuit."""

from __future__ import annotations

from typing import Any

from geodistrict import cycling
from geodistrict.pipeline.runner import RunContext, Step

LAYERS = (
    "bike_network",
    "low_stress_islands",
    "bike_connectivity",
    "bike_gaps",
    "bike_circuits",
    "info_points",
    "isochrones",
)


def _run(ctx: RunContext) -> dict[str, Any]:
    earlier: dict[str, Any] = {
        n: ctx.values[n] for n in ("commercial_units", "retail_centres") if n in ctx.values
    }
    return dict(cycling.cycling_layers(ctx["base"], ctx.config.cycling, layers=earlier))


STEP = Step(
    "cycling",
    "traffic stress, low-stress islands, gaps, circuits",
    _run,
    needs=("base",),
    uses=("commercial_units", "retail_centres"),
    layers=LAYERS,
)
