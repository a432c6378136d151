"""Firms: zones, approximate municipal areas, OSM firms, matching, the ``firms`` layer.

Respondents to the firm questionnaire (:data:`~geodistrict.sources.surveys.FIRMS`)
are placed in the core or the extension of the district (:func:`zone_of`),
matched to the firms OpenStreetMap knows (:func:`osm_firms`,
:func:`match_firms`) and published as the ``firms`` layer
(:func:`firms_layer`): respondents counted in H3 cells of at least ``k``,
unless answers may be published (a local deliverable).
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from geodistrict import hexagons
from geodistrict._validate import projected_frame, require_columns
from geodistrict.errors import CRSError, EmptyAreaError, ParameterError
from geodistrict.production.ateco import classify_ateco
from geodistrict.sources.surveys import FIRMS

__all__ = [
    "SENSITIVE_FIELDS",
    "areas_from_firms",
    "firms_layer",
    "match_firms",
    "osm_firms",
    "register_coverage",
    "zone_of",
]

#: Fields of the questionnaire that are never published firm by firm unless allowed.
SENSITIVE_FIELDS: tuple[str, ...] = tuple(
    f for f in FIRMS.field_names if f not in ("ateco", "municipality")
)

_LEGAL_FORMS = re.compile(r"\b(s\.?r\.?l|s\.?p\.?a|s\.?n\.?c|s\.?a\.?s|oy|ab|ltd|srls|spa|srl)\b")
_INDUSTRIAL_BUILDINGS = frozenset({"industrial", "manufacture", "warehouse", "factory"})
_OSM_HINT = "build the OSM firms with gd.osm_firms(pois)"


# --------------------------------------------------------------------------- zones and areas


def _norm(text: object) -> str:
    """Case- and accent-insensitive key of a name."""
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

    Raises
    ------
    ParameterError
        If a municipality is listed both as core and as extension.

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
        raise ParameterError(f"municipalities listed both as core and extension: {sorted(both)!r}")
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
    >>> cfg, base = gd.datasets.sample_config(), gd.datasets.sample_layers()
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
    >>> areas = pr.areas_from_firms(firms, base.study_area.geometry.iloc[0])
    >>> sorted(areas.index)
    ['Kaartinkaupunki', 'Kamppi', 'Kluuvi', 'Punavuori']
    """
    projected_frame(firms, what="firms")
    require_columns(firms, [column], what="firms", hint="add the municipality each firm declared")
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


