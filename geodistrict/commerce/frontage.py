"""The ``street_frontage`` layer: units per 100 m of each walkable street segment."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict import _validate
from geodistrict.commerce.units import categories_of, counts_by_category, dominant, require_units

log = logging.getLogger(__name__)

__all__ = ["street_frontage"]

#: Walkable segments that are no shop frontage.
_NO_FRONTAGE = ("steps", "corridor", "elevator")


def street_frontage(
    streets: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 40.0,
    categories: list[str] | None = None,
) -> gpd.GeoDataFrame:
    """Units per 100 m of each walkable street segment.

    Every unit is assigned to its nearest walkable street segment (``walk``
    true, not ``steps``, ``corridor`` or ``elevator``) within
    ``max_distance_m``; farther units are not assigned.

    Parameters
    ----------
    streets : GeoDataFrame
        Street segments (lines, projected CRS), e.g. the ``streets`` base
        layer or ``osmnx.graph_to_gdfs(G, nodes=False)``; ``walk`` and
        ``highway`` are used when present.
    units : GeoDataFrame
        Commercial units (points with ``category``).
    max_distance_m : float, default 40
        Farthest a unit may be from its street (``commerce.frontage_max_m``).
    categories : list of str, optional
        Categories counted (``n_<category>``); default those present.

    Returns
    -------
    GeoDataFrame
        The walkable segments (all of them, zeros included) with ``u``, ``v``,
        ``key``, ``osmid``, ``name``, ``highway``, ``length_m``, ``n_units``,
        ``units_per_100m``, ``n_categories``, ``dominant_category`` and
        ``n_<category>``.

    Raises
    ------
    MissingColumnError
        If ``units`` has no ``category`` (classify them first).

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.taxonomy import classify_units
    >>> layers = gd.datasets.sample_layers()
    >>> frontage = street_frontage(layers.streets, classify_units(layers.pois))
    >>> bool((frontage["units_per_100m"] >= 0).all()), int(frontage["n_units"].sum()) > 1000
    (True, True)
    """
    _validate.projected_frame(streets, what="streets")
    require_units(units)
    walk = streets["walk"].astype(bool) if "walk" in streets else pd.Series(True, streets.index)
    highway = streets["highway"].astype(str) if "highway" in streets else ""
    usable = streets[walk & ~pd.Series(highway, index=streets.index).isin(_NO_FRONTAGE)]
    keep = [c for c in ("u", "v", "key", "osmid", "name", "highway") if c in usable.columns]
    out = gpd.GeoDataFrame(usable[keep].copy(), geometry=usable.geometry, crs=streets.crs)
    out = out.reset_index(drop=True)
    out["length_m"] = out.geometry.length.round(2)
    cats = categories_of(units, categories)
    joined = gpd.sjoin_nearest(
        units[["category", "geometry"]].to_crs(streets.crs), out[["geometry"]],
        how="inner", max_distance=max_distance_m,
    )  # fmt: skip
    joined = joined[~joined.index.duplicated(keep="first")]  # ties: one segment per unit
    counts = counts_by_category(joined, "index_right", cats).reindex(out.index, fill_value=0)
    out["n_units"] = counts.sum(axis=1).to_numpy()
    out["units_per_100m"] = np.where(
        out["length_m"] > 0, out["n_units"] / out["length_m"].clip(lower=1e-9) * 100.0, 0.0
    )
    out["n_categories"] = (counts > 0).sum(axis=1).to_numpy()
    out["dominant_category"] = dominant(counts, 0).to_numpy()
    for cat in cats:
        out[f"n_{cat}"] = counts[cat].to_numpy()
    log.info(
        "street_frontage: %d of %d units within %g m of a walkable street",
        len(joined), len(units), max_distance_m,
    )  # fmt: skip
    return out
