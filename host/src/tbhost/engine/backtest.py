"""Backtests: the bot runner on a simulated clock, against a simulated venue, over stored candles.

Per chart candle, in this order (DESIGN.md §3, strategy specs §3.1):

1. the venue matches resting orders against the candle; the fills, order updates and position
   changes it reports are delivered first, stamped with the candle's close time;
2. the clock moves to the candle's close; timers due by then fire, earliest first;
3. every subscribed timeframe whose candle has just closed delivers it, highest timeframe first,
   the chart timeframe last.

Market orders decided at a close therefore fill at the next candle's open, exactly as the paper
exchange documents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from tbsdk import BotInfo, ConfigError, Exchange, RunMode, Strategy
from tbsdk.exchange import SimulatedVenue
from tbsdk.model import (
    CandleArrays,
    CandleClosed,
    FillEvent,
    Instrument,
    Order,
    StopReason,
    TimerFired,
    Trade,
)
from tbsdk.timeframes import timeframe_ms

from .context import BotContext
from .market_data import StoredMarketData
from .risk import RiskLimits
from .runner import BotRunner, BotState

__all__ = ["BacktestResult", "run_backtest"]

Progress = Callable[[int], None]


@dataclass
class BacktestResult:
    """Everything a report needs: what was traded, and the account value after every candle."""

    bot: BotInfo
    instrument: Instrument
    candles: CandleArrays
    start_equity: Decimal
    end_equity: Decimal
    equity: npt.NDArray[np.float64]
    trades: list[Trade]
    orders: list[Order]
    fills: list[FillEvent] = field(default_factory=list)
    state: BotState = BotState.STOPPED
    fault: str | None = None
    strategy_state: dict[str, Any] = field(default_factory=dict)


class _Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


async def run_backtest(
    strategy: Strategy[Any],
    exchange: Exchange,
    instrument: Instrument,
    candles: CandleArrays,
    timeframe: str,
    *,
    bot: BotInfo | None = None,
    limits: RiskLimits | None = None,
    progress: Progress | None = None,
    progress_every: int = 1000,
) -> BacktestResult:
    """Run ``strategy`` over ``candles`` of ``instrument`` on the simulated venue ``exchange``."""
    if not isinstance(exchange, SimulatedVenue):
        raise ConfigError(
            f"exchange {exchange.name!r} cannot run a backtest: it is not a simulated venue; "
            "use the paper exchange"
        )
    if len(candles) == 0:
        raise ConfigError(f"no {timeframe} candles of {instrument.symbol} in the chosen range")
    symbol, tf_ms = instrument.symbol, timeframe_ms(timeframe)
    currency = instrument.settle or instrument.quote
    bot = bot or BotInfo(
        bot_id="backtest",
        strategy=strategy.name,
        exchange=exchange.name,
        account_id="paper",
        symbols=(symbol,),
        timeframe=timeframe,
    )
    clock = _Clock(int(candles.ts[0]))
    market = StoredMarketData(timeframe, {symbol: candles})
    ctx = BotContext(bot, RunMode.BACKTEST, clock, market, {symbol: instrument})
    runner = BotRunner(strategy, ctx, exchange, limits=limits)
    start_equity = exchange.equity(currency)
    ctx.equity_value = start_equity
    ctx.balances = await exchange.fetch_balances()
    fills: list[FillEvent] = []
    equity = np.empty(len(candles), dtype=np.float64)
    await runner.start()
    ts, op, hi, lo, cl = candles.ts, candles.open, candles.high, candles.low, candles.close
    for i in range(len(candles)):
        close_time = int(ts[i]) + tf_ms
        events = exchange.process_candle(symbol, close_time, op[i], hi[i], lo[i], cl[i])
        clock.now = close_time
        if events:
            ctx.equity_value = exchange.equity(currency)
            ctx.balances = await exchange.fetch_balances()
            for event in events:
                if isinstance(event, FillEvent):
                    fills.append(event)
                await runner.deliver(event)
        for at, name in ctx.due_timers(close_time):
            await runner.deliver(TimerFired(name=name, ts=at))
        for sym, series in market.by_timeframe_desc():
            for k in series.advance(close_time):
                candle = series.arrays.candle(k)
                await runner.deliver(
                    CandleClosed(symbol=sym, timeframe=series.timeframe, candle=candle)
                )
        equity[i] = float(_mark_equity(ctx, exchange, currency, events, instrument, cl[i]))
        if progress is not None and (i + 1) % progress_every == 0:
            progress(progress_every)
        if not runner.active:
            equity[i + 1 :] = equity[i]
            break
    if progress is not None:
        progress(len(candles) % progress_every)
    await runner.stop(StopReason.FINISHED)
    return BacktestResult(
        bot=bot,
        instrument=instrument,
        candles=candles,
        start_equity=start_equity,
        end_equity=exchange.equity(currency),
        equity=equity,
        trades=exchange.trades(),
        orders=list(ctx.orders.values()),
        fills=fills,
        state=runner.state,
        fault=runner.fault,
        strategy_state=strategy.save_state() if runner.state is not BotState.FAULTED else {},
    )


def _mark_equity(
    ctx: BotContext,
    exchange: SimulatedVenue,
    currency: str,
    events: object,
    instrument: Instrument,
    close: float,
) -> Decimal:
    """Equity at this close. Only an open position makes it move between fills, so the venue is
    asked only then (a Decimal valuation per candle would dominate a flat backtest)."""
    if events or any(not p.is_flat for p in ctx.positions.values()):
        ctx.equity_value = exchange.equity(currency)
    return ctx.equity_value
