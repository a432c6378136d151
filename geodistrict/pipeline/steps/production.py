"""Step ``production``: firms, specialisation, clusters, service sites, needs.

Reads the ``production`` section of the configuration and calls the analyses
of :mod:`geodistrict.production` on the ``firms`` survey, the base layers and
(when configured) the ``vacant_units`` survey.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

import geopandas as gpd
import pandas as pd

from geodistrict import production as pr
from geodistrict._validate import projected_frame
from geodistrict.config import DistrictConfig, ProductionConfig
from geodistrict.errors import ConfigError, EmptyAreaError, ParameterError
from geodistrict.i18n import N_, _, format_percent, ngettext
from geodistrict.ingest import BaseLayers
from geodistrict.pipeline.runner import RunContext, Step
from geodistrict.pipeline.steps._outcome import Report, Reporter, attempt, nonempty
from geodistrict.production.firms import register_coverage
from geodistrict.sources.register import match_register

log = logging.getLogger(__name__)

LAYERS = (
    "firms",
    "sector_specialisation",
    "firm_clusters",
    "service_sites",
    "production_needs",
    "firm_coverage",
)


def production_layers(
    base: BaseLayers,
    firms: gpd.GeoDataFrame,
    config: ProductionConfig,
    *,
    vacant_units: gpd.GeoDataFrame | None = None,
    report: Reporter | None = None,
    keep_membership: bool = False,
    register: gpd.GeoDataFrame | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the productive district, as the pipeline step ``production`` writes them.

    A layer the data cannot give (e.g. no firm to site services for) is left
    out and reported with its reason (``report.skip``); the others are still
    computed.

    What is published together then passes the disclosure audit
    (:func:`geodistrict.production.protect_layers`): where differencing
    across layers (or against the public OSM POIs) would still isolate fewer
    than ``production.min_group_size`` firms, or recompute a suppressed
    number, more numbers are hidden, and the run summary says how many.

    Parameters
    ----------
    base : BaseLayers
        The district's base layers and graphs.
    firms : GeoDataFrame
        The firm questionnaire read with the ``FIRMS`` schema, in the working CRS.
    config : ProductionConfig
        The ``production`` section of the district configuration.
    vacant_units : GeoDataFrame, optional
        The vacant units survey (available space).
    report : Reporter, optional
        Where skipped layers go (the pipeline's ``RunContext``); default a
        :class:`~geodistrict.pipeline.steps._outcome.Report` that only logs them.
    keep_membership : bool, default False
        Keep ``attrs["membership"]`` (which respondents each row counts) on
        the layers, for :func:`geodistrict.production.audit_disclosure`;
        never write such layers.

    Returns
    -------
    dict of str to GeoDataFrame
        Those produced among ``firms``, ``sector_specialisation``,
        ``firm_clusters``, ``service_sites`` and ``production_needs``.

    Raises
    ------
    EmptyAreaError
        If the survey has no firm, or no firm has a municipality to draw
        the areas from.

    Examples
    --------
    >>> import geodistrict as gd
    >>> from geodistrict.pipeline.steps.production import production_layers
    >>> from geodistrict.sources.surveys import FIRMS, read_survey
    >>> cfg, base = gd.datasets.sample_config(), gd.datasets.sample_layers()
    >>> firms = read_survey(cfg.surveys.firms, FIRMS, crs=base.crs)
    >>> sorted(production_layers(base, firms, cfg.production))
    ['firm_clusters', 'firms', 'production_needs', 'sector_specialisation', 'service_sites']
    """
    projected_frame(firms, what="firms")
    if len(firms) == 0:
        raise EmptyAreaError("the firms survey has no firm in the study area")
    k = config.min_group_size
    dominance = (config.dominance_n, config.dominance_p)
    core, extension = config.core_municipalities, config.extension_municipalities
    answers = pr.classify_ateco(firms, edition=config.ateco_edition)
    reference = (
        pr.read_lq_reference(config.reference_file, edition=config.reference_edition)
        if config.reference_file is not None
        else None
    )
    area = base.study_area.geometry.union_all()
    areas = pr.areas_from_firms(answers, area.union(answers.geometry.union_all().buffer(50)))
    osm = pr.osm_firms(base.pois, buildings=base.buildings, landuse=base.landuse)
    matches = pr.match_firms(answers, osm, max_distance_m=config.match_distance_m)
    graph = {"walk": base.walk_graph, "bike": base.bike_graph}.get(config.service_mode)
    # The business register, when given, is the frame: who exists (register) against who
    # answered (the questionnaire), by comune and ATECO section.
    in_register = match_register(answers, register) if register is not None else None
    thunks: dict[str, Callable[[], gpd.GeoDataFrame]] = {
        "firms": lambda: pr.firms_layer(
            answers,
            osm=osm,
            matches=matches,
            areas=areas,
            publish_answers=config.publish_firm_answers,
            h3_resolution=config.h3_resolution,
            min_group_size=k,
            core=core,
            extension=extension,
        ),
        "sector_specialisation": lambda: pr.sector_specialisation(
            answers,
            areas=areas,
            by=config.specialisation_by,
            h3_resolution=max(config.h3_resolution - 1, 5),
            level=config.specialisation_level,
            weight=config.specialisation_weight,
            reference=reference,
            min_group_size=k,
            dominance=dominance,
            core=core,
            extension=extension,
        ),
        "firm_clusters": lambda: pr.firm_clusters(
            answers,
            eps_m=config.cluster_distance_m,
            min_firms=k,
            level=config.specialisation_level,
            h3_resolution=config.h3_resolution,
            dominance=dominance,
            core=core,
            extension=extension,
        ),
        "service_sites": lambda: pr.service_sites(
            answers,
            graph=graph,
            p=config.service_sites,
            max_distance_m=config.service_distance_m,
            weight=config.service_weight,
            min_group_size=k,
            dominance=dominance,
            core=core,
            extension=extension,
        ),
        "production_needs": lambda: pr.needs_summary(
            answers,
            areas,
            min_group_size=k,
            osm=osm,
            matches=matches,
            vacant_units=vacant_units,
            osm_vacant=base.pois[base.pois["vacant"].astype(bool)],
            landuse=base.landuse,
            core=core,
            extension=extension,
            dominance=dominance,
        ),
    }
    report = report if report is not None else Report()
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name, thunk in thunks.items():
        layer = attempt(report, [name], thunk)
        if layer is not None:
            layers[name] = layer
    layers = _protect(layers, answers, base.pois, config, report)
    if register is not None and in_register is not None:
        # Protected on its own (protect_counts on the cells and on each margin), not by the
        # disclosure audit of the other layers: see docs/production.md.
        coverage = attempt(report, ["firm_coverage"], lambda: _coverage(
            register, in_register, areas, k, core, extension, answers, report))  # fmt: skip
        if coverage is not None:
            layers["firm_coverage"] = coverage
    if not keep_membership:
        for layer in layers.values():
            layer.attrs.pop("membership", None)
    for name, layer in layers.items():
        log.info("production: %s has %d features", name, len(layer))
    return layers


