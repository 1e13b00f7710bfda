"""Trend timeframes and settings validation (hyperrsi spec §7.1)."""

from __future__ import annotations

import pytest

from tb_strategy_hyperrsi.trend import TrendSettings, TrendTimeframes, trend_timeframes
from tbsdk.errors import ConfigError

# The spec §7.1 table, row by row (8h follows the rule: T = 480 ≥ 240 → 8h, BB 1h; 2d and 3d
# are non-minute charts → 8h).
AUTO = {
    "1m": ("15m", "5m"),
    "3m": ("15m", "5m"),
    "5m": ("30m", "15m"),
    "15m": ("30m", "15m"),
    "30m": ("30m", "1h"),
    "1h": ("1h", "1h"),
    "2h": ("1h", "1h"),
    "4h": ("8h", "1h"),
    "6h": ("8h", "1h"),
    "8h": ("8h", "1h"),
    "12h": ("8h", "1h"),
    "1d": ("8h", "1h"),
    "2d": ("8h", "1h"),
    "3d": ("8h", "1h"),
}


@pytest.mark.parametrize(("chart", "expected"), AUTO.items())
def test_auto_timeframes_follow_the_spec_table(chart: str, expected: tuple[str, str]) -> None:
    got = trend_timeframes(TrendSettings(chart))
    assert (got.cycle, got.bb, got.cycle2) == (*expected, None)


def test_a_fixed_trend_timeframe_replaces_the_cycle_only() -> None:
    got = trend_timeframes(TrendSettings("1m", trend_timeframe="4h"))
    assert got == TrendTimeframes(cycle="4h", bb="5m", cycle2=None)
    # Equal to or lower than the chart timeframe is allowed.
    assert trend_timeframes(TrendSettings("1d", trend_timeframe="5m")).cycle == "5m"


def test_longer_trend_forces_the_daily_cycle_and_adds_4h() -> None:
    got = trend_timeframes(TrendSettings("15m", trend_timeframe="2h", use_longer_trend=True))
    assert got == TrendTimeframes(cycle="1d", bb="15m", cycle2="4h")
    assert got.all() == ("1d", "15m", "4h")


def test_all_lists_each_timeframe_once() -> None:
    assert trend_timeframes(TrendSettings("1h")).all() == ("1h",)
    assert trend_timeframes(TrendSettings("4h", use_longer_trend=True)).all() == ("1d", "1h", "4h")
    assert trend_timeframes(TrendSettings("1m")).all() == ("15m", "5m")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"chart_timeframe": "7m"},
        {"chart_timeframe": "1w"},
        {"chart_timeframe": "1h", "trend_timeframe": "1m"},
        {"chart_timeframe": "1h", "trend_timeframe": "6h"},
        {"chart_timeframe": "1h", "longer_trend_ma": "sma"},
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        TrendSettings(**kwargs)  # type: ignore[arg-type]
