"""Resting orders, triggers and the per-symbol order book of the paper venue.

An :class:`Entry` wraps a live :class:`~tbsdk.model.Order` with what the matching loop needs
without touching Decimal: its level as a float, the direction that executes it and its priority.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum

from tbsdk.model import Instrument, Order, OrderIntent, OrderSide, OrderType, PositionSide
from tbsdk.money import to_decimal

__all__ = ["Entry", "Kind", "LiquidationLevel", "SymbolBook", "entry_kind", "executes_rising"]


class Kind(IntEnum):
    """Execution priority when several things happen at the same price (lower goes first).

    A liquidation precedes everything; stops precede take-profits; resting limits come last.
    """

    LIQUIDATION = 0
    STOP = 1
    TAKE_PROFIT = 2
    LIMIT = 3
    MARKET = 4


_KINDS = {
    OrderType.STOP_MARKET: Kind.STOP,
    OrderType.TAKE_PROFIT_MARKET: Kind.TAKE_PROFIT,
    OrderType.LIMIT: Kind.LIMIT,
    OrderType.MARKET: Kind.MARKET,
}


def entry_kind(intent: OrderIntent) -> Kind:
    """The :class:`Kind` of an order type."""
    return _KINDS[intent.type]


def executes_rising(intent: OrderIntent) -> bool:
    """True if the order executes when the price rises to its level, False when it falls.

    Limits and take-profits execute on the favourable side (a sell when price rises to it);
    stops on the adverse side (a sell stop when price falls to its trigger).
    """
    sell = intent.side is OrderSide.SELL
    return not sell if intent.type is OrderType.STOP_MARKET else sell


@dataclass(slots=True, eq=False)
class Entry:
    """A live order on the book: resting (limit, trigger) or pending until the next open."""

    order: Order
    seq: int
    level: float
    """Limit or trigger price as a float (0 for market orders); decisions compare floats."""
    rises: bool
    kind: Kind
    is_limit: bool
    reducing: bool
    """Reduce-only, close-position, or the closing side of a hedge-mode book."""
    book: PositionSide
    reserved: Decimal = Decimal(0)
    reserve_currency: str = ""
    taker: bool = False
    """Queued for the next open: market, IOC/FOK, or a limit that was marketable when placed."""

    @classmethod
    def of(cls, order: Order, seq: int, reducing: bool, book: PositionSide) -> Entry:
        intent = order.intent
        price = intent.price if intent.price is not None else intent.trigger_price
        return cls(
            order=order,
            seq=seq,
            level=float(price) if price is not None else 0.0,
            rises=executes_rising(intent),
            kind=entry_kind(intent),
            is_limit=intent.type is OrderType.LIMIT,
            reducing=reducing,
            book=book,
        )

    @property
    def price(self) -> Decimal:
        """The order's limit or trigger price (Decimal, exactly as sent)."""
        intent = self.order.intent
        price = intent.price if intent.price is not None else intent.trigger_price
        if price is None:
            raise ValueError(f"order {intent.client_order_id} has no price")
        return price


@dataclass(slots=True)
class LiquidationLevel:
    """The liquidation price of an isolated position, matched like a stop of top priority."""

    book: PositionSide
    price: Decimal
    level: float
    rises: bool
    seq: int = -1
    kind: Kind = Kind.LIQUIDATION
    is_limit: bool = False


Key = tuple[float, int, int]
"""Matching order of resting entries in one direction: level (negated for entries executing on
a fall, so the nearest comes first either way), then kind, then submission."""


