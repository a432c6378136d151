"""Safety checks of an Excel workbook before it is loaded.

An ``.xlsx`` file is a zip archive of XML parts.  A small file can expand to
gigabytes (rows that compress a thousandfold), and an XML part can declare a
DTD whose entities expand exponentially ("billion laughs") or reach outside
the file.  :func:`check_workbook` looks at the archive before openpyxl does:

* the archive lists at most :data:`MAX_MEMBERS` parts, none larger than
  :data:`MAX_PART_BYTES` once uncompressed, and at most
  :data:`MAX_TOTAL_BYTES` together (the sizes the zip declares: Python's
  :mod:`zipfile`, which openpyxl uses, never inflates a part beyond them);
* every XML part is parsed as a stream with :mod:`xml.parsers.expat`, which
  stops at the first DTD (``<!DOCTYPE``) or entity declaration: a
  spreadsheet never needs one, so the file is refused before any entity is
  expanded;
* the worksheets are counted while parsed: the highest row and column any
  cell occupies (openpyxl and pandas fill the gaps) must stay within
  :data:`MAX_ROWS`, :data:`MAX_COLUMNS` and :data:`MAX_CELLS`; the count
  stops at the first cell past a bound.

Each refusal is a :class:`~geodistrict.errors.SurveyError` naming the file
and the part.  openpyxl itself parses the worksheets with :mod:`defusedxml`
when it is installed (a dependency of geodistrict), and the other parts with
lxml without entity resolution: a second line of defence.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.parsers import expat

from geodistrict.errors import Problem, SurveyError

__all__ = [
    "MAX_CELLS",
    "MAX_COLUMNS",
    "MAX_MEMBERS",
    "MAX_PART_BYTES",
    "MAX_ROWS",
    "MAX_TEXT_BYTES",
    "MAX_TOTAL_BYTES",
    "check_workbook",
]

MAX_ROWS = 100_000
"""Most rows a survey sheet may have (a district census has hundreds to thousands)."""
MAX_COLUMNS = 1_000
"""Most columns a survey sheet may have (a KoboToolbox export of the firm form has ~80)."""
MAX_CELLS = 2_000_000
"""Most cells (highest row times highest column) a survey sheet may span."""
MAX_PART_BYTES = 100 * 2**20
"""Largest uncompressed XML part of a workbook (100 MiB)."""
MAX_TOTAL_BYTES = 200 * 2**20
"""Largest uncompressed workbook, all parts together (200 MiB)."""
MAX_MEMBERS = 10_000
"""Most parts a workbook archive may hold."""
MAX_TEXT_BYTES = 100 * 2**20
"""Largest CSV/TXT survey file (100 MiB)."""

_CHUNK = 2**20
_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d+)")


class _RefusedError(Exception):
    """Raised from inside the XML parser to stop it; the message says why."""


def _problem(path: Path, message: str) -> SurveyError:
    return SurveyError(path, [Problem(str(path), None, None, None, message)])


def _column_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - ord("A") + 1
    return number


class _SheetCounter:
    """Expat handlers that track the extent of a worksheet and stop past the bounds."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.max_row = 0
        self.max_col = 0
        self._row = 0
        self._col = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        if local == "row":
            ref = attrs.get("r", "")
            self._row = int(ref) if ref.isdigit() else self._row + 1
            self._col = 0
            self._grow(self._row, 0)
        elif local == "c":
            match = _CELL_REF.fullmatch(attrs.get("r", ""))
            if match is not None:
                self._col = _column_number(match.group(1))
                row = int(match.group(2))
            else:
                self._col += 1
                row = self._row
            self._grow(row, self._col)

    def _grow(self, row: int, col: int) -> None:
        self.max_row = max(self.max_row, row)
        self.max_col = max(self.max_col, col)
        if self.max_row > MAX_ROWS:
            raise _RefusedError(
                f"sheet {self.part} has more than {MAX_ROWS:,} rows (a cell in row {row:,}); "
                "a survey file has at most that many: split it, or remove the rows below "
                "the data"
            )
        if self.max_col > MAX_COLUMNS:
            raise _RefusedError(
                f"sheet {self.part} has more than {MAX_COLUMNS:,} columns (a cell in column "
                f"{col:,}); remove the columns right of the data"
            )
        if self.max_row * self.max_col > MAX_CELLS:
            raise _RefusedError(
                f"sheet {self.part} spans more than {MAX_CELLS:,} cells ({self.max_row:,} rows "
                f"by {self.max_col:,} columns); remove the rows and columns around the data"
            )


