"""Commands a strategy queues through its context, in call order: orders, leverage, and
backtests for the host's backtest service.

The host carries them out after the handler returns; ``tbsdk.testing`` records them instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .model import MarginMode, OrderIntent

__all__ = ["Cancel", "Command", "Replace", "RequestBacktest", "SetLeverage", "Submit"]


@dataclass(frozen=True, slots=True)
class Submit:
    """``ctx.submit(intent)`` was called at ``ts``."""

    intent: OrderIntent
    ts: int


@dataclass(frozen=True, slots=True)
class Cancel:
    """``ctx.cancel(client_order_id)`` was called at ``ts``."""

    client_order_id: str
    ts: int


@dataclass(frozen=True, slots=True)
class Replace:
    """``ctx.replace(old_client_order_id, new)`` was called at ``ts``."""

    old_client_order_id: str
    new: OrderIntent
    ts: int


@dataclass(frozen=True, slots=True)
class SetLeverage:
    """``ctx.set_leverage(symbol, leverage, margin_mode)`` was called at ``ts``."""

    symbol: str
    leverage: Decimal
    margin_mode: MarginMode
    ts: int


@dataclass(frozen=True, slots=True)
class RequestBacktest:
    """``ctx.request_backtest(request_id, symbol, settings, start, end)`` was called at ``ts``.

    .. versionadded:: 1.0
    """

    request_id: str
    symbol: str
    settings: dict[str, Any]
    start: int
    end: int
    ts: int


Command = Submit | Cancel | Replace | SetLeverage | RequestBacktest
"""A command a strategy queued."""
