"""Residents estimated from residential buildings: a dasymetric estimate.

Where the district gives no census file, residents are placed in the OSM
buildings that are homes, in proportion to their gross floor area (footprint
x levels), and scaled to a known total (the study area's, or each comune's).
Everything that comes out of it is flagged ``estimated``.

* Homes (:func:`residential_buildings`): ``building`` tagged as a dwelling
  (:data:`~geodistrict.commerce.access.RESIDENTIAL_BUILDINGS`: house,
  apartments, residential, detached, terrace...), or an unspecified
  ``building=yes`` whose representative point is not on a non-residential
  land use (:data:`NON_RESIDENTIAL_LANDUSE`: industrial, commercial, retail,
  railway...) and that carries no ``shop`` or ``amenity`` of its own; smaller
  than ``min_footprint_m2`` (garages, sheds) it is not a home.
* Levels (:func:`building_levels`): ``building:levels`` (the first number of
  ``"3;4"``), else ``height`` / ``level_height_m`` (at least 1), else
  ``default_levels`` (documented in ``docs/indicators.md``).
* Residents: ``total_z * floor_area / sum(floor_area in z)`` in each zone z
  (the study area, or each comune); without any total, ``floor_area /
  floor_area_per_resident_m2``.

The same allocation places the residents of census sections in their
buildings (:func:`resident_points`), so walking distances start from homes.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict import _validate
from geodistrict.commerce.access import RESIDENTIAL_BUILDINGS
from geodistrict.errors import ParameterError
from geodistrict.i18n import N_

log = logging.getLogger(__name__)

__all__ = [
    "NON_RESIDENTIAL_LANDUSE",
    "building_levels",
    "estimate_population",
    "resident_points",
    "residential_buildings",
]

#: Land uses on which an unspecified ``building=yes`` is not a home.
NON_RESIDENTIAL_LANDUSE = frozenset({
    "industrial", "commercial", "retail", "railway", "military", "farmyard", "cemetery",
    "religious", "construction", "quarry", "landfill", "education", "port", "garages",
    "depot", "brownfield", "greenhouse_horticulture", "institutional",
})  # fmt: skip
#: ``building`` values that say nothing about the use.
UNSPECIFIED_BUILDINGS = frozenset({"yes", "mixed_use"})

METHOD_SCALED = N_(
    "dasymetric estimate: residents of {zone} spread over its residential buildings in "
    "proportion to floor area (footprint x levels)"
)
METHOD_DENSITY = N_(
    "dasymetric estimate without a known total: floor area (footprint x levels) / "
    "{m2:g} m2 per resident"
)


def _first_number(value: object) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    found = re.search(r"\d+(?:[.,]\d+)?", str(value))
    return float(found.group().replace(",", ".")) if found else float("nan")


def building_levels(
    buildings: gpd.GeoDataFrame, *, default_levels: float = 2.0, level_height_m: float = 3.0
) -> pd.DataFrame:
    """Levels of each building and where they come from (``osm``, ``height``, ``default``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"building_levels": ["3", None, None], "height": [None, "9.5", None]},
    ...                      geometry=[box(0, 0, 10, 10)] * 3, crs=32632)
    >>> building_levels(b).values.tolist()
    [[3.0, 'osm'], [3.0, 'height'], [2.0, 'default']]
    """
    _validate.positive(default_levels, name="default_levels")
    _validate.positive(level_height_m, name="level_height_m")
    n = len(buildings)
    tagged = (buildings["building_levels"].map(_first_number).to_numpy(float)
              if "building_levels" in buildings else np.full(n, np.nan))  # fmt: skip
    height = (buildings["height"].map(_first_number).to_numpy(float)
              if "height" in buildings else np.full(n, np.nan))  # fmt: skip
    tagged = np.where(tagged > 0, tagged, np.nan)
    from_height = np.where(height > 0, np.maximum(np.round(height / level_height_m), 1.0), np.nan)
    fallback = np.where(np.isfinite(from_height), from_height, float(default_levels))
    levels = np.where(np.isfinite(tagged), tagged, fallback)
    source = np.where(np.isfinite(tagged), "osm",
                      np.where(np.isfinite(from_height), "height", "default"))  # fmt: skip
    return pd.DataFrame({"levels": levels, "levels_source": source}, index=buildings.index)


def residential_buildings(
    buildings: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None = None,
    *,
    min_footprint_m2: float = 30.0,
) -> gpd.GeoDataFrame:
    """The buildings that are homes (see the module docstring), with ``home_basis``.

    ``home_basis`` is ``tag`` (a dwelling type) or ``unspecified`` (``building=yes``
    off non-residential land uses).

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.datasets.sample_layers()
    >>> homes = residential_buildings(layers.buildings, layers.landuse)
    >>> 0 < len(homes) < len(layers.buildings), sorted(set(homes["home_basis"]))
    (True, ['tag', 'unspecified'])
    """
    _validate.projected_frame(buildings, what="buildings")
    if "building" not in buildings.columns or len(buildings) == 0:
        out = buildings.iloc[:0].copy()
        out["home_basis"] = pd.Series(dtype=str)
        return out
    kind = buildings["building"].astype(str).str.lower()
    polygonal = buildings.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    big = (buildings.area >= min_footprint_m2).to_numpy()
    tagged = kind.isin(RESIDENTIAL_BUILDINGS).to_numpy().copy()
    unspecified = kind.isin(UNSPECIFIED_BUILDINGS).to_numpy().copy()
    for column in ("shop", "amenity"):
        if column in buildings.columns:
            used = buildings[column].notna() & buildings[column].astype(str).str.len().gt(0)
            unspecified = unspecified & ~used.to_numpy()
    if unspecified.any() and landuse is not None and len(landuse) and "landuse" in landuse:
        other = landuse[landuse["landuse"].astype(str).isin(NON_RESIDENTIAL_LANDUSE)]
        if len(other):
            points = gpd.GeoDataFrame(geometry=buildings.representative_point(), crs=buildings.crs)
            on = gpd.sjoin(points, other[["geometry"]].to_crs(buildings.crs),
                           predicate="within").index.unique()  # fmt: skip
            unspecified = unspecified & ~buildings.index.isin(on)
    keep = polygonal & big & (tagged | unspecified)
    out = buildings[keep].copy()
    out["home_basis"] = np.where(tagged[keep], "tag", "unspecified")
    return out


def _zone_of(points: gpd.GeoSeries, zones: gpd.GeoDataFrame, zone_column: str) -> pd.Series:
    frame = gpd.GeoDataFrame(geometry=points, crs=points.crs)
    hit = gpd.sjoin(frame, zones[[zone_column, "geometry"]].to_crs(points.crs),
                    predicate="within", how="left")  # fmt: skip
    hit = hit[~hit.index.duplicated(keep="first")]
    return hit[zone_column].reindex(points.index)


def estimate_population(
    buildings: gpd.GeoDataFrame,
    *,
    landuse: gpd.GeoDataFrame | None = None,
    total: float | None = None,
    zones: gpd.GeoDataFrame | None = None,
    zone_column: str = "zone",
    total_column: str = "residents",
    area: gpd.GeoDataFrame | None = None,
    area_name: str = "the study area",
    default_levels: float = 2.0,
    level_height_m: float = 3.0,
    min_footprint_m2: float = 30.0,
    floor_area_per_resident_m2: float = 50.0,
) -> gpd.GeoDataFrame:
    """Residents per residential building, estimated from floor area (dasymetric).

    Parameters
    ----------
    buildings : GeoDataFrame
        OSM building footprints (``building``, ``building_levels``, ``height``), projected.
    landuse : GeoDataFrame, optional
        OSM land use, to tell unspecified buildings on industrial land from homes.
    total : float, optional
        Residents of ``area`` (or of all the buildings) to scale to.
    zones : GeoDataFrame, optional
        Polygons with ``zone_column`` and ``total_column`` (residents of each
        comune, or of each census section): each zone's total is spread over
        its own buildings. Takes precedence over ``total``.
    area : GeoDataFrame, optional
        Only buildings whose representative point lies in it.
    area_name : str
        How ``method`` names the area of ``total``.
    default_levels, level_height_m, min_footprint_m2, floor_area_per_resident_m2 : float
        See the module docstring.

    Returns
    -------
    GeoDataFrame
        One row per home: ``osm_id``, ``building``, ``home_basis``, ``levels``,
        ``levels_source``, ``footprint_m2``, ``floor_area_m2``, ``zone``,
        ``residents`` (float), ``estimated`` (True), ``method``. ``attrs["unplaced"]``:
        residents of zones with no home (zone -> residents), which are lost.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.datasets.sample_layers()
    >>> est = estimate_population(layers.buildings, landuse=layers.landuse, total=10_000,
    ...                           area=layers.study_area)
    >>> round(est["residents"].sum()), bool(est["estimated"].all())
    (10000, True)
    """
    from geodistrict.i18n import _

    if total is not None and not (np.isfinite(total) and total >= 0):
        raise ParameterError(f"total must be a number of residents >= 0, got {total!r}")
    _validate.positive(floor_area_per_resident_m2, name="floor_area_per_resident_m2")
    homes = residential_buildings(buildings, landuse, min_footprint_m2=min_footprint_m2)
    if area is not None and len(homes):
        inside = homes.representative_point().within(area.to_crs(homes.crs).geometry.union_all())
        homes = homes[inside.to_numpy()]
    levels = building_levels(homes, default_levels=default_levels, level_height_m=level_height_m)
    footprint = homes.area.to_numpy(float)
    floor = footprint * levels["levels"].to_numpy(float)
    out = gpd.GeoDataFrame(
        {
            "osm_id": homes["osm_id"].to_numpy() if "osm_id" in homes else np.arange(len(homes)),
            "building": homes["building"].astype(str).to_numpy(),
            "home_basis": homes["home_basis"].to_numpy(),
            "levels": levels["levels"].to_numpy(),
            "levels_source": levels["levels_source"].to_numpy(),
            "footprint_m2": np.round(footprint, 1),
            "floor_area_m2": np.round(floor, 1),
        },
        geometry=homes.geometry.to_numpy(),
        crs=homes.crs,
    )
    unplaced: dict[str, float] = {}
    if zones is not None:
        _validate.require_columns(zones, [zone_column, total_column], what="zones")
        zone = _zone_of(out.representative_point(), zones, zone_column).to_numpy()
        out["zone"] = pd.array(zone, dtype="string") if len(out) else pd.array([], "string")
        sums = pd.Series(floor).groupby(pd.Series(zone, dtype=object)).sum()
        totals = zones.set_index(zone_column)[total_column].astype(float)
        share = np.array([f / sums.get(z, np.nan) if z is not None and z == z else np.nan
                          for f, z in zip(floor, zone, strict=True)])  # fmt: skip
        residents = np.nan_to_num(share * totals.reindex(zone).to_numpy(float))
        unplaced = {str(z): float(t) for z, t in totals.items() if t > 0 and z not in sums.index}
        out["method"] = [_(METHOD_SCALED).format(zone=z) for z in out["zone"].fillna("-")]
    elif total is not None:
        out["zone"] = pd.array([None] * len(out), dtype="string")
        whole = floor.sum()
        residents = floor / whole * total if whole > 0 else np.zeros(len(out))
        if whole <= 0 and total > 0:
            unplaced = {area_name: float(total)}
        out["method"] = _(METHOD_SCALED).format(zone=area_name)
    else:
        out["zone"] = pd.array([None] * len(out), dtype="string")
        residents = floor / float(floor_area_per_resident_m2)
        out["method"] = _(METHOD_DENSITY).format(m2=floor_area_per_resident_m2)
    out["residents"] = np.asarray(residents, dtype=float)
    out["estimated"] = True
    if unplaced:
        log.warning("residents with no residential building to live in: %s", unplaced)
    out.attrs["unplaced"] = unplaced
    return out


def resident_points(
    population: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    landuse: gpd.GeoDataFrame | None = None,
    **options: Any,
) -> gpd.GeoDataFrame:
    """Where residents live, as points with ``residents`` and ``zone``.

    A building-level ``population`` (:func:`estimate_population`) gives a point
    inside each building. A section-level one (``section_id``, from
    :func:`~geodistrict.population.read_census_sections`) is spread over the
    homes of each section by floor area; a section with residents and no
    home keeps them at a point inside the section. ``options`` go to
    :func:`estimate_population`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> sections = gpd.GeoDataFrame({"section_id": ["1"], "residents": [40]},
    ...                             geometry=[box(0, 0, 100, 100)], crs=32632)
    >>> points = resident_points(sections)
    >>> points[["zone", "residents"]].values.tolist()
    [['1', 40.0]]
    """
    _validate.projected_frame(population, what="population")
    if "section_id" not in population.columns:
        zone = population["zone"] if "zone" in population else pd.Series(None, population.index)
        return gpd.GeoDataFrame(
            {"zone": zone.astype("string").to_numpy(),
             "residents": population["residents"].astype(float).to_numpy()},
            geometry=population.representative_point().to_numpy(), crs=population.crs,
        )  # fmt: skip
    sections = population[["section_id", "residents", "geometry"]].rename(
        columns={"section_id": "zone"}
    )
    parts = []
    placed: set[str] = set()
    if buildings is not None and len(buildings):
        est = estimate_population(buildings, landuse=landuse, zones=sections, **options)
        est = est[est["zone"].notna()]
        placed = set(est["zone"])
        parts.append(gpd.GeoDataFrame(
            {"zone": est["zone"].to_numpy(), "residents": est["residents"].to_numpy(float)},
            geometry=est.representative_point().to_numpy(), crs=est.crs,
        ))  # fmt: skip
    rest = sections[~sections["zone"].isin(placed) & (sections["residents"] > 0)]
    parts.append(gpd.GeoDataFrame(
        {"zone": rest["zone"].astype(str).to_numpy(),
         "residents": rest["residents"].astype(float).to_numpy()},
        geometry=rest.representative_point().to_numpy(), crs=population.crs,
    ))  # fmt: skip
    out = pd.concat(parts, ignore_index=True)
    out["zone"] = out["zone"].astype("string")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=population.crs)
