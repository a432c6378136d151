"""pygeoapi feature providers used by the published configuration.

Two thin subclasses of pygeoapi's own providers, one per store, that make
every answer valid JSON in the CRS asked for and turn bad requests into
HTTP 400 instead of 500:

- :class:`GeoParquetProvider` (pygeoapi's Parquet provider): an exact
  ``numberMatched`` (0.24 reports ``offset + limit + 1``, which makes GDAL's
  OAPIF client, and so QGIS, stop after the first pages); no ``bbox`` on
  features and collections (geopandas' ``__geo_interface__`` writes it in the
  storage CRS, and pygeoapi transforms only the geometry, so it contradicted
  lon/lat coordinates); no ``bbox`` covering column among the properties.
  ``items`` are answered from an in-memory snapshot of the file version
  (:mod:`geodistrict.publish.snapshots`: counts, vectorised filters, geometries
  reprojected once per CRS; a file over the cache bound is scanned with the
  filters pushed down to pyarrow), and the provider pygeoapi builds per
  request reuses the state built for the same definition and file version.
  ``bbox`` selects the features that intersect it, as PostGIS does.
- :class:`PostGISProvider` (pygeoapi's PostgreSQL provider).
- :class:`GeoTIFFProvider` (pygeoapi's rasterio provider, for the Coverages
  collections): ``bbox-crs`` given as an OGC URI (0.24 accepts only a bare
  EPSG number and fails with a 500 otherwise), and a bbox outside the raster
  or otherwise unusable answers 400.

- :class:`FormulaSafeCSVFormatter` (pygeoapi's CSV formatter, for ``?f=csv``):
  text cells that a spreadsheet would run as a formula (starting with ``=``,
  ``+``, ``-``, ``@``, tab or CR) get a ``'`` in front
  (:func:`geodistrict._csvsafe.formula_safe`);
  :func:`geodistrict.publish.wsgi.create_app` puts it in place of pygeoapi's.

Integer ids and integer filters outside PostgreSQL's ``bigint`` (``fid`` beyond
2^63) are a 404 or a 400, not an overflow.  Both feature providers serve
non-finite numbers (``inf``, ``-inf``, ``NaN``) as ``null``: Python's JSON
encoder, which pygeoapi uses, would write ``Infinity`` and ``NaN``, which
are not JSON (``JSON.parse`` rejects them).  The stores hold NULL already
(:func:`geodistrict.store.write_layers` writes the GeoParquet files so); this
is the last line for data written otherwise.  Both check the query before
running it: property filters of the wrong type, ``datetime`` on a collection
without time, an unknown ``resulttype`` or a filter the database rejects
answer 400 with the reason; 3-D ``bbox`` values are used for their 2-D part.

Examples
--------
>>> json_safe({"a": float("inf"), "b": [1.5, float("nan")], "c": "x"})
{'a': None, 'b': [1.5, None], 'c': 'x'}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pygeoapi.formatter.csv_ import CSVFormatter
from pygeoapi.provider.base import (
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)
from pygeoapi.provider.parquet import ParquetProvider
from pygeoapi.provider.rasterio_ import RasterioProvider
from pygeoapi.provider.sql import PostgreSQLProvider

from geodistrict._csvsafe import formula_safe

__all__ = [
    "FormulaSafeCSVFormatter",
    "GeoParquetProvider",
    "GeoTIFFProvider",
    "PostGISProvider",
    "json_safe",
]

#: The range of a PostgreSQL ``bigint`` and a numpy ``int64``.
INT64 = (-(2**63), 2**63 - 1)


def _int64(value: Any) -> int:
    """``value`` as an integer that int64 columns can hold; ValueError otherwise."""
    number = int(str(value).strip())
    if not INT64[0] <= number <= INT64[1]:
        raise ValueError(f"{value!r} is beyond 64-bit integers")
    return number


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float (also in dicts and lists) as ``None``."""
    if isinstance(value, float | np.floating):  # numpy.float32 is not a float
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _served_feature(feature: dict[str, Any]) -> dict[str, Any]:
    """A feature as served: no bbox (it would be in the storage CRS), finite numbers."""
    feature.pop("bbox", None)
    properties = feature.get("properties")
    if isinstance(properties, dict):
        properties.pop("bbox", None)  # the GeoParquet covering column is an index
        feature["properties"] = json_safe(properties)
    return feature


