"""Population standard deviation, Bollinger bands, band width and %B (IND §4.3).

Division choices (IND §1.1): every ``/ n`` is ``· (1/n)`` (basis, sliding mean step, resync
mean, ``M2 / n``), as in SMA, so ``basis`` equals :func:`~tbsdk.indicators.sma` bit for bit;
the filling step ``d / c`` divides.

One kernel computes the SMA basis (compensated sum, as :func:`~tbsdk.indicators.sma`) and the
sliding-Welford deviation over the same ring buffer, then the bands, in one pass.

One rule beyond IND §4.3: the deviation is also resynced on the bar where the window becomes
flat (the n-th equal value in a row). Without it, a window that turns flat after a jump keeps
the sliding update's rounding residue until the scheduled resync; on real daily BTC candles
that residue reached 4.6e-9·|μ|, above the §9.3 bound of 1e-9·max(1, |μ|), and a flat window
showed a non-zero deviation where TA-Lib and Pine print 0. The resync happens once per flat
stretch, so the cost stays O(1) amortised, and both APIs apply it identically.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ._core import (
    FloatArray,
    IntArray,
    KernelIndicator,
    as_input,
    check_float,
    check_int,
    kernel,
    raise_bad,
    raise_bad_update,
)
from ._neumaier import nadd, ring_sum

__all__ = [
    "STDEV",
    "Bollinger",
    "BollingerPercentB",
    "BollingerWidth",
    "bollinger",
    "bollinger_percent_b",
    "bollinger_width",
    "stdev",
]


@kernel
def _bb_run(
    x: FloatArray,
    basis: FloatArray,
    upper: FloatArray,
    lower: FloatArray,
    sd: FloatArray,
    p: FloatArray,
    ip: IntArray,
    f: FloatArray,
    i: IntArray,
    ring: FloatArray,
) -> int:
    n = ip[0]
    mult = p[0]
    inv_n = p[1]
    want_sd = sd.shape[0] > 0
    s = f[0]
    k = f[1]
    m = f[2]
    m2 = f[3]
    prev = f[4]
    c = i[0]
    head = i[1]
    run = i[2]
    # c mod n kept by counting: an integer division per bar costs more than the whole update.
    phase = c % n
    nan = math.nan
    for t in range(x.shape[0]):
        v = x[t]
        if math.isnan(v):
            if c > 0:
                return t
            basis[t] = nan
            upper[t] = nan
            lower[t] = nan
            if want_sd:
                sd[t] = nan
            continue
        c += 1
        phase += 1
        if phase == n:
            phase = 0
        run = run + 1 if c > 1 and v == prev else 1
        prev = v
        if c <= n:
            ring[c - 1] = v
            s, k = nadd(s, k, v)
            d = v - m
            m = m + d / c
            m2 = m2 + d * (v - m)
        else:
            old = ring[head]
            ring[head] = v
            head += 1
            if head == n:
                head = 0
            s, k = nadd(s, k, v)
            s, k = nadd(s, k, -old)
            dx = v - old
            m_new = m + dx * inv_n
            m2 = m2 + dx * ((v - m_new) + (old - m))
            m = m_new
        if c < n:
            basis[t] = nan
            upper[t] = nan
            lower[t] = nan
            if want_sd:
                sd[t] = nan
            continue
        if phase == 0 or run == n:
            s, k = ring_sum(ring, head, n)
            m = (s + k) * inv_n
            m2 = 0.0
            j = head
            for _ in range(n):
                e = ring[j] - m
                m2 = m2 + e * e
                j += 1
                if j == n:
                    j = 0
        var = m2 * inv_n
        if var < 0.0:
            var = 0.0
        dev_raw = math.sqrt(var)
        b = (s + k) * inv_n
        dev = mult * dev_raw
        basis[t] = b
        upper[t] = b + dev
        lower[t] = b - dev
        if want_sd:
            sd[t] = dev_raw
    f[0] = s
    f[1] = k
    f[2] = m
    f[3] = m2
    f[4] = prev
    i[0] = c
    i[1] = head
    i[2] = run
    return -1


class _BandKernel(KernelIndicator):
    """State and kernel calls shared by :class:`Bollinger` and :class:`STDEV`."""

    _F_FIELDS = ("sum", "comp", "mean", "m2", "prev")
    _I_FIELDS = ("count", "head", "run")

    def __init__(self, n: int, k: float) -> None:
        self.n = check_int("n", n, 1)
        self.k = check_float("k", k)
        self._alloc(self.n)
        self._ip = np.array([self.n], dtype=np.int64)
        self._p = np.array([self.k, 1.0 / self.n], dtype=np.float64)
        self._o = np.zeros(4, dtype=np.float64)

    def _step(self, x: float) -> FloatArray:
        self._x[0] = x
        o = self._o
        bad = _bb_run(
            self._x, o[0:1], o[1:2], o[2:3], o[3:4], self._p, self._ip, self._f, self._i, self._ring
        )
        raise_bad_update(type(self).__name__, int(bad))
        return o

    def _batch(
        self, x: npt.ArrayLike, want_sd: bool
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        arr = as_input(x)
        b, u, lo = (np.empty_like(arr) for _ in range(3))
        sd = np.empty_like(arr) if want_sd else np.empty(0, dtype=np.float64)
        snap = self._snapshot()
        bad = int(_bb_run(arr, b, u, lo, sd, self._p, self._ip, self._f, self._i, self._ring))
        if bad >= 0:
            self._restore(snap)
            raise_bad(type(self).__name__, bad)
        return b, u, lo, sd


class Bollinger(_BandKernel):
    """Streaming Bollinger(n, k): ``basis = SMA(n)``, ``upper/lower = basis ± k·STDEV(n)``."""

    def __init__(self, n: int = 20, k: float = 2.0) -> None:
        super().__init__(n, k)

    def params(self) -> dict[str, Any]:
        """``{"n": n, "k": k}``."""
        return {"n": self.n, "k": self.k}

    def update(self, x: float) -> tuple[float, float, float]:
        """Consume one value; return ``(basis, upper, lower)`` (NaN while ``c < n``)."""
        o = self._step(x)
        return float(o[0]), float(o[1]), float(o[2])

    def update_many(self, x: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Consume a batch; return the ``(basis, upper, lower)`` arrays."""
        b, u, lo, _ = self._batch(x, want_sd=False)
        return b, u, lo


