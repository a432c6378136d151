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

__all__ = ["rank_from_folder", "read_ranked", "write_ranked"]


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


def run_settings(
    layer: pd.DataFrame, *, folder: str | os.PathLike[str] = ""
) -> tuple[str | None, dict[str, Any]]:
    """The preset and the weights a run ranked ``layer`` with (its ``preset``/``weights`` columns).

    ``(None, {})`` for a layer written before the presets (logged, naming
    ``folder``); the weights keep only known criteria.
    """
    run_preset = None
    if "preset" in layer and len(layer) and isinstance(layer["preset"].iloc[0], str):
        run_preset = layer["preset"].iloc[0]
    elif len(layer):
        log.warning("%s predates the ranking presets: run it again for their criteria", folder)
    run_weights: dict[str, Any] = {}
    if "weights" in layer and len(layer) and isinstance(layer["weights"].iloc[0], str):
        stored = json.loads(layer["weights"].iloc[0])
        run_weights = {k: v for k, v in stored.items() if k in CRITERIA}
    return run_preset, run_weights


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
        Also write the result (:func:`write_ranked`): ``.xlsx``, ``.csv``
        (Italian Excel's for an Italian district), ``.gpkg``, ``.geojson``
        or ``.parquet``.

    Returns
    -------
    GeoDataFrame
        Sorted by rank.
    """
    layer = read_ranked(folder)
    run_preset, run_weights = run_settings(layer, folder=folder)
    chosen = get_preset(preset if preset is not None else run_preset).name
    used = run_weights if chosen == run_preset else {}
    merged = {**used, **dict(weights or {})}
    if runs > 0:
        ranked = prioritise(layer, merged, method=method, preset=chosen, runs=runs)
    else:
        ranked = rescore(layer, merged, method=method, preset=chosen).sort_values(
            "rank", kind="stable"
        )
    if to is not None:
        write_ranked(ranked, to, folder=folder, method=method)
    return ranked


def _folder_language(folder: str | os.PathLike[str]) -> tuple[str, str]:
    """The language and title recorded in a district folder's manifest."""
    from geodistrict.deliverables import Outputs

    outputs = Outputs.open(folder)
    return outputs.language, outputs.title


def write_ranked(
    ranked: gpd.GeoDataFrame,
    to: str | os.PathLike[str],
    *,
    folder: str | os.PathLike[str] | None = None,
    language: str | None = None,
    method: str = "weighted_sum",
) -> Path:
    """Write a ranking (:func:`rank_from_folder`) to a file; the suffix chooses the format.

    * ``.xlsx``: an information sheet (district, preset, method, sources)
      and the ranking as people read it, in the district's language: labelled
      headers, numeric cells with number formats, the header row frozen and
      filtered, priority class, explanation, the value of every criterion,
      WGS84 longitude and latitude, and the weights as columns
      ("Peso: ..."); see :func:`geodistrict.deliverables.tables.ranking_table`.
    * ``.csv`` for an Italian district: the same table for Italian Excel
      (``;``, decimal comma, UTF-8 with BOM, Italian headers).
    * ``.csv`` for an English district: every column under its machine name
      (``,`` and decimal point), geometry as WKT, the ``weights`` JSON and
      one ``weight_<criterion>`` column per criterion.
    * ``.gpkg``, ``.geojson``, ``.parquet``: the layer as it is.

    In the spreadsheets, text starting with ``=``, ``+``, ``-``, ``@``, tab
    or CR gets a ``'`` in front, so a spreadsheet shows it as text instead of
    running it as a formula.

    Parameters
    ----------
    ranked : GeoDataFrame
        The ranked vacant units.
    to : path-like
        The file to write.
    folder : path-like, optional
        The district folder the ranking comes from: its language and title.
    language : {"it", "en"}, optional
        Overrides the folder's language (default: the folder's, else Italian).
    method : str
        The scoring method, for the information sheet.

    Returns
    -------
    Path
        ``to``.

    Raises
    ------
    OutputError
        For another suffix, or when the file cannot be written.
    """
    from geodistrict.deliverables import write_atomically
    from geodistrict.i18n import DEFAULT_LANGUAGE

    target = Path(to)
    suffix = target.suffix.lower()
    title = ""
    if folder is not None:
        folder_language, title = _folder_language(folder)
        language = language or folder_language
    language = language or DEFAULT_LANGUAGE
    if suffix == ".xlsx":
        from geodistrict.deliverables.tables import rank_sheets

        data = rank_sheets(ranked, language=language, title=title,
                           notes=_rank_notes(ranked, method, language))  # fmt: skip
        return write_atomically(target, data)
    if suffix == ".csv":
        if language == "it":
            from geodistrict.deliverables.tables import csv_bytes, ranking_table

            table, kinds, headers = ranking_table(ranked, language=language)
            return write_atomically(
                target, csv_bytes(table, kinds, language=language, headers=headers)
            )
        frame = pd.DataFrame(ranked.drop(columns=ranked.geometry.name))
        frame["wkt"] = ranked.geometry.to_wkt().to_numpy()
        if "weights" in frame and len(frame) and isinstance(frame["weights"].iloc[0], str):
            given = json.loads(frame["weights"].iloc[0])
            for name in CRITERIA:
                if name in given:
                    frame[f"weight_{name}"] = given[name]
        # Survey text starting with = + - @ would run as a spreadsheet formula; CRLF
        # rows (RFC 4180) so that a CR inside a cell is quoted, not a row break.
        text = formula_safe_frame(frame).to_csv(index=False, lineterminator="\r\n")
        return write_atomically(target, text.encode("utf-8"))
    if suffix == ".parquet":
        ranked.to_parquet(target)
    elif suffix in (".gpkg", ".geojson", ".json"):
        ranked.to_file(target, layer="vacant_units" if suffix == ".gpkg" else None)
    else:
        raise OutputError(
            f"cannot write {str(target)!r}: use .xlsx, .csv, .gpkg, .geojson or .parquet"
        )
    return target


def _rank_notes(ranked: pd.DataFrame, method: str, language: str) -> list[tuple[str, Any]]:
    """Preset and method of a ranking, for the information sheet of its workbook."""
    from geodistrict.i18n import pgettext, use_language
    from geodistrict.priority.definitions import PRESETS

    with use_language(language):
        rows: list[tuple[str, Any]] = []
        name = ranked["preset"].iloc[0] if "preset" in ranked and len(ranked) else None
        if isinstance(name, str) and name in PRESETS:
            preset = PRESETS[name]
            rows.append((pgettext("tables", "Weighting preset"),
                         preset.title_it if language == "it" else preset.title_en))  # fmt: skip
        methods = {"weighted_sum": pgettext("tables", "Weighted sum"), "topsis": "TOPSIS"}
        rows.append((pgettext("tables", "Scoring method"), methods.get(method, method)))
        return rows
