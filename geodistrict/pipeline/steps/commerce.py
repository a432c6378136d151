"""Step ``commerce``: commercial units, density, retail centres, category mix and gaps.

The configuration glue of :mod:`geodistrict.commerce`: :func:`commerce_layers`
reads the ``commerce`` section (and ``vacancy.merge_distance_m``), classifies
the POIs with the district's taxonomy, merges the OSM and survey vacant units
(:func:`geodistrict.vacancy.vacant_units`) and runs every commerce analysis;
the step registers the density raster for writing after the layers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict import commerce
from geodistrict.config import CommerceConfig, DistrictConfig, VacancyConfig
from geodistrict.errors import ConfigError, EmptyAreaError
from geodistrict.i18n import N_
from geodistrict.ingest import BaseLayers
from geodistrict.network import graph_arrays
from geodistrict.pipeline.runner import RunContext, Step
from geodistrict.pipeline.steps._outcome import attempt, nonempty
from geodistrict.taxonomy import Classification, Taxonomy, classify, load_taxonomy
from geodistrict.vacancy import vacant_units

log = logging.getLogger(__name__)

__all__ = ["LAYERS", "STEP", "CommerceResult", "commerce_layers"]

LAYERS = (
    "commercial_units",
    "commercial_hex",
    "street_frontage",
    "commercial_access",
    "retail_centres",
    "category_gaps",
)


@dataclass(frozen=True)
class CommerceResult:
    """Everything :func:`commerce_layers` computes.

    Attributes
    ----------
    layers : dict of str to GeoDataFrame
        ``commercial_units``, ``commercial_hex``, ``street_frontage``,
        ``commercial_access``, ``retail_centres``, ``category_gaps``.
    density : DensityRaster
        The ``commercial_density.tif`` raster, not yet written.
    classification : Classification
        Unclassified tags (``classification.unclassified``) and counts.
    reference : Series
        The reference mix used.
    """

    layers: dict[str, gpd.GeoDataFrame]
    density: commerce.DensityRaster
    classification: Classification
    reference: pd.Series


def commerce_layers(
    layers: BaseLayers,
    *,
    config: CommerceConfig | None = None,
    vacancy: VacancyConfig | None = None,
    surveys: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> CommerceResult:
    """Run every commerce analysis for a district.

    Parameters
    ----------
    layers : BaseLayers
        The district's base layers (:func:`geodistrict.load_base_layers`).
    config : CommerceConfig, optional
        ``commerce`` section of the configuration (default: its defaults).
    vacancy : VacancyConfig, optional
        For ``merge_distance_m`` of OSM and survey vacant units.
    surveys : mapping, optional
        Survey layers; ``vacant_units`` (points) adds to the OSM vacant units.

    Returns
    -------
    CommerceResult

    Raises
    ------
    EmptyAreaError
        If no POI of the district is a commercial unit.

    Examples
    --------
    >>> import geodistrict as gd
    >>> result = commerce_layers(gd.datasets.sample_layers())
    >>> sorted(result.layers)[:3]
    ['category_gaps', 'commercial_access', 'commercial_hex']
    """
    cfg = config if config is not None else CommerceConfig()
    merge_m = vacancy.merge_distance_m if vacancy is not None else VacancyConfig().merge_distance_m
    tax = load_taxonomy(cfg.taxonomy)
    cats = list(tax.categories)
    found = classify(layers.pois, tax)
    units = found.units
    if len(units) == 0:
        raise EmptyAreaError(
            f"no commercial unit in the study area: none of its {len(layers.pois)} POI(s) "
            "matches the taxonomy (commerce.taxonomy)"
        )
    area = layers.study_area
    # Vacant units per centre and hexagon: OSM and survey merged by the one rule of vacancy.
    vacant = vacant_units(layers.pois, (surveys or {}).get("vacant_units"),
                          merge_distance_m=merge_m)  # fmt: skip
    arrays = graph_arrays(layers.walk_graph)
    dists = tuple(float(d) for d in cfg.access_distances_m)
    reach_m = cfg.walk_speed_kmh * 1000.0 / 60.0 * cfg.everyday_minutes

    unknown = sorted(set(cfg.retail_categories) - set(cats))
    if unknown:
        raise ConfigError(
            f"commerce.retail_categories: unknown categor(ies) {unknown!r} "
            f"(the taxonomy's: {', '.join(cats)})"
        )
    cdrc = cfg.centre_method == "cdrc"
    centres, labels = commerce.retail_centres(
        units, method=cfg.centre_method,
        min_units=cfg.cdrc_min_units if cdrc else cfg.min_centre_units,
        resolution=cfg.cdrc_h3_resolution, min_cells=cfg.cdrc_min_cells,
        min_cell_units=cfg.cdrc_min_cell_units, retail_categories=cfg.retail_categories,
        buffer_m=cfg.centre_buffer_m, vacant=vacant, categories=cats,
        perimeter=commerce.read_perimeter(cfg.duc_file) if cfg.duc_file is not None else None,
        perimeter_mode=cfg.duc_mode,
    )  # fmt: skip
    units_out = units.copy()
    units_out["centre_id"] = labels.to_numpy()

    hexes = commerce.commercial_hex(
        units, area, resolution=cfg.h3_resolution, categories=cats, vacant=vacant
    )
    hex_walk = commerce.walking_coverage(
        arrays, units, gpd.GeoDataFrame(geometry=hexes.geometry.centroid, crs=hexes.crs),
        taxonomy=tax, max_m=reach_m,
    )  # fmt: skip
    for col in hex_walk.columns:
        hexes[col] = hex_walk[col].replace(np.inf, np.nan).to_numpy()

    _check_catch_all(cfg, tax)
    reference = commerce.load_reference_mix(cfg.reference_from or cfg.reference_mix, taxonomy=tax)
    gaps = commerce.category_gaps(
        units, area, reference, centres=centres, labels=labels, taxonomy=tax,
        alpha=cfg.gap_alpha, fdr_method=cfg.gap_fdr_method,
        catch_all=tuple(cfg.catch_all_categories),
    )  # fmt: skip
    origins = commerce.homes(layers.buildings, layers.landuse)
    kind = "homes"
    if len(origins) == 0:
        origins = gpd.GeoDataFrame(hexes[["h3"]], geometry=hexes.geometry, crs=hexes.crs)
        kind = "hexagons"
        log.info("no residential building: walking coverage measured from hexagon centres")
    walk = commerce.walking_coverage(arrays, units, origins, taxonomy=tax, max_m=reach_m)
    coverage = commerce.coverage_rows(walk, origins, taxonomy=tax, max_m=reach_m,
                                      origin_kind=kind)  # fmt: skip
    gaps = gpd.GeoDataFrame(pd.concat([gaps, coverage], ignore_index=True), crs=gaps.crs)
    for col in ("observed", "origins", "origins_within"):
        gaps[col] = gaps[col].astype("Int64")

    result_layers = {
        "commercial_units": units_out,
        "commercial_hex": hexes,
        "street_frontage": commerce.street_frontage(
            layers.streets, units, max_distance_m=cfg.frontage_max_m, categories=cats
        ),
        "commercial_access": commerce.commercial_access(
            arrays, units, distances=dists, categories=cats
        ),
        "retail_centres": centres,
        "category_gaps": gaps,
    }
    density = commerce.density_raster(
        units, area, bandwidth_m=cfg.kde_bandwidth_m, cell_m=cfg.raster_cell_m, categories=cats
    )
    return CommerceResult(
        layers=result_layers, density=density, classification=found, reference=reference
    )


def _check_catch_all(cfg: CommerceConfig, tax: Taxonomy) -> None:
    unknown = [c for c in cfg.catch_all_categories if c not in tax.categories]
    if unknown:
        raise ConfigError(
            f"commerce.catch_all_categories: unknown categories {unknown!r} "
            f"(known: {', '.join(tax.categories)})"
        )


def _check(config: DistrictConfig) -> None:
    """The catch-all categories and the reference mix, which need the taxonomy."""
    cfg = config.commerce
    tax = load_taxonomy(cfg.taxonomy)
    _check_catch_all(cfg, tax)
    commerce.load_reference_mix(cfg.reference_from or cfg.reference_mix, taxonomy=tax)


#: Why a commerce layer can be empty although the district has commercial units.
EMPTY_REASONS = {
    "retail_centres": N_(
        "no retail centre: no contiguous tract of H3 cells with at least "
        "commerce.cdrc_min_units retail units (or, with centre_method hdbscan, no cluster of "
        "commerce.min_centre_units), and no commerce.duc_file perimeter"
    ),
    "street_frontage": N_("no commercial unit lies within commerce.frontage_max_m of a street"),
}


def _run(ctx: RunContext) -> dict[str, Any]:
    """The commerce layers; with no commercial unit every layer is skipped with the reason.

    The steps that need commerce's layers (``cycling``, ``vacancy``) then run
    without them: cycling takes its commerce destinations from the POIs and
    has no centre among its key places; the vacancy ranking leaves out the
    criteria that need them (``criteria_omitted``).
    """
    result = attempt(
        ctx,
        LAYERS,
        lambda: commerce_layers(
            ctx["base"],
            config=ctx.config.commerce,
            vacancy=ctx.config.vacancy,
            surveys=ctx["surveys"],
        ),
    )
    if result is None:  # no raster either: there is no density to map
        return {}
    density = result.density
    ctx.rasters["commercial_density.tif"] = lambda path: commerce.write_density_raster_entry(
        density, path
    )
    return nonempty(ctx, result.layers, EMPTY_REASONS)


STEP = Step(
    "commerce",
    N_("commercial density, retail centres, category mix and gaps"),
    _run,
    needs=("base", "surveys"),
    layers=LAYERS,
    rasters=("commercial_density.tif",),
    check=_check,
)
