"""Paper bots on a replay feed: stored candles delivered on the wall clock, at a chosen speed,
through the same replay code as a backtest (so the same events in the same order) but without
skipping, without ``candle_filter`` and in ``RunMode.PAPER``.

The run can stop at any candle and continue later from a :class:`PaperCheckpoint`: the
strategy's saved state, the venue's saved state (a paper account outlives the process, as a real
venue's does) and the index of the next candle. A checkpoint is taken after every candle that
changed something, before the next candle is processed, so a process killed at any instant
resumes from the last completed candle: that candle's events are neither lost nor repeated.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tbsdk import BotInfo, ConfigError, Exchange, RunMode, Strategy
from tbsdk.exchange import SimulatedVenue
from tbsdk.model import CandleArrays, Instrument, StopReason

from .context import BotContext
from .market_data import StoredMarketData
from .precise_timers import wait_until
from .replay import CandleReplay, Clock
from .risk import RiskLimits
from .runner import BotRunner, BotState

if TYPE_CHECKING:
    from ..orders.journal import OrderJournal
    from ..plugins import PluginHost

__all__ = ["Pace", "PaperCheckpoint", "PaperRun", "run_paper"]

CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class PaperCheckpoint:
    """Where a paper run stands: resume it by passing this to :func:`run_paper`."""

    next_index: int
    strategy_state: dict[str, Any]
    venue_state: dict[str, Any] | None
    """None when the venue keeps its own state (a durable venue): resuming leaves it as is."""
    faulted: bool = False
    """Taken after the strategy faulted: ``strategy_state`` is empty, not a state to load."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": CHECKPOINT_VERSION,
                "next_index": self.next_index,
                "strategy_state": self.strategy_state,
                "venue_state": self.venue_state,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> PaperCheckpoint:
        data = json.loads(text)
        if data.get("version") != CHECKPOINT_VERSION:
            raise ConfigError(
                f"paper checkpoint version {data.get('version')!r} is not "
                f"{CHECKPOINT_VERSION}; start a new run"
            )
        return cls(data["next_index"], data["strategy_state"], data["venue_state"])


@dataclass(frozen=True)
class PaperRun:
    """How a paper run ended: at the end of the candles, stopped, or faulted."""

    checkpoint: PaperCheckpoint
    state: BotState
    fault: str | None
    finished: bool
    report: dict[str, str] = field(default_factory=dict)
    """``Strategy.report`` at the end of the run."""


Checkpointer = Callable[[PaperCheckpoint], Awaitable[None] | None]


class Pace(Protocol):
    """A clock shared with other bots (:class:`tbhost.live.feed_clock.Pacer`)."""

    async def until(self, close: int, stop: asyncio.Event | None) -> bool:
        """Wait until the candle closing at ``close`` is due; True if ``stop`` was set."""
        ...


