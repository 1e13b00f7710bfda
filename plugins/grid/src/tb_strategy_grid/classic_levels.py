"""Classic grid levels (grid spec §5.2) and the checks on them (§5.1).

Arithmetic ``L_i = lower + i·(upper − lower)/N``; geometric ``L_i = lower·(upper/lower)^(i/N)``,
computed with 60 significant digits (the fractional power too, never in float), then rounded to
the nearest tick, halves up. ``i`` may exceed N: trailing-up (§5.6) extends the same sequence
above the original top, so shifted levels keep the exact spacing instead of accumulating
rounding.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from tbsdk.errors import ConfigError
from tbsdk.model import Instrument

from .config import GridMode
from .rounding import nearest_tick

__all__ = ["LEVEL_DIGITS", "GridGeometry", "check_intervals", "thin_interval_warning"]

LEVEL_DIGITS = 60
"""Significant digits of the level arithmetic (the spec asks for at least 50)."""

_CTX = decimal.Context(prec=LEVEL_DIGITS, rounding=decimal.ROUND_HALF_EVEN)
MIN_INTERVAL_TICKS = 2


@dataclass(frozen=True, slots=True)
class GridGeometry:
    """The level sequence of a classic grid: its origin range and interval count."""

    mode: GridMode
    lower: Decimal
    upper: Decimal
    intervals: int

    def exact(self, i: int) -> Decimal:
        """Level ``i`` before rounding (``i`` = 0..N, or above N after trailing shifts)."""
        n = Decimal(self.intervals)
        if self.mode is GridMode.ARITHMETIC:
            step = _CTX.divide(_CTX.subtract(self.upper, self.lower), n)
            return _CTX.add(self.lower, _CTX.multiply(step, Decimal(i)))
        if self.mode is GridMode.GEOMETRIC:
            ratio = _CTX.divide(self.upper, self.lower)
            return _CTX.multiply(self.lower, _CTX.power(ratio, _CTX.divide(Decimal(i), n)))
        raise ValueError(f"{self.mode} is not a classic grid mode")

    def level(self, i: int, inst: Instrument) -> Decimal:
        """Level ``i`` on the tick grid (nearest tick, halves up)."""
        return nearest_tick(inst, self.exact(i))

    def levels(self, inst: Instrument, first: int = 0) -> list[Decimal]:
        """The N + 1 rounded levels starting at sequence index ``first``."""
        return [self.level(i, inst) for i in range(first, first + self.intervals + 1)]


def check_intervals(levels: list[Decimal], inst: Instrument) -> None:
    """Refuse a grid with an interval narrower than two ticks after rounding (grid spec §5.1),
    naming the interval and by how much it falls short."""
    if levels[0] <= 0:
        raise ConfigError(
            f"the lowest level rounds to {levels[0]} on the tick grid of {inst.symbol}; "
            "raise lower_price"
        )
    for j in range(len(levels) - 1):
        low, high = levels[j], levels[j + 1]
        tick = inst.tick(high)
        need = tick * MIN_INTERVAL_TICKS
        width = high - low
        if width < need:
            raise ConfigError(
                f"interval {j} [{low}, {high}] is {width} wide after rounding to the tick "
                f"{tick}; every interval needs at least {MIN_INTERVAL_TICKS} ticks ({need}), "
                f"{need - width} more: use a smaller grid_count or a wider range"
            )


def thin_interval_warning(levels: list[Decimal], taker_fee: Decimal) -> str | None:
    """A warning when the smallest interval's relative width is below twice the taker fee
    (a grid pair would not cover its two fees), else None (grid spec §5.1)."""
    widths = [(levels[j + 1] - levels[j]) / levels[j] for j in range(len(levels) - 1)]
    j = min(range(len(widths)), key=lambda k: widths[k])
    floor = 2 * taker_fee
    if widths[j] >= floor:
        return None
    pct = Decimal(100)
    return (
        f"the smallest interval {j} [{levels[j]}, {levels[j + 1]}] is "
        f"{(widths[j] * pct).quantize(Decimal('0.0001'))} % wide, below twice the taker fee "
        f"({floor * pct} %): a pair on it loses money after fees"
    )
