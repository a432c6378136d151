"""Step ``surveys``: read and check the district's survey files (nothing is written).

``geodistrict run`` and ``geodistrict check`` both read the surveys through
this step, so they apply the same checks; every configured file is read before
any error is raised, and one :class:`~geodistrict.errors.SurveyError` lists
the problems of all of them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd

from geodistrict.area import clip_polygon
from geodistrict.pipeline.runner import RunContext, Step
from geodistrict.sources import surveys

log = logging.getLogger(__name__)


def _run(ctx: RunContext) -> dict[str, Any]:
    cfg = ctx.config.surveys
    wanted: dict[str, tuple[str | Path, surveys.SurveySchema]] = {}
    if cfg.vacant_units is not None:
        wanted["vacant_units"] = (cfg.vacant_units, surveys.VACANT_UNITS)
    if cfg.firms is not None:
        wanted["firms"] = (cfg.firms, surveys.FIRMS)
    if not wanted:
        return {"surveys": {}}
    # The base layers already hold the study area: no second lookup of the area.
    base = ctx["base"]
    lonlat = gpd.GeoSeries([clip_polygon(base.study_area)], crs=base.crs).to_crs(4326).iloc[0]
    found: dict[str, gpd.GeoDataFrame] = surveys.read_surveys(
        wanted, area_lonlat=lonlat, crs=base.crs
    )
    return {"surveys": found}


STEP = Step(
    "surveys",
    "read and check the survey files",
    _run,
    needs=("base",),
    data=("surveys",),
)
