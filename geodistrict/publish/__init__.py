"""Publishing: district outputs as OGC API endpoints through pygeoapi.

A thin layer over the plain functions: :func:`pygeoapi_config` turns the
manifests of one or more district output folders into a pygeoapi
configuration; :mod:`geodistrict.publish.providers` holds the small provider
fix the service needs; :func:`serve` runs pygeoapi under gunicorn.  Nothing
outside this package imports pygeoapi.
"""

from __future__ import annotations

from geodistrict.publish.config import pygeoapi_config, write_pygeoapi_config
from geodistrict.publish.server import serve

__all__ = ["pygeoapi_config", "serve", "write_pygeoapi_config"]
