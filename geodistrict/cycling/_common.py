"""Helpers shared by the cycling modules: tag text, points, per-edge attributes.

Per-edge arrays follow the edge order of :func:`geodistrict.network.graph_arrays`
(``graph.edges(keys=True)``), so they line up with ``arrays.edge_u`` / ``edge_v``.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from geodistrict.errors import ParameterError
from geodistrict.network import GraphArrays, edge_values


def per_unique(col: pd.Series, func: Any, missing: Any) -> np.ndarray:
    """``func`` applied once per distinct value (tag columns repeat a few values a lot)."""
    try:
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
    except TypeError:  # unhashable values, e.g. lists from a merged edge
        codes, uniques = pd.factorize(col.map(scalar), use_na_sentinel=True)
    mapped = [func(v) for v in uniques] + [missing]
    return np.array(mapped, dtype=object)[codes]


def text(frame: pd.DataFrame, *names: str) -> pd.Series:
    """First present column among ``names`` as lower-case text ('' when missing)."""
    for name in names:
        if name in frame.columns:
            values = per_unique(frame[name], lambda v: str(v).strip().lower(), "")
            return pd.Series(values, index=frame.index, dtype=object)
    return pd.Series("", index=frame.index, dtype=object)


def scalar(value: Any) -> Any:
    """A tag value as one scalar: lists (from merged edges) joined with ';'."""
    # Arrays too: edge_values turns equal-length lists into rows of a 2-D array.
    if isinstance(value, list | np.ndarray):
        return ";".join(str(v) for v in value)
    return value


def osm_ids(values: Any) -> pd.Series:
    """OSM ids as an integer column (``Int64``, null where missing), never floats.

    Ids that are not whole numbers (e.g. ``"12;34"`` joined from a merged
    edge) keep the column as text instead.
    """
    series = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    numbers = pd.to_numeric(series, errors="coerce")
    given = series.map(present)
    if bool((numbers.notna() == given).all()) and bool(
        (numbers.dropna() == numbers.dropna().round()).all()
    ):
        return pd.Series(
            pd.array([int(v) if pd.notna(v) else None for v in numbers], dtype="Int64"),
            index=series.index,
        )
    return series.map(lambda v: str(scalar(v)) if present(v) else None).astype("str")


def empty_layer(columns: dict[str, str], crs: Any) -> gpd.GeoDataFrame:
    """A layer with no rows but its columns, their types, a geometry column and a CRS."""
    return gpd.GeoDataFrame(
        {name: pd.Series(dtype=dtype) for name, dtype in columns.items()},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


def present(value: Any) -> bool:
    """Whether a tag value says something (not None, NaN, NA or empty)."""
    return (
        value is not None
        and value is not pd.NA
        and not (isinstance(value, float) and math.isnan(value))
        and str(value) not in ("", "None", "nan")
    )


def points_of(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Point geometries as they are; other geometries at a point inside them."""
    geoms = frame.geometry
    return geoms.where(geoms.geom_type == "Point", geoms.representative_point())


def check_threshold(threshold: int) -> None:
    """Raise :class:`ParameterError` unless ``threshold`` is an LTS level (1-4)."""
    if threshold not in (1, 2, 3, 4):
        raise ParameterError(f"LTS threshold must be 1, 2, 3 or 4, got {threshold!r}")


def edge_lts(graph: nx.MultiDiGraph) -> np.ndarray:
    """LTS of every edge (1 where missing, e.g. on a walk graph)."""
    return np.asarray(edge_values(graph, "lts", 1), dtype=np.int8).reshape(-1)


def edge_lengths(graph: nx.MultiDiGraph) -> np.ndarray:
    """``length`` of every edge in metres, as stored (reported lengths use these)."""
    return np.asarray(edge_values(graph, "length", 0.0), dtype=float).reshape(-1)


def edge_geoms(graph: nx.MultiDiGraph, arrays: GraphArrays) -> np.ndarray:
    """Line of every edge: its ``geometry``, else straight between its nodes."""
    geoms = edge_values(graph, "geometry")
    out = np.empty(len(geoms), dtype=object)
    for i, geom in enumerate(geoms):
        out[i] = (
            geom
            if geom is not None
            else LineString([arrays.xy[arrays.edge_u[i]], arrays.xy[arrays.edge_v[i]]])
        )
    return out


def edge_info(graph: nx.MultiDiGraph) -> pd.DataFrame:
    """``osmid`` (text), ``name`` and ``highway`` of every edge."""
    return pd.DataFrame(
        {
            "osmid": [str(scalar(v)) for v in edge_values(graph, "osmid")],
            "name": [scalar(v) for v in edge_values(graph, "name")],
            "highway": [scalar(v) for v in edge_values(graph, "highway")],
        },
        dtype=object,
    )


def street_ids(arrays: GraphArrays, osmids: pd.Series, lengths: np.ndarray) -> np.ndarray:
    """One id per street shared by its two directions: (way, ends, rounded length)."""
    u, v = arrays.edge_u, arrays.edge_v
    key = pd.DataFrame(
        {
            "o": osmids.to_numpy(),
            "a": np.minimum(u, v),
            "b": np.maximum(u, v),
            "l": np.round(lengths),
        }
    )
    return key.groupby(["o", "a", "b", "l"], sort=False).ngroup().to_numpy()
