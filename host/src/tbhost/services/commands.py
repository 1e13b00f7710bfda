"""Requests the running host carries out, kept in the audit log: closing a bot's positions.

Choice: no table of its own (the schema is not this layer's to change). A request *is* its
audit entry (action ``bot.close_positions``, target the bot), written in the same transaction
as any other change, so it is durable and attributed by construction. The host (the bot
runner) asks :func:`pending_close_requests`, closes the positions, and appends
``bot.close_positions.done`` naming the request, as the system actor. Both are append-only,
so a request is never lost or silently edited; one that a crash interrupted stays pending
and is picked up again on the next start.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..storage.models import SYSTEM_ACTOR, AuditRow
from ..storage.repos import audit
from ..storage.repos._common import MAX_LIMIT
from .access import Action
from .errors import Conflict, NotFound
from .views import CloseRequest

__all__ = ["CLOSE_DONE", "complete_close_request", "pending_close_requests"]

CLOSE_REQUEST = Action.BOT_CLOSE_POSITIONS.value
CLOSE_DONE = "bot.close_positions.done"


async def _entries(session: AsyncSession, action: str, bot_id: str | None) -> list[AuditRow]:
    rows: list[AuditRow] = []
    after: int | None = None
    while True:
        page = await audit.list_entries(
            session,
            action=action,
            target_type="bot",
            target_id=bot_id,
            after_id=after,
            limit=MAX_LIMIT,
            newest_first=False,
        )
        rows.extend(page)
        if len(page) < MAX_LIMIT:
            return rows
        after = page[-1].id


def _request(row: AuditRow) -> CloseRequest:
    assert row.target_id is not None, "close requests always name their bot"
    return CloseRequest(row.id, row.target_id, row.actor, row.at)


async def pending_close_requests(
    session: AsyncSession, bot_id: str | None = None
) -> list[CloseRequest]:
    """Requests not yet completed, oldest first (of one bot, or of every bot)."""
    done = {row.details.get("request_id") for row in await _entries(session, CLOSE_DONE, bot_id)}
    return [
        _request(row)
        for row in await _entries(session, CLOSE_REQUEST, bot_id)
        if row.id not in done
    ]


async def complete_close_request(
    session: AsyncSession,
    request_id: int,
    *,
    outcome: str,
    details: dict[str, Any] | None = None,
) -> AuditRow:
    """Mark a request carried out (``outcome`` e.g. ``closed``, ``nothing_open``, ``failed``),
    as the system actor; the host calls this in the transaction that stores the result."""
    row = await session.get(AuditRow, request_id)
    if row is None or row.action != CLOSE_REQUEST:
        raise NotFound(f"no close request {request_id}")
    request = _request(row)
    if request not in await pending_close_requests(session, request.bot_id):
        raise Conflict(f"close request {request_id} is already completed")
    return await audit.record(
        session,
        actor=SYSTEM_ACTOR,
        action=CLOSE_DONE,
        target_type="bot",
        target_id=request.bot_id,
        details={**(details or {}), "request_id": request_id, "outcome": outcome},
    )
