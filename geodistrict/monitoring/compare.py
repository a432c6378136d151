"""Change between two survey waves of a district: units, vacancy rates, indicators.

:func:`unit_changes` and :func:`vacancy_rate_change` are plain functions over
GeoDataFrames; :func:`compare_outputs` reads two output folders of the same
district (``geodistrict run`` of wave 1 and of wave 2) and computes every
table; :func:`write_comparison` (``geodistrict compare BEFORE AFTER``) writes
them, in the district's language, as a GeoPackage, CSV files, one chart per
indicator and a summary (``sintesi.json``), atomically.

The changes of a unit (:data:`CHANGES`):

``opened``
    an active commercial unit of wave 2 that wave 1 did not have;
``closed``
    an active commercial unit of wave 1 that wave 2 no longer has;
``reactivated``
    vacant in wave 1, no longer vacant in wave 2 (let, reopened);
``still_vacant``
    vacant in both waves;
``newly_vacant``
    vacant in wave 2, not in wave 1.

Units of the two waves are the same unit when their ids agree (survey
``unit_id``, OSM type and id), else when they lie within ``match_distance_m``
of each other (one-to-one, nearest pairs first).  A place can change twice (a
shop that closed and is now vacant is ``closed`` and ``newly_vacant``).

Vacancy rates are ``vacant / (vacant + active)`` in each wave, within wave
2's retail centres and along each named street (the nearest within 40 m), so
both waves are counted over the same areas; a unit reactivated in wave 2
counts as active in wave 2 even where the map (OSM) does not show it yet.

Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict import _validate
from geodistrict.errors import ParameterError
from geodistrict.i18n import N_, _, format_date, use_language
from geodistrict.vacancy import vacancy_by_centre, vacancy_by_street

log = logging.getLogger(__name__)

__all__ = [
    "CHANGES",
    "Comparison",
    "Wave",
    "WaveMismatchError",
    "compare_outputs",
    "unit_changes",
    "vacancy_rate_change",
]

#: The changes of a unit between two waves, in the order tables list them.
CHANGES = ("opened", "closed", "reactivated", "still_vacant", "newly_vacant")

#: Folder of the comparison inside ``AFTER/consegna``.
COMPARISON_DIR = "confronto"

_OSM_CREDIT = N_("Map data © OpenStreetMap contributors (ODbL)")
_ILLUSTRATIVE = N_("Survey data of the district; sample surveys are illustrative")


class WaveMismatchError(ParameterError):
    """Two output folders that cannot be compared (another district, the same run)."""


@dataclass(frozen=True)
class Wave:
    """One run of a district: its folder and the date of its survey wave."""

    folder: Path
    district: str
    date: date | None
    date_source: str

    @property
    def label(self) -> str:
        """The wave as people read it: its date, else the folder's name."""
        return format_date(self.date) if self.date is not None else self.folder.name


@dataclass
class Comparison:
    """Everything :func:`compare_outputs` computes."""

    before: Wave
    after: Wave
    district: str
    title: str
    language: str
    units: gpd.GeoDataFrame
    centres: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    indicators: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _key_ids(frame: pd.DataFrame) -> pd.Series:
    """A stable id per unit: survey ``unit_id``, else ``osm_type/osm_id``; null when none."""
    ids = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if "osm_id" in frame:
        osm = pd.to_numeric(frame["osm_id"], errors="coerce")
        kind = frame["osm_type"].astype(str) if "osm_type" in frame else "osm"
        ids = ids.where(osm.isna(), "osm/" + kind + "/" + osm.astype("Int64").astype(str))
    if "unit_id" in frame:
        survey = frame["unit_id"].astype("string")
        own = survey.notna() & ~survey.fillna("").str.startswith("osm-")
        ids = ids.where(~own.to_numpy(), "unit/" + survey.astype(str))
    return ids


