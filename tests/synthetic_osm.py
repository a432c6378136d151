"""A tiny synthetic OSM district written as OSM XML, with answers known by construction.

Layout (near Pioltello, 100 m grid, 4 x 4 nodes; node ids 1..16 row by row from
the south-west)::

    13 - 14 - 15 - 16      row 3: footway (no bicycle tag): walk only
    |    |    |    |
    9 - 10 - 11 - 12       row 2: primary, oneway=yes (west to east)
    |    |    |    |
    5 -  6 -  7 -  8       row 1: cycleway
    |    |    |    |
    1 -  2 -  3 -  4       row 0: residential, two-way
    columns: residential, except column 3 (4-8-12-16): footway with bicycle=yes

Features: two shops and a cafe, one ``shop=vacant`` and one ``disused:shop``,
a bus stop and a railway station, four buildings, a landuse polygon, a
``boundary=administrative`` relation named "Testville" around everything.
"""

from __future__ import annotations

import bz2
from pathlib import Path
from xml.sax.saxutils import quoteattr

LON0, LAT0 = 9.3300, 45.4900
DLON, DLAT = 0.00128, 0.0009  # about 100 m each way at this latitude
GRID = 4

ROWS = {0: {"highway": "residential", "name": "Via Roma"},
        1: {"highway": "cycleway", "name": "Ciclabile Martesana"},
        2: {"highway": "primary", "oneway": "yes", "name": "Strada Padana"},
        3: {"highway": "footway"}}  # fmt: skip
BIKE_FOOTWAY = {"highway": "footway", "bicycle": "yes", "name": "Passaggio"}
RESIDENTIAL = {"highway": "residential"}

POIS = [  # id, (col, row) position in grid units, tags
    (101, (0.5, 0.2), {"shop": "bakery", "name": "Forno"}),
    (102, (1.5, 0.2), {"shop": "clothes", "name": "Moda"}),
    (103, (2.5, 0.2), {"amenity": "cafe", "name": "Bar Sport"}),
    (104, (0.5, 1.2), {"shop": "vacant"}),
    (105, (1.5, 1.2), {"disused:shop": "butcher"}),
]
STOPS = [
    (201, (2.5, 1.8), {"highway": "bus_stop", "name": "Fermata Centro"}),
    (202, (0.2, 2.5), {"railway": "station", "name": "Stazione Testville", "train": "yes"}),
]
#: What ingestion must find.
EXPECTED = {"pois": 5, "vacant": 2, "transit_stops": 2, "buildings": 4, "landuse": 1}


def node_lonlat(node_id: int) -> tuple[float, float]:
    """Coordinates of grid node ``node_id`` (1..16)."""
    row, col = divmod(node_id - 1, GRID)
    return LON0 + col * DLON, LAT0 + row * DLAT


def _at(pos: tuple[float, float]) -> tuple[float, float]:
    return LON0 + pos[0] * DLON, LAT0 + pos[1] * DLAT


def _tags(tags: dict[str, str]) -> str:
    return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())


def _node(nid: int, lonlat: tuple[float, float], tags: dict[str, str] | None = None) -> str:
    lon, lat = lonlat
    body = _tags(tags or {})
    attrs = f'id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"'
    return f"<node {attrs}>{body}</node>" if body else f"<node {attrs}/>"


def _way(wid: int, refs: list[int], tags: dict[str, str]) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    return f'<way id="{wid}" version="1">{nds}{_tags(tags)}</way>'


def osm_xml() -> str:
    """The whole synthetic district as an OSM XML document."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    parts += [_node(n, node_lonlat(n)) for n in range(1, GRID * GRID + 1)]
    parts += [_node(pid, _at(pos), tags) for pid, pos, tags in POIS + STOPS]
    # Corners of buildings, landuse and the boundary: ids from 1000.
    next_id = 1000
    polygons: list[tuple[list[int], dict[str, str]]] = []

    def ring(x0: float, y0: float, x1: float, y1: float) -> list[int]:
        nonlocal next_id
        ids = []
        for pos in [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]:
            parts.append(_node(next_id, _at(pos)))
            ids.append(next_id)
            next_id += 1
        return [*ids, ids[0]]

    for k, (x, y) in enumerate([(0.3, 0.3), (1.3, 0.3), (2.3, 0.3), (0.3, 1.3)]):
        polygons.append((ring(x, y, x + 0.4, y + 0.4), {"building": "retail" if k else "yes"}))
    polygons.append((ring(1.1, 2.1, 2.9, 2.9), {"landuse": "residential"}))
    boundary_ring = ring(-0.5, -0.5, 3.5, 3.5)

    way_id = 500
    for row, tags in ROWS.items():
        parts.append(_way(way_id, [row * GRID + c + 1 for c in range(GRID)], tags))
        way_id += 1
    for col in range(GRID):
        tags = BIKE_FOOTWAY if col == GRID - 1 else RESIDENTIAL
        parts.append(_way(way_id, [r * GRID + col + 1 for r in range(GRID)], tags))
        way_id += 1
    for refs, tags in polygons:
        parts.append(_way(way_id, refs, tags))
        way_id += 1
    parts.append(_way(way_id, boundary_ring, {}))
    parts.append(
        f'<relation id="900" version="1"><member type="way" ref="{way_id}" role="outer"/>'
        + _tags(
            {
                "type": "boundary",
                "boundary": "administrative",
                "admin_level": "8",
                "name": "Testville",
            }
        )
        + "</relation>"
    )
    parts.append("</osm>")
    return "\n".join(parts)


def write(folder: Path, *, compressed: bool = False) -> Path:
    """Write the district to ``folder/testville.osm`` (or ``.osm.bz2``) and return the path."""
    text = osm_xml().encode("utf-8")
    if compressed:
        path = folder / "testville.osm.bz2"
        path.write_bytes(bz2.compress(text))
    else:
        path = folder / "testville.osm"
        path.write_bytes(text)
    return path


def bbox() -> list[float]:
    """A bbox (west, south, east, north) around the whole grid with a margin."""
    return [LON0 - 0.3 * DLON, LAT0 - 0.3 * DLAT, LON0 + 3.3 * DLON, LAT0 + 3.3 * DLAT]
