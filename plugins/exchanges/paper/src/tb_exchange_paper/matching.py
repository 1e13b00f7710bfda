"""Pure fill rules for one candle: the intra-candle path, when a level is reached, and prices.

Nothing here touches account state; the engine applies these rules one execution at a time so
that every fill sees the position left by the previous one.

The intra-candle path: a candle that closes at or above its open (bullish or flat) is assumed to
go open -> low -> high -> close; one that closes below its open goes open -> high -> low -> close.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from tbsdk.model import Instrument, OrderSide

from .book import Entry, Kind, LiquidationLevel, SymbolBook

__all__ = ["Level", "first_at", "next_on_segment", "path", "reached", "taker_price"]

_BPS = Decimal(10_000)


class Level(Protocol):
    """Anything matched against the price path: an order entry or a liquidation level."""

    @property
    def level(self) -> float: ...
    @property
    def rises(self) -> bool: ...
    @property
    def kind(self) -> Kind: ...
    @property
    def seq(self) -> int: ...
    @property
    def is_limit(self) -> bool: ...


def path(open_: float, high: float, low: float, close: float) -> tuple[float, float, float]:
    """The prices visited after the open, in order (see the module docstring)."""
    if close >= open_:
        return (low, high, close)
    return (high, low, close)


def reached(lv: Level, price: float, through: bool) -> bool:
    """Whether ``price`` executes ``lv``.

    Triggers (stops, take-profits, liquidations) fire on touch. Limits need the price strictly
    beyond them when ``through`` (the setting ``limit_fill='through'``), else touch suffices.
    """
    if through and lv.is_limit:
        return price > lv.level if lv.rises else price < lv.level
    return price >= lv.level if lv.rises else price <= lv.level


def first_at(sb: SymbolBook, price: float, through: bool) -> Entry | LiquidationLevel | None:
    """The first level of ``sb`` that executes at the single price ``price`` (a gap at the open):
    by kind (liquidation, stop, take-profit, limit), then in order of submission."""
    best: Entry | LiquidationLevel | None = None
    for lv in sb.liquidations:
        if reached(lv, price, through) and (
            best is None or (lv.kind, lv.seq) < (best.kind, best.seq)
        ):
            best = lv
    # Only the leading run of each direction can execute at ``price``: the nearest levels.
    for _, e in sb.rising:
        if e.level > price:
            break
        if reached(e, price, through) and (best is None or (e.kind, e.seq) < (best.kind, best.seq)):
            best = e
    for _, e in sb.falling:
        if e.level < price:
            break
        if reached(e, price, through) and (best is None or (e.kind, e.seq) < (best.kind, best.seq)):
            best = e
    return best


def next_on_segment(
    sb: SymbolBook, start: float, end: float, through: bool
) -> Entry | LiquidationLevel | None:
    """The first level of ``sb`` the price reaches moving from ``start`` to ``end``.

    Moving up, the lowest level executes first; moving down, the highest. Ties go by kind, then
    submission order. Levels already executable at ``start`` were handled before.
    """
    if end == start:
        return None
    up = end > start
    best: Entry | LiquidationLevel | None = None
    best_key: tuple[float, int, int] | None = None
    # The index is in this very order: the first entry reached is the first executed.
    for key, e in sb.rising if up else sb.falling:
        if (e.level > end) if up else (e.level < end):
            break
        if reached(e, end, through):
            best, best_key = e, key
            break
    for lv in sb.liquidations:
        if lv.rises is not up or not reached(lv, end, through):
            continue
        key = (lv.level if up else -lv.level, lv.kind, lv.seq)
        if best_key is None or key < best_key:
            best, best_key = lv, key
    return best


def taker_price(ref: Decimal, side: OrderSide, slippage_bps: Decimal, inst: Instrument) -> Decimal:
    """``ref`` moved ``slippage_bps`` against a taker on ``side``, rounded to the tick away from
    the taker (a buy pays the next tick up). Without slippage ``ref`` is returned unchanged."""
    if not slippage_bps:
        return ref
    if side is OrderSide.BUY:
        return inst.ceil_price(ref * (1 + slippage_bps / _BPS))
    return inst.floor_price(ref * (1 - slippage_bps / _BPS))
