"""Cross-field and venue rules of the HYPERRSI settings (hyperrsi spec §4, §15.1).

Every rule returns a message naming the fields involved; callers list them all at once.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING

from tbsdk.model import Instrument, PositionMode

if TYPE_CHECKING:
    from .config import HyperRsiConfig

__all__ = ["config_warnings", "cross_field_problems", "venue_problems"]

_D = Decimal


def _between(value: Decimal, lo: Decimal, hi: Decimal | None) -> bool:
    return value >= lo and (hi is None or value <= hi)


_RANGES: dict[str, tuple[Decimal, Decimal | None]] = {
    "margin_quote": (_D(1), _D(1_000_000)),
    "percent_of_equity": (_D("0.1"), _D(100)),
}


def cross_field_problems(cfg: HyperRsiConfig) -> list[str]:
    """Every broken cross-field rule of spec §4 / §15.1, each naming its fields."""
    out: list[str] = []
    if cfg.rsi_oversold >= cfg.rsi_overbought:
        out.append(
            f"rsi_oversold ({cfg.rsi_oversold}) must be below rsi_overbought ({cfg.rsi_overbought})"
        )
    bounds = _RANGES.get(cfg.investment_type)
    if bounds is not None and not _between(cfg.investment, *bounds):
        out.append(
            f"investment ({cfg.investment}) must be {bounds[0]}-{bounds[1]} for "
            f"investment_type {cfg.investment_type}"
        )
    out += _distance_problems(
        "pyramiding_value", cfg.pyramiding_value, "pyramiding_entry_type",
        cfg.pyramiding_entry_type, (_D("0.05"), _D(50)),
    )  # fmt: skip
    out += _distance_problems(
        "sl_value", cfg.sl_value, "sl_option", cfg.sl_option, (_D("0.1"), _D(99))
    )
    out += _tp_problems(cfg)
    if cfg.trailing_stop_active and not cfg.tp_enabled(cfg.trailing_level):
        out.append(
            f"trailing_start_point ({cfg.trailing_start_point}) must name an enabled TP level "
            f"(use_{cfg.trailing_start_point}, {cfg.trailing_start_point}_value > 0, "
            f"{cfg.trailing_start_point}_ratio > 0) when trailing_stop_active is on"
        )
    out += _hedge_problems(cfg)
    return out


def _distance_problems(
    name: str, value: Decimal, unit_name: str, unit: str, percent: tuple[Decimal, Decimal]
) -> list[str]:
    if unit == "percent" and not _between(value, *percent):
        return [f"{name} ({value}) must be {percent[0]}-{percent[1]} when {unit_name} is percent"]
    if unit == "atr" and not _between(value, _D("0.1"), _D(50)):
        return [f"{name} ({value}) must be 0.1-50 when {unit_name} is atr"]
    return []


def _tp_problems(cfg: HyperRsiConfig) -> list[str]:
    out: list[str] = []
    switched_on = [k for k in (1, 2, 3) if (cfg.use_tp1, cfg.use_tp2, cfg.use_tp3)[k - 1]]
    for k in switched_on:
        value = cfg.tp_value(k)
        if value <= 0:
            out.append(f"tp{k}_value must be > 0 when use_tp{k} is on")
        elif cfg.tp_option == "percent" and value > 1000:
            out.append(f"tp{k}_value ({value}) must be <= 1000 when tp_option is percent")
    for a, b in pairwise(switched_on):
        if cfg.tp_value(a) >= cfg.tp_value(b) > 0:
            out.append(
                f"tp{a}_value ({cfg.tp_value(a)}) must be below tp{b}_value ({cfg.tp_value(b)}): "
                "enabled levels increase in level order"
            )
    if switched_on and sum(cfg.tp_ratio(k) for k in switched_on) <= 0:
        names = ", ".join(f"tp{k}_ratio" for k in switched_on)
        out.append(f"the ratios of the enabled TP levels ({names}) must sum to more than 0")
    return out


def _hedge_problems(cfg: HyperRsiConfig) -> list[str]:
    out: list[str] = []
    if not cfg.use_dual_side_entry:
        return out
    value = cfg.dual_side_entry_ratio_value
    if cfg.dual_side_entry_ratio_type == "percent_of_position" and not _between(
        value, _D(1), _D(100)
    ):
        out.append(
            f"dual_side_entry_ratio_value ({value}) must be 1-100 when "
            "dual_side_entry_ratio_type is percent_of_position"
        )
    tp_rule, tp_value = cfg.dual_side_entry_tp_trigger_type, cfg.dual_side_entry_tp_value
    if tp_rule == "percent" and not _between(tp_value, _D("0.05"), _D(100)):
        out.append(
            f"dual_side_entry_tp_value ({tp_value}) must be 0.05-100 when "
            "dual_side_entry_tp_trigger_type is percent"
        )
    if tp_rule == "existing_position" and tp_value not in (1, 2, 3):
        out.append(
            f"dual_side_entry_tp_value ({tp_value}) must be 1, 2 or 3 (a main TP level) when "
            "dual_side_entry_tp_trigger_type is existing_position"
        )
    sl_rule, sl_value = cfg.dual_side_entry_sl_trigger_type, cfg.dual_side_entry_sl_value
    if cfg.use_dual_sl and sl_rule == "percent" and not _between(sl_value, _D("0.1"), _D(99)):
        out.append(
            f"dual_side_entry_sl_value ({sl_value}) must be 0.1-99 when "
            "dual_side_entry_sl_trigger_type is percent"
        )
    if cfg.use_dual_sl and sl_rule == "existing_position" and sl_value not in (1, 2, 3):
        out.append(
            f"dual_side_entry_sl_value ({sl_value}) must be 1, 2 or 3 (a main TP level) when "
            "dual_side_entry_sl_trigger_type is existing_position"
        )
    return out


def venue_problems(
    cfg: HyperRsiConfig, instrument: Instrument, position_mode: PositionMode
) -> list[str]:
    """Rules of spec §4 / §15.1 that need the instrument and the account (checked at start)."""
    out: list[str] = []
    if not instrument.is_derivative or instrument.settle != instrument.quote:
        out.append(
            f"symbol {cfg.symbol} must be a linear (quote-margined) perpetual or futures "
            "contract; spot and inverse markets are out of scope"
        )
    max_lev = instrument.max_leverage
    if max_lev is not None and cfg.leverage > max_lev:
        out.append(f"leverage ({cfg.leverage}) must be <= the instrument's maximum ({max_lev})")
    if cfg.investment_type == "contracts" and cfg.investment < instrument.min_size:
        out.append(
            f"investment ({cfg.investment} contracts) must be >= the minimum size "
            f"{instrument.min_size} when investment_type is contracts"
        )
    if cfg.use_dual_side_entry and position_mode is not PositionMode.HEDGE:
        out.append("use_dual_side_entry requires a hedge-mode account (position mode is one-way)")
    if (
        cfg.use_dual_side_entry
        and cfg.dual_side_entry_ratio_type == "contracts"
        and cfg.dual_side_entry_ratio_value < instrument.min_size
    ):
        out.append(
            f"dual_side_entry_ratio_value ({cfg.dual_side_entry_ratio_value} contracts) must be "
            f">= the minimum size {instrument.min_size}"
        )
    return out


def config_warnings(cfg: HyperRsiConfig) -> list[str]:
    """What §4 says to warn about without refusing: a stop inside the first DCA level."""
    if (
        cfg.use_sl
        and not cfg.use_sl_on_last
        and cfg.pyramiding_limit > 1
        and cfg.sl_option == cfg.pyramiding_entry_type
        and cfg.sl_value <= cfg.pyramiding_value
    ):
        return [
            f"sl_value ({cfg.sl_value}) is not beyond pyramiding_value ({cfg.pyramiding_value}): "
            "the stop-loss triggers before the first DCA level"
        ]
    return []
