"""Command line: ``geodistrict run | layers | check | fieldwork | publish | serve``.

User mistakes (bad configuration, bad survey, missing file, no network)
print a clear message and exit with status 2 (3 when offline); they never
print a traceback.

What a command prints is in the district's language: the configuration's
``language`` for the commands that read one, the output folder's (its
manifest's ``language``) for those that read results, Italian otherwise. The
messages of errors (after ``error:``) and the ``--help`` texts are English.
"""

from __future__ import annotations

import argparse
import contextvars
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from geodistrict._version import __version__
from geodistrict.config import load_config
from geodistrict.errors import ConfigError, GeodistrictError, NetworkUnavailableError
from geodistrict.i18n import (
    N_,
    _,
    format_date,
    format_number,
    get_language,
    ngettext,
    set_language,
)

EXIT_USER_ERROR = 2
EXIT_OFFLINE = 3
#: Most Monte-Carlo runs of ``rank --runs`` (as vacancy.mc_runs).
MAX_RANK_RUNS = 100_000
#: What ``rank --to`` writes.
RANK_SUFFIXES = (".gpkg", ".geojson", ".json", ".parquet", ".csv", ".xlsx")
#: The credit line every command that shows or writes OSM-derived data prints.
OSM_CREDIT = N_("Map data © OpenStreetMap contributors (ODbL)")
#: Geometry types as ``layers`` prints them.
GEOMETRY_TYPES = {
    "Point": N_("Point"),
    "MultiPoint": N_("MultiPoint"),
    "LineString": N_("LineString"),
    "MultiLineString": N_("MultiLineString"),
    "Polygon": N_("Polygon"),
    "MultiPolygon": N_("MultiPolygon"),
}
#: Where the units of a field project come from (``fieldwork``).
FIELD_ORIGINS = {
    "osm": N_("from OpenStreetMap"),
    "wave": N_("from the last wave"),
    "both": N_("from the last wave and OpenStreetMap"),
}


def _speak(language: str | None) -> None:
    """Print in ``language`` from now on (None: keep the current one).

    :func:`main` runs each command in a copy of the context, so the language
    set here lasts for the command and its error message, and no longer.
    """
    if language:
        set_language(language)


def _folder_language(folder: str | os.PathLike[str]) -> None:
    """Print in the language of the district output ``folder`` (its manifest's ``language``).

    A folder without results is left to the command, which explains it (exit 2).
    """
    from geodistrict.store import read_manifest

    try:
        manifest = read_manifest(folder)
    except GeodistrictError:
        return
    language = manifest.get("language")
    _speak(language if language in ("it", "en") else None)


