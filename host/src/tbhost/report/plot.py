"""Backtest chart (PNG): price with the trades on it, the equity curve, and the drawdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..engine.backtest import BacktestResult
from ._charts import draw_drawdown, draw_equity, draw_price, pyplot
from .summary import Summary

__all__ = ["backtest_figure", "plot_backtest"]


def backtest_figure(result: BacktestResult, summary: Summary) -> Any:
    """A matplotlib figure of three panels sharing the time axis: price with the trades,
    equity, drawdown. The caller closes it (``matplotlib.pyplot.close``)."""
    plt = pyplot()
    fig, (price_ax, equity_ax, dd_ax) = plt.subplots(
        3, 1, figsize=(13, 10), sharex=True, height_ratios=(3, 2, 1.2), layout="constrained"
    )
    draw_price(price_ax, result, summary)
    draw_equity(equity_ax, result, summary)
    draw_drawdown(dd_ax, result, summary)
    return fig


def plot_backtest(result: BacktestResult, summary: Summary, path: Path) -> Path:
    """Write :func:`backtest_figure` to ``path`` as a PNG."""
    plt = pyplot()
    fig = backtest_figure(result, summary)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
    return path
