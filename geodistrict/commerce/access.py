"""Walking access to shops: counts per street node and distance to everyday needs.

:func:`commercial_access` counts the units of each category within walking
distances of every street node (the ``commercial_access`` layer);
:func:`walking_coverage` measures the walk from each home (:func:`homes`) or
hexagon to the nearest unit of each everyday need, and :func:`coverage_rows`
summarises it as rows of the ``category_gaps`` table.  Every distance comes
from the one network engine, :mod:`geodistrict.network`.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geodistrict import _validate
from geodistrict.commerce.gaps import GAP_COLUMNS
from geodistrict.commerce.units import polygonal, require_units
from geodistrict.network import (
    GraphArrays,
    accessibility,
    graph_arrays,
    multi_source_distance,
    nearest_nodes,
)
from geodistrict.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)

__all__ = [
    "RESIDENTIAL_BUILDINGS",
    "commercial_access",
    "coverage_rows",
    "homes",
    "walking_coverage",
]

#: OSM ``building`` values that are homes.
RESIDENTIAL_BUILDINGS = frozenset({
    "apartments", "residential", "house", "detached", "semidetached_house", "terrace",
    "bungalow", "dormitory", "farm", "cabin", "houseboat", "static_caravan",
})  # fmt: skip


def commercial_access(
    graph: nx.MultiDiGraph | GraphArrays,
    units: gpd.GeoDataFrame,
    *,
    distances: tuple[float, ...] = (400.0, 800.0, 1600.0),
    categories: list[str] | None = None,
) -> gpd.GeoDataFrame:
    """Street nodes with the units of each category within walking distances.

    A thin layer over :func:`geodistrict.network.accessibility` (exact,
    whole-millimetre network distances; units snapped to their nearest node
    plus the straight-line offset).

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphArrays
        The walking graph (projected, edges with ``length``), e.g. an osmnx
        graph after ``ox.project_graph``.
    units : GeoDataFrame
        Commercial units (points with ``category``), same CRS.
    distances : tuple of float, default (400, 800, 1600)
        Walking distances (m).
    categories : list of str, optional
        Every category gets its columns, present or not (a stable schema).

    Returns
    -------
    GeoDataFrame
        One point per graph node: ``node`` (OSM node id), ``n<d>_total`` and
        ``n<d>_<category>`` for each distance ``d`` in metres.

    Raises
    ------
    MissingColumnError
        If ``units`` has no ``category`` (classify them first).

    Examples
    --------
    >>> import geodistrict as gd
    >>> from shapely.geometry import Point
    >>> g = gd.datasets.grid_graph(1, 3, spacing_m=100)
    >>> shops = gpd.GeoDataFrame({"category": ["food"]}, geometry=[Point(200, 0)],
    ...                          crs=g.graph["crs"])
    >>> commercial_access(g, shops, distances=(150.0,))["n150_food"].tolist()
    [0, 1, 1]
    """
    require_units(units)
    arrays = graph_arrays(graph)
    crs = units.crs if isinstance(graph, GraphArrays) else graph.graph["crs"]
    acc = accessibility(arrays, units, distances=distances)
    if categories is not None:  # every category, present or not, for a stable schema
        for d in distances:
            for cat in categories:
                col = f"n{float(d):g}_{cat}"
                if col not in acc:
                    acc[col] = np.int32(0)
        order = []
        for d in distances:
            tag = f"{float(d):g}"
            order += [f"n{tag}_total", *[f"n{tag}_{c}" for c in categories]]
        acc = acc[order]
    return gpd.GeoDataFrame(
        acc.reset_index(), geometry=gpd.points_from_xy(arrays.xy[:, 0], arrays.xy[:, 1]), crs=crs
    )


def homes(
    buildings: gpd.GeoDataFrame, landuse: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Residential buildings: homes for the walking coverage.

    A building is a home when its ``building`` tag is one of
    :data:`RESIDENTIAL_BUILDINGS`, or it is ``building=yes`` with its
    representative point on ``landuse=residential``.  Without a ``building``
    column there is no home.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.datasets.sample_layers()
    >>> len(homes(layers.buildings, layers.landuse)) > 10
    True
    """
    _validate.projected_frame(buildings, what="buildings")
    kind = buildings["building"].astype(str).str.lower() if "building" in buildings else None
    if kind is None:
        return buildings.iloc[:0]
    home = kind.isin(RESIDENTIAL_BUILDINGS).to_numpy().copy()
    if landuse is not None and len(landuse) and "landuse" in landuse:
        residential = landuse[landuse["landuse"].astype(str) == "residential"]
        if len(residential):
            points = gpd.GeoDataFrame(geometry=buildings.representative_point(), crs=buildings.crs)
            on = gpd.sjoin(points, residential[["geometry"]].to_crs(buildings.crs),
                           predicate="within").index.unique()  # fmt: skip
            home |= (kind == "yes").to_numpy() & buildings.index.isin(on)
    return buildings[home]