def _when(stamp: object) -> str:
    """An ISO timestamp of the manifest as people read it (date and time), else as it is."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    return f"{format_date(moment)} {moment:%H:%M}"


def _parser() -> argparse.ArgumentParser:
    from geodistrict.pipeline import STEPS

    parser = argparse.ArgumentParser(
        prog="geodistrict",
        description="Spatial planning of commercial and productive districts "
        "(map data © OpenStreetMap contributors).",
    )
    parser.add_argument("--version", action="version", version=f"geodistrict {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a district's pipeline and write its layers")
    run.add_argument("config", help="district configuration (YAML)")
    run.add_argument("--out", help="output root (default: output.dir of the configuration)")
    run.add_argument(
        "--only",
        nargs="+",
        metavar="STEP",
        help="run only these steps: " + ", ".join(s.name for s in STEPS),
    )
    run.add_argument("--no-cache", action="store_true", help="re-read the OSM source")

    layers = sub.add_parser("layers", help="list the layers a run wrote")
    layers.add_argument("folder", help="a district output folder (OUT/<district>)")

    check = sub.add_parser("check", help="validate a configuration and its survey files")
    check.add_argument("config", help="district configuration (YAML)")

    fieldwork = sub.add_parser(
        "fieldwork",
        help="write a QField project for the field census of the vacant units (a new folder)",
    )
    fieldwork.add_argument("config", help="district configuration (YAML)")
    fieldwork.add_argument("out", help="the folder to create (must not exist, or be empty)")
    fieldwork.add_argument(
        "--prefill", action="store_true", help="start from the vacant units OSM maps"
    )
    fieldwork.add_argument(
        "--from-survey",
        metavar="FILE",
        help="start from the units of the last wave (a survey file, e.g. its rilievo.gpkg)",
    )
    fieldwork.add_argument("--no-cache", action="store_true", help="re-read the OSM source")

    publish = sub.add_parser(
        "publish", help="write a pygeoapi configuration serving district outputs as OGC API"
    )
    publish.add_argument("folders", nargs="+", help="district output folders (OUT/<district>)")
    publish.add_argument(
        "--to", default="out/pygeoapi", help="where to write pygeoapi.yml (default: %(default)s)"
    )
    publish.add_argument("--url", default=None, help="public base URL of the service")
    publish.add_argument("--port", type=int, default=5000, help="port (default: %(default)s)")
    publish.add_argument(
        "--tiles",
        action="store_true",
        help="also cut vector tiles (OGC API - Tiles, MVT) of the line and polygon layers; "
        "with --postgis PostGIS makes them on request",
    )
    publish.add_argument(
        "--postgis",
        metavar="DSN",
        help="load the layers into PostGIS (postgresql://user:pw@host:port/db) and serve them "
        "from there instead of the GeoParquet files; the service reads them as a read-only "
        "role <user>_reader, created when the user may (CREATEROLE), and the password is "
        "kept in a 0600 secrets.env next to pygeoapi.yml, never in pygeoapi.yml",
    )
    publish.add_argument(
        "--jobs-max-age",
        type=float,
        default=24.0,
        metavar="HOURS",
        help="keep asynchronous job results this long (default: %(default)s)",
    )
    publish.add_argument(
        "--jobs-max-mb",
        type=float,
        default=200.0,
        metavar="MB",
        help="room for asynchronous job results together; the oldest go first "
        "(default: %(default)s)",
    )

    rank = sub.add_parser(
        "rank",
        help="re-rank the vacant units of a run with other weights (criteria are not recomputed)",
    )
    rank.add_argument("folder", help="a district output folder (OUT/<district>)")
    rank.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a criterion weight, repeatable; others keep the run's weights",
    )
    rank.add_argument(
        "--preset",
        metavar="NAME",
        help="ranking preset: rigenerazione, consolidamento or bando (default: the run's); "
        "--weight changes apply on top of it",
    )
    rank.add_argument("--method", choices=["weighted_sum", "topsis"], default="weighted_sum")
    rank.add_argument("--runs", type=int, default=0, help="Monte-Carlo sensitivity runs (0: none)")
    rank.add_argument("--top", type=int, default=10, help="units printed (default: %(default)s)")
    rank.add_argument("--to", help="also write the re-ranked units (.gpkg, .geojson, .csv)")

    form = sub.add_parser(
        "form", help="write a questionnaire as an XLSForm for KoboToolbox / ODK Collect"
    )
    form.add_argument("survey", choices=["firms", "vacant-units"], help="which questionnaire")
    form.add_argument("--to", required=True, metavar="FILE.xlsx", help="the XLSForm to write")
    form.add_argument(
        "--min-group-size",
        type=int,
        default=5,
        metavar="K",
        help="firms per published aggregate, quoted in the consent note; use the district's "
        "production.min_group_size (default: %(default)s)",
    )

    for name, help_text in (
        ("report", "write the district's report (HTML and PDF) in its language"),
        ("tables", "write the ranking and the main tables as XLSX and as CSV for Italian Excel"),
        ("project", "write a QGIS project (.qgz) with the layers grouped and styled"),
        ("deliverables", "write the report, the tables and the QGIS project"),
    ):
        deliver = sub.add_parser(name, help=help_text)
        deliver.add_argument("folder", help="a district output folder (OUT/<district>)")
        if name in ("report", "deliverables"):
            deliver.add_argument("--no-pdf", action="store_true", help="HTML only")

    batch = sub.add_parser(
        "batch",
        help="run many districts as tasks on Dask distributed (a local cluster by default)",
    )
    batch.add_argument("configs", nargs="+", metavar="CONFIG", help="district configurations")
    batch.add_argument("--out", required=True, help="output root of every district")
    batch.add_argument("--workers", type=int, default=2, help="local workers (%(default)s)")
    batch.add_argument("--memory-limit", default="auto", help="per local worker (%(default)s)")
    batch.add_argument("--scheduler", help="address of a running Dask scheduler instead")
    batch.add_argument(
        "--no-read-once", action="store_true", help="each district reads the extract itself"
    )
    batch.add_argument(
        "--areas", help="one district per polygon of this file (with one CONFIG: the base)"
    )
    batch.add_argument("--name-field", default="name", help="name field of --areas")
    batch.add_argument("--prefix", default="", help="prefix of the districts' ids")
    batch.add_argument(
        "--keep-surveys", action="store_true", help="keep the base's surveys in every district"
    )
    batch.add_argument("--postgis", metavar="DSN", help="then load the results into PostGIS")

    compare = sub.add_parser(
        "compare", help="compare two runs (survey waves): change layers, a table and charts"
    )
    compare.add_argument("before", help="the earlier district output folder (OUT/<district>)")
    compare.add_argument("after", help="the later district output folder")
    compare.add_argument(
        "--to", help="folder for the comparison (default: AFTER/consegna/confronto)"
    )

    serve = sub.add_parser("serve", help="run the OGC API service (pygeoapi under gunicorn)")
    serve.add_argument(
        "--config", default="out/pygeoapi/pygeoapi.yml", help="from 'publish' (%(default)s)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address (%(default)s)")
    serve.add_argument("--port", type=int, default=5000, help="port (default: %(default)s)")
    serve.add_argument("--workers", type=int, default=2, help="gunicorn workers (%(default)s)")
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from geodistrict.pipeline import STEPS, Step, order_steps, run

    config = load_config(args.config)
    _speak(config.language)
    total = len(order_steps(STEPS, only=args.only)[0])  # dependencies of --only run too
    with tqdm(total=total, unit=" " + _("steps"), file=sys.stderr, disable=None) as bar:
        started: list[str] = []

        def on_step(step: Step) -> None:
            if started:
                bar.update(1)
            started.append(step.name)
            bar.set_description(_(step.description))

        result = run(config, out=args.out, only=args.only, use_cache=not args.no_cache,
                     on_step=on_step)  # fmt: skip
        bar.update(total - bar.n)
    gpkg = result.folder / result.manifest["gpkg"]
    n = len(result.written)
    print(ngettext("{title}: wrote {n} layer to {gpkg}", "{title}: wrote {n} layers to {gpkg}",
                   n).format(title=config.title, n=n, gpkg=gpkg))  # fmt: skip
    for name, count in result.written.items():
        print("  " + ngettext("{name:<24} {count:>8} feature", "{name:<24} {count:>8} features",
                              count).format(name=name, count=format_number(count)))  # fmt: skip
    for name, reason in result.skipped.items():
        print("  " + _("{name:<24} not written: {reason}").format(name=name, reason=reason))
    for name, messages in result.notes.items():
        for message in messages:
            print("  " + _("{name:<24} warning: {message}").format(name=name, message=message))
    times = ", ".join(
        _("{step} {seconds} s").format(step=k, seconds=format_number(v, decimals=1))
        for k, v in result.seconds.items()
    )
    print("  " + _("steps: {times}").format(times=times))
    print("  " + _("GeoParquet: {parquet}   manifest: {manifest}").format(
        parquet=result.folder / "parquet", manifest=result.folder / "layers.json"))  # fmt: skip
    print("  " + _(OSM_CREDIT))
    return 0


def _cmd_layers(args: argparse.Namespace) -> int:
    from geodistrict.store import read_manifest

    manifest = read_manifest(args.folder)  # checks the keys used here (OutputError: exit 2)
    language = manifest.get("language")
    _speak(language if language in ("it", "en") else None)
    title = manifest.get("title", manifest["district"])
    updated = _when(manifest["updated"]) if manifest.get("updated") else "?"
    if manifest.get("version"):
        head = _("{title} ({district}), updated {updated}, version {version}")
    else:
        head = _("{title} ({district}), updated {updated}")
    print(head.format(title=title, district=manifest["district"], updated=updated,
                      version=manifest.get("version")))  # fmt: skip
    for name, entry in manifest["layers"].items():
        entry = entry if isinstance(entry, dict) else {}
        kinds = "/".join(
            _(GEOMETRY_TYPES[str(k)]) if str(k) in GEOMETRY_TYPES else str(k)
            for k in entry.get("geometry_types") or []
        ) or "-"  # fmt: skip
        features = entry.get("features")
        count = format_number(features) if isinstance(features, int | float) else "?"
        print(f"  {name:<24} {count:>8}  {kinds:<28} {_layer_title(name, entry)}")
    rasters = manifest.get("rasters")
    for name, entry in (rasters if isinstance(rasters, dict) else {}).items():
        shown = _layer_title(name, entry if isinstance(entry, dict) else {})
        print(f"  {name:<24} {_('raster'):>8}  {'':<28} {shown}")
    return 0


def _layer_title(name: str, entry: Mapping[str, Any]) -> str:
    """A layer's title in the current language: the manifest's, else the catalogue's."""
    from geodistrict.catalogue import LAYERS

    key = "title_it" if get_language() == "it" else "title"
    if entry.get(key):
        return str(entry[key])
    if name in LAYERS:
        return LAYERS[name].title()
    return str(entry.get("title", ""))


