"""Shared services and space: where to put service sites, which space each firm could take.

:func:`service_sites` solves a maximal covering location problem over the
firms (network distances from :mod:`geodistrict.network`, the solver from
:mod:`geodistrict.siting`); :func:`match_expansion` gives each firm asking for
more space the nearest available space that fits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from pyproj import CRS
from shapely.geometry import Point

from geodistrict._validate import (
    projected_crs,
    projected_frame,
    projected_graph,
    require_columns,
)
from geodistrict.errors import CRSError, EmptyAreaError, ParameterError
from geodistrict.network import (
    GraphArrays,
    NodeTargets,
    graph_arrays,
    local_distances,
    nearest_nodes,
)
from geodistrict.production._common import Weight, employees_of, numeric_column, weights_of
from geodistrict.production.firms import zone_of
from geodistrict.production.privacy import (
    DOMINANCE,
    check_dominance,
    dominated,
    protect_counts,
    publishable,
)
from geodistrict.siting import maximal_covering

__all__ = ["match_expansion", "service_sites"]

log = logging.getLogger(__name__)


def _thin(points: np.ndarray, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` points spread over their extent (one per grid cell)."""
    if len(points) <= limit:
        return np.arange(len(points))
    span = np.ptp(points, axis=0).max() or 1.0
    size = span / np.sqrt(limit)
    while True:
        keys = np.floor(points / size).astype(np.int64)
        _, first = np.unique(keys, axis=0, return_index=True)
        if len(first) <= limit:
            return np.sort(first)
        size *= 1.2


