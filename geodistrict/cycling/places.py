"""Where cyclists come from and go to: origins, destinations and key places.

* :func:`destinations`: shops, bars and restaurants (or the commerce step's
  commercial units), schools, stations and public services, each a point
  with a ``category``;
* :func:`origins`: residential buildings, or the centres of the H3 cells
  covering the study area;
* :func:`key_places`: the places a district circuit should join: retail
  centres, stations, the town hall, parks.

Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict import _validate, hexagons
from geodistrict.cycling._common import points_of, present, text
from geodistrict.errors import ParameterError
from geodistrict.i18n import label  # unnamed places read 'Municipio' in Italian

log = logging.getLogger(__name__)

__all__ = [
    "BNA_TYPES",
    "BNA_WEIGHTS",
    "DESTINATION_CATEGORIES",
    "destinations",
    "key_places",
    "origins",
]

#: Destination categories of :func:`destinations`.
DESTINATION_CATEGORIES = ("commerce", "school", "station", "service", "recreation")

#: Destination types of the PeopleForBikes Bicycle Network Analysis (BNA) and
#: their sub-types with their weight inside the type (``overall_scores.sql`` of
#: PeopleForBikes/brokenspoke-analyzer). Employment (opportunity, 0.35) and
#: trails (recreation, 0.35) need data OSM does not give and are left out; the
#: weights of the sub-types present are rescaled, as the BNA does for missing ones.
BNA_TYPES: dict[str, dict[str, float]] = {
    "opportunity": {"schools": 0.35, "colleges": 0.1, "universities": 0.2},
    "core_services": {
        "doctors": 0.2, "dentists": 0.1, "hospitals": 0.2, "pharmacies": 0.1,
        "supermarkets": 0.25, "social_services": 0.15,
    },
    "retail": {"retail": 1.0},
    "recreation": {"parks": 0.4, "community_centers": 0.25},
    "transit": {"transit": 1.0},
}  # fmt: skip

#: The BNA's weights of the people score and of each destination type in the
#: overall score (``SCORE_*`` defaults of brokenspoke-analyzer's run script:
#: people 15, opportunity 20, core services 20, retail 15, recreation 15,
#: transit 15; an older header of ``overall_scores.sql`` lists 15/25/25/10/10/15).
BNA_WEIGHTS: dict[str, float] = {
    "people": 15.0, "opportunity": 20.0, "core_services": 20.0, "retail": 15.0,
    "recreation": 15.0, "transit": 15.0,
}  # fmt: skip

_SUBTYPE_TYPE = {sub: t for t, subs in BNA_TYPES.items() for sub in subs}

_FOOD = {"restaurant", "cafe", "bar", "pub", "fast_food", "ice_cream", "food_court", "biergarten"}
_SCHOOLS = {"school", "kindergarten", "college", "university", "childcare", "music_school"}
_SERVICES = {
    "townhall",
    "library",
    "post_office",
    "bank",
    "pharmacy",
    "doctors",
    "clinic",
    "hospital",
    "dentist",
    "police",
    "community_centre",
    "social_facility",
    "courthouse",
    "marketplace",
    "fire_station",
    "arts_centre",
    "theatre",
    "cinema",
    "place_of_worship",
    "veterinary",
}
_PARKS = {"park", "nature_reserve", "recreation_ground", "playground"}
#: (key, value) -> BNA sub-type; the first match wins.
_BNA_TAGS = (
    ("amenity", {"school"}, "schools"),
    ("amenity", {"college"}, "colleges"),
    ("amenity", {"university"}, "universities"),
    ("amenity", {"doctors", "clinic"}, "doctors"),
    ("healthcare", {"doctor", "clinic", "centre"}, "doctors"),
    ("amenity", {"dentist"}, "dentists"),
    ("healthcare", {"dentist"}, "dentists"),
    ("amenity", {"hospital"}, "hospitals"),
    ("healthcare", {"hospital"}, "hospitals"),
    ("amenity", {"pharmacy"}, "pharmacies"),
    ("healthcare", {"pharmacy"}, "pharmacies"),
    ("shop", {"supermarket"}, "supermarkets"),
    ("amenity", {"social_facility"}, "social_services"),
    ("amenity", {"community_centre"}, "community_centers"),
    ("leisure", _PARKS, "parks"),
)
_RESIDENTIAL = {
    "residential",
    "apartments",
    "house",
    "detached",
    "semidetached_house",
    "terrace",
    "dormitory",
    "bungalow",
    "farm",
    "static_caravan",
}


def destinations(
    pois: gpd.GeoDataFrame,
    transit_stops: gpd.GeoDataFrame,
    *,
    commercial_units: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Destinations of the connectivity analysis, one point each with a ``category``.

    Parameters
    ----------
    pois : GeoDataFrame
        The ``pois`` base layer (projected); vacant units are left out.
    transit_stops : GeoDataFrame
        The ``transit_stops`` base layer; stops of ``kind`` station count.
    commercial_units : GeoDataFrame, optional
        The commerce step's ``commercial_units``; when given they are the
        ``commerce`` destinations instead of the shop and food POIs.

    Returns
    -------
    GeoDataFrame
        ``category`` (one of :data:`DESTINATION_CATEGORIES`: commerce = shops,
        bars and restaurants; school; station; service = town hall, library,
        post, bank, pharmacy, health...; recreation = parks, playgrounds),
        ``bna_subtype`` and ``bna_type`` (the destination in the terms of the
        Bicycle Network Analysis, :data:`BNA_TYPES`: every commerce unit is
        ``retail`` except supermarkets, which are core services; stations are
        ``transit``; '' for what the BNA does not count, e.g. the town hall,
        the post office, banks), ``name``, point geometry.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.datasets.sample_layers()
    >>> dest = destinations(layers.pois, layers.transit_stops)
    >>> sorted(dest["category"].unique())
    ['commerce', 'recreation', 'school', 'service', 'station']
    >>> sorted(t for t in dest["bna_type"].unique() if t)
    ['core_services', 'opportunity', 'recreation', 'retail', 'transit']
    """
    _validate.projected_frame(pois, what="pois")
    _validate.projected_frame(transit_stops, what="transit_stops")
    vacant = pois["vacant"].fillna(False).astype(bool) if "vacant" in pois else False
    live = pois[~vacant] if "vacant" in pois else pois
    shop = text(live, "shop")
    amenity = text(live, "amenity")
    healthcare = text(live, "healthcare")
    office = text(live, "office")
    leisure = text(live, "leisure")
    category = np.select(
        [
            amenity.isin(_SCHOOLS).to_numpy(),
            (
                amenity.isin(_SERVICES) | (healthcare != "") | office.isin({"government"})
            ).to_numpy(),
            ((shop != "") | amenity.isin(_FOOD)).to_numpy(),
            leisure.isin(_PARKS).to_numpy(),
        ],
        ["school", "service", "commerce", "recreation"],
        "",
    )
    parts = [
        gpd.GeoDataFrame(
            {
                "category": category,
                "bna_subtype": _bna_subtypes(live, category),
                "name": text(live, "name").to_numpy(),
            },
            geometry=points_of(live).to_numpy(),
            crs=pois.crs,
        )
    ]
    if commercial_units is not None and len(commercial_units):
        units = _validate.projected_frame(commercial_units, what="commercial_units")
        parts[0] = parts[0][parts[0]["category"] != "commerce"]
        is_shop = text(units, "osm_key") == "shop"
        supermarket = (is_shop & (text(units, "osm_value") == "supermarket")) | (
            text(units, "shop") == "supermarket"
        )
        parts.append(
            gpd.GeoDataFrame(
                {
                    "category": "commerce",
                    "bna_subtype": np.where(supermarket, "supermarkets", "retail"),
                    "name": text(units, "name").to_numpy(),
                },
                geometry=points_of(units).to_crs(pois.crs).to_numpy(),
                crs=pois.crs,
            )
        )
    stations = transit_stops[text(transit_stops, "kind") == "station"]
    parts.append(
        gpd.GeoDataFrame(
            {
                "category": "station",
                "bna_subtype": "transit",
                "name": text(stations, "name").to_numpy(),
            },
            geometry=points_of(stations).to_crs(pois.crs).to_numpy(),
            crs=pois.crs,
        )
    )
    out = pd.concat(parts, ignore_index=True)
    out = out[out["category"] != ""].reset_index(drop=True)
    out["bna_subtype"] = out["bna_subtype"].fillna("").astype(object)
    out.insert(1, "bna_type", out["bna_subtype"].map(_SUBTYPE_TYPE).fillna("").astype(object))
    return gpd.GeoDataFrame(out, geometry="geometry", crs=pois.crs)


