"""The BB state of the trend filter on closed BB-timeframe candles (hyperrsi spec §7.4).

Step 1 (Bollinger(15, 1.5) width and %B, SMA100 of the width, the pivots of step 2,
Bollinger(60, 1.5) width and its pivot low, ``falling(BBW, 3)``, ``rising(BBW, 1)``) comes from
``tbsdk.indicators``. Steps 2–7 (FIFOs ``PH``/``PL``/``PL2`` of capacity 50, their means, the
thresholds, sticky ``sq2`` and sticky ``BB``) are sequential and live in one compiled kernel,
:func:`_bb_run`. The vectorised :func:`bb_states` runs it once over the whole series; the
streaming :class:`BBStream` runs it on one candle at a time with its persistent state arrays.
Together with the bit-identical vectorised/streaming pairs of the SDK indicators this makes both
forms identical by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from tbsdk.indicators import (
    SMA,
    BollingerPercentB,
    BollingerWidth,
    Falling,
    PivotHigh,
    PivotLow,
    Rising,
    bollinger_percent_b,
    bollinger_width,
    falling,
    pivothigh,
    pivotlow,
    rising,
    sma,
)

__all__ = ["BB_DEBUG_COLUMNS", "BBInputs", "BBStates", "BBStream", "bb_inputs", "bb_states"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]

BB_LENGTH, BB_MULT = 15, 1.5
BB2_LENGTH = 60
MA_BBW_LENGTH = 100
PIVOT_LEFT, PIVOT_RIGHT = 20, 10
PIVOT2_LEFT, PIVOT2_RIGHT = 30, 10
FIFO_CAPACITY = 50

BB_DEBUG_COLUMNS = ("ph_avg", "pl_avg", "pl2_avg", "buzz", "squeeze", "squeeze2", "sq2")
"""Columns of the optional debug output of :func:`bb_states` (``sq2`` as 0.0 / 1.0)."""

# Kernel state layout. f: crossover memory and the cached FIFO means; i: per FIFO (count, head),
# then sq2 and BB; ring: the three FIFOs one after the other.
_F_FIELDS = ("prev_bbw", "prev_buzz", "ph_mean", "pl_mean", "pl2_mean")
_I_FIELDS = ("ph_count", "ph_head", "pl_count", "pl_head", "pl2_count", "pl2_head", "sq2", "bb")


@njit(cache=True, fastmath=False, error_model="numpy")
def _fifo_push(ring: FloatArray, base: int, i: IntArray, slot: int, value: float) -> float:
    """Append ``value`` to the FIFO at ``ring[base : base + 50]`` (dropping the oldest when full)
    and return its new mean: the left-to-right sum oldest → newest divided by the count."""
    count: int = i[slot]
    head = i[slot + 1]  # position of the oldest value
    if count < FIFO_CAPACITY:
        pos = head + count
        if pos >= FIFO_CAPACITY:
            pos -= FIFO_CAPACITY
        ring[base + pos] = value
        count += 1
    else:
        ring[base + head] = value
        head += 1
        if head == FIFO_CAPACITY:
            head = 0
    i[slot] = count
    i[slot + 1] = head
    total = 0.0
    j = head
    for _ in range(count):
        total = total + ring[base + j]
        j += 1
        if j == FIFO_CAPACITY:
            j = 0
    return total / count


@njit(cache=True, fastmath=False, error_model="numpy")
def _bb_run(
    bbw: FloatArray,
    bbr: FloatArray,
    ma_bbw: FloatArray,
    ph: FloatArray,
    pl: FloatArray,
    bbw2: FloatArray,
    pl2: FloatArray,
    fall3: BoolArray,
    rise1: BoolArray,
    out: Int8Array,
    dbg: FloatArray,
    f: FloatArray,
    i: IntArray,
    ring: FloatArray,
) -> None:
    """Spec §7.4 steps 2–7 for each candle; writes ``BB_t`` to ``out`` (and the
    ``BB_DEBUG_COLUMNS`` when ``dbg`` has rows). The state lives in ``f`` (``_F_FIELDS``),
    ``i`` (``_I_FIELDS``) and ``ring`` (the three FIFOs); a FIFO's mean is recomputed only when
    the FIFO changes and kept in ``f``."""
    want_dbg = dbg.shape[0] > 0
    inv07 = 1.0 / 0.7  # computed first, as Pine does (step 5)
    nan = math.nan
    prev_bbw = f[0]
    prev_buzz = f[1]
    ph_mean = f[2]
    pl_mean = f[3]
    pl2_mean = f[4]
    sq2 = i[6] == 1
    bb = i[7]
    for t in range(bbw.shape[0]):
        w = bbw[t]
        w2 = bbw2[t]
        r = bbr[t]
        # Step 2: pivots enter their FIFO on the candle that reports them, judged by that
        # candle's BBW and MA_BBW (any comparison with NaN is false).
        if w > ma_bbw[t] and ph[t] > 0:
            ph_mean = _fifo_push(ring, 0, i, 0, ph[t])
        if w < ma_bbw[t] and pl[t] > 0:
            pl_mean = _fifo_push(ring, FIFO_CAPACITY, i, 2, pl[t])
        # Step 3: fallbacks max/min(BBW, 5) stay NaN while BBW is NaN (Pine math.max(na, 5)).
        if i[0] > 0:
            ph_avg = ph_mean
        elif math.isnan(w):
            ph_avg = nan
        else:
            ph_avg = w if w > 5.0 else 5.0
        if i[2] > 0:
            pl_avg = pl_mean
        elif math.isnan(w):
            pl_avg = nan
        else:
            pl_avg = w if w < 5.0 else 5.0
        # Step 4.
        if w2 < 1.0 and pl2[t] > 0:
            pl2_mean = _fifo_push(ring, 2 * FIFO_CAPACITY, i, 4, pl2[t])
        if i[4] > 0:
            pl2_avg = pl2_mean
        elif math.isnan(w2):
            pl2_avg = nan
        else:
            pl2_avg = w2 if w2 < 5.0 else 5.0
        # Step 5.
        buzz = ph_avg * 0.7
        squeeze = pl_avg * inv07
        squeeze2 = pl2_avg * inv07
        # Step 6: with BBW2 NaN both tests are false and sq2 keeps its value.
        if w2 > squeeze2:
            sq2 = False
        if w2 < squeeze2:
            sq2 = True
        # Step 7, sequential ifs; crossover as IND §2 (false at the first candle and with NaN).
        cross = w > buzz and prev_bbw <= prev_buzz
        prev_bbw = w
        prev_buzz = buzz
        if cross and r > 0.5:
            bb = 2
        if cross and r < 0.5:
            bb = -2
        if w < squeeze and sq2:
            bb = -1
        if bb == 2 and r < 0.2:
            bb = -2
        if bb == -2 and r > 0.8:
            bb = 2
        if ((bb == 2 or bb == -2) and fall3[t]) or (w > pl_avg and bb == -1 and rise1[t]):
            bb = 0
        out[t] = bb
        if want_dbg:
            dbg[t, 0] = ph_avg
            dbg[t, 1] = pl_avg
            dbg[t, 2] = pl2_avg
            dbg[t, 3] = buzz
            dbg[t, 4] = squeeze
            dbg[t, 5] = squeeze2
            dbg[t, 6] = 1.0 if sq2 else 0.0
    f[0] = prev_bbw
    f[1] = prev_buzz
    f[2] = ph_mean
    f[3] = pl_mean
    f[4] = pl2_mean
    i[6] = 1 if sq2 else 0
    i[7] = bb


def _encode_floats(values: FloatArray) -> list[float | str | None]:
    """JSON form of state floats, as ``tbsdk`` encodes indicator states (IND §1.1): NaN as
    ``null``, infinities as ``"inf"`` / ``"-inf"``, finite values as themselves (``json`` writes
    their shortest round-trip repr, so they are restored exactly)."""
    out: list[float | str | None] = []
    for v in values.tolist():
        if math.isnan(v):
            out.append(None)
        elif math.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        else:
            out.append(v)
    return out


def _decode_floats(values: list[Any]) -> FloatArray:
    """Inverse of :func:`_encode_floats`."""
    out = np.empty(len(values), dtype=np.float64)
    for j, v in enumerate(values):
        if v is None:
            out[j] = math.nan
        elif v in ("inf", "-inf"):
            out[j] = math.inf if v == "inf" else -math.inf
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out[j] = float(v)
        else:
            raise ValueError(f"BB state: {v!r} is not a number, null, 'inf' or '-inf'")
    return out


def _fresh_state() -> tuple[FloatArray, IntArray, FloatArray]:
    f = np.full(len(_F_FIELDS), math.nan, dtype=np.float64)
    i = np.zeros(len(_I_FIELDS), dtype=np.int64)
    i[6] = 1  # sq2 starts true (step 6)
    ring = np.zeros(3 * FIFO_CAPACITY, dtype=np.float64)
    return f, i, ring


@dataclass(frozen=True)
class BBInputs:
    """Step-1 series of spec §7.4 per BB candle, from ``tbsdk.indicators``."""

    bbw: FloatArray
    bbr: FloatArray
    ma_bbw: FloatArray
    ph: FloatArray
    pl: FloatArray
    bbw2: FloatArray
    pl2: FloatArray
    falling3: BoolArray
    rising1: BoolArray


def bb_inputs(close: FloatArray) -> BBInputs:
    """The indicator inputs of the BB state machine for a series of BB-timeframe closes."""
    bbw = bollinger_width(close, BB_LENGTH, BB_MULT)
    bbw2 = bollinger_width(close, BB2_LENGTH, BB_MULT)
    return BBInputs(
        bbw=bbw,
        bbr=bollinger_percent_b(close, BB_LENGTH, BB_MULT),
        ma_bbw=sma(bbw, MA_BBW_LENGTH),
        ph=pivothigh(bbw, PIVOT_LEFT, PIVOT_RIGHT),
        pl=pivotlow(bbw, PIVOT_LEFT, PIVOT_RIGHT),
        bbw2=bbw2,
        pl2=pivotlow(bbw2, PIVOT2_LEFT, PIVOT2_RIGHT),
        falling3=falling(bbw, 3),
        rising1=rising(bbw, 1),
    )


@dataclass(frozen=True)
class BBStates:
    """Vectorised output per BB candle: ``bb`` ∈ {−2, −1, 0, 2}, ``ma_defined`` (MA_BBW is not
    NaN, the BB part of readiness, spec §5.1), and with ``debug`` the inputs and the
    ``BB_DEBUG_COLUMNS`` (else ``None``)."""

    bb: Int8Array
    ma_defined: BoolArray
    inputs: BBInputs | None
    debug: FloatArray | None


def bb_states(close: FloatArray, *, debug: bool = False) -> BBStates:
    """Spec §7.4 on a whole series of closed BB-timeframe candles (from the first candle)."""
    x = np.ascontiguousarray(close, dtype=np.float64)
    inp = bb_inputs(x)
    out = np.empty(len(x), dtype=np.int8)
    dbg = np.empty((len(x) if debug else 0, len(BB_DEBUG_COLUMNS)), dtype=np.float64)
    f, i, ring = _fresh_state()
    _bb_run(
        inp.bbw,
        inp.bbr,
        inp.ma_bbw,
        inp.ph,
        inp.pl,
        inp.bbw2,
        inp.pl2,
        inp.falling3,
        inp.rising1,
        out,
        dbg,
        f,
        i,
        ring,
    )
    return BBStates(
        bb=out,
        ma_defined=~np.isnan(inp.ma_bbw),
        inputs=inp if debug else None,
        debug=dbg if debug else None,
    )


class BBStream:
    """Streaming spec §7.4: :meth:`update` takes one closed BB candle's close and returns
    ``(BB_t, MA_BBW defined)``; identical to :func:`bb_states` on the same candles."""

    def __init__(self) -> None:
        self._bbw = BollingerWidth(BB_LENGTH, BB_MULT)
        self._bbr = BollingerPercentB(BB_LENGTH, BB_MULT)
        self._ma = SMA(MA_BBW_LENGTH)
        self._ph = PivotHigh(PIVOT_LEFT, PIVOT_RIGHT)
        self._pl = PivotLow(PIVOT_LEFT, PIVOT_RIGHT)
        self._bbw2 = BollingerWidth(BB2_LENGTH, BB_MULT)
        self._pl2 = PivotLow(PIVOT2_LEFT, PIVOT2_RIGHT)
        self._fall3 = Falling(3)
        self._rise1 = Rising(1)
        self._f, self._i, self._ring = _fresh_state()
        self._x = np.zeros((7, 1), dtype=np.float64)
        self._flags = np.zeros((2, 1), dtype=np.bool_)
        self._out = np.zeros(1, dtype=np.int8)
        self._no_dbg = np.empty((0, len(BB_DEBUG_COLUMNS)), dtype=np.float64)

    def update(self, close: float) -> tuple[int, bool]:
        """Consume one closed BB candle; return ``(BB_t, MA_BBW is defined)``."""
        x = self._x
        bbw = self._bbw.update(close)
        bbw2 = self._bbw2.update(close)
        ma = self._ma.update(bbw)
        x[:, 0] = (
            bbw,
            self._bbr.update(close),
            ma,
            self._ph.update(bbw),
            self._pl.update(bbw),
            bbw2,
            self._pl2.update(bbw2),
        )
        self._flags[0, 0] = self._fall3.update(bbw)
        self._flags[1, 0] = self._rise1.update(bbw)
        _bb_run(
            x[0],
            x[1],
            x[2],
            x[3],
            x[4],
            x[5],
            x[6],
            self._flags[0],
            self._flags[1],
            self._out,
            self._no_dbg,
            self._f,
            self._i,
            self._ring,
        )
        return int(self._out[0]), not math.isnan(ma)

    def _parts(self) -> dict[str, Any]:
        return {
            "bbw": self._bbw,
            "bbr": self._bbr,
            "ma_bbw": self._ma,
            "ph": self._ph,
            "pl": self._pl,
            "bbw2": self._bbw2,
            "pl2": self._pl2,
            "falling3": self._fall3,
            "rising1": self._rise1,
        }

    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state: the SDK indicator states (spec §17: Bollinger and pivot
        windows), the FIFOs ``PH``/``PL``/``PL2`` with counts and heads, cached means,
        crossover memory, sticky ``sq2`` and ``BB``. NaN is ``null`` (tbsdk ``encode_float``)."""
        return {
            "indicators": {k: v.get_state() for k, v in self._parts().items()},
            "f": dict(zip(_F_FIELDS, _encode_floats(self._f), strict=True)),
            "i": dict(zip(_I_FIELDS, self._i.tolist(), strict=True)),
            "fifos": _encode_floats(self._ring),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`; the next candle continues bit-identically."""
        fresh = BBStream()
        for name, part in fresh._parts().items():
            part.set_state(state["indicators"][name])
        f = _decode_floats([state["f"][k] for k in _F_FIELDS])
        i = np.array([int(state["i"][k]) for k in _I_FIELDS], dtype=np.int64)
        ring = _decode_floats(state["fifos"])
        if len(ring) != 3 * FIFO_CAPACITY:
            raise ValueError("BB state: the FIFOs must hold 150 slots")
        fresh._f[:], fresh._i[:], fresh._ring[:] = f, i, ring
        self.__dict__.update(fresh.__dict__)
