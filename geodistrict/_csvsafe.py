"""CSV cells a spreadsheet will not run: formula prefixes neutralised (OWASP CSV injection).

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel, LibreOffice and Google Sheets as a formula (which can
call out to the network or run commands).  Survey answers are free text, so
every CSV geodistrict writes (``geodistrict rank --to x.csv``, the service's
``?f=csv``) passes its text cells through :func:`formula_safe`, which puts a
single quote in front, as OWASP recommends: the spreadsheet shows the text as
typed.  Numbers are left alone (``-3.5`` stays a number).

Examples
--------
>>> formula_safe("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> formula_safe("-5 m"), formula_safe(-5), formula_safe("Via Roma")
("'-5 m", -5, 'Via Roma')
>>> import pandas as pd
>>> formula_safe_frame(pd.DataFrame({"a": ["@cmd", "ok"], "n": [-1, 2]}))["a"].tolist()
["'@cmd", 'ok']
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "formula_safe", "formula_safe_frame"]

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """``value`` with a ``'`` in front if it is text starting with a formula prefix."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def formula_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are :func:`formula_safe`."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_string_dtype(series) or series.dtype == object:
            out[column] = series.map(formula_safe, na_action="ignore")
    out.columns = [formula_safe(c) for c in out.columns]
    return out
