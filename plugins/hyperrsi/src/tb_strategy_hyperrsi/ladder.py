"""The DCA ladder (hyperrsi spec §10).

Levels are chained from the reference ``r`` (average price or last fill): ``L1 = f(r)``,
``L_{j+1} = f(L_j)`` for the ``R = pyramiding_limit − entry_count`` remaining DCAs, where ``f``
moves against the position by ``pyramiding_value`` in its unit. The ladder is computed when a
fill is processed and stays fixed until the next fill; prices are not rounded (only ``L1``
gates a DCA, ``L_R`` anchors ``use_sl_on_last`` and the hedge TP).
"""

from __future__ import annotations

from decimal import Decimal

from .pricing import atr_eff, offset

__all__ = ["dca_ladder", "dca_price_reached"]


def dca_ladder(
    reference: Decimal, m: int, unit: str, value: Decimal, atr: float, remaining: int
) -> list[Decimal]:
    """``[L1 … L_R]``; empty when no DCA remains.

    An ATR ladder steps by ``ATR_eff · v`` with ``ref = r`` for every rung: the ATR as of the
    last closed bar, fixed for the whole ladder.
    """
    step = atr_eff(atr, reference) * value if unit == "atr" else None
    rungs: list[Decimal] = []
    level = reference
    for _ in range(max(remaining, 0)):
        level = level - m * step if step is not None else offset(level, -m, unit, value, atr)
        rungs.append(level)
    return rungs


def dca_price_reached(price: Decimal, first_rung: Decimal, m: int) -> bool:
    """Long ``P ≤ L1``; short ``P ≥ L1``."""
    return price <= first_rung if m > 0 else price >= first_rung
