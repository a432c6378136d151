"""Open public space and the built-up area: the land shares of SDG 11.7.1.

UN-Habitat's metadata of indicator 11.7.1 computes the share of the built-up
area of a city that is open space for public use in three steps: delimit the
built-up area; measure the open public spaces in it; measure the land
allocated to streets. The share is (open public space + streets) / built-up
area; this module also gives the open-space share alone.

What stands for each step here (see ``docs/indicators.md``):

* built-up area (:func:`built_up_area`): building footprints closed by
  ``closing_m`` (dilated, merged, eroded back: gaps narrower than twice that
  distance, streets and courtyards, belong to it), plus the open public
  spaces that touch it (UN-Habitat counts urbanised open space), within the
  study area;
* open public spaces (:func:`open_public_spaces`): OSM polygons tagged
  ``leisure=park|garden|playground|dog_park``, ``place=square``,
  ``highway=pedestrian`` (areas), ``landuse=recreation_ground|village_green``,
  leaving out those with ``access=private|no|customers``;
* streets (:func:`street_area`): each street segment as wide as its ``width``
  tag, else a default width of its ``highway`` class (:data:`STREET_WIDTHS_M`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geodistrict import _validate

log = logging.getLogger(__name__)

__all__ = [
    "OPEN_SPACE_TAGS",
    "STREET_WIDTHS_M",
    "built_up_area",
    "open_public_spaces",
    "open_space_shares",
    "street_area",
]

#: OSM tags of open public space (key -> values).
OPEN_SPACE_TAGS: dict[str, tuple[str, ...]] = {
    "leisure": ("park", "garden", "playground", "dog_park"),
    "place": ("square",),
    "highway": ("pedestrian",),
    "landuse": ("recreation_ground", "village_green"),
}
#: ``access`` values that make a space not public.
NOT_PUBLIC = frozenset({"private", "no", "customers"})

#: Default carriageway-plus-sidewalk widths (m) of a street without a ``width`` tag.
STREET_WIDTHS_M: dict[str, float] = {
    "motorway": 20.0, "trunk": 14.0, "primary": 12.0, "secondary": 10.0, "tertiary": 9.0,
    "unclassified": 7.0, "residential": 7.0, "living_street": 6.0, "service": 4.0,
    "pedestrian": 6.0, "footway": 2.0, "cycleway": 2.5, "path": 1.5, "steps": 2.0,
    "track": 3.0, "bridleway": 2.0,
}  # fmt: skip
_DEFAULT_WIDTH_M = 5.0


def _tag(frame: pd.DataFrame, key: str) -> pd.Series:
    """A tag's values from a column or from the ``tags`` JSON/dict column."""
    if key in frame.columns:
        return frame[key].astype("object").where(frame[key].notna(), None)
    if "tags" in frame.columns:

        def get(raw: object) -> object:
            if isinstance(raw, dict):
                return raw.get(key)
            if isinstance(raw, str) and raw.startswith("{"):
                try:
                    return json.loads(raw).get(key)
                except ValueError:
                    return None
            return None

        return frame["tags"].map(get)
    return pd.Series(None, index=frame.index, dtype=object)


