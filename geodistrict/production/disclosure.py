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
from geodistrict.production._audit_cells import _Cell, _cells, _Finding
from geodistrict.production.privacy import (
    DOMINANCE,
    check_dominance,
    check_group_size,
    dominated,
)

__all__ = ["FINDING_COLUMNS", "audit_disclosure", "protect_layers"]

log = logging.getLogger(__name__)

#: Columns of the frame of findings.
FINDING_COLUMNS = ["kind", "variable", "firms", "layers", "cells", "detail"]
_TOL = 1e-7


# --------------------------------------------------------------------------- linear system


class _System:
    """The published equations of one variable and one family of answers.

    The unknowns are the *atoms*: the firms sharing the same groups (areas,
    sectors, clusters, sites, cells: the attacker is assumed to know which
    combinations of groups hold firms, e.g. from the maps) and the same
    values of the answers of ``family`` (all 2^f combinations, empty or not:
    the attacker does not know which answers were given).
    """

    def __init__(
        self,
        cells: list[_Cell],
        group_of: np.ndarray,
        n_groups: int,
        family: tuple[str, ...],
        answers: Mapping[str, np.ndarray],
    ):
        self.cells = cells
        self.family = family
        f = len(family)
        self.n_atoms = n_groups << f
        bits = np.zeros(len(group_of), dtype=np.int64)
        for j, name in enumerate(family):
            bits |= answers[name].astype(np.int64) << j
        self.atom_of = (group_of.astype(np.int64) << f) | bits
        self.group_of = group_of
        self.size = np.bincount(self.atom_of, minlength=self.n_atoms)
        self.published = [c for c in cells if c.published]
        self.matrix = np.array([self.vector(c) for c in self.published], dtype=float)
        if len(self.published):
            rows = np.unique(self.matrix, axis=0)  # duplicates add nothing to the row space
            _, s, vt = np.linalg.svd(rows, full_matrices=True)
            rank = int((s > _TOL * max(1.0, s[0])).sum())
            self.null = vt[rank:].T  # atoms x d
            u, s, vt = np.linalg.svd(self.matrix, full_matrices=False)
            # Least-norm weights c with matrix.T @ c = v, for v in the row space.
            self.solve = (u[:, :rank] / s[:rank]) @ vt[:rank]
        else:
            self.null = np.eye(self.n_atoms)
            self.solve = np.zeros((0, self.n_atoms))

    def vector(self, cell: _Cell) -> np.ndarray:
        """Indicator over atoms of a cell: its groups, with its answers given."""
        f = len(self.family)
        groups = self.groups_of(cell)
        need = 0
        for j, name in enumerate(self.family):
            if name in cell.predicates:
                need |= 1 << j
        assignments = np.array([a for a in range(1 << f) if a & need == need], dtype=np.int64)
        vec = np.zeros(self.n_atoms)
        vec[(groups[:, None] << f | assignments[None, :]).ravel()] = 1.0
        return vec

    def groups_of(self, cell: _Cell) -> np.ndarray:
        """The group atoms of a cell (cached on the cell: the same in every family)."""
        cached = getattr(cell, "_groups", None)
        if cached is None:
            cached = np.unique(self.group_of[cell.group])
            cell._groups = cached  # type: ignore[attr-defined]
        return cached

    def atoms(self, members: np.ndarray) -> np.ndarray:
        """Indicator over atoms of a set of firms (the atoms holding them)."""
        vec = np.zeros(self.n_atoms)
        vec[np.unique(self.atom_of[members])] = 1.0
        return vec

    def firms(self, vec: np.ndarray) -> np.ndarray:
        return vec[self.atom_of] > 0.5

    def determined(self, vec: np.ndarray) -> bool:
        if self.null.shape[1] == 0:
            return True
        return bool(np.linalg.norm(self.null.T @ vec) <= 1e-6 * max(1.0, np.linalg.norm(vec)))

    def fix(self, vec: np.ndarray) -> list[list[_Cell]]:
        """Classes of published cells (same set of atoms) whose hiding would leave ``vec``
        undetermined, best first; else every class the attacker's equation uses."""
        used = self.used(vec)
        if not used:
            return []
        keys = {self.vector(c).tobytes() for c in used}
        classes: dict[bytes, list[_Cell]] = {}
        for cell in self.published:
            key = self.vector(cell).tobytes()
            if key in keys:
                classes.setdefault(key, []).append(cell)
        necessary = []
        for key, carriers in classes.items():
            rows = [
                r for r, c in zip(self.matrix, self.published, strict=True) if r.tobytes() != key
            ]
            if not rows or not _in_row_space(np.unique(np.array(rows), axis=0), vec):
                necessary.append(carriers)
        order = necessary or list(classes.values())
        return sorted(order, key=lambda cs: max(_rank(c) for c in cs))

    def used(self, vec: np.ndarray) -> list[_Cell]:
        """The published cells the attacker's equation for ``vec`` combines."""
        if not len(self.published):
            return []
        coef = self.solve @ vec
        return [c for c, w in zip(self.published, coef, strict=True) if abs(w) > 1e-6]


