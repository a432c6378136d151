"""Residents within a walk of something: stops, open spaces, everyday needs.

All distances are walking distances along the street network, computed by
the one engine (:func:`geodistrict.network.multi_source_distance`): one
Dijkstra from all the targets at once, residents and targets snapped to the
nearest node of the largest strongly connected part of the walking graph,
both snapping offsets added (the module convention of
:mod:`geodistrict.network`). A polygon target (a park) is entered anywhere
along its edge: its outline is sampled every ``spacing_m`` metres.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geodistrict import _validate
from geodistrict.network import GraphArrays, graph_arrays, multi_source_distance, nearest_nodes

log = logging.getLogger(__name__)

__all__ = [
    "HIGH_CAPACITY_MODES",
    "share_within",
    "stop_capacity",
    "transit_access",
    "walk_distance",
]

#: Modes of high-capacity public transport in UN-Habitat's SDG 11.2.1 metadata
#: ("rail, metro, ferry"); every other stop (bus, tram, trolleybus) is low-capacity.
HIGH_CAPACITY_MODES = frozenset({"rail", "subway", "metro", "light_rail", "monorail", "ferry"})


def _target_points(targets: gpd.GeoDataFrame, spacing_m: float) -> gpd.GeoSeries:
    """Points to enter each target: itself, or its outline every ``spacing_m``."""
    geoms = targets.geometry.to_numpy()
    polygonal = shapely.get_type_id(geoms) >= 3  # Polygon, MultiPolygon, collections
    points = list(targets.geometry[~polygonal].representative_point())
    for geom in geoms[polygonal]:
        outline = geom.boundary
        length = outline.length
        n = max(int(np.ceil(length / spacing_m)), 1)
        points.extend(
            shapely.line_interpolate_point(outline, np.linspace(0, length, n, endpoint=False))
        )
        if hasattr(outline, "geoms"):  # a multi-part outline: every part reachable
            points.extend(shapely.line_interpolate_point(outline.geoms[i], 0.0)
                          for i in range(len(outline.geoms)))  # fmt: skip
    return gpd.GeoSeries(points, crs=targets.crs)


def walk_distance(
    graph: nx.MultiDiGraph | GraphArrays,
    origins: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    *,
    cutoff_m: float = 5_000.0,
    spacing_m: float = 25.0,
) -> np.ndarray:
    """Walking distance (m) from each origin to its nearest target; ``inf`` beyond ``cutoff_m``.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphArrays
        The walking graph, projected.
    origins : GeoDataFrame
        Where people are (any geometry: its representative point).
    targets : GeoDataFrame
        Points (stops) or polygons (parks: entered along their outline).
    cutoff_m : float, default 5000
        Longest distance searched.
    spacing_m : float, default 25
        Spacing of the entry points along a polygon's outline.

    Examples
    --------
    >>> import geopandas as gpd, geodistrict as gd
    >>> from shapely.geometry import Point
    >>> g = gd.datasets.grid_graph(3, 3, spacing_m=100)
    >>> homes = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=g.graph["crs"])
    >>> stop = gpd.GeoDataFrame(geometry=[Point(200, 10)], crs=g.graph["crs"])
    >>> walk_distance(g, homes, stop).tolist()
    [210.0]
    """
    _validate.projected_frame(origins, what="origins")
    _validate.projected_frame(targets, what="targets")
    _validate.positive(spacing_m, name="spacing_m")
    if len(origins) == 0:
        return np.zeros(0)
    if len(targets) == 0:
        return np.full(len(origins), np.inf)
    arrays = graph_arrays(graph)
    at = nearest_nodes(arrays, origins.geometry, largest_component=True)
    entries = nearest_nodes(arrays, _target_points(targets.to_crs(origins.crs), spacing_m),
                            largest_component=True)  # fmt: skip
    dist = multi_source_distance(
        arrays, entries["pos"].to_numpy(), entries["offset_mm"].to_numpy(), cutoff_m=cutoff_m
    )
    # Whole millimetres, as the engine counts, so that the sums are exact.
    return (np.rint(dist[at["pos"].to_numpy()] * 1000.0) + at["offset_mm"].to_numpy()) / 1000.0


def stop_capacity(stops: gpd.GeoDataFrame) -> np.ndarray:
    """``high`` for rail, metro and ferry stops (:data:`HIGH_CAPACITY_MODES`), else ``low``.

    Uses the ``mode`` column of the ``transit_stops`` base layer.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoDataFrame({"mode": ["bus", "rail", "tram"]}, geometry=[Point(0, 0)] * 3)
    >>> stop_capacity(s).tolist()
    ['low', 'high', 'low']
    """
    _validate.require_columns(stops, ["mode"], what="transit stops",
                              hint="the transit_stops base layer has it")  # fmt: skip
    mode = stops["mode"].astype(str).str.lower()
    return np.where(mode.isin(HIGH_CAPACITY_MODES), "high", "low")


def transit_access(
    graph: nx.MultiDiGraph | GraphArrays,
    people: gpd.GeoDataFrame,
    stops: gpd.GeoDataFrame,
    *,
    low_capacity_m: float = 500.0,
    high_capacity_m: float = 1000.0,
) -> pd.DataFrame:
    """Convenient access to public transport, per SDG 11.2.1 (UN-Habitat).

    A place has convenient access when a low-capacity stop (bus, tram) lies
    within ``low_capacity_m`` of walking along the street network, or a
    high-capacity one (rail, metro, ferry) within ``high_capacity_m``.

    Returns
    -------
    DataFrame
        Indexed like ``people``: ``walk_low_m`` and ``walk_high_m`` (metres to the
        nearest stop of each kind, ``inf`` when none within reach) and
        ``transit_access`` (bool).

    Examples
    --------
    >>> import geopandas as gpd, geodistrict as gd
    >>> from shapely.geometry import Point
    >>> g = gd.datasets.grid_graph(2, 11, spacing_m=100)
    >>> crs = g.graph["crs"]
    >>> homes = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(1000, 0)], crs=crs)
    >>> stops = gpd.GeoDataFrame({"mode": ["bus"]}, geometry=[Point(400, 0)], crs=crs)
    >>> transit_access(g, homes, stops)["transit_access"].tolist()
    [True, False]
    """
    capacity = stop_capacity(stops)
    reach = max(low_capacity_m, high_capacity_m) * 1.5
    out = pd.DataFrame(index=people.index)
    out["walk_low_m"] = walk_distance(graph, people, stops[capacity == "low"], cutoff_m=reach)
    out["walk_high_m"] = walk_distance(graph, people, stops[capacity == "high"], cutoff_m=reach)
    out["transit_access"] = (out["walk_low_m"] <= low_capacity_m) | (
        out["walk_high_m"] <= high_capacity_m
    )
    return out


def share_within(
    residents: pd.Series | np.ndarray,
    within: pd.Series | np.ndarray,
    *,
    zone: pd.Series | np.ndarray | None = None,
) -> pd.DataFrame:
    """Residents, residents with access and their share (0-1): overall and by zone.

    Returns
    -------
    DataFrame
        ``zone`` (``None`` for the whole, first), ``residents``, ``within`` and
        ``share`` (NaN where nobody lives).

    Examples
    --------
    >>> share_within([10, 30, 60], [True, False, True], zone=["a", "a", "b"]).round(2)
       zone  residents  within  share
    0  None      100.0    70.0   0.70
    1     a       40.0    10.0   0.25
    2     b       60.0    60.0   1.00
    """
    people = np.asarray(residents, dtype=float)
    ok = np.asarray(within, dtype=bool)
    rows = [(None, people.sum(), people[ok].sum())]
    if zone is not None:
        frame = pd.DataFrame({"zone": np.asarray(zone, dtype=object), "p": people,
                              "w": np.where(ok, people, 0.0)})  # fmt: skip
        frame = frame[frame["zone"].notna()]
        for key, group in frame.groupby("zone", sort=True):
            rows.append((key, group["p"].sum(), group["w"].sum()))
    out = pd.DataFrame({"zone": pd.Series([r[0] for r in rows], dtype=object),
                        "residents": [float(r[1]) for r in rows],
                        "within": [float(r[2]) for r in rows]})  # fmt: skip
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share"] = np.where(out["residents"] > 0, out["within"] / out["residents"], np.nan)
    return out