def open_public_spaces(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The open public spaces among OSM features: polygons with an :data:`OPEN_SPACE_TAGS` tag.

    Returns
    -------
    GeoDataFrame
        ``osm_id`` (when given), ``kind`` (``park``, ``square``, ``pedestrian``...),
        ``name``, ``area_m2`` (when projected); same CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> f = gpd.GeoDataFrame({"leisure": ["park", "park", None], "highway": [None, None,
    ...                       "pedestrian"], "access": [None, "private", None]},
    ...                      geometry=[box(0, 0, 50, 50), box(60, 0, 90, 30),
    ...                                LineString([(0, 0), (9, 9)])], crs=32632)
    >>> open_public_spaces(f)[["kind", "area_m2"]].values.tolist()
    [['park', 2500.0]]
    """
    if len(features) == 0:
        return gpd.GeoDataFrame({"kind": [], "name": [], "area_m2": []}, geometry=[],
                                crs=features.crs)  # fmt: skip
    kind = pd.Series(None, index=features.index, dtype=object)
    for key, values in OPEN_SPACE_TAGS.items():
        value = _tag(features, key)
        hit = value.isin(values) & kind.isna()
        kind[hit] = value[hit]
    access = _tag(features, "access").astype(str).str.lower()
    polygonal = features.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    keep = kind.notna().to_numpy() & polygonal & ~access.isin(NOT_PUBLIC).to_numpy()
    out = gpd.GeoDataFrame(
        {"kind": kind[keep].to_numpy(), "name": _tag(features, "name")[keep].to_numpy()},
        geometry=shapely.make_valid(features.geometry[keep].to_numpy()), crs=features.crs,
    )  # fmt: skip
    if "osm_id" in features.columns:
        out.insert(0, "osm_id", features["osm_id"][keep].to_numpy())
    if out.crs is not None and out.crs.is_projected:
        out["area_m2"] = np.round(out.area.to_numpy(), 1)
    return out.reset_index(drop=True)


def built_up_area(
    buildings: gpd.GeoDataFrame,
    *,
    area: BaseGeometry | gpd.GeoDataFrame,
    closing_m: float = 50.0,
    open_spaces: gpd.GeoDataFrame | None = None,
) -> BaseGeometry:
    """The built-up area: building footprints closed by ``closing_m``, plus touching open spaces.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(30, 0, 40, 10)], crs=32632)
    >>> round(built_up_area(b, area=box(-100, -100, 100, 100), closing_m=15).area)
    400
    """
    _validate.projected_frame(buildings, what="buildings")
    region = area.geometry.union_all() if isinstance(area, gpd.GeoDataFrame) else area
    polys = buildings.geometry[buildings.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polys) == 0:
        return shapely.Polygon()
    merged = shapely.union_all(shapely.buffer(polys.to_numpy(), closing_m, join_style="mitre"))
    built = merged.buffer(-closing_m, join_style="mitre") if closing_m > 0 else merged
    if open_spaces is not None and len(open_spaces):
        touching = open_spaces.geometry[open_spaces.intersects(built)].to_numpy()
        built = shapely.union_all([built, *touching])
    return built.intersection(region)


def street_area(
    streets: gpd.GeoDataFrame,
    *,
    within: BaseGeometry,
    widths: Mapping[str, float] | None = None,
) -> BaseGeometry:
    """Land allocated to streets within ``within``: each segment buffered by half its width.

    The width is the ``width`` tag (metres) when it is a number, else the
    default of the ``highway`` class (:data:`STREET_WIDTHS_M`; 5 m otherwise).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> s = gpd.GeoDataFrame({"highway": ["residential"]},
    ...                      geometry=[LineString([(0, 50), (100, 50)])], crs=32632)
    >>> round(street_area(s, within=box(0, 0, 100, 100)).area)
    700
    """
    _validate.projected_frame(streets, what="streets")
    table = {**STREET_WIDTHS_M, **(widths or {})}
    if len(streets) == 0 or within.is_empty:
        return shapely.Polygon()
    highway = _tag(streets, "highway").astype(str)
    default = highway.map(table).fillna(_DEFAULT_WIDTH_M).to_numpy(float)
    tagged = pd.to_numeric(_tag(streets, "width").astype(str).str.extract(r"(\d+(?:\.\d+)?)")[0],
                           errors="coerce").to_numpy(float)  # fmt: skip
    width = np.where((tagged > 0) & (tagged < 100), tagged, default)
    lines = streets.geometry.to_numpy()
    near = shapely.intersects(lines, within.buffer(50.0))
    band = shapely.buffer(lines[near], width[near] / 2.0, cap_style="flat", quad_segs=2)
    return shapely.union_all(band).intersection(within)


def open_space_shares(
    built_up: BaseGeometry,
    open_spaces: gpd.GeoDataFrame,
    streets: BaseGeometry | None = None,
) -> dict[str, float]:
    """Areas (m2) and shares (0-1) of SDG 11.7.1 within the built-up area.

    Returns
    -------
    dict
        ``built_up_m2``, ``open_space_m2``, ``street_m2`` (streets not already
        open space), ``open_space_share``, ``street_share`` and ``share``
        (open space + streets, UN-Habitat's indicator); shares NaN without a
        built-up area.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> park = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=32632)
    >>> open_space_shares(box(0, 0, 20, 20), park)["open_space_share"]
    0.25
    """
    total = float(built_up.area)
    space = shapely.union_all(open_spaces.geometry.to_numpy()).intersection(built_up) if len(
        open_spaces) else shapely.Polygon()  # fmt: skip
    street = (streets.intersection(built_up).difference(space)
              if streets is not None and not streets.is_empty else shapely.Polygon())  # fmt: skip
    o, s = float(space.area), float(street.area)
    share = lambda x: x / total if total > 0 else float("nan")  # noqa: E731
    return {"built_up_m2": total, "open_space_m2": o, "street_m2": s,
            "open_space_share": share(o), "street_share": share(s),
            "share": share(o + s)}  # fmt: skip
