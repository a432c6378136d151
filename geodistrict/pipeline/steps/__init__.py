"""Every pipeline step, one module each; :data:`STEPS` lists them in declaration order."""

from geodistrict.pipeline.runner import Step
from geodistrict.pipeline.steps import (
    base,
    commerce,
    cycling,
    indicators,
    production,
    surveys,
    vacancy,
)

#: The known steps; the runner orders them from their declarations.
STEPS: list[Step] = [
    base.STEP,
    surveys.STEP,
    commerce.STEP,
    production.STEP,
    cycling.STEP,
    vacancy.STEP,
    indicators.STEP,
]

__all__ = ["STEPS"]
