"""The protective stop's candidates (hyperrsi spec §12): stop-loss, break-even targets and the
trailing stop. The order (one ``stp`` stop-market) sits at the most protective of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tbsdk.model import Instrument

from .config import HyperRsiConfig
from .pricing import offset, round_price

__all__ = [
    "TRAIL_MIN_OFFSET",
    "break_even_candidate",
    "most_protective",
    "stop_loss_price",
    "trailing_offset",
    "trailing_stop_price",
]

TRAIL_MIN_OFFSET = Decimal("0.001")
_HUNDRED = Decimal(100)


def stop_loss_price(
    cfg: HyperRsiConfig,
    m: int,
    avg: Decimal,
    ladder: list[Decimal],
    entry_count: int,
    atr: float,
    inst: Instrument,
) -> Decimal | None:
    """§12.1: ``sl_value`` beyond the anchor, rounded away from the entry; None without
    ``use_sl``. The anchor is the average, or the last DCA rung ``L_R`` with
    ``use_sl_on_last`` while the ladder is not full. The result may be ≤ 0 (no stop can exist:
    the caller reports the position unprotected)."""
    if not cfg.use_sl:
        return None
    anchor = avg
    if cfg.use_sl_on_last and entry_count < cfg.pyramiding_limit and ladder:
        anchor = ladder[-1]
    raw = offset(anchor, -m, cfg.sl_option, cfg.sl_value, atr)
    if raw <= 0:
        return raw
    return round_price(raw, "loss_stop", m, inst)


def break_even_candidate(
    cfg: HyperRsiConfig,
    level: int,
    m: int,
    avg: Decimal,
    prices: Mapping[int, Decimal],
    enabled: list[int],
    inst: Instrument,
) -> Decimal | None:
    """§12.3: the lock-in price when ``level`` is reached, or None when its rule is off.

    TP1 → the average; TP2 → the TP1 price (the average if level 1 is not enabled); TP3 → the
    TP2 price (likewise). Rounded toward profit: never lock in less than configured.
    """
    if level == 1 and cfg.use_break_even:
        target = avg
    elif level == 2 and cfg.use_break_even_tp2:
        target = prices[1] if 1 in enabled else avg
    elif level == 3 and cfg.use_break_even_tp3:
        target = prices[2] if 2 in enabled else avg
    else:
        return None
    return round_price(target, "lock_in", m, inst)


def trailing_offset(
    cfg: HyperRsiConfig, start_price: Decimal, prices: Mapping[int, Decimal]
) -> Decimal:
    """§12.4: fixed at activation; ``fixed_percent`` of the start level's price, or
    ``|TP3 − TP2|`` (falling back to ``fixed_percent`` when either level has no price); never
    below ``TRAIL_MIN_OFFSET`` of the start price."""
    fixed = start_price * cfg.trailing_stop_offset_value / _HUNDRED
    value = fixed
    if cfg.trailing_stop_type == "tp2_tp3_difference" and 2 in prices and 3 in prices:
        value = abs(prices[3] - prices[2])
    return max(value, TRAIL_MIN_OFFSET * start_price)


def trailing_stop_price(extreme: Decimal, distance: Decimal, m: int, inst: Instrument) -> Decimal:
    """``TS = X − m·offset`` rounded as a loss stop (§2)."""
    return round_price(extreme - m * distance, "loss_stop", m, inst)


def most_protective(m: int, *prices: Decimal | None) -> Decimal | None:
    """The highest candidate for a long, the lowest for a short; None if there is none."""
    present = [p for p in prices if p is not None]
    if not present:
        return None
    return max(present) if m > 0 else min(present)
