"""The job manager of the published service: bounded, private job results.

pygeoapi's TinyDB manager writes the output of every execution into its
output folder, synchronous ones included, with the process umask
(world-readable), and never removes anything.  :class:`JobManager` (the
``server.manager`` of the configuration written by
:func:`geodistrict.publish.pygeoapi_config`) changes that:

- a **synchronous** execution (no ``Prefer: respond-async``) is answered and
  forgotten: no job record, no file;
- an **asynchronous** execution gets a random job id (``uuid4``, not
  pygeoapi's time-based ``uuid1``); its result file is created with mode
  0600 in a 0700 folder, and the job database is 0600 too;
- results are kept at most ``max_age_hours`` (default 24) and the results
  together take at most ``max_mb`` megabytes (default 200): a cleaner runs
  when a worker starts and before and after each asynchronous job, removing
  expired jobs, then the oldest ones until the total fits, then files no job
  refers to.  A single result larger than ``max_mb`` is refused (the job fails
  and says so);
- subscriber callbacks (``subscriber`` in the execution body, which would make
  the server POST to any URL) are not supported;
- errors: a :class:`~geodistrict.errors.GeodistrictError` (the processes'
  input checks) is answered with its message; any other exception with a
  generic ``processing failed`` and a reference that the server log repeats
  next to the traceback, so no internals reach the client.  Messages are cut
  to :data:`MAX_MESSAGE` characters.

The job list (``GET /jobs``) is closed by :mod:`geodistrict.publish.wsgi`;
``/jobs/{id}`` answers whoever holds the id.

Examples
--------
>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> manager = JobManager({"name": "JobManager", "connection": f"{folder}/jobs.db",
...                       "output_dir": f"{folder}/outputs", "max_age_hours": 1})
>>> oct(Path(f"{folder}/jobs.db").stat().st_mode & 0o777)
'0o600'
>>> manager.get_jobs()["numberMatched"]
0
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import dummy
from pathlib import Path
from typing import Any

import tinydb
from filelock import FileLock
from pygeoapi.process.manager.tinydb_ import TinyDBManager
from pygeoapi.util import JobStatus, RequestedProcessExecutionMode, get_current_datetime

from geodistrict.errors import GeodistrictError
from geodistrict.publish.config import DEFAULT_MAX_AGE_HOURS, DEFAULT_MAX_MB

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_MAX_AGE_HOURS", "DEFAULT_MAX_MB", "MAX_MESSAGE", "JobManager", "error_body"]

#: Longest error description sent to a client (inputs quoted in messages are cut).
MAX_MESSAGE = 400
#: A result file no job refers to is removed once older than this (seconds): a
#: job writes its file a moment before recording it.
_ORPHAN_GRACE_S = 300.0


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def error_body(exc: BaseException) -> dict[str, str]:
    """The OGC exception body for a failed execution: our messages, never internals."""
    if isinstance(exc, GeodistrictError):
        description = _short(str(exc))
    else:
        reference = uuid.uuid4().hex[:12]
        log.error("process execution failed (reference %s)", reference, exc_info=exc)
        description = (
            f"processing failed: the inputs could not be processed (reference {reference})"
        )
    return {"type": "InvalidParameterValue", "code": "InvalidParameterValue",
            "description": description}  # fmt: skip


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if missing; make it 0600 if not."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


class JobManager(TinyDBManager):
    """pygeoapi's TinyDB job manager with private, bounded results (see the module)."""

    def __init__(self, manager_def: dict[str, Any]) -> None:
        super().__init__(manager_def)
        self.supports_subscribing = False
        self.max_age_s = float(manager_def.get("max_age_hours", DEFAULT_MAX_AGE_HOURS)) * 3600
        self.max_bytes = int(float(manager_def.get("max_mb", DEFAULT_MAX_MB)) * 1e6)
        db = Path(str(self.connection))
        db.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _private_file(db)
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.output_dir, 0o700)
        self.clean()

    @contextmanager
    def _db(self) -> Iterator[tinydb.TinyDB]:
        # A lock object per use (pygeoapi keeps one on self, shared by the job threads).
        with FileLock(f"{self.connection}.lock", mode=0o600), tinydb.TinyDB(self.connection) as db:
            yield db

    # ------------------------------------------------------------------ execution

    def execute_process(
        self,
        process_id: str,
        data_dict: dict[str, Any],
        execution_mode: RequestedProcessExecutionMode | None = None,
        requested_outputs: dict[str, Any] | None = None,
        subscriber: Any = None,
        requested_response: str | None = "raw",
    ) -> tuple[str, str, Any, JobStatus, dict[str, str] | None]:
        """Run a process: synchronously and unstored, or as a stored asynchronous job."""
        processor = self.get_processor(process_id)
        job_id = str(uuid.uuid4())
        processor.set_job_id(job_id)
        self.processor = processor
        options = processor.metadata.get("jobControlOptions", [])
        if execution_mode == RequestedProcessExecutionMode.respond_async and (
            "async-execute" in options
        ):
            self.clean()
            now = get_current_datetime()
            self.add_job({
                "type": "process", "identifier": job_id, "process_id": process_id,
                "created": now, "started": now, "updated": now, "finished": None,
                "created_epoch": time.time(), "status": JobStatus.accepted.value,
                "location": None, "mimetype": "application/octet-stream",
                "message": "Job accepted and ready for execution", "progress": 5,
            })  # fmt: skip
            args = (processor, job_id, data_dict, requested_outputs, requested_response)
            dummy.Process(target=self._run_async, args=args).start()
            headers = {"Preference-Applied": RequestedProcessExecutionMode.respond_async.value}
            return job_id, "application/json", None, JobStatus.accepted, headers
        mimetype, outputs, status = self._run(processor, data_dict, requested_outputs,
                                              requested_response)  # fmt: skip
        applied = None
        if execution_mode != RequestedProcessExecutionMode.wait:
            applied = {"Preference-Applied": RequestedProcessExecutionMode.wait.value}
        return job_id, mimetype, outputs, status, applied

    @staticmethod
    def _run(
        processor: Any, data: Any, requested_outputs: Any, requested_response: Any
    ) -> tuple[str, Any, JobStatus]:
        extra = {"outputs": requested_outputs} if processor.supports_outputs else {}
        try:
            mimetype, outputs = processor.execute(data, **extra)
        except Exception as exc:  # every failure answers 400 with a safe message
            return "application/json", error_body(exc), JobStatus.failed
        if requested_response == "document":
            outputs = {"outputs": [outputs]}
        return mimetype, outputs, JobStatus.successful

    def _run_async(
        self,
        processor: Any,
        job_id: str,
        data: Any,
        requested_outputs: Any,
        requested_response: Any,
    ) -> None:
        self.update_job(job_id, {"status": JobStatus.running.value, "progress": 10,
                                 "updated": get_current_datetime(),
                                 "message": "Job running"})  # fmt: skip
        mimetype, outputs, status = self._run(processor, data, requested_outputs,
                                              requested_response)  # fmt: skip
        done = {"finished": get_current_datetime(), "updated": get_current_datetime()}
        if status == JobStatus.successful:
            payload = (
                outputs if isinstance(outputs, bytes)
                else (outputs if isinstance(outputs, str) else json.dumps(outputs)).encode()
            )  # fmt: skip
            if len(payload) > self.max_bytes:
                status = JobStatus.failed
                outputs = {"description": f"the result ({len(payload) / 1e6:.1f} MB) is larger "
                           f"than the jobs limit of {self.max_bytes / 1e6:.0f} MB; ask for less "
                           "or run it synchronously"}  # fmt: skip
            else:
                location = self._write_result(f"{processor.metadata['id']}-{job_id}", payload)
                self.update_job(job_id, done | {
                    "status": JobStatus.successful.value, "location": str(location),
                    "mimetype": mimetype, "message": "Job complete", "progress": 100,
                })  # fmt: skip
        if status == JobStatus.failed:
            self.update_job(job_id, done | {
                "status": JobStatus.failed.value, "location": None,
                "mimetype": "application/octet-stream",
                "message": f"InvalidParameterValue: {outputs['description']}",
            })  # fmt: skip
        self.clean()

    def _write_result(self, name: str, payload: bytes) -> Path | None:
        if self.output_dir is None:
            return None
        path = self.output_dir / name
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        return path

    # ------------------------------------------------------------------ cleaning

    def clean(self) -> dict[str, int]:
        """Remove expired jobs, then the oldest until the results fit; return what went.

        Returns
        -------
        dict
            ``{"expired": n, "over_size": n, "orphans": n}``.
        """
        removed = {"expired": 0, "over_size": 0, "orphans": 0}
        now = time.time()
        with self._db() as db:
            jobs = db.all()
            keep = []
            for job in jobs:
                created = float(job.get("created_epoch") or 0.0)
                if now - created > self.max_age_s:
                    self._forget(db, job)
                    removed["expired"] += 1
                else:
                    keep.append((created, job))
            sizes = {}
            for _, job in keep:
                location = job.get("location")
                if location and Path(location).is_file():
                    sizes[job["identifier"]] = Path(location).stat().st_size
            total = sum(sizes.values())
            for _, job in sorted(keep, key=lambda item: item[0]):
                if total <= self.max_bytes:
                    break
                if job["identifier"] in sizes:
                    total -= sizes[job["identifier"]]
                    self._forget(db, job)
                    removed["over_size"] += 1
            known = {Path(j["location"]).name for j in db.all() if j.get("location")}
        if self.output_dir is not None and self.output_dir.is_dir():
            for path in self.output_dir.iterdir():
                if path.name not in known and now - path.stat().st_mtime > _ORPHAN_GRACE_S:
                    path.unlink(missing_ok=True)
                    removed["orphans"] += 1
        if any(removed.values()):
            log.info("job results cleaned: %s", removed)
        return removed

    @staticmethod
    def _forget(db: tinydb.TinyDB, job: dict[str, Any]) -> None:
        if job.get("location"):
            Path(job["location"]).unlink(missing_ok=True)
        db.remove(tinydb.where("identifier") == job["identifier"])
