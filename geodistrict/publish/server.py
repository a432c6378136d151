"""Run the OGC API service: pygeoapi under gunicorn, bound to 127.0.0.1 by default.

gunicorn serves :func:`geodistrict.publish.wsgi.create_app`: pygeoapi's Flask application
with a request check (see :mod:`geodistrict.publish.wsgi`).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

__all__ = ["gunicorn_command", "prepare_runtime_config", "serve"]


def prepare_runtime_config(config_path: str | os.PathLike[str], *, host: str, port: int) -> Path:
    """Copy a published configuration with the bind address and URL of this server.

    pygeoapi writes ``server.url`` into every link, so it must match where the
    server really listens.  The copy (``pygeoapi.runtime.yml``) and its OpenAPI
    document sit next to the original.
    """
    from geodistrict.publish.config import write_pygeoapi_config

    source = Path(config_path)
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    config["server"]["bind"] = {"host": host, "port": port}
    config["server"]["url"] = f"http://{shown}:{port}"
    runtime = source.parent / "runtime"
    return write_pygeoapi_config(config, runtime)


def gunicorn_command(*, host: str, port: int, workers: int = 2) -> list[str]:
    """The gunicorn command line that serves pygeoapi's Flask application."""
    return [
        sys.executable, "-m", "gunicorn", "geodistrict.publish.wsgi:create_app()",
        "--bind", f"{host}:{port}", "--workers", str(workers), "--timeout", "120",
        "--access-logfile", "-",
    ]  # fmt: skip


def serve(
    config_path: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 2,
) -> int:
    """Serve a published configuration until interrupted; return gunicorn's exit code.

    Parameters
    ----------
    config_path : path-like
        ``pygeoapi.yml`` written by ``geodistrict publish``.
    host : str, default "127.0.0.1"
        Bind address; the service is local unless told otherwise.
    port : int, default 5000
    workers : int, default 2
        gunicorn worker processes.
    """
    runtime = prepare_runtime_config(config_path, host=host, port=port)
    env = dict(os.environ)
    env["PYGEOAPI_CONFIG"] = str(runtime)
    env["PYGEOAPI_OPENAPI"] = str(runtime.parent / "openapi.yml")
    command = gunicorn_command(host=host, port=port, workers=workers)
    log.info("starting %s", " ".join(command))
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0
