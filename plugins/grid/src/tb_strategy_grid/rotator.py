"""``Rotator``: runs ``symbol_mode = rotation`` for a :class:`~tb_strategy_grid.strategy.Grid`
(grid spec §4.10): subscribes the universe, requests ranking backtests, starts engines in free
slots and frees the slot of a completed symbol. The rules themselves are in
:mod:`tb_strategy_grid.rotation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from tbsdk import StrategyContext
from tbsdk.errors import ConfigError
from tbsdk.model import BacktestDone, Instrument, PositionMode, PositionSide

from .config import SignalMode
from .rotation import Rotation, Score, grid_notional, rank_settings, rank_window, universe

if TYPE_CHECKING:
    from .engine import SymbolEngine
    from .strategy import Grid

__all__ = ["REFRESH_TIMER", "Rotator"]

REFRESH_TIMER = "rotation:refresh"
"""The ranking refresh timer (engines' timers start with their ``sym3:``)."""

MINUTE_MS = 60_000


class Rotator:
    """Rotation of one grid bot; its :attr:`state` is what the bot persists."""

    def __init__(self, grid: Grid, state: Rotation) -> None:
        self.grid, self.config, self.state = grid, grid.config, state
        self.universe: list[str] = []
        self.g = grid_notional(grid.config)
        self._round: dict[str, Score] = {}
        """Scores of the round in flight, replacing the cache once every answer is in."""

    @property
    def refresh_ms(self) -> int:
        return self.config.rank_refresh_minutes * MINUTE_MS

    # -- start -------------------------------------------------------------------------------
    def on_start(self, ctx: StrategyContext, intrabar_every_s: float) -> None:
        """Subscribe the universe, resume what was running, arm the refresh."""
        state = self.state
        self.universe = universe(ctx.markets(), self._reference(ctx), self.config, state.completed)
        # Every candidate's candles from the start: a rotation starts engines at any time,
        # and each must find its history like a fixed symbol does (hosts serve subscriptions
        # made in on_start).
        for symbol in self.universe:
            for timeframe, warmup in self.grid.subscriptions_of(symbol):
                ctx.subscribe(symbol, timeframe, warmup=warmup)
            if self.config.signal_mode is SignalMode.INTRABAR:
                ctx.subscribe_ticks(symbol, min_interval_s=intrabar_every_s)
        ctx.log.info("rotation universe: %s", ", ".join(self.universe) or "empty")
        previously, state.active = list(state.active), []
        if state.round_ts is not None:  # answers in flight are lost with the old instance
            ctx.log.info("ranking round of %s lost in the restart; ranking again", state.round_ts)
            state.round_ts, state.pending = None, {}
        positions = [s for s in self.universe if self._has_position(ctx, s)]
        self.fill(ctx, positions, previously)
        if state.next_refresh is None:  # the first start: the periodic schedule begins
            state.next_refresh = ctx.now() + self.refresh_ms
        ctx.set_timer(REFRESH_TIMER, state.next_refresh)

    def _reference(self, ctx: StrategyContext) -> Instrument:
        symbols = self.config.adaptive_symbols or ctx.bot.symbols
        if not symbols:
            raise ConfigError(
                "symbol_mode = rotation needs symbols (or symbol): the first one sets the "
                "market type and quote currency of the symbols it rotates through"
            )
        return ctx.instrument(symbols[0])

    @staticmethod
    def _has_position(ctx: StrategyContext, symbol: str) -> bool:
        if not ctx.instrument(symbol).is_derivative:
            return False  # a spot balance is not a grid position: it may be anybody's
        sides = (
            (PositionSide.NET,)
            if ctx.position_mode is PositionMode.ONE_WAY
            else (PositionSide.LONG, PositionSide.SHORT)
        )
        return any(not ctx.position(symbol, side).is_flat for side in sides)

    # -- slots -------------------------------------------------------------------------------
    def candidates(self, ctx: StrategyContext) -> list[str]:
        """Universe symbols that may start now: not running, not refused, not completed
        (with ``exclude_completed``), not traded by another bot on the account."""
        state = self.state
        done = set(state.completed) if self.config.exclude_completed else set()
        busy = set(state.active) | set(state.refused) | done | ctx.symbols_of_other_bots()
        return [s for s in self.universe if s not in busy]

    def fill(
        self, ctx: StrategyContext, positions: Sequence[str] = (), previously: Sequence[str] = ()
    ) -> None:
        """Start engines in the free slots in the §4.10 order. Scores older than one refresh
        period are not used; a ranking round starts instead."""
        state = self.state
        fresh = state.ranked_at is not None and ctx.now() - state.ranked_at < self.refresh_ms
        for symbol in state.start_order(self.candidates(ctx), positions, previously, fresh):
            if not state.free_slots(self.config):
                return
            self._launch(ctx, symbol)
        if state.free_slots(self.config) and not fresh:
            self._start_round(ctx)

    def _launch(self, ctx: StrategyContext, symbol: str) -> None:
        grid, state = self.grid, self.state
        engine = grid.new_engine(symbol)
        try:
            engine.on_start(ctx)
        except ConfigError as exc:
            # This market cannot run these settings (leverage, position mode, ...): skip it.
            grid.drop_engine(symbol)
            state.refused.append(symbol)
            ctx.log.warning("rotation: %s refused: %s", symbol, exc)
            ctx.notify("grid_rotation_refused", f"{symbol}: {exc}", symbol=symbol)
            return
        state.active.append(symbol)
        score = state.scores.get(symbol)
        ctx.notify(
            "grid_rotation_start",
            f"{symbol}: started in rotation",
            symbol=symbol,
            score=None if score is None else str(score.value),
        )

    def after_event(self, ctx: StrategyContext, engine: SymbolEngine) -> None:
        """An engine handled an event: a completed symbol frees its slot (§4.9)."""
        state = self.state
        if not engine.completed or engine.symbol not in state.active:
            return
        state.active.remove(engine.symbol)
        if engine.symbol not in state.completed:
            state.completed.append(engine.symbol)
        ctx.log.info("rotation: %s completed; slot free", engine.symbol)
        self.fill(ctx)

    # -- ranking -----------------------------------------------------------------------------
    def refresh(self, ctx: StrategyContext) -> None:
        """The refresh timer: a ranking round (if a slot is free), and the next one armed."""
        state = self.state
        state.next_refresh = ctx.now() + self.refresh_ms
        ctx.set_timer(REFRESH_TIMER, state.next_refresh)
        self._start_round(ctx)

    def _start_round(self, ctx: StrategyContext) -> None:
        """Backtest every candidate (one round at a time, only while a slot is free)."""
        state, now = self.state, ctx.now()
        if not state.free_slots(self.config) or state.round_ts is not None:
            return
        candidates = self.candidates(ctx)
        if not candidates:
            return
        state.round_ts = now
        self._round = {}
        state.pending = {state.request_id(s): s for s in candidates}
        start, end = rank_window(now, self.config)
        for symbol in candidates:
            ctx.request_backtest(
                state.request_id(symbol), symbol, rank_settings(self.config, symbol), start, end
            )

    def on_backtest_done(self, ctx: StrategyContext, event: BacktestDone) -> None:
        state = self.state
        symbol = state.pending.pop(event.request_id, None)
        if symbol is None:
            return  # from a round that was given up
        if event.error is not None:
            ctx.log.info("rotation: %s not ranked: %s", symbol, event.error)
        else:
            assert state.round_ts is not None
            value = event.net_pnl / self.g if self.g else Decimal(0)
            self._round[symbol] = Score(value, event.quote_volume_24h, state.round_ts)
        if state.pending:
            return
        state.scores, self._round = self._round, {}
        state.ranked_at, state.round_ts = state.round_ts, None
        ctx.signal(
            "grid_ranking",
            scores={s: str(v.value) for s, v in sorted(state.scores.items())},
        )
        self.fill(ctx)
