"""Disclosure control across layers: audit what is published together, and protect it.

Each production layer protects its own cells (:mod:`~geodistrict.production.privacy`),
but the layers are published together and cut the same firms in different
ways (municipalities, sectors, clusters, service areas, H3 cells), so a
cluster's total minus a municipality's cell, or a district percentage minus a
zone's, can isolate a few firms that no single layer shows.  This module looks
at everything at once, as an attacker with all the layers would.

The model
---------
Every published number is a sum over a set of respondents: a count of firms
(``variable = "firms"``: the firms of a municipality, or those of it citing
credit) or a sum of an answer (``employees``, ``hiring_needs``,
``expansion_m2``).  The auditor knows each set (which firms each row counts;
the functions that build the layers leave it in ``layer.attrs["membership"]``)
and so can write the linear system ``A x = b`` the attacker has: one equation
per published number, one unknown per *atom* (the firms that belong to
exactly the same published sets).  A set ``T`` of firms is *determined* when
its indicator lies in the row space of ``A``: its count (or sum) follows from
the published numbers by adding and subtracting them.  :func:`audit_disclosure`
reports, for each variable:

* ``small_cell``: a published number over 1 to ``k - 1`` firms;
* ``differencing`` / ``complement``: a published set minus a published subset
  (or the residual left by all its published subsets; ``complement`` when the
  larger set is every respondent) with 1 to ``k - 1`` firms;
* ``linear``: any other determined set of 1 to ``k - 1`` firms, found by
  searching the unions of up to four small atoms (meet in the middle on the
  null space of ``A``);
* ``recomputable``: a suppressed number whose set is determined, so that it
  can be recomputed exactly from what is shown;
* ``dominance``: a published or derived (differencing) sum whose ``n``
  largest contributions exceed ``p`` of it (:func:`~geodistrict.production.privacy.dominated`);
* ``filter``: a layer with one row per respondent whose attributes (sector,
  municipality, position...) can be combined in a query that returns 1 to
  ``k - 1`` rows;
* ``osm_differencing``: a layer that lists, by identity, the OSM firms that did
  not answer (the public OSM firms minus that list are the respondents), or
  counts of OSM firms that answered or did not of fewer than ``k`` in a place
  (directly or as a residual of areas within their zone).

:func:`protect_layers` runs the audit and, while it finds something a cell
can fix, hides one more published number (the smallest set among those the
attacker's equation uses) and audits again: secondary suppression across
layers.

Examples
--------
>>> import geodistrict as gd
>>> from geodistrict.pipeline.steps.production import production_layers
>>> from geodistrict.production import audit_disclosure
>>> from geodistrict.sources.surveys import FIRMS, read_survey
>>> cfg, base = gd.datasets.sample_config(), gd.datasets.sample_layers()
>>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
>>> layers = production_layers(base, firms, cfg.production, keep_membership=True)
>>> audit_disclosure(layers | {"pois": base.pois}, respondents=firms, k=5).empty
True
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict.errors import GeodistrictError
from geodistrict.production._audit_cells import _Cell, _cells, _Finding, _memberships
from geodistrict.production._audit_linear import _linear_findings
from geodistrict.production.privacy import (
    DOMINANCE,
    check_dominance,
    check_group_size,
)

__all__ = ["FINDING_COLUMNS", "audit_disclosure", "protect_layers"]

log = logging.getLogger(__name__)

#: Columns of the frame of findings.
FINDING_COLUMNS = ["kind", "variable", "firms", "layers", "cells", "detail"]

# --------------------------------------------------------------------------- other checks


def _filter_findings(name: str, layer: pd.DataFrame, k: int) -> list[_Finding]:
    """A layer with a row per respondent: combinations of attributes that select few rows."""
    if "status" not in layer.columns:
        return []
    rows = layer[layer["status"].astype("str") == "respondent"]
    if rows.empty:
        return []
    frame = pd.DataFrame(index=rows.index)
    skip = {"firm_ref", "status", "osm_id", "name", "firm_id", "geometry"}
    for col in rows.columns:
        if col in skip or col == rows.geometry.name:
            continue
        series = rows[col]
        if series.nunique(dropna=False) > 1:
            frame[col] = series.astype("str")
    if isinstance(rows, gpd.GeoDataFrame):
        frame["position"] = [g.wkb_hex if g is not None else "" for g in rows.geometry]
    findings = []
    for r in (1, 2, 3):
        for combo in itertools.combinations(frame.columns, r):
            sizes = frame.groupby(list(combo), dropna=False).size()
            few = sizes[(sizes > 0) & (sizes < k)]
            if len(few):
                example = few.index[0] if r > 1 else (few.index[0],)
                where = ", ".join(
                    f"{c}={v}" for c, v in zip(combo, example, strict=True) if c != "position"
                )
                findings.append(
                    _Finding(
                        "filter",
                        "firms",
                        int(few.min()),
                        [],
                        f"{name}: {len(few)} combination(s) of {', '.join(combo)} select "
                        f"1 to {k - 1} respondents (e.g. {where or 'one position'}: "
                        f"{int(few.iloc[0])})",
                    )
                )
                _cell = _Cell(name, f"{name} rows", "firms", np.zeros(0, bool), True)
                findings[-1].cells = [_cell]
        if findings:
            break
    return findings


def _osm_ids(pois: gpd.GeoDataFrame) -> set[str]:
    from geodistrict.production.firms import osm_firms

    if not {"osm_id", "osm_type"} <= set(pois.columns):
        return set()
    try:
        found = osm_firms(pois)
    except GeodistrictError:  # an unusual pois layer (e.g. unprojected): nothing to compare
        return set()
    return {f"{t}/{i}" for t, i in zip(found["osm_type"], found["osm_id"], strict=True)}


def _osm_findings(
    layers: Mapping[str, pd.DataFrame], k: int, cache: dict[Any, Any] | None = None
) -> list[_Finding]:
    findings = []
    public: set[str] = set()
    if "pois" in layers:
        pois = layers["pois"]
        seen = None if cache is None else cache.get("osm_ids")
        if seen is not None and seen[0] is pois:
            public = seen[1]
        else:
            public = _osm_ids(pois)
            if cache is not None:
                cache["osm_ids"] = (pois, public)
    for name, layer in layers.items():
        if name == "pois" or "status" not in layer.columns:
            continue
        listed = layer[layer["status"].astype("str") == "osm_only"]
        if listed.empty:
            continue
        ids = {str(r).removeprefix("osm/") for r in listed.get("firm_ref", [])}
        named = len(public - ids) if public else 0
        cell = _Cell(name, f"{name}[status=osm_only]", "firms", np.zeros(0, bool), True)
        findings.append(
            _Finding(
                "osm_differencing",
                "firms",
                named,
                [cell],
                f"{name} lists {len(listed)} OSM firms that did not answer by identity: the "
                f"OSM firms of the pois layer minus them name {named} firm(s) as respondents",
            )
        )
    needs = layers.get("production_needs")
    if needs is not None and {"osm_firms", "osm_not_answered"} <= set(needs.columns):
        findings += _osm_count_findings(needs, k)
    return findings


def _osm_count_findings(needs: pd.DataFrame, k: int) -> list[_Finding]:
    """Places where the OSM firms that answered, or those that did not, are 1..k-1 or all."""
    findings = []
    level = needs["level"].astype("str").to_numpy()
    names = needs["name"].astype("str").to_numpy()
    zones = needs["zone"].astype("str").to_numpy()
    total = pd.to_numeric(needs["osm_firms"], errors="coerce").to_numpy(dtype=float)
    missing = pd.to_numeric(needs["osm_not_answered"], errors="coerce").to_numpy(dtype=float)

    def bad(osm: float, not_answered: float) -> bool:
        answered = osm - not_answered
        return osm > 0 and (answered < k or not_answered < k)

    def cell(r: int) -> _Cell:
        label = f"production_needs[{names[r]}].osm_not_answered"
        return _Cell(
            "production_needs",
            label,
            "osm",
            np.zeros(0, bool),
            True,
            [(r, "osm_not_answered"), (r, "response_rate")],
        )

    for r in range(len(needs)):
        placed = level[r] in ("area", "zone", "district") and not np.isnan(missing[r])
        if placed and bad(total[r], missing[r]):
            findings.append(
                _Finding(
                    "osm_differencing",
                    "osm",
                    int(min(total[r] - missing[r], missing[r])),
                    [cell(r)],
                    f"{names[r]}: {int(total[r] - missing[r])} of its {int(total[r])} OSM "
                    f"firms answered and {int(missing[r])} did not",
                    [[cell(r)]],
                )
            )
    # Residuals: a zone minus its published areas, the district minus published zones.
    for r in range(len(needs)):
        if level[r] not in ("zone", "district") or np.isnan(missing[r]):
            continue
        child_level = "area" if level[r] == "zone" else "zone"
        kids = [
            i
            for i in range(len(needs))
            if level[i] == child_level and (level[r] == "district" or zones[i] == names[r])
        ]
        shown = [i for i in kids if not np.isnan(missing[i])]
        if not kids or len(shown) == len(kids) or not shown:
            continue
        rest_total = total[r] - total[shown].sum()
        rest_missing = missing[r] - missing[shown].sum()
        if bad(rest_total, rest_missing):
            used = [cell(r)] + [cell(i) for i in shown]
            findings.append(
                _Finding(
                    "osm_differencing",
                    "osm",
                    int(min(rest_total - rest_missing, rest_missing)),
                    used,
                    f"{names[r]} minus its published {child_level}s: "
                    f"{int(rest_total - rest_missing)} OSM firms answered, "
                    f"{int(rest_missing)} did not",
                    [[cell(i)] for i in sorted(shown, key=lambda i: total[i])],
                )
            )
    return findings


# --------------------------------------------------------------------------- public API


def _frame(findings: list[_Finding]) -> pd.DataFrame:
    rows = [
        {
            "kind": f.kind,
            "variable": f.variable,
            "firms": int(f.firms),
            "layers": ",".join(sorted({c.layer for c in f.cells})),
            "cells": "; ".join(c.label for c in f.cells[:8]),
            "detail": f.detail,
        }
        for f in findings
    ]
    out = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    for col in ("kind", "variable", "layers", "cells", "detail"):
        out[col] = out[col].astype("str")
    out["firms"] = out["firms"].astype("int64")
    return out


def _findings(
    layers: Mapping[str, pd.DataFrame],
    respondents: pd.DataFrame,
    k: int,
    dominance: tuple[int, float],
    *,
    memberships: Mapping[str, Mapping[str, Any]] | None = None,
    cache: dict[Any, Any] | None = None,
    stop: bool = False,
) -> list[_Finding]:
    """Every finding, in order; with ``stop``, those up to the first a cell can fix
    (all of them when there is none).  ``memberships`` and ``cache``: see :func:`_cells`."""
    from threadpoolctl import threadpool_limits  # with scikit-learn

    cells, values, answers = _cells(layers, respondents, memberships=memberships, cache=cache)
    # Small matrices: one BLAS thread is tens of times faster than several on a busy machine.
    with threadpool_limits(limits=1, user_api="blas"):
        findings = _linear_findings(cells, values, answers, k, dominance, stop=stop)
    if stop and any(f.fix for f in findings):
        return findings
    for name, layer in layers.items():
        if name != "pois":
            findings += _filter_findings(name, layer, k)
    findings += _osm_findings(layers, k, cache)
    return findings


def _bare(layers: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Shallow copies of the layers without ``attrs``.

    pandas deep-copies a frame's ``attrs`` into every column and row it hands
    out; the membership lists there (a label per respondent) made that most of
    the time of reading the layers.  The audit reads the memberships once
    (:func:`~geodistrict.production._audit_cells._memberships`) and the layers bare.
    """
    out = {}
    for name, layer in layers.items():
        bare = layer.copy(deep=False)  # the one deep copy of the attrs
        bare.attrs = {}
        out[name] = bare
    return out


