"""Price and size rounding at the order boundary (grid spec §2, §5.2).

* Buy limits round down to the tick, sell limits up: an order never crosses its intended level.
* Stop triggers round away from the position: a long's stop down, a short's up.
* Grid levels round to the nearest tick, half up (§5.2).
* Sizes round down to the lot step, then rise to the smallest size meeting both the minimum size
  and the minimum notional; the caller learns whether it rose, so it can log and check the
  over-investment rule.

All Decimal; ticks come from :meth:`Instrument.tick`, so price-banded markets (KRW) work.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tbsdk.model import Direction, Instrument, OrderSide
from tbsdk.money import MONEY_CONTEXT, ceil_to, floor_to

__all__ = [
    "SizedQty",
    "limit_price",
    "min_order_size",
    "nearest_tick",
    "order_size",
    "stop_trigger",
]


def limit_price(inst: Instrument, side: OrderSide, price: Decimal) -> Decimal:
    """A limit price on the tick grid: buys floored, sells ceiled (grid spec §2)."""
    if side is OrderSide.BUY:
        return inst.floor_price(price)
    return inst.ceil_price(price)


def stop_trigger(inst: Instrument, direction: Direction, price: Decimal) -> Decimal:
    """A stop trigger on the tick grid, away from the position: long floored, short ceiled."""
    if direction is Direction.LONG:
        return inst.floor_price(price)
    return inst.ceil_price(price)


def nearest_tick(inst: Instrument, price: Decimal) -> Decimal:
    """``price`` rounded to the nearest tick, halves up (grid spec §5.2 level rounding)."""
    tick = inst.tick(price)
    units = (price / tick).to_integral_value(rounding=ROUND_HALF_UP, context=MONEY_CONTEXT)
    return (units * tick).quantize(tick, context=MONEY_CONTEXT)


@dataclass(frozen=True, slots=True)
class SizedQty:
    """An order size on the lot grid, and whether the exchange minimums raised it."""

    qty: Decimal
    raised: bool


def min_order_size(inst: Instrument, price: Decimal) -> Decimal:
    """The smallest size on the lot grid meeting ``min_size`` and ``min_notional`` at
    ``price``."""
    smallest = ceil_to(inst.min_size, inst.lot_step) if inst.min_size > 0 else inst.lot_step
    if inst.min_notional > 0:
        by_notional = ceil_to(inst.min_notional / (inst.contract_size * price), inst.lot_step)
        smallest = max(smallest, by_notional)
    return smallest


def order_size(inst: Instrument, qty: Decimal, price: Decimal) -> SizedQty:
    """``qty`` floored to the lot step, then raised to :func:`min_order_size` if below it."""
    floored = floor_to(qty, inst.lot_step)
    smallest = min_order_size(inst, price)
    if floored < smallest:
        return SizedQty(smallest, True)
    return SizedQty(floored, False)
