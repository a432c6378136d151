"""The district report's context: configuration, sources, key figures, indicators, change, methods.

Examples
--------
>>> from geodistrict.deliverables.report_context import REFERENCES
>>> any("Macdonald" in r for r in REFERENCES)
True
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from geodistrict.deliverables import DELIVERABLES_DIR, Outputs
from geodistrict.deliverables.report_format import (
    DASH,
    Section,
    Table,
    _layer,
    _missing,
    _missing_note,
    header,
    num,
    pct,
    table,
    text,
    value_label,
)
from geodistrict.i18n import N_, _, format_date, format_number

__all__ = [
    "REFERENCES",
    "change_section",
    "district_section",
    "indicators_section",
    "methods_section",
    "read_config",
    "read_table_file",
    "sources_section",
]

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------ configuration


def read_config(outputs: Outputs) -> dict[str, Any]:
    """The district's configuration file as recorded in the manifest (raw YAML), or {}.

    Adds ``_illustrative`` (the configuration or a survey file says the data are
    illustrative), ``_path`` and ``_raw`` (the text, comments included).
    """
    import yaml

    path = outputs.manifest.get("config")
    config: dict[str, Any] = {}
    if not path or not Path(path).is_file():
        return config
    try:
        raw = Path(path).read_text(encoding="utf-8")
        loaded = yaml.safe_load(raw)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        log.warning("cannot read the configuration %s: %s", path, exc)
        return config
    if isinstance(loaded, dict):
        config.update(loaded)
    config["_path"] = Path(path)
    config["_raw"] = raw
    surveys = config.get("surveys") or {}
    flags = [_illustrative_file(_input(config, p)) for p in surveys.values() if isinstance(p, str)]
    config["_illustrative"] = any(flags) or "illustrative" in str(config.get("description", ""))
    return config


def _input(config: Mapping[str, Any], value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else Path(config["_path"]).parent / path


def _illustrative_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    return bool(re.search(rb"ILLUSTRATIV", head, re.IGNORECASE))


def _commented_illustrative(config: Mapping[str, Any], key: str) -> bool:
    """Whether the comment block right above ``key:`` in the YAML says ILLUSTRATIVE."""
    lines = str(config.get("_raw", "")).splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"\s*{re.escape(key)}\s*:", line):
            j, block = i - 1, []
            while j >= 0 and lines[j].strip().startswith("#"):
                block.append(lines[j])
                j -= 1
            return "ILLUSTRATIVE" in " ".join(block).upper()
    return False


def _pbf_timestamp(path: Path) -> dt.datetime | None:
    """The replication timestamp in an ``.osm.pbf`` header, when the extract records one."""

    def varint(data: bytes, i: int) -> tuple[int, int]:
        shift = result = 0
        while True:
            byte = data[i]
            i += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result, i

    def fields(data: bytes) -> dict[int, Any]:
        out: dict[int, Any] = {}
        i = 0
        while i < len(data):
            key, i = varint(data, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                out[number], i = varint(data, i)
            elif wire == 2:
                size, i = varint(data, i)
                out[number], i = data[i : i + size], i + size
            elif wire == 1:
                out[number], i = data[i : i + 8], i + 8
            elif wire == 5:
                out[number], i = data[i : i + 4], i + 4
            else:
                return out
        return out

    try:
        with path.open("rb") as handle:
            size = struct.unpack(">I", handle.read(4))[0]
            blob_header = fields(handle.read(size))
            blob = fields(handle.read(int(blob_header[3])))
        data = zlib.decompress(blob[3]) if 3 in blob else blob.get(1, b"")
        stamp = fields(data).get(32)
    except (OSError, KeyError, IndexError, struct.error, zlib.error, TypeError):
        return None
    return dt.datetime.fromtimestamp(stamp, dt.UTC) if isinstance(stamp, int) and stamp else None


def _file_date(path: Path) -> str:
    """The date a file was last written, or a dash when it cannot be read."""
    try:
        return format_date(dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC))
    except OSError:
        return DASH


def read_table_file(path: Path) -> pd.DataFrame:
    """A CSV written for Italian or English Excel (``;`` or ``,``, BOM or not), as text."""
    content = path.read_text(encoding="utf-8-sig")
    try:
        sep = csv.Sniffer().sniff(content[:4096], delimiters=";,\t").delimiter
    except csv.Error:
        sep = ";" if content.count(";") >= content.count(",") else ","
    return pd.read_csv(io.StringIO(content), sep=sep, dtype=str, keep_default_na=False)


def district_section(outputs: Outputs, config: Mapping[str, Any]) -> Section:
    """The district: title, comuni, area and the key figures."""
    section = Section("district", _("The district"))
    area = _layer(outputs, "study_area")
    places = [str(p).split(",")[0].strip() for p in (config.get("area") or {}).get("places") or []]
    production = config.get("production") or {}
    if places:
        section.paragraphs.append(_("Municipalities: {names}.").format(names=", ".join(places)))
    core = production.get("core_municipalities") or []
    extension = production.get("extension_municipalities") or []
    if core or extension:
        section.paragraphs.append(
            _("Productive district: core {core}; extension {extension}.").format(
                core=", ".join(core) or DASH, extension=", ".join(extension) or DASH
            )
        )
    figures: list[list[str]] = []
    if area is not None and "area_ha" in area:
        figures.append([_("Study area (ha)"), num(area["area_ha"].iloc[0], 0)])
    counts = (
        ("commercial_units", N_("Commercial units (OpenStreetMap)")),
        ("retail_centres", N_("Retail centres")),
        ("vacant_units", N_("Vacant units")),
        ("info_points", N_("Proposed info points")),
    )
    for name, title in counts:
        if outputs.has(name):
            figures.append([_(title), num(len(outputs.layer(name)))])
    network = _layer(outputs, "bike_network")
    if network is not None and {"lts", "length_m"} <= set(network.columns):
        length = pd.to_numeric(network["length_m"], errors="coerce")
        low = pd.to_numeric(network["lts"], errors="coerce") <= 2
        figures.append([_("Cycling network (km)"), num(length.sum() / 1000, 1)])
        figures.append([_("Share at low stress (LTS 1–2)"), pct(length[low].sum() / length.sum())])
    connectivity = _layer(outputs, "bike_connectivity")
    if connectivity is not None and "district_score" in connectivity:
        figures.append(
            [
                _("Low-stress connectivity score (0–100)"),
                num(connectivity["district_score"].iloc[0] * 100, 0),
            ]
        )
    coverage = _layer(outputs, "firm_coverage")
    if coverage is not None and {"level", "respondents"} <= set(coverage.columns):
        total = coverage[coverage["level"].astype(str) == "district"]
        if len(total):
            figures.append(
                [_("Firms that answered the questionnaire"), num(total["respondents"].iloc[0])]
            )
            if "response_rate" in total:
                figures.append([_("Response rate"), pct(total["response_rate"].iloc[0])])
    if figures:
        section.tables.append(
            Table(_("Key figures"), [header("figure"), header("value")], figures, [False, True])
        )
    if config.get("_illustrative"):
        section.warning = _(
            "The survey data of this district (vacant units, firm questionnaire) are "
            "illustrative: invented for the example, not collected. The results that use "
            "them show the method, not the district."
        )
    return section


def sources_section(outputs: Outputs, config: Mapping[str, Any]) -> Section:
    """The data sources with their dates, licences and attribution."""
    section = Section("sources", _("Data sources"))
    rows: list[list[str]] = []
    osm = config.get("osm") or {}
    streets = outputs.manifest["layers"].get("streets") or {}
    described = str(streets.get("source") or "OpenStreetMap")
    date = DASH
    if osm.get("path") and config.get("_path"):
        path = _input(config, str(osm["path"]))
        stamp = _pbf_timestamp(path)
        date = format_date(stamp) if stamp is not None else _file_date(path)
    rows.append(
        [
            _("Streets, shops and services, buildings, land use, stops"),
            described,
            date,
            _("© OpenStreetMap contributors, Open Database Licence (ODbL 1.0)"),
        ]
    )
    surveys = config.get("surveys") or {}
    names = {
        "vacant_units": N_("Survey of vacant units"),
        "firms": N_("Firm questionnaire"),
        "business_register": N_("Business register extract (Chamber of Commerce)"),
    }
    for key, title in names.items():
        value = surveys.get(key)
        if not isinstance(value, str):
            continue
        path = _input(config, value)
        illustrative = _illustrative_file(path)
        rows.append(
            [
                _(title),
                Path(value).name,
                _file_date(path),
                _("Illustrative data, invented for the example")
                if illustrative
                else _("District data"),
            ]
        )
    reference = (config.get("production") or {}).get("reference_file")
    if isinstance(reference, str):
        illustrative = _commented_illustrative(config, "reference_file") or _illustrative_file(
            _input(config, reference)
        )
        rows.append(
            [
                _("Reference of the location quotients (local units by ATECO division)"),
                Path(reference).name,
                _file_date(_input(config, reference)),
                _("Illustrative data in the form of ISTAT's register of local units (ASIA)")
                if illustrative
                else _("ISTAT, Creative Commons Attribution 4.0 (CC BY 4.0)"),
            ]
        )
    for name in ("population", "census_sections"):
        entry = outputs.manifest["layers"].get(name)
        if entry:
            rows.append(
                [
                    _("Residents by census section"),
                    str(entry.get("source") or "ISTAT"),
                    DASH,
                    _("ISTAT, Creative Commons Attribution 4.0 (CC BY 4.0)"),
                ]
            )
    section.tables.append(
        Table(
            _("Sources"),
            [header("what"), header("source"), header("date"), header("licence")],
            rows,
            [False] * 4,
            note=_(
                "Date: of the extract when the file records it, otherwise of the file "
                "itself (when it was exported or received)."
            ),
        )
    )
    updated = outputs.manifest.get("updated")
    if updated:
        section.paragraphs.append(
            _("Results computed on {date} (version {version}).").format(
                date=format_date(updated), version=outputs.manifest.get("version", DASH)
            )
        )
    section.paragraphs.append(
        _(
            "Maps and tables derived from OpenStreetMap: © OpenStreetMap contributors. "
            "The data are available under the Open Database Licence; the credit must be "
            "kept wherever the maps are shown."
        )
    )
    return section


def indicators_section(outputs: Outputs) -> Section:
    """The run's indicators table (value, unit, date; method and source under each row)."""
    section = Section("indicators", _("Indicators"))
    frame = _layer(outputs, "indicators")
    if frame is None:
        section.notes.append(_missing_note(_("Indicators")))
        return section
    name = "label" if "label" in frame else "indicator"
    method = frame["method"].map(text) if "method" in frame else pd.Series(DASH, index=frame.index)
    source = frame["source"].map(text) if "source" in frame else pd.Series(DASH, index=frame.index)
    detail = [f"{m} — {header('source')}: {s}" for m, s in zip(method, source, strict=True)]
    scopes = frame["scope"].dropna().astype(str).unique() if "scope" in frame else []
    columns: list[tuple[str, str, Any, bool]] = [
        ("indicator", name, text, False),
        ("value", "_value", text, True),
        ("unit", "unit", text, False),
        ("date", "date", lambda v: DASH if _missing(v) else format_date(v), False),
    ]
    if len(scopes) > 1:
        columns.insert(3, ("scope", "scope", lambda v: value_label(v), False))
    if "estimated" in frame:
        columns.append(("estimated", "_estimated", text, False))
    shown = frame.assign(
        _value=[
            _indicator_value(v, u)
            for v, u in zip(frame["value"], frame.get("unit", ""), strict=False)
        ],
        _estimated=[_("estimate") if e is True else "" for e in frame.get("estimated", False)],
        _detail=detail,
    )
    caption = _("Indicators of the district")
    if len(scopes) == 1:
        caption = f"{caption} ({scopes[0]})"
    result = table(shown, columns, caption=caption, limit=60, details="_detail")
    result.details_label = header("method")
    section.tables.append(result)
    return section