def _bna_subtypes(pois: pd.DataFrame, category: np.ndarray) -> np.ndarray:
    """BNA sub-type of each POI ('' when the BNA does not count it)."""
    out = np.full(len(pois), "", dtype=object)
    for key, values, subtype in reversed(_BNA_TAGS):  # the first match is written last
        out = np.where(text(pois, key).isin(values).to_numpy(), subtype, out)
    # Other commerce (shops, bars, restaurants) is retail.
    return np.where((out == "") & (category == "commerce"), "retail", out)


def origins(
    buildings: gpd.GeoDataFrame,
    *,
    kind: Literal["buildings", "hex"] = "buildings",
    min_residential: int = 50,
    area: gpd.GeoDataFrame | None = None,
    hex_resolution: int = 9,
    population: str = "population",
) -> gpd.GeoDataFrame:
    """Origins of the connectivity analysis: residential buildings or H3 cell centres.

    Parameters
    ----------
    buildings : GeoDataFrame
        The ``buildings`` base layer (projected).
    kind : {"buildings", "hex"}, default "buildings"
        Residential buildings (``building=residential|apartments|house|...``),
        falling back to every building when fewer than ``min_residential``;
        or the centres of the H3 cells covering ``area``.
    min_residential : int, default 50
        See ``kind``.
    area : GeoDataFrame, optional
        The study area; needed for ``kind="hex"``.
    hex_resolution : int, default 9
        H3 resolution of hex origins.
    population : str, default "population"
        Column of ``buildings`` with residents; when present it is each
        origin's ``weight`` (the BNA weighs origins by people), else every
        origin weighs 1.

    Returns
    -------
    GeoDataFrame
        Points with ``origin_id``, ``kind`` (``residential``, ``building`` or
        ``hex``), ``ref`` (OSM building id or H3 cell) and ``weight``.

    Raises
    ------
    ParameterError
        If ``kind`` is unknown, or ``kind="hex"`` without ``area``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.datasets.sample_layers()
    >>> o = origins(layers.buildings)
    >>> o["kind"].iloc[0], len(o) == len(layers.buildings)
    ('building', True)
    >>> cells = origins(layers.buildings, kind="hex", area=layers.study_area)
    >>> cells["kind"].iloc[0], len(cells["ref"].iloc[0])
    ('hex', 15)
    """
    _validate.projected_frame(buildings, what="buildings")
    if kind == "hex":
        if area is None:
            raise ParameterError("origins(kind='hex') needs the study area (area=...)")
        cells = hexagons.cells_covering(
            area.geometry.union_all(), crs=area.crs, resolution=hex_resolution
        )
        frame = gpd.GeoDataFrame(
            {"kind": "hex", "ref": cells, "weight": 1.0},
            geometry=hexagons.cell_centres(cells, crs=buildings.crs),
            crs=buildings.crs,
        )
    elif kind == "buildings":
        use = text(buildings, "building")
        residential = buildings[use.isin(_RESIDENTIAL)]
        label = "residential"
        if len(residential) < min_residential:
            log.info(
                "%d residential buildings (< %d): every building is an origin",
                len(residential),
                min_residential,
            )
            residential, label = buildings, "building"
        ref = text(residential, "osm_id") if "osm_id" in residential else residential.index
        weight = (
            pd.to_numeric(residential[population], errors="coerce").fillna(0.0).clip(lower=0)
            if population in residential.columns
            else pd.Series(1.0, index=residential.index)
        )
        frame = gpd.GeoDataFrame(
            {
                "kind": label,
                "ref": pd.Series(ref).astype(str).to_numpy(),
                "weight": weight.to_numpy(dtype=float),
            },
            geometry=points_of(residential).to_numpy(),
            crs=buildings.crs,
        )
    else:
        raise ParameterError(f"origins kind must be 'buildings' or 'hex', got {kind!r}")
    frame.insert(0, "origin_id", np.arange(len(frame)))
    return frame.reset_index(drop=True)


