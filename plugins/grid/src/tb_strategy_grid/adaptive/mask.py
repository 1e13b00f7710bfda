"""Which evaluation candles can make a partial rebalance act (backtest speed, grid spec §4.6).

Between two 15m closes the level table is fixed, and a partial rebalance depends on the price
only through ``(k*, k')`` (:func:`~.ladder.rung_key`): the rungs it may fill. So after a
rebalance at one close, the next close can add an entry only if ``(k*, k')`` moved. The mask
marks exactly those candles: ``key(close_i) != key(close_{i−1})`` under the table in force at
``close_i``. Everything else that can make an evaluation act depends on the engine's state
(a fill or refusal since the last evaluation, an entry skipped by a price-dependent cap, a spot
stop to check, a retry due); the engine asks for every candle while any of that holds
(``ctx.deliver_every_candle``). 15m and 4h candles are all delivered.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tbsdk.model import CandleArrays
from tbsdk.timeframes import timeframe_ms

__all__ = ["eval_mask", "rung_keys"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def rung_keys(rows: FloatArray, prices: FloatArray) -> tuple[IntArray, IntArray]:
    """Vectorised :func:`~.ladder.rung_key` of ``prices[i]`` under ``rows[i]``:
    ``(k*, k')`` with −1 / ``N + 2`` when no level is below / at or above."""
    width = rows.shape[1]
    below = rows < prices[:, None]  # NaN compares false, as in the scalar search
    at_or_above = rows >= prices[:, None]
    last = width - 1 - np.argmax(below[:, ::-1], axis=1)
    k_star = np.where(below.any(axis=1), last, -1).astype(np.int64)
    first = np.argmax(at_or_above, axis=1)
    k_prime = np.where(at_or_above.any(axis=1), first, width).astype(np.int64)
    return k_star, k_prime


def eval_mask(
    candles: CandleArrays,
    timeframe: str,
    table_ts: IntArray,
    table_rows: FloatArray,
    table_timeframe: str = "15m",
) -> BoolArray:
    """Evaluation candles whose close may give a partial rebalance something to add."""
    n = len(candles)
    mask = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return mask
    close_time = candles.ts + timeframe_ms(timeframe)
    table_close = table_ts + timeframe_ms(table_timeframe)
    # The table in force at a close: the latest 15m candle closed at or before it.
    idx = np.searchsorted(table_close, close_time, side="right") - 1
    has = idx >= 0
    rows = np.full((n, table_rows.shape[1]), np.nan)
    rows[has] = table_rows[idx[has]]
    defined = ~np.isnan(rows).any(axis=1)
    close = np.asarray(candles.close, dtype=np.float64)
    prev = np.empty_like(close)
    prev[0] = np.nan
    prev[1:] = close[:-1]
    now_below, now_above = rung_keys(rows, close)
    was_below, was_above = rung_keys(rows, prev)
    mask[:] = defined & ((now_below != was_below) | (now_above != was_above))
    mask[0] = defined[0]
    return mask
