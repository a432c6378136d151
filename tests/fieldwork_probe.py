"""Run by Debian's system Python with PyQGIS (not the project's venv): QGIS reads a field project.

Usage: python3 fieldwork_probe.py PROJECT.qgs [FEATURES.json] -> JSON on stdout:
whether ``QgsProject.read`` succeeds, the project CRS and start extent, each
layer (valid, read-only, renderer, labels, features), and for the editable
layer every field's editor widget and configuration, alias, default value,
constraints, whether the form lets it be edited, the value-map label QGIS shows
for each stored code, and the tabs of the form.

With FEATURES.json (a list of ``{"lon": .., "lat": .., "values": {field: value}}``),
each feature is created as QGIS's form creates one (``QgsVectorLayerUtils.createFeature``:
default values evaluated), given the values (converted to the field types), its constraints
are checked (``validateAttribute``), and the valid ones are added
(``QgsVectorLayer.addFeature``) and committed to the GeoPackage.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (
    QgsApplication,
    QgsExpressionContextUtils,
    QgsFieldConstraints,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsValueMapFieldFormatter,
    QgsVectorLayerUtils,
)

app = QgsApplication([], False)
app.initQgis()


def plain(value):
    """A QVariant's value as JSON (dates as ISO text, NULL as None)."""
    if value is None or (hasattr(value, "isNull") and value.isNull()):
        return None
    if hasattr(value, "toString") and hasattr(value, "isValid"):  # QDate, QDateTime
        return value.toString("yyyy-MM-dd")
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


project = QgsProject.instance()
result = {"read": project.read(sys.argv[1])}
result["crs"] = project.crs().authid()
result["title"] = project.title()
extent = project.viewSettings().defaultViewExtent()
result["default_extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(),
                            extent.yMaximum(), extent.crs().authid()]  # fmt: skip
result["layers"] = {}
editable = None
for layer in project.mapLayers().values():
    labeling = layer.labeling()
    result["layers"][layer.id()] = {
        "name": layer.name(),
        "valid": layer.isValid(),
        "read_only": layer.readOnly(),
        "crs": layer.crs().authid(),
        "renderer": layer.renderer().type() if layer.renderer() else None,
        "labels": labeling.settings().fieldName if layer.labelsEnabled() and labeling else None,
        "features": layer.featureCount(),
        "display": layer.displayExpression(),
        "source": layer.source(),
        "custom": {k: layer.customProperty(k) for k in layer.customPropertyKeys()},
        "rights": list(layer.metadata().rights()),
    }
    if not layer.readOnly():
        editable = layer

fields = {}
if editable is not None:
    form = editable.editFormConfig()
    formatter = QgsValueMapFieldFormatter()
    for i, f in enumerate(editable.fields()):
        setup = f.editorWidgetSetup()
        constraints = f.constraints()
        default = editable.defaultValueDefinition(i)
        entry = {
            "type": f.typeName(),
            "qtype": f.type(),
            "widget": setup.type(),
            "config": plain(setup.config()),
            "alias": f.alias(),
            "default": default.expression(),
            "default_on_update": default.applyOnUpdate(),
            "not_null": constraints.constraintStrength(QgsFieldConstraints.ConstraintNotNull),
            "unique": constraints.constraintStrength(QgsFieldConstraints.ConstraintUnique),
            "expression": constraints.constraintExpression(),
            "expression_help": constraints.constraintDescription(),
            "form_editable": not form.readOnly(i),
        }
        if setup.type() == "ValueMap":
            codes = [v for item in setup.config()["map"] for v in item.values()]
            entry["shown"] = {
                code: formatter.representValue(editable, i, setup.config(), None, code)
                for code in codes
            }
        fields[f.name()] = entry
    result["fields"] = fields
    result["layout"] = int(form.layout())
    result["tabs"] = [
        [tab.name(), [child.name() for child in tab.children()]]
        for tab in form.invisibleRootContainer().children()
    ]
    result["layer"] = editable.id()

if len(sys.argv) > 2 and editable is not None:
    with open(sys.argv[2], encoding="utf-8") as handle:
        wanted = json.load(handle)
    context = editable.createExpressionContext()
    context.appendScopes(QgsExpressionContextUtils.globalProjectLayerScopes(editable))
    editable.startEditing()
    attempts = []
    for spec in wanted:
        geometry = QgsGeometry.fromPointXY(QgsPointXY(spec["lon"], spec["lat"]))
        names = editable.fields().names()
        # As the form does: a new feature with the default values, then what the surveyor
        # enters, converted to the field types.
        feature = QgsVectorLayerUtils.createFeature(editable, geometry, {}, context)
        for name, value in spec["values"].items():
            index = names.index(name)
            feature.setAttribute(index, editable.fields().at(index).convertCompatible(value))
        failed = {}
        for i, name in enumerate(names):
            ok, errors = QgsVectorLayerUtils.validateAttribute(
                editable, feature, i, QgsFieldConstraints.ConstraintStrengthHard
            )
            if not ok:
                failed[name] = list(errors)
        added = not failed and editable.addFeature(feature)
        attempts.append({
            "failed": failed,
            "added": bool(added),
            "values": {n: plain(feature.attribute(n)) for n in names},
        })  # fmt: skip
    result["committed"] = editable.commitChanges()
    result["commit_errors"] = list(editable.commitErrors())
    result["attempts"] = attempts
print(json.dumps(result), flush=True)
os._exit(0)  # QgsApplication.exitQgis() can crash at interpreter shutdown
