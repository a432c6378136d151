"""The criteria of the ranking, computed once per vacant unit (the spatial part).

:func:`compute_criteria` measures every criterion of
:data:`~geodistrict.priority.CRITERIA` that its inputs allow, one small
function per family: network reach around each unit (footfall proxy,
commercial density, transit access, categories within a walk), walking
distance to anchors, straight-line distances to retail centres and low-stress
bike streets, regeneration need, unit suitability, vacancy duration,
ownership and asking rent, and the demand gap with the recommended uses.
Walking distances come from the one network engine (:mod:`geodistrict.network`);
every point is snapped to the largest strongly connected component of the
walking graph.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geodistrict import _validate
from geodistrict.network import (
    GraphArrays,
    NodeTargets,
    graph_arrays,
    local_distances,
    multi_source_distance,
    nearest_nodes,
)
from geodistrict.priority.definitions import (
    ANCHOR_CAP_M,
    CATCH_ALL_CATEGORIES,
    CATEGORY_FLOOR_AREA_M2,
    CLOSENESS_FLOOR_M,
    CRITERIA,
    FOOTFALL_RADIUS_M,
    GAP_RADIUS_M,
    LOCAL_RADIUS_M,
    OWNER_EASE,
    _pct,
)

log = logging.getLogger(__name__)

__all__ = ["compute_criteria"]

#: Columns and the reasons of omitted criteria, as each family returns them.
_Columns = dict[str, Any]
_Omitted = dict[str, str]


class _Sites(NamedTuple):
    """Points snapped to the walking graph: node positions and offsets (mm)."""

    pos: np.ndarray
    off: np.ndarray


class _Reach(NamedTuple):
    """What one bounded walk from each distinct unit node finds."""

    footfall: np.ndarray  # harmonic closeness, 1/km
    density: np.ndarray  # active units within LOCAL_RADIUS_M
    transit: np.ndarray  # stops within LOCAL_RADIUS_M
    within: np.ndarray  # (nodes, categories): active units within GAP_RADIUS_M


def compute_criteria(
    units: gpd.GeoDataFrame,
    *,
    walk_graph: nx.MultiDiGraph | GraphArrays,
    pois: gpd.GeoDataFrame | None = None,
    transit_stops: gpd.GeoDataFrame | None = None,
    commercial_units: gpd.GeoDataFrame | None = None,
    retail_centres: gpd.GeoDataFrame | None = None,
    category_gaps: pd.DataFrame | None = None,
    bike_network: gpd.GeoDataFrame | None = None,
    lts_threshold: int = 2,
    reference_mix: Mapping[str, float] | None = None,
    taxonomy: Any = None,
) -> gpd.GeoDataFrame:
    """Compute every criterion of :data:`CRITERIA` that the inputs allow, per unit.

    Parameters
    ----------
    units : GeoDataFrame
        Vacant units (points, projected CRS), e.g. from
        :func:`geodistrict.vacancy.vacant_units`; ``floor_area_m2``,
        ``ground_floor``, ``condition``, ``vacancy_months``, ``owner_type``
        and ``asking_rent_eur_month`` are used when present.
    walk_graph : networkx.MultiDiGraph or GraphArrays
        The walking graph, same CRS.
    pois, transit_stops : GeoDataFrame, optional
        Base layers: anchors (``shop=supermarket``, ``amenity=school`` /
        ``townhall``) and stations (``kind=station``) / stops.
    commercial_units : GeoDataFrame, optional
        Active units with ``category`` (commerce step); without it commercial
        density, regeneration need and demand gap are omitted.
    retail_centres : GeoDataFrame, optional
        Retail-centre polygons (commerce step).
    category_gaps : DataFrame, optional
        Commerce's gap table: district-level ``missing`` and
        ``under-represented`` categories come first in ``recommended_uses``;
        its ``not tested`` catch-all categories are never recommended.
    bike_network : GeoDataFrame, optional
        Lines with ``lts`` (cycling step).
    lts_threshold : int, default 2
        Highest LTS that is low stress.
    reference_mix : mapping, optional
        Shares per category: the categories looked for in the demand gap
        (those with a positive share) and their order; default every
        category of ``CATEGORY_FLOOR_AREA_M2``.
    taxonomy : Taxonomy, optional
        For the Italian and English labels of the recommended uses.

    Returns
    -------
    GeoDataFrame
        A copy of ``units``, indexed like it, with one column per computed
        criterion, ``missing_categories`` (``;``-separated keys),
        ``recommended_uses`` (at most three categories that fit the floor area
        (:data:`CATEGORY_FLOOR_AREA_M2`): first those missing within the walk,
        district-level ``missing`` / ``under-represented`` ones first, then
        those most under-supplied against the reference mix of the units
        within the walk, by at least one unit; never a catch-all category
        such as ``other_retail``, which the gap table leaves ``not tested``),
        ``recommended_uses_en``,
        ``recommended_uses_it`` and ``criteria_omitted`` (each omitted
        criterion and why).

    Raises
    ------
    CRSError
        If ``units`` or the graph are not in a projected CRS.
    MissingColumnError
        If ``commercial_units`` have no ``category`` or ``bike_network`` no
        ``lts`` (the message says how to add it).

    Examples
    --------
    >>> import geopandas as gpd, geodistrict as gd
    >>> from shapely.geometry import Point
    >>> g = gd.datasets.grid_graph(5, 5, spacing_m=100)
    >>> crs = g.graph["crs"]
    >>> units = gpd.GeoDataFrame({"floor_area_m2": [120.0, 30.0]},
    ...                          geometry=[Point(200, 205), Point(400, 390)], crs=crs)
    >>> shops = gpd.GeoDataFrame({"category": ["food", "fashion"]},
    ...                          geometry=[Point(210, 200), Point(190, 300)], crs=crs)
    >>> crit = compute_criteria(units, walk_graph=g, commercial_units=shops)
    >>> crit[["footfall", "commercial_density", "demand_gap"]].values.tolist()
    [[116.667, 2.0, 9.0], [77.94, 1.0, 9.0]]
    >>> "transit_access" in crit, crit["recommended_uses"].iloc[1]
    (False, 'personal_services;electronics;professional_services')
    """
    _validate.projected_frame(units, what="vacant units")
    if commercial_units is not None and len(commercial_units):
        _validate.require_columns(
            commercial_units, ["category"], what="commercial units",
            hint="classify the shops first, e.g. with gd.classify_units(pois)",
        )  # fmt: skip
    # An empty layer without columns (no shop in the district) omits the criteria.
    have_units = commercial_units is not None and "category" in commercial_units
    if bike_network is not None and len(bike_network):
        _validate.require_columns(
            bike_network, ["lts"], what="bike network lines",
            hint="rate the streets first, e.g. with gd.add_lts(graph)",
        )  # fmt: skip
    arrays = graph_arrays(walk_graph)
    out = units.copy()
    if len(units) == 0:
        for name in CRITERIA:
            out[name] = pd.Series(dtype=float)
        return out

    crs = units.crs
    unit_sites = _snap(arrays, units, crs)
    uniq, inverse = np.unique(unit_sites.pos, return_inverse=True)
    considered, shares = _considered_categories(reference_mix)
    shops = _snap(arrays, commercial_units if have_units else None, crs)
    codes = _category_codes(commercial_units if have_units else None, considered)
    reach = _walk_reach(
        arrays, uniq, inverse, unit_sites.off, shops, codes, len(considered),
        _snap(arrays, transit_stops, crs),
    )  # fmt: skip

    omitted: _Omitted = {}
    families: tuple[tuple[_Columns, _Omitted], ...] = (
        ({"footfall": reach.footfall[inverse].round(3)}, {}),
        _anchor_criteria(arrays, unit_sites, crs, pois=pois, transit_stops=transit_stops),
        _retail_centre_criterion(units, retail_centres),
        _density_criterion(reach, inverse, have_units=have_units),
        _transit_criterion(reach, inverse, transit_stops),
        _bike_criterion(units, bike_network, lts_threshold),
    )
    for columns, why in families:
        for name, values in columns.items():
            out[name] = values
        omitted.update(why)
    if have_units:
        out["regeneration_need"] = _regeneration_need(
            out["footfall"], out["commercial_density"].astype(float)
        )
    out["suitability"] = _suitability(units)
    if "vacancy_months" in units and units["vacancy_months"].notna().any():
        out["vacancy_months"] = pd.to_numeric(units["vacancy_months"]).astype(float)
    else:
        out = out.drop(columns=["vacancy_months"], errors="ignore")
        omitted["vacancy_months"] = "no vacancy date (survey vacant_since)"
    for name in ("public_ownership", "asking_rent_ratio"):
        out = out.drop(columns=[name], errors="ignore")  # recomputed, never carried over
    columns, why = _owner_rent_criteria(units)
    for name, values in columns.items():
        out[name] = values
    omitted.update(why)
    if have_units:
        gap = _demand_gap(
            reach.within[inverse], considered, shares, _floor_areas(units),
            category_gaps=category_gaps, taxonomy=taxonomy, units=units,
        )  # fmt: skip
        for name, values in gap.items():
            out[name] = values
    for name, why_text in omitted.items():
        log.info("criterion %s omitted: %s", name, why_text)
    out["criteria_omitted"] = "; ".join(f"{k}: {v}" for k, v in omitted.items())
    out.attrs = {}
    return out


# --------------------------------------------------------------------------- snapping


def _snap(arrays: GraphArrays, frame: gpd.GeoDataFrame | None, crs: Any) -> _Sites:
    """Snap to the largest strongly connected component: a unit snapped to a stray
    footway inside a courtyard (or a one-way trap) would otherwise reach nothing."""
    if frame is None or len(frame) == 0:
        return _Sites(np.zeros(0, np.int64), np.zeros(0))
    snapped = nearest_nodes(arrays, frame.to_crs(crs), largest_component=True)
    return _Sites(
        snapped["pos"].to_numpy(dtype=np.int64), snapped["offset_mm"].to_numpy().astype(float)
    )


def _considered_categories(
    reference_mix: Mapping[str, float] | None,
) -> tuple[list[str], np.ndarray]:
    """Categories looked for in the demand gap, and their shares of the mix.

    Catch-all categories are left out: a street lacking "other retail" lacks nothing
    one could name.
    """
    mix = {
        c: float(s)
        for c, s in (reference_mix or {}).items()
        if s > 0 and c not in CATCH_ALL_CATEGORIES
    } or {c: 1.0 for c in CATEGORY_FLOOR_AREA_M2 if c not in CATCH_ALL_CATEGORIES}
    considered = list(mix)
    return considered, np.array([mix[c] for c in considered]) / sum(mix.values())


def _category_codes(shops: gpd.GeoDataFrame | None, considered: list[str]) -> np.ndarray:
    """Position of each shop's category in ``considered`` (-1 if not looked for)."""
    if shops is None:
        return np.zeros(0, dtype=np.int64)
    code_of = {c: k for k, c in enumerate(considered)}
    cats = shops["category"].astype(str).to_numpy()
    return np.array([code_of.get(c, -1) for c in cats], dtype=np.int64)


