"""Render pages of a report PDF to PNG, to look at them (pypdfium2, offline).

Usage: .venv/bin/python scripts/report_pages.py REPORT.pdf OUTDIR [PAGE ...]

Pages are numbered from 1; without pages, every page is rendered. Prints the
path of each PNG written.
"""

from __future__ import annotations

import sys
from pathlib import Path


def render_pages(
    pdf: Path, folder: Path, pages: list[int] | None = None, *, scale: float = 1.5
) -> list[Path]:
    """Render ``pages`` (1-based; default all) of ``pdf`` to ``folder/<stem>_p<N>.png``."""
    import pypdfium2 as pdfium

    folder.mkdir(parents=True, exist_ok=True)
    document = pdfium.PdfDocument(str(pdf))
    numbers = pages or list(range(1, len(document) + 1))
    written = []
    for number in numbers:
        image = document[number - 1].render(scale=scale).to_pil()
        target = folder / f"{pdf.stem}_p{number:02d}.png"
        image.save(target)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    pages = [int(p) for p in argv[2:]] or None
    for path in render_pages(Path(argv[0]), Path(argv[1]), pages):
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
