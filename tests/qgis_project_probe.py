"""Run by Debian's system Python with PyQGIS (not the project's venv): QGIS opens a .qgz.

Usage: python3 qgis_project_probe.py PROJECT.qgz PNG -> JSON on stdout:
whether ``QgsProject.read`` succeeds, the project CRS, start extent and
metadata, the layer tree (groups and the layers in each, ticked or not), every
layer (valid, kind, name, source, CRS, features, renderer, legend labels; for
rasters the band and renderer type), and a render of the ticked layers to PNG
at the start extent (``QgsMapRendererParallelJob``): its size and the number of
distinct colours in it.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (
    QgsApplication,
    QgsLayerTreeGroup,
    QgsLayerTreeLayer,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

app = QgsApplication([], False)
app.initQgis()

project = QgsProject.instance()
result = {"read": project.read(sys.argv[1])}
png = sys.argv[2]
result["crs"] = project.crs().authid()
result["title"] = project.title()
metadata = project.metadata()
result["abstract"] = metadata.abstract()
result["language"] = metadata.language()
result["links"] = [[link.type, link.url] for link in metadata.links()]
result["absolute_paths"] = project.readBoolEntry("Paths", "/Absolute", True)[0]
extent = project.viewSettings().defaultViewExtent()
result["default_extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(),
                            extent.yMaximum(), extent.crs().authid()]  # fmt: skip


def tree(group, path):
    """Groups as {"a/b": [layer names]} and each layer's group and ticked state."""
    groups, where = {}, {}
    for child in group.children():
        if isinstance(child, QgsLayerTreeGroup):
            sub = f"{path}/{child.name()}" if path else child.name()
            groups[sub] = []
            inner_groups, inner_where = tree(child, sub)
            groups.update(inner_groups)
            where.update(inner_where)
        elif isinstance(child, QgsLayerTreeLayer):
            groups.setdefault(path, []).append(child.name())
            where[child.layerId()] = {"group": path, "visible": child.isVisible()}
    return groups, where


groups, where = tree(project.layerTreeRoot(), "")
result["groups"] = groups
result["layers"] = {}
for layer_id, layer in project.mapLayers().items():
    entry = {
        "name": layer.name(),
        "valid": layer.isValid(),
        "source": layer.source(),
        "crs": layer.crs().authid(),
        "group": where.get(layer_id, {}).get("group"),
        "visible": where.get(layer_id, {}).get("visible"),
        "rights": list(layer.metadata().rights()),
    }
    if isinstance(layer, QgsVectorLayer):
        renderer = layer.renderer()
        entry.update(
            kind="vector",
            features=layer.featureCount(),
            renderer=renderer.type() if renderer else None,
            legend=[item.label() for item in renderer.legendSymbolItems()] if renderer else [],
        )
    elif isinstance(layer, QgsRasterLayer):
        renderer = layer.renderer()
        entry.update(
            kind="raster",
            bands=layer.bandCount(),
            renderer=renderer.type() if renderer else None,
            band=renderer.band() if hasattr(renderer, "band") else None,
            legend=[text for text, _colour in renderer.legendSymbologyItems()] if renderer else [],
        )
    result["layers"][layer_id] = entry

# Render what a user sees when the project opens: the ticked layers, top first.
ordered = [node.layer() for node in project.layerTreeRoot().findLayers()
           if node.isVisible() and node.layer() is not None]  # fmt: skip
settings = QgsMapSettings()
settings.setLayers(ordered)
settings.setDestinationCrs(project.crs())
settings.setExtent(extent)
settings.setOutputSize(QSize(1200, 1000))
settings.setBackgroundColor(QColor(255, 255, 255))
settings.setTransformContext(project.transformContext())
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
image.save(png, "PNG")
colours = set()
step = 2
for x in range(0, image.width(), step):
    for y in range(0, image.height(), step):
        colours.add(image.pixel(x, y))
white = QColor(255, 255, 255).rgb()
non_white = 0
for x in range(0, image.width(), 4):
    for y in range(0, image.height(), 4):
        non_white += image.pixel(x, y) != white
result["render"] = {
    "width": image.width(),
    "height": image.height(),
    "layers": [layer.name() for layer in ordered],
    "colours": len(colours),
    "non_white_share": non_white / ((image.width() // 4) * (image.height() // 4)),
    "errors": [f"{e.layerID}: {e.message}" for e in job.errors()],
}
print(json.dumps(result), flush=True)
os._exit(0)  # QgsApplication.exitQgis() can crash at interpreter shutdown
