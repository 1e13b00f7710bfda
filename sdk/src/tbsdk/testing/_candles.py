"""Real candles bundled with the test kit (see ``data/README.md`` for their source and licence)."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt

from ..model import CandleArrays, Instrument

__all__ = ["CANDLE_FILES", "CandleFile", "load_candles", "spot_instrument"]

_HEADER = ["timestamp", "open", "high", "low", "close", "volume"]


@dataclass(frozen=True, slots=True)
class CandleFile:
    """A bundled candle file and what it holds."""

    name: str
    """Name for :func:`load_candles`: the file name without ``.csv.gz``."""
    exchange: str
    symbol: str
    timeframe: str
    rows: int


CANDLE_FILES: dict[str, CandleFile] = {
    f.name: f
    for f in (
        CandleFile("BINANCE_BTC-USDT_1m", "binance", "BTC/USDT", "1m", 7207),
        CandleFile("BINANCE_BTC-USDT_5m", "binance", "BTC/USDT", "5m", 1441),
        CandleFile("BINANCE_ETH-BTC_1h", "binance", "ETH/BTC", "1h", 120),
    )
}
"""Every bundled file by name. All are complete (no gaps, no still-open last candle)."""


@cache
def _parse(name: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    blob = resources.files("tbsdk.testing").joinpath("data", f"{name}.csv.gz").read_bytes()
    with io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(blob)), encoding="utf-8") as text:
        reader = csv.reader(text)
        header = next(reader)
        if header != _HEADER:
            raise ValueError(f"{name}: expected columns {_HEADER}, got {header}")
        rows = list(reader)
    ts = np.array([int(r[0]) for r in rows], dtype=np.int64)
    values = np.array([[float(x) for x in r[1:]] for r in rows], dtype=np.float64)
    return ts, values


def load_candles(name: str) -> CandleArrays:
    """Load a bundled candle file by name (``"BINANCE_BTC-USDT_1m"``; ``.csv.gz`` optional).

    Each call returns fresh arrays, so a test may modify them without affecting another.
    """
    name = name.removesuffix(".csv.gz")
    if name not in CANDLE_FILES:
        raise LookupError(f"no bundled candle file {name!r}; have {', '.join(CANDLE_FILES)}")
    ts, values = _parse(name)
    cols = values.T.copy()
    return CandleArrays(ts.copy(), cols[0], cols[1], cols[2], cols[3], cols[4])


def spot_instrument(symbol: str = "BTC/USDT", exchange: str = "binance") -> Instrument:
    """A spot instrument with Binance-like rules for the bundled pairs (test default).

    BTC/USDT: tick 0.01, lot 0.00001, min notional 5 USDT. ETH/BTC: tick 0.00001, lot 0.0001,
    min notional 0.0001 BTC. Fees 0.1 %.
    """
    base, quote = symbol.split("/")
    if quote == "BTC":
        tick, lot, notional = "0.00001", "0.0001", "0.0001"
    else:
        tick, lot, notional = "0.01", "0.00001", "5"
    return Instrument(
        exchange=exchange,
        symbol=symbol,
        base=base,
        quote=quote,
        tick_size=Decimal(tick),
        lot_step=Decimal(lot),
        min_size=Decimal(lot),
        min_notional=Decimal(notional),
        maker_fee=Decimal("0.001"),
        taker_fee=Decimal("0.001"),
    )
