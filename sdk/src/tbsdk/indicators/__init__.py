"""The TradingBoost indicator library (``shared/specs/indicators.md``, cited as IND).

Every indicator has a vectorised function ``f(array, ...) -> array`` and a streaming class with
``update(...)``, ``get_state()`` and ``set_state(state)``; both run the same compiled kernel, so
their outputs are bit-identical. Importing this package imports numba; ``import tbsdk`` does not.
"""

from __future__ import annotations

from ._core import IndicatorInputError
from .adx import ADX, adx
from .asof import AsOf, asof, asof_index
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
from .jma import JMA, jma, jma_constants
from .pivots import PivotHigh, PivotLow, pivothigh, pivotlow
from .registry import BUILTIN_OWNER, IndicatorRegistry, IndicatorSpec
from .resample import HtfCandle, HtfCandles, Resampler, resample
from .rqk import RQK, rqk, rqk_weights
from .rsi import RSI, rsi, rsi_with_flat
from .t3 import T3, t3, t3_coefficients
from .vidya import VIDYA, vidya
from .wma import WMA, wma

__all__ = [
    "ADX",
    "ATR",
    "BUILTIN_OWNER",
    "EMA",
    "ER",
    "JMA",
    "RMA",
    "RQK",
    "RSI",
    "SMA",
    "STDEV",
    "T3",
    "VIDYA",
    "WMA",
    "AsOf",
    "Bollinger",
    "BollingerPercentB",
    "BollingerWidth",
    "Change",
    "Crossover",
    "Crossunder",
    "ERAdaptive",
    "Falling",
    "Highest",
    "HtfCandle",
    "HtfCandles",
    "IndicatorInputError",
    "IndicatorRegistry",
    "IndicatorSpec",
    "Lowest",
    "PivotHigh",
    "PivotLow",
    "Resampler",
    "Rising",
    "TrueRange",
    "adx",
    "asof",
    "asof_index",
    "atr",
    "bollinger",
    "bollinger_percent_b",
    "bollinger_width",
    "change",
    "crossover",
    "crossunder",
    "ema",
    "er",
    "er_adaptive",
    "falling",
    "highest",
    "jma",
    "jma_constants",
    "lowest",
    "pivothigh",
    "pivotlow",
    "resample",
    "rising",
    "rma",
    "rqk",
    "rqk_weights",
    "rsi",
    "rsi_with_flat",
    "sma",
    "stdev",
    "t3",
    "t3_coefficients",
    "true_range",
    "vidya",
    "wma",
]
