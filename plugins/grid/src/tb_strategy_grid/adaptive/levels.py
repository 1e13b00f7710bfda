"""The adaptive level table, recomputed at every 15m close (grid spec §4.2–§4.3).

:class:`LevelLadder` consumes 15m candles and returns, per candle, the row
``L_0, L_1 .. L_N, L_{N+1}`` (NaN while undefined). It is the streaming object *and* the
vectorised function: :meth:`LevelLadder.update_many` runs the same numpy operations whether it
is given one candle or a whole series, and every indicator it holds is a ``tbsdk.indicators``
object whose batch and single updates are bit-identical. So :func:`level_table` over a series and
a ladder fed one candle at a time (with ``get_state``/``set_state`` anywhere in between) give the
same bits.

Floating point follows the spec to the letter: the decimal settings are converted to float64
first, each expression is evaluated left to right with its parentheses first, and a ``max`` /
``min`` clamp replaces a value only when the bound compares greater / less (so NaN never
propagates through a clamp and a NaN bound changes nothing).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from tbsdk.indicators import ATR, EMA, ERAdaptive

__all__ = [
    "ATR_LENGTH",
    "ATR_STEP",
    "EDGE_HIGH",
    "EDGE_LOW",
    "ER_LENGTH",
    "PCT_STEP",
    "SMOOTH",
    "LevelLadder",
    "centre_index",
    "level_table",
]

FloatArray = npt.NDArray[np.float64]

ATR_LENGTH = 14
ER_LENGTH = 20
SMOOTH = 5
PCT_STEP = 0.012
"""Percent step factor: ``band_mult · 1.2 %`` per rung."""
ATR_STEP = 1.5
EDGE_LOW = 0.992
EDGE_HIGH = 1.008
_CENTRE_GAP_PER_RUNG = 0.05
_CENTRE_GAP_MAX = 0.5


def centre_index(grid_num: int) -> int:
    """``c = floor(N/2) + 1``: 11 for N = 20; N/2 rungs below it and N/2 − 1 above for even N,
    (N − 1)/2 on each side for odd N (§4.3)."""
    return grid_num // 2 + 1


class LevelLadder:
    """Streaming level table of §4.3: ATR(14), the ER-adaptive centre line and 3·N EMA(5)s."""

    def __init__(self, grid_num: int, band_mult: Decimal | float, min_gap: Decimal | float) -> None:
        if grid_num < 2:
            raise ValueError(f"grid_num must be at least 2, got {grid_num}")
        self.grid_num = grid_num
        self.centre = centre_index(grid_num)
        # §4.3: the decimal settings are converted to float64 before any arithmetic.
        self.band_mult = float(band_mult)
        self.min_gap = float(min_gap)
        self._pct_factor = self.band_mult * PCT_STEP
        self._atr = ATR(ATR_LENGTH)
        self._centre_line = ERAdaptive(ER_LENGTH, SMOOTH)
        self._pct = [EMA(SMOOTH) for _ in range(grid_num)]
        self._atr_ema = [EMA(SMOOTH) for _ in range(grid_num)]
        self._final = [EMA(SMOOTH) for _ in range(grid_num)]

    def params(self) -> dict[str, Any]:
        """What the state depends on; a state with other params is refused."""
        return {"grid_num": self.grid_num, "band_mult": self.band_mult, "min_gap": self.min_gap}

    # -- computation -------------------------------------------------------------------------
    def update(self, high: float, low: float, close: float) -> FloatArray:
        """Consume one 15m candle; return its row ``L_0 .. L_{N+1}``."""
        row: FloatArray = self.update_many([high], [low], [close])[0]
        return row

    def update_many(
        self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
    ) -> FloatArray:
        """Consume 15m candles in order; return one row ``L_0 .. L_{N+1}`` per candle."""
        h = np.ascontiguousarray(high, dtype=np.float64)
        lo = np.ascontiguousarray(low, dtype=np.float64)
        c = np.ascontiguousarray(close, dtype=np.float64)
        atr = self._atr.update_many(h, lo, c)
        centre = np.array([self._centre_line.update(float(x))[1] for x in c], dtype=np.float64)
        floor = centre * self.min_gap
        a = np.where(floor > atr, floor, atr)
        # A is undefined while ATR or C is (not C · min_gap): the table waits for both.
        a = np.where(np.isnan(atr) | np.isnan(centre), math.nan, a)
        a_step = a * ATR_STEP

        n_rungs, centre_rung = self.grid_num, self.centre
        rows = np.empty((len(c), n_rungs + 2), dtype=np.float64)
        prev: FloatArray | None = None
        for k in range(n_rungs):
            d = float(centre_rung - (k + 1))  # rung n = k + 1; positive below the centre
            pct = self._pct[k].update_many(centre * (1.0 - self._pct_factor * d))
            q = self._atr_ema[k].update_many(centre - a_step * d)
            raw = (pct + q) / 2.0
            # Clamp 1: distance from the centre.
            if d > 0:
                bound = centre * (1.0 - min(_CENTRE_GAP_PER_RUNG * abs(d), _CENTRE_GAP_MAX))
                raw = np.where(bound > raw, bound, raw)
            elif d < 0:
                bound = centre * (1.0 + min(_CENTRE_GAP_PER_RUNG * abs(d), _CENTRE_GAP_MAX))
                raw = np.where(bound < raw, bound, raw)
            else:
                raw = centre.copy()  # unconditional: the centre rung starts with C
            # Clamp 2: minimum spacing above the (already clamped) rung below.
            if prev is not None:
                bound = prev * (1.0 + self.min_gap)
                raw = np.where(bound > raw, bound, raw)
            prev = raw
            rows[:, k + 1] = self._final[k].update_many(raw)
        rows[:, 0] = rows[:, 1] * EDGE_LOW
        rows[:, n_rungs + 1] = rows[:, n_rungs] * EDGE_HIGH
        return rows

    # -- persistence -------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state of every part; :meth:`set_state` continues bit-identically."""
        return {
            "indicator": "LevelLadder",
            "params": self.params(),
            "atr": self._atr.get_state(),
            "centre": self._centre_line.get_state(),
            "pct": [e.get_state() for e in self._pct],
            "atr_ema": [e.get_state() for e in self._atr_ema],
            "final": [e.get_state() for e in self._final],
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state` of a ladder with the same params (else ``ValueError``)."""
        if state.get("indicator") != "LevelLadder" or state.get("params") != self.params():
            raise ValueError(
                f"level ladder state {state.get('params')!r} does not match {self.params()!r}"
            )
        fresh = LevelLadder(self.grid_num, self.band_mult, self.min_gap)
        fresh._atr.set_state(state["atr"])
        fresh._centre_line.set_state(state["centre"])
        for parts, saved in (
            (fresh._pct, state["pct"]),
            (fresh._atr_ema, state["atr_ema"]),
            (fresh._final, state["final"]),
        ):
            if len(saved) != self.grid_num:
                raise ValueError("level ladder state has the wrong number of rungs")
            for ema, part in zip(parts, saved, strict=True):
                ema.set_state(part)
        # Swap in only once every part decoded, so a bad state leaves this ladder untouched.
        self._atr, self._centre_line = fresh._atr, fresh._centre_line
        self._pct, self._atr_ema, self._final = fresh._pct, fresh._atr_ema, fresh._final


def level_table(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    grid_num: int,
    band_mult: Decimal | float,
    min_gap: Decimal | float,
) -> FloatArray:
    """Vectorised §4.3: the row ``L_0 .. L_{N+1}`` at every candle of a 15m series."""
    return LevelLadder(grid_num, band_mult, min_gap).update_many(high, low, close)