def _in_row_space(rows: np.ndarray, vec: np.ndarray) -> bool:
    _, s, vt = np.linalg.svd(rows, full_matrices=True)
    rank = int((s > _TOL * max(1.0, s[0])).sum())
    null = vt[rank:]
    return bool(np.linalg.norm(null @ vec) <= 1e-6 * max(1.0, np.linalg.norm(vec)))


#: What a layer's numbers are worth to the district, lowest hidden first: the
#: service sites' counts and the clusters' sizes before the needs by area, and the
#: location quotients (rows and shares of sector_specialisation) last.
_WORTH = {"service_sites": 0, "firm_clusters": 1, "firms": 1, "production_needs": 2}


def _rank(cell: _Cell) -> tuple[int, bool, int, str]:
    """Order in which cells are hidden (see :func:`_smallest`)."""
    return (_WORTH.get(cell.layer, 3), "(" in cell.label, cell.size, cell.label)


def _smallest(cells: Sequence[_Cell]) -> list[_Cell]:
    """Cells in the order they are hidden: by what their layer is worth (``_WORTH``),
    numbers read off shares after those shown as such, then the smallest set first."""
    return sorted(cells, key=_rank)


def _small_sets(system: _System, k: int) -> list[np.ndarray]:
    """Determined unions of up to four non-empty atoms with fewer than ``k`` firms in all."""
    small = np.flatnonzero((system.size > 0) & (system.size < k))
    if small.size == 0:
        return []
    rows = system.null[small]  # null-space coordinates of each small atom
    found: list[np.ndarray] = []
    if rows.shape[1]:
        alone = np.linalg.norm(rows, axis=1) <= 1e-6
    else:
        alone = np.ones(len(small), dtype=bool)
    for a in small[alone]:
        vec = np.zeros(system.n_atoms)
        vec[a] = 1.0
        found.append(vec)
    # Unions of atoms that are not determined alone: their null rows must cancel out.
    rest = np.flatnonzero(~alone)
    if rest.size < 2:
        return found
    rng = np.random.default_rng(0)
    key = rows[rest] @ rng.normal(size=(rows.shape[1], 2))
    atom = small[rest]
    sz = system.size[atom]
    # Entries: single atoms and pairs of fewer than k firms, with their summed key.
    ii, jj = np.triu_indices(rest.size, 1)
    keep = sz[ii] + sz[jj] < k
    ii, jj = ii[keep], jj[keep]
    first = np.concatenate([np.arange(rest.size), ii])
    second = np.concatenate([np.full(rest.size, -1), jj])
    kx = key[first, 0] + np.where(second >= 0, key[np.maximum(second, 0), 0], 0.0)
    ky = key[first, 1] + np.where(second >= 0, key[np.maximum(second, 0), 1], 0.0)
    size = sz[first] + np.where(second >= 0, sz[np.maximum(second, 0)], 0)
    order = np.argsort(kx, kind="stable")
    kx, ky, size, first, second = kx[order], ky[order], size[order], first[order], second[order]
    lo = np.searchsorted(kx, -kx - 1e-6, side="left")
    hi = np.searchsorted(kx, -kx + 1e-6, side="right")
    seen: set[tuple[int, ...]] = set()

    def parts(e: int) -> set[int]:
        return {int(atom[first[e]])} | ({int(atom[second[e]])} if second[e] >= 0 else set())

    for e in map(int, np.flatnonzero((hi > lo) | ((np.abs(kx) <= 1e-6) & (np.abs(ky) <= 1e-6)))):
        mine = parts(e)
        unions = []
        if abs(kx[e]) <= 1e-6 and abs(ky[e]) <= 1e-6 and len(mine) == 2:
            unions.append(tuple(sorted(mine)))
        for t in range(lo[e], hi[e]):
            if abs(ky[t] + ky[e]) <= 1e-6 and size[t] + size[e] < k:
                other = parts(t)
                if not mine & other:
                    unions.append(tuple(sorted(mine | other)))
        for union in unions:
            if union in seen:
                continue
            seen.add(union)
            vec = np.zeros(system.n_atoms)
            vec[list(union)] = 1.0
            if system.determined(vec):
                found.append(vec)
    return found


