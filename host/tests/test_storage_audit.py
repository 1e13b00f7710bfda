"""The audit log is append-only on both backends: the repository has no way to change it,
the ORM refuses to flush a change, and the database's triggers refuse raw SQL."""

from __future__ import annotations

import inspect as pyinspect

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from tbhost.storage import AppendOnlyViolation, Database
from tbhost.storage.models import SYSTEM_ACTOR, AuditRow, Role
from tbhost.storage.repos import audit, users


async def _entries(db: Database) -> list[int]:
    async with db.transaction() as s:
        admin = await users.create_user(s, "admin", Role.ADMIN)
        ids = [
            (
                await audit.record(
                    s,
                    actor=admin.id,
                    action="bot.start",
                    target_type="bot",
                    target_id="b1",
                    details={"mode": "live", "symbols": ["BTC/USDT:USDT"]},
                    at=1_000,
                )
            ).id,
            (
                await audit.record(
                    s,
                    actor=SYSTEM_ACTOR,
                    action="bot.fault",
                    target_type="bot",
                    target_id="b1",
                    details={"reason": "on_candle raised"},
                    at=2_000,
                )
            ).id,
            (
                await audit.record(
                    s, actor=admin.id, action="user.create", target_type="user", at=3_000
                )
            ).id,
        ]
    return ids


def test_the_repository_offers_no_update_or_delete() -> None:
    public = {
        name
        for name, value in vars(audit).items()
        if pyinspect.isfunction(value) and value.__module__ == audit.__name__
    }
    assert public == {"record", "list_entries"}
    assert set(audit.__all__) == {"SYSTEM_ACTOR", "record", "list_entries"}


async def test_entries_are_recorded_and_filtered(db: Database) -> None:
    first, second, third = await _entries(db)
    async with db.session() as s:
        newest = await audit.list_entries(s)
        assert [e.id for e in newest] == [third, second, first]
        on_bot = await audit.list_entries(s, target_type="bot", target_id="b1", newest_first=False)
        assert [(e.action, e.actor, e.details) for e in on_bot] == [
            ("bot.start", on_bot[0].actor, {"mode": "live", "symbols": ["BTC/USDT:USDT"]}),
            ("bot.fault", "system", {"reason": "on_candle raised"}),
        ]
        assert [e.id for e in await audit.list_entries(s, since=1_500, until=3_000)] == [second]
        assert [e.id for e in await audit.list_entries(s, limit=1, after_id=second)] == [first]


async def test_the_orm_refuses_to_change_or_delete_an_entry(db: Database) -> None:
    first, *_ = await _entries(db)
    async with db.session() as s:
        row = await s.get(AuditRow, first)
        assert row is not None
        row.action = "bot.stop"
        with pytest.raises(AppendOnlyViolation, match=f"entry {first} cannot be changed"):
            await s.flush()
        await s.rollback()
        row = await s.get(AuditRow, first)
        assert row is not None
        await s.delete(row)
        with pytest.raises(AppendOnlyViolation, match=f"entry {first} cannot be deleted"):
            await s.flush()


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditRow).values(action="forged"),
        delete(AuditRow),
        text("UPDATE audit_log SET actor = 'someone-else'"),
        text("DELETE FROM audit_log"),
    ],
    ids=["orm-update", "orm-delete", "sql-update", "sql-delete"],
)
async def test_the_database_refuses_update_and_delete(db: Database, statement: object) -> None:
    ids = await _entries(db)
    async with db.session() as s:
        with pytest.raises(DBAPIError, match="audit_log is append-only"):
            await s.execute(statement)  # type: ignore[call-overload]
    async with db.session() as s:
        entries = await audit.list_entries(s, newest_first=False)
        assert [(e.id, e.action) for e in entries] == list(
            zip(ids, ["bot.start", "bot.fault", "user.create"], strict=True)
        )


# SQLite has no TRUNCATE; its DELETE without WHERE is refused above.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_truncate_is_refused_on_postgresql(db: Database) -> None:
    assert db.backend == "postgresql"
    await _entries(db)
    async with db.session() as s:
        with pytest.raises(DBAPIError, match="audit_log is append-only: TRUNCATE refused"):
            await s.execute(text("TRUNCATE audit_log"))
