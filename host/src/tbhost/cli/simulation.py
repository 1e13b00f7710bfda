"""What ``tbhost backtest`` and ``tbhost paper`` share: the options that describe a strategy
on a simulated account over stored candles, and building those from the options."""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .context import plugin_host, settings

if TYPE_CHECKING:
    from tbsdk import Exchange, Strategy
    from tbsdk.exchange import SimulatedVenue
    from tbsdk.model import CandleArrays, Instrument

F = TypeVar("F", bound=Callable[..., Any])


def _parse_value(raw: str) -> Any:
    # Numbers stay exact: "0.1" is Decimal("0.1"), never the float nearest to it.
    try:
        return json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError:
        return raw


def _strategy_settings(file: Path | None, pairs: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if file is not None:
        text = file.read_text()
        values.update(
            tomllib.loads(text, parse_float=Decimal)
            if file.suffix == ".toml"
            else json.loads(text, parse_float=Decimal)
        )
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


def _renamed(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        raise click.UsageError("--settings was renamed: use --config FILE")


def simulation_options(f: F) -> F:
    """The options of a simulated run: strategy settings, market, account and candle range."""
    for option in reversed(_OPTIONS):
        f = option(f)
    return f


_OPTIONS = [
    click.option("--symbol", required=True, help="ccxt unified symbol, e.g. BTC/USDT."),
    click.option("--timeframe", required=True, help="Chart timeframe of the stored candles."),
    click.option(
        "--data-exchange",
        default="binance",
        show_default=True,
        help="Exchange whose stored candles to replay.",
    ),
    click.option("--from", "start", help="First candle (UTC date or datetime)."),
    click.option("--to", "end", help="End, exclusive (UTC date or datetime)."),
    click.option(
        "--config",
        "config_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        metavar="FILE",
        help="Strategy settings file: TOML if it ends in .toml, JSON otherwise. (The host's own "
        "settings file is `tbhost --config`.)",
    ),
    click.option(
        "--settings", hidden=True, expose_value=False, callback=_renamed, help="Now --config."
    ),
    click.option(
        "--set",
        "pairs",
        multiple=True,
        metavar="KEY=VALUE",
        help="One strategy setting (repeatable); VALUE is JSON or a plain string.",
    ),
    click.option("--balance", default="10000", show_default=True, help="Starting balance."),
    click.option("--fee", default="0.001", show_default=True, help="Taker fee rate."),
    click.option("--maker-fee", default="0.001", show_default=True, help="Maker fee rate."),
    click.option("--slippage-bps", default="0", show_default=True, help="Taker slippage, bps."),
    click.option("--tick", default="0.01", show_default=True, help="Price tick of the market."),
    click.option("--lot", default="0.00001", show_default=True, help="Size step of the market."),
    click.option(
        "--contract-size",
        default="1",
        show_default=True,
        help="Base units per contract (swaps; e.g. 0.01 for OKX BTC-USDT-SWAP).",
    ),
    click.option(
        "--leverage", default="1", show_default=True, help="Leverage of the simulated account."
    ),
    click.option(
        "--position-mode",
        type=click.Choice(["one_way", "hedge"]),
        default="one_way",
        show_default=True,
        help="One net position per symbol, or separate long and short books (hedge).",
    ),
]


@dataclass(frozen=True)
class Simulation:
    strategy: Strategy[Any]
    exchange: Exchange
    instrument: Instrument
    candles: CandleArrays
    timeframe: str
    settings: dict[str, Any]

    @property
    def venue(self) -> SimulatedVenue:
        """The paper exchange as the simulated venue it is."""
        from tbsdk.exchange import SimulatedVenue

        assert isinstance(self.exchange, SimulatedVenue)
        return self.exchange


def build_simulation(
    ctx: click.Context, strategy: str, opts: dict[str, Any], *, quiet: bool = True
) -> Simulation:
    """The strategy, the paper account and the candles the options describe; any problem is a
    ``ClickException`` that says what was wrong. ``quiet`` keeps per-order log lines out."""
    from pydantic import ValidationError

    from tbsdk.errors import TbError

    from ..engine.instruments import backtest_instrument
    from .data_cmd import load_or_import

    o = opts
    symbol, timeframe = o["symbol"], o["timeframe"]
    host = plugin_host(ctx)
    if quiet and settings(ctx).log_level != "DEBUG":
        # Per-order lines (refusals included: the summary counts them) would bury the summary;
        # a bot fault still shows. `tbhost --log-level DEBUG` shows everything.
        logging.getLogger("tbhost.bot").setLevel(logging.ERROR)
    try:
        strategy_cls = host.strategy_class(strategy)
        values = _strategy_settings(o["config_file"], o["pairs"])
        fields = strategy_cls.config_class.model_fields
        for key, value in (("symbol", symbol), ("timeframe", timeframe)):
            if key in fields and key not in values:
                values[key] = value
        bot_strategy = strategy_cls.from_settings(values)
        instrument = backtest_instrument(
            "paper",
            symbol,
            tick=_decimal(o["tick"], "--tick"),
            lot=_decimal(o["lot"], "--lot"),
            taker_fee=_decimal(o["fee"], "--fee"),
            maker_fee=_decimal(o["maker_fee"], "--maker-fee"),
            contract_size=_decimal(o["contract_size"], "--contract-size"),
        )
        candles = load_or_import(
            ctx,
            o["data_exchange"],
            symbol,
            timeframe,
            _date_ms(o["start"], "--from"),
            _date_ms(o["end"], "--to"),
        )
        exchange_cls = host.exchange_class("paper")
        currency = instrument.settle or instrument.quote
        exchange = exchange_cls(
            exchange_cls.config_class.model_validate(
                {
                    "instruments": [instrument],
                    "balances": {currency: str(_decimal(o["balance"], "--balance"))},
                    "slippage_bps": str(_decimal(o["slippage_bps"], "--slippage-bps")),
                    "default_leverage": str(_decimal(o["leverage"], "--leverage")),
                    "position_mode": o["position_mode"],
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
    return Simulation(bot_strategy, exchange, instrument, candles, timeframe, values)
