"""Command line: ``geodistrict run | layers | check | publish | serve``.

User mistakes (bad configuration, bad survey, missing file, no network)
print a clear message and exit with status 2 (3 when offline); they never
print a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from tqdm import tqdm

from geodistrict._version import __version__
from geodistrict.config import load_config
from geodistrict.errors import ConfigError, GeodistrictError, NetworkUnavailableError

EXIT_USER_ERROR = 2
EXIT_OFFLINE = 3


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
        "from there instead of the GeoParquet files",
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
    rank.add_argument("--method", choices=["weighted_sum", "topsis"], default="weighted_sum")
    rank.add_argument("--runs", type=int, default=0, help="Monte-Carlo sensitivity runs (0: none)")
    rank.add_argument("--top", type=int, default=10, help="units printed (default: %(default)s)")
    rank.add_argument("--to", help="also write the re-ranked units (.gpkg, .geojson, .csv)")

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

    manifest = read_manifest(args.folder)
    print(f"{manifest['title']} ({manifest['district']}), updated {manifest['updated']}")
    for name, entry in manifest["layers"].items():
        kinds = "/".join(entry["geometry_types"]) or "-"
        print(f"  {name:<24} {entry['features']:>8}  {kinds:<28} {entry['title']}")
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


def _print_errors(errors: Sequence[Exception]) -> None:
    for exc in errors:
        print(f"error: {exc}", file=sys.stderr)


def _cmd_publish(args: argparse.Namespace) -> int:
    from pathlib import Path

    from geodistrict.publish import pygeoapi_config, write_pygeoapi_config

    # pygeoapi's Parquet provider warns that integer ids are "not numeric" (its test is
    # inverted); the ids are integers on purpose.
    logging.getLogger("pygeoapi.provider.parquet").setLevel(logging.ERROR)
    url = args.url or f"http://127.0.0.1:{args.port}"
    target = Path(args.to)
    if args.postgis:
        from geodistrict.publish.postgis import load_layers

        for folder in args.folders:
            loaded = load_layers(folder, args.postgis)
            print(f"loaded {len(loaded)} layer(s) of {folder} into PostGIS")
    config = pygeoapi_config(
        args.folders,
        url=url,
        port=args.port,
        postgis_dsn=args.postgis,
        jobs_dir=target.resolve() / "jobs",
    )
    path = write_pygeoapi_config(config, target)
    print(f"published {len(config['resources'])} collection(s): {path}")
    print(f"  serve it:  geodistrict serve --config {path} --port {args.port}")
    print(f"  browser:   {url}/collections")
    print(f"  QGIS:      Layer > Add Layer > Add WFS / OGC API - Features Layer, URL {url}")
    print("  Map data © OpenStreetMap contributors (ODbL)")
    return 0


def _cmd_rank(args: argparse.Namespace) -> int:
    from geodistrict.priority import rank_from_folder

    weights: dict[str, object] = {}
    for item in args.weight:
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--weight takes NAME=VALUE, got {item!r}")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            weights[name.strip()] = value  # check_weights names it: not a number
    ranked = rank_from_folder(args.folder, weights, method=args.method, runs=args.runs,
                              to=args.to)  # fmt: skip
    print(f"{len(ranked)} vacant units re-ranked ({args.method})")
    print(f"  weights: {ranked['weights'].iloc[0]}")
    for row in ranked.head(args.top).itertuples():
        print(f"  {row.rank:>3}  {row.unit_id:<22} {row.score:.3f}  {row.explanation}")
    if args.to:
        print(f"  written to {args.to}")
    print("  Map data © OpenStreetMap contributors (ODbL)")
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
        "publish": _cmd_publish,
        "serve": _cmd_serve,
        "rank": _cmd_rank,
    }
    try:
        return commands[args.command](args)
    except NetworkUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_OFFLINE
    except GeodistrictError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
