"""VIDYA(n): variable index dynamic average with a 9-difference CMO (IND §3.7)."""

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

__all__ = ["VIDYA", "vidya"]

_WINDOW = 10  # the current momentum value and the 9 before it


@kernel
def _vidya_run(
    x: FloatArray,
    m: FloatArray,
    out: FloatArray,
    p: FloatArray,
    f: FloatArray,
    i: IntArray,
    ring: FloatArray,
) -> int:
    denom = p[0]
    vv = f[0]
    c = i[0]
    pos = i[1]
    for t in range(x.shape[0]):
        v = x[t]
        mv = m[t]
        if math.isnan(v):
            if c > 0:
                return t
            out[t] = math.nan
            continue
        if math.isnan(mv):
            return t
        c += 1
        pos += 1
        if pos == 10:
            pos = 0
        ring[pos] = mv
        up = 0.0
        dn = 0.0
        newer = pos
        for _ in range(9):
            older = newer - 1
            if older < 0:
                older = 9
            d = ring[older] - ring[newer]
            if d > 0:
                up = up + d
            else:
                dn = dn - d
            newer = older
        tot = up + dn
        cmo = abs((up - dn) / tot) if tot != 0 else 1.0
        k = (cmo * 2.0) / denom
        vv = vv + k * (v - vv)
        out[t] = vv
    f[0] = vv
    i[0] = c
    i[1] = pos
    return -1


class VIDYA(KernelIndicator):
    """Streaming VIDYA starting from ``V = 0`` with zero momentum history (Pine ``nz``).

    ``update(x, m)`` takes the momentum source ``m`` (defaults to ``x``). No NaN warm-up;
    consumers treat the first ``max(10·n, 50)`` bars as warm-up (IND §8).
    """

    _F_FIELDS = ("value",)
    _I_FIELDS = ("count", "pos")

    def __init__(self, n: int) -> None:
        self.n = check_int("n", n, 1)
        self._alloc(_WINDOW)
        self._m = np.zeros(1, dtype=np.float64)
        self._p = np.array([1.0 + max(self.n, 1)], dtype=np.float64)

    def params(self) -> dict[str, int]:
        """``{"n": n}``."""
        return {"n": self.n}

    def update(self, x: float, m: float | None = None) -> float:
        """Consume one value (and its momentum source, default ``x``); return ``V_t``."""
        self._x[0] = x
        self._m[0] = x if m is None else m
        bad = _vidya_run(self._x, self._m, self._out, self._p, self._f, self._i, self._ring)
        raise_bad_update("VIDYA", int(bad))
        return float(self._out[0])

    def update_many(self, x: npt.ArrayLike, m: npt.ArrayLike | None = None) -> FloatArray:
        """Consume a batch; equal to :meth:`update` on each value in turn."""
        xa = as_input(x)
        ma = xa if m is None else as_input(m, "m")
        same_length(xa, ma)
        out = np.empty_like(xa)
        snap = self._snapshot()
        bad = int(_vidya_run(xa, ma, out, self._p, self._f, self._i, self._ring))
        if bad >= 0:
            self._restore(snap)
            raise_bad("VIDYA", bad)
        return out


def vidya(x: npt.ArrayLike, n: int, m: npt.ArrayLike | None = None) -> FloatArray:
    """VIDYA (IND §3.7) of ``x`` with momentum source ``m`` (default ``x``)."""
    return VIDYA(n).update_many(x, m)
