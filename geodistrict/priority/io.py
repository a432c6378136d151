"""Reading a run's ranked vacant units back, and re-ranking them with other weights."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geodistrict._csvsafe import formula_safe_frame
from geodistrict.errors import OutputError
from geodistrict.priority.definitions import CRITERIA, Method
from geodistrict.priority.mcda import get_preset, prioritise, rescore

log = logging.getLogger(__name__)

__all__ = ["rank_from_folder", "read_ranked"]


def read_ranked(folder: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read the ``vacant_units`` layer a run wrote into ``OUT/<district>``.

    Raises
    ------
    OutputError
        If the folder holds no results or no ``vacant_units`` layer.
    """
    from geodistrict.store import current_version, read_manifest

    version = current_version(folder)  # manifest and GeoPackage of one version
    manifest = read_manifest(version)
    if "vacant_units" not in manifest.get("layers", {}):
        raise OutputError(
            f"{str(folder)!r} has no vacant_units layer; run 'geodistrict run CONFIG' with the "
            "vacancy step first"
        )
    path = version / manifest["gpkg"]
    layer = gpd.read_file(path, layer=manifest["layers"]["vacant_units"]["gpkg_layer"])
    if "ground_floor" in layer:  # GeoPackage stores booleans as integers
        layer["ground_floor"] = pd.array(
            [None if pd.isna(v) else bool(v) for v in layer["ground_floor"]], dtype="boolean"
        )
    return layer


def rank_from_folder(
    folder: str | os.PathLike[str],
    weights: Mapping[str, Any] | None = None,
    *,
    preset: str | None = None,
    method: Method = "weighted_sum",
    runs: int = 0,
    to: str | os.PathLike[str] | None = None,
) -> gpd.GeoDataFrame:
    """Re-rank a run's vacant units with another preset or weights, from its stored criteria.

    Without ``preset`` (or with the run's own), ``weights`` are merged over
    the weights the run used (the layer's ``preset`` and ``weights``
    columns); with another preset, over that preset's weights.  Nothing is
    recomputed but the scores (``geodistrict rank`` calls this).

    Parameters
    ----------
    folder : path-like
        A district output folder, ``OUT/<district>``.
    weights : mapping, optional
        Weights to change, by criterion name.
    preset : str, optional
        ``rigenerazione``, ``consolidamento`` or ``bando``; default the run's.
    method : {"weighted_sum", "topsis"}
    runs : int, default 0
        Monte-Carlo runs of the robustness to method and weights; 0 leaves
        the robustness columns out.
    to : path-like, optional
        Also write the result: ``.gpkg``, ``.geojson``, ``.parquet`` or
        ``.csv`` (geometry as WKT; text starting with ``=``, ``+``, ``-``,
        ``@``, tab or CR gets a ``'`` in front, so a spreadsheet shows it as
        text instead of running it as a formula).

    Returns
    -------
    GeoDataFrame
        Sorted by rank.
    """
    layer = read_ranked(folder)
    run_preset = None
    if "preset" in layer and len(layer) and isinstance(layer["preset"].iloc[0], str):
        run_preset = layer["preset"].iloc[0]
    elif len(layer):
        log.warning("%s predates the ranking presets: run it again for their criteria", folder)
    chosen = get_preset(preset if preset is not None else run_preset).name
    used: dict[str, Any] = {}
    if (chosen == run_preset and "weights" in layer and len(layer)
            and isinstance(layer["weights"].iloc[0], str)):  # fmt: skip
        used = {k: v for k, v in json.loads(layer["weights"].iloc[0]).items() if k in CRITERIA}
    merged = {**used, **dict(weights or {})}
    if runs > 0:
        ranked = prioritise(layer, merged, method=method, preset=chosen, runs=runs)
    else:
        ranked = rescore(layer, merged, method=method, preset=chosen).sort_values(
            "rank", kind="stable"
        )
    if to is not None:
        target = Path(to)
        suffix = target.suffix.lower()
        if suffix == ".csv":
            table = pd.DataFrame(ranked.drop(columns=ranked.geometry.name))
            table["wkt"] = ranked.geometry.to_wkt().to_numpy()
            # Survey text starting with = + - @ would run as a spreadsheet formula; CRLF
            # rows (RFC 4180) so that a CR inside a cell is quoted, not a row break.
            formula_safe_frame(table).to_csv(target, index=False, lineterminator="\r\n")
        elif suffix == ".parquet":
            ranked.to_parquet(target)
        elif suffix in (".gpkg", ".geojson", ".json"):
            ranked.to_file(target, layer="vacant_units" if suffix == ".gpkg" else None)
        else:
            raise OutputError(
                f"cannot write {str(target)!r}: use .gpkg, .geojson, .parquet or .csv"
            )
    return ranked
