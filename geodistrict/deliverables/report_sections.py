"""The thematic sections of the district report: commerce, vacant units, cycling, firms.

Each ``*_section`` function takes the :class:`~geodistrict.deliverables.Outputs`
of a run and the drawn maps and returns a
:class:`~geodistrict.deliverables.report_format.Section` in the current
language, with a one-line note in place of any part whose layer is missing or
empty.

Examples
--------
>>> from geodistrict.deliverables.report_sections import TOP_UNITS
>>> TOP_UNITS
10
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from geodistrict.deliverables import Outputs
from geodistrict.deliverables.maps import MapImage, priority_classes
from geodistrict.deliverables.report_format import (
    DASH,
    HEADERS,
    TOP_UNITS,
    VALUES,
    Formatter,
    Section,
    _catalogued,
    _language_column,
    _layer,
    _missing,
    _missing_note,
    header,
    num,
    pct,
    table,
    text,
    value_label,
    yes_no,
)
from geodistrict.i18n import _, format_number, get_language, ngettext

__all__ = [
    "TOP_UNITS",
    "commerce_section",
    "cycling_section",
    "production_section",
    "vacancy_section",
]

log = logging.getLogger(__name__)


def commerce_section(outputs: Outputs, drawn: Mapping[str, MapImage | None]) -> Section:
    """Retail centres, density, walking time, the category mix and missing categories."""
    section = Section("commerce", _("Commerce: retail centres and categories"))
    section.maps += [m for m in (drawn.get("centres"), drawn.get("isochrones")) if m is not None]
    centres = _layer(outputs, "retail_centres")
    if centres is None:
        section.notes.append(_missing_note(_("Retail centres")))
    else:
        tier = _language_column(centres, "tier")
        frame = centres.sort_values("rank") if "rank" in centres else centres
        if tier is None or tier == "tier":
            frame = frame.assign(_tier=[value_label(t) for t in frame.get("tier", "")])
            tier = "_tier"
        frame = frame.assign(_dominant=[value_label(c) for c in frame.get("dominant_1", "")])
        labels = _category_labels(outputs)
        frame["_dominant"] = [
            labels.get(str(c), v)
            for c, v in zip(frame.get("dominant_1", ""), frame["_dominant"], strict=False)
        ]
        section.tables.append(
            table(
                frame,
                [
                    ("rank", "rank", num, True),
                    ("name", "name", text, False),
                    ("tier", tier, text, False),
                    ("n_units", "n_units", num, True),
                    ("n_vacant", "n_vacant", num, True),
                    ("vacancy_rate", "vacancy_rate", pct, True),
                    ("area_ha", "area_ha", lambda v: num(v, 1), True),
                    ("dominant_1", "_dominant", text, False),
                ],
                caption=_("Retail centres"),
            )
        )
    gaps = _layer(outputs, "category_gaps")
    if gaps is None:
        section.notes.append(_missing_note(_("Category mix")))
        return section
    name_col = _language_column(gaps, "label") or "category"
    status = gaps["status"].astype(str) if "status" in gaps else pd.Series("", index=gaps.index)
    scope = gaps["scope"].astype(str) if "scope" in gaps else pd.Series("", index=gaps.index)
    short = gaps[status.isin(["missing", "under-represented"])]
    centre_names = {}
    if centres is not None and {"centre_id", "name"} <= set(centres.columns):
        centre_names = dict(
            zip(centres["centre_id"].astype(str), centres["name"].astype(str), strict=False)
        )

    def where(row: pd.Series) -> str:
        if str(row.get("scope")) == "centre":
            cid = str(row.get("centre_id"))
            return _("Centre {name}").format(name=centre_names.get(cid, cid))
        return _("Whole district")

    if len(short):
        frame = short.assign(_where=[where(r) for _i, r in short.iterrows()])
        section.tables.append(
            table(
                frame.assign(_status=[value_label(s, "status") for s in frame["status"]]),
                [
                    ("scope", "_where", text, False),
                    ("category", name_col, text, False),
                    ("observed", "observed", num, True),
                    ("expected", "expected", lambda v: num(v, 1), True),
                    ("q_value", "q_value", lambda v: num(v, 3), True),
                    ("status", "_status", text, False),
                ],
                caption=_("Missing or under-represented categories"),
            )
        )
    else:
        section.paragraphs.append(
            _(
                "No category is missing or under-represented beyond chance, in the district "
                "or in any retail centre, against the reference mix."
            )
        )
    district = gaps[scope == "district"]
    if len(district):
        section.tables.append(
            table(
                district.assign(_status=[value_label(s, "status") for s in district["status"]]),
                [
                    ("category", name_col, text, False),
                    ("observed", "observed", num, True),
                    ("expected", "expected", lambda v: num(v, 1), True),
                    ("location_quotient", "location_quotient", lambda v: num(v, 2), True),
                    ("q_value", "q_value", lambda v: num(v, 3), True),
                    ("status", "_status", text, False),
                ],
                caption=_("Category mix of the whole district against the reference"),
            )
        )
    walking = gaps[scope.str.startswith("walking")]
    if len(walking):
        section.tables.append(
            table(
                walking.assign(_status=[value_label(s, "status") for s in walking["status"]]),
                [
                    ("need", name_col, text, False),
                    ("share_within", "share_within", pct, True),
                    ("median_walk_m", "median_walk_m", lambda v: num(v, 0), True),
                    ("status", "_status", text, False),
                ],
                caption=_("Everyday needs within a 10-minute walk of homes"),
            )
        )
    return section


def _category_labels(outputs: Outputs) -> dict[str, str]:
    """Category key -> its name in the current language, from the units' own columns."""
    units = _layer(outputs, "commercial_units")
    column = _language_column(units, "category") if units is not None else None
    if units is None or column is None or column == "category":
        return {}
    pairs = units[["category", column]].dropna().drop_duplicates("category")
    return dict(zip(pairs["category"].astype(str), pairs[column].astype(str), strict=False))


