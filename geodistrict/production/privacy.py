"""Small-cell suppression, dominance and k-anonymous positions.

Questionnaire answers are confidential. A count of firms is published only
when it is 0 or at least ``k`` (``min_group_size``); so is its complement
within the parent group, and the residual left by suppressed cells along every
published margin (secondary suppression), so that no group of 1 to ``k - 1``
firms can be read, nor derived by subtracting published numbers of the same
layer.  A sum (employees, hires, space) is published only when the (n, p)
dominance rule passes (:func:`dominated`), and positions of respondents only
as H3 cells holding at least ``k`` of them (:func:`anonymous_cells`).  Across
layers, :mod:`geodistrict.production.disclosure` audits what is published
together and hides more cells where differencing still bites.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geodistrict import hexagons
from geodistrict.errors import ParameterError

__all__ = [
    "DOMINANCE",
    "anonymous_cells",
    "check_dominance",
    "check_group_size",
    "dominated",
    "protect_counts",
    "publishable",
]

#: The default (n, p) dominance rule: a sum is sensitive when its 2 largest
#: contributions make more than 85% of it (Hundepool et al. 2012, ch. 4).
DOMINANCE: tuple[int, float] = (2, 0.85)


def check_group_size(k: int) -> int:
    """Return ``k``, or raise :class:`ParameterError` unless it is at least 1."""
    if k < 1:
        raise ParameterError(f"min_group_size must be at least 1, got {k!r}")
    return k


def _small(values: np.ndarray, k: int) -> np.ndarray:
    return (values > 0) & (values < k)


def protect_counts(
    counts: pd.DataFrame | pd.Series,
    k: int,
    *,
    complements: pd.DataFrame | pd.Series | None = None,
    rows: bool = True,
    columns: bool = True,
    primary: pd.DataFrame | pd.Series | None = None,
) -> pd.DataFrame:
    """Decide which cells of a table of firm counts may be published.

    Primary suppression hides every cell counting 1 to ``k - 1`` firms (in
    ``counts`` or in ``complements``, e.g. the firms of the same group that did
    *not* tick an answer).  Secondary suppression then hides more cells (the
    smallest first) until, along every row and every column whose total may be
    known, the suppressed cells add up to 0 or to at least ``k`` firms, so that
    no small group can be recovered by subtracting published cells from a
    margin.

    Parameters
    ----------
    counts : DataFrame or Series
        Non-negative firm counts; a Series is one column.
    k : int
        Minimum group size (``production.min_group_size``).
    complements : DataFrame or Series, optional
        Same shape: counts of the complementary groups, protected with the
        same mask.
    rows, columns : bool, default True
        Whether row totals / column totals are known (published or derivable).
    primary : DataFrame or Series of bool, optional
        Same shape: cells to hide whatever their count (e.g. a sum failing
        the dominance rule); secondary suppression then protects them too.

    Returns
    -------
    DataFrame of bool
        Same shape as ``counts`` (one column if a Series): ``True`` = publish.

    Raises
    ------
    ParameterError
        If ``k`` is below 1 or a count is negative.

    Examples
    --------
    >>> import pandas as pd
    >>> from geodistrict.production import protect_counts
    >>> t = pd.DataFrame({"C": [12, 3, 9], "M": [6, 8, 7]}, index=["a", "b", "c"])
    >>> protect_counts(t, 5).to_dict("list")
    {'C': [True, False, False], 'M': [True, False, True]}
    """
    check_group_size(k)
    tables = [counts.to_frame() if isinstance(counts, pd.Series) else counts]
    if complements is not None:
        comp = complements.to_frame() if isinstance(complements, pd.Series) else complements
        tables.append(comp)
    arrays = [np.nan_to_num(t.to_numpy(dtype="float64")) for t in tables]
    if any((a < 0).any() for a in arrays):
        raise ParameterError("firm counts must not be negative")
    forced = np.zeros(arrays[0].shape, dtype=bool)
    if primary is not None:
        forced = np.asarray(
            primary.to_frame() if isinstance(primary, pd.Series) else primary, dtype=bool
        ).reshape(arrays[0].shape)
    suppressed = suppress_cells(arrays, k, forced, rows=rows, columns=columns)
    return pd.DataFrame(~suppressed, index=tables[0].index, columns=tables[0].columns)


def suppress_cells(
    arrays: list[np.ndarray], k: int, forced: np.ndarray, *, rows: bool, columns: bool
) -> np.ndarray:
    """The rule of :func:`protect_counts` on arrays: the cells to hide (``True``).

    ``arrays`` are the counts and their complements (same shape, non-negative,
    no NaN); ``forced`` the cells hidden whatever their count.
    """
    suppressed = np.zeros(arrays[0].shape, dtype=bool)
    for a in arrays:
        suppressed |= _small(a, k)
    suppressed |= forced
    axes = [ax for ax, on in ((1, rows), (0, columns)) if on]
    changed = True
    while changed:
        changed = False
        for a in arrays:
            for axis in axes:
                lines = a.shape[0] if axis == 1 else a.shape[1]
                for i in range(lines):
                    vals = a[i, :] if axis == 1 else a[:, i]
                    supp = suppressed[i, :] if axis == 1 else suppressed[:, i]
                    residual = vals[supp].sum()
                    alone = (supp & forced[i, :] if axis == 1 else supp & forced[:, i]).any() and (
                        supp.sum() == 1
                    )
                    if not 0 < residual < k and not alone:
                        continue
                    open_ = np.flatnonzero(~supp & (vals > 0))
                    if open_.size == 0:
                        continue  # the whole line is hidden; its total must not be shown
                    j = open_[np.argmin(vals[open_])]
                    if axis == 1:
                        suppressed[i, j] = True
                    else:
                        suppressed[j, i] = True
                    changed = True
            if rows and columns:
                changed |= _hide_lines(a, suppressed, k)
    return suppressed


def _hide_lines(a: np.ndarray, suppressed: np.ndarray, k: int) -> bool:
    """Hide one more whole row or column if the fully hidden ones add up to 1..k-1 firms.

    With the grand total known, the total of the rows (or columns) that show
    nothing is the grand total minus the others: it must not be a small group.
    """
    for axis in (1, 0):
        totals = a.sum(axis=axis)
        shown = (~suppressed & (a > 0)).any(axis=axis)
        hidden_total = totals[~shown].sum()
        if 0 < hidden_total < k:
            open_ = np.flatnonzero(shown & (totals > 0))
            if open_.size == 0:
                continue
            i = open_[np.argmin(totals[open_])]
            if axis == 1:
                suppressed[i, :] = True
            else:
                suppressed[:, i] = True
            return True
    return False


def publishable(count: float, total: float, k: int) -> bool:
    """A count and its complement within ``total`` are both 0 or at least ``k``.

    Examples
    --------
    >>> publishable(5, 12, 5), publishable(5, 8, 5), publishable(0, 3, 5)
    (True, False, False)
    """
    rest = total - count
    return (count == 0 or count >= k) and (rest == 0 or rest >= k)


def check_dominance(dominance: Sequence[float]) -> tuple[int, float]:
    """Return ``(n, p)``, or raise :class:`ParameterError` unless n >= 1 and 0 < p <= 1."""
    try:
        n, p = dominance
    except (TypeError, ValueError):
        raise ParameterError(f"dominance must be a pair (n, p), got {dominance!r}") from None
    if not float(n).is_integer() or int(n) < 1 or not 0 < float(p) <= 1:
        raise ParameterError(
            f"dominance (n, p) needs an integer n >= 1 and 0 < p <= 1, got {dominance!r}"
        )
    return int(n), float(p)


def dominated(
    values: Sequence[float] | np.ndarray, dominance: Sequence[float] = DOMINANCE
) -> bool:
    """Whether a sum fails the (n, p) dominance rule: its n largest terms exceed p of it.

    The rule statistical offices apply to magnitude tables (Hundepool et al.,
    *Statistical Disclosure Control*, Wiley 2012, ch. 4): a cell whose
    ``n`` largest contributions make more than ``p`` of its total lets those
    contributors, or a competitor who knows its own share, estimate a firm's
    value closely.  A sum of fewer than ``n + 1`` positive terms is always
    dominated.

    Parameters
    ----------
    values : array-like of float
        The contributions (e.g. each firm's employees); missing values count 0.
    dominance : (int, float), default (2, 0.85)
        ``n`` and ``p``.

    Returns
    -------
    bool
        True when the sum must not be published (a total of 0 is not dominated).

    Examples
    --------
    >>> from geodistrict.production.privacy import dominated
    >>> dominated([50, 40, 5, 3, 2]), dominated([20, 20, 20, 20, 20])
    (True, False)
    >>> dominated([60, 10, 10, 10, 10], (1, 0.6))
    False
    """
    n, p = check_dominance(dominance)
    terms = np.nan_to_num(np.asarray(values, dtype="float64"))
    if (terms < 0).any():
        raise ParameterError("dominance is defined for non-negative contributions")
    total = float(terms.sum())
    if total <= 0:
        return False
    top = float(np.sort(terms)[::-1][:n].sum())
    return top > p * total + 1e-9 * total


def anonymous_cells(
    points: gpd.GeoSeries,
    *,
    k: int,
    resolution: int = 9,
    coarsest: int = 6,
    nested: bool = False,
) -> list[str | None]:
    """The H3 cell of each point, coarsened until it holds at least ``k`` of the points.

    Bottom up: a cell at ``resolution`` holding ``k`` points or more keeps them;
    the others move to their cell one resolution coarser (the cell that
    contains the point, so the point always lies in its cell), which keeps
    them when they are ``k`` or more there, and so on up to ``coarsest``.
    Every cell given holds at least ``k`` points (fewer would tell where a
    small group is); points still in groups of fewer than ``k`` at
    ``coarsest`` get ``None``.  A coarse cell may overlap finer ones given to
    other points: it stands for its points outside them, still at least ``k``.

    Parameters
    ----------
    points : GeoSeries
        Positions (any CRS).
    k : int
        Minimum number of points per cell.
    resolution : int, default 9
        Finest H3 resolution.
    coarsest : int, default 6
        Coarsest resolution tried (6: cells of about 36 km²).
    nested : bool, default False
        Let a point left over join a coarser cell that holds at least ``k``
        points in all, counting those given finer cells inside it: for drawing
        (a polygon of cells that each hold ``k`` points), not for counting
        (the points counted in that cell may then be fewer than ``k``).

    Returns
    -------
    list of str or None
        One cell id (or None) per point, in order.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from geodistrict.production.privacy import anonymous_cells
    >>> pts = gpd.GeoSeries([Point(9.19 + i * 1e-4, 45.46) for i in range(6)]
    ...                     + [Point(9.25, 45.46)], crs=4326)
    >>> cells = anonymous_cells(pts, k=5, resolution=9)
    >>> len(set(cells[:6])), cells[6]
    (1, None)
    """
    check_group_size(k)
    if not 0 <= coarsest <= resolution <= 15:
        raise ParameterError(
            f"need 0 <= coarsest <= resolution <= 15, got coarsest={coarsest!r}, "
            f"resolution={resolution!r}"
        )
    out: list[str | None] = [None] * len(points)
    todo = np.arange(len(points))
    for res in range(resolution, coarsest - 1, -1):
        if todo.size == 0:
            break
        cells = hexagons.cells_of(points.iloc[todo], resolution=res)
        groups: dict[str, list[int]] = {}
        for pos, cell in zip(todo, cells, strict=True):
            groups.setdefault(cell, []).append(int(pos))
        inside: dict[str, int] = {}
        if nested:
            for cell in hexagons.cells_of(points, resolution=res):
                inside[cell] = inside.get(cell, 0) + 1
        left = []
        for cell, members in groups.items():
            if len(members) >= k or inside.get(cell, 0) >= k:
                for member in members:
                    out[member] = cell
            else:
                left.extend(members)
        todo = np.array(sorted(left), dtype=int)
    return out
