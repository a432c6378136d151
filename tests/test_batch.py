"""Many districts on Dask distributed (geodistrict.batch): a province-style batch.

The slow tests run one batch on a real ``LocalCluster`` of 2 worker processes:
two comuni of the Italian sample's extract (Mezzocorona and San Michele
all'Adige), each cut from the extract's own boundaries as a district of its own,
plus one district whose place is not in the extract. The two run, the broken
one fails alone with its message, and the summary parses back.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geodistrict import load_config
from geodistrict.batch import (
    KEY_LAYERS,
    SUMMARY_COLUMNS,
    SUMMARY_NAME,
    areas_from_extract,
    district_id,
    districts_from_areas,
    error_fields,
    load_districts_postgis,
    run_districts,
    write_summary,
)
from geodistrict.errors import (
    MissingColumnError,
    NetworkUnavailableError,
    ParameterError,
    SourceError,
)

ROOT = Path(__file__).resolve().parent.parent
ITALIAN_CONFIG = ROOT / "config" / "piana_rotaliana.yml"
COMUNI = ["Mezzocorona", "San Michele all'Adige"]

# --------------------------------------------------------------------------- fast


def test_district_ids_are_slugs_of_the_names() -> None:
    assert district_id("San Michele all'Adige") == "san_michele_all_adige"
    assert district_id("Città  di Castello", prefix="pg_") == "pg_citta_di_castello"
    with pytest.raises(ParameterError, match="'!!!'"):
        district_id("!!!")


def test_errors_of_the_program_are_called_bugs() -> None:
    assert error_fields(SourceError("no streets in 'x.pbf'")) == (
        "SourceError",
        "no streets in 'x.pbf'",
    )
    assert error_fields(KeyError("geometry")) == ("KeyError", "bug: KeyError: 'geometry'")


def test_summary_csv_is_italian_excel_and_parses_back(tmp_path: Path) -> None:
    ok = dict.fromkeys(SUMMARY_COLUMNS)
    ok.update(district="a", title="Mezzocorona", status="ok", seconds=1234.5, layers=19,
              skipped=9, commercial_units=22, worker_peak_mb=650.25)  # fmt: skip
    bad = dict.fromkeys(SUMMARY_COLUMNS)
    bad.update(district="b", status="failed", error_class="SourceError", error="=nessun; dato")
    csv, parquet = write_summary(pd.DataFrame([ok, bad]), tmp_path)
    assert csv == tmp_path / f"{SUMMARY_NAME}.csv" and parquet.suffix == ".parquet"
    data = csv.read_bytes()
    assert data[:3] == b"\xef\xbb\xbf"
    back = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig")
    assert list(back.columns[:4]) == [
        "Codice distretto", "Nome del distretto", "Esito dell'elaborazione", "Durata (s)",
    ]  # fmt: skip
    assert back["Esito dell'elaborazione"].tolist() == ["completato", "non riuscito"]
    assert back["Durata (s)"].iloc[0] == 1234.5
    assert back["Attività commerciali (elementi)"].iloc[0] == 22
    # a formula-like message is neutralised; the ';' inside it is quoted, not a new cell
    assert back["Messaggio di errore"].iloc[1] == "'=nessun; dato"
    machine = pd.read_parquet(parquet)
    assert machine["status"].tolist() == ["ok", "failed"]
    assert machine["error"].iloc[1] == "=nessun; dato"


def test_run_districts_refuses_before_starting_a_cluster(tmp_path: Path) -> None:
    config = load_config(ITALIAN_CONFIG)
    with pytest.raises(ParameterError, match="piana_rotaliana"):
        run_districts([config, config], out=tmp_path)
    with pytest.raises(ParameterError, match="at least one"):
        run_districts([], out=tmp_path)
    with pytest.raises(ParameterError, match=r"workers must be .* got 0"):
        run_districts([config], out=tmp_path, workers=0)


def test_an_absent_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    config = load_config(ITALIAN_CONFIG)
    with pytest.raises(NetworkUnavailableError, match=re.escape("'tcp://127.0.0.1:1'")):
        run_districts([config], out=tmp_path, scheduler="tcp://127.0.0.1:1", timeout=2)


def _boxes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"nome": ["Nord", "Sud"]},
        geometry=[box(11.10, 46.20, 11.12, 46.22), box(11.10, 46.18, 11.12, 46.20)],
        crs=4326,
    )


def test_one_configuration_per_area_from_the_base(tmp_path: Path) -> None:
    base = load_config(ITALIAN_CONFIG)
    overrides = {"Sud": {"vacancy": {"top_k": 3}}}
    configs = districts_from_areas(
        base, _boxes(), name_field="nome", folder=tmp_path, prefix="tn_", overrides=overrides
    )
    assert [c.district for c in configs] == ["tn_nord", "tn_sud"]
    nord, sud = configs
    assert nord.area.file == tmp_path / "aree_distretti.gpkg"
    assert (nord.area.names, nord.area.name_field, nord.area.buffer_m) == (["Nord"], "nome", 300)
    assert nord.area.places is None
    # the same extract and parameters; the base's surveys and total population dropped
    assert nord.osm.path == base.osm.path and nord.language == "it"
    assert nord.surveys.vacant_units is None and base.surveys.vacant_units is not None
    assert nord.population.total is None and base.population.total == 17000
    assert (nord.vacancy.top_k, sud.vacancy.top_k) == (base.vacancy.top_k, 3)
    # each configuration is a file of its own, loaded from there
    assert sud.source_file == tmp_path / "tn_sud.yml"
    written = gpd.read_file(tmp_path / "aree_distretti.gpkg", layer="aree")
    assert written["nome"].tolist() == ["Nord", "Sud"]
    kept = districts_from_areas(base, _boxes(), name_field="nome", folder=tmp_path / "k",
                                keep_surveys=True)  # fmt: skip
    assert kept[0].surveys.vacant_units == base.surveys.vacant_units


def test_bad_areas_are_refused(tmp_path: Path) -> None:
    base = load_config(ITALIAN_CONFIG)
    with pytest.raises(MissingColumnError, match="'comune'"):
        districts_from_areas(base, _boxes(), name_field="comune", folder=tmp_path)
    same = _boxes().assign(nome=["Sàn Vito", "San Vito"])
    with pytest.raises(ParameterError, match="san_vito"):
        districts_from_areas(base, same, name_field="nome", folder=tmp_path)
    with pytest.raises(ParameterError, match="'Ovest'"):
        districts_from_areas(base, _boxes(), name_field="nome", folder=tmp_path,
                             overrides={"Ovest": {}})  # fmt: skip


# --------------------------------------------------------------------------- slow: a batch


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two comuni and one broken district on a LocalCluster of 2 workers."""
    base = load_config(ITALIAN_CONFIG)
    folder = tmp_path_factory.mktemp("batch_configs")
    areas = areas_from_extract(base, names=COMUNI)
    configs = districts_from_areas(base, areas, name_field="name", folder=folder, prefix="tn_")
    broken = folder / "comune_inesistente.yml"
    broken.write_text(
        "district: comune_inesistente\ntitle: Comune inesistente\n"
        f"area:\n  places: ['Comune Inesistente, Trentino']\n"
        f"osm:\n  source: pbf\n  path: {json.dumps(str(base.osm.path))}\n",
        encoding="utf-8",
    )
    out = tmp_path_factory.mktemp("batch_out")
    table = run_districts([*configs, broken], out=out, workers=2, memory_limit="3GiB")
    return {"table": table, "out": out, "configs": configs, "areas": areas, "broken": broken}


