"""Replaying stored candles through one bot and a simulated venue, candle by candle.

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
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from tbsdk import ConfigError, Strategy
from tbsdk.exchange import SimulatedVenue
from tbsdk.model import CandleArrays, CandleClosed, FillEvent, Instrument, StopReason, TimerFired
from tbsdk.reach import first_reach
from tbsdk.timeframes import timeframe_ms

from .market_data import Series, StoredMarketData
from .risk import RiskLimits
from .runner import BotRunner, BotState

__all__ = ["CandleReplay", "Clock"]


class Clock:
    """A settable clock: the simulated time of a replay."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class CandleReplay:
    """Stored candles replayed through a bot and a simulated venue: the chart series, the
    venue, the runner and the equity curve. A backtest drives it as fast as it can, skipping
    quiet stretches; a paper bot drives it candle by candle on the wall clock."""

    def __init__(
        self,
        runner: BotRunner,
        venue: SimulatedVenue,
        market: StoredMarketData,
        instrument: Instrument,
        candles: CandleArrays,
        timeframe: str,
        clock: Clock,
    ) -> None:
        self.runner, self.ctx, self.venue, self.market = runner, runner.ctx, venue, market
        self.ctx.balance_reader = venue.balance
        self.symbol = instrument.symbol
        self.currency = instrument.settle or instrument.quote
        self.candles = candles
        self.close_ts = candles.ts + timeframe_ms(timeframe)
        self.clock = clock
        self.equity = np.empty(len(candles), dtype=np.float64)
        self.held = np.zeros(len(candles), dtype=np.bool_)
        """Whether a position was open after each candle (the report's exposure)."""
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

    async def process(self, i: int) -> bool:
        """Candle ``i`` in full: venue events, timers, closed candles (highest timeframe first).
        True if the venue reported anything or the bot sent any command."""
        runner, ctx, c = self.runner, self.ctx, self.candles
        commands_before = runner.commands_run
        close_time = int(self.close_ts.item(i))
        close = c.close.item(i)  # Python floats: the venue converts what fills to Decimal
        events = self.venue.process_candle(
            self.symbol, close_time, c.open.item(i), c.high.item(i), c.low.item(i), close
        )
        self.clock.now = close_time
        if events:
            ctx.equity_value = self.venue.equity(self.currency)
            for event in events:
                if isinstance(event, FillEvent):
                    self.fills.append(event)
                await runner.deliver(event)
        if ctx.timers:
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
        runner.last_price[self.symbol] = Decimal(repr(float(close)))
        held = self._exposed()
        if events or held:
            ctx.equity_value = self.venue.equity(self.currency)
        self.equity[i] = float(ctx.equity_value)
        self.held[i] = held
        return bool(events) or self.runner.commands_run != commands_before

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
        interest = self.interest
        if interest is None or self.ctx.every_candle:
            return i
        pos = int(interest.searchsorted(i, "left"))
        nxt = int(interest[pos]) if pos < len(interest) else len(self.candles)
        nxt = min(
            nxt, self.venue.next_active_candle(self.symbol, self.candles.high, self.candles.low, i)
        )
        if self.ctx.timers:
            first_due = min(self.ctx.timers.values())
            nxt = min(nxt, int(self.close_ts.searchsorted(first_due, "left")))
        for key, (up, down) in self.ctx.price_watches.items():
            series = self.market.series.get(key)
            if series is not None:
                a = series.arrays
                k = first_reach(a.high, a.low, series.visible, up, down)
                if k < len(a):
                    nxt = min(nxt, int(self.close_ts.searchsorted(series.close_ts[k], "left")))
        return max(nxt, i)

    def skip(self, i: int, j: int) -> None:
        """Candles ``i .. j-1`` can change nothing: move clock, cursors and venue past them and
        value the open position at each close (linear in the price, so no Decimal per candle)."""
        c, last = self.candles, j - 1
        close_time = int(self.close_ts[last])
        base = float(self.ctx.equity_value)
        exposure, held = 0.0, False
        for p in self.ctx.positions.values():
            exposure += float(p.signed_size * p.contract_size)
            held = held or not p.is_flat  # hedged books may net to no exposure
        if exposure:
            # base + exposure * (close - ref), computed in place (the same roundings).
            ref = float(c.close[i - 1]) if i > 0 else float(c.open[i])
            out = self.equity[i:j]
            np.subtract(c.close[i:j], ref, out=out)
            out *= exposure
            out += base
        else:
            self.equity[i:j] = base
        self.held[i:j] = held
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
        for p in self.ctx.positions.values():  # noqa: SIM110 - no generator per candle
            if p.size:
                return True
        return False
