"""Writing results: one GeoPackage per district plus one GeoParquet per layer, in versions.

Layout of a district's output folder ``OUT/<district>``::

    versions/v000007-20250301T101500Z/   one complete, never modified version:
        <district>.gpkg                  every layer, in the working CRS
        parquet/<layer>.parquet          one GeoParquet 1.1 per layer, for serving
        commercial_density.tif           rasters (add_raster)
        layers.json                      the manifest: what, when, from what
    current -> versions/v000007-...      THE pointer: one symbolic link
    <district>.gpkg -> current/<district>.gpkg   stable paths (QGIS, pygeoapi)
    parquet -> current/parquet
    layers.json -> current/layers.json
    commercial_density.tif -> current/commercial_density.tif
    .lock                                held (flock) by the run writing the folder

A run is one transaction (:func:`transaction`): under the folder's lock it
writes a complete new version in ``versions/.new-<id>`` (new layers written,
the previous version's other layers and rasters hard-linked, or copied, so
nothing of an older version is ever modified), renames it to
``versions/<id>`` and then switches ``current`` with one ``rename`` of a new
symbolic link over the old one.  The new results become visible all at once
or, if the run fails or is killed before that rename, not at all.  Readers
resolve ``current`` once (:func:`current_version`) and see one version;
the stable paths go through ``current``, so a file opened by one of them
belongs to a single version too.  The next run removes what a killed run
left (``.new-*``, versions never switched to, ``*.tmp``, the ``.run-*``
folders of older geodistrict versions) and, after its switch, the versions
beyond the newest ``keep`` (default :data:`KEEP_VERSIONS`).  A folder written
by an older geodistrict (files directly in the folder) is taken as the
previous version and converted on the first run.

Each GeoParquet file adds ``fid`` (the GeoPackage feature id, 1..n) and a
``bbox`` covering column, so a server can page by id and filter by bbox; OSM
identifiers (:data:`geodistrict._layerfiles.SERVED_AS_TEXT`) are text there,
because OGC API clients truncate 64-bit integers read from JSON, and non-finite numbers are null
(:func:`finite_or_null`), because JSON has no ``Infinity`` or ``NaN``.  Layers
not written by a run (for example with ``--only``) are carried over from the
previous version.  A write that fails names its real cause (``No space left on
device [ENOSPC]``, ``Permission denied [EACCES]``...) and the path, not the
follow-on message of the library that was writing.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from geodistrict._layerfiles import (
    _drop_gpkg_layer,
    _gpkg_tables,
    _lonlat_bounds,
    _plain_strings,
    _served,
    _unsynced_sqlite,
    _write_parquet,
    finite_or_null,
)
from geodistrict._outdir import (
    CURRENT,
    LOCK,
    MANIFEST,
    VERSIONS,
    atomic_write_text,
    clean_leftovers,
    current_name,
    fsync,
    fsync_tree,
    link_or_copy,
    os_cause,
    output_lock,
    prune,
    sequence,
    stable_links,
    symlink_atomic,
    writing,
)
from geodistrict._version import __version__
from geodistrict.catalogue import layer_info
from geodistrict.errors import OutputError, ParameterError
from geodistrict.i18n import get_language
from geodistrict.styles import write_styles

log = logging.getLogger(__name__)

__all__ = [
    "KEEP_VERSIONS",
    "MANIFEST",
    "OutputTransaction",
    "add_raster",
    "atomic_write_text",
    "current_version",
    "district_dir",
    "output_lock",
    "read_manifest",
    "transaction",
    "write_layers",
]

#: Versions kept by default: the current one and the one before (for readers
#: that resolved it just before the switch, and to go back by hand).
KEEP_VERSIONS = 2
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_RESERVED = frozenset({MANIFEST, CURRENT, VERSIONS, LOCK, "parquet"})


def district_dir(out_root: str | os.PathLike[str], district: str) -> Path:
    """The output folder of a district: ``OUT/<district>``."""
    return Path(out_root) / district


def _layer_entry(name: str, gdf: gpd.GeoDataFrame, *, created: str, source: str) -> dict[str, Any]:
    info = layer_info(name)
    crs = CRS.from_user_input(gdf.crs)
    bbox = _lonlat_bounds(gdf) if len(gdf) and not gdf.geometry.is_empty.all() else None
    geom_types = sorted(set(gdf.geom_type.dropna()))
    return {
        "name": name,
        "title": info.title_en,
        "title_it": info.title_it,
        "description": info.description_en,
        "description_it": info.description_it,
        "geometry_types": geom_types,
        "features": len(gdf),
        "crs": f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else crs.to_wkt(),
        "bbox_crs84": bbox,
        "columns": {c: str(gdf[c].dtype) for c in gdf.columns if c != gdf.geometry.name},
        "source": source,
        "attribution": info.attribution,
        "created": created,
        "gpkg_layer": name,
        "parquet": f"parquet/{name}.parquet",
    }


# --- reading -----------------------------------------------------------------------


def current_version(folder: str | os.PathLike[str]) -> Path:
    """The folder holding the visible version of a district's results.

    Resolves the ``current`` pointer once: read the manifest and every file
    from the returned folder and they belong to one version, even if a run
    switches to a new one meanwhile (it is removed only after ``keep``
    further runs).  A folder written by an older geodistrict (no ``current``)
    and a version folder itself are returned as they are.

    Raises
    ------
    OutputError
        If ``current`` is not a link to a complete version.

    Examples
    --------
    >>> import geopandas as gpd, tempfile
    >>> from shapely.geometry import Point
    >>> out = tempfile.mkdtemp()
    >>> pts = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(0, 0)], crs=32632)
    >>> _ = write_layers({"pois": pts}, out, district="demo")
    >>> current_version(f"{out}/demo").parent.name
    'versions'
    """
    folder = Path(folder)
    pointer = folder / CURRENT
    if pointer.is_symlink():
        try:
            target = os.readlink(pointer)
        except OSError as exc:
            raise OutputError(f"cannot read the link {str(pointer)!r}: {os_cause(exc)}") from exc
        version = folder / target
        if not (version / MANIFEST).is_file():
            raise OutputError(
                f"{str(pointer)!r} points to {target!r}, which holds no complete results; "
                "run 'geodistrict run CONFIG' again"
            )
        return version
    if pointer.exists():
        raise OutputError(
            f"{str(pointer)!r} is not the link to the current results that geodistrict keeps "
            "there; move it away and run again"
        )
    return folder


_LAYER_KEYS = ("name", "title", "features", "geometry_types", "crs", "gpkg_layer", "parquet")


def _relative_file(value: Any) -> bool:
    """A path inside the version folder: relative, no ``..``."""
    if not isinstance(value, str) or not value:
        return False
    path = Path(value)
    return not path.is_absolute() and ".." not in path.parts


def _check_manifest(data: Any, path: Path) -> dict[str, Any]:
    """The manifest if it has what readers use, else OutputError naming the key."""

    def bad(what: str) -> OutputError:
        return OutputError(
            f"{str(path)!r} is not a geodistrict manifest: {what}; run 'geodistrict run CONFIG' "
            "again to rewrite it"
        )

    if not isinstance(data, dict):
        raise bad(f"it holds a {type(data).__name__}, not an object")
    for key in ("district", "layers"):
        if key not in data:
            raise bad(f"the key {key!r} is missing")
    if not isinstance(data["district"], str):
        raise bad(f"'district' is {data['district']!r}, not text")
    layers = data["layers"]
    if not isinstance(layers, dict):
        raise bad(f"'layers' is a {type(layers).__name__}, not an object")
    if layers and not _relative_file(data.get("gpkg")):
        raise bad(f"'gpkg' is {data.get('gpkg')!r}, not a file name")
    for name, entry in layers.items():
        if not isinstance(entry, dict):
            raise bad(f"layers[{name!r}] is not an object")
        missing = [k for k in _LAYER_KEYS if k not in entry]
        if missing:
            raise bad(f"layers[{name!r}] has no {', '.join(repr(k) for k in missing)}")
        if not _relative_file(entry["parquet"]):
            raise bad(f"layers[{name!r}]['parquet'] is {entry['parquet']!r}, not a relative path")
    rasters = data.get("rasters", {})
    if not isinstance(rasters, dict):
        raise bad(f"'rasters' is a {type(rasters).__name__}, not an object")
    for name, entry in rasters.items():
        if not isinstance(entry, dict) or not _relative_file(entry.get("file")):
            raise bad(f"rasters[{name!r}] has no relative 'file'")
    return data


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the manifest (``layers.json``) of the current version of a district's results.

    ``folder`` is ``OUT/<district>`` (or one of its version folders).  To read
    files of the same version, resolve the folder once with
    :func:`current_version` and pass that.

    Raises
    ------
    OutputError
        If the folder holds no manifest, or it cannot be read or parsed, or it
        lacks a key the readers need (the message names it).
    """
    path = current_version(folder) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise OutputError(
            f"{str(folder)!r} holds no geodistrict results (no {MANIFEST}); "
            "run 'geodistrict run CONFIG' first"
        ) from exc
    except OSError as exc:
        raise OutputError(f"cannot read {str(path)!r}: {os_cause(exc)}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputError(f"cannot read {str(path)!r}: {exc}") from exc
    return _check_manifest(data, path)


def _frame_bytes(gdf: gpd.GeoDataFrame) -> int:
    """A rough size of a layer on disk: coordinates plus attributes."""
    coords = int(gdf.geometry.count_coordinates().sum()) * 16
    return coords + int(gdf.drop(columns=gdf.geometry.name).memory_usage(deep=True).sum())


# --- the transaction ---------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class OutputTransaction:
    """A new version of a district's results being written; see :func:`transaction`.

    Attributes
    ----------
    folder : Path
        The district's output folder ``OUT/<district>``.
    version : str
        The id of the version being written (``v000008-20250301T101500Z``).
    path : Path
        Where it is being written (``versions/.new-<version>``, then
        ``versions/<version>``).
    manifest : dict
        The manifest: the previous one with this transaction's changes; once
        committed, what ``layers.json`` holds.
    """

    def __init__(self, folder: Path, *, keep: int) -> None:
        self.folder = folder
        self.keep = keep
        self.committed = False
        self.previous_dir: Path | None = None
        self.previous: dict[str, Any] = {}
        previous_dir = current_version(folder)
        if (previous_dir / MANIFEST).exists():
            try:
                self.previous = read_manifest(previous_dir)
                self.previous_dir = previous_dir
            except OutputError as exc:  # a damaged manifest: start afresh, say so
                log.warning("the previous results are not carried over: %s", exc)
        try:
            clean_leftovers(folder, keep)
        except OSError as exc:
            log.warning("cannot remove what earlier runs left in %s: %s", folder, os_cause(exc))
        versions = folder / VERSIONS
        with writing("a new version", versions):
            versions.mkdir(exist_ok=True)
            taken = [sequence(n) for n in os.listdir(versions)]
            current = current_name(folder)
            taken.append(sequence(current) if current else 0)
            self.version = f"v{max(taken) + 1:06d}-{_now().strftime('%Y%m%dT%H%M%SZ')}"
            self.path = versions / f".new-{self.version}"
            os.mkdir(self.path, 0o755)
            try:
                (self.path / "parquet").mkdir(mode=0o755)
            except BaseException:
                shutil.rmtree(self.path, ignore_errors=True)
                raise
        self.manifest: dict[str, Any] = {
            **self.previous,
            "layers": dict(self.previous.get("layers", {})),
            "rasters": dict(self.previous.get("rasters", {})),
        }
        self._written: set[str] = set()  # layers and rasters written by this transaction
        self._links: list[Path] = []  # stable links added before the switch
        self._gpkg_ready = False

    # -- writing ------------------------------------------------------------------

    def _gpkg(self, district: str) -> Path:
        """This version's GeoPackage: a private copy of the previous one, made on first use."""
        gpkg = self.path / f"{district}.gpkg"
        if not self._gpkg_ready:
            source = self._previous_file(self.previous.get("gpkg"))
            if source is not None and source.is_file() and self.previous.get("layers"):
                with writing("a copy of the GeoPackage", gpkg):
                    shutil.copyfile(source, gpkg)
            self._gpkg_ready = True
        return gpkg

    def _previous_file(self, relative: Any) -> Path | None:
        if self.previous_dir is None or not isinstance(relative, str):
            return None
        return self.previous_dir / relative

    @_unsynced_sqlite()  # the whole write: see _unsynced_sqlite
    def write_layers(
        self,
        layers: Mapping[str, gpd.GeoDataFrame],
        *,
        district: str,
        title: str = "",
        source: str = "",
        config_file: str | None = None,
        remove: Iterable[str] = (),
        language: str | None = None,
    ) -> dict[str, Any]:
        """Write layers into this version (see :func:`write_layers`); returns the manifest."""
        for name in layers:
            _check_name(name, "layer name")
        created = _now().isoformat()
        entries: dict[str, Any] = self.manifest["layers"]
        rasters: dict[str, Any] = self.manifest["rasters"]
        removed = False
        for name in set(remove) - set(layers):
            if name in entries:
                removed = True
                gpkg = self._gpkg(district)
                with writing(f"the GeoPackage (removing {name!r})", gpkg):
                    _drop_gpkg_layer(gpkg, name)
                    (self.path / "parquet" / f"{name}.parquet").unlink(missing_ok=True)
                del entries[name]
                self._written.discard(name)
                log.info("removed stale layer %s", name)
            if name in rasters:
                del rasters[name]
                self._written.discard(name)
                (self.path / name).unlink(missing_ok=True)
        for name, gdf in layers.items():
            info = layer_info(name)
            # The deliverable holds the same values as the served copy: null, never inf.
            plain = finite_or_null(_plain_strings(gdf.reset_index(drop=True)))
            gpkg = self._gpkg(district)
            need = functools.partial(_frame_bytes, gdf)
            with writing(f"layer {name!r}", gpkg, need=need):
                plain.to_file(
                    gpkg,
                    layer=name,
                    driver="GPKG",
                    engine="pyogrio",
                    layer_options={
                        "IDENTIFIER": info.title_en,
                        "DESCRIPTION": info.description_en,
                    },
                    # GeoPackage 1.2: read without warnings by the GDAL of older QGIS LTRs.
                    dataset_options={"VERSION": "1.2"},
                )
            target = self.path / "parquet" / f"{name}.parquet"
            entry = _layer_entry(name, gdf, created=created, source=source)
            with writing(f"layer {name!r}", target, need=need):
                target.unlink(missing_ok=True)
                # fid matches the GeoPackage's feature ids (1..n), so both stores share
                # ids; the bbox covering column (GeoParquet 1.1) lets servers filter by bbox.
                _write_parquet(_served(plain, finite=True), target, entry)
            entries[name] = entry
            self._written.add(name)
            log.info("wrote layer %s (%d features)", name, len(gdf))
        if layers or removed:
            gpkg = self._gpkg(district)
            with writing("the layer styles", gpkg):
                if gpkg.is_file():
                    write_styles(gpkg, {**{n: pd.DataFrame() for n in entries}, **layers})
        self.manifest.update(
            district=district,
            title=title or self.previous.get("title", district),
            generator=f"geodistrict {__version__}",
            updated=created,
            config=config_file or self.previous.get("config"),
            attribution="Map data © OpenStreetMap contributors, ODbL 1.0",
            gpkg=f"{district}.gpkg",
            # the district's language, for the deliverables made later from this folder
            language=language or self.previous.get("language") or get_language(),
        )
        return self.manifest

    def add_raster(self, name: str, write: Callable[[Path], Mapping[str, Any]]) -> dict[str, Any]:
        """Write a raster file into this version (see :func:`add_raster`); returns the manifest."""
        _check_name(name, "raster file name")
        if name.endswith(".gpkg"):
            raise ParameterError(f"a raster cannot be named like a GeoPackage: {name!r}")
        path = self.path / name
        with writing(f"the raster {name!r}", path):
            path.unlink(missing_ok=True)
            meta = dict(write(path))
            if not path.is_file():
                raise OutputError(f"the writer of the raster {name!r} wrote no file at {path}")
            os.chmod(path, 0o644)  # readable by a server running as another user
        entry = {"name": name, "file": name, **meta, "created": _now().isoformat()}
        self.manifest["rasters"][name] = entry
        self._written.add(name)
        log.info("wrote raster %s", name)
        return self.manifest

    # -- commit -------------------------------------------------------------------

    def _carry_over(self) -> None:
        """Link (or copy) the previous version's layers and rasters this one did not rewrite."""
        entries: dict[str, Any] = self.manifest["layers"]
        district = self.manifest.get("district") or self.folder.name
        self.manifest.setdefault("district", district)
        self.manifest.setdefault("gpkg", f"{district}.gpkg")
        gpkg = self.path / self.manifest["gpkg"]
        kept = [n for n in entries if n not in self._written]
        if entries and not gpkg.exists():
            source = self._previous_file(self.previous.get("gpkg"))
            if source is None or not source.is_file():
                raise OutputError(
                    f"cannot carry over the layers {kept!r}: the previous GeoPackage "
                    f"{str(source)!r} is missing; run every step (no --only) to rewrite them"
                )
            with writing("the GeoPackage", gpkg):
                link_or_copy(source, gpkg)
        for name in kept:
            source = self._previous_file(self.previous["layers"][name]["parquet"])
            target = self.path / entries[name]["parquet"]
            if source is None or not source.is_file():
                raise OutputError(
                    f"cannot carry over the layer {name!r}: its GeoParquet file "
                    f"{str(source)!r} is missing; run every step (no --only) to rewrite it"
                )
            with writing(f"layer {name!r}", target):
                target.parent.mkdir(parents=True, exist_ok=True)
                link_or_copy(source, target)
        for name, entry in self.manifest["rasters"].items():
            if name in self._written:
                continue
            source = self._previous_file(entry["file"])
            target = self.path / entry["file"]
            if source is None or not source.is_file():
                raise OutputError(
                    f"cannot carry over the raster {name!r}: {str(source)!r} is missing; "
                    "run every step (no --only) to rewrite it"
                )
            with writing(f"the raster {name!r}", target):
                link_or_copy(source, target)
        if entries:
            tables = _gpkg_tables(gpkg)
            lost = sorted(
                e["gpkg_layer"] for e in entries.values() if e["gpkg_layer"] not in tables
            )
            if lost:
                raise OutputError(
                    f"the GeoPackage {str(gpkg)!r} lacks the layer(s) {lost!r} of its manifest; "
                    "run every step (no --only) to rewrite them"
                )

    def commit(self) -> dict[str, Any]:
        """Make this version the current one: the one rename that publishes it.

        Everything before the switch may fail and leaves the previous version
        current; what comes after it (stable links of older layouts, pruning)
        only logs a warning when it fails: the next run does it again.
        """
        self._carry_over()
        if not self.manifest.get("rasters"):
            self.manifest.pop("rasters", None)
        district = self.manifest["district"]
        for key, value in (
            ("title", district),
            ("generator", f"geodistrict {__version__}"),
            ("updated", _now().isoformat()),
            ("config", None),
            ("attribution", "Map data © OpenStreetMap contributors, ODbL 1.0"),
        ):
            self.manifest.setdefault(key, value)
        self.manifest["version"] = self.version
        with writing("the manifest", self.path / MANIFEST):
            atomic_write_text(
                self.path / MANIFEST, json.dumps(self.manifest, indent=2, ensure_ascii=False)
            )
        final = self.path.parent / self.version
        with writing("the new version", final):
            fsync_tree(self.path)
            os.rename(self.path, final)
            self.path = final
            fsync(final.parent)
            stable_links(self.folder, final, replace=False, added=self._links)
            symlink_atomic(f"{VERSIONS}/{self.version}", self.folder / CURRENT)  # the switch
        self.committed = True
        log.info("results of %s now at %s", self.folder, final)
        try:
            fsync(self.folder)
            stable_links(self.folder, final, replace=True)
            prune(self.folder, self.keep)
        except OSError as exc:
            log.warning(
                "the new results are in place, but tidying %s failed (%s); the next run tidies it",
                self.folder,
                os_cause(exc),
            )
        return self.manifest

    def abort(self) -> None:
        """Remove the version being written (nothing of it was visible)."""
        if not self.committed:
            shutil.rmtree(self.path, ignore_errors=True)
            for link in self._links:  # added for entries the previous version lacks
                with contextlib.suppress(OSError):
                    link.unlink()


def _check_name(name: Any, what: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name) or name in _RESERVED:
        raise ParameterError(
            f"{what} must be letters, digits, '_', '.' or '-' (and not one of "
            f"{sorted(_RESERVED)}), got {name!r}"
        )


@contextlib.contextmanager
def transaction(
    folder: str | os.PathLike[str], *, keep: int | None = None, timeout: float = 0.0
) -> Iterator[OutputTransaction]:
    """Write a new version of a district's results, made visible all at once on success.

    Takes the folder's lock (:func:`output_lock`, refusing at once when
    another run holds it unless ``timeout`` > 0), removes what killed runs
    left, and yields an :class:`OutputTransaction` to write layers and rasters
    into.  When the block ends without error the version becomes the current
    one with a single atomic rename, and versions beyond the newest ``keep``
    are removed; when it raises, the new version is deleted and the previous
    one stays current.

    Parameters
    ----------
    folder : path-like
        The district's output folder ``OUT/<district>``.
    keep : int, optional
        Versions kept after the switch, the new one included (default
        :data:`KEEP_VERSIONS`).
    timeout : float, default 0
        Seconds to wait for another run's lock.

    Raises
    ------
    OutputError
        If the lock is held, or anything cannot be written (the message names
        the cause and the path); the previous results are then left in place.

    Examples
    --------
    >>> import geopandas as gpd, tempfile
    >>> from shapely.geometry import Point
    >>> folder = f"{tempfile.mkdtemp()}/demo"
    >>> pts = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[Point(0, 0)] * 2, crs=32632)
    >>> with transaction(folder) as tx:
    ...     _ = tx.write_layers({"pois": pts}, district="demo")
    >>> read_manifest(folder)["layers"]["pois"]["features"]
    2
    """
    keep = KEEP_VERSIONS if keep is None else keep
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ParameterError(f"keep must be an integer >= 1 (versions kept), got {keep!r}")
    folder = Path(folder)
    with output_lock(folder, timeout=timeout):
        tx: OutputTransaction | None = None
        try:
            tx = OutputTransaction(folder, keep=keep)
            yield tx
            tx.commit()
        except BaseException as exc:
            if tx is not None:
                tx.abort()
            if (tx is not None and tx.committed) or not isinstance(exc, Exception):
                raise
            what = exc if isinstance(exc, OutputError) else f"{exc.__class__.__name__}: {exc}"
            raise OutputError(
                f"writing results to {str(folder)!r} failed: {what}; nothing of this run was "
                "made visible: the previous results were left in place"
            ) from exc


def write_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    out_root: str | os.PathLike[str],
    *,
    district: str,
    title: str = "",
    source: str = "",
    config_file: str | None = None,
    remove: Iterable[str] = (),
    keep: int | None = None,
) -> dict[str, Any]:
    """Write layers as a new version of a district's results, atomically.

    One :func:`transaction`: the layers go into a new version folder with the
    previous version's other layers, which becomes current at once when
    everything is written; on failure the previous results stay current.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layers to write, by name; all in the working CRS.
    out_root : path-like
        The output root; files go to ``out_root/<district>/``.
    district : str
        District id.
    title : str, optional
        District title, stored in the manifest.
    source : str, optional
        Short description of the data source (e.g. ``"OSM pbf: Helsinki.osm.pbf"``).
    config_file : str, optional
        The configuration that produced the run, stored in the manifest.
    remove : iterable of str, optional
        Layers and rasters of an earlier run to leave out of the new version
        (a step that no longer produces them: their old content would be stale).
    keep : int, optional
        Versions kept (default :data:`KEEP_VERSIONS`).

    Returns
    -------
    dict
        The new manifest (also written to ``layers.json``).

    Raises
    ------
    OutputError
        If another run holds the folder, or anything cannot be written; the
        previous outputs are then untouched.

    Examples
    --------
    >>> import geopandas as gpd, tempfile
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(0, 0)], crs=32632)
    >>> manifest = write_layers({"pois": pts}, tempfile.mkdtemp(), district="demo")
    >>> manifest["layers"]["pois"]["features"]
    1
    """
    _check_name(district, "district")
    with transaction(district_dir(out_root, district), keep=keep) as tx:
        tx.write_layers(
            layers,
            district=district,
            title=title,
            source=source,
            config_file=config_file,
            remove=remove,
        )
    return tx.manifest


def add_raster(
    folder: str | os.PathLike[str],
    name: str,
    write: Callable[[Path], Mapping[str, Any]],
    *,
    keep: int | None = None,
) -> dict[str, Any]:
    """Write a raster file as a new version of a district's results and record it in the manifest.

    ``write(path)`` must write the complete file at ``path`` (a temporary file
    in the same folder, then a rename) and return its metadata (title, bands,
    units...).  The manifest gets a ``rasters`` section with ``name``,
    ``file``, the metadata and ``created``.  A pipeline run writes its
    rasters in the same transaction as its layers
    (:meth:`OutputTransaction.add_raster`); this function is one transaction
    on its own.

    Parameters
    ----------
    folder : path-like
        The district output folder (``OUT/<district>``).
    name : str
        File name, e.g. ``commercial_density.tif``.
    write : callable
        Writes the file; returns its metadata.
    keep : int, optional
        Versions kept (default :data:`KEEP_VERSIONS`).

    Returns
    -------
    dict
        The updated manifest.

    Raises
    ------
    OutputError
        If the file or the manifest cannot be written; the previous results
        then stay current.
    """
    with transaction(folder, keep=keep) as tx:
        tx.add_raster(name, write)
    return tx.manifest
