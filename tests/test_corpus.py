"""Malformed inputs through the command line: exit 2, a message, no traceback, outputs kept.

The corpus is generated in ``tests/corpus.py``; its counts are kept in
``docs/architecture.md`` (``.venv/bin/python tests/corpus.py`` prints them).
The in-process run covers every case in seconds; the ``slow`` tests run the
cases through the real command (``python -m geodistrict.cli``) and the ones
that need a run of the sample district.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from contextlib import redirect_stderr
from pathlib import Path

import pytest
from corpus import (
    ROOT,
    Case,
    Workspace,
    all_cases,
    counts,
    make_workspace,
    run_case,
    run_in_process,
    run_subprocess,
    tiny_pbf,
)

from geodistrict.i18n import use_language

CASES = all_cases()
FAST = [c for c in CASES if not c.needs_sample]
SAMPLE = [c for c in CASES if c.needs_sample]
#: Through the real command: everything but the generated per-setting cases (in-process).
REAL = [c for c in CASES if c.kind != "config" or c.id.startswith(("yaml-", "config-"))]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return make_workspace(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def ws_sample(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("corpus-sample")
    workspace = make_workspace(root)
    code, stderr = run_subprocess(["run", "config/sample.yml", "--out", str(root / "sample")])
    assert code == 0, stderr
    workspace.sample = root / "sample" / "sample"
    return workspace


def _assert_user_error(case: Case, ws: Workspace, *, real: bool = False) -> None:
    outcome = run_case(case, ws, runner=run_subprocess if real else run_in_process)
    assert not outcome.traceback, outcome.stderr
    assert outcome.code == 2, f"exit {outcome.code}\n{outcome.stderr}"
    assert not outcome.missing, f"message lacks {outcome.missing}:\n{outcome.stderr}"
    assert not outcome.output_changed, "the existing output folder changed"
    assert "error:" in outcome.stderr or "usage:" in outcome.stderr


def test_the_corpus_is_large_and_covers_every_kind() -> None:
    kinds = {c.kind for c in CASES}
    assert len(CASES) >= 100
    assert kinds == {"config", "osm", "boundary", "cli"}
    assert sum(c.kind == "osm" for c in CASES) >= 20
    assert sum(c.kind == "boundary" for c in CASES) >= 15


@pytest.mark.parametrize("case", FAST, ids=[c.id for c in FAST])
def test_user_mistake_in_process(case: Case, ws: Workspace) -> None:
    _assert_user_error(case, ws)


@pytest.mark.slow
@pytest.mark.parametrize("case", SAMPLE, ids=[c.id for c in SAMPLE])
def test_user_mistake_on_a_sample_run(case: Case, ws_sample: Workspace) -> None:
    _assert_user_error(case, ws_sample)


@pytest.mark.slow
@pytest.mark.parametrize("case", REAL, ids=[c.id for c in REAL])
def test_user_mistake_through_the_real_command(case: Case, ws_sample: Workspace) -> None:
    _assert_user_error(case, ws_sample, real=True)


def test_counts_in_the_docs_match_the_corpus() -> None:
    docs = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    found = re.search(r"\| cases \| (\d+) \|", docs)
    assert found, "docs/architecture.md has no corpus count table"
    assert int(found.group(1)) == len(CASES)
    for name in ("tracebacks", "wrong exit codes", "lost outputs"):
        assert re.search(rf"\| {name} \| 0 \|", docs), name


def test_counts_of_a_clean_run_are_zero(ws: Workspace) -> None:
    picked = [c for c in FAST if c.id in {"yaml-alias-bomb", "pbf-empty", "gpkg-nan"}]
    outcomes = [run_case(c, ws, runner=run_in_process) for c in picked]
    assert counts(outcomes) == {
        "cases": 3,
        "tracebacks": 0,
        "wrong exit codes": 0,
        "lost outputs": 0,
        "messages missing the file/key": 0,
    }


# --- bounded messages and resources -------------------------------------------------


def test_an_alias_bomb_is_refused_with_a_short_message(tmp_path: Path) -> None:
    from corpus import _bomb

    from geodistrict.config import load_config
    from geodistrict.errors import ConfigError

    path = tmp_path / "bomb.yml"
    path.write_text(_bomb(9))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "expands to" in str(caught.value) or "aliases" in str(caught.value)
    assert len(str(caught.value)) < 500


def test_a_huge_value_is_quoted_as_an_excerpt(tmp_path: Path) -> None:
    from geodistrict.config import load_config
    from geodistrict.errors import ConfigError

    path = tmp_path / "long.yml"
    path.write_text(
        "district: t\ntitle: T\narea: {bbox: [24.93, 60.16, 24.95, 60.18]}\n"
        f"unknown: [{', '.join(['v' * 1000] * 500)}]\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "unknown" in str(caught.value)
    assert len(str(caught.value)) < 1000


def test_the_memory_limit_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geodistrict.config import load_config
    from geodistrict.errors import ConfigError

    path = tmp_path / "d.yml"
    path.write_text("district: t\ntitle: T\narea: {bbox: [24.93, 60.16, 24.95, 60.18]}\n")
    assert load_config(path).commerce.raster_cell_m == 10
    monkeypatch.setenv("GEODISTRICT_MEMORY_LIMIT_GB", "0.001")
    with pytest.raises(ConfigError, match=r"commerce\.raster_cell_m: the density raster"):
        load_config(path)


def test_study_area_checks_the_size_of_a_file_area(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from geodistrict.area import study_area
    from geodistrict.config import load_config
    from geodistrict.errors import ConfigError

    ring = [[24.93, 60.16], [24.95, 60.16], [24.95, 60.18], [24.93, 60.16]]
    area = tmp_path / "area.geojson"
    geometry = {"type": "Polygon", "coordinates": [ring]}
    area.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": geometry}))
    (tmp_path / "d.yml").write_text(f"district: t\ntitle: T\narea: {{file: {area}}}\n")
    config = load_config(tmp_path / "d.yml")
    assert len(study_area(config)) == 1
    monkeypatch.setenv("GEODISTRICT_MEMORY_LIMIT_GB", "0.001")
    with pytest.raises(ConfigError, match=r"area\.file .*area\.geojson.*raster_cell_m"):
        study_area(config)


def test_scan_pbf_reads_the_declared_extent(tmp_path: Path) -> None:
    from geodistrict.sources.osm import sample_pbf_path, scan_pbf

    problem, bbox = scan_pbf(sample_pbf_path())
    assert problem is None
    assert bbox is not None and 24.9 < bbox[0] < bbox[2] < 25.0
    path = tmp_path / "t.osm.pbf"
    path.write_bytes(tiny_pbf())
    assert scan_pbf(path) == (None, (24.93, 60.16, 24.96, 60.18))
    path.write_bytes(tiny_pbf()[:-3])
    problem, _ = scan_pbf(path)
    assert problem is not None and problem.startswith("is truncated")


def test_a_hand_written_pbf_is_read(tmp_path: Path) -> None:
    from shapely.geometry import box

    from geodistrict.sources.osm import read_pbf

    path = tmp_path / "t.osm.pbf"
    path.write_bytes(tiny_pbf())
    raw = read_pbf(path, box(24.93, 60.16, 24.96, 60.18))
    assert sorted(raw.nodes.index) == [1, 2, 3]
    assert len(raw.segments) == 2


def test_an_unexpected_exception_is_exit_1_with_a_short_message_and_a_log() -> None:
    from geodistrict.cli import _report_bug

    try:
        raise RuntimeError("boom " + "x" * 5000)
    except RuntimeError as exc:
        err = io.StringIO()
        with redirect_stderr(err), use_language("en"):  # Italian by default: 'imprevisto'
            code = _report_bug(exc, verbose=0)
    text = err.getvalue()
    assert code == 1
    assert "Traceback" not in text and len(text) < 1000
    assert "unexpected RuntimeError: boom" in text and "bug" in text
    log = Path(re.search(r"details are in (\S+)", text).group(1))  # type: ignore[union-attr]
    assert "Traceback" in log.read_text() and "boom" in log.read_text()
    log.unlink()


def test_main_is_run_as_a_module() -> None:
    result = subprocess.run([sys.executable, "-m", "geodistrict.cli", "check", str(ROOT)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 2
    assert "folder" in result.stderr and "Traceback" not in result.stderr


def test_every_number_of_the_configuration_has_a_range() -> None:
    from corpus import _bounds, _numeric_fields

    fields = list(_numeric_fields())
    assert len(fields) > 40
    unbounded = [f"{s}.{k}" for s, k, _, meta in fields if None in _bounds(meta)[:2]]
    assert unbounded == [], "give these settings a plausible range (Field(ge=..., le=...))"
