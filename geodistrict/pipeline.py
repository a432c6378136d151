"""The district pipeline: run the steps in order and write every layer.

``geodistrict run CONFIG`` calls :func:`run`.  Each step is a plain function
that takes the :class:`RunContext` and returns new layers by name; the
pipeline writes them all at the end, atomically, so a failing step leaves the
previous outputs intact.  Later analyses add their steps to :data:`STEPS`.

Examples
--------
>>> import geodistrict as gd, tempfile
>>> result = gd.run(gd.load_config("config/sample.yml"), out=tempfile.mkdtemp())
>>> result.manifest["layers"]["pois"]["features"] > 1000
True
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from geodistrict import store
from geodistrict.area import clip_polygon
from geodistrict.config import DistrictConfig
from geodistrict.errors import ConfigError
from geodistrict.ingest import BaseLayers, load_base_layers
from geodistrict.sources import surveys

log = logging.getLogger(__name__)

__all__ = ["STEPS", "RunContext", "RunResult", "Step", "run"]


@dataclass
class RunContext:
    """What steps share during one run."""

    config: DistrictConfig
    use_cache: bool = True
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    surveys: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    #: Raster files by file name: a function that writes the file atomically at the
    #: path it gets and returns its metadata (see :func:`geodistrict.store.add_raster`).
    rasters: dict[str, Callable[[Path], dict[str, Any]]] = field(default_factory=dict)
    _base: BaseLayers | None = None

    @property
    def base(self) -> BaseLayers:
        """Base layers, loaded (from the cache when possible) on first use."""
        if self._base is None:
            self._base = load_base_layers(self.config, use_cache=self.use_cache)
        return self._base


@dataclass(frozen=True)
class Step:
    """One pipeline step: a name, what it does, and the function doing it."""

    name: str
    description: str
    func: Callable[[RunContext], dict[str, gpd.GeoDataFrame]]


def _base_step(ctx: RunContext) -> dict[str, gpd.GeoDataFrame]:
    return ctx.base.layers()


def _surveys_step(ctx: RunContext) -> dict[str, gpd.GeoDataFrame]:
    """Read and validate the survey files; later steps use them, nothing is written."""
    cfg = ctx.config.surveys
    wanted = [("vacant_units", cfg.vacant_units, surveys.VACANT_UNITS),
              ("firms", cfg.firms, surveys.FIRMS)]  # fmt: skip
    if not any(path for _, path, _ in wanted):
        return {}
    # The base layers already hold the study area: no second lookup of the area.
    area = ctx.base.study_area
    crs = ctx.base.crs
    lonlat = gpd.GeoSeries([clip_polygon(area)], crs=crs).to_crs(4326).iloc[0]
    for name, path, schema in wanted:
        if path is not None:
            ctx.surveys[name] = surveys.read_survey(path, schema, area_lonlat=lonlat, crs=crs)
            log.info("survey %s: %d rows from %s", name, len(ctx.surveys[name]), path)
    return {}


def _commerce_step(ctx: RunContext) -> dict[str, gpd.GeoDataFrame]:
    """Commercial units, density, centres, mix and gaps; the density raster is written later."""
    from geodistrict import commerce

    result = commerce.commerce_layers(
        ctx.base, config=ctx.config.commerce, vacancy=ctx.config.vacancy, surveys=ctx.surveys
    )
    ctx.rasters["commercial_density.tif"] = lambda path: commerce.write_density_raster_entry(
        result.density, path
    )
    return result.layers


def _production_step(ctx: RunContext) -> dict[str, gpd.GeoDataFrame]:
    """Productive district: firms, specialisation, clusters, service sites, needs."""
    from geodistrict import production

    if "firms" not in ctx.surveys and ctx.config.surveys.firms is not None:
        _surveys_step(ctx)  # run with --only production
    firms = ctx.surveys.get("firms")
    if firms is None:
        log.info("production: no firms survey configured (surveys.firms), nothing to do")
        return {}
    return production.production_layers(
        ctx.base, firms, ctx.config.production, vacant_units=ctx.surveys.get("vacant_units")
    )


def _cycling_step(ctx: RunContext) -> dict[str, gpd.GeoDataFrame]:
    """Bike network with LTS, islands, connectivity, gaps, circuit, info points, isochrones."""
    from geodistrict import cycling

    return cycling.cycling_layers(ctx.base, ctx.config.cycling, layers=ctx.layers)


def _vacancy_step(ctx: RunContext) -> dict[str, gpd.GeoDataFrame]:
    """Vacant units with priority criteria, ranking and robustness (uses commerce/cycling)."""
    from geodistrict import vacancy

    if "vacant_units" not in ctx.surveys and ctx.config.surveys.vacant_units is not None:
        _surveys_step(ctx)  # run with --only vacancy
    layer = vacancy.vacancy_layer(
        ctx.base, ctx.config.vacancy, surveys=ctx.surveys, layers=ctx.layers,
        lts_threshold=ctx.config.cycling.lts_threshold,
    )  # fmt: skip
    return {"vacant_units": layer} if len(layer) else {}


STEPS: list[Step] = [
    Step("base", "OSM base layers and street graphs", _base_step),
    Step("surveys", "read and check the survey files", _surveys_step),
    Step("commerce", "commercial density, retail centres, category mix and gaps", _commerce_step),
    Step("production", "firms, specialisation, clusters, service sites, needs", _production_step),
    # Before vacancy, whose priority criteria use bike_network.
    Step("cycling", "traffic stress, low-stress islands, gaps, circuits", _cycling_step),
    Step("vacancy", "vacant units and their reactivation priority", _vacancy_step),
]


@dataclass(frozen=True)
class RunResult:
    """What a run wrote."""

    folder: Path
    manifest: dict[str, Any]
    written: dict[str, int]
    seconds: dict[str, float]


def _select(only: Iterable[str] | None) -> list[Step]:
    if not only:
        return list(STEPS)
    known = {s.name for s in STEPS}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise ConfigError(
            f"unknown step(s) {unknown!r}; the steps are: {', '.join(s.name for s in STEPS)}"
        )
    wanted = set(only)
    return [s for s in STEPS if s.name in wanted]


def run(
    config: DistrictConfig,
    *,
    out: str | Path | None = None,
    only: Iterable[str] | None = None,
    use_cache: bool = True,
    on_step: Callable[[Step], None] | None = None,
) -> RunResult:
    """Run a district's pipeline and write its layers.

    Parameters
    ----------
    config : DistrictConfig
        The district configuration.
    out : str or Path, optional
        Output root (default ``config.output.dir``); results go to ``out/<district>/``.
    only : iterable of str, optional
        Run only these steps (see :data:`STEPS`); other layers of an earlier run
        are kept as they were.
    use_cache : bool, default True
        Reuse cached base layers.
    on_step : callable, optional
        Called with each :class:`Step` before it runs (the CLI shows progress).

    Returns
    -------
    RunResult
    """
    steps = _select(only)
    ctx = RunContext(config=config, use_cache=use_cache)
    seconds: dict[str, float] = {}
    for step in steps:
        if on_step is not None:
            on_step(step)
        started = time.perf_counter()
        ctx.layers.update(step.func(ctx))
        seconds[step.name] = round(time.perf_counter() - started, 2)
        log.info("step %s done in %.1f s", step.name, seconds[step.name])
    out_root = Path(out) if out is not None else config.output.dir
    source = config.osm.source + (f": {config.osm.path.name}" if config.osm.path else "")
    manifest = store.write_layers(
        ctx.layers,
        out_root,
        district=config.district,
        title=config.title,
        source=f"OpenStreetMap ({source})",
        config_file=str(config.source_file) if config.source_file else None,
    )
    for name, write in ctx.rasters.items():  # after the vector layers succeeded
        manifest = store.add_raster(store.district_dir(out_root, config.district), name, write)
    return RunResult(
        folder=store.district_dir(out_root, config.district),
        manifest=manifest,
        written={name: len(gdf) for name, gdf in ctx.layers.items()},
        seconds=seconds,
    )