def _protect(
    layers: dict[str, gpd.GeoDataFrame],
    answers: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    config: ProductionConfig,
    report: Reporter,
) -> dict[str, gpd.GeoDataFrame]:
    """Run the disclosure audit on what is published together and hide what it finds."""
    k = config.min_group_size
    audited = {n: v for n, v in layers.items() if n != "firms" or not config.publish_firm_answers}
    if "firms" in layers and config.publish_firm_answers:
        report.note("firms", _("publish_firm_answers is on: the layer has every answer and the "
                               "exact position of each respondent; keep this output inside the "
                               "district office, never publish or serve it"))  # fmt: skip
    protected, outcome = pr.protect_layers(
        audited | {"pois": pois},
        respondents=answers,
        k=k,
        dominance=(config.dominance_n, config.dominance_p),
    )
    protected.pop("pois")
    hidden = cast("list[str]", outcome["hidden"])
    after = cast("pd.DataFrame", outcome["findings_after"])
    if hidden:
        for name in sorted({h.split("[")[0].split(".")[0] for h in hidden}):
            mine = [h for h in hidden if h.startswith(name)]
            report.note(name, ngettext(
                "{n} more number hidden so that no combination of the published layers "
                "isolates fewer than {k} firms (disclosure audit): {cells}",
                "{n} more numbers hidden so that no combination of the published layers "
                "isolates fewer than {k} firms (disclosure audit): {cells}", len(mine),
            ).format(n=len(mine), k=k,
                     cells="; ".join(mine[:5]) + ("; ..." if len(mine) > 5 else "")))  # fmt: skip
    for name in sorted({n for ls in after["layers"] for n in str(ls).split(",") if n}):
        details = after.loc[after["layers"].str.contains(name, regex=False), "detail"]
        report.note(name, ngettext(
            "the disclosure audit still finds {n} problem no hidden number can fix: {details}",
            "the disclosure audit still finds {n} problems no hidden number can fix: {details}",
            len(details),
        ).format(n=len(details), details="; ".join(details.head(3))))  # fmt: skip
    unplaced = int(protected.get("firms", gpd.GeoDataFrame()).attrs.pop("unplaced", 0))
    if unplaced:
        report.note("firms", ngettext(
            "{n} respondent is in no cell: even at H3 resolution 6 they are fewer than {k} "
            "together",
            "{n} respondents are in no cell: even at H3 resolution 6 they are fewer than {k} "
            "together", unplaced,
        ).format(n=unplaced, k=k))  # fmt: skip
    for name in layers:
        if name not in protected:
            protected[name] = layers[name]
    return {name: protected[name] for name in layers}


