"""Step ``surveys``: read and check the district's survey files (nothing is written)."""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd

from geodistrict.area import clip_polygon
from geodistrict.pipeline.runner import RunContext, Step
from geodistrict.sources import surveys

log = logging.getLogger(__name__)


def _run(ctx: RunContext) -> dict[str, Any]:
    cfg = ctx.config.surveys
    wanted = [("vacant_units", cfg.vacant_units, surveys.VACANT_UNITS),
              ("firms", cfg.firms, surveys.FIRMS)]  # fmt: skip
    found: dict[str, gpd.GeoDataFrame] = {}
    if any(path for _, path, _ in wanted):
        # The base layers already hold the study area: no second lookup of the area.
        base = ctx["base"]
        lonlat = gpd.GeoSeries([clip_polygon(base.study_area)], crs=base.crs).to_crs(4326).iloc[0]
        for name, path, schema in wanted:
            if path is not None:
                found[name] = surveys.read_survey(path, schema, area_lonlat=lonlat, crs=base.crs)
                log.info("survey %s: %d rows from %s", name, len(found[name]), path)
    return {"surveys": found}


STEP = Step(
    "surveys",
    "read and check the survey files",
    _run,
    needs=("base",),
    data=("surveys",),
)
