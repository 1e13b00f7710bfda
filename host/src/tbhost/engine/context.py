"""``BotContext``: what one bot's strategy sees. Commands are queued, never run inside a handler."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from tbsdk import BotInfo, ConfigError, RunMode, StrategyContext
from tbsdk.commands import Cancel, Command, Replace, RequestBacktest, SetLeverage, Submit
from tbsdk.model import (
    Balance,
    CandleArrays,
    Instrument,
    MarginMode,
    Order,
    OrderIntent,
    Position,
    PositionMode,
    PositionSide,
)

CHANGE_WINDOW = 4096
"""Order records :meth:`BotContext.order_changes` remembers; an older mark means "look at
everything"."""


class ChartLevels(NamedTuple):
    """Price lines a strategy asked to show from ``ts`` on (``ctx.chart_levels``)."""

    ts: int
    name: str
    prices: tuple[float, ...]


class MarketData(Protocol):
    """Where candles come from: stored series in a backtest, a feed in paper and live mode."""

    def subscribe(self, symbol: str, timeframe: str, warmup: int) -> None: ...

    def history(self, symbol: str, timeframe: str, count: int | None) -> CandleArrays: ...


class BotContext(StrategyContext):
    """State the engine keeps current for one bot: orders, positions and balances as the
    exchange last reported them, timers, and the queue of commands from the last handler."""

    def __init__(
        self,
        bot: BotInfo,
        mode: RunMode,
        clock: Callable[[], int],
        market: MarketData,
        instruments: dict[str, Instrument],
        position_mode: PositionMode = PositionMode.ONE_WAY,
        on_notify: Callable[[str, str, dict[str, Any]], None] | None = None,
        on_signal: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self._bot, self._mode, self._clock, self._market = bot, mode, clock, market
        self._instruments = instruments
        self._position_mode = position_mode
        self._log = logging.getLogger(f"tbhost.bot.{bot.bot_id}")
        self._on_notify, self._on_signal = on_notify, on_signal
        self.commands: list[Command] = []
        self.timers: dict[str, int] = {}
        self.tick_subscriptions: dict[str, float] = {}
        self.every_candle: set[tuple[str, str]] = set()
        self.levels: list[ChartLevels] = []
        self.price_watches: dict[tuple[str, str], tuple[float, float]] = {}
        self.orders: dict[str, Order] = {}
        self._live: dict[str, Order] = {}  # not terminal; open_orders must not scan history
        self._live_by_symbol: dict[str, dict[str, Order]] = {}  # the same, per symbol
        # The ids of the last CHANGE_WINDOW order records, oldest first, for order_changes;
        # _changed counts every record ever made, so a mark is a position in that sequence.
        self._changes: deque[str] = deque(maxlen=CHANGE_WINDOW)
        self._changed = 0
        self.positions: dict[tuple[str, PositionSide], Position] = {}
        self.balances: dict[str, Balance] = {}
        self.balance_reader: Callable[[str], Balance] | None = None
        """Reads a balance from the venue on demand (simulated venues), instead of
        ``balances`` being refreshed after every exchange report."""
        self.equity_value = Decimal(0)
        self.other_bots: Callable[[], frozenset[str]] = frozenset
        """What :meth:`symbols_of_other_bots` answers: the host's current knowledge."""

    # -- identity and clock ------------------------------------------------------------------
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
        return self._clock()

    # -- market data -------------------------------------------------------------------------
    def subscribe(self, symbol: str, timeframe: str, *, warmup: int = 0) -> None:
        self.instrument(symbol)
        self._market.subscribe(symbol, timeframe, warmup)

    def subscribe_ticks(self, symbol: str, *, min_interval_s: float = 1.0) -> None:
        self.instrument(symbol)
        self.tick_subscriptions[symbol] = min_interval_s

    def watch_price(
        self,
        symbol: str,
        timeframe: str,
        *,
        above: Decimal | float | None = None,
        below: Decimal | float | None = None,
    ) -> None:
        key = (symbol, timeframe)
        if above is None and below is None:
            self.price_watches.pop(key, None)
            return
        self.price_watches[key] = (
            math.inf if above is None else float(above),
            -math.inf if below is None else float(below),
        )

    def chart_levels(self, name: str, prices: Sequence[Decimal | float]) -> None:
        self.levels.append(ChartLevels(self.now(), name, tuple(float(p) for p in prices)))

    def deliver_every_candle(self, symbol: str, timeframe: str, on: bool = True) -> None:
        if on:
            self.every_candle.add((symbol, timeframe))
        else:
            self.every_candle.discard((symbol, timeframe))

    def history(self, symbol: str, timeframe: str, count: int | None = None) -> CandleArrays:
        return self._market.history(symbol, timeframe, count)

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            known = ", ".join(sorted(self._instruments)) or "none"
            raise ConfigError(
                f"bot {self._bot.bot_id}: {symbol!r} is not a market of this account "
                f"(markets: {known})"
            ) from None

    # -- account -----------------------------------------------------------------------------
    @property
    def position_mode(self) -> PositionMode:
        return self._position_mode

    def position(self, symbol: str, side: PositionSide = PositionSide.NET) -> Position:
        found = self.positions.get((symbol, side))
        if found is not None:
            return found
        inst = self.instrument(symbol)
        return Position(symbol=symbol, position_side=side, contract_size=inst.contract_size)

    def balance(self, currency: str) -> Balance:
        if self.balance_reader is not None:
            return self.balance_reader(currency)
        zero = Decimal(0)
        return self.balances.get(currency) or Balance(currency=currency, total=zero, free=zero)

    def equity(self) -> Decimal:
        return self.equity_value

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        if symbol is None:
            return list(self._live.values())
        return list(self._live_by_symbol.get(symbol, {}).values())

    def record_order(self, order: Order) -> None:
        """Remember the latest state of one of this bot's orders."""
        cid = order.client_order_id
        self.orders[cid] = order
        self._changes.append(cid)
        self._changed += 1
        before = self._live.get(cid)
        if before is not None and (
            order.status.is_terminal or before.intent.symbol != order.intent.symbol
        ):
            del self._live[cid]
            del self._live_by_symbol[before.intent.symbol][cid]
        if not order.status.is_terminal:
            self._live[cid] = order
            self._live_by_symbol.setdefault(order.intent.symbol, {})[cid] = order

    def order(self, client_order_id: str) -> Order | None:
        return self.orders.get(client_order_id)

    def order_changes(self, since: int | None) -> tuple[int, frozenset[str] | None]:
        now = self._changed
        if since is None or not 0 <= now - since <= len(self._changes):
            return now, None
        if since == now:
            return now, frozenset()
        changes, n = self._changes, now - since
        if 2 * n > len(changes):
            return now, frozenset(list(changes)[-n:])
        return now, frozenset([changes[-k] for k in range(1, n + 1)])  # ends are O(1)

    # -- commands ----------------------------------------------------------------------------
    def submit(self, intent: OrderIntent) -> None:
        self.instrument(intent.symbol)
        self.commands.append(Submit(intent, self.now()))

    def cancel(self, client_order_id: str) -> None:
        self.commands.append(Cancel(client_order_id, self.now()))

    def replace(self, old_client_order_id: str, new: OrderIntent) -> None:
        self.instrument(new.symbol)
        self.commands.append(Replace(old_client_order_id, new, self.now()))

    def set_leverage(
        self, symbol: str, leverage: Decimal, margin_mode: MarginMode = MarginMode.ISOLATED
    ) -> None:
        self.instrument(symbol)
        self.commands.append(SetLeverage(symbol, Decimal(leverage), margin_mode, self.now()))

    def set_timer(self, name: str, at: int) -> None:
        self.timers[name] = at

    def cancel_timer(self, name: str) -> None:
        self.timers.pop(name, None)

    def take_commands(self) -> list[Command]:
        taken, self.commands = self.commands, []
        return taken

    def due_timers(self, now: int) -> list[tuple[int, str]]:
        """Timers due at or before ``now``, earliest first; they are disarmed."""
        if not self.timers:
            return []
        due = sorted((at, name) for name, at in self.timers.items() if at <= now)
        for _, name in due:
            del self.timers[name]
        return due

    # -- reporting ---------------------------------------------------------------------------
    def notify(self, kind: str, message: str, **data: Any) -> None:
        self._log.info("%s: %s", kind, message)
        if self._on_notify is not None:
            self._on_notify(kind, message, data)

    def signal(self, name: str, **data: Any) -> None:
        if self._on_signal is not None:
            self._on_signal(name, data)

    # -- universe and backtest service (ranking, :mod:`.ranking`) ---------------------------
    def markets(self) -> list[Instrument]:
        return [self._instruments[symbol] for symbol in sorted(self._instruments)]

    def symbols_of_other_bots(self) -> frozenset[str]:
        return self.other_bots()

    def request_backtest(
        self, request_id: str, symbol: str, settings: dict[str, Any], start: int, end: int
    ) -> None:
        # An unknown symbol is answered by the service with an error, not raised here.
        self.commands.append(
            RequestBacktest(request_id, symbol, dict(settings), start, end, self.now())
        )

    @property
    def market_data(self) -> MarketData:
        """Where this bot's candles come from; the backtest service reads stored ones."""
        return self._market
