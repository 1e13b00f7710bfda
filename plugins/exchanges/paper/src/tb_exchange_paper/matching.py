"""Pure fill rules for one candle: the intra-candle path, when a level is reached, and prices.

Nothing here touches account state; the engine applies these rules one execution at a time so
that every fill sees the position left by the previous one.

The intra-candle path: a candle that closes at or above its open (bullish or flat) is assumed to
go open -> low -> high -> close; one that closes below its open goes open -> high -> low -> close.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol, TypeVar

from tbsdk.model import Instrument, OrderSide

from .book import Kind

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


L = TypeVar("L", bound=Level)


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


def first_at(levels: Iterable[L], price: float, through: bool) -> L | None:
    """The first of ``levels`` that executes at the single price ``price`` (a gap at the open):
    by kind (liquidation, stop, take-profit, limit), then in order of submission."""
    best: L | None = None
    for lv in levels:
        if reached(lv, price, through) and (
            best is None or (lv.kind, lv.seq) < (best.kind, best.seq)
        ):
            best = lv
    return best


def next_on_segment(levels: Iterable[L], start: float, end: float, through: bool) -> L | None:
    """The first of ``levels`` the price reaches moving from ``start`` to ``end``.

    Moving up, the lowest level executes first; moving down, the highest. Ties go by kind, then
    submission order. Levels already executable at ``start`` were handled before.
    """
    if end == start:
        return None
    up = end > start
    best: L | None = None
    best_key: tuple[float, int, int] | None = None
    for lv in levels:
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
