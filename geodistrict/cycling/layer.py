"""The ``bike_network`` layer (one line per street, LTS both ways) and a cross-check.

:func:`bike_network` folds the two directed edges of a street into one line
drawn in the OSM way's direction, with the stress of each direction;
:func:`lts_agreement` compares its levels with the ``osm-lts`` package.

Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import math
import re
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from geodistrict import _validate
from geodistrict.cycling._common import empty_layer, osm_ids, present, scalar
from geodistrict.cycling.lts import _scored
from geodistrict.network.lazy import edges_with_data

__all__ = ["bike_network", "lts_agreement"]

#: Columns of the ``bike_network`` layer and their types.
_COLUMNS = {
    "u": "int64",
    "v": "int64",
    "osmid": "Int64",
    "name": "object",
    "highway": "object",
    "length_m": "float64",
    "infra_fwd": "object",
    "infra_bwd": "object",
    "lts_fwd": "Int8",
    "lts_bwd": "Int8",
    "infra": "object",
    "lts": "Int8",
    "oneway_bike": "bool",
    "maxspeed": "object",
    "lanes": "object",
    "lts_assumptions": "str",
}


def bike_network(graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """The ``bike_network`` layer: one line per street edge with LTS in both directions.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A bike graph, scored by :func:`add_lts` (scored with default options
        if not).

    Returns
    -------
    GeoDataFrame
        Lines drawn in the OSM way's direction, in the graph's CRS, with
        ``u``, ``v``, ``osmid``, ``name``, ``highway``, ``length_m``,
        ``infra_fwd`` / ``infra_bwd`` and ``lts_fwd`` / ``lts_bwd`` (along /
        against the way; null where cycling that way is not allowed),
        ``infra`` and ``lts`` (the worse allowed direction), ``oneway_bike``,
        ``maxspeed``, ``lanes``, ``lts_assumptions``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> g = gd.datasets.sample_layers().bike_graph
    >>> net = bike_network(g)
    >>> bool(net["lts"].between(1, 4).all()), net.crs.to_epsg()
    (True, 32635)
    """
    graph = _scored(graph)
    records = []
    for u, v, data in edges_with_data(graph):  # leaves a LazyGraph unbuilt
        rev = bool(data.get("reversed", False))
        geom = data.get("geometry")
        if geom is None:
            geom = LineString(
                [
                    (graph.nodes[u]["x"], graph.nodes[u]["y"]),
                    (graph.nodes[v]["x"], graph.nodes[v]["y"]),
                ]
            )
        records.append(
            {
                "key": (
                    str(scalar(data.get("osmid"))),
                    min(u, v),
                    max(u, v),
                    round(float(data.get("length", 0.0)), 1),
                ),
                "reversed": rev,
                "u": v if rev else u,
                "v": u if rev else v,
                "osmid": scalar(data.get("osmid")),
                "name": scalar(data.get("name")),
                "highway": scalar(data.get("highway")),
                "maxspeed": scalar(data.get("maxspeed")),
                "lanes": scalar(data.get("lanes")),
                "length_m": float(data.get("length", 0.0)),
                "infra": data["infra"],
                "lts": int(data["lts"]),
                "lts_assumptions": data.get("lts_assumptions", ""),
                "geometry": shapely.reverse(geom) if rev else geom,
            }
        )
    crs = graph.graph["crs"]
    if not records:
        return empty_layer(_COLUMNS, crs)
    frame = pd.DataFrame.from_records(records)
    fwd = frame[~frame["reversed"]].drop_duplicates("key").set_index("key")
    bwd = frame[frame["reversed"]].drop_duplicates("key").set_index("key")
    # One row per street: the forward edge, else the backward one (already turned back to
    # the way's direction). Rows are taken whole, never aligned, so no column goes through
    # a missing value: ids stay integers (oneway=-1 streets have only a backward edge).
    only_bwd = bwd[~bwd.index.isin(fwd.index)]
    base = pd.concat([fwd, only_bwd]) if len(only_bwd) else fwd.copy()
    keys = base.index
    base["infra_fwd"] = fwd["infra"].reindex(keys).astype(object)
    base["infra_bwd"] = bwd["infra"].reindex(keys).astype(object)
    base["lts_fwd"] = fwd["lts"].reindex(keys).astype("Int8")
    base["lts_bwd"] = bwd["lts"].reindex(keys).astype("Int8")
    worse = np.fmax(base["lts_fwd"].astype(float), base["lts_bwd"].astype(float))
    base["lts"] = pd.Series(worse, index=base.index).astype("Int8")
    base["infra"] = np.where(
        base["lts_bwd"].astype(float).fillna(0) > base["lts_fwd"].astype(float).fillna(0),
        base["infra_bwd"],
        base["infra_fwd"].fillna(base["infra_bwd"]),
    )
    notes_b = bwd["lts_assumptions"].reindex(keys)
    notes_f = fwd["lts_assumptions"].reindex(keys)
    base["lts_assumptions"] = [
        "; ".join(
            dict.fromkeys(p for n in (a, b) if isinstance(n, str) and n for p in n.split("; "))
        )
        for a, b in zip(notes_f, notes_b, strict=True)
    ]
    base["oneway_bike"] = base["lts_fwd"].isna() | base["lts_bwd"].isna()
    base["osmid"] = osm_ids(base["osmid"]).array
    for text in ("name", "highway", "maxspeed", "lanes", "infra", "infra_fwd", "infra_bwd"):
        base[text] = base[text].astype(object).where(base[text].notna(), None)
    columns = [*_COLUMNS, "geometry"]
    out = gpd.GeoDataFrame(base[columns].reset_index(drop=True), geometry="geometry", crs=crs)
    out["u"] = out["u"].astype("int64")
    out["v"] = out["v"].astype("int64")
    out["length_m"] = out["length_m"].round(1)
    return out


def lts_agreement(network: pd.DataFrame, *, metric: bool = True) -> dict[str, Any]:
    """Compare :func:`bike_network`'s LTS with the ``osm-lts`` package (Furth, US defaults).

    Parameters
    ----------
    network : DataFrame
        The ``bike_network`` layer, or any frame with ``lts`` and the tag columns
        ``highway``, ``maxspeed``, ``lanes``, ``cycleway*``.
    metric : bool, default True
        Append ``km/h`` to bare ``maxspeed`` numbers before handing them to
        osm-lts, which reads bare numbers as mph (a US convention); OSM's own
        convention is km/h.

    Returns
    -------
    dict
        ``compared`` (rows osm-lts scores), ``agreement`` (share with the same
        level), ``within_one`` (share differing by at most one level),
        ``same_low_high`` (share on the same side of LTS 2/3), ``confusion``
        (DataFrame: ours in rows, osm-lts in columns).

    Raises
    ------
    MissingColumnError
        If ``network`` has no ``lts`` column.
    ImportError
        If ``osm-lts`` is not installed (``pip install osm-lts``, part of the ``dev`` extra).

    Examples
    --------
    >>> import geodistrict as gd
    >>> g = gd.datasets.sample_layers().bike_graph
    >>> result = lts_agreement(bike_network(g))
    >>> 0.0 <= result["agreement"] <= 1.0
    True
    """
    _validate.require_columns(
        network, ["lts"], what="bike network", hint="make it with gd.cycling.bike_network(graph)"
    )
    try:
        import osm_lts
    except ImportError as exc:  # pragma: no cover - bench extra
        raise ImportError("lts_agreement needs osm-lts: pip install osm-lts") from exc
    keys = {
        "highway": "highway",
        "maxspeed": "maxspeed",
        "lanes": "lanes",
        "cycleway": "cycleway",
        "cycleway_left": "cycleway:left",
        "cycleway_right": "cycleway:right",
        "cycleway_both": "cycleway:both",
    }
    ours, theirs = [], []
    columns = [c for c in keys if c in network.columns]
    for values in network[[*columns, "lts"]].to_dict("records"):
        tags = {keys[c]: str(values[c]) for c in columns if present(values[c])}
        if metric and re.fullmatch(r"\d+", tags.get("maxspeed", "x")):
            tags["maxspeed"] += " km/h"
        level = osm_lts.classify(tags)
        if level is None or not present(values["lts"]):
            continue
        ours.append(int(values["lts"]))
        theirs.append(int(level))
    a, b = np.array(ours), np.array(theirs)
    n = len(a)
    return {
        "compared": n,
        "agreement": float((a == b).mean()) if n else math.nan,
        "within_one": float((np.abs(a - b) <= 1).mean()) if n else math.nan,
        "same_low_high": float(((a <= 2) == (b <= 2)).mean()) if n else math.nan,
        "confusion": pd.crosstab(pd.Series(a, name="geodistrict"), pd.Series(b, name="osm_lts")),
    }
