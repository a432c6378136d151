"""Helpers for reading the local searches of :func:`~geodistrict.network.local_distances`.

A local search yields distances over the nodes of one neighbourhood only;
:class:`NodeTargets` finds the targets (shops, firms, people...) standing on
those nodes in time proportional to the neighbourhood, never to the network,
so that every bounded analysis keeps the work per source local.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

__all__ = ["NodeTargets"]


class NodeTargets:
    """Targets grouped by the node they stand on (a CSR over node positions).

    Parameters
    ----------
    targets : array of int
        Node position of each target (repeats allowed).
    n : int
        Number of nodes of the graph.

    Examples
    --------
    >>> import numpy as np
    >>> at = NodeTargets(np.array([4, 1, 4, 2]), 6)
    >>> picked, column = at.on(np.array([0, 2, 4]))
    >>> picked.tolist(), column.tolist()
    ([3, 0, 2], [1, 2, 2])
    """

    def __init__(self, targets: np.ndarray, n: int) -> None:
        targets = np.asarray(targets, dtype=np.int64)
        self.by_node = np.argsort(targets, kind="stable")
        self.starts = np.searchsorted(targets[self.by_node], np.arange(n + 1))

    def count(self, nodes: np.ndarray) -> np.ndarray:
        """How many targets stand on each of ``nodes``."""
        nodes = np.asarray(nodes, dtype=np.int64)
        return self.starts[nodes + 1] - self.starts[nodes]

    def on(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The targets standing on ``nodes`` and the position of their node in ``nodes``.

        Returns
        -------
        (picked, column)
            ``picked``: indices into the targets, grouped by node in the order
            of ``nodes`` (by index within a node); ``column``: for each, the
            index in ``nodes`` of its node. Work and memory follow
            ``len(nodes)`` plus the targets found.
        """
        nodes = np.asarray(nodes, dtype=np.int64)
        lengths = self.starts[nodes + 1] - self.starts[nodes]
        total = int(lengths.sum())
        first = np.repeat(self.starts[nodes] - (np.cumsum(lengths) - lengths), lengths)
        picked = self.by_node[first + np.arange(total)]
        return picked, np.repeat(np.arange(len(nodes)), lengths)


#: The cost of cutting one node out into a neighbourhood, in nodes of a whole-graph
#: search (scipy initialises a row of the whole graph per source): measured on grids
#: (issue 17, benchmarks/bench_bounded.py), cutting out one node costs about what 50
#: nodes of a whole search do; twice that leaves the borderline cases to the whole
#: search, which has no overhead beyond its row.
_LOCAL_COST = 96.0


def tile_size(reach: float, n_sources: int, span: np.ndarray) -> float:
    """Side of the square tiles that group the sources of a local search (metres).

    Half the reach by default: a tile's neighbourhood is (2.5 reach)^2, about 6
    times the disc searched. Where sources are sparse (a few per such tile),
    cutting a neighbourhood out for one or two sources costs more than their
    searches: the tile doubles (up to 4 reaches) until it holds about
    :data:`_SOURCES_PER_TILE` sources, on average over the extent.
    """
    tile = reach / 2
    if n_sources < _SOURCES_PER_TILE:
        return tile
    density = n_sources / (max(float(span[0]), reach) * max(float(span[1]), reach))
    for _ in range(3):
        if density * tile * tile >= _SOURCES_PER_TILE:
            break
        tile *= 2
    return tile


#: Sources a tile should hold for its neighbourhood to pay off (see :func:`tile_size`).
_SOURCES_PER_TILE = 8


def _submatrix(matrix: sparse.csr_matrix, nodes: np.ndarray) -> Any:
    """The rows and columns ``nodes`` (ascending) of ``matrix``, explicit zeros kept.

    Work follows the edges of ``nodes``, never the size of the matrix.
    """
    starts = matrix.indptr[nodes]
    lengths = matrix.indptr[nodes + 1] - starts
    total = int(lengths.sum())
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    entries = offsets + np.arange(total)
    targets = matrix.indices[entries]
    cols = np.minimum(np.searchsorted(nodes, targets), len(nodes) - 1)
    keep = nodes[cols] == targets
    rows = np.repeat(np.arange(len(nodes)), lengths)[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(nodes)))])
    return sparse.csr_matrix(
        (matrix.data[entries][keep], cols[keep].astype(np.int32), indptr),
        shape=(len(nodes), len(nodes)),
    )


@dataclass(frozen=True)
class _Tiles:
    """Nodes binned in square tiles of one size: keys sorted, for range look-ups."""

    origin: np.ndarray
    columns: int
    node_keys: np.ndarray
    by_key: np.ndarray
    sorted_keys: np.ndarray


def _tiles(arrays: Any, tile: float) -> _Tiles:
    """The tiles of ``arrays`` for one tile size, built once per graph and size.

    A graph searched from one source at a time (e.g. the greedy gap search)
    would otherwise bin and sort every node on every call.
    """
    memo = arrays.__dict__.setdefault("_tile_memo", {})
    found = memo.get(tile)
    if found is None:
        xy = np.asarray(arrays.xy, dtype=float)
        origin = xy.min(axis=0)
        node_tiles = np.floor((xy - origin) / tile).astype(np.int64)
        columns = int(node_tiles[:, 0].max()) + 1
        node_keys = node_tiles[:, 1] * columns + node_tiles[:, 0]
        by_key = np.argsort(node_keys, kind="stable")
        found = _Tiles(origin, columns, node_keys, by_key, node_keys[by_key])
        if len(memo) > 8:
            memo.clear()
        memo[tile] = found
    return found
