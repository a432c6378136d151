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
from geodistrict.errors import ParameterError
from geodistrict.production._common import numeric_column
from geodistrict.production.firms import locate_in, zone_of
from geodistrict.production.privacy import (
    DOMINANCE,
    check_dominance,
    check_group_size,
    dominated,
    protect_counts,
    publishable,
    suppress_cells,
)
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
    dominance: tuple[int, float] = DOMINANCE,
) -> gpd.GeoDataFrame:
    """Needs, critical issues, coverage and space, by area, zone and work table.

    Rows (``level``): one per municipality (``area``), per zone (``core``,
    ``extension``, ``other``; ``zone``), the whole district (``district``)
    and one per work table (``work_table``: the firms that want to join it).

    Every count of firms passes :func:`protect_counts` together with its
    complement: areas within their zone, zones within the district; a work
    table's counts are published only when the 2 x 2 table (in the work table
    or not) x (with the answer or not) has no cell of 1 to ``k - 1`` firms.
    Sums (employees, hires, space requested) follow the count behind them
    and are hidden where the (n, p) dominance rule fails
    (:func:`~geodistrict.production.privacy.dominated`), with secondary
    suppression along areas within zones and zones within the district.  The
    OSM firms that did not answer (``osm_not_answered``, ``response_rate``)
    are shown only where both they and the OSM firms that did answer are at
    least ``k`` (see :func:`supply`).

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
    dominance : (int, float), default (2, 0.85)
        The (n, p) rule for the sums.

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
    check_dominance(dominance)
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

    # Which counts may be shown: areas within zones and within the district, zones
    # within the district (secondary suppression along every line, until stable).
    mask_area = pd.DataFrame(True, index=by_area.index, columns=count_cols)
    mask_zone = pd.DataFrame(True, index=by_zone.index, columns=count_cols)
    for col in count_cols:
        mask_area[col], mask_zone[col] = _protect_hierarchy(
            by_area[col],
            by_zone[col],
            area_zone,
            k,
            area_comp=by_area["firms"] - by_area[col] if col != "firms" else None,
            zone_comp=by_zone["firms"] - by_zone[col] if col != "firms" else None,
        )
    if len(by_zone) == 1:  # the single zone is the district itself
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

    # Sums: shown with the count behind them, unless dominated; a dominated sum is
    # protected like a small count (secondary suppression along the same lines).
    def heavy(members: pd.Series, col: str) -> bool:
        return dominated(sums.loc[members.to_numpy(), col].to_numpy(), dominance)

    in_area = {a: (answers["_area"] == a) for a in by_area.index}
    in_zone = {z: answers["_zone"] == z for z in by_zone.index}
    sum_masks: dict[str, tuple[pd.Series, pd.Series, bool]] = {}
    for col, basis in _SUMS.items():
        primary_area = pd.Series({a: heavy(in_area[a], col) for a in by_area.index}, dtype=bool)
        primary_zone = pd.Series({z: heavy(in_zone[z], col) for z in by_zone.index}, dtype=bool)
        shown_area, shown_zone = _protect_hierarchy(
            by_area[basis],
            by_zone[basis],
            area_zone,
            k,
            area_hidden=~(mask_area[basis] & ~primary_area),
            zone_hidden=~(mask_zone[basis] & ~primary_zone),
        )
        shown_district = bool(mask_district.iloc[0][basis]) and not heavy(
            pd.Series(True, index=answers.index), col
        )
        sum_masks[col] = (shown_area, shown_zone, shown_district)

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
        sum_ok: Mapping[str, bool],
    ) -> dict[str, object]:
        row: dict[str, object] = {"level": level, "name": name, "zone": zone}
        for col in count_cols:
            if not col.startswith("_"):
                row[col] = int(c[col]) if m[col] else pd.NA
        for col, basis in _SUMS.items():
            shown = m[basis] and sum_ok[col] and pd.notna(s[col])
            row[col] = float(s[col]) if shown else np.nan
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
            {col: bool(m[0][a]) for col, m in sum_masks.items()},
        )
        for a in by_area.index
    ]
    if len(by_zone) > 1:
        rows += [
            emit(
                "zone",
                z,
                z,
                by_zone.loc[z],
                sum_zone.loc[z],
                mask_zone.loc[z],
                zone_geoms.get(z),
                {col: bool(m[1][z]) for col, m in sum_masks.items()},
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
            {col: m[2] for col, m in sum_masks.items()},
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
        table_ok = {col: not heavy(pd.Series(inside, index=answers.index), col) for col in _SUMS}
        rows.append(emit("work_table", table, "district", c_in, s_in, m, district_geom, table_ok))

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
        min_group_size=k,
    )
    for col in ("level", "name", "zone"):
        out[col] = out[col].astype("str")
    # Which area each firm is counted in, for the disclosure audit (the step strips attrs).
    out.attrs["membership"] = {
        "area": [str(a) if pd.notna(a) else None for a in answers["_area"]],
        "zone": [str(z) if pd.notna(z) else None for z in answers["_zone"]],
        "space_found": [bool(v) for v in counts["firms_space_found"]],
    }
    return out


def _protect_hierarchy(
    area_values: pd.Series,
    zone_values: pd.Series,
    area_zone: pd.Series,
    k: int,
    *,
    area_comp: pd.Series | None = None,
    zone_comp: pd.Series | None = None,
    area_hidden: pd.Series | None = None,
    zone_hidden: pd.Series | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Which areas and zones may show a count: :func:`protect_counts` along every line.

    The lines are the areas of each zone (whose total is the zone's), all the
    areas (whose total is the district's) and the zones; a zone made of one
    area is that area.  Rounds repeat until nothing changes, so a cell hidden
    on one line is protected on the others too.  (On arrays: the same rule as
    :func:`protect_counts` on one column, see :func:`_protect_line`.)
    """
    shown_a = pd.Series(True, index=area_values.index) if area_hidden is None else ~area_hidden
    shown_z = pd.Series(True, index=zone_values.index) if zone_hidden is None else ~zone_hidden
    shown_a, shown_z = shown_a.astype(bool).copy(), shown_z.astype(bool).copy()
    aligned = (
        area_values.index.is_unique
        and zone_values.index.is_unique
        and area_zone.index.isin(area_values.index).all()
        and shown_a.index.equals(area_values.index)
        and shown_z.index.equals(zone_values.index)
        and (area_comp is None or area_comp.index.equals(area_values.index))
        and (zone_comp is None or zone_comp.index.equals(zone_values.index))
    )
    if not aligned:
        return _protect_hierarchy_by_label(
            area_values, zone_values, area_zone, k, area_comp, zone_comp, shown_a, shown_z
        )
    values_a = _counts(area_values)
    comp_a = None if area_comp is None else _counts(area_comp)
    several = len(zone_values) > 1  # the zones are a line of their own
    values_z = _counts(zone_values, check=several)
    comp_z = None if zone_comp is None else _counts(zone_comp, check=several)
    ok_a = shown_a.to_numpy(dtype=bool).copy()
    ok_z = shown_z.to_numpy(dtype=bool).copy()
    where = area_values.index.get_indexer(area_zone.index)
    zones = area_zone.to_numpy()
    blocks = [where[zones == z] for z in zone_values.index]
    lines = [b for b in blocks if len(b)] + [np.arange(len(values_a))]
    for _ in range(len(values_a) + len(values_z) + 1):
        before = (ok_a.copy(), ok_z.copy())
        for members in lines:
            if len(members) == 0:
                continue
            comp = None if comp_a is None else comp_a[members]
            ok_a[members] &= _protect_line(values_a[members], k, comp, ~ok_a[members])
        if several:
            ok_z &= _protect_line(values_z, k, comp_z, ~ok_z)
        for z, members in enumerate(blocks):
            if len(members) == 1:
                both = bool(ok_a[members[0]] and ok_z[z])
                ok_a[members[0]], ok_z[z] = both, both
        if (ok_a == before[0]).all() and (ok_z == before[1]).all():
            break
    # Named as pandas names ``shown & ok`` (``ok`` a column named after the values).
    line = zone_values.name if zone_values.name is not None else 0
    name_z = shown_z.name if not several or shown_z.name == line else None
    return (
        pd.Series(ok_a, index=shown_a.index, name=shown_a.name),
        pd.Series(ok_z, index=shown_z.index, name=name_z),
    )


