"""The SDK's conformance suite (``tbsdk.testing.StrategyConformance``) on a linear swap, with
the trend state on: the harness gets the trend timeframes' candles resampled from the chart."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tb_strategy_hyperrsi import HyperRsi
from tb_strategy_hyperrsi.feed import trend_settings
from tb_strategy_hyperrsi.trend import trend_timeframes
from tbsdk import Strategy
from tbsdk.indicators import resample
from tbsdk.model import CandleArrays, Instrument, MarketType
from tbsdk.testing import RunResult, StrategyConformance, run_strategy

SWAP = "BTC/USDT:USDT"
SETTINGS: dict[str, Any] = {"symbol": SWAP, "timeframe": "5m", "warmup_bars": 200}


class TestHyperRsiConformance(StrategyConformance):
    @pytest.fixture
    def strategy_class(self) -> type[Strategy[Any]]:
        return HyperRsi

    @pytest.fixture
    def strategy_settings(self) -> dict[str, Any]:
        return dict(SETTINGS)

    @pytest.fixture
    def conformance_symbol(self) -> str:
        return SWAP

    @pytest.fixture
    def conformance_instrument(self, conformance_symbol: str) -> Instrument:
        return Instrument(
            exchange="binance", symbol=SWAP, base="BTC", quote="USDT", settle="USDT",
            type=MarketType.SWAP, contract_size=Decimal("0.01"), tick_size=Decimal("0.1"),
            lot_step=Decimal("0.01"), min_size=Decimal("0.01"), maker_fee=Decimal("0.0002"),
            taker_fee=Decimal("0.0005"),
        )  # fmt: skip

    @pytest.fixture
    def conformance_run(
        self,
        strategy_class: type[Strategy[Any]],
        strategy_settings: dict[str, Any],
        conformance_candles: CandleArrays,
        conformance_symbol: str,
        conformance_timeframe: str,
        conformance_instrument: Instrument,
    ) -> Callable[[], RunResult]:
        strategy = strategy_class.from_settings(strategy_settings)
        assert isinstance(strategy, HyperRsi)
        c = conformance_candles
        extra = {}
        for tf in trend_timeframes(trend_settings(strategy.config)).all():
            r = resample(c.ts, c.open, c.high, c.low, c.close, c.volume, "5m", tf)
            extra[(SWAP, tf)] = CandleArrays(r.open_time, r.open, r.high, r.low, r.close, r.volume)

        def run() -> RunResult:
            return run_strategy(
                strategy_class.from_settings(strategy_settings),
                conformance_candles,
                conformance_symbol,
                conformance_timeframe,
                conformance_instrument,
                extra_candles=extra,
            )

        return run
