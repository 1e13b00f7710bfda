"""The take-profit ladder (hyperrsi spec §11): prices, the enabled and placed sets, sizes.

Prices exist for every level with ``tpk_value > 0``, enabled or not, so that break-even and the
trailing offset (§12) can refer to them. Prices and ratios are paired **by level**.
"""

from __future__ import annotations

from decimal import Decimal

from tbsdk.model import Instrument
from tbsdk.money import floor_to

from .config import HyperRsiConfig
from .pricing import offset, round_price

__all__ = [
    "LEVELS",
    "TP_MIN_DIST",
    "enabled_levels",
    "placed_levels",
    "tp_prices",
    "tp_sizes",
    "tp_weights",
]

LEVELS = (1, 2, 3)
TP_MIN_DIST = Decimal("0.0001")


def tp_prices(
    cfg: HyperRsiConfig, m: int, base: Decimal, ref: Decimal, atr: float, inst: Instrument
) -> dict[int, Decimal]:
    """Rounded TP price per level with a distance: ``raw`` clamped at least ``TP_MIN_DIST``
    beyond both the average ``base`` and the fill ``ref`` that caused the rebuild."""
    out: dict[int, Decimal] = {}
    for k in LEVELS:
        value = cfg.tp_value(k)
        if value <= 0:
            continue
        raw = offset(base, m, cfg.tp_option, value, atr)
        floor_base = base * (1 + m * TP_MIN_DIST)
        floor_ref = ref * (1 + m * TP_MIN_DIST)
        clamped = max(raw, floor_base, floor_ref) if m > 0 else min(raw, floor_base, floor_ref)
        out[k] = round_price(clamped, "take_profit", m, inst)
    return out


def enabled_levels(cfg: HyperRsiConfig) -> list[int]:
    """``E``: levels switched on with a distance and a share."""
    return [k for k in LEVELS if cfg.tp_enabled(k)]


def tp_weights(cfg: HyperRsiConfig, enabled: list[int]) -> dict[int, Decimal]:
    """``w_k = ratio_k / Σ_E ratio``."""
    total = sum((cfg.tp_ratio(k) for k in enabled), Decimal(0))
    return {k: cfg.tp_ratio(k) / total for k in enabled} if total > 0 else {}


def placed_levels(cfg: HyperRsiConfig, enabled: list[int]) -> list[int]:
    """Levels that get an order: all of E without trailing; with trailing from level s, the
    levels below s, and s itself only if it is not the highest of E (the highest start level
    activates trailing on price reach instead, so a remainder always trails)."""
    if not cfg.trailing_stop_active:
        return list(enabled)
    s = cfg.trailing_level
    placed = [k for k in enabled if k < s]
    if s in enabled and s != max(enabled):
        placed.append(s)
    return placed


def tp_sizes(
    size: Decimal,
    placed: list[int],
    weights: dict[int, Decimal],
    trailing_on: bool,
    inst: Instrument,
) -> dict[int, Decimal]:
    """Size per placed level, ascending: ``floor_to(Q·w_k)`` raised to ``min_size`` and capped
    at what remains; without trailing the highest placed level takes the whole remainder.
    A level sized 0 is to be skipped."""
    out: dict[int, Decimal] = {}
    remaining = size
    last = placed[-1] if placed else None
    for k in placed:
        if not trailing_on and k == last:
            qty = remaining
        else:
            qty = floor_to(size * weights[k], inst.lot_step)
            if qty < inst.min_size:
                qty = inst.min_size
            qty = min(qty, remaining)
        qty = max(qty, Decimal(0))
        out[k] = qty
        remaining -= qty
    return out
