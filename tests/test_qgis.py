"""QGIS styles and the QGIS project of a district, checked by QGIS itself.

The styles' legends (priority Alta/Media/Bassa, isochrones, LTS, rounded
Italian bounds) are checked in Python; QGIS (PyQGIS from Debian, headless, run
by the system Python through tests/qgis_probe.py and tests/qgis_project_probe.py)
opens the GeoPackage and the ``.qgz`` and renders the project.  The QGIS tests
skip where PyQGIS is not installed; CI installs it (scripts/qgis.sh) and sets
GEODISTRICT_REQUIRE_QGIS=1 so that a missing QGIS fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path
from xml.dom.minidom import parseString

import numpy as np
import pandas as pd
import pytest

from geodistrict.deliverables.qgis import raster_qml, write_project
from geodistrict.deliverables.sld import style_sld
from geodistrict.styles import STYLES, layer_colours, legend_classes, style_qml

SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("qgis_probe.py")
PROJECT_PROBE = Path(__file__).with_name("qgis_project_probe.py")


def has_qgis() -> bool:
    """Whether Debian's PyQGIS is importable by the system Python."""
    if not Path(SYSTEM_PYTHON).exists():
        return False
    check = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, check=False
    )
    return check.returncode == 0


needs_qgis = pytest.mark.skipif(
    not has_qgis() and os.environ.get("GEODISTRICT_REQUIRE_QGIS") != "1",
    reason="PyQGIS not installed (scripts/qgis.sh installs it)",
)