def _coverage(
    register: gpd.GeoDataFrame,
    in_register: Any,
    areas: gpd.GeoDataFrame,
    k: int,
    core: list[str],
    extension: list[str],
    answers: gpd.GeoDataFrame,
    report: Reporter | None,
) -> gpd.GeoDataFrame:
    """The ``firm_coverage`` layer, and the run summary of the response rate."""
    layer = register_coverage(
        register, in_register, areas=areas, min_group_size=k, core=core, extension=extension
    )
    if report is not None:
        total = layer[layer["level"] == "district"].iloc[0]
        missing = int(in_register["register_index"].isna().sum())
        active = register["active"].astype(bool) if "active" in register else None
        unplaced = int((register["geocode_quality"] == "unmatched").sum()) if (
            "geocode_quality" in register) else 0  # fmt: skip
        rate = (
            _("{n} of {total} active units ({share})").format(
                n=int(total["respondents"]), total=int(total["register_units"]),
                share=format_percent(float(total["response_rate"])))
            if pd.notna(total["respondents"])
            else _("hidden (fewer than {k} respondents or non-respondents)").format(k=k)
        )  # fmt: skip
        parts = [_("response rate against the business register: {rate}").format(rate=rate)]
        if missing:
            parts.append(_("{n} of {total} respondents are not in the register").format(
                n=missing, total=len(answers)))  # fmt: skip
        if active is not None and (~active).any():
            parts.append(_("{n} inactive units not counted").format(n=int((~active).sum())))
        if unplaced:
            parts.append(_("{n} register units have no position (address not found) but are "
                           "counted by comune and sector").format(n=unplaced))  # fmt: skip
        report.note("firm_coverage", "; ".join(parts))
    return layer


def _check(config: DistrictConfig) -> None:
    """A municipality cannot be both in the core and in the extension of the district."""
    section = config.production
    try:
        pr.zone_of(
            [], core=section.core_municipalities, extension=section.extension_municipalities
        )
    except ParameterError as exc:
        raise ConfigError(
            f"production.core_municipalities / production.extension_municipalities: {exc}"
        ) from None


