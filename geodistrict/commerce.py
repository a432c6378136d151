"""Commercial density, retail centres, category mix and missing categories.

The evidence a *Distretto del Commercio* needs to "strengthen the areas of high
commercial density" and "attract the merchandise categories that are missing".
Every function takes GeoDataFrames or graphs in a projected CRS (metres) and
returns new objects; :func:`commerce_layers` runs them all for a district.

Layers
------
commercial_units
    One point per active unit with its category (:mod:`geodistrict.taxonomy`).
commercial_density.tif
    Quartic-kernel density, units per hectare, band 1 all units and one band
    per category (:func:`density_raster`).
commercial_hex
    H3 cells with counts per category, diversity and walking distance to
    everyday needs (:func:`commercial_hex`).
street_frontage
    Walkable street segments with units per 100 m (:func:`street_frontage`).
commercial_access
    Street nodes with the units of each category within 400/800/1600 m of
    walking (:func:`geodistrict.network.accessibility`).
retail_centres
    HDBSCAN clusters of units with at least ``min_centre_units`` units, their
    vacancy, diversity, dominant categories and rank (:func:`retail_centres`).
category_gaps
    Observed vs expected units per category in the district and in each
    centre, and the share of homes within a walk of each everyday need
    (:func:`category_gaps`, :func:`walking_coverage`).

Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
import yaml
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geodistrict import _validate
from geodistrict.config import CommerceConfig, VacancyConfig
from geodistrict.errors import ConfigError, EmptyAreaError, OutputError
from geodistrict.network import (
    GraphArrays,
    accessibility,
    graph_arrays,
    multi_source_distance,
    nearest_nodes,
)
from geodistrict.taxonomy import Classification, Taxonomy, classify, load_taxonomy

log = logging.getLogger(__name__)

__all__ = [
    "RESIDENTIAL_BUILDINGS",
    "CommerceResult",
    "DensityRaster",
    "category_gaps",
    "commerce_layers",
    "commercial_access",
    "commercial_hex",
    "default_reference_mix_path",
    "density_raster",
    "diversity",
    "homes",
    "load_reference_mix",
    "retail_centres",
    "street_frontage",
    "vacant_points",
    "walking_coverage",
    "write_density_raster",
    "write_density_raster_entry",
]

#: OSM ``building`` values that are homes.
RESIDENTIAL_BUILDINGS = frozenset({
    "apartments", "residential", "house", "detached", "semidetached_house", "terrace",
    "bungalow", "dormitory", "farm", "cabin", "houseboat", "static_caravan",
})  # fmt: skip


# --------------------------------------------------------------------------- diversity


def diversity(counts: Any) -> dict[str, float]:
    """Shannon entropy and Hill numbers of a vector of counts per category.

    ``shannon`` is ``H = -sum p ln p``; the Hill numbers are ``hill_q0``
    (richness: categories present), ``hill_q1 = exp(H)`` and
    ``hill_q2 = 1 / sum p^2`` (effective numbers of categories).  All zero
    when there is nothing to count.

    Examples
    --------
    >>> d = diversity([10, 10, 0])
    >>> d["hill_q0"], round(d["hill_q1"], 6), round(d["hill_q2"], 6)
    (2.0, 2.0, 2.0)
    """
    c = np.asarray(counts, dtype=float)
    c = c[c > 0]
    if c.size == 0:
        return {"shannon": 0.0, "hill_q0": 0.0, "hill_q1": 0.0, "hill_q2": 0.0}
    p = c / c.sum()
    h = float(-(p * np.log(p)).sum())
    return {
        "shannon": h,
        "hill_q0": float(c.size),
        "hill_q1": float(np.exp(h)),
        "hill_q2": float(1.0 / (p**2).sum()),
    }


def _counts_by_category(
    frame: pd.DataFrame, group: str | None, categories: list[str]
) -> pd.DataFrame:
    keys = frame[group] if group is not None else pd.Series(0, index=frame.index)
    table = pd.crosstab(keys, frame["category"]) if len(frame) else pd.DataFrame()
    return table.reindex(columns=categories, fill_value=0).astype(np.int64)


def _diversity_columns(counts: pd.DataFrame) -> pd.DataFrame:
    rows = [diversity(row) for row in counts.to_numpy()]
    return pd.DataFrame(rows, index=counts.index, columns=["shannon", "hill_q0", "hill_q1",
                                                           "hill_q2"])  # fmt: skip


def _dominant(counts: pd.DataFrame, rank: int) -> pd.Series:
    """The category at ``rank`` (0 = largest) of each row, ``None`` when it has no unit."""
    values = counts.to_numpy()
    if values.shape[1] <= rank:
        return pd.Series([None] * len(counts), index=counts.index, dtype=object)
    order = np.argsort(-values, axis=1, kind="stable")[:, rank]
    names = np.asarray(counts.columns, dtype=object)[order]
    picked = values[np.arange(len(values)), order]
    return pd.Series(
        [n if v > 0 else None for n, v in zip(names, picked, strict=True)],
        index=counts.index,
        dtype=object,
    )


# --------------------------------------------------------------------------- vacancy


def vacant_points(
    pois: gpd.GeoDataFrame,
    survey: gpd.GeoDataFrame | None = None,
    *,
    merge_distance_m: float = 15.0,
) -> gpd.GeoDataFrame:
    """Vacant units from OSM (``vacant`` POIs) and an optional survey, without doubles.

    A survey point closer than ``merge_distance_m`` to an OSM vacant unit is
    the same unit (kept once, ``source="both"``).

    Returns
    -------
    GeoDataFrame
        Points with ``source`` (``osm``, ``survey``, ``both``), ``osm_id`` and
        ``unit_id`` (the survey's id), in the CRS of ``pois``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> len(vacant_points(layers.pois)) == int(layers.pois["vacant"].sum())
    True
    """
    _validate.projected_frame(pois, what="pois")
    crs = pois.crs
    osm = pois[pois["vacant"].fillna(False).astype(bool)] if "vacant" in pois else pois.iloc[:0]
    out = gpd.GeoDataFrame(
        {"source": "osm", "osm_id": osm["osm_id"].to_numpy() if "osm_id" in osm else None,
         "unit_id": None},
        geometry=osm.geometry.to_numpy(), crs=crs,
    )  # fmt: skip
    if survey is None or len(survey) == 0:
        return out.reset_index(drop=True)
    survey = survey.to_crs(crs)
    ids = survey["unit_id"].astype(str).to_numpy() if "unit_id" in survey else [None] * len(survey)
    fresh = np.ones(len(survey), dtype=bool)
    if len(out):
        from scipy.spatial import cKDTree

        dist, idx = cKDTree(shapely.get_coordinates(out.geometry.to_numpy())).query(
            shapely.get_coordinates(survey.geometry.to_numpy())
        )
        near = dist <= merge_distance_m
        out.loc[idx[near], "source"] = "both"
        out.loc[idx[near], "unit_id"] = np.asarray(ids, dtype=object)[near]
        fresh = ~near
    extra = gpd.GeoDataFrame(
        {"source": "survey", "osm_id": None, "unit_id": np.asarray(ids, dtype=object)[fresh]},
        geometry=survey.geometry.to_numpy()[fresh], crs=crs,
    )  # fmt: skip
    return gpd.GeoDataFrame(pd.concat([out, extra], ignore_index=True), crs=crs)


# --------------------------------------------------------------------------- density


@dataclass(frozen=True)
class DensityRaster:
    """A kernel density raster in memory.

    Attributes
    ----------
    data : ndarray, shape (bands, rows, cols), float32
        Units per hectare; ``nodata`` outside the study area.
    transform : affine.Affine
        Pixel to working-CRS transform (north up).
    crs : pyproj.CRS
    band_names : tuple of str
        ``all`` then one category key per band.
    nodata : float
    bandwidth_m, cell_m : float
    """

    data: np.ndarray
    transform: Any
    crs: CRS
    band_names: tuple[str, ...]
    nodata: float
    bandwidth_m: float
    cell_m: float


def density_raster(
    units: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame | BaseGeometry,
    *,
    bandwidth_m: float,
    cell_m: float = 10.0,
    categories: list[str] | None = None,
    nodata: float = -9999.0,
) -> DensityRaster:
    """Quartic (biweight) kernel density of units, in units per hectare.

    Each unit spreads one unit over a disc of radius ``bandwidth_m`` with the
    quartic kernel ``K(d) = 3 / (pi h^2) * (1 - (d/h)^2)^2`` (the kernel of
    QGIS's heatmap), evaluated at cell centres; the sum is multiplied by
    10,000 m²/ha.  Units outside the study area still count near its edge;
    cells outside the area are ``nodata``.

    Parameters
    ----------
    units : GeoDataFrame
        Points in a projected CRS, with ``category`` for the per-category bands.
    area : GeoDataFrame or Polygon
        The study area (same CRS).
    bandwidth_m : float
        Kernel radius (m), ``commerce.kde_bandwidth_m``.
    cell_m : float, default 10
        Cell size (m).
    categories : list of str, optional
        Bands after the first (all units); default the categories present.
    nodata : float, default -9999

    Returns
    -------
    DensityRaster

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> pts = gpd.GeoDataFrame({"category": ["food"]}, geometry=[Point(500, 500)], crs=32632)
    >>> r = density_raster(pts, box(0, 0, 1000, 1000), bandwidth_m=100, cell_m=5)
    >>> r.band_names, round(float(r.data[0].sum()) * 25 / 10_000, 2)  # integrates to 1 unit
    (('all', 'food'), 1.0)
    """
    _validate.projected_frame(units, what="units")
    if bandwidth_m <= 0 or cell_m <= 0:
        raise ValueError(f"bandwidth_m and cell_m must be > 0, got {bandwidth_m!r}, {cell_m!r}")
    from rasterio.features import geometry_mask
    from rasterio.transform import from_origin

    polygon = _area_polygon(area)
    xmin, ymin, xmax, ymax = polygon.bounds
    xmin, ymin = np.floor(xmin / cell_m) * cell_m, np.floor(ymin / cell_m) * cell_m
    xmax, ymax = np.ceil(xmax / cell_m) * cell_m, np.ceil(ymax / cell_m) * cell_m
    cols = int(np.rint((xmax - xmin) / cell_m))
    rows = int(np.rint((ymax - ymin) / cell_m))
    transform = from_origin(xmin, ymax, cell_m, cell_m)
    cats = categories if categories is not None else sorted(units["category"].unique())
    names = ("all", *cats)
    grid = np.zeros((len(names), rows, cols), dtype=np.float64)
    code = {c: i + 1 for i, c in enumerate(cats)}
    xy = shapely.get_coordinates(units.geometry.to_numpy())
    unit_cats = units["category"].astype(str).tolist() if "category" in units else [None] * len(xy)
    h = float(bandwidth_m)
    scale = 3.0 / (np.pi * h * h) * 10_000.0
    reach = int(np.ceil(h / cell_m))
    for (x, y), cat in zip(xy, unit_cats, strict=True):
        c0 = int(np.floor((x - xmin) / cell_m))
        r0 = int(np.floor((ymax - y) / cell_m))
        c_lo, c_hi = max(c0 - reach, 0), min(c0 + reach + 1, cols)
        r_lo, r_hi = max(r0 - reach, 0), min(r0 + reach + 1, rows)
        if c_lo >= c_hi or r_lo >= r_hi:
            continue
        cx = xmin + (np.arange(c_lo, c_hi) + 0.5) * cell_m - x
        cy = ymax - (np.arange(r_lo, r_hi) + 0.5) * cell_m - y
        u2 = (cx[None, :] ** 2 + cy[:, None] ** 2) / (h * h)
        k = np.where(u2 < 1.0, (1.0 - u2) ** 2, 0.0) * scale
        grid[0, r_lo:r_hi, c_lo:c_hi] += k
        if cat in code:
            grid[code[cat], r_lo:r_hi, c_lo:c_hi] += k
    outside = geometry_mask([polygon], out_shape=(rows, cols), transform=transform)
    data = grid.astype(np.float32)
    data[:, outside] = nodata
    return DensityRaster(
        data=data, transform=transform, crs=CRS.from_user_input(units.crs), band_names=names,
        nodata=nodata, bandwidth_m=h, cell_m=float(cell_m),
    )  # fmt: skip


def write_density_raster(raster: DensityRaster, path: str | os.PathLike[str]) -> Path:
    """Write a :class:`DensityRaster` as a Cloud-Optimized GeoTIFF, atomically.

    The file is written next to ``path`` under a temporary name and renamed
    into place, so a reader never sees half a file; band descriptions are
    the band names, and the tags say the unit (units per hectare), the
    kernel and the bandwidth.

    Raises
    ------
    OutputError
        If the file cannot be written (the previous file is left untouched).
    """
    import rasterio

    target = Path(path)
    bands, rows, cols = raster.data.shape
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    profile = {
        "driver": "COG", "width": cols, "height": rows, "count": bands, "dtype": "float32",
        "crs": raster.crs.to_wkt(), "transform": raster.transform, "nodata": raster.nodata,
        "compress": "DEFLATE", "predictor": 3, "blocksize": 256, "overview_resampling": "average",
    }  # fmt: skip
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(raster.data)
            for i, name in enumerate(raster.band_names, start=1):
                dst.set_band_description(i, name)
            dst.update_tags(
                units="commercial units per hectare",
                kernel="quartic (biweight)",
                bandwidth_m=f"{raster.bandwidth_m:g}",
                cell_m=f"{raster.cell_m:g}",
                attribution="© OpenStreetMap contributors, ODbL 1.0",
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write the raster {str(target)!r}: {exc}") from exc
    return target


def write_density_raster_entry(
    raster: DensityRaster, path: str | os.PathLike[str]
) -> dict[str, Any]:
    """Write the raster (:func:`write_density_raster`) and return its manifest entry."""
    target = write_density_raster(raster, path)
    _, rows, cols = raster.data.shape
    left, top = raster.transform.c, raster.transform.f
    bounds = (left, top - rows * raster.cell_m, left + cols * raster.cell_m, top)
    bbox = gpd.GeoSeries([shapely.box(*bounds)], crs=raster.crs).to_crs(4326).total_bounds
    epsg = raster.crs.to_epsg()
    return {
        "title": "Commercial density",
        "title_it": "Densità commerciale",
        "description": "Quartic kernel density of commercial units, units per hectare; "
        "band 1 all units, then one band per category; nodata outside the study area.",
        "description_it": "Densità kernel (quartica) delle unità commerciali, unità per "
        "ettaro; banda 1 tutte le unità, poi una banda per categoria; nodata fuori "
        "dall'area di studio.",
        "format": "COG",
        "bands": list(raster.band_names),
        "units": "commercial units per hectare",
        "bandwidth_m": raster.bandwidth_m,
        "cell_m": raster.cell_m,
        "width": cols,
        "height": rows,
        "nodata": raster.nodata,
        "crs": f"EPSG:{epsg}" if epsg else raster.crs.to_wkt(),
        "bbox_crs84": [round(float(v), 7) for v in bbox],
        "bytes": target.stat().st_size,
        "attribution": "© OpenStreetMap contributors",
    }


def _area_polygon(area: gpd.GeoDataFrame | BaseGeometry) -> BaseGeometry:
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        _validate.projected_crs(area.crs, what="study area")
        geom = shapely.union_all(area.geometry.to_numpy())
    else:
        geom = area
    return _validate.area_geometry(geom)


# --------------------------------------------------------------------------- hexagons


def _hex_cells(area_lonlat: BaseGeometry, points_lonlat: np.ndarray, resolution: int) -> list[str]:
    import h3

    cells = set(h3.geo_to_cells(area_lonlat, resolution))
    for lon, lat in points_lonlat:
        cells.add(h3.latlng_to_cell(lat, lon, resolution))
    return sorted(cells)


def _hex_polygons(cells: list[str]) -> list[Polygon]:
    import h3

    return [Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]


def commercial_hex(
    units: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame | BaseGeometry,
    *,
    resolution: int = 9,
    categories: list[str] | None = None,
    vacant: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """H3 hexagons over the area with units per category, density and diversity.

    The cells are those whose centre lies in the study area plus every cell
    holding a unit.

    Returns
    -------
    GeoDataFrame
        One polygon per cell: ``h3``, ``n_units``, ``n_<category>`` for each
        category, ``n_vacant``, ``units_per_ha`` (units / cell area),
        ``dominant_category``, ``shannon``, ``hill_q0``, ``hill_q1``,
        ``hill_q2``; in the CRS of ``units``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.taxonomy import classify
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> units = classify(layers.pois).units
    >>> hexes = commercial_hex(units, layers.study_area, resolution=9)
    >>> int(hexes["n_units"].sum()) == len(units)
    True
    """
    import h3

    _validate.projected_frame(units, what="units")
    crs = units.crs
    polygon = _area_polygon(area)
    area_ll = gpd.GeoSeries([polygon], crs=crs).to_crs(4326).iloc[0]
    pts_ll = shapely.get_coordinates(units.geometry.to_crs(4326).to_numpy())
    cells = _hex_cells(area_ll, pts_ll, resolution)
    cats = categories if categories is not None else sorted(units["category"].unique())
    frame = pd.DataFrame(
        {"h3": [h3.latlng_to_cell(lat, lon, resolution) for lon, lat in pts_ll],
         "category": units["category"].to_numpy()}
    )  # fmt: skip
    counts = _counts_by_category(frame, "h3", cats).reindex(cells, fill_value=0)
    hexes = gpd.GeoDataFrame({"h3": cells}, geometry=_hex_polygons(cells), crs=4326).to_crs(crs)
    hexes["n_units"] = counts.sum(axis=1).to_numpy()
    for cat in cats:
        hexes[f"n_{cat}"] = counts[cat].to_numpy()
    if vacant is not None and len(vacant):
        v_ll = shapely.get_coordinates(vacant.geometry.to_crs(4326).to_numpy())
        v_cells = pd.Series([h3.latlng_to_cell(lat, lon, resolution) for lon, lat in v_ll])
        hexes["n_vacant"] = v_cells.value_counts().reindex(cells, fill_value=0).to_numpy()
    else:
        hexes["n_vacant"] = 0
    hexes["units_per_ha"] = hexes["n_units"] / (hexes.area / 10_000.0)
    hexes["dominant_category"] = _dominant(counts, 0).to_numpy()
    div = _diversity_columns(counts)
    for col in div.columns:
        hexes[col] = div[col].to_numpy()
    return hexes


# --------------------------------------------------------------------------- frontage


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

    Returns
    -------
    GeoDataFrame
        The walkable segments (all of them, zeros included) with ``u``, ``v``,
        ``key``, ``osmid``, ``name``, ``highway``, ``length_m``, ``n_units``,
        ``units_per_100m``, ``n_categories``, ``dominant_category`` and
        ``n_<category>``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.taxonomy import classify
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> units = classify(layers.pois).units
    >>> frontage = street_frontage(layers.streets, units)
    >>> bool((frontage["units_per_100m"] >= 0).all()), int(frontage["n_units"].sum()) > 1000
    (True, True)
    """
    _validate.projected_frame(streets, what="streets")
    _validate.projected_frame(units, what="units")
    walk = streets["walk"].astype(bool) if "walk" in streets else pd.Series(True, streets.index)
    highway = streets["highway"].astype(str) if "highway" in streets else ""
    usable = streets[walk & ~pd.Series(highway, index=streets.index).isin(
        ["steps", "corridor", "elevator"])]  # fmt: skip
    keep = [c for c in ("u", "v", "key", "osmid", "name", "highway") if c in usable.columns]
    out = gpd.GeoDataFrame(usable[keep].copy(), geometry=usable.geometry, crs=streets.crs)
    out = out.reset_index(drop=True)
    out["length_m"] = out.geometry.length.round(2)
    cats = categories if categories is not None else sorted(units["category"].unique())
    joined = gpd.sjoin_nearest(
        units[["category", "geometry"]].to_crs(streets.crs), out[["geometry"]],
        how="inner", max_distance=max_distance_m,
    )  # fmt: skip
    joined = joined[~joined.index.duplicated(keep="first")]  # ties: one segment per unit
    counts = _counts_by_category(joined, "index_right", cats).reindex(out.index, fill_value=0)
    out["n_units"] = counts.sum(axis=1).to_numpy()
    out["units_per_100m"] = np.where(
        out["length_m"] > 0, out["n_units"] / out["length_m"].clip(lower=1e-9) * 100.0, 0.0
    )
    out["n_categories"] = (counts > 0).sum(axis=1).to_numpy()
    out["dominant_category"] = _dominant(counts, 0).to_numpy()
    for cat in cats:
        out[f"n_{cat}"] = counts[cat].to_numpy()
    log.info(
        "street_frontage: %d of %d units within %g m of a walkable street",
        len(joined), len(units), max_distance_m,
    )  # fmt: skip
    return out


# --------------------------------------------------------------------------- access


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

    Returns
    -------
    GeoDataFrame
        One point per graph node: ``node`` (OSM node id), ``n<d>_total`` and
        ``n<d>_<category>`` for each distance ``d`` in metres.
    """
    arrays = graph if isinstance(graph, GraphArrays) else graph_arrays(graph)
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
    out = gpd.GeoDataFrame(
        acc.reset_index(), geometry=gpd.points_from_xy(arrays.xy[:, 0], arrays.xy[:, 1]), crs=crs
    )
    return out


# --------------------------------------------------------------------------- centres


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

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.taxonomy import classify
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> centres, labels = retail_centres(classify(layers.pois).units, min_units=10)
    >>> len(centres) >= 1, int(centres["rank"].min()), centres.iloc[0]["tier"]
    (True, 1, 'main')
    """
    from sklearn.cluster import HDBSCAN

    _validate.projected_frame(units, what="units")
    if min_units < 2:
        raise ValueError(f"min_units must be at least 2, got {min_units!r}")
    cats = categories if categories is not None else sorted(units["category"].unique())
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
        polys.append(_polygonal(shapely.buffer(hull, max(buffer_m, 0.01))))
    ids = np.arange(1, len(ranked) + 1)
    centres = gpd.GeoDataFrame({"centre_id": ids, "rank": ids}, geometry=polys, crs=units.crs)
    members = pd.DataFrame({"centre_id": labels.to_numpy(), "category": units["category"]})
    members = members[members["centre_id"] > 0]
    counts = _counts_by_category(members, "centre_id", cats).reindex(ids, fill_value=0)
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
    div = _diversity_columns(counts)
    for col in div.columns:
        centres[col] = div[col].to_numpy()
    for k in range(3):
        centres[f"dominant_{k + 1}"] = _dominant(counts, k).to_numpy()
    centres["dominant_1_share"] = counts.max(axis=1).to_numpy() / np.maximum(n_units, 1)
    centres["area_ha"] = centres.area / 10_000.0
    centres["units_per_ha"] = n_units / centres["area_ha"]
    for cat in cats:
        centres[f"n_{cat}"] = counts[cat].to_numpy()
    log.info("retail centres: %d (units in centres: %d)", len(centres), int(n_units.sum()))
    return gpd.GeoDataFrame(centres[[*columns, "geometry"]], crs=units.crs), labels


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    return MultiPolygon(parts)


def _main_street(units: gpd.GeoDataFrame, labels: pd.Series, ids: np.ndarray) -> list[str | None]:
    if "addr_street" not in units:
        return [None] * len(ids)
    streets = pd.DataFrame({"c": labels.to_numpy(), "s": units["addr_street"].to_numpy()})
    streets = streets[streets["s"].notna() & (streets["c"] > 0)]
    top = streets.groupby("c")["s"].agg(lambda s: s.value_counts().index[0])
    return [top.get(i) for i in ids]


# --------------------------------------------------------------------------- mix and gaps


def default_reference_mix_path() -> Path:
    """The shipped indicative reference mix, ``geodistrict/data/reference_mix.yml``."""
    from importlib import resources

    return Path(str(resources.files("geodistrict") / "data" / "reference_mix.yml"))


def load_reference_mix(
    source: str | os.PathLike[str] | None = None, *, taxonomy: Taxonomy | None = None
) -> pd.Series:
    """Shares of units per category expected in a district (summing to 1).

    Parameters
    ----------
    source : path-like, optional
        A YAML file with ``shares: {category: share}`` (like the shipped
        ``reference_mix.yml``), or another district's ``commercial_units``
        output (``.parquet`` or ``.gpkg``) whose measured mix becomes the
        reference.  Default: the shipped indicative mix.
    taxonomy : Taxonomy, optional
        Categories must exist in it (default :func:`load_taxonomy`).

    Returns
    -------
    Series
        Indexed by every category of the taxonomy (0 where not listed),
        named by the source.

    Raises
    ------
    ConfigError
        Unknown categories, negative or all-zero shares, unreadable file.

    Examples
    --------
    >>> mix = load_reference_mix()
    >>> round(float(mix.sum()), 6), mix.idxmax()
    (1.0, 'bars_restaurants')
    """
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    path = Path(source) if source is not None else default_reference_mix_path()
    suffix = path.suffix.lower()
    try:
        if suffix in (".yml", ".yaml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            shares = pd.Series(data.get("shares") or {}, dtype=object)
            name = str(data.get("name") or path.name)
        elif suffix in (".parquet", ".gpkg"):
            frame = (
                pd.read_parquet(path, columns=["category"])
                if suffix == ".parquet"
                else gpd.read_file(path, layer="commercial_units", engine="pyogrio")
            )
            shares = frame["category"].value_counts().astype(object)
            name = f"measured mix of {path.name}"
        else:
            raise ConfigError(
                f"reference mix {str(path)!r}: expected a .yml/.yaml of shares or a "
                ".parquet/.gpkg of commercial_units"
            )
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"cannot read the reference mix {str(path)!r}: {exc}") from exc
    unknown = [c for c in shares.index if c not in tax.categories]
    if unknown:
        raise ConfigError(
            f"reference mix {str(path)!r}: unknown categories {unknown!r} "
            f"(known: {', '.join(tax.categories)})"
        )
    bad = {c: v for c, v in shares.items() if not isinstance(v, int | float) or v < 0}
    if bad or len(shares) == 0 or float(sum(shares)) <= 0:
        raise ConfigError(
            f"reference mix {str(path)!r}: shares must be non-negative numbers, not all zero "
            f"(got {bad or dict(shares)!r})"
        )
    values = shares.astype(float).reindex(list(tax.categories), fill_value=0.0)
    return (values / values.sum()).rename(name)


def _gap_rows(
    counts: pd.Series, reference: pd.Series, *, alpha: float, min_expected: float
) -> pd.DataFrame:
    from scipy.stats import poisson

    total = int(counts.sum())
    expected = reference * total
    observed = counts.reindex(reference.index, fill_value=0).astype(int)
    p_under = poisson.cdf(observed, expected)
    p_over = poisson.sf(observed - 1, expected)
    status = np.where(
        (observed == 0) & (expected >= min_expected),
        "missing",
        np.where(
            (observed < expected) & (p_under < alpha),
            "under-represented",
            np.where((observed > expected) & (p_over < alpha), "over-represented", "as expected"),
        ),
    )
    return pd.DataFrame(
        {
            "category": reference.index,
            "observed": observed.to_numpy(),
            "expected": expected.to_numpy().round(2),
            "observed_share": observed.to_numpy() / max(total, 1),
            "expected_share": reference.to_numpy(),
            "location_quotient": np.where(
                expected > 0, observed.to_numpy() / np.where(expected > 0, expected, 1), np.nan
            ),
            "p_under": np.where(expected > 0, p_under, np.nan),
            "status": status,
        }
    )


def category_gaps(
    units: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame | BaseGeometry,
    reference: pd.Series,
    *,
    centres: gpd.GeoDataFrame | None = None,
    labels: pd.Series | None = None,
    taxonomy: Taxonomy | None = None,
    alpha: float = 0.05,
    min_expected: float = 1.0,
) -> gpd.GeoDataFrame:
    """Observed vs expected units per category, for the district and each centre.

    The expected count of a category is its reference share times the
    area's units.  Status, in this order: ``missing`` (none observed while
    at least ``min_expected`` expected), ``under-represented`` (fewer than
    expected and Poisson ``P(X <= observed) < alpha``), ``over-represented``
    (more, with ``P(X >= observed) < alpha``), else ``as expected``.

    Parameters
    ----------
    units : GeoDataFrame
        Commercial units with ``category``.
    area : GeoDataFrame or Polygon
        The district (study area), geometry of the district rows.
    reference : Series
        Shares per category (:func:`load_reference_mix`).
    centres, labels : optional
        :func:`retail_centres` output: each centre gets its own rows.
    taxonomy : Taxonomy, optional
        For the labels.
    alpha : float, default 0.05
    min_expected : float, default 1.0

    Returns
    -------
    GeoDataFrame
        MultiPolygons; ``scope`` (``district`` or ``centre``), ``centre_id``
        (null for the district), ``category``, ``label_it``, ``label_en``,
        ``observed``, ``expected``, ``observed_share``, ``expected_share``,
        ``location_quotient`` (observed / expected), ``p_under`` and
        ``status``; plus the walking-coverage columns (null here, see
        :func:`walking_coverage`).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> units = gpd.GeoDataFrame({"category": ["food"] * 30 + ["fashion"] * 30},
    ...     geometry=[Point(i, i) for i in range(60)], crs=32632)
    >>> mix = pd.Series({"food": 0.4, "fashion": 0.4, "health_pharmacy": 0.2})
    >>> gaps = category_gaps(units, box(0, 0, 100, 100), mix)
    >>> row = gaps.set_index("category").loc["health_pharmacy"]
    >>> int(row["observed"]), float(row["expected"]), row["status"]
    (0, 12.0, 'missing')
    """
    _validate.projected_frame(units, what="units")
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    crs = units.crs
    polygon = _area_polygon(area)
    counts = units["category"].value_counts()
    frames = [_gap_rows(counts, reference, alpha=alpha, min_expected=min_expected)]
    frames[0]["scope"] = "district"
    frames[0]["centre_id"] = pd.NA
    geoms = [_polygonal(polygon)] * len(frames[0])
    if centres is not None and labels is not None and len(centres):
        for row in centres.itertuples():
            cid = int(row.centre_id)
            sub = units["category"][labels.reindex(units.index).to_numpy() == cid]
            part = _gap_rows(sub.value_counts(), reference, alpha=alpha, min_expected=min_expected)
            part["scope"] = "centre"
            part["centre_id"] = cid
            frames.append(part)
            geoms += [_polygonal(row.geometry)] * len(part)
    table = pd.concat(frames, ignore_index=True)
    table["centre_id"] = table["centre_id"].astype("Int64")
    labels_it = {k: c.it for k, c in tax.categories.items()}
    labels_en = {k: c.en for k, c in tax.categories.items()}
    table["label_it"] = table["category"].map(labels_it)
    table["label_en"] = table["category"].map(labels_en)
    for col in _COVERAGE_COLUMNS:
        table[col] = np.nan
    out = gpd.GeoDataFrame(table[_GAP_COLUMNS], geometry=geoms, crs=crs)
    missing = out[(out["scope"] == "district") & (out["status"] == "missing")]
    if len(missing):
        log.info("categories missing in the district: %s", ", ".join(missing["category"]))
    return out


_COVERAGE_COLUMNS = ("origins", "origins_within", "share_within", "median_walk_m",
                     "p90_walk_m", "max_walk_m")  # fmt: skip
_GAP_COLUMNS = ["scope", "centre_id", "category", "label_it", "label_en", "observed",
                "expected", "observed_share", "expected_share", "location_quotient", "p_under",
                "status", *_COVERAGE_COLUMNS]  # fmt: skip


def homes(
    buildings: gpd.GeoDataFrame, landuse: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Residential buildings: homes for the walking coverage.

    A building is a home when its ``building`` tag is one of
    :data:`RESIDENTIAL_BUILDINGS`, or it is ``building=yes`` with its
    representative point on ``landuse=residential``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
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

    Returns
    -------
    DataFrame
        Indexed like ``origins``: ``walk_m_<need>`` (metres, ``inf`` when
        none is reachable) for each need of the taxonomy.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.taxonomy import classify
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> units = classify(layers.pois).units
    >>> d = walking_coverage(layers.walk_graph, units, homes(layers.buildings, layers.landuse))
    >>> bool((d["walk_m_pharmacy"] >= 0).all())
    True
    """
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    arrays = graph if isinstance(graph, GraphArrays) else graph_arrays(graph)
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


def _coverage_status(share: float) -> str:
    """``covered`` (at least 90 % of origins within the walk), ``partial`` (50-90 %), ``gap``."""
    return "covered" if share >= 0.9 else ("partial" if share >= 0.5 else "gap")


def _coverage_rows(
    distances: pd.DataFrame,
    origins: gpd.GeoDataFrame,
    area: BaseGeometry,
    taxonomy: Taxonomy,
    *,
    max_m: float,
    origin_kind: str,
) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for need in taxonomy.everyday.values():
        d = distances[f"walk_m_{need.key}"].to_numpy()
        within = d <= max_m
        finite = d[np.isfinite(d)]
        rows.append({
            "scope": f"walking ({origin_kind})", "centre_id": pd.NA, "category": need.key,
            "label_it": need.it, "label_en": need.en, "origins": len(d),
            "origins_within": int(within.sum()),
            "share_within": float(within.mean()) if len(d) else np.nan,
            "median_walk_m": float(np.median(d)) if len(d) else np.nan,
            "p90_walk_m": float(np.quantile(d, 0.9)) if len(d) else np.nan,
            "max_walk_m": float(finite.max()) if len(finite) else np.nan,
            "status": _coverage_status(float(within.mean()) if len(d) else 0.0),
        })  # fmt: skip
        # Where the need is not met: the outline of the origins beyond the walk.
        beyond = origins.geometry.to_numpy()[~within]
        geoms.append(
            _polygonal(shapely.union_all(shapely.buffer(beyond, 1.0))) if len(beyond) else None
        )
    frame = pd.DataFrame(rows)
    for col in _GAP_COLUMNS:
        if col not in frame:
            frame[col] = np.nan
    frame["centre_id"] = frame["centre_id"].astype("Int64")
    return gpd.GeoDataFrame(frame[_GAP_COLUMNS], geometry=geoms, crs=origins.crs)


# --------------------------------------------------------------------------- all together


@dataclass(frozen=True)
class CommerceResult:
    """Everything :func:`commerce_layers` computes.

    Attributes
    ----------
    layers : dict of str to GeoDataFrame
        ``commercial_units``, ``commercial_hex``, ``street_frontage``,
        ``commercial_access``, ``retail_centres``, ``category_gaps``.
    density : DensityRaster
        The ``commercial_density.tif`` raster, not yet written.
    classification : Classification
        Unclassified tags (``classification.unclassified``) and counts.
    reference : Series
        The reference mix used.
    """

    layers: dict[str, gpd.GeoDataFrame]
    density: DensityRaster
    classification: Classification
    reference: pd.Series


def commerce_layers(
    layers: Any,
    *,
    config: CommerceConfig | None = None,
    vacancy: VacancyConfig | None = None,
    surveys: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> CommerceResult:
    """Run every commerce analysis for a district.

    Parameters
    ----------
    layers : BaseLayers
        The district's base layers (:func:`geodistrict.load_base_layers`).
    config : CommerceConfig, optional
        ``commerce`` section of the configuration (default: its defaults).
    vacancy : VacancyConfig, optional
        For ``merge_distance_m`` of OSM and survey vacant units.
    surveys : mapping, optional
        Survey layers; ``vacant_units`` (points) adds to the OSM vacant units.

    Returns
    -------
    CommerceResult

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> result = commerce_layers(layers)
    >>> sorted(result.layers)[:3]
    ['category_gaps', 'commercial_access', 'commercial_hex']
    """
    cfg = config if config is not None else CommerceConfig()
    merge_m = vacancy.merge_distance_m if vacancy is not None else 15.0
    tax = load_taxonomy(cfg.taxonomy)
    cats = list(tax.categories)
    found = classify(layers.pois, tax)
    units = found.units
    if len(units) == 0:
        raise EmptyAreaError("no commercial unit in the study area: no POI matches the taxonomy")
    area = layers.study_area
    survey = (surveys or {}).get("vacant_units")
    vacant = vacant_points(layers.pois, survey, merge_distance_m=merge_m)
    arrays = graph_arrays(layers.walk_graph)
    dists = tuple(float(d) for d in cfg.access_distances_m)
    reach_m = cfg.walk_speed_kmh * 1000.0 / 60.0 * cfg.everyday_minutes

    centres, labels = retail_centres(
        units, min_units=cfg.min_centre_units, buffer_m=cfg.centre_buffer_m, vacant=vacant,
        categories=cats,
    )  # fmt: skip
    units_out = units.copy()
    units_out["centre_id"] = labels.to_numpy()

    hexes = commercial_hex(
        units, area, resolution=cfg.h3_resolution, categories=cats, vacant=vacant
    )
    hex_walk = walking_coverage(
        arrays, units, gpd.GeoDataFrame(geometry=hexes.geometry.centroid, crs=hexes.crs),
        taxonomy=tax, max_m=reach_m,
    )  # fmt: skip
    for col in hex_walk.columns:
        hexes[col] = hex_walk[col].replace(np.inf, np.nan).to_numpy()

    reference = load_reference_mix(cfg.reference_mix, taxonomy=tax)
    gaps = category_gaps(units, area, reference, centres=centres, labels=labels, taxonomy=tax)
    origins = homes(layers.buildings, layers.landuse)
    kind = "homes"
    if len(origins) == 0:
        origins = gpd.GeoDataFrame(hexes[["h3"]], geometry=hexes.geometry, crs=hexes.crs)
        kind = "hexagons"
        log.info("no residential building: walking coverage measured from hexagon centres")
    walk = walking_coverage(arrays, units, origins, taxonomy=tax, max_m=reach_m)
    coverage = _coverage_rows(
        walk, origins, _area_polygon(area), tax, max_m=reach_m, origin_kind=kind
    )
    gaps = gpd.GeoDataFrame(pd.concat([gaps, coverage], ignore_index=True), crs=gaps.crs)
    for col in ("observed", "origins", "origins_within"):
        gaps[col] = gaps[col].astype("Int64")

    result_layers = {
        "commercial_units": units_out,
        "commercial_hex": hexes,
        "street_frontage": street_frontage(
            layers.streets, units, max_distance_m=cfg.frontage_max_m, categories=cats
        ),
        "commercial_access": commercial_access(arrays, units, distances=dists, categories=cats),
        "retail_centres": centres,
        "category_gaps": gaps,
    }
    density = density_raster(
        units, area, bandwidth_m=cfg.kde_bandwidth_m, cell_m=cfg.raster_cell_m, categories=cats
    )
    return CommerceResult(
        layers=result_layers, density=density, classification=found, reference=reference
    )
