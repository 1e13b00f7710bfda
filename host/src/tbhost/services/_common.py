"""What every service shares: the audit write and the translation of storage errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..storage.errors import AlreadyExists
from ..storage.errors import NotFound as StorageNotFound
from ..storage.models import AuditRow, BotRow
from ..storage.repos import audit, bots
from .access import Action, Actor
from .errors import Conflict, NotFound, ServiceError

__all__ = ["record", "require_bot", "translated"]


async def record(
    session: AsyncSession,
    actor: Actor,
    action: Action,
    target_type: str,
    target_id: str | None,
    details: dict[str, Any] | None = None,
) -> AuditRow:
    """The audit entry of a change, in the change's own transaction: both commit or neither.

    Called last in each method, after the change succeeded, so a refused change writes no
    entry; ``details`` never holds a secret."""
    return await audit.record(
        session,
        actor=actor.user_id,
        action=action.value,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )


@contextmanager
def translated() -> Iterator[None]:
    """Storage's NotFound and AlreadyExists, as the service errors the API maps to codes."""
    try:
        yield
    except ServiceError:
        raise
    except StorageNotFound as exc:
        raise NotFound(exc.message) from exc
    except AlreadyExists as exc:
        raise Conflict(exc.message) from exc


async def require_bot(session: AsyncSession, ref: str, *, include_deleted: bool = False) -> BotRow:
    """A bot by id or, failing that, by name (what people type in Telegram). Deleted bots
    are found only with ``include_deleted``: their history stays readable."""

    def usable(row: BotRow | None) -> bool:
        return row is not None and (include_deleted or row.deleted_at is None)

    row = await bots.get_bot(session, ref)
    if not usable(row):
        row = await bots.get_bot_by_name(session, ref)
    if row is None or not usable(row):
        raise NotFound(f"no bot {ref!r}")
    return row
