"""Linearly weighted moving average WMA(n) (IND §3.4)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._core import FloatArray, IntArray, SeriesIndicator, check_int, kernel
from ._neumaier import nadd, ring_sum

__all__ = ["WMA", "wma"]


@kernel
def _wma_run(
    x: FloatArray,
    out: FloatArray,
    p: FloatArray,
    ip: IntArray,
    f: FloatArray,
    i: IntArray,
    ring: FloatArray,
) -> int:
    n = ip[0]
    denom = p[0]
    ss = f[0]
    sk = f[1]
    ns = f[2]
    nk = f[3]
    c = i[0]
    head = i[1]
    phase = c % n  # c mod n by counting: no integer division per bar
    for t in range(x.shape[0]):
        v = x[t]
        if math.isnan(v):
            if c > 0:
                return t
            out[t] = math.nan
            continue
        c += 1
        phase += 1
        if phase == n:
            phase = 0
        if c <= n:
            ring[c - 1] = v
            ns, nk = nadd(ns, nk, c * v)
            ss, sk = nadd(ss, sk, v)
        else:
            old = ring[head]
            ring[head] = v
            head += 1
            if head == n:
                head = 0
            s_old = ss + sk
            ns, nk = nadd(ns, nk, n * v)
            ns, nk = nadd(ns, nk, -s_old)
            ss, sk = nadd(ss, sk, v)
            ss, sk = nadd(ss, sk, -old)
        if c >= n:
            if phase == 0:
                ss, sk = ring_sum(ring, head, n)
                ns = 0.0
                nk = 0.0
                j = head
                for w in range(1, n + 1):
                    ns, nk = nadd(ns, nk, w * ring[j])
                    j += 1
                    if j == n:
                        j = 0
            out[t] = (ns + nk) / denom
        else:
            out[t] = math.nan
    f[0] = ss
    f[1] = sk
    f[2] = ns
    f[3] = nk
    i[0] = c
    i[1] = head
    return -1


class WMA(SeriesIndicator):
    """Streaming WMA: weights ``n, n−1, …, 1`` (newest first) over ``n(n+1)/2`` (IND §3.4).

    Window sum ``S`` and weighted sum ``N`` are both compensated and resynced every ``n`` bars.
    """

    _F_FIELDS = ("sum", "sum_comp", "wsum", "wsum_comp")
    _I_FIELDS = ("count", "head")

    def __init__(self, n: int) -> None:
        self.n = check_int("n", n, 1)
        self._alloc(self.n)
        self._ip = np.array([self.n], dtype=np.int64)
        self._p = np.array([self.n * (self.n + 1) / 2], dtype=np.float64)

    def params(self) -> dict[str, int]:
        """``{"n": n}``."""
        return {"n": self.n}

    def _call(self, x: FloatArray, out: FloatArray) -> int:
        return int(_wma_run(x, out, self._p, self._ip, self._f, self._i, self._ring))


def wma(x: npt.ArrayLike, n: int) -> FloatArray:
    """Weighted moving average (IND §3.4); NaN until ``n`` finite inputs were seen."""
    return WMA(n).update_many(x)
