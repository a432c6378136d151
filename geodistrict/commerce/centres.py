"""Retail centres: the CDRC delineation (or HDBSCAN, or an official perimeter), ranked.

:func:`retail_centres` delineates centres from the **retail** units only
(:data:`~geodistrict.commerce.cdrc.RETAIL_CATEGORIES`; offices never make a
centre), by the CDRC method (:mod:`geodistrict.commerce.cdrc`, the default)
or by HDBSCAN, or takes them from an official perimeter (the *Documento
Urbano del Commercio* boundary of a district, ``commerce.duc_file``).  Every
unit, retail or not, then belongs to the centre whose polygon contains it,
and each centre is described by all the units inside it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geodistrict import _validate
from geodistrict.commerce.cdrc import RETAIL_CATEGORIES, TIER_LABELS, cdrc_tiers, cdrc_tracts
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

__all__ = ["CENTRE_COLUMNS", "read_perimeter", "retail_centres", "retail_mask"]

#: Columns of the centres before the ``n_<category>`` counts.
CENTRE_COLUMNS = (
    "centre_id", "rank", "tier", "tier_it", "source", "name", "n_units", "n_retail",
    "retail_share", "n_cells", "n_vacant", "vacancy_rate", "shannon", "hill_q0", "hill_q1",
    "hill_q2", "dominant_1", "dominant_2", "dominant_3", "dominant_1_share", "area_ha",
    "units_per_ha",
)  # fmt: skip

#: Columns of a perimeter file that may hold a centre's name, first found wins.
NAME_COLUMNS = ("name", "nome", "denominazione", "NAME", "NOME", "DENOMINAZIONE")


def retail_mask(
    units: pd.DataFrame, retail_categories: Sequence[str] = RETAIL_CATEGORIES
) -> np.ndarray:
    """Which units are retail: a category in ``retail_categories`` and not an ``office=*``.

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"category": ["food", "professional_services", "food"],
    ...                       "osm_key": ["shop", "office", "office"]})
    >>> retail_mask(units).tolist()
    [True, False, False]
    """
    mask = units["category"].isin(list(retail_categories)).to_numpy(dtype=bool, copy=True)
    if "osm_key" in units.columns:
        mask &= (units["osm_key"].astype(object) != "office").to_numpy(dtype=bool)
    return mask


def _hdbscan_polygons(xy: np.ndarray, *, min_units: int, buffer_m: float) -> list[BaseGeometry]:
    from sklearn.cluster import HDBSCAN

    if len(xy) < min_units:
        return []
    # allow_single_cluster: a bbox around one town centre finds that centre.
    raw = HDBSCAN(min_cluster_size=min_units, allow_single_cluster=True, copy=True).fit_predict(xy)
    out = []
    for label in sorted(set(raw) - {-1}):
        hull = shapely.concave_hull(shapely.multipoints(xy[raw == label]), ratio=0.5)
        out.append(polygonal(shapely.buffer(hull, max(buffer_m, 0.01))))
    return out


def _perimeter(
    perimeter: gpd.GeoDataFrame, crs: object, what: str = "perimeter"
) -> tuple[list[BaseGeometry], list]:
    _validate.projected_crs(crs, what="units")
    if not isinstance(perimeter, gpd.GeoDataFrame):
        raise ParameterError(
            f"{what} must be a GeoDataFrame of polygons, got {type(perimeter).__name__!r}"
        )
    if perimeter.crs is None:
        raise ParameterError(f"{what} has no CRS; set one (e.g. gdf.set_crs('EPSG:4326'))")
    frame = perimeter.to_crs(crs)
    geoms = [polygonal(shapely.make_valid(g)) if g is not None else None for g in frame.geometry]
    bad = [i for i, g in enumerate(geoms) if g is None or g.is_empty]
    if bad:
        kinds = sorted({str(frame.geometry.iloc[i].geom_type) for i in bad
                        if frame.geometry.iloc[i] is not None})  # fmt: skip
        raise ParameterError(
            f"{what} rows {bad[:5]!r} have no polygon (geometry types {kinds!r}): "
            "they must be polygons"
        )
    name_col = next((c for c in NAME_COLUMNS if c in frame.columns), None)
    names = frame[name_col].tolist() if name_col else [None] * len(frame)
    return geoms, names


def read_perimeter(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read an official perimeter (the district's DUC boundary): polygons with a CRS.

    Parameters
    ----------
    path : path-like
        GeoJSON, GeoPackage or Shapefile of polygons (``commerce.duc_file``).

    Returns
    -------
    GeoDataFrame
        Its polygons, as read (any CRS).

    Raises
    ------
    InputFileNotFoundError
        If the file does not exist.
    ParameterError
        If it cannot be read, has no CRS or no polygon.

    Examples
    --------
    >>> import tempfile, pathlib, geopandas as gpd
    >>> from shapely.geometry import box
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "duc.geojson"
    >>> gpd.GeoDataFrame({"nome": ["Centro storico"]}, geometry=[box(9.19, 45.46, 9.20, 45.47)],
    ...                  crs=4326).to_file(path)
    >>> read_perimeter(path)["nome"].tolist()
    ['Centro storico']
    """
    file = _validate.existing_file(os.fspath(path), what="perimeter (commerce.duc_file)")
    try:
        frame = gpd.read_file(file)
    except Exception as exc:  # the GIS driver's own message says what is wrong
        raise ParameterError(f"perimeter {str(file)!r} cannot be read: {exc}") from exc
    if frame.crs is None:
        raise ParameterError(f"perimeter {str(file)!r} has no CRS: save it with one")
    kinds = set(frame.geom_type.dropna())
    if not kinds & {"Polygon", "MultiPolygon"}:
        raise ParameterError(
            f"perimeter {str(file)!r} has no polygon (geometry types {sorted(kinds)!r})"
        )
    return frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]


