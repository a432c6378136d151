"""Step ``surveys``: read and check the district's survey files (nothing is written).

``geodistrict run`` and ``geodistrict check`` both read the surveys through
this step, so they apply the same checks; every configured file is read before
any error is raised, and one :class:`~geodistrict.errors.SurveyError` lists
the problems of all of them.

With ``surveys.geocode`` (the default), rows that have an address and no
position are placed offline from the OSM extract
(:mod:`geodistrict.geocode`). The business register (``surveys.business_register``)
is read with :func:`geodistrict.sources.register.read_register` and always
geocoded (a register has addresses, not coordinates). How unplaced rows are
treated:

* register units that no address matches are **kept** in ``surveys["register"]``
  without geometry (``geocode_quality = "unmatched"``): they count in the
  coverage and response rates by comune and sector, which need no position;
* survey rows (vacant units, firms) that no address matches are left out of
  the frames the analyses get (they need a position) and kept, without
  geometry, in ``surveys["unplaced"]`` (column ``survey``);
* either way each unmatched row is logged at WARNING with its row number and
  address, and the run summary notes how many (``ctx.note``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geodistrict.area import clip_polygon
from geodistrict.config import DistrictConfig
from geodistrict.errors import GeodistrictError
from geodistrict.geocode import AddressIndex, address_index, geocode
from geodistrict.i18n import N_, _, ngettext
from geodistrict.ingest import BaseLayers
from geodistrict.pipeline.runner import RunContext, Step
from geodistrict.sources import osm, surveys
from geodistrict.sources.register import read_register, register_points

log = logging.getLogger(__name__)

#: Unmatched rows listed one by one in the log before "and N more".
_LISTED = 20
#: How a survey row was placed from its address (``geocode_quality``), in words.
GEOCODE_QUALITIES = {
    "exact": N_("exact"),
    "interpolated": N_("interpolated"),
    "street": N_("on the street"),
    "unmatched": N_("unmatched"),
}


def address_index_for(config: DistrictConfig, base: BaseLayers) -> AddressIndex:
    """The address index of a district: base layers, the extract's address nodes, comuni.

    Address nodes, entrances and interpolation ways are read from the local
    extract (sources ``sample``, ``pbf``, ``xml``) with
    :func:`geodistrict.sources.osm.read_address_points`; the comuni are the
    extract's ``admin_level=8`` boundaries. With ``overpass`` only the base
    layers are used.

    Examples
    --------
    >>> import geodistrict as gd
    >>> index = address_index_for(gd.datasets.sample_config(), gd.datasets.sample_layers())
    >>> len(index) > 1000
    True
    """
    lonlat = gpd.GeoSeries([clip_polygon(base.study_area)], crs=base.crs).to_crs(4326).iloc[0]
    extra = municipalities = None
    source = config.osm.source
    if source in ("sample", "pbf", "xml"):
        path = osm.sample_pbf_path() if source == "sample" else config.osm.extract()
        try:
            extra = osm.read_address_points(path, lonlat).to_crs(base.crs)
        except GeodistrictError as exc:
            log.warning("address nodes not read from %s: %s", path, exc)
        if source != "sample":
            from geodistrict.area import _extract_boundaries

            bounds = _extract_boundaries(config)
            bounds = bounds[(bounds["admin_level"] == 8) & bounds.intersects(lonlat)]
            municipalities = bounds.to_crs(base.crs) if len(bounds) else None
    return address_index(
        pois=base.pois,
        buildings=base.buildings,
        streets=base.streets,
        extra=extra,
        municipalities=municipalities,
    )


def _report(ctx: RunContext, name: str, frame: gpd.GeoDataFrame, address: str) -> None:
    """Log every unmatched row and note how the rows were placed."""
    quality = frame["geocode_quality"]
    placed = quality[quality != "given"]
    if len(placed) == 0:
        return
    counts = placed.value_counts()
    shown = ", ".join(f"{counts.get(q, 0)} {q}" for q in ("exact", "interpolated", "street",
                                                          "unmatched"))  # fmt: skip
    log.info("%s: %d rows geocoded from their address: %s", name, len(placed), shown)
    lost = frame[quality == "unmatched"]
    if len(lost):
        rows = lost["source_row"] if "source_row" in lost else pd.Series(lost.index + 2)
        lines = [
            f"row {r}: {a!r} ({n})"
            for r, a, n in zip(rows, lost[address], lost["geocode_note"], strict=True)
        ]
        more = f"; and {len(lines) - _LISTED} more" if len(lines) > _LISTED else ""
        log.warning("%s: %d address(es) not found in the OSM extract: %s%s", name, len(lost),
                    "; ".join(lines[:_LISTED]), more)  # fmt: skip
    shown_words = ", ".join(
        f"{counts.get(q, 0)} {_(GEOCODE_QUALITIES[q])}" for q in GEOCODE_QUALITIES
    )
    ctx.note(name, ngettext(
        "{n} row placed from its address ({qualities}); unmatched rows have no position "
        "(listed in the log)",
        "{n} rows placed from their address ({qualities}); unmatched rows have no position "
        "(listed in the log)", len(placed),
    ).format(n=len(placed), qualities=shown_words))  # fmt: skip


def _geocode_surveys(
    ctx: RunContext, found: dict[str, gpd.GeoDataFrame], index: AddressIndex
) -> dict[str, gpd.GeoDataFrame]:
    """Place survey rows without a position; unplaced rows move to ``found["unplaced"]``."""
    unplaced = []
    for name in list(found):
        frame = found[name]
        missing = frame.geometry.isna() | frame.geometry.is_empty
        if not missing.any():
            continue
        address = "address" if "address" in frame.columns else None
        if address is None:
            ctx.note(name, ngettext(
                "{n} row has no position and the survey has no address column to place it: "
                "left out of the analyses",
                "{n} rows have no position and the survey has no address column to place "
                "them: left out of the analyses", int(missing.sum()),
            ).format(n=int(missing.sum())))  # fmt: skip
            unplaced.append(frame[missing].assign(survey=name))
            found[name] = frame[~missing]
            continue
        placed = geocode(frame, index, address=address)
        _report(ctx, name, placed, address)
        lost = placed["geocode_quality"] == "unmatched"
        if lost.any():
            unplaced.append(placed[lost].assign(survey=name))
        found[name] = placed[~lost]
    if unplaced:
        found["unplaced"] = gpd.GeoDataFrame(pd.concat(unplaced), crs=ctx["base"].crs)
    return found


def _run(ctx: RunContext) -> dict[str, Any]:
    cfg = ctx.config.surveys
    wanted: dict[str, tuple[str | Path, surveys.SurveySchema]] = {}
    if cfg.vacant_units is not None:
        wanted["vacant_units"] = (cfg.vacant_units, surveys.VACANT_UNITS)
    if cfg.firms is not None:
        wanted["firms"] = (cfg.firms, surveys.FIRMS)
    if not wanted and cfg.business_register is None:
        return {"surveys": {}}
    # The base layers already hold the study area: no second lookup of the area.
    base = ctx["base"]
    lonlat = gpd.GeoSeries([clip_polygon(base.study_area)], crs=base.crs).to_crs(4326).iloc[0]
    found: dict[str, gpd.GeoDataFrame] = (
        surveys.read_surveys(wanted, area_lonlat=lonlat, crs=base.crs) if wanted else {}
    )
    register = read_register(cfg.business_register) if cfg.business_register is not None else None
    needs_places = (
        any((f.geometry.isna() | f.geometry.is_empty).any() for f in found.values())
        or register is not None
    )
    if not needs_places:
        return {"surveys": found}
    index = address_index_for(ctx.config, base) if cfg.geocode or register is not None else None
    if cfg.geocode and index is not None:
        found = _geocode_surveys(ctx, found, index)
    if register is not None and index is not None:
        points = register_points(register, crs=base.crs)
        placed = geocode(points, index, address="address", number="street_number",
                         municipality="municipality", postcode="postcode")  # fmt: skip
        _report(ctx, "register", placed, "address")
        found["register"] = placed
    return {"surveys": found}


STEP = Step(
    "surveys",
    N_("read and check the survey files; place rows without coordinates from their address"),
    _run,
    needs=("base",),
    data=("surveys",),
)
