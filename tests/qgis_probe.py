"""Run by Debian's system Python with PyQGIS (not the project's venv): what QGIS sees.

Usage: python3 qgis_probe.py GPKG [OAPIF_URL] -> JSON on stdout, per layer:
the feature count and style QGIS loads from the GeoPackage, whether every
feature gets a symbol, and (with a URL) the count QGIS's OAPIF provider reads.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (
    QgsApplication,
    QgsExpressionContextUtils,
    QgsFeatureRequest,
    QgsMapSettings,
    QgsRenderContext,
    QgsVectorLayer,
)

app = QgsApplication([], False)
app.initQgis()
gpkg = sys.argv[1]
url = sys.argv[2] if len(sys.argv) > 2 else None
district = sys.argv[3] if len(sys.argv) > 3 else "sample"
result = {}
probe = QgsVectorLayer(gpkg, "probe", "ogr")
names = [s.split("!!::!!")[1] for s in probe.dataProvider().subLayers()]
for name in names:
    if name == "layer_styles":
        continue
    layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
    message, loaded = layer.loadDefaultStyle()
    renderer = layer.renderer()
    # As QGIS's map renderer does: layer scopes, and each feature set into the context.
    context = QgsRenderContext.fromMapSettings(QgsMapSettings())
    context.expressionContext().appendScopes(
        QgsExpressionContextUtils.globalProjectLayerScopes(layer)
    )
    renderer.startRender(context, layer.fields())
    unsymbolled = 0
    for feature in layer.getFeatures(QgsFeatureRequest()):
        context.expressionContext().setFeature(feature)
        unsymbolled += not renderer.symbolsForFeature(feature, context)
    renderer.stopRender(context)
    entry = {
        "valid": layer.isValid(),
        "features": layer.featureCount(),
        "style_loaded": bool(loaded) and "Provider" in message,
        "renderer": renderer.type(),
        "unsymbolled": unsymbolled,
    }
    if url:
        remote = QgsVectorLayer(
            f"url='{url}' typename='{district}-{name}' restrictToRequestBBOX='0'", name, "OAPIF"
        )
        entry["oapif_valid"] = remote.isValid()
        entry["oapif_features"] = sum(1 for _ in remote.getFeatures()) if remote.isValid() else -1
    result[name] = entry
print(json.dumps(result), flush=True)
os._exit(0)  # QgsApplication.exitQgis() can crash at interpreter shutdown
