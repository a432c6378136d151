"""The linear part of the disclosure audit: what the published sums determine.

See :mod:`geodistrict.production.disclosure` for the model. This module holds
the attacker's linear system (:class:`_System`), the search for small
determined sets of firms and the differencing checks; the audit and the
secondary suppression that use them are in ``disclosure``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from geodistrict.production._audit_cells import _Cell, _Finding
from geodistrict.production.privacy import (
    dominated,
)

log = logging.getLogger(__name__)

_TOL = 1e-7


# --------------------------------------------------------------------------- linear system
#
# How the audit stays fast and gives the same answers as the plain algebra
# ------------------------------------------------------------------------
# A system's equations are the published cells of one variable restricted to
# one *family* of answers (f of them); its unknowns are the atoms, a group of
# firms times one of the 2^f combinations of the answers.  A cell of the group
# atoms ``G_c`` that counts the firms giving the answers ``S`` is the row
# ``G_c (x) A_S``, where ``A_S[a] = 1`` when the combination ``a`` includes
# ``S``.  The ``A_S`` of the 2^f subsets are a basis, so the row space is the
# direct sum of ``V_S (x) A_S``, with ``V_S`` the span of the group indicators
# of the cells counting exactly ``S``: a vector is determined when each of its
# 2^f Moebius components (in the basis ``A_S``) lies in its ``V_S``.  The
# ``V_S`` are factorised once per variable (one small SVD over the group atoms,
# :class:`_Block`) and shared by every family, instead of one SVD of the whole
# system per family.
#
# The distance of a vector to the row space is within the extreme singular
# values of the 2^f x 2^f matrix of the ``A_S`` (:func:`_zeta`) times the norm
# of those residuals, so the fast test answers only when it is far from the
# threshold the plain test uses (1e-6); when it is not, or when a block's
# singular values leave the rank in doubt, the system falls back to the plain
# computation (one SVD of the unique rows; the null space basis then is the
# very one the audit has always used).  The unions of small atoms are searched
# on random keys of the same residuals; their order depends on the basis of the
# null space, so when two or more new ones would be reported, the plain search
# gives them in its order.

#: Relative residual under which the audit has always called a set determined.
_DETERMINED = 1e-6
#: The fast tests decide only outside this band around ``_DETERMINED``.
_SURELY_DETERMINED, _SURELY_NOT = 1e-10, 1e-5
#: Random coordinates of the keys of the fast search for unions of atoms.
_KEYS = 3
#: Set True (tests) to take the plain path everywhere.
_PLAIN_ONLY = False
_ZETA: dict[int, tuple[float, float]] = {}


def _zeta(f: int) -> tuple[float, float]:
    """Smallest and largest singular values of the matrix of the ``A_S`` (``z[a, S]``)."""
    cached = _ZETA.get(f)
    if cached is None:
        a = np.arange(1 << f)
        z = ((a[:, None] & a[None, :]) == a[None, :]).astype(float)
        s = np.linalg.svd(z, compute_uv=False)
        cached = _ZETA[f] = (float(s[-1]), float(s[0]))
    return cached


class _Block:
    """The span of the group indicators of the published cells counting one set of answers.

    ``residual`` projects the group atoms on its orthogonal complement;
    ``sharp`` is False when a singular value is neither clearly zero nor
    clearly not (the systems using the block then take the plain path).
    """

    def __init__(self, rows: np.ndarray, n_groups: int, rng: np.random.Generator):
        self.rank, self.smallest, self.sharp = 0, np.inf, True
        self.support = 0  # groups of the span's one row (rank 1)
        self.residual = np.eye(n_groups)
        if len(rows):
            _, s, vt = np.linalg.svd(rows, full_matrices=False)
            scale = max(1.0, float(s[0]))
            zero = s <= 1e-9 * scale
            self.rank = int((~zero).sum())
            self.sharp = bool((zero | (s >= 1e-4 * scale)).all())
            if self.rank:
                self.smallest = float(s[self.rank - 1])
                basis = vt[: self.rank]
                self.residual = self.residual - basis.T @ basis
            if self.rank == 1:  # every row is the same: its groups
                self.support = int(rows.max(axis=0).sum())
        self.norms = (self.residual**2).sum(axis=0)  # |residual of each group atom|^2
        weights = rng.normal(size=(n_groups, _KEYS))
        self.keys = self.residual @ weights
        self.weights = (weights**2).sum(axis=0)


class _Blocks:
    """The :class:`_Block` of each set of answers of one variable (built when first asked)."""

    def __init__(self, cells: list[_Cell], groups: np.ndarray, n_groups: int):
        self._rows: dict[frozenset[str], list[int]] = {}
        for i, cell in enumerate(cells):
            if cell.published:
                self._rows.setdefault(frozenset(cell.predicates), []).append(i)
        self._groups = groups
        self._n = n_groups
        self._made: dict[frozenset[str], _Block] = {}
        self._rng = np.random.default_rng(0)

    def __getitem__(self, answers: frozenset[str]) -> _Block:
        block = self._made.get(answers)
        if block is None:
            rows = self._groups[self._rows.get(answers, [])].astype(float)
            block = self._made[answers] = _Block(rows, self._n, self._rng)
        return block


class _System:
    """The published equations of one variable and one family of answers.

    The unknowns are the *atoms*: the firms sharing the same groups (areas,
    sectors, clusters, sites, cells: the attacker is assumed to know which
    combinations of groups hold firms, e.g. from the maps) and the same
    values of the answers of ``family`` (all 2^f combinations, empty or not:
    the attacker does not know which answers were given).

    ``groups`` holds the group atoms of each cell (a row per cell); ``blocks``
    the factorised row spaces of the variable (see the notes above), without
    which every test takes the plain path.
    """

    def __init__(
        self,
        cells: list[_Cell],
        groups: np.ndarray,
        group_of: np.ndarray,
        n_groups: int,
        family: tuple[str, ...],
        answers: Mapping[str, np.ndarray],
        blocks: _Blocks | None = None,
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
        # Indicator over atoms of each cell: its groups, with its answers given.
        need = np.array(
            [sum(1 << j for j, name in enumerate(family) if name in c.predicates) for c in cells],
            dtype=np.int64,
        ).reshape(-1, 1)
        given = (np.arange(1 << f)[None, :] & need) == need
        both = groups[:, :, None] & given[:, None, :]
        self._vectors = both.reshape(len(cells), self.n_atoms).astype(float)
        self._row = {id(c): i for i, c in enumerate(cells)}
        shown = [i for i, c in enumerate(cells) if c.published]
        self.published = [cells[i] for i in shown]
        self.matrix = self._vectors[shown]
        self._null: np.ndarray | None = None
        self._rank: int | None = None
        self._solve: np.ndarray | None = None
        self._blocks: list[_Block] | None = None
        if blocks is not None and not _PLAIN_ONLY:
            mine = [
                blocks[frozenset(name for j, name in enumerate(family) if s >> j & 1)]
                for s in range(1 << f)
            ]
            self._zmin, self._zmax = _zeta(f)
            self._fast(mine)

    def _fast(self, blocks: list[_Block]) -> None:
        """Use the blocks when they give the plain computation's rank beyond doubt."""
        if not all(b.sharp for b in blocks):
            return
        rank = sum(b.rank for b in blocks)
        if rank:
            # The smallest non-zero singular value of the unique rows is at least
            # that of the blocks times zmin over sqrt(repeats of a row); the largest at
            # most sqrt(non-zeros): the plain test (1e-7 of the largest) counts ``rank``.
            scale = max(1.0, float(np.sqrt(self.matrix.sum())))
            lower = min(b.smallest for b in blocks) * self._zmin / np.sqrt(len(self.matrix))
            if lower <= 1e-6 * scale:
                return
            # How far the plain null space may be from the exact one: a backward stable SVD
            # errs by a few n u |U| (u = 1.1e-16), divided by the gap (a generous bound).
            self._drift = 1e-15 * self.n_atoms * scale / lower
            if self._drift > 1e-8:
                return
        else:
            self._drift = 0.0
        self._blocks, self._rank = blocks, rank

    # ------------------------------------------------------------------ vectors

    def vector(self, cell: _Cell) -> np.ndarray:
        """Indicator over atoms of a cell: its groups, with its answers given."""
        return self._vectors[self._row[id(cell)]]

    def vectors(self, cells: Sequence[_Cell]) -> np.ndarray:
        """The :meth:`vector` of each cell, a row each."""
        return self._vectors[[self._row[id(c)] for c in cells]]

    def firms(self, vec: np.ndarray) -> np.ndarray:
        return vec[self.atom_of] > 0.5

    # ------------------------------------------------------------------ plain algebra

    @property
    def null(self) -> np.ndarray:
        """Orthonormal basis of the null space (atoms x d), from one SVD of the unique rows."""
        if self._null is None:
            if len(self.published):
                rows = np.unique(self.matrix, axis=0)  # duplicates add nothing to the row space
                _, s, vt = np.linalg.svd(rows, full_matrices=True)
                rank = int((s > _TOL * max(1.0, s[0])).sum())
                self._null = vt[rank:].T
                if self._rank is None:
                    self._rank = rank
            else:
                self._null = np.eye(self.n_atoms)
        return self._null

    @property
    def solve(self) -> np.ndarray:
        """Least-norm weights c with ``matrix.T @ c = v``, for v in the row space."""
        if self._solve is None:
            if len(self.published):
                if self._rank is None:
                    self.null  # noqa: B018 (sets the rank)
                rank = int(self._rank)  # type: ignore[arg-type]
                u, s, vt = np.linalg.svd(self.matrix, full_matrices=False)
                self._solve = (u[:, :rank] / s[:rank]) @ vt[:rank]
            else:
                self._solve = np.zeros((0, self.n_atoms))
        return self._solve

    def _plain_determined(self, vec: np.ndarray) -> bool:
        null = self.null
        if null.shape[1] == 0:
            return True
        return bool(np.linalg.norm(null.T @ vec) <= _DETERMINED * max(1.0, np.linalg.norm(vec)))

    # ------------------------------------------------------------------ fast tests

    @property
    def fast(self) -> bool:
        return self._blocks is not None

    def _residuals(self, vecs: np.ndarray) -> np.ndarray:
        """Norm of the residuals of each row's Moebius components (see the notes above)."""
        f = len(self.family)
        x = vecs.reshape(len(vecs), -1, 1 << f).copy()
        for j in range(f):
            high = [s for s in range(1 << f) if s >> j & 1]
            x[:, :, high] -= x[:, :, [s ^ (1 << j) for s in high]]
        total = np.zeros(len(vecs))
        for s, block in enumerate(self._blocks or []):
            if block.rank:
                part = x[:, :, s] @ block.residual
                total += (part * part).sum(axis=1)
            else:
                total += (x[:, :, s] ** 2).sum(axis=1)
        return np.sqrt(total)

    def _decide(self, residual: np.ndarray, norm: np.ndarray) -> np.ndarray:
        """1 determined, 0 not, -1 too close to the threshold to tell without the plain test."""
        scale = np.maximum(1.0, norm)
        out = np.full(len(residual), -1, dtype=np.int8)
        out[self._zmax * residual <= _SURELY_DETERMINED * scale] = 1
        out[self._zmin * residual >= _SURELY_NOT * scale] = 0
        return out

    def determined_many(self, vecs: np.ndarray) -> np.ndarray:
        """Whether each row is determined by the published numbers."""
        if not len(vecs):
            return np.zeros(0, dtype=bool)
        if not self.fast:
            return np.array([self._plain_determined(v) for v in vecs], dtype=bool)
        decided = self._decide(self._residuals(vecs), np.linalg.norm(vecs, axis=1))
        for i in np.flatnonzero(decided < 0):
            decided[i] = self._plain_determined(vecs[i])
        return decided.astype(bool)

    def determined(self, vec: np.ndarray) -> bool:
        return bool(self.determined_many(vec[None, :])[0])

    # ------------------------------------------------------------------ the attacker's equation

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