# --------------------------------------------------------------------------- network reach


def _walk_reach(
    arrays: GraphArrays,
    uniq: np.ndarray,
    inverse: np.ndarray,
    unit_off: np.ndarray,
    shops: _Sites,
    codes: np.ndarray,
    n_categories: int,
    stops: _Sites,
) -> _Reach:
    """Footfall, density, transit and categories within a walk, per distinct unit node.

    One bounded Dijkstra from each distinct unit node serves all four (walking
    distances are symmetric), searched in its own neighbourhood
    (:func:`~geodistrict.network.local_distances`): the shops, stops and nodes
    outside it are beyond the walk, so the work per unit node does not grow
    with the network.
    """
    footfall = np.zeros(len(uniq))
    density = np.zeros(len(uniq), dtype=np.int64)
    transit = np.zeros(len(uniq), dtype=np.int64)
    within = np.zeros((len(uniq), n_categories), dtype=np.int64)
    radius = max(FOOTFALL_RADIUS_M, GAP_RADIUS_M, LOCAL_RADIUS_M)
    # offsets of the units on one node are alike: the least per distinct node
    own_of = pd.Series(unit_off).groupby(inverse).min().to_numpy()
    shops_at = NodeTargets(shops.pos, arrays.n)
    stops_at = NodeTargets(stops.pos, arrays.n)
    for which, nodes, dist in local_distances(arrays, uniq, cutoff_m=radius):
        for k, i in enumerate(which):
            d = dist[k]  # the nodes searched, in ascending order: the same sum as a whole row
            near = np.isfinite(d) & (d > 0) & (d <= FOOTFALL_RADIUS_M * 1000)
            footfall[i] = (1.0 / (np.maximum(d[near], CLOSENESS_FLOOR_M * 1000) / 1e6)).sum()
        own = own_of[which][:, None]
        if len(shops.pos):
            picked, column = shops_at.on(nodes)
            reach = dist[:, column] + shops.off[picked] + own
            density[which] = (reach <= LOCAL_RADIUS_M * 1000).sum(axis=1)
            code = codes[picked]
            hit = (reach <= GAP_RADIUS_M * 1000) & (code >= 0)
            onehot = np.zeros((len(picked), n_categories), dtype=np.int64)
            onehot[np.flatnonzero(code >= 0), code[code >= 0]] = 1
            within[which] = hit.astype(np.int64) @ onehot
        if len(stops.pos):
            picked, column = stops_at.on(nodes)
            reach = dist[:, column] + stops.off[picked] + own
            transit[which] = (reach <= LOCAL_RADIUS_M * 1000).sum(axis=1)
    return _Reach(footfall, density, transit, within)


