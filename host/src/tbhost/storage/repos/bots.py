"""Bots: strategy, account, symbols, timeframe, a snapshot of the config, and the state."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tbsdk.info import BotInfo, RunMode

from .._types import now_ms
from ..errors import AlreadyExists, NotFound, StorageError
from ..models import AccountRow, BotRow, BotStatus
from ._common import insert, new_id

__all__ = [
    "bot_info",
    "config_hash",
    "create_bot",
    "get_bot",
    "get_bot_by_name",
    "list_bots",
    "mark_deleted",
    "require_bot",
    "set_state",
    "update_config",
]


def _canonical(config: dict[str, Any]) -> str:
    try:
        return json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise StorageError(
            f"a bot config must be plain JSON (dump it with model_dump(mode='json')): {exc}"
        ) from None


def config_hash(config: dict[str, Any]) -> str:
    """SHA-256 of the config's canonical JSON: equal configs hash equal, whatever key order."""
    return hashlib.sha256(_canonical(config).encode()).hexdigest()


async def create_bot(
    session: AsyncSession,
    *,
    name: str,
    strategy: str,
    account_id: str,
    symbols: Sequence[str],
    timeframe: str,
    config: dict[str, Any],
    mode: RunMode | str = RunMode.PAPER,
    created_by: str | None = None,
    bot_id: str | None = None,
    at: int | None = None,
) -> BotRow:
    now = at if at is not None else now_ms()
    row = BotRow(
        id=bot_id or new_id(),
        name=name,
        strategy=strategy,
        account_id=account_id,
        symbols=list(symbols),
        timeframe=timeframe,
        mode=RunMode(mode),
        config=config,
        config_hash=config_hash(config),
        state=BotStatus.CREATED,
        fault_reason=None,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        started_at=None,
        stopped_at=None,
        deleted_at=None,
    )

    async def conflict() -> StorageError | None:
        if await get_bot_by_name(session, name) is not None:
            return AlreadyExists(f"a bot named {name!r} already exists")
        if await session.get(AccountRow, account_id) is None:
            return NotFound(f"no exchange account with id {account_id}")
        return None

    await insert(session, row, what=f"bot {name!r}", conflict=conflict)
    return row


async def get_bot(session: AsyncSession, bot_id: str) -> BotRow | None:
    return await session.get(BotRow, bot_id)


async def require_bot(session: AsyncSession, bot_id: str) -> BotRow:
    row = await get_bot(session, bot_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"no bot with id {bot_id}")
    return row


async def get_bot_by_name(session: AsyncSession, name: str) -> BotRow | None:
    found: BotRow | None = await session.scalar(select(BotRow).where(BotRow.name == name))
    return found


async def list_bots(
    session: AsyncSession,
    *,
    account_id: str | None = None,
    state: BotStatus | str | None = None,
    include_deleted: bool = False,
) -> list[BotRow]:
    stmt = select(BotRow).order_by(BotRow.name)
    if account_id is not None:
        stmt = stmt.where(BotRow.account_id == account_id)
    if state is not None:
        stmt = stmt.where(BotRow.state == BotStatus(state))
    if not include_deleted:
        stmt = stmt.where(BotRow.deleted_at.is_(None))
    return list(await session.scalars(stmt))


async def running_bot_names(session: AsyncSession) -> list[tuple[str, str]]:
    """``(id, name)`` of every bot stored as running (not deleted): what a host polls for,
    without loading a thousand whole rows every few seconds."""
    stmt = select(BotRow.id, BotRow.name).where(
        BotRow.state == BotStatus.RUNNING, BotRow.deleted_at.is_(None)
    )
    return [(bot_id, name) for bot_id, name in await session.execute(stmt.order_by(BotRow.name))]


async def get_bots(session: AsyncSession, bot_ids: Sequence[str]) -> list[BotRow]:
    """The rows of ``bot_ids`` that exist, by name."""
    if not bot_ids:
        return []
    stmt = select(BotRow).where(BotRow.id.in_(bot_ids)).order_by(BotRow.name)
    return list(await session.scalars(stmt))


async def update_config(
    session: AsyncSession,
    bot_id: str,
    config: dict[str, Any],
    *,
    symbols: Sequence[str] | None = None,
    timeframe: str | None = None,
    at: int | None = None,
) -> BotRow:
    """Store a new config snapshot (and optionally symbols and timeframe)."""
    row = await require_bot(session, bot_id)
    row.config = config
    row.config_hash = config_hash(config)
    if symbols is not None:
        row.symbols = list(symbols)
    if timeframe is not None:
        row.timeframe = timeframe
    row.updated_at = at if at is not None else now_ms()
    await session.flush()
    return row


async def set_state(
    session: AsyncSession,
    bot_id: str,
    state: BotStatus | str,
    *,
    reason: str | None = None,
    at: int | None = None,
) -> BotRow:
    """Record the bot's state. Which moves are allowed is the service layer's rule; this
    stores the outcome, with ``reason`` kept only for ``faulted``."""
    row = await require_bot(session, bot_id)
    new = BotStatus(state)
    now = at if at is not None else now_ms()
    if new is BotStatus.RUNNING and row.state is not BotStatus.PAUSED:
        row.started_at = now
    if new is BotStatus.STOPPED:
        row.stopped_at = now
    row.state = new
    row.fault_reason = reason if new is BotStatus.FAULTED else None
    row.updated_at = now
    await session.flush()
    return row


async def mark_deleted(session: AsyncSession, bot_id: str, *, at: int | None = None) -> BotRow:
    """Delete softly: the bot disappears from lists, its history stays referenced."""
    row = await require_bot(session, bot_id)
    row.deleted_at = at if at is not None else now_ms()
    row.updated_at = row.deleted_at
    await session.flush()
    return row


async def bot_info(session: AsyncSession, bot_id: str) -> BotInfo:
    """The SDK's read-only description of the bot, for hooks and strategies."""
    row = await require_bot(session, bot_id)
    account = await session.get(AccountRow, row.account_id)
    assert account is not None, "bots.account_id is a foreign key"
    return BotInfo(
        bot_id=row.id,
        name=row.name,
        strategy=row.strategy,
        exchange=account.exchange,
        account_id=row.account_id,
        symbols=tuple(row.symbols),
        timeframe=row.timeframe,
        mode=row.mode,
    )