def _indicator_value(value: Any, unit: Any) -> str:
    if _missing(value):
        return DASH
    number = float(value)
    decimals = 1 if str(unit).strip() == "%" else (0 if abs(number) >= 100 else 2)
    return num(number, decimals)


def change_section(outputs: Outputs) -> Section | None:
    """The change between two survey waves, when ``consegna/confronto/`` holds a summary."""
    folder = outputs.folder / DELIVERABLES_DIR / "confronto"
    section = Section("change", _("Change between survey waves"))
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not files:
        section.notes.append(
            _("No comparison between survey waves yet (geodistrict compare writes it).")
        )
        return section
    preferred = [p for p in files if re.search(r"riepilogo|summary|sintesi|indicator", p.name)]
    path = (preferred or files)[0]
    try:
        frame = read_table_file(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        log.warning("cannot read the comparison %s: %s", path, exc)
        section.notes.append(
            _("The comparison file {name} could not be read.").format(name=path.name)
        )
        return section
    if frame.empty:
        section.notes.append(_("The comparison file {name} is empty.").format(name=path.name))
        return section
    columns = [(c, c, _cell, _looks_numeric(frame[c])) for c in frame.columns]
    section.tables.append(
        table(
            frame, columns, caption=_("Summary of the comparison ({name})").format(name=path.name)
        )
    )
    return section


_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


def _looks_numeric(values: pd.Series) -> bool:
    filled = values[values.astype(str).str.strip() != ""].astype(str)
    return bool(len(filled)) and bool(filled.str.match(_NUMBER).all())


def _cell(value: Any) -> str:
    """A comparison cell: numbers written with a point are formatted; dates too."""
    value = text(value)
    if _NUMBER.match(value):
        return num(float(value), 2 if "." in value else 0)
    if re.match(r"^\d{4}-\d{2}-\d{2}", value):
        try:
            return format_date(value)
        except ValueError:
            return value
    return value


# ------------------------------------------------------------------------------ methods


REFERENCES = (
    "Macdonald, J. L., Dolega, L. & Singleton, A. (2022). An open source delineation and "
    "hierarchical classification of UK retail agglomerations. Scientific Data 9, 541. "
    "doi:10.1038/s41597-022-01556-4",
    "Mekuria, M. C., Furth, P. G. & Nixon, H. (2012). Low-Stress Bicycling and Network "
    "Connectivity. Mineta Transportation Institute, Report 11-19.",
    "Furth, P. G., Mekuria, M. C. & Nixon, H. (2016). Network connectivity for low-stress "
    "bicycling. Transportation Research Record 2587, 41–49. doi:10.3141/2587-06",
    "PeopleForBikes. Bicycle Network Analysis (BNA): methodology. bna.peopleforbikes.org",
    "Hwang, C.-L. & Yoon, K. (1981). Multiple Attribute Decision Making: Methods and "
    "Applications. Springer, Berlin.",
    "Malczewski, J. & Rinner, C. (2015). Multicriteria Decision Analysis in Geographic "
    "Information Science. Springer, New York.",
    "Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. Journal of "
    "the Royal Statistical Society B 57(1), 289–300.",
    "Church, R. & ReVelle, C. (1974). The maximal covering location problem. Papers of the "
    "Regional Science Association 32, 101–118.",
    "Hundepool, A., Domingo-Ferrer, J., Franconi, L. et al. (2012). Statistical Disclosure "
    "Control. Wiley, Chichester.",
)


def methods_section(outputs: Outputs, config: Mapping[str, Any]) -> Section:
    """The methods, short, with their references."""
    section = Section("methods", _("Methods"))
    k = (config.get("production") or {}).get("min_group_size", 5)
    section.paragraphs += [
        _(
            "Retail centres: the CDRC method (Macdonald, Dolega and Singleton 2022). Retail "
            "units are grouped in H3 cells of about 0.2 ha; contiguous cells with at least "
            "two units form tracts, and a tract with at least 10 retail units is a centre, "
            "classified by its size."
        ),
        _(
            "Commercial density: kernel density (quartic kernel) of the commercial units, "
            "in units per hectare. Category mix: for each category, the observed units are "
            "compared with those expected from a reference mix by an exact binomial test, "
            "with q values controlling the false discovery rate (Benjamini and Hochberg "
            "1995); a category is missing only when none is observed and the shortfall is "
            "significant."
        ),
        _(
            "Reactivation priority of vacant units: multi-criteria analysis. Each criterion "
            "is normalised and weighted by the chosen profile; the score is a weighted sum "
            "(Malczewski and Rinner 2015) or the relative closeness to the ideal unit of "
            "TOPSIS (Hwang and Yoon 1981). Robustness is measured by ranking again with both "
            "methods and with weights varied at random. Priority classes on the map are "
            "thirds of the ranking."
        ),
        _(
            "Cycling: level of traffic stress (LTS 1–4) of every street and direction after "
            "Mekuria, Furth and Nixon (2012) and Furth et al. (2016), from speed, lanes and "
            "cycling infrastructure in OpenStreetMap. Low-stress connectivity follows the "
            "Bicycle Network Analysis of PeopleForBikes: a destination is connected when a "
            "low-stress route is at most 25 % longer than the shortest route. Missing links "
            "are chosen greedily by the connections they add per metre; info points solve a "
            "maximal covering location problem (Church and ReVelle 1974)."
        ),
        _(
            "Firms: statistical disclosure control (Hundepool et al. 2012). Counts of fewer "
            "than k = {k} firms are suppressed, with secondary suppression along the totals; "
            "sums follow the (n, p) dominance rule; positions are published only as H3 cells "
            "of at least k firms. Specialisation is the location quotient: the share of a "
            "sector in the area divided by its share in the reference."
        ).format(k=format_number(k)),
    ]
    section.references = list(REFERENCES)
    return section