def _density_criterion(
    reach: _Reach, inverse: np.ndarray, *, have_units: bool
) -> tuple[_Columns, _Omitted]:
    if have_units:
        return {"commercial_density": reach.density[inverse]}, {}
    why = "no commercial_units layer (commerce step)"
    return {}, dict.fromkeys(("commercial_density", "regeneration_need", "demand_gap"), why)


def _transit_criterion(
    reach: _Reach, inverse: np.ndarray, transit_stops: gpd.GeoDataFrame | None
) -> tuple[_Columns, _Omitted]:
    if transit_stops is not None and len(transit_stops):
        return {"transit_access": reach.transit[inverse]}, {}
    return {}, {"transit_access": "no transit_stops in the district"}


# --------------------------------------------------------------------------- anchors


def _select(frame: gpd.GeoDataFrame | None, column: str, value: str) -> gpd.GeoDataFrame | None:
    if frame is None or column not in frame:
        return None
    return frame[frame[column].astype(str).eq(value).to_numpy()]


def _anchor_criteria(
    arrays: GraphArrays,
    units: _Sites,
    crs: Any,
    *,
    pois: gpd.GeoDataFrame | None,
    transit_stops: gpd.GeoDataFrame | None,
) -> tuple[_Columns, _Omitted]:
    """Walking distance to the nearest anchor of each kind: one multi-source Dijkstra each."""
    anchor_sets = {
        "supermarket": _select(pois, "shop", "supermarket"),
        "station": _select(transit_stops, "kind", "station"),
        "school": _select(pois, "amenity", "school"),
        "townhall": _select(pois, "amenity", "townhall"),
    }
    columns: _Columns = {}
    omitted: _Omitted = {}
    for key, frame in anchor_sets.items():
        name = f"walk_{key}_m"
        if frame is None or len(frame) == 0:
            omitted[name] = f"no {CRITERIA[name].needs} in the district"
            continue
        anchors = _snap(arrays, frame, crs)
        to_anchor = multi_source_distance(arrays, anchors.pos, anchors.off, cutoff_m=ANCHOR_CAP_M)
        d = to_anchor[units.pos] + units.off / 1000.0
        columns[name] = np.minimum(np.where(np.isfinite(d), d, ANCHOR_CAP_M), ANCHOR_CAP_M).round(
            1
        )
    return columns, omitted


