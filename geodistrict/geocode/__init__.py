"""Offline address geocoding with the district's own OpenStreetMap extract.

Rows that carry an address and no coordinates (a business register, an
office's list of vacant units) are placed on the address points, interpolation
ways and named streets of the extract, with Italian address normalisation
(``V.le`` / ``Viale``, ``P.zza``, ``G. Verdi`` / ``Giuseppe Verdi``,
``S.`` / ``San``, civic numbers ``12/A``, ``12 bis``, ``12-14``, ``snc``).
Every row gets a ``geocode_quality`` (``exact``, ``interpolated``, ``street``,
``unmatched``) and a ``geocode_note``; unmatched rows are kept, without
geometry.

Layout
------
* :mod:`~geodistrict.geocode.normalise`: :func:`parse_address`,
  :func:`parse_civic`, :func:`street_key`, :func:`comune_key`, :func:`words_match`;
* :mod:`~geodistrict.geocode.index`: :func:`address_index`, :class:`AddressIndex`;
* :mod:`~geodistrict.geocode.geocoder`: :func:`geocode`, :func:`locate`, :data:`QUALITIES`.

Examples
--------
>>> import geodistrict as gd
>>> import pandas as pd
>>> from geodistrict.geocode import address_index, geocode
>>> base = gd.datasets.sample_layers()
>>> index = address_index(pois=base.pois, buildings=base.buildings, streets=base.streets)
>>> rows = pd.DataFrame({"address": ["Mannerheimintie 5", "Ei Olemassa Katu 1"]})
>>> geocode(rows, index)["geocode_quality"].tolist()
['exact', 'unmatched']
"""

from geodistrict.geocode.geocoder import QUALITIES, Match, geocode, locate
from geodistrict.geocode.index import AddressIndex, address_index
from geodistrict.geocode.normalise import (
    Civic,
    ParsedAddress,
    comune_key,
    parse_address,
    parse_civic,
    street_key,
    words_match,
)

__all__ = [
    "QUALITIES",
    "AddressIndex",
    "Civic",
    "Match",
    "ParsedAddress",
    "address_index",
    "comune_key",
    "geocode",
    "locate",
    "parse_address",
    "parse_civic",
    "street_key",
    "words_match",
]
