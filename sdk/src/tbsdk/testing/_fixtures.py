"""The fixtures ``tbsdk.testing`` provides once opted in with ``pytest_plugins``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..model import CandleArrays
from ._candles import load_candles
from ._host import InMemoryHost

__all__ = ["btc_1m", "btc_5m", "ethbtc_1h", "tb_host"]


@pytest.fixture
def tb_host() -> Iterator[InMemoryHost]:
    """An :class:`InMemoryHost` with no plugin registered; fails the test if one is left over."""
    host = InMemoryHost()
    yield host
    leftover = host.plugin_names
    assert not leftover, f"plugins still registered after the test: {leftover}"


@pytest.fixture
def btc_1m() -> CandleArrays:
    """7207 one-minute BINANCE BTC/USDT candles, 2024-04-02 00:00 to 2024-04-07 00:06 UTC."""
    return load_candles("BINANCE_BTC-USDT_1m")


@pytest.fixture
def btc_5m() -> CandleArrays:
    """1441 five-minute BINANCE BTC/USDT candles, 2024-04-02 00:00 to 2024-04-07 00:00 UTC."""
    return load_candles("BINANCE_BTC-USDT_5m")


@pytest.fixture
def ethbtc_1h() -> CandleArrays:
    """120 hourly BINANCE ETH/BTC candles, 2024-04-02 00:00 to 2024-04-06 23:00 UTC."""
    return load_candles("BINANCE_ETH-BTC_1h")