def _first_containing(points: np.ndarray, polys: list[BaseGeometry]) -> np.ndarray:
    """For each point, the index of the first polygon containing it (-1 for none)."""
    out = np.full(len(points), -1, dtype=np.int64)
    if not polys or not len(points):
        return out
    tree = shapely.STRtree(polys)
    pt_idx, poly_idx = tree.query(points, predicate="within")
    order = np.lexsort((poly_idx, pt_idx))
    pt_idx, poly_idx = pt_idx[order], poly_idx[order]
    first = np.r_[True, pt_idx[1:] != pt_idx[:-1]] if len(pt_idx) else np.array([], dtype=bool)
    out[pt_idx[first]] = poly_idx[first]
    return out


def retail_centres(
    units: gpd.GeoDataFrame,
    *,
    method: Literal["cdrc", "hdbscan"] = "cdrc",
    min_units: int = 10,
    resolution: int = 11,
    min_cells: int = 2,
    min_cell_units: int = 2,
    retail_categories: Sequence[str] = RETAIL_CATEGORIES,
    buffer_m: float = 25.0,
    perimeter: gpd.GeoDataFrame | None = None,
    perimeter_mode: Literal["replace", "beside"] = "replace",
    areas: gpd.GeoDataFrame | None = None,
    vacant: gpd.GeoDataFrame | None = None,
    categories: list[str] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Retail centres delineated from the retail units, ranked, with what is inside them.

    **CDRC** (default; Macdonald, Dolega & Singleton 2022, *Scientific Data*
    9:541; code ESRC-CDRC/Retail-Centre-Boundaries): the retail units go to
    H3 cells of resolution ``resolution``; cells with fewer than
    ``min_cell_units`` retail units are dropped; the others are linked to
    their neighbours (H3 k-ring 1) and a contiguous tract with at least
    ``min_cells`` cells and ``min_units`` retail units is a centre (a lone
    cell with ``min_units`` units too).  Its polygon is the union of its
    cells, holes filled (:func:`geodistrict.commerce.cdrc.cdrc_tracts`).

    **HDBSCAN** (``method="hdbscan"``; Campello, Moulavi & Sander 2013): the
    retail units' coordinates clustered with ``min_cluster_size=min_units``
    and ``allow_single_cluster`` (a single town centre is found); a polygon
    is the concave hull (ratio 0.5) of a cluster buffered by ``buffer_m``.

    **Official perimeter** (``perimeter``): its polygons (e.g. the DUC
    perimeter of a *Distretto del Commercio*) are the centres, ``source =
    "duc"``; with ``perimeter_mode="beside"`` the delineated centres that
    do not touch the perimeter are kept too.

    Only retail units delineate (:func:`retail_mask`: a category of
    ``retail_categories`` and not ``office=*``); every unit then belongs to
    the first centre (perimeter first, then the larger) whose polygon
    contains it, and the centre's statistics count all of them.  Centres are
    ranked by retail units (then all units) and given the CDRC hierarchy
    (:func:`geodistrict.commerce.cdrc.cdrc_tiers`) within the study area or
    each of ``areas``.

    Parameters
    ----------
    units : GeoDataFrame
        Commercial units (points with ``category``; ``osm_key`` if known),
        projected CRS (metres).
    method : {"cdrc", "hdbscan"}, default "cdrc"
        Delineation (``commerce.centre_method``).
    min_units : int, default 10
        Fewest retail units in a centre (CDRC tract; HDBSCAN cluster size).
    resolution : int, default 11
        H3 resolution of the CDRC cells.
    min_cells : int, default 2
        Fewest H3 cells in a CDRC tract.
    min_cell_units : int, default 2
        Fewest retail units a CDRC cell needs (the reference ``retailN > 1``).
    retail_categories : sequence of str
        The retail categories (default
        :data:`~geodistrict.commerce.cdrc.RETAIL_CATEGORIES`).
    buffer_m : float, default 25
        HDBSCAN only: buffer of the hull around a cluster (m).
    perimeter : GeoDataFrame, optional
        Polygons of an official perimeter (any CRS), with an optional
        ``name`` / ``nome`` / ``denominazione`` column.
    perimeter_mode : {"replace", "beside"}, default "replace"
        The perimeter instead of the delineation, or beside it.
    areas : GeoDataFrame, optional
        Administrative areas (e.g. the comuni of an intercommunal district,
        any CRS) within which the hierarchy ranks, as the reference ranks
        within each local authority: the largest centre of each area is its
        main centre.  A centre belongs to the area holding its
        representative point.  Default: the whole study area.
    vacant : GeoDataFrame, optional
        Vacant units (points); those inside a centre give its vacancy rate.
    categories : list of str, optional
        Categories counted (``n_<category>`` columns); default those present.

    Returns
    -------
    (centres, labels)
        ``centres``: MultiPolygons sorted by rank with ``centre_id`` (=
        rank), ``rank`` (1 = most retail units), ``tier`` (CDRC hierarchy:
        ``major_town_centre``, ``town_centre``, ``district_centre``,
        ``local_centre``, ``small_local_centre``) and ``tier_it``,
        ``source`` (``cdrc``, ``hdbscan`` or ``duc``), ``name`` (the
        perimeter's name, else the street most of its units are on, from
        ``addr_street``), ``n_units`` (all units inside), ``n_retail``,
        ``retail_share``, ``n_cells`` (H3 cells of a CDRC centre, else
        null), ``n_vacant``, ``vacancy_rate`` (vacant / (units + vacant);
        null without vacancy data), ``shannon``, ``hill_q0``, ``hill_q1``,
        ``hill_q2``, ``dominant_1..3``, ``dominant_1_share``, ``area_ha``,
        ``units_per_ha`` and ``n_<category>`` (summing to ``n_units``).
        ``labels``: the ``centre_id`` of every unit (0 = in no centre),
        indexed like ``units``.

    Raises
    ------
    MissingColumnError
        If ``units`` has no ``category`` (classify them first).
    ParameterError
        If ``method`` or ``perimeter_mode`` is unknown, a count is below its
        least value (``min_units`` 2, ``min_cells`` and ``min_cell_units``
        1) or the perimeter has no polygon.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.taxonomy import classify_units
    >>> units = classify_units(gd.datasets.sample_layers().pois)
    >>> centres, labels = retail_centres(units)
    >>> len(centres) >= 1, int(centres["rank"].min()), centres.iloc[0]["source"]
    (True, 1, 'cdrc')
    >>> bool((centres["n_units"] >= centres["n_retail"]).all())
    True
    """
    require_units(units)
    if method not in ("cdrc", "hdbscan"):
        raise ParameterError(f"method must be 'cdrc' or 'hdbscan', got {method!r}")
    if perimeter_mode not in ("replace", "beside"):
        raise ParameterError(
            f"perimeter_mode must be 'replace' or 'beside', got {perimeter_mode!r}"
        )
    if isinstance(min_units, bool) or not isinstance(min_units, int | np.integer) or min_units < 2:
        raise ParameterError(f"min_units must be an integer of at least 2, got {min_units!r}")
    cats = categories_of(units, categories)
    is_retail = retail_mask(units, retail_categories)
    geoms = units.geometry.to_numpy()
    points = shapely.point_on_surface(geoms) if len(geoms) else geoms

    candidates: list[BaseGeometry] = []
    sources: list[str] = []
    names: list[object] = []
    cells: list[float] = []
    if perimeter is not None:
        duc, duc_names = _perimeter(perimeter, units.crs)
        candidates += duc
        names += duc_names
        sources += ["duc"] * len(duc)
        cells += [np.nan] * len(duc)
    if perimeter is None or perimeter_mode == "beside":
        retail_points = gpd.GeoSeries(points[is_retail], crs=units.crs)
        found: list[BaseGeometry]
        n_cells: list[float]
        if method == "cdrc":
            tracts = cdrc_tracts(retail_points, resolution=resolution, min_units=int(min_units),
                                 min_cells=min_cells, min_cell_units=min_cell_units)  # fmt: skip
            found = [t.geometry for t in tracts]
            n_cells = [float(len(t.cells)) for t in tracts]
        else:
            xy = shapely.get_coordinates(retail_points.to_numpy())
            found = _hdbscan_polygons(xy, min_units=int(min_units), buffer_m=buffer_m)
            n_cells = [np.nan] * len(found)
        if perimeter is not None and candidates:
            official = shapely.union_all(np.asarray(candidates, dtype=object))
            keep = [not g.intersects(official) for g in found]
            found = [g for g, k in zip(found, keep, strict=True) if k]
            n_cells = [c for c, k in zip(n_cells, keep, strict=True) if k]
        candidates += found
        names += [None] * len(found)
        sources += [method] * len(found)
        cells += n_cells

    first = _first_containing(points, candidates)
    n_retail_c = np.bincount(first[(first >= 0) & is_retail], minlength=len(candidates))
    n_all_c = np.bincount(first[first >= 0], minlength=len(candidates))
    # Official polygons stay even when empty; a delineated one has its units by construction.
    kept = [i for i in range(len(candidates)) if sources[i] == "duc" or n_retail_c[i] > 0]
    ranked = sorted(kept, key=lambda i: (-n_retail_c[i], -n_all_c[i], i))
    relabel = np.zeros(len(candidates) + 1, dtype=np.int64)
    for new, old in enumerate(ranked, start=1):
        relabel[old] = new
    labels = pd.Series(
        np.where(first >= 0, relabel[first], 0), index=units.index, name="centre_id",
        dtype="int64",
    )  # fmt: skip
    columns = [*CENTRE_COLUMNS, *[f"n_{c}" for c in cats]]
    if not ranked:
        empty = gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=units.crs)
        return empty, labels

    ids = np.arange(1, len(ranked) + 1)
    centres = gpd.GeoDataFrame(
        {"centre_id": ids, "rank": ids},
        geometry=[polygonal(candidates[i]) for i in ranked], crs=units.crs,
    )  # fmt: skip
    members = pd.DataFrame({"centre_id": labels.to_numpy(), "category": units["category"]})
    members = members[members["centre_id"] > 0]
    counts = counts_by_category(members, "centre_id", cats).reindex(ids, fill_value=0)
    n_units = counts.sum(axis=1).to_numpy()
    n_retail = np.array([n_retail_c[i] for i in ranked], dtype=np.int64)
    groups = None
    if areas is not None:
        zones = _perimeter(areas, units.crs, "areas")[0]
        inner = shapely.point_on_surface(centres.geometry.to_numpy())
        groups = _first_containing(inner, zones).tolist()
    centres["tier"] = cdrc_tiers(n_retail, groups=groups)
    centres["tier_it"] = centres["tier"].map(TIER_LABELS)
    centres["source"] = [sources[i] for i in ranked]
    streets = _main_street(units, labels, ids)
    centres["name"] = [names[i] if names[i] is not None and not pd.isna(names[i]) else s
                       for i, s in zip(ranked, streets, strict=True)]  # fmt: skip
    centres["n_units"] = n_units
    centres["n_retail"] = n_retail
    centres["retail_share"] = n_retail / np.maximum(n_units, 1)
    centres["n_cells"] = pd.array([cells[i] for i in ranked], dtype="Float64").astype("Int64")
    if vacant is not None:
        inside = gpd.sjoin(vacant[["geometry"]].to_crs(units.crs), centres[["centre_id",
                           "geometry"]], predicate="within")  # fmt: skip
        inside = inside[~inside.index.duplicated()]
        n_vacant = inside["centre_id"].value_counts().reindex(ids, fill_value=0).to_numpy()
        centres["n_vacant"] = n_vacant
        total = n_units + n_vacant
        centres["vacancy_rate"] = np.where(total > 0, n_vacant / np.maximum(total, 1), np.nan)
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
    log.info(
        "retail centres (%s): %d, %d of %d retail units inside",
        "perimeter" if perimeter is not None else method, len(centres),
        int(n_retail.sum()), int(is_retail.sum()),
    )  # fmt: skip
    return gpd.GeoDataFrame(centres[[*columns, "geometry"]], crs=units.crs), labels


def _main_street(units: gpd.GeoDataFrame, labels: pd.Series, ids: np.ndarray) -> list[str | None]:
    if "addr_street" not in units:
        return [None] * len(ids)
    streets = pd.DataFrame({"c": labels.to_numpy(), "s": units["addr_street"].to_numpy()})
    streets = streets[streets["s"].notna() & (streets["c"] > 0)]
    top = streets.groupby("c")["s"].agg(lambda s: s.value_counts().index[0])
    return [top.get(i) for i in ids]