def _cmd_check(args: argparse.Namespace) -> int:
    """Every check ``run`` makes before the analyses, all problems reported at once.

    The configuration checks of every step, then the survey files read through
    the pipeline's own ``surveys`` step (the same code ``run`` uses), each
    file read even when another has problems.
    """
    import tempfile

    from geodistrict.errors import SurveyError
    from geodistrict.pipeline import STEPS, check_config, run

    config = load_config(args.config)
    _speak(config.language)
    errors: list[GeodistrictError] = []
    for step in STEPS:
        try:
            check_config(config, steps=[step])
        except ConfigError as exc:
            errors.append(exc)
    if not errors:
        print(_("{config}: configuration is valid ({title})").format(
            config=args.config, title=config.title))  # fmt: skip
    if config.surveys.vacant_units or config.surveys.firms:
        try:
            with tempfile.TemporaryDirectory() as scratch:
                run(config, out=scratch, only=["surveys"])
        except (SurveyError, ConfigError) as exc:
            if str(exc) not in {str(e) for e in errors}:  # run repeats the config checks
                errors.append(exc)
        except GeodistrictError:
            _print_errors(errors)  # what was found so far, then the error that stopped us
            raise
        else:
            print(_("survey files are valid"))
    _print_errors(errors)
    return EXIT_USER_ERROR if errors else 0


