"""Migrations on SQLite and PostgreSQL: up, down, up again; the models match them; the
database reports where it stands; bad URLs and unreachable servers are clear errors."""

from __future__ import annotations

import asyncio
import socket
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import URL

from tbhost.settings import Settings
from tbhost.storage import (
    Database,
    DatabaseUnavailable,
    DatabaseUrlError,
    SchemaOutdated,
    open_database,
)
from tbhost.storage._migrate import diff_with_models, head_revision
from tbhost.storage.models import Base

TABLES = set(Base.metadata.tables)


async def _tables(db: Database) -> set[str]:
    async with db.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
    return set(names) - {"alembic_version"}


async def test_upgrade_downgrade_and_upgrade_again(empty_db: Database) -> None:
    assert await empty_db.current_revision() is None
    assert await _tables(empty_db) == set()

    assert await empty_db.upgrade() == head_revision()
    assert await _tables(empty_db) == TABLES
    assert await empty_db.upgrade() == head_revision()  # running it again changes nothing

    assert await empty_db.downgrade("base") is None
    assert await _tables(empty_db) == set()

    assert await empty_db.upgrade() == head_revision()
    assert await _tables(empty_db) == TABLES
    assert (await empty_db.check()).at_head


async def test_models_match_the_migrations(db: Database) -> None:
    async with db.connect() as conn:
        diffs = await conn.run_sync(diff_with_models)
    assert diffs == []


async def test_check_says_what_to_do_when_not_at_head(empty_db: Database) -> None:
    status = await empty_db.status()
    assert (status.current, status.head, status.at_head) == (None, head_revision(), False)
    with pytest.raises(SchemaOutdated, match=r"empty \(no migrations run\).*tbhost db upgrade"):
        await empty_db.check()
    await empty_db.upgrade()
    assert (await empty_db.check()).current == head_revision()


async def test_open_database_upgrades_only_when_asked(db_url: URL) -> None:
    url = db_url.render_as_string(hide_password=False)
    with pytest.raises(SchemaOutdated):
        await open_database(Settings(database_url=url))
    db = await open_database(Settings(database_url=url, database_auto_upgrade=True))
    try:
        assert (await db.check()).at_head
    finally:
        await db.dispose()


async def test_sqlite_enforces_foreign_keys_and_uses_wal(tmp_path: object) -> None:
    async with Database(f"sqlite+aiosqlite:///{tmp_path}/x.db") as db, db.connect() as conn:
        fk = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        journal = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
    assert (fk, journal) == (1, "wal")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_unreachable_server_is_a_clear_error_without_the_password() -> None:
    url = f"postgresql://tb:hunter2secret@127.0.0.1:{_free_port()}/tb"
    async with Database(url) as db:
        with pytest.raises(DatabaseUnavailable) as info:
            await db.check()
    message = info.value.message
    assert message.startswith("cannot connect to the database at postgresql+asyncpg://tb:***@")
    assert "hunter2secret" not in message
    assert info.value.retryable


async def test_unknown_database_on_a_real_server_is_a_clear_error(postgres_server: URL) -> None:
    async with Database(postgres_server.set(database="no_such_db")) as db:
        with pytest.raises(DatabaseUnavailable, match='database "no_such_db" does not exist'):
            await db.upgrade()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:p@h/db", "scheme 'mysql' is not supported"),
        ("not a url at all", "the database URL is malformed"),
    ],
)
def test_bad_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(DatabaseUrlError, match=message):
        Database(url)


def test_plain_scheme_gets_the_async_driver(tmp_path: object) -> None:
    assert Database("postgresql://u@h/db").url.drivername == "postgresql+asyncpg"
    assert Database(f"sqlite:///{tmp_path}/a.db").url.drivername == "sqlite+aiosqlite"


_UPGRADE = """
import asyncio, sys
from tbhost.storage import Database

async def main():
    async with Database(sys.argv[1]) as db:
        print(await db.upgrade())

asyncio.run(main())
"""


async def test_hosts_upgrading_at_once_migrate_once(db_url: URL) -> None:
    """Workers that all upgrade on start: one migrates, the others wait and find the head."""
    url = db_url.render_as_string(hide_password=False)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _UPGRADE, url, stdout=PIPE, stderr=PIPE
        )
        for _ in range(3)
    ]
    results = [await p.communicate() for p in procs]
    assert [
        (p.returncode, err.decode()[-300:]) for p, (_, err) in zip(procs, results, strict=True)
    ] == [(0, "")] * 3
    assert {out.decode().strip() for out, _ in results} == {head_revision()}
    async with Database(db_url) as db:
        assert await _tables(db) == TABLES


async def test_migrations_on_one_event_loop_take_turns(tmp_path: Path) -> None:
    many = [Database(f"sqlite+aiosqlite:///{tmp_path}/{i}.db") for i in range(3)]
    try:
        assert await asyncio.gather(*(db.upgrade() for db in many)) == [head_revision()] * 3
    finally:
        await asyncio.gather(*(db.dispose() for db in many))


async def test_in_memory_sqlite_keeps_one_database() -> None:
    # Every new connection to :memory: would be a new empty database; the engine keeps one.
    async with Database("sqlite+aiosqlite://") as db:
        await db.upgrade()
        async with db.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        assert (await db.check()).at_head
        assert await _tables(db) == TABLES


async def test_upgrade_from_the_previous_revision_keeps_the_data(empty_db: Database) -> None:
    """A database at 0001 holding a bot and its saved states upgrades to the head: the states
    are kept as they were, with no feed position (they resume at the venue's clock)."""
    from sqlalchemy import JSON, column, select, table

    from tbhost.storage.repos import accounts, bots, states
    from tbsdk.model import PositionMode

    assert await empty_db.upgrade("0001") == "0001"
    old_states = table(
        "strategy_states",
        column("bot_id"),
        column("seq"),
        column("state", JSON),
        column("created_at"),
    )
    async with empty_db.transaction() as s:
        account = await accounts.create_account(
            s, exchange="paper", label="main", position_mode=PositionMode.ONE_WAY, at=1
        )
        bot = await bots.create_bot(
            s,
            name="grid-1",
            strategy="grid",
            account_id=account.id,
            symbols=["BTC/USDT"],
            timeframe="1m",
            config={"grid_count": 30},
        )
        for seq in (1, 2):
            await s.execute(
                old_states.insert().values(
                    bot_id=bot.id, seq=seq, state={"levels": [seq, "65000.5"]}, created_at=seq
                )
            )

    assert await empty_db.upgrade() == head_revision()
    async with empty_db.transaction() as s:
        latest = await states.latest_state(s, bot.id)
        assert latest == states.SavedState(2, {"levels": [2, "65000.5"]}, 2, None)
        stored = await bots.get_bot(s, bot.id)
        assert stored is not None
        assert (stored.name, stored.config) == ("grid-1", {"grid_count": 30})
        assert await states.save_state(s, bot.id, {"levels": []}, feed_ts=1_700_000_060_000) == 3
        rows = (await s.execute(select(old_states.c.seq).order_by(old_states.c.seq))).all()
        assert [r.seq for r in rows] == [1, 2, 3]
    async with empty_db.transaction() as s:
        latest = await states.latest_state(s, bot.id)
        assert latest is not None
        assert (latest.seq, latest.feed_ts) == (3, 1_700_000_060_000)
