"""Productive district: firm questionnaire, sector specialisation, clusters, service sites.

A productive district (e.g. Zingonia 2030) surveys its firms with the
questionnaire of :data:`geodistrict.sources.surveys.FIRMS` and wants to know
where each sector concentrates, which needs the firms share, and where to put
shared services (a job and training desk, a business help desk).  The
functions here turn the survey answers (read by
:func:`~geodistrict.sources.surveys.read_survey`) and the OSM base layers into
the layers ``firms``, ``sector_specialisation``, ``firm_clusters``,
``service_sites`` and ``production_needs``.

Privacy
-------
Questionnaire answers are confidential.  Every aggregate built here counts
firms, and a count of firms is published only when it is 0 or at least ``k``
(``min_group_size``); so is its complement within the parent group, and the
residual left by suppressed cells along every published margin (secondary
suppression, see :func:`protect_counts`), so that no group of 1 to ``k - 1``
firms can be read, nor derived by subtracting published numbers of the same
layer.  Sums and means (employees, hires, space) are published only where the
count of the firms behind them is.  The ``firms`` layer carries answers only
with ``publish_answers=True`` (the local deliverable); otherwise it holds an
allow-list of non-sensitive fields and a position generalised to the centre
of the firm's H3 cell.  See ``docs/production.md``.

All positions and distances are in the working CRS (metres); results are new
frames, inputs are never modified.

Examples
--------
>>> import geodistrict as gd
>>> from geodistrict import production as pr
>>> from geodistrict.sources.surveys import FIRMS, read_survey
>>> cfg = gd.load_config("config/sample.yml")
>>> base = gd.load_base_layers(cfg)
>>> firms = pr.classify_ateco(read_survey(cfg.surveys.firms, FIRMS, crs=base.crs))
>>> firms["ateco_section"].value_counts().index[0]
'C'
"""

from __future__ import annotations

import csv
import difflib
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Literal

import geopandas as gpd
import h3
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from geodistrict._validate import projected_crs, projected_frame, projected_graph
from geodistrict.config import ProductionConfig
from geodistrict.errors import ConfigError, CRSError, EmptyAreaError, Problem, SurveyError
from geodistrict.ingest import BaseLayers
from geodistrict.sources.surveys import FIRMS

__all__ = [
    "CRITICAL_ISSUES",
    "SENSITIVE_FIELDS",
    "WORK_TABLES",
    "areas_from_firms",
    "ateco_table",
    "classify_ateco",
    "firm_clusters",
    "firms_layer",
    "match_expansion",
    "match_firms",
    "needs_summary",
    "osm_firms",
    "production_layers",
    "protect_counts",
    "sector_specialisation",
    "service_sites",
    "zone_of",
]

logger = logging.getLogger(__name__)

CRITICAL_ISSUES: tuple[str, ...] = FIRMS.get_field("critical_issues").choices
"""The critical issues a firm can tick (``critical_issues`` field)."""
WORK_TABLES: tuple[str, ...] = FIRMS.get_field("work_tables").choices
"""The district work tables (*tavoli di lavoro*) a firm can join."""

#: Fields of the questionnaire that are never published firm by firm unless allowed.
SENSITIVE_FIELDS: tuple[str, ...] = tuple(
    f for f in FIRMS.field_names if f not in ("ateco", "municipality")
)

Level = Literal["section", "division"]
Weight = Literal["firms", "employees"]

_ATECO_CODE = re.compile(r"\s*([A-Va-v])?\s*(\d{2})(?:\.\d{1,2}){0,2}\s*")
_LEGAL_FORMS = re.compile(r"\b(s\.?r\.?l|s\.?p\.?a|s\.?n\.?c|s\.?a\.?s|oy|ab|ltd|srls|spa|srl)\b")


# --------------------------------------------------------------------------- ATECO


