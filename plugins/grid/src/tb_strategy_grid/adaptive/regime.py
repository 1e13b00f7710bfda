"""The 4h ADX regime: a sticky state in {−2, −1, 0, 1, 2} (grid spec §4.2, §4.4).

:class:`RegimeTracker` consumes 4h candles and returns, per candle, ``(regime, ADX)``. As with
the level ladder, the streaming object is also the vectorised function (:func:`regime_series`):
the indicators are ``tbsdk.indicators`` objects (batch and single updates bit-identical) and the
sticky rule is one scalar function applied candle after candle, so a series computed at once and
one fed candle by candle with a ``get_state``/``set_state`` in between agree exactly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from tbsdk.indicators import ADX, Crossover, Highest, Lowest

__all__ = [
    "ADX_PERIOD",
    "ADX_THRESHOLD",
    "RESET_WINDOW",
    "RegimeTracker",
    "next_regime",
    "regime_series",
]

FloatArray = npt.NDArray[np.float64]

ADX_PERIOD = 28
ADX_THRESHOLD = 20.0
RESET_WINDOW = 50
_RESET_ABOVE_LOW = 1.1
_RESET_BELOW_HIGH = 0.9


def next_regime(
    regime: int,
    cross_up: bool,
    cross_down: bool,
    adx: tuple[float, float, float, float],
    close: float,
    hh50: float,
    ll50: float,
) -> int:
    """One 4h close of §4.4. ``adx`` is ``(adx_t, adx_{t−1}, adx_{t−2}, adx_{t−3})`` (NaN when
    missing: every comparison with NaN is false); ``cross_up`` is ``crossover(+DI, −DI)``,
    ``cross_down`` is ``crossover(−DI, +DI)``."""
    a0, a1, a2, a3 = adx
    # 1. DI crosses only from 0 (no direct 1 <-> -1 switch); rising ADX strengthens a trend.
    if regime == 0:
        if cross_up:
            regime = 1
        elif cross_down:
            regime = -1
    elif regime >= 1:
        if a0 > a1 > a2:
            regime = 2
    elif a0 > a1 > a2:
        regime = -2
    # 2. A strong trend ends when the price has come back 10 % from its 50-candle extreme.
    if (regime == -2 and close >= _RESET_ABOVE_LOW * ll50) or (
        regime == 2 and close <= _RESET_BELOW_HIGH * hh50
    ):
        regime = 0
    # 3. Any trend ends when ADX falls through the threshold or falls three times above it.
    if regime != 0 and ((a0 < ADX_THRESHOLD <= a1) or (a0 < a1 < a2 < a3 and a0 > ADX_THRESHOLD)):
        regime = 0
    return regime


def _encode(value: float) -> float | None:
    return None if math.isnan(value) else value


def _decode(value: float | None) -> float:
    return math.nan if value is None else float(value)


class RegimeTracker:
    """Streaming §4.4: ADX(28) with ±DI, HH50 / LL50, the DI crosses and the sticky regime."""

    def __init__(self) -> None:
        self._adx = ADX(ADX_PERIOD)
        self._hh = Highest(RESET_WINDOW)
        self._ll = Lowest(RESET_WINDOW)
        self._up = Crossover()
        self._down = Crossover()
        self.regime = 0
        self._past = (math.nan, math.nan, math.nan)  # adx_{t−1}, adx_{t−2}, adx_{t−3}

    def update(self, high: float, low: float, close: float) -> tuple[int, float]:
        """Consume one 4h candle; return ``(regime, ADX)`` after it."""
        row = self.update_many([high], [low], [close])[0]
        return int(row[0]), float(row[1])

    def update_many(
        self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
    ) -> FloatArray:
        """Consume 4h candles in order; return rows ``(regime, ADX)``, one per candle."""
        h = np.ascontiguousarray(high, dtype=np.float64)
        lo = np.ascontiguousarray(low, dtype=np.float64)
        c = np.ascontiguousarray(close, dtype=np.float64)
        adx, plus_di, minus_di = self._adx.update_many(h, lo, c)
        hh = self._hh.update_many(h)
        ll = self._ll.update_many(lo)
        up = self._up.update_many(plus_di, minus_di)
        down = self._down.update_many(minus_di, plus_di)
        rows = np.empty((len(c), 2), dtype=np.float64)
        regime, past = self.regime, self._past
        for t in range(len(c)):
            a0 = float(adx[t])
            regime = next_regime(
                regime,
                bool(up[t]),
                bool(down[t]),
                (a0, *past),
                float(c[t]),
                float(hh[t]),
                float(ll[t]),
            )
            past = (a0, past[0], past[1])
            rows[t, 0] = regime
            rows[t, 1] = a0
        self.regime, self._past = regime, past
        return rows

    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state; :meth:`set_state` continues the series exactly."""
        return {
            "indicator": "RegimeTracker",
            "adx": self._adx.get_state(),
            "hh50": self._hh.get_state(),
            "ll50": self._ll.get_state(),
            "cross_up": self._up.get_state(),
            "cross_down": self._down.get_state(),
            "regime": self.regime,
            "past_adx": [_encode(v) for v in self._past],
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state` (``ValueError`` if it is not a regime state)."""
        if state.get("indicator") != "RegimeTracker":
            raise ValueError(f"state is for {state.get('indicator')!r}, not 'RegimeTracker'")
        fresh = RegimeTracker()
        fresh._adx.set_state(state["adx"])
        fresh._hh.set_state(state["hh50"])
        fresh._ll.set_state(state["ll50"])
        fresh._up.set_state(state["cross_up"])
        fresh._down.set_state(state["cross_down"])
        regime = int(state["regime"])
        if regime not in (-2, -1, 0, 1, 2):
            raise ValueError(f"regime {regime} is not one of -2..2")
        a1, a2, a3 = (_decode(v) for v in state["past_adx"])
        self._adx, self._hh, self._ll = fresh._adx, fresh._hh, fresh._ll
        self._up, self._down = fresh._up, fresh._down
        self.regime, self._past = regime, (a1, a2, a3)


def regime_series(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> FloatArray:
    """Vectorised §4.4: rows ``(regime, ADX)`` at every candle of a 4h series."""
    return RegimeTracker().update_many(high, low, close)
