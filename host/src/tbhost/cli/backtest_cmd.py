"""``tbhost backtest``: run a strategy over stored candles on the paper exchange."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from .simulation import build_simulation, simulation_options


def _trades_path(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    # Checked before the backtest runs, so a typo does not cost a whole run.
    if value is not None and value.suffix.lower() not in (".csv", ".json"):
        raise click.BadParameter(f"{value} must end in .csv or .json", param_hint="--trades")
    return value


@contextmanager
def _progress(total: int, label: str, show: bool) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on stderr advancing by the candles done, or ``None`` if hidden.

    rich is imported only when the bar is shown (``tbhost --help`` must not load it).
    """
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("candles"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.advance(task, done)


@click.command()
@click.argument("strategy")
@simulation_options
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write a PNG: price with trades, equity curve, drawdown.",
)
@click.option(
    "--trades",
    "trades_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    callback=_trades_path,
    help="Write the round trips to FILE, CSV (.csv) or JSON (.json); Decimals exact.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write a self-contained HTML report: metrics, charts, trade table.",
)
@click.option("--json", "as_json", is_flag=True, help="Print all metrics and the trades as JSON.")
@click.option(
    "--no-progress",
    is_flag=True,
    help="Hide the progress bar (also hidden with --json, or when stderr is not a terminal).",
)
@click.pass_context
def backtest(
    ctx: click.Context,
    /,
    strategy: str,
    plot_path: Path | None,
    trades_path: Path | None,
    html_path: Path | None,
    as_json: bool,
    no_progress: bool,
    **opts: Any,
) -> None:
    """Backtest STRATEGY (an installed strategy plugin) on stored candles.

    The strategy runs through the same engine as a live bot, against the paper exchange; the
    fill rules are those of tb-exchange-paper. Candles come from `tbhost data import`; the
    bundled BTC/USDT 1h and 1m candles are imported automatically when asked for. A swap such
    as BTC/USDT:USDT without candles of its own is replayed on its spot pair's candles (said on
    stderr).

    Settings of the strategy come from --config FILE, then each --set KEY=VALUE (later wins).
    The report prints every metric (--json: as JSON, with the trades); --plot, --trades and
    --html also write files.

    \b
    Example:
      tbhost backtest sma_cross --symbol BTC/USDT --timeframe 1h --from 2023-01-01 \\
          --set fast=5 --set slow=20 --trades trades.csv --html report.html
    """

    from ..engine.backtest import run_backtest
    from ..report import summarize, write_trades

    sim = build_simulation(ctx, strategy, opts)
    bot_strategy, exchange, instrument, candles = (
        sim.strategy,
        sim.exchange,
        sim.instrument,
        sim.candles,
    )
    symbol, timeframe = instrument.symbol, sim.timeframe

    show = not (no_progress or as_json) and sys.stderr.isatty()
    with _progress(len(candles), f"{strategy} {symbol} {timeframe}", show) as advance:
        result = asyncio.run(
            run_backtest(bot_strategy, exchange, instrument, candles, timeframe, progress=advance)
        )
    summary = summarize(result)
    written: list[tuple[str, Path]] = []
    try:
        if plot_path is not None:
            from ..report.plot import plot_backtest

            written.append(("Chart", plot_backtest(result, summary, plot_path)))
        if trades_path is not None:
            written.append(("Trades", write_trades(result.trades, trades_path)))
        if html_path is not None:
            from ..report.html import write_html

            written.append(("HTML report", write_html(result, summary, html_path)))
    except OSError as exc:
        raise click.ClickException(f"cannot write the report: {exc}") from None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "summary": summary.to_dict(),
                    "trades": [t.model_dump(mode="json") for t in result.trades],
                },
                indent=2,
            )
        )
        return
    click.echo(summary.to_text())
    for what, path in written:
        click.echo(f"{what} written to {path}")