def _cmd_fieldwork(args: argparse.Namespace) -> int:
    from geodistrict.fieldwork import fieldwork

    config = load_config(args.config)
    _speak(config.language)
    done = fieldwork(config, args.out, prefill=args.prefill, from_survey=args.from_survey,
                     use_cache=not args.no_cache)  # fmt: skip
    origins = ", ".join(
        f"{format_number(n)} {_(FIELD_ORIGINS[k]) if k in FIELD_ORIGINS else k}"
        for k, n in done.origins.items()
    ) or _("empty")  # fmt: skip
    units = ngettext("{n} unit", "{n} units", done.units).format(n=format_number(done.units))
    print(_("{title}: field project written to {folder}").format(title=config.title,
                                                                 folder=done.folder))  # fmt: skip
    print("  " + _("QGIS/QField project: {path}").format(path=done.project))
    print("  " + _("survey layer:        {path} ({units}: {origins})").format(
        path=done.survey, units=units, origins=origins))  # fmt: skip
    print("  " + _("context layers:      {path}").format(path=done.context))
    print("  " + _("back from the field: set surveys.vacant_units to {path}, then "
                   "'geodistrict check {config}'").format(path=done.survey,
                                                          config=args.config))  # fmt: skip
    print("  " + _(OSM_CREDIT))
    return 0


