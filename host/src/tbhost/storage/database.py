"""``Database``: the async engine and sessions for one URL, and its migrations.

SQLite (``sqlite+aiosqlite``) is the embedded default, a file under the data directory;
PostgreSQL (``postgresql+asyncpg``) is for production. Both run the same Alembic migrations.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from . import _migrate
from .errors import DatabaseUnavailable, DatabaseUrlError, SchemaOutdated, StorageError

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["Database", "DbStatus", "normalize_url", "open_database"]

log = logging.getLogger(__name__)

# Plain dialect names are accepted and given the async driver the host ships.
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_EXAMPLES = "sqlite+aiosqlite:///path/to/tbhost.db or postgresql+asyncpg://user:pass@host:5432/db"
CONNECT_TIMEOUT_S = 10


def normalize_url(raw: str | URL) -> URL:
    """Parse a database URL and pick the async driver; refuse anything else, clearly."""
    try:
        url = make_url(raw)
    except ArgumentError:
        # The URL may hold a password: do not repeat it.
        raise DatabaseUrlError(f"the database URL is malformed; expected {_EXAMPLES}") from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise DatabaseUrlError(
            f"database URL scheme {url.drivername!r} is not supported; use {_EXAMPLES}"
        )
    return url.set(drivername=driver)


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@dataclass(frozen=True)
class DbStatus:
    """Where a reachable database stands: its migration revision and the one the host needs."""

    url: str
    backend: str
    current: str | None
    head: str

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "backend": self.backend,
            "current": self.current,
            "head": self.head,
            "at_head": self.at_head,
        }


class Database:
    """An async engine and session factory for one database URL."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.backend = "sqlite" if self.url.drivername.startswith("sqlite") else "postgresql"
        self.display_url = self.url.render_as_string(hide_password=True)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.backend == "sqlite":
            path = self.url.database or ""
            if path in ("", ":memory:"):
                # One shared connection: every new connection to :memory: is a new empty db.
                kwargs["poolclass"] = StaticPool
            else:
                folder = Path(path).expanduser().parent
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise DatabaseUnavailable(
                        f"cannot create {folder} for the SQLite database: {exc.strerror or exc}"
                    ) from exc
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"timeout": CONNECT_TIMEOUT_S}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.backend == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_connect)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._sqlite_turns: asyncio.Lock | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(settings.effective_database_url)

    def __repr__(self) -> str:
        return f"Database({self.display_url!r})"

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.dispose()

    async def dispose(self) -> None:
        await self.engine.dispose()

    def session(self) -> AsyncSession:
        """A session; the caller opens its transactions (``async with s.begin():``)."""
        return self.sessions()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed at the end, rolled back on an error.

        On SQLite, transactions take turns: one at a time in this process (an asyncio lock, so
        waiting costs no pooled connection), and each takes the database's write lock as it
        begins (BEGIN IMMEDIATE, waiting out other processes' writers up to the busy timeout).
        A deferred transaction that reads, then writes after another connection committed, is
        refused ("database is locked") whatever the timeout. Do not nest them."""
        if self.backend != "sqlite":
            async with self.sessions() as session, session.begin():
                yield session
            return
        if self._sqlite_turns is None:
            self._sqlite_turns = asyncio.Lock()
        async with self._sqlite_turns, self.engine.connect() as conn:
            conn.info["tbhost.begin"] = "BEGIN IMMEDIATE"
            try:
                async with AsyncSession(bind=conn, expire_on_commit=False) as s, s.begin():
                    yield s
            finally:
                conn.info.pop("tbhost.begin", None)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction for reading only. On SQLite it neither waits for the
        writers' turn nor takes the write lock (WAL readers see the last commit and block
        nobody); a write in it is a bug, refused by SQLite if another writer holds the lock."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection; failing to get one raises :class:`DatabaseUnavailable`."""
        try:
            conn = await self.engine.connect()
        except (SQLAlchemyError, OSError) as exc:
            # The server's refusals (unknown database or role, bad password) arrive wrapped by
            # SQLAlchemy; refused connections, unknown hosts and timeouts as plain OSError.
            raise DatabaseUnavailable(
                f"cannot connect to the database at {self.display_url}: {_reason(exc)}"
            ) from exc
        try:
            yield conn
        finally:
            await conn.close()

    async def upgrade(self, revision: str = "head") -> str | None:
        """Run the migrations up to ``revision``; return the revision the database is at."""
        return await self._migrate(_migrate.upgrade, revision)

    async def downgrade(self, revision: str) -> str | None:
        """Run the migrations down to ``revision`` (``base`` removes every table)."""
        return await self._migrate(_migrate.downgrade, revision)

    async def current_revision(self) -> str | None:
        async with self.connect() as conn:
            return await conn.run_sync(_migrate.current_revision)

    async def status(self) -> DbStatus:
        """Ping the database and read its revision; raises if it cannot be reached."""
        current = await self.current_revision()
        return DbStatus(self.display_url, self.backend, current, _migrate.head_revision())

    async def check(self) -> DbStatus:
        """:meth:`status`, and :class:`SchemaOutdated` unless the database is at the head."""
        status = await self.status()
        if not status.at_head:
            where = "empty (no migrations run)" if status.current is None else status.current
            raise SchemaOutdated(
                f"the database at {self.display_url} is at revision {where}, this host needs "
                f"{status.head}: run `tbhost db upgrade` (or set TBHOST_DATABASE_AUTO_UPGRADE)"
            )
        return status

    async def _migrate(self, step: Callable[[Connection, str], None], revision: str) -> str | None:
        # Alembic keeps its running context in module globals: two migrations interleaved on
        # one event loop would overwrite each other's, so they take turns in this process.
        async with _alembic_turn(), self.connect() as conn:
            return await conn.run_sync(_run_migration, step, revision)


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _alembic_turn() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _turns.get(loop)
    if lock is None:
        lock = _turns[loop] = asyncio.Lock()
    return lock


# Any fixed number: the key of the PostgreSQL advisory lock that serialises migrations.
_MIGRATION_LOCK = 7_461_826_305


def _run_migration(
    conn: Connection, step: Callable[[Connection, str], None], revision: str
) -> str | None:
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old copy
        # would fail or cascade. They go off for the migration (only possible outside a
        # transaction) and every reference is checked before the migration commits.
        _sqlite_pragma(conn, "PRAGMA foreign_keys=OFF")
        conn.info["tbhost.begin"] = "BEGIN IMMEDIATE"
    try:
        # Several hosts or workers may upgrade on start at once: the first migrates, the
        # others wait here, then find the database at the head and do nothing. SQLite's
        # BEGIN IMMEDIATE takes the write lock; PostgreSQL takes an advisory lock that the
        # commit releases. Alembic runs inside this transaction.
        conn.begin()
        if not sqlite:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        step(conn, revision)
        if sqlite:
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise StorageError(
                    f"the migration to {revision} left {len(broken)} broken foreign key(s), "
                    f"first in table {broken[0][0]}; nothing was changed"
                )
        current = _migrate.current_revision(conn)
        conn.commit()
        return current
    except BaseException:
        conn.rollback()
        raise
    finally:
        if sqlite:
            conn.info.pop("tbhost.begin", None)
            _sqlite_pragma(conn, "PRAGMA foreign_keys=ON")


def _sqlite_pragma(conn: Connection, pragma: str) -> None:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (see _sqlite_begin):
    # otherwise SAVEPOINT and transactional DDL do not work.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL: readers do not block the writer; a crash never leaves a half-written page.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql(conn.info.get("tbhost.begin", "BEGIN"))


async def open_database(settings: Settings) -> Database:
    """The host's database at start-up: upgraded first when ``database_auto_upgrade`` is on,
    then checked to be at the migration head (a clear error otherwise)."""
    db = Database.from_settings(settings)
    try:
        if settings.database_auto_upgrade:
            revision = await db.upgrade()
            log.info("database %s upgraded to %s", db.display_url, revision)
        await db.check()
    except BaseException:
        await db.dispose()
        raise
    return db