def _refuse_dtd(*_args: object) -> None:
    raise _RefusedError(
        "it declares a DTD or XML entities, which a spreadsheet never needs and which can "
        "expand to exhaust the memory (an 'XML bomb') or read other files; the file is "
        "refused: save it again from Excel or LibreOffice, or export it anew"
    )


def _scan_part(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Parse one XML part as a stream: no DTD, no entity, worksheets within bounds."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.UnparsedEntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd  # type: ignore[assignment]
    if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
        parser.StartElementHandler = _SheetCounter(info.filename).start
    with book.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)


def check_workbook(path: Path) -> None:
    """Refuse a workbook that is not a zip, too large, too long or declares a DTD.

    Parameters
    ----------
    path : Path
        An ``.xlsx`` / ``.xlsm`` file.

    Raises
    ------
    SurveyError
        Naming the file and what is wrong, with one problem: not a zip
        archive, too many or too large parts, a DTD or entity declaration, XML
        that is not well formed, or a worksheet beyond :data:`MAX_ROWS`,
        :data:`MAX_COLUMNS` or :data:`MAX_CELLS`.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> from pathlib import Path
    >>> bomb = Path(tempfile.mkdtemp()) / "bomb.xlsx"
    >>> with zipfile.ZipFile(bomb, "w") as z:
    ...     z.writestr("xl/workbook.xml", '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    >>> try:
    ...     check_workbook(bomb)
    ... except SurveyError as exc:
    ...     print(exc.problems[0].message[:59])
    cannot read the Excel file: part xl/workbook.xml declares a
    """
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _problem(
            path, f"cannot read the Excel file: not an .xlsx workbook (a zip archive): {exc}"
        ) from exc
    with book:
        infos = book.infolist()
        if len(infos) > MAX_MEMBERS:
            raise _problem(
                path, f"cannot read the Excel file: it holds {len(infos):,} parts (at most "
                f"{MAX_MEMBERS:,})"
            )  # fmt: skip
        total = sum(i.file_size for i in infos)
        large = [i for i in infos if i.file_size > MAX_PART_BYTES]
        if large:
            part = large[0]
            raise _problem(
                path,
                f"cannot read the Excel file: part {part.filename} expands to "
                f"{part.file_size / 2**20:,.0f} MiB (at most {MAX_PART_BYTES // 2**20} MiB; "
                f"{part.compress_size / 2**20:,.1f} MiB compressed): too large for a survey",
            )
        if total > MAX_TOTAL_BYTES:
            raise _problem(
                path,
                f"cannot read the Excel file: it expands to {total / 2**20:,.0f} MiB (at most "
                f"{MAX_TOTAL_BYTES // 2**20} MiB): too large for a survey",
            )
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            try:
                _scan_part(book, info)
            except _RefusedError as exc:
                what = str(exc)
                if what.startswith("it "):
                    what = f"part {info.filename} " + what.removeprefix("it ")
                raise _problem(path, f"cannot read the Excel file: {what}") from None
            except expat.ExpatError as exc:
                raise _problem(
                    path,
                    f"cannot read the Excel file: part {info.filename} is not well-formed "
                    f"XML ({exc})",
                ) from None
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise _problem(
                    path, f"cannot read the Excel file: part {info.filename}: {exc}"
                ) from None