def _print_errors(errors: Sequence[Exception]) -> None:
    for exc in errors:
        print(f"error: {exc}", file=sys.stderr)


def _check_publish_args(args: argparse.Namespace) -> None:
    """User mistakes of ``publish`` found before anything is loaded or written (exit 2)."""
    from geodistrict.errors import OutputError
    from geodistrict.store import read_manifest

    target = Path(args.to)
    if target.exists() and not target.is_dir():
        raise OutputError(f"--to {str(target)!r} is a file; give the folder for pygeoapi.yml")
    if args.postgis is not None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        shown = repr(args.postgis) if ":" not in args.postgis else "the value given"
        try:
            url = make_url(args.postgis)
        except (ArgumentError, ValueError) as exc:
            raise ConfigError(
                f"--postgis: {shown} is not a connection string; expected "
                "postgresql://user:password@host:port/database"
            ) from exc
        if not url.drivername.startswith(("postgresql", "postgres")) or not url.database:
            raise ConfigError(
                f"--postgis: expected postgresql://user:password@host:port/database "
                f"(got a {url.drivername!r} URL{'' if url.database else ' without a database'})"
            )
    for folder in args.folders:
        manifest = read_manifest(folder)  # a folder without results: OutputError
        for name, entry in manifest["layers"].items():
            parquet = entry.get("parquet") if isinstance(entry, dict) else None
            if parquet and not (Path(folder) / parquet).is_file():
                raise OutputError(
                    f"{str(folder)!r}: layer {name!r} has no {parquet} (removed or moved?); "
                    "run 'geodistrict run CONFIG' again to rewrite the results"
                )


