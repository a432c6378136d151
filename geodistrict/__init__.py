"""geodistrict: spatial planning of commercial and productive districts.

Turns OpenStreetMap data and a district's own surveys into the layers a
*Distretto del Commercio* or a productive district needs.  Map data
© OpenStreetMap contributors (ODbL).

Every analysis a planner uses is one call from here, on the district's layers
or on the user's own GeoDataFrames and osmnx graphs (projected, in metres).
Names are imported on first use, so ``import geodistrict`` stays quick.

Examples
--------
>>> import geodistrict as gd
>>> layers = gd.datasets.sample_layers()
>>> layers.crs.to_epsg()
32635
>>> units = gd.classify_units(layers.pois)
>>> centres, membership = gd.retail_centres(units)
>>> len(centres) > 0, membership.index.equals(units.index)
(True, True)
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from geodistrict import datasets
from geodistrict._version import __version__
from geodistrict.config import DistrictConfig, load_config
from geodistrict.errors import (
    ConfigError,
    CRSError,
    EmptyAreaError,
    GeodistrictError,
    InputFileNotFoundError,
    MissingColumnError,
    NetworkUnavailableError,
    OutputError,
    ParameterError,
    ParameterTypeError,
    PipelineError,
    SourceError,
    SurveyError,
)

# Public name -> module that defines it ("module:name" when the name differs, so that no
# front-door function shadows a subpackage); imported lazily by __getattr__ (PEP 562).
_LAZY: dict[str, str] = {
    # base layers, pipeline, outputs
    "BaseLayers": "geodistrict.ingest",
    "load_base_layers": "geodistrict.ingest",
    "study_area": "geodistrict.area",
    "local_crs": "geodistrict.area",
    "run": "geodistrict.pipeline",
    "read_manifest": "geodistrict.store",
    "write_layers": "geodistrict.store",
    # network engine
    "build_graph": "geodistrict.network",
    "graph_arrays": "geodistrict.network",
    "nearest_nodes": "geodistrict.network",
    "accessibility": "geodistrict.network",
    "maximal_covering": "geodistrict.siting",
    # surveys
    "read_survey": "geodistrict.sources.surveys",
    "read_surveys": "geodistrict.sources.surveys",
    "write_xlsform": "geodistrict.sources.surveys",
    "read_register": "geodistrict.sources.register",
    "match_register": "geodistrict.sources.register",
    "geocode_addresses": "geodistrict.geocode:geocode",
    "VACANT_UNITS": "geodistrict.sources.surveys",
    "FIRMS": "geodistrict.sources.surveys",
    # commerce
    "classify_units": "geodistrict.taxonomy",
    "load_taxonomy": "geodistrict.taxonomy",
    "retail_centres": "geodistrict.commerce",
    "category_gaps": "geodistrict.commerce",
    "load_reference_mix": "geodistrict.commerce",
    "commercial_hex": "geodistrict.commerce",
    "street_frontage": "geodistrict.commerce",
    "commercial_access": "geodistrict.commerce",
    "walking_coverage": "geodistrict.commerce",
    "homes": "geodistrict.commerce",
    "density_raster": "geodistrict.commerce",
    "write_density_raster": "geodistrict.commerce",
    "diversity": "geodistrict.commerce",
    # vacant units and their ranking
    "vacant_units": "geodistrict.vacancy",
    "rank_vacant_units": "geodistrict.vacancy",
    "vacancy_by_centre": "geodistrict.vacancy",
    "vacancy_by_street": "geodistrict.vacancy",
    "compute_criteria": "geodistrict.priority",
    "prioritise": "geodistrict.priority",
    "rescore": "geodistrict.priority",
    "sensitivity": "geodistrict.priority",
    "rank_from_folder": "geodistrict.priority",
    "CRITERIA": "geodistrict.priority",
    "DEFAULT_WEIGHTS": "geodistrict.priority",
    "PRESETS": "geodistrict.priority",
    "DEFAULT_PRESET": "geodistrict.priority",
    "get_preset": "geodistrict.priority",
    # cycling
    "add_lts": "geodistrict.cycling",
    "classify_lts": "geodistrict.cycling",
    "bike_network": "geodistrict.cycling",
    "destinations": "geodistrict.cycling",
    "origins": "geodistrict.cycling",
    "connectivity": "geodistrict.cycling",
    "low_stress_islands": "geodistrict.cycling",
    "missing_links": "geodistrict.cycling",
    "key_places": "geodistrict.cycling",
    "circuit": "geodistrict.cycling",
    "info_points": "geodistrict.cycling",
    "isochrones": "geodistrict.cycling",
    # productive district
    "ateco_table": "geodistrict.production",
    "classify_ateco": "geodistrict.production",
    "resolve_ateco": "geodistrict.production",
    "read_lq_reference": "geodistrict.production",
    "osm_firms": "geodistrict.production",
    "match_firms": "geodistrict.production",
    "areas_from_firms": "geodistrict.production",
    "firms_layer": "geodistrict.production",
    "sector_specialisation": "geodistrict.production",
    "firm_clusters": "geodistrict.production",
    "service_sites": "geodistrict.production",
    "match_expansion": "geodistrict.production",
    "needs_summary": "geodistrict.production",
    "protect_counts": "geodistrict.production",
    "audit_disclosure": "geodistrict.production",
    "protect_layers": "geodistrict.production",
    "write_comparison": "geodistrict.monitoring",
    "compare_outputs": "geodistrict.monitoring",
    "unit_changes": "geodistrict.monitoring",
    "vacancy_rate_change": "geodistrict.monitoring",
    "adjacency": "geodistrict.regional",
    "contiguous": "geodistrict.regional",
    "commerce_district_check": "geodistrict.regional",
    "dm1993_indices": "geodistrict.regional",
    "extension_candidates": "geodistrict.regional",
    "estimate_population": "geodistrict.population",
    "read_census_sections": "geodistrict.population",
    "resident_points": "geodistrict.population",
    "district_indicators": "geodistrict.indicators",
    "transit_access": "geodistrict.indicators",
    "run_districts": "geodistrict.batch",
    "districts_from_areas": "geodistrict.batch",
    "write_report": "geodistrict.deliverables.report",
    "write_tables": "geodistrict.deliverables.tables",
    "write_project": "geodistrict.deliverables.qgis",
}

# Subpackages reachable as attributes (gd.network, gd.cycling, ...).
_SUBMODULES = {
    "area", "catalogue", "commerce", "cycling", "hexagons", "ingest", "network", "pipeline",
    "priority", "production", "siting", "store", "taxonomy", "vacancy", "publish", "fieldwork",
    "geocode", "i18n", "monitoring", "regional", "deliverables", "population", "indicators",
    "batch",
}  # fmt: skip

if TYPE_CHECKING:  # what type checkers and IDEs see of the lazy names
    from geodistrict.area import local_crs, study_area
    from geodistrict.batch import districts_from_areas, run_districts
    from geodistrict.commerce import (
        category_gaps,
        commercial_access,
        commercial_hex,
        density_raster,
        diversity,
        homes,
        load_reference_mix,
        retail_centres,
        street_frontage,
        walking_coverage,
        write_density_raster,
    )
    from geodistrict.cycling import (
        add_lts,
        bike_network,
        circuit,
        classify_lts,
        connectivity,
        destinations,
        info_points,
        isochrones,
        key_places,
        low_stress_islands,
        missing_links,
        origins,
    )
    from geodistrict.deliverables.qgis import write_project
    from geodistrict.deliverables.report import write_report
    from geodistrict.deliverables.tables import write_tables
    from geodistrict.geocode import geocode as geocode_addresses
    from geodistrict.indicators import district_indicators, transit_access
    from geodistrict.ingest import BaseLayers, load_base_layers
    from geodistrict.monitoring import (
        compare_outputs,
        unit_changes,
        vacancy_rate_change,
        write_comparison,
    )
    from geodistrict.network import accessibility, build_graph, graph_arrays, nearest_nodes
    from geodistrict.pipeline import run
    from geodistrict.population import (
        estimate_population,
        read_census_sections,
        resident_points,
    )
    from geodistrict.priority import (
        CRITERIA,
        DEFAULT_PRESET,
        DEFAULT_WEIGHTS,
        PRESETS,
        compute_criteria,
        get_preset,
        prioritise,
        rank_from_folder,
        rescore,
        sensitivity,
    )
    from geodistrict.production import (
        areas_from_firms,
        ateco_table,
        audit_disclosure,
        classify_ateco,
        firm_clusters,
        firms_layer,
        match_expansion,
        match_firms,
        needs_summary,
        osm_firms,
        protect_counts,
        protect_layers,
        read_lq_reference,
        resolve_ateco,
        sector_specialisation,
        service_sites,
    )
    from geodistrict.regional import (
        adjacency,
        commerce_district_check,
        contiguous,
        dm1993_indices,
        extension_candidates,
    )
    from geodistrict.siting import maximal_covering
    from geodistrict.sources.register import match_register, read_register
    from geodistrict.sources.surveys import (
        FIRMS,
        VACANT_UNITS,
        read_survey,
        read_surveys,
        write_xlsform,
    )
    from geodistrict.store import read_manifest, write_layers
    from geodistrict.taxonomy import classify_units, load_taxonomy
    from geodistrict.vacancy import (
        rank_vacant_units,
        vacancy_by_centre,
        vacancy_by_street,
        vacant_units,
    )

__all__ = [
    "CRITERIA",
    "DEFAULT_PRESET",
    "DEFAULT_WEIGHTS",
    "FIRMS",
    "PRESETS",
    "VACANT_UNITS",
    "BaseLayers",
    "CRSError",
    "ConfigError",
    "DistrictConfig",
    "EmptyAreaError",
    "GeodistrictError",
    "InputFileNotFoundError",
    "MissingColumnError",
    "NetworkUnavailableError",
    "OutputError",
    "ParameterError",
    "ParameterTypeError",
    "PipelineError",
    "SourceError",
    "SurveyError",
    "__version__",
    "accessibility",
    "add_lts",
    "adjacency",
    "areas_from_firms",
    "ateco_table",
    "audit_disclosure",
    "bike_network",
    "build_graph",
    "category_gaps",
    "circuit",
    "classify_ateco",
    "classify_lts",
    "classify_units",
    "commerce_district_check",
    "commercial_access",
    "commercial_hex",
    "compare_outputs",
    "compute_criteria",
    "connectivity",
    "contiguous",
    "datasets",
    "density_raster",
    "destinations",
    "district_indicators",
    "districts_from_areas",
    "diversity",
    "dm1993_indices",
    "estimate_population",
    "extension_candidates",
    "firm_clusters",
    "firms_layer",
    "geocode_addresses",
    "get_preset",
    "graph_arrays",
    "homes",
    "info_points",
    "isochrones",
    "key_places",
    "load_base_layers",
    "load_config",
    "load_reference_mix",
    "load_taxonomy",
    "local_crs",
    "low_stress_islands",
    "match_expansion",
    "match_firms",
    "match_register",
    "maximal_covering",
    "missing_links",
    "nearest_nodes",
    "needs_summary",
    "origins",
    "osm_firms",
    "prioritise",
    "protect_counts",
    "protect_layers",
    "rank_from_folder",
    "rank_vacant_units",
    "read_census_sections",
    "read_lq_reference",
    "read_manifest",
    "read_register",
    "read_survey",
    "read_surveys",
    "rescore",
    "resident_points",
    "resolve_ateco",
    "retail_centres",
    "run",
    "run_districts",
    "sector_specialisation",
    "sensitivity",
    "service_sites",
    "street_frontage",
    "study_area",
    "transit_access",
    "unit_changes",
    "vacancy_by_centre",
    "vacancy_by_street",
    "vacancy_rate_change",
    "vacant_units",
    "walking_coverage",
    "write_comparison",
    "write_density_raster",
    "write_layers",
    "write_project",
    "write_report",
    "write_tables",
    "write_xlsform",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module_name, _, attribute = _LAZY[name].partition(":")
        value = getattr(importlib.import_module(module_name), attribute or name)
        globals()[name] = value  # later lookups skip this function
        return value
    if name in _SUBMODULES:
        submodule = importlib.import_module(f"geodistrict.{name}")
        globals()[name] = submodule
        return submodule
    raise AttributeError(f"module 'geodistrict' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)


logging.getLogger(__name__).addHandler(logging.NullHandler())
