"""Backtest jobs the API runs: a registry in memory, a worker thread pool, and progress.

A job runs in a worker thread (the event loop never waits for it) and is kept, with its
summary, until the API process ends; the newest ``keep`` jobs are kept, finished older ones
are forgotten first.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from tbsdk.errors import TbError

from .backtests import BacktestRequest

__all__ = ["BacktestJobs", "JobSnapshot", "JobStatus"]

log = logging.getLogger(__name__)

Work = Callable[[Callable[[int], None], Callable[[int], None]], dict[str, Any]]
"""A job's work: called with ``on_total(n)`` and ``on_progress(done_increment)``."""


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


@dataclass(frozen=True)
class JobSnapshot:
    """A job as it stands; ``version`` grows with every change (subscriptions compare it)."""

    id: str
    request: BacktestRequest
    requested_by: str
    status: JobStatus
    created_at: int
    started_at: int | None = None
    finished_at: int | None = None
    candles_total: int | None = None
    candles_done: int = 0
    summary: dict[str, Any] | None = None
    error: str | None = None
    version: int = 0


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class BacktestJobs:
    workers: int = 1
    keep: int = 200
    _jobs: dict[str, JobSnapshot] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = None

    def submit(self, request: BacktestRequest, requested_by: str, work: Work) -> JobSnapshot:
        job = JobSnapshot(
            id=uuid.uuid4().hex,
            request=request,
            requested_by=requested_by,
            status=JobStatus.QUEUED,
            created_at=_now_ms(),
        )
        with self._lock:
            self._jobs[job.id] = job
            self._trim()
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="tbhost-backtest")
            pool = self._pool
        pool.submit(self._run, job.id, work)
        return job

    def get(self, job_id: str) -> JobSnapshot | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[JobSnapshot]:
        """Every kept job, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)

    def shutdown(self) -> None:
        """Stop taking jobs; running ones finish in their threads, queued ones are dropped."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                self._jobs[job_id] = replace(job, version=job.version + 1, **changes)

    def _advance(self, job_id: str, done: int) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                self._jobs[job_id] = replace(
                    job, candles_done=job.candles_done + done, version=job.version + 1
                )

    def _run(self, job_id: str, work: Work) -> None:
        self._update(job_id, status=JobStatus.RUNNING, started_at=_now_ms())
        try:
            summary = work(
                lambda n: self._update(job_id, candles_total=n),
                lambda done: self._advance(job_id, done),
            )
        except (TbError, ValueError, OSError) as exc:
            # Expected refusals (no candles in range, a venue rule): their message is for people.
            self._update(job_id, status=JobStatus.FAILED, finished_at=_now_ms(), error=str(exc))
        except Exception:  # isolation: a broken strategy fails its job, never the API
            log.exception("backtest job %s failed", job_id)
            self._update(
                job_id,
                status=JobStatus.FAILED,
                finished_at=_now_ms(),
                error=f"the backtest failed unexpectedly; see the host log for job {job_id}",
            )
        else:
            self._update(job_id, status=JobStatus.SUCCEEDED, finished_at=_now_ms(), summary=summary)

    def _trim(self) -> None:
        if len(self._jobs) <= self.keep:
            return
        finished = sorted(
            (j for j in self._jobs.values() if j.status.finished), key=lambda j: j.created_at
        )
        for job in finished[: len(self._jobs) - self.keep]:
            del self._jobs[job.id]