def _match(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, within: float) -> list[tuple[int, int]]:
    """One-to-one pairs (positions in a, b): same id first, then nearest within ``within`` m."""
    pairs: list[tuple[int, int]] = []
    ids_a, ids_b = _key_ids(a).to_numpy(), _key_ids(b).to_numpy()
    where_b: dict[object, int] = {}
    for j, ident in enumerate(ids_b):
        if ident is not None and ident not in where_b:
            where_b[ident] = j
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    for i, ident in enumerate(ids_a):
        found = where_b.get(ident) if ident is not None else None
        if found is not None and found not in taken_b:
            pairs.append((i, found))
            taken_a.add(i)
            taken_b.add(found)
    rest_a = [i for i in range(len(a)) if i not in taken_a]
    rest_b = [j for j in range(len(b)) if j not in taken_b]
    if rest_a and rest_b and within > 0:
        from scipy.spatial import cKDTree

        xa = np.column_stack([a.geometry.x.to_numpy()[rest_a], a.geometry.y.to_numpy()[rest_a]])
        xb = np.column_stack([b.geometry.x.to_numpy()[rest_b], b.geometry.y.to_numpy()[rest_b]])
        close = cKDTree(xa).sparse_distance_matrix(cKDTree(xb), within, output_type="ndarray")
        for i, j, _d in sorted(close.tolist(), key=lambda t: (t[2], t[0], t[1])):
            ia, jb = rest_a[int(i)], rest_b[int(j)]
            if ia not in taken_a and jb not in taken_b:
                pairs.append((ia, jb))
                taken_a.add(ia)
                taken_b.add(jb)
    return pairs


def _points(frame: gpd.GeoDataFrame | None, crs: Any) -> gpd.GeoDataFrame:
    if frame is None or len(frame) == 0:
        return gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=crs)
    out = frame.to_crs(crs).reset_index(drop=True)
    if not (out.geometry.geom_type == "Point").all():
        out = out.set_geometry(out.geometry.representative_point())
    return out


def _rows(frame: gpd.GeoDataFrame, positions: Sequence[int], change: str, *, kind: str,
          other: gpd.GeoDataFrame | None = None,
          other_positions: Sequence[int] | None = None) -> pd.DataFrame:  # fmt: skip
    part = frame.iloc[list(positions)].reset_index(drop=True)
    get = part.get
    out = pd.DataFrame(
        {
            "change": change,
            "kind": kind,
            "unit_id": (get("unit_id") if "unit_id" in part else _key_ids(part)).astype("string"),
            "name": get("name") if "name" in part else None,
            "category": get("category") if "category" in part else None,
            "address": get("address") if "address" in part else None,
            "street": get("street") if "street" in part else None,
            "vacant_since": pd.to_datetime(get("vacant_since"), errors="coerce")
            if "vacant_since" in part else pd.NaT,
            "vacancy_months": pd.to_numeric(get("vacancy_months"), errors="coerce")
            if "vacancy_months" in part else np.nan,
        },
        index=range(len(part)),
    )  # fmt: skip
    if other is not None and other_positions is not None and "vacancy_months" in other:
        before = pd.to_numeric(other["vacancy_months"], errors="coerce").to_numpy()
        out["vacancy_months_before"] = before[list(other_positions)]
    out["geometry"] = part.geometry.to_numpy()
    return out


