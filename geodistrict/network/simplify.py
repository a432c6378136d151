"""osmnx's graph simplification on edge tables: the same graph, built as arrays.

:func:`simplify_edges` reproduces ``osmnx.simplify_graph`` (osmnx 2.x, with
``edge_attrs_differ``) on a table of directed edges, with numpy and pandas
operations over the whole network instead of a walk over a networkx graph:

* endpoints follow osmnx's ``_is_endpoint`` rules (self-loop; no in- or no
  out-edge; not exactly two neighbours with degree 2 or 4; incident edges that
  differ in one of ``edge_attrs_differ``), counted with ``bincount``;
* every other node on a regular chain (one-way: one edge in, one out; two-way:
  one edge each way to each of its two neighbours) points each incoming edge
  to the outgoing edge that goes on, and pointer jumping finds every chain's
  last edge and every edge's place in it; the rare irregular interstitial
  nodes (duplicate or half one-way edges) are walked in Python exactly as
  osmnx walks them;
* merged edges get the sum of ``length``, a line through the node
  coordinates, and each attribute's single value (or, as osmnx, the list of
  its distinct values); nodes left inside merged edges are dropped, and so
  are components without any endpoint (isolated rings).

Keys, node order and edge order are those of the osmnx graph, so that
:func:`graph_from_tables` builds a ``MultiDiGraph`` that iterates exactly
like the one ``graph_from_gdfs`` + ``simplify_graph`` return.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geodistrict.errors import GeodistrictError, ParameterError

log = logging.getLogger(__name__)

__all__ = ["SimplifiedEdges", "endpoint_mask", "graph_from_tables", "simplify_edges"]

#: Attributes summed over merged edges (osmnx's default ``edge_attr_aggs``).
_SUMMED = ("length", "travel_time")


class SimplificationError(GeodistrictError, RuntimeError):
    """A chain that osmnx itself could not simplify (two ways on from a middle node)."""


@dataclass(frozen=True)
class SimplifiedEdges:
    """A simplified graph as tables.

    Attributes
    ----------
    nodes : numpy.ndarray
        Positions (into the input node order) of the nodes kept, in graph order.
    edges : pandas.DataFrame
        ``u``, ``v``, ``key`` (node ids), one object column per edge attribute
        (missing values are NA; merged differing values are lists) and
        ``merged`` (True for the edges that replace a chain), in graph order.
    key_order : dict
        Row -> attribute names, for the rare merged edges whose attributes
        osmnx orders otherwise than the columns.
    """

    nodes: np.ndarray
    edges: pd.DataFrame
    key_order: dict[int, list[str]] = field(default_factory=dict)


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of values, missing values as one more value (osmnx sees ``None``)."""
    try:
        return np.asarray(pd.factorize(values, use_na_sentinel=False)[0])
    except TypeError:  # merged lists: compare them as tuples
        items = [tuple(v) if isinstance(v, list) else v for v in values.tolist()]
        return np.asarray(pd.factorize(pd.Series(items, dtype=object), use_na_sentinel=False)[0])


def endpoint_mask(
    n_nodes: int, ui: np.ndarray, vi: np.ndarray, differ: Sequence[np.ndarray] = ()
) -> np.ndarray:
    """osmnx's ``_is_endpoint`` for every node at once.

    Parameters
    ----------
    n_nodes : int
        Number of nodes; ``ui``/``vi`` are positions in ``range(n_nodes)``.
    ui, vi : numpy.ndarray
        Tail and head positions of every directed edge.
    differ : sequence of numpy.ndarray
        Integer codes of each ``edge_attrs_differ`` attribute, one per edge.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the endpoints.

    Examples
    --------
    >>> import numpy as np
    >>> endpoint_mask(3, np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1])).tolist()
    [True, False, True]
    """
    n = int(n_nodes)
    ui = np.asarray(ui, dtype=np.int64)
    vi = np.asarray(vi, dtype=np.int64)
    out_deg = np.bincount(ui, minlength=n)
    in_deg = np.bincount(vi, minlength=n)
    ends = (out_deg == 0) | (in_deg == 0)
    ends[ui[ui == vi]] = True  # rule 1: self-loops
    incident = np.concatenate([ui, vi])
    others = np.concatenate([vi, ui])
    neighbours = np.bincount(np.unique(incident * n + others) // max(n, 1), minlength=n)
    degree = in_deg + out_deg
    ends |= ~((neighbours == 2) & ((degree == 2) | (degree == 4)))
    for codes in differ:
        codes = np.asarray(codes, dtype=np.int64)
        k = int(codes.max()) + 1 if len(codes) else 1
        pairs = np.unique(incident * k + np.concatenate([codes, codes]))
        ends |= np.bincount(pairs // k, minlength=n) > 1
    return ends


class _Successors:
    """Successors of every node in adjacency (first-appearance) order, as CSR."""

    def __init__(self, n: int, pair_u: np.ndarray, pair_v: np.ndarray) -> None:
        order = np.argsort(pair_u, kind="stable")
        self.targets = pair_v[order]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(pair_u, minlength=n))])

    def __call__(self, node: int) -> list[int]:
        return self.targets[self.indptr[node] : self.indptr[node + 1]].tolist()