def _unit(n: int, atoms: Sequence[int]) -> np.ndarray:
    vec = np.zeros(n)
    vec[list(atoms)] = 1.0
    return vec


def _small_sets(system: _System, k: int, reported: Any = None) -> list[np.ndarray]:
    """Determined unions of up to four non-empty atoms with fewer than ``k`` firms in all.

    Single atoms come first (in the order of the atoms), then the unions in the
    order of the plain search.  ``reported(members)`` tells whether a set was
    already reported (then where it falls in the list does not matter): the fast
    search answers unless two or more new unions need the plain search's order.
    """
    if system.fast and reported is not None:
        found = _small_sets_fast(system, k, reported)
        if found is not None:
            return found
    return _small_sets_plain(system, k)


def _small_sets_fast(system: _System, k: int, reported: Any) -> list[np.ndarray] | None:
    """The fast search (see :func:`_small_sets`); None when the plain one must answer."""
    small = np.flatnonzero((system.size > 0) & (system.size < k))
    if small.size == 0:
        return []
    f = len(system.family)
    blocks = system._blocks or []
    n_groups = system.n_atoms >> f
    # Residual norm and keys of every atom (g, a): the blocks s that include a, signed.
    norms = np.zeros((n_groups, 1 << f))
    keys = np.zeros((n_groups, 1 << f, _KEYS))
    weights = np.zeros(_KEYS)
    for s, block in enumerate(blocks):
        weights += block.weights
        for a in range(1 << f):
            if s & a == a:
                sign = -1.0 if (s.bit_count() - a.bit_count()) % 2 else 1.0
                norms[:, a] += block.norms
                keys[:, a] += sign * block.keys
    norm = np.sqrt(norms.reshape(-1)[small])
    decided = system._decide(norm, np.ones(len(small)))
    if (decided < 0).any():
        return None
    found = [_unit(system.n_atoms, [a]) for a in small[decided == 1]]
    rest = small[decided == 0]
    if rest.size < 2:
        return found
    # Candidates: every union whose residual could be small enough to be determined,
    # or near the threshold (keys within what such a residual allows).
    reach = 1.01 * _SURELY_NOT * 2.0 / system._zmin
    tol = reach * np.sqrt(weights) + 1e-12
    key = keys.reshape(-1, _KEYS)[rest]
    sz = system.size[rest]
    top = blocks[-1]
    if top.rank == 0 or (top.rank == 1 and top.support > 4):
        # The top block (the answers of the whole family) sees every atom of a union,
        # signed by the parity of its answers: there the union's groups add up to a
        # vector of at most 4 non-zero integers, which that block's span holds only
        # when it is 0 (its one row, if any, has more than 4 groups), else it stays
        # far from it (distance at least 0.44).  So the atoms of each group of the
        # union pair up, one of each parity: the union is one or two such pairs.
        group, parity = rest >> f, np.array([bin(int(a)).count("1") % 2 for a in rest])
        pairs = [
            (i, i + d)
            for d in range(1, min(1 << f, rest.size))
            for i in np.flatnonzero(
                (group[:-d] == group[d:]) & (parity[:-d] != parity[d:])
            ).tolist()
        ]
        if not pairs:
            return found
        ii, jj = np.array(pairs, dtype=np.int64).T
        keep = sz[ii] + sz[jj] < k
        first, second = ii[keep], jj[keep]
    else:
        ii, jj = np.triu_indices(rest.size, 1)
        keep = sz[ii] + sz[jj] < k
        ii, jj = ii[keep], jj[keep]
        first = np.concatenate([np.arange(rest.size), ii])
        second = np.concatenate([np.full(rest.size, -1), jj])
    unions = _matches(key, sz, first, second, tol, k)
    if not unions:
        return found
    members = np.sort(np.concatenate(unions), axis=1)  # -1 (no atom) first
    members = np.unique(members, axis=0)
    if not len(members):
        return found
    vecs = np.zeros((len(members), system.n_atoms))
    for col in range(members.shape[1]):
        has = members[:, col] >= 0
        vecs[np.flatnonzero(has), rest[members[has, col]]] = 1.0
    decided = system._decide(system._residuals(vecs), np.linalg.norm(vecs, axis=1))
    if (decided < 0).any():
        return None
    new = [v for v in vecs[decided == 1] if not reported(system.firms(v))]
    if len(new) > 1:
        return None
    # The plain search would have found them too: it matches its own keys within 1e-6.
    if new and not _plain_keys_match(system):
        return None
    return found + new


