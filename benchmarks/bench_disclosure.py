"""Time the cross-layer disclosure audit: ``protect_layers`` on both samples, old and new.

Run from the repository root::

    .venv/bin/python benchmarks/bench_disclosure.py [--repeat 5] [--step]

The production layers of each sample (Helsinki ``config/sample.yml``, Piana
Rotaliana ``config/piana_rotaliana.yml``) are built once, with their
membership, exactly as the pipeline step hands them to ``protect_layers``, and
pickled.  Then each timing is a fresh process that loads them and calls
``protect_layers`` (and ``audit_disclosure``) once: ``old`` is the frozen
implementation from before the fast audit (``tests/disclosure_reference.py``),
``new`` is :mod:`geodistrict.production.disclosure`.  Both must hide the same
numbers; the script checks it.  With ``--step`` it also times
``production_layers`` (the production step without reading the inputs) with
either implementation (old: also ``needs._protect_hierarchy`` as it was),
with ``sklearn`` imported first (``firm_clusters`` imports it: seconds that are
not the audit's).  Prints a Markdown table with medians of ``--repeat``
processes, wall clock and CPU time of the process.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = {"Helsinki": "sample.yml", "Piana Rotaliana": "piana_rotaliana.yml"}


def _inputs(config: Path) -> dict[str, object]:
    """What the production step hands to ``protect_layers`` (layers with membership)."""
    import geodistrict as gd
    from geodistrict import production as pr
    from geodistrict.pipeline.steps.production import production_layers

    cfg = gd.load_config(config)
    base = gd.load_base_layers(cfg)
    firms = gd.read_survey(cfg.surveys.firms, gd.FIRMS, crs=base.crs)
    vacant = (
        gd.read_survey(cfg.surveys.vacant_units, gd.VACANT_UNITS, crs=base.crs)
        if cfg.surveys.vacant_units
        else None
    )
    captured: dict[str, object] = {}
    real = pr.protect_layers

    def spy(layers, **options):  # type: ignore[no-untyped-def]
        captured["layers"], captured["options"] = dict(layers), options
        return real(layers, **options)

    pr.protect_layers = spy  # type: ignore[assignment]
    try:
        production_layers(base, firms, cfg.production, vacant_units=vacant, keep_membership=True)
    finally:
        pr.protect_layers = real
    return captured


def _worker(path: str, impl: str, what: str) -> None:
    """In a fresh process: time one call, print JSON."""
    if impl == "old":
        sys.path.insert(0, str(ROOT / "tests"))
        import disclosure_reference as module  # type: ignore[import-not-found]
    else:
        from geodistrict.production import disclosure as module
    with open(path, "rb") as handle:
        data = pickle.load(handle)
    if what == "step":
        import geodistrict as gd
        from geodistrict import production as pr
        from geodistrict.pipeline.steps.production import production_layers

        cfg = gd.load_config(data["config"])
        base = gd.load_base_layers(cfg)
        firms = gd.read_survey(cfg.surveys.firms, gd.FIRMS, crs=base.crs)
        vacant = (
            gd.read_survey(cfg.surveys.vacant_units, gd.VACANT_UNITS, crs=base.crs)
            if cfg.surveys.vacant_units
            else None
        )
        import sklearn.cluster  # noqa: F401  (firm_clusters imports it: not what is timed)

        pr.protect_layers = module.protect_layers
        if impl == "old":  # and the needs layer's secondary suppression as it was
            from geodistrict.production import needs

            needs._protect_hierarchy = module._protect_hierarchy
        started, cpu = time.perf_counter(), time.process_time()
        production_layers(base, firms, cfg.production, vacant_units=vacant)
        print(
            json.dumps(
                {"step": time.perf_counter() - started, "step_cpu": time.process_time() - cpu}
            )
        )
        return
    layers, options = data["layers"], data["options"]
    started, cpu = time.perf_counter(), time.process_time()
    found = module.audit_disclosure(layers, **options)
    audit, audit_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    _, report = module.protect_layers(layers, **options)
    protect, protect_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        json.dumps(
            {
                "audit": audit,
                "audit_cpu": audit_cpu,
                "protect": protect,
                "protect_cpu": protect_cpu,
                "findings": len(found),
                "hidden": report["hidden"],
            }
        )
    )


def _medians(results: dict[str, list[dict[str, object]]], what: str) -> tuple[float, ...]:
    """Median wall and CPU times, old then new."""
    wall = [statistics.median(float(r[what]) for r in results[i]) for i in ("old", "new")]  # type: ignore[arg-type]
    cpu = [statistics.median(float(r[f"{what}_cpu"]) for r in results[i]) for i in ("old", "new")]  # type: ignore[arg-type]
    return (*wall, *cpu)


def _run(path: Path, impl: str, what: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(path), impl, what],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the timings as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per timing")
    parser.add_argument("--step", action="store_true", help="also time production_layers")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(*args.worker)
        return
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"load average before: {os.getloadavg()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, config in SAMPLES.items():
            path = Path(tmp) / f"{config}.pkl"
            data = _inputs(ROOT / "config" / config)
            data["config"] = str(ROOT / "config" / config)
            with open(path, "wb") as handle:
                pickle.dump(data, handle)
            results = {
                impl: [_run(path, impl, "call") for _ in range(args.repeat)]
                for impl in ("old", "new")
            }
            hidden = {
                impl: {json.dumps(r["hidden"]) for r in runs} for impl, runs in results.items()
            }
            if hidden["old"] != hidden["new"] or len(hidden["new"]) != 1:
                raise SystemExit(f"{label}: old and new hide different numbers: {hidden}")
            for what in ("audit", "protect"):
                name = "audit_disclosure" if what == "audit" else "protect_layers"
                rows.append((label, name, *_medians(results, what)))
            if args.step:
                steps = {
                    impl: [_run(path, impl, "step") for _ in range(args.repeat)]
                    for impl in results
                }
                rows.append((label, "production_layers (step)", *_medians(steps, "step")))
            hidden_n = len(json.loads(next(iter(hidden["new"]))))
            print(
                f"{label}: {results['new'][0]['findings']} findings before, "
                f"{hidden_n} numbers hidden (the same old and new)"
            )
    print(f"load average after: {os.getloadavg()}")
    print()
    print(f"Median of {args.repeat} fresh processes; wall clock (CPU time of the process).")
    print()
    print("| sample | call | old (s) | new (s) | old / new |")
    print("|---|---|---:|---:|---:|")
    for label, name, old, new, old_cpu, new_cpu in rows:
        print(
            f"| {label} | {name} | {old:.3f} ({old_cpu:.3f}) | {new:.3f} ({new_cpu:.3f}) "
            f"| {old / new:.1f}x ({old_cpu / new_cpu:.1f}x) |"
        )


if __name__ == "__main__":
    main()
