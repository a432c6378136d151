"""Isochrones: the areas reached within given minutes on foot, by bike, at low stress.

The streets reached from each source (edges cut where the time runs out) are
sampled, marked on a grid and dilated into polygons (:class:`_Raster`): a
raster buffer, much faster than unioning line buffers and accurate to about
one cell. Distances come from :mod:`geodistrict.network` (whole millimetres).

Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geodistrict import _validate
from geodistrict.cycling._common import (
    check_threshold,
    edge_geoms,
    edge_lengths,
    edge_lts,
    points_of,
)
from geodistrict.cycling.lts import _scored
from geodistrict.errors import ParameterError
from geodistrict.network import (
    GraphArrays,
    NodeTargets,
    graph_arrays,
    local_distances,
    nearest_nodes,
)

log = logging.getLogger(__name__)

__all__ = ["isochrones"]


class _Raster:
    """A grid over some points that turns a subset of them into buffered polygons."""

    def __init__(self, xy: np.ndarray, cell: float, buffer: float) -> None:
        pad = buffer + 2 * cell
        self.x0, self.y1 = xy[:, 0].min() - pad, xy[:, 1].max() + pad
        self.cell = cell
        self.shape = (
            int(np.ceil((self.y1 - xy[:, 1].min() + pad) / cell)) + 1,
            int(np.ceil((xy[:, 0].max() + pad - self.x0) / cell)) + 1,
        )
        r = int(np.ceil(buffer / cell))
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        self.disk = (xx**2 + yy**2) * cell**2 <= buffer**2

    def polygon(self, xy: np.ndarray, *, whole: bool = False) -> Any:
        """The cells of ``xy`` dilated by the buffer, as one (multi)polygon.

        Only the window of the grid around the points is drawn (the points'
        cells grown by the buffer and one empty cell), so the work follows the
        area reached, not the extent of the network; ``whole=True`` draws the
        whole grid (the reference: the same polygon).
        """
        from rasterio import features
        from scipy import ndimage

        rows = np.clip(((self.y1 - xy[:, 1]) / self.cell).astype(int), 0, self.shape[0] - 1)
        cols = np.clip(((xy[:, 0] - self.x0) / self.cell).astype(int), 0, self.shape[1] - 1)
        margin = self.disk.shape[0] // 2 + 1
        r0, c0, r1, c1 = 0, 0, *self.shape
        if not whole:
            r0, c0 = max(rows.min() - margin, 0), max(cols.min() - margin, 0)
            r1, c1 = min(rows.max() + margin + 1, r1), min(cols.max() + margin + 1, c1)
        grid = np.zeros((r1 - r0, c1 - c0), dtype=bool)
        grid[rows - r0, cols - c0] = True
        grid = ndimage.binary_dilation(grid, structure=self.disk)
        # Polygons in whole cells (exact), then placed on the grid as GDAL would place
        # them with the whole grid's transform: x0 + col * cell, y1 - row * cell.
        shapes = features.shapes(grid.astype(np.uint8), mask=grid)
        polys = shapely.transform(
            [shapely.geometry.shape(g) for g, _ in shapes],
            lambda p: np.column_stack([
                self.x0 + (p[:, 0] + c0) * self.cell, self.y1 + (p[:, 1] + r0) * -self.cell
            ]),
        )  # fmt: skip
        return shapely.union_all(polys)


def _reached_points(
    net: GraphArrays,
    nodes: np.ndarray,
    points_at: NodeTargets,
    pt_off: np.ndarray,
    limit_m: float,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each source node, the sample points on edges leaving a reached node.

    Returns, per source (in order), the indices of those points and their
    distance from the source (m): the distance to the edge's start plus the
    point's offset along it. Each source searches its own neighbourhood
    (:func:`~geodistrict.network.local_distances`), so the work follows the
    area reached, not the network.
    """
    out: list[tuple[np.ndarray, np.ndarray]] = [
        (np.zeros(0, dtype=np.int64), np.zeros(0)) for _ in range(len(nodes))
    ]
    if len(nodes) == 0:
        return out
    for which, searched, dist in local_distances(net, nodes, cutoff_m=limit_m):
        reached = np.isfinite(dist)
        for k, i in enumerate(which):
            picked, column = points_at.on(searched[reached[k]])
            out[i] = (picked, dist[k][reached[k]][column] / 1000.0 + pt_off[picked])
    return out


