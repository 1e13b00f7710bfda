"""Indicator rows per closed candle, from a precomputed table (backtests) or a stream (live).

A :class:`CandleFeed` answers "the row at the close of the candle that opened at ``ts``" for one
timeframe of one symbol, from one of two sources that give the same bits:

* a **table**: the whole series a backtest replays, computed once in ``candle_filter`` with a
  fresh calculator and looked up by open time (a look-up changes nothing);
* a **stream**: the calculator brought up to the candle from ``ctx.history`` (one candle when
  every candle arrives, the whole gap after a restart or a missed candle), saved with
  ``get_state`` / ``set_state``.

Both start from the same first candle of the series, so a backtest that skips candles and a
paper or live bot that sees every one take the same decisions (the pattern of the SDK example
``_rsi_cross``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from tbsdk import StrategyContext
from tbsdk.model import CandleArrays
from tbsdk.timeframes import timeframe_ms

__all__ = ["CandleFeed", "RowCalculator"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class RowCalculator(Protocol):
    """What a feed drives: :class:`~.levels.LevelLadder` or :class:`~.regime.RegimeTracker`."""

    def update_many(
        self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
    ) -> FloatArray: ...

    def get_state(self) -> dict[str, Any]: ...

    def set_state(self, state: dict[str, Any]) -> None: ...


class CandleFeed:
    """Rows of a :class:`RowCalculator` for the closed candles of ``timeframe``."""

    def __init__(self, name: str, timeframe: str, make: Callable[[], RowCalculator]) -> None:
        self.name, self.timeframe, self._make = name, timeframe, make
        self._tf_ms = timeframe_ms(timeframe)
        self._stream = make()
        self._last_ts: int | None = None  # open time of the last candle the stream consumed
        self._table: tuple[IntArray, FloatArray] | None = None

    # -- table (backtests) -------------------------------------------------------------------
    def use_series(self, candles: CandleArrays) -> FloatArray:
        """Compute the rows of a whole series with a fresh calculator, keep them for look-ups
        and return them."""
        rows = self._make().update_many(candles.high, candles.low, candles.close)
        self.use_table(np.asarray(candles.ts, dtype=np.int64), rows)
        return rows

    def use_table(self, ts: npt.ArrayLike, rows: FloatArray) -> None:
        """Answer look-ups for the candles opened at ``ts`` with ``rows`` (one per candle)."""
        times = np.asarray(ts, dtype=np.int64)
        if len(times) != len(rows):
            raise ValueError(f"{self.name}: {len(times)} times for {len(rows)} rows")
        self._table = (times, np.asarray(rows, dtype=np.float64))

    @property
    def table(self) -> tuple[IntArray, FloatArray] | None:
        """The precomputed ``(open times, rows)``, if any."""
        return self._table

    def _from_table(self, ts: int) -> FloatArray | None:
        if self._table is None:
            return None
        times, rows = self._table
        i = int(np.searchsorted(times, ts))
        if i >= len(times) or times[i] != ts:
            return None  # not a candle of that series: the stream answers
        row: FloatArray = rows[i]
        return row

    # -- stream (paper, live, and backtests without the table) --------------------------------
    def at(self, ctx: StrategyContext, symbol: str, ts: int) -> FloatArray | None:
        """The row at the close of the candle opened at ``ts`` (which must have closed), or
        ``None`` when that candle is not newer than the last one the stream consumed."""
        found = self._from_table(ts)
        if found is not None:
            return found
        if self._last_ts is not None and ts <= self._last_ts:
            return None
        candles = self._since(ctx, symbol, ts)
        if len(candles) == 0:
            return None
        rows = self._stream.update_many(candles.high, candles.low, candles.close)
        self._last_ts = int(candles.ts[-1])
        last: FloatArray = rows[-1]
        return last

    def latest_closed(self, ctx: StrategyContext, symbol: str) -> int | None:
        """Open time of the newest closed candle in the history, if any."""
        hist = ctx.history(symbol, self.timeframe, 1)
        return int(hist.ts[-1]) if len(hist) else None

    def _since(self, ctx: StrategyContext, symbol: str, ts: int) -> CandleArrays:
        """The candles after the last consumed one, up to and including ``ts``."""
        if self._last_ts is not None:
            # Candles sit on the timeframe grid: this count reaches back to the last consumed
            # candle itself, and finding it proves that no candle in between was lost.
            count = (ts - self._last_ts) // self._tf_ms + 1
            hist = ctx.history(symbol, self.timeframe, count)
            if len(hist) and int(hist.ts[0]) <= self._last_ts:
                keep = np.flatnonzero((hist.ts > self._last_ts) & (hist.ts <= ts))
                return _rows(hist, keep)
            ctx.log.warning(
                "%s %s: the candles after %s are no longer in history; re-warming from the "
                "history available",
                symbol,
                self.name,
                self._last_ts,
            )
        self._stream = self._make()
        self._last_ts = None
        hist = ctx.history(symbol, self.timeframe)
        return _rows(hist, np.flatnonzero(hist.ts <= ts))

    # -- persistence -------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The stream and the last candle it consumed (the table is rebuilt, never saved)."""
        return {"stream": self._stream.get_state(), "ts": self._last_ts}

    def set_state(self, state: dict[str, Any] | None, log: Callable[[str], None]) -> None:
        """Restore :meth:`get_state`. A missing or incompatible state is logged and the stream
        starts afresh: it re-warms from history at the next candle (grid spec §6)."""
        stream = self._make()
        try:
            if state is None:
                raise ValueError("no saved state")
            stream.set_state(state["stream"])
            ts = state["ts"]
            last = None if ts is None else int(ts)
        except (KeyError, TypeError, ValueError) as exc:
            log(f"{self.name}: indicator state not usable ({exc}); re-warming from history")
            self._stream, self._last_ts = self._make(), None
            return
        self._stream, self._last_ts = stream, last


def _rows(candles: CandleArrays, keep: npt.NDArray[np.intp]) -> CandleArrays:
    if len(keep) == len(candles):
        return candles
    return CandleArrays(
        candles.ts[keep],
        candles.open[keep],
        candles.high[keep],
        candles.low[keep],
        candles.close[keep],
        candles.volume[keep],
    )
