"""Tillson T3(n, a) built from six chained EMAs (IND §3.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy.typing as npt

from ._core import FloatArray, as_input, check_float, check_header, check_int
from .averages import EMA, ema

__all__ = ["T3", "t3", "t3_coefficients"]


def t3_coefficients(a: float) -> tuple[float, float, float, float]:
    """``(c1, c2, c3, c4)`` evaluated in the order IND §3.5 prescribes (no ``pow``)."""
    a2 = a * a
    a3 = a2 * a
    c1 = -a3
    c2 = 3 * a2 + 3 * a3
    c3 = ((-6 * a2) - 3 * a) - 3 * a3
    c4 = ((1 + 3 * a) + a3) + 3 * a2
    return c1, c2, c3, c4


class T3:
    """Streaming T3: six :class:`EMA` objects and ``c1·e6 + c2·e5 + c3·e4 + c4·e3``."""

    def __init__(self, n: int, a: float = 0.7) -> None:
        self.n = check_int("n", n, 1)
        self.a = check_float("a", a)
        self._c = t3_coefficients(self.a)
        self._emas = [EMA(self.n) for _ in range(6)]

    def params(self) -> dict[str, Any]:
        """``{"n": n, "a": a}``."""
        return {"n": self.n, "a": self.a}

    def update(self, x: float) -> float:
        """Consume one value; NaN until the sixth EMA is defined (``c = 6n − 5``)."""
        e = []
        v = float(x)
        for obj in self._emas:
            v = obj.update(v)
            e.append(v)
        c1, c2, c3, c4 = self._c
        return ((c1 * e[5] + c2 * e[4]) + c3 * e[3]) + c4 * e[2]

    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state (the six EMA states)."""
        return {
            "indicator": "T3",
            "params": self.params(),
            "emas": [obj.get_state() for obj in self._emas],
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`get_state` of a T3 with the same params."""
        check_header("T3", self.params(), state)
        emas = [EMA(self.n) for _ in range(6)]
        if len(state["emas"]) != 6:
            raise ValueError("T3: state must hold six EMA states")
        for obj, st in zip(emas, state["emas"], strict=True):
            obj.set_state(st)
        self._emas = emas


def t3(x: npt.ArrayLike, n: int, a: float = 0.7) -> FloatArray:
    """Tillson T3 (IND §3.5); NaN until ``c = 6n − 5``."""
    n = check_int("n", n, 1)
    c1, c2, c3, c4 = t3_coefficients(check_float("a", a))
    e1 = ema(as_input(x), n)
    e2 = ema(e1, n)
    e3 = ema(e2, n)
    e4 = ema(e3, n)
    e5 = ema(e4, n)
    e6 = ema(e5, n)
    # Elementwise numpy operations round each step exactly like the Python floats of T3.update.
    out: FloatArray = ((c1 * e6 + c2 * e5) + c3 * e4) + c4 * e3
    return out
