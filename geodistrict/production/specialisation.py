"""Where sectors concentrate: location quotients by area and spatial clusters of firms.

:func:`sector_specialisation` compares each sector's share in each area (a
municipality or an H3 cell) with its share in a reference: ISTAT's counts of
local units or employees by ATECO division for the district's comuni or its
local labour system (:func:`read_lq_reference`), or, when none is given, the
respondents themselves; :func:`firm_clusters` finds the groups of firms of one
sector that stand close together (DBSCAN). Both publish only groups of at
least ``min_group_size`` firms (see :mod:`geodistrict.production.privacy`).
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodistrict import hexagons
from geodistrict._validate import projected_frame, require_columns
from geodistrict.errors import ParameterError
from geodistrict.production._common import Weight, employees_of, weights_of
from geodistrict.production.ateco import (
    Edition,
    Level,
    ateco_code_problem,
    resolve_ateco,
    sector_labels,
    sector_of,
)
from geodistrict.production.firms import areas_from_firms, zone_of
from geodistrict.production.privacy import (
    DOMINANCE,
    anonymous_cells,
    check_dominance,
    check_group_size,
    dominated,
    protect_counts,
)

__all__ = ["firm_clusters", "read_lq_reference", "sector_specialisation"]

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
    "lq_reference",
    "geometry",
]

#: Accepted headers of a reference file (normalised: lower case, no accents, ``_``).
_REFERENCE_HEADERS = {
    "ateco_division": ("ateco_division", "divisione_ateco", "divisione", "division", "ateco",
                       "codice_ateco", "ateco_2025", "ateco_2007"),
    "local_units": ("local_units", "unita_locali", "numero_unita_locali", "ul", "units"),
    "employees": ("employees", "addetti", "numero_addetti", "occupati"),
}  # fmt: skip
_DIVISION_CELL = re.compile(r"\s*(?:[A-Va-v]\s*)?(\d{2})(?:\D.*)?")
_TOTAL_WORDS = frozenset({"totale", "total", "tot", "totale_complessivo"})


def _key(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def _count(text: str, where: str) -> float:
    """A count as ISTAT or a spreadsheet writes it: ``1250``, ``1.250``, ``1.250,5``, ``12,5``."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "")
    if raw in ("", "-", "..", "."):
        return 0.0
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
        raw = raw.replace(".", "")
    try:
        value = float(raw)
    except ValueError:
        raise ParameterError(f"{where}: {text!r} is not a number") from None
    if value < 0 or value != value:
        raise ParameterError(f"{where}: {text!r} must be a count of 0 or more")
    return value


