"""Command line: ``geodistrict run CONFIG``, ``layers DIR`` and ``check CONFIG``.

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

from geodistrict import __version__
from geodistrict.config import load_config
from geodistrict.errors import GeodistrictError, NetworkUnavailableError

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
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from geodistrict.pipeline import STEPS, Step, run

    config = load_config(args.config)
    total = len(args.only) if args.only else len(STEPS)
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
    from geodistrict.pipeline import run

    config = load_config(args.config)
    print(f"{args.config}: configuration is valid ({config.title})")
    if config.surveys.vacant_units or config.surveys.firms:
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:
            run(config, out=scratch, only=["surveys"])
        print("survey files are valid")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``geodistrict`` command."""
    args = _parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    commands = {"run": _cmd_run, "layers": _cmd_layers, "check": _cmd_check}
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
