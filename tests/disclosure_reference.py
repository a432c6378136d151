"""The disclosure audit as it was before it was made fast: the reference the tests compare to.

A frozen copy of ``geodistrict/production/_audit_cells.py`` and
``geodistrict/production/disclosure.py`` (their private helpers and
:func:`audit_disclosure` / :func:`protect_layers`) from before the fast
audit: one SVD per system, every system audited again after each hidden cell;
and ``_protect_hierarchy`` of ``geodistrict/production/needs.py`` (by labels,
through :func:`~geodistrict.production.privacy.protect_counts`).
Do not edit it to follow the library: it is what the library must still agree with.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict.errors import GeodistrictError, ParameterError
from geodistrict.production._common import employees_of, numeric_column
from geodistrict.production.privacy import (
    DOMINANCE,
    check_dominance,
    check_group_size,
    dominated,
    protect_counts,
)

log = logging.getLogger(__name__)

#: Sums audited for dominance and differencing, with the column of the answers.
_SUM_VARIABLES = {
    "employees": "employees",
    "hiring_needs": "hiring_needs",
    "expansion_m2": "expansion_space_m2",
}
#: Count columns of ``production_needs`` that do not count respondents.
_NOT_RESPONDENT_COUNTS = frozenset({"osm_firms", "osm_not_answered", "vacant_units", "osm_vacant"})


@dataclass
class _Cell:
    """One published (or suppressed) number: a sum of ``variable`` over a set of firms.

    The set is ``group`` (firms of an area, a cluster, a cell...: what the
    layer's rows are about) restricted to the firms giving every answer in
    ``predicates`` (e.g. ``issue_credit``); ``members`` is that set.
    """

    layer: str
    label: str
    variable: str
    group: np.ndarray
    published: bool
    hide: list[tuple[int, str]] = field(default_factory=list)  # (row, column); "*" drops
    predicates: tuple[str, ...] = ()
    members: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # The group the number is a part of, when the rest of it is a group too (the firms
    # of an area that did not cite credit; the firms of a zone not covered): a hidden
    # cell is sensitive when that rest is small.
    parent_group: np.ndarray | None = None
    parent_predicates: tuple[str, ...] = ()
    parent: np.ndarray | None = None

    @property
    def size(self) -> int:
        """Number of firms the cell counts."""
        return int(self.members.sum())


@dataclass
class _Finding:
    kind: str
    variable: str
    firms: int
    cells: list[_Cell]
    detail: str
    # Ways to undo it: hide every cell of one of these lists (best first).
    fix: list[list[_Cell]] = field(default_factory=list)


# --------------------------------------------------------------------------- cells


def _values(respondents: pd.DataFrame) -> dict[str, np.ndarray]:
    """What each respondent contributes to each audited variable."""
    out = {"firms": np.ones(len(respondents))}
    out["employees"] = employees_of(respondents)
    for variable, column in _SUM_VARIABLES.items():
        if variable != "employees":
            out[variable] = numeric_column(respondents, column).fillna(0).to_numpy()
    return out


def _labels(layer: pd.DataFrame, key: str, n: int) -> np.ndarray | None:
    membership = layer.attrs.get("membership") or {}
    labels = membership.get(key)
    if labels is None:
        return None
    if len(labels) != n:
        raise ParameterError(
            f"the membership of a layer covers {len(labels)} firms but the respondents are {n}: "
            "give the respondents the layers were built from"
        )
    return np.array([None if v is None else str(v) for v in labels], dtype=object)


def _isnull(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def _spec_cells(name: str, layer: pd.DataFrame, values: dict[str, np.ndarray]) -> list[_Cell]:
    n = len(values["firms"])
    area, sector = _labels(layer, "area", n), _labels(layer, "sector", n)
    if area is None or sector is None:
        log.warning("%s: no membership, not audited", name)
        return []
    cells = []
    valid = np.array([a is not None and s is not None for a, s in zip(area, sector, strict=True)])
    for r, row in enumerate(layer.itertuples(index=False)):
        a, s = str(row.area), str(row.sector)
        members = valid & (area == a) & (sector == s)
        tag = f"{name}[{a}, {s}]"
        cells.append(_Cell(name, f"{tag}.firms", "firms", members, True, [(r, "*")]))
        if "employees" in layer.columns:
            cells.append(
                _Cell(
                    name,
                    f"{tag}.employees",
                    "employees",
                    members,
                    not _isnull(row.employees),
                    [(r, "employees")],
                )
            )
        # A share reveals its denominator: the area's total (and the reference share of
        # the respondents the sector's total), in firms or in employees.
        derived = [
            ("area_share", valid & (area == a), ["area_share", "lq", "specialised"]),
        ]
        if getattr(row, "lq_reference", "") == "respondents":
            derived.append(
                (
                    "reference_share",
                    valid & (sector == s),
                    ["reference_share", "lq", "specialised"],
                )
            )
        for column, whole, hide in derived:
            share = getattr(row, column, np.nan)
            if _isnull(share):
                continue
            for variable in ("firms", "employees"):
                part, total = values[variable][members].sum(), values[variable][whole].sum()
                if total > 0 and abs(part / total - float(share)) <= 5.1e-5:
                    cells.append(
                        _Cell(
                            name,
                            f"{tag}.{column} (total of {variable})",
                            variable,
                            whole,
                            True,
                            [(r, c) for c in hide],
                        )
                    )
    return cells


def _cluster_cells(name: str, layer: pd.DataFrame, values: dict[str, np.ndarray]) -> list[_Cell]:
    n = len(values["firms"])
    label, sector = _labels(layer, "cluster_id", n), _labels(layer, "sector", n)
    if label is None:
        log.warning("%s: no membership, not audited", name)
        return []
    cells = []
    for r, row in enumerate(layer.itertuples(index=False)):
        members = label == str(row.cluster_id)
        tag = f"{name}[{row.cluster_id}]"
        # A cluster whose count is hidden keeps its polygon and sector.
        counted = [(r, c) for c in ("firms", "employees", "sector_share", "firms_per_ha")]
        cells.append(
            _Cell(name, f"{tag}.firms", "firms", members, not _isnull(row.firms), counted)
        )
        cells.append(
            _Cell(
                name,
                f"{tag}.employees",
                "employees",
                members,
                not _isnull(row.employees),
                [(r, "employees")],
            )
        )
        share = getattr(row, "sector_share", np.nan)
        if sector is not None and not _isnull(share):
            whole = sector == str(row.sector)
            if whole.sum() and abs(members.sum() / whole.sum() - float(share)) <= 5.1e-4:
                cells.append(
                    _Cell(
                        name,
                        f"{tag}.sector_share (firms of sector {row.sector})",
                        "firms",
                        whole,
                        True,
                        [(r, "sector_share")],
                    )
                )
    return cells


def _site_cells(name: str, layer: pd.DataFrame, values: dict[str, np.ndarray]) -> list[_Cell]:
    n = len(values["firms"])
    site, zone = _labels(layer, "site_id", n), _labels(layer, "zone", n)
    if site is None:
        log.warning("%s: no membership, not audited", name)
        return []
    membership = layer.attrs.get("membership") or {}
    weight = "employees" if membership.get("weight", "employees") == "employees" else "firms"
    cells = []
    everywhere = list(range(len(layer)))
    for r, row in enumerate(layer.itertuples(index=False)):
        members = site == str(row.site_id)
        tag = f"{name}[{row.site_id}]"
        cells.append(
            _Cell(
                name,
                f"{tag}.firms_served",
                "firms",
                members,
                not _isnull(row.firms_served),
                [(r, "firms_served"), (r, "employees_served"), (r, "mean_distance_m")],
            )
        )
        cells.append(
            _Cell(
                name,
                f"{tag}.employees_served",
                "employees",
                members,
                not _isnull(row.employees_served),
                [(r, "employees_served")],
            )
        )
    if len(layer):
        covered = np.array([s is not None for s in site])
        first = layer.iloc[0]
        everyone = np.ones(n, dtype=bool)
        derived = [("coverage_firms_pct", "firms", covered, everyone)]
        derived.append(("coverage_weight_pct", weight, covered, everyone))
        if zone is not None:
            for z in ("core", "extension"):
                derived.append((f"coverage_{z}_pct", "firms", covered & (zone == z), zone == z))
        for column, variable, members, parent in derived:
            if column in layer.columns:
                cells.append(
                    _Cell(
                        name,
                        f"{name}.{column} (covered {variable})",
                        variable,
                        members,
                        not _isnull(first[column]),
                        [(i, column) for i in everywhere],
                        parent_group=parent,
                    )
                )
    return cells


def _needs_cells(name: str, layer: pd.DataFrame, values: dict[str, np.ndarray]) -> list[_Cell]:
    n = len(values["firms"])
    area, zone = _labels(layer, "area", n), _labels(layer, "zone", n)
    if area is None or zone is None:
        log.warning("%s: no membership, not audited", name)
        return []
    everyone = np.ones(n, dtype=bool)
    cells = []
    counts = [
        c
        for c in layer.columns
        if str(layer[c].dtype) == "Int64" and c not in _NOT_RESPONDENT_COUNTS
    ]
    for r, row in enumerate(layer.itertuples(index=False)):
        level, label = str(row.level), str(row.name)
        base: tuple[str, ...] = ()
        if level == "area":
            group = area == label
        elif level == "zone":
            group = zone == label
        elif level == "district":
            group = everyone
        elif level == "work_table":
            group, base = everyone, (f"table_{label}",)
        else:
            continue
        tag = f"{name}[{label}]"
        for col in counts:
            if col == "firms":
                preds, hide = base, [(r, "firms"), (r, "response_rate")]
            else:
                preds, hide = tuple(sorted(set(base) | {col})), [(r, col)]
            cells.append(
                _Cell(
                    name,
                    f"{tag}.{col}",
                    "firms",
                    group,
                    not _isnull(getattr(row, col)),
                    hide,
                    preds,
                    parent_group=group if col != "firms" else None,
                    parent_predicates=base,
                )
            )
        for variable in _SUM_VARIABLES:
            if variable in layer.columns:
                hide = [(r, variable)]
                if variable == "expansion_m2" and "space_balance_m2" in layer.columns:
                    hide.append((r, "space_balance_m2"))
                cells.append(
                    _Cell(
                        name,
                        f"{tag}.{variable}",
                        variable,
                        group,
                        not _isnull(getattr(row, variable)),
                        hide,
                        base,
                    )
                )
    return cells


def _firm_cells(name: str, layer: pd.DataFrame, values: dict[str, np.ndarray]) -> list[_Cell]:
    n = len(values["firms"])
    cell = _labels(layer, "cell", n)
    if cell is None or "cell" not in layer.columns:
        return []
    return [
        _Cell(name, f"{name}[{c}].respondents", "firms", cell == str(c), True, [(r, "*")])
        for r, c in enumerate(layer["cell"])
    ]


def _answers(
    layers: Mapping[str, pd.DataFrame], respondents: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Each answer a count can be restricted to (``issue_credit``...), firm by firm."""
    from geodistrict.production.needs import _indicators

    answers = {k: np.asarray(v, dtype=bool) for k, v in _indicators(respondents).items()}
    needs = layers.get("production_needs")
    space = None if needs is None else (needs.attrs.get("membership") or {}).get("space_found")
    answers["firms_space_found"] = (
        np.asarray(space, dtype=bool) if space is not None else np.zeros(len(respondents), bool)
    )
    return answers


def _cells(
    layers: Mapping[str, pd.DataFrame], respondents: pd.DataFrame
) -> tuple[list[_Cell], dict[str, np.ndarray], dict[str, np.ndarray]]:
    values = _values(respondents)
    answers = _answers(layers, respondents)
    cells: list[_Cell] = []
    for name, layer in layers.items():
        if name == "sector_specialisation":
            cells += _spec_cells(name, layer, values)
        elif name == "firm_clusters":
            cells += _cluster_cells(name, layer, values)
        elif name == "service_sites":
            cells += _site_cells(name, layer, values)
        elif name == "production_needs":
            cells += _needs_cells(name, layer, values)
        elif name == "firms":
            cells += _firm_cells(name, layer, values)
    kept = []
    for cell in cells:
        unknown = [p for p in cell.predicates if p not in answers]
        if unknown:
            log.warning("%s: answers %s unknown, not audited", cell.label, unknown)
            continue
        members = cell.group.copy()
        for p in cell.predicates:
            members &= answers[p]
        cell.members = members
        if cell.parent_group is not None:
            parent = cell.parent_group.copy()
            for p in cell.parent_predicates:
                parent &= answers[p]
            cell.parent = parent
        if cell.group.any():
            kept.append(cell)
    return kept, values, answers


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


# --------------------------------------------------------------------------- needs.py


def _protect_hierarchy(
    area_values: pd.Series,
    zone_values: pd.Series,
    area_zone: pd.Series,
    k: int,
    *,
    area_comp: pd.Series | None = None,
    zone_comp: pd.Series | None = None,
    area_hidden: pd.Series | None = None,
    zone_hidden: pd.Series | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Which areas and zones may show a count: :func:`protect_counts` along every line.

    The lines are the areas of each zone (whose total is the zone's), all the
    areas (whose total is the district's) and the zones; a zone made of one
    area is that area.  Rounds repeat until nothing changes, so a cell hidden
    on one line is protected on the others too.
    """
    shown_a = pd.Series(True, index=area_values.index) if area_hidden is None else ~area_hidden
    shown_z = pd.Series(True, index=zone_values.index) if zone_hidden is None else ~zone_hidden
    shown_a, shown_z = shown_a.astype(bool).copy(), shown_z.astype(bool).copy()
    blocks = [area_zone.index[area_zone == z] for z in zone_values.index]
    for _ in range(len(area_values) + len(zone_values) + 1):
        before = (shown_a.copy(), shown_z.copy())
        for members in [*blocks, area_values.index]:
            if len(members) == 0:
                continue
            comp = area_comp[members] if area_comp is not None else None
            ok = protect_counts(
                area_values[members], k, complements=comp, rows=False, primary=~shown_a[members]
            ).iloc[:, 0]
            shown_a[members] = shown_a[members] & ok
        if len(zone_values) > 1:
            ok = protect_counts(
                zone_values, k, complements=zone_comp, rows=False, primary=~shown_z
            ).iloc[:, 0]
            shown_z = shown_z & ok
        for z, members in zip(zone_values.index, blocks, strict=True):
            if len(members) == 1:
                both = bool(shown_a[members[0]] and shown_z[z])
                shown_a[members[0]], shown_z[z] = both, both
        if shown_a.equals(before[0]) and shown_z.equals(before[1]):
            break
    return shown_a, shown_z