def _walk(endpoint: int, first: int, ends: np.ndarray, successors: _Successors) -> list[int]:
    """osmnx's ``_build_path``, for the chains through irregular middle nodes."""
    path = [endpoint, first]
    seen = {endpoint, first}
    for successor in successors(first):
        if successor in seen:
            continue
        path.append(successor)
        seen.add(successor)
        while not ends[successor]:
            onward = [n for n in successors(successor) if n not in seen]
            if len(onward) == 1:
                successor = onward[0]
                path.append(successor)
                seen.add(successor)
            elif not onward:
                if endpoint in successors(successor):
                    return [*path, endpoint]
                log.warning("unexpected simplify pattern handled near node %d", successor)
                return path
            else:  # pragma: no cover - osmnx raises here too
                raise SimplificationError(
                    f"cannot simplify the street graph near node {successor}: "
                    "a middle node leads on in two directions"
                )
        return path
    return path


def _chains(
    ui: np.ndarray, vi: np.ndarray, nxt: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Follow the ``nxt`` pointers of every start edge by pointer jumping.

    Returns the starts that end at an endpoint (``nxt == -1``), and for their
    edges: path number (index into those starts), position and edge row.
    """
    m = len(nxt)
    rows = np.arange(m)
    jump = np.where(nxt >= 0, nxt, rows)
    hops = (nxt >= 0).astype(np.int64)
    for _ in range(max(1, int(np.ceil(np.log2(max(m, 2))))) + 2):
        after = jump[jump]
        if np.array_equal(after, jump):
            break
        hops = hops + hops[jump]
        jump = after
    last = jump[starts]
    regular = nxt[last] == -1
    # Rings of middle nodes never settle; their pointers stay on edges with nxt >= 0.
    good = starts[regular]
    owner = np.full(m, -1, dtype=np.int64)
    owner[jump[good]] = np.arange(len(good))
    on_chain = (owner[jump] >= 0) & (nxt[jump] == -1)
    members = rows[on_chain]
    path = owner[jump[members]]
    pos = hops[good][path] - hops[members]
    return regular, path, pos, members


def _number_paths(
    ui: np.ndarray,
    vi: np.ndarray,
    nxt: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    successors: _Successors,
    pair_row: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps of every path (path number = start index, position, edge row), sorted."""
    regular, path, pos, members = _chains(ui, vi, nxt, starts)
    provisional = np.full(len(starts), -1, dtype=np.int64)
    n_regular = int(regular.sum())
    provisional[regular] = np.arange(n_regular)
    paths, positions, rows = [path], [pos], [members]
    irregular = np.flatnonzero(~regular)
    for i, start in enumerate(starts[irregular].tolist()):
        nodes = np.asarray(_walk(int(ui[start]), int(vi[start]), ends, successors))
        found = pair_row(nodes[:-1], nodes[1:])
        paths.append(np.full(len(found), n_regular + i, dtype=np.int64))
        positions.append(np.arange(len(found), dtype=np.int64))
        rows.append(found)
    provisional[irregular] = n_regular + np.arange(len(irregular))
    start_of = np.empty(len(starts), dtype=np.int64)
    start_of[provisional] = np.arange(len(starts))
    sp = start_of[np.concatenate(paths)]
    sq = np.concatenate(positions)
    se = np.concatenate(rows)
    order = np.lexsort((sq, sp))
    return sp[order], sq[order], se[order]


def _python_sum(path: np.ndarray, pos: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per-path sums equal to Python's ``sum`` of each path's values in order.

    Python 3.12's ``sum`` of floats is Neumaier's compensated sum; this runs it
    for all paths at once, one position after the other.
    """
    total = np.zeros(n)
    carry = np.zeros(n)
    order = np.lexsort((path, pos))
    path, pos, values = path[order], pos[order], values[order]
    bounds = np.flatnonzero(np.diff(pos)) + 1
    for block in np.split(np.arange(len(pos)), bounds) if len(pos) else []:
        p, x = path[block], values[block]
        f = total[p]
        t = f + x
        carry[p] += np.where(np.abs(f) >= np.abs(x), (f - t) + x, (x - t) + f)
        total[p] = t
    fix = (carry != 0) & np.isfinite(carry)
    return np.where(fix, total + carry, total)


def _merge_attributes(
    objects: dict[str, np.ndarray],
    sp: np.ndarray,
    sq: np.ndarray,
    se: np.ndarray,
    n_paths: int,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each path's value of each attribute, as osmnx merges them, and the paths whose
    attributes are present on some of their edges only."""
    n_steps = np.bincount(sp, minlength=n_paths)
    varies = np.zeros(n_paths, dtype=bool)
    merged: dict[str, np.ndarray] = {}
    for name, values in objects.items():
        present = ~np.asarray(pd.isna(values))[se]
        rows, paths_of = se[present], sp[present]
        count = np.bincount(paths_of, minlength=n_paths)
        varies |= (count > 0) & (count < n_steps)
        out = np.full(n_paths, None, dtype=object)
        if name in _SUMMED:
            total = _python_sum(paths_of, sq[present], values[rows].astype(float), n_paths)
            out[count > 0] = total[count > 0].tolist()
        elif name != "geometry" and len(rows):
            paths, first = np.unique(paths_of, return_index=True)
            head = np.repeat(values[rows[first]], np.diff(np.append(first, len(rows))))
            equal = np.asarray(values[rows] == head, dtype=bool)
            same = np.logical_and.reduceat(equal, first)
            out[paths[same]] = values[rows[first[same]]]
            for p in paths[~same].tolist():  # differing values: rare
                out[p] = list(set(values[rows[paths_of == p]].tolist()))
        merged[name] = out
    return merged, varies


def simplify_edges(
    node_ids: Sequence[int] | np.ndarray,
    edges: pd.DataFrame,
    *,
    coords: np.ndarray | None = None,
    edge_attrs_differ: Sequence[str] = ("osmid",),
    remove_rings: bool = True,
) -> SimplifiedEdges:
    """Remove interstitial nodes like ``osmnx.simplify_graph``, on tables.

    Parameters
    ----------
    node_ids : sequence of int
        Node ids in graph order (osmnx: order of first appearance in the edges).
    edges : DataFrame
        Directed edges ``u``, ``v``, ``key`` plus attribute columns, in the
        order ``graph_from_gdfs`` adds them; ``key`` numbers each ``(u, v)``
        pair's edges 0, 1, ... in row order; missing values are NA.
    coords : numpy.ndarray, optional
        ``(n, 2)`` node coordinates in ``node_ids`` order: merged edges then
        get a ``geometry`` line through their nodes, as in osmnx.
    edge_attrs_differ : sequence of str, default ("osmid",)
        A node whose incident edges differ in one of these stays an endpoint.
    remove_rings : bool, default True
        Drop components that have no endpoint (isolated rings).

    Returns
    -------
    SimplifiedEdges

    Notes
    -----
    osmnx's ``node_attrs_include``, ``track_merged`` and ``edge_attr_aggs``
    are not offered: ``length`` and ``travel_time`` are summed (as Python 3.12's
    ``sum`` does, bit for bit), other attributes merged as osmnx merges them.

    Examples
    --------
    >>> import pandas as pd
    >>> chain = pd.DataFrame({"u": [1, 2, 3], "v": [2, 3, 4], "key": 0,
    ...                       "osmid": 7, "length": [1.0, 2.0, 3.0]})
    >>> out = simplify_edges([1, 2, 3, 4], chain)
    >>> out.edges[["u", "v", "key", "osmid", "length"]].values.tolist()
    [[1, 4, 0, 7, 6.0]]
    >>> out.nodes.tolist()
    [0, 3]
    """
    node_ids = np.asarray(node_ids, dtype=np.int64)
    n, m = len(node_ids), len(edges)
    width = max(n, 1)
    index = pd.Index(node_ids)
    ui = np.asarray(index.get_indexer(edges["u"].to_numpy()), dtype=np.int64)
    vi = np.asarray(index.get_indexer(edges["v"].to_numpy()), dtype=np.int64)
    if (ui < 0).any() or (vi < 0).any():
        missing = sorted(set(edges["u"][ui < 0]) | set(edges["v"][vi < 0]))[:5]
        raise ParameterError(f"edges end at nodes that are not listed: {missing!r}")
    attrs = [c for c in edges.columns if c not in ("u", "v", "key")]
    differ = [_codes(edges[a]) if a in edges.columns else np.zeros(m, np.int64)
              for a in edge_attrs_differ]  # fmt: skip
    ends = endpoint_mask(n, ui, vi, differ)

    # Unique (u, v) pairs in order of first appearance: the adjacency order.
    pair_code, pair_values = pd.factorize(ui * width + vi)
    pair_code = np.asarray(pair_code)
    pair_values = np.asarray(pair_values, dtype=np.int64)
    pair_first = np.unique(pair_code, return_index=True)[1]
    pair_count = np.bincount(pair_code, minlength=len(pair_values))
    pair_u, pair_v = pair_values // width, pair_values % width
    pair_index = pd.Index(pair_values)

    def pair_row(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Row of the first edge a -> b (osmnx takes the first key)."""
        return np.asarray(pair_first[pair_index.get_indexer(a * width + b)])

    # Middle nodes that a chain passes in one way only: the next edge by arrays.
    out_deg = np.bincount(ui, minlength=n)
    in_deg = np.bincount(vi, minlength=n)
    n_succ = np.bincount(pair_u, minlength=n)
    n_pred = np.bincount(pair_v, minlength=n)
    degree = out_deg + in_deg
    regular = ~ends & (
        (degree == 2) | ((in_deg == 2) & (out_deg == 2) & (n_succ == 2) & (n_pred == 2))
    )
    successors = _Successors(n, pair_u, pair_v)
    first_succ = np.full(n, -1, dtype=np.int64)
    second_succ = np.full(n, -1, dtype=np.int64)
    first_succ[n_succ > 0] = successors.targets[successors.indptr[:-1][n_succ > 0]]
    second_succ[n_succ > 1] = successors.targets[successors.indptr[:-1][n_succ > 1] + 1]
    nxt = np.full(m, -1, dtype=np.int64)
    passing = regular[vi]
    middle = vi[passing]
    onward = np.where(first_succ[middle] != ui[passing], first_succ[middle], second_succ[middle])
    nxt[passing] = pair_row(middle, onward)
    nxt[~ends[vi] & ~passing] = -2

    # A path starts at each (endpoint, middle successor) pair, in osmnx's order:
    # endpoints as its set iterates them, then successors in adjacency order.
    endpoint_set = {node for node in node_ids[ends].tolist()}
    rank = np.zeros(n, dtype=np.int64)
    listed = np.fromiter(endpoint_set, dtype=np.int64, count=len(endpoint_set))
    rank[index.get_indexer(listed)] = np.arange(len(listed))
    starts = pair_first[ends[pair_u] & ~ends[pair_v]]
    starts = starts[np.lexsort((starts, rank[ui[starts]]))]
    sp, sq, se = _number_paths(ui, vi, nxt, starts, ends, successors, pair_row)
    n_paths = len(starts)
    n_steps = np.bincount(sp, minlength=n_paths)
    first_step = np.cumsum(n_steps) - n_steps
    last_step = first_step + n_steps - 1
    origin = ui[se[first_step]]
    dest = vi[se[last_step]]
    interior = np.ones(len(se), dtype=bool)
    interior[last_step] = False
    removed = np.zeros(n, dtype=bool)
    removed[vi[se[interior]]] = True

    # Merged edges: keys after the pair's original edges, in generation order.
    found = pair_index.get_indexer(origin * width + dest)
    before = np.where(found >= 0, pair_count[found], 0)
    new_key = before + np.asarray(
        pd.DataFrame({"u": origin, "v": dest}).groupby(["u", "v"], sort=False).cumcount()
    )
    objects = {a: edges[a].to_numpy(dtype=object) for a in attrs}
    merged, varies = _merge_attributes(objects, sp, sq, se, n_paths)
    if coords is not None:
        path_nodes = np.empty(len(se) + n_paths, dtype=np.int64)
        at_start = first_step + np.arange(n_paths)
        heads = np.ones(len(path_nodes), dtype=bool)
        heads[at_start] = False
        path_nodes[at_start] = origin
        path_nodes[heads] = vi[se]
        xy = np.asarray(coords, dtype=float)[path_nodes]
        merged["geometry"] = shapely.linestrings(
            xy, indices=np.repeat(np.arange(n_paths), n_steps + 1)
        )
    names = [*attrs, *(["geometry"] if coords is not None and "geometry" not in attrs else [])]
    key_order: dict[int, list[str]] = {}
    for p in np.flatnonzero(varies).tolist():  # attributes on some edges only: rare
        seen: dict[str, None] = {}
        for e in se[first_step[p] : last_step[p] + 1].tolist():
            seen.update({a: None for a in attrs if pd.notna(objects[a][e])})
        key_order[p] = [*seen, *([] if "geometry" in seen or coords is None else ["geometry"])]

    # Surviving edges in the copied graph's traversal order, then the merged ones.
    kept = np.flatnonzero(~removed[ui] & ~removed[vi])
    kept = kept[np.lexsort((edges["key"].to_numpy()[kept], pair_first[pair_code[kept]], ui[kept]))]
    alive = ~removed[origin] & ~removed[dest]
    columns: dict[str, Any] = {
        "u": np.concatenate([ui[kept], origin[alive]]),
        "v": np.concatenate([vi[kept], dest[alive]]),
        "key": np.concatenate([edges["key"].to_numpy(dtype=np.int64)[kept], new_key[alive]]),
    }
    columns["u"], columns["v"] = node_ids[columns["u"]], node_ids[columns["v"]]
    for name in names:
        old = objects[name][kept] if name in objects else np.full(len(kept), None, dtype=object)
        columns[name] = pd.Series(np.concatenate([old, merged[name][alive]]), dtype=object)
    columns["merged"] = np.arange(len(kept) + int(alive.sum())) >= len(kept)
    table = pd.DataFrame(columns)
    new_row = np.cumsum(alive) - 1 + len(kept)
    key_order = {int(new_row[p]): v for p, v in key_order.items() if alive[p]}
    keep_nodes = np.flatnonzero(~removed)
    if remove_rings and len(keep_nodes):
        table, keep_nodes, key_order = _drop_rings(
            table, node_ids, keep_nodes, edge_attrs_differ, key_order
        )
    log.debug("simplified %d nodes / %d edges to %d / %d", n, m, len(keep_nodes), len(table))
    return SimplifiedEdges(nodes=keep_nodes, edges=table, key_order=key_order)


def _drop_rings(
    table: pd.DataFrame,
    node_ids: np.ndarray,
    keep_nodes: np.ndarray,
    edge_attrs_differ: Sequence[str],
    key_order: dict[int, list[str]],
) -> tuple[pd.DataFrame, np.ndarray, dict[int, list[str]]]:
    """osmnx's ``_remove_rings``: components of the simplified graph without an endpoint."""
    index = pd.Index(node_ids[keep_nodes])
    k = len(keep_nodes)
    ui = np.asarray(index.get_indexer(table["u"].to_numpy()), dtype=np.int64)
    vi = np.asarray(index.get_indexer(table["v"].to_numpy()), dtype=np.int64)
    differ = [_codes(table[a]) if a in table.columns else np.zeros(len(table), np.int64)
              for a in edge_attrs_differ]  # fmt: skip
    ends = endpoint_mask(k, ui, vi, differ)
    graph = sparse.coo_matrix((np.ones(len(ui)), (ui, vi)), shape=(k, k)).tocsr()
    _, labels = csgraph.connected_components(graph, directed=True, connection="weak")
    with_end = np.zeros(int(labels.max()) + 1, dtype=bool)
    with_end[labels[ends]] = True
    gone = ~with_end[labels]
    if not gone.any():
        return table, keep_nodes, key_order
    rows = ~gone[ui]
    renumber = np.cumsum(rows) - 1
    key_order = {int(renumber[r]): v for r, v in key_order.items() if rows[r]}
    return table.loc[rows].reset_index(drop=True), keep_nodes[~gone], key_order


@contextmanager
def _without_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small dicts are made.

    Building a graph allocates one dict per node and edge and none of them
    is garbage; collections triggered by the allocations would only traverse
    them again and again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _dicts(columns: dict[str, np.ndarray], n: int) -> list[dict[str, Any]]:
    """One dict per row of the present values (lists count as present), keys in column
    order; rows are grouped by which columns they have, so each group is one ``zip``."""
    names = list(columns)
    if not names or n == 0:
        return [{} for _ in range(n)]
    mask = np.column_stack([~np.asarray(pd.isna(columns[c])) for c in names])
    patterns, codes = np.unique(np.packbits(mask, axis=1), axis=0, return_inverse=True)
    codes = np.asarray(codes).reshape(-1)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(patterns)))])
    out: list[dict[str, Any]] = [{}] * n
    for g in range(len(patterns)):
        rows = order[bounds[g] : bounds[g + 1]]
        used = [c for c, on in zip(names, mask[rows[0]], strict=True) if on]
        values = [columns[c][rows].tolist() for c in used]
        dicts = (
            [dict(zip(used, vals, strict=True)) for vals in zip(*values, strict=True)]
            if used
            else [{} for _ in range(len(rows))]
        )
        for r, d in zip(rows.tolist(), dicts, strict=True):
            out[r] = d
    return out


