"""RSI entry signals (hyperrsi spec §6), as a scalar rule and its vectorised twin.

``prev`` is the RSI of the previous closed bar, ``cur`` the RSI being decided (closed bar, or the
provisional value intrabar). No signal when either is NaN or flat [IND §4.1]. Both functions make
the same float64 comparisons, so a backtest's mask and a live bot's decision agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["entry_signals", "signal_arrays"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


def entry_signals(
    option: str,
    prev: float,
    cur: float,
    prev_flat: bool,
    cur_flat: bool,
    oversold: float,
    overbought: float,
) -> tuple[bool, bool]:
    """``(long, short)`` signals of one evaluation (the table of §6)."""
    if prev_flat or cur_flat or math.isnan(prev) or math.isnan(cur):
        return False, False
    os_, ob = oversold, overbought
    if option == "breakout":
        return prev > os_ and cur <= os_, prev < ob and cur >= ob
    if option == "inflection":
        return (prev < os_ or cur < os_) and cur > prev, (prev > ob or cur > ob) and cur < prev
    if option == "inflection_breakout":
        return prev < os_ and cur >= os_, prev > ob and cur <= ob
    if option == "exceed":
        return cur < os_, cur > ob
    raise ValueError(f"unknown entry_option {option!r}")


def signal_arrays(
    option: str, rsi: FloatArray, flat: BoolArray, oversold: float, overbought: float
) -> tuple[BoolArray, BoolArray]:
    """Long and short signals at every bar of an RSI series (bar 0 has no previous value).

    NaN compares false, so the warm-up never signals; flat values are masked explicitly.
    """
    prev = np.empty_like(rsi)
    prev[:1] = math.nan
    prev[1:] = rsi[:-1]
    usable = ~flat
    usable[1:] &= ~flat[:-1]
    usable &= ~np.isnan(prev) & ~np.isnan(rsi)
    os_, ob = oversold, overbought
    if option == "breakout":
        long, short = (prev > os_) & (rsi <= os_), (prev < ob) & (rsi >= ob)
    elif option == "inflection":
        long = ((prev < os_) | (rsi < os_)) & (rsi > prev)
        short = ((prev > ob) | (rsi > ob)) & (rsi < prev)
    elif option == "inflection_breakout":
        long, short = (prev < os_) & (rsi >= os_), (prev > ob) & (rsi <= ob)
    elif option == "exceed":
        long, short = rsi < os_, rsi > ob
    else:
        raise ValueError(f"unknown entry_option {option!r}")
    return long & usable, short & usable
