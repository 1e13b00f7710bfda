"""Seeded synthetic 1-minute candles for the benchmarks (no real 1m series is long enough).

A geometric random walk of closes from 30,000 (sigma 0.1 % a minute); each open is the previous
close; high and low lie beyond both by a half-normal amount; every price is rounded to the 0.01
tick, so OHLC stay consistent. Times start at a UTC day boundary, so every higher timeframe a
strategy asks for resamples into whole, aligned buckets.
"""

from __future__ import annotations

import numpy as np

from tbsdk.model import CandleArrays

MINUTE = 60_000
START = 1_699_920_000_000  # 2023-11-14 00:00 UTC


def synthetic(rows: int, seed: int = 7) -> CandleArrays:
    """``rows`` candles of the walk described above, the same for the same ``seed``."""
    rng = np.random.default_rng(seed)
    close = np.round(30_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, rows))), 2)
    open_ = np.empty(rows)
    open_[0], open_[1:] = 30_000.0, close[:-1]
    wick = np.abs(rng.normal(0.0, 0.0005, (2, rows)))
    high = np.round(np.maximum(open_, close) * (1 + wick[0]), 2)
    low = np.round(np.minimum(open_, close) * (1 - wick[1]), 2)
    high, low = (
        np.maximum(high, np.maximum(open_, close)),
        np.minimum(low, np.minimum(open_, close)),
    )
    ts = START + np.arange(rows, dtype=np.int64) * MINUTE
    volume = np.round(rng.uniform(1.0, 10.0, rows), 3)
    return CandleArrays(ts, open_, high, low, close, volume)
