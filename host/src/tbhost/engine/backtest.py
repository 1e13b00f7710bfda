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

import json
from collections.abc import Callable, Sequence
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
from tbsdk.reach import first_reach
from tbsdk.timeframes import timeframe_ms

from .context import BotContext, ChartLevels
from .market_data import Series, StoredMarketData
from .risk import RiskLimits
from .runner import BotRunner, BotState

__all__ = ["BacktestResult", "run_backtest"]

Progress = Callable[[int], None]


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
    trades: list[Trade]
    orders: list[Order]
    fills: list[FillEvent] = field(default_factory=list)
    state: BotState = BotState.STOPPED
    fault: str | None = None
    strategy_state: dict[str, Any] = field(default_factory=dict)
    levels: list[ChartLevels] = field(default_factory=list)


class _Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class _Replay:
    """One backtest in progress: the chart series, the venue, the runner and the equity curve."""

    def __init__(
        self,
        runner: BotRunner,
        venue: SimulatedVenue,
        market: StoredMarketData,
        instrument: Instrument,
        candles: CandleArrays,
        timeframe: str,
        clock: _Clock,
    ) -> None:
        self.runner, self.ctx, self.venue, self.market = runner, runner.ctx, venue, market
        self.symbol = instrument.symbol
        self.currency = instrument.settle or instrument.quote
        self.candles = candles
        self.close_ts = candles.ts + timeframe_ms(timeframe)
        self.clock = clock
        self.equity = np.empty(len(candles), dtype=np.float64)
        self.fills: list[FillEvent] = []
        self.masks: dict[tuple[str, str], npt.NDArray[np.bool_]] = {}
        self.interest: npt.NDArray[np.int64] | None = None

    def use_filters(self, strategy: Strategy[Any]) -> None:
        """Ask the strategy which candles matter; skipping is on only if it answers for every
        subscription (a subscription without a mask needs every candle)."""
        chart_indices = []
        for (symbol, timeframe), series in self.market.series.items():
            mask = strategy.candle_filter(symbol, timeframe, series.arrays)
            if mask is None:
                return
            mask = np.asarray(mask, dtype=np.bool_)
            if mask.shape != (len(series.arrays),):
                raise ConfigError(
                    f"{type(strategy).__name__}.candle_filter returned {mask.shape[0]} values "
                    f"for {len(series.arrays)} {symbol} {timeframe} candles"
                )
            self.masks[(symbol, timeframe)] = mask
            # A candle is delivered at the first chart close at or after its own close.
            chart_indices.append(np.searchsorted(self.close_ts, series.close_ts[mask], "left"))
        self.interest = np.unique(np.concatenate(chart_indices)) if chart_indices else None

    async def process(self, i: int) -> None:
        """Candle ``i`` in full: venue events, timers, closed candles (highest timeframe first)."""
        runner, ctx, c = self.runner, self.ctx, self.candles
        close_time = int(self.close_ts[i])
        events = self.venue.process_candle(
            self.symbol, close_time, c.open[i], c.high[i], c.low[i], c.close[i]
        )
        self.clock.now = close_time
        if events:
            ctx.equity_value = self.venue.equity(self.currency)
            ctx.balances = await runner.exchange.fetch_balances()
            for event in events:
                if isinstance(event, FillEvent):
                    self.fills.append(event)
                await runner.deliver(event)
        for at, name in ctx.due_timers(close_time):
            await runner.deliver(TimerFired(name=name, ts=at))
        for symbol, series in self.market.by_timeframe_desc():
            key = (symbol, series.timeframe)
            for k in series.advance(close_time):
                if self._wanted(key, series, k):
                    event = CandleClosed.model_construct(
                        symbol=symbol,
                        timeframe=series.timeframe,
                        candle=series.arrays.candle(k),
                        replay=False,
                    )
                    await runner.deliver(event)
        # The reference price of risk checks is the last close, whichever candles were delivered.
        runner.last_price[self.symbol] = Decimal(repr(float(c.close[i])))
        if events or self._exposed():
            ctx.equity_value = self.venue.equity(self.currency)
        self.equity[i] = float(ctx.equity_value)

    def _wanted(self, key: tuple[str, str], series: Series, k: int) -> bool:
        """Whether candle ``k`` of a subscription is delivered: the mask admits it, every candle
        was asked for, or it reaches the subscription's price watch (which it then clears)."""
        ctx = self.ctx
        watch = ctx.price_watches.get(key)
        if watch is not None and (
            series.arrays.high[k] >= watch[0] or series.arrays.low[k] <= watch[1]
        ):
            del ctx.price_watches[key]
            return True
        mask = self.masks.get(key)
        return mask is None or bool(mask[k]) or key in ctx.every_candle

    def quiet_until(self, i: int) -> int:
        """The first candle at or after ``i`` where the strategy, the venue or a timer may act."""
        if self.interest is None or self.ctx.every_candle:
            return i
        pos = int(np.searchsorted(self.interest, i, "left"))
        nxt = int(self.interest[pos]) if pos < len(self.interest) else len(self.candles)
        nxt = min(
            nxt, self.venue.next_active_candle(self.symbol, self.candles.high, self.candles.low, i)
        )
        if self.ctx.timers:
            first_due = min(self.ctx.timers.values())
            nxt = min(nxt, int(np.searchsorted(self.close_ts, first_due, "left")))
        for key, (up, down) in self.ctx.price_watches.items():
            series = self.market.series.get(key)
            if series is not None:
                a = series.arrays
                k = first_reach(a.high, a.low, series.visible, up, down)
                if k < len(a):
                    nxt = min(nxt, int(np.searchsorted(self.close_ts, series.close_ts[k], "left")))
        return max(nxt, i)

    def skip(self, i: int, j: int) -> None:
        """Candles ``i .. j-1`` can change nothing: move clock, cursors and venue past them and
        value the open position at each close (linear in the price, so no Decimal per candle)."""
        c, last = self.candles, j - 1
        close_time = int(self.close_ts[last])
        base = float(self.ctx.equity_value)
        exposure = sum(float(p.signed_size * p.contract_size) for p in self.ctx.positions.values())
        ref = float(c.close[i - 1]) if i > 0 else float(c.open[i])
        self.equity[i:j] = base + exposure * (c.close[i:j] - ref) if exposure else base
        self.venue.skip_candles(self.symbol, close_time, float(c.close[last]))
        self.clock.now = close_time
        for _, series in self.market.by_timeframe_desc():
            series.advance(close_time)
        self.runner.last_price[self.symbol] = Decimal(repr(float(c.close[last])))
        if exposure:
            self.ctx.equity_value = self.venue.equity(self.currency)

    async def restart(
        self, strategy: Strategy[Any], limits: RiskLimits | None, use_filter: bool
    ) -> BotRunner:
        """Stop the running instance and continue with ``strategy`` from its saved state."""
        old = self.runner
        await old.stop(StopReason.SHUTDOWN)
        if old.state is BotState.FAULTED:
            return old
        saved = json.loads(json.dumps(old.strategy.save_state()))
        ctx = self.ctx
        ctx.timers.clear()
        ctx.every_candle.clear()
        ctx.price_watches.clear()
        ctx.tick_subscriptions.clear()
        self.runner = runner = BotRunner(strategy, ctx, old.exchange, limits=limits)
        runner.last_price = old.last_price
        self.masks, self.interest = {}, None
        await runner.start(saved)
        if use_filter and runner.active:
            self.use_filters(strategy)
        return runner

    def _exposed(self) -> bool:
        return any(not p.is_flat for p in self.ctx.positions.values())


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
    clock = _Clock(int(candles.ts[0]))
    market = StoredMarketData(timeframe, {symbol: candles})
    ctx = BotContext(
        bot, RunMode.BACKTEST, clock, market, {symbol: instrument}, exchange.position_mode
    )
    runner = BotRunner(strategy, ctx, exchange, limits=limits)
    replay = _Replay(runner, exchange, market, instrument, candles, timeframe, clock)
    currency = replay.currency
    start_equity = exchange.equity(currency)
    ctx.equity_value = start_equity
    ctx.balances = await exchange.fetch_balances()
    await runner.start()
    if use_candle_filter and runner.active:
        replay.use_filters(strategy)
    n, i = len(candles), 0
    while i < n and runner.active:
        if restarts and restarts[0] == i:
            restarts.pop(0)
            assert strategy_factory is not None
            strategy = strategy_factory()
            runner = await replay.restart(strategy, limits, use_candle_filter)
            if not runner.active:
                break
        j = replay.quiet_until(i)
        if restarts:
            j = min(j, restarts[0])
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
        trades=exchange.trades(),
        orders=list(ctx.orders.values()),
        fills=replay.fills,
        state=runner.state,
        fault=runner.fault,
        strategy_state=strategy.save_state() if runner.state is not BotState.FAULTED else {},
        levels=ctx.levels,
    )
