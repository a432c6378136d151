"""District configuration: the YAML file that describes one district.

A configuration names the study area, the OpenStreetMap source, the working
CRS, the district's survey files, the analysis parameters and where outputs
go.  :func:`load_config` reads and validates it; every mistake is reported with
the file, the key path (``area.bbox[2]``) and the offending value.

Relative input paths are resolved against the folder of the configuration
file; the output folder is resolved against the current working directory.

Examples
--------
>>> import geodistrict as gd
>>> cfg = gd.datasets.sample_config()
>>> cfg.district, cfg.osm.source
('sample', 'sample')
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
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
    "OSMConfig",
    "OutputConfig",
    "ProductionConfig",
    "SurveysConfig",
    "VacancyConfig",
    "default_cache_dir",
    "load_config",
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


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    buffer_m: Number = Field(0.0, ge=0, description="Buffer around the area, in metres.")

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
    kde_bandwidth_m: Number = Field(150.0, gt=0, description="Kernel density bandwidth (m).")
    centre_method: Literal["cdrc", "hdbscan"] = Field(
        "cdrc",
        description="How retail centres are delineated: cdrc (H3 tracts of retail units, "
        "Macdonald, Dolega & Singleton 2022) or hdbscan (density clusters).",
    )
    cdrc_h3_resolution: Count = Field(
        11, ge=7, le=15, description="CDRC: H3 resolution of the cells of retail units."
    )
    cdrc_min_units: Count = Field(
        10, ge=2, description="CDRC: fewest retail units in a contiguous tract of cells."
    )
    cdrc_min_cells: Count = Field(
        2, ge=1, description="CDRC: fewest H3 cells in a tract (a lone cell needs cdrc_min_units)."
    )
    cdrc_min_cell_units: Count = Field(
        2, ge=1, description="CDRC: fewest retail units a cell needs to join a tract."
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
        10, ge=2, description="HDBSCAN: fewest retail units that make a centre."
    )
    centre_buffer_m: Number = Field(
        25.0, ge=0, description="HDBSCAN: buffer of a centre's polygon around its units (m)."
    )
    raster_cell_m: Number = Field(10.0, gt=0, description="Cell size of the density raster (m).")
    frontage_max_m: Number = Field(
        40.0, gt=0, description="Farthest a unit may be from the street it fronts (m)."
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
    walk_speed_kmh: Number = Field(4.8, gt=0, description="Walking speed (km/h).")
    everyday_minutes: Number = Field(
        10.0, gt=0, description="Walking time within which an everyday need counts as met."
    )

    @field_validator("access_distances_m")
    @classmethod
    def _positive_distances(cls, value: list[float]) -> list[float]:
        if not value or any(d <= 0 for d in value):
            raise ValueError(f"must list positive distances in metres, got {value!r}")
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
        15.0, ge=0, description="Survey and OSM vacant units closer than this are one unit."
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
    mc_runs: Count = Field(1000, ge=1, description="Monte-Carlo runs of the weight sensitivity.")
    mc_spread: Number = Field(
        0.25, ge=0, le=1, description="Each weight is multiplied by U(1 - spread, 1 + spread)."
    )
    top_k: Count = Field(5, ge=1, description="The top whose membership probability is reported.")
    seed: Count = Field(0, ge=0, description="Random seed of the sensitivity runs.")

    @field_validator("weights")
    @classmethod
    def _valid_weights(cls, value: dict[str, float]) -> dict[str, float]:
        # Criterion names and all-zero weightings are checked by the vacancy step
        # (``geodistrict check`` and ``run``), which knows the criteria and the defaults.
        for name, weight in value.items():
            if weight < 0:
                raise ValueError(f"weight {name!r} must not be negative (value {weight!r})")
        return value


class CyclingConfig(_Section):
    """Parameters of the cycling analyses."""

    lts_threshold: Count = Field(2, ge=1, le=4, description="Highest stress level that is low.")
    max_connector_m: Number = Field(
        150.0, gt=0, description="Longest new connector proposed between two islands (m)."
    )
    circuit_max_km: Number = Field(15.0, gt=0, description="Longest cycling circuit (km).")
    default_speed_kmh: Number = Field(
        50.0, gt=0, description="Speed assumed where maxspeed is missing (IT:urban, km/h)."
    )
    bikeshed_m: Number = Field(
        2500.0, gt=0, description="Cycling distance within which destinations count (m)."
    )
    detour_ratio: Number = Field(
        1.25,
        ge=1,
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
        50, ge=1, description="Fewer residential buildings than this: use all buildings."
    )
    hex_resolution: Count = Field(9, ge=5, le=12, description="H3 resolution of hex origins.")
    min_island_m: Number = Field(
        100.0, ge=0, description="Shortest low-stress island written (street length, m)."
    )
    island_buffer_m: Number = Field(
        25.0, gt=0, description="Buffer around island streets that makes its polygon (m)."
    )
    n_gaps: Count = Field(10, ge=1, description="Missing links picked by the greedy sequence.")
    stress_penalty: Number = Field(
        1.0, ge=0, description="Circuit routing: extra cost per stress level above the threshold."
    )
    circuit_max_stops: Count = Field(8, ge=2, description="Most key places on the circuit.")
    n_centres: Count = Field(
        3, ge=1, description="Centres used: top retail_centres, else largest POI clusters."
    )
    n_info_points: Count = Field(5, ge=1, description="Information totems to site.")
    info_point_radius_m: Number = Field(
        200.0, gt=0, description="Distance an information totem covers (m)."
    )
    bike_speed_kmh: Number = Field(15.0, gt=0, description="Cycling speed for isochrones.")
    walk_speed_kmh: Number = Field(4.8, gt=0, description="Walking speed for isochrones.")
    isochrone_minutes: list[Count] = Field(
        default_factory=lambda: [5, 10, 15], description="Isochrone travel times (minutes)."
    )

    @field_validator("isochrone_minutes")
    @classmethod
    def _positive_minutes(cls, value: list[int]) -> list[int]:
        if not value or any(m <= 0 for m in value):
            raise ValueError(f"must list positive minutes, got {value!r}")
        return sorted(set(value))

    @field_validator("connectivity_weights")
    @classmethod
    def _bna_weights(cls, value: dict[str, float]) -> dict[str, float]:
        known = ("people", "opportunity", "core_services", "retail", "recreation", "transit")
        bad = sorted(set(value) - set(known))
        if bad:
            raise ValueError(f"unknown destination types {bad!r}; expected some of {known!r}")
        if any(v < 0 for v in value.values()) or not sum(value.values()) > 0:
            raise ValueError(f"weights must be >= 0 and not all 0, got {value!r}")
        return value


class ProductionConfig(_Section):
    """Parameters of the productive-district analyses."""

    core_municipalities: list[str] = Field(default_factory=list)
    extension_municipalities: list[str] = Field(default_factory=list)
    min_group_size: Count = Field(
        5, ge=1, description="Smallest group of firms whose aggregate answers are published."
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
        150.0, gt=0, description="DBSCAN radius of firm_clusters (m)."
    )
    match_distance_m: Number = Field(
        40.0, ge=0, description="Respondents and OSM firms closer than this may be one firm (m)."
    )
    service_sites: Count = Field(2, ge=1, description="Shared-service sites to place.")
    service_distance_m: Number = Field(
        600.0, gt=0, description="Travel distance within which a site serves a firm (m)."
    )
    service_mode: Literal["walk", "bike", "straight"] = Field(
        "walk", description="How service distance is measured: walk or bike graph, or straight."
    )
    service_weight: Literal["firms", "employees"] = Field(
        "employees", description="What service_sites maximise: firms or employees covered."
    )


class OutputConfig(_Section):
    """Where results go."""

    dir: Path = Field(Path("out"), description="Output root; results go to DIR/<district>/.")
    postgis: str | None = Field(
        None, description="PostgreSQL/PostGIS connection string for publishing, if any."
    )


_SECTIONS = {"osm", "surveys", "commerce", "vacancy", "cycling", "production", "output"}


class DistrictConfig(_Section):
    """A whole district configuration."""

    district: str = Field(description="Short id: lower-case letters, digits, '-' and '_'.")
    title: str = Field(description="Human-readable name of the district.")
    description: str = ""
    area: AreaConfig
    osm: OSMConfig = Field(default_factory=lambda: OSMConfig())
    crs: str = Field("auto", description="Working CRS; 'auto' picks the local UTM zone.")
    surveys: SurveysConfig = Field(default_factory=lambda: SurveysConfig())
    commerce: CommerceConfig = Field(default_factory=lambda: CommerceConfig())
    vacancy: VacancyConfig = Field(default_factory=lambda: VacancyConfig())
    cycling: CyclingConfig = Field(default_factory=lambda: CyclingConfig())
    production: ProductionConfig = Field(default_factory=lambda: ProductionConfig())
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


def _loc(parts: tuple[int | str, ...]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text or "(top level)"


def _lookup(data: Any, parts: tuple[int | str, ...]) -> Any:
    for part in parts:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _known_keys(parts: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = DistrictConfig
    for part in parts[:-1]:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [k for k in model.model_fields if k != "source_file"]


def _describe(error: Any, data: Any) -> str:
    loc: tuple[int | str, ...] = tuple(error["loc"])
    # Model-level validators report on the section itself; drop pydantic's type tags.
    loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
    where = _loc(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(loc)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
        return f"{where}: unknown key (value {error['input']!r}){hint}"
    if kind == "missing":
        return f"{where}: required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input", _lookup(data, loc))
    if isinstance(value, dict):
        return f"{where}: {message}"
    return f"{where}: {message} (value {value!r})"


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicated keys instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicated key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | os.PathLike[str]) -> DistrictConfig:
    """Read and validate a district configuration file.

    Parameters
    ----------
    path : str or path-like
        The YAML file.

    Returns
    -------
    DistrictConfig
        The validated configuration, with input paths resolved and checked.

    Raises
    ------
    InputFileNotFoundError
        If ``path`` does not exist.
    ConfigError
        If the YAML is malformed or does not validate; the message names the
        file, each bad key path and its value.

    Examples
    --------
    >>> from geodistrict.datasets import sample_config_path
    >>> cfg = load_config(sample_config_path())
    >>> cfg.area.bbox is not None
    True
    """
    file = Path(path)
    if not file.is_file():
        raise InputFileNotFoundError(f"configuration file not found: {str(file)!r}")
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{file}: malformed YAML{where}: {problem}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text ({exc.reason})") from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{file}: expected a mapping of keys (district, title, area, ...), "
            f"got {type(data).__name__} {data!r}"
        )
    try:
        config = DistrictConfig.model_validate(data, context={"base_dir": file.parent})
    except ValidationError as exc:
        lines = [_describe(err, data) for err in exc.errors()]
        raise ConfigError(
            f"{file}: {len(lines)} error(s)\n" + "\n".join(f"  - {line}" for line in lines)
        ) from None
    return config.model_copy(update={"source_file": file.resolve()})
