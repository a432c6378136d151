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
units or POIs, schools, stations, services, parks) are snapped to the nearest
node of the largest strongly connected part of the graph (never into a
dead-end or one-way trap). Connectivity follows the PeopleForBikes Bicycle
Network Analysis: a destination within ``bikeshed_m`` is connected when a
low-stress route (every edge at LTS <= threshold) is at most ``detour_ratio``
times the shortest; scores per destination type and weighted overall.
Low-stress islands are the connected components of the low-stress edges
(direction ignored). Missing links are
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
from geodistrict.cycling.low_stress import (
    BNA_STEPS,
    bna_step_score,
    connectivity,
    low_stress_islands,
)
from geodistrict.cycling.lts import (
    INFRA_TYPES,
    WAY_TAGS,
    add_lts,
    classify_lts,
    crossing_lts,
    lts_tag_warnings,
    with_way_tags,
)
from geodistrict.cycling.lts import (
    _classify_rows as _classify_rows,  # tests and benchmarks compare it with the shortcut
)
from geodistrict.cycling.places import (
    BNA_TYPES,
    BNA_WEIGHTS,
    DESTINATION_CATEGORIES,
    destinations,
    key_places,
    origins,
)

__all__ = [
    "BNA_STEPS",
    "BNA_TYPES",
    "BNA_WEIGHTS",
    "DESTINATION_CATEGORIES",
    "INFRA_TYPES",
    "WAY_TAGS",
    "add_lts",
    "bike_network",
    "bna_step_score",
    "circuit",
    "classify_lts",
    "connectivity",
    "crossing_lts",
    "destinations",
    "info_points",
    "isochrones",
    "key_places",
    "low_stress_islands",
    "lts_agreement",
    "lts_tag_warnings",
    "missing_links",
    "origins",
    "with_way_tags",
]