def _counts(values: pd.Series, *, check: bool = True) -> np.ndarray:
    """Counts as :func:`protect_counts` reads them (float, missing as 0), never negative."""
    out = np.nan_to_num(values.to_frame().to_numpy(dtype="float64")[:, 0])
    if check and (out < 0).any():
        raise ParameterError("firm counts must not be negative")
    return out


def _protect_line(
    values: np.ndarray, k: int, comp: np.ndarray | None, forced: np.ndarray
) -> np.ndarray:
    """:func:`protect_counts` of one column (``rows=False``) on arrays: which cells to show."""
    arrays = [values[:, None]] if comp is None else [values[:, None], comp[:, None]]
    return ~suppress_cells(arrays, k, forced[:, None], rows=False, columns=True)[:, 0]


def _protect_hierarchy_by_label(
    area_values: pd.Series,
    zone_values: pd.Series,
    area_zone: pd.Series,
    k: int,
    area_comp: pd.Series | None,
    zone_comp: pd.Series | None,
    shown_a: pd.Series,
    shown_z: pd.Series,
) -> tuple[pd.Series, pd.Series]:
    """:func:`_protect_hierarchy` by labels with :func:`protect_counts` (repeated labels)."""
    blocks = [area_zone.index[area_zone == z] for z in zone_values.index]
    for _ in range(len(area_values) + len(zone_values) + 1):
        before = (shown_a.copy(), shown_z.copy())
        for members in [*blocks, area_values.index]:
            if len(members) == 0:
                continue
            comp = area_comp[members] if area_comp is not None else None
            ok = protect_counts(
                area_values[members], k, complements=comp, rows=False, primary=~shown_a[members]
            ).iloc[:, 0]
            shown_a[members] = shown_a[members] & ok
        if len(zone_values) > 1:
            ok = protect_counts(
                zone_values, k, complements=zone_comp, rows=False, primary=~shown_z
            ).iloc[:, 0]
            shown_z = shown_z & ok
        for z, members in zip(zone_values.index, blocks, strict=True):
            if len(members) == 1:
                both = bool(shown_a[members[0]] and shown_z[z])
                shown_a[members[0]], shown_z[z] = both, both
        if shown_a.equals(before[0]) and shown_z.equals(before[1]):
            break
    return shown_a, shown_z


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
    min_group_size: int = 5,
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
        OSM firms and :func:`match_firms` result: ``osm_firms`` (public),
        ``osm_not_answered`` and ``response_rate``.  The OSM firms of a place
        are public, so the number that answered is ``osm_firms -
        osm_not_answered``: both are shown only when both groups hold at
        least ``min_group_size`` firms (otherwise "all but 2 of the OSM firms
        of Kamppi answered" nearly names the respondents), with secondary
        suppression of areas within zones and zones within the district.
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
        all_osm = pd.Series(per_row(pd.Series(1.0, index=osm.index), osm_area), index=out.index)
        not_answered = pd.Series(per_row(unmatched, osm_area), index=out.index)
        ok = _osm_shown(out, all_osm, not_answered, zone_map, min_group_size)
        out["osm_not_answered"] = pd.array(not_answered.where(ok), dtype="Int64")
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


def _osm_shown(
    out: pd.DataFrame,
    all_osm: pd.Series,
    not_answered: pd.Series,
    zone_map: Mapping[str, str],
    k: int,
) -> pd.Series:
    """Rows whose ``osm_not_answered`` may be shown.

    The OSM firms that answered (all minus those that did not) and those that
    did not are both groups of OSM firms, which are public: each must be at
    least ``k`` (0 would say that every OSM firm of the place answered, or
    none did), and hiding one area must not be undone by subtracting the
    others from their zone, or zones from the district.
    """
    answered = (all_osm - not_answered).fillna(0)
    small = lambda v: v < k  # noqa: E731 - zero is as telling as a small group here
    primary = (small(answered) | small(not_answered.fillna(0))) & (all_osm.fillna(0) > 0)
    ok = ~primary & out["level"].isin(["area", "zone", "district"])
    levels = out["level"].to_numpy()
    names = out["name"].astype("str").to_numpy()
    for z in sorted(set(zone_map.values())):
        rows = [i for i in range(len(out)) if levels[i] == "area" and zone_map.get(names[i]) == z]
        if len(rows) < 2:
            continue
        idx = out.index[rows]
        shown = protect_counts(
            answered[idx], k, complements=not_answered[idx], rows=False, primary=~ok[idx]
        ).iloc[:, 0]
        ok[idx] = ok[idx] & shown
    zones = out.index[levels == "zone"]
    if len(zones) > 1:
        shown = protect_counts(
            answered[zones], k, complements=not_answered[zones], rows=False, primary=~ok[zones]
        ).iloc[:, 0]
        ok[zones] = ok[zones] & shown
    return ok
