"""``GroupCommit``: many bots' writes committed together, each caller still awaiting its own.

A host runs a thousand bots whose candles close at the same instant. Each one committing its
own transaction (an intent before it is sent, a checkpoint after its candle) would make them
queue for the database one by one. Here every write waits in a queue; a single drain task runs
everything queued in one transaction and only then resolves each caller's future. A caller
therefore returns once its write is committed, exactly as with its own transaction (store, then
send still holds), but one commit serves everyone who asked meanwhile.

Two kinds of writes:

* **intents** (:meth:`GroupCommit.store_intent`): orders about to be sent. They go first, in
  their own transaction of three bulk statements (:func:`~tbhost.storage.repos.orders.
  add_intents`), because a bot is waiting to send each of them;
* **records** (:meth:`GroupCommit.write_records`): what a bot's order manager kept since its
  last checkpoint, and the checkpoint (:mod:`.records`), in the next transaction, about ten
  bulk statements for all of them;
* **steps** (:meth:`GroupCommit.write`): any other write, ``async (session) -> None`` (a bot's
  new state and its audit entry), after the records in the same transaction.

One bot's failing write must not fail the others': when a group transaction fails, each of its
writes is retried in a transaction of its own, and only the writes that fail alone report the
error to their caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ..storage.repos import orders as order_repo
from .records import Record, write_records

if TYPE_CHECKING:
    from tbsdk.model import OrderIntent

    from ..storage import Database

__all__ = ["GroupCommit", "Step"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_Intent = tuple[str, "str | None", "OrderIntent"]
_Queued = list[tuple[T, "asyncio.Future[Any]"]]
Step = Callable[[AsyncSession], Awaitable[object]]
_Later = Sequence[Record] | Step


class GroupCommit:
    """Coalesces the writes of many bots on one database (one per host)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._intents: _Queued[_Intent] = []
        self._records: _Queued[_Later] = []
        self._drain: asyncio.Task[None] | None = None
        self.commits = 0
        """Group transactions committed so far (for tests and benchmarks)."""

    async def store_intent(self, account_id: str, bot_id: str | None, intent: OrderIntent) -> bool:
        """Store ``intent`` as a new order (status ``new``); returns once it is committed:
        True if stored now, False if it was stored already."""
        return bool(await self._queue(self._intents, (account_id, bot_id, intent)))

    async def write_records(self, records: Sequence[Record]) -> None:
        """Store ``records`` (:func:`~.records.write_records`); returns once committed."""
        await self._queue(self._records, records)

    async def write(self, step: Step) -> None:
        """Run ``step`` in a group transaction, after the records; returns once committed."""
        await self._queue(self._records, step)

    async def _queue(self, queue: _Queued[T], item: T) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        queue.append((item, future))
        if self._drain is None or self._drain.done():
            # Runs after every task woken with this one has queued its write: they all share
            # the first commit.
            self._drain = asyncio.get_running_loop().create_task(self._run(), name="group-commit")
        return await future

    async def _run(self) -> None:
        waiting: list[asyncio.Future[Any]] = []
        try:
            while self._intents or self._records:
                if self._intents:
                    intents, self._intents = self._intents, []
                    waiting = [f for _, f in intents]
                    await self._commit(intents, self._store_intents)
                else:
                    records, self._records = self._records, []
                    waiting = [f for _, f in records]
                    await self._commit(records, self._write_records)
                waiting = []
        except BaseException as exc:  # cancelled (the loop is closing): nobody may hang
            waiting += [f for _, f in (*self._intents, *self._records)]
            self._intents, self._records = [], []
            for future in waiting:
                _fail(future, exc)
            raise

    async def _store_intents(self, items: list[_Intent]) -> list[bool]:
        async with self.db.transaction() as s:
            return await order_repo.add_intents(s, items)

    async def _write_records(self, items: list[_Later]) -> list[None]:
        async with self.db.transaction() as s:
            await write_records(s, [r for item in items if not callable(item) for r in item])
            for item in items:
                if callable(item):
                    await item(s)
        return [None] * len(items)

    async def _commit(
        self, batch: _Queued[T], write: Callable[[list[T]], Awaitable[Sequence[object]]]
    ) -> None:
        try:
            results = await write([item for item, _ in batch])
        except Exception as exc:  # noqa: BLE001 - isolation: retried one by one below
            if len(batch) == 1:
                _fail(batch[0][1], exc)
                return
            log.warning("a group of %d writes failed; writing them one by one", len(batch))
            for one in batch:
                await self._commit([one], write)
            return
        self.commits += 1
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    """Hand ``exc`` to the caller waiting on ``future`` (a cancellation cancels it)."""
    if future.done():
        return
    if isinstance(exc, Exception):
        future.set_exception(exc)
    else:
        future.cancel()
