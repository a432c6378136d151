"""Shared builders of small synthetic test data: grid graphs and point layers.

Use these instead of building graphs and points by hand in each test file, so
that every ground-truth test reads the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
from shapely.geometry import Point

from geodistrict.datasets import grid_graph

__all__ = ["CRS", "grid_graph", "points", "square_grid"]

#: The projected CRS of the synthetic data (UTM 32N, northern Italy).
CRS = "EPSG:32632"


def square_grid(n: int, step: float = 100.0, *, crs: str = CRS) -> nx.MultiDiGraph:
    """An n x n two-way grid, ``step`` metres apart; node ``r * n + c`` at (c*step, r*step)."""
    return grid_graph(n, n, spacing_m=step, crs=crs)


def points(
    coords: Iterable[tuple[float, float]] | Sequence[Mapping[str, Any]],
    *,
    crs: str = CRS,
    index: Sequence[Any] | None = None,
    **columns: Any,
) -> gpd.GeoDataFrame:
    """Points from ``(x, y)`` pairs, or from dicts with ``x``, ``y`` and other columns.

    Examples
    --------
    >>> points([(0, 0), (10, 5)], category=["food", "fashion"]).geometry.x.tolist()
    [0.0, 10.0]
    >>> points([{"x": 1, "y": 2, "kind": "a"}])["kind"].tolist()
    ['a']
    """
    rows = list(coords)
    if rows and isinstance(rows[0], Mapping):
        frame = pd.DataFrame(rows)
        xy = list(zip(frame.pop("x"), frame.pop("y"), strict=True))
    else:
        frame = pd.DataFrame(index=range(len(rows)))
        xy = [(float(x), float(y)) for x, y in rows]  # type: ignore[misc]
    for name, values in columns.items():
        frame[name] = values
    out = gpd.GeoDataFrame(frame, geometry=[Point(x, y) for x, y in xy], crs=crs)
    if index is not None:
        out.index = pd.Index(index)
    return out
