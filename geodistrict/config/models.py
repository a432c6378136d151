"""The district configuration as pydantic models: one model per section of the YAML.

Every key has a type, a range and a description; :mod:`geodistrict.config.loader`
reads a file into :class:`DistrictConfig`.

Examples
--------
>>> import geodistrict as gd
>>> cfg = gd.datasets.sample_config()
>>> cfg.district, cfg.osm.source
('sample', 'sample')
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from geodistrict.errors import ConfigError, InputFileNotFoundError

__all__ = [
    "AreaConfig",
    "CommerceConfig",
    "CyclingConfig",
    "DistrictConfig",
    "IndicatorsConfig",
    "OSMConfig",
    "OutputConfig",
    "PopulationConfig",
    "ProductionConfig",
    "SurveysConfig",
    "VacancyConfig",
    "default_cache_dir",
]


def default_cache_dir() -> Path:
    """Folder for cached OSM extracts: ``$GEODISTRICT_CACHE`` or ``~/.cache/geodistrict``."""
    env = os.environ.get("GEODISTRICT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "geodistrict"


def _resolve_input(value: Path, info: ValidationInfo) -> Path:
    """Resolve a path against the configuration folder and require that it exists."""
    base = Path((info.context or {}).get("base_dir", "."))
    path = value.expanduser()
    if not path.is_absolute():
        path = base / path
    if not path.exists():
        raise ValueError(f"file not found: {str(path)!r}")
    if not path.is_file():
        raise ValueError(f"not a file: {str(path)!r} is a folder")
    return path.resolve()


InputPath = Annotated[Path, AfterValidator(_resolve_input)]


def _resolve_extract(value: Path, info: ValidationInfo) -> Path:
    """Resolve an OSM extract path; a missing file is reported when the extract is read.

    A district whose area comes from a boundary file or a bbox can be loaded, checked
    and have its study area computed before the (large) extract is downloaded.
    """
    base = Path((info.context or {}).get("base_dir", "."))
    path = value.expanduser()
    if not path.is_absolute():
        path = base / path
    if path.exists() and not path.is_file():
        raise ValueError(f"not a file: {str(path)!r} is a folder")
    return path.resolve()


ExtractPath = Annotated[Path, AfterValidator(_resolve_extract)]

#: Where a missing regional extract can be downloaded (north-west Italy: Lombardy...).
GEOFABRIK_NORD_OVEST = "https://download.geofabrik.de/europe/italy/nord-ovest-latest.osm.pbf"


#: Largest study area (km2, with its buffer): a district is a few comuni, not a region.
MAX_AREA_KM2 = 10_000.0
#: Largest configuration file read (bytes).
MAX_CONFIG_BYTES = 1_000_000
#: Most nested YAML collections, aliases (``*name``) and nodes once aliases are expanded.
MAX_YAML_DEPTH = 32
MAX_YAML_ALIASES = 100
MAX_YAML_NODES = 100_000
#: Most errors listed in one message (the rest are counted).
_MAX_ERRORS = 20
#: Bands of the density raster: "all" plus the categories of a taxonomy (12 shipped).
_DENSITY_BANDS = 13
#: Bytes per cell and band of the density raster (a float64 grid and its float32 copy).
_DENSITY_CELL_BYTES = 12
#: Bytes per H3 origin of the cycling connectivity (polygon, point, distances).
_HEX_ORIGIN_BYTES = 2_000


def bbox_size_m(bbox: tuple[float, float, float, float]) -> tuple[float, float]:
    """Width and height in metres of a lon/lat bbox (equirectangular, at its middle latitude).

    Examples
    --------
    >>> w, h = bbox_size_m((9.0, 45.0, 9.1, 45.1))
    >>> round(w), round(h)
    (7865, 11132)
    """
    import math

    west, south, east, north = bbox
    mid = math.radians((south + north) / 2)
    return (east - west) * 111_320.0 * math.cos(mid), (north - south) * 111_320.0


def check_area_sizes(config: DistrictConfig, *, width_m: float, height_m: float) -> None:
    """Refuse settings whose memory, over an area of this size, exceeds the limit.

    ``width_m`` and ``height_m`` are the extent of the study area with its
    buffer. Checked by :func:`load_config` for a bbox and by
    :func:`geodistrict.study_area` for every kind of area, before any analysis.

    Raises
    ------
    ConfigError
        Naming the setting (``commerce.raster_cell_m``...), the estimate and
        the value that would fit (see :func:`geodistrict._validate.memory_needed`).
    """
    import math

    from geodistrict import _validate

    pad = 2 * float(config.area.buffer_m)
    width, height = width_m + pad, height_m + pad
    if width * height / 1e6 > MAX_AREA_KM2:
        raise ConfigError(
            f"area: the study area with its buffer spans about {width / 1000:,.1f} x "
            f"{height / 1000:,.1f} km, more than the {MAX_AREA_KM2:,.0f} km2 a district may "
            "cover (area.buffer_m, area.bbox / area.file / area.places)"
        )
    cell = float(config.commerce.raster_cell_m)
    cells = math.ceil(width / cell) * math.ceil(height / cell)
    fits = math.ceil(math.sqrt(width * height * _DENSITY_BANDS * _DENSITY_CELL_BYTES
                               / _validate.memory_limit()))  # fmt: skip
    _validate.memory_needed(
        cells * _DENSITY_BANDS * _DENSITY_CELL_BYTES,
        what=f"the density raster ({cells:,} cells of {cell:g} m, {_DENSITY_BANDS} bands)",
        name="commerce.raster_cell_m",
        hint=f"use raster_cell_m: {max(fits, 1)} or more",
        error=ConfigError,
    )
    if config.cycling.origins == "hex":
        import h3

        res = int(config.cycling.hex_resolution)
        n = width * height / (h3.average_hexagon_area(res, unit="m^2"))
        _validate.memory_needed(
            n * _HEX_ORIGIN_BYTES,
            what=f"the hex origins ({n:,.0f} H3 cells of resolution {res})",
            name="cycling.hex_resolution",
            hint="use a lower resolution (each step down makes 7 times fewer cells)",
            error=ConfigError,
        )


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


#: Largest weight of a criterion or a destination type (weights are relative).
_MAX_WEIGHT = 1e6

#: Numbers as YAML numbers: no silent bool -> int or "9" -> 9 coercion.
Count = Annotated[int, Strict()]
Number = Annotated[float, Strict()]


class AreaConfig(_Section):
    """The study area: OSM place names, a boundary file or a bbox, plus a buffer."""

    places: list[str] | None = Field(
        None,
        description="OSM place names whose union is the area, e.g. ['Ciserano, Italia', ...].",
    )
    file: InputPath | None = Field(None, description="Boundary file: GeoJSON, GPKG or Shapefile.")
    layer: str | None = Field(None, description="Layer of a multi-layer boundary file.")
    names: list[str] | None = Field(
        None,
        description="Only the features of 'file' whose 'name_field' is one of these names "
        "(exact, ignoring case and accents), e.g. the comuni of an ISTAT file.",
    )
    name_field: str | None = Field(
        None, description="Field of 'file' that 'names' are matched against (default 'name')."
    )
    bbox: tuple[Number, Number, Number, Number] | None = Field(
        None, description="[west, south, east, north] in degrees (EPSG:4326)."
    )
    buffer_m: Number = Field(
        0.0, ge=0, le=50_000, description="Buffer around the area, in metres (at most 50 km)."
    )

    @field_validator("places", "names")
    @classmethod
    def _places_not_blank(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("must list at least one place name")
            for name in value:
                if not name.strip():
                    raise ValueError(f"place names must not be blank, got {name!r}")
        return value

    @field_validator("bbox")
    @classmethod
    def _bbox_order(
        cls, value: tuple[float, float, float, float] | None
    ) -> tuple[float, float, float, float] | None:
        if value is None:
            return value
        west, south, east, north = value
        if not (-180 <= west <= 180 and -180 <= east <= 180):
            raise ValueError(f"longitudes must be within -180..180, got west={west}, east={east}")
        if not (-90 <= south <= 90 and -90 <= north <= 90):
            hint = " (are latitude and longitude swapped?)" if abs(west) <= 90 else ""
            raise ValueError(
                f"latitudes must be within -90..90, got south={south}, north={north}{hint}"
            )
        if west >= east:
            raise ValueError(f"west ({west}) must be less than east ({east})")
        if south >= north:
            raise ValueError(f"south ({south}) must be less than north ({north})")
        width_m, height_m = bbox_size_m(value)
        if width_m * height_m / 1e6 > MAX_AREA_KM2:
            raise ValueError(
                f"covers about {width_m * height_m / 1e6:,.0f} km2, more than the "
                f"{MAX_AREA_KM2:,.0f} km2 a district may cover: give the district's own bbox"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> AreaConfig:
        given = [k for k in ("places", "file", "bbox") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'places', 'file' or 'bbox'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        for key in ("layer", "names", "name_field"):
            if getattr(self, key) is not None and self.file is None:
                raise ValueError(f"'{key}' only applies together with 'file'")
        if self.name_field is not None and self.names is None:
            raise ValueError("'name_field' only applies together with 'names'")
        return self


class OSMConfig(_Section):
    """Where OpenStreetMap data comes from."""

    source: Literal["sample", "overpass", "pbf", "xml"] = Field(
        "sample",
        description="sample: embedded Helsinki extract; overpass: online via osmnx; "
        "pbf: a local .osm.pbf (e.g. from Geofabrik); xml: a local .osm or .osm.bz2.",
    )
    path: ExtractPath | None = Field(
        None,
        description="The extract file, for pbf and xml; resolved against the configuration "
        "folder. A missing file is an error when the extract is read, not when the "
        "configuration is loaded.",
    )
    cache_dir: Path | None = Field(
        None, description="Cache folder (default $GEODISTRICT_CACHE or ~/.cache/geodistrict)."
    )

    @model_validator(mode="after")
    def _path_matches_source(self) -> OSMConfig:
        if self.source in ("pbf", "xml") and self.path is None:
            raise ValueError(f"source {self.source!r} needs 'path' to the extract file")
        if self.source in ("sample", "overpass") and self.path is not None:
            raise ValueError(f"source {self.source!r} takes no 'path' (got {str(self.path)!r})")
        if self.path is not None:
            name = self.path.name.lower()
            if self.source == "pbf" and not name.endswith(".pbf"):
                raise ValueError(f"source 'pbf' needs a .osm.pbf file, got {self.path.name!r}")
            if self.source == "xml" and not name.endswith((".osm", ".osm.bz2", ".xml")):
                raise ValueError(
                    f"source 'xml' needs a .osm, .osm.bz2 or .xml file, got {self.path.name!r}"
                )
        return self

    def extract(self) -> Path:
        """The extract file of a ``pbf`` or ``xml`` source, which must exist.

        Raises
        ------
        InputFileNotFoundError
            If the file is missing; the message says where to download one.
        """
        if self.path is None:
            raise ConfigError(f"osm.path: source {self.source!r} reads no extract file")
        if not self.path.is_file():
            raise InputFileNotFoundError(
                f"osm.path: OSM extract not found: {str(self.path)!r}. Download an extract "
                f"that covers the district (north-west Italy: {GEOFABRIK_NORD_OVEST}) and "
                "save it there, or change osm.path in the configuration"
            )
        return self.path

    @property
    def resolved_cache_dir(self) -> Path:
        """The cache folder actually used."""
        return (self.cache_dir or default_cache_dir()).expanduser()


class SurveysConfig(_Section):
    """The district's own survey files (CSV, XLSX, GPKG or GeoJSON)."""

    vacant_units: InputPath | None = Field(None, description="Vacant shop units (locali sfitti).")
    firms: InputPath | None = Field(None, description="Firm questionnaire answers.")
    business_register: InputPath | None = Field(
        None,
        description="Chamber of Commerce register extract (elenco imprese / unità locali, CSV "
        "or XLSX): the firms that exist, against which the questionnaire's coverage and "
        "response rate are computed; geocoded from its addresses.",
    )
    geocode: bool = Field(
        True,
        description="Place rows that have an address and no coordinates with the OSM "
        "extract's addresses and streets (offline); unmatched rows are reported.",
    )
    wave: str | None = Field(
        None,
        pattern=r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$",
        description="Survey wave of these files, as a month `YYYY-MM` (its first day) or a "
        "day `YYYY-MM-DD`: the date vacancy durations count to for rows without their own "
        "survey date (a `Data rilevazione` / `survey_date` column). Default: the day of the "
        "run. `geodistrict compare` reads it back from the outputs.",
    )


