"""The output folder as a transaction: all or nothing, one run at a time, no leftovers.

Faults are injected at every write and rename a run makes (the k-th call of
each raises ``OSError(ENOSPC)``), and child processes are killed with
SIGKILL at every one of them; after each, the folder's current version must be
entirely the old one or entirely the new one (the manifest's counts equal to
the GeoPackage's and the GeoParquet's, through ``current`` and through the
stable paths), and the next run must leave nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyarrow.parquet as pq
import pyogrio
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point

import geodistrict as gd
import geodistrict._outdir as outdir
import geodistrict.store as store
from geodistrict.store import current_version, read_manifest, transaction, write_layers

ROOT = Path(__file__).resolve().parent.parent


# --- data --------------------------------------------------------------------------


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


def _raster(value: float) -> Callable[[Path], dict[str, Any]]:
    """A raster writer as the pipeline's: a GeoTIFF written to a temporary file, then renamed."""

    def write(path: Path) -> dict[str, Any]:
        tmp = path.with_name(f".{path.name}.partial.tmp")
        profile = {
            "driver": "GTiff", "width": 2, "height": 2, "count": 1, "dtype": "float32",
            "crs": "EPSG:32632", "transform": from_origin(500_000, 5_000_010, 5, 5),
        }  # fmt: skip
        try:
            with rasterio.open(tmp, "w", **profile) as dst:
                dst.write(np.full((1, 2, 2), value, dtype="float32"))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return {
            "title": f"Constant {value}", "title_it": f"Costante {value}",
            "description": "A test raster.", "description_it": "Un raster di prova.",
            "bands": ["value"], "crs": "EPSG:32632", "bbox_crs84": [9.0, 45.1, 9.01, 45.11],
        }  # fmt: skip

    return write


def _old(out: Path) -> None:
    """The results before (a second version: the first is pruned by the next run)."""
    write_layers({"pois": _points(1)}, out, district="d")
    with transaction(out / "d") as tx:
        tx.write_layers(
            {"pois": _points(3), "streets": _lines(2), "landuse": _points(6)}, district="d"
        )
        tx.add_raster("density.tif", _raster(1.0))
        tx.add_raster("kept.tif", _raster(5.0))


def _new(out: Path) -> None:
    """The run under test: pois rewritten, parks added, streets removed, landuse and
    kept.tif carried over, density.tif rewritten, extra.tif added."""
    with transaction(out / "d") as tx:
        tx.write_layers(
            {"pois": _points(5), "parks": _points(4)}, district="d", remove=["streets"]
        )
        tx.add_raster("density.tif", _raster(2.0))
        tx.add_raster("extra.tif", _raster(3.0))


OLD = {
    "layers": {"landuse": 6, "pois": 3, "streets": 2},
    "rasters": {"density.tif": 1.0, "kept.tif": 5.0},
}
NEW = {
    "layers": {"landuse": 6, "parks": 4, "pois": 5},
    "rasters": {"density.tif": 2.0, "extra.tif": 3.0, "kept.tif": 5.0},
}


def _newer(out: Path) -> None:
    """The next run: pois only (the rest carried over)."""
    write_layers({"pois": _points(7)}, out, district="d")


def _after_newer(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "layers": {**state["layers"], "pois": 7}}


# --- what a consistent folder is ---------------------------------------------------


def _state(base: Path) -> dict[str, Any]:
    """Layers (manifest counts checked against the files) and raster values under ``base``."""
    manifest = json.loads((base / "layers.json").read_text(encoding="utf-8"))
    layers = {}
    gpkg = base / manifest["gpkg"]
    in_gpkg = {name for name, _kind in pyogrio.list_layers(gpkg)} if manifest["layers"] else set()
    for name, entry in manifest["layers"].items():
        count = entry["features"]
        assert name in in_gpkg, f"{name} missing from {gpkg}"
        assert pyogrio.read_info(gpkg, layer=name)["features"] == count, name
        assert pq.read_metadata(base / entry["parquet"]).num_rows == count, name
        stamped = json.loads(pq.read_schema(base / entry["parquet"]).metadata[b"geodistrict"])
        assert stamped["features"] == count
        layers[name] = count
    assert in_gpkg - {"layer_styles"} == set(layers)  # no layer the manifest does not know
    assert sorted(p.stem for p in (base / "parquet").iterdir()) == sorted(layers)
    rasters = {}
    for name, entry in manifest.get("rasters", {}).items():
        with rasterio.open(base / entry["file"]) as src:
            rasters[name] = float(src.read(1)[0, 0])
    return {"layers": layers, "rasters": rasters}


