"""The WSGI application served by gunicorn: pygeoapi's Flask app with one request check.

pygeoapi 0.24 answers a malformed ``bbox`` on a coverage request
(``/collections/<id>/coverage?bbox=1,2,3``) with HTTP 500, although it is the
client's mistake (the features endpoint answers 400).  The check added by
:func:`create_app` answers 400 with pygeoapi's message and exception format
before pygeoapi sees the request; everything else is pygeoapi's.

pygeoapi reads its configuration when its application is imported, from
``PYGEOAPI_CONFIG`` and ``PYGEOAPI_OPENAPI`` (set by
:func:`geodistrict.publish.server.serve`): hence a factory, called by gunicorn
(``geodistrict.publish.wsgi:create_app()``), not a module-level application.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["create_app"]


def create_app() -> Any:
    """pygeoapi's Flask application, with the coverage ``bbox`` check."""
    from flask import Response, request
    from pygeoapi.api import validate_bbox
    from pygeoapi.flask_app import APP

    def coverage_bbox() -> Response | None:
        """400, not 500, for a coverage request whose ``bbox`` is not 4 or 6 numbers."""
        bbox = request.args.get("bbox")
        if bbox is None or not request.path.rstrip("/").endswith("/coverage"):
            return None
        try:
            validate_bbox(bbox)
        except ValueError as exc:
            body = {"code": "InvalidParameterValue", "type": "InvalidParameterValue",
                    "description": str(exc)}  # fmt: skip
            return Response(json.dumps(body), status=400, mimetype="application/json")
        return None

    if coverage_bbox.__name__ not in {f.__name__ for f in APP.before_request_funcs.get(None, [])}:
        APP.before_request(coverage_bbox)
    return APP
