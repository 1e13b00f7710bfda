"""Resampling base candles into complete higher-timeframe candles (IND §7.1–7.2).

Buckets are aligned to the Unix epoch (UTC). A bucket is emitted only once complete: its last
base candle (``close_time == bucket_end``) arrived, or a candle of a later bucket did (gap).
Empty buckets are never emitted. The vectorised :func:`resample` and the streaming
:class:`Resampler` run the same kernel, so volumes (plain left-to-right sums) agree bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ConfigError
from ..timeframes import timeframe_ms
from ._core import FloatArray, IntArray, KernelIndicator, as_input, kernel, same_length

__all__ = ["HtfCandle", "HtfCandles", "Resampler", "resample"]

_NONE = -(2**62)  # "no open bucket" / "no candle yet"


@kernel
def _resample_run(
    ts: IntArray,
    o: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    v: FloatArray,
    out_i: IntArray,
    out_f: FloatArray,
    ip: IntArray,
    f: FloatArray,
    i: IntArray,
) -> int:
    """Aggregate; returns ``-1 − emitted`` on success, or the index of a refused candle."""
    base = ip[0]
    period = ip[1]
    start = i[0]
    count = i[1]
    last = i[2]
    bo = f[0]
    bh = f[1]
    bl = f[2]
    bc = f[3]
    bv = f[4]
    emitted = 0
    for t in range(ts.shape[0]):
        ot = ts[t]
        if ot <= last or math.isnan(o[t] + h[t] + lo[t] + c[t] + v[t]):
            return t
        last = ot
        b = (ot // period) * period
        if count > 0 and b != start:
            out_i[2 * emitted] = start
            out_i[2 * emitted + 1] = count
            out_f[5 * emitted] = bo
            out_f[5 * emitted + 1] = bh
            out_f[5 * emitted + 2] = bl
            out_f[5 * emitted + 3] = bc
            out_f[5 * emitted + 4] = bv
            emitted += 1
            count = 0
        if count == 0:
            start = b
            bo = o[t]
            bh = h[t]
            bl = lo[t]
            bv = v[t]
        else:
            if h[t] > bh:
                bh = h[t]
            if lo[t] < bl:
                bl = lo[t]
            bv = bv + v[t]
        bc = c[t]
        count += 1
        if ot + base == start + period:
            out_i[2 * emitted] = start
            out_i[2 * emitted + 1] = count
            out_f[5 * emitted] = bo
            out_f[5 * emitted + 1] = bh
            out_f[5 * emitted + 2] = bl
            out_f[5 * emitted + 3] = bc
            out_f[5 * emitted + 4] = bv
            emitted += 1
            count = 0
    i[0] = start
    i[1] = count
    i[2] = last
    f[0] = bo
    f[1] = bh
    f[2] = bl
    f[3] = bc
    f[4] = bv
    return -1 - emitted


@dataclass(frozen=True, slots=True)
class HtfCandle:
    """One complete higher-timeframe candle; ``close_time = open_time + period``."""

    open_time: int
    close_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    constituents: int


@dataclass(frozen=True, slots=True)
class HtfCandles:
    """Complete higher-timeframe candles as parallel columns."""

    open_time: IntArray
    close_time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    constituents: IntArray

    def __len__(self) -> int:
        return len(self.open_time)


def _length(name: str, value: str | int) -> int:
    ms = timeframe_ms(value) if isinstance(value, str) else value
    if isinstance(ms, bool) or not isinstance(ms, int) or ms <= 0:
        raise ConfigError(f"{name} must be a timeframe name or a positive length in ms")
    return ms


class Resampler(KernelIndicator):
    """Streaming resampler: :meth:`update` takes one base candle, returns the HTF candles it
    completed (zero, one, or two when a gap closes the previous bucket and the candle also
    completes its own)."""

    _F_FIELDS = ("open", "high", "low", "close", "volume")
    _I_FIELDS = ("bucket_start", "constituents", "last_open_time")

    def __init__(self, base: str | int, period: str | int) -> None:
        self.base_ms = _length("base", base)
        self.period_ms = _length("period", period)
        if self.period_ms % self.base_ms:
            raise ConfigError(
                f"period {self.period_ms} ms is not a multiple of the base {self.base_ms} ms"
            )
        self._alloc()
        self._i[0] = _NONE
        self._i[2] = _NONE
        self._ip = np.array([self.base_ms, self.period_ms], dtype=np.int64)
        self._ts1 = np.zeros(1, dtype=np.int64)
        self._cols = np.zeros((5, 1), dtype=np.float64)

    def params(self) -> dict[str, Any]:
        """``{"base_ms": …, "period_ms": …}``."""
        return {"base_ms": self.base_ms, "period_ms": self.period_ms}

    def _run(self, ts: IntArray, cols: list[FloatArray]) -> tuple[IntArray, FloatArray]:
        out_i = np.empty(2 * (len(ts) + 1), dtype=np.int64)
        out_f = np.empty(5 * (len(ts) + 1), dtype=np.float64)
        snap = self._snapshot()
        o, h, lo, c, v = cols
        r = int(_resample_run(ts, o, h, lo, c, v, out_i, out_f, self._ip, self._f, self._i))
        if r >= 0:
            self._restore(snap)
            raise ValueError(
                f"Resampler: candle {r} (open_time {int(ts[r])}) is not after the previous "
                "candle or has a NaN field"
            )
        k = -1 - r
        return out_i[: 2 * k].reshape(k, 2), out_f[: 5 * k].reshape(k, 5)

    def update(
        self, open_time: int, open: float, high: float, low: float, close: float, volume: float
    ) -> list[HtfCandle]:
        """Consume one base candle (open time in UTC ms); return the completed HTF candles."""
        self._ts1[0] = open_time
        cols = self._cols
        cols[:, 0] = (open, high, low, close, volume)
        ints, floats = self._run(self._ts1, [cols[0], cols[1], cols[2], cols[3], cols[4]])
        return [
            HtfCandle(
                open_time=int(ints[j, 0]),
                close_time=int(ints[j, 0]) + self.period_ms,
                open=float(floats[j, 0]),
                high=float(floats[j, 1]),
                low=float(floats[j, 2]),
                close=float(floats[j, 3]),
                volume=float(floats[j, 4]),
                constituents=int(ints[j, 1]),
            )
            for j in range(len(ints))
        ]

    def update_many(
        self,
        open_time: npt.ArrayLike,
        open: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
    ) -> HtfCandles:
        """Consume a batch of base candles; return the completed HTF candles as columns."""
        ts = np.ascontiguousarray(open_time, dtype=np.int64)
        cols = [as_input(a) for a in (open, high, low, close, volume)]
        same_length(ts.astype(np.float64), *cols)
        ints, floats = self._run(ts, cols)
        starts = ints[:, 0].copy()
        return HtfCandles(
            open_time=starts,
            close_time=starts + self.period_ms,
            open=floats[:, 0].copy(),
            high=floats[:, 1].copy(),
            low=floats[:, 2].copy(),
            close=floats[:, 3].copy(),
            volume=floats[:, 4].copy(),
            constituents=ints[:, 1].copy(),
        )


def resample(
    open_time: npt.ArrayLike,
    open: npt.ArrayLike,
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    volume: npt.ArrayLike,
    base: str | int,
    period: str | int,
) -> HtfCandles:
    """Complete ``period`` candles from ``base`` candles (IND §7.1–7.2); an unfinished last
    bucket is left out."""
    return Resampler(base, period).update_many(open_time, open, high, low, close, volume)
