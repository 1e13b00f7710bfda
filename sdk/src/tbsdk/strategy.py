"""The strategy contract: a frozen config, event handlers, persisted state, and the context
through which a strategy sees the market and acts.

Handlers are plain (synchronous) methods, delivered one at a time per instance. Commands on the
context (``submit``, ``cancel``, ``replace``, timers) are queued and carried out by the host after
the handler returns, through risk checks and the order manager. The same strategy object runs
unchanged in backtest, paper and live mode: only the clock and the exchange differ.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import ConfigDict

from .info import BotInfo, RunMode
from .model import (
    BacktestDone,
    Balance,
    CandleArrays,
    CandleClosed,
    FillEvent,
    Instrument,
    MarginMode,
    Order,
    OrderIntent,
    OrderUpdate,
    Position,
    PositionChanged,
    PositionMode,
    PositionSide,
    StopReason,
    Tick,
    TimerFired,
)
from .model._base import FrozenModel

__all__ = ["JsonState", "Strategy", "StrategyConfig", "StrategyContext"]

JsonState = dict[str, Any]
"""A JSON-serialisable mapping: what ``save_state`` returns and ``load_state`` receives."""


class StrategyConfig(FrozenModel):
    """Base of every strategy's settings. Subclass it next to the strategy; give every field a
    default, bounds and a ``description`` so the CLI, API and Telegram bot can show and validate
    it. Cross-field rules go in a ``model_validator`` that names the offending fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class StrategyContext(ABC):
    """What a strategy may see and do. Implemented by the host (and by ``tbsdk.testing``)."""

    @property
    @abstractmethod
    def bot(self) -> BotInfo:
        """The bot this instance runs for (ids feed deterministic client order ids)."""

    @property
    @abstractmethod
    def mode(self) -> RunMode:
        """Backtest, paper or live. Strategies should rarely need this."""

    @property
    @abstractmethod
    def log(self) -> logging.Logger:
        """Logger named after the bot; use it instead of print."""

    @abstractmethod
    def now(self) -> int:
        """Current time, UTC ms: simulated in a backtest, the wall clock otherwise."""

    # -- market data -------------------------------------------------------------------------
    @abstractmethod
    def subscribe(self, symbol: str, timeframe: str, *, warmup: int = 0) -> None:
        """Receive ``CandleClosed`` for ``timeframe``; keep at least ``warmup`` closed candles
        of history. Call from ``on_start``. Higher timeframes are built from completed candles
        only, so a strategy never sees a candle before it has closed."""

    @abstractmethod
    def subscribe_ticks(self, symbol: str, *, min_interval_s: float = 1.0) -> None:
        """Receive ``Tick`` events at most every ``min_interval_s`` seconds (intrabar logic)."""

    def deliver_every_candle(self, symbol: str, timeframe: str, on: bool = True) -> None:
        """While ``on``, deliver every candle of this subscription, whatever
        :meth:`Strategy.candle_filter` said about it. For state that needs each close for a while
        (an active trailing stop, an exit in flight) and cannot be known when the mask is built.
        Only backtests skip candles, so this does nothing in paper and live mode.

        .. versionadded:: 1.0
        """

    def watch_price(
        self,
        symbol: str,
        timeframe: str,
        *,
        above: Decimal | float | None = None,
        below: Decimal | float | None = None,
    ) -> None:
        """Also deliver the next candle of this subscription whose high reaches ``above`` or
        whose low reaches ``below``, whatever :meth:`Strategy.candle_filter` said about it.
        For decisions that wait on a price (a trailing extreme, a level to touch) and cannot be
        known when the mask is built. One watch per subscription: a new call replaces it, and
        delivering a candle that reaches it clears it; call with neither price to drop it.
        Only backtests skip candles, so this does nothing in paper and live mode.

        .. versionadded:: 1.0
        """

    def chart_levels(self, name: str, prices: Sequence[Decimal | float]) -> None:
        """Show ``prices`` as horizontal lines named ``name`` on price charts (backtest reports)
        from now on, replacing the lines last drawn under that name; an empty sequence removes
        them. For levels a person wants to see against the price, such as a grid's ladder.

        .. versionadded:: 1.0
        """

    @abstractmethod
    def history(self, symbol: str, timeframe: str, count: int | None = None) -> CandleArrays:
        """Closed candles up to now, oldest first; the last ``count`` when given."""

    @abstractmethod
    def instrument(self, symbol: str) -> Instrument:
        """Exchange rules for ``symbol``: ticks, lot step, minimum size and notional."""

    def markets(self) -> list[Instrument]:
        """Every instrument the bot's account can trade, in symbol order: the universe a
        strategy that chooses its own symbols picks from (e.g. a rotation). Other bots on the
        same account are not visible here. The default lists the bot's own symbols.

        .. versionadded:: 1.0
        """
        return [self.instrument(symbol) for symbol in sorted(self.bot.symbols)]

    def symbols_of_other_bots(self) -> frozenset[str]:
        """Symbols that other bots on this bot's account trade now: what a strategy choosing
        its own symbols (a rotation) must leave to them, since orders and positions of two bots
        on one symbol of one account would mix. The host refreshes it while the bot runs; the
        default (and a backtest) knows of none.

        .. versionadded:: 1.0
        """
        return frozenset()

    # -- account -----------------------------------------------------------------------------
    @property
    @abstractmethod
    def position_mode(self) -> PositionMode:
        """One-way or hedge: decides which ``position_side`` intents must carry."""

    @abstractmethod
    def position(self, symbol: str, side: PositionSide = PositionSide.NET) -> Position:
        """The position of ``symbol`` in book ``side`` (flat if none)."""

    @abstractmethod
    def balance(self, currency: str) -> Balance:
        """Holdings of ``currency`` (zero if none)."""

    @abstractmethod
    def equity(self) -> Decimal:
        """Account value in the settlement currency, unrealised PnL included."""

    @abstractmethod
    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """This bot's live orders, optionally of one symbol."""

    @abstractmethod
    def order(self, client_order_id: str) -> Order | None:
        """This bot's order with that id, live or finished, if known."""

    def order_changes(self, since: int | None) -> tuple[int, frozenset[str] | None]:
        """The ids of this bot's orders whose record changed after the mark ``since``, and a
        new mark for the next call: what a strategy reconciling its books after every event
        needs to look at, instead of every order it holds. ``None`` in place of the ids means
        the context cannot tell (no earlier mark, or one too old): look at everything. The
        default always says so.

        .. versionadded:: 1.0
        """
        return 0, None

    # -- commands (queued; run after the handler returns) ------------------------------------
    @abstractmethod
    def submit(self, intent: OrderIntent) -> None:
        """Send an order. Its id must be deterministic: re-submitting the same id never doubles."""

    @abstractmethod
    def cancel(self, client_order_id: str) -> None:
        """Cancel a live order; the result arrives as an ``OrderUpdate``."""

    @abstractmethod
    def replace(self, old_client_order_id: str, new: OrderIntent) -> None:
        """Replace an order by ``new`` (next revision id) using the safest method the venue
        offers: amend in place, else place-then-cancel for stops, cancel-then-place for limits."""

    @abstractmethod
    def set_leverage(
        self, symbol: str, leverage: Decimal, margin_mode: MarginMode = MarginMode.ISOLATED
    ) -> None:
        """Set the venue's leverage and margin mode for ``symbol`` (derivatives), before the
        orders that follow. A venue that refuses faults the bot with the venue's reason.

        .. versionadded:: 1.0
        """

    @abstractmethod
    def request_backtest(
        self, request_id: str, symbol: str, settings: dict[str, Any], start: int, end: int
    ) -> None:
        """Ask the host's backtest service to backtest this strategy's own class, built from
        ``settings``, on ``symbol`` over the window ``[start, end)`` (UTC ms: the stored candles
        that open at or after ``start`` and close at or before ``end``) on a fresh simulated
        account configured like the bot's. Candles closing after the time of the request are
        never used, whatever ``end`` says: a backtest cannot look ahead. For ranking symbols by
        a strategy's recent results.

        The answer is a :class:`~tbsdk.model.BacktestDone` with the same ``request_id``,
        delivered to :meth:`Strategy.on_backtest_done`, also when the backtest cannot run
        (``error`` set). In a backtest it arrives before the next candle; in paper and live mode
        when the backtest has finished (it runs beside the bot; a restart forgets requests in
        flight, so ask again after one). A backtest run for the service cannot request
        backtests itself.

        .. versionadded:: 1.0
        """

    @abstractmethod
    def set_timer(self, name: str, at: int) -> None:
        """Fire ``TimerFired(name)`` at ``at`` (UTC ms). Re-arming a name replaces it."""

    @abstractmethod
    def cancel_timer(self, name: str) -> None:
        """Disarm timer ``name`` if armed."""

    # -- reporting ---------------------------------------------------------------------------
    @abstractmethod
    def notify(self, kind: str, message: str, **data: Any) -> None:
        """Tell the operator (entries, exits, stop moves, errors) through the host's notifiers."""

    @abstractmethod
    def signal(self, name: str, **data: Any) -> None:
        """Publish a strategy signal to observers (``tb_signal`` hook, API subscriptions)."""


