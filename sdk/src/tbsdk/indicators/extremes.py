"""Rolling ``highest(x, n)`` / ``lowest(x, n)`` with a monotonic deque (IND §2)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._core import FloatArray, IntArray, SeriesIndicator, check_int, kernel

__all__ = ["Highest", "Lowest", "highest", "lowest"]


@kernel
def _extreme_run(
    x: FloatArray,
    out: FloatArray,
    ip: IntArray,
    i: IntArray,
    vals: FloatArray,
    idxs: IntArray,
) -> int:
    n = ip[0]
    is_high = ip[1] == 1
    c = i[0]
    head = i[1]
    size = i[2]
    for t in range(x.shape[0]):
        v = x[t]
        if math.isnan(v):
            if c > 0:
                return t
            out[t] = math.nan
            continue
        c += 1
        # Drop the entry that left the window, then every entry the new value dominates.
        if size > 0 and idxs[head] <= c - n:
            head += 1
            if head == n:
                head = 0
            size -= 1
        while size > 0:
            back = head + size - 1
            if back >= n:
                back -= n
            bv = vals[back]
            if (is_high and bv <= v) or ((not is_high) and bv >= v):
                size -= 1
            else:
                break
        pos = head + size
        if pos >= n:
            pos -= n
        vals[pos] = v
        idxs[pos] = c
        size += 1
        out[t] = vals[head] if c >= n else math.nan
    i[0] = c
    i[1] = head
    i[2] = size
    return -1


class Highest(SeriesIndicator):
    """Streaming maximum of the last ``n`` finite values; NaN while ``c < n``."""

    _F_FIELDS = ()
    _I_FIELDS = ("count", "head", "size")
    _HIGH = 1

    def __init__(self, n: int) -> None:
        self.n = check_int("n", n, 1)
        self._alloc(self.n, self.n)
        self._ip = np.array([self.n, self._HIGH], dtype=np.int64)

    def params(self) -> dict[str, int]:
        """``{"n": n}``."""
        return {"n": self.n}

    def _call(self, x: FloatArray, out: FloatArray) -> int:
        return int(_extreme_run(x, out, self._ip, self._i, self._ring, self._iring))


class Lowest(Highest):
    """Streaming minimum of the last ``n`` finite values; NaN while ``c < n``."""

    _HIGH = 0


def highest(x: npt.ArrayLike, n: int) -> FloatArray:
    """Rolling maximum over ``n`` values (IND §2)."""
    return Highest(n).update_many(x)


def lowest(x: npt.ArrayLike, n: int) -> FloatArray:
    """Rolling minimum over ``n`` values (IND §2)."""
    return Lowest(n).update_many(x)
