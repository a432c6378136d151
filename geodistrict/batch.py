"""Many districts at once, as tasks on Dask distributed (a local cluster or an existing one).

:func:`run_districts` runs a list of district configurations (objects or YAML
files) with the ordinary pipeline (:func:`geodistrict.run`), one task per
district, on a ``distributed.LocalCluster`` (``workers`` processes of one
thread each, with a memory limit per worker) or on a running cluster given its
scheduler address. Each district writes its own ``OUT/<district>/`` as one
transaction (a new version of the outputs, switched to at once), so a district
that fails leaves nothing half written; it gets a row with status
``failed``, the error class and its message, and the others go on. The summary
of every district is returned and written as ``OUT/riepilogo_distretti.csv``
(Italian Excel: ``;``, decimal comma, UTF-8 with BOM) and
``OUT/riepilogo_distretti.parquet`` (machine column names).

The OSM extract is **read once per worker** for the whole batch: the areas of
all districts are computed first (small tasks), their union (with buffers) is
read from each extract once by each worker and kept in memory, and every
district's base layers are cut from it and put in the ordinary cache of base
layers, where :func:`geodistrict.run` finds them (``read_once=False`` lets each
district read the extract itself; on the sample both give the same layers).

:func:`districts_from_areas` makes one configuration per sub-area (every
*comune* of a province, say) from a base configuration: the same OSM extract,
the area one polygon of a boundary file written once for all. :func:`areas_from_extract`
reads the administrative boundaries of the extract itself, and
:func:`load_districts_postgis` loads the outputs into one PostGIS database
(one schema per district).

Workers of an existing cluster must see the same files as the client: the
configurations, their input files, the extract and ``out`` (a shared disk).

Examples
--------
>>> from geodistrict.batch import district_id, error_fields
>>> district_id("San Michele all'Adige", prefix="tn_")
'tn_san_michele_all_adige'
>>> error_fields(ZeroDivisionError("division by zero"))
('ZeroDivisionError', 'bug: ZeroDivisionError: division by zero')
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geodistrict.config import DistrictConfig, load_config
from geodistrict.errors import (
    GeodistrictError,
    MissingColumnError,
    NetworkUnavailableError,
    ParameterError,
)
from geodistrict.i18n import N_, _, use_language

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from distributed import Client
    from shapely.geometry.base import BaseGeometry

    from geodistrict.sources.osm import RawOSM

log = logging.getLogger(__name__)

__all__ = [
    "KEY_LAYERS",
    "SUMMARY_COLUMNS",
    "SUMMARY_NAME",
    "areas_from_extract",
    "district_id",
    "districts_from_areas",
    "error_fields",
    "load_districts_postgis",
    "run_districts",
    "write_summary",
]

#: File name (without suffix) of the summary written into ``OUT``.
SUMMARY_NAME = "riepilogo_distretti"
#: Layers whose feature counts the summary shows, one column each.
KEY_LAYERS = (
    "streets", "pois", "commercial_units", "vacant_units", "retail_centres", "firms",
)  # fmt: skip
#: The columns of the summary, in order.
SUMMARY_COLUMNS = (
    "district", "title", "status", "seconds", "layers", "skipped", *KEY_LAYERS,
    "error_class", "error", "folder", "source", "worker", "read_s", "worker_peak_mb",
)  # fmt: skip

#: Labels of the summary's columns in the CSV for people.
_HEADERS = {
    "district": N_("District id"),
    "title": N_("District name"),
    "status": N_("Run outcome"),
    "seconds": N_("Run time (s)"),
    "layers": N_("Layers written"),
    "skipped": N_("Layers not produced"),
    "streets": N_("Streets (features)"),
    "pois": N_("Points of interest (features)"),
    "commercial_units": N_("Commercial units (features)"),
    "vacant_units": N_("Vacant units (features)"),
    "retail_centres": N_("Retail centres (features)"),
    "firms": N_("Firm cells (features)"),
    "error_class": N_("Error type"),
    "error": N_("Error message"),
    "folder": N_("Output folder"),
    "source": N_("Configuration"),
    "worker": N_("Dask worker"),
    "read_s": N_("Shared extract read (s)"),
    "worker_peak_mb": N_("Worker peak memory (MB)"),
}
_KINDS = {
    "seconds": "float", "layers": "int", "skipped": "int", "read_s": "float",
    "worker_peak_mb": "float", **dict.fromkeys(KEY_LAYERS, "int"),
}  # fmt: skip
_STATUS = {"ok": N_("completed"), "failed": N_("failed")}


# --------------------------------------------------------------------------- helpers


def district_id(name: str, *, prefix: str = "") -> str:
    """A district id from a place name: lower-case ASCII, ``_`` for anything else.

    Examples
    --------
    >>> district_id("Mezzolombardo")
    'mezzolombardo'
    >>> district_id("Città di Castello", prefix="pg-")
    'pg-citta_di_castello'
    """
    text = unicodedata.normalize("NFKD", str(name))
    plain = "".join(c for c in text if not unicodedata.combining(c)).lower()
    slug = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")
    if not slug:
        raise ParameterError(f"cannot make a district id from the name {name!r}")
    return prefix + slug


def error_fields(exc: BaseException) -> tuple[str, str]:
    """The error class and message of a failed district, as the summary shows them.

    A :class:`~geodistrict.errors.GeodistrictError` is a user's mistake or a
    problem of the data: its own message. Anything else is a defect of the
    program: ``"bug: <class>: <message>"``.

    Examples
    --------
    >>> from geodistrict.errors import SourceError
    >>> error_fields(SourceError("no streets"))
    ('SourceError', 'no streets')
    """
    name = type(exc).__name__
    if isinstance(exc, GeodistrictError):
        return name, str(exc)
    return name, f"bug: {name}: {exc}"


def _peak_mb() -> float | None:
    """Peak resident memory of this process so far (MB): VmHWM on Linux."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def _label(item: DistrictConfig | str | os.PathLike[str]) -> tuple[str, str]:
    """District id and source of an item before it is loaded (for a row that fails early)."""
    if isinstance(item, DistrictConfig):
        return item.district, str(item.source_file or "")
    return Path(item).stem, str(item)


