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

from shapely.geometry import Polygon

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
#: Key places of the circuit added by ``osm_xml(civic=True)``; the town hall lies in
#: the hole of :func:`area_with_hole`.
CIVIC = [
    (106, (1.5, 1.5), {"amenity": "townhall", "name": "Municipio"}),
    (107, (2.5, 2.5), {"leisure": "park", "name": "Parco Verde"}),
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


def osm_xml(
    *,
    shops: bool = True,
    vacant: bool = True,
    transit: bool = True,
    buildings: bool = True,
    cycleways: bool = True,
    oneway_against: bool = False,
    civic: bool = False,
) -> str:
    """The whole synthetic district as an OSM XML document.

    Parameters
    ----------
    shops : bool, default True
        The two shops and the cafe (without them nothing is a commercial unit).
    vacant : bool, default True
        The ``shop=vacant`` and ``disused:shop`` units.
    transit : bool, default True
        The bus stop and the railway station.
    buildings : bool, default True
        The four buildings (no origins of the cycling analysis without them).
    cycleways : bool, default True
        Row 1 as a cycleway and column 3 as a footway open to bicycles;
        without them row 1 is a residential street and column 3 a plain footway.
    oneway_against : bool, default False
        Via Roma (row 0) and row 1 tagged ``oneway=-1``: one way, against the
        direction they are drawn (west to east), i.e. east to west only.
    civic : bool, default False
        Add :data:`CIVIC`: a town hall in the middle block and a park, key
        places of the cycling circuit.
    """
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    parts += [_node(n, node_lonlat(n)) for n in range(1, GRID * GRID + 1)]
    pois = [p for p in POIS if (shops if p[0] <= 103 else vacant)]
    pois += CIVIC if civic else []
    parts += [_node(pid, _at(pos), tags) for pid, pos, tags in pois + (STOPS if transit else [])]
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
        if buildings:
            tags = {"building": "retail" if k else "yes"}
            polygons.append((ring(x, y, x + 0.4, y + 0.4), tags))
    polygons.append((ring(1.1, 2.1, 2.9, 2.9), {"landuse": "residential"}))
    boundary_ring = ring(-0.5, -0.5, 3.5, 3.5)

    way_id = 500
    for row, tags in ROWS.items():
        if not cycleways and tags["highway"] == "cycleway":
            tags = {"highway": "residential", "name": "Via Martesana"}
        if oneway_against and row in (0, 1):
            tags = {**tags, "oneway": "-1"}
        parts.append(_way(way_id, [row * GRID + c + 1 for c in range(GRID)], tags))
        way_id += 1
    for col in range(GRID):
        last = BIKE_FOOTWAY if cycleways else {"highway": "footway", "name": "Passaggio"}
        tags = last if col == GRID - 1 else RESIDENTIAL
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


def write(folder: Path, *, compressed: bool = False, **variant: bool) -> Path:
    """Write the district to ``folder/testville.osm`` (or ``.osm.bz2``) and return the path.

    ``variant`` are the keyword switches of :func:`osm_xml`.
    """
    text = osm_xml(**variant).encode("utf-8")
    if compressed:
        path = folder / "testville.osm.bz2"
        path.write_bytes(bz2.compress(text))
    else:
        path = folder / "testville.osm"
        path.write_bytes(text)
    return path


#: Firms of :func:`write_firms`: id, position in grid units, ATECO code, employees.
FIRMS = [
    ("F1", (0.6, 0.4), "25.11", 12),
    ("F2", (1.6, 0.4), "25.62", 8),
    ("F3", (2.6, 0.4), "47.11", 3),
    ("F4", (0.6, 1.6), "62.01", 5),
    ("F5", (2.6, 2.6), "10.71", 4),
]


def write_firms(folder: Path, *, rows: bool = True) -> Path:
    """A firms survey (``folder/firms.csv``) of five firms in Testville, or its header only."""
    header = "firm_id,name,lon,lat,municipality,ateco,employees"
    lines = [header]
    if rows:
        for fid, pos, ateco, employees in FIRMS:
            lon, lat = _at(pos)
            lines.append(f"{fid},Impresa {fid},{lon:.7f},{lat:.7f},Testville,{ateco},{employees}")
    path = folder / "firms.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: The hole of :func:`area_with_hole` (lon/lat): the block between nodes 6, 7, 10, 11.
HOLE = Polygon([_at(p) for p in [(1.2, 1.2), (1.2, 1.8), (1.8, 1.8), (1.8, 1.2), (1.2, 1.2)]])


def area_with_hole(folder: Path) -> Path:
    """A GeoJSON study area (``folder/area.geojson``): the grid with a hole in its middle.

    The outer ring is :func:`bbox`; the inner ring cuts out the block between
    nodes 6, 7, 10 and 11 (columns and rows 1.2 to 1.8 in grid units).
    """
    import json

    west, south, east, north = bbox()
    hole = list(HOLE.exterior.coords)
    outer = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    feature = {
        "type": "Feature",
        "properties": {"name": "Testville"},
        "geometry": {"type": "Polygon", "coordinates": [outer, hole]},
    }
    path = folder / "area.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def bbox() -> list[float]:
    """A bbox (west, south, east, north) around the whole grid with a margin."""
    return [LON0 - 0.3 * DLON, LAT0 - 0.3 * DLAT, LON0 + 3.3 * DLON, LAT0 + 3.3 * DLAT]
