"""Productive district: firm questionnaire, sector specialisation, clusters, service sites.

A productive district (e.g. Zingonia 2030) surveys its firms with the
questionnaire of :data:`geodistrict.sources.surveys.FIRMS` and wants to know
where each sector concentrates, which needs the firms share, and where to put
shared services (a job and training desk, a business help desk).  The
functions here turn the survey answers (read by
:func:`~geodistrict.sources.surveys.read_survey`) and the OSM base layers into
the layers ``firms``, ``sector_specialisation``, ``firm_clusters``,
``service_sites`` and ``production_needs``:

* :mod:`~geodistrict.production.ateco`: ATECO 2025 (and 2007, converted through
  ISTAT's correspondence), classifying firms;
* :mod:`~geodistrict.production.privacy`: which counts of firms may be published;
* :mod:`~geodistrict.production.disclosure`: the audit of everything published
  together (differencing across layers, complements, filters, OSM), and the
  secondary suppression it drives;
* :mod:`~geodistrict.production.firms`: zones, approximate municipal areas,
  OSM firms, matching respondents to them, the ``firms`` layer;
* :mod:`~geodistrict.production.specialisation`: location quotients (against ISTAT's
  counts or the respondents), clusters;
* :mod:`~geodistrict.production.services`: shared-service sites, space for expansion;
* :mod:`~geodistrict.production.needs`: needs by area, zone and work table.

Each function takes plain GeoDataFrames (a projected CRS, metres) and
keyword arguments, and returns new frames; inputs are never modified. The
pipeline step ``production`` (:mod:`geodistrict.pipeline.steps.production`)
reads the configuration and calls them.

Privacy
-------
Questionnaire answers are confidential.  Every aggregate built here counts
firms, and a count of firms is published only when it is 0 or at least ``k``
(``min_group_size``); so is its complement within the parent group, and the
residual left by suppressed cells along every published margin (secondary
suppression, see :func:`protect_counts`), so that no group of 1 to ``k - 1``
firms can be read, nor derived by subtracting published numbers of the same
layer.  Sums and means (employees, hires, space) are published only where the
count of the firms behind them is, and sums only when they pass the (2, 0.85)
dominance rule (:func:`dominated`).  The ``firms`` layer has no row per firm:
respondents are counted in H3 cells of at least ``k`` (:func:`anonymous_cells`),
and the OSM firms that did not answer are not listed, unless answers may be
published (``publish_answers=True``, a local deliverable).  Across layers,
:func:`audit_disclosure` checks that no combination of what is published
together (differencing, complements, filters, the public OSM POIs) isolates
fewer than ``k`` firms, and :func:`protect_layers` hides more numbers until it
does not (the pipeline step runs it).  See ``docs/production.md``.

Examples
--------
>>> import geodistrict as gd
>>> from geodistrict import production as pr
>>> from geodistrict.sources.surveys import FIRMS, read_survey
>>> cfg, base = gd.datasets.sample_config(), gd.datasets.sample_layers()
>>> firms = pr.classify_ateco(read_survey(cfg.surveys.firms, FIRMS, crs=base.crs))
>>> firms["ateco_section"].value_counts().index[0]
'C'
"""

from geodistrict.production.ateco import AtecoCode, ateco_table, classify_ateco, resolve_ateco
from geodistrict.production.disclosure import audit_disclosure, protect_layers
from geodistrict.production.firms import (
    SENSITIVE_FIELDS,
    areas_from_firms,
    firms_layer,
    match_firms,
    osm_firms,
    zone_of,
)
from geodistrict.production.needs import CRITICAL_ISSUES, WORK_TABLES, needs_summary
from geodistrict.production.privacy import anonymous_cells, dominated, protect_counts
from geodistrict.production.services import match_expansion, service_sites
from geodistrict.production.specialisation import (
    firm_clusters,
    read_lq_reference,
    sector_specialisation,
)

__all__ = [
    "CRITICAL_ISSUES",
    "SENSITIVE_FIELDS",
    "WORK_TABLES",
    "AtecoCode",
    "anonymous_cells",
    "areas_from_firms",
    "ateco_table",
    "audit_disclosure",
    "classify_ateco",
    "dominated",
    "firm_clusters",
    "firms_layer",
    "match_expansion",
    "match_firms",
    "needs_summary",
    "osm_firms",
    "protect_counts",
    "protect_layers",
    "read_lq_reference",
    "resolve_ateco",
    "sector_specialisation",
    "service_sites",
    "zone_of",
]
