"""Wilder DMI: +DI, −DI and ADX(n), equal to TA-Lib ``PLUS_DI``/``MINUS_DI``/``ADX`` (IND §4.5).

Every ``/ n`` is evaluated as ``· (1/n)`` (IND §1.1). Candle input: no leading values are
skipped and a NaN field raises (IND §1.2).
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
from .atr import tr_value

__all__ = ["ADX", "adx"]


@kernel
def _adx_run(
    h: FloatArray,
    lo: FloatArray,
    cl: FloatArray,
    adx_out: FloatArray,
    pdi_out: FloatArray,
    mdi_out: FloatArray,
    p: FloatArray,
    ip: IntArray,
    f: FloatArray,
    i: IntArray,
) -> int:
    n = ip[0]
    inv_n = p[0]
    nm1 = p[1]
    ph = f[0]
    pl = f[1]
    pc = f[2]
    sp = f[3]
    sm = f[4]
    st = f[5]
    adx = f[6]
    t_bar = i[0]
    nan = math.nan
    for t in range(h.shape[0]):
        hv = h[t]
        lv = lo[t]
        cv = cl[t]
        if math.isnan(hv) or math.isnan(lv) or math.isnan(cv):
            return t
        adx_out[t] = nan
        pdi_out[t] = nan
        mdi_out[t] = nan
        if t_bar > 0:
            up = hv - ph
            dn = pl - lv
            pdm = 0.0
            mdm = 0.0
            if dn > 0 and up < dn:
                mdm = dn
            elif up > 0 and up > dn:
                pdm = up
            tr = tr_value(hv, lv, pc)
            if t_bar < n:
                sp = sp + pdm
                sm = sm + mdm
                st = st + tr
            else:
                sp = (sp - sp * inv_n) + pdm
                sm = (sm - sm * inv_n) + mdm
                st = (st - st * inv_n) + tr
                pdi = 0.0
                mdi = 0.0
                dx = nan
                if st != 0.0:
                    pdi = 100.0 * (sp / st)
                    mdi = 100.0 * (sm / st)
                    tot = mdi + pdi
                    if tot != 0.0:
                        dx = 100.0 * (abs(mdi - pdi) / tot)
                pdi_out[t] = pdi
                mdi_out[t] = mdi
                # ``adx`` holds the running DX sum until the seed bar t = 2n − 1.
                if t_bar < 2 * n - 1:
                    if not math.isnan(dx):
                        adx = adx + dx
                elif t_bar == 2 * n - 1:
                    if not math.isnan(dx):
                        adx = adx + dx
                    adx = adx * inv_n
                    adx_out[t] = adx
                else:
                    if not math.isnan(dx):
                        adx = (adx * nm1 + dx) * inv_n
                    adx_out[t] = adx
        ph = hv
        pl = lv
        pc = cv
        t_bar += 1
    f[0] = ph
    f[1] = pl
    f[2] = pc
    f[3] = sp
    f[4] = sm
    f[5] = st
    f[6] = adx
    i[0] = t_bar
    return -1


class ADX(KernelIndicator):
    """Streaming DMI; :meth:`update` returns ``(adx, plus_di, minus_di)``.

    ±DI are defined from ``t = n``, ADX from ``t = 2n − 1`` (``t`` counts candles from 0).
    """

    _F_FIELDS = (
        "prev_high",
        "prev_low",
        "prev_close",
        "sum_plus_dm",
        "sum_minus_dm",
        "sum_tr",
        "adx",
    )
    _I_FIELDS = ("bars",)

    def __init__(self, n: int = 14) -> None:
        self.n = check_int("n", n, 2)
        self._alloc()
        self._ip = np.array([self.n], dtype=np.int64)
        self._p = np.array([1.0 / self.n, self.n - 1.0], dtype=np.float64)
        self._h = np.zeros(1, dtype=np.float64)
        self._lo = np.zeros(1, dtype=np.float64)
        self._o = np.zeros(3, dtype=np.float64)

    def params(self) -> dict[str, int]:
        """``{"n": n}``."""
        return {"n": self.n}

    def update(self, high: float, low: float, close: float) -> tuple[float, float, float]:
        """Consume one candle; return ``(adx, plus_di, minus_di)`` (NaN during warm-up)."""
        self._h[0] = high
        self._lo[0] = low
        self._x[0] = close
        o = self._o
        bad = _adx_run(
            self._h, self._lo, self._x, o[0:1], o[1:2], o[2:3], self._p, self._ip, self._f, self._i
        )
        raise_bad_update("ADX", int(bad), candle=True)
        return float(o[0]), float(o[1]), float(o[2])

    def update_many(
        self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Consume a batch of candles; return the ``(adx, plus_di, minus_di)`` arrays."""
        h, lo, c = as_input(high, "high"), as_input(low, "low"), as_input(close, "close")
        same_length(h, lo, c)
        a, pdi, mdi = (np.empty_like(c) for _ in range(3))
        snap = self._snapshot()
        bad = int(_adx_run(h, lo, c, a, pdi, mdi, self._p, self._ip, self._f, self._i))
        if bad >= 0:
            self._restore(snap)
            raise_bad("ADX", bad, candle=True)
        return a, pdi, mdi


def adx(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, n: int = 14
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Wilder ``(ADX, +DI, −DI)`` (IND §4.5)."""
    return ADX(n).update_many(high, low, close)
