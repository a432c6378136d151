"""The pipeline runner: declared steps, ordered from what they need and provide.

A :class:`Step` names what it **needs** (values another step must provide:
the run refuses to start without a provider), what it **uses** when present
(values of other steps of the same run, used to order steps but never
required), the **layers** it writes and the in-memory **data** it hands on
(graphs, survey frames). :func:`order_steps` sorts the selected steps
topologically from those declarations; :func:`run` runs them and writes every
layer and raster at the end as one transaction (a new version of the
outputs, switched to at once: :func:`geodistrict.store.transaction`), so a
failing step or write leaves the previous outputs intact; the output folder
is locked for the whole run.

Analysis modules know nothing of this: each step module in
:mod:`geodistrict.pipeline.steps` reads the configuration and calls the
analyses' public functions.

Examples
--------
>>> import geodistrict as gd, tempfile
>>> result = gd.run(gd.datasets.sample_config(), out=tempfile.mkdtemp(), only=["base"])
>>> result.manifest["layers"]["pois"]["features"] > 1000
True
"""

from __future__ import annotations

import graphlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from geodistrict import store
from geodistrict.config import DistrictConfig
from geodistrict.errors import ConfigError, PipelineError
from geodistrict.i18n import use_language

log = logging.getLogger(__name__)

__all__ = [
    "RunContext",
    "RunResult",
    "Step",
    "check_config",
    "order_steps",
    "run",
    "run_steps",
]


@dataclass
class RunContext:
    """What steps share during one run: the configuration and every value provided so far."""

    config: DistrictConfig
    use_cache: bool = True
    values: dict[str, Any] = field(default_factory=dict)
    #: Raster files by file name: a function that writes the file atomically at the
    #: path it gets and returns its metadata (see :func:`geodistrict.store.add_raster`).
    rasters: dict[str, Callable[[Path], dict[str, Any]]] = field(default_factory=dict)
    #: Declared layers a step could not produce, with the reason, in words.
    skipped: dict[str, str] = field(default_factory=dict)
    #: Warnings about layers that were produced but fall short (e.g. all cells
    #: suppressed, places left out), for the run summary.
    notes: dict[str, list[str]] = field(default_factory=dict)

    def note(self, layer: str, message: str) -> None:
        """Record a warning about ``layer`` for the run summary (logged at WARNING)."""
        log.warning("%s: %s", layer, message)
        self.notes.setdefault(layer, []).append(message)

    def skip(self, layer: str, reason: str) -> None:
        """Record that ``layer`` is not produced in this run, and why (logged at WARNING)."""
        log.warning("layer %s not produced: %s", layer, reason)
        self.skipped[layer] = reason

    def __getitem__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise PipelineError(
                f"no step of this run provided {name!r}; provided so far: "
                f"{sorted(self.values) or 'nothing'}"
            ) from None

    def get(self, name: str, default: Any = None) -> Any:
        """A value if some step of this run provided it, else ``default``."""
        return self.values.get(name, default)


@dataclass(frozen=True)
class Step:
    """One pipeline step and its declarations.

    Attributes
    ----------
    name, description : str
        Shown by ``geodistrict run --only`` and the progress bar.
    func : callable
        ``func(ctx) -> {name: value}``: returns the declared ``layers`` it
        computed and its ``data``; a declared layer it cannot produce must be
        reported with :meth:`RunContext.skip` and a reason in words.
    needs : tuple of str
        Values that must be provided by an earlier step (run automatically).
    uses : tuple of str
        Values used when another step of this run provides them.
    layers : tuple of str
        GeoDataFrames written to the district outputs.
    data : tuple of str
        In-memory values for later steps (not written).
    rasters : tuple of str
        Raster files the step registers in ``RunContext.rasters`` when it can.
    check : callable, optional
        ``check(config)`` raises :class:`~geodistrict.errors.ConfigError` for
        settings only this step can judge; ``geodistrict check`` calls it.
    """

    name: str
    description: str
    func: Callable[[RunContext], Mapping[str, Any]]
    needs: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    data: tuple[str, ...] = ()
    rasters: tuple[str, ...] = ()
    check: Callable[[DistrictConfig], None] | None = None

    @property
    def provides(self) -> tuple[str, ...]:
        """Everything this step provides: its layers and its data."""
        return self.layers + self.data