@pytest.mark.slow
def test_areas_come_from_the_extract(batch: dict[str, Any]) -> None:
    areas = batch["areas"]
    assert areas["name"].tolist() == sorted(COMUNI)
    assert areas.crs.to_epsg() == 4326 and (areas["admin_level"] == 8).all()
    assert not areas.geometry.iloc[0].intersects(areas.geometry.iloc[1].buffer(-1e-4))


@pytest.mark.slow
def test_failures_are_isolated(batch: dict[str, Any]) -> None:
    table = batch["table"]
    assert table["district"].tolist() == [
        "tn_mezzocorona", "tn_san_michele_all_adige", "comune_inesistente",
    ]  # fmt: skip
    assert table["status"].tolist() == ["ok", "ok", "failed"]
    failed = table.iloc[2]
    assert failed["error_class"] == "SourceError"
    assert "'Comune Inesistente'" in failed["error"] and "nearest" in failed["error"]
    assert not failed["error"].startswith("bug:")
    assert not (batch["out"] / "comune_inesistente" / "layers.json").exists()
    assert table.loc[:1, "error"].isna().all()


@pytest.mark.slow
def test_each_district_is_complete(batch: dict[str, Any]) -> None:
    table = batch["table"].set_index("district")
    for config in batch["configs"]:
        row = table.loc[config.district]
        folder = Path(row["folder"])
        assert folder == batch["out"] / config.district
        manifest = json.loads((folder / "layers.json").read_text(encoding="utf-8"))
        assert manifest["district"] == config.district and manifest["language"] == "it"
        assert manifest["config"] == str(config.source_file)
        assert len(manifest["layers"]) == row["layers"] > 10
        for name in KEY_LAYERS:
            entry = manifest["layers"].get(name)
            assert (pd.isna(row[name]) and entry is None) or row[name] == entry["features"]
        assert (folder / manifest["gpkg"]).is_file()
        area = gpd.read_parquet(folder / manifest["layers"]["study_area"]["parquet"])
        assert area["title"].iloc[0] == config.title
        assert row["seconds"] > 0 and row["worker_peak_mb"] > 100
        assert str(row["worker"]).startswith("tcp://")