#: The retail categories of the shipped taxonomy (geodistrict.commerce.RETAIL_CATEGORIES).
_RETAIL_CATEGORIES = (
    "food", "fashion", "personal_services", "bars_restaurants", "health_pharmacy",
    "household", "culture_leisure", "electronics", "other_retail",
)  # fmt: skip


class CommerceConfig(_Section):
    """Parameters of the commerce analyses."""

    taxonomy: InputPath | None = Field(
        None, description="A taxonomy file overriding the shipped OSM-tag-to-category map."
    )
    h3_resolution: Count = Field(9, ge=5, le=12, description="H3 resolution of commercial_hex.")
    kde_bandwidth_m: Number = Field(
        150.0, gt=0, le=10_000, description="Kernel density bandwidth (m)."
    )
    centre_method: Literal["cdrc", "hdbscan"] = Field(
        "cdrc",
        description="How retail centres are delineated: cdrc (H3 tracts of retail units, "
        "Macdonald, Dolega & Singleton 2022) or hdbscan (density clusters).",
    )
    cdrc_h3_resolution: Count = Field(
        11, ge=7, le=15, description="CDRC: H3 resolution of the cells of retail units."
    )
    cdrc_min_units: Count = Field(
        10,
        ge=2,
        le=100_000,
        description="CDRC: fewest retail units in a contiguous tract of cells.",
    )
    cdrc_min_cells: Count = Field(
        2,
        ge=1,
        le=100_000,
        description="CDRC: fewest H3 cells in a tract (a lone cell needs cdrc_min_units).",
    )
    cdrc_min_cell_units: Count = Field(
        2, ge=1, le=100_000, description="CDRC: fewest retail units a cell needs to join a tract."
    )
    retail_categories: list[str] = Field(
        default_factory=lambda: list(_RETAIL_CATEGORIES),
        description="Taxonomy categories whose units delineate retail centres (office=* never).",
    )
    duc_file: InputPath | None = Field(
        None,
        description="Official perimeter of the district's commercial centre(s) (DUC): polygons "
        "in GeoJSON, GPKG or Shapefile, with an optional name/nome column.",
    )
    duc_mode: Literal["replace", "beside"] = Field(
        "replace",
        description="The duc_file polygons instead of the delineated centres (replace), or "
        "beside those that do not touch them (beside).",
    )
    min_centre_units: Count = Field(
        10, ge=2, le=100_000, description="HDBSCAN: fewest retail units that make a centre."
    )
    centre_buffer_m: Number = Field(
        25.0,
        ge=0,
        le=5_000,
        description="HDBSCAN: buffer of a centre's polygon around its units (m).",
    )
    raster_cell_m: Number = Field(
        10.0, ge=1, le=1_000, description="Cell size of the density raster (m)."
    )
    frontage_max_m: Number = Field(
        40.0, gt=0, le=1_000, description="Farthest a unit may be from the street it fronts (m)."
    )
    access_distances_m: list[Number] = Field(
        default_factory=lambda: [400.0, 800.0, 1600.0],
        description="Walking distances of the accessibility counts (m).",
    )
    reference_mix: InputPath | None = Field(
        None,
        description="Reference category mix: a YAML of shares, or another district's "
        "commercial_units (.parquet or .gpkg); default the shipped indicative mix.",
    )
    reference_from: Path | None = Field(
        None,
        description="Another district's output folder (the one with layers.json): the "
        "measured mix of its commercial_units is the reference (not with reference_mix).",
    )
    gap_alpha: Number = Field(
        0.05,
        gt=0,
        lt=1,
        description="False discovery rate of the category tests: a category is missing, "
        "under- or over-represented only when its q value is below this.",
    )
    gap_fdr_method: Literal["bh", "by"] = Field(
        "bh",
        description="q values by Benjamini-Hochberg (bh) or Benjamini-Yekutieli (by, any "
        "dependence between the tests).",
    )
    catch_all_categories: list[str] = Field(
        default_factory=lambda: ["other_retail"],
        description="Categories that are no one kind of merchandise (unclassified shops): "
        "never tested, never missing, never a recommended use.",
    )
    walk_speed_kmh: Number = Field(4.8, gt=0, le=20, description="Walking speed (km/h).")
    everyday_minutes: Number = Field(
        10.0, gt=0, le=240, description="Walking time within which an everyday need counts as met."
    )

    @field_validator("access_distances_m")
    @classmethod
    def _positive_distances(cls, value: list[float]) -> list[float]:
        if not value or any(d <= 0 for d in value):
            raise ValueError(f"must list positive distances in metres, got {value!r}")
        if len(value) > 20 or any(d > 100_000 for d in value):
            raise ValueError("must list at most 20 distances of at most 100000 m (100 km)")
        return sorted(set(value))

    @field_validator("retail_categories")
    @classmethod
    def _some_retail(cls, value: list[str]) -> list[str]:
        # The category names are checked against the taxonomy by the commerce step.
        if not value:
            raise ValueError("must list at least one retail category (e.g. [food, fashion])")
        return value

    @field_validator("reference_from")
    @classmethod
    def _output_folder(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        base = Path((info.context or {}).get("base_dir", "."))
        path = value.expanduser()
        path = (path if path.is_absolute() else base / path).resolve()
        if not path.is_dir():
            raise ValueError(f"not a folder: {str(path)!r} (another district's output folder)")
        return path

    @model_validator(mode="after")
    def _one_reference(self) -> CommerceConfig:
        if self.reference_mix is not None and self.reference_from is not None:
            raise ValueError(
                f"give reference_mix ({str(self.reference_mix)!r}) or reference_from "
                f"({str(self.reference_from)!r}), not both"
            )
        return self


class VacancyConfig(_Section):
    """Parameters of the vacancy and priority analyses."""

    merge_distance_m: Number = Field(
        15.0,
        ge=0,
        le=1_000,
        description="Survey and OSM vacant units closer than this are one unit.",
    )
    preset: str = Field(
        "rigenerazione",
        description="Named weighting of the priority ranking (geodistrict.priority.PRESETS): "
        "rigenerazione (revive little-frequented places), consolidamento (strengthen busy "
        "shopping streets) or bando (what a regional call for Distretti del Commercio rewards).",
    )
    weights: dict[str, Number] = Field(
        default_factory=dict,
        description="Criterion weights for the priority ranking, merged over the preset's "
        "(geodistrict.priority.PRESETS); non-negative, not all zero.",
    )
    method: Literal["weighted_sum", "topsis"] = Field(
        "weighted_sum", description="Which score ranks the units: weighted_sum or topsis."
    )
    mc_runs: Count = Field(
        1000, ge=1, le=100_000, description="Monte-Carlo runs of the weight sensitivity."
    )
    mc_spread: Number = Field(
        0.25, ge=0, le=1, description="Each weight is multiplied by U(1 - spread, 1 + spread)."
    )
    top_k: Count = Field(
        5, ge=1, le=100_000, description="The top whose membership probability is reported."
    )
    seed: Count = Field(0, ge=0, le=2**63 - 1, description="Random seed of the sensitivity runs.")

    @field_validator("weights")
    @classmethod
    def _valid_weights(cls, value: dict[str, float]) -> dict[str, float]:
        # Criterion names and all-zero weightings are checked by the vacancy step
        # (``geodistrict check`` and ``run``), which knows the criteria and the defaults.
        for name, weight in value.items():
            if weight < 0:
                raise ValueError(f"weight {name!r} must not be negative (value {weight!r})")
            if weight > _MAX_WEIGHT:
                raise ValueError(
                    f"weight {name!r} must be between 0 and {_MAX_WEIGHT:g} (value {weight!r})"
                )
        return value


class CyclingConfig(_Section):
    """Parameters of the cycling analyses."""

    lts_threshold: Count = Field(2, ge=1, le=4, description="Highest stress level that is low.")
    max_connector_m: Number = Field(
        150.0,
        gt=0,
        le=10_000,
        description="Longest new connector proposed between two islands (m).",
    )
    circuit_max_km: Number = Field(15.0, gt=0, le=100, description="Longest cycling circuit (km).")
    default_speed_kmh: Number = Field(
        50.0,
        gt=0,
        le=150,
        description="Speed assumed where maxspeed is missing (IT:urban, km/h).",
    )
    bikeshed_m: Number = Field(
        2500.0,
        gt=0,
        le=100_000,
        description="Cycling distance within which destinations count (m).",
    )
    detour_ratio: Number = Field(
        1.25,
        ge=1,
        le=10,
        description="Longest low-stress route counted, as a multiple of the shortest route "
        "(PeopleForBikes BNA: 1.25).",
    )
    connectivity_weights: dict[str, Number] = Field(
        default_factory=lambda: {
            "people": 15.0, "opportunity": 20.0, "core_services": 20.0, "retail": 15.0,
            "recreation": 15.0, "transit": 15.0,
        },
        description="Weights of the people score and of each BNA destination type in the "
        "overall connectivity score (default: the BNA's).",
    )  # fmt: skip
    lts_crossings: bool = Field(
        True, description="Rate unsignalised crossings of wide or fast roads (Furth table 4)."
    )
    origins: Literal["buildings", "hex"] = Field(
        "buildings", description="Connectivity origins: residential buildings or H3 cells."
    )
    min_residential_origins: Count = Field(
        50,
        ge=1,
        le=1_000_000,
        description="Fewer residential buildings than this: use all buildings.",
    )
    hex_resolution: Count = Field(9, ge=5, le=12, description="H3 resolution of hex origins.")
    min_island_m: Number = Field(
        100.0,
        ge=0,
        le=100_000,
        description="Shortest low-stress island written (street length, m).",
    )
    island_buffer_m: Number = Field(
        25.0,
        gt=0,
        le=1_000,
        description="Buffer around island streets that makes its polygon (m).",
    )
    n_gaps: Count = Field(
        10, ge=1, le=1_000, description="Missing links picked by the greedy sequence."
    )
    stress_penalty: Number = Field(
        1.0,
        ge=0,
        le=1_000,
        description="Circuit routing: extra cost per stress level above the threshold.",
    )
    circuit_max_stops: Count = Field(
        8, ge=2, le=100, description="Most key places on the circuit."
    )
    n_centres: Count = Field(
        3, ge=1, le=100, description="Centres used: top retail_centres, else largest POI clusters."
    )
    n_info_points: Count = Field(5, ge=1, le=1_000, description="Information totems to site.")
    info_point_radius_m: Number = Field(
        200.0, gt=0, le=100_000, description="Distance an information totem covers (m)."
    )
    bike_speed_kmh: Number = Field(
        15.0, gt=0, le=60, description="Cycling speed for isochrones (km/h)."
    )
    walk_speed_kmh: Number = Field(
        4.8, gt=0, le=20, description="Walking speed for isochrones (km/h)."
    )
    isochrone_minutes: list[Count] = Field(
        default_factory=lambda: [5, 10, 15], description="Isochrone travel times (minutes)."
    )

    @field_validator("isochrone_minutes")
    @classmethod
    def _positive_minutes(cls, value: list[int]) -> list[int]:
        if not value or any(m <= 0 for m in value):
            raise ValueError(f"must list positive minutes, got {value!r}")
        if len(value) > 20 or any(m > 240 for m in value):
            raise ValueError("must list at most 20 times of at most 240 minutes")
        return sorted(set(value))

    @field_validator("connectivity_weights")
    @classmethod
    def _bna_weights(cls, value: dict[str, float]) -> dict[str, float]:
        known = ("people", "opportunity", "core_services", "retail", "recreation", "transit")
        bad = sorted(set(value) - set(known))
        if bad:
            raise ValueError(f"unknown destination types {bad!r}; expected some of {known!r}")
        if any(not 0 <= v <= _MAX_WEIGHT for v in value.values()) or not sum(value.values()) > 0:
            raise ValueError(
                f"weights must be between 0 and {_MAX_WEIGHT:g} and not all 0, got {value!r}"
            )
        return value


class ProductionConfig(_Section):
    """Parameters of the productive-district analyses."""

    core_municipalities: list[str] = Field(default_factory=list)
    extension_municipalities: list[str] = Field(default_factory=list)
    min_group_size: Count = Field(
        5,
        ge=1,
        le=10_000,
        description="Smallest group of firms whose aggregate answers are published.",
    )
    publish_firm_answers: bool = Field(
        False, description="Keep firm-level answers in the local GeoPackage."
    )
    h3_resolution: Count = Field(
        9, ge=5, le=12, description="H3 resolution of the generalised firm positions and hexes."
    )
    specialisation_by: Literal["municipality", "h3"] = Field(
        "municipality", description="Areas of sector_specialisation: municipalities or H3 hexes."
    )
    specialisation_level: Literal["section", "division"] = Field(
        "section", description="ATECO level of sector_specialisation."
    )
    specialisation_weight: Literal["firms", "employees"] = Field(
        "firms", description="What location quotients count: firms or employees."
    )
    ateco_edition: Literal["2025", "2007"] = Field(
        "2025",
        description="ATECO edition of the survey's codes that exist in both editions; codes "
        "only in ATECO 2007 are converted to 2025 through ISTAT's correspondence either way.",
    )
    reference_file: InputPath | None = Field(
        None,
        description="CSV of ISTAT counts by ATECO division (ateco_division; local_units; "
        "employees) for the comuni or the local labour system: the reference of location "
        "quotients. Without it the respondents are their own reference.",
    )
    reference_edition: Literal["2025", "2007"] = Field(
        "2025", description="ATECO edition of the divisions of reference_file."
    )
    cluster_distance_m: Number = Field(
        150.0, gt=0, le=100_000, description="DBSCAN radius of firm_clusters (m)."
    )
    match_distance_m: Number = Field(
        40.0,
        ge=0,
        le=1_000,
        description="Respondents and OSM firms closer than this may be one firm (m).",
    )
    service_sites: Count = Field(2, ge=1, le=1_000, description="Shared-service sites to place.")
    service_distance_m: Number = Field(
        600.0,
        gt=0,
        le=100_000,
        description="Travel distance within which a site serves a firm (m).",
    )
    service_mode: Literal["walk", "bike", "straight"] = Field(
        "walk", description="How service distance is measured: walk or bike graph, or straight."
    )
    service_weight: Literal["firms", "employees"] = Field(
        "employees", description="What service_sites maximise: firms or employees covered."
    )
    dominance_n: Count = Field(
        2,
        ge=1,
        le=10,
        description="Dominance rule for published sums (employees, hires, space): a sum is "
        "hidden when its dominance_n largest firms make more than dominance_p of it.",
    )
    dominance_p: Number = Field(
        0.85, gt=0, le=1, description="Share of the dominance rule (see dominance_n)."
    )


# fmt: off
class PopulationConfig(_Section):
    """Residents: ISTAT census sections, or an estimate from residential buildings.

    With ``sections`` and ``census``, ISTAT's 2021 census sections joined on the
    section code; without them, OSM residential buildings (footprint x levels)
    scaled to ``total`` or to ``municipalities``, flagged ``estimated``.
    """

    sections: InputPath | None = Field(None, description="ISTAT 'basi territoriali' 2021 "
                                       "census sections (Shapefile/GeoPackage with SEZ21_ID).")
    census: InputPath | None = Field(None, description="ISTAT 2021 census variables per "
                                     "section (';'-separated CSV: SEZ21_ID, P1, P14-P29...).")
    section_field: str = Field("SEZ21_ID", min_length=1, description="Section code field.")
    residents_field: str = Field("P1", min_length=1, description="Total residents (ISTAT: P1).")
    age_fields: dict[str, list[str]] = Field(default_factory=lambda: {
        "age_0_14": ["P14", "P15", "P16"], "age_15_64": [f"P{i}" for i in range(17, 27)],
        "age_65_plus": ["P27", "P28", "P29"]}, description="Output column -> census variables "
        "summed (ISTAT's five-year bands P14 '<5' ... P29 '>74').")
    census_date: str = Field("2021-12-31", pattern=r"^\d{4}-\d{2}-\d{2}$",
                             description="Reference date of the census figures.")
    total: Count | None = Field(None, ge=0, le=100_000_000, description="Residents of the "
                                "study area, to which the estimate from buildings is scaled.")
    municipalities: dict[str, Annotated[int, Strict(), Field(ge=0)]] = Field(
        default_factory=dict, description="Residents per comune (name -> residents), not total."
    )
    municipalities_file: InputPath | None = Field(None, description="Boundaries of those comuni.")
    municipality_field: str = Field("COMUNE", min_length=1, description="Name field of the file.")
    total_date: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                                   description="Reference date of total / municipalities.")
    default_levels: Number = Field(2.0, ge=1, le=100, description="Levels of a home without "
                                   "building:levels or height.")
    level_height_m: Number = Field(3.0, gt=0, le=10, description="Height of a level (m).")
    min_footprint_m2: Number = Field(30.0, ge=0, le=10_000, description="Smaller buildings "
                                     "(garages, sheds) are not homes (m2).")
    floor_area_per_resident_m2: Number = Field(50.0, gt=0, le=1_000, description="Gross floor "
                                               "area per resident when no total is given (m2).")

    @model_validator(mode="after")
    def _consistent(self) -> PopulationConfig:
        if (self.sections is None) != (self.census is None):
            raise ValueError("'sections' and 'census' go together: give both or neither")
        if self.municipalities and self.municipalities_file is None:
            raise ValueError("'municipalities' needs 'municipalities_file' with their boundaries")
        if self.municipalities and self.total is not None:
            raise ValueError("give either 'total' or 'municipalities', not both")
        return self


