"""``AuditService``: reading the audit log (writing happens inside each change)."""

from __future__ import annotations

from ..storage import Database
from ..storage.repos import audit
from .access import Action, Actor, authorize
from .views import AuditEntry, Page

__all__ = ["AuditService"]


class AuditService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(
        self,
        actor: Actor,
        *,
        actor_id: str | None = None,
        action: str | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        since: int | None = None,
        until: int | None = None,
        after_id: int | None = None,
        limit: int = 100,
        newest_first: bool = True,
    ) -> Page[AuditEntry]:
        """Entries matching every filter, newest first by default; ``actor_id`` filters on
        who acted (a user id or ``system``)."""
        authorize(actor, Action.AUDIT_READ)
        async with self._db.read() as s:
            rows = await audit.list_entries(
                s,
                actor=actor_id,
                action=action,
                target_type=target_type,
                target_id=target_id,
                since=since,
                until=until,
                after_id=after_id,
                limit=limit,
                newest_first=newest_first,
            )
        full = bool(rows) and len(rows) == limit
        return Page([AuditEntry.of(r) for r in rows], rows[-1].id if full else None)