def _load(item: DistrictConfig | str | os.PathLike[str]) -> DistrictConfig:
    return item if isinstance(item, DistrictConfig) else load_config(item)


def _row(district: str, source: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS)
    row.update(district=district, source=source, worker=_worker_name(), **values)
    row["worker_peak_mb"] = _peak_mb()
    return row


def _failed(item: DistrictConfig | str | os.PathLike[str], exc: BaseException,
            started: float, **values: Any) -> dict[str, Any]:  # fmt: skip
    district, source = _label(item)
    error_class, error = error_fields(exc)
    log.warning("district %s failed: %s", district, error)
    return _row(district, source, status="failed", error_class=error_class, error=error,
                seconds=round(time.perf_counter() - started, 2), **values)  # fmt: skip


# --------------------------------------------------------------------------- worker side

#: Per worker process: the raw OSM of the batch's union polygon, for one extract at a time.
_SHARED: dict[tuple[Any, ...], RawOSM] = {}
_SHARED_LOCK = threading.Lock()


def _extract_key(config: DistrictConfig) -> tuple[str, str] | None:
    """What districts share a read: the local extract file (None for online sources)."""
    if config.osm.source == "sample":
        from geodistrict.sources.osm import sample_pbf_path

        return "pbf", str(sample_pbf_path())
    if config.osm.source in ("pbf", "xml") and config.osm.path is not None:
        return config.osm.source, str(config.osm.path)
    return None


def _area_task(item: DistrictConfig | str | os.PathLike[str]) -> dict[str, Any]:
    """Stage 1: the district's clip polygon (area + buffer) in lon/lat, as WKB, or a failure."""
    started = time.perf_counter()
    try:
        import geopandas as gpd
        import shapely

        from geodistrict.area import clip_polygon, study_area

        config = _load(item)
        area = study_area(config)
        polygon = gpd.GeoSeries([clip_polygon(area)], crs=area.crs).to_crs(4326).iloc[0]
        return {"ok": True, "extract": _extract_key(config), "wkb": shapely.to_wkb(polygon)}
    except Exception as exc:  # isolated: this district fails, the others go on
        return {"ok": False, "row": _failed(item, exc, started)}