# --------------------------------------------------------------------------- straight lines


def _retail_centre_criterion(
    units: gpd.GeoDataFrame, retail_centres: gpd.GeoDataFrame | None
) -> tuple[_Columns, _Omitted]:
    if retail_centres is None or len(retail_centres) == 0:
        return {}, {"dist_retail_centre_m": "no retail_centres layer (commerce step)"}
    polys = shapely.union_all(retail_centres.to_crs(units.crs).geometry.to_numpy())
    distance = shapely.distance(units.geometry.to_numpy(), polys)
    return {"dist_retail_centre_m": np.round(distance, 1)}, {}


def _bike_criterion(
    units: gpd.GeoDataFrame, bike_network: gpd.GeoDataFrame | None, lts_threshold: int
) -> tuple[_Columns, _Omitted]:
    if bike_network is None or len(bike_network) == 0 or "lts" not in bike_network:
        return {}, {"low_stress_bike_m": "no bike_network layer (cycling step)"}
    lts = pd.to_numeric(bike_network["lts"], errors="coerce")
    low = bike_network[lts.le(lts_threshold).to_numpy()]
    if len(low) == 0:
        return {}, {"low_stress_bike_m": f"no bike_network street with LTS <= {lts_threshold}"}
    lines = shapely.union_all(low.to_crs(units.crs).geometry.to_numpy())
    distance = shapely.distance(units.geometry.to_numpy(), lines)
    return {"low_stress_bike_m": np.round(distance, 1)}, {}


