"""RSI crossings of an oversold and an overbought level, for ``rsi_reversal``.

The crossings come from one of two sources that give the same bits:

* a **table**: the vectorised :func:`tbsdk.indicators.rsi_with_flat` over the whole series a
  backtest replays, built once in ``Strategy.candle_filter`` and looked up by candle open time;
* a **stream**: the streaming :class:`tbsdk.indicators.RSI`, brought up to the candle being
  decided from ``ctx.history`` (one close when every candle arrives, the whole gap when some did
  not), and saved with ``get_state`` / ``set_state`` across restarts.

Both run the same compiled kernel from the same first candle, so a backtest that skips candles
and a paper or live bot that sees every one take the same decisions.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from tbsdk import StrategyContext
from tbsdk.indicators import RSI, rsi_with_flat
from tbsdk.model import CandleArrays
from tbsdk.timeframes import timeframe_ms

__all__ = ["Cross", "RsiCrosses", "crossings"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


class Cross(StrEnum):
    """What the RSI did at a candle's close."""

    NONE = "none"
    UP = "up"
    """Crossed up through the oversold level: ``prev <= oversold < now``."""
    DOWN = "down"
    """Crossed down through the overbought level: ``prev >= overbought > now``."""


def crossings(
    values: FloatArray, flat: BoolArray, oversold: float, overbought: float
) -> tuple[BoolArray, BoolArray]:
    """Vectorised crossings (up through ``oversold``, down through ``overbought``).

    A flat RSI value (``G + L == 0``) never makes a signal (IND §4.1), nor does a NaN one: NaN
    compares false, so the warm-up never crosses.
    """
    prev = np.empty_like(values)
    prev[:1] = math.nan
    prev[1:] = values[:-1]
    usable = ~flat
    usable[1:] &= ~flat[:-1]
    up = usable & (prev <= oversold) & (values > oversold)
    down = usable & (prev >= overbought) & (values < overbought)
    return up, down


def _cross(prev: float, prev_flat: bool, now: float, now_flat: bool, lo: float, hi: float) -> Cross:
    # The scalar twin of ``crossings``: the same comparisons on the same float64 values.
    if prev_flat or now_flat:
        return Cross.NONE
    if prev <= lo < now:
        return Cross.UP
    if prev >= hi > now:
        return Cross.DOWN
    return Cross.NONE


def _encode(value: float) -> float | None:
    return None if math.isnan(value) else value


class RsiCrosses:
    """Tells, for a closed candle, whether RSI(``length``) of closes crossed a level there."""

    def __init__(self, length: int, oversold: float, overbought: float) -> None:
        self.length, self.oversold, self.overbought = length, oversold, overbought
        self._stream = RSI(length)
        self._ts: int | None = None  # open time of the last close the stream consumed
        self._last = math.nan
        self._last_flat = False
        self._table: tuple[npt.NDArray[np.int64], FloatArray, BoolArray] | None = None

    # -- table (backtests) -------------------------------------------------------------------
    def use_series(self, candles: CandleArrays) -> BoolArray:
        """Compute the RSI of the whole series once, keep it for look-ups, and return the mask
        of candles where it crosses a level."""
        values, flat = rsi_with_flat(candles.close, self.length)
        self._table = (np.asarray(candles.ts, dtype=np.int64), values, flat)
        up, down = crossings(values, flat, self.oversold, self.overbought)
        return up | down

    def _from_table(self, ts: int) -> Cross | None:
        if self._table is None:
            return None
        times, values, flat = self._table
        i = int(np.searchsorted(times, ts))
        if i >= len(times) or times[i] != ts:
            return None  # not a candle of that series: fall back to the stream
        if i == 0:
            return Cross.NONE
        prev, now = float(values[i - 1]), float(values[i])
        return _cross(prev, bool(flat[i - 1]), now, bool(flat[i]), self.oversold, self.overbought)

    # -- stream (paper, live, and backtests without the table) --------------------------------
    def at(self, ctx: StrategyContext, symbol: str, timeframe: str, ts: int) -> Cross:
        """The crossing at the close of the candle that opened at ``ts`` (it must have closed).

        With a table that holds ``ts`` this is a look-up and changes nothing. Otherwise the
        stream catches up through every candle after the last one it consumed, read from
        ``ctx.history``. A candle at or before that one is stale: it never makes a signal twice.
        """
        found = self._from_table(ts)
        if found is not None:
            return found
        if self._ts is not None and ts <= self._ts:
            return Cross.NONE
        closes = self._closes_since(ctx, symbol, timeframe, ts)
        if len(closes) == 0:
            return Cross.NONE
        values, flat = self._stream.update_many_with_flat(closes)
        if len(values) >= 2:
            prev, prev_flat = float(values[-2]), bool(flat[-2])
        else:
            prev, prev_flat = self._last, self._last_flat
        now, now_flat = float(values[-1]), bool(flat[-1])
        self._ts, self._last, self._last_flat = ts, now, now_flat
        return _cross(prev, prev_flat, now, now_flat, self.oversold, self.overbought)

    def _closes_since(
        self, ctx: StrategyContext, symbol: str, timeframe: str, ts: int
    ) -> FloatArray:
        """Closes after the last consumed candle, up to and including ``ts``."""
        if self._ts is not None:
            # Candles sit on the timeframe grid, so this count reaches back to the last consumed
            # candle itself; finding it proves no candle in between was lost.
            count = (ts - self._ts) // timeframe_ms(timeframe) + 1
            hist = ctx.history(symbol, timeframe, count)
            if len(hist) and int(hist.ts[0]) <= self._ts:
                keep = (hist.ts > self._ts) & (hist.ts <= ts)
                return np.ascontiguousarray(hist.close[keep])
            ctx.log.warning(
                "RSI: the candles after %s are no longer in history; restarting the RSI from the "
                "history available (values converge within about %s candles)",
                self._ts,
                10 * self.length,
            )
        self._stream = RSI(self.length)
        self._last, self._last_flat = math.nan, False
        hist = ctx.history(symbol, timeframe)
        return np.ascontiguousarray(hist.close[hist.ts <= ts])

    # -- persistence -------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The stream and the last value it produced (the table is rebuilt, never saved)."""
        return {
            "rsi": self._stream.get_state(),
            "ts": self._ts,
            "last": _encode(self._last),
            "last_flat": self._last_flat,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`; the next candle continues the series bit-identically."""
        stream = RSI(self.length)
        stream.set_state(state["rsi"])
        ts, last = state["ts"], state["last"]
        self._stream = stream
        self._ts = None if ts is None else int(ts)
        self._last = math.nan if last is None else float(last)
        self._last_flat = bool(state["last_flat"])
