"""Time OSM ingestion of the embedded sample: cold read vs. cache, and each stage.

Run from the repository root::

    .venv/bin/python benchmarks/bench_ingest.py [--repeat 3]

Prints a Markdown table for docs/BENCHMARKS.md. Peak memory is the process's
maximum resident set size after each measurement (it only grows).
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

import geodistrict as gd
from geodistrict.area import clip_polygon
from geodistrict.ingest import base_layers_from_raw, read_source

ROOT = Path(__file__).resolve().parent.parent


def _time(func: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), min(runs)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    config = gd.load_config(ROOT / "config" / "sample.yml")
    config = config.model_copy(
        update={"osm": config.osm.model_copy(update={"cache_dir": Path(tempfile.mkdtemp())})}
    )
    area = gd.study_area(config)
    polygon = gpd.GeoSeries([clip_polygon(area)], crs=area.crs).to_crs(4326).iloc[0]
    raw = read_source(config, polygon)
    n = args.repeat
    rows = [
        ("read the .osm.pbf (pyrosm)", _time(lambda: read_source(config, polygon), n)),
        ("clip, project, build graphs", _time(lambda: base_layers_from_raw(raw, area), n)),
        (
            "load_base_layers, no cache",
            _time(lambda: gd.load_base_layers(config, use_cache=False), n),
        ),
    ]
    gd.load_base_layers(config)  # fill the cache
    rows.append(("load_base_layers, cached", _time(lambda: gd.load_base_layers(config), 5)))
    layers = gd.load_base_layers(config)

    print(f"Machine: {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, geodistrict {gd.__version__}")  # fmt: skip
    print(f"Sample: {len(layers.streets)} streets, {len(layers.pois)} POIs, "
          f"{layers.walk_graph.number_of_nodes()} walk nodes, "
          f"{layers.bike_graph.number_of_nodes()} bike nodes\n")  # fmt: skip
    print("| stage | median s | best s |\n|---|---:|---:|")
    for name, (median, best) in rows:
        print(f"| {name} | {median:.2f} | {best:.2f} |")
    print(f"\nPeak RSS: {_peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
