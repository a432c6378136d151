"""Where sectors concentrate: location quotients by area and spatial clusters of firms.

:func:`sector_specialisation` compares each sector's share in each area (a
municipality or an H3 cell) with its share in the reference;
:func:`firm_clusters` finds the groups of firms of one sector that stand close
together (DBSCAN). Both publish only groups of at least ``min_group_size``
firms (see :mod:`geodistrict.production.privacy`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodistrict import hexagons
from geodistrict._validate import projected_frame, require_columns
from geodistrict.errors import ParameterError
from geodistrict.production._common import Weight, employees_of, weights_of
from geodistrict.production.ateco import Level, sector_labels, sector_of
from geodistrict.production.firms import areas_from_firms, zone_of
from geodistrict.production.privacy import check_group_size, protect_counts

__all__ = ["firm_clusters", "sector_specialisation"]

log = logging.getLogger(__name__)

_SPEC_COLUMNS = [
    "area",
    "area_kind",
    "zone",
    "sector",
    "firms",
    "employees",
    "area_share",
    "reference_share",
    "lq",
    "geometry",
]


def sector_specialisation(
    firms: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    by: Literal["municipality", "h3"] = "municipality",
    h3_resolution: int = 8,
    level: Level = "section",
    weight: Weight = "firms",
    reference: Mapping[str, float] | None = None,
    min_group_size: int = 5,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Location quotients of each sector in each area (``sector_specialisation``).

    ``LQ = (w_as / w_a) / (W_s / W)``: the share of the sector in the area over
    its share in the reference, where ``w`` counts firms or employees.  The
    reference is the whole district, or the shares given in ``reference``
    (e.g. national ATECO shares from ISTAT).  LQ above 1 means the area is
    specialised in the sector.

    Parameters
    ----------
    firms : GeoDataFrame
        Respondents (``FIRMS`` schema), points in a projected CRS, with an
        ``ateco`` code column (and ``municipality`` for ``by="municipality"``).
    areas : GeoDataFrame, optional
        Polygons indexed by municipality name, for ``by="municipality"``
        (default: :func:`areas_from_firms` over the firms' convex hull buffered 200 m).
    by : {"municipality", "h3"}, default "municipality"
        Areas: the firms' ``municipality`` or H3 cells at ``h3_resolution``.
    h3_resolution : int, default 8
        For ``by="h3"``.
    level : {"section", "division"}, default "section"
        ATECO level of the sectors.
    weight : {"firms", "employees"}, default "firms"
        What the shares count.
    reference : mapping of str to float, optional
        Reference share of each sector code (normalised to sum to 1).
    min_group_size : int, default 5
        ``k``: cells are published according to :func:`protect_counts` on the
        area x sector table of firm counts.
    core, extension : sequence of str
        Core and extension municipalities: each row gets its ``zone``.

    Returns
    -------
    GeoDataFrame
        One row per published area and sector with at least one firm: ``area``,
        ``area_kind``, ``zone``, ``sector``, ``sector_en``, ``sector_it``,
        ``firms``, ``employees``, ``area_share``, ``reference_share``, ``lq``,
        ``specialised`` (LQ >= 1.25); polygon geometry of the area.
        ``attrs["cells_published"]`` and ``attrs["cells_suppressed"]`` count
        the area x sector cells with firms that are shown and hidden.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import production as pr
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg = gd.datasets.sample_config()
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=gd.datasets.sample_layers().crs)
    >>> spec = pr.sector_specialisation(firms, min_group_size=5)
    >>> bool((spec["firms"] >= 5).all())
    True
    >>> bool(spec.set_index(["area", "sector"]).loc[("Punavuori", "C"), "specialised"])
    True
    """
    projected_frame(firms, what="firms")
    check_group_size(min_group_size)
    if by not in ("municipality", "h3"):
        raise ParameterError(f"by must be 'municipality' or 'h3', got {by!r}")
    sector = sector_of(firms, level).to_numpy()
    w = weights_of(firms, weight)
    emp = employees_of(firms)
    if by == "municipality":
        require_columns(
            firms,
            ["municipality"],
            what="firms",
            hint="add the municipality of each firm, or use by='h3'",
        )
        area_of = firms["municipality"].astype("str").to_numpy()
        if areas is None:
            hull = firms.geometry.union_all().convex_hull.buffer(200)
            areas = areas_from_firms(firms, hull)
        geoms = {str(k): g for k, g in areas.geometry.items()}
    else:
        cells = hexagons.cells_of(firms.geometry, resolution=h3_resolution)
        area_of = np.array(cells, dtype=object)
        unique = sorted(set(cells))
        geoms = dict(zip(unique, hexagons.cell_polygons(unique, crs=firms.crs), strict=True))
    valid = pd.notna(sector) & pd.notna(area_of)
    frame = pd.DataFrame(
        {"area": area_of[valid], "sector": sector[valid], "w": w[valid], "emp": emp[valid], "n": 1}
    )
    counts = frame.pivot_table(
        index="area", columns="sector", values="n", aggfunc="sum", fill_value=0
    )
    wsum = frame.pivot_table(
        index="area", columns="sector", values="w", aggfunc="sum", fill_value=0.0
    )
    esum = frame.pivot_table(
        index="area", columns="sector", values="emp", aggfunc="sum", fill_value=0.0
    )
    publish = protect_counts(counts, min_group_size)
    if reference is not None:
        ref = pd.Series(reference, dtype="float64")
        if (ref < 0).any() or ref.sum() <= 0:
            raise ParameterError(
                "reference shares must be non-negative with a positive sum, "
                f"got {dict(reference)!r}"
            )
        ref = ref / ref.sum()
    else:
        ref = wsum.sum(axis=0) / wsum.to_numpy().sum()
    area_share = wsum.div(wsum.sum(axis=1), axis=0)
    zones = (
        dict(zip(counts.index, zone_of(counts.index, core=core, extension=extension), strict=True))
        if by == "municipality"
        else {}
    )
    rows = []
    for a in counts.index:
        for s in counts.columns:
            n = int(counts.loc[a, s])
            if n == 0 or not publish.loc[a, s]:
                continue
            r = float(ref.get(s, np.nan))
            share = float(area_share.loc[a, s])
            rows.append(
                {
                    "area": str(a),
                    "area_kind": by,
                    "zone": zones.get(a, "district"),
                    "sector": str(s),
                    "firms": n,
                    "employees": float(esum.loc[a, s]),
                    "area_share": round(share, 4),
                    "reference_share": round(r, 4),
                    "lq": round(share / r, 3) if r > 0 else np.nan,
                    "geometry": geoms.get(str(a)),
                }
            )
    suppressed = int(((counts > 0) & ~publish).to_numpy().sum())
    log.info(
        "sector_specialisation: %d cells published, %d suppressed (k=%d)",
        len(rows),
        suppressed,
        min_group_size,
    )
    out = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=_SPEC_COLUMNS), geometry="geometry", crs=firms.crs
    )
    en, it = sector_labels(out["sector"])
    out.insert(4, "sector_en", pd.Series(en, dtype="str"))
    out.insert(5, "sector_it", pd.Series(it, dtype="str"))
    out["firms"] = out["firms"].astype("int64")
    for col in ("employees", "area_share", "reference_share", "lq"):
        out[col] = out[col].astype("float64")  # typed even with no row
    out["specialised"] = (out["lq"] >= 1.25).astype("bool")
    for col in ("area", "area_kind", "zone", "sector"):
        out[col] = out[col].astype("str")
    # For the caller's report (the pipeline step turns them into a warning).
    out.attrs["cells_published"] = len(rows)
    out.attrs["cells_suppressed"] = suppressed
    return out


