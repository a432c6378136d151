"""Command line: ``geodistrict run | layers | check | fieldwork | publish | serve``.

User mistakes (bad configuration, bad survey, missing file, no network)
print a clear message and exit with status 2 (3 when offline); they never
print a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from tqdm import tqdm

from geodistrict._version import __version__
from geodistrict.config import load_config
from geodistrict.errors import ConfigError, GeodistrictError, NetworkUnavailableError

EXIT_USER_ERROR = 2
EXIT_OFFLINE = 3
#: Most Monte-Carlo runs of ``rank --runs`` (as vacancy.mc_runs).
MAX_RANK_RUNS = 100_000
#: What ``rank --to`` writes.
RANK_SUFFIXES = (".gpkg", ".geojson", ".json", ".parquet", ".csv", ".xlsx")


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
    total = len(order_steps(STEPS, only=args.only)[0])  # dependencies of --only run too
    with tqdm(total=total, unit="step", file=sys.stderr, disable=None) as bar:
        started: list[str] = []

        def on_step(step: Step) -> None:
            if started:
                bar.update(1)
            started.append(step.name)
            bar.set_description(step.description)

        result = run(config, out=args.out, only=args.only, use_cache=not args.no_cache,
                     on_step=on_step)  # fmt: skip
        bar.update(total - bar.n)
    gpkg = result.folder / result.manifest["gpkg"]
    print(f"{config.title}: wrote {len(result.written)} layer(s) to {gpkg}")
    for name, count in result.written.items():
        print(f"  {name:<24} {count:>8} features")
    for name, reason in result.skipped.items():
        print(f"  {name:<24} not written: {reason}")
    for name, messages in result.notes.items():
        for message in messages:
            print(f"  {name:<24} warning: {message}")
    print("  steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()))
    print(f"  GeoParquet: {result.folder / 'parquet'}   manifest: {result.folder / 'layers.json'}")
    print("  Map data © OpenStreetMap contributors (ODbL)")
    return 0


def _cmd_layers(args: argparse.Namespace) -> int:
    from geodistrict.store import read_manifest

    manifest = read_manifest(args.folder)  # checks the keys used here (OutputError: exit 2)
    title = manifest.get("title", manifest["district"])
    version = f", version {manifest['version']}" if manifest.get("version") else ""
    print(f"{title} ({manifest['district']}), updated {manifest.get('updated', '?')}{version}")
    for name, entry in manifest["layers"].items():
        entry = entry if isinstance(entry, dict) else {}
        kinds = "/".join(map(str, entry.get("geometry_types") or [])) or "-"
        print(
            f"  {name:<24} {entry.get('features', '?'):>8}  {kinds:<28} {entry.get('title', '')}"
        )
    rasters = manifest.get("rasters")
    for name, entry in (rasters if isinstance(rasters, dict) else {}).items():
        title = entry.get("title", "") if isinstance(entry, dict) else ""
        print(f"  {name:<24} {'raster':>8}  {'':<28} {title}")
    return 0


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
    errors: list[GeodistrictError] = []
    for step in STEPS:
        try:
            check_config(config, steps=[step])
        except ConfigError as exc:
            errors.append(exc)
    if not errors:
        print(f"{args.config}: configuration is valid ({config.title})")
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
            print("survey files are valid")
    _print_errors(errors)
    return EXIT_USER_ERROR if errors else 0


def _cmd_fieldwork(args: argparse.Namespace) -> int:
    from geodistrict.fieldwork import fieldwork

    config = load_config(args.config)
    done = fieldwork(config, args.out, prefill=args.prefill, from_survey=args.from_survey,
                     use_cache=not args.no_cache)  # fmt: skip
    origins = ", ".join(f"{n} {k}" for k, n in done.origins.items()) or "empty"
    print(f"{config.title}: field project written to {done.folder}")
    print(f"  QGIS/QField project: {done.project}")
    print(f"  survey layer:        {done.survey} ({done.units} unit(s): {origins})")
    print(f"  context layers:      {done.context}")
    print(f"  back from the field: set surveys.vacant_units to {done.survey}, then "
          f"'geodistrict check {args.config}'")  # fmt: skip
    print("  Map data © OpenStreetMap contributors (ODbL)")
    return 0


def _print_errors(errors: Sequence[Exception]) -> None:
    for exc in errors:
        print(f"error: {exc}", file=sys.stderr)


def _check_publish_args(args: argparse.Namespace) -> None:
    """User mistakes of ``publish`` found before anything is loaded or written (exit 2)."""
    from pathlib import Path

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
    from pathlib import Path

    from geodistrict.publish import pygeoapi_config, write_pygeoapi_config
    from geodistrict.publish.config import PASSWORD_ENV, SECRETS_FILE, read_secrets

    _check_publish_args(args)
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
            print(f"loaded {len(loaded)} layer(s) of {folder} into PostGIS")
        if reader:
            serve_dsn = with_credentials(args.postgis, *reader)
            print(f"  served read-only as {reader[0]}")
        else:
            serve_dsn = args.postgis
            print(f"  warning: could not create {reader_role(args.postgis)}; the service "
                  f"connects as {make_url(args.postgis).username}, which can write",
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
    )
    path = write_pygeoapi_config(config, target, secrets=secrets or None)
    print(f"published {len(config['resources'])} collection(s): {path}")
    if secrets:
        print(f"  password:  {target / SECRETS_FILE} (mode 0600; or set {PASSWORD_ENV})")
    print(f"  serve it:  geodistrict serve --config {path} --port {args.port}")
    print(f"  browser:   {url}/collections")
    print(f"  QGIS:      Layer > Add Layer > Add WFS / OGC API - Features Layer, URL {url}")
    print("  Map data © OpenStreetMap contributors (ODbL)")
    return 0


def _cmd_rank(args: argparse.Namespace) -> int:
    from geodistrict import _validate
    from geodistrict.priority import rank_from_folder

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
    print(f"{len(ranked)} vacant units re-ranked ({args.method}, preset {preset})")
    print(f"  weights: {ranked['weights'].iloc[0] if len(ranked) else '{}'}")
    for row in ranked.head(args.top).itertuples():
        print(f"  {row.rank:>3}  {row.unit_id:<22} {row.score:.3f}  {row.explanation}")
        print(f"       {'':<22}        {row.explanation_it}")
    if args.to:
        print(f"  written to {args.to}")
    print("  Map data © OpenStreetMap contributors (ODbL)")
    return 0


def _cmd_form(args: argparse.Namespace) -> int:
    from geodistrict.sources.surveys import FIRMS, VACANT_UNITS
    from geodistrict.sources.surveys.forms import write_xlsform

    schema = FIRMS if args.survey == "firms" else VACANT_UNITS
    path = write_xlsform(schema, args.to, min_group_size=args.min_group_size)
    print(f"{schema.title_it}: XLSForm written to {path}")
    print("  upload it to KoboToolbox or ODK Central; read the export (CSV or XLSX) back with")
    print("  surveys: in the district configuration and 'geodistrict check'")
    return 0


def _cmd_deliver(args: argparse.Namespace) -> int:
    """``report``, ``tables``, ``project`` and ``deliverables``: files a council receives."""
    from pathlib import Path

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
    for path in written:
        print(f"  {path}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from geodistrict.monitoring import write_comparison

    for path in write_comparison(args.before, args.after, to=args.to):
        print(f"  {path}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from pathlib import Path

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
    print(f"geodistrict OGC API: http://{shown}:{args.port}/  (Ctrl+C to stop)", flush=True)
    return serve(args.config, host=args.host, port=args.port, workers=args.workers)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``geodistrict`` command."""
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
        print("interrupted", file=sys.stderr)
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
        lines = [*lines[:_MAX_MESSAGE_LINES], f"  ... and {more} more line(s)"]
    return "\n".join(lines)


def _report_bug(exc: BaseException, *, verbose: int) -> int:
    """Exit status 1 for an unexpected exception: a short message and where the details are.

    The traceback goes to a log file (``<cache>/logs/``, else the temporary folder) and,
    with ``-vv``, to stderr too.
    """
    import tempfile
    import traceback
    from datetime import UTC, datetime
    from pathlib import Path

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
    print(f"error: unexpected {type(exc).__name__}: {text}", file=sys.stderr)
    where = f"the details are in {log_file}" if log_file else "rerun with -vv for the details"
    print(f"  this is a bug in geodistrict, not a mistake in your input; {where} "
          "(please report it with that file)", file=sys.stderr)  # fmt: skip
    if verbose >= 2:
        print(details, file=sys.stderr, end="")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