@lru_cache(maxsize=1)
def _ateco_frame() -> pd.DataFrame:
    text = resources.files("geodistrict").joinpath("data/ateco2007.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return pd.DataFrame(rows).set_index("code")


def ateco_table() -> pd.DataFrame:
    """ATECO 2007 sections and divisions with Italian and English labels.

    ATECO 2007 is the Italian version of NACE Rev. 2 and equals it down to the
    division (2 digits).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``code`` (``"A"``..``"U"`` for sections, ``"01"``..``"99"``
        for the 88 divisions), with ``level`` (``section`` / ``division``),
        ``section`` (the section letter), ``label_it`` and ``label_en``.

    Examples
    --------
    >>> from geodistrict.production import ateco_table
    >>> table = ateco_table()
    >>> table.loc["25", "section"], table.loc["C", "label_en"]
    ('C', 'Manufacturing')
    >>> int((table["level"] == "division").sum())
    88
    """
    return _ateco_frame().copy()


def _rows_of(frame: pd.DataFrame) -> list[int]:
    """Spreadsheet row numbers of a survey frame (``source_row``) or index + 2."""
    if "source_row" in frame.columns:
        return [int(r) for r in frame["source_row"]]
    return [i + 2 for i in range(len(frame))]


def classify_ateco(
    firms: pd.DataFrame, *, column: str = "ateco", source: str = "firms"
) -> pd.DataFrame:
    """Add the ATECO division and section (with labels) of each firm.

    Parameters
    ----------
    firms : DataFrame or GeoDataFrame
        Firms with an ATECO code column (as read with the ``FIRMS`` schema).
    column : str, default "ateco"
        The code column.
    source : str, default "firms"
        Name of the input quoted in error messages (e.g. the file path).

    Returns
    -------
    same type as ``firms``
        A copy with ``ateco_division`` (``"25"``), ``ateco_section`` (``"C"``),
        ``section_en`` and ``section_it``.

    Raises
    ------
    SurveyError
        Listing every row whose code is malformed, names a division that does
        not exist in ATECO 2007 (e.g. ``34``) or carries a section letter that
        does not match its division (``A25.11``).

    Examples
    --------
    >>> import pandas as pd
    >>> from geodistrict.production import classify_ateco
    >>> out = classify_ateco(pd.DataFrame({"ateco": ["25.62", "C10.71", "62"]}))
    >>> out["ateco_section"].tolist(), out["ateco_division"].tolist()
    (['C', 'C', 'J'], ['25', '10', '62'])
    """
    if column not in firms.columns:
        raise KeyError(f"{source}: no column {column!r} with ATECO codes")
    level, section_of = _ateco_dict("level"), _ateco_dict("section")
    divisions: list[object] = []
    sections: list[object] = []
    problems: list[Problem] = []
    for row, code in zip(_rows_of(firms), firms[column], strict=True):
        if code is None or (isinstance(code, float) and np.isnan(code)) or pd.isna(code):
            divisions.append(None)
            sections.append(None)
            continue
        match = _ATECO_CODE.fullmatch(str(code))
        division = match.group(2) if match else None
        message = None
        if match is None:
            message = "malformed ATECO code (expected e.g. 25.11 or C25.11)"
        elif division is None or level.get(division) != "division":
            message = f"ATECO division {division!r} does not exist in ATECO 2007"
        elif match.group(1) and match.group(1).upper() != section_of[division]:
            message = (
                f"section letter {match.group(1).upper()!r} does not match division "
                f"{division} (section {section_of[division]})"
            )
        if message is not None:
            problems.append(Problem(source, row, column, code, message))
            divisions.append(None)
            sections.append(None)
        else:
            divisions.append(division)
            sections.append(section_of[str(division)])
    if problems:
        raise SurveyError(source, problems)
    out = firms.copy()
    out["ateco_division"] = pd.Series(divisions, index=firms.index, dtype="str")
    out["ateco_section"] = pd.Series(sections, index=firms.index, dtype="str")
    labels, labels_it = _ateco_dict("label_en"), _ateco_dict("label_it")
    out["section_en"] = out["ateco_section"].map(labels).astype("str")
    out["section_it"] = out["ateco_section"].map(labels_it).astype("str")
    return out


def _sector_of(firms: pd.DataFrame, level: Level) -> pd.Series:
    if level not in ("section", "division"):
        raise ValueError(f"level must be 'section' or 'division', got {level!r}")
    if "ateco_section" not in firms.columns:
        firms = classify_ateco(firms)
    return firms["ateco_section" if level == "section" else "ateco_division"]


def _ateco_dict(column: str) -> dict[str, str]:
    """One column of the ATECO table as a code -> value dictionary."""
    return {str(k): str(v) for k, v in _ateco_frame()[column].items()}


def _sector_labels(codes: Iterable[object]) -> tuple[list[str | None], list[str | None]]:
    en, it = _ateco_dict("label_en"), _ateco_dict("label_it")
    return [en.get(str(c)) for c in codes], [it.get(str(c)) for c in codes]


# --------------------------------------------------------------------------- privacy


def _small(values: np.ndarray, k: int) -> np.ndarray:
    return (values > 0) & (values < k)


def protect_counts(
    counts: pd.DataFrame | pd.Series,
    k: int,
    *,
    complements: pd.DataFrame | pd.Series | None = None,
    rows: bool = True,
    columns: bool = True,
) -> pd.DataFrame:
    """Decide which cells of a table of firm counts may be published.

    Primary suppression hides every cell counting 1 to ``k - 1`` firms (in
    ``counts`` or in ``complements``, e.g. the firms of the same group that did
    *not* tick an answer).  Secondary suppression then hides more cells (the
    smallest first) until, along every row and every column whose total may be
    known, the suppressed cells add up to 0 or to at least ``k`` firms, so that
    no small group can be recovered by subtracting published cells from a
    margin.

    Parameters
    ----------
    counts : DataFrame or Series
        Non-negative firm counts; a Series is one column.
    k : int
        Minimum group size (``production.min_group_size``).
    complements : DataFrame or Series, optional
        Same shape: counts of the complementary groups, protected with the
        same mask.
    rows, columns : bool, default True
        Whether row totals / column totals are known (published or derivable).

    Returns
    -------
    DataFrame of bool
        Same shape as ``counts`` (one column if a Series): ``True`` = publish.

    Examples
    --------
    >>> import pandas as pd
    >>> from geodistrict.production import protect_counts
    >>> t = pd.DataFrame({"C": [12, 3, 9], "M": [6, 8, 7]}, index=["a", "b", "c"])
    >>> protect_counts(t, 5).to_dict("list")
    {'C': [True, False, False], 'M': [True, False, True]}
    """
    if k < 1:
        raise ValueError(f"min_group_size must be at least 1, got {k!r}")
    tables = [counts.to_frame() if isinstance(counts, pd.Series) else counts]
    if complements is not None:
        comp = complements.to_frame() if isinstance(complements, pd.Series) else complements
        tables.append(comp)
    arrays = [np.nan_to_num(t.to_numpy(dtype="float64")) for t in tables]
    if any((a < 0).any() for a in arrays):
        raise ValueError("firm counts must not be negative")
    suppressed = np.zeros(arrays[0].shape, dtype=bool)
    for a in arrays:
        suppressed |= _small(a, k)
    axes = [ax for ax, on in ((1, rows), (0, columns)) if on]
    changed = True
    while changed:
        changed = False
        for a in arrays:
            for axis in axes:
                lines = a.shape[0] if axis == 1 else a.shape[1]
                for i in range(lines):
                    vals = a[i, :] if axis == 1 else a[:, i]
                    supp = suppressed[i, :] if axis == 1 else suppressed[:, i]
                    residual = vals[supp].sum()
                    if not 0 < residual < k:
                        continue
                    open_ = np.flatnonzero(~supp & (vals > 0))
                    if open_.size == 0:
                        continue  # the whole line is hidden; its total must not be shown
                    j = open_[np.argmin(vals[open_])]
                    if axis == 1:
                        suppressed[i, j] = True
                    else:
                        suppressed[j, i] = True
                    changed = True
            if rows and columns:
                changed |= _hide_lines(a, suppressed, k)
    return pd.DataFrame(~suppressed, index=tables[0].index, columns=tables[0].columns)


def _hide_lines(a: np.ndarray, suppressed: np.ndarray, k: int) -> bool:
    """Hide one more whole row or column if the fully hidden ones add up to 1..k-1 firms.

    With the grand total known, the total of the rows (or columns) that show
    nothing is the grand total minus the others: it must not be a small group.
    """
    for axis in (1, 0):
        totals = a.sum(axis=axis)
        shown = (~suppressed & (a > 0)).any(axis=axis)
        hidden_total = totals[~shown].sum()
        if 0 < hidden_total < k:
            open_ = np.flatnonzero(shown & (totals > 0))
            if open_.size == 0:
                continue
            i = open_[np.argmin(totals[open_])]
            if axis == 1:
                suppressed[i, :] = True
            else:
                suppressed[:, i] = True
            return True
    return False


def _ok(count: float, total: float, k: int) -> bool:
    """A count and its complement within ``total`` are both 0 or at least ``k``."""
    rest = total - count
    return (count == 0 or count >= k) and (rest == 0 or rest >= k)


# --------------------------------------------------------------------------- zones and areas


def _norm(text: object) -> str:
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(plain.split())


def zone_of(
    municipalities: Iterable[object],
    *,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
) -> list[str]:
    """Tell which municipalities belong to the core and which to the extension.

    Parameters
    ----------
    municipalities : iterable of str
        Municipality names (case and accents are ignored).
    core, extension : sequence of str
        ``production.core_municipalities`` / ``extension_municipalities``.

    Returns
    -------
    list of str
        ``"core"``, ``"extension"`` or ``"other"``; ``"district"`` for every
        name when neither list is given.

    Examples
    --------
    >>> from geodistrict.production import zone_of
    >>> zone_of(["Ciserano", "Osio Sotto", "Milano"], core=["ciserano"], extension=["Osio Sotto"])
    ['core', 'extension', 'other']
    """
    core_keys = {_norm(m) for m in core}
    ext_keys = {_norm(m) for m in extension}
    both = core_keys & ext_keys
    if both:
        raise ConfigError(f"municipalities listed both as core and extension: {sorted(both)!r}")
    if not core_keys and not ext_keys:
        return ["district" for _ in municipalities]
    out = []
    for name in municipalities:
        key = _norm(name) if isinstance(name, str) else ""
        out.append("core" if key in core_keys else "extension" if key in ext_keys else "other")
    return out


def areas_from_firms(
    firms: gpd.GeoDataFrame, area: BaseGeometry, *, column: str = "municipality"
) -> gpd.GeoDataFrame:
    """Approximate municipal areas from the firms' answers, when no boundaries are at hand.

    Each firm claims its Voronoi cell, the cells are dissolved by the
    municipality the firm declared and clipped to ``area``.  The result is a
    stand-in for administrative boundaries, good enough to place the
    OSM firms and draw aggregates; give real boundaries when you have them.

    Parameters
    ----------
    firms : GeoDataFrame
        Respondents (points, projected CRS) with a municipality column.
    area : shapely geometry
        Study area polygon, in the same CRS.
    column : str, default "municipality"
        The municipality column; blank values are ignored.

    Returns
    -------
    GeoDataFrame
        One polygon per municipality, indexed by name, with column ``municipality``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import production as pr
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg = gd.load_config("config/sample.yml")
    >>> base = gd.load_base_layers(cfg)
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
    >>> areas = pr.areas_from_firms(firms, base.study_area.geometry.iloc[0])
    >>> sorted(areas.index)
    ['Kaartinkaupunki', 'Kamppi', 'Kluuvi', 'Punavuori']
    """
    projected_frame(firms, what="firms")
    known = firms[firms[column].notna() & (firms[column].astype("str").str.strip() != "")]
    if known.empty:
        raise EmptyAreaError(f"no firm has a {column!r} value to derive areas from")
    points = known.geometry
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.MultiPoint(list(points)), extend_to=area)
    )
    cell_frame = gpd.GeoDataFrame(geometry=list(cells), crs=firms.crs)
    joined = gpd.sjoin(
        cell_frame,
        gpd.GeoDataFrame({column: known[column].to_numpy()}, geometry=list(points), crs=firms.crs),
        predicate="covers",
        how="inner",
    )
    joined = joined[~joined.index.duplicated()]
    dissolved = joined.dissolve(by=column)[["geometry"]]
    dissolved["geometry"] = dissolved.geometry.intersection(area)
    dissolved.index = dissolved.index.astype("str")
    dissolved.index.name = None
    dissolved.insert(0, "municipality", dissolved.index)
    return gpd.GeoDataFrame(dissolved, geometry="geometry", crs=firms.crs)


