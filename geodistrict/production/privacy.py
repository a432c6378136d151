"""Small-cell suppression: which counts of firms may be published.

Questionnaire answers are confidential. A count of firms is published only
when it is 0 or at least ``k`` (``min_group_size``); so is its complement
within the parent group, and the residual left by suppressed cells along every
published margin (secondary suppression), so that no group of 1 to ``k - 1``
firms can be read, nor derived by subtracting published numbers of the same
layer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geodistrict.errors import ParameterError

__all__ = ["check_group_size", "protect_counts", "publishable"]


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
    suppressed = np.zeros(arrays[0].shape, dtype=bool)
    for a in arrays:
        suppressed |= _small(a, k)
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
                    if not 0 < residual < k:
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
    return pd.DataFrame(~suppressed, index=tables[0].index, columns=tables[0].columns)


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