def isochrones(
    graphs: Mapping[str, nx.MultiDiGraph],
    sources: gpd.GeoDataFrame,
    *,
    minutes: Iterable[int] = (5, 10, 15),
    speeds_kmh: Mapping[str, float] | None = None,
    threshold: int = 2,
    buffer_m: float = 30.0,
    cell_m: float = 10.0,
) -> gpd.GeoDataFrame:
    """Areas reached within given minutes from each source, by mode.

    Each source is snapped, per mode, to the nearest node of the largest
    strongly connected part of that mode's network (for ``bike_low_stress``,
    of the low-stress network), so that a source on a dead-end or one-way
    street never starts in a trap: a longer time never reaches less. The
    straight-line snap distance is reported (``snap_m``). The streets reached
    (edges cut where the time runs out) are sampled every ``cell_m``, marked on
    a ``cell_m`` grid, dilated by ``buffer_m`` and turned into polygons.

    Parameters
    ----------
    graphs : mapping
        Graph per mode: ``"walk"``, ``"bike"``; a ``"bike"`` graph also gives
        ``"bike_low_stress"`` (only edges at LTS <= ``threshold``). Projected
        graphs, e.g. ``BaseLayers.walk_graph`` or an osmnx graph after
        ``ox.project_graph``; bike graphs are scored with :func:`add_lts`
        defaults when they carry no ``lts``.
    sources : GeoDataFrame
        Points (or polygons, taken at a point inside) with optional ``name``
        and ``kind``, in the graphs' projected CRS.
    minutes : iterable of int, default (5, 10, 15)
        Travel times.
    speeds_kmh : mapping, optional
        Speed per mode (default walk 4.8, bike 15 km/h).
    threshold : int, default 2
        Highest stress level that counts as low.
    buffer_m : float, default 30
        Buffer around the reached streets (m).
    cell_m : float, default 10
        Grid cell and sampling step (m).

    Returns
    -------
    GeoDataFrame
        Polygons: ``source``, ``source_kind``, ``mode``, ``minutes``,
        ``speed_kmh``, ``distance_m``, ``snap_m`` (straight line from the
        source to the node it starts from, m), ``area_ha``. Isochrones are
        nested (the 10-minute area contains the 5-minute one).

    Raises
    ------
    ParameterError
        For an unknown mode, or minutes, ``buffer_m`` or ``cell_m`` not positive.

    Examples
    --------
    >>> import geodistrict as gd, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gd.datasets.grid_graph(5, 5, spacing_m=100)
    >>> src = gpd.GeoDataFrame({"name": ["corner"]}, geometry=[Point(0, 0)], crs=g.graph["crs"])
    >>> iso = isochrones({"walk": g}, src, minutes=[1, 3])
    >>> iso["minutes"].tolist(), bool(iso["area_ha"].is_monotonic_increasing)
    ([1, 3], True)
    """
    speeds = {"walk": 4.8, "bike": 15.0, "bike_low_stress": 15.0, **(speeds_kmh or {})}
    check_threshold(threshold)
    _validate.positive(buffer_m, name="buffer_m")
    _validate.positive(cell_m, name="cell_m")
    minutes = sorted(set(minutes))
    if not minutes or minutes[0] <= 0:
        raise ParameterError(f"minutes must be positive, got {minutes!r}")
    _validate.projected_frame(sources, what="isochrone sources")
    nets: dict[str, tuple[nx.MultiDiGraph, GraphArrays, np.ndarray]] = {}
    for mode, graph in graphs.items():
        if mode not in speeds:
            raise ParameterError(f"unknown mode {mode!r}; expected walk, bike or bike_low_stress")
        if mode.startswith("bike"):
            graph = _scored(graph)
        arrays = graph_arrays(graph)
        nets[mode] = (graph, arrays, np.ones(arrays.n_edges, dtype=bool))
        if mode == "bike":
            nets["bike_low_stress"] = (graph, arrays, edge_lts(graph) <= threshold)
    rows = []
    points = points_of(sources)
    for mode, (graph, arrays, mask) in nets.items():
        if len(sources) == 0 or arrays.n == 0:
            continue
        speed = speeds[mode]
        limit = max(minutes) * speed * 1000 / 60
        net = arrays.subgraph(mask)
        eu, el, eg = (
            arrays.edge_u[mask],
            edge_lengths(graph)[mask],
            edge_geoms(graph, arrays)[mask],
        )
        # Points every cell_m along every edge, with their offset from the edge start.
        steps = np.ceil(el / cell_m).astype(int) + 1
        pt_edge = np.repeat(np.arange(len(el)), steps)
        pt_off = np.minimum(
            (np.arange(len(pt_edge)) - np.repeat(np.cumsum(steps) - steps, steps)) * cell_m,
            el[pt_edge],
        )
        pt_xy = shapely.get_coordinates(shapely.line_interpolate_point(eg[pt_edge], pt_off))
        # The nodes too: a graph without edges (one node) still has its sources.
        raster = _Raster(np.vstack([pt_xy, arrays.xy]), cell_m, buffer_m)
        # Snap to the largest strongly connected part of this mode's network: a
        # source on a dead-end or one-way trap would otherwise reach almost nothing.
        snapped = nearest_nodes(net, points, largest_component=True)
        nodes = snapped["pos"].to_numpy()
        snap_m = snapped["offset_m"].to_numpy()
        reached = _reached_points(net, nodes, NodeTargets(eu[pt_edge], arrays.n), pt_off, limit)
        for (_, src), node, off, (picked, at) in zip(
            sources.iterrows(), nodes, snap_m, reached, strict=True
        ):
            for m in minutes:
                reach = m * speed * 1000 / 60
                poly = raster.polygon(
                    np.vstack([pt_xy[picked[at <= reach]], arrays.xy[node][None, :]])
                )
                rows.append(
                    {
                        "source": str(src.get("name", "")),
                        "source_kind": str(src.get("kind", "")),
                        "mode": mode,
                        "minutes": int(m),
                        "speed_kmh": speed,
                        "distance_m": round(reach, 1),
                        "snap_m": round(float(off), 1),
                        "area_ha": round(poly.area / 10_000, 2),
                        "geometry": poly,
                    }
                )
    if not rows:
        return gpd.GeoDataFrame(
            {name: pd.Series(dtype=dtype) for name, dtype in _COLUMNS.items()},
            geometry=gpd.GeoSeries([], crs=sources.crs),
            crs=sources.crs,
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=sources.crs)


#: Columns of :func:`isochrones` and their types.
_COLUMNS = {
    "source": "str",
    "source_kind": "str",
    "mode": "str",
    "minutes": "int64",
    "speed_kmh": "float64",
    "distance_m": "float64",
    "snap_m": "float64",
    "area_ha": "float64",
}