def _shared_raw(kind: str, path: str, wkb: bytes) -> tuple[RawOSM, float]:
    """The raw OSM of the batch's polygon from one extract: read once in this worker."""
    import shapely

    from geodistrict.sources import osm

    file = Path(path)
    stat = file.stat()
    key = (kind, path, stat.st_size, stat.st_mtime_ns, wkb)
    with _SHARED_LOCK:
        if key in _SHARED:
            return _SHARED[key], 0.0
        _SHARED.clear()  # one extract's union at a time in memory
        started = time.perf_counter()
        polygon = shapely.from_wkb(wkb)
        reader = osm.read_pbf if kind == "pbf" else osm.read_xml
        raw = reader(file, polygon, area_label="the union of the batch's study areas")
        _SHARED[key] = raw
        seconds = round(time.perf_counter() - started, 2)
        log.info("read %s once for the batch in %.1f s", file.name, seconds)
        return raw, seconds


def _seed_cache(config: DistrictConfig, shared: tuple[str, str, bytes]) -> float:
    """Put the district's base layers, cut from the shared read, in the cache of base layers.

    Returns the seconds spent reading the extract (0 when this worker had read it
    already or the cache held the layers). A shared read that fails is logged and
    the district reads the extract itself, so that its error names its own area.
    """
    from geodistrict import ingest
    from geodistrict.area import study_area

    area = study_area(config)
    folder = config.osm.resolved_cache_dir / "layers" / ingest._cache_key(config, area)
    if (folder / "layers.pkl").is_file():
        return 0.0
    try:
        raw, seconds = _shared_raw(*shared)
        layers = ingest.base_layers_from_raw(raw, area)
    except GeodistrictError as exc:
        log.warning("%s: not cut from the shared read (%s); reading its own area",
                    config.district, exc)  # fmt: skip
        return 0.0
    ingest._write_cache(folder, layers)
    return seconds


def _district_task(
    item: DistrictConfig | str | os.PathLike[str],
    out: str,
    shared: tuple[str, str, bytes] | None,
    use_cache: bool,
) -> dict[str, Any]:
    """Stage 2: run one district with the ordinary pipeline; a summary row, never an exception."""
    started = time.perf_counter()
    read_s = 0.0
    try:
        from geodistrict.pipeline import run

        config = _load(item)
        if shared is not None and use_cache:
            read_s = _seed_cache(config, shared)
        result = run(config, out=out, use_cache=use_cache)
    except Exception as exc:  # isolated: this district fails, the others go on
        return _failed(item, exc, started, read_s=read_s)
    counts = {name: result.written.get(name) for name in KEY_LAYERS}
    log.info("district %s done in %.1f s", config.district, time.perf_counter() - started)
    return _row(
        config.district,
        str(config.source_file or ""),
        title=config.title,
        status="ok",
        seconds=round(time.perf_counter() - started, 2),
        layers=len(result.written),
        skipped=len(result.skipped),
        folder=str(result.folder),
        read_s=read_s,
        **counts,
    )


# --------------------------------------------------------------------------- client side


def _client(
    client: Client | None,
    scheduler: str | None,
    workers: int,
    memory_limit: str | float | None,
    timeout: float = 30.0,
) -> tuple[Client, Any]:
    """The client to use and what to close afterwards (None when the caller owns it)."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ParameterError(
            "running many districts needs Dask distributed: pip install 'geodistrict[batch]' "
            "(or 'dask[distributed]>=2024.1')"
        ) from exc
    if client is not None:
        if scheduler is not None:
            raise ParameterError(f"give client or scheduler ({scheduler!r}), not both")
        return client, None
    if scheduler is not None:
        try:
            new = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise NetworkUnavailableError(
                f"cannot reach the Dask scheduler {scheduler!r} within {timeout:g} s "
                f"({type(exc).__name__}: {exc}); start it (dask scheduler) or check the address"
            ) from exc
        return new, new
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a whole number of at least 1, got {workers!r}")
    # A district that kills its worker (memory) is retried once, then reported failed.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit if memory_limit is not None else "auto",
            dashboard_address=None,
        )
    new = Client(cluster)

    class _Both:
        def close(self) -> None:
            new.close()
            cluster.close()

    return new, _Both()


def _gather(futures: Sequence[Any], items: Sequence[Any], *, stage: str = "run") -> list[Any]:
    """Results in order; a task whose worker died becomes that district's failed row."""
    out: list[Any] = []
    for future, item in zip(futures, items, strict=True):
        try:
            out.append(future.result())
        except Exception as exc:  # KilledWorker (memory), a cancelled task...
            row = _failed(item, exc, time.perf_counter())
            row.update(seconds=None, worker=None, worker_peak_mb=None)
            if type(exc).__name__ == "KilledWorker":
                row["error"] = _(
                    "the worker running it died (memory limit of the worker exceeded?): {error}"
                ).format(error=exc)
            out.append({"ok": False, "row": row} if stage == "area" else row)
    return out