@pytest.mark.slow
def test_read_once_gives_the_layers_of_a_read_of_its_own(batch: dict[str, Any]) -> None:
    """Ground truth: the district cut from the batch's shared read == its own read."""
    from geodistrict import load_base_layers

    config = batch["configs"][1]  # San Michele all'Adige, the smallest
    row = batch["table"].set_index("district").loc[config.district]
    own = load_base_layers(config, use_cache=False)
    assert row["streets"] == len(own.streets) > 50
    assert row["pois"] == len(own.pois)
    served = gpd.read_parquet(Path(row["folder"]) / "parquet" / "buildings.parquet")
    assert len(served) == len(own.buildings)
    assert served.area.sum() == pytest.approx(own.buildings.area.sum(), rel=1e-9)
    # the extract was read for the union of the areas once per worker, not per district
    ok = batch["table"].iloc[:2]
    assert ok["read_s"].max() > 0
    assert ((ok["read_s"] > 0).groupby(ok["worker"]).sum() <= 1).all()


@pytest.mark.slow
def test_a_worker_keeps_one_shared_read(batch: dict[str, Any]) -> None:
    import shapely

    from geodistrict import batch as module

    path = str(load_config(ITALIAN_CONFIG).osm.path)
    one, two = (shapely.to_wkb(g) for g in batch["areas"].geometry)
    first, seconds = module._shared_raw("pbf", path, one)
    assert seconds > 0 and len(first.segments) > 0
    again, seconds = module._shared_raw("pbf", path, one)
    assert again is first and seconds == 0.0
    other, seconds = module._shared_raw("pbf", path, two)  # another union replaces it
    assert other is not first and seconds > 0 and len(module._SHARED) == 1


