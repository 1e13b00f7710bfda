"""Bots (strategy + account + symbols + timeframe) and the strategy state they save."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tbsdk.info import RunMode

from .._types import StrEnumType, id_pk_type
from ._base import Base

__all__ = ["BotRow", "BotStatus", "StrategyStateRow"]


class BotStatus(StrEnum):
    """A bot's lifecycle as stored; ``faulted`` comes with a ``fault_reason``."""

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FAULTED = "faulted"


class BotRow(Base):
    __tablename__ = "bots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    strategy: Mapped[str] = mapped_column(String(64), doc="Strategy entry-point name.")
    account_id: Mapped[str] = mapped_column(ForeignKey("exchange_accounts.id"), index=True)
    symbols: Mapped[list[str]]
    timeframe: Mapped[str] = mapped_column(String(16))
    mode: Mapped[RunMode] = mapped_column(StrEnumType(RunMode, 16))
    config: Mapped[dict[str, Any]] = mapped_column(doc="Validated strategy config, as JSON.")
    config_hash: Mapped[str] = mapped_column(String(64), doc="SHA-256 of the canonical JSON.")
    state: Mapped[BotStatus] = mapped_column(StrEnumType(BotStatus, 16))
    fault_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[int | None] = mapped_column(BigInteger)
    stopped_at: Mapped[int | None] = mapped_column(BigInteger)
    deleted_at: Mapped[int | None] = mapped_column(
        BigInteger, doc="Soft delete: the bot's orders, fills and trades stay referenced."
    )


class StrategyStateRow(Base):
    """One ``save_state`` snapshot; the highest ``seq`` of a bot is the one to resume from."""

    __tablename__ = "strategy_states"
    __table_args__ = (UniqueConstraint("bot_id", "seq"),)

    id: Mapped[int] = mapped_column(id_pk_type(), primary_key=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id"))
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict[str, Any]]
    created_at: Mapped[int] = mapped_column(BigInteger)
    feed_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Open time of the first candle the strategy had not handled yet (None: not recorded)."""
