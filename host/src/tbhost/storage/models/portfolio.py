"""The latest position per bot, symbol and book; closed round-trip trades."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tbsdk.model import Direction, MarginMode, PositionSide

from .._types import StrEnumType, id_pk_type
from ._base import Base

__all__ = ["PositionRow", "TradeRow"]


class PositionRow(Base):
    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("bot_id", "symbol", "position_side"),)

    id: Mapped[int] = mapped_column(id_pk_type(), primary_key=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("exchange_accounts.id"))
    symbol: Mapped[str] = mapped_column(String(64))
    position_side: Mapped[PositionSide] = mapped_column(StrEnumType(PositionSide, 8))
    direction: Mapped[Direction] = mapped_column(StrEnumType(Direction, 8))
    size: Mapped[Decimal]
    entry_price: Mapped[Decimal | None]
    contract_size: Mapped[Decimal]
    realized_pnl: Mapped[Decimal]
    unrealized_pnl: Mapped[Decimal]
    leverage: Mapped[Decimal]
    margin_mode: Mapped[MarginMode] = mapped_column(StrEnumType(MarginMode, 16))
    liquidation_price: Mapped[Decimal | None]
    updated_at: Mapped[int] = mapped_column(BigInteger)


class TradeRow(Base):
    __tablename__ = "trades"
    __table_args__ = (Index("ix_trades_bot_id_closed_at", "bot_id", "closed_at"),)

    id: Mapped[int] = mapped_column(id_pk_type(), primary_key=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("exchange_accounts.id"))
    symbol: Mapped[str] = mapped_column(String(64))
    direction: Mapped[Direction] = mapped_column(StrEnumType(Direction, 8))
    qty: Mapped[Decimal]
    entry_price: Mapped[Decimal]
    exit_price: Mapped[Decimal]
    opened_at: Mapped[int] = mapped_column(BigInteger)
    closed_at: Mapped[int] = mapped_column(BigInteger)
    pnl: Mapped[Decimal]
    fees: Mapped[Decimal]
    exit_reason: Mapped[str] = mapped_column(String(64))
