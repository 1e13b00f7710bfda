"""``MemoryContext``: a complete :class:`~tbsdk.strategy.StrategyContext` for tests.

It records what a strategy asks for and does not trade. Order commands are kept as a list of
:data:`Command` values. With ``ack_orders=True`` (the default) it also behaves like a venue that
accepts every order and never fills one: a submitted intent becomes an ``open`` order that
``open_orders`` and ``order`` return, a cancel makes it ``canceled``. The matching, fees and risk
checks of the real engine are not here; positions, balances and equity are whatever the test sets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from ..commands import Cancel, Command, Replace, RequestBacktest, SetLeverage, Submit
from ..info import BotInfo, RunMode
from ..model import (
    Balance,
    CandleArrays,
    Instrument,
    MarginMode,
    Order,
    OrderIntent,
    OrderStatus,
    OrderUpdate,
    Position,
    PositionMode,
    PositionSide,
)
from ..notifier import Notification
from ..strategy import StrategyContext
from ..timeframes import timeframe_ms

__all__ = [
    "Cancel",
    "Command",
    "MemoryContext",
    "Replace",
    "RequestBacktest",
    "SignalRecord",
    "Submit",
    "Subscription",
]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A ``subscribe`` (``timeframe`` set) or ``subscribe_ticks`` (``timeframe`` None) call."""

    symbol: str
    timeframe: str | None
    warmup: int = 0
    min_interval_s: float | None = None


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """``ctx.signal(name, **data)`` was called at ``ts``."""

    name: str
    data: dict[str, Any]
    ts: int


@dataclass(slots=True)
class _Recorded:
    commands: list[Command] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    signals: list[SignalRecord] = field(default_factory=list)
    updates: list[OrderUpdate] = field(default_factory=list)


def _readonly(candles: CandleArrays) -> CandleArrays:
    copy = CandleArrays(
        candles.ts.copy(),
        candles.open.copy(),
        candles.high.copy(),
        candles.low.copy(),
        candles.close.copy(),
        candles.volume.copy(),
    )
    for col in (copy.ts, copy.open, copy.high, copy.low, copy.close, copy.volume):
        # A strategy writing into its history would corrupt the host's buffers: fail loudly.
        col.setflags(write=False)
    return copy


