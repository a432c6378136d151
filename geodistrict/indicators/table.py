"""The ``indicators`` table: one row per indicator and scope, with its method and source.

:func:`district_indicators` computes, from the residents and the layers of a
run, the Agenda 2030 indicators (SDG 11.2.1 and 11.7.1, by UN-Habitat's
metadata) and those the district programmes name (everyday-needs coverage,
commercial units per 1,000 residents, vacancy rate, low-stress cycling
connectivity weighted by residents). Each row has exactly the columns of
:data:`COLUMNS` and the geometry of its scope (the district, a comune or a
census section). Texts are in the current language (:mod:`geodistrict.i18n`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from geodistrict import _validate
from geodistrict.commerce.access import walking_coverage
from geodistrict.i18n import N_, _, get_language
from geodistrict.indicators.access import share_within, transit_access, walk_distance
from geodistrict.indicators.open_space import built_up_area, open_space_shares, street_area
from geodistrict.network import graph_arrays
from geodistrict.sources.osm import OSM_ATTRIBUTION
from geodistrict.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)

__all__ = ["COLUMNS", "district_indicators", "indicator_frame"]

#: The columns of the ``indicators`` layer (besides its geometry).
COLUMNS = ("indicator", "label", "value", "unit", "method", "source", "date", "scope",
           "estimated")  # fmt: skip

PERCENT = "%"
UNIT_RESIDENTS = N_("residents")
UNIT_PER_1000 = N_("units per 1,000 residents")
UNIT_POINTS = N_("points (0-100)")

M_RESIDENTS = N_("sum of the residents of the population layer")
M_SDG_11_2_1 = N_(
    "SDG 11.2.1 (UN-Habitat): share of residents within {low:g} m walking along the street "
    "network of a low-capacity stop (bus, tram) or {high:g} m of a high-capacity one (rail, "
    "metro, ferry); stops from OSM, every stop counted (no timetable check)"
)
M_SDG_11_7_1 = N_(
    "SDG 11.7.1 (UN-Habitat): (open public space + land allocated to streets) / built-up "
    "area; built-up area = building footprints closed by {closing:g} m plus the open spaces "
    "touching it; streets at their width or a default width per class"
)
M_SDG_11_7_1_OPEN = N_(
    "SDG 11.7.1 (UN-Habitat), open public space only: OSM parks, gardens, playgrounds, "
    "squares, pedestrian areas and village greens not marked private / built-up area"
)
M_SDG_11_7_1_ACCESS = N_(
    "SDG 11.7.1 (UN-Habitat): share of residents within {m:g} m walking along the street "
    "network of an open public space (entered anywhere along its edge)"
)
M_NEED = N_("share of residents within {m:g} m ({minutes:g} minutes) walking of a unit "
            "meeting the need")  # fmt: skip
M_NEEDS_ALL = N_("share of residents within {m:g} m ({minutes:g} minutes) walking of every "
                 "everyday need of the taxonomy")  # fmt: skip
M_PER_1000 = N_("active commercial units in the study area / residents x 1,000")
M_VACANCY = N_("vacant units / (active commercial units + vacant units) in the study area; "
               "vacant units from the survey and OSM, merged")  # fmt: skip
M_LOW_STRESS = N_(
    "destinations reachable by bike that are connected at low stress (LTS up to the "
    "threshold, BNA method), summed over origins weighted by their residents"
)
M_BNA = N_("BNA connectivity score of each origin (0-100), mean weighted by residents")

L_RESIDENTS = N_("Residents")
L_SDG_11_2_1 = N_("SDG 11.2.1 Residents with convenient access to public transport")
L_SDG_11_7_1 = N_("SDG 11.7.1 Share of the built-up area that is open public space or streets")
L_SDG_11_7_1_OPEN = N_("SDG 11.7.1 Share of the built-up area that is open public space")
L_SDG_11_7_1_ACCESS = N_("SDG 11.7.1 Residents within {m:g} m of an open public space")
L_NEED = N_("Residents within a {minutes:g}-minute walk: {need}")
L_NEEDS_ALL = N_("Residents within a {minutes:g}-minute walk of every everyday need")
L_PER_1000 = N_("Commercial units per 1,000 residents: {category}")
L_PER_1000_ALL = N_("Commercial units per 1,000 residents")
L_VACANCY = N_("Vacancy rate of commercial units")
L_LOW_STRESS = N_("Low-stress cycling connectivity (residents-weighted)")
L_BNA = N_("Cycling network score (BNA, residents-weighted)")

#: BNA destination types of the ``bike_connectivity`` layer.
_BNA_TYPES = ("opportunity", "core_services", "retail", "recreation", "transit")


def indicator_frame(rows: list[dict[str, Any]], *, crs: object) -> gpd.GeoDataFrame:
    """Rows (dicts with :data:`COLUMNS` and ``geometry``) as the ``indicators`` layer.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> row = dict(indicator="x", label="X", value=1.0, unit="%", method="m", source="s",
    ...            date="2024-01-01", scope="d", estimated=False, geometry=box(0, 0, 1, 1))
    >>> list(indicator_frame([row], crs=32632).columns) == [*COLUMNS, "geometry"]
    True
    """
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "geometry"])
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame["estimated"] = frame["estimated"].astype(bool)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)


def _label(item: Any) -> str:
    return str(getattr(item, "it" if get_language() == "it" else "en", item))


class _Rows:
    """Collects rows for one district: its name, geometry, date and zones."""

    def __init__(self, *, district: str, area: Any, date: str,
                 zones: gpd.GeoDataFrame | None) -> None:  # fmt: skip
        self.rows: list[dict[str, Any]] = []
        self.district, self.area, self.date = district, area, date
        self.zone_geom = ({str(z): g for z, g in zip(zones["zone"], zones.geometry, strict=True)}
                          if zones is not None else {})  # fmt: skip

    def add(self, indicator: str, label: str, value: float, unit: str, method: str,
            source: str, *, estimated: bool, scope: str | None = None,
            date: str | None = None) -> None:  # fmt: skip
        geometry = self.area if scope is None else self.zone_geom.get(scope, self.area)
        self.rows.append(dict(
            indicator=indicator, label=label,
            value=float(value) if value is not None and np.isfinite(value) else np.nan,
            unit=unit, method=method, source=source, date=date or self.date,
            scope=self.district if scope is None else scope, estimated=estimated,
            geometry=geometry,
        ))  # fmt: skip

    def shares(self, indicator: str, label: str, table: pd.DataFrame, method: str,
               source: str, *, estimated: bool, by_zone: bool) -> None:  # fmt: skip
        for _i, row in table.iterrows():
            zone = row["zone"]
            if zone is not None and not by_zone:
                continue
            self.add(indicator, label, 100.0 * row["share"], PERCENT, method, source,
                     estimated=estimated, scope=None if zone is None else str(zone))  # fmt: skip


def _attempt(what: str, func: Callable[[], None]) -> None:
    try:
        func()
    except (ValueError, KeyError) as exc:  # a missing column or an empty input: no row
        log.warning("indicator %s left out: %s", what, exc)


def district_indicators(
    people: gpd.GeoDataFrame,
    *,
    walk_graph: nx.MultiDiGraph,
    area: gpd.GeoDataFrame,
    district: str,
    date: str,
    population_source: str,
    estimated: bool,
    population_date: str | None = None,
    zones: gpd.GeoDataFrame | None = None,
    transit_stops: gpd.GeoDataFrame | None = None,
    open_spaces: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    commercial_units: gpd.GeoDataFrame | None = None,
    vacant_units: gpd.GeoDataFrame | None = None,
    bike_connectivity: gpd.GeoDataFrame | None = None,
    taxonomy: Taxonomy | None = None,
    walk_speed_kmh: float = 4.8,
    walk_minutes: float = 10.0,
    low_capacity_m: float = 500.0,
    high_capacity_m: float = 1000.0,
    open_space_m: float = 400.0,
    closing_m: float = 50.0,
    by_zone: bool = True,
) -> gpd.GeoDataFrame:
    """The ``indicators`` table of a district (see the module docstring).

    Parameters
    ----------
    people : GeoDataFrame
        Points with ``residents`` and ``zone`` (:func:`geodistrict.population.resident_points`).
    walk_graph : networkx.MultiDiGraph
        The walking graph.
    area : GeoDataFrame
        The study area (the district's scope and geometry).
    district : str
        Name of the district scope.
    date : str
        Reference date of the rows (ISO, ``YYYY-MM-DD``).
    population_source : str
        Where the residents come from (ISTAT census, or the estimate).
    estimated : bool
        Residents are estimated: every row that uses them says so.
    population_date : str, optional
        Reference date of the residents (census date); default ``date``.
    zones : GeoDataFrame, optional
        ``zone`` polygons (census sections or comuni) for the rows by zone.
    transit_stops, open_spaces, buildings, streets : GeoDataFrame, optional
        For SDG 11.2.1 (stops with ``mode``) and 11.7.1.
    commercial_units, vacant_units, bike_connectivity : GeoDataFrame, optional
        Layers of the commerce, vacancy and cycling steps; rows needing an
        absent layer are left out.
    taxonomy : Taxonomy, optional
        Categories and everyday needs (default the shipped one).
    walk_speed_kmh, walk_minutes : float
        The everyday-needs walk (default 10 minutes at 4.8 km/h: 800 m).
    low_capacity_m, high_capacity_m, open_space_m, closing_m : float
        SDG distances (UN-Habitat: 500, 1,000, 400 m) and the built-up closing.
    by_zone : bool, default True
        Also the population-weighted indicators per zone.

    Returns
    -------
    GeoDataFrame
        :data:`COLUMNS` and the scope's geometry; ``value`` NaN where it cannot
        be known (nobody lives in a zone). Without residents only the rows
        that need none (land shares of 11.7.1, vacancy rate) are computed.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.population import estimate_population, resident_points
    >>> layers = gd.datasets.sample_layers()
    >>> pop = estimate_population(layers.buildings, landuse=layers.landuse, total=9000,
    ...                           area=layers.study_area)
    >>> table = district_indicators(resident_points(pop), walk_graph=layers.walk_graph,
    ...     area=layers.study_area, district="sample", date="2024-01-01",
    ...     population_source="estimate", estimated=True, transit_stops=layers.transit_stops)
    >>> round(float(table.set_index("indicator").loc["residents", "value"]), 6)
    9000.0
    >>> bool(0 <= table.set_index("indicator").loc["sdg_11_2_1", "value"] <= 100)
    True
    """
    _validate.projected_frame(people, what="residents")
    _validate.require_columns(people, ["residents"], what="residents")
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    region = area.to_crs(people.crs).geometry.union_all()
    rows = _Rows(district=district, area=region, date=date, zones=zones)
    residents = people["residents"].to_numpy(float)
    zone = people["zone"].to_numpy(object) if "zone" in people else None
    total = float(residents.sum())
    pop_src = population_source
    osm_pop = pop_src if OSM_ATTRIBUTION in pop_src else f"{OSM_ATTRIBUTION}; {pop_src}"

    rows.add("residents", _(L_RESIDENTS), total, _(UNIT_RESIDENTS), _(M_RESIDENTS), pop_src,
             estimated=estimated, date=population_date)  # fmt: skip
    if by_zone and zone is not None:
        for key, value in pd.Series(residents).groupby(pd.Series(zone)).sum().items():
            rows.add("residents", _(L_RESIDENTS), value, _(UNIT_RESIDENTS), _(M_RESIDENTS),
                     pop_src, estimated=estimated, scope=str(key),
                     date=population_date)  # fmt: skip
    arrays = graph_arrays(walk_graph)

    if transit_stops is not None and len(transit_stops) and total > 0:

        def transit() -> None:
            access = transit_access(arrays, people, transit_stops.to_crs(people.crs),
                                    low_capacity_m=low_capacity_m,
                                    high_capacity_m=high_capacity_m)  # fmt: skip
            rows.shares("sdg_11_2_1", _(L_SDG_11_2_1),
                        share_within(residents, access["transit_access"], zone=zone),
                        _(M_SDG_11_2_1).format(low=low_capacity_m, high=high_capacity_m),
                        osm_pop, estimated=estimated, by_zone=by_zone)  # fmt: skip

        _attempt("sdg_11_2_1", transit)

    if open_spaces is not None and buildings is not None:

        def land() -> None:
            spaces = open_spaces.to_crs(people.crs)
            built = built_up_area(buildings.to_crs(people.crs), area=region, closing_m=closing_m,
                                  open_spaces=spaces)  # fmt: skip
            lanes = street_area(streets.to_crs(people.crs), within=built) if streets is not None \
                else None  # fmt: skip
            shares = open_space_shares(built, spaces, lanes)
            rows.add("sdg_11_7_1", _(L_SDG_11_7_1), 100.0 * shares["share"], PERCENT,
                     _(M_SDG_11_7_1).format(closing=closing_m), OSM_ATTRIBUTION,
                     estimated=False)  # fmt: skip
            rows.add("sdg_11_7_1_open_space", _(L_SDG_11_7_1_OPEN),
                     100.0 * shares["open_space_share"], PERCENT, _(M_SDG_11_7_1_OPEN),
                     OSM_ATTRIBUTION, estimated=False)  # fmt: skip

        _attempt("sdg_11_7_1", land)
    if open_spaces is not None and total > 0:

        def open_access() -> None:
            d = walk_distance(arrays, people, open_spaces.to_crs(people.crs),
                              cutoff_m=open_space_m * 1.5)  # fmt: skip
            rows.shares("sdg_11_7_1_access", _(L_SDG_11_7_1_ACCESS).format(m=open_space_m),
                        share_within(residents, d <= open_space_m, zone=zone),
                        _(M_SDG_11_7_1_ACCESS).format(m=open_space_m), osm_pop,
                        estimated=estimated, by_zone=by_zone)  # fmt: skip

        _attempt("sdg_11_7_1_access", open_access)

    walk_m = walk_speed_kmh * 1000.0 / 60.0 * walk_minutes
    units = None
    if commercial_units is not None and len(commercial_units):
        units = commercial_units.to_crs(people.crs)
        units = units[units.geometry.within(region).to_numpy()]

    if units is not None and tax.everyday and total > 0:

        def needs() -> None:
            walk = walking_coverage(arrays, units, people, taxonomy=tax, max_m=walk_m)
            fmt = {"m": walk_m, "minutes": walk_minutes}
            everything = np.ones(len(people), dtype=bool)
            for need in tax.everyday.values():
                ok = walk[f"walk_m_{need.key}"].to_numpy() <= walk_m
                everything &= ok
                rows.shares(f"everyday_need_{need.key}",
                            _(L_NEED).format(minutes=walk_minutes, need=_label(need)),
                            share_within(residents, ok), _(M_NEED).format(**fmt), osm_pop,
                            estimated=estimated, by_zone=False)  # fmt: skip
            rows.shares("everyday_needs_all", _(L_NEEDS_ALL).format(minutes=walk_minutes),
                        share_within(residents, everything, zone=zone),
                        _(M_NEEDS_ALL).format(**fmt), osm_pop, estimated=estimated,
                        by_zone=by_zone)  # fmt: skip

        _attempt("everyday_needs", needs)

    if units is not None and "category" in units and total > 0:
        per = lambda n: n / total * 1000.0 if total > 0 else np.nan  # noqa: E731
        rows.add("units_per_1000", _(L_PER_1000_ALL), per(len(units)), _(UNIT_PER_1000),
                 _(M_PER_1000), osm_pop, estimated=estimated)  # fmt: skip
        counts = units["category"].value_counts()
        for key, cat in tax.categories.items():
            rows.add(f"units_per_1000_{key}", _(L_PER_1000).format(category=_label(cat)),
                     per(int(counts.get(key, 0))), _(UNIT_PER_1000), _(M_PER_1000), osm_pop,
                     estimated=estimated)  # fmt: skip

    if vacant_units is not None and units is not None:
        vacant = vacant_units.to_crs(people.crs)
        n_vacant = int(vacant.geometry.within(region).sum())
        denominator = n_vacant + len(units)
        rows.add("vacancy_rate", _(L_VACANCY),
                 100.0 * n_vacant / denominator if denominator else np.nan, PERCENT,
                 _(M_VACANCY), f"{OSM_ATTRIBUTION}; " + _("district survey of vacant units"),
                 estimated=False)  # fmt: skip

    if bike_connectivity is not None and len(bike_connectivity) and total > 0:
        _attempt("low_stress", lambda: _cycling_rows(rows, people, bike_connectivity, osm_pop,
                                                     estimated=estimated))  # fmt: skip
    return indicator_frame(rows.rows, crs=people.crs)


def _cycling_rows(rows: _Rows, people: gpd.GeoDataFrame, scores: gpd.GeoDataFrame,
                  source: str, *, estimated: bool) -> None:  # fmt: skip
    """Low-stress connectivity with each origin weighted by the residents nearest to it."""
    origins = scores.to_crs(people.crs).reset_index(drop=True)
    near = gpd.sjoin_nearest(people[["residents", "geometry"]],
                             origins[["geometry"]], how="left")  # fmt: skip
    near = near[~near.index.duplicated(keep="first")]
    weight = near.groupby("index_right")["residents"].sum().reindex(origins.index).fillna(0.0)
    low = sum((origins.get(f"low_{t}", 0) for t in _BNA_TYPES), start=pd.Series(0.0,
              index=origins.index)).to_numpy(float)  # fmt: skip
    reach = sum((origins.get(f"any_{t}", 0) for t in _BNA_TYPES), start=pd.Series(0.0,
                index=origins.index)).to_numpy(float)  # fmt: skip
    w = weight.to_numpy(float)
    share = (w * low).sum() / (w * reach).sum() if (w * reach).sum() > 0 else np.nan
    rows.add("low_stress_connectivity", _(L_LOW_STRESS), 100.0 * share, PERCENT,
             _(M_LOW_STRESS), source, estimated=estimated)  # fmt: skip
    if "score" in origins:
        score = origins["score"].to_numpy(float)
        ok = np.isfinite(score) & (w > 0)
        mean = (w[ok] * score[ok]).sum() / w[ok].sum() if ok.any() else np.nan
        rows.add("bike_network_score", _(L_BNA), 100.0 * mean, _(UNIT_POINTS), _(M_BNA),
                 source, estimated=estimated)  # fmt: skip