class IndicatorsConfig(_Section):
    """Agenda 2030 and programme indicators (distances of UN-Habitat's metadata)."""

    low_capacity_m: Number = Field(500.0, gt=0, le=10_000, description="SDG 11.2.1: walk to a "
                                   "bus or tram stop (m).")
    high_capacity_m: Number = Field(1000.0, gt=0, le=10_000, description="SDG 11.2.1: walk to "
                                    "a rail, metro or ferry stop (m).")
    open_space_m: Number = Field(400.0, gt=0, le=10_000, description="SDG 11.7.1: walk to an "
                                 "open public space (m).")
    built_up_closing_m: Number = Field(50.0, ge=0, le=1_000, description="Built-up area: "
                                       "building footprints closed by this distance (m).")
    per_capita_zones: bool = Field(True, description="Also by census section or comune.")
# fmt: on


class OutputConfig(_Section):
    """Where results go."""

    dir: Path = Field(Path("out"), description="Output root; results go to DIR/<district>/.")
    postgis: str | None = Field(
        None, description="PostgreSQL/PostGIS connection string for publishing, if any."
    )
    keep_versions: Count = Field(
        2, ge=1, le=100, description="Complete output versions kept after a run (the newest)."
    )


_SECTIONS = {"osm", "surveys", "commerce", "vacancy", "cycling", "production", "output"}
_SECTIONS |= {"population", "indicators"}


