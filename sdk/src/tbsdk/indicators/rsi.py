"""Wilder RSI(n), equal to TA-Lib ``RSI`` (IND §4.1).

Every ``/ n`` is evaluated as ``· (1/n)`` (IND §1.1), as the TA-Lib 0.8 wheel does.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._core import (
    BoolArray,
    FloatArray,
    IntArray,
    KernelIndicator,
    as_input,
    check_int,
    kernel,
    raise_bad,
    raise_bad_update,
)

__all__ = ["RSI", "rsi", "rsi_with_flat"]


@kernel
def _rsi_run(
    x: FloatArray,
    out: FloatArray,
    flat: BoolArray,
    p: FloatArray,
    ip: IntArray,
    f: FloatArray,
    i: IntArray,
) -> int:
    n = ip[0]
    inv_n = p[0]
    nm1 = p[1]
    prev = f[0]
    g = f[1]
    lo = f[2]
    c = i[0]
    for t in range(x.shape[0]):
        v = x[t]
        if math.isnan(v):
            if c > 0:
                return t
            out[t] = math.nan
            flat[t] = False
            continue
        c += 1
        if c == 1:
            prev = v
            out[t] = math.nan
            flat[t] = False
            continue
        d = v - prev
        prev = v
        gain = d if d > 0.0 else 0.0
        loss = -d if d < 0.0 else 0.0
        if c <= n + 1:
            g = g + gain
            lo = lo + loss
            if c <= n:
                out[t] = math.nan
                flat[t] = False
                continue
            g = g * inv_n
            lo = lo * inv_n
        else:
            g = (g * nm1 + gain) * inv_n
            lo = (lo * nm1 + loss) * inv_n
        tot = g + lo
        if tot > 0.0:
            out[t] = 100.0 * (g / tot)
            flat[t] = False
        else:
            out[t] = 0.0
            flat[t] = True
    f[0] = prev
    f[1] = g
    f[2] = lo
    i[0] = c
    return -1


class RSI(KernelIndicator):
    """Streaming Wilder RSI; :attr:`flat` tells whether the last value came from ``G + L == 0``.

    Strategies must not derive a signal from a flat RSI value (IND §4.1).
    """

    _F_FIELDS = ("prev", "avg_gain", "avg_loss")
    _I_FIELDS = ("count",)

    def __init__(self, n: int = 14) -> None:
        self.n = check_int("n", n, 2)
        self._alloc()
        self._flat = np.zeros(1, dtype=np.bool_)
        self._ip = np.array([self.n], dtype=np.int64)
        self._p = np.array([1.0 / self.n, self.n - 1.0], dtype=np.float64)
        self.flat = False

    def params(self) -> dict[str, int]:
        """``{"n": n}``."""
        return {"n": self.n}

    def update(self, x: float) -> float:
        """Consume one close; NaN for the first ``n`` inputs, then RSI in ``[0, 100]``."""
        self._x[0] = x
        bad = _rsi_run(self._x, self._out, self._flat, self._p, self._ip, self._f, self._i)
        raise_bad_update("RSI", int(bad))
        self.flat = bool(self._flat[0])
        return float(self._out[0])

    def peek(self, price: float) -> float:
        """Provisional RSI if the next close were ``price``; the state is not changed."""
        x = np.array([price], dtype=np.float64)
        out = np.empty(1, dtype=np.float64)
        flat = np.empty(1, dtype=np.bool_)
        bad = _rsi_run(x, out, flat, self._p, self._ip, self._f.copy(), self._i.copy())
        raise_bad_update("RSI", int(bad))
        return float(out[0])

    def update_many_with_flat(self, x: npt.ArrayLike) -> tuple[FloatArray, BoolArray]:
        """Consume a batch; return the RSI values and the ``flat`` flags."""
        arr = as_input(x)
        out = np.empty_like(arr)
        flat = np.empty(len(arr), dtype=np.bool_)
        snap = self._snapshot()
        bad = int(_rsi_run(arr, out, flat, self._p, self._ip, self._f, self._i))
        if bad >= 0:
            self._restore(snap)
            raise_bad("RSI", bad)
        if len(arr):
            self.flat = bool(flat[-1])
        return out, flat

    def update_many(self, x: npt.ArrayLike) -> FloatArray:
        """Consume a batch; equal to :meth:`update` on each value in turn."""
        return self.update_many_with_flat(x)[0]

    def set_state(self, state: dict[str, object]) -> None:  # type: ignore[override]
        """Restore a state from :meth:`get_state` (``flat`` is recomputed from ``G + L``)."""
        super().set_state(state)
        tot = self._f[1] + self._f[2]
        self.flat = bool(self._i[0] > self.n and tot == 0.0)


def rsi(x: npt.ArrayLike, n: int = 14) -> FloatArray:
    """Wilder RSI (IND §4.1): NaN for the first ``n`` inputs, 0 for a flat series."""
    return RSI(n).update_many(x)


def rsi_with_flat(x: npt.ArrayLike, n: int = 14) -> tuple[FloatArray, BoolArray]:
    """RSI values and the boolean ``flat = (G + L == 0)`` series (IND §4.1)."""
    return RSI(n).update_many_with_flat(x)
