"""Price arithmetic shared by every order (hyperrsi spec §2): rounding per price kind, the
distance units, and ``ATR_eff``.

All inputs are Decimal; an ATR (float64) enters by exact conversion of its binary value.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Literal

from tbsdk.model import Instrument
from tbsdk.money import ceil_to, floor_to, to_decimal

__all__ = ["PriceKind", "atr_eff", "offset", "round_price", "sign"]

PriceKind = Literal["take_profit", "loss_stop", "lock_in"]

ATR_FLOOR = Decimal("0.001")
_HUNDRED = Decimal(100)


def sign(side: str) -> int:
    """``m`` of §2: +1 for a long position, −1 for a short one."""
    return 1 if side == "long" else -1


def round_price(price: Decimal, kind: PriceKind, m: int, inst: Instrument) -> Decimal:
    """Round to the tick per the table of §2.

    Take-profits and loss stops round away from the entry (never tighter than configured);
    lock-in stops round toward profit (never lock in less than configured).
    """
    tick = inst.tick(price)
    up = (kind != "loss_stop") == (m > 0)
    return ceil_to(price, tick) if up else floor_to(price, tick)


def atr_eff(atr: float, ref: Decimal) -> Decimal:
    """``max(ATR14, 0.001 · ref)``; before the ATR exists only the floor applies."""
    floor = ATR_FLOOR * ref
    if math.isnan(atr):
        return floor
    return max(to_decimal(atr), floor)


def offset(x: Decimal, direction: int, unit: str, value: Decimal, atr: float) -> Decimal:
    """``x`` moved ``value`` in ``unit`` (percent / price / atr) in ``direction`` (+1 up, −1
    down): ``x·(1 + d·v/100)``, ``x + d·v`` or ``x + d·ATR_eff·v`` with ``ref = x``."""
    if unit == "percent":
        return x * (1 + direction * value / _HUNDRED)
    if unit == "price":
        return x + direction * value
    if unit == "atr":
        return x + direction * atr_eff(atr, x) * value
    raise ValueError(f"unknown distance unit {unit!r}")
