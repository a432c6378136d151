"""The category mix: a reference mix, and observed vs expected units per category.

:func:`load_reference_mix` reads the shares of units per category a district
is expected to have (the shipped indicative mix, a district's own YAML, or
another district's measured mix, from its ``commercial_units`` file or its
whole output folder); :func:`category_gaps` compares the observed units with
it, for the district and each retail centre: one exact binomial test per
category and area, Benjamini–Hochberg q values over every test of the call
(:func:`q_values`), and a status that says ``missing`` only when nothing is
observed *and* the shortfall is significant.  Catch-all categories
(:data:`CATCH_ALL_CATEGORIES`) are never tested.
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
from geodistrict.errors import ConfigError, MissingColumnError, OutputError, ParameterError
from geodistrict.store import MANIFEST, read_manifest
from geodistrict.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)

__all__ = [
    "CATCH_ALL_CATEGORIES",
    "STATUSES",
    "category_gaps",
    "default_reference_mix_path",
    "load_reference_mix",
    "q_values",
]

#: Walking-coverage columns of the gap table (null on the category rows).
COVERAGE_COLUMNS = ("origins", "origins_within", "share_within", "median_walk_m",
                    "p90_walk_m", "max_walk_m")  # fmt: skip
#: Columns of :func:`category_gaps`, in order (before ``geometry``).
GAP_COLUMNS = ["scope", "centre_id", "category", "label_it", "label_en", "observed",
               "expected", "units_tested", "observed_share", "expected_share",
               "location_quotient", "p_value", "q_value", "status",
               *COVERAGE_COLUMNS]  # fmt: skip
#: Categories that are not one kind of merchandise (``other_retail``: unclassified
#: ``shop=yes``, department stores, variety stores...): never tested, never missing.
CATCH_ALL_CATEGORIES: tuple[str, ...] = ("other_retail",)
#: Status of a category row, most needed first.
STATUSES = ("missing", "under-represented", "as expected", "over-represented", "not tested")
#: How the q values are computed: Benjamini–Hochberg or Benjamini–Yekutieli.
FDR_METHODS = ("bh", "by")


def default_reference_mix_path() -> Path:
    """The shipped indicative reference mix, ``geodistrict/data/reference_mix.yml``."""
    return Path(str(resources.files("geodistrict") / "data" / "reference_mix.yml"))


def _output_units(folder: Path) -> Path:
    """The ``commercial_units`` file of a district output folder (or of its only district)."""
    if not (folder / MANIFEST).exists():
        found = sorted(p.parent for p in folder.glob(f"*/{MANIFEST}"))
        if len(found) != 1:
            raise ConfigError(
                f"reference mix {str(folder)!r}: not a geodistrict output folder (no "
                f"{MANIFEST}); "
                + (f"it holds {len(found)} districts, name one: "
                   + ", ".join(repr(str(f)) for f in found) if found
                   else "point at the folder 'geodistrict run' wrote for the other district")
            )  # fmt: skip
        folder = found[0]
    try:
        manifest = read_manifest(folder)
    except OutputError as exc:
        raise ConfigError(f"reference mix: {exc}") from exc
    entry = (manifest.get("layers") or {}).get("commercial_units")
    if not entry:
        raise ConfigError(
            f"reference mix {str(folder)!r}: that run has no commercial_units layer "
            "(no shop in its district, or the commerce step did not run)"
        )
    parquet = folder / str(entry.get("parquet") or "parquet/commercial_units.parquet")
    return parquet if parquet.exists() else folder / str(manifest.get("gpkg") or "")


def load_reference_mix(
    source: str | os.PathLike[str] | None = None, *, taxonomy: Taxonomy | None = None
) -> pd.Series:
    """Shares of units per category expected in a district (summing to 1).

    Parameters
    ----------
    source : path-like, optional
        A YAML file with ``shares: {category: share}`` (like the shipped
        ``reference_mix.yml``), or another district's ``commercial_units``
        output (``.parquet`` or ``.gpkg``), or another district's output
        folder (the one holding ``layers.json``, or the ``--out`` folder
        above it when it holds one district): the measured mix of its
        ``commercial_units`` becomes the reference.  Default: the shipped
        indicative mix.
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
    if path.is_dir():
        path = _output_units(path)
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
            if len(frame) == 0:
                raise ConfigError(f"reference mix {str(path)!r}: no commercial unit in it")
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


