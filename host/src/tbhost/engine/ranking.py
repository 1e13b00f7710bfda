"""The backtest service behind ``ctx.request_backtest``: a bot backtests its own strategy
class on one symbol over a recent window of stored candles (to rank symbols, say) and gets a
:class:`~tbsdk.model.BacktestDone` back.

* **Strategy**: the bot's strategy class built from the request's settings (settings it
  refuses come back as an ``error``).
* **Candles**: the bot's own stored candles of that symbol (a :class:`CandleSource`; in a
  backtest and in paper mode the chart series of :class:`~.market_data.StoredMarketData`),
  those that open at or after ``start`` and close at or before ``end`` and **the time of the
  request**: a backtest inside a backtest never sees a candle the bot has not seen yet.
* **Venue**: a fresh simulated account configured like the bot's (same exchange class and
  config: balances, fees, fill rules, position mode), so the bot's own account is untouched.
* **When**: in a backtest, at once, before the next candle, so results are deterministic;
  in paper and live mode in a worker thread, the answer delivered when it is done.

Every failure (no candles, unknown symbol, invalid settings, a fault inside the backtest) is
answered as ``BacktestDone(error=...)``: a ranking request never faults the bot. A backtest run
for the service cannot request backtests itself (its requests are answered with an error).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import numpy as np

from tbsdk import Exchange, RunMode, Strategy
from tbsdk.commands import RequestBacktest
from tbsdk.exchange import SimulatedVenue
from tbsdk.model import BacktestDone, CandleArrays, Instrument
from tbsdk.timeframes import timeframe_ms

from .backtest import run_backtest
from .context import BotContext
from .market_data import StoredMarketData

__all__ = ["BacktestService", "CandleSource", "StoredCandles", "VenueFactory"]

log = logging.getLogger(__name__)

DAY_MS = 86_400_000

_inside = contextvars.ContextVar("tbhost_ranking_backtest", default=False)
"""True while a service backtest runs (in this task or its worker thread)."""


class CandleSource(Protocol):
    """Stored candles the service may backtest on."""

    def series(self, symbol: str) -> tuple[str, CandleArrays] | None:
        """The stored candles of ``symbol`` (oldest first) and their timeframe; None if none.
        The service itself cuts them to the request's window and time."""
        ...


@dataclass(frozen=True)
class StoredCandles:
    """The chart series a backtest or paper bot replays (:class:`StoredMarketData`)."""

    market: StoredMarketData

    def series(self, symbol: str) -> tuple[str, CandleArrays] | None:
        arrays = self.market.chart.get(symbol)
        return None if arrays is None else (self.market.chart_timeframe, arrays)


VenueFactory = Callable[[Instrument], Exchange]
"""A fresh simulated venue listing the instrument, for one backtest."""


def _same_venue(exchange: Exchange) -> VenueFactory | None:
    """A new instance of the bot's simulated exchange with the bot's exchange config."""
    if not isinstance(exchange, SimulatedVenue):
        return None
    return lambda _inst: type(exchange)(exchange.config)


class BacktestService:
    """Runs the backtests one bot requests (module docstring)."""

    def __init__(
        self,
        strategy_class: type[Strategy[Any]],
        *,
        mode: RunMode,
        candles: CandleSource | None,
        instruments: Callable[[str], Instrument],
        venue: VenueFactory | None,
    ) -> None:
        self.strategy_class = strategy_class
        self.mode = mode
        self.candles = candles
        self.instruments = instruments
        self.venue = venue
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def for_bot(
        cls, strategy: Strategy[Any], *, ctx: BotContext, exchange: Exchange
    ) -> BacktestService:
        """The service of the bot ``ctx`` runs for: its stored candles, its instruments and a
        venue like its own."""
        market = ctx.market_data
        return cls(
            type(strategy),
            mode=ctx.mode,
            candles=StoredCandles(market) if isinstance(market, StoredMarketData) else None,
            instruments=ctx.instrument,
            venue=_same_venue(exchange),
        )

    async def run(self, request: RequestBacktest, deliver: Callable[[BacktestDone], None]) -> None:
        """Answer ``request`` through ``deliver``: before returning in a backtest, from a
        worker thread's result otherwise."""
        if self.mode is RunMode.BACKTEST or _inside.get():
            deliver(await self.backtest(request))
            return

        async def in_thread() -> None:
            done = await asyncio.to_thread(asyncio.run, self.backtest(request))
            deliver(done)

        task = asyncio.create_task(in_thread(), name=f"backtest {request.request_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def backtest(self, request: RequestBacktest) -> BacktestDone:
        """The backtest ``request`` asks for, or why it cannot run."""
        try:
            return await self._backtest(request)
        except Exception as exc:  # every failure is an answer, never a fault
            log.warning(
                "backtest %s of %s failed", request.request_id, request.symbol, exc_info=exc
            )
            return self._failed(request, f"{type(exc).__name__}: {exc}")

    async def _backtest(self, request: RequestBacktest) -> BacktestDone:
        symbol = request.symbol
        if _inside.get():
            return self._failed(request, "a backtest run for the service cannot request backtests")
        instrument = self.instruments(symbol)  # an unknown symbol raises: answered as error
        found = self.candles.series(symbol) if self.candles is not None else None
        if found is None:
            return self._failed(request, f"no stored candles of {symbol}")
        timeframe, series = found
        candles = window(series, timeframe, request.start, min(request.end, request.ts))
        if len(candles) == 0:
            return self._failed(
                request,
                f"no {timeframe} candles of {symbol} between {request.start} and "
                f"{min(request.end, request.ts)}",
            )
        if self.venue is None:
            return self._failed(request, "the bot's exchange is not a simulated venue")
        strategy = self.strategy_class.from_settings(request.settings)
        token = _inside.set(True)
        try:
            result = await run_backtest(
                strategy, self.venue(instrument), instrument, candles, timeframe
            )
        finally:
            _inside.reset(token)
        if result.fault is not None:
            return self._failed(request, f"the backtest faulted: {result.fault}")
        return BacktestDone(
            request_id=request.request_id,
            symbol=symbol,
            net_pnl=result.end_equity - result.start_equity,
            trades=len(result.trades),
            quote_volume_24h=quote_volume(candles, timeframe),
        )

    @staticmethod
    def _failed(request: RequestBacktest, error: str) -> BacktestDone:
        return BacktestDone(request_id=request.request_id, symbol=request.symbol, error=error)


def window(candles: CandleArrays, timeframe: str, start: int, end: int) -> CandleArrays:
    """The candles that open at or after ``start`` and close at or before ``end``."""
    ts = candles.ts
    first = int(np.searchsorted(ts, start, "left"))
    stop = int(np.searchsorted(ts, end - timeframe_ms(timeframe), "right"))
    return candles.slice(first, max(first, stop))


def quote_volume(candles: CandleArrays, timeframe: str) -> Decimal:
    """Close x volume summed over the candles of the last 24 hours of ``candles``."""
    close_ts = candles.ts + timeframe_ms(timeframe)
    since = int(close_ts[-1]) - DAY_MS
    first = int(np.searchsorted(close_ts, since, "right"))
    total = float(np.sum(candles.close[first:] * candles.volume[first:]))
    return Decimal(repr(total))
