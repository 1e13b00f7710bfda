"""Exact decimal helpers for prices and sizes.

Prices and sizes cross every boundary as :class:`decimal.Decimal`. Floats (indicator values) enter
money math through :func:`to_decimal`, which converts the binary value exactly, never via a
rounded string, so the same float always gives the same order price.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

__all__ = ["MONEY_CONTEXT", "ceil_to", "floor_to", "to_decimal"]

MONEY_CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN)
"""34 significant digits (IEEE decimal128), no intermediate rounding in practice."""


def to_decimal(value: Decimal | int | float | str) -> Decimal:
    """Convert exactly: a float becomes the decimal of its binary value, not of its repr."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"cannot use {value!r} as a price or size")
        return Decimal(value)
    return Decimal(value)


def _check_step(step: Decimal) -> None:
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")


def floor_to(x: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of ``step`` that is ``<= x``."""
    _check_step(step)
    units = (x / step).to_integral_value(rounding=ROUND_FLOOR, context=MONEY_CONTEXT)
    return units * step


def ceil_to(x: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of ``step`` that is ``>= x``."""
    _check_step(step)
    units = (x / step).to_integral_value(rounding=ROUND_CEILING, context=MONEY_CONTEXT)
    return units * step
