"""Drive a strategy through candles in a :class:`MemoryContext`: a harness, not the engine.

``run_strategy`` calls ``load_state`` (when a state is given) and ``on_start``, then delivers
``CandleClosed`` for each candle in order, firing timers that come due in between, and returns
what the strategy recorded. Orders are acknowledged (``open``) and never filled; there is no
matching engine, no risk check and no fee here. Use the paper exchange for that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..info import BotInfo
from ..model import (
    BacktestDone,
    Balance,
    CandleArrays,
    CandleClosed,
    Event,
    FillEvent,
    Instrument,
    OrderUpdate,
    PositionChanged,
    PositionMode,
    StopReason,
    Tick,
    TimerFired,
)
from ..notifier import Notification
from ..strategy import JsonState, Strategy
from ..timeframes import timeframe_ms
from ._context import Command, MemoryContext, SignalRecord

__all__ = ["RunResult", "dispatch", "run_strategy"]

_MAX_CHAINED_UPDATES = 10_000


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one :func:`run_strategy` call recorded."""

    ctx: MemoryContext
    """The context, for further inspection (open orders, timers, subscriptions)."""
    commands: list[Command]
    """Order commands in call order."""
    notifications: list[Notification]
    signals: list[SignalRecord]
    timers_fired: list[TimerFired]
    candles_delivered: int
    state: JsonState
    """``save_state()`` after the run."""


def dispatch(strategy: Strategy[Any], ctx: MemoryContext, event: Event | BacktestDone) -> None:
    """Deliver one event to the matching handler, then the order updates it caused.

    The context is kept in step first, as the host would: an ``OrderUpdate`` or ``FillEvent``
    stores its order, a ``PositionChanged`` its position.
    """
    match event:
        case CandleClosed():
            strategy.on_candle(ctx, event)
        case Tick():
            strategy.on_tick(ctx, event)
        case OrderUpdate():
            ctx.put_order(event.order)
            strategy.on_order_update(ctx, event)
        case FillEvent():
            ctx.put_order(event.order)
            strategy.on_fill(ctx, event)
        case PositionChanged():
            ctx.set_position(event.position)
            strategy.on_position_changed(ctx, event)
        case TimerFired():
            strategy.on_timer(ctx, event)
        case BacktestDone():
            strategy.on_backtest_done(ctx, event)
    _deliver_updates(strategy, ctx)


def _deliver_updates(strategy: Strategy[Any], ctx: MemoryContext) -> None:
    for _ in range(_MAX_CHAINED_UPDATES):
        updates = ctx.take_updates()
        if not updates:
            return
        for update in updates:
            strategy.on_order_update(ctx, update)
    raise RuntimeError(
        f"{type(strategy).__name__} kept sending orders in answer to its own order updates "
        f"({_MAX_CHAINED_UPDATES} rounds)"
    )


def _fire_due_timers(
    strategy: Strategy[Any], ctx: MemoryContext, until: int, fired: list[TimerFired]
) -> None:
    # A handler may arm another timer that is already due, hence the loop.
    while due := [(at, name) for name, at in ctx.timers.items() if at <= until]:
        at, name = min(due)
        del ctx.timers[name]
        ctx.set_time(max(ctx.now(), at))
        event = TimerFired(name=name, ts=at)
        fired.append(event)
        dispatch(strategy, ctx, event)


def run_strategy(
    strategy: Strategy[Any],
    candles: CandleArrays,
    symbol: str,
    timeframe: str,
    instrument: Instrument,
    *,
    state: JsonState | None = None,
    equity: Decimal = Decimal(10_000),
    bot: BotInfo | None = None,
    position_mode: PositionMode = PositionMode.ONE_WAY,
    extra_candles: Mapping[tuple[str, str], CandleArrays] | None = None,
    ctx: MemoryContext | None = None,
    stop: bool = True,
) -> RunResult:
    """Run ``strategy`` over ``candles`` of ``symbol`` / ``timeframe``; see the module docstring.

    * ``on_start`` runs at the open time of the first candle. The strategy must subscribe to
      ``(symbol, timeframe)`` there; its largest ``warmup`` makes the first ``warmup`` candles
      history (visible through ``ctx.history``), and events start after them.
    * Before each ``CandleClosed`` (delivered at the candle's close time), timers due at or
      before that time fire in time order, a timer due exactly at the close first.
    * A fresh context runs for ``bot`` (default: ``testbot`` trading ``symbol`` on
      ``timeframe``) and gets ``equity`` and a free balance of the instrument's quote (or settle)
      currency equal to it. Pass ``ctx`` to set up positions, balances or orders yourself.
    * ``extra_candles`` adds history for other ``(symbol, timeframe)`` pairs (no events).
    * With ``stop`` (default), ``on_stop(FINISHED)`` is called after the last candle.
    """
    tf_ms = timeframe_ms(timeframe)
    if len(candles) == 0:
        raise ValueError("run_strategy needs at least one candle")
    if ctx is None:
        bot = bot or BotInfo(
            bot_id="testbot",
            strategy=getattr(strategy, "name", "test"),
            exchange=instrument.exchange,
            account_id="testaccount",
            symbols=(symbol,),
            timeframe=timeframe,
        )
        ctx = MemoryContext(
            instrument,
            bot=bot,
            position_mode=position_mode,
            now=int(candles.ts[0]),
            equity=equity,
        )
        cash = instrument.settle or instrument.quote
        ctx.set_balance(Balance(currency=cash, total=equity, free=equity))
    else:
        ctx.instruments.setdefault(instrument.symbol, instrument)
        ctx.set_time(max(ctx.now(), int(candles.ts[0])))
    ctx.add_candles(symbol, timeframe, candles)
    for (extra_symbol, extra_tf), extra in (extra_candles or {}).items():
        ctx.add_candles(extra_symbol, extra_tf, extra)

    if state is not None:
        strategy.load_state(state)
    strategy.on_start(ctx)
    _deliver_updates(strategy, ctx)

    key = (symbol, timeframe)
    warmups = [s.warmup for s in ctx.subscriptions if (s.symbol, s.timeframe) == key]
    if not warmups:
        subscribed = [(s.symbol, s.timeframe) for s in ctx.subscriptions]
        raise ValueError(
            f"{type(strategy).__name__} did not subscribe to {symbol} {timeframe} in on_start "
            f"(subscriptions: {subscribed}); it would receive no candles"
        )
    first = max(warmups)
    fired: list[TimerFired] = []
    delivered = 0
    for i in range(first, len(candles)):
        close_time = int(candles.ts[i]) + tf_ms
        _fire_due_timers(strategy, ctx, close_time, fired)
        ctx.set_time(close_time)
        event = CandleClosed(symbol=symbol, timeframe=timeframe, candle=candles.candle(i))
        dispatch(strategy, ctx, event)
        delivered += 1
    if stop:
        strategy.on_stop(ctx, StopReason.FINISHED)
    return RunResult(
        ctx=ctx,
        commands=ctx.commands,
        notifications=ctx.notifications,
        signals=ctx.signals,
        timers_fired=fired,
        candles_delivered=delivered,
        state=strategy.save_state(),
    )