def _matches(
    key: np.ndarray,
    sz: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    tol: np.ndarray,
    k: int,
) -> list[np.ndarray]:
    """Unions (rows of 4 positions, -1 for none) of one or two entries whose keys cancel.

    An entry is a single position (``second`` -1) or a pair; a pair alone is a
    union when its key is within ``tol`` of 0; two disjoint entries of fewer
    than ``k`` firms together, when their keys cancel within ``tol``.
    """
    pair = second >= 0
    ekey = key[first] + np.where(pair[:, None], key[np.maximum(second, 0)], 0.0)
    esize = sz[first] + np.where(pair, sz[np.maximum(second, 0)], 0)
    unions = []
    zero = pair & (np.abs(ekey) <= tol).all(axis=1)
    if zero.any():
        unions.append(
            np.column_stack([first[zero], second[zero], np.full((int(zero.sum()), 2), -1)])
        )
    order = np.argsort(ekey[:, 0], kind="stable")
    kx = ekey[order, 0]
    lo = np.searchsorted(kx, -kx - tol[0], side="left")
    hi = np.searchsorted(kx, -kx + tol[0], side="right")
    count = np.maximum(hi - lo, 0)
    if count.sum():
        e = np.repeat(np.arange(len(kx)), count)
        t = lo[e] + np.arange(len(e)) - np.repeat(np.cumsum(count) - count, count)
        ok = t > e
        e, t = order[e[ok]], order[t[ok]]
        ok = (np.abs(ekey[e] + ekey[t]) <= tol).all(axis=1) & (esize[e] + esize[t] < k)
        e, t = e[ok], t[ok]
        one = np.column_stack([first[e], second[e]])
        two = np.column_stack([first[t], second[t]])
        clash = (one[:, :, None] == two[:, None, :]) & (one[:, :, None] >= 0)
        ok = ~clash.any(axis=(1, 2))
        unions.append(np.column_stack([one[ok], two[ok]]))
    return unions


