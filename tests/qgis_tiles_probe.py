"""Run by Debian's system Python with PyQGIS: open vector tiles as a QGIS vector tile layer.

Usage: python3 qgis_tiles_probe.py SOURCE ZMIN ZMAX MINX MINY MAXX MAXY [LAYER ...]

SOURCE is either an XYZ URL template (OGC API - Tiles of the service) or the
path of an ``.mbtiles`` file, opened offline as QGIS's *Add Vector Tile Layer*
does (``type=mbtiles``; the zoom range then comes from the file's metadata and
ZMIN/ZMAX are not used).
-> JSON on stdout: whether the layer is valid, its zoom range, and how many pixels
QGIS draws when it renders the layer (tiles fetched or read, MVT decoded by
QGIS) over the EPSG:3857 extent given and over an empty area far from it; with
LAYER names, also the pixels drawn by a style of only that MVT layer
("layers": {name: pixels}), so each layer is shown to be in the tiles.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorTileBasicRenderer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

app = QgsApplication([], False)
app.initQgis()
source, zmin, zmax = sys.argv[1:4]
extent = [float(v) for v in sys.argv[4:8]]
names = sys.argv[8:]
if source.endswith(".mbtiles"):
    uri = f"type=mbtiles&url={source}"
else:
    uri = f"type=xyz&url={source}&zmin={zmin}&zmax={zmax}"
layer = QgsVectorTileLayer(uri, "tiles")


def styled(only=None):
    """A renderer drawing every layer (random colours), or only the MVT layer ``only``."""
    renderer = QgsVectorTileBasicRenderer()
    styles = QgsVectorTileBasicRenderer.simpleStyleWithRandomColors()
    if only is not None:
        for style in styles:
            style.setLayerName(only)
    renderer.setStyles(styles)
    return renderer


def drawn(bounds):
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(QgsRectangle(*bounds))
    settings.setOutputSize(QSize(512, 512))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    white = QColor(255, 255, 255).rgb()
    return sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if image.pixel(x, y) != white
    )


width = extent[2] - extent[0]
far = [extent[0] + 50 * width, extent[1], extent[2] + 50 * width, extent[3]]
layer.setRenderer(styled())
result = {
    "valid": layer.isValid(),
    "provider": layer.sourceType() if hasattr(layer, "sourceType") else None,
    "zmin": layer.sourceMinZoom(),
    "zmax": layer.sourceMaxZoom(),
    "drawn": drawn(extent),
    "drawn_far": drawn(far),
    "layers": {},
}
for name in names:
    layer.setRenderer(styled(name))
    result["layers"][name] = drawn(extent)
layer.setRenderer(styled("no_such_layer"))
result["drawn_unknown_layer"] = drawn(extent)
print(json.dumps(result))
app.exitQgis()
