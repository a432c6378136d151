"""The published numbers of the production layers as sets of respondents (for the audit).

Private to :mod:`geodistrict.production.disclosure`: each builder reads one
layer and its ``attrs["membership"]`` (which firms each row counts, left by
the function that built it) and returns the numbers it publishes — and those
it hides — as :class:`_Cell` objects: a sum of a variable over a group of
firms, restricted to the firms giving some answers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geodistrict.errors import ParameterError
from geodistrict.production._common import employees_of, numeric_column

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


def _labels(membership: Mapping[str, Any], key: str, n: int) -> np.ndarray | None:
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


def _spec_cells(
    name: str, layer: pd.DataFrame, values: dict[str, np.ndarray], membership: Mapping[str, Any]
) -> list[_Cell]:
    n = len(values["firms"])
    area, sector = _labels(membership, "area", n), _labels(membership, "sector", n)
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


def _cluster_cells(
    name: str, layer: pd.DataFrame, values: dict[str, np.ndarray], membership: Mapping[str, Any]
) -> list[_Cell]:
    n = len(values["firms"])
    label, sector = _labels(membership, "cluster_id", n), _labels(membership, "sector", n)
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


def _site_cells(
    name: str, layer: pd.DataFrame, values: dict[str, np.ndarray], membership: Mapping[str, Any]
) -> list[_Cell]:
    n = len(values["firms"])
    site, zone = _labels(membership, "site_id", n), _labels(membership, "zone", n)
    if site is None:
        log.warning("%s: no membership, not audited", name)
        return []
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


def _needs_cells(
    name: str, layer: pd.DataFrame, values: dict[str, np.ndarray], membership: Mapping[str, Any]
) -> list[_Cell]:
    n = len(values["firms"])
    area, zone = _labels(membership, "area", n), _labels(membership, "zone", n)
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


def _firm_cells(
    name: str, layer: pd.DataFrame, values: dict[str, np.ndarray], membership: Mapping[str, Any]
) -> list[_Cell]:
    n = len(values["firms"])
    cell = _labels(membership, "cell", n)
    if cell is None or "cell" not in layer.columns:
        return []
    return [
        _Cell(name, f"{name}[{c}].respondents", "firms", cell == str(c), True, [(r, "*")])
        for r, c in enumerate(layer["cell"])
    ]


def _answers(
    respondents: pd.DataFrame, memberships: Mapping[str, Mapping[str, Any]]
) -> dict[str, np.ndarray]:
    """Each answer a count can be restricted to (``issue_credit``...), firm by firm."""
    from geodistrict.production.needs import _indicators

    answers = {k: np.asarray(v, dtype=bool) for k, v in _indicators(respondents).items()}
    space = memberships.get("production_needs", {}).get("space_found")
    answers["firms_space_found"] = (
        np.asarray(space, dtype=bool) if space is not None else np.zeros(len(respondents), bool)
    )
    return answers


_BUILDERS = {
    "sector_specialisation": _spec_cells,
    "firm_clusters": _cluster_cells,
    "service_sites": _site_cells,
    "production_needs": _needs_cells,
    "firms": _firm_cells,
}


def _memberships(layers: Mapping[str, pd.DataFrame]) -> dict[str, Mapping[str, Any]]:
    """The ``attrs["membership"]`` of each layer (empty when it has none)."""
    return {name: layer.attrs.get("membership") or {} for name, layer in layers.items()}


def _cells(
    layers: Mapping[str, pd.DataFrame],
    respondents: pd.DataFrame,
    *,
    memberships: Mapping[str, Mapping[str, Any]] | None = None,
    cache: dict[Any, Any] | None = None,
) -> tuple[list[_Cell], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The cells of every layer, the values of each variable and the answers, firm by firm.

    ``memberships`` gives each layer's membership when the layers do not carry it
    in their ``attrs`` (see :func:`_memberships`).  ``cache``, kept by the caller
    across calls with the same respondents and memberships (the rounds of
    :func:`~geodistrict.production.disclosure.protect_layers`), keeps the values,
    the answers and the cells of each layer object seen: a layer that did not
    change is not read again.
    """
    if memberships is None:
        memberships = _memberships(layers)
    cache = {} if cache is None else cache
    if "values" not in cache:
        cache["values"] = _values(respondents)
        cache["answers"] = _answers(respondents, memberships)
    values, answers = cache["values"], cache["answers"]
    cells: list[_Cell] = []
    for name, layer in layers.items():
        builder = _BUILDERS.get(name)
        if builder is None:
            continue
        seen = cache.get(("layer", name))
        if seen is not None and seen[0] is layer:
            cells += seen[1]
            continue
        mine = _kept(builder(name, layer, values, memberships.get(name, {})), answers)
        cache[("layer", name)] = (layer, mine)
        cells += mine
    return cells, values, answers


def _kept(cells: list[_Cell], answers: Mapping[str, np.ndarray]) -> list[_Cell]:
    """The cells with a known set of firms (``members``, ``parent``), non-empty groups only."""
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
    return kept
