"""The SDK's ExchangeConformance suite, run against PaperExchange on bundled BTC/USDT 1m data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tb_exchange_paper import PaperConfig, PaperExchange
from tbsdk import Exchange
from tbsdk.testing import ExchangeConformance, load_candles, spot_instrument

SYMBOL = "BTC/USDT"


class TestPaperConformance(ExchangeConformance):
    @pytest.fixture
    def exchange_factory(self) -> Callable[[], Awaitable[Exchange]]:
        async def make() -> Exchange:
            candles = load_candles("BINANCE_BTC-USDT_1m")
            config = PaperConfig(instruments=(spot_instrument(SYMBOL, exchange="paper"),))
            exchange = PaperExchange(config, candles={(SYMBOL, "1m"): candles})
            # One candle gives the venue a last price (fetch_ticker, market orders).
            row = candles.candle(0)
            exchange.engine.process_candle(SYMBOL, row.ts, row.open, row.high, row.low, row.close)
            return exchange

        return make

    @pytest.fixture
    def exchange_symbol(self) -> str:
        return SYMBOL