def read_lq_reference(path: str | Path, *, edition: Edition = "2025") -> pd.DataFrame:
    """Read a reference of location quotients: counts by ATECO division (e.g. ISTAT's).

    The file is a CSV (``;`` or ``,``; UTF-8, with or without BOM) with one row
    per ATECO division and the columns ``ateco_division`` and at least one of
    ``local_units`` and ``employees``: ISTAT's counts of local units (*unità
    locali*) or employees (*addetti*, annual average) of the district's comuni
    or of its local labour system (*sistema locale del lavoro*), e.g. from the
    ASIA register of local units.  Italian headers are accepted
    (``divisione_ateco`` or ``Codice ATECO``, ``unità locali``, ``addetti``),
    numbers may be written ``1.250`` or ``1.250,5``, a division cell may carry
    its letter or title (``C25``, ``25 - Fabbricazione di prodotti in
    metallo``), several rows of one division (one per comune) are summed, and
    rows named ``Totale`` are skipped.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    edition : {"2025", "2007"}, default "2025"
        ATECO edition of the divisions.  ATECO 2007 divisions are converted
        with :func:`~geodistrict.production.resolve_ateco` (their 2025 division
        keeps the number); division 45, which ATECO 2025 splits between 46, 47
        and 95, is left out with a WARNING.

    Returns
    -------
    pandas.DataFrame
        Indexed by ATECO 2025 division (``"25"``), with ``section``,
        ``local_units`` and ``employees`` (``NaN`` for a column the file lacks).

    Raises
    ------
    ParameterError
        When the file has no division column or neither count column, a
        division that does not exist, or a count that is not a number of 0 or
        more (the message quotes the row).

    Examples
    --------
    >>> from geodistrict.production import read_lq_reference
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ul.csv").write_text("Divisione ATECO;Unità locali;Addetti\\n"
    ...     "C25;12;140\\n62 - Programmazione;3;1.250\\nTotale;15;1.390\\n")
    >>> ref = read_lq_reference(folder / "ul.csv")
    >>> ref.loc["62", "section"], float(ref.loc["62", "employees"]), ref.index.tolist()
    ('K', 1250.0, ['25', '62'])
    """
    if edition not in ("2025", "2007"):
        raise ParameterError(f"edition must be '2025' or '2007', got {edition!r}")
    file = Path(path)
    try:
        text = file.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"cannot read the reference file {str(file)!r}: {exc}") from None
    lines = text.splitlines()
    if not lines:
        raise ParameterError(f"the reference file {str(file)!r} is empty")
    sep = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=sep)
    header = [_key(h) for h in next(reader)]
    columns: dict[str, int] = {}
    for name, aliases in _REFERENCE_HEADERS.items():
        hit = next((i for i, h in enumerate(header) if h in aliases), None)
        if hit is not None:
            columns[name] = hit
    if "ateco_division" not in columns or not {"local_units", "employees"} & set(columns):
        raise ParameterError(
            f"the reference file {str(file)!r} needs the columns ateco_division and "
            "local_units and/or employees (Italian: divisione_ateco, unita_locali, addetti); "
            f"its header is {lines[0]!r}"
        )
    totals: dict[str, dict[str, float]] = {}
    left_out: dict[str, float] = {}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = row[columns["ateco_division"]] if columns["ateco_division"] < len(row) else ""
        where = f"{file}, row {number}"
        if _key(cell) in _TOTAL_WORDS:
            continue
        match = _DIVISION_CELL.fullmatch(cell)
        if match is None:
            raise ParameterError(f"{where}: {cell!r} is not an ATECO division (e.g. 25 or C25)")
        counts = {
            name: _count(row[i] if i < len(row) else "", f"{where}, column {name}")
            for name, i in columns.items()
            if name != "ateco_division"
        }
        problem = ateco_code_problem(match.group(1), edition=edition)
        if problem is not None and edition == "2007" and "counterpart" in problem:
            left_out[match.group(1)] = left_out.get(match.group(1), 0.0) + sum(counts.values())
            continue
        if problem is not None:
            raise ParameterError(f"{where}: {problem}")
        code = resolve_ateco(match.group(1), edition=edition)
        if code.division is None:  # pragma: no cover - a division converts to a division
            raise ParameterError(f"{where}: division {match.group(1)} has no 2025 division")
        slot = totals.setdefault(code.division, {})
        for name, value in counts.items():
            slot[name] = slot.get(name, 0.0) + value
    if left_out:
        log.warning(
            "%s: ATECO 2007 division(s) %s left out of the reference: ATECO 2025 splits them "
            "among divisions of different sections (counts %s)",
            file,
            ", ".join(sorted(left_out)),
            ", ".join(f"{v:g}" for v in left_out.values()),
        )
    if not totals:
        raise ParameterError(f"the reference file {str(file)!r} has no division row")
    out = pd.DataFrame.from_dict(totals, orient="index").reindex(
        columns=["local_units", "employees"]
    )
    out.index = pd.Index([str(i) for i in out.index], name="ateco_division", dtype="str")
    out = out.sort_index().astype("float64")
    sections = {d: resolve_ateco(d).section for d in out.index}
    out.insert(0, "section", pd.Series(sections, dtype="str"))
    return out


def _reference_shares(
    reference: Mapping[str, float] | pd.DataFrame, *, level: Level, weight: Weight
) -> pd.Series:
    """Reference share of each sector code at ``level``."""
    if isinstance(reference, pd.DataFrame):
        column = "local_units" if weight == "firms" else "employees"
        if column not in reference.columns or reference[column].isna().all():
            raise ParameterError(
                f"the reference has no {column!r} counts, which weight={weight!r} needs; "
                "add the column or change the weight (production.specialisation_weight)"
            )
        counts = reference[column].fillna(0.0)
        if level == "section":
            counts = counts.groupby(reference["section"].astype("str")).sum()
        ref = pd.Series(counts, dtype="float64")
    else:
        ref = pd.Series(reference, dtype="float64")
    if (ref < 0).any() or not ref.sum() > 0:
        raise ParameterError(
            f"reference shares must be non-negative with a positive sum, got {ref.to_dict()!r}"
        )
    return ref / ref.sum()