def run_districts(
    configs: Iterable[DistrictConfig | str | os.PathLike[str]],
    *,
    out: str | os.PathLike[str],
    client: Client | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    memory_limit: str | float | None = "auto",
    read_once: bool = True,
    use_cache: bool = True,
    language: str = "it",
    timeout: float = 30.0,
) -> pd.DataFrame:
    """Run many districts as tasks on Dask distributed; failures isolated, one summary.

    Parameters
    ----------
    configs : iterable of DistrictConfig or path
        The districts: configuration objects or YAML files (a file that does not
        load is a failed row, like a district that fails to run).
    out : path-like
        Output root: each district writes ``out/<district>/``; the summary goes to
        ``out/riepilogo_distretti.csv`` and ``.parquet``.
    client : distributed.Client, optional
        A client of a cluster you started; it is left open.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); its workers must see
        the same files (configurations, inputs, ``out``).
    workers : int, default 2
        Worker processes of the local cluster (one thread each), when neither
        ``client`` nor ``scheduler`` is given.
    memory_limit : str or float, default "auto"
        Memory limit of each local worker (``"4GiB"``, bytes, or ``"auto"``: the
        machine's memory divided among the workers). A worker over it is
        restarted by its nanny; its district is retried once, then failed.
    read_once : bool, default True
        Read each OSM extract once per worker for the union of the districts'
        areas and cut every district from it (False: each district reads it).
    use_cache : bool, default True
        Reuse cached base layers (``read_once`` works through this cache).
    language : {"it", "en"}, default "it"
        Language of the CSV summary's headers and statuses.
    timeout : float, default 30
        Seconds to wait for the ``scheduler`` to answer.

    Raises
    ------
    ParameterError
        No configuration, two with the same district id, a bad ``workers``.
    NetworkUnavailableError
        The ``scheduler`` does not answer.

    Returns
    -------
    pandas.DataFrame
        One row per district, in the order given, with :data:`SUMMARY_COLUMNS`:
        ``status`` ``ok`` or ``failed``, ``seconds``, ``layers`` written,
        ``skipped`` layers, features of :data:`KEY_LAYERS`, ``error_class`` and
        ``error`` (a geodistrict error's message, ``bug: ...`` for others),
        ``worker`` and the worker's peak memory so far (``worker_peak_mb``).

    Examples
    --------
    >>> import tempfile, geodistrict as gd
    >>> from geodistrict.batch import run_districts
    >>> table = run_districts([gd.datasets.sample_config()], out=tempfile.mkdtemp(),
    ...                       workers=1)  # doctest: +SKIP
    >>> table["status"].tolist()  # doctest: +SKIP
    ['ok']
    """
    items = list(configs)
    if not items:
        raise ParameterError("run_districts needs at least one district configuration")
    known = [c.district for c in items if isinstance(c, DistrictConfig)]
    twice = sorted({d for d in known if known.count(d) > 1})
    if twice:
        raise ParameterError(
            f"district ids must differ (each names its output folder): {twice!r} given twice"
        )
    root = Path(out).resolve()
    root.mkdir(parents=True, exist_ok=True)
    client, closer = _client(client, scheduler, workers, memory_limit, timeout)
    started = time.perf_counter()
    try:
        shared: list[tuple[str, str, bytes] | None] = [None] * len(items)
        rows: list[dict[str, Any] | None] = [None] * len(items)
        if read_once and use_cache:
            areas = _gather(client.map(_area_task, items, pure=False), items, stage="area")
            shared, rows = _shared_polygons(areas)
        todo = [i for i, row in enumerate(rows) if row is None]
        futures = [
            client.submit(_district_task, items[i], str(root), shared[i], use_cache,
                          pure=False, key=f"district-{_label(items[i])[0]}-{i}")
            for i in todo
        ]  # fmt: skip
        for i, row in zip(todo, _gather(futures, [items[i] for i in todo]), strict=True):
            rows[i] = row
    finally:
        if closer is not None:
            closer.close()
    table = _table([r for r in rows if r is not None])
    ok = int((table["status"] == "ok").sum())
    log.info("%d of %d districts done in %.1f s", ok, len(table), time.perf_counter() - started)
    write_summary(table, root, language=language)
    return table