def _cmd_publish(args: argparse.Namespace) -> int:
    from geodistrict.publish import pygeoapi_config, write_pygeoapi_config
    from geodistrict.publish.config import PASSWORD_ENV, SECRETS_FILE, read_secrets

    _check_publish_args(args)
    _folder_language(args.folders[0])
    # pygeoapi's Parquet provider warns that integer ids are "not numeric" (its test is
    # inverted); the ids are integers on purpose.
    logging.getLogger("pygeoapi.provider.parquet").setLevel(logging.ERROR)
    url = args.url or f"http://127.0.0.1:{args.port}"
    target = Path(args.to)
    secrets: dict[str, str] = {}
    serve_dsn = None
    if args.postgis:
        from sqlalchemy.engine import make_url

        from geodistrict.publish.postgis import (
            ensure_reader,
            load_layers,
            reader_role,
            with_credentials,
        )

        previous = read_secrets(target).get(PASSWORD_ENV) if target.is_dir() else None
        reader = ensure_reader(args.postgis, password=previous)
        for folder in args.folders:
            loaded = load_layers(folder, args.postgis, reader=reader[0] if reader else None)
            print(ngettext("loaded {n} layer of {folder} into PostGIS",
                           "loaded {n} layers of {folder} into PostGIS",
                           len(loaded)).format(n=len(loaded), folder=folder))  # fmt: skip
        if reader:
            serve_dsn = with_credentials(args.postgis, *reader)
            print("  " + _("served read-only as {role}").format(role=reader[0]))
        else:
            serve_dsn = args.postgis
            print("  " + _("warning: could not create {role}; the service connects as {user}, "
                           "which can write").format(role=reader_role(args.postgis),
                                                     user=make_url(args.postgis).username),
                  file=sys.stderr)  # fmt: skip
        secrets[PASSWORD_ENV] = make_url(serve_dsn).password or ""
    config = pygeoapi_config(
        args.folders,
        url=url,
        port=args.port,
        postgis_dsn=serve_dsn,
        jobs_dir=target.resolve() / "jobs",
        jobs_max_age_hours=args.jobs_max_age,
        jobs_max_mb=args.jobs_max_mb,
        tiles_dir=target.resolve() / "tiles" if args.tiles else None,
    )
    path = write_pygeoapi_config(config, target, secrets=secrets or None)
    n = len(config["resources"])
    print(ngettext("published {n} collection: {path}", "published {n} collections: {path}",
                   n).format(n=n, path=path))  # fmt: skip
    if secrets:
        print("  " + _("password:  {path} (mode 0600; or set {variable})").format(
            path=target / SECRETS_FILE, variable=PASSWORD_ENV))  # fmt: skip
    if args.tiles and not args.postgis:
        for mbtiles in sorted((target / "tiles").glob("*.mbtiles")):
            print("  " + _("tiles:     {path} (QGIS: Layer > Add Layer > Add Vector Tile Layer)")
                  .format(path=mbtiles))  # fmt: skip
    print("  " + _("serve it:  {command}").format(
        command=f"geodistrict serve --config {path} --port {args.port}"))  # fmt: skip
    print("  " + _("browser:   {url}").format(url=f"{url}/collections"))
    print("  " + _("QGIS:      Layer > Add Layer > Add WFS / OGC API - Features Layer, URL {url}")
          .format(url=url))  # fmt: skip
    print("  " + _(OSM_CREDIT))
    return 0


def _cmd_rank(args: argparse.Namespace) -> int:
    from geodistrict import _validate
    from geodistrict.priority import rank_from_folder

    _folder_language(args.folder)
    if not 0 <= args.runs <= MAX_RANK_RUNS:
        raise ConfigError(f"--runs must be between 0 and {MAX_RANK_RUNS} (value {args.runs})")
    if args.top < 0:
        raise ConfigError(f"--top must not be negative (value {args.top})")
    if args.to:
        _validate.output_file(args.to, what="--to", suffixes=RANK_SUFFIXES)
    weights: dict[str, object] = {}
    for item in args.weight:
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--weight takes NAME=VALUE, got {item!r}")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            weights[name.strip()] = value  # check_weights names it: not a number
    ranked = rank_from_folder(args.folder, weights, preset=args.preset, method=args.method,
                              runs=args.runs, to=args.to)  # fmt: skip

    preset = ranked["preset"].iloc[0] if len(ranked) else args.preset
    n = len(ranked)
    print(ngettext("{n} vacant unit re-ranked ({method}, preset {preset})",
                   "{n} vacant units re-ranked ({method}, preset {preset})",
                   n).format(n=n, method=_method_name(args.method), preset=preset))  # fmt: skip
    print("  " + _("weights: {weights}").format(
        weights=_weights_text(ranked["weights"].iloc[0] if n else "{}")))  # fmt: skip
    explanation = "explanation_it" if get_language() == "it" else "explanation"
    for row in ranked.head(args.top).to_dict("records"):
        score = format_number(row["score"], decimals=3)
        print(f"  {row['rank']:>3}  {row['unit_id']:<22} {score}  {row[explanation]}")
    if args.to:
        print("  " + _("written to {path}").format(path=args.to))
    print("  " + _(OSM_CREDIT))
    return 0


def _method_name(method: str) -> str:
    """The ranking method as given (``--method``) in English, its label in Italian."""
    from geodistrict.i18n import label

    return method if get_language() == "en" else label(method, kind="status")