C = TypeVar("C", bound=StrategyConfig)


class Strategy(ABC, Generic[C]):
    """Base class of every strategy plugin.

    Subclasses set ``name``, ``api_version`` (the SDK API version they were built for) and
    ``config_class``, and override the handlers they need. Register the class under the
    ``tbhost.strategies`` entry-point group.
    """

    name: ClassVar[str]
    """Entry-point name the strategy is registered under."""
    api_version: ClassVar[str]
    """SDK API version this strategy targets, e.g. ``"1.0"``; checked by the host at load."""
    config_class: ClassVar[type[StrategyConfig]]
    """The frozen settings model of this strategy."""

    def __init__(self, config: C) -> None:
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} needs a {self.config_class.__name__}, "
                f"got {type(config).__name__}"
            )
        self.config: C = config

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Strategy[Any]:
        """Validate raw settings into ``config_class`` and build the strategy."""
        config: Any = cls.config_class.model_validate(settings)
        return cls(config)

    def candle_filter(
        self, symbol: str, timeframe: str, candles: CandleArrays
    ) -> npt.NDArray[np.bool_] | None:
        """Optional backtest speed-up. Given the whole series a backtest will replay for one
        subscription, return a boolean mask (one entry per candle) of the candles whose close may
        make ``on_candle`` act. On every other candle ``on_candle`` must do nothing in any state:
        no command, no state change, no timer. The engine then does not deliver those candles
        (``ctx.history`` still shows them), and skips stretches where neither the strategy nor a
        resting order can act. Values computed here must equal what ``on_candle`` would compute,
        which vectorised and streaming indicators of ``tbsdk.indicators`` guarantee.
        Return ``None`` (the default) to receive every candle. Never called in paper or live mode.

        .. versionadded:: 1.0
        """
        return None

    def on_start(self, ctx: StrategyContext) -> None:
        """Once, after ``load_state``: subscribe to data, reconcile open orders, arm timers."""

    @abstractmethod
    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        """A subscribed candle closed. In a backtest, the fills the paper exchange produced
        inside that candle have already been delivered."""

    def on_tick(self, ctx: StrategyContext, event: Tick) -> None:
        """Last price update (only after ``subscribe_ticks``)."""

    def on_order_update(self, ctx: StrategyContext, event: OrderUpdate) -> None:
        """An order of this bot was opened, canceled, rejected or expired."""

    def on_fill(self, ctx: StrategyContext, event: FillEvent) -> None:
        """An order of this bot was (partially) filled; ``event.order.status`` tells which."""

    def on_position_changed(self, ctx: StrategyContext, event: PositionChanged) -> None:
        """The venue reported a new position for one of the bot's symbols."""

    def on_timer(self, ctx: StrategyContext, event: TimerFired) -> None:
        """A timer armed with ``ctx.set_timer`` came due."""

    def on_backtest_done(self, ctx: StrategyContext, event: BacktestDone) -> None:
        """A backtest asked for with ``ctx.request_backtest`` finished (or failed: see
        ``event.error``).

        .. versionadded:: 1.0
        """

    def on_stop(self, ctx: StrategyContext, reason: StopReason) -> None:
        """Once, when the bot stops. Protective orders stay on the venue unless cancelled here."""

    def save_state(self) -> JsonState:
        """Everything needed to resume exactly after a restart, as JSON-serialisable data.

        The host calls it after every handler that may have changed state and before shutdown.
        """
        return {}

    def load_state(self, state: JsonState) -> None:
        """Restore what ``save_state`` returned. Called before ``on_start`` when a state exists."""

    def report(self) -> dict[str, str]:
        """Results only the strategy knows, for the end-of-run report: label -> text, in order.
        For what the round-trip statistics cannot show, e.g. a grid's profit from completed
        buy/sell pairs while its position never closes. Called once, after the run ended (a
        faulted bot's is not asked). Empty by default.

        .. versionadded:: 1.0
        """
        return {}
