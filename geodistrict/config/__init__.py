"""District configuration: the YAML file that describes one district.

A configuration names the study area, the OpenStreetMap source, the working
CRS, the district's survey files, the analysis parameters and where outputs
go.  :func:`load_config` reads and validates it; every mistake is reported with
the file, the key path (``area.bbox[2]``) and the offending value.

Relative input paths are resolved against the folder of the configuration
file; the output folder is resolved against the current working directory.

* :mod:`~geodistrict.config.models`: the section models and their limits;
* :mod:`~geodistrict.config.loader`: the YAML reader (:func:`load_config`).

Examples
--------
>>> import geodistrict as gd
>>> cfg = gd.datasets.sample_config()
>>> cfg.district, cfg.osm.source
('sample', 'sample')
"""

from geodistrict.config.loader import load_config
from geodistrict.config.models import (
    GEOFABRIK_NORD_OVEST,
    AreaConfig,
    CommerceConfig,
    Count,
    CyclingConfig,
    DistrictConfig,
    IndicatorsConfig,
    Number,
    OSMConfig,
    OutputConfig,
    PopulationConfig,
    ProductionConfig,
    SurveysConfig,
    VacancyConfig,
    bbox_size_m,
    check_area_sizes,
    default_cache_dir,
)

__all__ = [
    "GEOFABRIK_NORD_OVEST",
    "AreaConfig",
    "CommerceConfig",
    "Count",
    "CyclingConfig",
    "DistrictConfig",
    "IndicatorsConfig",
    "Number",
    "OSMConfig",
    "OutputConfig",
    "PopulationConfig",
    "ProductionConfig",
    "SurveysConfig",
    "VacancyConfig",
    "bbox_size_m",
    "check_area_sizes",
    "default_cache_dir",
    "load_config",
]
