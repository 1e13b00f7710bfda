"""Dual-side hedge arithmetic (hyperrsi spec §15): target size and the TP / stop prices.

Directions are the hedge's own (``m_h = +1`` for a long hedge, −1 for a short one): the
take-profit sits on the hedge's profit side, the stop on its loss side, as §15.3 states in words
("hedge short: TP below, stop above"). The percent rules use the **hedge's** average entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tbsdk.model import Instrument
from tbsdk.money import floor_to

from .config import HyperRsiConfig
from .pricing import round_price

__all__ = ["hedge_sl_price", "hedge_target", "hedge_tp_price"]

_HUNDRED = Decimal(100)


def hedge_target(cfg: HyperRsiConfig, main_size: Decimal, inst: Instrument) -> Decimal:
    """``H*`` of §15.2: a share of the main size floored to the lot, or a number of contracts;
    at least the instrument's minimum size."""
    value = cfg.dual_side_entry_ratio_value
    if cfg.dual_side_entry_ratio_type == "percent_of_position":
        target = floor_to(main_size * value / _HUNDRED, inst.lot_step)
    else:
        target = floor_to(value, inst.lot_step)
    return max(target, inst.min_size)


def hedge_tp_price(
    cfg: HyperRsiConfig,
    m_h: int,
    hedge_avg: Decimal,
    main_ladder: list[Decimal],
    main_stop: Decimal | None,
    inst: Instrument,
) -> Decimal | None:
    """§15.3 take-profit: none (``do_not_close``), the hedge entry moved by ``v`` % into profit,
    the main's last DCA rung, or the main's current stop price; rounded as a take-profit."""
    rule, value = cfg.dual_side_entry_tp_trigger_type, cfg.dual_side_entry_tp_value
    if rule == "percent":
        raw: Decimal | None = hedge_avg * (1 + m_h * value / _HUNDRED)
    elif rule == "last_dca_on_position":
        raw = main_ladder[-1] if main_ladder else None
    elif rule == "existing_position":
        raw = main_stop
    else:
        raw = None
    if raw is None or raw <= 0:
        return None
    return round_price(raw, "take_profit", m_h, inst)


def hedge_sl_price(
    cfg: HyperRsiConfig,
    m_h: int,
    hedge_avg: Decimal,
    main_tp: Mapping[int, Decimal],
    inst: Instrument,
) -> Decimal | None:
    """§15.3 stop (with ``use_dual_sl``): the hedge entry moved by ``v`` % against it, or the
    main's TP price of level ``v``; rounded as a loss stop."""
    if not cfg.use_dual_sl:
        return None
    value = cfg.dual_side_entry_sl_value
    if cfg.dual_side_entry_sl_trigger_type == "percent":
        raw: Decimal | None = hedge_avg * (1 - m_h * value / _HUNDRED)
    else:
        raw = main_tp.get(int(value))
    if raw is None or raw <= 0:
        return None
    return round_price(raw, "loss_stop", m_h, inst)
