"""Simple, exponential and Wilder moving averages (IND §3.1–3.3).

Division choices (IND §1.1): SMA multiplies the compensated sum by the precomputed ``1/n`` (as
the Bollinger basis does); the EMA seed divides by ``n``; RMA multiplies by ``1/n`` in its seed
and recurrence.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._core import FloatArray, IntArray, SeriesIndicator, check_int, kernel
from ._neumaier import nadd, ring_sum

__all__ = ["EMA", "RMA", "SMA", "ema", "rma", "sma"]


@kernel
def _sma_run(
    x: FloatArray,
    out: FloatArray,
    p: FloatArray,
    ip: IntArray,
    f: FloatArray,
    i: IntArray,
    ring: FloatArray,
) -> int:
    n = ip[0]
    inv_n = p[0]
    s = f[0]
    k = f[1]
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
            s, k = nadd(s, k, v)
        else:
            old = ring[head]
            ring[head] = v
            head += 1
            if head == n:
                head = 0
            s, k = nadd(s, k, v)
            s, k = nadd(s, k, -old)
        if c >= n:
            if phase == 0:
                s, k = ring_sum(ring, head, n)
            out[t] = (s + k) * inv_n
        else:
            out[t] = math.nan
    f[0] = s
    f[1] = k
    i[0] = c
    i[1] = head
    return -1


@kernel
def _ema_run(
    x: FloatArray, out: FloatArray, p: FloatArray, ip: IntArray, f: FloatArray, i: IntArray
) -> int:
    n = ip[0]
    alpha = p[0]
    s = f[0]
    k = f[1]
    e = f[2]
    c = i[0]
    for t in range(x.shape[0]):
        v = x[t]
        if math.isnan(v):
            if c > 0:
                return t
            out[t] = math.nan
            continue
        c += 1
        if c > n:
            if n == 1:
                e = v
            else:
                d = v - e
                e = e + alpha * d
            out[t] = e
        else:
            s, k = nadd(s, k, v)
            if c == n:
                e = (s + k) / n
                out[t] = e
            else:
                out[t] = math.nan
    f[0] = s
    f[1] = k
    f[2] = e
    i[0] = c
    return -1


@kernel
def _rma_run(
    x: FloatArray, out: FloatArray, p: FloatArray, ip: IntArray, f: FloatArray, i: IntArray
) -> int:
    n = ip[0]
    inv_n = p[0]
    nm1 = p[1]
    s = f[0]
    k = f[1]
    r = f[2]
    c = i[0]
    for t in range(x.shape[0]):
        v = x[t]
        if math.isnan(v):
            if c > 0:
                return t
            out[t] = math.nan
            continue
        c += 1
        if c > n:
            r = (r * nm1 + v) * inv_n
            out[t] = r
        else:
            s, k = nadd(s, k, v)
            if c == n:
                r = (s + k) * inv_n
                out[t] = r
            else:
                out[t] = math.nan
    f[0] = s
    f[1] = k
    f[2] = r
    i[0] = c
    return -1


class SMA(SeriesIndicator):
    """Streaming simple moving average of the last ``n`` finite inputs (IND §3.1).

    Ring buffer plus a Neumaier-compensated window sum, resynced every ``n`` bars.
    """

    _F_FIELDS = ("sum", "comp")
    _I_FIELDS = ("count", "head")

    def __init__(self, n: int) -> None:
        self.n = check_int("n", n, 1)
        self._alloc(self.n)
        self._ip = np.array([self.n], dtype=np.int64)
        self._p = np.array([1.0 / self.n], dtype=np.float64)

    def params(self) -> dict[str, int]:
        """``{"n": n}``."""
        return {"n": self.n}

    def _call(self, x: FloatArray, out: FloatArray) -> int:
        return int(_sma_run(x, out, self._p, self._ip, self._f, self._i, self._ring))


class EMA(SeriesIndicator):
    """Streaming EMA, ``α = 2/(n+1)``, seeded with the SMA of the first ``n`` inputs (IND §3.2).

    Recurrence ``d = x − E; E = E + α·d``; ``n = 1`` returns the input unchanged.
    """

    _F_FIELDS = ("seed_sum", "seed_comp", "value")
    _I_FIELDS = ("count",)

    def __init__(self, n: int) -> None:
        self.n = check_int("n", n, 1)
        self._alloc()
        self._ip = np.array([self.n], dtype=np.int64)
        self._p = np.array([2.0 / (self.n + 1)], dtype=np.float64)

    def params(self) -> dict[str, int]:
        """``{"n": n}``."""
        return {"n": self.n}

    def _call(self, x: FloatArray, out: FloatArray) -> int:
        return int(_ema_run(x, out, self._p, self._ip, self._f, self._i))


class RMA(SeriesIndicator):
    """Streaming Wilder average (IND §3.3): SMA seed, then ``R = (R·(n−1) + x)·(1/n)``."""

    _F_FIELDS = ("seed_sum", "seed_comp", "value")
    _I_FIELDS = ("count",)

    def __init__(self, n: int) -> None:
        self.n = check_int("n", n, 1)
        self._alloc()
        self._ip = np.array([self.n], dtype=np.int64)
        self._p = np.array([1.0 / self.n, self.n - 1.0], dtype=np.float64)

    def params(self) -> dict[str, int]:
        """``{"n": n}``."""
        return {"n": self.n}

    def _call(self, x: FloatArray, out: FloatArray) -> int:
        return int(_rma_run(x, out, self._p, self._ip, self._f, self._i))


def sma(x: npt.ArrayLike, n: int) -> FloatArray:
    """Simple moving average (IND §3.1); NaN until ``n`` finite inputs were seen."""
    return SMA(n).update_many(x)


def ema(x: npt.ArrayLike, n: int) -> FloatArray:
    """Exponential moving average, Pine/TA-Lib convention (IND §3.2); NaN for ``c < n``."""
    return EMA(n).update_many(x)


def rma(x: npt.ArrayLike, n: int) -> FloatArray:
    """Wilder's moving average (IND §3.3); NaN for ``c < n``."""
    return RMA(n).update_many(x)
