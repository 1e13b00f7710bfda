"""A backtest from the API's input: the same strategy, paper account and stored candles as
``tbhost backtest`` builds from its options (``cli/simulation.py``), without click.

:func:`check` validates what can be checked at once (strategy, settings, symbol, timeframe),
so a mistyped request is refused by the mutation itself; :func:`run` does the heavy part in
the job's worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tbsdk.errors import ConfigError
from tbsdk.timeframes import TIMEFRAMES

from ..plugins import PluginHost
from ..services import InvalidConfig, validate_settings

__all__ = ["BacktestRequest", "check", "run"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BacktestRequest:
    strategy: str
    symbol: str
    timeframe: str
    settings: dict[str, Any] = field(default_factory=dict)
    data_exchange: str = "binance"
    start: int | None = None
    end: int | None = None
    balance: Decimal = Decimal(10000)
    fee: Decimal = Decimal("0.001")
    maker_fee: Decimal = Decimal("0.001")
    slippage_bps: Decimal = Decimal(0)
    leverage: Decimal = Decimal(1)
    position_mode: str = "one_way"


def _values(plugins: PluginHost, request: BacktestRequest) -> dict[str, Any]:
    values = dict(request.settings)
    fields = plugins.strategy_class(request.strategy).config_class.model_fields
    for key, value in (("symbol", request.symbol), ("timeframe", request.timeframe)):
        if key in fields and key not in values:
            values[key] = value
    return values


def check(plugins: PluginHost, request: BacktestRequest) -> None:
    """Refuse, with :class:`InvalidConfig` naming the field, what would fail at once."""
    try:
        plugins.strategy_class(request.strategy)
    except ConfigError as exc:
        raise InvalidConfig(exc.message, ("strategy",)) from None
    if request.timeframe not in TIMEFRAMES:
        raise InvalidConfig(
            f"unknown timeframe {request.timeframe!r}; use one of {', '.join(TIMEFRAMES)}",
            ("timeframe",),
        )
    pair = request.symbol.partition(":")[0]
    base, sep, quote = pair.partition("/")
    if not (sep and base and quote):
        raise InvalidConfig(
            f"{request.symbol!r} is not a ccxt unified symbol like BTC/USDT or BTC/USDT:USDT",
            ("symbol",),
        )
    if request.start is not None and request.end is not None and request.start >= request.end:
        raise InvalidConfig("from must be before to", ("from",))
    for name in ("balance", "leverage"):
        if getattr(request, name) <= 0:
            raise InvalidConfig(f"{name} must be above 0", (name,))
    for name in ("fee", "maker_fee", "slippage_bps"):
        if getattr(request, name) < 0:
            raise InvalidConfig(f"{name} must not be negative", (name,))
    if request.position_mode not in ("one_way", "hedge"):
        raise InvalidConfig("position_mode must be one_way or hedge", ("position_mode",))
    validate_settings(plugins.strategy_class, request.strategy, _values(plugins, request))


def run(
    plugins: PluginHost,
    data_dir: Path,
    request: BacktestRequest,
    *,
    on_total: Callable[[int], None],
    on_progress: Callable[[int], None],
) -> dict[str, Any]:
    """Run the backtest in this (worker) thread; the summary as JSON-ready values."""
    from ..candles import CandleStore, replay_candles
    from ..engine.backtest import run_backtest
    from ..engine.instruments import backtest_instrument
    from ..report import summarize

    strategy = plugins.strategy_class(request.strategy).from_settings(_values(plugins, request))
    instrument = backtest_instrument(
        "paper", request.symbol, taker_fee=request.fee, maker_fee=request.maker_fee
    )
    candles = replay_candles(
        CandleStore(data_dir / "candles"),
        request.data_exchange,
        request.symbol,
        request.timeframe,
        request.start,
        request.end,
    )
    on_total(len(candles))
    exchange_cls = plugins.exchange_class("paper")
    currency = instrument.settle or instrument.quote
    exchange = exchange_cls(
        exchange_cls.config_class.model_validate(
            {
                "instruments": [instrument],
                "balances": {currency: str(request.balance)},
                "slippage_bps": str(request.slippage_bps),
                "default_leverage": str(request.leverage),
                "position_mode": request.position_mode,
            }
        )
    )
    result = asyncio.run(
        run_backtest(
            strategy, exchange, instrument, candles, request.timeframe, progress=on_progress
        )
    )
    summary: dict[str, Any] = summarize(result).to_dict()
    return summary