def vacancy_section(outputs: Outputs, drawn: Mapping[str, MapImage | None]) -> Section:
    """Vacant units: the map by priority and the first units with their explanations."""
    section = Section("vacancy", _("Vacant units and reactivation priority"))
    units = _layer(outputs, "vacant_units")
    if units is None:
        section.notes.append(_missing_note(_("Vacant units")))
        return section
    if drawn.get("vacancy") is not None:
        section.maps.append(drawn["vacancy"])  # type: ignore[arg-type]
    frame = units.sort_values("rank") if "rank" in units else units
    explanation = "explanation_it" if get_language() == "it" else "explanation"
    uses = _language_column(frame, "recommended_uses")
    classes = priority_classes(frame["rank"]) if "rank" in frame else None
    n = len(frame)
    counts = classes.value_counts() if classes is not None else pd.Series(dtype=int)
    section.paragraphs.append(
        ngettext(
            "{n} vacant unit ranked: {high} of high, {medium} of medium and {low} of low "
            "priority.",
            "{n} vacant units ranked: {high} of high, {medium} of medium and {low} of low "
            "priority.",
            n,
        ).format(
            n=format_number(n),
            high=format_number(int(counts.get("high", 0))),
            medium=format_number(int(counts.get("medium", 0))),
            low=format_number(int(counts.get("low", 0))),
        )
    )
    preset = str(frame["preset"].iloc[0]) if "preset" in frame and len(frame) else ""
    method = _method_of(frame)
    if preset:
        section.paragraphs.append(
            _("Weighting profile: {preset}; method: {method}.").format(
                preset=preset, method=method
            )
        )
    columns: list[tuple[str, str, Formatter, bool]] = [
        ("rank", "rank", num, True),
        ("unit_id", "unit_id", text, False),
        ("address", "address", text, False),
        ("floor_area_m2", "floor_area_m2", lambda v: num(v, 0), True),
        ("score", "score", lambda v: num(v, 2), True),
        ("stable", "stable", yes_no, False),
    ]
    if uses and frame[uses].fillna("").astype(str).str.strip().ne("").any():
        columns.append(("recommended_uses", uses, text, False))
    result = table(
        frame,
        columns,
        caption=_("The first {n} vacant units").format(n=format_number(min(TOP_UNITS, n))),
        note=_(
            "Robust rank: the unit stays among the first k whatever the method and "
            "with weights varied at random."
        ),
        limit=TOP_UNITS,
        details=explanation if explanation in frame else None,
    )
    result.details_label = (
        header(explanation) if _catalogued("column", explanation) else _(HEADERS["explanation"])
    )
    section.tables.append(result)
    return section


def _method_of(frame: pd.DataFrame) -> str:
    if {"score", "score_topsis"} <= set(frame.columns):
        score = pd.to_numeric(frame["score"], errors="coerce")
        if (score - pd.to_numeric(frame["score_topsis"], errors="coerce")).abs().max() < 1e-12:
            return "TOPSIS"
    return _("weighted sum")


