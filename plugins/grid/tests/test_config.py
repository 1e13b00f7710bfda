"""Settings of grid spec §3, §4.1, §5.1: defaults, bounds and the cross-field rules, each
refusal naming its fields; plus the strategy conformance suite of tbsdk.testing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pydantic
import pytest

from tb_strategy_grid.config import GridConfig, GridMode
from tb_strategy_grid.strategy import Grid
from tbsdk import Strategy
from tbsdk.testing import StrategyConformance

D = Decimal
CLASSIC: dict[str, Any] = {
    "mode": "arithmetic", "symbol": "BTC/USDT", "lower_price": "64000",
    "upper_price": "70000", "grid_count": 12, "investment": "5000", "eval_timeframe": "5m",
}  # fmt: skip


class TestGridConformance(StrategyConformance):
    @pytest.fixture
    def strategy_class(self) -> type[Strategy[Any]]:
        return Grid

    @pytest.fixture
    def strategy_settings(self) -> dict[str, Any]:
        return dict(CLASSIC)


def test_defaults_follow_the_spec_tables() -> None:
    c = GridConfig()
    common = (c.mode, c.direction.value, c.leverage, c.margin_mode.value, c.eval_timeframe.value,
              c.signal_mode.value, c.post_only, c.warmup_bars, c.on_stop_action.value)  # fmt: skip
    assert common == (GridMode.ADAPTIVE, "long", 1, "isolated", "1m", "bar_close", False, 500,
                      "cancel_orders")  # fmt: skip
    adaptive = (c.grid_num, c.level_capital, c.band_mult, c.min_gap, c.stop_loss_pct,
                c.custom_stop_minutes, c.symbol_mode.value, c.symbols, c.max_active_symbols,
                c.ban_list, c.white_list, c.rank_lookback_days, c.rank_refresh_minutes,
                c.exclude_completed)  # fmt: skip
    assert adaptive == (20, (D(10),), D("0.5"), D("0.004"), None, None, "fixed", (), 5, (), (),
                        14, 240, True)  # fmt: skip
    classic = (c.grid_count, c.order_size_mode.value, c.trailing_up, c.trailing_up_limit_price,
               c.exit_lower_price, c.exit_upper_price, c.range_exit_action.value)  # fmt: skip
    assert classic == (20, "equal_base", False, None, None, None, "close_and_stop")


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("leverage", 0), ("leverage", 126), ("grid_count", 1), ("grid_count", 201),
        ("grid_num", 3), ("grid_num", 41), ("band_mult", "0.09"), ("band_mult", "2.01"),
        ("min_gap", "0.0009"), ("min_gap", "0.051"), ("warmup_bars", 199), ("warmup_bars", 5001),
        ("stop_loss_pct", "0.09"), ("stop_loss_pct", "50.1"), ("custom_stop_minutes", 0),
        ("max_active_symbols", 21), ("rank_lookback_days", 91), ("rank_refresh_minutes", 14),
        ("eval_timeframe", "1h"), ("investment", "0"), ("lower_price", "-1"),
        ("level_capital", ["0.5"]), ("level_capital", []),
    ],
)  # fmt: skip
def test_bounds(field: str, bad: Any) -> None:
    with pytest.raises(pydantic.ValidationError, match=field):
        GridConfig.model_validate({**CLASSIC, field: bad})


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"upper_price": "64000"}, r"lower_price \(64000\) must be below upper_price \(64000\)"),
        ({"upper_price": "60000"}, r"lower_price \(64000\) must be below upper_price \(60000\)"),
        ({"investment": None}, "mode = arithmetic needs investment"),
        ({"symbol": None, "lower_price": None}, "needs symbol, lower_price"),
        ({"trailing_up": True, "direction": "short"}, "trailing_up works with direction = long"),
        ({"trailing_up_limit_price": "70000"}, r"trailing_up_limit_price \(70000\) must be above"),
        ({"exit_lower_price": "64000"}, r"exit_lower_price \(64000\) must be below lower_price"),
        ({"exit_upper_price": "69000"}, r"exit_upper_price \(69000\) must be above upper_price"),
        ({"exit_upper_price": "71000", "trailing_up": True}, "cannot be combined with trailing"),
        ({"symbol_mode": "rotation"}, "rotation is not available in this version"),
    ],
)
def test_cross_field_rules_name_the_fields(over: dict[str, Any], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        GridConfig.model_validate({**CLASSIC, **over})


def test_adaptive_rules() -> None:
    with pytest.raises(pydantic.ValidationError, match="level_capital has 5 values, more than"):
        GridConfig(mode=GridMode.ADAPTIVE, grid_num=4, level_capital=(D(1),) * 5)
    c = GridConfig(level_capital=(D(10), D(20)), symbol="BTC/USDT")
    assert [c.capital_of_rung(j) for j in (1, 2, 3, 20)] == [D(10), D(20), D(20), D(20)]
    assert c.adaptive_symbols == ("BTC/USDT",)
    assert GridConfig(symbols=("A/USDT", "B/USDT"), symbol="C/USDT").adaptive_symbols == (
        "A/USDT", "B/USDT",
    )  # fmt: skip


def test_snapshot_and_hash() -> None:
    a = GridConfig.model_validate(CLASSIC)
    b = GridConfig.model_validate({**CLASSIC, "investment": "5000.0"})
    c = GridConfig.model_validate({**CLASSIC, "investment": "5001"})
    assert a.snapshot()["investment"] == "5000"
    assert GridConfig.model_validate(a.snapshot()) == a
    assert a.settings_hash() == GridConfig.model_validate(a.snapshot()).settings_hash()
    assert a.settings_hash() != c.settings_hash()
    assert len(a.settings_hash()) == 64
    assert b.investment == a.investment


def test_frozen() -> None:
    c = GridConfig.model_validate(CLASSIC)
    with pytest.raises(pydantic.ValidationError):
        c.grid_count = 3  # type: ignore[misc]
