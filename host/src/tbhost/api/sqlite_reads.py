"""``SqliteReads``: read transactions on a SQLite file, each run whole in one step.

Through aiosqlite every step of a transaction is a hop to the connection's thread and back
to the event loop: BEGIN, and for each statement a cursor, execute, fetch and close, then
COMMIT and the pool's reset; 13 hops for a dashboard's bots + positions, each ~0.1 ms of CPU
(thread wake-ups, the GIL changing hands, event-loop turns), most of such a request's cost.
Here the whole transaction is one step: SQLAlchemy's plain ``sqlite3`` driver, with the same
models and column types, on connections of its own that only read (``PRAGMA query_only``).
The database is in WAL mode (every connection of the host sets it, and it is a property of
the file), so these readers see the last commit and neither wait for a writer nor block one.

The step runs on the event loop itself, on a connection that never waits for a lock
(``busy_timeout`` 0): a WAL read of a few dozen rows from the page cache takes less time than
resolving the answer's fields, and a worker thread would cost more than it saves (under load
it also waits for the GIL, up to a switch interval at a time). In the rare moments a WAL
reader is refused (another connection recovering the WAL or resetting it), the read is run
again in a worker thread that waits up to ``BUSY_TIMEOUT_MS`` like every other connection.

Only for a SQLite file: an in-memory database is one connection that cannot be shared, and
PostgreSQL's driver is asynchronous already (:meth:`QueryService.snapshot` falls back to an
ordinary read transaction there).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..storage import Database

__all__ = ["SqliteReads"]

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
_THREADS = 2
_SQLITE_BUSY = 5


class SqliteReads:
    def __init__(self, path: str) -> None:
        self.path = path
        # The loop runs one read at a time: one connection. The threads wait for locks.
        self._inline = _reader_engine(path, busy_timeout_ms=0, connections=1)
        self._waiting = _reader_engine(path, busy_timeout_ms=BUSY_TIMEOUT_MS, connections=_THREADS)
        self._threads = ThreadPoolExecutor(_THREADS, thread_name_prefix="tbhost-api-read")
        self.waited = 0
        """Reads that had to be run again in a worker thread (SQLite refused the reader)."""

    @classmethod
    def for_database(cls, db: Database) -> SqliteReads | None:
        """A reader of ``db``'s file, or ``None`` when ``db`` is not a SQLite file."""
        path = db.url.database or ""
        if db.backend != "sqlite" or path in ("", ":memory:") or db.url.query:
            return None  # in memory, or options (a URI filename) this reader would not repeat
        return cls(path)

    async def run(self, fn: Callable[[Session], T]) -> T:
        """``fn`` on a session in one read transaction. ``fn`` only reads; it may be run a
        second time (in a worker thread) if SQLite refused the first, lock-free attempt."""
        try:
            return _transaction(self._inline, fn)
        except OperationalError as exc:
            if not _busy(exc):
                raise
        self.waited += 1
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, _transaction, self._waiting, fn)

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._inline.dispose()
        self._waiting.dispose()


def _reader_engine(path: str, *, busy_timeout_ms: int, connections: int) -> Engine:
    engine = create_engine(
        URL.create("sqlite", database=path), pool_size=connections, max_overflow=0
    )

    def connect(dbapi_conn: Any, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, begins transactions (see begin).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            cursor.execute("PRAGMA query_only=ON")
        finally:
            cursor.close()

    def begin(conn: Connection) -> None:
        # Deferred: the transaction's first read fixes the snapshot every later read sees.
        conn.exec_driver_sql("BEGIN")

    event.listen(engine, "connect", connect)
    event.listen(engine, "begin", begin)
    return engine


def _transaction(engine: Engine, fn: Callable[[Session], T]) -> T:
    with Session(engine) as session, session.begin():
        return fn(session)


def _busy(exc: OperationalError) -> bool:
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == _SQLITE_BUSY  # extended codes keep the primary in the low byte
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)