def graph_from_tables(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    graph_attrs: dict[str, Any] | None = None,
    key_order: dict[int, list[str]] | None = None,
) -> nx.MultiDiGraph:
    """Build a networkx ``MultiDiGraph`` from node and edge tables in one pass.

    Missing values (NA) are left out of the attribute dicts, as osmnx's
    ``graph_from_gdfs`` does; nodes and edges keep the tables' order.

    Parameters
    ----------
    nodes : DataFrame
        Node attributes (``x``, ``y``, ...) indexed by node id, in graph order.
    edges : DataFrame
        ``u``, ``v``, ``key`` and attribute columns, in graph order.
    graph_attrs : dict, optional
        Graph attributes (``crs``...).
    key_order : dict, optional
        Row -> attribute names in the order that row's dict should have
        (:attr:`SimplifiedEdges.key_order`).

    Returns
    -------
    networkx.MultiDiGraph

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 0.0]}, index=[1, 2])
    >>> edges = pd.DataFrame({"u": [1], "v": [2], "key": [0], "name": [None]})
    >>> g = graph_from_tables(nodes, edges)
    >>> list(g.edges(keys=True, data=True)), g.nodes[2]
    ([(1, 2, 0, {})], {'x': 1.0, 'y': 0.0})
    """
    graph = nx.MultiDiGraph(**(graph_attrs or {}))
    with _without_gc():
        node_cols = {c: nodes[c].to_numpy(dtype=object) for c in nodes.columns}
        graph.add_nodes_from(zip(nodes.index.tolist(), _dicts(node_cols, len(nodes)), strict=True))
        attrs = [c for c in edges.columns if c not in ("u", "v", "key", "merged")]
        dicts = _dicts({a: edges[a].to_numpy(dtype=object) for a in attrs}, len(edges))
        for row, names in (key_order or {}).items():
            dicts[row] = {a: dicts[row][a] for a in names if a in dicts[row]}
        graph.add_edges_from(
            zip(
                edges["u"].tolist(), edges["v"].tolist(), edges["key"].tolist(), dicts, strict=True
            )
        )
    return graph
