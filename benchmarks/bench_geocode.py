"""Offline geocoding: recall and distance error on the shops OSM gives an address.

For each embedded sample district (``config/sample.yml``, central Helsinki;
``config/piana_rotaliana.yml``, the Italian sample) the POIs with
``addr:street`` + ``addr:housenumber`` are taken as the truth: each one's
position is hidden (the POI itself is left out of the address index for its
own query: leave-one-out) and its address, written as ``<street> <number>``
with ``addr:city`` as the comune, is geocoded back with the district's
address index (:func:`geodistrict.pipeline.steps.surveys.address_index_for`).

Reported: recall (share placed), precision (share of the placed within 50 m
of the truth), and the distance error percentiles p50, p90, p99 (m) by match
quality, plus the time to build the index and to geocode.

Run from the repository root::

    .venv/bin/python benchmarks/bench_geocode.py

Prints a Markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

import geodistrict as gd
from geodistrict.geocode import QUALITIES, geocode
from geodistrict.pipeline.steps.surveys import address_index_for

ROOT = Path(__file__).resolve().parent.parent
DISTRICTS = ("sample", "piana_rotaliana")
PRECISION_M = 50.0


def truth(pois: pd.DataFrame) -> pd.DataFrame:
    """The addressed POIs: address, comune, source id and true position."""
    rows = []
    for osm_type, osm_id, tags, geom in zip(
        pois["osm_type"], pois["osm_id"], pois["tags"], pois.geometry, strict=True
    ):
        t = json.loads(tags) if isinstance(tags, str) else {}
        if t.get("addr:street") and t.get("addr:housenumber"):
            rows.append({
                "address": f"{t['addr:street']} {t['addr:housenumber']}",
                "municipality": t.get("addr:city"),
                "hidden": f"{osm_type}/{osm_id}",
                "x": geom.x, "y": geom.y,
            })  # fmt: skip
    return pd.DataFrame(rows)


def measure(name: str) -> dict[str, object]:
    """Index, geocode and compare for one district."""
    config = gd.load_config(ROOT / "config" / f"{name}.yml")
    base = gd.load_base_layers(config)
    started = time.perf_counter()
    index = address_index_for(config, base)
    built = time.perf_counter() - started
    rows = truth(base.pois)
    started = time.perf_counter()
    out = geocode(rows, index, exclude="hidden")
    spent = time.perf_counter() - started
    error = np.array([
        np.hypot(g.x - x, g.y - y) if g is not None else np.nan
        for g, x, y in zip(out.geometry, rows["x"], rows["y"], strict=True)
    ])  # fmt: skip
    placed = ~np.isnan(error)
    result: dict[str, object] = {
        "district": name, "queries": len(rows), "index_points": len(index),
        "streets": len(index.streets), "recall": placed.mean(),
        "precision": (error[placed] <= PRECISION_M).mean() if placed.any() else np.nan,
        "index_s": built, "geocode_ms_per_address": 1000 * spent / max(len(rows), 1),
    }  # fmt: skip
    for quality in QUALITIES:
        mask = (out["geocode_quality"] == quality).to_numpy()
        result[f"{quality}_n"] = int(mask.sum())
        if quality != "unmatched" and mask.any():
            result[f"{quality}_p"] = np.percentile(error[mask], [50, 90, 99])
    result["all_p"] = np.percentile(error[placed], [50, 90, 99]) if placed.any() else None
    return result


def _p(values: object) -> str:
    if values is None:
        return "–"
    return " / ".join(f"{v:.0f}" for v in values)  # type: ignore[attr-defined]


def main() -> None:
    """Measure both districts and print the tables."""
    results = [measure(name) for name in DISTRICTS]
    print(f"Machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.system()}\n")  # fmt: skip
    print(
        "| district | addressed POIs | index points / streets | recall | precision (≤ 50 m) "
        "| error p50 / p90 / p99 (m), all placed | index (s) | geocode (ms / address) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['district']} | {r['queries']} | {r['index_points']} / {r['streets']} | "
              f"{r['recall']:.1%} | {r['precision']:.1%} | {_p(r['all_p'])} | "
              f"{r['index_s']:.2f} | {r['geocode_ms_per_address']:.1f} |")  # fmt: skip
    print("\n| district | quality | rows | error p50 / p90 / p99 (m) |")
    print("|---|---|---:|---:|")
    for r in results:
        for quality in QUALITIES:
            shown = "–" if quality == "unmatched" else _p(r.get(f"{quality}_p"))
            print(f"| {r['district']} | {quality} | {r[f'{quality}_n']} | {shown} |")


if __name__ == "__main__":
    main()