# --------------------------------------------------------------------------- the unit itself


def _regeneration_need(footfall: pd.Series, density: pd.Series) -> pd.Series:
    """Central but little frequented: footfall percentile times one minus density's."""
    return (_pct(footfall) * (1.0 - _pct(density))).round(4)


def _floor_areas(units: pd.DataFrame) -> np.ndarray:
    area = units.get("floor_area_m2", pd.Series(np.nan, index=units.index))
    return pd.to_numeric(area).to_numpy(dtype=float)


def _suitability(units: pd.DataFrame) -> np.ndarray:
    """Mean of the floor-area, ground-floor and condition parts (0.5 when unknown)."""
    n = len(units)
    a = _floor_areas(units)
    area_s = np.where(a < 40, a / 40, np.where(a <= 250, 1.0, (1000 - a) / 750))
    area_s = np.where(np.isnan(a), 0.5, np.clip(area_s, 0.0, 1.0))
    ground = units["ground_floor"] if "ground_floor" in units else pd.Series([pd.NA] * n)
    g = np.array([0.5 if pd.isna(v) else (1.0 if bool(v) else 0.0) for v in ground])
    cond = units["condition"] if "condition" in units else pd.Series([None] * n)
    c = np.array([{"good": 1.0, "fair": 0.6, "poor": 0.2}.get(str(v), 0.5) for v in cond])
    return np.round((area_s + g + c) / 3.0, 4)


def _owner_rent_criteria(units: pd.DataFrame) -> tuple[_Columns, _Omitted]:
    """``public_ownership`` from ``owner_type`` and ``asking_rent_ratio`` from the rent."""
    columns: _Columns = {}
    omitted: _Omitted = {}
    owner = units["owner_type"] if "owner_type" in units else pd.Series([None] * len(units))
    keys = [None if v is None or pd.isna(v) else str(v).strip().lower() for v in owner]
    ease = np.array([np.nan if k is None else OWNER_EASE.get(k, np.nan) for k in keys])
    unknown = sorted({k for k in keys if k is not None and k not in OWNER_EASE})
    if unknown:
        log.warning("owner_type values not understood (taken as unknown): %s", unknown)
    if np.isfinite(ease).any():
        columns["public_ownership"] = ease
    else:
        omitted["public_ownership"] = "no owner type (survey owner_type)"
    rent = pd.to_numeric(
        units.get("asking_rent_eur_month", pd.Series(np.nan, index=units.index)),
        errors="coerce",
    ).to_numpy(dtype=float)
    area = _floor_areas(units)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_m2 = np.where((area > 0) & (rent >= 0), rent / area, np.nan)
    median = np.nanmedian(per_m2) if np.isfinite(per_m2).any() else np.nan
    if np.isfinite(median) and median > 0:
        columns["asking_rent_ratio"] = np.round(per_m2 / median, 4)
    else:
        omitted["asking_rent_ratio"] = (
            "no asking rent with a floor area (survey asking_rent_eur_month, floor_area_m2)"
        )
    return columns, omitted


# --------------------------------------------------------------------------- demand gap


def _fits(category: str, area: float) -> bool:
    if math.isnan(area):
        return True
    lo, hi = CATEGORY_FLOOR_AREA_M2.get(category, (0.0, math.inf))
    return lo <= area <= hi