def _sensitive(cell: _Cell, y: np.ndarray, k: int, dominance: tuple[int, float]) -> bool:
    """Whether a cell must stay hidden for its own sake."""
    if 0 < cell.size < k:
        return True
    if cell.variable != "firms" and dominated(y[cell.members], dominance):
        return True
    if cell.parent is not None:
        rest = int((cell.parent & ~cell.members).sum())
        return 0 < rest < k
    return False


def _families(cells: list[_Cell]) -> list[tuple[str, ...]]:
    """The combinations of answers the published numbers are restricted to."""
    return sorted({c.predicates for c in cells}, key=lambda f: (len(f), f))


def _linear_findings(
    cells: list[_Cell],
    values: dict[str, np.ndarray],
    answers: Mapping[str, np.ndarray],
    k: int,
    dominance: tuple[int, float],
) -> list[_Finding]:
    findings: list[_Finding] = []
    everyone = len(values["firms"])
    if not cells:
        return findings
    # Group atoms: firms in exactly the same groups of every layer.
    groups = np.unique(np.array([c.group for c in cells], dtype=bool), axis=0)
    _, group_of = np.unique(groups.T, axis=0, return_inverse=True)
    group_of = group_of.ravel()
    n_groups = int(group_of.max()) + 1
    reported: set[tuple[str, bytes]] = set()
    for variable in sorted({c.variable for c in cells}):
        own = [c for c in cells if c.variable == variable]
        y = values[variable]
        is_sum = variable != "firms"

        def report(
            kind: str,
            members: np.ndarray,
            used: list[_Cell],
            detail: str,
            fix: Any = None,
            y: np.ndarray = y,
            variable: str = variable,
            is_sum: bool = is_sum,
        ) -> None:
            n = int(members.sum())
            key = (variable, members.tobytes())
            if key in reported or n == 0:
                return
            small = n < k
            heavy = is_sum and not small and dominated(y[members], dominance)
            if kind != "recomputable" and not small and not heavy:
                return
            if heavy and kind != "recomputable":
                kind = "dominance"
            reported.add(key)
            ways = fix() if callable(fix) else [[c] for c in _smallest(used)]
            # Name the numbers whose hiding would undo it, when the system tells them.
            shown = [c for way in ways for c in way] or used
            findings.append(_Finding(kind, variable, n, shown, detail, ways))

        # Published numbers over small groups, and dominated sums.
        for cell in own:
            if cell.published:
                report("small_cell", cell.members, [cell], f"{cell.label} counts {cell.size}")
        for family in _families(own):
            members_of = [c for c in own if set(c.predicates) <= set(family)]
            system = _System(members_of, group_of, n_groups, family, answers)
            # Suppressed numbers the published ones determine, when they were hidden
            # for their own sake (a small group, a small rest of their group, a
            # dominated sum); a number hidden only to protect another may be
            # recomputable, as long as that other is not.
            for cell in members_of:
                if not cell.published and cell.size and _sensitive(cell, y, k, dominance):
                    vec = system.vector(cell)
                    if system.determined(vec):
                        used = system.used(vec)
                        # What it gives away: itself, or the small rest of its group.
                        exposed = cell.members
                        if cell.parent is not None and not 0 < cell.size < k:
                            rest = cell.parent & ~cell.members
                            exposed = rest if 0 < rest.sum() < k else exposed
                        report(
                            "recomputable",
                            exposed,
                            used,
                            f"suppressed {cell.label} = combination of {len(used)} published "
                            "numbers",
                            lambda system=system, vec=vec: system.fix(vec),
                        )
            _differences(system, everyone, report)
            # Any other determined small set.
            for vec in _small_sets(system, k):
                used = system.used(vec)
                report(
                    "linear",
                    system.firms(vec),
                    used,
                    "a combination of " + ", ".join(c.label for c in used[:6]),
                    lambda system=system, vec=vec: system.fix(vec),
                )
    return findings


