"""Productive district: ATECO, privacy, ground truth of specialisation, clusters and sites."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from builders import CRS, square_grid
from shapely.geometry import Point, box

from geodistrict import production as pr
from geodistrict.errors import (
    ConfigError,
    CRSError,
    MissingColumnError,
    ParameterError,
    SurveyError,
)
from geodistrict.sources.surveys import FIRMS

K = 5
# ATECO 2025 codes of five sections (issue 12: 2025 is the default edition; 71.12 is in
# section N and 62.10 in K since ATECO 2025).
SECTIONS = {"C": "25.62", "N": "71.12", "K": "62.10", "G": "46.64", "F": "43.21"}
ISSUES = pr.CRITICAL_ISSUES
TABLES = pr.WORK_TABLES
# Four municipalities on a 2 x 2 km grid (x from 0 to 4000, y from 0 to 4000).
QUADRANTS = {
    "Ciserano": (0, 0),
    "Boltiere": (2000, 0),
    "Verdellino": (0, 2000),
    "Osio": (2000, 2000),
}
CORE = ["Ciserano", "Boltiere", "Verdellino"]
EXTENSION = ["Osio"]


def _firm_rows(rng: np.random.Generator, n: int, muni: str, sections: list[str]) -> list[dict]:
    x0, y0 = QUADRANTS[muni]
    rows = []
    for _ in range(n):
        s = sections[int(rng.integers(len(sections)))]
        rows.append(
            {
                "name": f"firm {s}",
                "municipality": muni,
                "ateco": SECTIONS[s],
                "employees": int(rng.integers(1, 60)),
                "innovation_readiness": int(rng.integers(1, 6)),
                "expansion_space_m2": float(rng.choice([0, 0, 100, 500])),
                "exports": bool(rng.random() < 0.4),
                "hiring_needs": int(rng.integers(0, 4)),
                "training_needs": ["", "welding", "languages"][int(rng.integers(3))] or None,
                "funding_access": bool(rng.random() < 0.3),
                "critical_issues": ";".join(
                    sorted(rng.choice(ISSUES, size=int(rng.integers(0, 3)), replace=False))
                )
                or None,
                "work_tables": ";".join(
                    sorted(rng.choice(TABLES, size=int(rng.integers(1, 3)), replace=False))
                ),
                "geometry": Point(x0 + rng.uniform(100, 1900), y0 + rng.uniform(100, 1900)),
            }
        )
    return rows


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=CRS)
    gdf.insert(0, "firm_id", [f"F{i:03d}" for i in range(1, len(gdf) + 1)])
    for col in ("firm_id", "name", "municipality", "ateco", "training_needs",
                "critical_issues", "work_tables"):  # fmt: skip
        gdf[col] = gdf[col].astype("str")
    gdf["employees"] = gdf["employees"].astype("Int64")
    gdf["exports"] = gdf["exports"].astype("boolean")
    gdf["funding_access"] = gdf["funding_access"].astype("boolean")
    return gdf


def random_firms(seed: int, n: int = 120) -> gpd.GeoDataFrame:
    """Firms with random answers, spread over the four municipalities."""
    rng = np.random.default_rng(seed)
    rows = []
    for muni in QUADRANTS:
        rows += _firm_rows(rng, int(rng.integers(n // 8, n // 3)), muni, list(SECTIONS))
    return _frame(rows)


@pytest.fixture(scope="module")
def district() -> gpd.GeoDataFrame:
    """Ground truth: Ciserano specialises in manufacturing, around (1000, 1000)."""
    rng = np.random.default_rng(7)
    rows = []
    for muni in QUADRANTS:
        rows += _firm_rows(rng, 16, muni, ["N", "K", "G", "F"])
    for _ in range(24):  # the manufacturing district, within 150 m of (1000, 1000)
        r, a = rng.uniform(0, 150), rng.uniform(0, 2 * np.pi)
        row = _firm_rows(rng, 1, "Ciserano", ["C"])[0]
        row["geometry"] = Point(1000 + r * np.cos(a), 1000 + r * np.sin(a))
        rows.append(row)
    for muni in ("Boltiere", "Verdellino", "Osio"):  # a few scattered manufacturers
        rows += _firm_rows(rng, 2, muni, ["C"])
    return _frame(rows)


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    polys = {m: box(x, y, x + 2000, y + 2000) for m, (x, y) in QUADRANTS.items()}
    gdf = gpd.GeoDataFrame({"municipality": list(polys)}, geometry=list(polys.values()), crs=CRS)
    return gdf.set_index(pd.Index(list(polys)))


# --------------------------------------------------------------------------- ATECO


def test_ateco_table_covers_every_nace_division() -> None:
    # Issue 12: ATECO 2025 (NACE Rev. 2.1) by default: 22 sections, 87 divisions.
    table = pr.ateco_table()
    divisions = table[table["level"] == "division"]
    assert len(divisions) == 87 and "45" not in divisions.index
    assert set(table.loc[table["level"] == "section"].index) == set("ABCDEFGHIJKLMNOPQRSTUV")
    assert divisions.loc["10", "section"] == "C" and divisions.loc["33", "section"] == "C"
    assert divisions.loc["58", "section"] == "J" and divisions.loc["62", "section"] == "K"
    assert divisions.loc["64", "section"] == "L" and divisions.loc["68", "section"] == "M"
    assert divisions.loc["69", "section"] == "N" and divisions.loc["99", "section"] == "V"
    assert table["label_it"].str.len().min() > 3 and table["label_en"].str.len().min() > 3
    old = pr.ateco_table(edition="2007")
    assert (old["level"] == "division").sum() == 88 and old.loc["62", "section"] == "J"


def test_classify_ateco_reports_every_bad_row() -> None:
    frame = pd.DataFrame(
        {
            "ateco": ["25.62", "34.10", "A25.11", "C10.71", "x1", "45.40"],
            "source_row": [2, 3, 4, 5, 6, 7],
        }
    )
    with pytest.raises(SurveyError) as info:
        pr.classify_ateco(frame, source="imprese.csv")
    message = str(info.value)
    assert "imprese.csv, row 3, column 'ateco'" in message and "'34'" in message
    assert "row 4" in message and "section letter 'A'" in message
    assert "row 6" in message and "'x1'" in message
    assert "row 7" in message and "no single ATECO 2025 counterpart" in message
    assert "row 2" not in message and "row 5" not in message
    ok = pr.classify_ateco(pd.DataFrame({"ateco": ["01.11", "C25", None]}))
    assert ok["ateco_section"].tolist()[:2] == ["A", "C"]
    assert pd.isna(ok["ateco_section"].iloc[2])
    assert ok["section_it"].iloc[0] == "Agricoltura, silvicoltura e pesca"


# --------------------------------------------------------------------------- privacy


def test_protect_counts_secondary_suppression() -> None:
    table = pd.DataFrame({"C": [12, 3, 9], "M": [6, 8, 7]}, index=["a", "b", "c"])
    mask = protect_counts_checked(table)
    # b/C (3) is small; its row then leaks it through b's total, so b/M goes too; column C
    # leaks it through the C total, so the smallest other C cell goes as well.
    assert not mask.loc["b", "C"] and not mask.loc["b", "M"]
    assert not mask.loc["c", "C"] and mask.to_numpy().sum() == 3


def protect_counts_checked(table: pd.DataFrame, k: int = K) -> pd.DataFrame:
    mask = pr.protect_counts(table, k)
    assert_no_small_residual(table, table.where(mask, 0), k)
    shown = table.to_numpy()[mask.to_numpy()]
    assert ((shown == 0) | (shown >= k)).all()
    return mask


@pytest.mark.parametrize("seed", range(25))
def test_protect_counts_never_leaves_a_small_residual(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.poisson(rng.uniform(0.5, 8), size=(5, 6)))
    protect_counts_checked(table, k=int(rng.integers(2, 7)))


def assert_no_small_residual(truth: pd.DataFrame, shown: pd.DataFrame, k: int) -> None:
    """Subtracting what is shown from any known total never isolates 1..k-1 firms.

    A row (column) total is known when the row shows some firms; the totals of
    the rows that show none are known together, as the grand total minus the rest.
    """
    hidden = truth - shown
    for axis in (1, 0):
        known = (shown > 0).any(axis=axis)
        residuals = hidden.sum(axis=axis)[known].tolist()
        residuals.append(truth.sum(axis=axis)[~known].sum())
        for residual in residuals:
            assert residual == 0 or residual >= k, (axis, residual)


def _assert_counts_safe(layer: pd.DataFrame, columns: list[str], k: int) -> None:
    for col in columns:
        values = layer[col].dropna().astype(int)
        assert ((values == 0) | (values >= k)).all(), (col, values[(values > 0) & (values < k)])


@pytest.mark.parametrize("seed", range(6))
def test_no_group_below_k_in_any_layer(seed: int, areas: gpd.GeoDataFrame) -> None:
    firms = pr.classify_ateco(random_firms(seed))
    k = [3, 5, 7][seed % 3]
    zones = {"core": CORE, "extension": EXTENSION}

    spec = pr.sector_specialisation(firms, areas=areas, min_group_size=k, **zones)
    _assert_counts_safe(spec, ["firms"], k)
    truth = pd.crosstab(firms["municipality"], firms["ateco_section"])
    published = spec.pivot_table(index="area", columns="sector", values="firms", aggfunc="sum")
    published = published.reindex_like(truth).fillna(0)
    # municipality x sector: what is hidden in each municipality and each sector is 0 or >= k.
    assert_no_small_residual(truth, published, k)

    clusters = pr.firm_clusters(firms, eps_m=300, min_firms=k, **zones)
    _assert_counts_safe(clusters, ["firms"], k)

    sites = pr.service_sites(firms, p=3, max_distance_m=500, min_group_size=k, **zones)
    _assert_counts_safe(sites, ["firms_served"], k)
    served = sites["firms_served"]
    if served.isna().any() and served.notna().any():
        covered = round(sites["coverage_firms_pct"].iloc[0] / 100 * len(firms))
        assert covered - served.sum() >= k

    needs = pr.needs_summary(firms, areas, min_group_size=k, **zones)
    counts = [c for c in needs.columns if str(needs[c].dtype) == "Int64"]
    _assert_counts_safe(needs, counts, k)
    rows = needs.set_index(["level", "name"])
    for col in counts:
        # Each published count and its complement within the group are 0 or >= k ...
        rest = (rows["firms"] - rows[col]).dropna()
        assert ((rest == 0) | (rest >= k)).all(), col
        # ... and subtracting published areas from their zone, or zones from the
        # district, never isolates fewer than k firms.
        for zone, members in (("core", CORE), ("extension", EXTENSION)):
            if pd.isna(rows.loc[("zone", zone), col]):
                continue
            for values in (rows[col], rows["firms"] - rows[col]):
                shown = values.loc[[("area", m) for m in members]].dropna().sum()
                residual = values.loc[("zone", zone)] - shown
                assert residual == 0 or residual >= k, (col, zone, residual)
        if pd.notna(rows.loc[("district", "district"), col]):
            shown = rows.loc[[("zone", "core"), ("zone", "extension")], col].dropna().sum()
            residual = rows.loc[("district", "district"), col] - shown
            assert residual == 0 or residual >= k, (col, residual)
    # Sums are shown only with the count of the firms behind them.
    assert (needs["employees"].isna() == needs["firms"].isna()).all()
    assert (needs.loc[needs["hiring_needs"].notna(), "firms_hiring"].notna()).all()


def test_firms_layer_keeps_answers_local(district: gpd.GeoDataFrame) -> None:
    public = pr.firms_layer(district, core=CORE, extension=EXTENSION, min_group_size=K)
    # Issue 13: no row per firm, nothing to filter on; cells of at least k respondents.
    assert list(public.columns) == ["cell", "h3_resolution", "respondents", "geometry", "position"]
    assert (public["respondents"] >= K).all()
    assert public["respondents"].sum() + public.attrs["unplaced"] == len(district)
    assert not (set(pr.SENSITIVE_FIELDS) | {"status", "municipality", "ateco_section"}) & set(
        public.columns
    )
    # Positions are generalised: no firm stays where it answered from.
    exact = {(round(p.x, 3), round(p.y, 3)) for p in district.geometry}
    assert not {(round(p.x, 3), round(p.y, 3)) for p in public.geometry} & exact
    local = pr.firms_layer(district, publish_answers=True)
    assert {"employees", "critical_issues", "firm_id", "name"} <= set(local.columns)
    assert local.geometry.geom_equals(district.geometry.reset_index(drop=True)).all()


# --------------------------------------------------------------------------- ground truth


def test_specialised_area_is_found(district: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> None:
    spec = pr.sector_specialisation(district, areas=areas, min_group_size=K)
    manufacturing = spec[spec["sector"] == "C"].sort_values("lq", ascending=False)
    top = manufacturing.iloc[0]
    assert top["area"] == "Ciserano"
    assert top["specialised"] and top["lq"] > 1.5
    assert (manufacturing["lq"].iloc[1:] < 1).all()
    assert top.geometry.equals(areas.loc["Ciserano"].geometry)
    # Against a reference where manufacturing is common, Ciserano is less specialised.
    ref = pr.sector_specialisation(
        district, areas=areas, min_group_size=K, reference={"C": 0.9, "N": 0.1}
    )
    assert ref.set_index(["area", "sector"]).loc[("Ciserano", "C"), "lq"] < top["lq"]
    # By hexagon: with no other firm near the cluster, its hexagon stands out. (A single
    # firm of another sector in the same hexagon would hide it: the hexagon's total is
    # known from its share, so the one firm could be recovered from the 24.)
    far = district.geometry.distance(Point(1000, 1000)) > 800
    alone = district[(district["ateco"] == "25.62") | far]
    hexes = pr.sector_specialisation(alone, by="h3", h3_resolution=8, min_group_size=K)
    best = hexes.sort_values(["lq", "firms"], ascending=False).iloc[0]
    assert best["sector"] == "C" and best.geometry.distance(Point(1000, 1000)) < 500


def _planted(tmp_path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Path]:
    """Two comuni of planted respondents and an ISTAT-like reference by division.

    Alba: 6 firms of 25.62 (C) and 6 of 71.12 (N); Borgo: 10 of 25.62 and 5 of 46.64 (G);
    10 employees each.  Reference: division 25 has 30 local units and 600 employees, 71
    has 50 and 100, 46 has 20 and 300 (a ``Totale`` row is skipped).
    """
    plan = [("Alba", "25.62", 6), ("Alba", "71.12", 6), ("Borgo", "25.62", 10),
            ("Borgo", "46.64", 5)]  # fmt: skip
    rows = []
    for muni, code, n in plan:
        x0 = 0 if muni == "Alba" else 2000
        rows += [{"municipality": muni, "ateco": code, "employees": 10,
                  "geometry": Point(x0 + 100 + 50 * i, 500)} for i in range(n)]  # fmt: skip
    firms = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    areas = gpd.GeoDataFrame(
        geometry=[box(0, 0, 2000, 2000), box(2000, 0, 4000, 2000)],
        index=["Alba", "Borgo"],
        crs=CRS,
    )
    ref = tmp_path / "riferimento.csv"
    ref.write_text(
        "Divisione ATECO;Unità locali;Addetti\n"
        "C25 - Prodotti in metallo;30;600\n71;50;100\n46;20;300\nTotale;100;1.000\n",
        encoding="utf-8-sig",
    )
    return firms, areas, ref


def test_location_quotients_against_a_planted_reference_equal_the_hand_computation(
    tmp_path: Path,
) -> None:
    """Issue 12: LQ = (area share of the sector among respondents) / (reference share)."""
    firms, areas, path = _planted(tmp_path)
    reference = pr.read_lq_reference(path)
    assert reference.index.tolist() == ["25", "46", "71"]
    assert reference.loc["71", "section"] == "N" and reference.loc["25", "employees"] == 600
    spec = pr.sector_specialisation(firms, areas=areas, reference=reference, min_group_size=K)
    lq = spec.set_index(["area", "sector"])["lq"]
    # Local units: C 30/100, N 50/100, G 20/100.
    assert lq[("Alba", "C")] == round((6 / 12) / 0.3, 3) == 1.667
    assert lq[("Alba", "N")] == 1.0
    assert lq[("Borgo", "C")] == round((10 / 15) / 0.3, 3)
    assert lq[("Borgo", "G")] == round((5 / 15) / 0.2, 3)
    assert set(spec["lq_reference"]) == {"istat"}
    assert spec.set_index(["area", "sector"]).loc[("Alba", "N"), "reference_share"] == 0.5
    # Employees: C 600/1000, N 100/1000, G 300/1000; every firm has 10 employees.
    emp = pr.sector_specialisation(
        firms, areas=areas, reference=reference, weight="employees", min_group_size=K
    ).set_index(["area", "sector"])["lq"]
    assert emp[("Alba", "C")] == round(0.5 / 0.6, 3) and emp[("Alba", "N")] == 5.0
    # By division the same numbers, under the division codes.
    div = pr.sector_specialisation(
        firms, areas=areas, reference=reference, level="division", min_group_size=K
    ).set_index(["area", "sector"])["lq"]
    assert div[("Alba", "25")] == 1.667 and div[("Borgo", "46")] == round((5 / 15) / 0.2, 3)
    # Without a reference the respondents are their own: C is 16 of 27 firms.
    own = pr.sector_specialisation(firms, areas=areas, min_group_size=K)
    assert set(own["lq_reference"]) == {"respondents"}
    own_lq = own.set_index(["area", "sector"])["lq"]
    assert own_lq[("Alba", "C")] == round((6 / 12) / (16 / 27), 3)


def test_a_reference_without_the_sector_leaves_its_lq_empty_and_says_so(
    tmp_path: Path,
) -> None:
    firms, areas, _ = _planted(tmp_path)
    path = tmp_path / "ul.csv"
    path.write_text("ateco_division,local_units\n25,30\n71,50\n")
    spec = pr.sector_specialisation(
        firms, areas=areas, reference=pr.read_lq_reference(path), min_group_size=K
    )
    assert spec.attrs["sectors_without_reference"] == ["G"]
    assert np.isnan(spec.set_index(["area", "sector"]).loc[("Borgo", "G"), "lq"])
    with pytest.raises(ParameterError, match="no 'employees' counts"):
        pr.sector_specialisation(
            firms, areas=areas, reference=pr.read_lq_reference(path), weight="employees"
        )


def test_an_ateco_2007_reference_is_converted_to_2025_divisions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ul2007.csv"
    path.write_text("divisione_ateco;unita_locali;addetti\n62;4;10\n45;7;20\n25;3;9,5\n")
    with caplog.at_level("WARNING"):
        ref = pr.read_lq_reference(path, edition="2007")
    # 62 keeps its number and moves from section J to K; 45 (split among 46, 47, 95 in
    # ATECO 2025) is left out with a warning.
    assert ref.index.tolist() == ["25", "62"] and ref.loc["62", "section"] == "K"
    assert ref.loc["25", "employees"] == 9.5
    assert "45" in caplog.text and "left out" in caplog.text
    bad = tmp_path / "bad.csv"
    bad.write_text("ateco_division;local_units\n34;5\n")
    with pytest.raises(ParameterError, match="division '34' does not exist"):
        pr.read_lq_reference(bad)
    with pytest.raises(ParameterError, match="needs the columns"):
        bad.write_text("comune;addetti\nMezzocorona;5\n")
        pr.read_lq_reference(bad)


def test_suppressed_cells_are_counted_and_an_empty_result_is_typed(
    district: gpd.GeoDataFrame, areas: gpd.GeoDataFrame
) -> None:
    """Issue 11: "0 cells published, 12 suppressed" was only logged at INFO. The counts
    now travel with the layer (the pipeline step turns them into a warning), and a
    layer where every cell is suppressed is still typed, with its geometry and CRS."""
    spec = pr.sector_specialisation(district, areas=areas, min_group_size=K)
    assert spec.attrs["cells_published"] == len(spec) > 0
    assert spec.attrs["cells_suppressed"] > 0
    few = district.groupby("municipality").head(3)  # 3 firms per municipality < K
    none = pr.sector_specialisation(few, areas=areas, min_group_size=K)
    assert len(none) == 0 and none.attrs["cells_published"] == 0
    assert none.attrs["cells_suppressed"] > 0
    assert none.crs == district.crs and none.geometry.name == "geometry"
    assert none["lq"].dtype == "float64" and none["firms"].dtype == "int64"
    clusters = pr.firm_clusters(few, min_firms=K)
    assert len(clusters) == 0 and clusters["area_ha"].dtype == "float64"


def test_manufacturing_cluster_is_found(district: gpd.GeoDataFrame) -> None:
    clusters = pr.firm_clusters(district, eps_m=120, min_firms=K)
    manufacturing = clusters[clusters["sector"] == "C"]
    assert len(manufacturing) == 1
    cluster = manufacturing.iloc[0]
    assert cluster.geometry.contains(Point(1000, 1000))
    assert cluster["firms"] >= 20 and cluster["municipalities"] == "Ciserano"
    assert cluster["sector_en"] == "Manufacturing"
    # Scattered services over 16 km² make no cluster at this radius.
    assert clusters["firms"].min() >= K


def test_best_service_site_is_found() -> None:
    rng = np.random.default_rng(3)
    centres = [(0.0, 0.0), (3000.0, 0.0)]
    pts = [Point(cx + rng.uniform(-100, 100), cy + rng.uniform(-100, 100))
           for cx, cy in centres for _ in range(10)]  # fmt: skip
    firms = gpd.GeoDataFrame({"employees": [5] * 20}, geometry=pts, crs=CRS)
    firms["ateco"] = "25.62"
    cands = gpd.GeoDataFrame(
        geometry=[Point(1500, 0), Point(0, 0), Point(3000, 0), Point(0, 900)],
        index=["middle", "west", "east", "north"],
        crs=CRS,
    )
    sites = pr.service_sites(firms, candidates=cands, p=2, max_distance_m=300, min_group_size=K)
    assert sorted(sites["candidate"]) == ["east", "west"]
    assert (sites["coverage_firms_pct"] == 100).all()
    assert sites["firms_served"].tolist() == [10, 10]
    one = pr.service_sites(firms.iloc[:13], candidates=cands, p=1, max_distance_m=300)
    assert one["candidate"].tolist() == ["west"]


def test_service_site_on_the_walk_graph_uses_network_distance() -> None:
    graph = square_grid(11, 100.0)
    # Firms on the four nodes around (500, 500), 100 m away along the grid; one far corner firm.
    pts = [Point(400, 500), Point(600, 500), Point(500, 400), Point(500, 600), Point(0, 0)]
    firms = gpd.GeoDataFrame({"employees": [1] * 5}, geometry=pts, crs=CRS)
    firms["ateco"] = "62.01"
    sites = pr.service_sites(
        firms, graph=graph, p=1, max_distance_m=150, weight="firms", min_group_size=1
    )
    assert sites.geometry.iloc[0].equals(Point(500, 500))
    assert sites["mode"].iloc[0] == "graph" and sites["coverage_firms_pct"].iloc[0] == 80.0
    # A diagonal neighbour is 141 m away in a straight line but 200 m along the streets.
    diag = gpd.GeoDataFrame({"employees": [1]}, geometry=[Point(600, 600)], crs=CRS)
    diag["ateco"] = "62.01"
    cand = gpd.GeoDataFrame(geometry=[Point(500, 500)], crs=CRS)
    straight = pr.service_sites(diag, candidates=cand, p=1, max_distance_m=150, min_group_size=1)
    network = pr.service_sites(
        diag, candidates=cand, graph=graph, p=1, max_distance_m=150, min_group_size=1
    )
    assert straight["coverage_firms_pct"].iloc[0] == 100.0
    assert network["coverage_firms_pct"].iloc[0] == 0.0


def test_needs_compare_core_and_extension(
    district: gpd.GeoDataFrame, areas: gpd.GeoDataFrame
) -> None:
    needs = pr.needs_summary(district, areas, min_group_size=K, core=CORE, extension=EXTENSION)
    rows = needs.set_index(["level", "name"])
    assert rows.loc[("district", "district"), "firms"] == len(district)
    assert rows.loc[("zone", "core"), "firms"] == (district["municipality"] != "Osio").sum()
    assert rows.loc[("zone", "extension"), "firms"] == (district["municipality"] == "Osio").sum()
    assert set(needs["level"]) == {"area", "zone", "district", "work_table"}
    employees = rows.loc[("district", "district"), "employees"]
    assert employees == district["employees"].sum()


def test_osm_matching_and_coverage(areas: gpd.GeoDataFrame) -> None:
    firms = gpd.GeoDataFrame(
        {"name": ["Rossi Meccanica Srl", "Bianchi", "Verdi"], "municipality": "Ciserano",
         "ateco": "25.62"},
        geometry=[Point(100, 100), Point(500, 500), Point(900, 900)], crs=CRS,
    )  # fmt: skip
    osm = gpd.GeoDataFrame(
        {"osm_id": [1, 2, 3], "osm_type": "node", "name": ["Rossi Meccanica", None, "Neri"],
         "kind": "office=company", "source": "poi"},
        geometry=[Point(190, 100), Point(510, 500), Point(1500, 1500)], crs=CRS,
    )  # fmt: skip
    matches = pr.match_firms(firms, osm, max_distance_m=40)
    assert matches["osm_id"].tolist()[:2] == [1, 2] and pd.isna(matches["osm_id"].iloc[2])
    # The follow-up list of OSM firms that did not answer is for the district office only
    # (publish_answers); the published layer names no OSM firm (issue 13).
    layer = pr.firms_layer(firms, osm=osm, matches=matches, areas=areas, publish_answers=True)
    assert layer.loc[layer["status"] == "osm_only", "name"].tolist() == ["Neri"]
    public = pr.firms_layer(firms, osm=osm, matches=matches, areas=areas, min_group_size=1)
    assert "status" not in public.columns and public["respondents"].sum() == 3
    assert layer.loc[layer["status"] == "respondent", "osm_matched"].tolist() == [
        True, True, False,
    ]  # fmt: skip
    needs = pr.needs_summary(firms, areas, min_group_size=1, osm=osm, matches=matches)
    row = needs.set_index("name").loc["Ciserano"]
    assert (row["osm_firms"], row["osm_not_answered"], row["firms"]) == (3, 1, 3)
    assert row["response_rate"] == 0.75


def test_bad_inputs_name_the_value(district: gpd.GeoDataFrame) -> None:
    with pytest.raises(ValueError, match="got 0"):
        pr.service_sites(district, p=0)
    with pytest.raises(CRSError, match="geographic"):
        pr.sector_specialisation(district.to_crs(4326))
    with pytest.raises(ValueError, match="'county'"):
        pr.sector_specialisation(district, by="county")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_group_size must be at least 1, got 0"):
        pr.protect_counts(pd.Series([1, 2]), 0)


def test_missing_columns_are_named(district: gpd.GeoDataFrame) -> None:
    no_code = district.drop(columns="ateco")
    with pytest.raises(MissingColumnError, match="no column 'ateco'") as info:
        pr.sector_specialisation(no_code)
    assert info.value.column == "ateco"
    with pytest.raises(MissingColumnError, match=r"'employees'.*weight='firms'"):
        pr.service_sites(district.drop(columns="employees"), weight="employees")
    with pytest.raises(MissingColumnError, match=r"'municipality'.*by='h3'"):
        pr.sector_specialisation(district.drop(columns="municipality"))
    spaces = district[["geometry"]].iloc[:2]
    with pytest.raises(MissingColumnError, match="spaces have no column 'floor_area_m2'"):
        pr.match_expansion(district, spaces)


def test_core_and_extension_must_not_overlap(sample_config) -> None:  # type: ignore[no-untyped-def]
    from geodistrict.pipeline.steps.production import STEP

    section = sample_config.production.model_copy(
        update={"core_municipalities": ["Ciserano"], "extension_municipalities": ["ciserano"]}
    )
    config = sample_config.model_copy(update={"production": section})
    with pytest.raises(ConfigError, match=r"production\.core_municipalities.*'ciserano'"):
        STEP.check(config)  # type: ignore[misc]
    STEP.check(sample_config)  # type: ignore[misc]


# --------------------------------------------------------------------------- pipeline


def test_sample_run_writes_safe_production_layers(sample_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import geodistrict as gd

    result = gd.run(sample_config, out=tmp_path, only=["base", "surveys", "production"])
    layers = result.manifest["layers"]
    for name in ("firms", "sector_specialisation", "firm_clusters", "service_sites",
                 "production_needs"):  # fmt: skip
        assert layers[name]["features"] > 0, name
        assert "OpenStreetMap" in layers[name]["attribution"] or name in (
            "sector_specialisation", "firm_clusters",
        )  # fmt: skip
        assert layers[name]["title"] != name.replace("_", " ").capitalize()
    gpkg = result.folder / "sample.gpkg"
    firms = pyogrio.read_dataframe(gpkg, layer="firms")
    assert not set(FIRMS.field_names) - {"ateco", "municipality", "name"} & set(firms.columns)
    assert not {"employees", "critical_issues", "firm_id", "osm_building_id", "note"} & set(
        firms.columns
    )
    k = sample_config.production.min_group_size
    # Issue 13: respondents only as counts of H3 cells of at least k; no OSM firm listed.
    assert "status" not in firms.columns and "name" not in firms.columns
    assert (firms["respondents"] >= k).all()
    spec = pyogrio.read_dataframe(gpkg, layer="sector_specialisation")
    assert (spec["firms"] >= k).all()
    assert ((spec["area"] == "Punavuori") & (spec["sector"] == "C") & spec["specialised"]).any()
    clusters = pyogrio.read_dataframe(gpkg, layer="firm_clusters")
    # A cluster's count may be hidden by the disclosure audit; its polygon stays.
    assert (clusters["firms"].dropna() >= k).all() and len(clusters) == 2
    needs = pyogrio.read_dataframe(gpkg, layer="production_needs")
    counts = ["firms", "firms_hiring", "issue_security", "table_training_work"]
    _assert_counts_safe(needs, counts, k)
    assert {"core", "extension"} <= set(needs["name"])


@pytest.mark.parametrize("name", ["firms_template.csv", "firms_template.xlsx"])
def test_blank_templates_follow_the_schema(name: str) -> None:
    from openpyxl import load_workbook

    from geodistrict.sources.surveys import read_survey

    path = Path(__file__).resolve().parent.parent / "data" / "templates" / name
    if name.endswith(".csv"):
        firms = read_survey(path, FIRMS)
        assert len(firms) == 1 and firms["ateco"].iloc[0] == "25.62"
        assert pr.classify_ateco(firms)["ateco_section"].iloc[0] == "C"
    else:
        book = load_workbook(path)
        header = [c.value for c in book["firms"][1]]
        assert header == list(FIRMS.field_names)
        notes = book["istruzioni - instructions"]
        described = {row[0] for row in notes.iter_rows(min_row=2, values_only=True)}
        assert set(FIRMS.field_names) <= described
