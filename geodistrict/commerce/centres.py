"""Retail centres: dense clusters of commercial units (HDBSCAN), ranked and described."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodistrict.commerce.units import (
    categories_of,
    counts_by_category,
    diversity_columns,
    dominant,
    polygonal,
    require_units,
)
from geodistrict.errors import ParameterError

log = logging.getLogger(__name__)

__all__ = ["retail_centres"]


def retail_centres(
    units: gpd.GeoDataFrame,
    *,
    min_units: int = 10,
    buffer_m: float = 25.0,
    vacant: gpd.GeoDataFrame | None = None,
    categories: list[str] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Delineate retail centres as dense clusters of units (HDBSCAN).

    HDBSCAN (Campello, Moulavi & Sander 2013; ``sklearn.cluster.HDBSCAN``)
    on the unit coordinates with ``min_cluster_size = min_units``: a centre
    is a group of at least ``min_units`` units denser than its surroundings;
    units between centres are noise.  This is the unit-based counterpart of
    the CDRC retail-centre boundaries (Macdonald et al. 2022), which also
    start from clusters of retail points.  A centre's polygon is the concave
    hull of its units (ratio 0.5) buffered by ``buffer_m``.

    Parameters
    ----------
    units : GeoDataFrame
        Commercial units (points with ``category``), projected CRS.
    min_units : int, default 10
        Fewest units that make a centre (``commerce.min_centre_units``).
    buffer_m : float, default 25
        Buffer of the polygon around the units (m).
    vacant : GeoDataFrame, optional
        Vacant units (points); those inside a centre give its vacancy rate.
    categories : list of str, optional
        Categories counted (``n_<category>`` columns); default those present.

    Returns
    -------
    (centres, labels)
        ``centres``: polygons sorted by rank with ``centre_id`` (= rank),
        ``rank`` (1 = most units), ``tier`` (``main`` for rank 1, ``district``
        with at least a quarter of the main centre's units, else ``local``),
        ``name`` (the street most of its units are on, from ``addr_street``),
        ``n_units``, ``n_vacant``, ``vacancy_rate`` (vacant / (units +
        vacant); null without vacancy data), ``shannon``, ``hill_q0``,
        ``hill_q1``, ``hill_q2``, ``dominant_1..3``, ``dominant_1_share``,
        ``area_ha``, ``units_per_ha`` and ``n_<category>``.
        ``labels``: the ``centre_id`` of every unit (0 = in no centre),
        indexed like ``units``.

    Raises
    ------
    MissingColumnError
        If ``units`` has no ``category`` (classify them first).
    ParameterError
        If ``min_units`` is below 2.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.taxonomy import classify_units
    >>> layers = gd.datasets.sample_layers()
    >>> centres, labels = retail_centres(classify_units(layers.pois), min_units=10)
    >>> len(centres) >= 1, int(centres["rank"].min()), centres.iloc[0]["tier"]
    (True, 1, 'main')
    """
    from sklearn.cluster import HDBSCAN

    require_units(units)
    if not isinstance(min_units, int | np.integer) or min_units < 2:
        raise ParameterError(f"min_units must be an integer of at least 2, got {min_units!r}")
    cats = categories_of(units, categories)
    xy = shapely.get_coordinates(units.geometry.to_numpy())
    raw = (
        HDBSCAN(min_cluster_size=min_units, copy=True).fit_predict(xy)
        if len(units) >= min_units
        else np.full(len(units), -1)
    )
    frame = pd.DataFrame({"cluster": raw, "category": units["category"].to_numpy()})
    frame = frame[frame["cluster"] >= 0]
    sizes = frame["cluster"].value_counts()
    # Rank 1 = most units; ties by cluster label, which is deterministic.
    ranked = sorted(sizes.index, key=lambda c: (-sizes[c], c))
    relabel = {c: i + 1 for i, c in enumerate(ranked)}
    labels = pd.Series(
        [relabel.get(c, 0) for c in raw], index=units.index, name="centre_id", dtype="int64"
    )
    columns = ["centre_id", "rank", "tier", "name", "n_units", "n_vacant", "vacancy_rate",
               "shannon", "hill_q0", "hill_q1", "hill_q2", "dominant_1", "dominant_2",
               "dominant_3", "dominant_1_share", "area_ha", "units_per_ha",
               *[f"n_{c}" for c in cats]]  # fmt: skip
    if not ranked:
        empty = gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=units.crs)
        return empty, labels
    polys = []
    for cid in range(1, len(ranked) + 1):
        pts = shapely.multipoints(xy[labels.to_numpy() == cid])
        hull = shapely.concave_hull(pts, ratio=0.5)
        polys.append(polygonal(shapely.buffer(hull, max(buffer_m, 0.01))))
    ids = np.arange(1, len(ranked) + 1)
    centres = gpd.GeoDataFrame({"centre_id": ids, "rank": ids}, geometry=polys, crs=units.crs)
    members = pd.DataFrame({"centre_id": labels.to_numpy(), "category": units["category"]})
    members = members[members["centre_id"] > 0]
    counts = counts_by_category(members, "centre_id", cats).reindex(ids, fill_value=0)
    n_units = counts.sum(axis=1).to_numpy()
    centres["tier"] = np.where(
        ids == 1, "main", np.where(n_units >= 0.25 * n_units.max(), "district", "local")
    )
    centres["name"] = _main_street(units, labels, ids)
    centres["n_units"] = n_units
    if vacant is not None:
        inside = gpd.sjoin(vacant[["geometry"]].to_crs(units.crs), centres[["centre_id",
                           "geometry"]], predicate="within")  # fmt: skip
        n_vacant = inside["centre_id"].value_counts().reindex(ids, fill_value=0).to_numpy()
        centres["n_vacant"] = n_vacant
        centres["vacancy_rate"] = n_vacant / (n_units + n_vacant)
    else:
        centres["n_vacant"] = pd.array([pd.NA] * len(ids), dtype="Int64")
        centres["vacancy_rate"] = np.nan
    div = diversity_columns(counts)
    for col in div.columns:
        centres[col] = div[col].to_numpy()
    for k in range(3):
        centres[f"dominant_{k + 1}"] = dominant(counts, k).to_numpy()
    centres["dominant_1_share"] = counts.max(axis=1).to_numpy() / np.maximum(n_units, 1)
    centres["area_ha"] = centres.area / 10_000.0
    centres["units_per_ha"] = n_units / centres["area_ha"]
    for cat in cats:
        centres[f"n_{cat}"] = counts[cat].to_numpy()
    log.info("retail centres: %d (units in centres: %d)", len(centres), int(n_units.sum()))
    return gpd.GeoDataFrame(centres[[*columns, "geometry"]], crs=units.crs), labels


def _main_street(units: gpd.GeoDataFrame, labels: pd.Series, ids: np.ndarray) -> list[str | None]:
    if "addr_street" not in units:
        return [None] * len(ids)
    streets = pd.DataFrame({"c": labels.to_numpy(), "s": units["addr_street"].to_numpy()})
    streets = streets[streets["s"].notna() & (streets["c"] > 0)]
    top = streets.groupby("c")["s"].agg(lambda s: s.value_counts().index[0])
    return [top.get(i) for i in ids]
