"""``tbhost backtest``: run a strategy over stored candles on the paper exchange."""

from __future__ import annotations

import asyncio
import json
import sys
import tomllib
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from .context import plugin_host


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
    "--settings",
    "settings_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Strategy settings, JSON or TOML.",
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
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a PNG: price with trades, equity curve.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary and trades as JSON.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.pass_context
def backtest(
    ctx: click.Context,
    strategy: str,
    symbol: str,
    timeframe: str,
    data_exchange: str,
    start: str | None,
    end: str | None,
    settings_file: Path | None,
    pairs: tuple[str, ...],
    balance: str,
    fee: str,
    maker_fee: str,
    slippage_bps: str,
    tick: str,
    lot: str,
    plot_path: Path | None,
    as_json: bool,
    no_progress: bool,
) -> None:
    """Backtest STRATEGY (an installed strategy plugin) on stored candles.

    The strategy runs through the same engine as a live bot, against the paper exchange; the
    fill rules are those of tb-exchange-paper. Candles come from `tbhost data import`; the
    bundled BTC/USDT 1h and 1m candles are imported automatically when asked for.

    Example: tbhost backtest sma_cross --symbol BTC/USDT --timeframe 1h --from 2023-01-01
    """
    from pydantic import ValidationError

    from tbsdk.errors import TbError

    from ..engine.backtest import run_backtest
    from ..engine.instruments import backtest_instrument
    from ..report import summarize
    from .data_cmd import load_or_import

    host = plugin_host(ctx)
    try:
        strategy_cls = host.strategy_class(strategy)
        values = _strategy_settings(settings_file, pairs)
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

    show = not (no_progress or as_json)
    with click.progressbar(
        length=len(candles),
        label=f"{strategy} {symbol} {timeframe}",
        file=sys.stderr,
        hidden=not show,
    ) as bar:
        result = asyncio.run(
            run_backtest(
                bot_strategy, exchange, instrument, candles, timeframe, progress=bar.update
            )
        )
    summary = summarize(result)
    if plot_path is not None:
        from ..report.plot import plot_backtest

        plot_backtest(result, summary, plot_path)
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
    if plot_path is not None:
        click.echo(f"Chart written to {plot_path}")