def unit_changes(
    before_active: gpd.GeoDataFrame | None,
    before_vacant: gpd.GeoDataFrame | None,
    after_active: gpd.GeoDataFrame | None,
    after_vacant: gpd.GeoDataFrame | None,
    *,
    match_distance_m: float = 15.0,
) -> gpd.GeoDataFrame:
    """Units opened, closed, reactivated, still vacant and newly vacant between two waves.

    Parameters
    ----------
    before_active, after_active : GeoDataFrame, optional
        Active commercial units of each wave (``commercial_units``: ``osm_type``,
        ``osm_id``, ``name``, ``category``), projected CRS.
    before_vacant, after_vacant : GeoDataFrame, optional
        Vacant units of each wave (``vacant_units``: ``unit_id``,
        ``vacant_since``, ``vacancy_months``, ``address``).
    match_distance_m : float, default 15
        Units without a common id are the same unit within this distance (m).

    Returns
    -------
    GeoDataFrame
        One point per change in the CRS of the first frame given: ``change``
        (:data:`CHANGES`), ``kind`` (``active`` or ``vacant``), ``unit_id``,
        ``name``, ``category``, ``address``, ``street``, ``vacant_since``,
        ``vacancy_months`` (in the later wave the unit is seen in),
        ``vacancy_months_before`` (still vacant units: in wave 1).  Positions
        are those of wave 2, else wave 1.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> v1 = gpd.GeoDataFrame({"unit_id": ["A", "B"]}, geometry=[Point(0, 0), Point(50, 0)],
    ...                       crs=32632)
    >>> v2 = gpd.GeoDataFrame({"unit_id": ["B", "C"]}, geometry=[Point(50, 0), Point(90, 0)],
    ...                       crs=32632)
    >>> unit_changes(None, v1, None, v2).set_index("unit_id")["change"].to_dict()
    {'A': 'reactivated', 'B': 'still_vacant', 'C': 'newly_vacant'}
    """
    _validate.positive(match_distance_m, name="match_distance_m", allow_zero=True)
    given = [
        f for f in (after_vacant, after_active, before_vacant, before_active) if f is not None
    ]
    if not given:
        raise ParameterError("unit_changes needs at least one layer of units")
    crs = given[0].crs
    _validate.projected_frame(given[0], what="units")
    ba, bv = _points(before_active, crs), _points(before_vacant, crs)
    aa, av = _points(after_active, crs), _points(after_vacant, crs)
    parts = []
    vac = _match(bv, av, match_distance_m)
    still_b, still_a = [i for i, _j in vac], [j for _i, j in vac]
    parts.append(_rows(av, still_a, "still_vacant", kind="vacant", other=bv,
                       other_positions=still_b))  # fmt: skip
    parts.append(_rows(bv, sorted(set(range(len(bv))) - set(still_b)), "reactivated",
                       kind="vacant"))  # fmt: skip
    parts.append(_rows(av, sorted(set(range(len(av))) - set(still_a)), "newly_vacant",
                       kind="vacant"))  # fmt: skip
    act = _match(ba, aa, match_distance_m)
    kept_b, kept_a = {i for i, _j in act}, {j for _i, j in act}
    parts.append(_rows(aa, sorted(set(range(len(aa))) - kept_a), "opened", kind="active"))
    parts.append(_rows(ba, sorted(set(range(len(ba))) - kept_b), "closed", kind="active"))
    frames = [p for p in parts if len(p)]
    table = pd.concat(frames, ignore_index=True) if frames else _rows(av, [], "opened",
                                                                      kind="active")  # fmt: skip
    if "vacancy_months_before" not in table:
        table["vacancy_months_before"] = np.nan
    order = {c: n for n, c in enumerate(CHANGES)}
    table = table.sort_values("change", key=lambda s: s.map(order), kind="stable")
    for col in ("name", "category", "address", "street"):
        table[col] = table[col].astype("string")
    table["vacancy_months"] = pd.to_numeric(table["vacancy_months"]).astype(float)
    table["vacancy_months_before"] = pd.to_numeric(table["vacancy_months_before"]).astype(float)
    table["vacant_since"] = pd.to_datetime(table["vacant_since"]).astype("datetime64[us]")
    return gpd.GeoDataFrame(table.reset_index(drop=True), geometry="geometry", crs=crs)


def _reactivated_as_active(changes: gpd.GeoDataFrame, after_active: gpd.GeoDataFrame,
                           within: float) -> gpd.GeoDataFrame:  # fmt: skip
    """Wave 2's active units plus the reactivated units no active unit stands on."""
    back = changes[changes["change"] == "reactivated"][["geometry"]]
    if len(back) == 0:
        return after_active[["geometry"]]
    if len(after_active):
        near = back.geometry.apply(lambda p: after_active.distance(p).min() <= within)
        back = back[~near.to_numpy()]
    return gpd.GeoDataFrame(
        pd.concat([after_active[["geometry"]], back], ignore_index=True), crs=after_active.crs
    )


