"""Notifications waiting for (or done with) delivery by a notifier."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .._types import now_ms
from ..errors import NotFound
from ..models import NotificationRow
from ._common import paginate

__all__ = [
    "add_notification",
    "list_notifications",
    "mark_delivered",
    "mark_failed",
    "pending_notifications",
]


async def add_notification(
    session: AsyncSession,
    *,
    kind: str,
    message: str,
    data: dict[str, Any] | None = None,
    bot_id: str | None = None,
    at: int | None = None,
) -> NotificationRow:
    row = NotificationRow(
        bot_id=bot_id,
        kind=kind,
        message=message,
        data=dict(data or {}),
        created_at=at if at is not None else now_ms(),
        delivered_at=None,
        attempts=0,
        last_error=None,
    )
    session.add(row)
    await session.flush()
    return row


async def pending_notifications(
    session: AsyncSession, *, max_attempts: int | None = None, limit: int = 100
) -> list[NotificationRow]:
    """Undelivered notifications, oldest first; ``max_attempts`` leaves out those that failed
    that often."""
    stmt = select(NotificationRow).where(NotificationRow.delivered_at.is_(None))
    if max_attempts is not None:
        stmt = stmt.where(NotificationRow.attempts < max_attempts)
    return list(await session.scalars(stmt.order_by(NotificationRow.id).limit(limit)))


async def _require(session: AsyncSession, notification_id: int) -> NotificationRow:
    row = await session.get(NotificationRow, notification_id)
    if row is None:
        raise NotFound(f"no notification with id {notification_id}")
    return row


async def mark_delivered(
    session: AsyncSession, notification_id: int, *, at: int | None = None
) -> NotificationRow:
    row = await _require(session, notification_id)
    row.attempts += 1
    row.delivered_at = at if at is not None else now_ms()
    row.last_error = None
    await session.flush()
    return row


async def mark_failed(session: AsyncSession, notification_id: int, error: str) -> NotificationRow:
    row = await _require(session, notification_id)
    row.attempts += 1
    row.last_error = error
    await session.flush()
    return row


async def list_notifications(
    session: AsyncSession,
    *,
    bot_id: str | None = None,
    kind: str | None = None,
    since: int | None = None,
    after_id: int | None = None,
    limit: int = 100,
    newest_first: bool = True,
) -> list[NotificationRow]:
    stmt = select(NotificationRow)
    if bot_id is not None:
        stmt = stmt.where(NotificationRow.bot_id == bot_id)
    if kind is not None:
        stmt = stmt.where(NotificationRow.kind == kind)
    if since is not None:
        stmt = stmt.where(NotificationRow.created_at >= since)
    stmt = paginate(
        stmt, NotificationRow.id, after_id=after_id, limit=limit, newest_first=newest_first
    )
    return list(await session.scalars(stmt))
