"""``grid``: one bot instance running a grid engine per symbol (grid spec §1, §6).

The strategy object only routes: each event goes to the engine of its symbol (timers by their
``<sym3>:`` prefix), and the persisted state wraps the engines' states with the settings
snapshot, their hash and ``bot6``. With ``symbol_mode = rotation`` a
:class:`~tb_strategy_grid.rotator.Rotator` decides which symbols have an engine (§4.10). The
modes themselves live in :class:`~tb_strategy_grid.classic.ClassicEngine` and
``tb_strategy_grid.adaptive``.
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar, cast

import numpy as np
import numpy.typing as npt

from tbsdk import JsonState, Strategy, StrategyConfig, StrategyContext
from tbsdk.errors import ConfigError
from tbsdk.ids import bot_key
from tbsdk.model import (
    BacktestDone,
    CandleArrays,
    CandleClosed,
    FillEvent,
    OrderUpdate,
    PositionChanged,
    StopReason,
    Tick,
    TimerFired,
)

from .classic import ClassicEngine
from .config import GridConfig, SignalMode, SymbolMode
from .engine import SymbolEngine
from .ids import symbol_key
from .rotation import Rotation
from .rotator import REFRESH_TIMER, Rotator

__all__ = ["SCHEMA_VERSION", "Grid"]

SCHEMA_VERSION = 1
"""Version of the persisted state layout (grid spec §6)."""

INTRABAR_MIN_INTERVAL_S = 5.0
"""``signal_mode = intrabar``: ticks at least this far apart (grid spec §3)."""

_ADAPTIVE_MODULE = "tb_strategy_grid.adaptive.engine"


def _adaptive_engine_class() -> type[SymbolEngine]:
    """``AdaptiveEngine``, imported only when an adaptive bot starts."""
    try:
        module = importlib.import_module(_ADAPTIVE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name is not None and _ADAPTIVE_MODULE.startswith(exc.name):
            raise ConfigError(
                "mode = adaptive is not available in this installation (the adaptive engine "
                "is missing); use mode = arithmetic or geometric"
            ) from None
        raise
    return cast(type[SymbolEngine], module.AdaptiveEngine)


class Grid(Strategy[GridConfig]):
    """Adaptive ladder or classic arithmetic/geometric grid, per ``mode`` (grid spec §1)."""

    name: ClassVar[str] = "grid"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = GridConfig

    def __init__(self, config: GridConfig) -> None:
        super().__init__(config)
        self.engines: dict[str, SymbolEngine] = {}
        """Engine per symbol, built in ``on_start``."""
        self.bot6: str | None = None
        self._by_key: dict[str, SymbolEngine] = {}
        self._saved_engines: dict[str, JsonState] = {}
        self._saved_hash: str | None = None
        self._saved_completed: list[str] = []
        self.rotator: Rotator | None = None
        """Runs ``symbol_mode = rotation`` (adaptive), built in ``on_start``."""
        self._saved_rotation: JsonState | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def on_start(self, ctx: StrategyContext) -> None:
        bot = ctx.bot
        bot6 = bot_key(bot.account_id, bot.bot_id)
        if self.bot6 is not None and self.bot6 != bot6:
            # The ids of the saved orders carry the old bot6: continuing would orphan them.
            raise ConfigError(
                f"the saved state belongs to another bot (bot6 {self.bot6}, this bot is {bot6}); "
                "remove the state or start the bot under its original account and id"
            )
        self.bot6 = bot6
        new_hash = self.config.settings_hash()
        if self._saved_hash is not None and self._saved_hash != new_hash:
            ctx.log.warning("settings changed since the state was saved; the running grid is kept")
            ctx.notify(
                "warning",
                "grid settings changed since the last run: the saved grid (levels, sizes, "
                "orders) continues; changed exit and stop settings apply from now on",
            )
        self._saved_hash = new_hash
        if self.config.symbol_mode is SymbolMode.ROTATION:
            saved = self._saved_rotation
            state = Rotation() if saved is None else Rotation.from_json(saved)
            self.rotator = Rotator(self, state)
            self.rotator.on_start(ctx, INTRABAR_MIN_INTERVAL_S)
            return
        for symbol in self._symbols(ctx):
            engine = self._build_engine(symbol, bot6)
            saved = self._saved_engines.get(symbol)
            if saved is not None:
                engine.load_state(saved)
            self.engines[symbol] = engine
            self._by_key[symbol_key(symbol)] = engine
        for symbol, engine in self.engines.items():
            for timeframe, warmup in engine.subscriptions():
                ctx.subscribe(symbol, timeframe, warmup=warmup)
            if self.config.signal_mode is SignalMode.INTRABAR:
                ctx.subscribe_ticks(symbol, min_interval_s=INTRABAR_MIN_INTERVAL_S)
            engine.on_start(ctx)

    def on_stop(self, ctx: StrategyContext, reason: StopReason) -> None:
        for engine in self.engines.values():
            engine.on_stop(ctx, reason)

    def _symbols(self, ctx: StrategyContext) -> tuple[str, ...]:
        cfg = self.config
        if cfg.mode.is_classic:
            assert cfg.symbol is not None  # the config requires it for classic modes
            return (cfg.symbol,)
        symbols = cfg.adaptive_symbols or ctx.bot.symbols
        if not symbols:
            raise ConfigError("mode = adaptive needs symbols (or symbol) to trade")
        return tuple(symbols)

    def _build_engine(self, symbol: str, bot6: str) -> SymbolEngine:
        if self.config.mode.is_classic:
            return ClassicEngine(self.config, symbol, bot6)
        engine_class = cast(Any, _adaptive_engine_class())
        return cast(SymbolEngine, engine_class(self.config, symbol, bot6))

    # -- engines started by rotation --------------------------------------------------------
    def subscriptions_of(self, symbol: str) -> list[tuple[str, int]]:
        """``(timeframe, warmup)`` pairs an engine of ``symbol`` needs."""
        assert self.bot6 is not None
        return self._build_engine(symbol, self.bot6).subscriptions()

    def new_engine(self, symbol: str) -> SymbolEngine:
        """An engine for ``symbol`` (its saved state loaded), routed from now on; the caller
        starts it. A symbol that completed before gets a fresh grid whose ids continue."""
        assert self.bot6 is not None
        previous = self.engines.get(symbol)
        saved = previous.save_state() if previous is not None else self._saved_engines.get(symbol)
        engine = self._build_engine(symbol, self.bot6)
        if saved is not None and saved.get("completed"):
            # Reused client ids would name the old grid's orders (grid spec §2: never reused).
            cast(Any, engine).desk.seq = int(saved["seq"])
        elif saved is not None:
            engine.load_state(saved)
        self.engines[symbol] = engine
        self._by_key[symbol_key(symbol)] = engine
        return engine

    def drop_engine(self, symbol: str) -> None:
        """Forget the engine of ``symbol`` (it could not start)."""
        self.engines.pop(symbol, None)
        self._by_key.pop(symbol_key(symbol), None)

    def on_backtest_done(self, ctx: StrategyContext, event: BacktestDone) -> None:
        if self.rotator is not None:
            self.rotator.on_backtest_done(ctx, event)

    # -- routing -----------------------------------------------------------------------------
    def candle_filter(
        self, symbol: str, timeframe: str, candles: CandleArrays
    ) -> npt.NDArray[np.bool_] | None:
        engine = self.engines.get(symbol)
        if engine is None:
            return None
        return engine.candle_filter(timeframe, candles)

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        engine = self.engines.get(event.symbol)
        if engine is not None:
            engine.on_candle(ctx, event)
            if self.rotator is not None:
                self.rotator.after_event(ctx, engine)

    def on_tick(self, ctx: StrategyContext, event: Tick) -> None:
        engine = self.engines.get(event.symbol)
        if engine is not None:
            engine.on_tick(ctx, event)
            if self.rotator is not None:
                self.rotator.after_event(ctx, engine)

    def on_fill(self, ctx: StrategyContext, event: FillEvent) -> None:
        engine = self.engines.get(event.fill.symbol)
        if engine is not None:
            engine.on_fill(ctx, event)
            if self.rotator is not None:
                self.rotator.after_event(ctx, engine)

    def on_order_update(self, ctx: StrategyContext, event: OrderUpdate) -> None:
        engine = self.engines.get(event.order.intent.symbol)
        if engine is not None:
            engine.on_order_update(ctx, event)
            if self.rotator is not None:
                self.rotator.after_event(ctx, engine)

    def on_position_changed(self, ctx: StrategyContext, event: PositionChanged) -> None:
        engine = self.engines.get(event.position.symbol)
        if engine is not None:
            engine.on_position_changed(ctx, event)
            if self.rotator is not None:
                self.rotator.after_event(ctx, engine)

    def on_timer(self, ctx: StrategyContext, event: TimerFired) -> None:
        if self.rotator is not None and event.name == REFRESH_TIMER:
            self.rotator.refresh(ctx)
            return
        key, sep, _ = event.name.partition(":")
        engine = self._by_key.get(key) if sep else None
        if engine is not None:
            engine.on_timer(ctx, event)
            if self.rotator is not None:
                self.rotator.after_event(ctx, engine)

    def report(self) -> dict[str, str]:
        """Each traded symbol's grid results; labels name the symbol when there are several."""
        several = len(self.engines) > 1
        return {
            f"{label} {symbol}" if several else label: text
            for symbol, engine in sorted(self.engines.items())
            for label, text in engine.report().items()
        }

    # -- persistence (grid spec §6) ----------------------------------------------------------
    def save_state(self) -> JsonState:
        engines = dict(self._saved_engines)
        engines.update({symbol: engine.save_state() for symbol, engine in self.engines.items()})
        return {
            "schema_version": SCHEMA_VERSION,
            "settings": self.config.snapshot(),
            "settings_hash": self._saved_hash or self.config.settings_hash(),
            "bot6": self.bot6,
            "completed": sorted(
                {s for s in self._saved_completed if s not in self.engines}
                | {s for s, e in self.engines.items() if e.completed}
            ),
            "symbols": engines,
            **self._rotation_state(),
        }

    def _rotation_state(self) -> JsonState:
        """Rotation's active and completed sets and ranking cache (grid spec §6), if any."""
        if self.rotator is not None:
            return {"rotation": self.rotator.state.to_json()}
        return {} if self._saved_rotation is None else {"rotation": self._saved_rotation}

    def load_state(self, state: JsonState) -> None:
        version = state.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ConfigError(
                f"grid state schema_version {version!r} is not {SCHEMA_VERSION}; this version "
                "cannot resume it"
            )
        self.bot6 = state.get("bot6")
        self._saved_hash = state.get("settings_hash")
        self._saved_engines = dict(state.get("symbols", {}))
        self._saved_completed = list(state.get("completed", []))
        self._saved_rotation = state.get("rotation")
