"""Real candle files shipped with the host for the demo and tests (see README.md here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["BUNDLED", "BundledDataset"]

HERE = Path(__file__).parent


@dataclass(frozen=True)
class BundledDataset:
    exchange: str
    symbol: str
    timeframe: str
    path: Path


BUNDLED = (
    BundledDataset("binance", "BTC/USDT", "1h", HERE / "BINANCE_BTC-USDT_1h.csv.gz"),
    BundledDataset("binance", "BTC/USDT", "1m", HERE / "BINANCE_BTC-USDT_1m.csv.gz"),
)