def _visible(folder: Path, *, killed: bool = False) -> dict[str, Any]:
    """The state through ``current``; the stable paths must show the very same.

    After a kill, links added for a version that never became current may
    dangle (the next run removes them); otherwise none may.
    """
    version = current_version(folder)
    state = _state(version)
    assert _state(folder) == state  # OUT/d/d.gpkg, OUT/d/parquet/..., OUT/d/density.tif
    for name in ("d.gpkg", "parquet", "layers.json", *state["rasters"]):
        assert os.readlink(folder / name) == f"current/{name}"
    stray = [
        p.name
        for p in folder.iterdir()
        if p.is_symlink() and not p.exists() and not p.name.startswith(".")
    ]
    assert stray == [] or killed  # no dangling stable link (a removed raster)
    return state


def _leftovers(folder: Path, *, keep: int = 2) -> list[str]:
    """Anything a finished run should not leave: temporary files, unfinished or extra versions."""
    found = [
        p.name
        for p in folder.iterdir()
        if p.name.endswith(".tmp") or p.name.startswith((".run-", ".trash-", ".link-"))
    ]
    versions = sorted(os.listdir(folder / "versions"))
    found += [n for n in versions if n.startswith(".")]
    current = os.readlink(folder / "current").split("/")[-1]
    complete = [n for n in versions if not n.startswith(".")]
    found += [n for n in complete if n > current]  # never switched to
    if len(complete) > keep:
        found.append(f"{len(complete)} versions kept")
    return found


# --- fault injection ---------------------------------------------------------------

#: Every function through which a run writes or renames something.
TARGETS: dict[str, tuple[Any, str]] = {
    "os.replace": (os, "replace"),
    "os.rename": (os, "rename"),
    "os.symlink": (os, "symlink"),
    "os.link": (os, "link"),
    "os.mkdir": (os, "mkdir"),
    "os.fsync": (os, "fsync"),
    "shutil.copyfile": (shutil, "copyfile"),
    "to_file": (gpd.GeoDataFrame, "to_file"),
    "to_parquet": (gpd.GeoDataFrame, "to_parquet"),
    "pq.write_table": (pq, "write_table"),
    "atomic_write_text": (store, "atomic_write_text"),
    "write_styles": (store, "write_styles"),
    "_drop_gpkg_layer": (store, "_drop_gpkg_layer"),
}


@pytest.fixture
def inject(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., dict[str, int]]]:
    """``inject(name, k, error)``: the k-th call of TARGETS[name] raises; returns the counts."""
    counts: dict[str, int] = {}

    def arm(name: str | None = None, k: int = 0, error: BaseException | None = None) -> dict:
        counts.clear()
        for target, (owner, attr) in TARGETS.items():
            original = getattr(owner, attr)
            monkeypatch.setattr(owner, attr, _counting(target, original, counts, name, k, error))
        return counts

    yield arm


def _counting(target, original, counts, name, k, error):  # type: ignore[no-untyped-def]
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        counts[target] = counts.get(target, 0) + 1
        if target == name and counts[target] == k:
            raise error if error is not None else OSError(errno.ENOSPC, "No space left on device")
        return original(*args, **kwargs)

    return wrapper


def _count_calls(tmp_path: Path, inject: Callable[..., dict[str, int]]) -> dict[str, int]:
    _old(tmp_path / "count")
    counts = inject()
    _new(tmp_path / "count")
    print("calls per target:", counts)
    return dict(counts)


