"""Exchange accounts. Credentials are a Fernet token: encrypted before they reach this row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tbsdk.model import PositionMode

from .._types import StrEnumType
from ._base import Base

__all__ = ["AccountRow"]


class AccountRow(Base):
    __tablename__ = "exchange_accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    exchange: Mapped[str] = mapped_column(String(64), doc="Exchange entry-point name.")
    label: Mapped[str] = mapped_column(String(64), unique=True)
    credentials: Mapped[bytes | None] = mapped_column(
        LargeBinary, doc="Encrypted; None for venues that need no keys (paper)."
    )
    position_mode: Mapped[PositionMode] = mapped_column(StrEnumType(PositionMode, 16))
    options: Mapped[dict[str, Any]] = mapped_column(doc="Venue options, never secrets.")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        # Never show the credentials, not even encrypted.
        return f"AccountRow(id={self.id!r}, exchange={self.exchange!r}, label={self.label!r})"
