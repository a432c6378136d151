"""Atomic GeoPackage and GeoParquet writes, metadata, and partial updates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
from shapely.geometry import LineString, Point

import geodistrict as gd
from geodistrict.store import read_manifest, write_layers


def _points(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [f"shop {i}" for i in range(n)], "count": list(range(n))},
        geometry=[Point(500_000 + i, 5_000_000) for i in range(n)],
        crs=32632,
    )


def _lines(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"highway": ["residential"] * n},
        geometry=[LineString([(500_000, 5e6 + i), (500_100, 5e6 + i)]) for i in range(n)],
        crs=32632,
    )


def test_layers_land_in_gpkg_parquet_and_manifest(tmp_path: Path) -> None:
    manifest = write_layers({"pois": _points(3), "streets": _lines(2)}, tmp_path, district="d")
    folder = tmp_path / "d"
    layers = {row[0] for row in pyogrio.list_layers(folder / "d.gpkg")}
    assert layers == {"pois", "streets", "layer_styles"}
    back = gpd.read_file(folder / "d.gpkg", layer="pois")
    assert back.crs.to_epsg() == 32632 and list(back["name"]) == ["shop 0", "shop 1", "shop 2"]
    assert gpd.read_parquet(folder / "parquet" / "streets.parquet").shape[0] == 2
    assert read_manifest(folder) == manifest
    assert manifest["layers"]["pois"]["features"] == 3
    assert manifest["layers"]["pois"]["attribution"] == "© OpenStreetMap contributors"
    west, south, _east, _north = manifest["layers"]["pois"]["bbox_crs84"]
    assert 8.9 < west < 9.1 and 45.0 < south < 45.2


def test_parquet_strings_are_plain_string_not_large_string(tmp_path: Path) -> None:
    points = _points(3)
    points["osm_id"] = [2**40, 7, None]  # served as text
    write_layers({"pois": points}, tmp_path, district="d")
    schema = pq.read_schema(tmp_path / "d" / "parquet" / "pois.parquet")
    assert schema.field("name").type == pa.string()
    assert schema.field("osm_id").type == pa.string()
    assert not [f.name for f in schema if pa.types.is_large_string(f.type)]
    assert b"geo" in schema.metadata and b"geodistrict" in schema.metadata


def test_gpkg_carries_layer_title_and_description(tmp_path: Path) -> None:
    write_layers({"pois": _points(1)}, tmp_path, district="d")
    with sqlite3.connect(tmp_path / "d" / "d.gpkg") as db:
        identifier, description = db.execute(
            "select identifier, description from gpkg_contents where table_name = 'pois'"
        ).fetchone()
    assert identifier == "Points of interest"
    assert "shops" in description


def test_partial_write_keeps_the_other_layers(tmp_path: Path) -> None:
    write_layers({"pois": _points(3), "streets": _lines(2)}, tmp_path, district="d")
    manifest = write_layers({"pois": _points(5)}, tmp_path, district="d")
    gpkg = tmp_path / "d" / "d.gpkg"
    assert len(gpd.read_file(gpkg, layer="pois")) == 5
    assert len(gpd.read_file(gpkg, layer="streets")) == 2
    assert set(manifest["layers"]) == {"pois", "streets"}


def test_failed_write_leaves_previous_results_intact(tmp_path: Path) -> None:
    write_layers({"pois": _points(3), "streets": _lines(2)}, tmp_path, district="d")
    folder = tmp_path / "d"
    before = {p.name: p.read_bytes() for p in [folder / "d.gpkg", folder / "layers.json"]}
    broken = _points(4)
    broken["bad"] = [object() for _ in range(4)]  # no file format can store this column
    with pytest.raises(gd.OutputError, match="previous results were left in place"):
        write_layers({"streets": _lines(7), "pois": broken}, tmp_path, district="d")
    after = {p.name: p.read_bytes() for p in [folder / "d.gpkg", folder / "layers.json"]}
    assert after == before
    assert len(gpd.read_file(folder / "d.gpkg", layer="streets")) == 2
    assert len(gpd.read_parquet(folder / "parquet" / "streets.parquet")) == 2
    left = [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".lock"]
    left += [p.name for p in (folder / "versions").iterdir() if p.name.startswith(".")]
    assert left == []  # no temporary file or unfinished version left


def test_output_error_is_an_oserror(tmp_path: Path) -> None:
    blocker = tmp_path / "d"
    blocker.write_text("a file where the district folder should be")
    with pytest.raises(OSError):
        write_layers({"pois": _points(1)}, tmp_path, district="d")


def test_missing_manifest_is_explained(tmp_path: Path) -> None:
    with pytest.raises(gd.OutputError, match="geodistrict run"):
        read_manifest(tmp_path)


def test_all_null_columns_get_a_real_type_and_files_are_world_readable(tmp_path: Path) -> None:
    frame = _points(2)
    frame["maxspeed"] = None
    write_layers({"pois": frame}, tmp_path, district="d")
    schema = pq.read_schema(tmp_path / "d" / "parquet" / "pois.parquet")
    assert schema.field("maxspeed").type == pa.string()
    assert (tmp_path / "d" / "layers.json").stat().st_mode & 0o044 == 0o044


def test_gpkg_carries_default_qgis_styles(tmp_path: Path) -> None:
    from xml.dom.minidom import parseString

    stops = _points(3)
    stops["kind"] = ["station", "stop", "stop"]
    write_layers({"transit_stops": stops, "streets": _lines(2)}, tmp_path, district="d")
    with sqlite3.connect(tmp_path / "d" / "d.gpkg") as db:
        rows = db.execute(
            "select f_table_name, f_geometry_column, useAsDefault, styleQML from layer_styles"
        ).fetchall()
    assert {row[0] for row in rows} == {"transit_stops", "streets"}
    for _name, geometry_column, default, qml in rows:
        assert geometry_column == "geom" and default == 1
        parseString(qml)  # well-formed XML
    qml = dict((row[0], row[3]) for row in rows)["transit_stops"]
    assert 'type="categorizedSymbol"' in qml and 'attr="kind"' in qml and "station" in qml
    # A later partial write keeps one style per layer.
    write_layers({"streets": _lines(3)}, tmp_path, district="d")
    with sqlite3.connect(tmp_path / "d" / "d.gpkg") as db:
        names = [r[0] for r in db.execute("select f_table_name from layer_styles")]
    assert sorted(names) == ["streets", "transit_stops"]
