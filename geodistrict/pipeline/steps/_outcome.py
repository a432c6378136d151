"""What the step modules share: layers the data cannot give are skipped with a reason.

The rule of every step (issue 11): a run goes to the end on any district. An
analysis that cannot produce a result from the data it is given raises
:class:`~geodistrict.errors.EmptyAreaError` with the reason in words (no shop,
no key place, a one-node graph...); the step turns it into
:meth:`RunContext.skip <geodistrict.pipeline.runner.RunContext.skip>` for the
layers concerned and goes on with the others. A layer that comes out with no
rows is not written either: it is skipped with the reason. Anything that falls
short without failing (places left out, cells suppressed) is a
:meth:`RunContext.note <geodistrict.pipeline.runner.RunContext.note>`. Both are
logged at WARNING and listed in the run summary.

The step functions of :mod:`geodistrict.pipeline.steps` also run outside a
pipeline (notebooks, doctests): :class:`Report` then collects what a
:class:`~geodistrict.pipeline.runner.RunContext` would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import geopandas as gpd

from geodistrict.errors import EmptyAreaError
from geodistrict.i18n import N_, _

log = logging.getLogger(__name__)

__all__ = ["Report", "Reporter", "attempt", "nonempty"]


class Reporter(Protocol):
    """Anything with ``skip`` and ``note``, like :class:`geodistrict.pipeline.RunContext`."""

    def skip(self, layer: str, reason: str) -> None: ...  # pragma: no cover - protocol

    def note(self, layer: str, message: str) -> None: ...  # pragma: no cover - protocol


@dataclass
class Report:
    """Skips and notes collected outside a pipeline run (logged at WARNING, as in a run)."""

    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, layer: str, reason: str) -> None:
        """Record that ``layer`` is not produced, and why."""
        log.warning("layer %s not produced: %s", layer, reason)
        self.skipped[layer] = reason

    def note(self, layer: str, message: str) -> None:
        """Record a warning about a produced ``layer``."""
        log.warning("%s: %s", layer, message)
        self.notes.setdefault(layer, []).append(message)


def attempt[T](report: Reporter, layers: Iterable[str], func: Callable[[], T]) -> T | None:
    """``func()``; None, with ``layers`` skipped, when the data cannot give it (EmptyAreaError)."""
    try:
        return func()
    except EmptyAreaError as exc:
        for layer in layers:
            report.skip(layer, str(exc))
        return None


def nonempty(
    report: Reporter,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    reasons: Mapping[str, str] | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """The layers that have rows; each empty one is skipped with its reason.

    ``None`` stands for a layer already skipped (by :func:`attempt`); it is
    left out silently. ``reasons`` gives the reason of an empty layer in
    words, marked with :func:`~geodistrict.i18n.N_` (it is translated here) or
    already translated; without one the reason says the layer has no feature.
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    for name, layer in layers.items():
        if layer is None:
            continue
        if len(layer) == 0:
            reason = (reasons or {}).get(name) or N_("no feature in the study area for this layer")
            report.skip(name, _(reason))
            continue
        out[name] = layer
    return out
