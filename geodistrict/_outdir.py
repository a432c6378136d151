"""The machinery of a district's output folder: lock, versions, pointer, leftovers, errors.

Private to :mod:`geodistrict.store`, which describes the layout and the
transaction.  Here: the folder lock (``flock``), atomic file and link
replacement, flushing to disk, pruning versions, cleaning what killed runs
left, and the real cause of a failed write (:func:`writing`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import math
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from geodistrict.errors import OutputError, ParameterError

log = logging.getLogger(__name__)

MANIFEST = "layers.json"
#: The pointer to the visible version, a symbolic link into :data:`VERSIONS`.
CURRENT = "current"
VERSIONS = "versions"
LOCK = ".lock"
VERSION = re.compile(r"^v(\d{6,})-\d{8}T\d{6}Z$")


# --- errors: the real cause --------------------------------------------------------


# --- errors: the real cause --------------------------------------------------------


def os_cause(exc: OSError, path: str | os.PathLike[str] | None = None) -> str:
    """``No space left on device [ENOSPC]: '/out/d/x.gpkg'`` from an OSError."""
    where = exc.filename if exc.filename is not None else path
    suffix = f": {str(where)!r}" if where is not None else ""
    if exc.errno is None:
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}{suffix}"
    code = errno.errorcode.get(exc.errno, f"errno {exc.errno}")
    return f"{os.strerror(exc.errno)} [{code}]{suffix}"


def _existing_dir(path: Path) -> Path:
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


def diagnose(path: Path, need: int = 0) -> str | None:
    """Why writing at ``path`` fails, found by writing a probe file there; None if it works.

    Libraries that write through their own I/O (GDAL, SQLite) often report a
    follow-on error ("Failed to commit transaction", "Layer ... already
    exists") instead of the system's: a full disk, a quota, a read-only or
    forbidden folder, a file size limit.
    """
    directory = _existing_dir(path if path.is_dir() else path.parent)
    size = min(max(need, 1 << 20), 64 << 20)
    try:
        fd, name = tempfile.mkstemp(prefix=".probe-", suffix=".tmp", dir=directory)
        try:
            chunk = os.urandom(min(size, 1 << 20))  # not zeros: compressing filesystems
            left = size
            while left > 0:
                left -= os.write(fd, chunk[: min(left, len(chunk))])
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(name)
    except OSError as exc:
        return os_cause(exc, directory)
    try:
        stats = os.statvfs(directory)
    except OSError:
        return None
    free = stats.f_bavail * stats.f_frsize
    if need and free < need:
        return (
            f"{os.strerror(errno.ENOSPC)} [ENOSPC]: {free:,} bytes free on the disk of "
            f"{str(directory)!r}, about {need:,} needed"
        )
    return None


@contextlib.contextmanager
def writing(what: str, path: Path, *, need: Callable[[], int] | None = None) -> Iterator[None]:
    """Turn any failure of the block into an OutputError naming what, where and the cause."""
    try:
        yield
    except OutputError:
        raise
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            cause = os_cause(exc, path)
        else:
            try:
                size = need() if need is not None else 0
            except Exception:  # an estimate only
                size = 0
            found = diagnose(path, size)
            detail = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            cause = f"{found} (reported as: {detail})" if found else detail
        raise OutputError(f"cannot write {what} to {str(path)!r}: {cause}") from exc


# --- the lock ----------------------------------------------------------------------

_HELD: dict[str, tuple[int, int]] = {}  # real folder path -> (thread id, depth)
_HELD_GUARD = threading.Lock()


def mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the output folder {str(folder)!r}: {os_cause(exc)}"
        ) from exc


@contextlib.contextmanager
def output_lock(folder: str | os.PathLike[str], *, timeout: float = 0.0) -> Iterator[Path]:
    """Hold the lock of a district's output folder (``OUT/<district>/.lock``).

    One run at a time writes a folder: a second run (another process, or
    another thread) refuses with an :class:`OutputError` naming the folder and
    the process id of the run holding it, at once (``timeout=0``, what
    ``geodistrict run`` does) or after waiting ``timeout`` seconds.  The lock
    is the kernel's (``flock``): it goes with the process, so a killed run
    leaves no stale lock.  The same thread may take it again (nested).
    Readers take no lock.

    Raises
    ------
    OutputError
        If the folder cannot be created, or another run holds the lock.
    """
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout >= 0):
        raise ParameterError(f"timeout must be a number of seconds >= 0, got {timeout!r}")
    folder = Path(folder)
    mkdir(folder)
    key = os.path.realpath(folder)
    me = threading.get_ident()
    with _HELD_GUARD:
        holder = _HELD.get(key)
        nested = holder is not None and holder[0] == me
        if holder is not None and nested:
            _HELD[key] = (me, holder[1] + 1)
    if nested:
        try:
            yield folder
        finally:
            with _HELD_GUARD:
                thread, depth = _HELD[key]
                _HELD[key] = (thread, depth - 1)
        return
    path = folder / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise OutputError(f"cannot create the lock file {str(path)!r}: {os_cause(exc)}") from exc
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputError(_busy_message(folder, path, timeout)) from None
                time.sleep(min(0.2, max(deadline - time.monotonic(), 0.01)))
            except OSError as exc:
                raise OutputError(f"cannot lock {str(path)!r}: {os_cause(exc)}") from exc
        with contextlib.suppress(OSError):  # the pid is for the messages only
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        with _HELD_GUARD:
            _HELD[key] = (me, 1)
        try:
            yield folder
        finally:
            with _HELD_GUARD:
                _HELD.pop(key, None)
    finally:
        os.close(fd)  # releases the lock


def _busy_message(folder: Path, path: Path, timeout: float) -> str:
    try:
        pid = path.read_text(encoding="ascii").strip() or "unknown"
    except (OSError, UnicodeDecodeError):
        pid = "unknown"
    waited = f" (waited {timeout:g} s)" if timeout else ""
    return (
        f"another geodistrict run (pid {pid}) is writing to {str(folder)!r}{waited}; "
        "wait for it to finish, or write to another output folder (--out)"
    )


# --- file operations ---------------------------------------------------------------


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` to disk (before it becomes visible)."""
    for directory, _dirs, files in os.walk(root):
        for name in files:
            fsync(Path(directory) / name)
        fsync(Path(directory))


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link (same file, no space used), or a copy where links are not possible."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.ENOENT, errno.EROFS):
            raise
        shutil.copy2(source, target)


def symlink_atomic(target: str, link: Path) -> None:
    """Make ``link`` a symbolic link to ``target`` in one rename (replacing a file or link)."""
    tmp = link.parent / f".link-{secrets.token_hex(6)}.tmp"
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def sequence(name: str) -> int:
    """The sequence number of a version (also of ``.new-`` and ``.trash-`` folders), else 0."""
    match = re.match(r"^(?:\.new-|\.trash-)?v(\d{6,})-", name)
    return int(match.group(1)) if match else 0


def current_name(folder: Path) -> str | None:
    pointer = folder / CURRENT
    if not pointer.is_symlink():
        return None
    return Path(os.readlink(pointer)).name


def prune(folder: Path, keep: int) -> None:
    """Remove versions not switched to, and those beyond the newest ``keep``."""
    versions = folder / VERSIONS
    if not versions.is_dir():
        return
    current = current_name(folder)
    names = sorted((n for n in os.listdir(versions) if VERSION.match(n)), key=sequence)
    kept: set[str] = set()
    if current is not None:
        older = [n for n in names if sequence(n) < sequence(current)]
        kept = {current, *(older[len(older) - (keep - 1) :] if keep > 1 else [])}
    for name in names:
        if name not in kept:
            log.info("removing the old output version %s", versions / name)
            trash = versions / f".trash-{name}"
            os.rename(versions / name, trash)
            shutil.rmtree(trash)


def stable_links(
    folder: Path, version: Path, *, replace: bool, added: list[Path] | None = None
) -> None:
    """Make every entry of the version reachable at ``folder/<entry>`` through ``current``.

    Without ``replace``, only links that do not exist yet are added (before the
    switch: they resolve once ``current`` points to the version).  With it,
    anything else standing at one of those paths (the files of an older
    geodistrict's layout, a broken link) is replaced, and links to entries the
    version no longer has are removed.  Links created are appended to ``added``.
    """
    wanted = {n for n in os.listdir(version) if not n.startswith(".")}
    for name in sorted(wanted):
        link = folder / name
        target = f"{CURRENT}/{name}"
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if not os.path.lexists(link):
            symlink_atomic(target, link)
            if added is not None:
                added.append(link)
        elif replace:
            if link.is_dir() and not link.is_symlink():
                trash = folder / f".trash-{name}-{secrets.token_hex(4)}"
                os.rename(link, trash)
                symlink_atomic(target, link)
                shutil.rmtree(trash)
            else:
                symlink_atomic(target, link)
            log.info("%s now points to %s", link, target)
    if replace:
        for link in folder.iterdir():
            if (
                link.is_symlink()
                and link.name not in wanted
                and os.readlink(link).startswith(f"{CURRENT}/")
            ):
                link.unlink()


def clean_leftovers(folder: Path, keep: int) -> None:
    """Remove what killed runs left: unfinished versions, temporary files and links."""
    versions = folder / VERSIONS
    if versions.is_dir():
        for name in os.listdir(versions):
            if name.startswith((".new-", ".trash-")):
                log.info("removing the leftover %s", versions / name)
                shutil.rmtree(versions / name, ignore_errors=True)
    prune(folder, keep)
    for path in folder.iterdir():
        name = path.name
        if name.startswith((".run-", ".trash-")) or (name.endswith(".tmp") and name != LOCK):
            log.info("removing the leftover %s", path)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    current = current_name(folder)
    if current is not None and (versions / current / MANIFEST).is_file():
        stable_links(folder, versions / current, replace=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file atomically (temporary file in the same folder, flushed, then rename)."""
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False,
        encoding="utf-8",
    ) as handle:  # fmt: skip
        try:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        except BaseException:
            handle.close()
            os.unlink(handle.name)
            raise
    try:
        os.chmod(handle.name, 0o644)  # readable by a server running as another user
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise
