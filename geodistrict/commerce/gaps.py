"""The category mix: a reference mix, and observed vs expected units per category.

:func:`load_reference_mix` reads the shares of units per category a district
is expected to have (the shipped indicative mix, a district's own YAML, or
another district's measured mix); :func:`category_gaps` compares the
observed units with it, for the district and each retail centre, and flags
the missing and under-represented categories (Poisson tests).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml
from shapely.geometry.base import BaseGeometry

from geodistrict.commerce.units import area_polygon, polygonal, require_units
from geodistrict.errors import ConfigError, MissingColumnError
from geodistrict.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)

__all__ = ["category_gaps", "default_reference_mix_path", "load_reference_mix"]

#: Walking-coverage columns of the gap table (null on the category rows).
COVERAGE_COLUMNS = ("origins", "origins_within", "share_within", "median_walk_m",
                    "p90_walk_m", "max_walk_m")  # fmt: skip
#: Columns of :func:`category_gaps`, in order (before ``geometry``).
GAP_COLUMNS = ["scope", "centre_id", "category", "label_it", "label_en", "observed",
               "expected", "observed_share", "expected_share", "location_quotient", "p_under",
               "status", *COVERAGE_COLUMNS]  # fmt: skip


def default_reference_mix_path() -> Path:
    """The shipped indicative reference mix, ``geodistrict/data/reference_mix.yml``."""
    return Path(str(resources.files("geodistrict") / "data" / "reference_mix.yml"))


def load_reference_mix(
    source: str | os.PathLike[str] | None = None, *, taxonomy: Taxonomy | None = None
) -> pd.Series:
    """Shares of units per category expected in a district (summing to 1).

    Parameters
    ----------
    source : path-like, optional
        A YAML file with ``shares: {category: share}`` (like the shipped
        ``reference_mix.yml``), or another district's ``commercial_units``
        output (``.parquet`` or ``.gpkg``) whose measured mix becomes the
        reference.  Default: the shipped indicative mix.
    taxonomy : Taxonomy, optional
        Categories must exist in it (default :func:`load_taxonomy`).

    Returns
    -------
    Series
        Indexed by every category of the taxonomy (0 where not listed),
        named by the source.

    Raises
    ------
    ConfigError
        Unknown categories, negative or all-zero shares, unreadable file.

    Examples
    --------
    >>> mix = load_reference_mix()
    >>> round(float(mix.sum()), 6), mix.idxmax()
    (1.0, 'bars_restaurants')
    """
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    path = Path(source) if source is not None else default_reference_mix_path()
    suffix = path.suffix.lower()
    try:
        if suffix in (".yml", ".yaml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            shares = pd.Series(data.get("shares") or {}, dtype=object)
            name = str(data.get("name") or path.name)
        elif suffix in (".parquet", ".gpkg"):
            frame = (
                pd.read_parquet(path, columns=["category"])
                if suffix == ".parquet"
                else gpd.read_file(path, layer="commercial_units", engine="pyogrio")
            )
            shares = frame["category"].value_counts().astype(object)
            name = f"measured mix of {path.name}"
        else:
            raise ConfigError(
                f"reference mix {str(path)!r}: expected a .yml/.yaml of shares or a "
                ".parquet/.gpkg of commercial_units"
            )
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"cannot read the reference mix {str(path)!r}: {exc}") from exc
    unknown = [c for c in shares.index if c not in tax.categories]
    if unknown:
        raise ConfigError(
            f"reference mix {str(path)!r}: unknown categories {unknown!r} "
            f"(known: {', '.join(tax.categories)})"
        )
    bad = {c: v for c, v in shares.items() if not isinstance(v, int | float) or v < 0}
    if bad or len(shares) == 0 or float(sum(shares)) <= 0:
        raise ConfigError(
            f"reference mix {str(path)!r}: shares must be non-negative numbers, not all zero "
            f"(got {bad or dict(shares)!r})"
        )
    values = shares.astype(float).reindex(list(tax.categories), fill_value=0.0)
    return (values / values.sum()).rename(name)


def _gap_rows(
    counts: pd.Series, reference: pd.Series, *, alpha: float, min_expected: float
) -> pd.DataFrame:
    from scipy.stats import poisson

    total = int(counts.sum())
    expected = reference * total
    observed = counts.reindex(reference.index, fill_value=0).astype(int)
    p_under = poisson.cdf(observed, expected)
    p_over = poisson.sf(observed - 1, expected)
    status = np.where(
        (observed == 0) & (expected >= min_expected),
        "missing",
        np.where(
            (observed < expected) & (p_under < alpha),
            "under-represented",
            np.where((observed > expected) & (p_over < alpha), "over-represented", "as expected"),
        ),
    )
    return pd.DataFrame(
        {
            "category": reference.index,
            "observed": observed.to_numpy(),
            "expected": expected.to_numpy().round(2),
            "observed_share": observed.to_numpy() / max(total, 1),
            "expected_share": reference.to_numpy(),
            "location_quotient": np.where(
                expected > 0, observed.to_numpy() / np.where(expected > 0, expected, 1), np.nan
            ),
            "p_under": np.where(expected > 0, p_under, np.nan),
            "status": status,
        }
    )


def category_gaps(
    units: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame | BaseGeometry,
    reference: pd.Series | Mapping[str, float],
    *,
    centres: gpd.GeoDataFrame | None = None,
    labels: pd.Series | None = None,
    taxonomy: Taxonomy | None = None,
    alpha: float = 0.05,
    min_expected: float = 1.0,
) -> gpd.GeoDataFrame:
    """Observed vs expected units per category, for the district and each centre.

    The expected count of a category is its reference share times the
    area's units.  Status, in this order: ``missing`` (none observed while
    at least ``min_expected`` expected), ``under-represented`` (fewer than
    expected and Poisson ``P(X <= observed) < alpha``), ``over-represented``
    (more, with ``P(X >= observed) < alpha``), else ``as expected``.

    Parameters
    ----------
    units : GeoDataFrame
        Commercial units with ``category``.
    area : GeoDataFrame or Polygon
        The district (study area), geometry of the district rows.
    reference : Series or mapping
        Shares per category (:func:`load_reference_mix`).
    centres, labels : optional
        :func:`~geodistrict.commerce.retail_centres` output: each centre gets
        its own rows.
    taxonomy : Taxonomy, optional
        For the labels.
    alpha : float, default 0.05
    min_expected : float, default 1.0

    Returns
    -------
    GeoDataFrame
        MultiPolygons; ``scope`` (``district`` or ``centre``), ``centre_id``
        (null for the district), ``category``, ``label_it``, ``label_en``,
        ``observed``, ``expected``, ``observed_share``, ``expected_share``,
        ``location_quotient`` (observed / expected), ``p_under`` and
        ``status``; plus the walking-coverage columns (null here, see
        :func:`~geodistrict.commerce.coverage_rows`).

    Raises
    ------
    MissingColumnError
        If ``units`` has no ``category`` (classify them first).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> units = gpd.GeoDataFrame({"category": ["food"] * 30 + ["fashion"] * 30},
    ...     geometry=[Point(i, i) for i in range(60)], crs=32632)
    >>> mix = pd.Series({"food": 0.4, "fashion": 0.4, "health_pharmacy": 0.2})
    >>> gaps = category_gaps(units, box(0, 0, 100, 100), mix)
    >>> row = gaps.set_index("category").loc["health_pharmacy"]
    >>> int(row["observed"]), float(row["expected"]), row["status"]
    (0, 12.0, 'missing')
    """
    require_units(units)
    if not isinstance(reference, pd.Series):  # a plain mapping of shares works too
        reference = pd.Series(dict(reference), dtype=float)
    if centres is not None and labels is not None and len(centres) and "centre_id" not in centres:
        raise MissingColumnError(
            "retail centres", "centre_id", hint="pass the centres and labels that "
            "gd.retail_centres(units) returns"
        )  # fmt: skip
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    crs = units.crs
    polygon = area_polygon(area)
    counts = units["category"].value_counts()
    frames = [_gap_rows(counts, reference, alpha=alpha, min_expected=min_expected)]
    frames[0]["scope"] = "district"
    frames[0]["centre_id"] = pd.NA
    geoms = [polygonal(polygon)] * len(frames[0])
    if centres is not None and labels is not None and len(centres):
        for row in centres.itertuples():
            cid = int(row.centre_id)
            sub = units["category"][labels.reindex(units.index).to_numpy() == cid]
            part = _gap_rows(sub.value_counts(), reference, alpha=alpha, min_expected=min_expected)
            part["scope"] = "centre"
            part["centre_id"] = cid
            frames.append(part)
            geoms += [polygonal(row.geometry)] * len(part)
    table = pd.concat(frames, ignore_index=True)
    table["centre_id"] = table["centre_id"].astype("Int64")
    labels_it = {k: c.it for k, c in tax.categories.items()}
    labels_en = {k: c.en for k, c in tax.categories.items()}
    table["label_it"] = table["category"].map(labels_it)
    table["label_en"] = table["category"].map(labels_en)
    for col in COVERAGE_COLUMNS:
        table[col] = np.nan
    out = gpd.GeoDataFrame(table[GAP_COLUMNS], geometry=geoms, crs=crs)
    missing = out[(out["scope"] == "district") & (out["status"] == "missing")]
    if len(missing):
        log.info("categories missing in the district: %s", ", ".join(missing["category"]))
    return out
