"""Reading a run's ranked vacant units back, and re-ranking them with other weights."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geodistrict.errors import OutputError
from geodistrict.priority.definitions import Method
from geodistrict.priority.mcda import prioritise, rescore

__all__ = ["rank_from_folder", "read_ranked"]


def read_ranked(folder: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read the ``vacant_units`` layer a run wrote into ``OUT/<district>``.

    Raises
    ------
    OutputError
        If the folder holds no results or no ``vacant_units`` layer.
    """
    from geodistrict.store import read_manifest

    manifest = read_manifest(folder)
    if "vacant_units" not in manifest.get("layers", {}):
        raise OutputError(
            f"{str(folder)!r} has no vacant_units layer; run 'geodistrict run CONFIG' with the "
            "vacancy step first"
        )
    path = Path(folder) / manifest["gpkg"]
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
    method: Method = "weighted_sum",
    runs: int = 0,
    to: str | os.PathLike[str] | None = None,
) -> gpd.GeoDataFrame:
    """Re-rank a run's vacant units with other weights, from its stored criteria.

    ``weights`` are merged over the weights the run used (the layer's
    ``weights`` column), which were merged over :data:`DEFAULT_WEIGHTS`.
    Nothing is recomputed but the scores (``geodistrict rank`` calls this).

    Parameters
    ----------
    folder : path-like
        A district output folder, ``OUT/<district>``.
    weights : mapping, optional
        Weights to change, by criterion name.
    method : {"weighted_sum", "topsis"}
    runs : int, default 0
        Monte-Carlo sensitivity runs; 0 leaves the robustness columns out.
    to : path-like, optional
        Also write the result: ``.gpkg``, ``.geojson``, ``.parquet`` or
        ``.csv`` (geometry as WKT).

    Returns
    -------
    GeoDataFrame
        Sorted by rank.
    """
    layer = read_ranked(folder)
    used: dict[str, Any] = {}
    if "weights" in layer and len(layer) and isinstance(layer["weights"].iloc[0], str):
        used = json.loads(layer["weights"].iloc[0])
    merged = {**used, **dict(weights or {})}
    if runs > 0:
        ranked = prioritise(layer, merged, method=method, runs=runs)
    else:
        ranked = rescore(layer, merged, method=method).sort_values("rank", kind="stable")
    if to is not None:
        target = Path(to)
        suffix = target.suffix.lower()
        if suffix == ".csv":
            table = pd.DataFrame(ranked.drop(columns=ranked.geometry.name))
            table["wkt"] = ranked.geometry.to_wkt().to_numpy()
            table.to_csv(target, index=False)
        elif suffix == ".parquet":
            ranked.to_parquet(target)
        elif suffix in (".gpkg", ".geojson", ".json"):
            ranked.to_file(target, layer="vacant_units" if suffix == ".gpkg" else None)
        else:
            raise OutputError(
                f"cannot write {str(target)!r}: use .gpkg, .geojson, .parquet or .csv"
            )
    return ranked