def sector_specialisation(
    firms: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    by: Literal["municipality", "h3"] = "municipality",
    h3_resolution: int = 8,
    level: Level = "section",
    weight: Weight = "firms",
    reference: Mapping[str, float] | pd.DataFrame | None = None,
    reference_label: str = "istat",
    min_group_size: int = 5,
    dominance: tuple[int, float] = DOMINANCE,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Location quotients of each sector in each area (``sector_specialisation``).

    ``LQ = (w_as / w_a) / (R_s / R)`` (Florence 1939; Isard 1960, *Methods of
    regional analysis*, ch. 7): the share of the sector among the area's
    respondents over its share in the reference, where ``w`` counts firms or
    employees.  The reference ``R`` should be independent of the survey:
    ISTAT's counts of local units (for ``weight="firms"``) or employees (for
    ``weight="employees"``) by ATECO division for the district's comuni or its
    local labour system (:func:`read_lq_reference`); then a response rate that
    varies between sectors cannot inflate or deflate the quotients of the
    whole district.  Without a reference the respondents of the whole district
    are their own reference (``lq_reference = "respondents"``), which only
    compares areas with each other.  LQ above 1 means the area is specialised
    in the sector.

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
    reference : DataFrame or mapping of str to float, optional
        The frame of :func:`read_lq_reference` (counts by ATECO 2025 division,
        summed into sections for ``level="section"``; ``local_units`` for
        ``weight="firms"``, ``employees`` for ``weight="employees"``), or the
        count or share of each sector code at ``level`` (normalised to sum to
        1).  Default: the respondents.
    reference_label : str, default "istat"
        What the ``lq_reference`` column says when ``reference`` is given.
    min_group_size : int, default 5
        ``k``: cells are published according to :func:`protect_counts` on the
        area x sector table of firm counts.
    dominance : (int, float), default (2, 0.85)
        The (n, p) rule of :func:`~geodistrict.production.privacy.dominated`:
        ``employees`` is null where its n largest firms exceed p of it.
    core, extension : sequence of str
        Core and extension municipalities: each row gets its ``zone``.

    Returns
    -------
    GeoDataFrame
        One row per published area and sector with at least one firm: ``area``,
        ``area_kind``, ``zone``, ``sector``, ``sector_en``, ``sector_it``,
        ``firms``, ``employees`` (null when dominated), ``area_share``,
        ``reference_share``, ``lq``
        (``NaN`` when the reference has no unit of the sector),
        ``lq_reference`` (``reference_label``, or ``respondents`` without a
        reference), ``specialised`` (LQ >= 1.25); polygon geometry of the area.
        ``attrs["cells_published"]`` and ``attrs["cells_suppressed"]`` count
        the area x sector cells with firms that are shown and hidden;
        ``attrs["sectors_without_reference"]`` lists the published sectors
        the reference has no unit of.

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
    check_dominance(dominance)
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
    emp_valid = emp[valid]
    area_valid, sector_valid = area_of[valid], sector[valid]
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
        ref = _reference_shares(reference, level=level, weight=weight)
        label = str(reference_label)
    else:
        ref = wsum.sum(axis=0) / wsum.to_numpy().sum()
        label = "respondents"
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
            inside = (area_valid == a) & (sector_valid == s)
            heavy = dominated(emp_valid[inside], dominance)
            rows.append(
                {
                    "area": str(a),
                    "area_kind": by,
                    "zone": zones.get(a, "district"),
                    "sector": str(s),
                    "firms": n,
                    "employees": np.nan if heavy else float(esum.loc[a, s]),
                    "area_share": round(share, 4),
                    "reference_share": round(r, 4),
                    "lq": round(share / r, 3) if r > 0 else np.nan,
                    "lq_reference": label,
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
    for col in ("area", "area_kind", "zone", "sector", "lq_reference"):
        out[col] = out[col].astype("str")
    # For the caller's report (the pipeline step turns them into a warning).
    out.attrs["cells_published"] = len(rows)
    out.attrs["cells_suppressed"] = suppressed
    out.attrs["sectors_without_reference"] = sorted(set(out.loc[out["lq"].isna(), "sector"]))
    # Which firms each row counts, for the disclosure audit (the step strips attrs).
    out.attrs["membership"] = {
        "area": [str(a) if ok else None for a, ok in zip(area_of, valid, strict=True)],
        "sector": [str(x) if ok else None for x, ok in zip(sector, valid, strict=True)],
    }
    return out


def firm_clusters(
    firms: gpd.GeoDataFrame,
    *,
    eps_m: float = 150.0,
    min_firms: int = 5,
    level: Level = "section",
    h3_resolution: int = 9,
    dominance: tuple[int, float] = DOMINANCE,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Spatial clusters of the firms of each sector (``firm_clusters``).

    DBSCAN (scikit-learn) runs on the firms of each sector with radius
    ``eps_m`` and ``min_samples = min_firms``; clusters with fewer than
    ``min_firms`` firms are dropped, so with ``min_firms >= k`` every published
    cluster is a group of at least ``k``.  The polygon is the convex hull of
    H3 cells that each hold at least ``min_firms`` members
    (:func:`~geodistrict.production.privacy.anonymous_cells`: a member far from
    the others is drawn with a coarser cell, resolution 6 at most), so it
    contains every member without pointing at any of them.

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
        Finest cells whose hull draws the cluster.
    dominance : (int, float), default (2, 0.85)
        ``employees`` is null where the (n, p) rule of
        :func:`~geodistrict.production.privacy.dominated` fails.
    core, extension : sequence of str
        Core and extension municipalities (see :func:`zone_of`).

    Returns
    -------
    GeoDataFrame
        Polygons: ``cluster_id``, ``sector``, ``sector_en``, ``sector_it``,
        ``firms``, ``employees``, ``sector_share`` (share of the sector's
        firms of the district in the cluster), ``area_ha``, ``firms_per_ha``,
        ``municipalities`` (``;``-separated, those with at least
        ``min_firms`` members; ``altri`` when members come from others too),
        ``zone`` (the zone of those municipalities, or ``mixed``).

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
    if not 5 <= h3_resolution <= 15:
        raise ParameterError(f"h3_resolution must be within 5..15, got {h3_resolution!r}")
    coarsest = min(6, h3_resolution)
    check_dominance(dominance)
    sector = sector_of(firms, level)
    emp = employees_of(firms)
    municipality = (
        firms["municipality"].astype("str").to_numpy()
        if "municipality" in firms
        else np.array([None] * len(firms))
    )
    xy = np.column_stack([firms.geometry.x.to_numpy(), firms.geometry.y.to_numpy()])
    rows = []
    member_sets = []
    for s in sorted(sector.dropna().unique()):
        idx = np.flatnonzero((sector == s).to_numpy())
        if idx.size < min_firms:
            continue
        labels = DBSCAN(eps=eps_m, min_samples=min_firms).fit_predict(xy[idx])
        for label in sorted(set(labels) - {-1}):
            members = idx[labels == label]
            if members.size < min_firms:
                continue
            cells = anonymous_cells(
                firms.geometry.iloc[members],
                k=min_firms,
                resolution=h3_resolution,
                coarsest=coarsest,
                nested=True,
            )
            # Members alone even at the coarsest resolution are drawn with that cell.
            lone = [i for i, c in zip(members, cells, strict=True) if c is None]
            drawn = {c for c in cells if c is not None}
            if lone:
                drawn |= set(hexagons.cells_of(firms.geometry.iloc[lone], resolution=coarsest))
            hull = shapely.union_all(hexagons.cell_polygons(sorted(drawn), crs=firms.crs))
            hull = hull.convex_hull
            names = pd.Series([m for m in municipality[members] if isinstance(m, str)])
            counted = names.value_counts()
            munis = sorted(str(m) for m in counted.index[counted >= min_firms])
            listed = ";".join(munis + (["altri"] if (counted < min_firms).any() else []))
            zones = set(zone_of(munis, core=core, extension=extension))
            if not munis:
                zones = {"district"} if not (core or extension) else {"mixed"}
            rows.append(
                {
                    "sector": str(s),
                    "firms": int(members.size),
                    "employees": np.nan
                    if dominated(emp[members], dominance)
                    else float(emp[members].sum()),
                    "sector_share": round(members.size / idx.size, 3),
                    "area_ha": round(hull.area / 1e4, 2),
                    "firms_per_ha": round(members.size / (hull.area / 1e4), 2),
                    "municipalities": listed,
                    "zone": zones.pop() if len(zones) == 1 else "mixed",
                    "geometry": hull,
                }
            )
            member_sets.append(members)
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
    order = out.sort_values(["firms", "sector"], ascending=[False, True], kind="stable").index
    out = out.loc[order].reset_index(drop=True)
    out.insert(0, "cluster_id", [f"K{i:02d}" for i in range(1, len(out) + 1)])
    en, it = sector_labels(out["sector"])
    out.insert(2, "sector_en", pd.Series(en, dtype="str"))
    out.insert(3, "sector_it", pd.Series(it, dtype="str"))
    out["firms"] = out["firms"].astype("int64")
    for col in ("employees", "sector_share", "area_ha", "firms_per_ha"):
        out[col] = out[col].astype("float64")  # typed even with no row
    for col in ("cluster_id", "sector", "municipalities", "zone"):
        out[col] = out[col].astype("str")
    # Which firms each cluster holds, for the disclosure audit (the step strips attrs).
    cluster_of: list[str | None] = [None] * len(firms)
    for new_pos, old_pos in enumerate(order):
        for i in member_sets[old_pos]:
            cluster_of[int(i)] = str(out["cluster_id"].iloc[new_pos])
    out.attrs["membership"] = {"cluster_id": cluster_of, "sector": [
        str(x) if pd.notna(x) else None for x in sector
    ]}  # fmt: skip
    return out