def cycling_section(outputs: Outputs, drawn: Mapping[str, MapImage | None]) -> Section:
    """Traffic stress, missing links, the circuit and its info points."""
    section = Section("cycling", _("Cycling: low-stress network, missing links, circuit"))
    if not outputs.has("bike_network"):
        section.notes.append(_missing_note(_("Cycling network")))
        return section
    section.maps += [m for m in (drawn.get("cycling"), drawn.get("circuit")) if m is not None]
    gaps = _layer(outputs, "bike_gaps")
    if gaps is None:
        section.notes.append(_missing_note(_("Missing links")))
    else:
        frame = gaps.assign(
            _kind=[value_label(k) for k in gaps.get("kind", "")],
            _name=[text(n) if not _missing(n) else DASH for n in gaps.get("name", "")],
        )
        section.tables.append(
            table(
                frame.sort_values("rank") if "rank" in frame else frame,
                [
                    ("rank", "rank", num, True),
                    ("kind", "_kind", text, False),
                    ("name", "_name", text, False),
                    ("cost_m", "cost_m", lambda v: num(v, 0), True),
                    ("benefit", "benefit", lambda v: num(v, 0), True),
                    ("low_stress_share", "low_stress_share", pct, True),
                ],
                caption=_("Missing links, in order of benefit per metre"),
                note=_(
                    "Connections gained: origin–destination pairs that become reachable on "
                    "low-stress routes; low-stress share: of all pairs, after the link and "
                    "those before it."
                ),
            )
        )
    circuits = _layer(outputs, "bike_circuits")
    if circuits is None:
        section.notes.append(_missing_note(_("Cycling circuit")))
    else:
        frame = circuits.assign(
            _from=[_place(s) for s in circuits.get("from_stop", "")],
            _to=[_place(s) for s in circuits.get("to_stop", "")],
        )
        total = circuits["circuit_length_m"].iloc[0] if "circuit_length_m" in circuits else None
        if total is not None:
            section.paragraphs.append(
                _("The circuit is {km} km long.").format(km=num(float(total) / 1000, 1))
            )
        section.tables.append(
            table(
                frame,
                [
                    ("leg", "leg", num, True),
                    ("from_stop", "_from", text, False),
                    ("to_stop", "_to", text, False),
                    ("length_m", "length_m", lambda v: num(v, 0), True),
                    ("low_stress_share", "low_stress_share", pct, True),
                ],
                caption=_("Legs of the circuit"),
            )
        )
    points = _layer(outputs, "info_points")
    if points is not None:
        section.tables.append(
            table(
                points,
                [
                    ("point_id", "point_id", num, True),
                    ("near", "near", _place, False),
                    ("covered_share", "covered_share", pct, True),
                    ("on_circuit", "on_circuit", yes_no, False),
                ],
                caption=_("Info points"),
                note=_(
                    "Cumulative coverage: share of the demand within reach of this point and "
                    "the ones before it."
                ),
            )
        )
    return section


def _place(name: Any) -> str:
    """A key place's name; an unnamed place, named by its kind ("Townhall"), in words."""
    name = text(name)
    kind = name.lower().replace(" ", "")
    if kind in VALUES["category"]:
        return value_label(kind).capitalize()
    return name


def production_section(
    outputs: Outputs, drawn: Mapping[str, MapImage | None], config: Mapping[str, Any]
) -> Section:
    """Firms as published (aggregated), sector specialisation and clusters."""
    section = Section("production", _("Firms and sector specialisation"))
    if not any(outputs.has(n) for n in ("firms", "sector_specialisation", "firm_clusters")):
        section.notes.append(_missing_note(_("Firm questionnaire")))
        return section
    k = (config.get("production") or {}).get("min_group_size", 5)
    section.paragraphs.append(
        _(
            "Questionnaire answers are confidential: counts below {k} firms are not "
            "published (with secondary suppression) and firms appear on the map only as "
            "cells holding at least {k} of them."
        ).format(k=format_number(k))
    )
    if drawn.get("firms") is not None:
        section.maps.append(drawn["firms"])  # type: ignore[arg-type]
    sectors = _layer(outputs, "sector_specialisation")
    if sectors is not None:
        sector = _language_column(sectors, "sector") or "sector"
        frame = sectors.assign(
            _zone=[value_label(z) for z in sectors.get("zone", "")],
            _spec=[yes_no(v) for v in sectors.get("specialised", "")],
        )
        section.tables.append(
            table(
                frame.sort_values("lq", ascending=False) if "lq" in frame else frame,
                [
                    ("area", "area", text, False),
                    ("zone", "_zone", text, False),
                    ("sector", sector, text, False),
                    ("firms", "firms", num, True),
                    ("employees", "employees", lambda v: num(v, 0), True),
                    ("area_share", "area_share", pct, True),
                    ("reference_share", "reference_share", pct, True),
                    ("lq", "lq", lambda v: num(v, 2), True),
                    ("specialised", "_spec", text, False),
                ],
                caption=_("Sector specialisation (location quotients)"),
                note=_("— : not available or suppressed to protect confidentiality."),
            )
        )
    else:
        section.notes.append(_missing_note(_("Sector specialisation")))
    clusters = _layer(outputs, "firm_clusters")
    if clusters is not None:
        sector = _language_column(clusters, "sector") or "sector"
        section.tables.append(
            table(
                clusters.assign(_zone=[value_label(z) for z in clusters.get("zone", "")]),
                [
                    ("cluster_id", "cluster_id", text, False),
                    ("sector", sector, text, False),
                    ("firms", "firms", num, True),
                    ("employees", "employees", lambda v: num(v, 0), True),
                    ("area_ha", "area_ha", lambda v: num(v, 1), True),
                    ("municipalities", "municipalities", text, False),
                    ("zone", "_zone", text, False),
                ],
                caption=_("Clusters of firms of the same sector"),
                note=_("— : not available or suppressed to protect confidentiality."),
            )
        )
    return section
