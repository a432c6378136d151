"""Disclosure control across layers (issue 13): the audit, and the outputs it protects.

Each test attacks the published layers the way an outsider with all of them
would (differencing, complements, filters, the public OSM POIs), on a planted
district where the attack succeeds before the fix; the audit must find it, and
after the fix the attack must fail and the audit find nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from builders import CRS
from shapely.geometry import Point, box

import geodistrict as gd
from geodistrict import hexagons
from geodistrict import production as pr
from geodistrict.errors import ParameterError
from geodistrict.production.privacy import anonymous_cells, dominated, protect_counts

K = 5
ROOT = Path(__file__).resolve().parent.parent
AREAS = {"Alba": box(0, 0, 2000, 2000), "Borgo": box(2000, 0, 4000, 2000)}


def _areas() -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame({"municipality": list(AREAS)}, geometry=list(AREAS.values()), crs=CRS)
    return frame.set_index(pd.Index(list(AREAS)))


def _firms(rows: list[tuple[str, str, float, float, int]]) -> gpd.GeoDataFrame:
    """Respondents from (municipality, ATECO code, x, y, employees)."""
    frame = gpd.GeoDataFrame(
        {
            "firm_id": [f"F{i:03d}" for i in range(1, len(rows) + 1)],
            "name": [f"Ditta {i}" for i in range(1, len(rows) + 1)],
            "municipality": [r[0] for r in rows],
            "ateco": [r[1] for r in rows],
            "employees": pd.array([r[4] for r in rows], dtype="Int64"),
        },
        geometry=[Point(r[2], r[3]) for r in rows],
        crs=CRS,
    )
    for col in ("firm_id", "name", "municipality", "ateco"):
        frame[col] = frame[col].astype("str")
    return pr.classify_ateco(frame)


@pytest.fixture(scope="module")
def planted() -> gpd.GeoDataFrame:
    """Alba: a cluster of 10 metalworkers around (1000, 1000) and 2 more far from it
    (7 and 8 employees: the issue's 2 firms with 15); shops and offices elsewhere."""
    rng = np.random.default_rng(13)
    rows: list[tuple[str, str, float, float, int]] = []
    for i in range(10):
        angle = 2 * np.pi * i / 10
        rows.append(("Alba", "25.62", 1000 + 60 * np.cos(angle), 1000 + 60 * np.sin(angle), 10))
    rows += [("Alba", "25.62", 200, 200, 7), ("Alba", "25.62", 1800, 1800, 8)]
    for _ in range(8):
        rows.append(("Alba", "47.11", *rng.uniform(100, 1900, 2), int(rng.integers(3, 12))))
    for code, n in (("25.62", 6), ("47.11", 8), ("71.12", 7)):
        for _ in range(n):
            x, y = rng.uniform(2100, 3900), rng.uniform(100, 1900)
            rows.append(("Borgo", code, x, y, int(rng.integers(3, 12))))
    return _firms(rows)


def _cell(layer: pd.DataFrame, **where: str) -> pd.Series | None:
    rows = layer
    for col, value in where.items():
        rows = rows[rows[col] == value]
    return rows.iloc[0] if len(rows) else None


# --------------------------------------------------------------------------- rules


def test_dominance_rule_and_its_parameters() -> None:
    # (2, 0.85): the two largest of 50, 40, 5, 3, 2 are 90% of the sum.
    assert dominated([50, 40, 5, 3, 2]) and not dominated([20, 20, 20, 20, 20])
    assert dominated([60, 10, 10, 10, 10], (1, 0.5)) and not dominated(
        [60, 10, 10, 10, 10], (1, 0.6)
    )
    assert dominated([3, 0, 0]) and not dominated([0, 0, 0])  # one contributor is all of it
    for bad in [(0, 0.8), (2, 0.0), (2, 1.5), (1.5, 0.8), (2,)]:
        with pytest.raises(ParameterError, match="dominance"):
            dominated([1, 2, 3], bad)  # type: ignore[arg-type]


def test_protect_counts_protects_a_forced_cell() -> None:
    # A cell hidden for a reason of its own (a dominated sum) is never left alone on a line.
    counts = pd.Series([12, 9, 8], index=["a", "b", "c"])
    forced = pd.Series([True, False, False], index=counts.index)
    shown = protect_counts(counts, K, rows=False, primary=forced).iloc[:, 0]
    assert not shown["a"] and (~shown).sum() == 2


def test_anonymous_cells_hold_at_least_k_points_and_contain_them() -> None:
    rng = np.random.default_rng(1)
    pts = gpd.GeoSeries(
        [Point(*rng.uniform(0, 3000, 2)) for _ in range(60)]
        + [Point(1500 + rng.normal(0, 30), 1500 + rng.normal(0, 30)) for _ in range(20)],
        crs=CRS,
    )
    cells = anonymous_cells(pts, k=K, resolution=9)
    placed = pd.Series([c for c in cells if c is not None])
    assert (placed.value_counts() >= K).all()
    assert placed.str.len().gt(0).all() and len(placed) >= 70
    # Each point lies in the cell it is counted in.
    polygons = dict(
        zip(placed.unique(), hexagons.cell_polygons(list(placed.unique()), crs=CRS), strict=True)
    )
    for point, cell in zip(pts, cells, strict=True):
        if cell is not None:
            assert polygons[cell].buffer(1).contains(point)


# --------------------------------------------------------------------------- differencing


def _attack_cluster_minus_cell(
    spec: pd.DataFrame, clusters: pd.DataFrame
) -> tuple[float, float] | None:
    """Firms and employees of Alba's metalworkers outside the cluster, if computable."""
    cell = _cell(spec, area="Alba", sector="C")
    cluster = _cell(clusters, sector="C")
    if cell is None or cluster is None:
        return None
    firms = cell["firms"] - cluster["firms"]
    employees = cell["employees"] - cluster["employees"]
    if pd.isna(firms) or pd.isna(employees):
        return None
    return float(firms), float(employees)


def test_differencing_a_cluster_and_a_cell_is_found_then_prevented(
    planted: gpd.GeoDataFrame,
) -> None:
    layers = {
        "sector_specialisation": pr.sector_specialisation(
            planted, areas=_areas(), min_group_size=K
        ),
        "firm_clusters": pr.firm_clusters(planted, eps_m=150, min_firms=K),
    }
    # Before: each layer alone is safe, but together they give away 2 firms and 15 employees.
    assert (layers["sector_specialisation"]["firms"] >= K).all()
    assert (layers["firm_clusters"]["firms"] >= K).all()
    assert _attack_cluster_minus_cell(
        layers["sector_specialisation"], layers["firm_clusters"]
    ) == (2.0, 15.0)
    found = pr.audit_disclosure(layers, respondents=planted, k=K)
    isolated = found[found["firms"] == 2]
    assert {"firms", "employees"} <= set(isolated["variable"])
    assert set(isolated["kind"]) <= {"differencing", "linear"}
    assert isolated["cells"].str.contains("firm_clusters").all()
    # After: the attack has nothing to subtract, and the audit finds nothing.
    safe, report = pr.protect_layers(layers, respondents=planted, k=K)
    assert _attack_cluster_minus_cell(safe["sector_specialisation"], safe["firm_clusters"]) is None
    assert pr.audit_disclosure(safe, respondents=planted, k=K).empty
    assert report["hidden"] and report["cells_after"] < report["cells_before"]  # type: ignore[operator]
    # The location quotients (the result) are kept; the cluster keeps its polygon.
    assert _cell(safe["sector_specialisation"], area="Alba", sector="C") is not None
    assert len(safe["firm_clusters"]) == len(layers["firm_clusters"])
    # The input layers are not modified.
    assert layers["firm_clusters"]["firms"].notna().all()


def test_cluster_polygon_contains_its_firms_without_pointing_at_one(
    planted: gpd.GeoDataFrame,
) -> None:
    # A cluster with a member far from the others: its polygon must not reach out to it
    # with a vertex at a cell of one firm.
    rows = [("Alba", "25.62", 1000 + 40 * i, 1000, 10) for i in range(6)]
    rows.append(("Alba", "25.62", 1000 + 40 * 5 + 140, 1000, 10))  # within eps of the last
    firms = _firms(rows)
    cluster = pr.firm_clusters(firms, eps_m=150, min_firms=K).iloc[0]
    assert cluster["firms"] == 7
    assert all(cluster.geometry.contains(p) for p in firms.geometry)
    # Every vertex of the polygon is a vertex of an H3 cell holding at least k members: the
    # polygon says where k firms are, never where one is.
    allowed: set[tuple[float, float]] = set()
    for res in range(6, 10):
        cells = pd.Series(hexagons.cells_of(firms.geometry, resolution=res))
        full = list(cells.value_counts()[lambda c: c >= K].index)
        for poly in hexagons.cell_polygons(full, crs=CRS):
            allowed |= {(round(x, 3), round(y, 3)) for x, y in poly.exterior.coords}
    vertices = {(round(x, 3), round(y, 3)) for x, y in cluster.geometry.exterior.coords}
    assert vertices <= allowed
    # Drawn from the members' own cells, the polygon would have pointed at the last one.
    own = shapely.union_all(
        hexagons.cell_polygons(
            sorted(set(hexagons.cells_of(firms.geometry, resolution=9))), crs=CRS
        )
    ).convex_hull
    assert {(round(x, 3), round(y, 3)) for x, y in own.exterior.coords} - allowed


# --------------------------------------------------------------------------- complements


def _coverage_planted() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Core (Alba): 20 firms by site A, 5 far; extension (Borgo): 5 by site B, 1 far."""
    rows = [("Alba", "25.62", 500 + 10 * i, 500, 10) for i in range(20)]
    rows += [("Alba", "25.62", 1700 + 30 * i, 1900, 10) for i in range(5)]
    rows += [("Borgo", "47.11", 3000 + 10 * i, 500, 10) for i in range(5)]
    rows += [("Borgo", "47.11", 3900, 1900, 10)]
    firms = _firms(rows)
    candidates = gpd.GeoDataFrame(geometry=[Point(600, 500), Point(3020, 500)], crs=CRS)
    return firms, candidates


def _attack_extension_uncovered(sites: pd.DataFrame, firms: gpd.GeoDataFrame) -> float | None:
    """District covered minus core covered: the extension's covered firms, then uncovered."""
    first = sites.iloc[0]
    if pd.isna(first["coverage_firms_pct"]) or pd.isna(first["coverage_core_pct"]):
        return None
    core = int((firms["municipality"] == "Alba").sum())
    extension = len(firms) - core
    covered = first["coverage_firms_pct"] / 100 * len(firms)
    covered_core = first["coverage_core_pct"] / 100 * core
    return round(extension - (covered - covered_core))


def test_suppressed_coverage_recomputed_from_the_others_is_found_then_prevented() -> None:
    firms, candidates = _coverage_planted()
    zones = {"core": ["Alba"], "extension": ["Borgo"]}
    sites = pr.service_sites(
        firms, candidates=candidates, p=2, max_distance_m=300, min_group_size=K, **zones
    )
    # The fix: the extension's percentage is hidden (1 firm not covered), and so is the
    # core's, since the district's would give it back.
    assert sites["coverage_extension_pct"].isna().all() and sites["coverage_core_pct"].isna().all()
    assert _attack_extension_uncovered(sites, firms) is None
    # Before the fix, only the extension's was hidden: rebuild that layer.
    before = sites.copy()
    before.attrs = sites.attrs
    before["coverage_core_pct"] = 80.0  # 20 of the core's 25 firms
    assert _attack_extension_uncovered(before, firms) == 1
    found = pr.audit_disclosure({"service_sites": before}, respondents=firms, k=K)
    hit = found[found["cells"].str.contains("coverage")]
    # The suppressed percentage gives away the one firm of the extension not covered.
    assert 1 in set(hit.loc[hit["kind"] == "recomputable", "firms"])
    safe, _ = pr.protect_layers({"service_sites": before}, respondents=firms, k=K)
    assert _attack_extension_uncovered(safe["service_sites"], firms) is None
    assert pr.audit_disclosure(safe, respondents=firms, k=K).empty


def test_area_minus_the_other_areas_of_the_district_is_protected(
    planted: gpd.GeoDataFrame,
) -> None:
    # A zone made of one area is that area, and the district minus the other zone's areas
    # gives it back: counts hidden there must stay hidden on every line.
    zones = {"core": ["Alba"], "extension": ["Borgo"]}
    needs = pr.needs_summary(planted, _areas(), min_group_size=K, **zones)
    rows = needs.set_index("name")
    for col in [c for c in needs.columns if str(needs[c].dtype) == "Int64"]:
        district = rows.loc["district", col]
        if pd.isna(district):
            continue
        for area, other in (("Alba", "Borgo"), ("Borgo", "Alba")):
            if pd.isna(rows.loc[area, col]) and pd.notna(rows.loc[other, col]):
                rest = district - rows.loc[other, col]
                pytest.fail(f"{col}: {area} = district - {other} = {rest}")
    assert pr.audit_disclosure({"production_needs": needs}, respondents=planted, k=K).empty


# --------------------------------------------------------------------------- filters


def _old_public_firms(firms: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The firms layer as published before issue 13: a row per respondent at its H3 cell."""
    layer = pr.firms_layer(firms, publish_answers=True)
    cells = hexagons.cells_of(layer.geometry, resolution=9)
    layer = layer.set_geometry(hexagons.cell_centres(cells, crs=CRS))
    keep = ["firm_ref", "status", "ateco_section", "municipality", "zone", "osm_matched",
            "position", "geometry"]  # fmt: skip
    return layer[keep]


def test_filtering_firm_rows_is_found_then_prevented(planted: gpd.GeoDataFrame) -> None:
    old = _old_public_firms(planted)
    # The attack: ?status=respondent&municipality=Borgo&ateco_section=C... with counts 1-4.
    counts = old[old["status"] == "respondent"].groupby(["municipality", "ateco_section"]).size()
    positions = old.geometry.to_wkt().value_counts()
    assert ((positions > 0) & (positions < K)).any()
    found = pr.audit_disclosure({"firms": old}, respondents=planted, k=K)
    assert "filter" in set(found["kind"])
    assert int(found.loc[found["kind"] == "filter", "firms"].min()) == int(
        min(counts.min(), positions.min())
    )
    new = pr.firms_layer(planted, min_group_size=K)
    # Nothing to filter on; every position stands for at least k respondents.
    assert not {"status", "municipality", "ateco_section", "zone"} & set(new.columns)
    assert (new["respondents"] >= K).all()
    assert new.geometry.to_wkt().is_unique
    assert pr.audit_disclosure({"firms": new}, respondents=planted, k=K).empty


# --------------------------------------------------------------------------- OSM


def _osm_planted() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Respondents and public OSM POIs: in Alba 3 OSM firms, 2 of them respondents."""
    firms = _firms(
        [("Alba", "25.62", 300 + 100 * i, 300, 10) for i in range(6)]
        + [("Borgo", "47.11", 2300 + 100 * i, 300, 10) for i in range(6)]
    )
    tags = json.dumps({"office": "company"})
    pois = gpd.GeoDataFrame(
        {
            "osm_id": [101, 102, 103, 201],
            "osm_type": "node",
            "name": ["Ditta 1", "Ditta 2", "Officina Neri", "Bar Centrale"],
            "tags": [tags, tags, tags, json.dumps({"amenity": "cafe"})],
            "vacant": False,
        },
        geometry=[Point(300, 305), Point(400, 305), Point(1500, 1500), Point(2500, 900)],
        crs=CRS,
    )
    return firms, pois, pr.osm_firms(pois)


def test_respondents_named_by_osm_differencing_is_found_then_prevented() -> None:
    firms, pois, osm = _osm_planted()
    matches = pr.match_firms(firms, osm)
    old = pr.firms_layer(firms, osm=osm, matches=matches, publish_answers=True)
    listed = set(old.loc[old["status"] == "osm_only", "firm_ref"].str.removeprefix("osm/"))
    # The attack: the OSM firms minus those listed as not answering are respondents.
    public = {f"{t}/{i}" for t, i in zip(osm["osm_type"], osm["osm_id"], strict=True)}
    assert public - listed == {"node/101", "node/102"}
    found = pr.audit_disclosure({"firms": old, "pois": pois}, respondents=firms, k=K)
    osm_found = found[found["kind"] == "osm_differencing"]
    assert len(osm_found) == 1 and int(osm_found["firms"].iloc[0]) == 2
    new = pr.firms_layer(firms, osm=osm, matches=matches, min_group_size=K)
    assert not {"osm_id", "name", "firm_ref", "status"} & set(new.columns)
    assert pr.audit_disclosure({"firms": new, "pois": pois}, respondents=firms, k=K).empty


def test_osm_counts_that_nearly_name_respondents_are_hidden() -> None:
    firms, _, osm = _osm_planted()
    matches = pr.match_firms(firms, osm)
    needs = pr.needs_summary(firms, _areas(), min_group_size=K, osm=osm, matches=matches)
    rows = needs.set_index("name")
    # Alba: 2 of its 3 OSM firms answered. Publishing 1 not answered says so.
    assert rows.loc["Alba", "osm_firms"] == 3 and pd.isna(rows.loc["Alba", "osm_not_answered"])
    assert pd.isna(rows.loc["Alba", "response_rate"])
    assert pr.audit_disclosure({"production_needs": needs}, respondents=firms, k=K).empty
    old = needs.copy()
    old.attrs = needs.attrs
    old.loc[old["name"] == "Alba", "osm_not_answered"] = 1
    found = pr.audit_disclosure({"production_needs": old}, respondents=firms, k=K)
    assert "osm_differencing" in set(found["kind"])
    safe, _ = pr.protect_layers({"production_needs": old}, respondents=firms, k=K)
    assert pd.isna(safe["production_needs"].set_index("name").loc["Alba", "osm_not_answered"])


# --------------------------------------------------------------------------- dominance


def test_a_sum_one_firm_dominates_is_hidden(planted: gpd.GeoDataFrame) -> None:
    heavy = planted.copy()
    big = heavy.index[(heavy["municipality"] == "Borgo") & (heavy["ateco_section"] == "G")][0]
    heavy.loc[big, "employees"] = 400  # one shop of 400 among shops of 3-11
    spec = pr.sector_specialisation(heavy, areas=_areas(), min_group_size=K)
    cell = _cell(spec, area="Borgo", sector="G")
    assert cell is not None and pd.isna(cell["employees"]) and cell["firms"] == 8
    published = spec.copy()
    published.attrs = spec.attrs
    published.loc[(spec["area"] == "Borgo") & (spec["sector"] == "G"), "employees"] = 450.0
    found = pr.audit_disclosure({"sector_specialisation": published}, respondents=heavy, k=K)
    assert "dominance" in set(found.loc[found["variable"] == "employees", "kind"])
    # A looser rule lets it through: the rule is a parameter.
    loose = pr.sector_specialisation(heavy, areas=_areas(), min_group_size=K, dominance=(1, 0.95))
    assert pd.notna(_cell(loose, area="Borgo", sector="G")["employees"])  # type: ignore[index]


# --------------------------------------------------------------------------- pipeline


def _sample(
    config: Path,
) -> tuple[dict[str, gpd.GeoDataFrame], gpd.GeoDataFrame, gpd.GeoDataFrame, int]:
    from geodistrict.pipeline.steps.production import production_layers

    cfg = gd.load_config(config)
    base = gd.load_base_layers(cfg)
    firms = gd.read_survey(cfg.surveys.firms, gd.FIRMS, crs=base.crs)
    vacant = (
        gd.read_survey(cfg.surveys.vacant_units, gd.VACANT_UNITS, crs=base.crs)
        if cfg.surveys.vacant_units
        else None
    )
    layers = production_layers(
        base, firms, cfg.production, vacant_units=vacant, keep_membership=True
    )
    return layers, firms, base.pois, cfg.production.min_group_size


@pytest.mark.slow
@pytest.mark.parametrize("config", ["sample.yml", "piana_rotaliana.yml"])
def test_the_audit_passes_on_both_samples(config: str) -> None:
    layers, firms, pois, k = _sample(ROOT / "config" / config)
    found = pr.audit_disclosure(layers | {"pois": pois}, respondents=firms, k=k)
    assert found.empty, found.to_string()
    # And the attacks of the issue fail on them.
    assert "status" not in layers["firms"].columns and (layers["firms"]["respondents"] >= k).all()
    for cluster in layers["firm_clusters"].itertuples():
        cells = layers["sector_specialisation"]
        for cell in cells[cells["sector"] == cluster.sector].itertuples():
            if pd.notna(cluster.firms):
                rest = cell.firms - cluster.firms
                assert rest <= 0 or rest >= k


@pytest.mark.slow
def test_the_unprotected_sample_is_attacked_as_the_issue_says(sample_config) -> None:  # type: ignore[no-untyped-def]
    # What the sample published before issue 13: each layer safe on its own.
    base = gd.load_base_layers(sample_config)
    firms = pr.classify_ateco(gd.read_survey(sample_config.surveys.firms, gd.FIRMS, crs=base.crs))
    prod = sample_config.production
    zones = {"core": prod.core_municipalities, "extension": prod.extension_municipalities}
    layers = {
        "sector_specialisation": pr.sector_specialisation(
            firms, min_group_size=prod.min_group_size, **zones
        ),
        "firm_clusters": pr.firm_clusters(firms, min_firms=prod.min_group_size, **zones),
    }
    found = pr.audit_disclosure(layers, respondents=firms, k=prod.min_group_size)
    small = found[found["variable"] == "employees"]
    assert len(small) and (small["firms"] < prod.min_group_size).all()
    safe, _ = pr.protect_layers(layers, respondents=firms, k=prod.min_group_size)
    assert pr.audit_disclosure(safe, respondents=firms, k=prod.min_group_size).empty
