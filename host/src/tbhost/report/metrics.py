"""Performance metrics of a backtest, as pure functions of the equity curve and the trades.

The equity curve has one point more than there are candles: the starting equity at the first
candle's open, then the equity after every candle's close (what ``BacktestResult.equity`` holds).
So a backtest of ``n`` candles has ``n`` per-candle returns, and a drawdown that starts on the
first candle is measured from the starting equity.

Crypto markets trade around the clock, so a year is 365 days of candles
(``periods_per_year = 365 * 24 h / timeframe``). The risk-free rate is 0 everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from tbsdk.model import Trade

__all__ = [
    "DAY_MS",
    "YEAR_MS",
    "Drawdown",
    "TradeStats",
    "cagr_pct",
    "drawdown_fraction",
    "exposure_pct",
    "max_drawdown",
    "periods_per_year",
    "returns",
    "sharpe",
    "sortino",
    "trade_stats",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS
"""A year of a market that never closes."""


def periods_per_year(timeframe_ms: int) -> float:
    """Candles in a year: ``365 days / timeframe`` (8760 for 1h)."""
    return YEAR_MS / timeframe_ms


def returns(equity: FloatArray) -> FloatArray:
    """Simple per-candle returns ``r_i = E_i / E_{i-1} - 1`` of the curve ``E_0 .. E_n``.

    Non-finite where the previous equity is not positive (an account wiped out).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        r: FloatArray = equity[1:] / equity[:-1] - 1.0
    r[equity[:-1] <= 0] = np.nan
    return r


def sharpe(r: FloatArray, per_year: float) -> float | None:
    """Annualised Sharpe ratio, risk-free rate 0: ``mean(r) / std(r, ddof=1) * sqrt(per_year)``.

    ``None`` (undefined, never 0 or infinite) when there are fewer than two returns, when they
    do not vary (flat equity: ``std == 0``), or when one is not finite.
    """
    if len(r) < 2 or not np.isfinite(r).all():
        return None
    std = float(np.std(r, ddof=1))
    if std == 0.0:
        return None
    return float(np.mean(r)) / std * math.sqrt(per_year)


def sortino(r: FloatArray, per_year: float) -> float | None:
    """Annualised Sortino ratio, target and risk-free rate 0:
    ``mean(r) / sqrt(mean(min(r_i, 0)^2)) * sqrt(per_year)``.

    The downside deviation averages over *all* ``n`` returns, gains counting as 0. ``None``
    when no candle lost money (downside deviation 0), when there are fewer than two returns,
    or when one is not finite.
    """
    if len(r) < 2 or not np.isfinite(r).all():
        return None
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    if downside == 0.0:
        return None
    return float(np.mean(r)) / downside * math.sqrt(per_year)


def cagr_pct(start: Decimal, end: Decimal, span_ms: int) -> float | None:
    """Compound annual growth rate, %: ``((end / start) ** (1 / years) - 1) * 100`` with
    ``years = span_ms / 365 days``.

    -100 when the account ended at or below 0; ``None`` when ``start`` is not positive, the
    span is empty, or the period is too short for the power to stay finite.
    """
    if start <= 0 or span_ms <= 0:
        return None
    if end <= 0:
        return -100.0
    years = span_ms / YEAR_MS
    try:
        return (math.exp(math.log(float(end / start)) / years) - 1.0) * 100.0
    except OverflowError:
        return None


def drawdown_fraction(equity: FloatArray) -> FloatArray:
    """Drawdown at every point as a fraction of the running peak: ``(peak_k - E_k) / peak_k``
    with ``peak_k = max(E_0 .. E_k)``; 0 where the peak is not positive."""
    peak = np.maximum.accumulate(equity)
    out = np.zeros_like(equity)
    np.divide(peak - equity, peak, out=out, where=peak > 0)
    return out


@dataclass(frozen=True)
class Drawdown:
    """The worst drawdowns of an equity curve.

    ``value`` and ``pct`` are each the largest over the curve and may come from different
    peaks. ``candles`` and ``days`` are the longest time under water: from a peak ``E_p`` to the
    first later point with ``E_r >= E_p`` (or to the last point, if equity never recovered).
    """

    value: float
    pct: float
    candles: int
    days: float