class STDEV(_BandKernel):
    """Streaming population standard deviation over the last ``n`` values (IND §4.3)."""

    def __init__(self, n: int) -> None:
        super().__init__(n, 1.0)

    def params(self) -> dict[str, Any]:
        """``{"n": n}``."""
        return {"n": self.n}

    def update(self, x: float) -> float:
        """Consume one value; return the deviation (NaN while ``c < n``)."""
        return float(self._step(x)[3])

    def update_many(self, x: npt.ArrayLike) -> FloatArray:
        """Consume a batch; return the deviations."""
        return self._batch(x, want_sd=True)[3]


class BollingerWidth:
    """Streaming band width ``((upper − lower)·10)/basis`` (Pine "BBW × 10"); NaN if basis is 0."""

    def __init__(self, n: int = 20, k: float = 2.0) -> None:
        self._bb = Bollinger(n, k)

    def params(self) -> dict[str, Any]:
        """``{"n": n, "k": k}``."""
        return self._bb.params()

    def update(self, x: float) -> float:
        """Consume one value; return the width."""
        basis, upper, lower = self._bb.update(x)
        return math.nan if basis == 0 else float(((upper - lower) * 10) / basis)

    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state (that of the underlying :class:`Bollinger`)."""
        return self._bb.get_state()

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`get_state`."""
        self._bb.set_state(state)


class BollingerPercentB(BollingerWidth):
    """Streaming %B ``(x − lower)/(upper − lower)``; NaN when ``upper − lower == 0``."""

    def update(self, x: float) -> float:
        """Consume one value; return %B."""
        _, upper, lower = self._bb.update(x)
        w = upper - lower
        return math.nan if w == 0 else float((float(x) - lower) / w)


def bollinger(
    x: npt.ArrayLike, n: int = 20, k: float = 2.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bollinger bands ``(basis, upper, lower)`` with population deviation (IND §4.3)."""
    return Bollinger(n, k).update_many(x)


def stdev(x: npt.ArrayLike, n: int) -> FloatArray:
    """Population standard deviation of the last ``n`` values (IND §4.3)."""
    return STDEV(n).update_many(x)


def bollinger_width(x: npt.ArrayLike, n: int = 20, k: float = 2.0) -> FloatArray:
    """Band width ``((upper − lower)·10)/basis`` (IND §4.3); NaN where basis is 0."""
    basis, upper, lower = bollinger(x, n, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = ((upper - lower) * 10) / basis
    out[basis == 0] = np.nan
    return out


def bollinger_percent_b(x: npt.ArrayLike, n: int = 20, k: float = 2.0) -> FloatArray:
    """%B ``(x − lower)/(upper − lower)`` (IND §4.3); NaN where the bands coincide."""
    arr = as_input(x)
    _, upper, lower = bollinger(arr, n, k)
    w = upper - lower
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = (arr - lower) / w
    out[w == 0] = np.nan
    return out
