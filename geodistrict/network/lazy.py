"""A networkx graph built from its tables only when someone looks inside it.

The analyses read a street graph as arrays (:func:`~geodistrict.network.graph_arrays`,
:func:`~geodistrict.network.edge_values`), which come straight from the node and
edge tables of :func:`~geodistrict.network.build_graph`. The osmnx-compatible
``MultiDiGraph`` (one Python dict per node and edge) is needed only by a user
who walks it with networkx or osmnx: :class:`LazyGraph` is that graph, built on
the first access to its nodes or edges, after which it is a plain
``networkx.MultiDiGraph`` (its class changes back), equal to the one
:func:`~geodistrict.network.simplify.graph_from_tables` builds at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from geodistrict.network.simplify import _dicts, graph_from_tables

__all__ = ["GraphTables", "LazyGraph", "edges_with_data", "pending_tables"]


@dataclass(frozen=True, eq=False)
class GraphTables:
    """A graph as tables: what :func:`graph_from_tables` takes.

    Attributes
    ----------
    nodes : DataFrame
        Node attributes indexed by node id, in graph order.
    edges : DataFrame
        ``u``, ``v``, ``key`` and attribute columns (NA: no attribute), in
        the order the edges are added.
    key_order : dict
        Row -> attribute names in the order of that row's dict.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    key_order: dict[int, list[str]] = field(default_factory=dict)

    @property
    def attributes(self) -> list[str]:
        """Edge attribute columns."""
        return [c for c in self.edges.columns if c not in ("u", "v", "key", "merged")]

    def edge_order(self) -> np.ndarray:
        """Rows of :attr:`edges` in the order ``graph.edges(keys=True)`` yields them.

        networkx iterates nodes in insertion order, each node's successors in
        the order their first edge was added, then keys in insertion order.
        """
        memo = self.__dict__.get("_edge_order")
        if memo is None:
            if len(self.edges) == 0:
                memo = np.zeros(0, dtype=np.int64)
            else:
                u_pos = pd.Index(self.nodes.index).get_indexer(self.edges["u"].to_numpy())
                pair = self.edges.groupby(["u", "v"], sort=False).ngroup().to_numpy()
                memo = np.lexsort((np.arange(len(self.edges)), pair, u_pos))
            self.__dict__["_edge_order"] = memo
        return memo

    def edge_dicts(self) -> list[dict[str, Any]]:
        """The attribute dict of every edge, in :meth:`edge_order` (as the graph holds them)."""
        dicts = _dicts({a: self.edges[a].to_numpy(dtype=object) for a in self.attributes},
                       len(self.edges))  # fmt: skip
        for row, names in self.key_order.items():
            dicts[row] = {a: dicts[row][a] for a in names if a in dicts[row]}
        return [dicts[i] for i in self.edge_order()]

    def edge_column(self, name: str, default: Any = None) -> list[Any]:
        """``data.get(name, default)`` of every edge, in :meth:`edge_order`."""
        if name not in self.attributes:
            return [default] * len(self.edges)
        values = self.edges[name].to_numpy(dtype=object)[self.edge_order()]
        missing = np.asarray(pd.isna(values), dtype=bool).reshape(-1)
        out = values.tolist()
        for i in np.flatnonzero(missing):
            out[i] = default
        return out


class _Deferred:
    """Data descriptor of one networkx internal: builds the graph before it is read."""

    def __init__(self, name: str, base: Any) -> None:
        self.name = name
        self.base = base

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        obj._materialise()
        return obj.__dict__[self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        self.base.__set__(obj, value)


class LazyGraph(nx.MultiDiGraph):
    """A ``networkx.MultiDiGraph`` built from :class:`GraphTables` on first use.

    ``graph.graph`` (``crs``, ``mode``...) is there from the start; any access to
    nodes or edges builds the graph, and the object becomes a plain
    ``MultiDiGraph``. :func:`~geodistrict.network.graph_arrays`,
    :func:`~geodistrict.network.edge_values` and
    :func:`~geodistrict.network.streets_from_graph` read the tables of a graph
    not built yet and leave it unbuilt.

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 0.0]}, index=[1, 2])
    >>> edges = pd.DataFrame({"u": [1], "v": [2], "key": [0], "length": [1.0]})
    >>> g = LazyGraph.from_tables(GraphTables(nodes, edges), crs="EPSG:32632")
    >>> type(g).__name__, g.graph["crs"]
    ('LazyGraph', 'EPSG:32632')
    >>> list(g.edges(data=True)), type(g).__name__
    ([(1, 2, {'length': 1.0})], 'MultiDiGraph')
    """

    _node = _Deferred("_node", nx.Graph.__dict__["_node"])
    _adj = _Deferred("_adj", nx.DiGraph.__dict__["_adj"])
    _succ = _Deferred("_succ", nx.DiGraph.__dict__["_succ"])
    _pred = _Deferred("_pred", nx.DiGraph.__dict__["_pred"])

    @classmethod
    def from_tables(cls, tables: GraphTables, **graph_attrs: Any) -> LazyGraph:
        """An unbuilt graph of ``tables`` with the given graph attributes."""
        graph = cls(**graph_attrs)
        graph.__dict__["_tables"] = tables
        return graph

    def number_of_edges(self, u: Any = None, v: Any = None) -> int:
        """Edges of the graph (answered from the tables while the graph is not built)."""
        tables = pending_tables(self)
        if tables is not None and u is None and v is None:
            return len(tables.edges)
        return int(super().number_of_edges(u, v))

    def number_of_nodes(self) -> int:
        """Nodes of the graph (answered from the tables while the graph is not built)."""
        tables = pending_tables(self)
        return len(tables.nodes) if tables is not None else int(super().number_of_nodes())

    def __len__(self) -> int:
        return self.number_of_nodes()

    def _materialise(self) -> None:
        tables: GraphTables | None = self.__dict__.pop("_tables", None)
        if tables is not None:
            built = graph_from_tables(tables.nodes, tables.edges, key_order=tables.key_order)
            self._node = built.__dict__["_node"]
            self._adj = built.__dict__["_adj"]
            self._pred = built.__dict__["_pred"]
        # from now on a plain MultiDiGraph: no look-up cost on its internals
        self.__class__ = nx.MultiDiGraph


def pending_tables(graph: Any) -> GraphTables | None:
    """The tables of a :class:`LazyGraph` not built yet, else None."""
    if type(graph) is LazyGraph:
        tables = graph.__dict__.get("_tables")
        return tables if isinstance(tables, GraphTables) else None
    return None


def edges_with_data(graph: Any) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    """``graph.edges(data=True)``, read from the tables of a graph not built yet.

    Same edges, same order, equal dicts; a :class:`LazyGraph` stays unbuilt (the
    dicts are new objects: changing them does not change the graph).
    """
    tables = pending_tables(graph)
    if tables is None:
        yield from graph.edges(data=True)
        return
    order = tables.edge_order()
    u = tables.edges["u"].to_numpy()[order].tolist()
    v = tables.edges["v"].to_numpy()[order].tolist()
    yield from zip(u, v, tables.edge_dicts(), strict=True)
