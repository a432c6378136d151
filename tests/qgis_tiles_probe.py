"""Run by Debian's system Python with PyQGIS: open OGC API - Tiles as a QGIS vector tile layer.

Usage: python3 qgis_tiles_probe.py URL_TEMPLATE ZMIN ZMAX MINX MINY MAXX MAXY
-> JSON on stdout: whether the layer is valid, its zoom range, and how many pixels
QGIS draws when it renders the layer (tiles fetched from the URL, MVT decoded by
QGIS) over the EPSG:3857 extent given and over an empty area far from it.
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
url, zmin, zmax = sys.argv[1:4]
extent = [float(v) for v in sys.argv[4:8]]
layer = QgsVectorTileLayer(f"type=xyz&url={url}&zmin={zmin}&zmax={zmax}", "tiles")
renderer = QgsVectorTileBasicRenderer()
renderer.setStyles(QgsVectorTileBasicRenderer.simpleStyleWithRandomColors())
layer.setRenderer(renderer)


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
result = {
    "valid": layer.isValid(),
    "zmin": layer.sourceMinZoom(),
    "zmax": layer.sourceMaxZoom(),
    "drawn": drawn(extent),
    "drawn_far": drawn(far),
}
print(json.dumps(result))
app.exitQgis()