@pytest.mark.slow
def test_summary_files_parse_back(batch: dict[str, Any]) -> None:
    data = (batch["out"] / f"{SUMMARY_NAME}.csv").read_bytes()
    back = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig")
    assert back["Codice distretto"].tolist() == batch["table"]["district"].tolist()
    assert back["Esito dell'elaborazione"].tolist() == ["completato", "completato", "non riuscito"]
    assert (
        back["Strade (elementi)"].iloc[:2].tolist() == batch["table"]["streets"].iloc[:2].tolist()
    )
    machine = pd.read_parquet(batch["out"] / f"{SUMMARY_NAME}.parquet")
    pd.testing.assert_frame_equal(machine, batch["table"], check_dtype=False)


@pytest.mark.slow
def test_a_running_cluster_by_its_scheduler_address(batch: dict[str, Any], tmp_path: Path) -> None:
    from distributed import LocalCluster

    broken = batch["broken"]
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        table = run_districts([broken], out=tmp_path, scheduler=cluster.scheduler_address)
        assert cluster.status.name == "running"  # the caller's cluster is left running
    assert table["status"].tolist() == ["failed"]
    assert table["error_class"].iloc[0] == "SourceError"
    assert table["source"].iloc[0] == str(broken)
    assert (tmp_path / f"{SUMMARY_NAME}.parquet").is_file()


def _postgis_dsn() -> str | None:
    dsn = os.environ.get(
        "GEODISTRICT_TEST_POSTGIS",
        "postgresql://geodistrict:geodistrict@127.0.0.1:5432/geodistrict",
    )
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine(dsn.replace("postgresql://", "postgresql+psycopg2://"))
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("select postgis_version()"))
        engine.dispose()
        return dsn
    except Exception as exc:
        if os.environ.get("GEODISTRICT_REQUIRE_POSTGIS") == "1":
            pytest.fail(f"PostGIS required but unreachable at {dsn}: {exc}")
        return None


@pytest.mark.slow
def test_districts_load_into_one_postgis(batch: dict[str, Any], tmp_path: Path) -> None:
    dsn = _postgis_dsn()
    if dsn is None:
        pytest.skip("no PostGIS server reachable (set GEODISTRICT_TEST_POSTGIS)")
    import sqlalchemy

    table = batch["table"]
    folders = [*table.loc[table["status"] == "ok", "folder"], tmp_path / "assente"]
    loaded = load_districts_postgis(folders, dsn)
    assert loaded["status"].tolist() == ["ok", "ok", "failed"]
    assert loaded["schema"].tolist()[:2] == ["gd_tn_mezzocorona", "gd_tn_san_michele_all_adige"]
    assert "assente" in loaded["error"].iloc[2]
    engine = sqlalchemy.create_engine(dsn.replace("postgresql://", "postgresql+psycopg2://"))
    try:
        with engine.connect() as conn:
            for schema, streets in zip(loaded["schema"][:2], table["streets"][:2], strict=True):
                count = conn.execute(
                    sqlalchemy.text(f'select count(*) from "{schema}"."streets"')
                ).scalar()
                assert count == streets
    finally:
        engine.dispose()


@pytest.mark.slow
def test_the_batch_command_runs_areas_and_reports_failures(tmp_path: Path) -> None:
    """``geodistrict batch CONFIG --areas FILE``: one district per polygon, exit 2 on a failure."""
    import subprocess
    import sys

    areas = gpd.GeoDataFrame(
        {"nome": ["Mezzolombardo centro", "Fuori estratto"]},
        geometry=[box(11.085, 46.205, 11.100, 46.217), box(12.50, 45.50, 12.52, 45.52)],
        crs=4326,
    )
    areas.to_file(tmp_path / "aree.gpkg")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", "batch", str(ITALIAN_CONFIG), "--out", str(out),
         "--areas", str(tmp_path / "aree.gpkg"), "--name-field", "nome", "--workers", "1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "1 distretti su 2 completati" in done.stdout, done.stdout
    summary = pd.read_csv(out / "riepilogo_distretti.csv", sep=";", decimal=",",
                          encoding="utf-8-sig")  # fmt: skip
    assert len(summary) == 2
    assert (out / "mezzolombardo_centro" / "layers.json").is_file()