def vacancy_rate_change(
    areas: gpd.GeoDataFrame,
    before_active: gpd.GeoDataFrame,
    before_vacant: gpd.GeoDataFrame,
    after_active: gpd.GeoDataFrame,
    after_vacant: gpd.GeoDataFrame,
    *,
    key: str = "centre_id",
) -> gpd.GeoDataFrame:
    """Vacancy rate of each area in two waves, ``vacant / (vacant + active)``, and its change.

    Returns
    -------
    GeoDataFrame
        One row per area (its polygon): ``key``, ``name``,
        ``n_units_before``, ``n_vacant_before``, ``vacancy_rate_before``, the
        same ``_after``, ``vacancy_rate_change`` (after − before, a share:
        0.05 is 5 percentage points).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> area = gpd.GeoDataFrame({"centre_id": [1], "name": ["Centro"]},
    ...                         geometry=[box(0, 0, 100, 100)], crs=32632)
    >>> pts = lambda *xs: gpd.GeoDataFrame(geometry=[Point(x, 50) for x in xs], crs=32632)
    >>> row = vacancy_rate_change(area, pts(1, 2, 3), pts(4), pts(1, 2, 3, 4), pts()).iloc[0]
    >>> float(row["vacancy_rate_before"]), float(row["vacancy_rate_change"])
    (0.25, -0.25)
    """
    _validate.projected_frame(areas, what="areas")
    zones = areas.drop(columns=[c for c in ("n_units", "n_vacant", "vacancy_rate") if c in areas])
    if key not in zones:
        zones = zones.assign(**{key: np.arange(1, len(zones) + 1)})
    zones = zones.rename(columns={key: "centre_id"}) if key != "centre_id" else zones
    out = zones[["centre_id", "geometry"]].copy()
    out["name"] = zones["name"].to_numpy() if "name" in zones else None
    for suffix, active, vacant in (("before", before_active, before_vacant),
                                   ("after", after_active, after_vacant)):  # fmt: skip
        table = vacancy_by_centre(_points(vacant, areas.crs), zones,
                                  commercial_units=_points(active, areas.crs))  # fmt: skip
        table = table.reindex(zones["centre_id"].to_numpy())
        out[f"n_units_{suffix}"] = table["n_units"].to_numpy().astype(int)
        out[f"n_vacant_{suffix}"] = table["n_vacant"].to_numpy().astype(int)
        out[f"vacancy_rate_{suffix}"] = table["vacancy_rate"].to_numpy().astype(float)
    out["vacancy_rate_change"] = out["vacancy_rate_after"] - out["vacancy_rate_before"]
    out = out.rename(columns={"centre_id": key})
    cols = [key, "name", *[c for c in out.columns if c not in (key, "name", "geometry")]]
    return gpd.GeoDataFrame(out[[*cols, "geometry"]], geometry="geometry", crs=areas.crs)


def _street_change(streets: gpd.GeoDataFrame, before_active: gpd.GeoDataFrame,
                   before_vacant: gpd.GeoDataFrame, after_active: gpd.GeoDataFrame,
                   after_vacant: gpd.GeoDataFrame) -> gpd.GeoDataFrame:  # fmt: skip
    crs = streets.crs
    tables = {}
    for suffix, active, vacant in (("before", before_active, before_vacant),
                                   ("after", after_active, after_vacant)):  # fmt: skip
        table, _street = vacancy_by_street(_points(vacant, crs), _points(active, crs), streets)
        tables[suffix] = table
    names = sorted(set(tables["before"].index) | set(tables["after"].index))
    out = pd.DataFrame(index=pd.Index(names, name="street"))
    for suffix, table in tables.items():
        t = table.reindex(names)
        out[f"n_units_{suffix}"] = t["n_units"].fillna(0).astype(int)
        out[f"n_vacant_{suffix}"] = t["n_vacant"].fillna(0).astype(int)
        total = out[f"n_units_{suffix}"] + out[f"n_vacant_{suffix}"]
        out[f"vacancy_rate_{suffix}"] = np.where(total > 0, out[f"n_vacant_{suffix}"] /
                                                 np.maximum(total, 1), np.nan)  # fmt: skip
    out["vacancy_rate_change"] = out["vacancy_rate_after"] - out["vacancy_rate_before"]
    # Streets where something is or was vacant: the others have a rate of 0 in both waves.
    out = out[(out["n_vacant_before"] + out["n_vacant_after"]) > 0]
    named = streets[streets["name"].isin(out.index)][["name", "geometry"]]
    lines = named.dissolve(by="name") if len(named) else named.set_index("name")
    geoms = lines.geometry.reindex(out.index)
    return gpd.GeoDataFrame(out.reset_index(), geometry=list(geoms.to_numpy()), crs=crs)


INDICATOR_COLUMNS = (
    "indicator", "scope", "label", "unit", "value_before", "value_after", "change",
    "date_before", "date_after", "method", "source",
)  # fmt: skip