def _shared_polygons(
    areas: list[dict[str, Any]],
) -> tuple[list[tuple[str, str, bytes] | None], list[dict[str, Any] | None]]:
    """Per district: (extract kind, path, union WKB of its extract's districts), or its row."""
    import shapely

    unions: dict[tuple[str, str], list[BaseGeometry]] = {}
    for area in areas:
        if area["ok"] and area["extract"] is not None:
            unions.setdefault(tuple(area["extract"]), []).append(shapely.from_wkb(area["wkb"]))
    wkb = {key: shapely.to_wkb(shapely.union_all(polys)) for key, polys in unions.items()}
    shared: list[tuple[str, str, bytes] | None] = []
    rows: list[dict[str, Any] | None] = []
    for area in areas:
        if not area["ok"]:
            shared.append(None)
            rows.append(area["row"])
        else:
            key = tuple(area["extract"]) if area["extract"] is not None else None
            shared.append((key[0], key[1], wkb[key]) if key is not None else None)
            rows.append(None)
    return shared, rows


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    for name in ("layers", "skipped", *KEY_LAYERS):
        table[name] = pd.array(table[name].tolist(), dtype="Int64")
    for name in ("seconds", "read_s", "worker_peak_mb"):
        table[name] = pd.to_numeric(table[name], errors="coerce").astype("float64")
    for name in ("district", "title", "status", "error_class", "error", "folder", "source",
                 "worker"):  # fmt: skip
        table[name] = table[name].astype("string")
    return table


def write_summary(
    table: pd.DataFrame, out: str | os.PathLike[str], *, language: str = "it"
) -> list[Path]:
    """Write the summary as ``riepilogo_distretti.csv`` (for people) and ``.parquet``.

    The CSV is Italian Excel's (``;``, decimal comma, UTF-8 with BOM, labelled
    headers, statuses in words; ``language="en"``: ``,`` and decimal point), the
    Parquet file keeps the machine column names and values. Both are written
    atomically.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from geodistrict.batch import SUMMARY_COLUMNS, write_summary
    >>> row = dict.fromkeys(SUMMARY_COLUMNS)
    >>> row.update(district="a", status="ok", seconds=12.5, layers=20)
    >>> csv, parquet = write_summary(pd.DataFrame([row]), tempfile.mkdtemp())
    >>> csv.read_bytes().decode("utf-8-sig").splitlines()[1][:20]
    'a;;completato;12,5;2'
    """
    import io

    from geodistrict.deliverables import write_atomically
    from geodistrict.deliverables.tables import csv_bytes

    root = Path(out)
    with use_language(language):
        headers = {name: _(text) for name, text in _HEADERS.items()}
        readable = table.copy()
        readable["status"] = [
            _(_STATUS[s]) if isinstance(s, str) and s in _STATUS else s for s in table["status"]
        ]
    kinds = {name: _KINDS.get(name, "text") for name in readable.columns}
    csv = write_atomically(
        root / f"{SUMMARY_NAME}.csv",
        csv_bytes(readable, kinds, language=language, headers=headers),
    )
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    parquet = write_atomically(root / f"{SUMMARY_NAME}.parquet", buffer.getvalue())
    return [csv, parquet]


# --------------------------------------------------------------------------- sub-areas


