"""Execute the notebooks in place and store their outputs.

Each notebook runs top to bottom, from the repository root (as the README says),
with a kernel of the interpreter running this script (``.venv/bin/python``), so
the stored outputs are those of the installed ``geodistrict``. A notebook that
fails is left as it was and the script exits with status 1; the others are
written with their new outputs.

Usage (from the repository root)::

    .venv/bin/python scripts/execute_notebooks.py                 # every notebook
    .venv/bin/python scripts/execute_notebooks.py notebooks/02_*.ipynb

The notebooks must stay small (``tests/test_notebooks.py`` checks the limit):
interactive maps embed their data, so they draw aggregated layers or a bounded
number of features.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
#: Size limit of a stored notebook (also checked by tests/test_notebooks.py).
MAX_BYTES = 5_000_000


def execute(notebook: nbformat.NotebookNode) -> None:
    """Run ``notebook`` in place with this interpreter's kernel, from the repository root."""
    client = NotebookClient(
        notebook,
        timeout=None,  # the analyses take what they take; no wall-clock limit
        kernel_name="python3",
        record_timing=False,  # no timestamps in the stored cells: smaller, stabler diffs
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.km = client.kernel_manager_class(kernel_name="python3")
    client.km.kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    client.execute()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    failed = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        try:
            execute(notebook)
        except CellExecutionError as exc:
            failed.append(path)
            print(f"FAILED {path}: {str(exc).splitlines()[-1] if str(exc) else exc!r}")
            continue
        seconds = time.perf_counter() - start
        notebook.metadata["kernelspec"] = {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        }
        nbformat.validate(notebook)
        nbformat.write(notebook, path)
        size = path.stat().st_size
        flag = "  TOO LARGE" if size > MAX_BYTES else ""
        print(f"{path.name}: {seconds:.0f} s, {size / 1e6:.2f} MB{flag}")
        if flag:
            failed.append(path)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
