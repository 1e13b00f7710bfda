"""True range and Wilder ATR(n), equal to TA-Lib ``TRANGE`` / ``ATR`` (IND §4.2).

Candle indicators skip no leading values; a NaN in any field raises (IND §1.2). The ATR's
``/ n`` is evaluated as ``· (1/n)`` (IND §1.1).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._core import (
    FloatArray,
    IntArray,
    KernelIndicator,
    as_input,
    check_int,
    kernel,
    raise_bad,
    raise_bad_update,
    same_length,
)

__all__ = ["ATR", "TrueRange", "atr", "true_range"]


@kernel
def tr_value(h: float, lo: float, pc: float) -> float:
    """``max(h − l, |h − pc|, |l − pc|)``, evaluated in the order IND §4.2 prescribes."""
    tr = h - lo
    a = abs(h - pc)
    if a > tr:
        tr = a
    b = abs(lo - pc)
    if b > tr:
        tr = b
    return tr


@kernel
def _atr_run(
    h: FloatArray,
    lo: FloatArray,
    cl: FloatArray,
    out: FloatArray,
    p: FloatArray,
    ip: IntArray,
    f: FloatArray,
    i: IntArray,
) -> int:
    n = ip[0]
    mode_tr = ip[1] == 1
    inv_n = p[0]
    nm1 = p[1]
    pc = f[0]
    acc = f[1]
    t_bar = i[0]
    for t in range(h.shape[0]):
        hv = h[t]
        lv = lo[t]
        cv = cl[t]
        if math.isnan(hv) or math.isnan(lv) or math.isnan(cv):
            return t
        if t_bar > n and not mode_tr:
            # Steady state first: the common case.
            acc = (acc * nm1 + tr_value(hv, lv, pc)) * inv_n
            out[t] = acc
        elif t_bar == 0:
            out[t] = math.nan
        else:
            tr = tr_value(hv, lv, pc)
            if mode_tr:
                out[t] = tr
            elif t_bar < n:
                acc = acc + tr
                out[t] = math.nan
            else:
                acc = (acc + tr) * inv_n
                out[t] = acc
        pc = cv
        t_bar += 1
    f[0] = pc
    f[1] = acc
    i[0] = t_bar
    return -1


class _CandleSeries(KernelIndicator):
    _F_FIELDS = ("prev_close", "acc")
    _I_FIELDS = ("bars",)
    _ip: IntArray
    _p: FloatArray

    def __init__(self) -> None:
        self._alloc()
        self._h = np.zeros(1, dtype=np.float64)
        self._lo = np.zeros(1, dtype=np.float64)

    def update(self, high: float, low: float, close: float) -> float:
        """Consume one candle's high, low and close; return the value at it."""
        self._h[0] = high
        self._lo[0] = low
        self._x[0] = close
        bad = _atr_run(self._h, self._lo, self._x, self._out, self._p, self._ip, self._f, self._i)
        raise_bad_update(type(self).__name__, int(bad), candle=True)
        return float(self._out[0])

    def update_many(
        self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
    ) -> FloatArray:
        """Consume a batch of candles; equal to :meth:`update` on each in turn."""
        h, lo, c = as_input(high, "high"), as_input(low, "low"), as_input(close, "close")
        same_length(h, lo, c)
        out = np.empty_like(c)
        snap = self._snapshot()
        bad = int(_atr_run(h, lo, c, out, self._p, self._ip, self._f, self._i))
        if bad >= 0:
            self._restore(snap)
            raise_bad(type(self).__name__, bad, candle=True)
        return out


class TrueRange(_CandleSeries):
    """Streaming true range with the previous close; NaN at the first candle (IND §4.2)."""

    def __init__(self) -> None:
        super().__init__()
        self._ip = np.array([1, 1], dtype=np.int64)
        self._p = np.array([1.0, 0.0], dtype=np.float64)

    def params(self) -> dict[str, int]:
        """No parameters: ``{}``."""
        return {}


class ATR(_CandleSeries):
    """Streaming Wilder ATR: mean of ``TR_1..TR_n`` at ``t = n``, then Wilder smoothing."""

    def __init__(self, n: int = 14) -> None:
        super().__init__()
        self.n = check_int("n", n, 1)
        self._ip = np.array([self.n, 0], dtype=np.int64)
        self._p = np.array([1.0 / self.n, self.n - 1.0], dtype=np.float64)

    def params(self) -> dict[str, int]:
        """``{"n": n}``."""
        return {"n": self.n}


def true_range(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> FloatArray:
    """True range (IND §4.2); NaN at index 0."""
    return TrueRange().update_many(high, low, close)


def atr(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, n: int = 14) -> FloatArray:
    """Wilder ATR (IND §4.2); NaN for ``t < n``."""
    return ATR(n).update_many(high, low, close)