async def run_paper(
    strategy: Strategy[Any],
    exchange: Exchange,
    instrument: Instrument,
    candles: CandleArrays,
    timeframe: str,
    *,
    bot: BotInfo,
    speed: float = 1.0,
    start: int = 0,
    resume: PaperCheckpoint | None = None,
    stop: asyncio.Event | None = None,
    checkpoint: Checkpointer | None = None,
    limits: RiskLimits | None = None,
    journal: OrderJournal | None = None,
    save_venue: bool = True,
    known_venue: Exchange | None = None,
    plugins: PluginHost | None = None,
    pace: Pace | None = None,
    other_bots: Callable[[], frozenset[str]] | None = None,
) -> PaperRun:
    """Run ``strategy`` on ``candles`` from index ``start`` (or ``resume``), one candle per
    ``timeframe / speed`` of wall time (``speed=inf``: no waiting), until the candles end or
    ``stop`` is set. Candles before the first one processed are history the strategy sees.
    ``checkpoint`` is called after every candle that changed something and once at the end.
    ``journal`` (an order manager) stores every intent before it is sent, and what follows.
    ``checkpoint`` may be a coroutine function: the run waits for it before the next candle.
    ``save_venue=False``: checkpoints leave the venue's state out (a venue that keeps its own
    state durably, :class:`~tbhost.live.durable_venue.DurableVenue`). ``known_venue``: the
    venue as the resumed strategy state knew it, when the venue has moved on since (its
    positions and open orders are what the bot starts with; default ``exchange``).
    ``plugins``: the hook plugins told of the bot's start, stop, orders, fills and positions,
    and asked to veto its orders (``tb_check_order``). ``pace``: a clock shared with other
    bots decides when each candle is due, instead of ``speed`` from this run's first candle.
    ``other_bots``: what ``ctx.symbols_of_other_bots()`` answers (the host keeps it current)."""
    if not isinstance(exchange, SimulatedVenue):
        raise ConfigError(f"exchange {exchange.name!r} cannot replay candles: use paper")
    if speed <= 0:
        raise ConfigError(f"speed must be positive, got {speed}")
    if resume is not None:
        if resume.venue_state is not None:
            exchange.restore_state(resume.venue_state)
        start = resume.next_index
    if not 0 <= start <= len(candles):
        raise ConfigError(f"start index {start} is outside the {len(candles)} candles")
    symbol = instrument.symbol
    clock = Clock(int(candles.ts[min(start, len(candles) - 1)]))
    market = StoredMarketData(timeframe, {symbol: candles})
    ctx = BotContext(
        bot, RunMode.PAPER, clock, market, {symbol: instrument}, exchange.position_mode
    )
    if other_bots is not None:
        ctx.other_bots = other_bots
    runner = BotRunner(strategy, ctx, exchange, plugins, limits=limits, journal=journal)
    replay = CandleReplay(runner, exchange, market, instrument, candles, timeframe, clock)
    if start > 0:
        # Candles already replayed (or before the start) are history, not events.
        replay.skip(start - 1, start)
    ctx.equity_value = exchange.equity(replay.currency)
    await _adopt_venue(ctx, known_venue or exchange, symbol)
    await runner.start(
        resume.strategy_state if resume is not None and resume.strategy_state else None
    )

    def snapshot(next_index: int) -> PaperCheckpoint:
        faulted = runner.state is BotState.FAULTED
        state = {} if faulted else runner.strategy.save_state()
        venue = exchange.save_state() if save_venue else None
        return PaperCheckpoint(next_index, json.loads(json.dumps(state)), venue, faulted)

    async def save(point: PaperCheckpoint) -> None:
        if checkpoint is not None:
            pending = checkpoint(point)
            if inspect.isawaitable(pending):
                await pending

    # Whatever on_start sent is covered by a checkpoint before the venue sees a candle.
    await save(snapshot(start))
    wall0, sim0 = time.monotonic(), int(replay.close_ts[start - 1]) if start else None
    i = start
    while i < len(candles) and runner.active:
        close = int(replay.close_ts[i])
        if pace is not None:
            if await pace.until(close, stop):
                break
        elif (
            sim0 is not None
            and speed != float("inf")
            # The event loop's clock is time.monotonic().
            and await wait_until(wall0 + (close - sim0) / 1000 / speed, stop)
        ):
            break
        if stop is not None and stop.is_set():
            break
        changed = await replay.process(i)
        if sim0 is None:
            wall0, sim0 = time.monotonic(), close
        i += 1
        if changed:
            await save(snapshot(i))
    finished = i >= len(candles)
    state = runner.state
    await runner.stop(StopReason.FINISHED if finished else StopReason.SHUTDOWN)
    final = snapshot(i)
    await save(final)
    return PaperRun(
        final,
        state if state is BotState.FAULTED else runner.state,
        runner.fault,
        finished,
        runner.report(),
    )


async def _adopt_venue(ctx: BotContext, exchange: Exchange, symbol: str) -> None:
    """What the venue holds before the bot starts (its positions and open orders), so a resumed
    strategy sees its open position instead of taking the account for flat and entering
    again."""
    for position in await exchange.fetch_positions([symbol]):
        ctx.positions[(position.symbol, position.position_side)] = position
    for order in await exchange.fetch_open_orders(symbol):
        ctx.record_order(order)
