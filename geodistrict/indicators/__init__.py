"""Agenda 2030 and programme indicators of a district, weighted by its residents.

* :mod:`~geodistrict.indicators.access`: residents within a walk of public
  transport (SDG 11.2.1), open spaces, everyday needs;
* :mod:`~geodistrict.indicators.open_space`: open public space, streets and the
  built-up area (SDG 11.7.1);
* :mod:`~geodistrict.indicators.table`: the ``indicators`` table (value, unit,
  method, source, date, scope, estimated).

Methods and references: ``docs/indicators.md``.
"""

from geodistrict.indicators.access import (
    HIGH_CAPACITY_MODES,
    share_within,
    stop_capacity,
    transit_access,
    walk_distance,
)
from geodistrict.indicators.open_space import (
    OPEN_SPACE_TAGS,
    STREET_WIDTHS_M,
    built_up_area,
    open_public_spaces,
    open_space_shares,
    street_area,
)
from geodistrict.indicators.table import COLUMNS, district_indicators, indicator_frame

__all__ = [
    "COLUMNS",
    "HIGH_CAPACITY_MODES",
    "OPEN_SPACE_TAGS",
    "STREET_WIDTHS_M",
    "built_up_area",
    "district_indicators",
    "indicator_frame",
    "open_public_spaces",
    "open_space_shares",
    "share_within",
    "stop_capacity",
    "street_area",
    "transit_access",
    "walk_distance",
]
