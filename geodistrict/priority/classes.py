"""Priority classes of a ranking: the first third high, the second medium, the rest low.

One rule for every deliverable (QGIS styles, report maps, spreadsheets, web
maps), so a unit reads "Alta" everywhere or nowhere.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["PRIORITY_CLASSES", "priority_class", "priority_cuts"]

#: The classes, first to last.
PRIORITY_CLASSES = ("high", "medium", "low")


def priority_cuts(n: int) -> tuple[int, int]:
    """Last rank of the high and of the medium class among ``n`` ranked units.

    Examples
    --------
    >>> priority_cuts(18), priority_cuts(2), priority_cuts(1)
    ((6, 12), (1, 2), (1, 1))
    """
    return math.ceil(n / 3), math.ceil(2 * n / 3)


def priority_class(rank: pd.Series) -> pd.Series:
    """Priority class (``high``/``medium``/``low``) of each rank; missing ranks stay missing.

    With ``n`` ranked units, ranks up to ``ceil(n/3)`` are high and up to
    ``ceil(2n/3)`` medium.

    Examples
    --------
    >>> import pandas as pd
    >>> priority_class(pd.Series([1, 2, 3, 4, 5, 6, 7])).tolist()
    ['high', 'high', 'high', 'medium', 'medium', 'low', 'low']
    """
    ranks = pd.to_numeric(rank, errors="coerce")
    high, medium = priority_cuts(int(ranks.notna().sum()))
    values = np.where(ranks <= high, "high", np.where(ranks <= medium, "medium", "low"))
    return pd.Series(values, index=rank.index, dtype=object).where(ranks.notna(), None)