def key_places(
    pois: gpd.GeoDataFrame,
    transit_stops: gpd.GeoDataFrame,
    *,
    centres: gpd.GeoDataFrame | None = None,
    max_places: int = 8,
    n_centres: int = 3,
) -> gpd.GeoDataFrame:
    """Places a district circuit should join: centres, stations, town hall, parks.

    Parameters
    ----------
    pois, transit_stops : GeoDataFrame
        Base layers (projected).
    centres : GeoDataFrame, optional
        Retail centres (e.g. :func:`geodistrict.commerce.retail_centres`, the
        commerce step's ``retail_centres``), points or polygons, with an
        optional ``name``; without them the places have no centre.
    max_places : int, default 8
        Most places kept: centres first, then stations and the town hall,
        then parks, nearest to the centres first.
    n_centres : int, default 3
        Most centres used: the first by ``rank`` (or most ``n_units``) of
        ``centres``.

    Returns
    -------
    GeoDataFrame
        Points with ``place_id``, ``name``, ``kind`` (``centre``, ``station``,
        ``townhall``, ``park``) and ``priority`` (1 highest).

    Examples
    --------
    >>> import geodistrict as gd
    >>> layers = gd.datasets.sample_layers()
    >>> places = key_places(layers.pois, layers.transit_stops)
    >>> sorted(set(places["kind"])), len(places) <= 8
    (['park', 'station', 'townhall'], True)
    >>> main = layers.pois.head(1).assign(name="Main street")
    >>> key_places(layers.pois, layers.transit_stops, centres=main)["name"].iloc[0]
    'Main street'
    """
    _validate.projected_frame(pois, what="pois")
    _validate.projected_frame(transit_stops, what="transit_stops")
    crs = pois.crs
    if centres is None or len(centres) == 0:
        centres = gpd.GeoDataFrame(geometry=[], crs=crs)
    elif "rank" in centres:
        centres = centres.sort_values("rank", kind="stable")
    elif "n_units" in centres:
        centres = centres.sort_values("n_units", ascending=False, kind="stable")
    centres = centres.head(n_centres).to_crs(crs)
    name_col = next((c for c in ("name", "centre_name", "label") if c in centres), None)
    rows: list[dict[str, Any]] = []
    for i, (geom, name) in enumerate(
        zip(
            points_of(centres),
            centres[name_col] if name_col else [None] * len(centres),
            strict=True,
        ),
        start=1,
    ):
        rows.append(
            {
                "name": name if present(name) else f"Centre {i}",
                "kind": "centre",
                "priority": 1,
                "geometry": geom,
            }
        )
    stations = transit_stops[text(transit_stops, "kind") == "station"].to_crs(crs)
    seen: set[str] = set()
    for geom, name in zip(points_of(stations), text(stations, "name"), strict=True):
        key = name or f"{geom.x:.0f},{geom.y:.0f}"
        if key not in seen:
            seen.add(key)
            rows.append(
                {
                    "name": name.title() if name else label("station", kind="status"),
                    "kind": "station",
                    "priority": 2,
                    "geometry": geom,
                }
            )
    for kind, mask, priority in (
        ("townhall", text(pois, "amenity") == "townhall", 2),
        ("park", text(pois, "leisure") == "park", 3),
    ):
        chosen = pois[mask]
        for geom, name in zip(points_of(chosen), text(chosen, "name"), strict=True):
            rows.append(
                {
                    "name": name.title() if name else label(kind, kind="status"),
                    "kind": kind,
                    "priority": priority,
                    "geometry": geom,
                }
            )
    if not rows:
        return gpd.GeoDataFrame(
            {
                "place_id": pd.Series(dtype=int),
                "name": pd.Series(dtype=object),
                "kind": pd.Series(dtype=object),
                "priority": pd.Series(dtype=int),
            },
            geometry=[],
            crs=crs,
        )
    places = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    anchor = places[places["kind"] == "centre"].geometry.union_all()
    if anchor.is_empty:
        anchor = places.geometry.union_all()
    places["_d"] = places.distance(anchor.centroid)
    places = places.sort_values(["priority", "_d"], kind="stable").head(max_places)
    places = places.drop(columns="_d").reset_index(drop=True)
    places.insert(0, "place_id", np.arange(1, len(places) + 1))
    return places
