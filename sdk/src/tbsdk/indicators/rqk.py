"""Rational-quadratic kernel average RQK (IND §3.8)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._core import FloatArray, IntArray, SeriesIndicator, check_float, check_int, kernel

__all__ = ["RQK", "rqk", "rqk_weights"]


def rqk_weights(lookback: float, relative_weight: float, taps: int) -> list[float]:
    """``w_i`` for ``i = 0..taps−1``; ``1/sqrt(1 + i·i/(2·r·lookback²))`` when ``r = 0.5``."""
    scale = lookback * lookback * 2 * relative_weight
    if relative_weight == 0.5:
        return [1 / math.sqrt(1 + (i * i) / scale) for i in range(taps)]
    return [math.pow(1 + (i * i) / scale, -relative_weight) for i in range(taps)]


@kernel
def _rqk_run(
    x: FloatArray,
    out: FloatArray,
    p: FloatArray,
    ip: IntArray,
    i: IntArray,
    ring: FloatArray,
) -> int:
    taps = ip[0]
    wsum = p[taps]
    c = i[0]
    pos = i[1]
    for t in range(x.shape[0]):
        v = x[t]
        if math.isnan(v):
            if c > 0:
                return t
            out[t] = math.nan
            continue
        c += 1
        pos += 1
        if pos == taps:
            pos = 0
        ring[pos] = v
        if c < taps:
            out[t] = math.nan
            continue
        num = 0.0
        j = pos
        for w in range(taps):
            num = num + ring[j] * p[w]
            j -= 1
            if j < 0:
                j = taps - 1
        out[t] = num / wsum
    i[0] = c
    i[1] = pos
    return -1


class RQK(SeriesIndicator):
    """Streaming RQK: ``Σ x_{t−i}·w_i / Σ w_i`` over the last ``taps`` values (newest first)."""

    _F_FIELDS = ()
    _I_FIELDS = ("count", "pos")

    def __init__(self, lookback: float = 30, relative_weight: float = 0.5, taps: int = 7) -> None:
        self.lookback = check_float("lookback", lookback)
        self.relative_weight = check_float("relative_weight", relative_weight)
        self.taps = check_int("taps", taps, 1)
        weights = rqk_weights(self.lookback, self.relative_weight, self.taps)
        wsum = 0.0
        for w in weights:
            wsum = wsum + w
        self._alloc(self.taps)
        self._i[1] = -1  # so that the first value lands at position 0
        self._p = np.array([*weights, wsum], dtype=np.float64)
        self._ip = np.array([self.taps], dtype=np.int64)

    def params(self) -> dict[str, float]:
        """``{"lookback": …, "relative_weight": …, "taps": …}``."""
        return {
            "lookback": self.lookback,
            "relative_weight": self.relative_weight,
            "taps": self.taps,
        }

    def _call(self, x: FloatArray, out: FloatArray) -> int:
        return int(_rqk_run(x, out, self._p, self._ip, self._i, self._ring))


def rqk(
    x: npt.ArrayLike, lookback: float = 30, relative_weight: float = 0.5, taps: int = 7
) -> FloatArray:
    """RQK (IND §3.8); NaN until ``taps`` finite inputs were seen."""
    return RQK(lookback, relative_weight, taps).update_many(x)
