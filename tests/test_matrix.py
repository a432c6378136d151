"""A matrix of districts: the whole pipeline on areas it was not tuned on.

Each area is a district configuration written here, in a temporary folder,
cut from the extracts the project ships: the Helsinki sample (whole, one
centre, a tiny bbox), the Piana Rotaliana extract (a village centre, the
vineyards, the industrial zone, three comuni by name) and the synthetic OSM
XML district of ``synthetic_osm.py`` (no shops, no cycleways, no firms, no
transit, one-way streets drawn against their direction, a boundary with a
hole, a buffer past the extract, firms all in small groups).

For every area the run must go to the end, and its outputs must keep the
invariants that the failures of issue 11 broke:

* every declared layer of every step is written or skipped with a reason;
* OSM and unit ids are integers or text (never floats) in the GeoPackage
  and in the GeoParquet files;
* no infinite number in any layer (JSON cannot hold one);
* geometries lie in the study area plus its buffer (with a tolerance per
  kind of layer);
* each analysis keeps its own invariants (counts add up, ranks are
  permutations, isochrones grow with the minutes, scores within [0, 1]...).

The run time of each area is printed (``-s``) and recorded as a JUnit
property; no test limits it.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import synthetic_osm
import yaml

import geodistrict as gd
from geodistrict.pipeline import STEPS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PIANA_PBF = ROOT / "data" / "osm" / "piana-rotaliana.osm.pbf"
SAMPLE_DATA = ROOT / "geodistrict" / "data" / "sample"
HELSINKI_BBOX = [24.9352, 60.1642, 24.9534, 60.1791]

#: Columns that hold identifiers: integers or text, never floats.
ID_COLUMNS = {"osm_id", "osmid", "u", "v", "unit_id", "origin_id", "centre_id", "island_id",
              "place_id", "point_id", "cluster_id", "site_id", "node", "key", "rank", "leg",
              "circuit", "firm_ref", "h3", "ref"}  # fmt: skip
#: How far (m) beyond the study area plus buffer a layer's points may lie, or its
#: lines and polygons may start: areas drawn around the data (H3 cells,
#: municipalities derived from firms, isochrones dilated by 30 m on a 10 m grid,
#: street buffers).
REACH_M = {"commercial_hex": 600.0, "sector_specialisation": 3000.0,
           "production_needs": 3000.0, "firm_clusters": 600.0, "service_sites": 600.0,
           "isochrones": 80.0, "low_stress_islands": 40.0, "category_gaps": 600.0,
           "retail_centres": 40.0, "firms": 600.0,
           # a point inside each building, and buildings reaching into the area are whole
           "bike_connectivity": 300.0}  # fmt: skip
DEFAULT_REACH_M = 1.0

#: The sample run: layers and counts that no fix may change without saying why.
#: Issue 12 (retail centres by the CDRC method): 28 HDBSCAN centres became 6 CDRC
#: centres, so category_gaps has 12 rows per centre fewer (355 -> 91), and the
#: circuit and isochrone sources changed with the centres (bike_circuits 8 -> 7,
#: isochrones 72 -> 63: a centre now shares its network node with the station).
SAMPLE_COUNTS = {
    "study_area": 1, "streets": 4652, "pois": 1976, "buildings": 482, "landuse": 236,
    "transit_stops": 264, "commercial_units": 1280, "commercial_hex": 29,
    "street_frontage": 4379, "commercial_access": 3476, "retail_centres": 6,
    # sector_specialisation: 4, was 5 before issue 12 (ATECO 2025: Kluuvi's software firms
    # move from J to K, 6 firms, whose cell is then hidden to protect the K cells of 1-2
    # firms of the other areas: secondary suppression).
    "category_gaps": 91, "firms": 10, "sector_specialisation": 4, "firm_clusters": 2,
    "service_sites": 2, "production_needs": 11, "bike_network": 1317,
    "low_stress_islands": 9, "bike_connectivity": 482, "bike_gaps": 10, "bike_circuits": 7,
    "info_points": 5, "isochrones": 63, "vacant_units": 27,
    # Issue 16: residents estimated in the 160 homes of the area; 29 district indicators.
    "population": 160, "indicators": 29,
}  # fmt: skip


@dataclass(frozen=True)
class Area:
    """One district of the matrix: how to build its configuration and what it must show."""

    name: str
    #: The configuration as a mapping written to the test's folder, or a shipped file.
    build: Callable[[Path], dict[str, Any] | Path]
    #: Layers that must be written / must be skipped (the reason is checked to be words).
    written: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    #: Layers that must carry a note (RunContext.note).
    noted: tuple[str, ...] = ()
    #: Exact feature counts.
    counts: dict[str, int] = field(default_factory=dict)
    #: Also run through the command line (exit 0).
    cli: bool = False
    extra: Callable[[gd.RunResult, gpd.GeoDataFrame], None] | None = None


# ------------------------------------------------------------------ configurations


def _declared_layers_of_steps() -> list[str]:
    return [name for step in STEPS for name in step.layers]


def _pbf(name: str, bbox: list[float], *, buffer_m: float = 150.0) -> Callable[..., Any]:
    def build(folder: Path) -> dict[str, Any]:
        return {
            "district": name,
            "title": f"Matrix: {name}",
            "area": {"bbox": bbox, "buffer_m": buffer_m},
            "osm": {"source": "pbf", "path": str(PIANA_PBF)},
        }

    return build


def _helsinki(name: str, bbox: list[float], *, surveys: bool = False) -> Callable[..., Any]:
    def build(folder: Path) -> dict[str, Any]:
        config: dict[str, Any] = {
            "district": name,
            "title": f"Matrix: {name}",
            "area": {"bbox": bbox, "buffer_m": 0},
            "osm": {"source": "sample"},
        }
        if surveys:
            config["surveys"] = {
                "vacant_units": str(SAMPLE_DATA / "vacant_units.csv"),
                "firms": str(SAMPLE_DATA / "firms.csv"),
            }
            config["production"] = {
                "core_municipalities": ["Kamppi", "Punavuori", "Kluuvi"],
                "extension_municipalities": ["Kaartinkaupunki"],
            }
        return config

    return build


def _synthetic(
    name: str,
    *,
    firms: bool | None = None,
    hole: bool = False,
    buffer_m: float = 0.0,
    **variant: bool,
) -> Callable[..., Any]:
    """A synthetic XML district; the town hall and the park give the circuit two places."""

    def build(folder: Path) -> dict[str, Any]:
        path = synthetic_osm.write(folder, **{"civic": True, **variant})
        area: dict[str, Any] = {"bbox": synthetic_osm.bbox(), "buffer_m": buffer_m}
        if hole:
            area = {"file": str(synthetic_osm.area_with_hole(folder)), "buffer_m": buffer_m}
        config: dict[str, Any] = {
            "district": name,
            "title": f"Matrix: {name}",
            "area": area,
            "osm": {"source": "xml", "path": str(path)},
            "commerce": {"min_centre_units": 3},
        }
        if firms is not None:
            config["surveys"] = {"firms": str(synthetic_osm.write_firms(folder, rows=firms))}
            config["production"] = {"core_municipalities": ["Testville"]}
        return config

    return build


def _check_one_way_against(result: gd.RunResult, area: gpd.GeoDataFrame) -> None:
    """Via Roma (way 500, oneway=-1): drawn west to east, ridden east to west only."""
    net = gpd.read_parquet(result.folder / "parquet" / "bike_network.parquet")
    roma = net[net["osmid"] == "500"]
    assert len(roma) == 3
    assert roma["lts_fwd"].isna().all() and roma["lts_bwd"].notna().all()
    assert roma["oneway_bike"].all()


def _check_hole(result: gd.RunResult, area: gpd.GeoDataFrame) -> None:
    """The town hall stands in the hole of the boundary: it is not part of the district."""
    pois = gpd.read_file(result.folder / f"{area['district'].iloc[0]}.gpkg", layer="pois")
    assert 106 not in set(pois["osm_id"]) and 107 in set(pois["osm_id"])
    hole = gpd.GeoSeries([synthetic_osm.HOLE], crs=4326).to_crs(area.crs).iloc[0]
    assert area.geometry.iloc[0].intersection(hole).area < 1.0
    for name in ("pois", "commercial_units", "vacant_units", "info_points"):
        path = result.folder / "parquet" / f"{name}.parquet"
        if path.is_file():
            assert not gpd.read_parquet(path).to_crs(area.crs).within(hole).any(), name


def _shipped(path: Path) -> Callable[..., Path]:
    return lambda folder: path


AREAS = [
    # --- Helsinki sample: the whole, one centre, a few blocks.
    Area("helsinki_whole", _helsinki("helsinki_whole", HELSINKI_BBOX, surveys=True),
         counts=SAMPLE_COUNTS, noted=("sector_specialisation",), cli=True),
    Area("helsinki_centre", _helsinki("helsinki_centre", [24.9400, 60.1660, 24.9480, 60.1700]),
         written=("retail_centres", "bike_circuits", "isochrones"),
         skipped=("firms", "vacant_units")),
    Area("helsinki_tiny", _helsinki("helsinki_tiny", [24.9440, 60.1680, 24.9466, 60.1693]),
         written=("bike_network",)),
    # --- Piana Rotaliana (Trentino): a village centre, the vineyards, the industrial zone.
    Area("piana_mezzolombardo", _pbf("piana_mezzolombardo", [11.088, 46.208, 11.097, 46.215]),
         written=("retail_centres", "bike_circuits", "info_points", "isochrones"), cli=True),
    Area("piana_vineyards", _pbf("piana_vineyards", [11.105, 46.198, 11.114, 46.205]),
         written=("bike_network",),
         skipped=("pois", "commercial_units", "retail_centres", "category_gaps",
                  "bike_connectivity", "bike_circuits", "isochrones", "vacant_units")),
    Area("piana_industrial", _pbf("piana_industrial", [11.098, 46.185, 11.110, 46.200]),
         written=("commercial_units", "bike_network"), skipped=("retail_centres",)),
    Area("piana_three_comuni", _shipped(ROOT / "config" / "piana_rotaliana.yml"),
         written=tuple(_declared_layers_of_steps())),
    Area("piana_mezzocorona", _pbf("piana_mezzocorona", [11.118, 46.210, 11.128, 46.218]),
         written=("commercial_units", "bike_circuits")),
    # --- Synthetic districts: one missing ingredient each.
    Area("syn_no_shops", _synthetic("syn_no_shops", shops=False),
         written=("vacant_units", "bike_network", "bike_circuits"),
         skipped=("commercial_units", "commercial_hex", "street_frontage",
                  "commercial_access", "retail_centres", "category_gaps"),
         noted=("vacant_units",)),
    Area("syn_no_cycleways", _synthetic("syn_no_cycleways", cycleways=False),
         written=("bike_network", "bike_connectivity")),
    Area("syn_no_firms", _synthetic("syn_no_firms"),
         skipped=("firms", "sector_specialisation", "firm_clusters", "service_sites",
                  "production_needs")),
    Area("syn_small_firm_groups", _synthetic("syn_small_firm_groups", firms=True),
         written=("firms", "production_needs"),
         skipped=("sector_specialisation", "firm_clusters")),
    Area("syn_no_transit", _synthetic("syn_no_transit", transit=False),
         skipped=("transit_stops", "isochrones"), written=("bike_circuits",)),
    Area("syn_no_buildings", _synthetic("syn_no_buildings", buildings=False),
         skipped=("buildings", "bike_connectivity", "bike_gaps", "population")),
    Area("syn_oneway_against", _synthetic("syn_oneway_against", oneway_against=True),
         written=("bike_network",), extra=_check_one_way_against),
    Area("syn_hole", _synthetic("syn_hole", hole=True), written=("pois",), extra=_check_hole),
    Area("syn_buffer_past", _synthetic("syn_buffer_past", buffer_m=2000.0),
         written=("bike_network", "commercial_units")),
]  # fmt: skip


# ------------------------------------------------------------------------- helpers


def _write_config(folder: Path, config: dict[str, Any]) -> Path:
    path = folder / f"{config['district']}.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _check_ids(gpkg: Path, parquet: Path, name: str) -> None:
    info = pyogrio.read_info(gpkg, layer=name)
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    for col in ID_COLUMNS & set(types):
        assert types[col] in ("OFTInteger", "OFTInteger64", "OFTString"), (name, col, types[col])
    schema = pq.read_schema(parquet)
    for col in ID_COLUMNS & set(schema.names):
        kind = schema.field(col).type
        assert not str(kind).startswith(("double", "float", "halffloat")), (name, col, kind)


def _check_numbers(layer: gpd.GeoDataFrame, name: str) -> None:
    for col in layer.columns:
        if col == layer.geometry.name:
            continue
        values = layer[col]
        if pd.api.types.is_float_dtype(values.dtype):
            assert not np.isinf(values.to_numpy(dtype=float, na_value=np.nan)).any(), (name, col)


def _check_place(layer: gpd.GeoDataFrame, name: str, area: gpd.GeoDataFrame) -> None:
    geoms = layer.geometry[layer.geometry.notna() & ~layer.geometry.is_empty]
    assert np.isfinite(geoms.total_bounds).all() if len(geoms) else True, name
    buffer_m = float(area["buffer_m"].iloc[0]) if "buffer_m" in area else 0.0
    reach = buffer_m + REACH_M.get(name, DEFAULT_REACH_M)
    where = area.geometry.union_all().buffer(reach)
    # Points lie in the area; lines and polygons (buildings, streets are kept whole) reach it.
    points = (geoms.geom_type == "Point").to_numpy()
    outside = np.where(points, ~geoms.within(where), ~geoms.intersects(where))
    assert not outside.any(), f"{name}: {int(outside.sum())} feature(s) beyond {reach} m"


def _counts_add_up(layer: pd.DataFrame, name: str, categories: list[str]) -> None:
    cols = [f"n_{c}" for c in categories if f"n_{c}" in layer]
    total = layer[cols].sum(axis=1).astype(int)
    assert (total == layer["n_units"].astype(int)).all(), name


def _check_analysis(layers: dict[str, gpd.GeoDataFrame], categories: list[str]) -> None:
    """The invariants of each analysis, on whatever layers the run wrote."""
    if "commercial_hex" in layers:
        _counts_add_up(layers["commercial_hex"], "commercial_hex", categories)
    if "retail_centres" in layers:
        centres = layers["retail_centres"]
        _counts_add_up(centres, "retail_centres", categories)
        assert sorted(centres["rank"]) == list(range(1, len(centres) + 1))
    if "commercial_units" in layers and "retail_centres" in layers:
        labels = layers["commercial_units"]["centre_id"]
        sizes = labels[labels > 0].value_counts()
        centres = layers["retail_centres"].set_index("centre_id")["n_units"]
        assert sizes.reindex(centres.index, fill_value=0).equals(centres.astype(sizes.dtype))
    if "category_gaps" in layers:
        gaps = layers["category_gaps"]
        walk = gaps[gaps["origins"].notna()]
        assert (walk["origins_within"] <= walk["origins"]).all()
    if "vacant_units" in layers:
        ranks = layers["vacant_units"]["rank"]
        assert sorted(ranks) == list(range(1, len(ranks) + 1))
    if "isochrones" in layers:
        iso = layers["isochrones"]
        for _, group in iso.groupby(["source", "source_kind", "mode"]):
            ordered = group.sort_values("minutes")
            assert ordered["area_ha"].is_monotonic_increasing, ordered
    if "bike_connectivity" in layers:
        scores = layers["bike_connectivity"]
        assert scores["score"].dropna().between(0, 1).all()
        assert scores["district_score"].dropna().between(0, 1).all()
    if "bike_network" in layers:
        net = layers["bike_network"]
        assert net["lts"].between(1, 4).all()
        assert (net["lts_fwd"].notna() | net["lts_bwd"].notna()).all()
    if "low_stress_islands" in layers:
        islands = layers["low_stress_islands"]
        assert sorted(islands["island_id"]) == list(range(1, len(islands) + 1))
        assert (islands["n_units"] == islands["n_commerce"]).all()
    if "bike_gaps" in layers:
        gaps = layers["bike_gaps"]
        assert gaps["rank"].tolist() == list(range(1, len(gaps) + 1))
        assert gaps["cumulative_benefit"].is_monotonic_increasing
    if "bike_circuits" in layers:
        legs = layers["bike_circuits"].sort_values("leg")
        assert legs["leg"].tolist() == list(range(1, len(legs) + 1))
        assert legs["cum_length_m"].is_monotonic_increasing
        first, last = legs.geometry.iloc[0].coords[0], legs.geometry.iloc[-1].coords[-1]
        assert math.dist(first, last) < 1.0
        n_stops = len(str(legs["stops"].iloc[0]).split(" > ")) - 1
        assert n_stops == len(legs)
    if "info_points" in layers:
        share = layers["info_points"].sort_values("point_id")["covered_share"]
        assert share.is_monotonic_increasing and share.between(0, 1).all()
    if "sector_specialisation" in layers:
        assert (layers["sector_specialisation"]["firms"] >= 1).all()


# --------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def categories() -> list[str]:
    from geodistrict.taxonomy import load_taxonomy

    return list(load_taxonomy().categories)


@pytest.mark.parametrize("area", AREAS, ids=[a.name for a in AREAS])
def test_district_runs_to_the_end(
    area: Area,
    tmp_path: Path,
    categories: list[str],
    record_property: Callable[[str, object], None],
) -> None:
    if "piana" in area.name and not PIANA_PBF.is_file():  # pragma: no cover - shipped file
        pytest.fail(f"{PIANA_PBF} is missing: the Piana Rotaliana extract ships in data/osm/")
    built = area.build(tmp_path)
    config = gd.load_config(built if isinstance(built, Path) else _write_config(tmp_path, built))
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = gd.run(config, out=tmp_path / "out")
    seconds = time.perf_counter() - started
    # numpy's RuntimeWarnings (inf - inf, empty means...) mean a computation went wrong.
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not runtime, runtime
    record_property("seconds", round(seconds, 2))
    print(f"\n{area.name}: {seconds:.1f} s, {len(result.written)} written, "
          f"{len(result.skipped)} skipped, notes on {sorted(result.notes)}")  # fmt: skip

    # Every declared layer is written or skipped with a reason in words; never both.
    for name in _declared_layers_of_steps():
        assert (name in result.written) != (name in result.skipped), name
        if name in result.skipped:
            assert len(result.skipped[name].split()) >= 3, (name, result.skipped[name])
        else:
            assert result.written[name] > 0, f"{name} written with no feature"
    for name in area.written:
        assert name in result.written, (name, result.skipped.get(name))
    for name in area.skipped:
        assert name in result.skipped, name
    for name in area.noted:
        assert result.notes.get(name), name
    for name, count in area.counts.items():
        assert result.written.get(name) == count, (name, result.written.get(name), count)

    gpkg = result.folder / f"{config.district}.gpkg"
    manifest = json.loads((result.folder / "layers.json").read_text(encoding="utf-8"))
    assert set(manifest["layers"]) == set(result.written)
    study = gpd.read_file(gpkg, layer="study_area")
    layers = {}
    for name in result.written:
        layer = gpd.read_file(gpkg, layer=name)
        assert len(layer) == result.written[name], name
        assert layer.crs == study.crs, name
        _check_ids(gpkg, result.folder / "parquet" / f"{name}.parquet", name)
        _check_numbers(layer, name)
        _check_place(layer, name, study)
        layers[name] = layer
    _check_analysis(layers, categories)
    if area.extra is not None:
        area.extra(result, study)

    if area.cli:
        started = time.perf_counter()
        done = subprocess.run(
            [str(Path(sys.executable).parent / "geodistrict"), "run", str(config.source_file),
             "--out", str(tmp_path / "cli")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        record_property("cli_seconds", round(time.perf_counter() - started, 2))
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Traceback" not in done.stderr
        for name in result.skipped:
            assert name in done.stdout, name