def test_every_write_and_rename_point_is_all_or_nothing(
    tmp_path: Path, inject: Callable[..., dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = _count_calls(tmp_path, inject)
    monkeypatch.undo()
    # The run writes through each of these; a target never called would test nothing.
    # (GeoParquet files go through pq.write_table; to_parquet only if geopandas's
    # internal table builder is missing.)
    assert {"os.replace", "os.rename", "os.symlink", "to_file"} <= set(counts)
    assert {"atomic_write_text", "pq.write_table", "os.fsync", "shutil.copyfile"} <= set(counts)
    template = tmp_path / "template"
    _old(template)
    cases = [(name, k) for name, n in sorted(counts.items()) for k in range(1, n + 1)]
    outcomes = {"old": 0, "new": 0}
    for name, k in cases:
        out = tmp_path / f"{name}-{k}"
        shutil.copytree(template, out, symlinks=True)
        inject(name, k)
        try:
            _new(out)
            failed = None
        except gd.OutputError as exc:
            failed = str(exc)
        monkeypatch.undo()
        state = _visible(out / "d")
        if failed is None:  # the fault came after the switch: tidying only
            assert state == NEW, (name, k)
        else:
            assert state == OLD, (name, k, failed)
            assert "No space left on device [ENOSPC]" in failed, (name, k, failed)
            assert "previous results were left in place" in failed, (name, k)
        outcomes["old" if failed else "new"] += 1
        _newer(out)  # the next run: tidies what the failed one left
        assert _visible(out / "d") == _after_newer(state), (name, k)
        assert _leftovers(out / "d") == [], (name, k)
        shutil.rmtree(out)
    assert sum(outcomes.values()) == len(cases) and outcomes["old"] > 20 and outcomes["new"] > 0


def test_an_interrupt_at_every_point_leaves_no_half_version(
    tmp_path: Path, inject: Callable[..., dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not an error but an interruption (Ctrl-C): the same all-or-nothing."""
    counts = _count_calls(tmp_path, inject)
    monkeypatch.undo()
    template = tmp_path / "template"
    _old(template)
    for name in ("os.replace", "os.rename", "os.symlink", "os.link"):
        for k in range(1, counts.get(name, 0) + 1):
            out = tmp_path / f"{name}-{k}"
            shutil.copytree(template, out, symlinks=True)
            inject(name, k, KeyboardInterrupt())
            try:
                _new(out)
                interrupted = False
            except KeyboardInterrupt:
                interrupted = True
            monkeypatch.undo()
            assert _visible(out / "d") in (OLD, NEW), (name, k)
            if interrupted and _visible(out / "d") == OLD:
                assert not [n for n in os.listdir(out / "d" / "versions") if n.startswith(".new")]
            _newer(out)
            assert _leftovers(out / "d") == [], (name, k)
            shutil.rmtree(out)


KILLER = r"""
import os, signal, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
import test_transactions as t

kill_at = int(sys.argv[2])
calls = 0
def killing(original):
    def wrapper(*args, **kwargs):
        global calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    return wrapper
for name, (owner, attr) in t.TARGETS.items():
    if name != "os.fsync":
        setattr(owner, attr, killing(getattr(owner, attr)))
t._new(Path(sys.argv[1]))
print(calls)
"""


def _killed_run(out: Path, k: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", KILLER, str(out), str(k), str(Path(__file__).parent)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip


def test_a_run_killed_at_every_point_is_all_or_nothing(tmp_path: Path) -> None:
    template = tmp_path / "template"
    _old(template)
    shutil.copytree(template, tmp_path / "probe", symlinks=True)
    complete = _killed_run(tmp_path / "probe", 0)  # k=0: never killed: count the calls
    assert complete.returncode == 0, complete.stderr
    total = int(complete.stdout.split()[-1])
    assert total > 20
    seen = {"old": 0, "new": 0}
    for k in range(1, total + 1):
        out = tmp_path / f"k{k}"
        shutil.copytree(template, out, symlinks=True)
        done = _killed_run(out, k)
        assert done.returncode == -signal.SIGKILL, (k, done.stderr)
        state = _visible(out / "d", killed=True)
        assert state in (OLD, NEW), k
        seen["old" if state == OLD else "new"] += 1
        _newer(out)
        assert _visible(out / "d") == _after_newer(state), k
        assert _leftovers(out / "d") == [], k
        shutil.rmtree(out)
    assert seen["old"] > 0 and seen["new"] > 0


# --- the real cause ----------------------------------------------------------------


def test_a_full_disk_is_named_not_the_follow_on_message(
    tmp_path: Path, inject: Callable[..., dict[str, int]]
) -> None:
    _old(tmp_path)
    inject("to_file", 1, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(gd.OutputError, match=r"No space left on device \[ENOSPC\]") as info:
        _new(tmp_path)
    message = str(info.value)
    assert "layer 'pois'" in message and str(tmp_path / "d" / "versions") in message


def test_a_file_size_limit_is_found_behind_gdals_message(tmp_path: Path) -> None:
    """A real limit of the kernel (RLIMIT_FSIZE: EFBIG), met inside GDAL's SQLite writes."""
    script = r"""
import resource, signal, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import geodistrict as gd
import test_transactions as t
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
try:
    gd.write_layers({"streets": t._lines(20_000)}, sys.argv[1], district="d")
except gd.OutputError as exc:
    print(exc)
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), str(Path(__file__).parent)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "File too large [EFBIG]" in done.stdout, done.stdout
    assert "nothing of this run was made visible" in done.stdout


def test_a_failing_raster_leaves_the_vectors_unpublished_too(tmp_path: Path) -> None:
    _old(tmp_path)

    def broken(path: Path) -> dict[str, Any]:
        raise OSError(errno.EACCES, "Permission denied", str(path))

    failing = pytest.raises(gd.OutputError, match=r"Permission denied \[EACCES\]")
    with failing, transaction(tmp_path / "d") as tx:
        tx.write_layers({"pois": _points(9)}, district="d")
        tx.add_raster("density.tif", broken)
    assert _visible(tmp_path / "d") == OLD


def test_a_damaged_stable_path_is_repaired_not_reported_as_kept(tmp_path: Path) -> None:
    """The audit's case: ``parquet`` replaced by a file."""
    _old(tmp_path)
    folder = tmp_path / "d"
    (folder / "parquet").unlink()
    (folder / "parquet").write_text("not a folder")
    _newer(tmp_path)
    assert _visible(folder) == _after_newer(OLD)


# --- one run at a time -------------------------------------------------------------

HOLDER = r"""
import sys
from geodistrict.store import output_lock
with output_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.readline()
"""


@contextlib.contextmanager
def _holding(folder: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock of ``folder`` until its stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait()


@pytest.fixture
def held(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    with _holding(tmp_path / "d") as proc:
        yield proc


def test_a_second_run_refuses_at_once_naming_the_other(
    tmp_path: Path, held: subprocess.Popen[str]
) -> None:
    with pytest.raises(gd.OutputError) as info:
        write_layers({"pois": _points(1)}, tmp_path, district="d")
    message = str(info.value)
    assert f"pid {held.pid}" in message and str(tmp_path / "d") in message
    assert not (tmp_path / "d" / "current").exists()


def test_the_command_line_run_exits_2_while_another_run_writes(tmp_path: Path) -> None:
    with _holding(tmp_path / "sample") as other:
        done = subprocess.run(
            [sys.executable, "-m", "geodistrict.cli", "run", "config/sample.yml", "--out",
             str(tmp_path)],
            capture_output=True, text=True, cwd=ROOT, check=False,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"pid {other.pid}" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "sample" / "current").exists()


def test_waiting_for_the_lock_takes_it_when_the_other_run_ends(
    tmp_path: Path, held: subprocess.Popen[str]
) -> None:
    got: list[str] = []

    def wait() -> None:
        with gd.store.output_lock(tmp_path / "d", timeout=600):
            got.append((tmp_path / "d" / ".lock").read_text().strip())

    waiter = threading.Thread(target=wait)
    waiter.start()
    assert held.stdin is not None
    held.stdin.close()  # the other run ends
    held.wait()
    waiter.join()
    assert got == [str(os.getpid())]


def test_another_thread_is_refused_and_the_same_thread_may_nest(tmp_path: Path) -> None:
    errors: list[str] = []
    with gd.store.output_lock(tmp_path / "d"):
        with gd.store.output_lock(tmp_path / "d"):  # the runner locks, then writes
            pass

        def other() -> None:
            try:
                write_layers({"pois": _points(1)}, tmp_path, district="d")
            except gd.OutputError as exc:
                errors.append(str(exc))

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert len(errors) == 1 and "another geodistrict run" in errors[0]
    write_layers({"pois": _points(1)}, tmp_path, district="d")  # released


# --- leftovers, versions, older layouts -------------------------------------------


def test_leftovers_of_killed_runs_are_removed_by_the_next_run(tmp_path: Path) -> None:
    _old(tmp_path)
    folder = tmp_path / "d"
    work = folder / ".run-abc123"  # the work folder of geodistrict before versions
    (work / "parquet").mkdir(parents=True)
    (work / "d.gpkg").write_bytes(os.urandom(1 << 16))
    (folder / ".density.tif.x1y2.tmp").write_bytes(b"half a raster")
    (folder / ".layers.json.abc.tmp").write_text("{")
    unfinished = folder / "versions" / ".new-v000009-20250101T000000Z"
    (unfinished / "parquet").mkdir(parents=True)
    shutil.copytree(current_version(folder), folder / "versions" / "v000008-20250101T000000Z")
    assert len(_leftovers(folder)) == 6  # 3 versions: one more than kept
    _newer(tmp_path)
    assert _leftovers(folder) == []
    assert _visible(folder) == _after_newer(OLD)


@pytest.mark.parametrize("keep", [1, 2, 3])
def test_old_versions_beyond_keep_are_removed(tmp_path: Path, keep: int) -> None:
    for n in range(1, 5):
        write_layers({"pois": _points(n)}, tmp_path, district="d", keep=keep)
    versions = sorted(os.listdir(tmp_path / "d" / "versions"))
    assert len(versions) == keep
    assert os.readlink(tmp_path / "d" / "current") == f"versions/{versions[-1]}"
    assert read_manifest(tmp_path / "d")["version"] == versions[-1]


def test_keep_must_be_a_positive_integer(tmp_path: Path) -> None:
    with pytest.raises(gd.ParameterError, match="keep"):
        write_layers({"pois": _points(1)}, tmp_path, district="d", keep=0)


def test_a_reader_keeps_its_version_through_a_later_run(tmp_path: Path) -> None:
    _old(tmp_path)
    version = current_version(tmp_path / "d")  # a reader resolves once...
    _newer(tmp_path)  # ...a run switches meanwhile
    assert _state(version) == OLD  # the reader's version is whole
    assert _visible(tmp_path / "d")["layers"]["pois"] == 7


def _to_old_layout(folder: Path) -> None:
    """Turn a folder into what geodistrict wrote before versions: plain files in place."""
    version = current_version(folder)
    for link in [p for p in folder.iterdir() if p.is_symlink()]:
        link.unlink()
    for entry in version.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, folder / entry.name)
        else:
            shutil.copy2(entry, folder / entry.name)
    shutil.rmtree(folder / "versions")


def test_a_folder_of_the_old_layout_is_carried_over(tmp_path: Path) -> None:
    _old(tmp_path)
    folder = tmp_path / "d"
    _to_old_layout(folder)
    assert _state(folder) == OLD and not (folder / "current").exists()
    assert read_manifest(folder)["layers"]["pois"]["features"] == 3  # readers still work
    _newer(tmp_path)
    assert _visible(folder) == _after_newer(OLD)
    assert _leftovers(folder) == []


def test_an_old_layout_without_its_parquet_folder_is_refused_then_healed(tmp_path: Path) -> None:
    _old(tmp_path)
    folder = tmp_path / "d"
    _to_old_layout(folder)
    shutil.rmtree(folder / "parquet")
    (folder / "parquet").write_text("a file where the folder was")
    gpkg = hashlib.sha256((folder / "d.gpkg").read_bytes()).hexdigest()
    with pytest.raises(gd.OutputError, match=r"streets.*missing.*previous results were left"):
        _newer(tmp_path)  # streets would have to be carried over from the lost file
    assert hashlib.sha256((folder / "d.gpkg").read_bytes()).hexdigest() == gpkg
    assert not (folder / "current").exists()
    with transaction(folder) as tx:  # a full run: every layer rewritten, nothing carried
        layers = {"pois": _points(5), "parks": _points(4), "landuse": _points(6)}
        tx.write_layers(layers, district="d", remove=["streets"])
        tx.add_raster("density.tif", _raster(2.0))
        tx.add_raster("extra.tif", _raster(3.0))
    assert _visible(folder) == NEW  # kept.tif, intact in the old layout, carried over


# --- readers -----------------------------------------------------------------------


def test_read_manifest_names_a_missing_key(tmp_path: Path) -> None:
    write_layers({"pois": _points(2)}, tmp_path, district="d")
    folder = tmp_path / "d"
    manifest = read_manifest(folder)
    del manifest["layers"]["pois"]["parquet"]
    target = current_version(folder) / "layers.json"
    target.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(gd.OutputError, match=r"layers\['pois'\] has no 'parquet'"):
        read_manifest(folder)
    done = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", "layers", str(folder)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "'parquet'" in done.stderr and "Traceback" not in done.stderr
    _newer(tmp_path)  # a run over a damaged manifest starts afresh
    assert _visible(folder)["layers"] == {"pois": 7}


def test_a_manifest_cannot_point_outside_its_version(tmp_path: Path) -> None:
    write_layers({"pois": _points(2)}, tmp_path, district="d")
    target = current_version(tmp_path / "d") / "layers.json"
    manifest = json.loads(target.read_text(encoding="utf-8"))
    manifest["layers"]["pois"]["parquet"] = "../../../../etc/passwd"
    target.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(gd.OutputError, match="not a relative path"):
        read_manifest(tmp_path / "d")


def test_published_paths_stay_valid_after_later_runs(tmp_path: Path) -> None:
    from geodistrict.publish.config import pygeoapi_config

    _old(tmp_path)
    config = pygeoapi_config([tmp_path / "d"])
    source = Path(config["resources"]["d-pois"]["providers"][0]["data"]["source"])
    raster = Path(config["resources"]["d-density"]["providers"][0]["data"])
    assert source == tmp_path / "d" / "parquet" / "pois.parquet"  # the stable path
    for n in (7, 8, 9):  # more runs than versions kept
        write_layers({"pois": _points(n)}, tmp_path, district="d")
    assert pq.read_metadata(source).num_rows == 9
    assert raster.is_file()
    assert (
        outdir.current_name(tmp_path / "d") == sorted(os.listdir(tmp_path / "d" / "versions"))[-1]
    )
