"""Orders (the stored intent and its state), every state transition, and fills."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tbsdk.model import (
    Liquidity,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    TimeInForce,
)

from .._types import StrEnumType, id_pk_type
from ._base import Base

__all__ = ["FillRow", "OrderEventRow", "OrderRow"]


class OrderRow(Base):
    """An order intent as stored before it is sent, and its state since.

    ``(account_id, client_order_id)`` is unique: storing the same intent twice is refused,
    which is what makes a re-submission after a crash idempotent.
    """

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "client_order_id"),
        Index("ix_orders_account_id_exchange_order_id", "account_id", "exchange_order_id"),
        Index("ix_orders_bot_id_symbol", "bot_id", "symbol"),
    )

    id: Mapped[int] = mapped_column(id_pk_type(), primary_key=True)
    bot_id: Mapped[str | None] = mapped_column(ForeignKey("bots.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("exchange_accounts.id"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    exchange_order_id: Mapped[str | None] = mapped_column(String(128))
    tag: Mapped[str] = mapped_column(String(64), doc="Purpose: entry, tp1, stop, ...")
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[OrderSide] = mapped_column(StrEnumType(OrderSide, 8))
    type: Mapped[OrderType] = mapped_column(StrEnumType(OrderType, 24))
    qty: Mapped[Decimal]
    price: Mapped[Decimal | None]
    trigger_price: Mapped[Decimal | None]
    position_side: Mapped[PositionSide] = mapped_column(StrEnumType(PositionSide, 8))
    reduce_only: Mapped[bool]
    close_position: Mapped[bool]
    post_only: Mapped[bool]
    time_in_force: Mapped[TimeInForce] = mapped_column(StrEnumType(TimeInForce, 8))
    status: Mapped[OrderStatus] = mapped_column(StrEnumType(OrderStatus, 24), index=True)
    filled_qty: Mapped[Decimal]
    avg_fill_price: Mapped[Decimal | None]
    fee: Mapped[Decimal]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class OrderEventRow(Base):
    """One status transition; ``seq`` numbers an order's transitions from 1 in order."""

    __tablename__ = "order_events"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[int] = mapped_column(id_pk_type(), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    seq: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[OrderStatus | None] = mapped_column(StrEnumType(OrderStatus, 24))
    to_status: Mapped[OrderStatus] = mapped_column(StrEnumType(OrderStatus, 24))
    at: Mapped[int] = mapped_column(BigInteger)
    filled_qty: Mapped[Decimal]
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(doc="Raw exchange answer, if any.")


class FillRow(Base):
    """One execution. ``(order_id, trade_id)`` is unique, so a re-delivered fill counts once."""

    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("order_id", "trade_id"),
        Index("ix_fills_bot_id_ts", "bot_id", "ts"),
    )

    id: Mapped[int] = mapped_column(id_pk_type(), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    bot_id: Mapped[str | None] = mapped_column(ForeignKey("bots.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("exchange_accounts.id"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    exchange_order_id: Mapped[str | None] = mapped_column(String(128))
    trade_id: Mapped[str] = mapped_column(String(128))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[OrderSide] = mapped_column(StrEnumType(OrderSide, 8))
    position_side: Mapped[PositionSide] = mapped_column(StrEnumType(PositionSide, 8))
    qty: Mapped[Decimal]
    price: Mapped[Decimal]
    fee: Mapped[Decimal]
    fee_currency: Mapped[str] = mapped_column(String(16))
    liquidity: Mapped[Liquidity] = mapped_column(StrEnumType(Liquidity, 8))
    ts: Mapped[int] = mapped_column(BigInteger)
