"""The per-symbol engine interface both grid modes implement.

:class:`~tb_strategy_grid.strategy.Grid` owns one engine per traded symbol and routes every
event of that symbol to it: classic grids (:class:`~tb_strategy_grid.classic.ClassicEngine`) and
the adaptive ladder (``tb_strategy_grid.adaptive.engine.AdaptiveEngine``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from tbsdk import JsonState, StrategyContext
from tbsdk.model import (
    CandleArrays,
    CandleClosed,
    FillEvent,
    OrderUpdate,
    PositionChanged,
    StopReason,
    Tick,
    TimerFired,
)

__all__ = ["SymbolEngine"]


class SymbolEngine(ABC):
    """One symbol's grid. Handlers receive only events of :attr:`symbol`.

    Timer names an engine arms MUST start with its ``sym3`` followed by ``":"``, so the
    strategy can route them back (see :func:`tb_strategy_grid.ids.symbol_key`).
    """

    symbol: str
    """The traded symbol (ccxt unified)."""
    completed: bool
    """True once the engine has stopped trading for good (range exit, stop-loss, inactivity)."""

    @abstractmethod
    def subscriptions(self) -> list[tuple[str, int]]:
        """``(timeframe, warmup candles)`` pairs the strategy subscribes for this symbol."""

    @abstractmethod
    def candle_filter(self, timeframe: str, candles: CandleArrays) -> npt.NDArray[np.bool_] | None:
        """Backtest mask of the candles of ``timeframe`` whose close may make ``on_candle``
        act (a superset is fine, a subset never); ``None`` = every candle."""

    @abstractmethod
    def on_start(self, ctx: StrategyContext) -> None:
        """After ``load_state`` (if any): check the market, reconcile, place what is missing."""

    @abstractmethod
    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        """A subscribed candle of this symbol closed."""

    @abstractmethod
    def on_fill(self, ctx: StrategyContext, event: FillEvent) -> None:
        """An order of this symbol (partially) filled."""

    @abstractmethod
    def on_order_update(self, ctx: StrategyContext, event: OrderUpdate) -> None:
        """An order of this symbol opened, was canceled, rejected or expired."""

    @abstractmethod
    def on_timer(self, ctx: StrategyContext, event: TimerFired) -> None:
        """A timer named ``<sym3>:...`` came due."""

    @abstractmethod
    def on_stop(self, ctx: StrategyContext, reason: StopReason) -> None:
        """The bot stops; ``on_stop_action`` applies to operator stops and removals."""

    @abstractmethod
    def save_state(self) -> JsonState:
        """Everything needed to resume exactly (grid spec §6), as plain JSON."""

    @abstractmethod
    def load_state(self, state: JsonState) -> None:
        """Restore :meth:`save_state`; called before ``on_start``."""

    def on_position_changed(self, ctx: StrategyContext, event: PositionChanged) -> None:
        """The venue reported a new position of this symbol (reconciliation, grid spec §2).
        Optional; does nothing by default."""

    def on_tick(self, ctx: StrategyContext, event: Tick) -> None:
        """A last-price update (``signal_mode = intrabar``). Optional; nothing by default."""

    def report(self) -> dict[str, str]:
        """This symbol's results for the end-of-run report (``Strategy.report``)."""
        return {}


def money_text(amount: Decimal) -> str:
    """An exact amount for a report line: at most 8 decimals, at least 2, sign shown."""
    text = f"{amount.quantize(Decimal('1e-8')):+f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"
