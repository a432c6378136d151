"""The OGC API service started for a test: `geodistrict serve` in its own process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["serving"]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError:
        return False


@contextmanager
def serving(config: Path, port: int, *, attempts: int = 480) -> Iterator[str]:
    """Serve ``config`` on ``port`` until the block ends; yields the base URL.

    Waits (a bounded number of ``attempts`` a quarter-second apart) for the
    conformance page; the server's output goes to ``server.log`` beside the
    configuration (a file, not a pipe: an unread pipe fills up and blocks the
    server's logging) and is shown when it stops early.
    """
    log = config.parent / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "geodistrict.cli", "serve", "--config", str(config),
         "--port", str(port)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(attempts):
            try:
                if _answers(f"{url}/conformance?f=json"):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # slow to answer
                pass
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            time.sleep(0.25)
        else:
            pytest.fail("the server did not start")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
