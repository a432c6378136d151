"""Run the OGC API service: pygeoapi under gunicorn, bound to 127.0.0.1 by default.

gunicorn serves :func:`geodistrict.publish.wsgi.create_app`: pygeoapi's Flask application
with request checks (see :mod:`geodistrict.publish.wsgi`).  :func:`serve` checks that the
port is free first (a port in use is a :class:`~geodistrict.errors.ParameterError`, exit 2
on the command line), passes the secrets of ``secrets.env`` (next to ``pygeoapi.yml``) to
gunicorn through its environment, and stops gunicorn cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from geodistrict.errors import ParameterError

log = logging.getLogger(__name__)

__all__ = ["check_port", "gunicorn_command", "prepare_runtime_config", "serve"]

#: Seconds gunicorn has to finish its requests after SIGTERM before it is killed.
STOP_GRACE_S = 30


def prepare_runtime_config(
    config_path: str | os.PathLike[str],
    *,
    host: str,
    port: int,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Copy a published configuration with the bind address and URL of this server.

    pygeoapi writes ``server.url`` into every link, so it must match where the
    server really listens.  The copy (``runtime/pygeoapi.yml``) and its OpenAPI
    document sit next to the original; like it, they hold no secret
    (``${NAME}`` placeholders are resolved from ``env`` for the OpenAPI
    document only).
    """
    from geodistrict.publish.config import write_pygeoapi_config

    source = Path(config_path)
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    config["server"]["bind"] = {"host": host, "port": port}
    config["server"]["url"] = f"http://{shown}:{port}"
    runtime = source.parent / "runtime"
    return write_pygeoapi_config(config, runtime, env=env)


def check_port(host: str, port: int) -> None:
    """Raise :class:`ParameterError` if ``host:port`` cannot be bound (in use, not allowed)."""
    if not 0 < port < 65536:
        raise ParameterError(f"port must be from 1 to 65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ParameterError(f"cannot bind to host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ParameterError(
                    f"port {port} on {host} is in use (another server?): stop it or choose "
                    "another with --port"
                ) from None
            raise ParameterError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def gunicorn_command(*, host: str, port: int, workers: int = 2) -> list[str]:
    """The gunicorn command line that serves pygeoapi's Flask application."""
    return [
        sys.executable, "-m", "gunicorn", "geodistrict.publish.wsgi:create_app()",
        "--bind", f"{host}:{port}", "--workers", str(workers), "--timeout", "120",
        "--access-logfile", "-", "--graceful-timeout", str(STOP_GRACE_S - 5),
        "--no-control-socket",  # no control interface shared by every server of the user
    ]  # fmt: skip


def serve(
    config_path: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 2,
) -> int:
    """Serve a published configuration until stopped; return 0, or gunicorn's exit code.

    SIGTERM and SIGINT (Ctrl+C) stop gunicorn gracefully (it finishes the
    requests under way, at most :data:`STOP_GRACE_S` seconds, then is killed)
    and return 0 once the port is free.

    Parameters
    ----------
    config_path : path-like
        ``pygeoapi.yml`` written by ``geodistrict publish``.
    host : str, default "127.0.0.1"
        Bind address; the service is local unless told otherwise.
    port : int, default 5000
    workers : int, default 2
        gunicorn worker processes.

    Raises
    ------
    ParameterError
        If the port is in use or cannot be bound.
    """
    from geodistrict.publish.config import read_secrets

    check_port(host, port)
    secrets = read_secrets(Path(config_path).parent)
    env = {**secrets, **os.environ}  # a variable set by the operator wins over the file
    runtime = prepare_runtime_config(config_path, host=host, port=port, env=env)
    env["PYGEOAPI_CONFIG"] = str(runtime)
    env["PYGEOAPI_OPENAPI"] = str(runtime.parent / "openapi.yml")
    command = gunicorn_command(host=host, port=port, workers=workers)
    log.info("starting %s", " ".join(command))
    process = subprocess.Popen(command, env=env)
    stop: list[tuple[int, float]] = []  # (signal, when)

    def on_signal(signum: int, _frame: Any) -> None:
        stop.append((signum, time.monotonic()))
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown

    handled = (signal.SIGTERM, signal.SIGINT)
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {s: signal.signal(s, on_signal) for s in handled}
    try:
        while True:
            try:
                code = process.wait(timeout=1)
                break
            except subprocess.TimeoutExpired:
                if stop and time.monotonic() - stop[0][1] > STOP_GRACE_S:
                    log.warning("gunicorn did not stop in %d s: killing it", STOP_GRACE_S)
                    process.kill()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if process.poll() is None:
            process.kill()
            process.wait()
    if stop:
        log.info("stopped by signal %d (gunicorn exit code %s)", stop[0][0], code)
        return 0
    return code
