"""The example plugin tested the way a third-party author would: the SDK's conformance suite,
and the exact orders on real candles, with the expected crosses computed here independently."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from tb_strategy_example import SmaCross, SmaCrossConfig
from tbsdk import BotInfo, Strategy
from tbsdk.commands import Submit
from tbsdk.ids import bot_key
from tbsdk.model import OrderSide, OrderType
from tbsdk.testing import StrategyConformance, load_candles, run_strategy, spot_instrument

pytest_plugins = ["tbsdk.testing"]

SETTINGS = {"symbol": "BTC/USDT", "timeframe": "5m", "fast": 5, "slow": 20, "qty": "0.001"}


class TestConformance(StrategyConformance):
    @pytest.fixture
    def strategy_class(self) -> type[Strategy[Any]]:
        return SmaCross

    @pytest.fixture
    def strategy_settings(self) -> dict[str, Any]:
        return SETTINGS


def _expected_cross_ups(close: np.ndarray, fast: int, slow: int, first_event: int) -> list[int]:
    """Indices where mean(last fast) > mean(last slow) flips from False to True."""
    above = [False] * len(close)
    for i in range(slow - 1, len(close)):
        above[i] = close[i - fast + 1 : i + 1].mean() > close[i - slow + 1 : i + 1].mean()
    return [i for i in range(first_event + 1, len(close)) if above[i] and not above[i - 1]]


def test_entries_on_real_candles_are_exact() -> None:
    candles = load_candles("BINANCE_BTC-USDT_5m")
    bot = BotInfo(
        bot_id="demo",
        strategy="sma_cross",
        exchange="binance",
        account_id="acc",
        symbols=("BTC/USDT",),
        timeframe="5m",
    )
    result = run_strategy(
        SmaCross.from_settings(SETTINGS), candles, "BTC/USDT", "5m", spot_instrument(), bot=bot
    )
    # The harness never fills, so the position stays flat and every cross up is a new entry.
    first_event = 20 + 1  # warmup candles are history, not events
    expected = _expected_cross_ups(candles.close, 5, 20, first_event)
    submits = [c for c in result.commands if isinstance(c, Submit)]
    assert len(expected) > 20
    assert [c.ts for c in submits] == [int(candles.ts[i]) + 300_000 for i in expected]
    key = bot_key("acc", "demo")
    for seq, command in enumerate(submits, start=1):
        intent = command.intent
        assert intent.client_order_id == f"x{key}{np.base_repr(seq, 36).lower():0>5}ent"
        assert (intent.side, intent.type, intent.qty) == (
            OrderSide.BUY,
            OrderType.MARKET,
            Decimal("0.001"),
        )
        assert not intent.reduce_only
    assert result.state["seq"] == len(expected)


def test_config_names_the_bad_fields() -> None:
    with pytest.raises(ValidationError, match=r"fast \(30\) must be shorter than slow \(10\)"):
        SmaCrossConfig(fast=30, slow=10)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SmaCrossConfig.model_validate({"fsat": 3})
