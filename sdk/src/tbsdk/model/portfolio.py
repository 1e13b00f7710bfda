"""Positions, balances and round-trip trades."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from ._base import FrozenModel
from .enums import MarginMode, PositionSide

__all__ = ["Balance", "Direction", "Position", "Trade"]


class Direction(StrEnum):
    """Long or short exposure."""

    LONG = "long"
    SHORT = "short"


class Position(FrozenModel):
    """Open exposure on one symbol and book. ``size`` is in contracts and never negative; the
    direction says which way it points. A flat position has size 0."""

    symbol: str
    position_side: PositionSide = PositionSide.NET
    direction: Direction = Direction.LONG
    size: Decimal = Field(default=Decimal(0), ge=0)
    entry_price: Decimal | None = Field(default=None, description="Average entry price.")
    contract_size: Decimal = Field(default=Decimal(1), gt=0)
    realized_pnl: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)
    leverage: Decimal = Field(default=Decimal(1), gt=0)
    margin_mode: MarginMode = MarginMode.CROSS
    liquidation_price: Decimal | None = None
    updated_at: int = 0

    @property
    def is_flat(self) -> bool:
        return self.size == 0

    @property
    def signed_size(self) -> Decimal:
        return self.size if self.direction is Direction.LONG else -self.size

    def pnl_at(self, price: Decimal) -> Decimal:
        """Unrealised PnL (quote currency, linear contracts) if marked at ``price``."""
        if self.entry_price is None or self.is_flat:
            return Decimal(0)
        return (price - self.entry_price) * self.signed_size * self.contract_size


class Balance(FrozenModel):
    """Holdings of one currency: ``total = free + used``."""

    currency: str
    total: Decimal
    free: Decimal
    used: Decimal = Decimal(0)


class Trade(FrozenModel):
    """A round trip: a position opened and closed again, with its net result."""

    symbol: str
    direction: Direction
    qty: Decimal = Field(gt=0, description="Largest size held, contracts.")
    entry_price: Decimal
    exit_price: Decimal
    opened_at: int
    closed_at: int
    pnl: Decimal = Field(description="Realised PnL after fees, quote currency.")
    fees: Decimal = Decimal(0)
    exit_reason: str = ""
