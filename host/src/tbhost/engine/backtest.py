"""Backtests: the bot runner on a simulated clock, against a simulated venue, over stored
candles, passing over stretches where nothing can act (the order of events per candle is in
:mod:`.replay`)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from tbsdk import BotInfo, ConfigError, Exchange, RunMode, Strategy
from tbsdk.exchange import SimulatedVenue
from tbsdk.model import (
    CandleArrays,
    FillEvent,
    Instrument,
    Order,
    Position,
    StopReason,
    Trade,
)

from .context import BotContext, ChartLevels
from .market_data import StoredMarketData
from .replay import CandleReplay, Clock
from .risk import RiskLimits
from .runner import BotRunner, BotState

__all__ = ["BacktestResult", "run_backtest"]

Progress = Callable[[int], None]

FULL_COLLECTION_THRESHOLD = 10_000
"""The collector's third threshold while a backtest runs (the default is 10)."""
_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def _rare_full_collections() -> Iterator[None]:
    """Let the cyclic garbage collector skip full collections while backtests run.

    A backtest keeps every order, fill and event it makes, so the oldest generation grows fast
    and CPython's rule (a full collection once it has grown by a quarter) traversed every object
    of the process again and again: a quarter of a long backtest's time. Young collections go
    on as usual; what a full collection would find waits for the next one after the last
    backtest ends. Nested and concurrent backtests share one setting; the last to finish
    restores the threshold it found.
    """
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            first, second, third = _gc_saved
            gc.set_threshold(first, second, max(third, FULL_COLLECTION_THRESHOLD))
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)
                _gc_saved = None


@dataclass(repr=False)
class BacktestResult:
    """Everything a report needs: what was traded, and the account value after every candle."""

    def __repr__(self) -> str:
        # Short on purpose: asyncio formats a finished task's result, and a full repr of every
        # order of a long backtest took seconds.
        return (
            f"BacktestResult({self.bot.strategy} {self.instrument.symbol}, "
            f"{len(self.candles)} candles, {len(self.trades)} trades, {self.state})"
        )

    bot: BotInfo
    instrument: Instrument
    candles: CandleArrays
    start_equity: Decimal
    end_equity: Decimal
    equity: npt.NDArray[np.float64]
    held: npt.NDArray[np.bool_]
    """Per candle: whether a position was open after its close."""
    trades: list[Trade]
    orders: list[Order]
    fills: list[FillEvent] = field(default_factory=list)
    open_positions: list[Position] = field(default_factory=list)
    """Positions still open at the end (their round trips are not in ``trades``)."""
    state: BotState = BotState.STOPPED
    fault: str | None = None
    strategy_state: dict[str, Any] = field(default_factory=dict)
    strategy_report: dict[str, str] = field(default_factory=dict)
    """``Strategy.report``: the strategy's own results, label -> text."""
    levels: list[ChartLevels] = field(default_factory=list)


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
    use_candle_filter: bool = True,
    restart_at: Sequence[int] = (),
    strategy_factory: Callable[[], Strategy[Any]] | None = None,
) -> BacktestResult:
    """Run ``strategy`` over ``candles`` of ``instrument`` on the simulated venue ``exchange``.

    With ``use_candle_filter`` (default) and a strategy that implements
    :meth:`~tbsdk.Strategy.candle_filter`, stretches where nothing can act are passed over in
    bulk; the result is the same as delivering every candle (tests compare both).

    ``restart_at`` lists candle indices before which the bot is restarted as a host restart
    would do it: ``on_stop(SHUTDOWN)``, ``save_state()`` through JSON, a new instance from
    ``strategy_factory``, ``load_state``, ``on_start``. The venue, the orders and positions it
    holds and the market data carry on; timers and ``deliver_every_candle`` requests do not
    (a restarted strategy re-arms what it needs). A strategy that survives restarts gives the
    same trades as an uninterrupted run.
    """
    restarts = sorted(set(restart_at))
    if restarts and strategy_factory is None:
        raise ConfigError("restart_at needs a strategy_factory to build the restarted instances")
    if restarts and not 0 < restarts[0] <= restarts[-1] < len(candles):
        raise ConfigError(f"restart indices must be within 1..{len(candles) - 1}: {restarts}")
    if not isinstance(exchange, SimulatedVenue):
        raise ConfigError(
            f"exchange {exchange.name!r} cannot run a backtest: it is not a simulated venue; "
            "use the paper exchange"
        )
    if len(candles) == 0:
        raise ConfigError(f"no {timeframe} candles of {instrument.symbol} in the chosen range")
    symbol = instrument.symbol
    bot = bot or BotInfo(
        bot_id="backtest",
        strategy=strategy.name,
        exchange=exchange.name,
        account_id="paper",
        symbols=(symbol,),
        timeframe=timeframe,
    )
    clock = Clock(int(candles.ts[0]))
    market = StoredMarketData(timeframe, {symbol: candles})
    ctx = BotContext(
        bot, RunMode.BACKTEST, clock, market, {symbol: instrument}, exchange.position_mode
    )
    runner = BotRunner(strategy, ctx, exchange, limits=limits)
    replay = CandleReplay(runner, exchange, market, instrument, candles, timeframe, clock)
    currency = replay.currency
    start_equity = exchange.equity(currency)
    ctx.equity_value = start_equity
    with _rare_full_collections():
        await runner.start()
        if use_candle_filter and runner.active:
            replay.use_filters(strategy)
        n, i = len(candles), 0
        due = False  # candle i is known to be one where something may act
        while i < n and runner.active:
            if restarts and restarts[0] == i:
                restarts.pop(0)
                assert strategy_factory is not None
                strategy = strategy_factory()
                runner = await replay.restart(strategy, limits, use_candle_filter)
                due = False
                if not runner.active:
                    break
            j = i if due else replay.quiet_until(i)
            due = j > i  # skipping changes nothing, so the candle found stays the one to process
            if restarts and restarts[0] < j:
                j, due = restarts[0], False
            if j > i:
                replay.skip(i, j)
            else:
                await replay.process(i)
                j = i + 1
            if progress is not None:
                progress(j - i)
            i = j
        if i < n:  # the bot faulted: the account stays as it is for the rest of the period
            replay.equity[i:] = replay.equity[i - 1] if i else float(start_equity)
            replay.held[i:] = replay.held[i - 1] if i else False
            if progress is not None:
                progress(n - i)
        await runner.stop(StopReason.FINISHED)
    return BacktestResult(
        bot=bot,
        instrument=instrument,
        candles=candles,
        start_equity=start_equity,
        end_equity=exchange.equity(currency),
        equity=replay.equity,
        held=replay.held,
        trades=exchange.trades(),
        orders=list(ctx.orders.values()),
        fills=replay.fills,
        open_positions=[p for p in ctx.positions.values() if not p.is_flat],
        state=runner.state,
        fault=runner.fault,
        strategy_state=strategy.save_state() if runner.state is not BotState.FAULTED else {},
        strategy_report=runner.report(),
        levels=ctx.levels,
    )