def locate_in(layer: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """Label of the area (``areas`` index) holding each feature of ``layer``, as str."""
    located = gpd.sjoin(layer[["geometry"]], areas[["geometry"]], how="left")
    return located[~located.index.duplicated()]["index_right"].astype("str")


# --------------------------------------------------------------------------- OSM firms


def _tags(frame: pd.DataFrame) -> list[dict[str, str]]:
    if "tags" not in frame.columns:
        return [{} for _ in range(len(frame))]
    return [json.loads(t) if isinstance(t, str) else {} for t in frame["tags"]]


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
        The ``pois`` base layer (points with ``osm_id``, ``osm_type`` and a
        ``tags`` JSON column).
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
    >>> base = gd.datasets.sample_layers()
    >>> firms = osm_firms(base.pois, buildings=base.buildings, landuse=base.landuse)
    >>> int((firms["kind"] == "office=company").sum()) > 100
    True
    """
    hint = "use the pois layer of gd.load_base_layers(cfg), or add the OSM element ids"
    projected_frame(pois, what="pois")
    require_columns(pois, ["osm_id", "osm_type"], what="pois", hint=hint)
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
        require_columns(buildings, ["osm_id", "osm_type"], what="buildings", hint=hint)
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
    """A firm name without accents, legal form (*srl*, *spa*...) or text in brackets."""
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
        raise ParameterError(f"max_distance_m must be at least 0, got {max_distance_m!r}")
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
    min_group_size: int = 5,
) -> gpd.GeoDataFrame:
    """The ``firms`` layer: where the respondents are, in cells of at least ``k``.

    By default (``publish_answers=False``, what may be published) the layer
    has no row per firm: one point per H3 cell at the centre of the cell, with
    the number of respondents in it.  Each respondent is counted in the finest
    cell (from ``h3_resolution`` down to resolution 6) that holds at least
    ``min_group_size`` respondents (:func:`~geodistrict.production.privacy.anonymous_cells`);
    respondents in groups smaller than that even at resolution 6 are counted in
    no cell.  No attribute can be filtered on (no sector, municipality or
    answer status per firm) and the OSM firms that did not answer are not
    listed: the OSM firms are public, so the list of those that did not answer
    would name, by difference, every respondent OSM knows.  Their numbers by
    area are in ``production_needs`` (``osm_not_answered``).

    With ``publish_answers=True`` (a deliverable that stays in the district
    office, never served) the layer has one row per respondent with every
    answer and the exact position, plus one row per OSM firm that did not
    answer (``status = "osm_only"``), for the follow-up.

    Parameters
    ----------
    firms : GeoDataFrame
        Questionnaire answers (``FIRMS`` schema), points in a projected CRS,
        with an ``ateco`` code column (or already :func:`classify_ateco`-ed).
    osm : GeoDataFrame, optional
        OSM firms (:func:`osm_firms`): with ``publish_answers``, those not
        matched to a respondent are added with ``status = "osm_only"``.
    matches : DataFrame, optional
        :func:`match_firms` of ``firms`` and ``osm`` (computed if omitted).
    areas : GeoDataFrame, optional
        Municipal polygons indexed by name (:func:`areas_from_firms`): the
        municipality of the OSM firms, and of respondents that left it blank.
    core, extension : sequence of str
        Core and extension municipalities (see :func:`zone_of`).
    publish_answers : bool, default False
        Keep every answer and the exact position of respondents (local use only).
    h3_resolution : int, default 9
        Finest H3 resolution of the cells (9: cells of about 0.1 km²).
    min_group_size : int, default 5
        ``k``: the fewest respondents a published cell holds.

    Returns
    -------
    GeoDataFrame
        Published form: points at cell centres with ``cell`` (H3 id),
        ``h3_resolution``, ``respondents`` (at least ``k``) and ``position``
        (``h3:<res>``); ``attrs["unplaced"]`` counts the respondents in no
        cell.  With ``publish_answers``: ``firm_ref``, ``status``
        (``respondent`` / ``osm_only``), ``ateco_section``, ``section_en``,
        ``section_it``, ``municipality``, ``zone``, ``osm_matched``,
        ``osm_id``, ``osm_kind``, ``name``, ``position`` (``exact``), every
        questionnaire field, ``ateco_division`` and ``match_distance_m``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict import production as pr
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg, base = gd.datasets.sample_config(), gd.datasets.sample_layers()
    >>> answers = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
    >>> layer = pr.firms_layer(answers, osm=pr.osm_firms(base.pois))
    >>> "employees" in layer.columns, bool((layer["respondents"] >= 5).all())
    (False, True)
    """
    from geodistrict.production.privacy import anonymous_cells, check_group_size

    projected_frame(firms, what="firms")
    check_group_size(min_group_size)
    if not 5 <= h3_resolution <= 15:
        raise ParameterError(f"h3_resolution must be within 5..15, got {h3_resolution!r}")
    if osm is not None:
        projected_frame(osm, what="OSM firms")
        require_columns(osm, ["osm_id", "osm_type", "kind"], what="OSM firms", hint=_OSM_HINT)
    if not publish_answers:
        cells = anonymous_cells(
            firms.geometry,
            k=min_group_size,
            resolution=h3_resolution,
            coarsest=min(6, h3_resolution),
        )
        placed = pd.Series([c for c in cells if c is not None], dtype="str")
        counts = placed.value_counts().sort_index()
        ids = [str(c) for c in counts.index]
        out = gpd.GeoDataFrame(
            {
                "cell": pd.Series(ids, dtype="str"),
                "h3_resolution": pd.Series([h3.get_resolution(c) for c in ids], dtype="int64"),
                "respondents": pd.Series(counts.to_numpy(), dtype="int64"),
            },
            geometry=hexagons.cell_centres(ids, crs=firms.crs),
            crs=firms.crs,
        )
        out["position"] = pd.Series(
            [f"h3:{r}" for r in out["h3_resolution"]], index=out.index, dtype="str"
        )
        # For the disclosure audit and the run summary; the step strips attrs.
        out.attrs["membership"] = {"cell": cells}
        out.attrs["unplaced"] = sum(c is None for c in cells)
        return out
    answers = firms if "ateco_section" in firms.columns else classify_ateco(firms)
    n = len(answers)
    municipality = answers["municipality"].astype("str") if "municipality" in answers else None
    if municipality is None:
        municipality = pd.Series([None] * n, index=answers.index, dtype="str")
    if areas is not None and len(areas):
        blank = municipality.isna() | (municipality.str.strip() == "")
        if blank.any():
            municipality = municipality.copy()
            municipality[blank] = locate_in(answers[blank], areas)
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
    resp["position"] = "exact"
    if matches is not None:
        resp["osm_id"] = matches["osm_id"].to_numpy()
    for col in FIRMS.field_names:
        if col in answers.columns and col not in resp.columns:
            resp[col] = answers[col].to_numpy()
    resp["name"] = answers["name"].to_numpy() if "name" in answers else None
    resp["ateco_division"] = answers["ateco_division"].to_numpy()
    if matches is not None:
        resp["match_distance_m"] = matches["match_distance_m"].to_numpy()
    frames = [resp]
    if osm is not None and len(osm):
        frames.append(_unanswered(osm, matches, areas, crs=answers.crs))
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


def _unanswered(
    osm: gpd.GeoDataFrame,
    matches: pd.DataFrame | None,
    areas: gpd.GeoDataFrame | None,
    *,
    crs: object,
) -> gpd.GeoDataFrame:
    """Rows of the ``firms`` layer for the OSM firms no respondent matched."""
    taken = set(matches["osm_index"].dropna()) if matches is not None else set()
    rest = osm[~osm.index.isin(list(taken))]
    if CRS.from_user_input(rest.crs) != CRS.from_user_input(crs):
        rest = rest.to_crs(crs)
    where = pd.Series([None] * len(rest), index=rest.index, dtype="str")
    if areas is not None and len(areas):
        where = locate_in(rest, areas)
    return gpd.GeoDataFrame(
        {
            "firm_ref": [
                f"osm/{t}/{i}" for t, i in zip(rest["osm_type"], rest["osm_id"], strict=True)
            ],
            "status": "osm_only",
            "ateco_section": None,
            "section_en": None,
            "section_it": None,
            "municipality": where.to_numpy(),
            "osm_matched": True,
            "osm_id": pd.array(rest["osm_id"].to_numpy(), dtype="Int64"),
            "osm_kind": rest["kind"].to_numpy(),
            "name": rest["name"].to_numpy() if "name" in rest else None,
            "position": "exact",
        },
        geometry=rest.geometry.to_numpy(),
        crs=crs,
    )


# --------------------------------------------------------------------------- register coverage


def register_coverage(
    register: pd.DataFrame,
    matches: pd.DataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    min_group_size: int = 5,
    core: Sequence[str] = (),
    extension: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Coverage and response rate of the questionnaire against the business register.

    The register (:func:`geodistrict.sources.register.read_register`) says
    which firms exist; ``matches``
    (:func:`geodistrict.sources.register.match_register`) which of them
    answered. Counted: the active register units, by comune and ATECO 2025
    section, with the comune totals, the district total of each section and
    the district total. The respondents of a comune x section cell are
    published only when :func:`~geodistrict.production.privacy.protect_counts`
    allows it for the respondents and the non-respondents alike (so no one can
    tell whether a given firm of a small group answered), with secondary
    suppression along the comune and section totals. Register units without a
    position count too: this needs only their comune and sector.

    Parameters
    ----------
    register : DataFrame or GeoDataFrame
        Register units with ``municipality``, ``ateco_section`` and ``active``.
    matches : DataFrame
        :func:`~geodistrict.sources.register.match_register` of the answers
        and ``register`` (its ``register_index`` column is used).
    areas : GeoDataFrame, optional
        Municipal polygons indexed by name: the geometry of the comune rows
        (district rows get their union); without it rows have no geometry.
    min_group_size : int, default 5
        ``k``.
    core, extension : sequence of str
        Core and extension municipalities (:func:`zone_of`).

    Returns
    -------
    GeoDataFrame
        ``level`` (``comune_sector``, ``comune``, ``sector``, ``district``),
        ``municipality``, ``zone``, ``ateco_section``, ``section_it``,
        ``section_en``, ``register_units``, ``respondents`` (nullable, null
        where suppressed), ``response_rate`` (0..1, null where suppressed).

    Examples
    --------
    >>> import pandas as pd
    >>> from geodistrict.production.firms import register_coverage
    >>> reg = pd.DataFrame({"municipality": ["A"] * 12, "ateco_section": ["C"] * 12,
    ...                     "active": [True] * 12})
    >>> m = pd.DataFrame({"register_index": [0, 1, 2, 3, 4, 5, pd.NA]})
    >>> cov = register_coverage(reg, m, min_group_size=5)
    >>> row = cov.set_index("level").loc["district"]
    >>> int(row["register_units"]), int(row["respondents"]), float(row["response_rate"])
    (12, 6, 0.5)
    """
    from geodistrict.production.ateco import sector_labels
    from geodistrict.production.privacy import check_group_size, protect_counts

    check_group_size(min_group_size)
    require_columns(register, ["municipality", "ateco_section"], what="register",
                    hint="read it with geodistrict.sources.register.read_register")  # fmt: skip
    active = register["active"].astype(bool) if "active" in register else True
    units = register[active] if not isinstance(active, bool) else register
    answered = set(matches["register_index"].dropna()) if "register_index" in matches else set()
    table = pd.DataFrame(
        {
            "municipality": units["municipality"].astype("str").fillna("").to_numpy(),
            "section": units["ateco_section"].astype("str").fillna("?").to_numpy(),
            "answered": units.index.isin(list(answered)),
        }
    )
    counts = table.pivot_table(index="municipality", columns="section", values="answered",
                               aggfunc="size", fill_value=0)  # fmt: skip
    said = (
        table.pivot_table(
            index="municipality", columns="section", values="answered", aggfunc="sum", fill_value=0
        )
        .reindex_like(counts)
        .fillna(0)
    )
    shown = protect_counts(said.astype("int64"), min_group_size,
                           complements=(counts - said).astype("int64"))  # fmt: skip
    rows: list[dict[str, object]] = []

    def add(level: str, place: str | None, section: str | None, n: int, k: float | None) -> None:
        rows.append(
            {
                "level": level,
                "municipality": place,
                "ateco_section": section,
                "register_units": n,
                "respondents": k,
                "response_rate": None if k is None or n == 0 else round(k / n, 3),
            }
        )

    # Margins: each comune total and each sector total passes the same rule (respondents
    # and non-respondents), as a column whose total (the district) is known.
    by_place = protect_counts(said.sum(axis=1).astype("int64"), min_group_size,
                              complements=(counts - said).sum(axis=1).astype("int64"))  # fmt: skip
    by_sector = protect_counts(
        said.sum(axis=0).astype("int64"),
        min_group_size,
        complements=(counts - said).sum(axis=0).astype("int64"),
    )
    total_k, total_n = float(said.to_numpy().sum()), int(counts.to_numpy().sum())
    whole = protect_counts(
        pd.Series([int(total_k)]),
        min_group_size,
        complements=pd.Series([total_n - int(total_k)]),
        columns=False,
    )
    for place in counts.index:
        for section in counts.columns:
            n = int(counts.at[place, section])
            if n:
                k = float(said.at[place, section]) if shown.at[place, section] else None
                add("comune_sector", str(place), str(section), n, k)
        k = float(said.loc[place].sum()) if by_place.iloc[:, 0].loc[place] else None
        add("comune", str(place), None, int(counts.loc[place].sum()), k)
    for section in counts.columns:
        k = float(said[section].sum()) if by_sector.iloc[:, 0].loc[section] else None
        add("sector", None, str(section), int(counts[section].sum()), k)
    add("district", None, None, total_n, total_k if bool(whole.iloc[0, 0]) else None)
    out = pd.DataFrame(rows)
    en, it = sector_labels(out["ateco_section"])
    out.insert(3, "section_it", pd.Series(it, dtype="str"))
    out.insert(4, "section_en", pd.Series(en, dtype="str"))
    out.insert(2, "zone", zone_of(out["municipality"].fillna(""), core=core, extension=extension))
    out.loc[out["municipality"].isna(), "zone"] = None
    out["respondents"] = pd.array(out["respondents"].tolist(), dtype="Int64")
    out["response_rate"] = pd.to_numeric(out["response_rate"]).astype("float64")
    for col in ("level", "municipality", "zone", "ateco_section"):
        out[col] = out[col].astype("str")
    geometry: list[BaseGeometry | None] = [None] * len(out)
    crs = None
    if areas is not None and len(areas):
        crs = areas.crs
        whole = areas.geometry.union_all()
        lookup = dict(zip(areas.index.astype(str), areas.geometry, strict=True))
        geometry = [lookup.get(str(m)) if isinstance(m, str) else whole
                    for m in out["municipality"]]  # fmt: skip
    return gpd.GeoDataFrame(out, geometry=geometry, crs=crs)
