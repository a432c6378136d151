"""The WSGI application served by gunicorn: pygeoapi's Flask app with request checks.

:func:`create_app` adds, in front of pygeoapi, the checks that make a
malformed request a 4xx answer naming the bad input (pygeoapi 0.24 answers
some of them with HTTP 500), and closes what a public service should not
offer:

- a coverage ``bbox`` that is not 4 or 6 numbers: 400 (pygeoapi: 500);
- a query parameter given more than once (``?limit=1&limit=x``: pygeoapi
  would silently use one of them, and some repeated parameters failed with
  500), or a NUL character in the path or a query parameter (PostgreSQL
  refuses it with an error pygeoapi answers 500): 400;
- an execution body (``POST /processes/<id>/execution``) or a CQL2-JSON filter
  (``POST /collections/<id>/items``) that is not a JSON object, is larger than
  :data:`MAX_BODY_BYTES` (413) or nests deeper than :data:`MAX_JSON_DEPTH`;
  execution ``inputs`` that are not an object, or a ``subscriber`` callback
  (the server would POST to any URL): 400;
- ``GET /jobs``, the list of every client's jobs: 403.  A job is reached only
  through the id its creator was given (``/jobs/<id>``, ``/jobs/<id>/results``);
  ids are random (:class:`geodistrict.publish.jobs.JobManager`);
- a synchronous execution's answer carries no ``Location`` header (nothing is
  stored, so there is nothing to point to);
- ``?f=csv`` uses :class:`geodistrict.publish.providers.FormulaSafeCSVFormatter`;
- ``/atlas`` and ``/atlas/<district>``: the district atlas
  (:func:`geodistrict.publish.web.register_pages`).

Everything else is pygeoapi's.  The answers use pygeoapi's exception format
(``{"code", "type", "description"}``).

pygeoapi reads its configuration when its application is imported, from
``PYGEOAPI_CONFIG`` and ``PYGEOAPI_OPENAPI`` (set by
:func:`geodistrict.publish.server.serve`): hence a factory, called by gunicorn
(``geodistrict.publish.wsgi:create_app()``), not a module-level application.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_BODY_BYTES", "MAX_JSON_DEPTH", "create_app", "json_depth"]

#: Largest execution body accepted (bytes): a detailed district polygon fits many times.
MAX_BODY_BYTES = 4_000_000
#: Deepest JSON nesting accepted in an execution body (a MultiPolygon needs 6).
MAX_JSON_DEPTH = 32


def json_depth(value: Any) -> int:
    """Nesting depth of parsed JSON (a scalar is 0, ``[[1]]`` is 2), without recursion.

    Examples
    --------
    >>> json_depth({"inputs": {"point": [1, 2]}}), json_depth(3)
    (3, 0)
    """
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _error(status: int, code: str, description: str) -> Any:
    from flask import Response

    body = {"code": code, "type": code, "description": description}
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (``null``, ``array``, ...)."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _body_problem(raw: bytes, *, execution: bool) -> str | None:
    """Why a POSTed JSON body (an execution, or a CQL2-JSON filter) cannot be used, or None."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "the request body is not UTF-8 text"
    except RecursionError:
        return f"the request body nests deeper than {MAX_JSON_DEPTH} levels"
    except ValueError as exc:
        return f"the request body is not JSON (at character {getattr(exc, 'pos', '?')})"
    if not isinstance(data, dict):
        what = "a JSON object with 'inputs'" if execution else "a JSON object (CQL2-JSON)"
        return f"the request body must be {what}, got {_json_type(data)}"
    if json_depth(data) > MAX_JSON_DEPTH:
        return f"the request body nests deeper than {MAX_JSON_DEPTH} levels"
    if not execution:
        return None
    if "inputs" in data and not isinstance(data["inputs"], dict):
        return f"'inputs' must be a JSON object, got {_json_type(data['inputs'])}"
    if data.get("subscriber") is not None:
        return "subscriber callbacks are not offered by this service: poll the job instead"
    return None


def create_app() -> Any:
    """pygeoapi's Flask application, with the checks above."""
    from flask import Response, request
    from pygeoapi.api import validate_bbox
    from pygeoapi.plugin import PLUGINS

    PLUGINS["formatter"]["CSV"] = "geodistrict.publish.providers.FormulaSafeCSVFormatter"
    from pygeoapi.flask_app import APP

    def coverage_bbox() -> Response | None:
        """400, not 500, for a coverage request whose ``bbox`` is not 4 or 6 numbers."""
        bbox = request.args.get("bbox")
        if bbox is None or not request.path.rstrip("/").endswith("/coverage"):
            return None
        try:
            validate_bbox(bbox)
        except ValueError as exc:
            return _error(400, "InvalidParameterValue", str(exc))
        return None

    def private_jobs() -> Response | None:
        """403 for the job list: nobody may see the jobs of others."""
        rule = request.url_rule.rule if request.url_rule is not None else ""
        if request.method == "GET" and rule.rstrip("/").endswith("/jobs"):
            message = ("the job list is not public: a job is reached at /jobs/<id>, the "
                       "address its execution answered (Location)")  # fmt: skip
            return _error(403, "Forbidden", message)
        return None

    def query_checks() -> Response | None:
        """400 for a repeated query parameter, or a NUL in the path or a parameter."""
        for name, values in request.args.lists():
            if len(values) > 1:
                message = (
                    f"query parameter {name[:40]!r} is given {len(values)} times: give it once"
                )
                return _error(400, "InvalidParameterValue", message)
        for name, value in request.args.items(multi=True):
            if "\x00" in name or "\x00" in value:
                message = f"query parameter {name[:40]!r} contains a NUL character"
                return _error(400, "InvalidParameterValue", message)
        if "\x00" in request.path:
            return _error(400, "InvalidParameterValue", "the path contains a NUL character")
        return None

    def json_body() -> Response | None:
        """400 for an execution or CQL2-JSON body that is not a usable JSON object."""
        path = request.path.rstrip("/")
        execution = path.endswith("/execution")
        if request.method != "POST" or not (execution or path.endswith("/items")):
            return None
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _error(413, "PayloadTooLarge",
                          f"the request body is larger than {MAX_BODY_BYTES} bytes")  # fmt: skip
        raw = request.get_data(cache=True)
        if not raw and not execution:
            return None  # pygeoapi answers a POST without a filter
        problem = _body_problem(raw, execution=execution)
        return _error(400, "InvalidParameterValue", problem) if problem else None

    def no_location_when_sync(response: Response) -> Response:
        """A synchronous answer (200) points to no job: nothing was stored."""
        if request.path.rstrip("/").endswith("/execution") and response.status_code != 201:
            response.headers.pop("Location", None)
        return response

    checks = (query_checks, coverage_bbox, private_jobs, json_body)
    present = {f.__name__ for f in APP.before_request_funcs.get(None, [])}
    for check in checks:
        if check.__name__ not in present:
            APP.before_request(check)
    if no_location_when_sync.__name__ not in {
        f.__name__ for f in APP.after_request_funcs.get(None, [])
    }:
        APP.after_request(no_location_when_sync)
    APP.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    from geodistrict.publish.web import register_pages

    register_pages(APP)  # the district atlas (/atlas)
    return APP