def q_values(p_values: np.ndarray | pd.Series | list[float], *, method: str = "bh") -> np.ndarray:
    """False-discovery-rate adjusted p values (q values); NaN stays NaN and is not counted.

    ``bh`` is the step-up procedure of Benjamini & Hochberg (1995): with the
    ``m`` p values sorted, ``q_(i) = min over j >= i of m p_(j) / j``, capped
    at 1; rejecting every test with ``q < alpha`` keeps the expected share of
    false discoveries at most ``alpha`` when the tests are independent or
    positively dependent.  ``by`` is Benjamini & Yekutieli (2001), which
    multiplies by ``sum(1/k, k=1..m)`` and holds under any dependence.
    Computed by :func:`scipy.stats.false_discovery_control`.

    References: Y. Benjamini, Y. Hochberg (1995), "Controlling the false
    discovery rate: a practical and powerful approach to multiple testing",
    *J. R. Stat. Soc. B* 57(1), 289–300; Y. Benjamini, D. Yekutieli (2001),
    "The control of the false discovery rate in multiple testing under
    dependency", *Annals of Statistics* 29(4), 1165–1188.

    Parameters
    ----------
    p_values : array-like
        P values in [0, 1]; NaN for rows that were not tested.
    method : {"bh", "by"}, default "bh"

    Returns
    -------
    ndarray
        q values, same order and length.

    Raises
    ------
    ParameterError
        An unknown method or a p value outside [0, 1].

    Examples
    --------
    >>> q_values([0.01, 0.04, 0.03, 0.005, 0.20]).round(3).tolist()
    [0.025, 0.05, 0.05, 0.025, 0.2]
    """
    from scipy.stats import false_discovery_control

    if method not in FDR_METHODS:
        raise ParameterError(f"method must be one of {FDR_METHODS!r}, got {method!r}")
    p = np.asarray(p_values, dtype=float)
    tested = ~np.isnan(p)
    if ((p[tested] < 0) | (p[tested] > 1)).any():
        raise ParameterError(f"p values must lie in [0, 1], got {p[tested].tolist()!r}")
    q = np.full(p.shape, np.nan)
    if tested.any():
        q[tested] = false_discovery_control(p[tested], method=method)
    return q


def _untested(
    reference: pd.Series, catch_all: tuple[str, ...] | list[str] | frozenset[str]
) -> np.ndarray:
    """Categories that are not tested: catch-alls, and those the reference gives no share."""
    return np.asarray(reference.index.isin(list(catch_all)) | (reference.to_numpy() <= 0))


def _gap_rows(counts: pd.Series, reference: pd.Series, untested: np.ndarray) -> pd.DataFrame:
    """Observed vs expected and the exact binomial test of one area (no q, no status yet).

    The area's units of the tested categories are ``n``; given ``n``, the
    count of a category is Binomial(n, s) under the reference, ``s`` being
    its share renormalised over the tested categories.  The p value is two
    sided: twice the smaller tail, ``min(1, 2 min(P(X <= x), P(X >= x)))``.
    """
    from scipy.stats import binom

    observed = counts.reindex(reference.index, fill_value=0).astype(int).to_numpy()
    total = int(counts.sum())
    tested = ~untested
    n = int(observed[tested].sum())
    ref = reference.to_numpy(dtype=float)
    tested_mass = float(ref[tested].sum())
    share = np.where(tested, ref / tested_mass if tested_mass > 0 else 0.0, ref)
    expected = np.where(tested, share * n, ref * total)
    lower = binom.cdf(observed, n, share)
    upper = binom.sf(observed - 1, n, share)
    p_value = np.minimum(1.0, 2.0 * np.minimum(lower, upper))
    p_value = np.where(tested & (n > 0), p_value, np.nan)
    base = np.where(tested, n, total).astype(float)
    return pd.DataFrame(
        {
            "category": reference.index,
            "observed": observed,
            "expected": expected.round(2),
            "units_tested": np.where(tested, n, pd.NA),
            "observed_share": observed / np.maximum(base, 1.0),
            "expected_share": share,
            "location_quotient": np.where(
                expected > 0, observed / np.where(expected > 0, expected, 1.0), np.nan
            ),
            "p_value": p_value,
            "_tested": tested & (n > 0),
            "_expected_raw": expected,
        }
    )