class DistrictConfig(_Section):
    """A whole district configuration."""

    district: str = Field(description="Short id: lower-case letters, digits, '-' and '_'.")
    title: str = Field(description="Human-readable name of the district.")
    description: str = ""
    language: Literal["it", "en"] = Field(
        "it",
        description=(
            "Language of everything a person reads: layer and column labels, legends, "
            "the report, spreadsheets, web pages and CLI summaries ('it' or 'en')."
        ),
    )
    area: AreaConfig
    osm: OSMConfig = Field(default_factory=lambda: OSMConfig())
    crs: str = Field("auto", description="Working CRS; 'auto' picks the local UTM zone.")
    surveys: SurveysConfig = Field(default_factory=lambda: SurveysConfig())
    commerce: CommerceConfig = Field(default_factory=lambda: CommerceConfig())
    vacancy: VacancyConfig = Field(default_factory=lambda: VacancyConfig())
    cycling: CyclingConfig = Field(default_factory=lambda: CyclingConfig())
    production: ProductionConfig = Field(default_factory=lambda: ProductionConfig())
    population: PopulationConfig = Field(default_factory=lambda: PopulationConfig())
    indicators: IndicatorsConfig = Field(default_factory=lambda: IndicatorsConfig())
    output: OutputConfig = Field(default_factory=lambda: OutputConfig())
    source_file: Path | None = Field(None, exclude=True, description="Set by load_config.")

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        # An empty section in YAML ("surveys:") parses as None: treat it as defaults.
        if isinstance(data, dict):
            return {k: ({} if v is None and k in _SECTIONS else v) for k, v in data.items()}
        return data

    @field_validator("district")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", value):
            raise ValueError(
                f"must be lower-case letters, digits, '-' or '_' (got {value!r}); "
                "it names the output folder and the OGC API collections"
            )
        return value

    @field_validator("crs")
    @classmethod
    def _projected(cls, value: str) -> str:
        if value.strip().lower() == "auto":
            return "auto"
        try:
            crs = CRS.from_user_input(value)
        except PyprojCRSError as exc:
            raise ValueError(f"unknown CRS {value!r}") from exc
        if not crs.is_projected:
            raise ValueError(
                f"working CRS must be projected in metres (got geographic {value!r}); "
                "use 'auto' for the local UTM zone"
            )
        return value