def walking_coverage(
    graph: nx.MultiDiGraph | GraphArrays,
    units: gpd.GeoDataFrame,
    origins: gpd.GeoDataFrame,
    *,
    taxonomy: Taxonomy | None = None,
    max_m: float = 800.0,
) -> pd.DataFrame:
    """Walking distance from each origin (home or hex) to the nearest unit of each everyday need.

    One multi-source Dijkstra per need (:func:`geodistrict.network.multi_source_distance`)
    from the units of the need's subcategories, with the module convention
    of :mod:`geodistrict.network`: origins and units are snapped to their
    nearest node and both offsets are added.  Distances beyond ``4 * max_m``
    are not searched (``inf``).

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphArrays
        The walking graph, projected.
    units : GeoDataFrame
        Commercial units with ``subcategory`` (the taxonomy's keys).
    origins : GeoDataFrame
        Homes, hexagons... (any geometry: its representative point), same CRS.
    taxonomy : Taxonomy, optional
        The everyday needs (default :func:`~geodistrict.taxonomy.load_taxonomy`).
    max_m : float, default 800
        The walk that meets a need (m).

    Returns
    -------
    DataFrame
        Indexed like ``origins``: ``walk_m_<need>`` (metres, ``inf`` when
        none is reachable) for each need of the taxonomy.

    Raises
    ------
    MissingColumnError
        If ``units`` has no ``subcategory`` (classify them first).

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.taxonomy import classify_units
    >>> layers = gd.datasets.sample_layers()
    >>> units = classify_units(layers.pois)
    >>> d = walking_coverage(layers.walk_graph, units, homes(layers.buildings, layers.landuse))
    >>> bool((d["walk_m_pharmacy"] >= 0).all())
    True
    """
    require_units(units, columns=("subcategory",))
    _validate.projected_frame(origins, what="origins")
    _validate.positive(max_m, name="max_m")
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    arrays = graph_arrays(graph)
    at = nearest_nodes(arrays, origins.geometry.representative_point())
    snapped = nearest_nodes(arrays, units)
    out = pd.DataFrame(index=origins.index)
    for need in tax.everyday.values():
        mask = units["subcategory"].isin(need.subcategories).to_numpy()
        dist = multi_source_distance(
            arrays, snapped["pos"].to_numpy()[mask], snapped["offset_mm"].to_numpy()[mask],
            cutoff_m=4 * max_m,
        )  # fmt: skip
        # Whole millimetres again, so the sum is exact like the rest.
        out[f"walk_m_{need.key}"] = (
            np.rint(dist[at["pos"].to_numpy()] * 1000.0) + at["offset_mm"].to_numpy()
        ) / 1000.0
    return out


