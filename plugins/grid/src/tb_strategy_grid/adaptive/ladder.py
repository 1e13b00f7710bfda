"""Pure price rules on one level table: rung search, entry candidates and prices, take-profit
targets (grid spec §4.6, §4.7), and the float-to-order-price conversion.

Rung searches compare float64 levels with the float64 price, exactly as the backtest mask of
:mod:`.mask` does, so the two can never disagree about which rung the price is at. Prices that
become orders are Decimal: a level converts exactly (``to_decimal``) and is then rounded to the
tick by the rules of grid spec §2.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from tbsdk.model import Instrument, OrderSide
from tbsdk.money import MONEY_CONTEXT, to_decimal

from ..rounding import limit_price

__all__ = [
    "FAR_RUNG",
    "SNAP_RELATIVE",
    "Table",
    "entry_price",
    "level",
    "long_candidates",
    "nearest_above",
    "nearest_below",
    "rung_key",
    "short_candidates",
    "snap_to_tick",
    "tp_target",
]

Table = Sequence[float]
"""``L_0, L_1 .. L_N, L_{N+1}``: index k is level k."""

FAR_RUNG = Decimal("0.1")
"""Far-rung limit: an entry more than 10 % away from the price is placed half-way (§4.6)."""

SNAP_RELATIVE = Decimal("1e-12")
"""A level this close (relative) to a tick multiple is taken as on it; see :func:`snap_to_tick`."""

_ENTRY_RUNGS = 2
_TP_LONG = (Decimal("1.004"), Decimal("1.08"))
_TP_SHORT = (Decimal("0.993"), Decimal("0.93"))
_TP_BUMP_UP, _TP_BUMP_DOWN = Decimal("1.005"), Decimal("0.995")


def nearest_below(table: Table, price: float) -> int:
    """``k* = max{k : L_k < P}`` over ``0..N+1``; −1 if no level is below the price."""
    found = -1
    for k, lv in enumerate(table):
        if lv < price:
            found = k
    return found


def nearest_above(table: Table, price: float) -> int:
    """``k' = min{k : L_k ≥ P}`` over ``0..N+1``; ``N + 2`` if no level is at or above it."""
    for k, lv in enumerate(table):
        if lv >= price:
            return k
    return len(table)


def rung_key(table: Table, price: float) -> tuple[int, int]:
    """``(k*, k')``: the candidates of both sides depend on the price only through this."""
    return nearest_below(table, price), nearest_above(table, price)


def long_candidates(table: Table, price: float) -> list[int]:
    """Long entry rungs ``k* − 1, k* − 2`` within ``1..N``, higher first (§4.6 steps 1–2)."""
    k, n = nearest_below(table, price), len(table) - 2
    if k < 0:
        return []
    return [j for j in range(k - 1, k - 1 - _ENTRY_RUNGS, -1) if 1 <= j <= n]


def short_candidates(table: Table, price: float) -> list[int]:
    """Short entry rungs ``k' + 1, k' + 2`` within ``1..N``, lower first (§4.6, mirrored)."""
    k, n = nearest_above(table, price), len(table) - 2
    if k > n + 1:
        return []
    return [j for j in range(k + 1, k + 1 + _ENTRY_RUNGS) if 1 <= j <= n]


def snap_to_tick(inst: Instrument, price: Decimal) -> Decimal:
    """``price``, or the tick multiple it is within ``SNAP_RELATIVE`` of.

    Levels are float64, so a level meant to be 97.975 is 97.97499999999999431... exactly; floored
    to a 0.001 tick it would become 97.974, a whole tick away for a 1e-16 representation error
    (grid spec §7 expects 97.975). Snapping first keeps "orders never cross the intended level"
    (§2) for every real distance: 1e-12 is far below any tick and far above float noise.
    """
    tick = inst.tick(price)
    units = (price / tick).to_integral_value(rounding=ROUND_HALF_EVEN, context=MONEY_CONTEXT)
    nearest = units * tick
    if abs(price - nearest) <= abs(price) * SNAP_RELATIVE:
        return nearest
    return price


def level(table: Table, k: int) -> Decimal:
    """Level ``k`` as an exact Decimal (grid spec §2: float64 values convert exactly)."""
    return to_decimal(float(table[k]))


def entry_price(
    inst: Instrument, side: OrderSide, table: Table, rung: int, price: Decimal
) -> Decimal:
    """The tick-rounded limit price of an entry at ``rung`` with the current price ``price``:
    the level itself, or half-way to it when it is more than 10 % away (§4.6 step 3)."""
    lv = level(table, rung)
    buy = side is OrderSide.BUY
    near = lv >= (1 - FAR_RUNG) * price if buy else lv <= (1 + FAR_RUNG) * price
    x = lv if near else (price + lv) / 2
    return limit_price(inst, side, snap_to_tick(inst, x))


def tp_target(
    inst: Instrument, long: bool, table: Table, rung: int, fill: Decimal, price: Decimal
) -> Decimal:
    """Take-profit price of a lot (§4.7): one rung beyond its entry rung, clamped to the entry
    fill ``fill``, moved past the current price ``price`` when already crossed, rounded away."""
    if long:
        low, high = _TP_LONG
        target = min(max(fill * low, level(table, rung + 1)), fill * high)
        if target <= price:
            target = price * _TP_BUMP_UP
        return limit_price(inst, OrderSide.SELL, snap_to_tick(inst, target))
    high, low = _TP_SHORT
    target = max(min(fill * high, level(table, rung - 1)), fill * low)
    if target >= price:
        target = price * _TP_BUMP_DOWN
    return limit_price(inst, OrderSide.BUY, snap_to_tick(inst, target))
