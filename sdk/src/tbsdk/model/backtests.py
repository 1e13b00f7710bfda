"""The answer of the host's backtest service to ``ctx.request_backtest`` (ranking)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from ._base import FrozenModel

__all__ = ["BacktestDone"]


class BacktestDone(FrozenModel):
    """A backtest asked for with ``ctx.request_backtest`` has finished (or could not run).

    Delivered to :meth:`~tbsdk.Strategy.on_backtest_done` once per request. On success
    ``error`` is None; on failure (no candles in the window, settings the strategy refuses, a
    fault inside the backtest) ``error`` says why and the figures are zero.

    .. versionadded:: 1.0
    """

    request_id: str
    """The id the strategy gave the request."""
    symbol: str
    net_pnl: Decimal = Decimal(0)
    """Net result of the backtest in the settlement currency, after fees: the account's
    equity at the end of the window minus at its start, so positions still open are valued at
    the last close of the window."""
    trades: int = Field(default=0, ge=0)
    """Round trips the backtest closed."""
    quote_volume_24h: Decimal | None = None
    """Traded quote volume of ``symbol`` over the last 24 hours of the window (the host's
    service sums close x volume of those candles); None when unknown (and on errors)."""
    error: str | None = None
