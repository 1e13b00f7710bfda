"""The audit log: who did what to which object, and when. Rows are only ever added."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Index, String, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from .._types import id_pk_type
from ..errors import AppendOnlyViolation
from ._base import Base

__all__ = ["SYSTEM_ACTOR", "AuditRow"]

SYSTEM_ACTOR = "system"
"""The actor of actions nobody asked for: start-up reconciliation, a fault, a scheduled job."""


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(id_pk_type(), primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True, doc="User id or 'system'.")
    action: Mapped[str] = mapped_column(String(64), doc="Verb, e.g. 'bot.start'.")
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]


# The ORM refuses first, with a clear error; the database triggers (in the migration) refuse
# whatever reaches SQL another way.
@event.listens_for(AuditRow, "before_update")
def _refuse_update(_mapper: Mapper[AuditRow], _conn: Any, row: AuditRow) -> None:
    raise AppendOnlyViolation(f"the audit log is append-only: entry {row.id} cannot be changed")


@event.listens_for(AuditRow, "before_delete")
def _refuse_delete(_mapper: Mapper[AuditRow], _conn: Any, row: AuditRow) -> None:
    raise AppendOnlyViolation(f"the audit log is append-only: entry {row.id} cannot be deleted")
