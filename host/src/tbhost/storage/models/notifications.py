"""Notifications for operators, kept until a notifier has delivered them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .._types import id_pk_type
from ._base import Base

__all__ = ["NotificationRow"]


class NotificationRow(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(id_pk_type(), primary_key=True)
    bot_id: Mapped[str | None] = mapped_column(ForeignKey("bots.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), doc="e.g. 'fill', 'fault', 'daily_pnl'.")
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    created_at: Mapped[int] = mapped_column(BigInteger)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger, index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
