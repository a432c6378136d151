"""Kernel density of commercial units: the ``commercial_density.tif`` raster.

:func:`density_raster` computes a quartic-kernel density in units per hectare
(band 1 all units, one band per category) in memory; :func:`write_density_raster`
writes it as a Cloud-Optimized GeoTIFF, atomically, and
:func:`write_density_raster_entry` also returns its manifest entry.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from geodistrict import _validate
from geodistrict.commerce.units import CLASSIFY_HINT, area_polygon
from geodistrict.errors import OutputError

log = logging.getLogger(__name__)

__all__ = ["DensityRaster", "density_raster", "write_density_raster", "write_density_raster_entry"]


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

    Raises
    ------
    ParameterError
        If ``bandwidth_m`` or ``cell_m`` is not a positive number.
    MissingColumnError
        If ``categories`` is not given and ``units`` has no ``category``.

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
    if categories is None:  # the bands are the categories present
        _validate.require_columns(units, ["category"], what="units", hint=CLASSIFY_HINT)
    _validate.positive(bandwidth_m, name="bandwidth_m")
    _validate.positive(cell_m, name="cell_m")
    from rasterio.features import geometry_mask
    from rasterio.transform import from_origin

    polygon = area_polygon(area)
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