def _status(table: pd.DataFrame, *, alpha: float) -> np.ndarray:
    significant = table["q_value"].to_numpy(dtype=float) < alpha  # NaN compares False
    observed = table["observed"].to_numpy()
    expected = table["_expected_raw"].to_numpy(dtype=float)
    return np.select(
        [
            ~table["_tested"].to_numpy(dtype=bool),
            significant & (observed == 0) & (observed < expected),
            significant & (observed < expected),
            significant & (observed > expected),
        ],
        ["not tested", "missing", "under-represented", "over-represented"],
        default="as expected",
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
    fdr_method: str = "bh",
    catch_all: tuple[str, ...] | list[str] | frozenset[str] = CATCH_ALL_CATEGORIES,
) -> gpd.GeoDataFrame:
    """Observed vs expected units per category, for the district and each centre, tested.

    For each area (the district, each retail centre) and each tested
    category, given the ``n`` units of the area in tested categories, the
    observed count is compared with Binomial(n, s), ``s`` being the
    category's reference share renormalised over the tested categories
    (counts of one area are multinomial given their total, so each one is
    exactly binomial: no Poisson or normal approximation, which small centres
    would not support).  The p value is the exact binomial test, two-sided by
    doubling the smaller tail, ``min(1, 2 min(P(X <= x), P(X >= x)))``
    (Gibbons & Pratt 1975): the one-sided test in the direction of the
    deviation, paid for choosing the direction after seeing the data.  The p
    values of every test of the call (district and centres together) are
    adjusted for the false discovery rate (:func:`q_values`, Benjamini &
    Hochberg 1995 by default).

    Status: ``missing`` (none observed and ``q < alpha``),
    ``under-represented`` (fewer than expected, ``q < alpha``),
    ``over-represented`` (more than expected, ``q < alpha``), ``as expected``
    (not significant: with few units, even a category absent by chance), and
    ``not tested`` for the catch-all categories (``catch_all``: units whose
    merchandise is unknown or mixed, which no planner would seek as a use)
    and the categories the reference gives no share; their units are left
    out of ``n``, so an unclassified ``shop=yes`` shifts no other category's
    expectation.

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
        False discovery rate: a row is significant when ``q_value < alpha``.
    fdr_method : {"bh", "by"}, default "bh"
        Benjamini–Hochberg, or Benjamini–Yekutieli (any dependence).
    catch_all : sequence of str, default ``CATCH_ALL_CATEGORIES``
        Categories never tested (status ``not tested``).

    Returns
    -------
    GeoDataFrame
        MultiPolygons; ``scope`` (``district`` or ``centre``), ``centre_id``
        (null for the district), ``category``, ``label_it``, ``label_en``,
        ``observed``, ``expected`` (``s × n``), ``units_tested`` (``n``; null
        on untested rows), ``observed_share`` and ``expected_share`` (of the
        tested units; of all units on untested rows, with the raw reference
        share), ``location_quotient`` (observed / expected), ``p_value``,
        ``q_value`` (null on untested rows) and ``status``; plus the
        walking-coverage columns (null here, see
        :func:`~geodistrict.commerce.coverage_rows`).

    Raises
    ------
    MissingColumnError
        If ``units`` has no ``category`` (classify them first).
    ParameterError
        ``alpha`` outside (0, 1), an unknown ``fdr_method``.

    Examples
    --------
    Thirty food and thirty fashion shops, against a mix that expects 20 %
    pharmacies: 12 expected and none observed is missing; 1.2 expected in
    a small area is not.

    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> units = gpd.GeoDataFrame({"category": ["food"] * 30 + ["fashion"] * 30},
    ...     geometry=[Point(i, i) for i in range(60)], crs=32632)
    >>> mix = pd.Series({"food": 0.4, "fashion": 0.4, "health_pharmacy": 0.2})
    >>> gaps = category_gaps(units, box(0, 0, 100, 100), mix)
    >>> row = gaps.set_index("category").loc["health_pharmacy"]
    >>> int(row["observed"]), float(row["expected"]), row["status"], bool(row["q_value"] < 1e-4)
    (0, 12.0, 'missing', True)
    >>> few = category_gaps(units.iloc[[0, 1, 2, 30, 31, 32]], box(0, 0, 100, 100), mix)
    >>> row = few.set_index("category").loc["health_pharmacy"]
    >>> float(row["expected"]), row["status"]
    (1.2, 'as expected')
    """
    require_units(units)
    if not (0 < alpha < 1):
        raise ParameterError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    if fdr_method not in FDR_METHODS:
        raise ParameterError(f"fdr_method must be one of {FDR_METHODS!r}, got {fdr_method!r}")
    if not isinstance(reference, pd.Series):  # a plain mapping of shares works too
        reference = pd.Series(dict(reference), dtype=float)
    reference = reference.astype(float)
    extra = sorted(set(units["category"].dropna().astype(str)) - set(reference.index))
    if extra:  # observed categories the reference leaves out: rows of their own, not tested
        reference = pd.concat([reference, pd.Series(0.0, index=extra)])
    if centres is not None and labels is not None and len(centres) and "centre_id" not in centres:
        raise MissingColumnError(
            "retail centres", "centre_id", hint="pass the centres and labels that "
            "gd.retail_centres(units) returns"
        )  # fmt: skip
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    crs = units.crs
    polygon = area_polygon(area)
    untested = _untested(reference, catch_all)
    frames = [_gap_rows(units["category"].value_counts(), reference, untested)]
    frames[0]["scope"] = "district"
    frames[0]["centre_id"] = pd.NA
    geoms = [polygonal(polygon)] * len(frames[0])
    if centres is not None and labels is not None and len(centres):
        for row in centres.itertuples():
            cid = int(row.centre_id)
            sub = units["category"][labels.reindex(units.index).to_numpy() == cid]
            part = _gap_rows(sub.value_counts(), reference, untested)
            part["scope"] = "centre"
            part["centre_id"] = cid
            frames.append(part)
            geoms += [polygonal(row.geometry)] * len(part)
    table = pd.concat(frames, ignore_index=True)
    table["q_value"] = q_values(table["p_value"].to_numpy(dtype=float), method=fdr_method)
    table["status"] = _status(table, alpha=alpha)
    table["centre_id"] = table["centre_id"].astype("Int64")
    table["units_tested"] = table["units_tested"].astype("Int64")
    labels_it = {k: c.it for k, c in tax.categories.items()}
    labels_en = {k: c.en for k, c in tax.categories.items()}
    table["label_it"] = table["category"].map(labels_it)
    table["label_en"] = table["category"].map(labels_en)
    for col in COVERAGE_COLUMNS:
        table[col] = np.nan
    out = gpd.GeoDataFrame(table[GAP_COLUMNS], geometry=geoms, crs=crs)
    tests = int(table["_tested"].sum())
    log.info(
        "category gaps: %d exact binomial tests, %d significant at q < %g (%s); %s",
        tests, int((table["q_value"] < alpha).sum()), alpha, fdr_method,
        ", ".join(f"{k} {v}" for k, v in out["status"].value_counts().items()),
    )  # fmt: skip
    missing = out[(out["scope"] == "district") & (out["status"] == "missing")]
    if len(missing):
        log.info("categories missing in the district: %s", ", ".join(missing["category"]))
    return out