class MemoryContext(StrategyContext):
    """A strategy context that records instead of trading. Set the world with the ``set_*`` and
    ``add_candles`` methods; read what happened from ``commands``, ``notifications``,
    ``signals``, ``timers`` and ``subscriptions``."""

    def __init__(
        self,
        instruments: dict[str, Instrument] | list[Instrument] | Instrument,
        *,
        bot: BotInfo | None = None,
        mode: RunMode = RunMode.BACKTEST,
        position_mode: PositionMode = PositionMode.ONE_WAY,
        now: int = 0,
        equity: Decimal = Decimal(0),
        ack_orders: bool = True,
    ) -> None:
        if isinstance(instruments, Instrument):
            instruments = [instruments]
        if isinstance(instruments, list):
            instruments = {i.symbol: i for i in instruments}
        self.instruments: dict[str, Instrument] = dict(instruments)
        first = next(iter(self.instruments.values()), None)
        self._bot = bot or BotInfo(
            bot_id="testbot",
            strategy="test",
            exchange=first.exchange if first else "test",
            account_id="testaccount",
            symbols=tuple(self.instruments),
            mode=mode,
        )
        self._mode = mode
        self._position_mode = position_mode
        self._now = now
        self._equity = equity
        self.ack_orders = ack_orders
        self.other_bots_symbols: frozenset[str] = frozenset()
        self._log = logging.getLogger(f"tbsdk.testing.bot.{self._bot.bot_id}")
        self._candles: dict[tuple[str, str], CandleArrays] = {}
        self._positions: dict[tuple[str, PositionSide], Position] = {}
        self._balances: dict[str, Balance] = {}
        self._orders: dict[str, Order] = {}
        self._changed: list[str] = []  # ids of every order record made, for order_changes
        self._rec = _Recorded()
        self.subscriptions: list[Subscription] = []
        """Every ``subscribe`` / ``subscribe_ticks`` call, in order."""
        self.timers: dict[str, int] = {}
        """Armed timers: name to due time (UTC ms)."""

    # -- what the test sets ------------------------------------------------------------------
    def set_time(self, ts: int) -> None:
        """Move the clock to ``ts`` (UTC ms); it never goes backwards."""
        if ts < self._now:
            raise ValueError(f"the clock cannot go back from {self._now} to {ts}")
        self._now = ts

    def add_candles(self, symbol: str, timeframe: str, candles: CandleArrays) -> None:
        """Make ``candles`` the source of ``history(symbol, timeframe)`` (read-only copy)."""
        timeframe_ms(timeframe)  # validates the name
        self._candles[(symbol, timeframe)] = _readonly(candles)

    def set_position(self, position: Position) -> None:
        """Report ``position`` for its symbol and book."""
        self._positions[(position.symbol, position.position_side)] = position

    def set_balance(self, balance: Balance) -> None:
        """Report ``balance`` for its currency."""
        self._balances[balance.currency] = balance

    def set_equity(self, equity: Decimal) -> None:
        """Value returned by :meth:`equity`."""
        self._equity = equity

    def put_order(self, order: Order) -> None:
        """Add or replace a known order (e.g. one restored at start, or a filled one)."""
        self._record(order)

    def _record(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        self._changed.append(order.client_order_id)

    # -- what the test reads -----------------------------------------------------------------
    @property
    def commands(self) -> list[Command]:
        """Order commands in call order."""
        return list(self._rec.commands)

    @property
    def submitted(self) -> list[OrderIntent]:
        """Every intent sent through ``submit`` or as the ``new`` side of ``replace``."""
        return [
            c.intent if isinstance(c, Submit) else c.new
            for c in self._rec.commands
            if isinstance(c, Submit | Replace)
        ]

    @property
    def backtest_requests(self) -> list[RequestBacktest]:
        """Every ``request_backtest`` call, in order."""
        return [c for c in self._rec.commands if isinstance(c, RequestBacktest)]

    @property
    def notifications(self) -> list[Notification]:
        """Every ``notify`` call, as the host would hand it to its notifiers."""
        return list(self._rec.notifications)

    @property
    def signals(self) -> list[SignalRecord]:
        """Every ``signal`` call."""
        return list(self._rec.signals)

    def take_updates(self) -> list[OrderUpdate]:
        """Order updates produced by acknowledged commands since the last call (and clear them).
        The harness delivers these to ``on_order_update`` after each handler."""
        updates, self._rec.updates = self._rec.updates, []
        return updates

    # -- StrategyContext ---------------------------------------------------------------------
    @property
    def bot(self) -> BotInfo:
        return self._bot

    @property
    def mode(self) -> RunMode:
        return self._mode

    @property
    def log(self) -> logging.Logger:
        return self._log

    def now(self) -> int:
        return self._now

    def subscribe(self, symbol: str, timeframe: str, *, warmup: int = 0) -> None:
        timeframe_ms(timeframe)
        if warmup < 0:
            raise ValueError(f"warmup must be >= 0, got {warmup}")
        self.subscriptions.append(Subscription(symbol, timeframe, warmup))

    def subscribe_ticks(self, symbol: str, *, min_interval_s: float = 1.0) -> None:
        self.subscriptions.append(Subscription(symbol, None, min_interval_s=min_interval_s))

    def history(self, symbol: str, timeframe: str, count: int | None = None) -> CandleArrays:
        try:
            candles = self._candles[(symbol, timeframe)]
        except KeyError:
            raise LookupError(
                f"no candles for {symbol} {timeframe} in this test context; "
                f"add them with ctx.add_candles (have: {sorted(self._candles)})"
            ) from None
        # Only candles whose close time (open + length) is not after now are history.
        cutoff = self._now - timeframe_ms(timeframe)
        stop = int(np.searchsorted(candles.ts, cutoff, side="right"))
        start = 0 if count is None else max(0, stop - count)
        return candles.slice(start, stop)

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            have = sorted(self.instruments)
            raise LookupError(f"no instrument {symbol!r}; have {have}") from None

    def markets(self) -> list[Instrument]:
        """Every instrument of :attr:`instruments`, in symbol order."""
        return [self.instruments[symbol] for symbol in sorted(self.instruments)]

    def symbols_of_other_bots(self) -> frozenset[str]:
        """:attr:`other_bots_symbols`, which a test sets."""
        return self.other_bots_symbols

    @property
    def position_mode(self) -> PositionMode:
        return self._position_mode

    def position(self, symbol: str, side: PositionSide = PositionSide.NET) -> Position:
        return self._positions.get((symbol, side)) or Position(symbol=symbol, position_side=side)

    def balance(self, currency: str) -> Balance:
        zero = Decimal(0)
        return self._balances.get(currency) or Balance(currency=currency, total=zero, free=zero)

    def equity(self) -> Decimal:
        return self._equity

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self._orders.values()
            if o.status.is_live and (symbol is None or o.intent.symbol == symbol)
        ]

    def order(self, client_order_id: str) -> Order | None:
        return self._orders.get(client_order_id)

    def order_changes(self, since: int | None) -> tuple[int, frozenset[str] | None]:
        now = len(self._changed)
        if since is None or not 0 <= since <= now:
            return now, None
        return now, frozenset(self._changed[since:])

    def submit(self, intent: OrderIntent) -> None:
        self._rec.commands.append(Submit(intent, self._now))
        self._ack_submit(intent)

    def cancel(self, client_order_id: str) -> None:
        self._rec.commands.append(Cancel(client_order_id, self._now))
        self._ack_cancel(client_order_id)

    def replace(self, old_client_order_id: str, new: OrderIntent) -> None:
        self._rec.commands.append(Replace(old_client_order_id, new, self._now))
        self._ack_cancel(old_client_order_id)
        self._ack_submit(new)

    def set_leverage(
        self, symbol: str, leverage: Decimal, margin_mode: MarginMode = MarginMode.ISOLATED
    ) -> None:
        self.instrument(symbol)
        self._rec.commands.append(SetLeverage(symbol, Decimal(leverage), margin_mode, self._now))

    def request_backtest(
        self, request_id: str, symbol: str, settings: dict[str, Any], start: int, end: int
    ) -> None:
        """Recorded as a :class:`~tbsdk.commands.RequestBacktest` command; nothing runs. The
        test answers with :func:`~tbsdk.testing.dispatch` of a ``BacktestDone``."""
        self._rec.commands.append(
            RequestBacktest(request_id, symbol, dict(settings), start, end, self._now)
        )

    def set_timer(self, name: str, at: int) -> None:
        self.timers[name] = at

    def cancel_timer(self, name: str) -> None:
        self.timers.pop(name, None)

    def notify(self, kind: str, message: str, **data: Any) -> None:
        note = Notification(
            kind=kind, message=message, bot_id=self._bot.bot_id, ts=self._now, data=dict(data)
        )
        self._rec.notifications.append(note)

    def signal(self, name: str, **data: Any) -> None:
        self._rec.signals.append(SignalRecord(name, data, self._now))

    # -- acknowledgements (no fills, ever) ---------------------------------------------------
    def _ack_submit(self, intent: OrderIntent) -> None:
        # A known id is not a new order: venues refuse duplicates, so nothing changes.
        if not self.ack_orders or intent.client_order_id in self._orders:
            return
        order = Order(intent=intent, created_at=self._now, updated_at=self._now)
        order = order.transition(OrderStatus.SUBMITTED, at=self._now)
        order = order.transition(OrderStatus.OPEN, at=self._now)
        self._record(order)
        self._rec.updates.append(OrderUpdate(order=order))

    def _ack_cancel(self, client_order_id: str) -> None:
        order = self._orders.get(client_order_id)
        if not self.ack_orders or order is None or not order.status.is_live:
            return
        order = order.transition(OrderStatus.CANCELED, at=self._now, reason="canceled by strategy")
        self._record(order)
        self._rec.updates.append(OrderUpdate(order=order, by_strategy=True))
