"""The district pipeline: declared steps run in the order their inputs dictate.

``geodistrict run CONFIG`` calls :func:`run`. The runner lives in
:mod:`~geodistrict.pipeline.runner`; each step, with the configuration glue
that calls the analyses, in a module of :mod:`~geodistrict.pipeline.steps`.
"""

from geodistrict.pipeline.runner import (
    RunContext,
    RunResult,
    Step,
    check_config,
    order_steps,
    run,
    run_steps,
)
from geodistrict.pipeline.steps import STEPS

__all__ = [
    "STEPS",
    "RunContext",
    "RunResult",
    "Step",
    "check_config",
    "order_steps",
    "run",
    "run_steps",
]
