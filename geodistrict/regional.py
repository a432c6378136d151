"""Regional checks and extension candidates: comuni, contiguity, recognition indices.

Three questions a district answers to its Region, each a plain function:

* **Is it a Distretto del Commercio of Regione Lombardia, and of which kind?**
  :func:`commerce_district_check`: an urban district (*DUC*) lies in one
  comune; an intercommunal one (*DID*) joins at least three contiguous comuni.
  The population thresholds are parameters (:class:`CommerceRule`), because
  the sources found state them differently; ``docs/regional.md`` says what is
  verified and what is not.
* **Does a productive district meet the indices of the D.M. 21 April 1993?**
  :func:`dm1993_indices`: manufacturing employment, business density,
  sector specialisation, the sector's weight in manufacturing and the share of
  small firms, per comune and for the district, against a reference
  (national or regional) the district provides.  Thresholds are parameters
  (:class:`IndustrialRule`).
* **Which neighbouring comuni should it invite?**
  :func:`extension_candidates` ranks the comuni that touch the district by
  shared specialisation, by the firms and units within reach of the core, and
  by the length of their common border.

Contiguity comes from the comuni polygons (:func:`adjacency`): ISTAT
boundaries (``data/istat/``, CC BY 4.0) or OSM administrative boundaries
(© OpenStreetMap contributors, ODbL).  Nothing here reads the configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geodistrict import _validate
from geodistrict.errors import ParameterError

log = logging.getLogger(__name__)

__all__ = [
    "CommerceRule",
    "IndustrialRule",
    "adjacency",
    "commerce_district_check",
    "contiguous",
    "dm1993_indices",
    "extension_candidates",
]

#: ATECO divisions of manufacturing (section C).
MANUFACTURING = tuple(f"{d:02d}" for d in range(10, 34))


def _key(text: object) -> str:
    return " ".join(str(text).casefold().replace("'", " ").split())


def _names(comuni: gpd.GeoDataFrame, name: str) -> pd.Series:
    _validate.require_columns(comuni, [name], what="comuni",
                              hint="give each comune its official name")  # fmt: skip
    return comuni[name].astype(str)


def _shared_length(one: BaseGeometry, other: BaseGeometry, tolerance_m: float) -> float:
    """Length of the common border: each boundary within ``tolerance_m`` of the other polygon.

    The boundary of one polygon inside the other's band runs along the border
    plus about ``tolerance_m`` at each end (the edges that leave it), which is
    taken off; the two directions are averaged.
    """
    if tolerance_m <= 0:
        return float(one.boundary.intersection(other.boundary).length)
    lengths = [
        a.boundary.intersection(b.buffer(tolerance_m)).length for a, b in ((one, other),
                                                                            (other, one))
    ]  # fmt: skip
    return max(0.0, float(np.mean(lengths)) - 2 * tolerance_m)


def adjacency(
    comuni: gpd.GeoDataFrame, *, name: str = "name", tolerance_m: float = 5.0
) -> pd.DataFrame:
    """Pairs of comuni whose boundaries touch (within ``tolerance_m``), with the shared length.

    Parameters
    ----------
    comuni : GeoDataFrame
        Comuni polygons, projected CRS in metres (ISTAT or OSM boundaries).
    name : str
        Column of the comune's name.
    tolerance_m : float, default 5
        Generalised boundaries leave slivers: polygons closer than this touch.

    Returns
    -------
    DataFrame
        ``a``, ``b`` (names, ``a < b``), ``shared_m`` (approximate length of
        the common border, m: the overlap of the two boundaries' bands of
        ``tolerance_m``; 0 for a corner).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> squares = gpd.GeoDataFrame({"name": ["A", "B", "C"]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(50, 0, 60, 10)], crs=32632)
    >>> adjacency(squares)[["a", "b", "shared_m"]].values.tolist()
    [['A', 'B', 10.0]]
    """
    _validate.projected_frame(comuni, what="comuni")
    _validate.positive(tolerance_m, name="tolerance_m", allow_zero=True)
    names = _names(comuni, name).to_numpy()
    geoms = comuni.geometry.to_numpy()
    tree = comuni.sindex
    rows = []
    for i, geom in enumerate(geoms):
        for j in tree.query(geom, predicate="dwithin", distance=tolerance_m):
            if j <= i or names[i] == names[j]:
                continue
            a, b = sorted((names[i], names[j]))
            rows.append((a, b, round(_shared_length(geom, geoms[j], tolerance_m), 1)))
    table = pd.DataFrame(rows, columns=["a", "b", "shared_m"])
    return table.sort_values(["a", "b"], ignore_index=True)


def contiguous(comuni: gpd.GeoDataFrame, members: Iterable[str], *, name: str = "name",
               tolerance_m: float = 5.0) -> bool:  # fmt: skip
    """Whether ``members`` form one territorially contiguous group (a path of touching comuni).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> squares = gpd.GeoDataFrame({"name": ["A", "B", "C"]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(50, 0, 60, 10)], crs=32632)
    >>> contiguous(squares, ["A", "B"]), contiguous(squares, ["A", "B", "C"])
    (True, False)
    """
    wanted = set(members)
    inside = comuni[_names(comuni, name).isin(wanted).to_numpy()]
    missing = wanted - set(inside[name].astype(str))
    if missing:
        raise ParameterError(f"comuni {sorted(missing)} are not among the polygons given; "
                             f"known: {sorted(comuni[name].astype(str))[:20]}")  # fmt: skip
    graph = nx.Graph()
    graph.add_nodes_from(wanted)
    pairs = adjacency(inside, name=name, tolerance_m=tolerance_m)
    graph.add_edges_from(zip(pairs["a"], pairs["b"], strict=True))
    return nx.is_connected(graph) if len(wanted) else False


@dataclass(frozen=True)
class CommerceRule:
    """Thresholds of Regione Lombardia's Distretti del Commercio (see ``docs/regional.md``).

    The defaults follow the Region's published descriptions (DUC: one comune,
    a provincial capital or a comune of more than ``duc_min_population``
    residents; DID: at least ``did_min_comuni`` contiguous comuni of one
    province, or a comune of at least ``did_large_population`` with others);
    they are not checked against the text of the DGR (10397/2009, 1833/2019):
    change them to the call's figures.
    """

    duc_min_population: int = 25_000
    did_min_comuni: int = 3
    did_large_population: int = 15_000
    same_province: bool = True
    reference: str = (
        "Regione Lombardia, Distretti del Commercio (d.g.r. 10397/2009, d.g.r. 1833/2019): "
        "thresholds as published on the Region's pages, not verified against the d.g.r. text"
    )


def commerce_district_check(
    comuni: gpd.GeoDataFrame,
    district: Sequence[str],
    *,
    population: Mapping[str, float] | None = None,
    capitals: Iterable[str] = (),
    name: str = "name",
    province: str | None = "prov_acr",
    rule: CommerceRule | None = None,
    tolerance_m: float = 5.0,
) -> pd.DataFrame:
    """Whether the district meets the definitions of a DUC or a DID, check by check.

    Parameters
    ----------
    comuni : GeoDataFrame
        Comuni polygons (projected) including the district's.
    district : sequence of str
        The district's comuni (names as in ``name``).
    population : mapping, optional
        Residents by comune (ISTAT); without it the population checks are
        ``None`` (not verifiable).
    capitals : iterable of str
        Comuni that are provincial (or regional) capitals.
    province : str, optional
        Column of the province (``prov_acr`` of the ISTAT files); ``None`` or
        a missing column skips the same-province check.
    rule : CommerceRule, optional
        Thresholds (defaults: :class:`CommerceRule`).

    Returns
    -------
    DataFrame
        One row per check: ``kind`` (``DUC`` or ``DID``: the kind the
        district's number of comuni asks for), ``check``, ``value``,
        ``threshold``, ``passed`` (True/False, None when not verifiable),
        ``reference``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> squares = gpd.GeoDataFrame({"name": ["A", "B", "C"]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10)], crs=32632)
    >>> table = commerce_district_check(squares, ["A", "B", "C"],
    ...                                 population={"A": 5000, "B": 4000, "C": 3000})
    >>> table[["check", "passed"]].values.tolist()
    [['comuni', True], ['contiguous', True], ['same_province', None]]
    """
    rule = rule or CommerceRule()
    members = list(dict.fromkeys(str(m) for m in district))
    if not members:
        raise ParameterError("district: give at least one comune")
    pop = {str(k): float(v) for k, v in (population or {}).items()}
    rows: list[tuple[str, str, object, object, bool | None]] = []
    if len(members) == 1:
        only = members[0]
        people = pop.get(only)
        capital = only in set(capitals)
        ok = True if capital else (None if people is None else people > rule.duc_min_population)
        rows.append(("DUC", "population", people, rule.duc_min_population, ok))
    else:
        large = [m for m in members if pop.get(m, 0) >= rule.did_large_population]
        needed = 2 if large else rule.did_min_comuni
        rows.append(("DID", "comuni", len(members), needed, len(members) >= needed))
        rows.append(("DID", "contiguous", None, None,
                     contiguous(comuni, members, name=name, tolerance_m=tolerance_m)))  # fmt: skip
        if province and province in comuni:
            provs = set(comuni[comuni[name].astype(str).isin(members)][province].astype(str))
            rows.append(("DID", "same_province", ", ".join(sorted(provs)), 1,
                         len(provs) == 1 if rule.same_province else True))  # fmt: skip
        else:
            rows.append(("DID", "same_province", None, 1, None))
    table = pd.DataFrame(rows, columns=["kind", "check", "value", "threshold", "passed"])
    table["passed"] = table["passed"].astype(object).where(table["passed"].notna(), None)
    table["reference"] = rule.reference
    return table


@dataclass(frozen=True)
class IndustrialRule:
    """Thresholds of the D.M. 21 April 1993 indices (see ``docs/regional.md``).

    The indices are those the decree names; the default thresholds are the
    values commonly reported for it (ratios to the reference above 1.3 for
    industrialisation and specialisation, density above the reference, the
    sector over 30 % of manufacturing employment, small firms over 50 % of the
    sector's), not checked against the decree's text: change them if the
    Region's call says otherwise.
    """

    industrialisation: float = 1.3
    density: float = 1.0
    specialisation: float = 1.3
    sector_share: float = 0.30
    small_firm_share: float = 0.50
    small_firm_max_employees: int = 249
    reference: str = (
        "D.M. 21 aprile 1993 (indices as named by the decree; thresholds as commonly reported, "
        "not verified against its text)"
    )


def _division(code: object) -> str | None:
    text = str(code).strip().upper().lstrip("ABCDEFGHIJKLMNOPQRSTU")
    digits = text.split(".")[0]
    return digits.zfill(2)[:2] if digits.isdigit() else None


def dm1993_indices(
    units: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    sector: Sequence[str] | str | None = None,
    population: Mapping[str, float] | None = None,
    reference_population: float | None = None,
    municipality: str = "municipality",
    ateco: str = "ateco",
    employees: str = "employees",
    rule: IndustrialRule | None = None,
) -> pd.DataFrame:
    """The five indices of the D.M. 21 April 1993, per comune and for the district.

    Parameters
    ----------
    units : DataFrame
        Local units (business register, firm survey): ``municipality``,
        ``ateco`` (any ATECO code; its division is used) and ``employees``
        (for the register, its ``employees_est``).
    reference : DataFrame
        Employees and local units by ATECO division of the reference area
        (national or regional), indexed by division like
        :func:`geodistrict.production.read_lq_reference` returns it
        (columns ``employees``, ``local_units``).
    sector : str or sequence of str, optional
        The district's manufacturing sector (ATECO divisions, e.g. ``"25"``
        or ``["25", "28"]``); default: the manufacturing division with most
        employees in the district.
    population, reference_population : optional
        Residents by comune and of the reference area, for the business
        density index; without them it is not computed.
    rule : IndustrialRule, optional
        Thresholds (defaults: :class:`IndustrialRule`).

    Returns
    -------
    DataFrame
        One row per comune and one ``district`` row (``area``), with
        ``manufacturing_employees``, ``employees``, ``sector_employees``,
        ``industrialisation`` (manufacturing share of employees ÷ the
        reference's), ``density`` (manufacturing local units per resident ÷
        the reference's), ``specialisation`` (sector share of manufacturing ÷
        the reference's), ``sector_share`` (sector share of manufacturing
        employees), ``small_firm_share`` (share of the sector's employees in
        units of at most ``small_firm_max_employees``), a ``<index>_ok``
        column for each and ``sector``.

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"municipality": ["A", "A", "A"],
    ...                       "ateco": ["25.11", "47.11", "25.62"], "employees": [30, 50, 20]})
    >>> ref = pd.DataFrame({"employees": [100.0, 900.0]},
    ...                    index=pd.Index(["25", "47"], name="ateco_division"))
    >>> row = dm1993_indices(units, ref).set_index("area").loc["district"]
    >>> float(row["industrialisation"]), float(row["sector_share"])
    (5.0, 1.0)
    """
    rule = rule or IndustrialRule()
    _validate.require_columns(
        units, [municipality, ateco, employees], what="local units",
        hint="the register gives employees_est: pass employees='employees_est'",
    )  # fmt: skip
    _validate.require_columns(reference, ["employees"], what="reference")
    frame = pd.DataFrame({
        "area": units[municipality].astype(str),
        "division": [_division(c) for c in units[ateco]],
        "employees": pd.to_numeric(units[employees], errors="coerce").fillna(0.0),
    })  # fmt: skip
    ref = reference.copy()
    ref.index = [_division(i) for i in ref.index]
    ref_emp = pd.to_numeric(ref["employees"], errors="coerce").fillna(0.0)
    ref_total = float(ref_emp.sum())
    ref_manuf = float(ref_emp[ref_emp.index.isin(MANUFACTURING)].sum())
    manuf = frame[frame["division"].isin(MANUFACTURING)]
    if sector is None:
        by_div = manuf.groupby("division")["employees"].sum()
        if by_div.empty:
            raise ParameterError("no manufacturing unit (ATECO 10-33) in the data: "
                                 "the D.M. 1993 indices need one")  # fmt: skip
        sector = [str(by_div.idxmax())]
    wanted = [sector] if isinstance(sector, str) else list(sector)
    divisions = [_division(s) for s in wanted]
    ref_sector = float(ref_emp[ref_emp.index.isin(divisions)].sum())
    ref_units = None
    if "local_units" in ref:
        lu = pd.to_numeric(ref["local_units"], errors="coerce").fillna(0.0)
        ref_units = float(lu[lu.index.isin(MANUFACTURING)].sum())
    pop = {str(k): float(v) for k, v in (population or {}).items()}

    def ratio(a: float, b: float) -> float:
        return a / b if b else float("nan")

    rows = []
    groups = [(a, g) for a, g in frame.groupby("area", sort=True)] + [("district", frame)]
    for area, g in groups:
        m = g[g["division"].isin(MANUFACTURING)]
        s = m[m["division"].isin(divisions)]
        total = float(g["employees"].sum())
        manuf_emp, sector_emp = float(m["employees"].sum()), float(s["employees"].sum())
        people = sum(pop.values()) if area == "district" and pop else pop.get(str(area))
        density = float("nan")
        if people and ref_units and reference_population:
            density = ratio(len(m) / people, ref_units / reference_population)
        small = float(s.loc[s["employees"] <= rule.small_firm_max_employees, "employees"].sum())
        rows.append({
            "area": area, "employees": total, "manufacturing_employees": manuf_emp,
            "sector_employees": sector_emp,
            "industrialisation": ratio(ratio(manuf_emp, total), ratio(ref_manuf, ref_total)),
            "density": density,
            "specialisation": ratio(ratio(sector_emp, manuf_emp), ratio(ref_sector, ref_manuf)),
            "sector_share": ratio(sector_emp, manuf_emp),
            "small_firm_share": ratio(small, sector_emp),
        })  # fmt: skip
    out = pd.DataFrame(rows)
    limits = {"industrialisation": rule.industrialisation, "density": rule.density,
              "specialisation": rule.specialisation, "sector_share": rule.sector_share,
              "small_firm_share": rule.small_firm_share}  # fmt: skip
    for col, limit in limits.items():
        ok = out[col] > limit
        out[f"{col}_ok"] = ok.astype(object).where(out[col].notna(), None)
    out["sector"] = ", ".join(d for d in divisions if d)
    out["reference"] = rule.reference
    return out


def _shares(counts: pd.DataFrame, area: str) -> pd.Series:
    part = counts[counts["area"] == area]
    total = part["employees"].sum()
    return part.groupby("division")["employees"].sum() / total if total else pd.Series(dtype=float)


def extension_candidates(
    comuni: gpd.GeoDataFrame,
    district: Sequence[str],
    *,
    sectors: pd.DataFrame | None = None,
    points: gpd.GeoDataFrame | None = None,
    reach: BaseGeometry | None = None,
    name: str = "name",
    tolerance_m: float = 5.0,
) -> gpd.GeoDataFrame:
    """The comuni touching the district, ranked as candidates for its extension.

    Three criteria, each ranked (1 = best) and averaged over those available:

    * ``similarity``: cosine similarity of the comune's employees by ATECO
      division with the district's (``sectors``: ``municipality``,
      ``ateco`` or ``division``, ``employees``; register or ISTAT counts);
    * ``n_within_reach``: firms and units (``points``) of the comune inside
      ``reach`` (e.g. the union of the run's isochrones from the core: the
      area within a given travel time);
    * ``shared_border_m``: length of the border shared with the district.

    Returns
    -------
    GeoDataFrame
        One row per neighbouring comune (its polygon), sorted by ``rank``:
        ``name``, ``shared_border_m``, ``similarity``, ``n_within_reach``,
        ``n_points``, ``score`` (mean criterion rank; lower is better),
        ``rank``, ``reasons`` (the criteria it ranks first or second on).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> comuni = gpd.GeoDataFrame({"name": ["Core", "Long", "Short", "Far"]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(0, 10, 5, 20),
    ...               box(90, 0, 99, 9)], crs=32632)
    >>> extension_candidates(comuni, ["Core"])["name"].tolist()
    ['Long', 'Short']
    """
    members = {str(m) for m in district}
    names = _names(comuni, name)
    missing = members - set(names)
    if missing:
        raise ParameterError(f"district comuni {sorted(missing)} are not among the polygons")
    pairs = adjacency(comuni, name=name, tolerance_m=tolerance_m)
    touching = pairs[pairs["a"].isin(members) ^ pairs["b"].isin(members)]
    border: dict[str, float] = {}
    for a, b, shared in touching.itertuples(index=False, name=None):
        other = b if a in members else a
        border[other] = border.get(other, 0.0) + float(shared)
    cand = comuni[names.isin(list(border)).to_numpy()].copy()
    cand = cand.rename(columns={name: "name"}) if name != "name" else cand
    cand["shared_border_m"] = cand["name"].map(border).astype(float)
    cand["similarity"] = np.nan
    if sectors is not None and len(sectors):
        code = "division" if "division" in sectors else "ateco"
        counts = pd.DataFrame({
            "area": sectors["municipality"].astype(str).where(
                ~sectors["municipality"].astype(str).isin(members), "__district__"),
            "division": [_division(c) for c in sectors[code]],
            "employees": pd.to_numeric(sectors["employees"], errors="coerce").fillna(0.0),
        })  # fmt: skip
        core = _shares(counts, "__district__")
        sims = []
        for comune in cand["name"]:
            other = _shares(counts, comune)
            if core.empty or other.empty:
                sims.append(np.nan)
                continue
            idx = core.index.union(other.index)
            u = core.reindex(idx, fill_value=0).to_numpy()
            v = other.reindex(idx, fill_value=0).to_numpy()
            sims.append(float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v))))
        cand["similarity"] = sims
    cand["n_points"] = 0
    cand["n_within_reach"] = np.nan
    if points is not None and len(points):
        pts = points.to_crs(comuni.crs)
        cand["n_points"] = [int(pts.within(g).sum()) for g in cand.geometry]
        if reach is not None:
            cand["n_within_reach"] = [int(pts.within(g.intersection(reach)).sum())
                                      for g in cand.geometry]  # fmt: skip
    criteria = {"similarity": False, "n_within_reach": False, "shared_border_m": False}
    ranks = pd.DataFrame(index=cand.index)
    for col, ascending in criteria.items():
        if cand[col].notna().any():
            ranks[col] = cand[col].rank(ascending=ascending, method="min")
    cand["score"] = ranks.mean(axis=1) if len(ranks.columns) else np.nan
    cand["reasons"] = [
        "; ".join(c for c in ranks.columns if ranks.at[i, c] <= 2) for i in cand.index
    ]
    cand = cand.sort_values(["score", "shared_border_m"], ascending=[True, False])
    cand["rank"] = np.arange(1, len(cand) + 1)
    cols = ["name", "rank", "score", "shared_border_m", "similarity", "n_within_reach",
            "n_points", "reasons"]  # fmt: skip
    return gpd.GeoDataFrame(cand[[*cols, "geometry"]].reset_index(drop=True),
                            geometry="geometry", crs=comuni.crs)  # fmt: skip