def _providers(steps: Sequence[Step]) -> dict[str, Step]:
    found: dict[str, Step] = {}
    for step in steps:
        for name in step.provides:
            if name in found:
                raise PipelineError(
                    f"{name!r} is provided by two steps: {found[name].name!r} and {step.name!r}"
                )
            found[name] = step
    return found


def order_steps(
    steps: Sequence[Step], *, only: Iterable[str] | None = None
) -> tuple[list[Step], set[str]]:
    """The steps to run, in an order that respects their declarations.

    Parameters
    ----------
    steps : sequence of Step
        Every known step.
    only : iterable of str, optional
        Run these steps (plus, automatically, the steps providing what they need).

    Returns
    -------
    (ordered steps, names of the selected steps)
        Steps added only because another needs them are run but their
        layers are not written.

    Raises
    ------
    ConfigError
        For an unknown step name in ``only``.
    PipelineError
        When a step needs a value no step provides, or the declarations form a cycle.

    Examples
    --------
    >>> from geodistrict.pipeline import STEPS
    >>> ordered, selected = order_steps(STEPS, only=["vacancy"])
    >>> [s.name for s in ordered], sorted(selected)
    (['base', 'surveys', 'commerce', 'vacancy'], ['vacancy'])
    """
    by_name = {s.name: s for s in steps}
    providers = _providers(steps)
    for step in steps:
        missing = [n for n in step.needs if n not in providers]
        if missing:
            raise PipelineError(
                f"step {step.name!r} needs {missing!r}, which no step provides; the steps "
                f"provide: {', '.join(sorted(providers))}"
            )
    if only:
        wanted = list(dict.fromkeys(only))
        unknown = [name for name in wanted if name not in by_name]
        if unknown:
            raise ConfigError(
                f"unknown step(s) {unknown!r}; the steps are: {', '.join(s.name for s in steps)}"
            )
        selected = set(wanted)
    else:
        selected = set(by_name)
    chosen = set(selected)
    todo = list(chosen)
    while todo:  # add the providers of what the chosen steps need, transitively
        for need in by_name[todo.pop()].needs:
            provider = providers[need].name
            if provider not in chosen:
                chosen.add(provider)
                todo.append(provider)
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for step in steps:  # declaration order breaks ties
        if step.name in chosen:
            before = {
                providers[n].name
                for n in (*step.needs, *step.uses)
                if n in providers and providers[n].name in chosen and providers[n] is not step
            }
            sorter.add(step.name, *before)
    try:
        names = list(sorter.static_order())
    except graphlib.CycleError as exc:
        raise PipelineError(
            f"pipeline steps depend on each other in a cycle: {exc.args[1]}"
        ) from None
    rank = {s.name: i for i, s in enumerate(steps)}
    # static_order is a valid order; re-sort stably by (depth, declaration) for readability
    depth: dict[str, int] = {}
    for name in names:
        step = by_name[name]
        deps = [providers[n].name for n in (*step.needs, *step.uses) if n in providers]
        depth[name] = 1 + max((depth[d] for d in deps if d in depth), default=-1)
    names.sort(key=lambda n: (depth[n], rank[n]))
    return [by_name[n] for n in names], selected


@dataclass(frozen=True)
class RunResult:
    """What a run wrote."""

    folder: Path
    manifest: dict[str, Any]
    written: dict[str, int]
    seconds: dict[str, float]
    #: Layers of the selected steps that were not produced, with the reason.
    skipped: dict[str, str] = field(default_factory=dict)
    #: Warnings about layers of the selected steps (RunContext.note).
    notes: dict[str, list[str]] = field(default_factory=dict)


def check_config(config: DistrictConfig, *, steps: Sequence[Step] | None = None) -> None:
    """Run the configuration checks of the steps (default: every step).

    Raises
    ------
    ConfigError
        From the first step that finds a setting it cannot use.
    """
    if steps is None:
        from geodistrict.pipeline.steps import STEPS

        steps = STEPS
    for step in steps:
        if step.check is not None:
            step.check(config)