def _weights_text(weights: object) -> str:
    """The non-zero weights of a ranking as ``name=value`` (the ``--weight`` syntax)."""
    import json

    try:
        parsed = json.loads(str(weights))
    except ValueError:
        return str(weights)
    if not isinstance(parsed, dict):
        return str(weights)
    shown = [f"{k}={format_number(v) if isinstance(v, int | float) else v}"
             for k, v in parsed.items() if v != 0]  # fmt: skip
    return ", ".join(shown) or "-"


def _cmd_form(args: argparse.Namespace) -> int:
    from geodistrict.sources.surveys import FIRMS, VACANT_UNITS
    from geodistrict.sources.surveys.forms import write_xlsform

    schema = FIRMS if args.survey == "firms" else VACANT_UNITS
    path = write_xlsform(schema, args.to, min_group_size=args.min_group_size)
    title = schema.title_en if get_language() == "en" and schema.title_en else schema.title_it
    print(_("{title}: XLSForm written to {path}").format(title=title, path=path))
    print("  " + _("upload it to KoboToolbox or ODK Central; read the export (CSV or XLSX) "
                   "back with"))  # fmt: skip
    print("  " + _("surveys: in the district configuration and 'geodistrict check'"))
    return 0


def _cmd_deliver(args: argparse.Namespace) -> int:
    """``report``, ``tables``, ``project`` and ``deliverables``: files a council receives."""
    _folder_language(args.folder)
    written: list[Path] = []
    if args.command in ("report", "deliverables"):
        from geodistrict.deliverables.report import write_report

        written += write_report(args.folder, pdf=not args.no_pdf)
    if args.command in ("tables", "deliverables"):
        from geodistrict.deliverables.tables import write_tables

        written += write_tables(args.folder)
    if args.command in ("project", "deliverables"):
        from geodistrict.deliverables.qgis import write_project

        written.append(write_project(args.folder))
    _print_written(written)
    return 0


def _print_written(written: Sequence[Path]) -> None:
    """How many files a command wrote, then each on its own line."""
    n = len(written)
    print(ngettext("{n} file written:", "{n} files written:", n).format(n=n))
    for path in written:
        print(f"  {path}")


