"""OSM tags to the merchandise categories of an Italian commerce office.

The mapping lives in an editable YAML file, ``geodistrict/data/taxonomy.yml``
(shipped), which a district can extend or replace with
``commerce.taxonomy: FILE`` in its configuration.  It defines:

- **categories** (``food``, ``fashion``, ``personal_services``,
  ``bars_restaurants``, ``health_pharmacy``, ``household``,
  ``culture_leisure``, ``electronics``, ``professional_services``,
  ``automotive``, ``accommodation``, ``other_retail``) with Italian and
  English labels;
- **subcategories**, each in one category, selected by OSM ``key: [values]``;
- **ignore**: tags that are not commercial units (benches, parking, schools,
  parks...), excluded on purpose;
- **not_public**: tags that close a facility to the public (``access=private``,
  ``access=no``): a POI with one of them is **never** a commercial unit,
  whatever its other tags (a private pool or gym, a company canteen), and is
  counted apart (:attr:`Classification.private`); ``access=customers`` and
  ``access=members`` stay units (customers and members are a business's trade);
- **everyday** needs (groceries, pharmacy, bar...) for the walking coverage.

A point of interest is classified by the first of the taxonomy's ``keys``
(``shop``, ``amenity``, ``craft``, ``office``, ``healthcare``, ``tourism``,
``leisure``) whose value the taxonomy maps.  Values are compared lower-cased
and for ``a;b`` lists the first value counts.  A POI with a POI key whose
value is neither mapped nor ignored is **unclassified**: it is not a unit, but
it is counted, logged and returned (:attr:`Classification.unclassified`), so
a planner can extend the taxonomy.  Vacant units (``vacant`` true) are not
active units either; they are counted apart.

Examples
--------
>>> tax = load_taxonomy()
>>> tax.lookup("shop", "bakery").category
'food'
>>> tax.categories["bars_restaurants"].it
'Bar e ristorazione'
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import yaml

from geodistrict import _validate
from geodistrict.errors import ConfigError, MissingColumnError

log = logging.getLogger(__name__)

__all__ = [
    "Category",
    "Classification",
    "Need",
    "Subcategory",
    "Taxonomy",
    "classify",
    "classify_units",
    "default_taxonomy_path",
    "load_taxonomy",
]


@dataclass(frozen=True)
class Category:
    """A main merchandise category."""

    key: str
    it: str
    en: str


@dataclass(frozen=True)
class Subcategory:
    """A subcategory: its category, labels and the OSM tags selecting it."""

    key: str
    category: str
    it: str
    en: str
    tags: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Need:
    """An everyday need (groceries, pharmacy...) met by some subcategories."""

    key: str
    it: str
    en: str
    subcategories: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    """A validated OSM-tag-to-category map (see the module docstring)."""

    keys: tuple[str, ...]
    categories: dict[str, Category]
    subcategories: dict[str, Subcategory]
    ignored: frozenset[tuple[str, str]]
    everyday: dict[str, Need]
    source: str = ""
    not_public: frozenset[tuple[str, str]] = frozenset()
    _index: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def lookup(self, key: str, value: str) -> Subcategory | None:
        """The subcategory of an OSM ``key=value``, or ``None``."""
        sub = self._index.get((key, _norm(value)))
        return self.subcategories[sub] if sub is not None else None

    def is_ignored(self, key: str, value: str) -> bool:
        """Whether ``key=value`` is declared not to be a commercial unit."""
        return (key, _norm(value)) in self.ignored

    def is_private(self, tags: dict[str, Any]) -> bool:
        """Whether the tags close the facility to the public (``not_public``).

        Examples
        --------
        >>> tax = load_taxonomy()
        >>> tax.is_private({"leisure": "fitness_centre", "access": "private"})
        True
        >>> tax.is_private({"leisure": "fitness_centre", "access": "members"})
        False
        """
        return any(
            (key, _norm(tags[key])) in self.not_public
            for key in {k for k, _ in self.not_public}
            if tags.get(key) is not None and str(tags[key]).strip() != ""
        )


def default_taxonomy_path() -> Path:
    """The shipped taxonomy file, ``geodistrict/data/taxonomy.yml``."""
    return Path(str(resources.files("geodistrict") / "data" / "taxonomy.yml"))


def _norm(value: object) -> str:
    if isinstance(value, bool):  # YAML 1.1 reads an unquoted yes/no as a boolean
        value = "yes" if value else "no"
    return str(value).split(";")[0].strip().lower()


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        # libyaml's loader when present: the shipped file parses 6x faster, same values.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except FileNotFoundError as exc:
        raise ConfigError(f"taxonomy file not found: {str(path)!r}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: malformed YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with 'categories', 'subcategories'...")
    return data


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    if override.get("replace"):
        return override
    out = dict(base)
    for section in ("categories", "subcategories", "everyday"):
        out[section] = {**base.get(section, {}), **(override.get(section) or {})}
    for section in ("ignore", "not_public"):
        merged = {k: list(v) for k, v in (base.get(section) or {}).items()}
        for key, values in (override.get(section) or {}).items():
            # Not a list: kept as written, for _build to report with its key path.
            merged[key] = [*merged.get(key, []), *values] if isinstance(values, list) else values
        out[section] = merged
    if "keys" in override:
        out["keys"] = override["keys"]
    return out


def _labels(where: str, entry: Any) -> tuple[str, str]:
    if not isinstance(entry, dict) or not entry.get("it") or not entry.get("en"):
        raise ValueError(f"{where}: needs an Italian ('it') and an English ('en') label")
    return str(entry["it"]), str(entry["en"])


def _build(data: dict[str, Any], source: str) -> Taxonomy:
    problems: list[str] = []
    keys = tuple(str(k) for k in data.get("keys") or ())
    if not keys:
        problems.append("keys: list the OSM keys to classify (e.g. [shop, amenity])")
    categories: dict[str, Category] = {}
    for key, entry in (data.get("categories") or {}).items():
        try:
            categories[key] = Category(key, *_labels(f"categories.{key}", entry))
        except ValueError as exc:
            problems.append(str(exc))
    subcategories: dict[str, Subcategory] = {}
    index: dict[tuple[str, str], str] = {}
    for key, entry in (data.get("subcategories") or {}).items():
        where = f"subcategories.{key}"
        try:
            it, en = _labels(where, entry)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        category = entry.get("category")
        if category not in categories:
            problems.append(
                f"{where}.category: unknown category {category!r} (known: {', '.join(categories)})"
            )
            continue
        pairs: list[tuple[str, str]] = []
        for osm_key, values in (entry.get("tags") or {}).items():
            if osm_key not in keys:
                problems.append(f"{where}.tags.{osm_key}: key not in 'keys' {list(keys)!r}")
                continue
            for value in values or []:
                pair = (osm_key, _norm(value))
                if pair in index and index[pair] != key:
                    problems.append(
                        f"{where}.tags.{osm_key}: {value!r} is already in "
                        f"subcategories.{index[pair]}"
                    )
                index[pair] = key
                pairs.append(pair)
        subcategories[key] = Subcategory(key, category, it, en, tuple(pairs))
    ignored = set()
    for osm_key, values in (data.get("ignore") or {}).items():
        for value in values or []:
            pair = (osm_key, _norm(value))
            if pair in index:
                problems.append(
                    f"ignore.{osm_key}: {value!r} is also mapped in subcategories.{index[pair]}"
                )
            ignored.add(pair)
    not_public: set[tuple[str, str]] = set()
    for osm_key, values in (data.get("not_public") or {}).items():
        if not isinstance(values, list) or not values:
            problems.append(f"not_public.{osm_key}: list the values, e.g. [private, 'no']")
            continue
        not_public.update((str(osm_key), _norm(v)) for v in values)
    everyday: dict[str, Need] = {}
    for key, entry in (data.get("everyday") or {}).items():
        where = f"everyday.{key}"
        try:
            it, en = _labels(where, entry)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        subs = tuple(entry.get("subcategories") or ())
        unknown = [s for s in subs if s not in subcategories]
        if unknown or not subs:
            problems.append(f"{where}.subcategories: unknown or none {unknown or list(subs)!r}")
        everyday[key] = Need(key, it, en, subs)
    if problems:
        raise ConfigError(
            f"{source}: {len(problems)} taxonomy error(s)\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return Taxonomy(
        keys=keys,
        categories=categories,
        subcategories=subcategories,
        ignored=frozenset(ignored),
        everyday=everyday,
        source=source,
        not_public=frozenset(not_public),
        _index=index,
    )


def load_taxonomy(path: str | os.PathLike[str] | None = None) -> Taxonomy:
    """Load the shipped taxonomy, merged with a district's file if given.

    Parameters
    ----------
    path : path-like, optional
        A district taxonomy file (same form as the shipped one): its
        categories, subcategories and everyday needs replace those with the
        same key, its ``ignore`` and ``not_public`` lists are added; with
        ``replace: true`` it
        replaces the shipped file entirely.

    Returns
    -------
    Taxonomy

    Raises
    ------
    ConfigError
        If the file is malformed: every problem is listed with its key path
        (a value mapped twice, an unknown category, a missing label...).

    Examples
    --------
    >>> tax = load_taxonomy()
    >>> len(tax.categories), tax.everyday["pharmacy"].subcategories
    (12, ('pharmacy',))
    """
    default = default_taxonomy_path()
    data = _read_yaml(default)
    source = str(default)
    if path is not None:
        override = _read_yaml(Path(path))
        data = _merge(data, override)
        source = str(path)
    return _build(data, source)


@dataclass(frozen=True)
class Classification:
    """What :func:`classify` found.

    Attributes
    ----------
    units : GeoDataFrame
        The commercial units (the ``commercial_units`` layer), indexed like
        the input POIs.
    unclassified : DataFrame
        One row per unclassified OSM ``key``/``value``: ``count`` and up to
        five example ``osm_ids``; sorted by count.
    ignored : int
        POIs whose tags the taxonomy declares non-commercial.
    vacant : int
        POIs flagged vacant (not active units).
    private : int
        POIs with a mapped or unclassified tag whose tags close them to the
        public (``not_public``: ``access=private`` or ``no``): not units, and
        not listed as unclassified either.
    """

    units: gpd.GeoDataFrame
    unclassified: pd.DataFrame
    ignored: int
    vacant: int
    private: int = 0

    @property
    def n_unclassified(self) -> int:
        """Number of POIs left unclassified."""
        return int(self.unclassified["count"].sum()) if len(self.unclassified) else 0


UNIT_COLUMNS = (
    "osm_id", "osm_type", "name", "category", "category_it", "category_en", "subcategory",
    "subcategory_it", "subcategory_en", "osm_key", "osm_value", "brand", "addr_street",
    "addr_housenumber", "opening_hours", "geometry_type",
)  # fmt: skip


def _tags_of(pois: pd.DataFrame, keys: Iterable[str]) -> list[dict[str, Any]]:
    if "tags" in pois.columns:
        return [json.loads(t) if isinstance(t, str) else dict(t or {}) for t in pois["tags"]]
    cols = [k for k in keys if k in pois.columns]
    return [
        {k: v for k, v in zip(cols, row, strict=True) if isinstance(v, str)}
        for row in pois[cols].itertuples(index=False)
    ]


def classify(pois: gpd.GeoDataFrame, taxonomy: Taxonomy | None = None) -> Classification:
    """Classify points of interest into commercial units.

    Parameters
    ----------
    pois : GeoDataFrame
        Points in a projected CRS with OSM tags, as the ``pois`` base layer:
        a ``tags`` JSON column (or one column per OSM key), optional
        ``vacant`` (bool), ``osm_id``, ``osm_type``, ``name``...
    taxonomy : Taxonomy, optional
        Default: :func:`load_taxonomy` ().

    Returns
    -------
    Classification
        ``units`` (also what :func:`classify_units` returns) has the columns
        ``osm_id``, ``osm_type``, ``name``, ``category``, ``category_it``,
        ``category_en``, ``subcategory``, ``subcategory_it``,
        ``subcategory_en``, ``osm_key``, ``osm_value``,
        ``brand``, ``addr_street``, ``addr_housenumber``, ``opening_hours``,
        ``geometry_type`` and point geometry; unclassified tags are logged
        (WARNING) and listed in ``unclassified``.

    Raises
    ------
    MissingColumnError
        If ``pois`` has neither a ``tags`` column nor a column for any of the
        taxonomy's keys (``shop``, ``amenity``...).

    Examples
    --------
    >>> import geopandas as gpd, json
    >>> from shapely.geometry import Point
    >>> pois = gpd.GeoDataFrame(
    ...     {"tags": [json.dumps({"shop": "bakery"}), json.dumps({"shop": "spaceships"}),
    ...               json.dumps({"amenity": "bench"})]},
    ...     geometry=[Point(0, 0), Point(1, 1), Point(2, 2)], crs=32632)
    >>> result = classify(pois)
    >>> result.units["category"].tolist(), result.n_unclassified, result.ignored
    (['food'], 1, 1)
    >>> result.unclassified[["key", "value", "count"]].values.tolist()
    [['shop', 'spaceships', 1]]
    """
    _validate.projected_frame(pois, what="pois")
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    if len(pois) and "tags" not in pois.columns and not any(k in pois for k in tax.keys):
        raise MissingColumnError(
            "pois", "tags", hint="give a JSON 'tags' column of OSM tags or one column per OSM "
            f"key ({', '.join(tax.keys)}), e.g. the pois of gd.load_base_layers or osmnx "
            "features_from_place(...) projected"
        )  # fmt: skip
    tags = _tags_of(pois, [*tax.keys, *sorted({k for k, _ in tax.not_public})])
    vacant = (
        pois["vacant"].fillna(False).astype(bool).to_numpy()
        if "vacant" in pois.columns
        else [False] * len(pois)
    )
    picked: list[tuple[int, Subcategory, str, str]] = []
    unclassified: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[str]] = {}
    ignored = n_vacant = n_private = 0
    ids = pois["osm_id"].astype(str).tolist() if "osm_id" in pois.columns else None
    for pos, t in enumerate(tags):
        if vacant[pos]:
            n_vacant += 1
            continue
        found: tuple[Subcategory, str, str] | None = None
        first_unknown: tuple[str, str] | None = None
        any_ignored = False
        for key in tax.keys:
            value = t.get(key)
            if value is None or str(value).strip() == "":
                continue
            sub = tax.lookup(key, str(value))
            if sub is not None:
                found = (sub, key, _norm(value))
                break
            if tax.is_ignored(key, str(value)):
                any_ignored = True
            elif first_unknown is None:
                first_unknown = (key, _norm(value))
        if (found is not None or first_unknown is not None) and tax.is_private(t):
            n_private += 1  # a unit (or a candidate) closed to the public: never commerce
        elif found is not None:
            picked.append((pos, *found))
        elif first_unknown is not None:
            unclassified[first_unknown] += 1
            examples.setdefault(first_unknown, [])
            if ids is not None and len(examples[first_unknown]) < 5:
                examples[first_unknown].append(ids[pos])
        elif any_ignored:
            ignored += 1
    rows = [p for p, *_ in picked]
    units = pois.iloc[rows]
    out = pd.DataFrame(index=units.index)
    for col in ("osm_id", "osm_type", "name", "brand", "addr_street", "addr_housenumber",
                "opening_hours", "geometry_type"):  # fmt: skip
        out[col] = units[col].to_numpy() if col in units.columns else None
    subs = [s for _, s, _, _ in picked]
    out["category"] = [s.category for s in subs]
    out["category_it"] = [tax.categories[s.category].it for s in subs]
    out["category_en"] = [tax.categories[s.category].en for s in subs]
    out["subcategory"] = [s.key for s in subs]
    out["subcategory_it"] = [s.it for s in subs]
    out["subcategory_en"] = [s.en for s in subs]
    out["osm_key"] = [k for _, _, k, _ in picked]
    out["osm_value"] = [v for _, _, _, v in picked]
    result = gpd.GeoDataFrame(
        out[list(UNIT_COLUMNS)], geometry=units.geometry.to_numpy(), crs=pois.crs
    )
    table = pd.DataFrame(
        [
            {"key": k, "value": v, "count": n, "osm_ids": ", ".join(examples.get((k, v), []))}
            for (k, v), n in unclassified.most_common()
        ],
        columns=["key", "value", "count", "osm_ids"],
    )
    if len(table):
        shown = ", ".join(f"{r.key}={r.value} ({r.count})" for r in table.head(15).itertuples())
        log.warning(
            "%d POI(s) with %d unclassified tag(s) are not counted as commercial units "
            "(extend the taxonomy with commerce.taxonomy): %s%s",
            int(table["count"].sum()), len(table), shown, "..." if len(table) > 15 else "",
        )  # fmt: skip
    log.info(
        "classified %d commercial units; %d ignored (not commercial), %d private (not open "
        "to the public), %d vacant, %d unclassified", len(result), ignored, n_private,
        n_vacant, int(table["count"].sum()),
    )  # fmt: skip
    return Classification(units=result, unclassified=table, ignored=ignored, vacant=n_vacant,
                          private=n_private)  # fmt: skip


def classify_units(pois: gpd.GeoDataFrame, taxonomy: Taxonomy | None = None) -> gpd.GeoDataFrame:
    """The commercial units of points of interest: :func:`classify` ``.units``.

    The front door for a planner's own POIs (e.g. from osmnx, projected):
    every commerce analysis takes what this returns.  Use :func:`classify`
    for the unclassified tags and the counts as well.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pois = gpd.GeoDataFrame({"shop": ["bakery", None], "amenity": [None, "pharmacy"]},
    ...                         geometry=[Point(0, 0), Point(5, 5)], crs=32632)
    >>> classify_units(pois)[["category", "subcategory"]].values.tolist()
    [['food', 'bakery'], ['health_pharmacy', 'pharmacy']]
    """
    return classify(pois, taxonomy).units
