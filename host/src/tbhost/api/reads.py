"""``SnapshotReads``: the reads that root fields of one request ask for together, run in one
read transaction.

graphql-core starts a query's root fields together (one task each, in the order of the
document) and each asks for its read before it first waits. The first request of a batch
schedules the batch to run once the event loop has started every field; all reads asked for
by then run on one :meth:`QueryService.snapshot` (one transaction; on SQLite one step, see
:mod:`.sqlite_reads`), each in turn, each with its own result or refusal (a service error:
not found, forbidden); a database error fails the whole batch. A read asked for after a
batch began starts the next batch: nothing waits for anything but the database, and nothing
is kept between requests (no result is ever cached).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from ..services import QueryService, ServiceError
from ..services.queries import ReadSnapshot

__all__ = ["SnapshotReads"]

T = TypeVar("T")

Read = Callable[[ReadSnapshot], Any]
Outcome = tuple[Any, Exception | None]


class SnapshotReads:
    def __init__(self, queries: QueryService) -> None:
        self._queries = queries
        self._pending: list[tuple[Read, asyncio.Future[Any]]] = []
        self._running: set[asyncio.Task[None]] = set()

    async def read(self, read: Callable[[ReadSnapshot], T]) -> T:
        """``read`` (plain code: it may run in a worker thread) on the batch's snapshot; its
        result, or its error raised here."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((read, future))
        if len(self._pending) == 1:
            loop.call_soon(self._start)
        return await future

    def _start(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._running.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[Read, asyncio.Future[Any]]]) -> None:
        reads = [read for read, _ in batch]
        try:
            outcomes = await self._queries.snapshot(lambda snapshot: _each(reads, snapshot))
        except Exception as exc:  # noqa: BLE001 - the transaction failed: every read has it
            outcomes = [(None, exc)] * len(batch)
        except BaseException:
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), (result, error) in zip(batch, outcomes, strict=True):
            if future.done():
                continue  # its request was cancelled (the client went away)
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)


def _each(reads: list[Read], snapshot: ReadSnapshot) -> list[Outcome]:
    """Every read's result or refusal: one refused read does not fail the others. Anything
    else (the database failing) leaves the transaction, so the snapshot can retry or fail."""
    outcomes: list[Outcome] = []
    for read in reads:
        try:
            outcomes.append((read(snapshot), None))
        except ServiceError as exc:
            outcomes.append((None, exc))
    return outcomes