def walk_quantile(distances: np.ndarray, q: float) -> float:
    """The ``q`` quantile of walking distances, or NaN where it falls beyond reach.

    Unreachable origins have an infinite distance. Where the quantile
    (linear interpolation, as :func:`numpy.quantile`) would need one of them
    it is unknown: NaN (null in the layers), never ``inf`` (which JSON cannot
    hold) and without numpy's ``inf - inf`` warning.
    """
    d = np.sort(np.asarray(distances, dtype=float))
    if len(d) == 0:
        return math.nan
    pos = q * (len(d) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    if not (np.isfinite(d[lo]) and np.isfinite(d[hi])):
        return math.nan
    return float(d[lo] + (d[hi] - d[lo]) * (pos - lo))


def _coverage_status(share: float) -> str:
    """``covered`` (at least 90 % of origins within the walk), ``partial`` (50-90 %), ``gap``."""
    return "covered" if share >= 0.9 else ("partial" if share >= 0.5 else "gap")


def coverage_rows(
    distances: pd.DataFrame,
    origins: gpd.GeoDataFrame,
    *,
    taxonomy: Taxonomy | None = None,
    max_m: float = 800.0,
    origin_kind: str = "homes",
) -> gpd.GeoDataFrame:
    """Walking coverage of each everyday need as rows of the ``category_gaps`` table.

    Parameters
    ----------
    distances : DataFrame
        :func:`walking_coverage` of ``origins``.
    origins : GeoDataFrame
        The origins measured (homes or hexagons).
    taxonomy : Taxonomy, optional
        The everyday needs (default the shipped taxonomy).
    max_m : float, default 800
        The walk that meets a need (m).
    origin_kind : str, default "homes"
        Named in ``scope``: ``walking (<origin_kind>)``.

    Returns
    -------
    GeoDataFrame
        One row per need with the :func:`~geodistrict.commerce.category_gaps`
        columns: ``origins``, ``origins_within``, ``share_within``,
        ``median_walk_m``, ``p90_walk_m``, ``max_walk_m`` and ``status``
        (``covered`` with at least 90 % of origins within the walk,
        ``partial`` with 50-90 %, else ``gap``); the geometry outlines the
        origins beyond the walk.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point
    >>> from geodistrict.taxonomy import load_taxonomy
    >>> tax = load_taxonomy()
    >>> origins = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(50, 0)], crs=32632)
    >>> walk = pd.DataFrame({f"walk_m_{k}": [100.0, 2000.0] for k in tax.everyday})
    >>> rows = coverage_rows(walk, origins, taxonomy=tax, max_m=800)
    >>> row = rows.iloc[0]
    >>> int(row["origins_within"]), float(row["share_within"]), row["status"]
    (1, 0.5, 'partial')
    """
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    # Each origin buffered once for every need, and one union per distinct set of
    # origins beyond the walk (needs often leave out the same ones): the same outlines.
    buffered: np.ndarray | None = None
    outlines: dict[bytes, Any] = {}
    for need in tax.everyday.values():
        d = distances[f"walk_m_{need.key}"].to_numpy()
        within = d <= max_m
        finite = d[np.isfinite(d)]
        rows.append({
            "scope": f"walking ({origin_kind})", "centre_id": pd.NA, "category": need.key,
            "label_it": need.it, "label_en": need.en, "origins": len(d),
            "origins_within": int(within.sum()),
            "share_within": float(within.mean()) if len(d) else np.nan,
            "median_walk_m": walk_quantile(d, 0.5),
            "p90_walk_m": walk_quantile(d, 0.9),
            "max_walk_m": float(finite.max()) if len(finite) else np.nan,
            "status": _coverage_status(float(within.mean()) if len(d) else 0.0),
        })  # fmt: skip
        # Where the need is not met: the outline of the origins beyond the walk.
        if within.all():
            geoms.append(None)
            continue
        if buffered is None:
            buffered = shapely.buffer(origins.geometry.to_numpy(), 1.0)
        key = np.packbits(~within).tobytes()
        if key not in outlines:
            outlines[key] = polygonal(shapely.union_all(buffered[~within]))
        geoms.append(outlines[key])
    frame = pd.DataFrame(rows)
    for col in GAP_COLUMNS:
        if col not in frame:
            frame[col] = np.nan
    frame["centre_id"] = frame["centre_id"].astype("Int64")
    return gpd.GeoDataFrame(frame[GAP_COLUMNS], geometry=geoms, crs=origins.crs)
