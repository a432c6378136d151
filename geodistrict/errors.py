"""Exceptions raised by geodistrict.

Every error derives from :class:`GeodistrictError` and also from the built-in
exception that matches its nature (``ValueError``, ``FileNotFoundError``...),
so callers can catch either.  Messages quote the offending value and, for
files, name the file, the row and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class GeodistrictError(Exception):
    """Base class of every error raised on purpose by geodistrict."""


class ConfigError(GeodistrictError, ValueError):
    """A district configuration file is malformed or inconsistent."""


class InputFileNotFoundError(GeodistrictError, FileNotFoundError):
    """A file named in a configuration or on the command line does not exist."""


class CRSError(GeodistrictError, ValueError):
    """A layer has no CRS, or not the CRS an operation needs."""


class EmptyAreaError(GeodistrictError, ValueError):
    """A study area or a layer that must not be empty is empty."""


class SourceError(GeodistrictError, RuntimeError):
    """An OSM source could not be read."""


class NetworkUnavailableError(GeodistrictError, ConnectionError):
    """An online service (Overpass, Nominatim) cannot be reached."""


class OutputError(GeodistrictError, OSError):
    """Results could not be written."""


class ParameterError(GeodistrictError, ValueError):
    """A function argument has a value it cannot take (the message quotes it)."""


class ParameterTypeError(ParameterError, TypeError):
    """A function argument has the wrong type (e.g. a DataFrame where a GeoDataFrame goes)."""


class MissingColumnError(GeodistrictError, KeyError):
    """A GeoDataFrame lacks a column an analysis needs; the message says how to add it."""

    def __init__(self, what: str, column: str, *, hint: str = "") -> None:
        self.what = what
        self.column = column
        text = f"{what} have no column {column!r}"
        if hint:
            text += f": {hint}"
        super().__init__(text)

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class PipelineError(GeodistrictError, RuntimeError):
    """Pipeline steps whose declared inputs no step provides, or a step that broke its word."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, located by row and column.

    ``row`` counts like a spreadsheet: the header is row 1 and the first data
    row is row 2.  ``row`` and ``column`` are ``None`` when the problem is about
    the whole file or a whole row.
    """

    file: str
    row: int | None
    column: str | None
    value: object
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{', '.join(where)}: {self.message}{shown}"


class SurveyError(GeodistrictError, ValueError):
    """A survey file has problems; all of them are listed at once."""

    def __init__(self, path: str | Path, problems: list[Problem]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in survey file {self.path}:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))