def _demand_gap(
    counts: np.ndarray,
    considered: list[str],
    shares: np.ndarray,
    areas: np.ndarray,
    *,
    category_gaps: pd.DataFrame | None,
    taxonomy: Any,
    units: gpd.GeoDataFrame,
) -> _Columns:
    """Missing categories within the walk and up to three recommended uses per unit.

    ``counts`` holds, per unit, the active units of each considered category
    within the 10-minute walk.
    """
    missing = [[c for c, k in zip(considered, row, strict=True) if k == 0] for row in counts]
    # Shortfall against the reference mix of the units within the walk.
    shortfall = shares[None, :] * counts.sum(axis=1, keepdims=True) - counts
    allowed = _gap_candidates(category_gaps, units, considered)
    recs = []
    for i, m in enumerate(missing):
        if allowed is None:  # no status in the gap table: today's local logic
            first = [c for c in considered if c in m and _fits(c, areas[i])]
            short = [considered[j] for j in np.argsort(-shortfall[i], kind="stable")
                     if shortfall[i, j] >= 1 and considered[j] not in m
                     and _fits(considered[j], areas[i])]  # fmt: skip
            recs.append((first + short)[:3])
            continue
        level = allowed[i]
        pick = [c for c in considered if c in level and _fits(c, areas[i])]
        j_of = {c: j for j, c in enumerate(considered)}
        pick.sort(key=lambda c: (c not in m, level[c], -shortfall[i, j_of[c]], j_of[c]))
        recs.append(pick[:3])
    labels_en, labels_it = _labels(taxonomy)
    return {
        "demand_gap": np.array([len(m) for m in missing], dtype=np.int64),
        "missing_categories": [";".join(m) for m in missing],
        "recommended_uses": [";".join(r) for r in recs],
        "recommended_uses_en": ["; ".join(labels_en.get(c) or c for c in r) for r in recs],
        "recommended_uses_it": ["; ".join(labels_it.get(c) or c for c in r) for r in recs],
    }


#: Statuses of the gap table that make a category a candidate use (0 = most needed).
_GAP_STATUS = {"missing": 0, "under": 1, "under-represented": 1}


def _gap_candidates(
    gaps: pd.DataFrame | None, units: gpd.GeoDataFrame, considered: list[str]
) -> list[dict[str, int]] | None:
    """Per unit, the categories the gap table calls ``missing`` / ``under`` (and how).

    District rows (or rows without a ``scope``) count for every unit; centre
    rows with a polygon count for the units inside it.  ``None`` when the
    table has no ``status`` column (the caller then falls back to the local
    logic).  Column names are read defensively: the table may come from an
    older or newer commerce step.
    """
    if gaps is None or "status" not in gaps.columns or "category" not in gaps.columns:
        return None
    status = (
        gaps["status"].astype(str).str.strip().str.lower().str.replace(r"[_ ]", "-", regex=True)
    ).map(_GAP_STATUS)
    cat = gaps["category"].astype(str)
    keep = status.notna() & cat.isin(considered) & ~cat.isin(CATCH_ALL_CATEGORIES)
    rows = gaps[keep.to_numpy()]
    levels = status[keep].astype(int).to_numpy()
    cats = cat[keep].to_numpy()
    scope = (rows["scope"].astype(str).to_numpy() if "scope" in rows.columns
             else np.full(len(rows), "district"))  # fmt: skip
    out: list[dict[str, int]] = [{} for _ in range(len(units))]

    def add(i: int, c: str, level: int) -> None:
        out[i][c] = min(level, out[i].get(c, level))

    geoms = None
    if isinstance(rows, gpd.GeoDataFrame) and rows.crs is not None and len(rows):
        geoms = rows.geometry.to_crs(units.crs).to_numpy()
    points = units.geometry.to_numpy()
    for k in range(len(rows)):
        if scope[k] == "district":
            for i in range(len(units)):
                add(i, cats[k], int(levels[k]))
        elif scope[k] == "centre" and geoms is not None and geoms[k] is not None:
            inside = shapely.covers(geoms[k], points)
            for j in np.flatnonzero(inside).tolist():
                add(j, cats[k], int(levels[k]))
    return out


def _labels(taxonomy: Any) -> tuple[dict[str, str], dict[str, str]]:
    if taxonomy is None:
        try:
            from geodistrict.taxonomy import load_taxonomy

            taxonomy = load_taxonomy()
        except Exception:  # labels are a nicety; keys still say what is meant
            return {}, {}
    cats = getattr(taxonomy, "categories", {})
    return {k: c.en for k, c in cats.items()}, {k: c.it for k, c in cats.items()}
