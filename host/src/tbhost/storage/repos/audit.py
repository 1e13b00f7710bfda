"""The audit log. Append-only: this module can add entries and read them, nothing else.

There is deliberately no update or delete here; the model refuses both at flush time and the
database refuses them with triggers (see the initial migration).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .._types import now_ms
from ..models import SYSTEM_ACTOR, AuditRow
from ._common import paginate

__all__ = ["SYSTEM_ACTOR", "list_entries", "record"]


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
    at: int | None = None,
) -> AuditRow:
    """Append an entry: ``actor`` is a user id or ``SYSTEM_ACTOR``; ``action`` a verb such as
    ``bot.start``; ``details`` what changed (never a secret)."""
    row = AuditRow(
        at=at if at is not None else now_ms(),
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=dict(details or {}),
    )
    session.add(row)
    await session.flush()
    return row


async def list_entries(
    session: AsyncSession,
    *,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: int | None = None,
    until: int | None = None,
    after_id: int | None = None,
    limit: int = 100,
    newest_first: bool = True,
) -> list[AuditRow]:
    """Entries matching every filter given, newest first by default; ``until`` excluded."""
    stmt = select(AuditRow)
    if actor is not None:
        stmt = stmt.where(AuditRow.actor == actor)
    if action is not None:
        stmt = stmt.where(AuditRow.action == action)
    if target_type is not None:
        stmt = stmt.where(AuditRow.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(AuditRow.target_id == target_id)
    if since is not None:
        stmt = stmt.where(AuditRow.at >= since)
    if until is not None:
        stmt = stmt.where(AuditRow.at < until)
    stmt = paginate(stmt, AuditRow.id, after_id=after_id, limit=limit, newest_first=newest_first)
    return list(await session.scalars(stmt))
