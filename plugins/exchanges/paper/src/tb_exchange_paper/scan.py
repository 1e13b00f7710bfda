"""Finding, over a whole candle series at once, the next candle that can do anything.

A backtest spends most candles with nothing reachable: no order pending and every resting level
outside the candle's range. :func:`next_active` finds the next candle that reaches a level with
one vectorised scan, so the engine can pass over the quiet ones without calling
:func:`~tb_exchange_paper.execution.process_candle` for each. The test is deliberately wider than
the fill rules (touching a level counts, whatever ``limit_fill`` says): a candle it finds is then
matched by ``process_candle``, which applies the exact rules, so nothing can be skipped that
would have filled.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tbsdk.reach import first_reach

from .state import EngineState

__all__ = ["next_active", "skip"]


def next_active(
    st: EngineState,
    symbol: str,
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    start: int,
) -> int:
    """Index of the first candle at or after ``start`` that can fill, trigger or liquidate
    anything on ``symbol``; ``len(high)`` if none can."""
    sb = st.book(symbol)
    end = len(high)
    if start >= end or sb.pending:
        return start  # queued orders execute at the next open
    memo = sb.scan_memo
    if (
        memo is not None
        and memo[0] == sb.changes
        and memo[1] is high
        and memo[2] is low
        and memo[3] <= start <= memo[4]
    ):
        # Same levels, same series, and no candle between the last scan's start and its
        # answer reaches them: the answer stands.
        return memo[4]
    up, down = sb.nearest_rising(), sb.nearest_falling()
    for lv in sb.liquidations:
        if lv.rises:
            up = min(up, lv.level)
        else:
            down = max(down, lv.level)
    found = first_reach(high, low, start, up, down)
    sb.scan_memo = (sb.changes, high, low, start, found)
    return found


def skip(st: EngineState, symbol: str, ts: int, close: float) -> None:
    """Advance over candles :func:`next_active` proved quiet: only the clock and last price
    move, exactly as ``process_candle`` would have left them."""
    st.now = ts
    st.book(symbol).set_last(close)
