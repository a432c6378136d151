"""pygeoapi providers used by the published configuration.

pygeoapi's own Parquet provider (0.24) reports ``numberMatched`` as
``offset + limit + 1`` instead of the number of matching features, which
makes GDAL's OAPIF client (and so QGIS) stop after the first pages.  This
subclass returns the exact count of the filtered dataset.
"""

from __future__ import annotations

from typing import Any

from pygeoapi.provider.parquet import ParquetProvider


class GeoParquetProvider(ParquetProvider):
    """pygeoapi's Parquet provider with an exact ``numberMatched``."""

    def _response_feature_collection(
        self, filter: Any, offset: int, limit: int, columns: Any = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = super()._response_feature_collection(
            filter, offset, limit, columns=columns
        )
        result["numberMatched"] = self._response_feature_hits(filter)["numberMatched"]
        # The GeoParquet bbox covering column is an index, not an attribute.
        for feature in result.get("features", []):
            feature.get("properties", {}).pop("bbox", None)
        return result

    def get_fields(self) -> dict[str, Any]:
        """Queryable fields, without the bbox covering column."""
        fields: dict[str, Any] = super().get_fields()
        fields.pop("bbox", None)
        return fields