def _cmd_compare(args: argparse.Namespace) -> int:
    from geodistrict.monitoring import write_comparison

    _folder_language(args.after)
    _print_written(write_comparison(args.before, args.after, to=args.to))
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    """Many districts on Dask: exit 0 when all ran, 2 when one failed on bad input, 1 on a bug."""
    from geodistrict.batch import districts_from_areas, load_districts_postgis, run_districts

    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1 (value {args.workers})")
    configs: list[Any] = list(args.configs)
    if args.areas:
        import geopandas as gpd

        from geodistrict import _validate

        if len(configs) != 1:
            raise ConfigError(f"--areas takes exactly one base CONFIG, got {len(configs)}")
        _validate.existing_file(args.areas, what="--areas")
        configs = districts_from_areas(
            configs[0], gpd.read_file(args.areas), name_field=args.name_field,
            folder=Path(args.out) / "configurazioni", prefix=args.prefix,
            keep_surveys=args.keep_surveys,
        )  # fmt: skip
    table = run_districts(configs, out=args.out, workers=args.workers,
                          memory_limit=args.memory_limit, scheduler=args.scheduler,
                          read_once=not args.no_read_once)  # fmt: skip
    done = table["status"] == "ok"
    summary = Path(args.out) / "riepilogo_distretti.csv"
    message = _("{ok} of {n} districts done; summary in {path}")
    print(message.format(ok=int(done.sum()), n=len(table), path=summary))
    for row in table[~done].itertuples():
        print(f"  {row.district}: {row.error}")
    if args.postgis and done.any():
        load_districts_postgis(table.loc[done, "folder"], args.postgis)
    errors = table.loc[~done, "error"].astype(str)
    if errors.str.startswith("bug:").any():
        return 1
    return EXIT_USER_ERROR if len(errors) else 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from geodistrict.errors import InputFileNotFoundError
    from geodistrict.publish import serve

    if not Path(args.config).is_file():
        raise InputFileNotFoundError(
            f"no pygeoapi configuration at {args.config!r}; "
            "run 'geodistrict publish OUT/<district>' first"
        )
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    from geodistrict.publish.server import check_port

    check_port(args.host, args.port)  # exit 2 before announcing a server that cannot start
    print(_("geodistrict OGC API: {url}  (Ctrl+C to stop)").format(
        url=f"http://{shown}:{args.port}/"), flush=True)  # fmt: skip
    return serve(args.config, host=args.host, port=args.port, workers=args.workers)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``geodistrict`` command.

    The command runs in a copy of the context: the language it prints in
    (set from its configuration or output folder) ends with it.
    """
    return contextvars.copy_context().run(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    commands = {
        "run": _cmd_run,
        "layers": _cmd_layers,
        "check": _cmd_check,
        "fieldwork": _cmd_fieldwork,
        "publish": _cmd_publish,
        "serve": _cmd_serve,
        "rank": _cmd_rank,
        "form": _cmd_form,
        "report": _cmd_deliver,
        "tables": _cmd_deliver,
        "project": _cmd_deliver,
        "deliverables": _cmd_deliver,
        "compare": _cmd_compare,
        "batch": _cmd_batch,
    }
    try:
        return commands[args.command](args)
    except NetworkUnavailableError as exc:
        print(f"error: {_bounded(str(exc))}", file=sys.stderr)
        return EXIT_OFFLINE
    except GeodistrictError as exc:
        print(f"error: {_bounded(str(exc))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(_("interrupted"), file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: a short message, the traceback in a log file
        return _report_bug(exc, verbose=args.verbose)


#: Most lines of an error message printed (a survey can list thousands of problems).
_MAX_MESSAGE_LINES = 200


def _bounded(text: str) -> str:
    """An error message cut to :data:`_MAX_MESSAGE_LINES` lines of at most 1000 characters."""
    lines = [
        line if len(line) <= 1000 else line[:1000] + f"... ({len(line)} characters)"
        for line in text.splitlines()
    ]
    if len(lines) > _MAX_MESSAGE_LINES:
        more = len(lines) - _MAX_MESSAGE_LINES
        lines = [*lines[:_MAX_MESSAGE_LINES],
                 "  " + ngettext("... and {n} more line", "... and {n} more lines",
                                 more).format(n=more)]  # fmt: skip
    return "\n".join(lines)


def _report_bug(exc: BaseException, *, verbose: int) -> int:
    """Exit status 1 for an unexpected exception: a short message and where the details are.

    The traceback goes to a log file (``<cache>/logs/``, else the temporary folder) and,
    with ``-vv``, to stderr too.
    """
    import tempfile
    import traceback
    from datetime import UTC, datetime

    from geodistrict.config import default_cache_dir

    details = "".join(traceback.format_exception(exc))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_file: Path | None = None
    for folder in (default_cache_dir() / "logs", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            candidate = folder / f"geodistrict-error-{stamp}-{os.getpid()}.log"
            candidate.write_text(f"geodistrict {__version__}\n{details}", encoding="utf-8")
        except OSError:
            continue
        log_file = candidate
        break
    text = " ".join(str(exc).split())
    text = text if len(text) <= 300 else text[:300] + "..."
    print("error: " + _("unexpected {kind}: {text}").format(kind=type(exc).__name__, text=text),
          file=sys.stderr)  # fmt: skip
    if log_file:
        where = _("the details are in {path} (please report it with that file)").format(
            path=log_file)  # fmt: skip
    else:
        where = _("rerun with -vv for the details")
    print("  " + _("this is a bug in geodistrict, not a mistake in your input; {where}").format(
        where=where), file=sys.stderr)  # fmt: skip
    if verbose >= 2:
        print(details, file=sys.stderr, end="")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