def audit_disclosure(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    respondents: pd.DataFrame,
    k: int,
    dominance: Sequence[float] = DOMINANCE,
) -> pd.DataFrame:
    """Check that nothing published together isolates fewer than ``k`` firms.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Everything published together: the production layers as built by
        :mod:`geodistrict.production` (with their ``attrs["membership"]``:
        which firms each row counts; see
        :func:`~geodistrict.pipeline.steps.production.production_layers` with
        ``keep_membership=True``), and the public OSM ``pois`` layer.  Layers
        of other names are checked only for rows per respondent (filters).
    respondents : DataFrame
        The unpublished answers the layers were built from, in the same order
        (what the auditor knows and the attacker does not).
    k : int
        Smallest group that may be described (``production.min_group_size``).
    dominance : (int, float), default (2, 0.85)
        The (n, p) dominance rule for sums (see
        :func:`~geodistrict.production.privacy.dominated`).

    Returns
    -------
    DataFrame
        One row per finding: ``kind`` (``small_cell``, ``differencing``,
        ``complement``, ``linear``, ``recomputable``, ``dominance``,
        ``filter``, ``osm_differencing``), ``variable`` (``firms``,
        ``employees``, ``hiring_needs``, ``expansion_m2``, ``osm``),
        ``firms`` (size of the group isolated, or of the suppressed cell),
        ``layers``, ``cells`` (the published numbers the attacker combines) and
        ``detail``.  Empty when the outputs pass.

    Raises
    ------
    ParameterError
        If ``k`` or ``dominance`` is out of range, or a layer's membership
        does not match ``respondents``.

    Examples
    --------
    A cluster of 6 firms and a municipality x sector cell of 5 of them: the
    sixth firm's employees are the difference.

    >>> import numpy as np, pandas as pd, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from geodistrict.production import audit_disclosure
    >>> firms = pd.DataFrame({"employees": [10, 12, 9, 11, 10, 40, 7]})
    >>> spec = gpd.GeoDataFrame({"area": ["A"], "sector": ["C"], "firms": [5],
    ...     "employees": [52.0]}, geometry=[Point(0, 0)])
    >>> spec.attrs["membership"] = {"area": ["A"] * 5 + ["B", "B"], "sector": ["C"] * 6 + ["G"]}
    >>> clusters = gpd.GeoDataFrame({"cluster_id": ["K01"], "sector": ["C"],
    ...     "firms": [6], "employees": [92.0]}, geometry=[Point(0, 0)])
    >>> clusters.attrs["membership"] = {"cluster_id": ["K01"] * 6 + [None],
    ...                                 "sector": ["C"] * 6 + ["G"]}
    >>> found = audit_disclosure({"sector_specialisation": spec, "firm_clusters": clusters},
    ...                          respondents=firms, k=5)
    >>> sorted(set(found["kind"])), int(found["firms"].min())
    (['differencing'], 1)
    """
    check_group_size(k)
    rule = check_dominance(dominance)
    findings = _findings(_bare(layers), respondents, k, rule, memberships=_memberships(layers))
    out = _frame(findings)
    log.info("disclosure audit: %d finding(s) (k=%d, dominance=%s)", len(out), k, rule)
    return out


