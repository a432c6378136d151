"""The fast disclosure audit gives exactly what the plain one gave (issue 17).

``tests/disclosure_reference.py`` is the audit as it was before it was made
fast (one SVD per system, every system audited again after each hidden
number).  Here both run on the same layers: random planted districts built by
the library's own functions, hand-made layers that publish far too much (so
that many rounds of secondary suppression and many linear combinations are
needed), and both samples.  The findings of :func:`audit_disclosure` and
everything :func:`protect_layers` returns must be the same, frame for frame.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from builders import CRS
from disclosure_reference import _protect_hierarchy as reference_hierarchy
from disclosure_reference import audit_disclosure as reference_audit
from disclosure_reference import protect_layers as reference_protect
from pandas.testing import assert_frame_equal, assert_series_equal
from shapely.geometry import Point, box

import geodistrict as gd
from geodistrict import production as pr
from geodistrict.production import _audit_linear, disclosure, needs

ROOT = Path(__file__).resolve().parent.parent
AREAS = {
    "Alba": box(0, 0, 2000, 2000),
    "Borgo": box(2000, 0, 4000, 2000),
    "Cima": box(0, 2000, 4000, 3000),
}
CODES = ["25.62", "25.11", "47.11", "71.12", "10.71", "62.01"]


@pytest.fixture(scope="module")
def survey() -> gpd.GeoDataFrame:
    """The answers of the Helsinki sample's firms, to draw planted respondents from."""
    cfg = gd.load_config(ROOT / "config" / "sample.yml")
    return gd.read_survey(cfg.surveys.firms, gd.FIRMS, crs=CRS)


def _areas() -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame({"municipality": list(AREAS)}, geometry=list(AREAS.values()), crs=CRS)
    return frame.set_index(pd.Index(list(AREAS)))


def _planted(survey: gpd.GeoDataFrame, seed: int) -> tuple[dict, gpd.GeoDataFrame, int]:
    """A random district: survey answers at random places, layers built by the library."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 91))
    firms = survey.sample(n, random_state=seed).reset_index(drop=True)
    names = list(AREAS)
    firms["municipality"] = rng.choice(names, n, p=[0.5, 0.3, 0.2])
    firms["ateco"] = rng.choice(CODES[: int(rng.integers(2, len(CODES) + 1))], n)
    centres = {}
    for a in names:
        x0, y0, x1, y1 = AREAS[a].bounds
        centres[a] = [rng.uniform([x0 + 200, y0 + 200], [x1 - 200, y1 - 200]) for _ in range(2)]
    points = []
    for a in firms["municipality"]:
        centre = centres[a][int(rng.integers(0, 2))]
        points.append(Point(*(centre + rng.normal(0, 80, 2))))
    firms = gpd.GeoDataFrame(firms.drop(columns="geometry"), geometry=points, crs=CRS)
    for col in ("firm_id", "name", "municipality", "ateco"):
        firms[col] = firms[col].astype("str")
    firms = pr.classify_ateco(firms)
    k = int(rng.integers(3, 7))
    zones = {"core": ["Alba"], "extension": ["Borgo"]} if rng.random() < 0.7 else {}
    candidates = gpd.GeoDataFrame(
        geometry=[Point(*centres[a][0]) for a in names] + [Point(1000, 1000)], crs=CRS
    )
    layers: dict[str, gpd.GeoDataFrame] = {
        "firms": pr.firms_layer(firms, areas=_areas(), min_group_size=k, **zones),
        "sector_specialisation": pr.sector_specialisation(
            firms, areas=_areas(), min_group_size=k, **zones
        ),
        "firm_clusters": pr.firm_clusters(
            firms, eps_m=float(rng.choice([120.0, 200.0, 300.0])), min_firms=k, **zones
        ),
        "service_sites": pr.service_sites(
            firms,
            candidates=candidates,
            p=int(rng.integers(1, 3)),
            max_distance_m=float(rng.choice([300.0, 600.0])),
            min_group_size=k,
            **zones,
        ),
        "production_needs": pr.needs_summary(firms, _areas(), min_group_size=k, **zones),
    }
    return {n: v for n, v in layers.items() if len(v)}, firms, k


def _overexposed(seed: int) -> tuple[dict, pd.DataFrame, int]:
    """Hand-made layers that publish every group, however small, over overlapping groupings:
    many small cells, differences and linear combinations across layers."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(15, 45))
    firms = pd.DataFrame(
        {
            "employees": rng.integers(1, 40, n),
            "hiring_needs": rng.integers(0, 3, n),
            "exports": rng.random(n) < 0.4,
            "innovation_readiness": rng.integers(1, 6, n),
        }
    )
    area = rng.choice(["A", "B", "C", "D", "E", "F"][: int(rng.integers(3, 7))], n)
    sector = rng.choice(["C", "G", "M", "N"][: int(rng.integers(2, 5))], n)
    labels = ["K01", "K02", "K03", "K04", "K05"][: int(rng.integers(2, 6))]
    cluster = np.where(rng.random(n) < 0.6, rng.choice(labels, n), None)
    spec_rows = sorted({(a, s) for a, s in zip(area, sector, strict=True)})
    employees = firms["employees"].to_numpy(float)
    spec = gpd.GeoDataFrame(
        {
            "area": [a for a, _ in spec_rows],
            "sector": [s for _, s in spec_rows],
            "firms": [int(((area == a) & (sector == s)).sum()) for a, s in spec_rows],
            "employees": [employees[(area == a) & (sector == s)].sum() for a, s in spec_rows],
        },
        geometry=[Point(0, 0)] * len(spec_rows),
    )
    spec.attrs["membership"] = {"area": list(area), "sector": list(sector)}
    ids = sorted({c for c in cluster if c is not None})
    main = [pd.Series(sector[cluster == c]).mode().iloc[0] for c in ids]
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": ids,
            "sector": main,
            "firms": pd.array([int((cluster == c).sum()) for c in ids], dtype="Int64"),
            "employees": [employees[cluster == c].sum() for c in ids],
        },
        geometry=[Point(0, 0)] * len(ids),
    )
    clusters.attrs["membership"] = {"cluster_id": list(cluster), "sector": list(sector)}
    layers = {"sector_specialisation": spec}
    if ids:
        layers["firm_clusters"] = clusters
    return layers, firms, int(rng.integers(4, 7))


