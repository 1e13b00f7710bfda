"""Classic grid quantities (grid spec §5.3) with the minimum-size rule of §2.

``equal_base``: every interval ``q = floor_to(investment·leverage / (N·p0·ct), lot_step)``;
``equal_quote``: interval j ``q_j = floor_to(investment·leverage / (N·L_j·ct), lot_step)``. A size
below the exchange minimum (size or notional, checked at the interval's buy price ``L_j``, its
lower end) is raised to it; if that makes the grid commit more than 110 % of the investment the
grid is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tbsdk.errors import ConfigError
from tbsdk.model import Instrument

from .config import OrderSizeMode
from .rounding import min_order_size, order_size

__all__ = ["MAX_OVER_INVESTMENT", "Sizing", "interval_quantities", "interval_quantity"]

MAX_OVER_INVESTMENT = Decimal("1.1")
"""Raised sizes may commit at most this multiple of the investment (grid spec §5.3)."""


@dataclass(frozen=True, slots=True)
class Sizing:
    """Quantities of the N intervals and what the minimums changed."""

    qtys: list[Decimal]
    raised: list[str]
    """One line per raised interval: which, from what, to what, and why."""
    commitment: Decimal
    """Margin the sized grid commits: Σ q_j·ct·price_j / leverage, with the price each size
    was computed from (p0 for equal_base, L_j for equal_quote)."""


def interval_quantity(
    mode: OrderSizeMode,
    investment: Decimal,
    leverage: int,
    intervals: int,
    p0: Decimal,
    buy_level: Decimal,
    inst: Instrument,
) -> tuple[Decimal, str | None]:
    """One interval's size after the minimum rule, and a note when the minimum raised it."""
    ref = p0 if mode is OrderSizeMode.EQUAL_BASE else buy_level
    raw = investment * leverage / (intervals * ref * inst.contract_size)
    sized = order_size(inst, raw, buy_level)
    if not sized.raised:
        return sized.qty, None
    floored = inst.floor_size(raw)
    why = _binding_minimum(inst, buy_level)
    return sized.qty, f"{floored} raised to {sized.qty} by the {why} at {buy_level}"


def interval_quantities(
    mode: OrderSizeMode,
    investment: Decimal,
    leverage: int,
    levels: list[Decimal],
    p0: Decimal,
    inst: Instrument,
) -> Sizing:
    """Sizes of every interval of ``levels``; raises :class:`ConfigError` when the minimums
    would over-commit the investment by more than 10 %."""
    n = len(levels) - 1
    qtys: list[Decimal] = []
    raised: list[str] = []
    commitment = Decimal(0)
    for j in range(n):
        qty, note = interval_quantity(mode, investment, leverage, n, p0, levels[j], inst)
        qtys.append(qty)
        if note is not None:
            raised.append(f"interval {j}: {note}")
        ref = p0 if mode is OrderSizeMode.EQUAL_BASE else levels[j]
        commitment += qty * inst.contract_size * ref / leverage
    limit = investment * MAX_OVER_INVESTMENT
    if raised and commitment > limit:
        over = (commitment / investment - 1) * 100
        raise ConfigError(
            f"the exchange minimums raise the grid's sizes ({'; '.join(raised)}), so it would "
            f"commit {commitment:.2f} {inst.settle or inst.quote} against an investment of "
            f"{investment} ({over:.1f} % over, at most 10 % allowed): raise investment or "
            "lower grid_count"
        )
    return Sizing(qtys, raised, commitment)


def _binding_minimum(inst: Instrument, price: Decimal) -> str:
    by_size = min_order_size(inst.model_copy(update={"min_notional": Decimal(0)}), price)
    if min_order_size(inst, price) > by_size:
        return f"minimum notional {inst.min_notional} {inst.quote}"
    return f"minimum size {inst.min_size}"
