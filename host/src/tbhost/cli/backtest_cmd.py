"""``tbhost backtest``: run a strategy over stored candles on the paper exchange."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from .context import plugin_host, settings


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _strategy_settings(file: Path | None, pairs: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if file is not None:
        text = file.read_text()
        values.update(tomllib.loads(text) if file.suffix == ".toml" else json.loads(text))
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--set")
        values[key.strip()] = _parse_value(raw.strip())
    return values


def _date_ms(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2023-01-31 or 2023-01-31T12:00", param_hint=name
        ) from None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() * 1000)


def _trades_path(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    # Checked before the backtest runs, so a typo does not cost a whole run.
    if value is not None and value.suffix.lower() not in (".csv", ".json"):
        raise click.BadParameter(f"{value} must end in .csv or .json", param_hint="--trades")
    return value


def _renamed(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        raise click.UsageError("--settings was renamed: use --config FILE")


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


def _decimal(value: str, name: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a number", param_hint=name) from None


@click.command()
@click.argument("strategy")
@click.option("--symbol", required=True, help="ccxt unified symbol, e.g. BTC/USDT.")
@click.option("--timeframe", required=True, help="Chart timeframe of the stored candles.")
@click.option(
    "--data-exchange",
    default="binance",
    show_default=True,
    help="Exchange whose stored candles to replay.",
)
@click.option("--from", "start", help="First candle (UTC date or datetime).")
@click.option("--to", "end", help="End, exclusive (UTC date or datetime).")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Strategy settings file: TOML if it ends in .toml, JSON otherwise. (The host's own "
    "settings file is `tbhost --config`.)",
)
@click.option(
    "--settings", hidden=True, expose_value=False, callback=_renamed, help="Now --config."
)
@click.option(
    "--set",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="One strategy setting (repeatable); VALUE is JSON or a plain string.",
)
@click.option("--balance", default="10000", show_default=True, help="Starting balance.")
@click.option("--fee", default="0.001", show_default=True, help="Taker fee rate.")
@click.option("--maker-fee", default="0.001", show_default=True, help="Maker fee rate.")
@click.option("--slippage-bps", default="0", show_default=True, help="Taker slippage, bps.")
@click.option("--tick", default="0.01", show_default=True, help="Price tick of the market.")
@click.option("--lot", default="0.00001", show_default=True, help="Size step of the market.")
@click.option(
    "--contract-size",
    default="1",
    show_default=True,
    help="Base units per contract (swaps; e.g. 0.01 for OKX BTC-USDT-SWAP).",
)
@click.option(
    "--leverage", default="1", show_default=True, help="Leverage of the simulated account."
)
@click.option(
    "--position-mode",
    type=click.Choice(["one_way", "hedge"]),
    default="one_way",
    show_default=True,
    help="One net position per symbol, or separate long and short books (hedge).",
)
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
    strategy: str,
    symbol: str,
    timeframe: str,
    data_exchange: str,
    start: str | None,
    end: str | None,
    config_file: Path | None,
    pairs: tuple[str, ...],
    balance: str,
    fee: str,
    maker_fee: str,
    slippage_bps: str,
    tick: str,
    lot: str,
    contract_size: str,
    leverage: str,
    position_mode: str,
    plot_path: Path | None,
    trades_path: Path | None,
    html_path: Path | None,
    as_json: bool,
    no_progress: bool,
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
    from pydantic import ValidationError

    from tbsdk.errors import TbError

    from ..engine.backtest import run_backtest
    from ..engine.instruments import backtest_instrument
    from ..report import summarize, write_trades
    from .data_cmd import load_or_import

    host = plugin_host(ctx)
    if settings(ctx).log_level != "DEBUG":
        # A backtest's per-order info lines would bury the summary; warnings still show.
        logging.getLogger("tbhost.bot").setLevel(logging.WARNING)
    try:
        strategy_cls = host.strategy_class(strategy)
        values = _strategy_settings(config_file, pairs)
        fields = strategy_cls.config_class.model_fields
        for key, value in (("symbol", symbol), ("timeframe", timeframe)):
            if key in fields and key not in values:
                values[key] = value
        bot_strategy = strategy_cls.from_settings(values)
        instrument = backtest_instrument(
            "paper",
            symbol,
            tick=_decimal(tick, "--tick"),
            lot=_decimal(lot, "--lot"),
            taker_fee=_decimal(fee, "--fee"),
            maker_fee=_decimal(maker_fee, "--maker-fee"),
            contract_size=_decimal(contract_size, "--contract-size"),
        )
        candles = load_or_import(
            ctx, data_exchange, symbol, timeframe, _date_ms(start, "--from"), _date_ms(end, "--to")
        )
        exchange_cls = host.exchange_class("paper")
        currency = instrument.settle or instrument.quote
        exchange = exchange_cls(
            exchange_cls.config_class.model_validate(
                {
                    "instruments": [instrument],
                    "balances": {currency: str(_decimal(balance, "--balance"))},
                    "slippage_bps": str(_decimal(slippage_bps, "--slippage-bps")),
                    "default_leverage": str(_decimal(leverage, "--leverage")),
                    "position_mode": position_mode,
                }
            )
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise click.ClickException(f"invalid settings for {strategy}: {problems}") from None
    except (TbError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None

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