def _plain_keys_match(system: _System) -> bool:
    """Whether the plain search's keys of a determined union (residual at most
    ``_SURELY_DETERMINED``, plus the drift of the plain null space) stay within its 1e-6."""
    d = system.n_atoms - int(system._rank or 0)
    weights = np.random.default_rng(0).normal(size=(d, 2))
    reach = 2.0 * (_SURELY_DETERMINED + system._drift)
    return bool(reach * np.linalg.norm(weights, axis=0).max() < 5e-7)


def _small_sets_plain(system: _System, k: int) -> list[np.ndarray]:
    """The plain search: meet in the middle on the null space of the system."""
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
            if system._plain_determined(vec):
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
    *,
    stop: bool = False,
) -> list[_Finding]:
    """The findings of the linear systems, variable by variable (``stop``: up to the
    first one a cell can fix, all that :func:`protect_layers` needs of a round)."""
    findings: list[_Finding] = []
    with contextlib.suppress(_FixableFoundError):
        _linear(cells, values, answers, k, dominance, findings, stop)
    return findings


class _FixableFoundError(Exception):
    """Raised once a finding a cell can fix is recorded, when only the first is wanted."""


def _linear(
    cells: list[_Cell],
    values: dict[str, np.ndarray],
    answers: Mapping[str, np.ndarray],
    k: int,
    dominance: tuple[int, float],
    findings: list[_Finding],
    stop: bool,
) -> None:
    everyone = len(values["firms"])
    if not cells:
        return
    # Group atoms: firms in exactly the same groups of every layer.
    member = np.array([c.group for c in cells], dtype=bool)
    groups = np.unique(member, axis=0)
    _, group_of = np.unique(groups.T, axis=0, return_inverse=True)
    group_of = group_of.ravel()
    n_groups = int(group_of.max()) + 1
    # The group atoms of each cell.
    held = np.zeros((len(cells), n_groups), dtype=bool)
    row, firm = np.nonzero(member)
    held[row, group_of[firm]] = True
    index = {id(c): i for i, c in enumerate(cells)}
    reported: set[tuple[str, bytes]] = set()
    heavies: dict[tuple[str, bytes], bool] = {}  # dominated sums, by set
    for variable in sorted({c.variable for c in cells}):
        own = [c for c in cells if c.variable == variable]
        own_held = held[[index[id(c)] for c in own]]
        blocks = _Blocks(own, own_held, n_groups)
        y = values[variable]
        is_sum = variable != "firms"

        def report(
            kind: str,
            members: np.ndarray,
            used: list[_Cell] | Any,
            detail: str | Any,
            fix: Any = None,
            y: np.ndarray = y,
            variable: str = variable,
            is_sum: bool = is_sum,
        ) -> None:
            """Record a finding, unless the same set was reported or is not a problem.

            ``used`` and ``detail`` may be given as functions (of nothing, and of
            ``used``), called only when the finding is recorded."""
            n = int(members.sum())
            key = (variable, members.tobytes())
            if key in reported or n == 0:
                return
            small = n < k
            heavy = False
            if is_sum and not small:
                heavy = heavies.get(key)  # type: ignore[assignment]
                if heavy is None:
                    heavy = heavies[key] = dominated(y[members], dominance)
            if kind != "recomputable" and not small and not heavy:
                return
            if heavy and kind != "recomputable":
                kind = "dominance"
            reported.add(key)
            used = used() if callable(used) else used
            detail = detail(used) if callable(detail) else detail
            ways = fix() if callable(fix) else [[c] for c in _smallest(used)]
            # Name the numbers whose hiding would undo it, when the system tells them.
            shown = [c for way in ways for c in way] or used
            findings.append(_Finding(kind, variable, n, shown, detail, ways))
            if stop and ways:
                raise _FixableFoundError

        def seen(members: np.ndarray, variable: str = variable) -> bool:
            return (variable, members.tobytes()) in reported

        for cell in own:
            if cell.published:
                report("small_cell", cell.members, [cell], f"{cell.label} counts {cell.size}")
        sensitive = {
            id(c): _sensitive(c, y, k, dominance) for c in own if not c.published and c.size
        }
        for family in _families(own):
            fam = set(family)
            mine = [i for i, c in enumerate(own) if set(c.predicates) <= fam]
            members_of = [own[i] for i in mine]
            system = _System(
                members_of, own_held[mine], group_of, n_groups, family, answers, blocks
            )
            # Suppressed numbers the published ones determine, when they were hidden
            # for their own sake (a small group, a small rest of their group, a
            # dominated sum); a number hidden only to protect another may be
            # recomputable, as long as that other is not.
            hidden = [c for c in members_of if sensitive.get(id(c), False)]
            vecs = system.vectors(hidden)
            for cell, vec, known in zip(hidden, vecs, system.determined_many(vecs), strict=True):
                if not known:
                    continue
                # What it gives away: itself, or the small rest of its group.
                exposed = cell.members
                if cell.parent is not None and not 0 < cell.size < k:
                    rest = cell.parent & ~cell.members
                    exposed = rest if 0 < rest.sum() < k else exposed
                report(
                    "recomputable",
                    exposed,
                    lambda system=system, vec=vec: system.used(vec),
                    lambda used, cell=cell: (
                        f"suppressed {cell.label} = combination of {len(used)} published numbers"
                    ),
                    lambda system=system, vec=vec: system.fix(vec),
                )
            _differences(system, everyone, report, k=k, is_sum=is_sum)
            # Any other determined small set.
            for vec in _small_sets(system, k, seen):
                report(
                    "linear",
                    system.firms(vec),
                    lambda system=system, vec=vec: system.used(vec),
                    lambda used: "a combination of " + ", ".join(c.label for c in used[:6]),
                    lambda system=system, vec=vec: system.fix(vec),
                )