def areas_from_extract(
    config: DistrictConfig, *, names: Sequence[str] | None = None, admin_level: int = 8
) -> gpd.GeoDataFrame:
    """Administrative areas of a district's OSM extract (``admin_level`` 8: the *comuni*).

    Read once from the extract (``pbf`` or ``xml`` source) with
    :mod:`geodistrict.area`'s reader: ``name``, ``admin_level`` and the polygon
    in EPSG:4326, one row per name (boundaries of one name are unioned).

    Parameters
    ----------
    config : DistrictConfig
        A configuration whose ``osm`` names the extract.
    names : sequence of str, optional
        Only these (exact, ignoring case and accents); a name not found is an error
        listing the nearest names.
    admin_level : int, default 8
        OSM ``admin_level`` of the areas (Italy: 8 comune, 6 provincia, 4 regione).

    Raises
    ------
    SourceError
        A name that is not among the extract's areas of that level.
    """
    import geopandas as gpd
    import shapely

    from geodistrict.area import _extract_boundaries, name_key, nearest_names
    from geodistrict.errors import SourceError

    boundaries = _extract_boundaries(config)
    level = boundaries[boundaries["admin_level"] == admin_level]
    polys = level[level.geometry.notna() & level.geometry.geom_type.isin(
        ["Polygon", "MultiPolygon"])]  # fmt: skip
    if names is not None:
        keys = polys["name"].map(name_key)
        missing = [n for n in names if name_key(n) not in set(keys)]
        if missing:
            raise SourceError(
                "no administrative area of admin_level {level} named {names} in {path!r}; "
                "nearest: {near}".format(
                    level=admin_level, names=", ".join(repr(n) for n in missing),
                    path=str(config.osm.path),
                    near=", ".join(repr(n) for n in nearest_names(missing[0], polys["name"])),
                )
            )  # fmt: skip
        polys = polys[keys.isin({name_key(n) for n in names})]
    groups = polys.groupby("name", sort=True)
    return gpd.GeoDataFrame(
        {"name": list(groups.groups), "admin_level": admin_level},
        geometry=[shapely.union_all(g.geometry.to_numpy()) for _n, g in groups],
        crs=4326,
    )