def _converted_codes(firms: gpd.GeoDataFrame, edition: str) -> int:
    """How many firms' ATECO codes are ATECO 2007 codes converted to 2025."""
    codes = firms["ateco"].dropna().astype("str") if "ateco" in firms.columns else []
    return sum(
        pr.resolve_ateco(c, edition=edition).converted_from is not None  # type: ignore[arg-type]
        for c in codes
    )


#: Why a production layer can come out empty.
EMPTY_REASONS = {
    "firm_clusters": N_(
        "no cluster: no sector has production.min_group_size firms within "
        "production.cluster_distance_m of each other"
    ),
    "service_sites": N_("no service site could be placed"),
    "production_needs": N_(
        "no need to summarise: every group is smaller than production.min_group_size"
    ),
}


def _run(ctx: RunContext) -> dict[str, Any]:
    surveys = ctx["surveys"]
    firms = surveys.get("firms")
    if firms is None:
        for layer in LAYERS:
            ctx.skip(layer, _("no firms survey configured (surveys.firms)"))
        return {}
    k = ctx.config.production.min_group_size
    register = surveys.get("register")
    if register is None:
        ctx.skip(
            "firm_coverage",
            _(
                "no business register configured (surveys.business_register): "
                "coverage and response rate are against the OSM firms (production_needs)"
            ),
        )
    layers = attempt(
        ctx,
        LAYERS,
        lambda: production_layers(
            ctx["base"],
            firms,
            ctx.config.production,
            vacant_units=surveys.get("vacant_units"),
            report=ctx,
            register=register,
        ),
    )
    if layers is None:
        return {}
    spec = layers.get("sector_specialisation", gpd.GeoDataFrame())
    shown = int(spec.attrs.pop("cells_published", len(spec)))
    hidden = int(spec.attrs.pop("cells_suppressed", 0))
    unreferenced = list(spec.attrs.pop("sectors_without_reference", []))
    spec.attrs = {}
    config = ctx.config.production
    if "sector_specialisation" in layers and config.reference_file is None:
        ctx.note("sector_specialisation", _("location quotients against the respondents "
                 "themselves (lq_reference = respondents): no production.reference_file of "
                 "ISTAT counts by ATECO division"))  # fmt: skip
    if unreferenced:
        ctx.note("sector_specialisation", ngettext(
            "the reference ({file}) has no unit of sector {sectors}: its lq is empty",
            "the reference ({file}) has no unit of sectors {sectors}: their lq is empty",
            len(unreferenced),
        ).format(file=config.reference_file, sectors=", ".join(unreferenced)))  # fmt: skip
    converted = _converted_codes(firms, config.ateco_edition)
    if converted:
        ctx.note("firms", _("{n} of {total} ATECO codes of the firms survey are ATECO 2007 and "
                            "were converted to ATECO 2025 through ISTAT's correspondence (see "
                            "the log for each code)").format(n=converted,
                                                             total=len(firms)))  # fmt: skip
    reasons = dict(EMPTY_REASONS)
    if hidden and shown:
        ctx.note("sector_specialisation", _("{hidden} of {total} area x sector cells with "
                 "firms are suppressed: groups of fewer than {k} firms "
                 "(production.min_group_size) are not published").format(
                     hidden=hidden, total=shown + hidden, k=k))  # fmt: skip
    reasons["sector_specialisation"] = (
        _("every one of the {hidden} area x sector cells with firms is suppressed: groups of "
          "fewer than {k} firms (production.min_group_size) are not published").format(
              hidden=hidden, k=k)
        if hidden
        else _("no firm of the survey has both an area and an ATECO sector")
    )  # fmt: skip
    return nonempty(ctx, layers, reasons)


STEP = Step(
    "production",
    N_("firms, specialisation, clusters, service sites, needs"),
    _run,
    needs=("base", "surveys"),
    layers=LAYERS,
    check=_check,
)
