"""Kaufman efficiency ratio ER(n) (IND §4.4) and the ER-adaptive average (GRID centre line, §6)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ._core import (
    FloatArray,
    IntArray,
    KernelIndicator,
    SeriesIndicator,
    as_input,
    check_header,
    check_int,
    kernel,
    raise_bad,
    raise_bad_update,
    same_length,
)
from ._neumaier import nadd
from .averages import EMA

__all__ = ["ER", "ERAdaptive", "er", "er_adaptive"]


@kernel
def _er_run(
    x: FloatArray, out: FloatArray, ip: IntArray, f: FloatArray, i: IntArray, ring: FloatArray
) -> int:
    n = ip[0]
    size = n + 1
    s = f[0]
    k = f[1]
    c = i[0]
    head = i[1]  # oldest value once the ring of n + 1 values is full
    phase = (c - 1) % n if c > 0 else n - 1  # (c - 1) mod n by counting
    for t in range(x.shape[0]):
        v = x[t]
        if math.isnan(v):
            if c > 0:
                return t
            out[t] = math.nan
            continue
        c += 1
        phase = phase + 1 if c > 1 else 0
        if phase == n:
            phase = 0
        if c <= size:
            if c > 1:
                s, k = nadd(s, k, abs(v - ring[c - 2]))
            ring[c - 1] = v
        else:
            nxt = head + 1
            if nxt == size:
                nxt = 0
            newest = head - 1
            if newest < 0:
                newest = size - 1
            evicted = abs(ring[nxt] - ring[head])
            s, k = nadd(s, k, abs(v - ring[newest]))
            s, k = nadd(s, k, -evicted)
            ring[head] = v
            head = nxt
        cd = c - 1  # number of differences consumed
        if cd >= n and phase == 0:
            s = 0.0
            k = 0.0
            j = head
            for _ in range(n):
                j2 = j + 1
                if j2 == size:
                    j2 = 0
                s, k = nadd(s, k, abs(ring[j2] - ring[j]))
                j = j2
        if c <= n:
            out[t] = math.nan
            continue
        d = s + k
        out[t] = abs(v - ring[head]) / d if d != 0.0 else 0.0
    f[0] = s
    f[1] = k
    i[0] = c
    i[1] = head
    return -1


@kernel
def _mama_run(
    x: FloatArray,
    a: FloatArray,
    mama_out: FloatArray,
    fama_out: FloatArray,
    f: FloatArray,
    i: IntArray,
) -> int:
    mama = f[0]
    fama = f[1]
    c = i[0]
    for t in range(x.shape[0]):
        v = x[t]
        if math.isnan(v):
            if c > 0:
                return t
            mama_out[t] = math.nan
            fama_out[t] = math.nan
            continue
        c += 1
        if c == 1:
            mama = v
            fama = v
        else:
            at = a[t]
            if math.isnan(at):
                at = 0.0
            mama = at * v + (1.0 - at) * mama
            half = at / 2.0
            fama = half * mama + (1.0 - half) * fama
        mama_out[t] = mama
        fama_out[t] = fama
    f[0] = mama
    f[1] = fama
    i[0] = c
    return -1


class ER(SeriesIndicator):
    """Streaming efficiency ratio ``|x_t − x_{t−n}| / Σ|Δx|`` (0 when the path is 0)."""

    _F_FIELDS = ("path_sum", "path_comp")
    _I_FIELDS = ("count", "head")

    def __init__(self, n: int) -> None:
        self.n = check_int("n", n, 1)
        self._alloc(self.n + 1)
        self._ip = np.array([self.n], dtype=np.int64)

    def params(self) -> dict[str, int]:
        """``{"n": n}``."""
        return {"n": self.n}

    def _call(self, x: FloatArray, out: FloatArray) -> int:
        return int(_er_run(x, out, self._ip, self._f, self._i, self._ring))


class _MamaFama(KernelIndicator):
    """The unsmoothed MAMA/FAMA recursion of IND §6 driven by a given adaptive factor."""

    _F_FIELDS = ("mama", "fama")
    _I_FIELDS = ("count",)

    def __init__(self) -> None:
        self._alloc()
        self._a = np.zeros(1, dtype=np.float64)
        self._o = np.zeros(2, dtype=np.float64)

    def params(self) -> dict[str, Any]:
        return {}

    def update(self, x: float, a: float) -> tuple[float, float]:
        self._x[0] = x
        self._a[0] = a
        o = self._o
        bad = _mama_run(self._x, self._a, o[0:1], o[1:2], self._f, self._i)
        raise_bad_update("ERAdaptive", int(bad))
        return float(o[0]), float(o[1])

    def update_many(self, x: FloatArray, a: FloatArray) -> tuple[FloatArray, FloatArray]:
        same_length(x, a)
        mama, fama = np.empty_like(x), np.empty_like(x)
        snap = self._snapshot()
        bad = int(_mama_run(x, a, mama, fama, self._f, self._i))
        if bad >= 0:
            self._restore(snap)
            raise_bad("ERAdaptive", bad)
        return mama, fama


class ERAdaptive:
    """Streaming ER-adaptive average; :meth:`update` returns the smoothed ``(mama, fama)``.

    GRID uses ``fama`` as its centre line (IND §6).
    """

    def __init__(self, er_length: int = 20, smooth: int = 5) -> None:
        self.er_length = check_int("er_length", er_length, 1)
        self.smooth = check_int("smooth", smooth, 1)
        self._er = ER(self.er_length)
        self._mf = _MamaFama()
        self._ema_mama = EMA(self.smooth)
        self._ema_fama = EMA(self.smooth)

    def params(self) -> dict[str, int]:
        """``{"er_length": …, "smooth": …}``."""
        return {"er_length": self.er_length, "smooth": self.smooth}

    def update(self, x: float) -> tuple[float, float]:
        """Consume one value; return ``(mama, fama)`` (NaN until ``c = smooth``)."""
        a = self._er.update(x)
        mama, fama = self._mf.update(x, a)
        return self._ema_mama.update(mama), self._ema_fama.update(fama)

    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state of the four parts."""
        return {
            "indicator": "ERAdaptive",
            "params": self.params(),
            "er": self._er.get_state(),
            "mama_fama": self._mf.get_state(),
            "ema_mama": self._ema_mama.get_state(),
            "ema_fama": self._ema_fama.get_state(),
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`get_state` of an object with the same params."""
        check_header("ERAdaptive", self.params(), state)
        fresh = ERAdaptive(self.er_length, self.smooth)
        fresh._er.set_state(state["er"])
        fresh._mf.set_state(state["mama_fama"])
        fresh._ema_mama.set_state(state["ema_mama"])
        fresh._ema_fama.set_state(state["ema_fama"])
        self._er, self._mf = fresh._er, fresh._mf
        self._ema_mama, self._ema_fama = fresh._ema_mama, fresh._ema_fama


def er(x: npt.ArrayLike, n: int) -> FloatArray:
    """Kaufman efficiency ratio (IND §4.4); NaN while ``c ≤ n``."""
    return ER(n).update_many(x)


def er_adaptive(
    x: npt.ArrayLike, er_length: int = 20, smooth: int = 5
) -> tuple[FloatArray, FloatArray]:
    """ER-adaptive average ``(mama, fama)``, each an EMA(smooth) of the recursion (IND §6)."""
    obj = ERAdaptive(er_length, smooth)
    arr = as_input(x)
    a = obj._er.update_many(arr)
    mama, fama = obj._mf.update_many(arr, a)
    return obj._ema_mama.update_many(mama), obj._ema_fama.update_many(fama)