def _differences(system: _System, everyone: int, report: Any) -> None:
    """A published set minus published subsets of it (one cell per distinct set)."""
    distinct: dict[bytes, tuple[_Cell, np.ndarray]] = {}
    for cell in system.published:
        vec = system.vector(cell)
        distinct.setdefault(vec.tobytes(), (cell, vec))
    pub = list(distinct.values())
    if not pub:
        return
    m = np.array([v for _, v in pub])
    sizes = m.sum(axis=1)
    # inside[i, j]: set j is a proper subset of set i (over atoms, empty ones too).
    inside = ((1.0 - m) @ m.T) == 0  # [i, j]: atoms of j outside i
    inside &= sizes[None, :] < sizes[:, None]
    for i, (big, vbig) in enumerate(pub):
        inner = np.flatnonzero(inside[i])
        if inner.size == 0:
            continue
        kind = "complement" if big.size == everyone and not big.predicates else "differencing"
        for j in inner:
            sub, vsub = pub[j]
            rest = system.firms(vbig - vsub)
            diff = vbig - vsub
            report(
                kind,
                rest,
                [big, sub],
                f"{big.label} - {sub.label}",
                lambda diff=diff: system.fix(diff),
            )
        # The residual left by the largest subsets, when they do not overlap.
        maximal = [j for j in inner if not inside[inner, j].any()]
        if len(maximal) > 1:
            cover = m[maximal].sum(axis=0)
            if cover.max() <= 1:
                parts = [pub[j][0] for j in maximal]
                rest = system.firms(vbig - cover)
                labels = " - ".join(c.label for c in parts[:4])
                more = f" (and {len(parts) - 4} more)" if len(parts) > 4 else ""
                diff = vbig - cover
                report(
                    kind,
                    rest,
                    [big, *parts],
                    f"{big.label} - {labels}{more}",
                    lambda diff=diff: system.fix(diff),
                )


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


def _osm_findings(layers: Mapping[str, pd.DataFrame], k: int) -> list[_Finding]:
    findings = []
    public = _osm_ids(layers["pois"]) if "pois" in layers else set()
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
) -> list[_Finding]:
    from threadpoolctl import threadpool_limits  # with scikit-learn

    cells, values, answers = _cells(layers, respondents)
    # Small matrices: one BLAS thread is tens of times faster than several on a busy machine.
    with threadpool_limits(limits=1, user_api="blas"):
        findings = _linear_findings(cells, values, answers, k, dominance)
    for name, layer in layers.items():
        if name != "pois":
            findings += _filter_findings(name, layer, k)
    findings += _osm_findings(layers, k)
    return findings


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
    findings = _findings(layers, respondents, k, rule)
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
    out = dict(layers)
    before = _findings(out, respondents, k, rule)
    cells_before = _cells_published(out)
    hidden: list[str] = []
    findings = before
    for _ in range(max_rounds):
        fixable = [f for f in findings if f.fix]
        if not fixable:
            break
        for target in fixable[0].fix[0]:
            hidden.append(target.label)
            _hide(out, target)
        findings = _findings(out, respondents, k, rule)
    report: dict[str, object] = {
        "findings_before": _frame(before),
        "findings_after": _frame(findings),
        "hidden": hidden,
        "cells_before": cells_before,
        "cells_after": _cells_published(out),
    }
    log.info(
        "disclosure: %d finding(s) before, %d after; %d number(s) hidden across layers",
        len(before),
        len(findings),
        len(hidden),
    )
    return out, report