def _hide(layers: dict[str, gpd.GeoDataFrame], cell: _Cell) -> None:
    layer = layers[cell.layer]
    drop = sorted({r for r, c in cell.hide if c == "*"})
    attrs = layer.attrs
    layer = layer.copy()
    layer.attrs = attrs
    for r, c in cell.hide:
        if c == "*" or c not in layer.columns:
            continue
        if pd.api.types.is_bool_dtype(layer[c]):
            continue
        if pd.api.types.is_integer_dtype(layer[c]) and str(layer[c].dtype) != "Int64":
            layer[c] = layer[c].astype("Int64")
        col = layer.columns.get_loc(c)
        layer.iloc[r, col] = pd.NA if str(layer[c].dtype) == "Int64" else np.nan
    if drop:
        layer = layer.drop(index=layer.index[drop]).reset_index(drop=True)
        layer.attrs = attrs
    layers[cell.layer] = layer


def _cells_published(layers: Mapping[str, pd.DataFrame]) -> int:
    """Published numbers of the audited layers (non-null values of count and sum columns)."""
    total = 0
    for name, layer in layers.items():
        if name == "pois":
            continue
        for col in layer.columns:
            if col == "geometry" or not pd.api.types.is_numeric_dtype(layer[col]):
                continue
            if pd.api.types.is_bool_dtype(layer[col]):
                continue
            total += int(layer[col].notna().sum())
    return total