def _same(
    layers: dict, respondents: pd.DataFrame, k: int, dominance: tuple[int, float] = (2, 0.85)
) -> None:
    """Audit and protection agree with the reference, frame for frame."""
    options = {"respondents": respondents, "k": k, "dominance": dominance}
    assert_frame_equal(pr.audit_disclosure(layers, **options), reference_audit(layers, **options))
    got, report = pr.protect_layers(layers, **options)
    want, expected = reference_protect(layers, **options)
    assert report["hidden"] == expected["hidden"]
    assert report["cells_before"] == expected["cells_before"]
    assert report["cells_after"] == expected["cells_after"]
    for key in ("findings_before", "findings_after"):
        assert_frame_equal(report[key], expected[key])  # type: ignore[arg-type]
    assert list(got) == list(want)
    for name in want:
        assert_frame_equal(got[name], want[name])
        assert got[name].attrs == want[name].attrs
        # A layer with nothing hidden is the caller's own object, as before.
        assert (got[name] is layers[name]) == (want[name] is layers[name])


@pytest.mark.parametrize("seed", range(6))
def test_planted_districts_are_audited_and_protected_as_before(
    survey: gpd.GeoDataFrame, seed: int
) -> None:
    layers, firms, k = _planted(survey, seed)
    _same(layers, firms, k)


@pytest.mark.parametrize("seed", range(12))
def test_layers_that_publish_everything_are_protected_as_before(seed: int) -> None:
    layers, firms, k = _overexposed(seed)
    found = pr.audit_disclosure(layers, respondents=firms, k=k)
    assert len(found)  # the case is not trivial: there is something to hide
    _same(layers, firms, k)