def _typed(value: Any, name: str, field: Mapping[str, Any]) -> Any:
    """A property filter's text value as the field's type, or a 400 quoting it."""
    kind = field.get("type")
    try:
        if kind == "integer":
            return _int64(value)
        if kind == "number":
            return float(str(value))
        if kind == "boolean":
            text = str(value).lower()
            if text not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text in ("true", "1")
    except ValueError:
        raise ProviderInvalidQueryError(
            user_msg=f"property {name!r} is a {kind}: cannot filter it by {value!r}"
        ) from None
    return value


def _checked(provider: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """pygeoapi's query arguments, checked and normalised, for either provider."""
    args = dict(kwargs)
    resulttype = args.get("resulttype") or "results"
    if resulttype not in ("results", "hits"):
        raise ProviderInvalidQueryError(
            user_msg=f"resulttype must be 'results' or 'hits', got {resulttype!r}"
        )
    args["resulttype"] = resulttype
    if args.get("datetime_") not in (None, "../..") and provider.time_field is None:
        raise ProviderInvalidQueryError(
            user_msg=f"this collection has no time: cannot filter by "
            f"datetime={args['datetime_']!r}"
        )
    bbox = args.get("bbox")
    if isinstance(bbox, Sequence) and len(bbox) == 6:  # minx, miny, minz, maxx, maxy, maxz
        args["bbox"] = [bbox[0], bbox[1], bbox[3], bbox[4]]
    for name in ("select_properties", "sortby"):  # ?properties=a,a: a once (else a 500)
        if isinstance(args.get(name), list):
            seen: set[str] = set()
            unique = []
            for value in args[name]:
                key = repr(value.get("property") if isinstance(value, dict) else value)
                if key not in seen:
                    seen.add(key)
                    unique.append(value)
            args[name] = unique
    properties = args.get("properties") or []
    if properties:
        fields = provider.get_fields()
        args["properties"] = [
            (name, _typed(value, name, fields.get(name, {}))) for name, value in properties
        ]
    return args


def _integer_id(identifier: Any) -> int:
    """An item id of an integer id column, or a 404 naming it."""
    try:
        return _int64(identifier)
    except ValueError:
        shown = str(identifier)[:40]
        raise ProviderItemNotFoundError(
            user_msg=f"no feature {shown!r}: ids are 64-bit integers"
        ) from None


#: Constructed provider state by (provider definition, file version): pygeoapi builds a
#: provider per request (``load_plugin``), which would re-open the dataset each time.
_PROVIDERS: dict[tuple[str, Any], dict[str, Any]] = {}


def _time_filter(provider: Any, datetime_: Any) -> tuple[str, Any, Any] | None:
    """``datetime`` as ``(field, begin, end)`` (``None`` ends are open), as pygeoapi reads it."""
    from dateutil.parser import isoparse

    if datetime_ in (None, "../.."):
        return None
    text = str(datetime_)
    if "/" in text:
        begin, end = text.split("/", 1)
        return (
            provider.time_field,
            None if begin in ("..", "") else isoparse(begin),
            None if end in ("..", "") else isoparse(end),
        )
    instant = isoparse(text)
    return provider.time_field, instant, instant


class GeoParquetProvider(ParquetProvider):
    """pygeoapi's Parquet provider, answered from in-memory snapshots of the file.

    ``numberMatched`` is exact; filters run vectorised over the file version's
    snapshot (:mod:`geodistrict.publish.snapshots`), geometries are
    reprojected once per version and CRS, and a provider for the same
    definition and file version is built once per process.  ``bbox`` selects
    the features that intersect it (as PostGIS and geopandas' ``.cx``).
    """

    def __init__(self, provider_def: dict[str, Any]) -> None:
        import json

        from geodistrict.publish.snapshots import file_version

        try:
            source = str((provider_def.get("data") or {}).get("source") or "")
            key = (json.dumps(provider_def, sort_keys=True, default=str), file_version(source))
        except (OSError, TypeError, ValueError):  # let pygeoapi report a bad source
            super().__init__(provider_def)
            return
        state = _PROVIDERS.get(key)
        if state is None:
            super().__init__(provider_def)
            self.get_fields()
            if len(_PROVIDERS) >= 512:
                _PROVIDERS.clear()
            _PROVIDERS[key] = dict(self.__dict__)
        else:
            self.__dict__.update(state)

    def query(self, **kwargs: Any) -> dict[str, Any]:
        """Features matching the query (pygeoapi's arguments), checked first."""
        import pyarrow as pa

        from geodistrict.publish import snapshots

        args = _checked(self, kwargs)
        for name, value in args.get("properties") or []:
            kind = self.ds.schema.field(name).type if name in self.ds.schema.names else None
            if isinstance(value, int) and kind is not None and pa.types.is_integer(kind):
                info = np.iinfo(kind.to_pandas_dtype())
                if not info.min <= value <= info.max:  # int8 etc.: pyarrow would overflow
                    raise ProviderInvalidQueryError(
                        user_msg=f"property {name!r} holds integers from {info.min} to "
                        f"{info.max}: cannot filter it by {value}"
                    )
        bbox = args.get("bbox") or None
        if bbox and not self.has_geometry:
            raise ProviderInvalidQueryError(user_msg="this collection has no geometry: no bbox")
        try:
            query = snapshots.Query(
                bbox=tuple(float(b) for b in bbox) if bbox else None,  # type: ignore[arg-type]
                properties=tuple(args.get("properties") or ()),
                time=_time_filter(self, args.get("datetime_")),
            )
        except (TypeError, ValueError) as exc:
            raise ProviderInvalidQueryError(user_msg=f"cannot read the filter: {exc}") from exc
        offset = int(args.get("offset") or 0)
        limit = int(args["limit"]) if args.get("limit") is not None else 10
        spec = args.get("crs_transform_spec")
        crs_key = (
            None if spec is None
            else (spec.source_crs_wkt, spec.target_crs_wkt, bool(spec.always_xy))
        )  # fmt: skip
        select = list(args.get("select_properties") or [])
        columns = (
            ([self.id_field] if self.id_field and self.id_field not in select else [])
            + [c for c in select if c != "geometry"]
            if select
            else None
        )
        options = {
            "id_field": self.id_field,
            "columns": columns,
            "crs_key": crs_key,
            "skip_geometry": bool(args.get("skip_geometry")) or not self.has_geometry,
        }
        try:
            snap = snapshots.snapshot(self.source)
            if snap is None:  # too large to hold: scanned, filters pushed down
                if args["resulttype"] == "hits":
                    matched, _ = snapshots.scan(
                        self.source, query, offset=0, limit=0, id_field=self.id_field,
                        dataset=self.ds,
                    )  # fmt: skip
                    return {"type": "FeatureCollection", "numberMatched": matched, "features": []}
                matched, features = snapshots.scan(
                    self.source, query, offset=offset, limit=limit, dataset=self.ds, **options
                )
            else:
                rows = snap.select(query)
                matched = len(rows)
                if args["resulttype"] == "hits":
                    return {"type": "FeatureCollection", "numberMatched": matched, "features": []}
                features = snap.features(rows[offset : offset + limit], **options)
                if snap.flat:  # floats are finite or null already; no bbox column
                    return {"type": "FeatureCollection", "features": features,
                            "numberMatched": matched}  # fmt: skip
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            reason = str(exc).splitlines()[0]
            raise ProviderInvalidQueryError(
                user_msg=f"the query does not fit the collection's columns: {reason}"
            ) from exc
        except OSError as exc:
            raise ProviderQueryError(user_msg=f"cannot read the collection: {exc}") from exc
        return {
            "type": "FeatureCollection",
            "features": [_served_feature(f) for f in features],
            "numberMatched": matched,
        }

    def get(self, identifier: Any, **kwargs: Any) -> dict[str, Any]:
        """One feature by id; an id that cannot be one (``abc`` for integer ids) is a 404."""
        kind = self.get_fields().get(self.id_field, {}).get("type")
        if kind == "integer":
            _integer_id(identifier)
        feature: dict[str, Any] = super().get(identifier, **kwargs)
        return _served_feature(feature)

    def get_fields(self) -> dict[str, Any]:
        """Queryable fields, without the bbox covering column."""
        fields: dict[str, Any] = super().get_fields()
        fields.pop("bbox", None)
        return fields


class PostGISProvider(PostgreSQLProvider):
    """pygeoapi's PostgreSQL provider: valid JSON; bad filters are a 400, not a 500."""

    def query(self, **kwargs: Any) -> dict[str, Any]:
        """Features matching the query (pygeoapi's arguments), checked first."""
        from sqlalchemy.exc import DataError, ProgrammingError

        try:
            result: dict[str, Any] = super().query(**_checked(self, kwargs))
        except (DataError, ProgrammingError) as exc:
            # The database refused the filter (e.g. text compared with an integer).
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise ProviderInvalidQueryError(
                user_msg=f"the query does not fit the collection's columns: {reason}"
            ) from exc
        return result

    def get(self, identifier: Any, **kwargs: Any) -> dict[str, Any]:
        """One feature by id; an id that cannot be a bigint is a 404, not a database error."""
        if self.get_fields().get(self.id_field, {}).get("type") == "integer":
            _integer_id(identifier)
        feature: dict[str, Any] = super().get(identifier, **kwargs)
        return feature

    def _sqlalchemy_to_feature(
        self, item: Any, crs_transform_out: Any = None, select_properties: Any = None
    ) -> dict[str, Any]:
        feature: dict[str, Any] = super()._sqlalchemy_to_feature(
            item, crs_transform_out, select_properties or []
        )
        return _served_feature(feature)


class GeoTIFFProvider(RasterioProvider):
    """pygeoapi's rasterio provider: ``bbox-crs`` as a URI; unusable bboxes are a 400."""

    def query(self, **kwargs: Any) -> Any:
        """The coverage (pygeoapi's arguments), with ``bbox`` and ``bbox_crs`` checked."""
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        args = dict(kwargs)
        bbox = args.get("bbox") or []
        if len(bbox) == 6:
            args["bbox"] = [bbox[0], bbox[1], bbox[3], bbox[4]]
        if bbox and "bbox_crs" in args:
            given = args["bbox_crs"]
            try:
                epsg = (
                    4326 if str(given).endswith("CRS84") else CRS.from_user_input(given).to_epsg()
                )
            except CRSError:
                epsg = None
            if epsg is None:
                raise ProviderInvalidQueryError(
                    user_msg=f"bbox-crs {given!r} is not a CRS with an EPSG code"
                )
            args["bbox_crs"] = epsg  # CRS84 and EPSG:4326 alike: lon, lat (always_xy)
        try:
            return super().query(**args)
        except ProviderQueryError as exc:  # e.g. a bbox that does not overlap the raster
            raise ProviderInvalidQueryError(user_msg=f"cannot cut the coverage: {exc}") from exc


class FormulaSafeCSVFormatter(CSVFormatter):
    """pygeoapi's CSV formatter with formula prefixes neutralised in text cells."""

    def __init__(self, formatter_def: dict[str, Any]) -> None:
        super().__init__(formatter_def)
        self.name = "CSV"  # replaces pygeoapi's formatter of that name in a collection

    def _add_feature(self, writer: Any, feature: dict[str, Any], is_point: bool) -> None:
        properties = feature.get("properties") or {}
        feature = dict(feature, properties={k: formula_safe(v) for k, v in properties.items()})
        super()._add_feature(writer, feature, is_point)

    def _write_from_geojson(
        self, options: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
        is_point: bool = False,
    ) -> Any:  # fmt: skip
        """CSV of a FeatureCollection; column names neutralised too."""
        if data and data.get("features"):
            for feature in data["features"]:
                props = feature.get("properties") or {}
                feature["properties"] = {formula_safe(k): v for k, v in props.items()}
        return super()._write_from_geojson(options or {}, data, is_point)
