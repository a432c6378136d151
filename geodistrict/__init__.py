"""geodistrict: spatial planning of commercial and productive districts.

Turns OpenStreetMap data and a district's own surveys into the layers a
*Distretto del Commercio* or a productive district needs.  Map data
© OpenStreetMap contributors (ODbL).

Examples
--------
>>> import geodistrict as gd
>>> cfg = gd.datasets.sample_config()
>>> layers = gd.load_base_layers(cfg)
>>> layers.crs.to_epsg()
32635
"""

from __future__ import annotations

import logging

from geodistrict import datasets
from geodistrict._version import __version__
from geodistrict.area import local_crs, study_area
from geodistrict.config import DistrictConfig, load_config
from geodistrict.errors import (
    ConfigError,
    CRSError,
    EmptyAreaError,
    GeodistrictError,
    InputFileNotFoundError,
    NetworkUnavailableError,
    OutputError,
    SourceError,
    SurveyError,
)
from geodistrict.ingest import BaseLayers, load_base_layers
from geodistrict.network import build_graph
from geodistrict.pipeline import run
from geodistrict.store import read_manifest, write_layers

__all__ = [
    "BaseLayers",
    "CRSError",
    "ConfigError",
    "DistrictConfig",
    "EmptyAreaError",
    "GeodistrictError",
    "InputFileNotFoundError",
    "NetworkUnavailableError",
    "OutputError",
    "SourceError",
    "SurveyError",
    "__version__",
    "build_graph",
    "datasets",
    "load_base_layers",
    "load_config",
    "local_crs",
    "read_manifest",
    "run",
    "study_area",
    "write_layers",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
