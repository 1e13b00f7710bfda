"""The first candle of a series whose range reaches a price: the vectorised scan behind
backtest skipping (a venue's resting orders, a strategy's price watch)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["first_reach"]

_FIRST_CHUNK = 256
_MAX_CHUNK = 65_536


def first_reach(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    start: int,
    up: float = math.inf,
    down: float = -math.inf,
) -> int:
    """Index of the first candle at or after ``start`` with ``high >= up`` or ``low <= down``;
    ``len(high)`` if none does."""
    end = len(high)
    if up == math.inf and down == -math.inf:
        return end
    # Chunks that grow: a level near the price is usually reached within a few candles, a far
    # one may never be; neither should cost a scan of everything.
    i, chunk = start, _FIRST_CHUNK
    while i < end:
        stop = min(end, i + chunk)
        hit = np.flatnonzero((high[i:stop] >= up) | (low[i:stop] <= down))
        if hit.size:
            return i + int(hit[0])
        i, chunk = stop, min(chunk * 4, _MAX_CHUNK)
    return end
