"""QGIS itself (PyQGIS from Debian, headless) opens the deliverable and the service.

Skipped where PyQGIS is not installed; CI installs it (scripts/qgis.sh) and sets
GEODISTRICT_REQUIRE_QGIS=1 so that a missing QGIS fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import geodistrict as gd

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("qgis_probe.py")


def has_qgis() -> bool:
    """Whether Debian's PyQGIS is importable by the system Python."""
    if not Path(SYSTEM_PYTHON).exists():
        return False
    check = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, check=False
    )
    return check.returncode == 0


pytestmark = pytest.mark.skipif(
    not has_qgis() and os.environ.get("GEODISTRICT_REQUIRE_QGIS") != "1",
    reason="PyQGIS not installed (scripts/qgis.sh installs it)",
)


def run_probe(*args: str) -> dict[str, dict[str, object]]:
    """Run qgis_probe.py with the system Python and return what QGIS saw."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run(
        [SYSTEM_PYTHON, str(PROBE), *args], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, dict[str, object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_qgis_opens_every_layer_styled(tmp_path: Path) -> None:
    result = gd.run(gd.load_config(ROOT / "config" / "sample.yml"), out=tmp_path)
    seen = run_probe(str(result.folder / "sample.gpkg"))
    assert set(seen) == set(result.manifest["layers"])
    for name, entry in seen.items():
        assert entry["valid"], name
        assert entry["features"] == result.manifest["layers"][name]["features"], name
        assert entry["style_loaded"], name
        assert entry["unsymbolled"] == 0, name  # every feature falls in a style class
    renderers = {name: entry["renderer"] for name, entry in seen.items()}
    assert renderers["transit_stops"] == "categorizedSymbol"
    assert renderers["bike_network"] == "categorizedSymbol"  # LTS 1-4, green to red
    assert renderers["vacant_units"] == "graduatedSymbol"  # priority classes
    assert renderers["commercial_hex"] == "graduatedSymbol"  # density ramp
