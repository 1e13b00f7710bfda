"""Positions (the latest per bot, symbol and book) and closed round-trip trades."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tbsdk.model import Position, PositionSide, Trade

from ..errors import AlreadyExists, StorageError
from ..models import PositionRow, TradeRow
from ._common import filtered, insert, paginate

__all__ = [
    "add_trade",
    "count_trades",
    "get_position",
    "list_positions",
    "list_trades",
    "save_position",
    "to_position",
    "to_trade",
    "trade_values",
]


async def save_position(
    session: AsyncSession, *, bot_id: str, account_id: str, position: Position
) -> PositionRow:
    """Store the position as the latest for its bot, symbol and book (a flat one included)."""
    row = await session.scalar(
        select(PositionRow).where(
            PositionRow.bot_id == bot_id,
            PositionRow.symbol == position.symbol,
            PositionRow.position_side == position.position_side,
        )
    )
    fields = {
        "account_id": account_id,
        "direction": position.direction,
        "size": position.size,
        "entry_price": position.entry_price,
        "contract_size": position.contract_size,
        "realized_pnl": position.realized_pnl,
        "unrealized_pnl": position.unrealized_pnl,
        "leverage": position.leverage,
        "margin_mode": position.margin_mode,
        "liquidation_price": position.liquidation_price,
        "updated_at": position.updated_at,
    }
    if row is not None:
        for name, value in fields.items():
            setattr(row, name, value)
        await session.flush()
        return row
    row = PositionRow(
        bot_id=bot_id, symbol=position.symbol, position_side=position.position_side, **fields
    )

    async def conflict() -> StorageError | None:
        # Bot steps are serialised per bot; a clash means two writers for one bot.
        return AlreadyExists(f"position {position.symbol} of bot {bot_id} written twice at once")

    await insert(session, row, what=f"position {position.symbol}", conflict=conflict)
    return row


async def get_position(
    session: AsyncSession,
    bot_id: str,
    symbol: str,
    position_side: PositionSide = PositionSide.NET,
) -> Position | None:
    row = await session.scalar(
        select(PositionRow).where(
            PositionRow.bot_id == bot_id,
            PositionRow.symbol == symbol,
            PositionRow.position_side == position_side,
        )
    )
    return None if row is None else to_position(row)


async def list_positions(
    session: AsyncSession,
    *,
    bot_id: str | None = None,
    account_id: str | None = None,
    open_only: bool = False,
) -> list[PositionRow]:
    stmt = select(PositionRow)
    if bot_id is not None:
        stmt = stmt.where(PositionRow.bot_id == bot_id)
    if account_id is not None:
        stmt = stmt.where(PositionRow.account_id == account_id)
    rows = list(await session.scalars(stmt.order_by(PositionRow.id)))
    # Sizes are text on SQLite, so "not flat" is decided here rather than in SQL.
    return [r for r in rows if r.size != 0] if open_only else rows


def to_position(row: PositionRow | Row[Any]) -> Position:
    """The SDK position of a stored row (an ORM row, or a Core row of the same columns)."""
    return Position(
        symbol=row.symbol,
        position_side=row.position_side,
        direction=row.direction,
        size=row.size,
        entry_price=row.entry_price,
        contract_size=row.contract_size,
        realized_pnl=row.realized_pnl,
        unrealized_pnl=row.unrealized_pnl,
        leverage=row.leverage,
        margin_mode=row.margin_mode,
        liquidation_price=row.liquidation_price,
        updated_at=row.updated_at,
    )


def trade_values(bot_id: str, account_id: str, trade: Trade) -> dict[str, Any]:
    """The columns of a stored round trip."""
    return {
        "bot_id": bot_id,
        "account_id": account_id,
        "symbol": trade.symbol,
        "direction": trade.direction,
        "qty": trade.qty,
        "entry_price": trade.entry_price,
        "exit_price": trade.exit_price,
        "opened_at": trade.opened_at,
        "closed_at": trade.closed_at,
        "pnl": trade.pnl,
        "fees": trade.fees,
        "exit_reason": trade.exit_reason,
    }


async def add_trade(
    session: AsyncSession, *, bot_id: str, account_id: str, trade: Trade
) -> TradeRow:
    row = TradeRow(**trade_values(bot_id, account_id, trade))
    session.add(row)
    await session.flush()
    return row


async def count_trades(session: AsyncSession, bot_id: str) -> int:
    """How many round trips of the bot are stored."""
    found = await session.scalar(
        select(func.count()).select_from(TradeRow).where(TradeRow.bot_id == bot_id)
    )
    return int(found or 0)


async def list_trades(
    session: AsyncSession,
    *,
    bot_id: str | None = None,
    account_id: str | None = None,
    symbol: str | None = None,
    since: int | None = None,
    until: int | None = None,
    after_id: int | None = None,
    limit: int = 100,
    newest_first: bool = False,
) -> list[TradeRow]:
    """Trades matching every filter given; ``since``/``until`` bound ``closed_at``
    (``until`` excluded)."""
    equal = {TradeRow.bot_id: bot_id, TradeRow.account_id: account_id, TradeRow.symbol: symbol}
    stmt = filtered(select(TradeRow), equal, TradeRow.closed_at, since, until)
    stmt = paginate(stmt, TradeRow.id, after_id=after_id, limit=limit, newest_first=newest_first)
    return list(await session.scalars(stmt))


def to_trade(row: TradeRow) -> Trade:
    return Trade(
        symbol=row.symbol,
        direction=row.direction,
        qty=row.qty,
        entry_price=row.entry_price,
        exit_price=row.exit_price,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        pnl=row.pnl,
        fees=row.fees,
        exit_reason=row.exit_reason,
    )
