"""Loading 1,000,000 stored candles from Parquet into CandleArrays (target: under 50 ms).

    uv run python bench/candle_load.py [--rows 1000000] [--runs 9]

The series is built from the bundled 1m BTC/USDT candles repeated with shifted timestamps, so
prices have real-data entropy (compression matters for the read time).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from tbhost.candles import CandleStore, read_candle_csv
from tbhost.datasets import BUNDLED
from tbsdk.model import CandleArrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    src = read_candle_csv(next(d for d in BUNDLED if d.timeframe == "1m").path, 60_000)
    reps = -(-args.rows // len(src))
    cols = {
        n: np.tile(getattr(src, n), reps)[: args.rows]
        for n in ("open", "high", "low", "close", "volume")
    }
    ts = src.ts[0] + np.arange(args.rows, dtype=np.int64) * 60_000
    arrays = CandleArrays(ts, **cols)
    with tempfile.TemporaryDirectory() as tmp:
        store = CandleStore(Path(tmp))
        store.write("binance", "BTC/USDT", "1m", arrays)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            loaded = store.read("binance", "BTC/USDT", "1m")
            times.append((time.perf_counter() - start) * 1000)
        assert len(loaded) == args.rows
    print(
        f"read {args.rows:,} candles: median {statistics.median(times):.1f} ms, "
        f"min {min(times):.1f} ms, max {max(times):.1f} ms ({args.runs} runs)"
    )


if __name__ == "__main__":
    main()
