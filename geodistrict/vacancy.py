"""Vacant commercial units (*locali sfitti*): inventory, duration and vacancy rates.

A district knows its vacant units from two places: its own **survey**
(:data:`geodistrict.sources.surveys.VACANT_UNITS`, read and checked by
:func:`geodistrict.sources.surveys.read_survey`) and **OpenStreetMap**, where
a unit is tagged vacant (``pois`` with ``vacant`` true: ``shop=vacant``,
``disused:*``, ``abandoned:*``, ``was:*``, ``vacant:*``).  :func:`vacant_units`
merges both, and it is the one place where the two are merged (the commerce
step counts vacant units per centre and hexagon from it too): a survey unit
and an OSM unit closer than ``merge_distance_m`` are the same unit
(one-to-one, nearest pairs first), kept once with the survey's position and
attributes and the OSM id, and every merge is logged and recorded
(``source="both"``, ``merge_distance_m``).

:func:`vacancy_by_centre` and :func:`vacancy_by_street` give vacancy rates,
``vacant / (vacant + active units)``, per retail centre and per street;
:func:`rank_vacant_units` adds them to the priority criteria, scores, ranks
and robustness of :mod:`geodistrict.priority` (the ``vacant_units`` layer of
the ``vacancy`` pipeline step).

Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geodistrict import _validate, priority
from geodistrict.commerce.gaps import load_reference_mix
from geodistrict.errors import MissingColumnError, Problem, SurveyError
from geodistrict.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)

__all__ = [
    "UNIT_COLUMNS",
    "check_units",
    "rank_vacant_units",
    "vacancy_by_centre",
    "vacancy_by_street",
    "vacant_units",
]

#: Columns of :func:`vacant_units`, in order (before ``geometry``).
UNIT_COLUMNS = (
    "unit_id", "source", "osm_id", "osm_type", "survey_row", "merge_distance_m", "name",
    "address", "floor_area_m2", "ground_floor", "vacant_since", "vacancy_months", "last_use",
    "condition", "owner_type", "asking_rent_eur_month", "survey_date",
)  # fmt: skip

# OSM lifecycle keys that say what a vacant unit used to be, most telling first.
_LAST_USE_KEYS = (
    "disused:shop", "disused:amenity", "disused:craft", "disused:office", "abandoned:shop",
    "abandoned:amenity", "was:shop", "was:amenity", "vacant:shop", "shop", "amenity",
)  # fmt: skip
_DAYS_PER_MONTH = 365.25 / 12


def check_units(
    survey: pd.DataFrame, *, area: BaseGeometry | None = None, as_of: date | None = None
) -> list[Problem]:
    """Problems of survey rows given as a (Geo)DataFrame rather than a file.

    :func:`~geodistrict.sources.surveys.read_survey` checks files; this checks
    frames built in Python the same way: floor area not greater than 0,
    ``vacant_since`` after ``as_of`` (default today), missing geometry, and
    points outside ``area`` (a polygon in the frame's CRS).  Rows are
    ``source_row`` when present (as read_survey numbers them), else the
    spreadsheet row ``position + 2``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> bad = gpd.GeoDataFrame({"unit_id": ["A"], "floor_area_m2": [-5.0]},
    ...                        geometry=[Point(0, 0)], crs=32632)
    >>> print(check_units(bad)[0])
    vacant units, row 2, column 'floor_area_m2': floor area must be greater than 0 (value -5.0)
    """
    today = as_of or date.today()
    rows = (
        survey["source_row"].tolist()
        if "source_row" in survey
        else list(range(2, len(survey) + 2))
    )
    problems: list[Problem] = []
    file = "vacant units"
    if "floor_area_m2" in survey:
        for row, value in zip(rows, pd.to_numeric(survey["floor_area_m2"]), strict=True):
            if pd.notna(value) and value <= 0:
                problems.append(
                    Problem(file, row, "floor_area_m2", value, "floor area must be greater than 0")
                )
    if "vacant_since" in survey:
        since = pd.to_datetime(survey["vacant_since"], errors="coerce")
        for row, raw, value in zip(rows, survey["vacant_since"], since, strict=True):
            if pd.notna(value) and value.date() > today:
                problems.append(
                    Problem(file, row, "vacant_since", str(raw),
                            f"date is in the future (today is {today.isoformat()})")
                )  # fmt: skip
    if isinstance(survey, gpd.GeoDataFrame):
        for row, geom in zip(rows, survey.geometry, strict=True):
            if geom is None or geom.is_empty:
                problems.append(Problem(file, row, "geometry", None, "missing geometry"))
            elif area is not None and not area.covers(geom):
                problems.append(
                    Problem(file, row, "geometry", geom.wkt[:60], "point lies outside the area")
                )
    return problems


def _osm_units(pois: gpd.GeoDataFrame) -> pd.DataFrame:
    vacant = pois[pois["vacant"].fillna(False).astype(bool).to_numpy()] if "vacant" in pois else (
        pois.iloc[:0]
    )  # fmt: skip
    records = []
    for row in vacant.to_dict("records"):
        tags = json.loads(row["tags"]) if isinstance(row.get("tags"), str) else {}
        last = next(
            (
                f"{tags[k]} ({k})"
                for k in _LAST_USE_KEYS
                if tags.get(k) not in (None, "", "vacant")
            ),
            None,
        )
        street, number = tags.get("addr:street"), tags.get("addr:housenumber")
        level = str(tags.get("level", "")).strip()
        records.append({
            "unit_id": f"osm-{row.get('osm_type', 'node')}-{row.get('osm_id')}",
            "source": "osm", "osm_id": row.get("osm_id"), "osm_type": row.get("osm_type"),
            "name": tags.get("name"),
            "address": " ".join(p for p in (street, number) if p) or None,
            "last_use": last,
            # OSM rarely says; level 0 is the ground floor, another number is not.
            "ground_floor": (level == "0") if level.lstrip("-").isdigit() else None,
        })  # fmt: skip
    return pd.DataFrame.from_records(records, columns=[
        "unit_id", "source", "osm_id", "osm_type", "name", "address", "last_use", "ground_floor",
    ]).assign(geometry=vacant.geometry.to_numpy())  # fmt: skip


def _pairs(a: np.ndarray, b: np.ndarray, within: float) -> list[tuple[int, int, float]]:
    """One-to-one pairs (i in a, j in b) closer than ``within``, nearest pairs first."""
    if len(a) == 0 or len(b) == 0:
        return []
    from scipy.spatial import cKDTree

    close = cKDTree(a).sparse_distance_matrix(cKDTree(b), within, output_type="ndarray")
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    pairs = []
    for i, j, d in sorted(close.tolist(), key=lambda t: (t[2], t[0], t[1])):
        if int(i) not in taken_a and int(j) not in taken_b:
            taken_a.add(int(i))
            taken_b.add(int(j))
            pairs.append((int(i), int(j), float(d)))
    return pairs


def vacant_units(
    pois: gpd.GeoDataFrame,
    survey: gpd.GeoDataFrame | None = None,
    *,
    merge_distance_m: float = 15.0,
    as_of: date | None = None,
    area: BaseGeometry | None = None,
) -> gpd.GeoDataFrame:
    """The inventory of vacant units: survey plus OSM, the same unit merged once.

    The merging rule (the only one in geodistrict): every survey unit and
    OSM vacant unit closer than ``merge_distance_m`` form a candidate pair;
    pairs are taken nearest first, each unit in at most one pair, so two
    survey units near one OSM unit stay two units and only the nearer one is
    merged.  A merged unit keeps the survey's position and values, fills
    blanks (name, address, last use, ground floor) from OSM and records the
    OSM id and the distance between the two points.

    Parameters
    ----------
    pois : GeoDataFrame
        The ``pois`` base layer (projected CRS) with ``vacant`` and ``tags``.
    survey : GeoDataFrame, optional
        Survey points (:data:`~geodistrict.sources.surveys.VACANT_UNITS`
        columns, at least ``unit_id``), any CRS; reprojected to that of ``pois``.
    merge_distance_m : float, default 15
        A survey unit and an OSM unit closer than this (m) are one unit.
    as_of : date, optional
        Reference date of the vacancy duration (default today) for rows
        without a ``survey_date`` (see :mod:`geodistrict.monitoring.waves`).
    area : Polygon, optional
        The study area (same CRS as ``pois``): survey points outside it are
        reported.

    Returns
    -------
    GeoDataFrame
        Points in the CRS of ``pois`` with :data:`UNIT_COLUMNS`: ``unit_id``
        (the survey id, or ``osm-<type>-<id>``), ``source`` (``survey``,
        ``osm`` or ``both``), ``osm_id``, ``osm_type``, ``survey_row`` (the
        spreadsheet row), ``merge_distance_m`` (distance between the two
        points of a merged unit), ``name``, ``address``, ``floor_area_m2``,
        ``ground_floor``, ``vacant_since``, ``vacancy_months`` (months from
        ``vacant_since`` to ``as_of``, 1 decimal), ``last_use`` (survey, or
        the OSM lifecycle tag such as ``bar (disused:amenity)``),
        ``condition``, ``owner_type``, ``asking_rent_eur_month``,
        ``survey_date`` (the date the duration counts to: the survey row's
        ``survey_date`` when the survey has one, else ``as_of``).  A merged
        unit keeps the survey's position and values, filling blanks from OSM.

    Raises
    ------
    SurveyError
        If survey rows have impossible values (:func:`check_units`); each
        problem names the row and the field.
    MissingColumnError
        If the survey has no ``unit_id``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.sources.surveys import VACANT_UNITS, read_survey
    >>> cfg = gd.datasets.sample_config()
    >>> layers = gd.datasets.sample_layers()
    >>> survey = read_survey(cfg.surveys.vacant_units, VACANT_UNITS, crs=layers.crs)
    >>> units = vacant_units(layers.pois, survey, as_of=date(2026, 1, 1))
    >>> len(units) == len(survey) + int(layers.pois["vacant"].sum())  # nothing to merge here
    True
    >>> units["source"].value_counts().to_dict()
    {'survey': 24, 'osm': 3}
    """
    _validate.projected_frame(pois, what="pois")
    _validate.positive(merge_distance_m, name="merge_distance_m", allow_zero=True)
    crs = pois.crs
    today = as_of or date.today()
    osm = _osm_units(pois)
    if survey is None or len(survey) == 0:
        surv = pd.DataFrame(columns=["unit_id", "geometry"])
    else:
        _validate.require_columns(
            survey, ["unit_id"], what="survey vacant units", hint="give each surveyed unit an "
            "identifier, e.g. survey['unit_id'] = [f'S{i}' for i in range(len(survey))]",
        )  # fmt: skip
        problems = check_units(survey.to_crs(crs), area=area, as_of=today)
        if problems:
            raise SurveyError("vacant units", problems)
        moved = survey.to_crs(crs)
        surv = pd.DataFrame(moved.drop(columns=moved.geometry.name))
        surv = surv.rename(columns={"source_row": "survey_row"})
        surv["geometry"] = moved.geometry.to_numpy()
        surv["unit_id"] = surv["unit_id"].astype(str)
        surv["source"] = "survey"
    xy_s = shapely.get_coordinates(np.asarray(surv["geometry"], dtype=object)) if len(surv) else (
        np.zeros((0, 2))
    )  # fmt: skip
    xy_o = shapely.get_coordinates(osm["geometry"].to_numpy()) if len(osm) else np.zeros((0, 2))
    pairs = _pairs(xy_s, xy_o, merge_distance_m)
    surv = surv.reset_index(drop=True)
    surv["merge_distance_m"] = np.nan
    matched_osm = []
    for i, j, d in pairs:
        o = osm.iloc[j]
        surv.loc[i, "source"] = "both"
        surv.loc[i, "osm_id"] = o["osm_id"]
        surv.loc[i, "osm_type"] = o["osm_type"]
        surv.loc[i, "merge_distance_m"] = round(d, 2)
        for col in ("name", "address", "last_use", "ground_floor"):
            current: Any = surv.at[i, col] if col in surv else None
            if current is None or pd.isna(current):
                surv.loc[i, col] = o[col]
        matched_osm.append(j)
        log.info(
            "vacant unit %s (survey row %s) and OSM %s %s are %.1f m apart: merged",
            surv.loc[i, "unit_id"], surv.loc[i].get("survey_row"), o["osm_type"], o["osm_id"], d,
        )  # fmt: skip
    if pairs:
        log.info("merged %d survey and OSM vacant unit(s) within %g m", len(pairs),
                 merge_distance_m)  # fmt: skip
    rest = osm.drop(index=osm.index[matched_osm])
    frames = [f for f in (surv, rest) if len(f)]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["geometry"])
    for col in UNIT_COLUMNS:
        if col not in table:
            table[col] = None
    since = pd.to_datetime(table["vacant_since"], errors="coerce")
    # Each row counts to its own survey date (the wave's), else to as_of (default today).
    observed = pd.to_datetime(table["survey_date"], errors="coerce").fillna(pd.Timestamp(today))
    months = (observed - since).dt.days / _DAYS_PER_MONTH
    out = pd.DataFrame(
        {
            "unit_id": table["unit_id"].astype(str),
            "source": table["source"].astype(str),
            "osm_id": pd.to_numeric(table["osm_id"], errors="coerce").astype("Int64"),
            "osm_type": table["osm_type"].astype("str"),
            "survey_row": pd.to_numeric(table["survey_row"], errors="coerce").astype("Int64"),
            "merge_distance_m": pd.to_numeric(table["merge_distance_m"]).astype(float),
            "name": table["name"].astype("str"),
            "address": table["address"].astype("str"),
            "floor_area_m2": pd.to_numeric(table["floor_area_m2"]).astype(float),
            "ground_floor": pd.array(table["ground_floor"].tolist(), dtype="boolean"),
            "vacant_since": since.astype("datetime64[us]"),
            "vacancy_months": months.round(1).astype(float),
            "last_use": table["last_use"].astype("str"),
            "condition": table["condition"].astype("str"),
            "owner_type": table["owner_type"].astype("str"),
            "asking_rent_eur_month": pd.to_numeric(table["asking_rent_eur_month"]).astype(float),
            "survey_date": observed.astype("datetime64[us]"),
        }
    )  # fmt: skip
    for col in ("osm_type", "name", "address", "last_use", "condition", "owner_type"):
        out[col] = out[col].where(table[col].notna().to_numpy(), None)
    result = gpd.GeoDataFrame(out, geometry=list(table["geometry"]), crs=crs)
    log.info(
        "vacant units: %d (survey %d, OSM %d, both %d)", len(result),
        int((result["source"] == "survey").sum()), int((result["source"] == "osm").sum()),
        len(pairs),
    )  # fmt: skip
    return result


def vacancy_by_centre(
    vacant: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    *,
    commercial_units: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Vacancy rate per retail centre: vacant / (vacant + active units) inside it.

    Active units are the centre's ``n_units`` (commerce's ``retail_centres``)
    or, without that column, the ``commercial_units`` inside its polygon.

    Returns
    -------
    DataFrame
        Indexed by ``centre_id``: ``name``, ``n_units``, ``n_vacant``,
        ``vacancy_rate`` (0-1).

    Raises
    ------
    MissingColumnError
        If the centres have no ``n_units`` and no ``commercial_units`` are given.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> centres = gpd.GeoDataFrame({"centre_id": [1], "n_units": [9]},
    ...                            geometry=[box(0, 0, 100, 100)], crs=32632)
    >>> vacant = gpd.GeoDataFrame(geometry=[Point(5, 5), Point(500, 5)], crs=32632)
    >>> vacancy_by_centre(vacant, centres)["vacancy_rate"].tolist()
    [0.1]
    """
    _validate.projected_frame(vacant, what="vacant units")
    c = centres.to_crs(vacant.crs).copy()
    if "centre_id" not in c:
        c["centre_id"] = np.arange(1, len(c) + 1)
    inside = gpd.sjoin(vacant[["geometry"]], c[["centre_id", "geometry"]], predicate="within")
    n_vacant = inside["centre_id"].value_counts().reindex(c["centre_id"], fill_value=0)
    if "n_units" in c:
        n_units = pd.Series(c["n_units"].to_numpy(), index=c["centre_id"]).astype(int)
    elif commercial_units is not None:
        active = gpd.sjoin(commercial_units[["geometry"]].to_crs(vacant.crs),
                           c[["centre_id", "geometry"]], predicate="within")  # fmt: skip
        n_units = active["centre_id"].value_counts().reindex(c["centre_id"], fill_value=0)
    else:
        raise MissingColumnError(
            "retail centres", "n_units", hint="pass commercial_units=... to count the active "
            "units inside each centre, or use the centres of gd.retail_centres(units)"
        )  # fmt: skip
    total = n_units.to_numpy() + n_vacant.to_numpy()
    return pd.DataFrame(
        {
            "name": c["name"].to_numpy() if "name" in c else None,
            "n_units": n_units.to_numpy(),
            "n_vacant": n_vacant.to_numpy(),
            "vacancy_rate": np.where(
                total > 0, n_vacant.to_numpy() / np.maximum(total, 1), np.nan
            ),
        },
        index=pd.Index(c["centre_id"].to_numpy(), name="centre_id"),
    )


def _street_of(points: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, max_m: float) -> pd.Series:
    joined = gpd.sjoin_nearest(points[["geometry"]], streets[["name", "geometry"]],
                               how="left", max_distance=max_m)  # fmt: skip
    joined = joined[~joined.index.duplicated()]
    return joined["name"].reindex(points.index)


def vacancy_by_street(
    vacant: gpd.GeoDataFrame,
    commercial_units: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 40.0,
) -> tuple[pd.DataFrame, pd.Series]:
    """Vacancy rate per named street: vacant / (vacant + active units) fronting it.

    Each unit fronts the nearest named street (``streets`` with ``name``)
    within ``max_distance_m``; units farther from any named street are left out.

    Returns
    -------
    (table, street)
        ``table`` indexed by street name: ``n_units``, ``n_vacant``,
        ``vacancy_rate``; ``street``: the street of each vacant unit, indexed
        like ``vacant`` (null when none is near).

    Raises
    ------
    MissingColumnError
        If ``streets`` has no ``name``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> streets = gpd.GeoDataFrame({"name": ["Via Roma"]},
    ...                            geometry=[LineString([(0, 0), (100, 0)])], crs=32632)
    >>> vacant = gpd.GeoDataFrame(geometry=[Point(10, 5)], crs=32632)
    >>> shops = gpd.GeoDataFrame(geometry=[Point(20, 5), Point(30, 5), Point(40, 5)], crs=32632)
    >>> table, street = vacancy_by_street(vacant, shops, streets)
    >>> float(table.loc["Via Roma", "vacancy_rate"]), street.tolist()
    (0.25, ['Via Roma'])
    """
    _validate.projected_frame(vacant, what="vacant units")
    _validate.require_columns(
        streets, ["name"], what="streets", hint="vacancy per street needs street names (OSM "
        "'name'), as in the streets base layer or osmnx.graph_to_gdfs(G, nodes=False)",
    )  # fmt: skip
    named = streets[streets["name"].notna().to_numpy()].to_crs(vacant.crs)
    v_street = _street_of(vacant, named, max_distance_m)
    a_street = _street_of(commercial_units.to_crs(vacant.crs), named, max_distance_m)
    n_vacant = v_street.value_counts()
    n_units = a_street.value_counts()
    names = sorted(set(n_vacant.index) | set(n_units.index))
    table = pd.DataFrame(
        {"n_units": n_units.reindex(names, fill_value=0).astype(int),
         "n_vacant": n_vacant.reindex(names, fill_value=0).astype(int)},
        index=pd.Index(names, name="street"),
    )  # fmt: skip
    table["vacancy_rate"] = table["n_vacant"] / (table["n_units"] + table["n_vacant"])
    return table, v_street


def rank_vacant_units(
    units: gpd.GeoDataFrame,
    *,
    walk_graph: Any,
    pois: gpd.GeoDataFrame | None = None,
    transit_stops: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    commercial_units: gpd.GeoDataFrame | None = None,
    retail_centres: gpd.GeoDataFrame | None = None,
    category_gaps: pd.DataFrame | None = None,
    bike_network: gpd.GeoDataFrame | None = None,
    lts_threshold: int = 2,
    weights: Mapping[str, float] | None = None,
    preset: str | None = None,
    method: Literal["weighted_sum", "topsis"] = "weighted_sum",
    runs: int = 1000,
    spread: float = 0.25,
    top_k: int = 5,
    seed: int = 0,
    reference_mix: Mapping[str, float] | None = None,
    taxonomy: Taxonomy | None = None,
) -> gpd.GeoDataFrame:
    """Rank vacant units for reactivation: criteria, vacancy rates, scores, robustness.

    The criteria of :func:`geodistrict.priority.compute_criteria` (footfall,
    walks to anchors, density of active units, demand gap, suitability...),
    the vacancy rate of each unit's retail centre and street
    (:func:`vacancy_by_centre`, :func:`vacancy_by_street`), then the scores,
    ranks, rank under every preset and robustness to the method and the
    weights of :func:`geodistrict.priority.prioritise`.  Criteria the inputs
    do not allow are omitted and said so (``criteria_omitted``).

    Parameters
    ----------
    units : GeoDataFrame
        Vacant units (points, projected CRS), e.g. :func:`vacant_units`.
    walk_graph : networkx.MultiDiGraph or GraphArrays
        The walking graph, same CRS (e.g. osmnx, projected).
    pois, transit_stops, streets : GeoDataFrame, optional
        Anchors (``shop``/``amenity`` columns), stops (``kind``) and named
        streets (``name``) of the district.
    commercial_units : GeoDataFrame, optional
        Active units with ``category`` (:func:`geodistrict.taxonomy.classify_units`);
        without them commercial density, regeneration need, demand gap and
        the street vacancy rates are omitted.
    retail_centres, category_gaps : optional
        :func:`geodistrict.commerce.retail_centres` and
        :func:`geodistrict.commerce.category_gaps` output.
    bike_network : GeoDataFrame, optional
        Streets with ``lts`` (:mod:`geodistrict.cycling`).
    lts_threshold : int, default 2
        Highest LTS that is low stress.
    weights : mapping, optional
        Criterion weights merged over the preset's.
    preset : str, optional
        ``rigenerazione`` (default), ``consolidamento`` or ``bando``
        (:data:`geodistrict.priority.PRESETS`).
    method : {"weighted_sum", "topsis"}, default "weighted_sum"
        The score that ranks.
    runs, spread, top_k, seed
        Monte-Carlo robustness over both methods
        (:func:`geodistrict.priority.sensitivity`).
    reference_mix : mapping, optional
        Shares per category for the demand gap; default the shipped
        indicative mix (:func:`geodistrict.commerce.load_reference_mix`).
    taxonomy : Taxonomy, optional
        Labels of the recommended uses (default the shipped taxonomy).

    Returns
    -------
    GeoDataFrame
        Sorted by rank (a new index); see ``docs/architecture.md`` for every
        column.

    Raises
    ------
    MissingColumnError
        If ``commercial_units`` have no ``category`` (classify them first).
    ConfigError
        For unknown or invalid weights, or an unknown preset.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from datetime import date
    >>> from geodistrict.taxonomy import classify_units
    >>> layers = gd.datasets.sample_layers()
    >>> vacant = vacant_units(layers.pois, as_of=date(2026, 1, 1))
    >>> ranked = rank_vacant_units(
    ...     vacant, walk_graph=layers.walk_graph, pois=layers.pois,
    ...     transit_stops=layers.transit_stops, streets=layers.streets,
    ...     commercial_units=classify_units(layers.pois), runs=50)
    >>> ranked["rank"].tolist() == list(range(1, len(vacant) + 1)), "demand_gap" in ranked
    (True, True)
    """
    _validate.projected_frame(units, what="vacant units")
    if commercial_units is not None:
        _validate.require_columns(
            commercial_units, ["category"], what="commercial units",
            hint="classify them first, e.g. gd.classify_units(pois)",
        )  # fmt: skip
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    if reference_mix is None:
        reference_mix = dict(load_reference_mix(None, taxonomy=tax))
    crit = priority.compute_criteria(
        units, walk_graph=walk_graph, pois=pois, transit_stops=transit_stops,
        commercial_units=commercial_units, retail_centres=retail_centres,
        category_gaps=category_gaps, bike_network=bike_network, lts_threshold=lts_threshold,
        reference_mix=reference_mix, taxonomy=tax,
    )  # fmt: skip
    crit = _with_rates(crit, retail_centres, commercial_units, streets)
    if len(crit) == 0:
        for col in (*priority.SCORE_COLUMNS, *priority.ROBUSTNESS_COLUMNS):
            crit[col] = pd.Series(dtype=float)
        return crit
    ranked = priority.prioritise(
        crit, weights, method=method, preset=preset, runs=runs, spread=spread, top_k=top_k,
        seed=seed,
    )  # fmt: skip
    return gpd.GeoDataFrame(ranked.reset_index(drop=True), crs=units.crs)


def _with_rates(
    crit: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame | None,
    commercial: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """Each unit's centre and street, and their vacancy rates (columns added to a copy)."""
    out = crit.copy()
    out["centre_id"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["centre_vacancy_rate"] = np.nan
    if centres is not None and len(centres) and len(out):
        rates = vacancy_by_centre(out, centres, commercial_units=commercial)
        c = centres.to_crs(out.crs)
        ids = c["centre_id"] if "centre_id" in c else pd.Series(np.arange(1, len(c) + 1))
        c = gpd.GeoDataFrame({"centre_id": ids.to_numpy()}, geometry=c.geometry.to_numpy(),
                             crs=out.crs)  # fmt: skip
        inside = gpd.sjoin(out[["geometry"]], c, predicate="within")
        inside = inside[~inside.index.duplicated()]["centre_id"].reindex(out.index)
        out["centre_id"] = pd.array(inside.to_numpy(), dtype="Int64")
        out["centre_vacancy_rate"] = inside.map(rates["vacancy_rate"]).astype(float).round(4)
    out["street"] = None
    out["street_vacancy_rate"] = np.nan
    if commercial is not None and streets is not None and "name" in streets and len(out):
        table, street = vacancy_by_street(out, commercial, streets)
        out["street"] = street.where(street.notna(), None).to_numpy()
        out["street_vacancy_rate"] = street.map(table["vacancy_rate"]).astype(float).round(4)
    return out