def _differences(system: _System, everyone: int, report: Any, *, k: int, is_sum: bool) -> None:
    """A published set minus published subsets of it (one cell per distinct set).

    Only the differences that may be reported are handed to ``report``, in the
    order of the sets: a count of 0 firms, or of ``k`` or more (not a sum, so
    not dominated), is not a finding.
    """
    if not len(system.published):
        return
    first: dict[bytes, int] = {}
    for i, vec in enumerate(system.matrix):
        first.setdefault(vec.tobytes(), i)
    pub = [system.published[i] for i in first.values()]
    m = system.matrix[list(first.values())]
    sizes = m.sum(axis=1)
    firms = m @ system.size  # firms in each set
    # inside[i, j]: set j is a proper subset of set i (over atoms, empty ones too).
    inside = ((1.0 - m) @ m.T) == 0  # [i, j]: atoms of j outside i
    inside &= sizes[None, :] < sizes[:, None]
    if not inside.any():
        return

    def worth(count: np.ndarray) -> np.ndarray:
        return (count > 0) & (is_sum | (count < k))

    events: list[tuple[int, int, int]] = []  # (set, 0 = minus one subset / 1 = residual, subset)
    pairs = inside & worth(firms[:, None] - firms[None, :])
    events += [(int(i), 0, int(j)) for i, j in zip(*np.nonzero(pairs), strict=True)]
    # The residual left by the largest subsets, when they do not overlap.
    nested = inside.astype(float)
    maximal = inside & ((nested @ nested) == 0)  # j inside i, and inside no other subset of i
    several = np.flatnonzero(maximal.sum(axis=1) > 1)
    if several.size:
        cover = maximal[several].astype(float) @ m
        flat = cover.max(axis=1) <= 1
        left = (m[several] - cover) @ system.size
        events += [(int(i), 1, -1) for i in several[flat & worth(left)]]
    for i, what, j in sorted(events):
        big, vbig = pub[i], m[i]
        kind = "complement" if big.size == everyone and not big.predicates else "differencing"
        if what == 0:
            sub = pub[j]
            diff = vbig - m[j]
            used, detail = [big, sub], f"{big.label} - {sub.label}"
        else:
            parts_at = np.flatnonzero(maximal[i])
            parts = [pub[j] for j in parts_at]
            diff = vbig - m[parts_at].sum(axis=0)
            labels = " - ".join(c.label for c in parts[:4])
            more = f" (and {len(parts) - 4} more)" if len(parts) > 4 else ""
            used, detail = [big, *parts], f"{big.label} - {labels}{more}"
        report(kind, system.firms(diff), used, detail, lambda diff=diff: system.fix(diff))
