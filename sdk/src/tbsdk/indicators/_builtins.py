"""The built-in indicators, registered through the same registrar path as any plugin's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..registrars import IndicatorRegistrar
from .adx import ADX, adx
from .atr import ATR, TrueRange, atr, true_range
from .averages import EMA, RMA, SMA, ema, rma, sma
from .bollinger import (
    STDEV,
    Bollinger,
    BollingerPercentB,
    BollingerWidth,
    bollinger,
    bollinger_percent_b,
    bollinger_width,
    stdev,
)
from .efficiency import ER, ERAdaptive, er, er_adaptive
from .extremes import Highest, Lowest, highest, lowest
from .helpers import (
    Change,
    Crossover,
    Crossunder,
    Falling,
    Rising,
    change,
    crossover,
    crossunder,
    falling,
    rising,
)
from .jma import JMA, jma
from .pivots import PivotHigh, PivotLow, pivothigh, pivotlow
from .rqk import RQK, rqk
from .rsi import RSI, rsi
from .t3 import T3, t3
from .vidya import VIDYA, vidya
from .wma import WMA, wma

__all__ = ["register_builtins"]

_BUILTINS: list[tuple[str, Callable[..., Any], type, str]] = [
    ("sma", sma, SMA, "Simple moving average (IND §3.1)"),
    ("ema", ema, EMA, "Exponential moving average, SMA seed (IND §3.2)"),
    ("rma", rma, RMA, "Wilder moving average (IND §3.3)"),
    ("wma", wma, WMA, "Linearly weighted moving average (IND §3.4)"),
    ("t3", t3, T3, "Tillson T3 (IND §3.5)"),
    ("jma", jma, JMA, "Jurik-style moving average, Pine nz start (IND §3.6)"),
    ("vidya", vidya, VIDYA, "Variable index dynamic average (IND §3.7)"),
    ("rqk", rqk, RQK, "Rational-quadratic kernel average (IND §3.8)"),
    ("rsi", rsi, RSI, "Wilder RSI, equal to TA-Lib RSI (IND §4.1)"),
    ("true_range", true_range, TrueRange, "True range with the previous close (IND §4.2)"),
    ("atr", atr, ATR, "Wilder ATR, equal to TA-Lib ATR (IND §4.2)"),
    ("stdev", stdev, STDEV, "Population standard deviation (IND §4.3)"),
    ("bollinger", bollinger, Bollinger, "Bollinger bands (basis, upper, lower) (IND §4.3)"),
    ("bollinger_width", bollinger_width, BollingerWidth, "Band width ×10 / basis (IND §4.3)"),
    ("bollinger_percent_b", bollinger_percent_b, BollingerPercentB, "%B (IND §4.3)"),
    ("er", er, ER, "Kaufman efficiency ratio (IND §4.4)"),
    ("adx", adx, ADX, "Wilder ADX, +DI, −DI (IND §4.5)"),
    ("pivothigh", pivothigh, PivotHigh, "Pivot high, reported right bars later (IND §5)"),
    ("pivotlow", pivotlow, PivotLow, "Pivot low, reported right bars later (IND §5)"),
    ("er_adaptive", er_adaptive, ERAdaptive, "ER-adaptive average, GRID centre line (IND §6)"),
    ("change", change, Change, "x_t − x_{t−1} (IND §2)"),
    ("crossover", crossover, Crossover, "a crosses above b (IND §2)"),
    ("crossunder", crossunder, Crossunder, "a crosses below b (IND §2)"),
    ("rising", rising, Rising, "n strict rises (IND §2)"),
    ("falling", falling, Falling, "n strict falls (IND §2)"),
    ("highest", highest, Highest, "Rolling maximum (IND §2)"),
    ("lowest", lowest, Lowest, "Rolling minimum (IND §2)"),
]


def register_builtins(registrar: IndicatorRegistrar) -> None:
    """Add every built-in indicator through ``registrar``."""
    for name, vectorised, streaming, description in _BUILTINS:
        registrar.add_indicator(name, vectorised, streaming, description)