@pytest.mark.parametrize("seed", [1, 3])
def test_the_plain_path_alone_gives_the_same(
    survey: gpd.GeoDataFrame, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the fast tests cannot tell (a rank in doubt, a residual near the threshold,
    # two new unions of atoms), the audit takes the plain path: it too must agree.
    monkeypatch.setattr(_audit_linear, "_PLAIN_ONLY", True)
    layers, firms, k = _planted(survey, seed)
    _same(layers, firms, k)
    for other in (seed, seed + 8):
        layers, firms, k = _overexposed(other)
        _same(layers, firms, k)


def test_the_fast_path_is_taken_and_can_be_told_apart(survey: gpd.GeoDataFrame) -> None:
    # The fast path really runs (else the tests above compare the plain path twice) and
    # a wrong fast test would show: a system that forgets a block decides otherwise.
    layers, firms, k = _planted(survey, 1)
    taken = []
    real = _audit_linear._System._fast

    def spy(self, blocks):  # type: ignore[no-untyped-def]
        real(self, blocks)
        taken.append(self.fast)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_audit_linear._System, "_fast", spy)
        pr.audit_disclosure(layers, respondents=firms, k=k)
    assert taken and sum(taken) > len(taken) / 2
    # The decomposition: a cell's vector is determined (it is published), but not once
    # its own block is left out.
    cells, _, answers = disclosure._cells(layers, firms)
    own = [c for c in cells if c.variable == "firms" and c.published and not c.predicates]
    member = np.array([c.group for c in cells], dtype=bool)
    groups = np.unique(member, axis=0)
    _, group_of = np.unique(groups.T, axis=0, return_inverse=True)
    group_of = group_of.ravel()
    n_groups = int(group_of.max()) + 1
    held = np.zeros((len(own), n_groups), dtype=bool)
    for i, c in enumerate(own):
        held[i, group_of[c.group]] = True
    blocks = _audit_linear._Blocks(own, held, n_groups)
    system = _audit_linear._System(own, held, group_of, n_groups, (), answers, blocks)
    assert system.fast and system.determined_many(system.matrix).all()
    empty = _audit_linear._Blocks([], held[:0], n_groups)
    blind = _audit_linear._System(own, held, group_of, n_groups, (), answers, empty)
    assert blind.fast and not blind.determined_many(blind.matrix).any()


@pytest.mark.parametrize("seed", range(60))
def test_the_hierarchy_of_areas_and_zones_is_protected_as_before(seed: int) -> None:
    # Random areas in random zones, with complements or forced (dominated) cells.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    areas = pd.Index([f"A{i}" for i in rng.permutation(n)])
    zones = ["core", "extension", "other"][: int(rng.integers(1, 4))]
    area_zone = pd.Series(rng.choice(zones, n), index=areas)
    values = pd.Series(rng.integers(0, 14, n), index=areas, name="firms_hiring")
    by_zone = values.groupby(area_zone).sum()
    by_zone = by_zone.reindex([z for z in zones if z in by_zone.index])
    k = int(rng.integers(2, 7))
    if seed % 3 == 0:  # the zones of the areas listed in another order
        area_zone = area_zone.iloc[rng.permutation(n)]
    options: dict[str, pd.Series] = {}
    if rng.random() < 0.5:
        total = values + pd.Series(rng.integers(0, 8, n), index=areas)
        options["area_comp"] = total - values
        options["zone_comp"] = total.groupby(area_zone).sum().reindex(by_zone.index) - by_zone
    if rng.random() < 0.5:
        options["area_hidden"] = pd.Series(rng.random(n) < 0.3, index=areas, name="employees")
        options["zone_hidden"] = pd.Series(rng.random(len(by_zone)) < 0.3, index=by_zone.index)
    got = needs._protect_hierarchy(values, by_zone, area_zone, k, **options)
    want = reference_hierarchy(values, by_zone, area_zone, k, **options)
    for mine, theirs in zip(got, want, strict=True):
        assert_series_equal(mine, theirs)


def test_needs_are_protected_as_before(survey: gpd.GeoDataFrame) -> None:
    # The needs layer of planted districts, built with the array rule and with the old one.
    for seed in range(4):
        _, firms, k = _planted(survey, seed)
        zones = {"core": ["Alba"], "extension": ["Borgo", "Cima"]} if seed % 2 else {}
        got = pr.needs_summary(firms, _areas(), min_group_size=k, **zones)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(needs, "_protect_hierarchy", reference_hierarchy)
            want = pr.needs_summary(firms, _areas(), min_group_size=k, **zones)
        assert_frame_equal(got, want)
        assert got.attrs == want.attrs


@pytest.mark.slow
@pytest.mark.parametrize("config", ["sample.yml", "piana_rotaliana.yml"])
def test_both_samples_are_protected_as_before(config: str) -> None:
    from geodistrict.pipeline.steps.production import production_layers

    cfg = gd.load_config(ROOT / "config" / config)
    base = gd.load_base_layers(cfg)
    firms = gd.read_survey(cfg.surveys.firms, gd.FIRMS, crs=base.crs)
    vacant = (
        gd.read_survey(cfg.surveys.vacant_units, gd.VACANT_UNITS, crs=base.crs)
        if cfg.surveys.vacant_units
        else None
    )
    captured: dict[str, object] = {}
    real = pr.protect_layers

    def spy(layers, **options):  # type: ignore[no-untyped-def]
        captured["layers"], captured["options"] = dict(layers), options
        return real(layers, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pr, "protect_layers", spy)
        production_layers(base, firms, cfg.production, vacant_units=vacant, keep_membership=True)
    layers = captured["layers"]
    options = captured["options"]
    assert isinstance(layers, dict) and isinstance(options, dict)
    _, expected = reference_protect(layers, **options)
    assert expected["hidden"]  # the samples need secondary suppression across layers
    _same(layers, options["respondents"], options["k"], options["dominance"])
