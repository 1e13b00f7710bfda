"""Strategy state snapshots (``save_state``), so a restarted bot resumes exactly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .._types import now_ms
from ..errors import AlreadyExists, StorageError
from ..models import StrategyStateRow
from ._common import insert

__all__ = ["SavedState", "latest_state", "prune_states", "save_state"]


@dataclass(frozen=True)
class SavedState:
    seq: int
    state: dict[str, Any]
    created_at: int
    feed_ts: int | None = None
    """Open time of the first candle the strategy had not handled (where its feed resumes)."""


async def save_state(
    session: AsyncSession,
    bot_id: str,
    state: dict[str, Any],
    *,
    at: int | None = None,
    feed_ts: int | None = None,
) -> int:
    """Store a snapshot (``feed_ts``: where the bot's feed resumes); returns its sequence
    number (1, 2, ... per bot)."""
    last = await session.scalar(
        select(func.max(StrategyStateRow.seq)).where(StrategyStateRow.bot_id == bot_id)
    )
    seq = (last or 0) + 1
    row = StrategyStateRow(
        bot_id=bot_id,
        seq=seq,
        state=state,
        created_at=at if at is not None else now_ms(),
        feed_ts=feed_ts,
    )

    async def conflict() -> StorageError | None:
        # Two writers for one bot: bot steps are serialised per bot, so this is a bug.
        return AlreadyExists(f"bot {bot_id} saved state {seq} twice at the same time")

    await insert(session, row, what=f"the state of bot {bot_id}", conflict=conflict)
    return seq


async def latest_state(session: AsyncSession, bot_id: str) -> SavedState | None:
    row = await session.scalar(
        select(StrategyStateRow)
        .where(StrategyStateRow.bot_id == bot_id)
        .order_by(StrategyStateRow.seq.desc())
        .limit(1)
    )
    return None if row is None else SavedState(row.seq, row.state, row.created_at, row.feed_ts)


async def prune_states(session: AsyncSession, bot_id: str, *, keep: int = 10) -> int:
    """Delete all but the newest ``keep`` snapshots of the bot; returns how many went."""
    if keep < 1:
        raise ValueError("keep at least the latest state")
    newest = await session.scalar(
        select(func.max(StrategyStateRow.seq)).where(StrategyStateRow.bot_id == bot_id)
    )
    if newest is None:
        return 0
    result = await session.execute(
        delete(StrategyStateRow).where(
            StrategyStateRow.bot_id == bot_id, StrategyStateRow.seq <= newest - keep
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
