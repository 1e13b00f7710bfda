"""Reading what was stored after a given row id: the source of the subscriptions.

Subscriptions tail the database, so they see what a trading host in another process writes.
Fills, positions and bot state changes are read through the service layer; order transitions
and notifications have no service method yet, so they are read here, after the same role check
(``trading.read``) the services make for trading data.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ..services import Action, Actor, authorize
from ..storage import Database
from ..storage.models import NotificationRow, OrderEventRow, OrderRow
from ..storage.repos import notifications

__all__ = ["latest_id", "new_notifications", "new_order_events"]


async def latest_id(
    db: Database, actor: Actor, table: type[OrderEventRow | NotificationRow]
) -> int:
    authorize(actor, Action.TRADING_READ)
    async with db.transaction() as s:
        return int(await s.scalar(select(func.max(table.id))) or 0)


async def new_order_events(
    db: Database,
    actor: Actor,
    *,
    after_id: int,
    bot_id: str | None,
    symbol: str | None,
    limit: int,
) -> list[tuple[OrderEventRow, OrderRow]]:
    """Transitions stored after ``after_id``, oldest first, each with its order as it is now."""
    authorize(actor, Action.TRADING_READ)
    stmt = (
        select(OrderEventRow, OrderRow)
        .join(OrderRow, OrderRow.id == OrderEventRow.order_id)
        .where(OrderEventRow.id > after_id)
    )
    if bot_id is not None:
        stmt = stmt.where(OrderRow.bot_id == bot_id)
    if symbol is not None:
        stmt = stmt.where(OrderRow.symbol == symbol)
    async with db.transaction() as s:
        rows = (await s.execute(stmt.order_by(OrderEventRow.id).limit(limit))).all()
    return [(event, order) for event, order in rows]


async def new_notifications(
    db: Database,
    actor: Actor,
    *,
    after_id: int,
    bot_id: str | None,
    kind: str | None,
    limit: int,
) -> list[NotificationRow]:
    authorize(actor, Action.TRADING_READ)
    async with db.transaction() as s:
        return await notifications.list_notifications(
            s, bot_id=bot_id, kind=kind, after_id=after_id, limit=limit, newest_first=False
        )
