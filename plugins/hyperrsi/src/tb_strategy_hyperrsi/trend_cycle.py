"""Cycle 1 and cycle 2 of the trend filter on closed candles (hyperrsi spec §7.2, §7.3).

Every moving average comes from ``tbsdk.indicators``; the bull/bear flags are the same float
comparisons in the vectorised (numpy, per candle series) and the streaming (one candle) form, so
both give the same flags. Per candle the result is packed into a small int code (``BULL``,
``BEAR``, ``DEFINED`` bits) which the trend state maps onto chart bars (spec §7.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from tbsdk.errors import ConfigError
from tbsdk.indicators import EMA, JMA, RQK, T3, VIDYA, ema, jma, rqk, t3, vidya

__all__ = [
    "BEAR",
    "BULL",
    "DEFINED",
    "Cycle1Stream",
    "Cycle2Stream",
    "CycleSeries",
    "cycle1_series",
    "cycle2_series",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Int8Array = npt.NDArray[np.int8]

BULL, BEAR, DEFINED = 1, 2, 4
"""Bits of a cycle code: bullish, bearish, inputs defined (the readiness part, spec §5.1)."""

JMA_LENGTHS = (5, 10, 20)
JMA_PHASE, JMA_POWER = 50, 2
LONGER_LENGTHS = (20, 40, 120)
T3_FACTOR = 0.7
VIDYA_LENGTHS = (3, 9, 21)
MA_KINDS = ("ema", "t3")


@dataclass(frozen=True)
class CycleSeries:
    """Per candle of one cycle timeframe: the three averages (MA or VIDYA), their smoothed
    values (RQK for cycle 1; the VIDYAs themselves for cycle 2) and the packed codes."""

    ma: tuple[FloatArray, FloatArray, FloatArray]
    smoothed: tuple[FloatArray, FloatArray, FloatArray]
    code: Int8Array


def _pack(bull: BoolArray, bear: BoolArray, defined: BoolArray) -> Int8Array:
    code = bull.astype(np.int8) * BULL + bear.astype(np.int8) * BEAR
    code += defined.astype(np.int8) * DEFINED
    return code.astype(np.int8)


def _pack_one(bull: bool, bear: bool, defined: bool) -> int:
    return (BULL if bull else 0) | (BEAR if bear else 0) | (DEFINED if defined else 0)


def check_ma_kind(longer_trend_ma: str) -> str:
    """Validate ``longer_trend_ma`` (spec §7.2): ``"ema"`` or ``"t3"``."""
    if longer_trend_ma not in MA_KINDS:
        raise ConfigError(f"longer_trend_ma must be 'ema' or 't3', got {longer_trend_ma!r}")
    return longer_trend_ma


def cycle1_series(close: FloatArray, *, longer: bool, ma_kind: str) -> CycleSeries:
    """Spec §7.2 on closed cycle candles: ``JMA(5/10/20, 50, 2)``, or with the longer trend
    ``EMA`` / ``T3(·, 0.7)`` of ``20/40/120``; each smoothed by ``RQK``; then bull1 / bear1.
    ``DEFINED`` is set where all three RQK outputs exist."""
    x = np.ascontiguousarray(close, dtype=np.float64)
    if not longer:
        m1, m2, m3 = (jma(x, n, JMA_PHASE, JMA_POWER) for n in JMA_LENGTHS)
    elif check_ma_kind(ma_kind) == "ema":
        m1, m2, m3 = (ema(x, n) for n in LONGER_LENGTHS)
    else:
        m1, m2, m3 = (t3(x, n, T3_FACTOR) for n in LONGER_LENGTHS)
    r1, r2, r3 = rqk(m1), rqk(m2), rqk(m3)
    bull = ((r1 > r2) & (r2 > r3)) | ((r2 > r1) & (r1 > r3))
    bear = (r3 > r2) & (r2 > r1)
    defined = ~(np.isnan(r1) | np.isnan(r2) | np.isnan(r3))
    return CycleSeries(ma=(m1, m2, m3), smoothed=(r1, r2, r3), code=_pack(bull, bear, defined))


def cycle2_series(close: FloatArray) -> CycleSeries:
    """Spec §7.3 on closed 4h candles: ``VIDYA(close, 3 / 9 / 21)``, bull2 / bear2. VIDYA is
    defined from the first candle, so every code has ``DEFINED``."""
    x = np.ascontiguousarray(close, dtype=np.float64)
    v1, v2, v3 = (vidya(x, n) for n in VIDYA_LENGTHS)
    bull = ((v1 > v3) & (v3 > v2)) | ((v1 > v2) & (v2 > v3)) | ((v2 > v1) & (v1 > v3))
    bear = ((v3 > v2) & (v2 > v1)) | ((v2 > v3) & (v3 > v1)) | ((v3 > v1) & (v1 > v2))
    defined = np.ones(len(x), dtype=np.bool_)
    return CycleSeries(ma=(v1, v2, v3), smoothed=(v1, v2, v3), code=_pack(bull, bear, defined))


class _Streaming(Protocol):
    def update(self, x: float) -> float: ...
    def get_state(self) -> dict[str, Any]: ...
    def set_state(self, state: dict[str, Any]) -> None: ...


class Cycle1Stream:
    """Streaming :func:`cycle1_series`: :meth:`update` takes one closed cycle candle's close
    and returns its code."""

    def __init__(self, *, longer: bool, ma_kind: str) -> None:
        self.longer, self.ma_kind = longer, check_ma_kind(ma_kind)
        self._mas: list[_Streaming]
        if not longer:
            self._mas = [JMA(n, JMA_PHASE, JMA_POWER) for n in JMA_LENGTHS]
        elif ma_kind == "ema":
            self._mas = [EMA(n) for n in LONGER_LENGTHS]
        else:
            self._mas = [T3(n, T3_FACTOR) for n in LONGER_LENGTHS]
        self._rqks = [RQK() for _ in range(3)]

    def update(self, close: float) -> int:
        """Consume one close; return the candle's code."""
        r1, r2, r3 = (
            rq.update(ma.update(close)) for ma, rq in zip(self._mas, self._rqks, strict=True)
        )
        bull = (r1 > r2 and r2 > r3) or (r2 > r1 and r1 > r3)
        bear = r3 > r2 and r2 > r1
        defined = not (math.isnan(r1) or math.isnan(r2) or math.isnan(r3))
        return _pack_one(bull, bear, defined)

    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state: the three MA and three RQK states (spec §17)."""
        return {
            "ma": [m.get_state() for m in self._mas],
            "rqk": [r.get_state() for r in self._rqks],
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`; the next candle continues bit-identically."""
        fresh = Cycle1Stream(longer=self.longer, ma_kind=self.ma_kind)
        for obj, st in zip(fresh._mas, state["ma"], strict=True):
            obj.set_state(st)
        for obj, st in zip(fresh._rqks, state["rqk"], strict=True):
            obj.set_state(st)
        self._mas, self._rqks = fresh._mas, fresh._rqks


class Cycle2Stream:
    """Streaming :func:`cycle2_series` (three VIDYAs on closed 4h candles)."""

    def __init__(self) -> None:
        self._vidyas = [VIDYA(n) for n in VIDYA_LENGTHS]

    def update(self, close: float) -> int:
        """Consume one close; return the candle's code."""
        v1, v2, v3 = (v.update(close) for v in self._vidyas)
        bull = (v1 > v3 and v3 > v2) or (v1 > v2 and v2 > v3) or (v2 > v1 and v1 > v3)
        bear = (v3 > v2 and v2 > v1) or (v2 > v3 and v3 > v1) or (v3 > v1 and v1 > v2)
        return _pack_one(bull, bear, True)

    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state: the three VIDYA states (spec §17)."""
        return {"vidya": [v.get_state() for v in self._vidyas]}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`; the next candle continues bit-identically."""
        fresh = [VIDYA(n) for n in VIDYA_LENGTHS]
        for obj, st in zip(fresh, state["vidya"], strict=True):
            obj.set_state(st)
        self._vidyas = fresh
