"""Jurik-style moving average JMA(L, phase, power), Pine ``nz`` semantics (IND §3.6)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ..errors import ConfigError
from ._core import FloatArray, IntArray, SeriesIndicator, check_float, kernel

__all__ = ["JMA", "jma", "jma_constants"]


def jma_constants(length: float, phase: float, power: float) -> tuple[float, ...]:
    """``(1−α, α, 1−β, β, phase_ratio, q, α²)`` for the kernel, as IND §3.6 defines them."""
    if phase < -100:
        phase_ratio = 0.5
    elif phase > 100:
        phase_ratio = 2.5
    else:
        phase_ratio = phase / 100 + 1.5
    u = 0.45 * (length - 1)
    beta = u / (u + 2)
    alpha = beta * beta if power == 2 else math.pow(beta, power)
    oma = 1 - alpha
    return (oma, alpha, 1 - beta, beta, phase_ratio, oma * oma, alpha * alpha)


@kernel
def _jma_run(x: FloatArray, out: FloatArray, p: FloatArray, f: FloatArray, i: IntArray) -> int:
    oma = p[0]
    alpha = p[1]
    omb = p[2]
    beta = p[3]
    pr = p[4]
    q = p[5]
    a2 = p[6]
    e0 = f[0]
    e1 = f[1]
    e2 = f[2]
    jv = f[3]
    c = i[0]
    for t in range(x.shape[0]):
        v = x[t]
        if math.isnan(v):
            if c > 0:
                return t
            out[t] = math.nan
            continue
        c += 1
        e0 = oma * v + alpha * e0
        e1 = (v - e0) * omb + beta * e1
        e2 = ((e0 + pr * e1) - jv) * q + a2 * e2
        jv = e2 + jv
        out[t] = jv
    f[0] = e0
    f[1] = e1
    f[2] = e2
    f[3] = jv
    i[0] = c
    return -1


class JMA(SeriesIndicator):
    """Streaming JMA starting from zero state (Pine ``nz``); no NaN warm-up, but consumers treat
    the first ``max(4·L, 30)`` outputs as warm-up (IND §8)."""

    _F_FIELDS = ("e0", "e1", "e2", "jma")
    _I_FIELDS = ("count",)

    def __init__(self, length: float, phase: float = 50, power: float = 2) -> None:
        self.length = check_float("length", length)
        if self.length < 1:
            raise ConfigError(f"length must be >= 1, got {length!r}")
        self.phase = check_float("phase", phase)
        self.power = check_float("power", power)
        self._alloc()
        self._p = np.array(jma_constants(self.length, self.phase, self.power), dtype=np.float64)

    def params(self) -> dict[str, float]:
        """``{"length": L, "phase": phase, "power": power}``."""
        return {"length": self.length, "phase": self.phase, "power": self.power}

    def _call(self, x: FloatArray, out: FloatArray) -> int:
        return int(_jma_run(x, out, self._p, self._f, self._i))


def jma(x: npt.ArrayLike, length: float, phase: float = 50, power: float = 2) -> FloatArray:
    """JMA (IND §3.6): defined from the first finite input, converging from zero."""
    return JMA(length, phase, power).update_many(x)
