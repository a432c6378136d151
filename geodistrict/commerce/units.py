"""Counting units by category: diversity indices, dominant categories, shared checks.

The building blocks every commerce layer uses: counts of units per category
within groups (hexagons, street segments, centres), Shannon entropy and Hill
numbers of those counts, the dominant categories, and the front-door check
that a planner's own units carry the columns an analysis needs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geodistrict import _validate

log = logging.getLogger(__name__)

__all__ = ["CLASSIFY_HINT", "diversity"]

#: How to give a planner's own points the ``category``/``subcategory`` columns.
CLASSIFY_HINT = (
    "classify them first, e.g. units = gd.classify_units(pois) (OSM tags to the taxonomy's "
    "categories), or add the column yourself with the taxonomy's category keys"
)


def require_units(
    units: gpd.GeoDataFrame, *, what: str = "units", columns: Iterable[str] = ("category",)
) -> gpd.GeoDataFrame:
    """Check that ``units`` is a projected GeoDataFrame with the given columns."""
    _validate.projected_frame(units, what=what)
    return _validate.require_columns(units, columns, what=what, hint=CLASSIFY_HINT)


def diversity(counts: Any) -> dict[str, float]:
    """Shannon entropy and Hill numbers of a vector of counts per category.

    ``shannon`` is ``H = -sum p ln p``; the Hill numbers are ``hill_q0``
    (richness: categories present), ``hill_q1 = exp(H)`` and
    ``hill_q2 = 1 / sum p^2`` (effective numbers of categories).  All zero
    when there is nothing to count.

    Examples
    --------
    >>> d = diversity([10, 10, 0])
    >>> d["hill_q0"], round(d["hill_q1"], 6), round(d["hill_q2"], 6)
    (2.0, 2.0, 2.0)
    """
    c = np.asarray(counts, dtype=float)
    c = c[c > 0]
    if c.size == 0:
        return {"shannon": 0.0, "hill_q0": 0.0, "hill_q1": 0.0, "hill_q2": 0.0}
    p = c / c.sum()
    h = float(-(p * np.log(p)).sum())
    return {
        "shannon": h,
        "hill_q0": float(c.size),
        "hill_q1": float(np.exp(h)),
        "hill_q2": float(1.0 / (p**2).sum()),
    }


def counts_by_category(
    frame: pd.DataFrame, group: str | None, categories: list[str]
) -> pd.DataFrame:
    """Units per ``group`` value (rows) and category (columns, in ``categories`` order)."""
    keys = frame[group] if group is not None else pd.Series(0, index=frame.index)
    table = pd.crosstab(keys, frame["category"]) if len(frame) else pd.DataFrame()
    return table.reindex(columns=categories, fill_value=0).astype(np.int64)


def diversity_columns(counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`diversity` of each row of a counts table, one column per index."""
    rows = [diversity(row) for row in counts.to_numpy()]
    return pd.DataFrame(rows, index=counts.index, columns=["shannon", "hill_q0", "hill_q1",
                                                           "hill_q2"])  # fmt: skip


def dominant(counts: pd.DataFrame, rank: int) -> pd.Series:
    """The category at ``rank`` (0 = largest) of each row, ``None`` when it has no unit."""
    values = counts.to_numpy()
    if values.shape[1] <= rank:
        return pd.Series([None] * len(counts), index=counts.index, dtype=object)
    order = np.argsort(-values, axis=1, kind="stable")[:, rank]
    names = np.asarray(counts.columns, dtype=object)[order]
    picked = values[np.arange(len(values)), order]
    return pd.Series(
        [n if v > 0 else None for n, v in zip(names, picked, strict=True)],
        index=counts.index,
        dtype=object,
    )


def categories_of(units: pd.DataFrame, categories: list[str] | None) -> list[str]:
    """The categories to count: those given, else those present (sorted)."""
    return list(categories) if categories is not None else sorted(units["category"].unique())


def area_polygon(area: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry) -> BaseGeometry:
    """The study area as one valid polygonal geometry (a frame's rows are unioned)."""
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        _validate.projected_crs(area.crs, what="study area")
        geom = shapely.union_all(area.geometry.to_numpy())
    else:
        geom = area
    return _validate.area_geometry(geom)


def polygonal(geom: BaseGeometry) -> MultiPolygon:
    """``geom`` as a MultiPolygon (its polygon parts; empty when it has none)."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    return MultiPolygon(parts)
