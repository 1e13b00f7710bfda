"""Series helpers: change, crossover/crossunder, rising/falling (IND §2).

These take series that may hold NaN anywhere (indicator outputs during warm-up): a comparison
with NaN is false and a difference with NaN is NaN, so they never raise.
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
    same_length,
)

__all__ = [
    "Change",
    "Crossover",
    "Crossunder",
    "Falling",
    "Rising",
    "change",
    "crossover",
    "crossunder",
    "falling",
    "rising",
]


@kernel
def _change_run(x: FloatArray, out: FloatArray, f: FloatArray) -> int:
    prev = f[0]
    for t in range(x.shape[0]):
        v = x[t]
        out[t] = v - prev
        prev = v
    f[0] = prev
    return -1


@kernel
def _cross_run(a: FloatArray, b: FloatArray, out: BoolArray, ip: IntArray, f: FloatArray) -> int:
    over = ip[0] == 1
    pa = f[0]
    pb = f[1]
    for t in range(a.shape[0]):
        av = a[t]
        bv = b[t]
        if over:
            out[t] = av > bv and pa <= pb
        else:
            out[t] = av < bv and pa >= pb
        pa = av
        pb = bv
    f[0] = pa
    f[1] = pb
    return -1


@kernel
def _steps_run(x: FloatArray, out: BoolArray, ip: IntArray, f: FloatArray, i: IntArray) -> int:
    n = ip[0]
    up = ip[1] == 1
    prev = f[0]
    run = i[0]
    for t in range(x.shape[0]):
        v = x[t]
        step = v > prev if up else v < prev
        run = run + 1 if step else 0
        out[t] = run >= n
        prev = v
    f[0] = prev
    i[0] = run
    return -1


class Change(KernelIndicator):
    """Streaming ``x_t − x_{t−1}``; NaN at the first value."""

    _F_FIELDS = ("prev",)

    def __init__(self) -> None:
        self._alloc()
        self._f[0] = math.nan

    def params(self) -> dict[str, int]:
        """No parameters: ``{}``."""
        return {}

    def update(self, x: float) -> float:
        """Consume one value; return the change from the previous one."""
        self._x[0] = x
        _change_run(self._x, self._out, self._f)
        return float(self._out[0])

    def update_many(self, x: npt.ArrayLike) -> FloatArray:
        """Consume a batch; equal to :meth:`update` on each value in turn."""
        arr = as_input(x)
        out = np.empty_like(arr)
        _change_run(arr, out, self._f)
        return out


class Crossover(KernelIndicator):
    """Streaming ``a_t > b_t and a_{t−1} ≤ b_{t−1}`` (false at t = 0 or with any NaN)."""

    _F_FIELDS = ("prev_a", "prev_b")
    _OVER = 1

    def __init__(self) -> None:
        self._alloc()
        self._f[:] = math.nan
        self._b = np.zeros(1, dtype=np.float64)
        self._flag = np.zeros(1, dtype=np.bool_)
        self._ip = np.array([self._OVER], dtype=np.int64)

    def params(self) -> dict[str, int]:
        """No parameters: ``{}``."""
        return {}

    def update(self, a: float, b: float) -> bool:
        """Consume one pair; return whether ``a`` crossed ``b`` at it."""
        self._x[0] = a
        self._b[0] = b
        _cross_run(self._x, self._b, self._flag, self._ip, self._f)
        return bool(self._flag[0])

    def update_many(self, a: npt.ArrayLike, b: npt.ArrayLike) -> BoolArray:
        """Consume a batch of pairs; equal to :meth:`update` on each in turn."""
        aa, ba = as_input(a, "a"), as_input(b, "b")
        same_length(aa, ba)
        out = np.empty(len(aa), dtype=np.bool_)
        _cross_run(aa, ba, out, self._ip, self._f)
        return out


class Crossunder(Crossover):
    """Streaming ``a_t < b_t and a_{t−1} ≥ b_{t−1}`` (false at t = 0 or with any NaN)."""

    _OVER = 0


class Rising(KernelIndicator):
    """Streaming ``x_t > x_{t−1} > … > x_{t−n}``: a counter of consecutive strict steps."""

    _F_FIELDS = ("prev",)
    _I_FIELDS = ("steps",)
    _UP = 1

    def __init__(self, n: int) -> None:
        self.n = check_int("n", n, 1)
        self._alloc()
        self._f[0] = math.nan
        self._flag = np.zeros(1, dtype=np.bool_)
        self._ip = np.array([self.n, self._UP], dtype=np.int64)

    def params(self) -> dict[str, int]:
        """``{"n": n}``."""
        return {"n": self.n}

    def update(self, x: float) -> bool:
        """Consume one value; true once the last ``n`` steps were all strict in direction."""
        self._x[0] = x
        _steps_run(self._x, self._flag, self._ip, self._f, self._i)
        return bool(self._flag[0])

    def update_many(self, x: npt.ArrayLike) -> BoolArray:
        """Consume a batch; equal to :meth:`update` on each value in turn."""
        arr = as_input(x)
        out = np.empty(len(arr), dtype=np.bool_)
        _steps_run(arr, out, self._ip, self._f, self._i)
        return out


class Falling(Rising):
    """Streaming ``x_t < x_{t−1} < … < x_{t−n}`` (``n`` strict steps)."""

    _UP = 0


def change(x: npt.ArrayLike) -> FloatArray:
    """``x_t − x_{t−1}``; NaN at index 0 (IND §2)."""
    return Change().update_many(x)


def crossover(a: npt.ArrayLike, b: npt.ArrayLike) -> BoolArray:
    """``a`` crosses above ``b`` (IND §2)."""
    return Crossover().update_many(a, b)


def crossunder(a: npt.ArrayLike, b: npt.ArrayLike) -> BoolArray:
    """``a`` crosses below ``b`` (IND §2)."""
    return Crossunder().update_many(a, b)


def rising(x: npt.ArrayLike, n: int) -> BoolArray:
    """``n`` consecutive strict rises ending at each bar (IND §2)."""
    return Rising(n).update_many(x)


def falling(x: npt.ArrayLike, n: int) -> BoolArray:
    """``n`` consecutive strict falls ending at each bar (IND §2)."""
    return Falling(n).update_many(x)