def districts_from_areas(
    base_config: DistrictConfig | str | os.PathLike[str],
    areas: gpd.GeoDataFrame,
    *,
    name_field: str,
    folder: str | os.PathLike[str],
    prefix: str = "",
    keep_surveys: bool = False,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[DistrictConfig]:
    """One district configuration per sub-area, all from one base configuration.

    The areas are written once to ``folder/aree_distretti.gpkg``; each district's
    area is that file cut to its feature by name (``area.file`` + ``area.names`` +
    ``area.name_field``), with the base's buffer; everything else (the OSM
    extract, CRS, parameters) is the base's. Each configuration is also written as
    ``folder/<district>.yml`` and loaded from there, so every run records its own
    configuration file and can be repeated with ``geodistrict run``.

    Parameters
    ----------
    base_config : DistrictConfig or path
        The configuration every district starts from.
    areas : GeoDataFrame
        One polygon per district, with a CRS, e.g. the *comuni* of a province
        (:func:`areas_from_extract`, or ISTAT's boundaries).
    name_field : str
        The column of ``areas`` with each area's name: the district's title, and
        its id (``prefix`` + the name in lower-case ASCII, :func:`district_id`).
    folder : path-like
        Where the boundary file and the configurations are written.
    prefix : str, default ""
        Put before every district id (``"tn_"``).
    keep_surveys : bool, default False
        Keep the base's survey files (``surveys``) and its ``population.total``:
        they describe the base's whole area, and a survey point outside a
        sub-area is an error, so by default they are dropped (the population is
        then estimated from buildings).
    overrides : mapping, optional
        Per area name, sections to merge into its configuration, e.g.
        ``{"Mezzolombardo": {"surveys": {"vacant_units": "sfitti.csv"}}}`` (paths
        relative to ``folder``).

    Returns
    -------
    list of DistrictConfig
        In the order of ``areas``.

    Examples
    --------
    >>> import tempfile, geopandas as gpd, geodistrict as gd
    >>> from shapely.geometry import box
    >>> from geodistrict.batch import districts_from_areas
    >>> areas = gpd.GeoDataFrame({"nome": ["Nord", "Sud"]}, crs=4326,
    ...     geometry=[box(24.93, 60.165, 24.95, 60.17), box(24.93, 60.16, 24.95, 60.165)])
    >>> configs = districts_from_areas(gd.datasets.sample_config(), areas, name_field="nome",
    ...                                folder=tempfile.mkdtemp(), prefix="hel_")
    >>> [(c.district, c.title, c.area.names) for c in configs]
    [('hel_nord', 'Nord', ['Nord']), ('hel_sud', 'Sud', ['Sud'])]
    """
    import yaml

    from geodistrict.deliverables import write_atomically

    base = _load(base_config)
    if name_field not in areas.columns:
        raise MissingColumnError(
            "areas", name_field, hint="name_field must be a column of areas with their names"
        )
    if areas.crs is None:
        raise ParameterError("areas has no CRS: set it (areas.set_crs(...)) before use")
    if len(areas) == 0:
        raise ParameterError("areas has no rows: give at least one sub-area")
    names = [str(n) for n in areas[name_field]]
    ids = [district_id(n, prefix=prefix) for n in names]
    twice = sorted({d for d in ids if ids.count(d) > 1})
    if twice:
        raise ParameterError(
            f"areas: the names of {name_field!r} give the same district id {twice!r}; "
            "make the names unique (e.g. add the province)"
        )
    unknown = sorted(set(overrides or {}) - set(names))
    if unknown:
        raise ParameterError(f"overrides: {unknown!r} are not names of {name_field!r}")
    target = Path(folder).resolve()
    target.mkdir(parents=True, exist_ok=True)
    boundary = target / "aree_distretti.gpkg"
    frame = areas[[name_field, areas.geometry.name]].to_crs(4326)
    frame[name_field] = names
    tmp = boundary.with_name(boundary.stem + ".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    frame.to_file(tmp, driver="GPKG", layer="aree")
    tmp.replace(boundary)

    data = base.model_dump(mode="json", exclude={"source_file"}, exclude_none=True)
    configs: list[DistrictConfig] = []
    for name, ident in zip(names, ids, strict=True):
        own = _merge(data, {
            "district": ident,
            "title": name,
            "area": {"file": str(boundary), "layer": "aree", "names": [name],
                     "name_field": name_field, "buffer_m": base.area.buffer_m},
        })  # fmt: skip
        for key in ("places", "bbox"):
            own["area"].pop(key, None)
        if not keep_surveys:
            own["surveys"] = {}
            own.get("population", {}).pop("total", None)
        own = _merge(own, dict(overrides.get(name, {})) if overrides else {})
        path = target / f"{ident}.yml"
        text = yaml.safe_dump(own, allow_unicode=True, sort_keys=False)
        write_atomically(path, text.encode("utf-8"))
        configs.append(load_config(path))
    return configs


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in, section by section (a new dict)."""
    out = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in base.items()}
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- PostGIS


def load_districts_postgis(
    folders: Iterable[str | os.PathLike[str]], dsn: str, *, reader: str | None = None
) -> pd.DataFrame:
    """Load many district output folders into one PostGIS database, one schema each.

    Calls :func:`geodistrict.publish.postgis.load_layers` for each folder (schema
    ``gd_<district>``, each swapped in atomically); a folder that fails to load
    gets a ``failed`` row and the others go on.

    Parameters
    ----------
    folders : iterable of path-like
        District output folders (``OUT/<district>``), e.g. the ``folder`` column of
        :func:`run_districts`'s summary where ``status`` is ``ok``.
    dsn : str
        ``postgresql://user:password@host:port/dbname`` (the database needs PostGIS).
    reader : str, optional
        Read-only role granted ``SELECT`` on every schema
        (:func:`geodistrict.publish.postgis.ensure_reader`).

    Returns
    -------
    pandas.DataFrame
        ``folder``, ``schema``, ``status``, ``tables``, ``rows``, ``error``.
    """
    from geodistrict.publish.postgis import load_layers, schema_name

    rows: list[dict[str, Any]] = []
    for folder in folders:
        path = Path(folder)
        row: dict[str, Any] = {"folder": str(path), "schema": schema_name(path.name)}
        try:
            loaded = load_layers(path, dsn, reader=reader)
            row.update(status="ok", tables=len(loaded), rows=sum(loaded.values()), error=None)
        except Exception as exc:  # isolated: this district fails, the others load
            row.update(status="failed", tables=0, rows=0, error=error_fields(exc)[1])
            log.warning("loading %s into PostGIS failed: %s", path, row["error"])
        rows.append(row)
    return pd.DataFrame(rows, columns=["folder", "schema", "status", "tables", "rows", "error"])