def max_drawdown(times: IntArray, equity: FloatArray) -> Drawdown:
    """``value = max(peak_k - E_k)``, ``pct = max((peak_k - E_k) / peak_k) * 100``, and the
    longest stretch under a previous peak, in days (``(t_r - t_p) / 1 day``) and candles
    (``r - p``); ``times[k]`` is when ``E_k`` was measured (ms). A stretch starts at the last
    point at the peak and ends at the first point back at it, or at the last point."""
    if len(equity) == 0:
        return Drawdown(0.0, 0.0, 0, 0.0)
    peak = np.maximum.accumulate(equity)
    value = float((peak - equity).max())
    pct = float(drawdown_fraction(equity).max() * 100)
    last = len(equity) - 1
    stretches: list[tuple[int, int]] = []  # (peak index, recovery or last index)
    peak_at = 0
    for k in range(1, last + 1):
        if equity[k] >= peak[k - 1]:  # back at (or above) the peak: a stretch under it ends
            if k - peak_at > 1:
                stretches.append((peak_at, k))
            peak_at = k
    if peak_at < last:  # still under water at the end
        stretches.append((peak_at, last))
    best_candles, best_ms = 0, 0
    for p, r in stretches:  # longest in time; the same as in candles unless candles are missing
        if int(times[r] - times[p]) > best_ms:
            best_candles, best_ms = r - p, int(times[r] - times[p])
    return Drawdown(value, pct, best_candles, best_ms / DAY_MS)


def exposure_pct(held: BoolArray) -> float:
    """Share of candles, %, that a position was open through: candle ``i`` counts when a
    position was open after candle ``i - 1`` closed (``held[i - 1]``), so a position opened at
    the close of candle ``k`` and closed at the close of candle ``m`` counts candles
    ``k+1 .. m``: exactly those whose returns it carried. A position still open at the end
    counts to the end; a round trip opened and closed at the same close counts for none."""
    n = len(held)
    if n == 0:
        return 0.0
    return float(np.count_nonzero(held[:-1])) / n * 100


@dataclass(frozen=True)
class TradeStats:
    """What the closed round trips say. A win has ``pnl > 0``, a loss ``pnl < 0``; a trade at
    exactly 0 is neither (it still counts in ``trades``, so it lowers the win rate)."""

    trades: int
    wins: int
    losses: int
    win_rate_pct: float | None
    """``wins / trades * 100``; ``None`` without trades."""
    gross_profit: Decimal
    """Sum of winning PnL."""
    gross_loss: Decimal
    """Sum of losing PnL, as a positive amount."""
    profit_factor: float | None
    """``gross_profit / gross_loss``; ``None`` when nothing lost (all wins, or no trades)."""
    expectancy: Decimal | None
    """Average PnL per trade: ``sum(pnl) / trades``."""
    avg_win: Decimal | None
    avg_loss: Decimal | None
    """Average losing PnL (negative)."""
    expectancy_r: float | None
    """Expectancy in R, where 1 R is the average loss: ``expectancy / |avg_loss|``. A trade
    carries no stop price, so its planned risk is unknown; the average realised loss stands
    in for it. ``None`` without a losing trade."""
    avg_holding_hours: float | None
    """``mean(closed_at - opened_at)`` in hours."""
    fees: Decimal
    """Sum of the fees of the closed round trips."""
    best: Decimal | None
    worst: Decimal | None


def trade_stats(trades: Sequence[Trade]) -> TradeStats:
    """Win/loss statistics of ``trades``; every money amount is an exact Decimal."""
    pnls = [t.pnl for t in trades]
    won = [p for p in pnls if p > 0]
    lost = [p for p in pnls if p < 0]
    gross_profit = sum(won, Decimal(0))
    gross_loss = -sum(lost, Decimal(0))
    n = len(pnls)
    expectancy = sum(pnls, Decimal(0)) / n if n else None
    avg_loss = -gross_loss / len(lost) if lost else None
    held_ms = sum(t.closed_at - t.opened_at for t in trades)
    return TradeStats(
        trades=n,
        wins=len(won),
        losses=len(lost),
        win_rate_pct=len(won) / n * 100 if n else None,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        profit_factor=float(gross_profit / gross_loss) if gross_loss else None,
        expectancy=expectancy,
        avg_win=gross_profit / len(won) if won else None,
        avg_loss=avg_loss,
        expectancy_r=(
            float(expectancy / -avg_loss) if expectancy is not None and avg_loss else None
        ),
        avg_holding_hours=held_ms / n / 3_600_000 if n else None,
        fees=sum((t.fees for t in trades), Decimal(0)),
        best=max(pnls) if pnls else None,
        worst=min(pnls) if pnls else None,
    )
