"""Writing a comparison of two waves: GeoPackage, CSV, charts and summary, atomically.

Everything a person reads is in the district's language: column headers and
change labels (:func:`geodistrict.i18n.label`), dates, and numbers (Italian
CSV: ``;``-separated, decimal comma, UTF-8 with BOM, as Excel opens them);
the GeoPackage keeps the machine names, as the run's own GeoPackage does.
The files are written into a temporary folder beside ``to``, which replaces
``to`` in one rename at the end: a failure leaves the previous comparison.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict._csvsafe import formula_safe
from geodistrict.errors import OutputError
from geodistrict.i18n import _, format_date, format_number, label, use_language
from geodistrict.monitoring.compare import (
    CHANGES,
    COMPARISON_DIR,
    Comparison,
    compare_outputs,
)

log = logging.getLogger(__name__)

__all__ = ["FILE_NAMES", "write_comparison"]

#: File names by language (the GeoPackage layers keep their machine names).
FILE_NAMES: dict[str, dict[str, str]] = {
    "it": {"gpkg": "confronto.gpkg", "units": "variazioni_locali.csv",
           "centres": "sfitto_per_centro.csv", "streets": "sfitto_per_via.csv",
           "indicators": "indicatori.csv", "summary": "sintesi.csv", "json": "sintesi.json",
           "chart": "indicatore_{name}.png"},
    "en": {"gpkg": "comparison.gpkg", "units": "unit_changes.csv",
           "centres": "vacancy_by_centre.csv", "streets": "vacancy_by_street.csv",
           "indicators": "indicators.csv", "summary": "summary.csv", "json": "summary.json",
           "chart": "indicator_{name}.png"},
}  # fmt: skip

#: Layers of the comparison GeoPackage.
LAYERS = ("unit_changes", "centre_vacancy_change", "street_vacancy_change", "indicator_changes")

# Columns whose machine values are shown by their label (column -> label kind).
_LABELLED = {"change": "change", "kind": "value", "scope": "scope"}
# Columns shown as percentages (shares 0-1 written as 12,5).
_SHARES = {"vacancy_rate_before", "vacancy_rate_after", "vacancy_rate_change"}
_DECIMALS = {"vacancy_months": 1, "vacancy_months_before": 1, "value_before": 2,
             "value_after": 2, "change": 2, "before": 1, "after": 1}  # fmt: skip


def _number(value: Any, decimals: int, language: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return ""
    text = f"{float(value):.{decimals}f}"
    return text.replace(".", ",") if language == "it" else text


def _cell(column: str, value: Any, language: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if column in _SHARES:
        return _number(float(value) * 100, 1, language)
    if column in _LABELLED:
        return label(str(value), kind=_LABELLED[column], language=language)
    if isinstance(value, pd.Timestamp):
        return format_date(value, language=language)
    if isinstance(value, bool | np.bool_):
        return label("yes" if value else "no", kind="value", language=language)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _number(value, _DECIMALS.get(column, 2), language)
    if value == "":
        return ""
    return str(formula_safe(str(value)))


def _header(column: str, language: str) -> str:
    text = label(column, kind="column", language=language)
    return f"{text} (%)" if column in _SHARES else text


def _csv_bytes(frame: pd.DataFrame, language: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if language == "it" else ",", lineterminator="\r\n")
    columns = [c for c in frame.columns if c != "geometry"]
    writer.writerow([_header(c, language) for c in columns])
    for row in frame[columns].itertuples(index=False, name=None):
        writer.writerow([_cell(c, v, language) for c, v in zip(columns, row, strict=True)])
    encoding = "utf-8-sig" if language == "it" else "utf-8"
    return buffer.getvalue().encode(encoding)


def _labelled(units: gpd.GeoDataFrame, language: str) -> gpd.GeoDataFrame:
    out = units.copy()
    out.insert(1, "change_label", [label(c, kind="change", language=language)
                                   for c in out["change"]])  # fmt: skip
    return out


def _summary_rows(comparison: Comparison, language: str) -> pd.DataFrame:
    s = comparison.summary
    vac = s["district_vacancy"]

    def pct(v: float | None) -> float:
        return np.nan if v is None else float(v)

    rows = [
        (_("Survey date"), comparison.before.label, comparison.after.label, ""),
        (_("Date taken from"), label(comparison.before.date_source, kind="value"),
         label(comparison.after.date_source, kind="value"), ""),
        (_("Active commercial units"), vac["active_before"], vac["active_after"],
         vac["active_after"] - vac["active_before"]),
        (_("Vacant units"), vac["vacant_before"], vac["vacant_after"],
         vac["vacant_after"] - vac["vacant_before"]),
        (_("Vacancy rate of the district (%)"), pct(vac["rate_before"]) * 100,
         pct(vac["rate_after"]) * 100, (pct(vac["rate_after"]) - pct(vac["rate_before"])) * 100),
    ]  # fmt: skip
    for change in CHANGES:
        rows.append((label(change, kind="change", language=language), "", "",
                     s["units"][change]))  # fmt: skip
    frame = pd.DataFrame(rows, columns=["item", "before", "after", "change"], dtype=object)
    for col in ("before", "after", "change"):
        frame[col] = [round(v, 1) if isinstance(v, float) else v for v in frame[col]]
    return frame


def _chart(rows: pd.DataFrame, before: str, after: str, language: str, path: Path) -> None:
    """One indicator over the waves: a line per scope (at most 6)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    try:
        shown = rows.head(6)
        for _i, row in shown.iterrows():
            values = [row["value_before"], row["value_after"]]
            name = label(str(row["scope"]), kind="scope", language=language)
            ax.plot([0, 1], values, marker="o", linewidth=2, label=name)
            for x, v in zip([0, 1], values, strict=True):
                if pd.notna(v):
                    text = format_number(float(v), decimals=1, language=language)
                    ax.annotate(text, (x, v), textcoords="offset points", xytext=(0, 7),
                                ha="center")  # fmt: skip
        ax.set_xticks([0, 1], [before, after])
        ax.set_xlim(-0.3, 1.3)
        ax.yaxis.set_major_formatter(
            FuncFormatter(lambda v, _p: format_number(v, decimals=1, language=language))
        )
        first = rows.iloc[0]
        ax.set_title(str(first["label"] or first["indicator"]))
        if pd.notna(first["unit"]) and str(first["unit"]):
            ax.set_ylabel(str(first["unit"]))
        ax.set_xlabel(_("Survey wave"))
        ax.grid(axis="y", alpha=0.3)
        if len(shown) > 1:
            ax.legend(fontsize="small")
        source = str(first["source"]) if pd.notna(first["source"]) else ""
        credit = _("Source: {source}; map data © OpenStreetMap contributors").format(
            source=source or _("district surveys")
        )
        fig.text(0.01, 0.01, credit, fontsize=7, color="#555555")
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.casefold()).strip("_")[:60] or "indicator"


