"""Deliverables a council receives, made from a run's output folder.

The report (HTML and PDF), the spreadsheets (XLSX, CSV for Italian Excel) and
the QGIS project are written from the *current* version of a district's
results, in the district's language (recorded in its manifest). They live
beside the versioned results, in ``OUT/<district>/consegna/`` (the QGIS
project next to the stable GeoPackage link, ``OUT/<district>/<district>.qgz``),
and each file is replaced atomically: a reader sees the old file or the new
one, never half of one.

Examples
--------
>>> import geopandas as gpd, tempfile
>>> from shapely.geometry import Point
>>> from geodistrict import store
>>> from geodistrict.deliverables import Outputs
>>> out = tempfile.mkdtemp()
>>> pts = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(0, 0)], crs=32632)
>>> _ = store.write_layers({"pois": pts}, out, district="demo")
>>> outputs = Outputs.open(f"{out}/demo")
>>> outputs.district, sorted(outputs.layer_names), len(outputs.layer("pois"))
('demo', ['pois'], 1)
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from geodistrict import store
from geodistrict.errors import OutputError
from geodistrict.i18n import DEFAULT_LANGUAGE, LANGUAGES

__all__ = ["DELIVERABLES_DIR", "Outputs", "write_atomically"]

log = logging.getLogger(__name__)

#: Folder of the deliverables inside ``OUT/<district>/`` (Italian: what is handed over).
DELIVERABLES_DIR = "consegna"


@dataclass
class Outputs:
    """The current version of a district's results, read once and consistently.

    Attributes
    ----------
    folder : Path
        ``OUT/<district>``.
    version : Path
        The version folder resolved once (every file is read from it).
    manifest : dict
        Its ``layers.json``.
    """

    folder: Path
    version: Path
    manifest: dict[str, Any]
    _cache: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> Outputs:
        """Resolve ``OUT/<district>`` to its current version and read its manifest."""
        path = Path(folder)
        version = store.current_version(path)
        manifest = store.read_manifest(version)
        return cls(folder=path, version=version, manifest=manifest)

    @property
    def district(self) -> str:
        """The district's id."""
        return str(self.manifest["district"])

    @property
    def title(self) -> str:
        """The district's title."""
        return str(self.manifest.get("title") or self.district)

    @property
    def language(self) -> str:
        """The district's language (manifests older than the setting: the default)."""
        value = self.manifest.get("language")
        return value if value in LANGUAGES else DEFAULT_LANGUAGE

    @property
    def layer_names(self) -> list[str]:
        """The layers of this version, in the manifest's order."""
        return list(self.manifest["layers"])

    def has(self, name: str) -> bool:
        """Whether the run wrote layer ``name`` (with at least one feature)."""
        entry = self.manifest["layers"].get(name)
        return bool(entry) and int(entry.get("features", 0)) > 0

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """Layer ``name`` from its GeoParquet file (read once, then shared: do not mutate)."""
        if name not in self._cache:
            entry = self.manifest["layers"].get(name)
            if entry is None:
                raise OutputError(
                    f"{str(self.folder)!r} has no layer {name!r}; its layers are "
                    f"{', '.join(self.layer_names) or 'none'}"
                )
            self._cache[name] = gpd.read_parquet(self.version / entry["parquet"])
        return self._cache[name]

    def raster(self, name: str) -> Path | None:
        """The file of raster ``name``, or None when the run wrote none."""
        rasters = self.manifest.get("rasters", {})
        # the manifest keys rasters by file name ("commercial_density.tif")
        entry = rasters.get(name) or rasters.get(f"{name}.tif")
        return self.version / entry["file"] if entry else None

    @property
    def gpkg(self) -> Path:
        """The stable link to the GeoPackage (``OUT/<district>/<district>.gpkg``)."""
        return self.folder / str(self.manifest.get("gpkg") or f"{self.district}.gpkg")

    def deliverables_dir(self) -> Path:
        """``OUT/<district>/consegna`` (created when missing)."""
        target = self.folder / DELIVERABLES_DIR
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {str(target)!r}: {exc.strerror or exc}") from exc
        return target


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename); returns ``path``.

    Raises
    ------
    OutputError
        If the folder cannot be written (the message names the file).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> target = Path(tempfile.mkdtemp()) / "x.txt"
    >>> write_atomically(target, b"ciao").read_text()
    'ciao'
    """
    try:
        with tempfile.NamedTemporaryFile(
            "wb", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            try:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            except BaseException:
                handle.close()
                os.unlink(handle.name)
                raise
        try:
            os.chmod(handle.name, 0o644)
            os.replace(handle.name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(handle.name)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    log.info("wrote %s", path)
    return path