def firm_clusters(
    firms: gpd.GeoDataFrame,
    *,
    eps_m: float = 150.0,
    min_firms: int = 5,
    level: Level = "section",
    h3_resolution: int = 9,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Spatial clusters of the firms of each sector (``firm_clusters``).

    DBSCAN (scikit-learn) runs on the firms of each sector with radius
    ``eps_m`` and ``min_samples = min_firms``; clusters with fewer than
    ``min_firms`` firms are dropped, so with ``min_firms >= k`` every published
    cluster is a group of at least ``k``.  The polygon is the convex hull of
    the H3 cells that hold the members, so it shows no firm's exact position.

    Parameters
    ----------
    firms : GeoDataFrame
        Respondents, points in a projected CRS, with an ``ateco`` code column.
    eps_m : float, default 150
        DBSCAN radius (m).
    min_firms : int, default 5
        Smallest cluster; use at least ``production.min_group_size``.
    level : {"section", "division"}, default "section"
        ATECO level of the sectors.
    h3_resolution : int, default 9
        Cells whose hull draws the cluster.
    core, extension : sequence of str
        Core and extension municipalities (see :func:`zone_of`).

    Returns
    -------
    GeoDataFrame
        Polygons: ``cluster_id``, ``sector``, ``sector_en``, ``sector_it``,
        ``firms``, ``employees``, ``sector_share`` (share of the sector's
        firms of the district in the cluster), ``area_ha``, ``firms_per_ha``,
        ``municipalities`` (``;``-separated), ``zone`` (core, extension,
        other, district or ``mixed``).

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import production as pr
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg = gd.datasets.sample_config()
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=gd.datasets.sample_layers().crs)
    >>> clusters = pr.firm_clusters(firms, eps_m=150, min_firms=5)
    >>> bool((clusters["firms"] >= 5).all()), "C" in set(clusters["sector"])
    (True, True)
    """
    from sklearn.cluster import DBSCAN

    projected_frame(firms, what="firms")
    if eps_m <= 0:
        raise ParameterError(f"eps_m must be greater than 0, got {eps_m!r}")
    if min_firms < 1:
        raise ParameterError(f"min_firms must be at least 1, got {min_firms!r}")
    sector = sector_of(firms, level)
    emp = employees_of(firms)
    municipality = (
        firms["municipality"].astype("str").to_numpy()
        if "municipality" in firms
        else np.array([None] * len(firms))
    )
    cells = hexagons.cells_of(firms.geometry, resolution=h3_resolution)
    xy = np.column_stack([firms.geometry.x.to_numpy(), firms.geometry.y.to_numpy()])
    rows = []
    for s in sorted(sector.dropna().unique()):
        idx = np.flatnonzero((sector == s).to_numpy())
        if idx.size < min_firms:
            continue
        labels = DBSCAN(eps=eps_m, min_samples=min_firms).fit_predict(xy[idx])
        for label in sorted(set(labels) - {-1}):
            members = idx[labels == label]
            if members.size < min_firms:
                continue
            member_cells = sorted({cells[i] for i in members})
            hull = shapely.union_all(hexagons.cell_polygons(member_cells, crs=firms.crs))
            hull = hull.convex_hull
            munis = sorted({str(m) for m in municipality[members] if isinstance(m, str)})
            zones = set(zone_of(munis, core=core, extension=extension)) or {"district"}
            rows.append(
                {
                    "sector": str(s),
                    "firms": int(members.size),
                    "employees": float(emp[members].sum()),
                    "sector_share": round(members.size / idx.size, 3),
                    "area_ha": round(hull.area / 1e4, 2),
                    "firms_per_ha": round(members.size / (hull.area / 1e4), 2),
                    "municipalities": ";".join(munis),
                    "zone": zones.pop() if len(zones) == 1 else "mixed",
                    "geometry": hull,
                }
            )
    cols = [
        "sector",
        "firms",
        "employees",
        "sector_share",
        "area_ha",
        "firms_per_ha",
        "municipalities",
        "zone",
        "geometry",
    ]
    out = gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs=firms.crs)
    out = out.sort_values(["firms", "sector"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "cluster_id", [f"K{i:02d}" for i in range(1, len(out) + 1)])
    en, it = sector_labels(out["sector"])
    out.insert(2, "sector_en", pd.Series(en, dtype="str"))
    out.insert(3, "sector_it", pd.Series(it, dtype="str"))
    out["firms"] = out["firms"].astype("int64")
    for col in ("employees", "sector_share", "area_ha", "firms_per_ha"):
        out[col] = out[col].astype("float64")  # typed even with no row
    for col in ("cluster_id", "sector", "municipalities", "zone"):
        out[col] = out[col].astype("str")
    return out