def _network_cost(
    graph: nx.MultiDiGraph,
    firms: gpd.GeoDataFrame,
    fxy: np.ndarray,
    candidates: gpd.GeoSeries | None,
    *,
    max_distance_m: float,
    max_candidates: int,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Cost (m) from each firm to each candidate along ``graph``, candidate points and labels.

    The cost is the straight offset from the firm to its nearest node, the way
    along the graph from that node to the candidate's node, and the candidate's
    own offset; ``inf`` beyond ``max_distance_m`` of network.
    """
    from scipy.spatial import cKDTree

    projected_graph(graph, what="graph")
    if projected_crs(graph.graph["crs"]) != CRS.from_user_input(firms.crs):
        raise CRSError(f"graph CRS {graph.graph['crs']!r} differs from the firms' {firms.crs}")
    arrays = graph_arrays(graph)
    snapped = nearest_nodes(arrays, firms.geometry)
    fpos, foff = snapped["pos"].to_numpy(), snapped["offset_m"].to_numpy()
    if candidates is not None:
        csnap = nearest_nodes(arrays, candidates)
        cxy = np.column_stack([candidates.x.to_numpy(), candidates.y.to_numpy()])
        cpos, coff = csnap["pos"].to_numpy(), csnap["offset_m"].to_numpy()
        clabels = [str(c) for c in candidates.index]
    else:
        # Default candidates: graph nodes within the service distance of some firm.
        near = cKDTree(fxy).query(arrays.xy, distance_upper_bound=max_distance_m)[0] < np.inf
        pool = np.flatnonzero(near)
        pool = pool[_thin(arrays.xy[pool], max_candidates)]
        cxy, cpos, coff = arrays.xy[pool], pool, np.zeros(len(pool))
        clabels = [f"node {arrays.nodes[i]}" for i in pool]
    return _cost_matrix(arrays, fpos, foff, cpos, coff, max_distance_m), cxy, clabels


def _cost_matrix(
    arrays: GraphArrays,
    fpos: np.ndarray,
    foff: np.ndarray,
    cpos: np.ndarray,
    coff: np.ndarray,
    max_distance_m: float,
) -> np.ndarray:
    """Firm x candidate cost (m): firm offset + network way + candidate offset, else inf.

    ``reverse=True``: the way from each firm's node to the candidate, as a firm
    travels; each candidate searches its own neighbourhood, where the firms
    within reach stand, so the work does not grow with the network.
    """
    cost = np.full((len(fpos), len(cpos)), np.inf)
    firms_at = NodeTargets(fpos, arrays.n)
    for which, nodes, dist_mm in local_distances(
        arrays, cpos, cutoff_m=max_distance_m, reverse=True
    ):
        picked, column = firms_at.on(nodes)
        block = dist_mm[:, column].T / 1000.0 + foff[picked, None] + coff[None, which]
        cost[picked[:, None], which[None, :]] = block
    return cost


def service_sites(
    firms: gpd.GeoDataFrame,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    graph: nx.MultiDiGraph | None = None,
    p: int = 2,
    max_distance_m: float = 600.0,
    weight: Weight = "employees",
    min_group_size: int = 5,
    dominance: tuple[int, float] = DOMINANCE,
    max_candidates: int = 400,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Where to put ``p`` shared-service points to reach the most firms (``service_sites``).

    A maximal covering location problem (MCLP, Church & ReVelle 1974) solved
    with :func:`geodistrict.siting.maximal_covering` (the HiGHS solver that
    SciPy ships, with a greedy fallback): choose ``p`` of the candidate sites so
    that the weight (firms or employees) of the firms within
    ``max_distance_m`` of a chosen site is the largest.

    Distances are along ``graph`` (walk or bike graph), from the node nearest
    to each firm to the node nearest to each candidate (one-way streets are
    respected; on the two-way walk graph the way back is as long), plus the
    straight distance to those nodes; or straight-line when ``graph`` is None.

    Parameters
    ----------
    firms : GeoDataFrame
        Respondents, points in a projected CRS (with ``employees`` for
        ``weight="employees"``).
    candidates : GeoDataFrame, optional
        Candidate sites (points; e.g. vacant units, public buildings).
        Default: the graph nodes near firms (at most ``max_candidates``,
        spread evenly), or the firms' own positions without a graph.
    graph : networkx.MultiDiGraph, optional
        Projected street graph with edge ``length`` (m), e.g. from osmnx.
    p : int, default 2
        Number of sites.
    max_distance_m : float, default 600
        Service distance (m).
    weight : {"firms", "employees"}, default "employees"
        What the model maximises.
    min_group_size : int, default 5
        ``k``: per-site counts of firms served and their employees are
        published only when the groups pass :func:`protect_counts`.
    dominance : (int, float), default (2, 0.85)
        ``employees_served`` is null where the (n, p) rule of
        :func:`~geodistrict.production.privacy.dominated` fails.
    max_candidates : int, default 400
        Cap on default candidates (the MILP grows with them).
    core, extension : sequence of str
        Core and extension municipalities: coverage is reported for each zone.

    Returns
    -------
    GeoDataFrame
        One point per chosen site, ordered by what it serves: ``site_id``,
        ``candidate`` (label of the candidate or graph node), ``firms_served``
        and ``employees_served`` (firms allocated to their nearest chosen
        site, null when suppressed), ``mean_distance_m``, and the
        district-wide ``coverage_firms_pct``, ``coverage_weight_pct``,
        ``coverage_core_pct``, ``coverage_extension_pct`` (null when not
        publishable; the zones' covered firms, with their complements, pass
        :func:`protect_counts` under the district's total, so a hidden zone
        cannot be recomputed from the others), ``max_distance_m``, ``mode``
        (``graph`` / ``straight``) and ``weight``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import production as pr
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg, base = gd.datasets.sample_config(), gd.datasets.sample_layers()
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
    >>> sites = pr.service_sites(firms, graph=base.walk_graph, p=2, max_distance_m=600)
    >>> len(sites), bool(sites["coverage_firms_pct"].iloc[0] > 50)
    (2, True)
    """
    projected_frame(firms, what="firms")
    if p < 1:
        raise ParameterError(f"p (number of sites) must be at least 1, got {p!r}")
    if max_distance_m <= 0:
        raise ParameterError(f"max_distance_m must be greater than 0, got {max_distance_m!r}")
    if len(firms) == 0:
        raise EmptyAreaError("no firms to serve")
    check_dominance(dominance)
    w = weights_of(firms, weight)
    emp = employees_of(firms)
    fxy = np.column_stack([firms.geometry.x.to_numpy(), firms.geometry.y.to_numpy()])
    cand = None
    if candidates is not None:
        projected_frame(candidates, what="candidates")
        if len(candidates) == 0:
            raise EmptyAreaError("candidates is empty")
        cand = candidates.geometry.to_crs(firms.crs).representative_point()
    if graph is not None:
        cost, cxy, clabels = _network_cost(
            graph, firms, fxy, cand, max_distance_m=max_distance_m, max_candidates=max_candidates
        )
        mode = "graph"
    else:
        if cand is not None:
            cxy = np.column_stack([cand.x.to_numpy(), cand.y.to_numpy()])
            clabels = [str(c) for c in cand.index]
        else:
            cxy = fxy[_thin(fxy, max_candidates)]
            clabels = [f"firm position {i}" for i in range(len(cxy))]
        cost = np.hypot(fxy[:, None, 0] - cxy[None, :, 0], fxy[:, None, 1] - cxy[None, :, 1])
        mode = "straight"
    if p > len(cxy):
        raise ParameterError(f"p={p} sites asked but only {len(cxy)} candidates")
    covering = maximal_covering(cost, w, radius=max_distance_m, k=p)
    # Candidate order, as the solver reports them: ties between sites break the same way.
    chosen = sorted(covering.sites)
    sub = cost[:, chosen]
    covered = (sub <= max_distance_m).any(axis=1)
    nearest = np.where(covered, sub.argmin(axis=1), -1)
    served = np.array([(nearest == c).sum() for c in range(len(chosen))], dtype=float)
    k = min_group_size
    # Sites are rows; the firms left uncovered are a group too: their total is derivable.
    table = pd.Series(np.append(served, (~covered).sum()), dtype="float64")
    ok = protect_counts(table, k, rows=False).iloc[:, 0].to_numpy()
    total_w = w.sum()
    zones = np.array(
        zone_of(firms["municipality"], core=core, extension=extension)
        if "municipality" in firms
        else ["district"] * len(firms)
    )

    # Covered and uncovered firms of each zone, under the district's totals: a zone's
    # percentage is shown only when neither group is small and the hidden zones
    # cannot be recomputed from the district and the others (secondary suppression).
    zone_names = sorted(set(zones))
    cov = pd.Series([int((covered & (zones == z)).sum()) for z in zone_names], index=zone_names)
    unc = pd.Series([int((~covered & (zones == z)).sum()) for z in zone_names], index=zone_names)
    zone_ok = protect_counts(cov, k, complements=unc, rows=False).iloc[:, 0]

    def zone_pct(z: str) -> float:
        if z not in zone_ok.index or not zone_ok[z]:
            return np.nan
        n, c = int(cov[z] + unc[z]), int(cov[z])
        if n == 0 or not publishable(c, n, k) or n < k:
            return np.nan
        return round(100 * c / n, 1)

    n_cov = int(covered.sum())
    # Covered and uncovered firms are both groups: both must be publishable.
    shown = publishable(n_cov, len(firms), k)
    firms_pct = round(100 * n_cov / len(firms), 1) if shown else np.nan
    weight_pct = round(100 * w[covered].sum() / total_w, 1) if shown else np.nan
    rows = []
    for c, j in enumerate(chosen):
        mine = nearest == c
        rows.append(
            {
                "candidate": clabels[j],
                "firms_served": int(served[c]) if ok[c] else pd.NA,
                "employees_served": float(emp[mine].sum())
                if ok[c] and served[c] and not dominated(emp[mine], dominance)
                else np.nan,
                "mean_distance_m": round(float(sub[mine, c].mean()), 1)
                if ok[c] and served[c]
                else np.nan,
                "_rank": float(w[mine].sum()),
                "_column": c,
                "geometry": Point(cxy[j]),
            }
        )
    out = pd.DataFrame(rows).sort_values("_rank", ascending=False, kind="stable")
    site_of_column = {int(c): f"S{i}" for i, c in enumerate(out["_column"], start=1)}
    out = out.drop(columns=["_rank", "_column"]).reset_index(drop=True)
    out.insert(0, "site_id", [f"S{i}" for i in range(1, len(out) + 1)])
    out["firms_served"] = out["firms_served"].astype("Int64")
    out["coverage_firms_pct"] = firms_pct
    out["coverage_weight_pct"] = weight_pct
    out["coverage_core_pct"] = zone_pct("core")
    out["coverage_extension_pct"] = zone_pct("extension")
    out["max_distance_m"] = float(max_distance_m)
    out["mode"] = mode
    out["weight"] = weight
    for col in ("site_id", "candidate", "mode", "weight"):
        out[col] = out[col].astype("str")
    result = gpd.GeoDataFrame(out, geometry="geometry", crs=firms.crs)
    # Which firms each site serves, for the disclosure audit (the step strips attrs).
    result.attrs["membership"] = {
        "site_id": [site_of_column[int(c)] if c >= 0 else None for c in nearest],
        "zone": [str(z) for z in zones],
        "weight": weight,
    }
    log.info(
        "service_sites: %d sites cover %d of %d firms within %.0f m (%s, %s)",
        len(chosen),
        n_cov,
        len(firms),
        max_distance_m,
        mode,
        covering.solver,
    )
    return result


def match_expansion(
    firms: gpd.GeoDataFrame,
    spaces: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 1000.0,
    area_column: str = "floor_area_m2",
) -> pd.Series:
    """Match each firm's expansion demand to an available space, greedily.

    Firms asking for the most space go first; each takes the nearest unused
    space within ``max_distance_m`` whose floor area covers the demand.

    Parameters
    ----------
    firms : GeoDataFrame
        Respondents with ``expansion_space_m2`` (a firm without it asks for nothing).
    spaces : GeoDataFrame
        Available spaces (e.g. the vacant units survey) with ``area_column``.
    max_distance_m : float, default 1000
        Farthest acceptable space (m, straight line).
    area_column : str, default "floor_area_m2"
        Floor area of each space (m²).

    Returns
    -------
    Series
        Indexed like ``firms``: the label of the space given to the firm, or
        missing (no demand, or nothing fits).  Firm-level: keep it local.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from geodistrict.production import match_expansion
    >>> f = gpd.GeoDataFrame({"expansion_space_m2": [300.0, 50.0, 0.0]},
    ...     geometry=[Point(0, 0), Point(10, 0), Point(0, 5)], crs=32632)
    >>> s = gpd.GeoDataFrame({"floor_area_m2": [100.0, 400.0]}, index=["a", "b"],
    ...     geometry=[Point(5, 0), Point(800, 0)], crs=32632)
    >>> match_expansion(f, s).tolist()
    ['b', 'a', None]
    """
    projected_frame(firms, what="firms")
    projected_frame(spaces, what="spaces")
    require_columns(
        spaces,
        [area_column],
        what="spaces",
        hint="add the floor area of each space in m², or name its column with area_column=",
    )
    demand = numeric_column(firms, "expansion_space_m2").fillna(0)
    result = pd.Series([None] * len(firms), index=firms.index, dtype="object")
    if len(spaces) == 0:
        return result
    geoms = spaces.geometry.to_crs(firms.crs).representative_point()
    capacity = pd.to_numeric(spaces[area_column], errors="coerce").to_numpy()
    free = np.ones(len(spaces), dtype=bool)
    sx, sy = geoms.x.to_numpy(), geoms.y.to_numpy()
    for pos in np.argsort(-demand.to_numpy(), kind="stable"):
        need = float(demand.iloc[pos])
        if need <= 0:
            continue
        pt = firms.geometry.iloc[pos]
        dist = np.hypot(sx - pt.x, sy - pt.y)
        fits = free & (capacity >= need) & (dist <= max_distance_m)
        if fits.any():
            j = int(np.flatnonzero(fits)[np.argmin(dist[fits])])
            free[j] = False
            result.iloc[pos] = spaces.index[j]
    return result
