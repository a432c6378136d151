"""What the firms need, by area, zone and work table, beside the space and firms available.

:func:`needs_summary` builds the ``production_needs`` layer: counts of firms
hiring, training, exporting, facing each critical issue, joining each work
table..., with small groups suppressed (see
:mod:`geodistrict.production.privacy`), and the supply side that describes no
respondent: OSM firms (coverage of the survey), vacant space and industrial
land.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geodistrict._validate import projected_frame, require_columns
from geodistrict.production._common import numeric_column
from geodistrict.production.firms import locate_in, zone_of
from geodistrict.production.privacy import check_group_size, protect_counts, publishable
from geodistrict.production.services import match_expansion
from geodistrict.sources.surveys import FIRMS

__all__ = ["CRITICAL_ISSUES", "WORK_TABLES", "needs_summary", "supply"]

CRITICAL_ISSUES: tuple[str, ...] = FIRMS.get_field("critical_issues").choices
"""The critical issues a firm can tick (``critical_issues`` field)."""
WORK_TABLES: tuple[str, ...] = FIRMS.get_field("work_tables").choices
"""The district work tables (*tavoli di lavoro*) a firm can join."""

#: Sums published with the count of the firms that contribute to them.
_SUMS = {"employees": "firms", "hiring_needs": "firms_hiring", "expansion_m2": "firms_expanding"}


def _multi(firms: pd.DataFrame, column: str, choice: str) -> np.ndarray:
    """Whether each firm ticked ``choice`` in a ``;``-separated multiple-choice answer."""
    if column not in firms:
        return np.zeros(len(firms), dtype=bool)
    return np.array(
        [isinstance(v, str) and choice in v.split(";") for v in firms[column]], dtype=bool
    )


def _indicators(firms: pd.DataFrame) -> dict[str, np.ndarray]:
    """Binary firm-level indicators (counted) of the needs layer."""

    def num(col: str) -> pd.Series:
        return pd.to_numeric(firms.get(col, pd.Series(np.nan, index=firms.index)), errors="coerce")

    def flag(col: str) -> np.ndarray:
        values = firms.get(col, pd.Series([pd.NA] * len(firms), index=firms.index))
        return values.astype("boolean").fillna(False).to_numpy(dtype=bool)

    training = firms.get("training_needs", pd.Series([None] * len(firms), index=firms.index))
    out = {
        "firms_hiring": (num("hiring_needs").fillna(0) > 0).to_numpy(),
        "firms_training": np.array([isinstance(t, str) and t.strip() != "" for t in training]),
        "firms_funded": flag("funding_access"),
        "firms_exporting": flag("exports"),
        "firms_innovative": (num("innovation_readiness").fillna(0) >= 4).to_numpy(),
        "firms_expanding": (num("expansion_space_m2").fillna(0) > 0).to_numpy(),
    }
    for issue in CRITICAL_ISSUES:
        out[f"issue_{issue}"] = _multi(firms, "critical_issues", issue)
    for table in WORK_TABLES:
        out[f"table_{table}"] = _multi(firms, "work_tables", table)
    return out


def needs_summary(
    firms: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    min_group_size: int = 5,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
    osm: gpd.GeoDataFrame | None = None,
    matches: pd.DataFrame | None = None,
    vacant_units: gpd.GeoDataFrame | None = None,
    osm_vacant: gpd.GeoDataFrame | None = None,
    landuse: gpd.GeoDataFrame | None = None,
    expansion_distance_m: float = 1000.0,
) -> gpd.GeoDataFrame:
    """Needs, critical issues, coverage and space, by area, zone and work table.

    Rows (``level``): one per municipality (``area``), per zone (``core``,
    ``extension``, ``other``; ``zone``), the whole district (``district``)
    and one per work table (``work_table``: the firms that want to join it).

    Every count of firms passes :func:`protect_counts` together with its
    complement: areas within their zone, zones within the district; a work
    table's counts are published only when the 2 x 2 table (in the work table
    or not) x (with the answer or not) has no cell of 1 to ``k - 1`` firms.
    Sums (employees, hires, space requested) follow the count behind them.

    Parameters
    ----------
    firms : GeoDataFrame
        Respondents (``FIRMS`` schema), points in a projected CRS; answers
        the frame lacks count as not given.
    areas : GeoDataFrame
        Municipal polygons indexed by name (e.g. :func:`areas_from_firms`).
    min_group_size : int, default 5
        ``k``.
    core, extension : sequence of str
        Core and extension municipalities.
    osm, matches : optional
        OSM firms and :func:`match_firms` result, for the coverage columns.
    vacant_units : GeoDataFrame, optional
        Vacant units survey (``floor_area_m2``): space available.
    osm_vacant : GeoDataFrame, optional
        OSM POIs tagged vacant (counted).
    landuse : GeoDataFrame, optional
        The landuse layer: hectares of ``landuse=industrial``.
    expansion_distance_m : float, default 1000
        For :func:`match_expansion` of demand to vacant units.

    Returns
    -------
    GeoDataFrame
        Polygons (areas, zones and district; work tables get the district
        polygon).  Columns are described in ``docs/architecture.md``; counts
        are nullable integers, null where suppressed.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import production as pr
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg, base = gd.datasets.sample_config(), gd.datasets.sample_layers()
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
    >>> areas = pr.areas_from_firms(firms, base.study_area.geometry.iloc[0])
    >>> needs = pr.needs_summary(firms, areas, min_group_size=5)
    >>> int(needs.set_index("name").loc["district", "firms"]) == len(firms)
    True
    """
    projected_frame(firms, what="firms")
    projected_frame(areas, what="areas")
    if vacant_units is not None and len(vacant_units):
        projected_frame(vacant_units, what="vacant units")
        require_columns(
            vacant_units,
            ["floor_area_m2"],
            what="vacant units",
            hint="add the floor area of each unit in m² (the vacant units survey has it)",
        )
    k = check_group_size(min_group_size)
    answers = firms.copy()
    muni = answers["municipality"].astype("str") if "municipality" in answers else None
    located = locate_in(answers, areas)
    muni = located if muni is None else muni.where(muni.notna() & (muni != ""), located)
    answers["_area"] = muni
    names = [str(a) for a in areas.index]
    zone_map = dict(zip(names, zone_of(names, core=core, extension=extension), strict=True))
    extra_areas = sorted(set(answers["_area"].dropna()) - set(names))
    for a in extra_areas:
        zone_map[a] = zone_of([a], core=core, extension=extension)[0]
    answers["_zone"] = answers["_area"].map(zone_map)
    ind = _indicators(answers)
    counts = pd.DataFrame(ind, index=answers.index).astype("int64")
    counts["firms"] = 1
    sums = pd.DataFrame(
        {
            "employees": pd.to_numeric(answers.get("employees"), errors="coerce"),
            "hiring_needs": pd.to_numeric(answers.get("hiring_needs"), errors="coerce"),
            "expansion_m2": pd.to_numeric(answers.get("expansion_space_m2"), errors="coerce"),
        },
        index=answers.index,
    )
    innov = numeric_column(answers, "innovation_readiness")
    counts["_innov_answered"] = innov.notna().astype("int64")
    sums["_innov_sum"] = innov
    if vacant_units is not None and len(vacant_units):
        got = match_expansion(answers, vacant_units, max_distance_m=expansion_distance_m)
        counts["firms_space_found"] = got.notna().astype("int64")
    else:
        counts["firms_space_found"] = 0
    count_cols = list(counts.columns)
    by_area = counts.groupby(answers["_area"]).sum().reindex(names + extra_areas, fill_value=0)
    sum_area = sums.groupby(answers["_area"]).sum(min_count=1).reindex(by_area.index)
    zones_order = ["core", "extension", "other", "district"]
    area_zone = pd.Series([zone_map[a] for a in by_area.index], index=by_area.index)
    by_zone = by_area.groupby(area_zone).sum()
    by_zone = by_zone.reindex([z for z in zones_order if z in by_zone.index])
    sum_zone = sum_area.groupby(area_zone).sum(min_count=1).reindex(by_zone.index)
    district = by_area.sum().to_frame("district").T
    sum_district = sum_area.sum(min_count=1).to_frame("district").T

    # Which counts may be shown: areas within zones, zones within the district.
    mask_area = pd.DataFrame(True, index=by_area.index, columns=count_cols)
    for z in by_zone.index:
        members = area_zone.index[area_zone == z]
        block = by_area.loc[members]
        for col in count_cols:
            comp = block["firms"] - block[col] if col != "firms" else None
            mask_area.loc[members, col] = protect_counts(
                block[col], k, complements=comp, rows=False
            ).iloc[:, 0]
    mask_zone = pd.DataFrame(True, index=by_zone.index, columns=count_cols)
    if len(by_zone) > 1:
        for col in count_cols:
            comp = by_zone["firms"] - by_zone[col] if col != "firms" else None
            mask_zone[col] = protect_counts(by_zone[col], k, complements=comp, rows=False).iloc[
                :, 0
            ]
    else:  # the single zone is the district itself
        only = by_zone.iloc[0]
        mask_zone[:] = [[publishable(only[c], only["firms"], k) for c in count_cols]]
    whole = district.iloc[0]
    mask_district = pd.DataFrame(
        [[publishable(whole[c], whole["firms"], k) for c in count_cols]],
        index=district.index,
        columns=count_cols,
    )
    # A group's counts mean nothing once its size is hidden.
    for mask in (mask_area, mask_zone, mask_district):
        hidden = ~mask["firms"]
        mask.loc[hidden, :] = False

    area_geoms = {str(a): g for a, g in areas.geometry.items()}
    district_geom = shapely.union_all(list(area_geoms.values()))
    zone_geoms = {
        z: shapely.union_all(
            [area_geoms[a] for a in area_zone.index[area_zone == z] if a in area_geoms]
        )
        for z in by_zone.index
    }

    def emit(
        level: str,
        name: str,
        zone: str,
        c: pd.Series,
        s: pd.Series,
        m: pd.Series,
        geom: BaseGeometry | None,
    ) -> dict[str, object]:
        row: dict[str, object] = {"level": level, "name": name, "zone": zone}
        for col in count_cols:
            if not col.startswith("_"):
                row[col] = int(c[col]) if m[col] else pd.NA
        for col, basis in _SUMS.items():
            row[col] = float(s[col]) if m[basis] and pd.notna(s[col]) else np.nan
        ok_innov = m["_innov_answered"] and c["_innov_answered"] > 0
        row["innovation_mean"] = (
            round(float(s["_innov_sum"]) / float(c["_innov_answered"]), 2) if ok_innov else np.nan
        )
        row["geometry"] = geom
        return row

    rows = [
        emit(
            "area",
            a,
            zone_map[a],
            by_area.loc[a],
            sum_area.loc[a],
            mask_area.loc[a],
            area_geoms.get(a),
        )
        for a in by_area.index
    ]
    if len(by_zone) > 1:
        rows += [
            emit(
                "zone", z, z, by_zone.loc[z], sum_zone.loc[z], mask_zone.loc[z], zone_geoms.get(z)
            )
            for z in by_zone.index
        ]
    rows.append(
        emit(
            "district",
            "district",
            "district",
            whole,
            sum_district.iloc[0],
            mask_district.iloc[0],
            district_geom,
        )
    )
    n_all = float(whole["firms"])
    for table in WORK_TABLES:
        inside = counts[f"table_{table}"].to_numpy(dtype=bool)
        c_in = counts[inside].sum()
        s_in = sums[inside].sum(min_count=1)
        n_in = float(c_in["firms"])
        m = pd.Series(
            {
                col: publishable(c_in[col], n_in, k)
                and publishable(whole[col] - c_in[col], n_all - n_in, k)
                and publishable(n_in, n_all, k)
                for col in count_cols
            }
        )
        if not m["firms"]:
            m[:] = False
        rows.append(emit("work_table", table, "district", c_in, s_in, m, district_geom))

    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=firms.crs)
    for col in [c for c in count_cols if not c.startswith("_")]:
        out[col] = out[col].astype("Int64")
    out = supply(
        out,
        areas=areas,
        zone_map=zone_map,
        osm=osm,
        matches=matches,
        vacant_units=vacant_units,
        osm_vacant=osm_vacant,
        landuse=landuse,
    )
    for col in ("level", "name", "zone"):
        out[col] = out[col].astype("str")
    return out


def supply(
    needs: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame,
    zone_map: Mapping[str, str],
    osm: gpd.GeoDataFrame | None = None,
    matches: pd.DataFrame | None = None,
    vacant_units: gpd.GeoDataFrame | None = None,
    osm_vacant: gpd.GeoDataFrame | None = None,
    landuse: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Add the columns that describe no respondent: OSM coverage and available space.

    Parameters
    ----------
    needs : GeoDataFrame
        Rows with ``level`` and ``name`` (as built by :func:`needs_summary`)
        and ``firms`` / ``expansion_m2`` when the matching columns are added.
    areas : GeoDataFrame
        Municipal polygons indexed by name.
    zone_map : mapping of str to str
        Zone of each area name.
    osm, matches : optional
        OSM firms and :func:`match_firms` result: ``osm_firms``,
        ``osm_not_answered`` and ``response_rate``.
    vacant_units : GeoDataFrame, optional
        ``vacant_units``, ``vacant_m2`` and ``space_balance_m2``.
    osm_vacant : GeoDataFrame, optional
        ``osm_vacant``.
    landuse : GeoDataFrame, optional
        ``industrial_ha``.

    Returns
    -------
    GeoDataFrame
        A copy of ``needs`` with the new columns; work tables, which have no
        place of their own, get nulls.
    """
    out = needs.copy()

    def locate(layer: gpd.GeoDataFrame) -> pd.Series:
        pts = layer.geometry.to_crs(out.crs).representative_point()
        return locate_in(gpd.GeoDataFrame(geometry=pts), areas)

    def per_row(values: pd.Series, where: pd.Series) -> list[float]:
        by_area = values.groupby(where).sum()
        res = []
        for level, name in zip(out["level"], out["name"], strict=True):
            if level == "area":
                res.append(float(by_area.get(name, 0.0)))
            elif level == "zone":
                res.append(
                    float(sum(v for a, v in by_area.items() if zone_map.get(str(a)) == name))
                )
            elif level == "district":
                res.append(float(by_area.sum()))
            else:  # work tables have no place of their own
                res.append(np.nan)
        return res

    if osm is not None:
        osm_area = locate(osm)
        taken = set(matches["osm_index"].dropna()) if matches is not None else set()
        unmatched = pd.Series((~osm.index.isin(list(taken))).astype(float), index=osm.index)
        out["osm_firms"] = pd.array(
            per_row(pd.Series(1.0, index=osm.index), osm_area), dtype="Int64"
        )
        out["osm_not_answered"] = pd.array(per_row(unmatched, osm_area), dtype="Int64")
        known = out["firms"].astype("Float64") + out["osm_not_answered"].astype("Float64")
        rate = (out["firms"].astype("Float64") / known).round(3)
        out["response_rate"] = rate.where(out["level"].isin(["area", "zone", "district"]))
        out["response_rate"] = out["response_rate"].astype("float64")
    if vacant_units is not None and len(vacant_units):
        where = locate(vacant_units)
        area_m2 = pd.to_numeric(vacant_units["floor_area_m2"], errors="coerce").fillna(0)
        out["vacant_units"] = pd.array(
            per_row(pd.Series(1.0, index=vacant_units.index), where), dtype="Int64"
        )
        out["vacant_m2"] = per_row(area_m2, where)
        out["space_balance_m2"] = out["vacant_m2"] - out["expansion_m2"]
    if osm_vacant is not None:
        where = locate(osm_vacant) if len(osm_vacant) else pd.Series(dtype="str")
        out["osm_vacant"] = pd.array(
            per_row(pd.Series(1.0, index=osm_vacant.index), where), dtype="Int64"
        )
    if landuse is not None and "landuse" in landuse:
        ind = landuse[landuse["landuse"] == "industrial"]
        ha = []
        for geom in out.geometry:
            if geom is None or len(ind) == 0:
                ha.append(0.0)
            else:
                ha.append(round(float(ind.geometry.intersection(geom).area.sum()) / 1e4, 2))
        out["industrial_ha"] = ha
    return out
