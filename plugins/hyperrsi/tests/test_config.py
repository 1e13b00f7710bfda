"""Settings (hyperrsi spec §4, §15.1, §18): defaults, ranges, every cross-field rule refused with
a message naming its fields, venue rules at start, presets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from tb_strategy_hyperrsi import PRESETS, HyperRsiConfig, find_preset
from tb_strategy_hyperrsi.validation import config_warnings, venue_problems
from tbsdk.model import Instrument, MarketType, PositionMode

D = Decimal


def test_defaults_are_the_spec_defaults() -> None:
    c = HyperRsiConfig()
    expected: dict[str, Any] = {
        "timeframe": "1m", "signal_mode": "bar_close", "intrabar_min_interval_s": 5,
        "warmup_bars": 1000, "direction": "both", "investment_type": "margin_quote",
        "investment": D(20), "leverage": 10, "margin_mode": "isolated", "rsi_length": 14,
        "rsi_oversold": 30.0, "rsi_overbought": 70.0, "entry_option": "breakout",
        "use_trend_logic": True, "trend_timeframe": "auto", "use_longer_trend": False,
        "longer_trend_ma": "ema", "use_trend_close": True, "pyramiding_limit": 4,
        "entry_multiplier": D("1.0"), "pyramiding_entry_type": "percent",
        "pyramiding_value": D("3.0"), "entry_criterion": "average_price",
        "use_check_dca_with_price": True, "use_rsi_with_pyramiding": True,
        "tp_option": "percent", "use_tp1": True, "use_tp2": True, "use_tp3": True,
        "tp1_value": D(2), "tp2_value": D(3), "tp3_value": D(4), "tp1_ratio": D(30),
        "tp2_ratio": D(30), "tp3_ratio": D(40), "use_sl": False, "sl_option": "percent",
        "sl_value": D(5), "use_sl_on_last": False, "use_break_even": True,
        "use_break_even_tp2": True, "use_break_even_tp3": True, "trailing_stop_active": True,
        "trailing_start_point": "tp3", "trailing_stop_type": "fixed_percent",
        "trailing_stop_offset_value": D("0.5"), "use_cooldown": True, "cooldown_time": 300,
        "max_consecutive_entry_failures": 5, "on_stop_action": "keep_position",
        "use_dual_side_entry": False, "dual_side_entry_trigger": 3,
        "dual_side_entry_ratio_type": "percent_of_position", "dual_side_entry_ratio_value": D(30),
        "dual_side_pyramiding_limit": 1,
        "dual_side_entry_tp_trigger_type": "last_dca_on_position",
        "dual_side_entry_tp_value": D("0.3"), "close_main_on_hedge_tp": False,
        "use_dual_sl": False, "dual_side_entry_sl_trigger_type": "percent",
        "dual_side_entry_sl_value": D(5), "preset_id": None,
    }  # fmt: skip
    for name, value in expected.items():
        assert getattr(c, name) == value, name
    # Every setting has a description (the API and bot show them).
    assert all(f.description for f in HyperRsiConfig.model_fields.values())


@pytest.mark.parametrize(
    ("settings", "fields"),
    [
        ({"rsi_oversold": 70, "rsi_overbought": 70}, ["rsi_oversold", "rsi_overbought"]),
        ({"rsi_oversold": 80, "rsi_overbought": 20}, ["rsi_oversold", "rsi_overbought"]),
        ({"tp1_value": 3, "tp2_value": 3}, ["tp1_value", "tp2_value"]),
        ({"tp2_value": 5, "tp3_value": 4}, ["tp2_value", "tp3_value"]),
        # Order is checked among enabled levels only: TP2 off, TP1 4 and TP3 3 still clash.
        ({"use_tp2": False, "tp1_value": 4, "tp3_value": 3}, ["tp1_value", "tp3_value"]),
        ({"tp1_value": 0}, ["tp1_value", "use_tp1"]),
        ({"tp1_ratio": 0, "tp2_ratio": 0, "tp3_ratio": 0}, ["tp1_ratio", "tp2_ratio", "tp3_ratio"]),
        ({"tp_option": "percent", "tp3_value": 1001}, ["tp3_value", "tp_option"]),
        ({"use_tp3": False}, ["trailing_start_point", "use_tp3"]),
        ({"tp2_ratio": 0, "trailing_start_point": "tp2"}, ["trailing_start_point", "tp2_ratio"]),
        ({"investment": "0.5"}, ["investment", "investment_type"]),
        ({"investment_type": "percent_of_equity", "investment": 101}, ["investment"]),
        ({"pyramiding_value": "0.01"}, ["pyramiding_value", "pyramiding_entry_type"]),
        ({"pyramiding_entry_type": "atr", "pyramiding_value": 60}, ["pyramiding_value"]),
        ({"sl_value": 99.5}, ["sl_value", "sl_option"]),
        ({"sl_option": "atr", "sl_value": "0.05"}, ["sl_value", "sl_option"]),
        (
            {"use_dual_side_entry": True, "dual_side_entry_ratio_value": 150},
            ["dual_side_entry_ratio_value", "dual_side_entry_ratio_type"],
        ),
        (
            {
                "use_dual_side_entry": True,
                "dual_side_entry_tp_trigger_type": "existing_position",
                "dual_side_entry_tp_value": 4,
            },
            ["dual_side_entry_tp_value", "dual_side_entry_tp_trigger_type"],
        ),
        (
            {
                "use_dual_side_entry": True,
                "dual_side_entry_tp_trigger_type": "percent",
                "dual_side_entry_tp_value": "0.01",
            },
            ["dual_side_entry_tp_value"],
        ),
        (
            {
                "use_dual_side_entry": True,
                "use_dual_sl": True,
                "dual_side_entry_sl_trigger_type": "existing_position",
                "dual_side_entry_sl_value": "1.5",
            },
            ["dual_side_entry_sl_value", "dual_side_entry_sl_trigger_type"],
        ),
        (
            {"use_dual_side_entry": True, "use_dual_sl": True, "dual_side_entry_sl_value": 100},
            ["dual_side_entry_sl_value"],
        ),
    ],
)
def test_invalid_combinations_are_refused_naming_the_fields(
    settings: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(ValidationError) as info:
        HyperRsiConfig.model_validate(settings)
    message = str(info.value)
    for field in fields:
        assert field in message, (field, message)


def test_every_reason_is_listed_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        HyperRsiConfig.model_validate(
            {"rsi_oversold": 90, "tp1_value": 5, "investment": "0.1", "use_tp3": False}
        )
    message = str(info.value)
    for field in ("rsi_oversold", "tp1_value", "investment", "trailing_start_point"):
        assert field in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeframe", "7m"), ("rsi_length", 1), ("rsi_length", 101), ("leverage", 0),
        ("leverage", 126), ("warmup_bars", 199), ("cooldown_time", 3001),
        ("pyramiding_limit", 11), ("entry_multiplier", "5.1"), ("tp1_ratio", 101),
        ("trailing_stop_offset_value", "0.05"), ("dual_side_entry_trigger", 1),
        ("max_consecutive_entry_failures", 0), ("trend_timeframe", "1m"), ("direction", "up"),
    ],
)  # fmt: skip
def test_ranges_are_enforced(name: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=name):
        HyperRsiConfig.model_validate({name: value})


def test_disabled_levels_may_have_no_distance() -> None:
    c = HyperRsiConfig.model_validate(
        {"use_tp3": False, "tp3_value": 0, "trailing_start_point": "tp2"}
    )
    assert not c.tp_enabled(3)
    assert c.tp_enabled(2)


def test_config_is_frozen() -> None:
    c = HyperRsiConfig()
    with pytest.raises(ValidationError):
        c.leverage = 5


def _swap(**update: Any) -> Instrument:
    base = Instrument(
        exchange="x", symbol="BTC/USDT:USDT", base="BTC", quote="USDT", settle="USDT",
        type=MarketType.SWAP, contract_size=D("0.01"), tick_size=D("0.1"), lot_step=D("0.01"),
        min_size=D("0.01"), max_leverage=D(50),
    )  # fmt: skip
    return base.model_copy(update=update)


def test_venue_rules_checked_at_start() -> None:
    ok = HyperRsiConfig()
    assert venue_problems(ok, _swap(), PositionMode.ONE_WAY) == []
    high = HyperRsiConfig.model_validate({"leverage": 75})
    assert any("leverage" in p for p in venue_problems(high, _swap(), PositionMode.ONE_WAY))
    hedge = HyperRsiConfig.model_validate({"use_dual_side_entry": True})
    (problem,) = venue_problems(hedge, _swap(), PositionMode.ONE_WAY)
    assert "use_dual_side_entry" in problem
    assert "hedge-mode" in problem
    assert venue_problems(hedge, _swap(), PositionMode.HEDGE) == []
    contracts = HyperRsiConfig.model_validate(
        {"investment_type": "contracts", "investment": "0.001"}
    )
    assert any("investment" in p for p in venue_problems(contracts, _swap(), PositionMode.ONE_WAY))
    spot = _swap(type=MarketType.SPOT, settle=None, symbol="BTC/USDT")
    assert any("linear" in p for p in venue_problems(ok, spot, PositionMode.ONE_WAY))
    inverse = _swap(settle="BTC", symbol="BTC/USD:BTC", quote="USD")
    assert any("linear" in p for p in venue_problems(ok, inverse, PositionMode.ONE_WAY))


def test_warning_when_the_stop_fires_before_the_first_dca() -> None:
    assert config_warnings(HyperRsiConfig()) == []
    inside = HyperRsiConfig.model_validate({"use_sl": True, "sl_value": 2})
    (warning,) = config_warnings(inside)
    assert "sl_value" in warning
    assert "pyramiding_value" in warning
    assert config_warnings(HyperRsiConfig.model_validate({"use_sl": True})) == []


def test_preset_resolution_defaults_preset_overrides() -> None:
    c = HyperRsiConfig.model_validate({"preset_id": "swing_1h", "pyramiding_limit": 2})
    assert c.preset_id == "swing_1h@1"  # the resolved version is stored
    assert c.timeframe == "1h"  # from the preset
    assert c.pyramiding_limit == 2  # the override wins
    assert c.tp1_value == D(3)
    assert c.rsi_length == 14  # the default
    again = HyperRsiConfig.model_validate(c.model_dump(mode="json"))
    assert again == c


def test_unknown_preset_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"preset_id 'nope'.*default@1"):
        HyperRsiConfig.model_validate({"preset_id": "nope"})
    with pytest.raises(ValidationError, match="swing_1h@9"):
        HyperRsiConfig.model_validate({"preset_id": "swing_1h@9"})


def test_every_builtin_preset_validates() -> None:
    for preset in PRESETS:
        assert find_preset(preset.preset_id) is preset
        HyperRsiConfig.model_validate({"preset_id": preset.preset_id})
