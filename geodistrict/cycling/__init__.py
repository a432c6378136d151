"""Cycling connectivity: traffic stress, low-stress islands, missing links, circuits.

Everything works on a bike graph (``BaseLayers.bike_graph`` or an osmnx
``MultiDiGraph`` projected to metres), which encodes who may ride where and
in which direction; distances come from the one network engine,
:mod:`geodistrict.network`.

* :mod:`~geodistrict.cycling.lts`: Level of Traffic Stress of every edge and
  direction (:func:`classify_lts`, :func:`add_lts`);
* :mod:`~geodistrict.cycling.layer`: the ``bike_network`` layer and a
  cross-check with ``osm-lts``;
* :mod:`~geodistrict.cycling.places`: origins, destinations, key places;
* :mod:`~geodistrict.cycling.low_stress`: low-stress reach per origin and
  low-stress islands;
* :mod:`~geodistrict.cycling.gaps`: missing links, picked greedily;
* :mod:`~geodistrict.cycling.circuits`: a district loop and its info totems;
* :mod:`~geodistrict.cycling.isochrone`: areas reached in given minutes.

Origins (residential buildings or H3 cells) and destinations (commercial
units or POIs, schools, stations, services) are snapped to their nearest
graph node. A destination is reachable from an origin when the shortest
route is at most ``bikeshed_m`` long: on any legal route, or on a low-stress
route (every edge at LTS <= threshold). Low-stress islands are the connected
components of the low-stress edges (direction ignored). Missing links are
picked greedily: each candidate (upgrading a high-stress street to low
stress, or a new straight connector of at most ``max_connector_m`` between two
islands) is scored by the origin-destination pairs it makes reachable on
low-stress routes; the best is applied and the rest re-scored.

The ``cycling`` pipeline step (:mod:`geodistrict.pipeline.steps.cycling`)
reads the configuration and calls these functions.

Map data © OpenStreetMap contributors (ODbL).

Examples
--------
>>> import geodistrict as gd
>>> from geodistrict import cycling
>>> g = cycling.add_lts(gd.datasets.sample_layers().bike_graph)
>>> net = cycling.bike_network(g)
>>> sorted(net["lts"].dropna().unique().astype(int).tolist())
[1, 2, 3, 4]
"""

from geodistrict.cycling.circuits import circuit, info_points
from geodistrict.cycling.gaps import missing_links
from geodistrict.cycling.isochrone import isochrones
from geodistrict.cycling.layer import bike_network, lts_agreement
from geodistrict.cycling.low_stress import connectivity, low_stress_islands
from geodistrict.cycling.lts import (
    INFRA_TYPES,
    add_lts,
    classify_lts,
)
from geodistrict.cycling.lts import (
    _classify_rows as _classify_rows,  # tests and benchmarks compare it with the shortcut
)
from geodistrict.cycling.places import DESTINATION_CATEGORIES, destinations, key_places, origins

__all__ = [
    "DESTINATION_CATEGORIES",
    "INFRA_TYPES",
    "add_lts",
    "bike_network",
    "circuit",
    "classify_lts",
    "connectivity",
    "destinations",
    "info_points",
    "isochrones",
    "key_places",
    "low_stress_islands",
    "lts_agreement",
    "missing_links",
    "origins",
]