def _indicator_table(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None or len(frame) == 0 or "indicator" not in frame or "value" not in frame:
        return pd.DataFrame(columns=["indicator", "scope", "label", "unit", "value", "method",
                                     "source", "date"])  # fmt: skip
    out = pd.DataFrame(frame.drop(columns=[c for c in ("geometry", "fid") if c in frame]))
    for col in ("scope", "label", "unit", "method", "source", "date"):
        if col not in out:
            out[col] = None
    out["scope"] = out["scope"].fillna("district").astype(str)
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    return out.drop_duplicates(["indicator", "scope"])


def _indicator_changes(before: pd.DataFrame, after: pd.DataFrame, derived: pd.DataFrame,
                       dates: tuple[date | None, date | None]) -> pd.DataFrame:  # fmt: skip
    a, b = _indicator_table(before), _indicator_table(after)
    merged = a.merge(b, on=["indicator", "scope"], how="outer", suffixes=("_before", "_after"))
    rows = pd.DataFrame({
        "indicator": merged["indicator"], "scope": merged["scope"],
        "label": merged["label_after"].fillna(merged["label_before"]),
        "unit": merged["unit_after"].fillna(merged["unit_before"]),
        "value_before": merged["value_before"], "value_after": merged["value_after"],
        "date_before": pd.to_datetime(merged["date_before"], errors="coerce"),
        "date_after": pd.to_datetime(merged["date_after"], errors="coerce"),
        "method": merged["method_after"].fillna(merged["method_before"]),
        "source": merged["source_after"].fillna(merged["source_before"]),
    })  # fmt: skip
    extra = derived[~derived["indicator"].isin(set(rows["indicator"]))]
    table = pd.concat([rows, extra], ignore_index=True) if len(rows) else extra.copy()
    wave_dates = [pd.Timestamp(d) if d is not None else pd.NaT for d in dates]
    table["date_before"] = pd.to_datetime(table["date_before"]).fillna(wave_dates[0])
    table["date_after"] = pd.to_datetime(table["date_after"]).fillna(wave_dates[1])
    table["change"] = table["value_after"].astype(float) - table["value_before"].astype(float)
    for col in ("date_before", "date_after"):
        table[col] = table[col].astype("datetime64[us]")
    for col in ("indicator", "scope", "label", "unit", "method", "source"):
        table[col] = table[col].astype("string")
    return table[list(INDICATOR_COLUMNS)].reset_index(drop=True)


def _wave(outputs: Any) -> Wave:
    """The wave of a run: its survey date, else its indicators' date, else the run's day."""
    district = outputs.district
    if outputs.has("vacant_units") and "survey_date" in outputs.layer("vacant_units"):
        dates = pd.to_datetime(outputs.layer("vacant_units")["survey_date"], errors="coerce")
        if dates.notna().any():
            return Wave(outputs.folder, district, dates.max().date(), "vacant_units.survey_date")
    if outputs.has("indicators") and "date" in outputs.layer("indicators"):
        dates = pd.to_datetime(outputs.layer("indicators")["date"], errors="coerce")
        if dates.notna().any():
            return Wave(outputs.folder, district, dates.max().date(), "indicators.date")
    updated = outputs.manifest.get("updated")
    day = datetime.fromisoformat(str(updated)).date() if updated else None
    return Wave(outputs.folder, district, day, "layers.json updated")


def _layer(outputs: Any, name: str) -> gpd.GeoDataFrame | None:
    return outputs.layer(name) if outputs.has(name) else None


def _district_rate(active: gpd.GeoDataFrame | None, vacant: gpd.GeoDataFrame | None,
                   area: Any) -> tuple[int, int, float]:  # fmt: skip
    def inside(frame: gpd.GeoDataFrame | None) -> int:
        if frame is None or len(frame) == 0:
            return 0
        return int(frame.geometry.within(area).sum()) if area is not None else len(frame)

    n_active, n_vacant = inside(active), inside(vacant)
    total = n_active + n_vacant
    return n_active, n_vacant, (n_vacant / total if total else float("nan"))


def _derived(rate_a: tuple[int, int, float], rate_b: tuple[int, int, float], wave_a: Wave,
             wave_b: Wave) -> pd.DataFrame:  # fmt: skip
    """The district's vacancy rate and vacant units, as indicators of both waves."""
    return pd.DataFrame({
        "indicator": ["district_vacancy_rate", "vacant_units_count"],
        "scope": ["district", "district"],
        "label": [_("Vacancy rate of the district"), _("Vacant units")],
        "unit": ["%", _("units")],
        "value_before": [rate_a[2] * 100, float(rate_a[1])],
        "value_after": [rate_b[2] * 100, float(rate_b[1])],
        "date_before": [pd.Timestamp(wave_a.date) if wave_a.date else pd.NaT] * 2,
        "date_after": [pd.Timestamp(wave_b.date) if wave_b.date else pd.NaT] * 2,
        "method": [_("vacant / (vacant + active) units inside the study area"),
                   _("vacant units inside the study area (survey and OSM)")],
        "source": [_("district surveys; OpenStreetMap")] * 2,
    })  # fmt: skip


def compare_outputs(before: str | os.PathLike[str], after: str | os.PathLike[str], *,
                    match_distance_m: float = 15.0) -> Comparison:  # fmt: skip
    """Compare the runs of two survey waves of one district (nothing is written).

    Raises
    ------
    WaveMismatchError
        If the folders hold different districts, or the same run twice.
    OutputError
        If a folder holds no results.
    """
    from geodistrict.deliverables import Outputs

    out_a, out_b = Outputs.open(before), Outputs.open(after)
    if out_a.district != out_b.district:
        raise WaveMismatchError(
            f"cannot compare different districts: {str(before)!r} holds {out_a.district!r}, "
            f"{str(after)!r} holds {out_b.district!r}"
        )
    if out_a.version.resolve() == out_b.version.resolve():
        raise WaveMismatchError(
            f"{str(before)!r} and {str(after)!r} are the same run ({out_a.version.name}); "
            "give the output folders of two survey waves"
        )
    wave_a, wave_b = _wave(out_a), _wave(out_b)
    if wave_a.date and wave_b.date and wave_a.date > wave_b.date:
        log.warning("the wave of BEFORE (%s) is later than that of AFTER (%s)",
                    wave_a.date, wave_b.date)  # fmt: skip
    crs = out_b.layer("study_area").crs
    ba, bv = _layer(out_a, "commercial_units"), _layer(out_a, "vacant_units")
    aa, av = _layer(out_b, "commercial_units"), _layer(out_b, "vacant_units")
    ba, bv, aa, av = (_points(f, crs) for f in (ba, bv, aa, av))
    units = unit_changes(ba, bv, aa, av, match_distance_m=match_distance_m)
    aa_eff = _reactivated_as_active(units, aa, match_distance_m)
    centres = _layer(out_b, "retail_centres")
    if centres is not None:
        centre_change = vacancy_rate_change(centres.to_crs(crs), ba, bv, aa_eff, av)
    else:
        centre_change = gpd.GeoDataFrame({"centre_id": [], "name": []}, geometry=[], crs=crs)
    streets = _layer(out_b, "streets")
    if streets is not None and "name" in streets:
        street_change = _street_change(streets.to_crs(crs), ba, bv, aa_eff, av)
    else:
        street_change = gpd.GeoDataFrame({"street": []}, geometry=[], crs=crs)
    area = out_b.layer("study_area").to_crs(crs).geometry.union_all()
    rate_a = _district_rate(ba, bv, area)
    rate_b = _district_rate(aa_eff, av, area)
    with use_language(out_b.language):
        derived = _derived(rate_a, rate_b, wave_a, wave_b)
    indicators = _indicator_changes(_layer(out_a, "indicators"), _layer(out_b, "indicators"),
                                    derived, (wave_a.date, wave_b.date))  # fmt: skip
    counts = {c: int((units["change"] == c).sum()) for c in CHANGES}
    summary = {
        "district": out_b.district,
        "title": out_b.title,
        "language": out_b.language,
        "before": {"folder": str(out_a.folder), "version": out_a.version.name,
                   "date": wave_a.date.isoformat() if wave_a.date else None,
                   "date_source": wave_a.date_source},
        "after": {"folder": str(out_b.folder), "version": out_b.version.name,
                  "date": wave_b.date.isoformat() if wave_b.date else None,
                  "date_source": wave_b.date_source},
        "units": counts,
        "district_vacancy": {
            "active_before": rate_a[0], "vacant_before": rate_a[1],
            "rate_before": None if np.isnan(rate_a[2]) else round(rate_a[2], 4),
            "active_after": rate_b[0], "vacant_after": rate_b[1],
            "rate_after": None if np.isnan(rate_b[2]) else round(rate_b[2], 4),
        },
        "centres": len(centre_change),
        "streets": len(street_change),
        "indicators": len(indicators),
        "indicators_layer": bool(out_a.has("indicators") and out_b.has("indicators")),
        "match_distance_m": match_distance_m,
        "attribution": "© OpenStreetMap contributors (ODbL)",
    }  # fmt: skip
    return Comparison(wave_a, wave_b, out_b.district, out_b.title, out_b.language, units,
                      centre_change, street_change, indicators, summary)  # fmt: skip