def _write_bytes(path: Path, *, data: bytes) -> None:
    path.write_bytes(data)


def _write_gpkg(comparison: Comparison, path: Path, *, language: str) -> None:
    import pyogrio

    layers: dict[str, pd.DataFrame] = {
        "unit_changes": _labelled(comparison.units, language),
        "centre_vacancy_change": comparison.centres,
        "street_vacancy_change": comparison.streets,
    }
    for name, frame in layers.items():
        if len(frame) == 0:
            log.info("comparison: no %s, layer not written", name)
            continue
        gpd.GeoDataFrame(frame).to_file(path, layer=name, driver="GPKG")
    table = comparison.indicators.copy()
    for col in table.columns:
        if str(table[col].dtype) == "string":
            table[col] = table[col].astype(object)
    if len(table):
        pyogrio.write_dataframe(table, path, layer="indicator_changes", driver="GPKG")


def _files(comparison: Comparison, folder: Path, language: str) -> list[Path]:
    names = FILE_NAMES[language]
    written: list[Path] = []
    jobs: list[tuple[str, Callable[[Path], object]]] = [
        (names["gpkg"], partial(_write_gpkg, comparison, language=language)),
    ]
    tables = {
        "units": comparison.units,
        "centres": comparison.centres,
        "streets": comparison.streets,
        "indicators": comparison.indicators,
        "summary": _summary_rows(comparison, language),
    }
    for key, frame in tables.items():
        data = _csv_bytes(pd.DataFrame(frame), language)
        jobs.append((names[key], partial(_write_bytes, data=data)))
    for indicator, rows in comparison.indicators.groupby("indicator", sort=False):
        if rows[["value_before", "value_after"]].notna().any(axis=None):
            file = names["chart"].format(name=_slug(str(indicator)))
            chart = partial(_chart, rows, comparison.before.label, comparison.after.label,
                            language)  # fmt: skip
            jobs.append((file, chart))
    files = [n for n, _f in jobs] + [names["json"]]
    text = json.dumps({**comparison.summary, "files": files}, ensure_ascii=False, indent=2)
    jobs.append((names["json"], partial(_write_bytes, data=text.encode("utf-8"))))
    for name, job in jobs:
        target = folder / name
        job(target)
        written.append(target)
    return written


def write_comparison(
    before: str | os.PathLike[str],
    after: str | os.PathLike[str],
    *,
    to: str | os.PathLike[str] | None = None,
    match_distance_m: float = 15.0,
) -> list[Path]:
    """Compare two survey waves of a district and write the change layers and tables.

    Parameters
    ----------
    before, after : path
        Output folders (``OUT/<district>``) of the runs of wave 1 and wave 2 of
        the same district.
    to : path, optional
        Folder to write (replaced whole); default ``AFTER/consegna/confronto``.
    match_distance_m : float, default 15
        Units of the two waves without a common id are the same unit within
        this distance (m).

    Returns
    -------
    list of Path
        The files written: the GeoPackage (``unit_changes``,
        ``centre_vacancy_change``, ``street_vacancy_change``,
        ``indicator_changes``), one CSV per table and the summary table, one
        PNG chart per indicator, and the summary ``sintesi.json``
        (``summary.json`` in English).

    Raises
    ------
    WaveMismatchError
        If the folders hold different districts or the same run (exit status 2).
    OutputError
        If a folder holds no results or ``to`` cannot be written.

    Examples
    --------
    >>> write_comparison("no/such/folder", "nor/this")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geodistrict.errors.OutputError: ...
    """
    comparison = compare_outputs(before, after, match_distance_m=match_distance_m)
    language = comparison.language
    if to is None:
        from geodistrict.deliverables import Outputs

        target = Outputs.open(after).deliverables_dir() / COMPARISON_DIR
    else:
        target = Path(to)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot write the comparison into {str(parent)!r}: "
                          f"{exc.strerror or exc}") from exc  # fmt: skip
    trash = parent / f".{target.name}.old-{os.getpid()}"
    try:
        with use_language(language):
            written = _files(comparison, work, language)
        for path in written:
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        if target.exists():
            os.rename(target, trash)
        os.rename(work, target)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        if trash.exists() and not target.exists():
            os.rename(trash, target)
        raise OutputError(f"cannot write the comparison into {str(target)!r}: "
                          f"{exc.strerror or exc}") from exc  # fmt: skip
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    shutil.rmtree(trash, ignore_errors=True)
    log.info("comparison of %s and %s written to %s", comparison.before.label,
             comparison.after.label, target)  # fmt: skip
    return [target / p.name for p in written]