def protect_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    respondents: pd.DataFrame,
    k: int,
    dominance: Sequence[float] = DOMINANCE,
    max_rounds: int = 500,
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, object]]:
    """Hide published numbers until :func:`audit_disclosure` finds nothing a cell can fix.

    The rule (secondary suppression across layers): take the first finding;
    among the published numbers the attacker combines, hide the one that
    counts the fewest firms (for a number that is itself too small or
    dominated, that number); audit again.  A row of ``sector_specialisation``,
    ``firm_clusters`` or ``firms`` is dropped when its count is hidden; in
    ``production_needs`` and ``service_sites`` the value (and what reveals it:
    the response rate, the space balance) becomes null.  Findings no cell can
    fix (a layer with rows per respondent, OSM firms listed by identity) are
    left for the caller.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        As for :func:`audit_disclosure`; they are not modified.
    respondents : DataFrame
        The unpublished answers.
    k : int
        ``production.min_group_size``.
    dominance : (int, float), default (2, 0.85)
        The (n, p) dominance rule.
    max_rounds : int, default 500
        Bound on the rounds (each hides at least one number).

    Returns
    -------
    (dict of str to GeoDataFrame, dict)
        The protected layers (new objects, ``attrs`` kept) and a report:
        ``findings_before`` and ``findings_after`` (frames of
        :func:`audit_disclosure`), ``hidden`` (labels of the numbers hidden),
        ``cells_before`` and ``cells_after`` (published numbers).
    """
    check_group_size(k)
    rule = check_dominance(dominance)
    # Bare layers (see _bare), the memberships apart, and what does not change between
    # rounds kept (the cells of the layers not touched, the answers, the OSM firms).
    out = _bare(layers)
    options: dict[str, Any] = {"memberships": _memberships(layers), "cache": {}}
    before = _findings(out, respondents, k, rule, **options)
    cells_before = _cells_published(out)
    hidden: list[str] = []
    findings = before
    changed: set[str] = set()
    for _ in range(max_rounds):
        fixable = [f for f in findings if f.fix]
        if not fixable:
            break
        for target in fixable[0].fix[0]:
            hidden.append(target.label)
            _hide(out, target)
            changed.add(target.layer)
        # A round needs only the first finding a cell can fix (the audit stops there).
        findings = _findings(out, respondents, k, rule, stop=True, **options)
    else:
        if any(f.fix for f in findings):  # out of rounds: every finding left, for the report
            findings = _findings(out, respondents, k, rule, **options)
    cells_after = _cells_published(out)
    for name in changed:
        out[name].attrs = layers[name].attrs
    out = {name: out[name] if name in changed else layer for name, layer in layers.items()}
    report: dict[str, object] = {
        "findings_before": _frame(before),
        "findings_after": _frame(findings),
        "hidden": hidden,
        "cells_before": cells_before,
        "cells_after": cells_after,
    }
    log.info(
        "disclosure: %d finding(s) before, %d after; %d number(s) hidden across layers",
        len(before),
        len(findings),
        len(hidden),
    )
    return out, report
