"""What every part of the strategy shares: the resolved settings, the persisted state, the order
desk, the bar feed and the instrument, with the small rules used everywhere (sides, books,
cooldowns, bar locks).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tbsdk import StrategyContext
from tbsdk.model import Instrument, OrderSide, PositionMode, PositionSide
from tbsdk.timeframes import timeframe_ms

from .config import HyperRsiConfig
from .feed import BarFeed
from .orders import OrderDesk
from .state import HyperRsiState

__all__ = ["Runtime", "opposite"]


def opposite(side: str) -> str:
    return "short" if side == "long" else "long"


class Runtime:
    """The strategy's working set; one per instance."""

    def __init__(self, cfg: HyperRsiConfig, state: HyperRsiState, feed: BarFeed) -> None:
        self.cfg = cfg
        self.state = state
        self.feed = feed
        self.desk = OrderDesk(state, cfg.symbol)
        self.period = timeframe_ms(cfg.timeframe)
        self._inst: Instrument | None = None
        self.hedge_mode = False
        self.held_levels: set[int] = set()
        """TP levels refused in the current event: retried from the next event on (§8.5)."""

    # -- venue -------------------------------------------------------------------------------
    def attach(self, ctx: StrategyContext) -> None:
        self._inst = ctx.instrument(self.cfg.symbol)
        self.hedge_mode = ctx.position_mode is PositionMode.HEDGE

    @property
    def inst(self) -> Instrument:
        if self._inst is None:
            raise RuntimeError("the instrument is known from on_start on")
        return self._inst

    def book(self, side: str) -> PositionSide:
        """``position_side`` of orders for a ``side`` position: the side's book in hedge mode,
        ``net`` in one-way accounts (§3.2)."""
        if not self.hedge_mode:
            return PositionSide.NET
        return PositionSide.LONG if side == "long" else PositionSide.SHORT

    @staticmethod
    def opening(side: str) -> OrderSide:
        return OrderSide.BUY if side == "long" else OrderSide.SELL

    @staticmethod
    def closing(side: str) -> OrderSide:
        return OrderSide.SELL if side == "long" else OrderSide.BUY

    # -- time rules (§14) --------------------------------------------------------------------
    def bar_open_of(self, ts: int) -> int:
        """Open time of the chart bar an event at ``ts`` belongs to; an event at a bar boundary
        belongs to the bar that closes there (backtest fills are stamped with close times)."""
        return (ts - 1) // self.period * self.period

    def in_cooldown(self, side: str, now: int) -> bool:
        return self.cfg.use_cooldown and now < self.state.cooldown_until.get(side, 0)

    def start_cooldown(self, side: str, ts: int) -> None:
        if self.cfg.use_cooldown:
            self.state.cooldown_until[side] = ts + self.cfg.cooldown_time * 1000

    def bar_locked(self, side: str, bar_open: int) -> bool:
        return self.state.bar_lock.get(side) == bar_open

    # -- reporting ---------------------------------------------------------------------------
    def notify(self, ctx: StrategyContext, kind: str, message: str, **data: Any) -> None:
        ctx.notify(kind, message, symbol=self.cfg.symbol, **data)

    def size_note(self, ctx: StrategyContext, what: str, note: str | None) -> None:
        if note is not None:
            ctx.log.warning("%s: %s", what, note)

    @staticmethod
    def dec(value: Any) -> Decimal:
        return value if isinstance(value, Decimal) else Decimal(value)
