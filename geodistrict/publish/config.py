"""pygeoapi configuration from district outputs.

Each layer of each district output folder becomes an OGC API - Features
collection ``<district>-<layer>`` with English and Italian titles and
descriptions, keywords, the extent computed from the data, the storage CRS
(the district's working CRS) and a CRS list (CRS84, EPSG:4326, the working
CRS, EPSG:3857), and "© OpenStreetMap contributors" attribution where OSM is a
source.  Features are served from the GeoParquet files (default) or from
PostGIS tables (see :mod:`geodistrict.publish.postgis`).

Examples
--------
>>> import geodistrict as gd, tempfile
>>> out = tempfile.mkdtemp()
>>> _ = gd.run(gd.datasets.sample_config(), out=out)
>>> cfg = pygeoapi_config([f"{out}/sample"])
>>> cfg["resources"]["sample-pois"]["providers"][0]["storage_crs"]
'http://www.opengis.net/def/crs/EPSG/0/32635'
>>> cfg["resources"]["isochrone"]["type"]
'process'
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from geodistrict._version import __version__
from geodistrict.errors import ConfigError
from geodistrict.publish.postgis import connection_settings, schema_name
from geodistrict.publish.web import LANGUAGE_TAGS, STATIC, TEMPLATES, web_section, write_catalogue
from geodistrict.sources.osm import OSM_ATTRIBUTION
from geodistrict.store import atomic_write_text, read_manifest

log = logging.getLogger(__name__)

__all__ = [
    "CRS84",
    "PASSWORD_ENV",
    "SECRETS_FILE",
    "crs_uri",
    "pygeoapi_config",
    "read_secrets",
    "write_pygeoapi_config",
]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
ODBL = {
    "type": "text/html",
    "rel": "license",
    "title": "Open Database License (ODbL) 1.0",
    "href": "https://opendatacommons.org/licenses/odbl/1-0/",
}
PROVIDER = "geodistrict.publish.providers.GeoParquetProvider"
POSTGIS_PROVIDER = "geodistrict.publish.providers.PostGISProvider"
RASTER_PROVIDER = "geodistrict.publish.providers.GeoTIFFProvider"
JOB_MANAGER = "geodistrict.publish.jobs.JobManager"
#: How long asynchronous job results are kept, and how much room they may take together.
DEFAULT_MAX_AGE_HOURS = 24.0
DEFAULT_MAX_MB = 200.0
#: The environment variable that holds the PostGIS password of the served configuration.
PASSWORD_ENV = "GEODISTRICT_POSTGIS_PASSWORD"
PASSWORD_PLACEHOLDER = "${" + PASSWORD_ENV + "}"
#: Next to ``pygeoapi.yml``: the secrets it refers to (``NAME=value`` lines, mode 0600).
SECRETS_FILE = "secrets.env"


def crs_uri(crs: str) -> str:
    """OGC URI of an ``EPSG:nnnn`` code (``EPSG:32632`` → ``.../EPSG/0/32632``)."""
    if crs.upper().startswith("EPSG:"):
        return f"http://www.opengis.net/def/crs/EPSG/0/{crs.split(':', 1)[1]}"
    if crs.startswith("http"):
        return crs
    raise ConfigError(f"cannot publish a layer whose CRS is not an EPSG code: {crs!r}")


def _feature_provider(
    folder: Path, district: str, name: str, entry: Mapping[str, Any], postgis: Mapping[str, Any]
) -> dict[str, Any]:
    storage = crs_uri(entry["crs"])
    crs_list = list(dict.fromkeys([CRS84, crs_uri("EPSG:4326"), storage, crs_uri("EPSG:3857")]))
    if postgis:
        return {
            "type": "feature",
            "name": POSTGIS_PROVIDER,
            "data": dict(postgis["data"]) | {"search_path": [postgis["schema"], "public"]},
            "id_field": "fid",
            "table": name,
            "geom_field": "geometry",
            "storage_crs": storage,
            "crs": crs_list,
        }
    return {
        "type": "feature",
        "name": PROVIDER,
        # The stable path (through OUT/<district>/current), not the version it resolves
        # to now: a later run switches what it serves, and old versions are removed.
        "data": {"source": os.path.abspath(folder / entry["parquet"])},
        "id_field": "fid",
        "storage_crs": storage,
        "crs": crs_list,
    }


def _collection(
    folder: Path, manifest: Mapping[str, Any], entry: Mapping[str, Any], postgis: Mapping[str, Any]
) -> dict[str, Any]:
    district = manifest["district"]
    title = manifest.get("title", district)
    attribution = entry.get("attribution") or ""
    links = [ODBL] if attribution == OSM_ATTRIBUTION else []
    description_en = entry["description"] + (f" {attribution}." if attribution else "")
    description_it = entry["description_it"] + (f" {attribution}." if attribution else "")
    bbox = entry.get("bbox_crs84") or [-180, -90, 180, 90]
    return {
        "type": "collection",
        "title": {"en": f"{entry['title']} - {title}", "it": f"{entry['title_it']} - {title}"},
        "description": {"en": description_en, "it": description_it},
        "keywords": {
            "en": [district, entry["name"], "geodistrict", "OpenStreetMap"],
            "it": [district, entry["name"], "geodistrict", "distretto"],
        },
        "links": links,
        "extents": {"spatial": {"bbox": bbox, "crs": CRS84}},
        "providers": [_feature_provider(folder, district, entry["name"], entry, postgis)],
    }


def _coverage(
    folder: Path, manifest: Mapping[str, Any], entry: Mapping[str, Any]
) -> dict[str, Any]:
    """An OGC API - Coverages collection for a GeoTIFF of the district (rasterio provider)."""
    title = manifest.get("title", manifest["district"])
    attribution = entry.get("attribution") or ""
    suffix = f" {attribution}." if attribution else ""
    bands = ", ".join(entry.get("bands", []))
    return {
        "type": "collection",
        "title": {"en": f"{entry['title']} - {title}", "it": f"{entry['title_it']} - {title}"},
        "description": {
            "en": f"{entry['description']} Bands: {bands}.{suffix}",
            "it": f"{entry['description_it']} Bande: {bands}.{suffix}",
        },
        "keywords": {"en": [manifest["district"], "density", "raster"], "it": ["densità"]},
        "links": [ODBL] if attribution == OSM_ATTRIBUTION else [],
        "extents": {"spatial": {"bbox": entry["bbox_crs84"], "crs": CRS84}},
        "providers": [
            {
                "type": "coverage",
                "name": RASTER_PROVIDER,
                "data": os.path.abspath(folder / entry["file"]),  # stable path
                "options": {"DATA_ENCODING": "COMPRESSED=YES"},
                "format": {"name": "GTiff", "mimetype": "application/tiff"},
            }
        ],
    }


def pygeoapi_config(
    folders: Iterable[str | os.PathLike[str]],
    *,
    url: str = "http://127.0.0.1:5000",
    host: str = "127.0.0.1",
    port: int = 5000,
    postgis_dsn: str | None = None,
    jobs_dir: str | os.PathLike[str] | None = None,
    jobs_max_age_hours: float = DEFAULT_MAX_AGE_HOURS,
    jobs_max_mb: float = DEFAULT_MAX_MB,
    tiles_dir: str | os.PathLike[str] | None = None,
    tile_zooms: tuple[int, int] = (10, 16),
) -> dict[str, Any]:
    """Build a pygeoapi configuration publishing every layer of district outputs.

    Parameters
    ----------
    folders : iterable of path-like
        District output folders (``OUT/<district>``), each with ``layers.json``.
    url : str
        Public base URL of the service (pygeoapi writes it into every link).
    host, port : str, int
        Where the server binds.
    postgis_dsn : str, optional
        ``postgresql://user:password@host:port/dbname``: serve from the PostGIS
        tables loaded by :func:`geodistrict.publish.postgis.load_layers` instead
        of the GeoParquet files.  The password is not written into the
        configuration: it holds ``${GEODISTRICT_POSTGIS_PASSWORD}``, which
        pygeoapi reads from the environment (:func:`write_pygeoapi_config`
        keeps the value in a separate 0600 file that ``geodistrict serve`` reads).
    jobs_dir : path-like, optional
        Folder for the asynchronous job manager's database and outputs.
    jobs_max_age_hours, jobs_max_mb : float
        How long asynchronous job results are kept (default 24 h) and how much
        room they may take together (default 200 MB); synchronous executions
        are never stored (:class:`geodistrict.publish.jobs.JobManager`).
    tiles_dir : path-like, optional
        Write pre-built vector tiles (MVT) of every line and polygon layer into
        ``tiles_dir/<district>/<layer>/`` (:func:`geodistrict.publish.tiles.write_tiles`)
        and serve them as OGC API - Tiles (pygeoapi's ``MVT-tippecanoe``
        provider) beside the features; with ``postgis_dsn``, nothing is written and
        PostGIS makes the tiles on request (pygeoapi's ``MVT-postgresql``
        provider).  Default: no tiles.
    tile_zooms : (int, int)
        Lowest and highest zoom level of those tiles (default 10-16).

    Returns
    -------
    dict
        The configuration, ready to be dumped as YAML.
    """
    resources: dict[str, Any] = {}
    districts = []
    folders_list = [Path(f) for f in folders]
    for folder in folders_list:
        manifest = read_manifest(folder)
        district = manifest["district"]
        districts.append(manifest.get("title", district))
        db: dict[str, Any] = {}
        if postgis_dsn:
            settings = connection_settings(postgis_dsn) | {"password": PASSWORD_PLACEHOLDER}
            db = {"data": settings, "schema": schema_name(district)}
        for name, entry in manifest["layers"].items():
            resources[f"{district}-{name}"] = _collection(folder, manifest, entry, db)
        if tiles_dir is not None:
            from geodistrict.publish import tiles

            if db:  # made by PostGIS on request
                for name in tiles.tileable_layers(manifest):
                    feature = resources[f"{district}-{name}"]["providers"][0]
                    resources[f"{district}-{name}"]["providers"].append(
                        tiles.postgis_tile_provider(
                            feature["data"], name, feature["storage_crs"], tile_zooms
                        )
                    )
            else:  # pre-built from the GeoParquet files
                written = tiles.write_tiles(folder, Path(tiles_dir) / district, zooms=tile_zooms)
                for name, path in written.items():
                    resources[f"{district}-{name}"]["providers"].append(
                        tiles.tile_provider(path, tile_zooms)
                    )
        for entry in manifest.get("rasters", {}).values():
            resources[f"{district}-{Path(entry['file']).stem}"] = _coverage(
                folder, manifest, entry
            )
    if not resources:
        raise ConfigError("nothing to publish: the output folders hold no layers")
    from geodistrict.publish.processes import process_resources

    published = {str(Path(f).resolve()): read_manifest(f) for f in folders_list}
    manifests = {m["district"]: m for m in published.values()}
    district_folders = {m["district"]: Path(folder) for folder, m in published.items()}
    # The district's language first: pygeoapi's default when a client asks for none.
    first = str(next(iter(manifests.values())).get("language") or "it")
    languages = [LANGUAGE_TAGS[first]] + [t for k, t in LANGUAGE_TAGS.items() if k != first]
    resources.update(
        process_resources(
            {m["district"]: folder for folder, m in published.items()},
            {name for m in published.values() for name in m["layers"]},
        )
    )
    jobs = Path(jobs_dir) if jobs_dir else Path.cwd() / "out" / ".jobs"
    for name, value in (("jobs_max_age_hours", jobs_max_age_hours), ("jobs_max_mb", jobs_max_mb)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ConfigError(f"{name} must be a positive number, got {value!r}")
    return {
        "server": {
            "bind": {"host": host, "port": port},
            "url": url.rstrip("/"),
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "gzip": False,
            "languages": languages,
            # geodistrict's pages: Leaflet, Bootstrap and Swagger UI served by the service
            # itself (nothing is loaded from another machine), Italian text, readable tables.
            "templates": {"path": str(TEMPLATES), "static": str(STATIC)},
            "pretty_print": False,
            "limits": {"default_items": 100, "max_items": 10000, "on_exceed": "throttle"},
            "map": {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attribution": f"{OSM_ATTRIBUTION}",
            },
            "manager": {
                "name": JOB_MANAGER,
                "connection": str(jobs / "jobs.db"),
                "output_dir": str(jobs / "outputs"),
                "max_age_hours": float(jobs_max_age_hours),
                "max_mb": float(jobs_max_mb),
            },
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": {
                    "en": "geodistrict: " + ", ".join(districts),
                    "it": "geodistrict: " + ", ".join(districts),
                },
                "description": {
                    "en": "Layers for the spatial planning of commercial and productive "
                    f"districts, made with geodistrict {__version__}. Map data "
                    f"{OSM_ATTRIBUTION}, ODbL.",
                    "it": "Layer per la pianificazione territoriale dei distretti del "
                    f"commercio e produttivi, prodotti con geodistrict {__version__}. Dati "
                    f"cartografici {OSM_ATTRIBUTION}, ODbL.",
                },
                "keywords": {
                    "en": ["district", "retail", "cycling", "planning"],
                    "it": ["distretto del commercio", "commercio", "ciclabilità"],
                },
                "keywords_type": "theme",
                "terms_of_service": "https://opendatacommons.org/licenses/odbl/1-0/",
                "url": "https://www.openstreetmap.org/copyright",
            },
            "license": {
                "name": "ODbL 1.0",
                "url": "https://opendatacommons.org/licenses/odbl/1-0/",
            },
            "provider": {"name": "geodistrict", "url": "https://www.openstreetmap.org/copyright"},
            "contact": {"name": "geodistrict", "role": "pointOfContact"},
        },
        "resources": resources,
        # Read by geodistrict's templates (labels, colours, atlas); pygeoapi ignores it.
        "geodistrict": web_section(district_folders, manifests),
    }


def read_secrets(folder: str | os.PathLike[str]) -> dict[str, str]:
    """The ``NAME=value`` lines of the secrets file next to a ``pygeoapi.yml`` (or {})."""
    path = Path(folder) / SECRETS_FILE
    if not path.is_file():
        return {}
    secrets = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() and not name.lstrip().startswith("#"):
            secrets[name.strip()] = value
    return secrets


def _write_secrets(folder: Path, secrets: Mapping[str, str]) -> None:
    """Write the secrets file with mode 0600 from the start (never readable by others)."""
    path = folder / SECRETS_FILE
    tmp = folder / f".{SECRETS_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# geodistrict serve reads these; keep this file private (mode 0600)\n")
        handle.writelines(f"{name}={value}\n" for name, value in secrets.items())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _resolved(value: Any, env: Mapping[str, str]) -> Any:
    """``value`` with ``${NAME}`` placeholders replaced from ``env`` (for in-memory use)."""
    if isinstance(value, str) and "${" in value:
        for name, secret in env.items():
            value = value.replace("${" + name + "}", secret)
        return value
    if isinstance(value, Mapping):
        return {k: _resolved(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, env) for v in value]
    return value


def write_pygeoapi_config(
    config: Mapping[str, Any],
    folder: str | os.PathLike[str],
    *,
    secrets: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Write ``pygeoapi.yml`` and ``openapi.yml`` into ``folder``; return the config path.

    The OpenAPI document is generated by pygeoapi itself from the configuration.
    Neither file holds a secret: ``secrets`` (e.g. ``{"GEODISTRICT_POSTGIS_PASSWORD":
    ...}``, referred to as ``${NAME}`` in the configuration) go to
    ``secrets.env`` in ``folder``, mode 0600.  For the OpenAPI document only,
    placeholders are resolved from ``secrets``, then ``env`` (default: the
    process environment), then an existing ``secrets.env`` in ``folder``.  The
    Italian texts of the web pages are compiled into ``folder/locale`` (the
    ``server.locale_dir`` pygeoapi reads), unless the configuration names one.
    """
    from pygeoapi.openapi import get_oas

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    if secrets:
        _write_secrets(target, secrets)
    values = {**read_secrets(target), **(os.environ if env is None else env), **(secrets or {})}
    config_path = target / "pygeoapi.yml"
    config = dict(config)
    if "locale_dir" not in config.get("server", {}):
        # The Italian page texts, compiled where pygeoapi looks for them.
        config["server"] = dict(config["server"]) | {
            "locale_dir": str(write_catalogue(target / "locale"))
        }
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    atomic_write_text(config_path, text)
    openapi = get_oas(_resolved(dict(config), values), fail_on_invalid_collection=True)
    atomic_write_text(target / "openapi.yml", yaml.safe_dump(openapi, sort_keys=False))
    log.info("wrote %s and openapi.yml (%d collections)", config_path, len(config["resources"]))
    return config_path