def _system_python(script: Path, *args: str) -> dict:  # type: ignore[type-arg]
    """Run a probe with the system Python and return the JSON it prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run(
        [SYSTEM_PYTHON, str(script), *args], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[type-arg]
    return result


def run_probe(*args: str) -> dict[str, dict[str, object]]:
    """Run qgis_probe.py with the system Python and return what QGIS saw."""
    return _system_python(PROBE, *args)


# ---- legends, without QGIS ------------------------------------------------------------


def test_priority_classes_are_thirds_of_the_ranking() -> None:
    ranked = pd.DataFrame({"rank": [3, 1, 2, 5, 4, 7, 6]})
    classes = legend_classes(STYLES["vacant_units"], ranked, language="it")
    assert [c.label for c in classes] == [
        "Alta – posizioni 1–3",
        "Media – posizioni 4–5",
        "Bassa – posizioni 6–7",
    ]
    # every rank falls in exactly one class, the first three in "Alta"
    for rank in range(1, 8):
        hits = [c for c in classes if c.lower <= rank <= c.upper]  # type: ignore[operator]
        assert len(hits) == 1, rank
    assert [c.label[:4] for c in classes if c.lower <= 3 <= c.upper] == ["Alta"]  # type: ignore[operator]
    english = legend_classes(STYLES["vacant_units"], ranked, language="en")
    assert english[0].label == "High – ranks 1–3"


def test_isochrones_lts_and_categories_are_named_classes() -> None:
    minutes = pd.DataFrame({"minutes": [15, 5, 10, 5]})
    assert [c.label for c in legend_classes(STYLES["isochrones"], minutes, language="it")] == [
        "5 min",
        "10 min",
        "15 min",
    ]
    lts = [c.label for c in legend_classes(STYLES["bike_network"], language="it")]
    assert lts[0].startswith("LTS 1 – ") and lts[3].startswith("LTS 4")
    colours = layer_colours("bike_network", language="it")
    assert [c["colour"] for c in colours["classes"][:4]] == [
        "#1a9641",
        "#a6d96a",
        "#fdae61",
        "#d7191c",
    ]
    units = layer_colours("commercial_units", language="it")
    food = next(c for c in units["classes"] if c["value"] == "food")
    assert units["field"] == "category" and food["label"] == "Alimentare"
    centres = layer_colours("retail_centres", language="it")
    assert {c["label"] for c in centres["classes"]} >= {"Centro urbano", "Piccolo centro locale"}


def test_graduated_bounds_are_rounded_in_italian() -> None:
    data = pd.DataFrame({"units_per_ha": [0.0] * 10 + list(np.linspace(0.189, 7.2, 40))})
    labels = [c.label for c in legend_classes(STYLES["commercial_hex"], data, language="it")]
    assert labels[0] == "0 unità/ha"  # the many empty hexagons, a class of their own
    assert all("." not in text for text in labels), labels  # decimal commas
    assert labels[1].startswith("0,19 – ") and labels[-1].endswith("7,2 unità/ha")


def test_layer_colours_match_the_qml() -> None:
    data = pd.DataFrame({"rank": range(1, 13)})
    colours = layer_colours("vacant_units", data=data, language="it")
    qml = style_qml(STYLES["vacant_units"], data, language="it")
    parseString(qml)
    assert colours["kind"] == "graduated" and colours["field"] == "rank"
    for c in colours["classes"]:
        assert f'label="{c["label"]}"' in qml
        rgb = ",".join(str(int(c["colour"][i : i + 2], 16)) for i in (1, 3, 5))
        assert rgb in qml
    sld = style_sld(
        STYLES["vacant_units"],
        legend_classes(STYLES["vacant_units"], data, language="it"),
        name="vacant_units",
    )
    parseString(sld)
    assert "Alta – posizioni 1–4" in sld and "PropertyIsLessThanOrEqualTo" in sld


def test_raster_ramp_is_single_band_pseudocolour() -> None:
    qml = raster_qml(3, np.array([0.0, 0.0, 0.2, 0.4, 1.5]), unit="unità/ha")
    root = parseString(qml.split(">", 1)[1]).documentElement
    renderer = root.getElementsByTagName("rasterrenderer")[0]
    assert renderer.getAttribute("type") == "singlebandpseudocolor"
    assert renderer.getAttribute("band") == "3"
    items = root.getElementsByTagName("item")
    assert items[0].getAttribute("alpha") == "0"  # no density: transparent
    values = [float(i.getAttribute("value")) for i in items]
    assert values == sorted(values) and values[-1] == pytest.approx(1.5)


def test_styles_of_kept_layers_read_their_values_from_the_geopackage(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from geodistrict import store

    units = gpd.GeoDataFrame(
        {"rank": range(1, 10)}, geometry=[Point(i, 0) for i in range(9)], crs=32632
    )
    store.write_layers({"vacant_units": units}, tmp_path, district="d")
    # A later write of another layer restyles every layer; the ranking stays the data's.
    store.write_layers({"streets": _line()}, tmp_path, district="d")
    with sqlite3.connect(tmp_path / "d" / "d.gpkg") as db:
        (qml,) = db.execute(
            "select styleQML from layer_styles where f_table_name = 'vacant_units'"
        ).fetchone()
    assert 'upper="9.5"' in qml and 'lower="0.5"' in qml


def _line():  # type: ignore[no-untyped-def]
    import geopandas as gpd
    from shapely.geometry import LineString

    return gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=32632)


# ---- QGIS itself ----------------------------------------------------------------------


@needs_qgis
@pytest.mark.slow
def test_qgis_opens_every_layer_styled(sample_output: Path, tmp_path: Path) -> None:
    folder = tmp_path / "sample"
    shutil.copytree(sample_output, folder, symlinks=True)
    manifest = json.loads((folder / "layers.json").read_text())
    seen = run_probe(str(folder / "sample.gpkg"))
    assert set(seen) == set(manifest["layers"])
    for name, entry in seen.items():
        assert entry["valid"], name
        assert entry["features"] == manifest["layers"][name]["features"], name
        assert entry["style_loaded"], name
        assert entry["unsymbolled"] == 0, name  # every feature falls in a style class
    renderers = {name: entry["renderer"] for name, entry in seen.items()}
    assert renderers["transit_stops"] == "categorizedSymbol"
    assert renderers["bike_network"] == "categorizedSymbol"  # LTS 1-4, green to red
    assert renderers["vacant_units"] == "graduatedSymbol"  # priority classes
    assert renderers["commercial_hex"] == "graduatedSymbol"  # density ramp
    assert renderers["isochrones"] == "categorizedSymbol"  # 5 / 10 / 15 min


def _project(folder: Path, png: Path) -> dict:  # type: ignore[type-arg]
    qgz = write_project(folder)
    assert qgz == folder / f"{folder.name}.qgz"
    with zipfile.ZipFile(qgz) as archive:
        (inner,) = archive.namelist()
        xml = archive.read(inner).decode()
    assert "./" + f"{folder.name}.gpkg|layername=" in xml  # relative paths
    assert str(folder) not in xml
    return _system_python(PROJECT_PROBE, str(qgz), str(png))


@needs_qgis
@pytest.mark.slow
def test_italian_project_opens_grouped_styled_and_renders(
    italian_output: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "piana_rotaliana"
    shutil.copytree(italian_output, folder, symlinks=True)
    png = tmp_path / "progetto.png"
    seen = _project(folder, png)
    assert seen["read"] and seen["crs"] == "EPSG:32632" and not seen["absolute_paths"]
    layers = seen["layers"]
    manifest = json.loads((folder / "layers.json").read_text())
    expected = {n for n, e in manifest["layers"].items() if e["features"] > 0}
    vectors = {k: v for k, v in layers.items() if v["kind"] == "vector"}
    assert len(vectors) == len(expected)
    for entry in layers.values():
        assert entry["valid"], entry["name"]
        assert entry["source"].startswith(str(folder)), entry["source"]  # resolved next to it
        assert "© OpenStreetMap contributors" in " ".join(entry["rights"])
    by_name = {v["name"]: v for v in layers.values()}
    assert set(seen["groups"]) >= {
        "Commercio",
        "Locali sfitti",
        "Ciclabilità",
        "Imprese",
        "Base",
        "Commercio/Densità commerciale per categoria",
    }
    assert by_name["Locali sfitti e priorità di riattivazione"]["group"] == "Locali sfitti"
    assert by_name["Rete ciclabile e stress da traffico"]["group"] == "Ciclabilità"
    assert by_name["Area di studio"]["group"] == "Base"
    # legends with named classes, in Italian
    assert any(
        t.startswith("Alta")
        for t in by_name["Locali sfitti e priorità di riattivazione"]["legend"]
    )
    assert any(
        t.startswith("LTS 1") for t in by_name["Rete ciclabile e stress da traffico"]["legend"]
    )
    assert by_name["Isocrone a piedi e in bicicletta"]["legend"] == ["5 min", "10 min", "15 min"]
    assert "Alimentare" in by_name["Unità commerciali"]["legend"]
    # the density raster: one single-band pseudocolour layer per band, named by category
    rasters = [v for v in layers.values() if v["kind"] == "raster"]
    assert len(rasters) == 13
    assert {r["renderer"] for r in rasters} == {"singlebandpseudocolor"}
    assert sorted(r["band"] for r in rasters) == list(range(1, 14))
    assert "Densità commerciale – Alimentare" in {r["name"] for r in rasters}
    assert all(r["group"] == "Commercio/Densità commerciale per categoria" for r in rasters)
    # start extent on the study area, attribution in the project metadata
    assert seen["default_extent"][4] == "EPSG:32632"
    assert "© OpenStreetMap contributors" in seen["abstract"]
    # the render shows a styled map
    render = seen["render"]
    assert not render["errors"], render["errors"]
    assert png.stat().st_size > 20_000
    assert render["colours"] > 200, render
    assert 0.02 < render["non_white_share"] < 0.95, render
    # style files for layers added over OGC API
    stili = folder / "consegna" / "stili"
    for name in ("vacant_units", "bike_network", "isochrones"):
        parseString((stili / f"{name}.qml").read_text(encoding="utf-8").split(">", 1)[1])
        parseString((stili / f"{name}.sld").read_text(encoding="utf-8"))
    assert (stili / "commercial_density.qml").is_file()


@needs_qgis
@pytest.mark.slow
def test_project_survives_missing_layers_and_speaks_english(
    sample_output: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "sample"
    shutil.copytree(sample_output, folder, symlinks=True)
    manifest_path = (folder / "current").resolve() / "layers.json"
    manifest = json.loads(manifest_path.read_text())
    dropped = {"firms", "sector_specialisation", "firm_clusters", "service_sites",
               "production_needs", "firm_coverage", "isochrones", "vacant_units"}  # fmt: skip
    manifest["layers"] = {k: v for k, v in manifest["layers"].items() if k not in dropped}
    manifest_path.write_text(json.dumps(manifest))
    seen = _project(folder, tmp_path / "sample.png")
    assert seen["read"]
    names = {v["name"] for v in seen["layers"].values()}
    assert "Study area" in names and "Bike network and traffic stress" in names
    assert "Firms" not in seen["groups"] and "Vacant units" not in seen["groups"]
    assert {"Commerce", "Cycling", "Base layers"} <= set(seen["groups"])
    assert all(v["valid"] for v in seen["layers"].values())
    assert seen["render"]["colours"] > 50