@dataclass(slots=True)
class SymbolBook:
    """Everything live on one symbol, and its last traded price.

    ``resting`` and ``pending`` keep submission order (what listings and persistence show); the
    resting entries are also indexed by direction in matching order, so a candle looks only at
    the levels nearest the price instead of scanning the whole book. Change the book only
    through :meth:`add`, :meth:`rest`, :meth:`move` and :meth:`remove`, which keep both views.
    """

    instrument: Instrument
    resting: list[Entry] = field(default_factory=list)
    pending: list[Entry] = field(default_factory=list)
    liquidations: list[LiquidationLevel] = field(default_factory=list)
    """Liquidation levels of this symbol's isolated positions, refreshed after every fill."""
    last: float = 0.0
    """Last price as a float; 0 before the first candle or tick."""
    last_raw: float | Decimal | None = None
    _last_dec: Decimal | None = None
    rising: list[tuple[Key, Entry]] = field(default_factory=list)
    """Resting entries that execute when the price rises to them, lowest level first."""
    falling: list[tuple[Key, Entry]] = field(default_factory=list)
    """Resting entries that execute when the price falls to them, highest level first."""
    reducing_stops: int = 0
    """Resting reduce-only stops: without any, ``stop_first`` has nothing to reorder."""
    changes: int = 0
    """Counts changes of the levels (orders added, moved, removed; liquidations refreshed):
    a scan's answer holds while this stays the same."""
    scan_memo: tuple[int, object, object, int, int] | None = None
    """The last scan: (changes, high, low, start, first active index)."""
    _by_id: dict[str, Entry] = field(default_factory=dict)

    @property
    def idle(self) -> bool:
        """Nothing can happen on this symbol inside a candle: the hot path skips it."""
        return not self.resting and not self.pending and not self.liquidations

    def set_last(self, price: float | Decimal) -> None:
        """Record the last price without converting it (conversion happens on demand)."""
        self.last_raw = price
        self.last = float(price)
        self._last_dec = price if isinstance(price, Decimal) else None

    def mark(self) -> Decimal | None:
        """The last price as Decimal: floats are converted by shortest repr (``0.1`` -> 0.1),
        the same rule as :meth:`tbsdk.model.CandleArrays.candle`."""
        if self._last_dec is None and self.last_raw is not None:
            self._last_dec = to_decimal(repr(self.last))
        return self._last_dec

    # -- changes ---------------------------------------------------------------------------

    def add(self, entry: Entry) -> None:
        """A new live entry: pending (``entry.taker``) or resting."""
        self.changes += 1
        self._by_id[entry.order.client_order_id] = entry
        if entry.taker:
            self.pending.append(entry)
        else:
            self.resting.append(entry)
            self._index(entry)

    def rest(self, entry: Entry) -> None:
        """A pending entry that did not execute at the open starts resting."""
        self.changes += 1
        self.pending.remove(entry)
        entry.taker = False
        self.resting.append(entry)
        self._index(entry)

    def move(self, entry: Entry, level: float) -> None:
        """A resting entry's level changed (amended); it keeps its place in submission order."""
        self.changes += 1
        self._unindex(entry)
        entry.level = level
        self._index(entry)

    def remove(self, entry: Entry) -> None:
        self.changes += 1
        if entry.taker and entry in self.pending:
            self.pending.remove(entry)
        else:
            self.resting.remove(entry)
            self._unindex(entry)
        del self._by_id[entry.order.client_order_id]

    def find(self, client_order_id: str) -> Entry | None:
        return self._by_id.get(client_order_id)

    def set_liquidations(self, levels: list[LiquidationLevel]) -> None:
        if levels != self.liquidations:
            self.changes += 1
        self.liquidations = levels

    # -- matching order --------------------------------------------------------------------

    def nearest_rising(self) -> float:
        """Lowest level executing on a rise (inf if none); liquidations not included."""
        return self.rising[0][1].level if self.rising else math.inf

    def nearest_falling(self) -> float:
        """Highest level executing on a fall (-inf if none); liquidations not included."""
        return self.falling[0][1].level if self.falling else -math.inf

    def _index(self, entry: Entry) -> None:
        key = _key(entry)
        insort(self.rising if entry.rises else self.falling, (key, entry), key=_first)
        if entry.kind is Kind.STOP and entry.reducing:
            self.reducing_stops += 1

    def _unindex(self, entry: Entry) -> None:
        side = self.rising if entry.rises else self.falling
        key = _key(entry)
        i = bisect_left(side, key, key=_first)
        if i == len(side) or side[i][1] is not entry:
            raise RuntimeError(f"order {entry.order.client_order_id} is missing from the index")
        del side[i]
        if entry.kind is Kind.STOP and entry.reducing:
            self.reducing_stops -= 1


def _key(entry: Entry) -> Key:
    return (entry.level if entry.rises else -entry.level, entry.kind, entry.seq)


def _first(item: tuple[Key, Entry]) -> Key:
    return item[0]
