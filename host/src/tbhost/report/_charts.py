"""The three backtest panels, drawn onto matplotlib axes given by the caller.

Shared by the PNG (:mod:`.plot`, all three stacked) and the HTML report (:mod:`.html`, one SVG
each). Trade markers are drawn as a few batched artists, not one per trade: a long backtest has
thousands of trades, and one artist each makes drawing slow and SVG files large.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..engine.backtest import BacktestResult
from .metrics import drawdown_fraction
from .summary import Summary, equity_curve

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIN, LOSS, ENTRY, EQUITY, DRAWDOWN = "#1a7f37", "#cf222e", "#0969da", "#0969da", "#cf222e"
LEVEL_COLORS = ("#8250df", "#bf8700", "#1b7c83", "#953800")


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend: files only, no display is needed or assumed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _dates(ms: Any) -> Any:
    return np.asarray(ms, dtype=np.int64).astype("datetime64[ms]")


def envelope(times: Any, values: Any, buckets: int = 1000) -> tuple[Any, Any]:
    """At most ``4 * buckets`` points drawn exactly like the whole series: in each of
    ``buckets`` equal runs of points, the first, lowest, highest and last, in time order.

    A chart is ~1000 pixels wide, so a 58,000-candle line loses nothing visible, while the
    SVG shrinks from megabytes to a few hundred kilobytes.
    """
    n = len(values)
    if n <= 4 * buckets:
        return times, values
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    keep: list[int] = []
    for lo, hi in pairwise(edges):
        run = values[lo:hi]
        picks = {int(lo), int(lo + np.argmin(run)), int(lo + np.argmax(run)), int(hi - 1)}
        keep.extend(sorted(picks))
    idx = np.array(keep, dtype=np.int64)
    return times[idx], values[idx]


def level_steps(
    result: BacktestResult, name: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The ``ctx.chart_levels`` lines named ``name`` as step series: change times (plus the end
    of the backtest) and one column per line, NaN where a line did not exist."""
    sets = [lv for lv in result.levels if lv.name == name]
    width = max((len(lv.prices) for lv in sets), default=0)
    prices = np.full((len(sets) + 1, width), np.nan)
    for row, lv in enumerate(sets):
        prices[row, : len(lv.prices)] = sorted(lv.prices)
    prices[-1] = prices[-2]
    end = int(result.candles.ts[-1]) if len(result.candles) else 0
    times = np.array([lv.ts for lv in sets] + [max(end, sets[-1].ts)], dtype=np.int64)
    return times, prices


def draw_levels(ax: Axes, result: BacktestResult) -> None:
    """Each named set of strategy levels as thin step lines, held until the set changes."""
    names = list(dict.fromkeys(lv.name for lv in result.levels))
    for color, name in zip(LEVEL_COLORS, names, strict=False):
        times, prices = level_steps(result, name)
        for col in range(prices.shape[1]):
            t, y = envelope(times, prices[:, col])
            ax.step(
                _dates(t),
                y,
                where="post",
                color=color,
                linewidth=0.5,
                alpha=0.6,
                label=name if col == 0 else None,
            )


def draw_fills(ax: Axes, result: BacktestResult) -> None:
    """Every fill as a small marker (buys up, sells down): for strategies such as grids whose
    fills are many more than their closed round trips."""
    fills = [f.fill for f in result.fills]
    for side, marker, color in (("buy", "^", WIN), ("sell", "v", LOSS)):
        chosen = [f for f in fills if str(f.side) == side]
        if chosen:
            ax.scatter(
                _dates([f.ts for f in chosen]),
                [float(f.price) for f in chosen],
                marker=marker,
                s=10,
                color=color,
                alpha=0.7,
                label=f"{side} fills",
                zorder=3,
            )
    ax.legend(loc="upper left", fontsize=8)


def draw_price(ax: Axes, result: BacktestResult, summary: Summary) -> None:
    """Close prices; entries as triangles (up long, down short), exits as crosses coloured by
    result, joined by a line from entry to exit."""
    from matplotlib.collections import LineCollection
    from matplotlib.dates import date2num

    ts, close = envelope(result.candles.ts, result.candles.close)
    ax.plot(_dates(ts), close, color="#555", linewidth=0.7, label="close")
    draw_levels(ax, result)
    if len(result.fills) > 2 * len(result.trades):
        draw_fills(ax, result)
    trades = result.trades
    if trades:
        opened = _dates([t.opened_at for t in trades])
        closed = _dates([t.closed_at for t in trades])
        entry = np.array([float(t.entry_price) for t in trades])
        exit_ = np.array([float(t.exit_price) for t in trades])
        won = np.array([t.pnl > 0 for t in trades])
        long = np.array([t.direction == "long" for t in trades])
        # A LineCollection takes matplotlib's date numbers, not datetime64.
        x0, x1 = date2num(opened), date2num(closed)  # type: ignore[no-untyped-call]
        segments = np.stack([np.column_stack([x0, entry]), np.column_stack([x1, exit_])], axis=1)
        colors = [WIN if w else LOSS for w in won]
        ax.add_collection(LineCollection(list(segments), colors=colors, linewidths=1.2, alpha=0.8))
        for mask, marker, label in ((long, "^", "long entry"), (~long, "v", "short entry")):
            if mask.any():
                ax.scatter(
                    opened[mask],
                    entry[mask],
                    marker=marker,
                    s=28,
                    color=ENTRY,
                    label=label,
                    zorder=3,
                )
        for mask, color, label in ((won, WIN, "winning exit"), (~won, LOSS, "losing exit")):
            if mask.any():
                ax.scatter(
                    closed[mask], exit_[mask], marker="x", s=28, color=color, label=label, zorder=3
                )
        ax.legend(loc="upper left", fontsize=8)
    fills = f" · {summary.fills:,} fills" if summary.fills > 2 * summary.trades else ""
    ax.set_title(
        f"{summary.strategy} · {summary.symbol} {summary.timeframe} · "
        f"{summary.trades} trades{fills} · {summary.return_pct:+.2f} %"
    )
    ax.set_ylabel(result.instrument.quote)
    ax.grid(alpha=0.3)


def draw_equity(ax: Axes, result: BacktestResult, summary: Summary) -> None:
    """Equity after every close, with the starting equity dashed."""
    times, values = envelope(*equity_curve(result))
    ax.plot(_dates(times), values, color=EQUITY, linewidth=1)
    ax.axhline(float(result.start_equity), color="#888", linewidth=0.7, linestyle="--")
    ax.set_ylabel(f"equity ({result.instrument.settle or result.instrument.quote})")
    ax.set_title(
        f"equity {summary.return_pct:+.2f} % · buy and hold {summary.buy_and_hold_pct:+.2f} %",
        fontsize=10,
    )
    ax.grid(alpha=0.3)


def draw_drawdown(ax: Axes, result: BacktestResult, summary: Summary) -> None:
    """Drawdown below the running equity peak, % (0 at a new high, negative below it)."""
    times, values = equity_curve(result)
    times, dd = envelope(times, -drawdown_fraction(values) * 100)
    ax.fill_between(_dates(times), dd, 0, color=DRAWDOWN, alpha=0.35, linewidth=0)
    ax.plot(_dates(times), dd, color=DRAWDOWN, linewidth=0.7)
    ax.set_ylabel("drawdown (%)")
    ax.set_title(
        f"max drawdown {summary.max_drawdown_pct:.2f} % · "
        f"longest {summary.max_drawdown_days:.1f} days under a peak",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
