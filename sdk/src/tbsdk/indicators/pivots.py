"""Pivot highs and lows, reported ``right`` bars after the pivot as Pine does (IND §5)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._core import FloatArray, IntArray, SeriesIndicator, check_int, kernel

__all__ = ["PivotHigh", "PivotLow", "pivothigh", "pivotlow"]


@kernel
def _pivot_run(x: FloatArray, out: FloatArray, ip: IntArray, i: IntArray, ring: FloatArray) -> int:
    left = ip[0]
    right = ip[1]
    is_high = ip[2] == 1
    size = left + right + 1
    c = i[0]
    pos = i[1]  # position of the newest value
    for t in range(x.shape[0]):
        v = x[t]
        if math.isnan(v):
            if c > 0:
                return t
            out[t] = math.nan
            continue
        c += 1
        pos += 1
        if pos == size:
            pos = 0
        ring[pos] = v
        if c < size:
            out[t] = math.nan
            continue
        oldest = pos + 1
        if oldest == size:
            oldest = 0
        cand_pos = oldest + left
        if cand_pos >= size:
            cand_pos -= size
        cand = ring[cand_pos]
        ok = True
        j = oldest
        for w in range(size):
            if w != left:
                other = ring[j]
                if is_high:
                    # Older bars may equal the candidate; newer bars must be strictly lower.
                    if other > cand or (w > left and other == cand):
                        ok = False
                        break
                elif other < cand or (w > left and other == cand):
                    ok = False
                    break
            j += 1
            if j == size:
                j = 0
        out[t] = cand if ok else math.nan
    i[0] = c
    i[1] = pos
    return -1


class PivotHigh(SeriesIndicator):
    """Streaming pivot high: at bar t, ``x_{t−right}`` if it is ``≥`` the ``left`` older values
    and ``>`` the ``right`` newer ones, else NaN."""

    _F_FIELDS = ()
    _I_FIELDS = ("count", "pos")
    _HIGH = 1

    def __init__(self, left: int, right: int) -> None:
        self.left = check_int("left", left, 1)
        self.right = check_int("right", right, 1)
        self._alloc(self.left + self.right + 1)
        self._i[1] = -1  # so that the first value lands at position 0
        self._ip = np.array([self.left, self.right, self._HIGH], dtype=np.int64)

    def params(self) -> dict[str, int]:
        """``{"left": left, "right": right}``."""
        return {"left": self.left, "right": self.right}

    def _call(self, x: FloatArray, out: FloatArray) -> int:
        return int(_pivot_run(x, out, self._ip, self._i, self._ring))


class PivotLow(PivotHigh):
    """Streaming pivot low: ``≤`` the older values, ``<`` the newer ones (IND §5)."""

    _HIGH = 0


def pivothigh(x: npt.ArrayLike, left: int, right: int) -> FloatArray:
    """Pivot highs (IND §5), reported ``right`` bars after the pivot bar."""
    return PivotHigh(left, right).update_many(x)


def pivotlow(x: npt.ArrayLike, left: int, right: int) -> FloatArray:
    """Pivot lows (IND §5), reported ``right`` bars after the pivot bar."""
    return PivotLow(left, right).update_many(x)
