"""Backtest chart: price with the trades on it, and the equity curve below (PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..engine.backtest import BacktestResult
from .summary import Summary


def plot_backtest(result: BacktestResult, summary: Summary, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only; no display is needed or assumed
    import matplotlib.pyplot as plt

    times = result.candles.ts.astype("datetime64[ms]")
    fig, (price_ax, equity_ax) = plt.subplots(
        2, 1, figsize=(13, 8), sharex=True, height_ratios=(3, 2), layout="constrained"
    )
    price_ax.plot(times, result.candles.close, color="#555", linewidth=0.7, label="close")
    for trade in result.trades:
        color = "#1a7f37" if trade.pnl > 0 else "#cf222e"
        opened = np.datetime64(trade.opened_at, "ms")
        closed = np.datetime64(trade.closed_at, "ms")
        entry_marker = "^" if trade.direction == "long" else "v"
        price_ax.scatter(
            [opened],
            [float(trade.entry_price)],
            marker=entry_marker,
            s=28,
            color="#0969da",
            zorder=3,
        )
        price_ax.scatter(
            [closed], [float(trade.exit_price)], marker="x", s=28, color=color, zorder=3
        )
        price_ax.plot(
            [opened, closed],
            [float(trade.entry_price), float(trade.exit_price)],
            color=color,
            linewidth=1.2,
            alpha=0.8,
        )
    price_ax.set_title(
        f"{summary.strategy} · {summary.symbol} {summary.timeframe} · "
        f"{summary.trades} trades · {summary.return_pct:+.2f} %"
    )
    price_ax.set_ylabel(result.instrument.quote)
    price_ax.grid(alpha=0.3)
    equity_ax.plot(times, result.equity, color="#0969da", linewidth=1)
    equity_ax.axhline(float(result.start_equity), color="#888", linewidth=0.7, linestyle="--")
    equity_ax.set_ylabel(f"equity ({result.instrument.settle or result.instrument.quote})")
    equity_ax.set_title(f"max drawdown {summary.max_drawdown_pct:.2f} %", fontsize=10)
    equity_ax.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