def run_steps(
    steps: Sequence[Step],
    ctx: RunContext,
    *,
    on_step: Callable[[Step], None] | None = None,
) -> dict[str, float]:
    """Run already ordered steps on ``ctx``, checking that each keeps its declarations."""
    seconds: dict[str, float] = {}
    for step in steps:
        if on_step is not None:
            on_step(step)
        started = time.perf_counter()
        produced = dict(step.func(ctx))
        extra = sorted(set(produced) - set(step.provides))
        if extra:
            raise PipelineError(f"step {step.name!r} returned undeclared value(s) {extra!r}")
        ctx.values.update(produced)
        silent = [n for n in step.layers if n not in produced and n not in ctx.skipped]
        if silent:
            raise PipelineError(
                f"step {step.name!r} produced neither {silent!r} nor a reason to skip them "
                "(RunContext.skip)"
            )
        seconds[step.name] = round(time.perf_counter() - started, 2)
        log.info("step %s done in %.1f s", step.name, seconds[step.name])
    return seconds


def run(
    config: DistrictConfig,
    *,
    out: str | Path | None = None,
    only: Iterable[str] | None = None,
    use_cache: bool = True,
    on_step: Callable[[Step], None] | None = None,
    steps: Sequence[Step] | None = None,
) -> RunResult:
    """Run a district's pipeline and write its layers.

    Parameters
    ----------
    config : DistrictConfig
        The district configuration.
    out : str or Path, optional
        Output root (default ``config.output.dir``); results go to ``out/<district>/``.
    only : iterable of str, optional
        Run only these steps (see :data:`geodistrict.pipeline.STEPS`) and what
        they need; layers of an earlier run from other steps are kept as they were.
    use_cache : bool, default True
        Reuse cached base layers.
    on_step : callable, optional
        Called with each :class:`Step` before it runs (the CLI shows progress).
    steps : sequence of Step, optional
        The steps to choose from (default :data:`geodistrict.pipeline.STEPS`).

    Returns
    -------
    RunResult
    """
    if steps is None:
        from geodistrict.pipeline.steps import STEPS

        steps = STEPS
    ordered, selected = order_steps(steps, only=only)
    check_config(config, steps=ordered)  # every mistake before any work
    out_root = Path(out) if out is not None else config.output.dir
    folder = store.district_dir(out_root, config.district)
    # One run at a time per output folder: a second one refuses at once, before any work.
    with store.output_lock(folder), use_language(config.language):
        ctx = RunContext(config=config, use_cache=use_cache)
        seconds = run_steps(ordered, ctx, on_step=on_step)
        layers: dict[str, gpd.GeoDataFrame] = {}
        skipped: dict[str, str] = {}
        notes: dict[str, list[str]] = {}
        for step in ordered:
            if step.name in selected:
                layers.update({n: ctx.values[n] for n in step.layers if n in ctx.values})
                skipped.update({n: ctx.skipped[n] for n in step.layers if n in ctx.skipped})
                notes.update({n: ctx.notes[n] for n in step.layers if n in ctx.notes})
        source = config.osm.source + (f": {config.osm.path.name}" if config.osm.path else "")
        # Vectors and rasters are one transaction: visible together, or not at all.
        keep = config.output.keep_versions
        with store.transaction(folder, keep=keep) as tx:
            tx.write_layers(
                layers,
                district=config.district,
                title=config.title,
                language=config.language,
                source=f"OpenStreetMap ({source})",
                config_file=str(config.source_file) if config.source_file else None,
                # What a selected step declares but did not produce this time is stale.
                remove=[
                    name
                    for step in ordered
                    if step.name in selected
                    for name in (*step.layers, *step.rasters)
                    if name not in layers and name not in ctx.rasters
                ],
            )
            for name, write in ctx.rasters.items():
                tx.add_raster(name, write)
        manifest = tx.manifest
    return RunResult(
        folder=folder,
        manifest=manifest,
        written={name: len(gdf) for name, gdf in layers.items()},
        seconds=seconds,
        skipped=skipped,
        notes=notes,
    )