# --------------------------------------------------------------------------- OSM firms


def _tags(frame: pd.DataFrame) -> list[dict[str, str]]:
    if "tags" not in frame.columns:
        return [{} for _ in range(len(frame))]
    return [json.loads(t) if isinstance(t, str) else {} for t in frame["tags"]]


_INDUSTRIAL_BUILDINGS = frozenset({"industrial", "manufacture", "warehouse", "factory"})


def _firm_kind(tags: Mapping[str, str]) -> str | None:
    if tags.get("office") == "company":
        return "office=company"
    if tags.get("craft"):
        return f"craft={tags['craft']}"
    if tags.get("industrial"):
        return f"industrial={tags['industrial']}"
    if tags.get("man_made") == "works":
        return "man_made=works"
    return None


def osm_firms(
    pois: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    landuse: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The firms OpenStreetMap knows about.

    A firm is a POI tagged ``office=company``, ``craft=*``, ``industrial=*`` or
    ``man_made=works``; or a building tagged so, or with ``building`` one of
    industrial, manufacture, warehouse, factory, that holds no such POI.  Each
    firm tells whether it stands in ``landuse=industrial``.

    Parameters
    ----------
    pois : GeoDataFrame
        The ``pois`` base layer (points with a ``tags`` JSON column).
    buildings, landuse : GeoDataFrame, optional
        The ``buildings`` and ``landuse`` base layers.

    Returns
    -------
    GeoDataFrame
        Points in the CRS of ``pois``: ``osm_id``, ``osm_type``, ``name``,
        ``kind`` (the tag that makes it a firm, e.g. ``craft=shoemaker``),
        ``source`` (``poi`` / ``building``), ``in_industrial_area`` (bool).

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.production import osm_firms
    >>> base = gd.load_base_layers(gd.load_config("config/sample.yml"))
    >>> firms = osm_firms(base.pois, buildings=base.buildings, landuse=base.landuse)
    >>> int((firms["kind"] == "office=company").sum()) > 100
    True
    """
    projected_frame(pois, what="pois")
    kinds = [_firm_kind(t) for t in _tags(pois)]
    keep = np.array([k is not None for k in kinds], dtype=bool)
    parts = [
        gpd.GeoDataFrame(
            {
                "osm_id": pois["osm_id"].to_numpy()[keep],
                "osm_type": pois["osm_type"].astype("str").to_numpy()[keep],
                "name": pois["name"].to_numpy()[keep] if "name" in pois else None,
                "kind": np.array(kinds, dtype=object)[keep],
                "source": "poi",
            },
            geometry=pois.geometry.to_numpy()[keep],
            crs=pois.crs,
        )
    ]
    if buildings is not None and len(buildings):
        projected_frame(buildings, what="buildings")
        btags = _tags(buildings)
        bkinds = [
            _firm_kind(t)
            or (
                f"building={t['building']}" if t.get("building") in _INDUSTRIAL_BUILDINGS else None
            )
            for t in btags
        ]
        bkeep = np.array([k is not None for k in bkinds], dtype=bool)
        if bkeep.any():
            chosen = buildings[bkeep]
            # A building that holds a firm POI is that firm's premises, not another firm.
            holds = gpd.sjoin(chosen[["geometry"]], parts[0][["geometry"]], predicate="contains")
            free = ~chosen.index.isin(holds.index)
            chosen = chosen[free]
            parts.append(
                gpd.GeoDataFrame(
                    {
                        "osm_id": chosen["osm_id"].to_numpy(),
                        "osm_type": chosen["osm_type"].astype("str").to_numpy(),
                        "name": chosen["name"].to_numpy() if "name" in chosen else None,
                        "kind": np.array(bkinds, dtype=object)[bkeep][free],
                        "source": "building",
                    },
                    geometry=chosen.geometry.representative_point().to_numpy(),
                    crs=buildings.crs,
                )
            )
    out = pd.concat(parts, ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=pois.crs)
    for col in ("osm_type", "name", "kind", "source"):
        out[col] = out[col].astype("str")
    out["in_industrial_area"] = False
    if landuse is not None and len(landuse) and "landuse" in landuse:
        industrial = landuse[landuse["landuse"] == "industrial"]
        if len(industrial):
            inside = gpd.sjoin(out[["geometry"]], industrial[["geometry"]], predicate="within")
            out["in_industrial_area"] = out.index.isin(inside.index)
    return out


def _name_key(name: object) -> str:
    if not isinstance(name, str):
        return ""
    text = _norm(name)
    text = re.sub(r"\(.*?\)", " ", text)
    text = _LEGAL_FORMS.sub(" ", text)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def match_firms(
    firms: gpd.GeoDataFrame,
    osm: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 40.0,
    min_name_similarity: float = 0.8,
) -> pd.DataFrame:
    """Match questionnaire respondents to the OSM firms, one to one.

    A pair matches when the two points are within ``max_distance_m``, or within
    three times that and their names are similar (legal forms such as *srl*
    and text in brackets ignored; ``difflib`` ratio at least
    ``min_name_similarity``).  Pairs are taken greedily, most similar names
    first, then nearest.

    Parameters
    ----------
    firms : GeoDataFrame
        Respondents, points in a projected CRS, with a ``name`` column.
    osm : GeoDataFrame
        OSM firms (:func:`osm_firms`), same CRS.
    max_distance_m : float, default 40
        Distance (m) within which a pair matches whatever the names.
    min_name_similarity : float, default 0.8
        Name similarity that lets a pair match up to 3 x ``max_distance_m``.

    Returns
    -------
    DataFrame
        Indexed like ``firms``: ``osm_index`` (label in ``osm`` or missing),
        ``osm_id``, ``match_distance_m``, ``name_similarity``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from geodistrict.production import match_firms
    >>> a = gpd.GeoDataFrame({"name": ["Rossi Srl", "Bianchi"]},
    ...                      geometry=[Point(0, 0), Point(500, 0)], crs=32632)
    >>> b = gpd.GeoDataFrame({"name": ["Rossi", "Verdi"], "osm_id": [1, 2]},
    ...                      geometry=[Point(90, 0), Point(520, 0)], crs=32632)
    >>> match_firms(a, b)["osm_id"].tolist()
    [1, 2]
    """
    projected_frame(firms, what="firms")
    projected_frame(osm, what="OSM firms")
    if CRS.from_user_input(firms.crs) != CRS.from_user_input(osm.crs):
        raise CRSError(f"firms ({firms.crs}) and OSM firms ({osm.crs}) are in different CRSs")
    if max_distance_m < 0:
        raise ValueError(f"max_distance_m must be at least 0, got {max_distance_m!r}")
    result = pd.DataFrame(
        {
            "osm_index": pd.Series([pd.NA] * len(firms), dtype="Int64"),
            "osm_id": pd.Series([pd.NA] * len(firms), dtype="Int64"),
            "match_distance_m": np.nan,
            "name_similarity": np.nan,
        }
    )
    result.index = firms.index
    if len(firms) == 0 or len(osm) == 0:
        return result
    reach = 3 * max_distance_m
    left, right = osm.sindex.query(firms.geometry, predicate="dwithin", distance=reach)
    pairs = []
    fnames = [_name_key(n) for n in firms.get("name", pd.Series([None] * len(firms)))]
    onames = [_name_key(n) for n in osm.get("name", pd.Series([None] * len(osm)))]
    fx, fy = firms.geometry.x.to_numpy(), firms.geometry.y.to_numpy()
    ox, oy = osm.geometry.x.to_numpy(), osm.geometry.y.to_numpy()
    for i, j in zip(left, right, strict=True):
        dist = float(np.hypot(fx[i] - ox[j], fy[i] - oy[j]))
        sim = (
            difflib.SequenceMatcher(None, fnames[i], onames[j]).ratio()
            if fnames[i] and onames[j]
            else 0.0
        )
        if dist <= max_distance_m or sim >= min_name_similarity:
            pairs.append((-sim, dist, i, j))
    used_f: set[int] = set()
    used_o: set[int] = set()
    osm_ids = osm["osm_id"].to_numpy() if "osm_id" in osm else np.arange(len(osm))
    for neg_sim, dist, i, j in sorted(pairs):
        if i in used_f or j in used_o:
            continue
        used_f.add(i)
        used_o.add(j)
        result.iloc[i, 0] = j
        result.iloc[i, 1] = int(osm_ids[j])
        result.iloc[i, 2] = round(dist, 1)
        result.iloc[i, 3] = round(-neg_sim, 3)
    # osm_index is positional above; give the label instead.
    labels = pd.Series(osm.index)
    pos = result["osm_index"]
    result["osm_index"] = pd.array(
        [labels.iloc[int(p)] if pd.notna(p) else pd.NA for p in pos], dtype="object"
    )
    return result


# --------------------------------------------------------------------------- firms layer


def _h3_centres(geoms: gpd.GeoSeries, resolution: int) -> tuple[list[str], list[Point]]:
    """H3 cell of each point and the cell centre, back in the points' CRS."""
    lonlat = geoms.to_crs(4326)
    cells = [h3.latlng_to_cell(p.y, p.x, resolution) for p in lonlat]
    back = Transformer.from_crs(4326, geoms.crs, always_xy=True)
    centres = []
    for cell in cells:
        lat, lon = h3.cell_to_latlng(cell)
        x, y = back.transform(lon, lat)
        centres.append(Point(x, y))
    return cells, centres


def _h3_polygons(cells: Sequence[str], crs: object) -> list[Polygon]:
    to = Transformer.from_crs(4326, crs, always_xy=True)
    out = []
    for cell in cells:
        ring = [to.transform(lon, lat) for lat, lon in h3.cell_to_boundary(cell)]
        out.append(Polygon(ring))
    return out


def firms_layer(
    firms: gpd.GeoDataFrame,
    *,
    osm: gpd.GeoDataFrame | None = None,
    matches: pd.DataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
    publish_answers: bool = False,
    h3_resolution: int = 9,
) -> gpd.GeoDataFrame:
    """The ``firms`` layer: respondents, plus the OSM firms that did not answer.

    Parameters
    ----------
    firms : GeoDataFrame
        Questionnaire answers (``FIRMS`` schema), points in a projected CRS.
    osm : GeoDataFrame, optional
        OSM firms (:func:`osm_firms`); those not matched to a respondent are
        added with ``status = "osm_only"``.
    matches : DataFrame, optional
        :func:`match_firms` of ``firms`` and ``osm`` (computed if omitted).
    areas : GeoDataFrame, optional
        Municipal polygons indexed by name (:func:`areas_from_firms`): the
        municipality of the OSM firms, and of respondents that left it blank.
    core, extension : sequence of str
        Core and extension municipalities (see :func:`zone_of`).
    publish_answers : bool, default False
        Keep every answer and the exact position of respondents.  Otherwise
        respondents keep only the non-sensitive fields and their position is
        moved to the centre of their H3 cell.
    h3_resolution : int, default 9
        H3 resolution of the generalised positions (9: cells of about 0.1 km²,
        centres about 350 m apart).

    Returns
    -------
    GeoDataFrame
        Points; columns ``firm_ref``, ``status`` (``respondent`` /
        ``osm_only``), ``ateco_section``, ``section_en``, ``section_it``,
        ``municipality``, ``zone``, ``osm_matched`` (respondents: whether OSM
        knows the firm), ``osm_id``, ``osm_kind``, ``name`` (OSM firms, or
        respondents with answers), ``position`` (``exact`` or ``h3:<res>``),
        plus, with ``publish_answers``, every questionnaire field, the ATECO
        division and the match distance.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import production as pr
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg = gd.load_config("config/sample.yml")
    >>> base = gd.load_base_layers(cfg)
    >>> answers = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
    >>> layer = pr.firms_layer(answers, osm=pr.osm_firms(base.pois))
    >>> "employees" in layer.columns, sorted(layer["status"].unique())
    (False, ['osm_only', 'respondent'])
    """
    projected_frame(firms, what="firms")
    if not 5 <= h3_resolution <= 15:
        raise ValueError(f"h3_resolution must be within 5..15, got {h3_resolution!r}")
    answers = firms if "ateco_section" in firms.columns else classify_ateco(firms)
    n = len(answers)
    municipality = answers["municipality"].astype("str") if "municipality" in answers else None
    if municipality is None:
        municipality = pd.Series([None] * n, index=answers.index, dtype="str")
    if areas is not None and len(areas):
        blank = municipality.isna() | (municipality.str.strip() == "")
        if blank.any():
            located = gpd.sjoin(answers[blank][["geometry"]], areas[["geometry"]], how="left")
            located = located[~located.index.duplicated()]
            municipality = municipality.copy()
            municipality[blank] = located["index_right"].astype("str")
    if osm is not None and matches is None:
        matches = match_firms(answers, osm)
    matched = (
        matches["osm_index"].notna().to_numpy() if matches is not None else np.zeros(n, dtype=bool)
    )
    resp = gpd.GeoDataFrame(
        {
            "firm_ref": [f"R{i:04d}" for i in range(1, n + 1)],
            "status": "respondent",
            "ateco_section": answers["ateco_section"].to_numpy(),
            "section_en": answers["section_en"].to_numpy(),
            "section_it": answers["section_it"].to_numpy(),
            "municipality": municipality.to_numpy(),
            "osm_matched": matched,
            "osm_id": pd.array([pd.NA] * n, dtype="Int64"),
            "osm_kind": None,
            "name": None,
        },
        geometry=answers.geometry.to_numpy(),
        crs=answers.crs,
        index=answers.index,
    )
    if publish_answers:
        resp["position"] = "exact"
        if matches is not None:
            resp["osm_id"] = matches["osm_id"].to_numpy()
        for col in FIRMS.field_names:
            if col in answers.columns and col not in resp.columns:
                resp[col] = answers[col].to_numpy()
        resp["name"] = answers["name"].to_numpy()
        resp["ateco_division"] = answers["ateco_division"].to_numpy()
        if matches is not None:
            resp["match_distance_m"] = matches["match_distance_m"].to_numpy()
    else:
        _, centres = _h3_centres(answers.geometry, h3_resolution)
        resp = resp.set_geometry(gpd.GeoSeries(centres, index=answers.index, crs=answers.crs))
        resp["position"] = f"h3:{h3_resolution}"
    frames = [resp]
    if osm is not None and len(osm):
        taken = set(matches["osm_index"].dropna()) if matches is not None else set()
        rest = osm[~osm.index.isin(list(taken))]
        if CRS.from_user_input(rest.crs) != CRS.from_user_input(answers.crs):
            rest = rest.to_crs(answers.crs)
        where = pd.Series([None] * len(rest), index=rest.index, dtype="str")
        if areas is not None and len(areas):
            located = gpd.sjoin(rest[["geometry"]], areas[["geometry"]], how="left")
            located = located[~located.index.duplicated()]
            where = located["index_right"].astype("str")
        frames.append(
            gpd.GeoDataFrame(
                {
                    "firm_ref": [
                        f"osm/{t}/{i}"
                        for t, i in zip(rest["osm_type"], rest["osm_id"], strict=True)
                    ],
                    "status": "osm_only",
                    "ateco_section": None,
                    "section_en": None,
                    "section_it": None,
                    "municipality": where.to_numpy(),
                    "osm_matched": True,
                    "osm_id": pd.array(rest["osm_id"].to_numpy(), dtype="Int64"),
                    "osm_kind": rest["kind"].to_numpy(),
                    "name": rest["name"].to_numpy(),
                    "position": "exact",
                },
                geometry=rest.geometry.to_numpy(),
                crs=answers.crs,
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=answers.crs)
    out["zone"] = zone_of(out["municipality"], core=core, extension=extension)
    for col in (
        "firm_ref",
        "status",
        "ateco_section",
        "section_en",
        "section_it",
        "municipality",
        "osm_kind",
        "name",
        "position",
        "zone",
    ):
        out[col] = out[col].astype("str")
    out["osm_matched"] = out["osm_matched"].astype("bool")
    first = [
        "firm_ref",
        "status",
        "ateco_section",
        "section_en",
        "section_it",
        "municipality",
        "zone",
        "osm_matched",
        "osm_id",
        "osm_kind",
        "name",
        "position",
    ]
    return out[first + [c for c in out.columns if c not in first]]


# --------------------------------------------------------------------------- specialisation


def _weights(firms: pd.DataFrame, weight: Weight) -> np.ndarray:
    if weight == "firms":
        return np.ones(len(firms))
    if weight != "employees":
        raise ValueError(f"weight must be 'firms' or 'employees', got {weight!r}")
    if "employees" not in firms.columns:
        raise KeyError("weight 'employees' needs an 'employees' column")
    employees = pd.to_numeric(firms["employees"], errors="coerce")
    missing = int(employees.isna().sum())
    if missing:
        logger.info("%d firm(s) without employees count as 1", missing)
    return employees.fillna(1).to_numpy(dtype="float64")


def sector_specialisation(
    firms: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    by: Literal["municipality", "h3"] = "municipality",
    h3_resolution: int = 8,
    level: Level = "section",
    weight: Weight = "firms",
    reference: Mapping[str, float] | None = None,
    min_group_size: int = 5,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Location quotients of each sector in each area (``sector_specialisation``).

    ``LQ = (w_as / w_a) / (W_s / W)``: the share of the sector in the area over
    its share in the reference, where ``w`` counts firms or employees.  The
    reference is the whole district, or the shares given in ``reference``
    (e.g. national ATECO shares from ISTAT).  LQ above 1 means the area is
    specialised in the sector.

    Parameters
    ----------
    firms : GeoDataFrame
        Respondents (``FIRMS`` schema), points in a projected CRS.
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
    reference : mapping of str to float, optional
        Reference share of each sector code (normalised to sum to 1).
    min_group_size : int, default 5
        ``k``: cells are published according to :func:`protect_counts` on the
        area x sector table of firm counts.
    core, extension : sequence of str
        Core and extension municipalities: each row gets its ``zone``.

    Returns
    -------
    GeoDataFrame
        One row per published area and sector with at least one firm: ``area``,
        ``area_kind``, ``zone``, ``sector``, ``sector_en``, ``sector_it``,
        ``firms``, ``employees``, ``area_share``, ``reference_share``, ``lq``,
        ``specialised`` (LQ >= 1.25); polygon geometry of the area.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import production as pr
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg = gd.load_config("config/sample.yml")
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=gd.load_base_layers(cfg).crs)
    >>> spec = pr.sector_specialisation(firms, min_group_size=5)
    >>> bool((spec["firms"] >= 5).all())
    True
    >>> bool(spec.set_index(["area", "sector"]).loc[("Punavuori", "C"), "specialised"])
    True
    """
    projected_frame(firms, what="firms")
    if min_group_size < 1:
        raise ValueError(f"min_group_size must be at least 1, got {min_group_size!r}")
    sector = _sector_of(firms, level).to_numpy()
    w = _weights(firms, weight)
    emp = _weights(firms, "employees") if "employees" in firms else np.ones(len(firms))
    if by == "municipality":
        if "municipality" not in firms:
            raise KeyError("by='municipality' needs a 'municipality' column")
        area_of = firms["municipality"].astype("str").to_numpy()
        if areas is None:
            hull = firms.geometry.union_all().convex_hull.buffer(200)
            areas = areas_from_firms(firms, hull)
        geoms = {str(k): g for k, g in areas.geometry.items()}
    elif by == "h3":
        cells, _ = _h3_centres(firms.geometry, h3_resolution)
        area_of = np.array(cells, dtype=object)
        unique = sorted(set(cells))
        geoms = dict(zip(unique, _h3_polygons(unique, firms.crs), strict=True))
    else:
        raise ValueError(f"by must be 'municipality' or 'h3', got {by!r}")
    valid = pd.notna(sector) & pd.notna(area_of)
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
        ref = pd.Series(reference, dtype="float64")
        if (ref < 0).any() or ref.sum() <= 0:
            raise ValueError(
                "reference shares must be non-negative with a positive sum, "
                f"got {dict(reference)!r}"
            )
        ref = ref / ref.sum()
    else:
        ref = wsum.sum(axis=0) / wsum.to_numpy().sum()
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
            rows.append(
                {
                    "area": str(a),
                    "area_kind": by,
                    "zone": zones.get(a, "district"),
                    "sector": str(s),
                    "firms": n,
                    "employees": float(esum.loc[a, s]),
                    "area_share": round(share, 4),
                    "reference_share": round(r, 4),
                    "lq": round(share / r, 3) if r > 0 else np.nan,
                    "geometry": geoms.get(str(a)),
                }
            )
    suppressed = int(((counts > 0) & ~publish).to_numpy().sum())
    logger.info(
        "sector_specialisation: %d cells published, %d suppressed (k=%d)",
        len(rows),
        suppressed,
        min_group_size,
    )
    out = gpd.GeoDataFrame(
        pd.DataFrame(
            rows,
            columns=[
                "area",
                "area_kind",
                "zone",
                "sector",
                "firms",
                "employees",
                "area_share",
                "reference_share",
                "lq",
                "geometry",
            ],
        ),
        geometry="geometry",
        crs=firms.crs,
    )
    en, it = _sector_labels(out["sector"])
    out.insert(4, "sector_en", pd.Series(en, dtype="str"))
    out.insert(5, "sector_it", pd.Series(it, dtype="str"))
    out["firms"] = out["firms"].astype("int64")
    out["specialised"] = (out["lq"] >= 1.25).astype("bool")
    for col in ("area", "area_kind", "zone", "sector"):
        out[col] = out[col].astype("str")
    return out


# --------------------------------------------------------------------------- clusters


def firm_clusters(
    firms: gpd.GeoDataFrame,
    *,
    eps_m: float = 150.0,
    min_firms: int = 5,
    level: Level = "section",
    h3_resolution: int = 9,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Spatial clusters of the firms of each sector (``firm_clusters``).

    DBSCAN (scikit-learn) runs on the firms of each sector with radius
    ``eps_m`` and ``min_samples = min_firms``; clusters with fewer than
    ``min_firms`` firms are dropped, so with ``min_firms >= k`` every published
    cluster is a group of at least ``k``.  The polygon is the convex hull of
    the H3 cells that hold the members, so it shows no firm's exact position.

    Parameters
    ----------
    firms : GeoDataFrame
        Respondents, points in a projected CRS.
    eps_m : float, default 150
        DBSCAN radius (m).
    min_firms : int, default 5
        Smallest cluster; use at least ``production.min_group_size``.
    level : {"section", "division"}, default "section"
        ATECO level of the sectors.
    h3_resolution : int, default 9
        Cells whose hull draws the cluster.
    core, extension : sequence of str
        Core and extension municipalities (see :func:`zone_of`).

    Returns
    -------
    GeoDataFrame
        Polygons: ``cluster_id``, ``sector``, ``sector_en``, ``sector_it``,
        ``firms``, ``employees``, ``sector_share`` (share of the sector's
        firms of the district in the cluster), ``area_ha``, ``firms_per_ha``,
        ``municipalities`` (``;``-separated), ``zone`` (core, extension,
        other, district or ``mixed``).

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import production as pr
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg = gd.load_config("config/sample.yml")
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=gd.load_base_layers(cfg).crs)
    >>> clusters = pr.firm_clusters(firms, eps_m=150, min_firms=5)
    >>> bool((clusters["firms"] >= 5).all()), "C" in set(clusters["sector"])
    (True, True)
    """
    from sklearn.cluster import DBSCAN

    projected_frame(firms, what="firms")
    if eps_m <= 0:
        raise ValueError(f"eps_m must be greater than 0, got {eps_m!r}")
    if min_firms < 1:
        raise ValueError(f"min_firms must be at least 1, got {min_firms!r}")
    sector = _sector_of(firms, level)
    emp = _weights(firms, "employees") if "employees" in firms else np.ones(len(firms))
    municipality = (
        firms["municipality"].astype("str").to_numpy()
        if "municipality" in firms
        else np.array([None] * len(firms))
    )
    cells, _ = _h3_centres(firms.geometry, h3_resolution)
    xy = np.column_stack([firms.geometry.x.to_numpy(), firms.geometry.y.to_numpy()])
    rows = []
    for s in sorted(sector.dropna().unique()):
        idx = np.flatnonzero((sector == s).to_numpy())
        if idx.size < min_firms:
            continue
        labels = DBSCAN(eps=eps_m, min_samples=min_firms).fit_predict(xy[idx])
        for label in sorted(set(labels) - {-1}):
            members = idx[labels == label]
            if members.size < min_firms:
                continue
            member_cells = sorted({cells[i] for i in members})
            hull = shapely.union_all(_h3_polygons(member_cells, firms.crs)).convex_hull
            munis = sorted({str(m) for m in municipality[members] if isinstance(m, str)})
            zones = set(zone_of(munis, core=core, extension=extension)) or {"district"}
            rows.append(
                {
                    "sector": str(s),
                    "firms": int(members.size),
                    "employees": float(emp[members].sum()),
                    "sector_share": round(members.size / idx.size, 3),
                    "area_ha": round(hull.area / 1e4, 2),
                    "firms_per_ha": round(members.size / (hull.area / 1e4), 2),
                    "municipalities": ";".join(munis),
                    "zone": zones.pop() if len(zones) == 1 else "mixed",
                    "geometry": hull,
                }
            )
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
    out = out.sort_values(["firms", "sector"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "cluster_id", [f"K{i:02d}" for i in range(1, len(out) + 1)])
    en, it = _sector_labels(out["sector"])
    out.insert(2, "sector_en", pd.Series(en, dtype="str"))
    out.insert(3, "sector_it", pd.Series(it, dtype="str"))
    out["firms"] = out["firms"].astype("int64")
    for col in ("cluster_id", "sector", "municipalities", "zone"):
        out[col] = out[col].astype("str")
    return out


# --------------------------------------------------------------------------- service sites


def _graph_arrays(graph: nx.MultiDiGraph) -> tuple[list[object], np.ndarray, object]:
    from scipy.sparse import coo_matrix

    nodes = list(graph.nodes)
    pos = {n: i for i, n in enumerate(nodes)}
    xy = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in nodes], dtype="float64")
    best: dict[tuple[int, int], float] = {}
    for u, v, data in graph.edges(data=True):
        length = float(data.get("length", 0.0))
        key = (pos[u], pos[v])
        if key not in best or length < best[key]:
            best[key] = length
    if best:
        ij = np.array(list(best.keys()))
        matrix = coo_matrix((list(best.values()), (ij[:, 0], ij[:, 1])), shape=(len(nodes),) * 2)
    else:
        matrix = coo_matrix((len(nodes), len(nodes)))
    return nodes, xy, matrix.tocsr()


def _thin(points: np.ndarray, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` points spread over their extent (one per grid cell)."""
    if len(points) <= limit:
        return np.arange(len(points))
    span = np.ptp(points, axis=0).max() or 1.0
    size = span / np.sqrt(limit)
    while True:
        keys = np.floor(points / size).astype(np.int64)
        _, first = np.unique(keys, axis=0, return_index=True)
        if len(first) <= limit:
            return np.sort(first)
        size *= 1.2


def service_sites(
    firms: gpd.GeoDataFrame,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    graph: nx.MultiDiGraph | None = None,
    p: int = 2,
    max_distance_m: float = 600.0,
    weight: Weight = "employees",
    min_group_size: int = 5,
    max_candidates: int = 400,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Where to put ``p`` shared-service points to reach the most firms (``service_sites``).

    A maximal covering location problem (MCLP, Church & ReVelle 1974) solved
    with spopt and PuLP's bundled CBC solver: choose ``p`` of the candidate
    sites so that the weight (firms or employees) of the firms within
    ``max_distance_m`` of a chosen site is the largest.

    Distances are along ``graph`` (walk or bike graph, undirected: a visit is
    a round trip) between the nodes nearest to firms and candidates, plus the
    straight distance to those nodes; or straight-line when ``graph`` is None.

    Parameters
    ----------
    firms : GeoDataFrame
        Respondents, points in a projected CRS.
    candidates : GeoDataFrame, optional
        Candidate sites (points; e.g. vacant units, public buildings).
        Default: the graph nodes near firms (at most ``max_candidates``,
        spread evenly), or the firms' own positions without a graph.
    graph : networkx.MultiDiGraph, optional
        Projected street graph with edge ``length`` (m).
    p : int, default 2
        Number of sites.
    max_distance_m : float, default 600
        Service distance (m).
    weight : {"firms", "employees"}, default "employees"
        What the model maximises.
    min_group_size : int, default 5
        ``k``: per-site counts of firms served and their employees are
        published only when the groups pass :func:`protect_counts`.
    max_candidates : int, default 400
        Cap on default candidates (the MILP grows with them).
    core, extension : sequence of str
        Core and extension municipalities: coverage is reported for each zone.

    Returns
    -------
    GeoDataFrame
        One point per chosen site, ordered by what it serves: ``site_id``,
        ``candidate`` (label of the candidate or graph node), ``firms_served``
        and ``employees_served`` (firms allocated to their nearest chosen
        site, null when suppressed), ``mean_distance_m``, and the
        district-wide ``coverage_firms_pct``, ``coverage_weight_pct``,
        ``coverage_core_pct``, ``coverage_extension_pct`` (null when not
        publishable), ``max_distance_m``, ``mode`` (``graph`` / ``straight``)
        and ``weight``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import production as pr
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg = gd.load_config("config/sample.yml")
    >>> base = gd.load_base_layers(cfg)
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
    >>> sites = pr.service_sites(firms, graph=base.walk_graph, p=2, max_distance_m=600)
    >>> len(sites), bool(sites["coverage_firms_pct"].iloc[0] > 50)
    (2, True)
    """
    import pulp
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree
    from spopt.locate import MCLP

    projected_frame(firms, what="firms")
    if p < 1:
        raise ValueError(f"p (number of sites) must be at least 1, got {p!r}")
    if max_distance_m <= 0:
        raise ValueError(f"max_distance_m must be greater than 0, got {max_distance_m!r}")
    if len(firms) == 0:
        raise EmptyAreaError("no firms to serve")
    w = _weights(firms, weight)
    emp = _weights(firms, "employees") if "employees" in firms else np.ones(len(firms))
    fxy = np.column_stack([firms.geometry.x.to_numpy(), firms.geometry.y.to_numpy()])
    if graph is not None:
        projected_graph(graph, what="graph")
        if projected_crs(graph.graph["crs"]) != CRS.from_user_input(firms.crs):
            raise CRSError(f"graph CRS {graph.graph['crs']!r} differs from the firms' {firms.crs}")
        nodes, nxy, matrix = _graph_arrays(graph)
        tree = cKDTree(nxy)
        fdist, fnode = tree.query(fxy)
    if candidates is not None:
        projected_frame(candidates, what="candidates")
        if len(candidates) == 0:
            raise EmptyAreaError("candidates is empty")
        cand = candidates.geometry.to_crs(firms.crs).representative_point()
        cxy = np.column_stack([cand.x.to_numpy(), cand.y.to_numpy()])
        clabels = [str(c) for c in candidates.index]
    elif graph is not None:
        near = cKDTree(fxy).query(nxy, distance_upper_bound=max_distance_m)[0] < np.inf
        pool = np.flatnonzero(near)
        pool = pool[_thin(nxy[pool], max_candidates)]
        cxy = nxy[pool]
        clabels = [f"node {nodes[i]}" for i in pool]
    else:
        cxy = fxy[_thin(fxy, max_candidates)]
        clabels = [f"firm position {i}" for i in range(len(cxy))]
    if p > len(cxy):
        raise ValueError(f"p={p} sites asked but only {len(cxy)} candidates")
    if graph is not None:
        cdist, cnode = tree.query(cxy)
        net = dijkstra(matrix, directed=False, indices=cnode, limit=max_distance_m)
        cost = net[:, fnode].T + fdist[:, None] + cdist[None, :]
        mode = "graph"
    else:
        cost = np.hypot(fxy[:, None, 0] - cxy[None, :, 0], fxy[:, None, 1] - cxy[None, :, 1])
        mode = "straight"
    cost = np.where(np.isfinite(cost), cost, 1e12)
    model = MCLP.from_cost_matrix(cost, w, service_radius=max_distance_m, p_facilities=p)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    chosen = [j for j, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]
    sub = cost[:, chosen]
    covered = (sub <= max_distance_m).any(axis=1)
    nearest = np.where(covered, sub.argmin(axis=1), -1)
    served = np.array([(nearest == c).sum() for c in range(len(chosen))], dtype=float)
    k = min_group_size
    # Sites are rows; the firms left uncovered are a group too: their total is derivable.
    table = pd.Series(np.append(served, (~covered).sum()), dtype="float64")
    ok = protect_counts(table, k, rows=False).iloc[:, 0].to_numpy()
    total_w = w.sum()
    zones = np.array(
        zone_of(firms["municipality"], core=core, extension=extension)
        if "municipality" in firms
        else ["district"] * len(firms)
    )

    def zone_pct(z: str) -> float:
        inz = zones == z
        n, c = int(inz.sum()), int((covered & inz).sum())
        if n == 0 or not _ok(c, n, k) or n < k:
            return np.nan
        return round(100 * c / n, 1)

    n_cov = int(covered.sum())
    firms_pct = round(100 * n_cov / len(firms), 1) if _ok(n_cov, len(firms), k) else np.nan
    weight_pct = (
        round(100 * w[covered].sum() / total_w, 1)
        if _ok(n_cov, len(firms), k)  # covered and uncovered firms are both groups
        else np.nan
    )
    rows = []
    for c, j in enumerate(chosen):
        mine = nearest == c
        rows.append(
            {
                "candidate": clabels[j],
                "firms_served": int(served[c]) if ok[c] else pd.NA,
                "employees_served": float(emp[mine].sum()) if ok[c] and served[c] else np.nan,
                "mean_distance_m": round(float(sub[mine, c].mean()), 1)
                if ok[c] and served[c]
                else np.nan,
                "_rank": float(w[mine].sum()),
                "geometry": Point(cxy[j]),
            }
        )
    out = pd.DataFrame(rows).sort_values("_rank", ascending=False, kind="stable")
    out = out.drop(columns="_rank").reset_index(drop=True)
    out.insert(0, "site_id", [f"S{i}" for i in range(1, len(out) + 1)])
    out["firms_served"] = out["firms_served"].astype("Int64")
    out["coverage_firms_pct"] = firms_pct
    out["coverage_weight_pct"] = weight_pct
    out["coverage_core_pct"] = zone_pct("core")
    out["coverage_extension_pct"] = zone_pct("extension")
    out["max_distance_m"] = float(max_distance_m)
    out["mode"] = mode
    out["weight"] = weight
    for col in ("site_id", "candidate", "mode", "weight"):
        out[col] = out[col].astype("str")
    logger.info(
        "service_sites: %d sites cover %d of %d firms within %.0f m (%s)",
        len(chosen),
        n_cov,
        len(firms),
        max_distance_m,
        mode,
    )
    return gpd.GeoDataFrame(out, geometry="geometry", crs=firms.crs)


# --------------------------------------------------------------------------- needs


def match_expansion(
    firms: gpd.GeoDataFrame,
    spaces: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 1000.0,
    area_column: str = "floor_area_m2",
) -> pd.Series:
    """Match each firm's expansion demand to an available space, greedily.

    Firms asking for the most space go first; each takes the nearest unused
    space within ``max_distance_m`` whose floor area covers the demand.

    Parameters
    ----------
    firms : GeoDataFrame
        Respondents with ``expansion_space_m2``.
    spaces : GeoDataFrame
        Available spaces (e.g. the vacant units survey) with ``area_column``.
    max_distance_m : float, default 1000
        Farthest acceptable space (m, straight line).
    area_column : str, default "floor_area_m2"
        Floor area of each space (m²).

    Returns
    -------
    Series
        Indexed like ``firms``: the label of the space given to the firm, or
        missing (no demand, or nothing fits).  Firm-level: keep it local.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from geodistrict.production import match_expansion
    >>> f = gpd.GeoDataFrame({"expansion_space_m2": [300.0, 50.0, 0.0]},
    ...     geometry=[Point(0, 0), Point(10, 0), Point(0, 5)], crs=32632)
    >>> s = gpd.GeoDataFrame({"floor_area_m2": [100.0, 400.0]}, index=["a", "b"],
    ...     geometry=[Point(5, 0), Point(800, 0)], crs=32632)
    >>> match_expansion(f, s).tolist()
    ['b', 'a', None]
    """
    projected_frame(firms, what="firms")
    projected_frame(spaces, what="spaces")
    demand = _column(firms, "expansion_space_m2").fillna(0)
    result = pd.Series([None] * len(firms), index=firms.index, dtype="object")
    if len(spaces) == 0:
        return result
    geoms = spaces.geometry.to_crs(firms.crs).representative_point()
    capacity = pd.to_numeric(spaces[area_column], errors="coerce").to_numpy()
    free = np.ones(len(spaces), dtype=bool)
    sx, sy = geoms.x.to_numpy(), geoms.y.to_numpy()
    for pos in np.argsort(-demand.to_numpy(), kind="stable"):
        need = float(demand.iloc[pos])
        if need <= 0:
            continue
        pt = firms.geometry.iloc[pos]
        dist = np.hypot(sx - pt.x, sy - pt.y)
        fits = free & (capacity >= need) & (dist <= max_distance_m)
        if fits.any():
            j = int(np.flatnonzero(fits)[np.argmin(dist[fits])])
            free[j] = False
            result.iloc[pos] = spaces.index[j]
    return result


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A numeric column as float, all-missing when the survey lacks it."""
    if name not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[name], errors="coerce").astype("float64")


def _multi(firms: pd.DataFrame, column: str, choice: str) -> np.ndarray:
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


#: Sums published with the count of the firms that contribute to them.
_SUMS = {"employees": "firms", "hiring_needs": "firms_hiring", "expansion_m2": "firms_expanding"}


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
        Respondents (``FIRMS`` schema), points in a projected CRS.
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
    >>> cfg = gd.load_config("config/sample.yml")
    >>> base = gd.load_base_layers(cfg)
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
    >>> areas = pr.areas_from_firms(firms, base.study_area.geometry.iloc[0])
    >>> needs = pr.needs_summary(firms, areas, min_group_size=5)
    >>> int(needs.set_index("name").loc["district", "firms"]) == len(firms)
    True
    """
    projected_frame(firms, what="firms")
    projected_frame(areas, what="areas")
    k = min_group_size
    if k < 1:
        raise ValueError(f"min_group_size must be at least 1, got {k!r}")
    answers = firms.copy()
    muni = answers["municipality"].astype("str") if "municipality" in answers else None
    located = gpd.sjoin(answers[["geometry"]], areas[["geometry"]], how="left")
    located = located[~located.index.duplicated()]["index_right"].astype("str")
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
    innov = _column(answers, "innovation_readiness")
    counts["_innov_answered"] = innov.notna().astype("int64")
    sums["_innov_sum"] = innov
    if vacant_units is not None and len(vacant_units):
        spaces = vacant_units
        got = match_expansion(answers, spaces, max_distance_m=expansion_distance_m)
        counts["firms_space_found"] = got.notna().astype("int64")
    else:
        counts["firms_space_found"] = 0
    count_cols = [c for c in counts.columns]
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
        mask_zone[:] = [[_ok(by_zone.iloc[0][c], by_zone.iloc[0]["firms"], k) for c in count_cols]]
    mask_district = pd.DataFrame(
        [[_ok(district.iloc[0][c], district.iloc[0]["firms"], k) for c in count_cols]],
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

    rows = []
    for a in by_area.index:
        rows.append(
            emit(
                "area",
                a,
                zone_map[a],
                by_area.loc[a],
                sum_area.loc[a],
                mask_area.loc[a],
                area_geoms.get(a),
            )
        )
    if len(by_zone) > 1:
        for z in by_zone.index:
            rows.append(
                emit(
                    "zone",
                    z,
                    z,
                    by_zone.loc[z],
                    sum_zone.loc[z],
                    mask_zone.loc[z],
                    zone_geoms.get(z),
                )
            )
    rows.append(
        emit(
            "district",
            "district",
            "district",
            district.iloc[0],
            sum_district.iloc[0],
            mask_district.iloc[0],
            district_geom,
        )
    )
    n_all = float(district.iloc[0]["firms"])
    for table in WORK_TABLES:
        inside = counts[f"table_{table}"].to_numpy(dtype=bool)
        c_in = counts[inside].sum()
        s_in = sums[inside].sum(min_count=1)
        n_in = float(c_in["firms"])
        m = pd.Series(
            {
                col: _ok(c_in[col], n_in, k)
                and _ok(district.iloc[0][col] - c_in[col], n_all - n_in, k)
                and _ok(n_in, n_all, k)
                for col in count_cols
            }
        )
        if not m["firms"]:
            m[:] = False
        rows.append(emit("work_table", table, "district", c_in, s_in, m, district_geom))

    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=firms.crs)
    for col in [c for c in count_cols if not c.startswith("_")]:
        out[col] = out[col].astype("Int64")
    out = _add_supply(
        out,
        firms=firms,
        osm=osm,
        matches=matches,
        areas=areas,
        zone_map=zone_map,
        vacant_units=vacant_units,
        osm_vacant=osm_vacant,
        landuse=landuse,
    )
    for col in ("level", "name", "zone"):
        out[col] = out[col].astype("str")
    return out


def _add_supply(
    out: gpd.GeoDataFrame,
    *,
    firms: gpd.GeoDataFrame,
    osm: gpd.GeoDataFrame | None,
    matches: pd.DataFrame | None,
    areas: gpd.GeoDataFrame,
    zone_map: Mapping[str, str],
    vacant_units: gpd.GeoDataFrame | None,
    osm_vacant: gpd.GeoDataFrame | None,
    landuse: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """Columns that describe no respondent: OSM coverage and available space."""
    out = out.copy()
    area_of: dict[str, pd.Series] = {}

    def locate(layer: gpd.GeoDataFrame) -> pd.Series:
        pts = layer.geometry.to_crs(out.crs).representative_point()
        joined = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), areas[["geometry"]], how="left")
        return joined[~joined.index.duplicated()]["index_right"].astype("str")

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
        area_of["osm"] = locate(osm)
        taken = set(matches["osm_index"].dropna()) if matches is not None else set()
        unmatched = pd.Series((~osm.index.isin(list(taken))).astype(float), index=osm.index)
        out["osm_firms"] = pd.array(
            per_row(pd.Series(1.0, index=osm.index), area_of["osm"]), dtype="Int64"
        )
        out["osm_not_answered"] = pd.array(per_row(unmatched, area_of["osm"]), dtype="Int64")
        known = out["firms"].astype("Float64") + out["osm_not_answered"].astype("Float64")
        rate = (out["firms"].astype("Float64") / known).round(3)
        out["response_rate"] = rate.where(out["level"].isin(["area", "zone", "district"]))
        out["response_rate"] = out["response_rate"].astype("float64")
    if vacant_units is not None and len(vacant_units):
        where = locate(vacant_units)
        area_m2 = pd.to_numeric(vacant_units.get("floor_area_m2"), errors="coerce").fillna(0)
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


# --------------------------------------------------------------------------- all layers


def production_layers(
    base: BaseLayers,
    firms: gpd.GeoDataFrame,
    config: ProductionConfig,
    *,
    vacant_units: gpd.GeoDataFrame | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the productive district, as the pipeline step ``production`` writes them.

    Parameters
    ----------
    base : BaseLayers
        The district's base layers and graphs.
    firms : GeoDataFrame
        The firm questionnaire read with the ``FIRMS`` schema, in the working CRS.
    config : ProductionConfig
        The ``production`` section of the district configuration.
    vacant_units : GeoDataFrame, optional
        The vacant units survey (available space).

    Returns
    -------
    dict of str to GeoDataFrame
        ``firms``, ``sector_specialisation``, ``firm_clusters``,
        ``service_sites`` and ``production_needs``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import production as pr
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg = gd.load_config("config/sample.yml")
    >>> base = gd.load_base_layers(cfg)
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
    >>> sorted(pr.production_layers(base, firms, cfg.production))  # doctest: +NORMALIZE_WHITESPACE
    ['firm_clusters', 'firms', 'production_needs', 'sector_specialisation', 'service_sites']
    """
    projected_frame(firms, what="firms")
    if len(firms) == 0:
        raise EmptyAreaError("the firms survey has no rows")
    k = config.min_group_size
    core, extension = config.core_municipalities, config.extension_municipalities
    answers = classify_ateco(firms)
    area = base.study_area.geometry.union_all()
    areas = areas_from_firms(answers, area.union(answers.geometry.union_all().buffer(50)))
    osm = osm_firms(base.pois, buildings=base.buildings, landuse=base.landuse)
    matches = match_firms(answers, osm, max_distance_m=config.match_distance_m)
    graph = {"walk": base.walk_graph, "bike": base.bike_graph}.get(config.service_mode)
    layers = {
        "firms": firms_layer(
            answers,
            osm=osm,
            matches=matches,
            areas=areas,
            publish_answers=config.publish_firm_answers,
            h3_resolution=config.h3_resolution,
            core=core,
            extension=extension,
        ),
        "sector_specialisation": sector_specialisation(
            answers,
            areas=areas,
            by=config.specialisation_by,
            h3_resolution=max(config.h3_resolution - 1, 5),
            level=config.specialisation_level,
            weight=config.specialisation_weight,
            min_group_size=k,
            core=core,
            extension=extension,
        ),
        "firm_clusters": firm_clusters(
            answers,
            eps_m=config.cluster_distance_m,
            min_firms=k,
            level=config.specialisation_level,
            h3_resolution=config.h3_resolution,
            core=core,
            extension=extension,
        ),
        "service_sites": service_sites(
            answers,
            graph=graph,
            p=config.service_sites,
            max_distance_m=config.service_distance_m,
            weight=config.service_weight,
            min_group_size=k,
            core=core,
            extension=extension,
        ),
        "production_needs": needs_summary(
            answers,
            areas,
            min_group_size=k,
            osm=osm,
            matches=matches,
            vacant_units=vacant_units,
            osm_vacant=base.pois[base.pois["vacant"].astype(bool)],
            landuse=base.landuse,
            core=core,
            extension=extension,
        ),
    }
    for name, layer in layers.items():
        logger.info("production: %s has %d features", name, len(layer))
    return layers
