"""``ctx.markets()``, ``ctx.request_backtest`` and ``BacktestDone`` (SDK API 1.0 additions)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import pytest

from tbsdk import BotInfo, Strategy, StrategyConfig, StrategyContext
from tbsdk.commands import Command, RequestBacktest
from tbsdk.model import BacktestDone, CandleClosed, Instrument
from tbsdk.testing import MemoryContext, dispatch

BTC = Instrument(
    exchange="t", symbol="BTC/USDT", base="BTC", quote="USDT", tick_size=Decimal("0.01"),
    lot_step=Decimal("0.001"),
)  # fmt: skip
ETH = BTC.model_copy(update={"symbol": "ETH/USDT", "base": "ETH"})
SETTINGS: dict[str, Any] = {"fast": 5, "levels": ["1.5", "2"]}


class Ranker(Strategy[StrategyConfig]):
    name: ClassVar[str] = "ranker"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig

    def __init__(self, config: StrategyConfig) -> None:
        super().__init__(config)
        self.done: list[BacktestDone] = []

    def on_start(self, ctx: StrategyContext) -> None:
        for inst in ctx.markets():
            ctx.request_backtest(f"r-{inst.symbol}", inst.symbol, SETTINGS, 1_000, 5_000)

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        pass

    def on_backtest_done(self, ctx: StrategyContext, event: BacktestDone) -> None:
        self.done.append(event)


def test_memory_context_records_requests_as_commands_in_call_order() -> None:
    ctx = MemoryContext([ETH, BTC], now=7_000)
    Ranker(StrategyConfig()).on_start(ctx)

    expected: list[Command] = [
        RequestBacktest("r-BTC/USDT", "BTC/USDT", SETTINGS, 1_000, 5_000, 7_000),
        RequestBacktest("r-ETH/USDT", "ETH/USDT", SETTINGS, 1_000, 5_000, 7_000),
    ]
    assert ctx.commands == expected
    assert ctx.backtest_requests == expected
    assert ctx.submitted == []


def test_markets_are_the_account_instruments_in_symbol_order() -> None:
    ctx = MemoryContext({"ETH/USDT": ETH, "BTC/USDT": BTC})
    assert ctx.markets() == [BTC, ETH]
    # The default of the base class: the bot's own symbols.
    bot = BotInfo(bot_id="b", strategy="s", exchange="t", account_id="a", symbols=("ETH/USDT",))
    assert StrategyContext.markets(MemoryContext([BTC, ETH], bot=bot)) == [ETH]


def test_the_request_keeps_its_own_copy_of_the_settings() -> None:
    ctx = MemoryContext(BTC)
    settings = {"fast": 5}
    ctx.request_backtest("r", "BTC/USDT", settings, 0, 1)
    settings["fast"] = 9
    assert ctx.backtest_requests[0].settings == {"fast": 5}


def test_an_answer_is_dispatched_to_on_backtest_done() -> None:
    ctx, strategy = MemoryContext(BTC), Ranker(StrategyConfig())
    done = BacktestDone(
        request_id="r", symbol="BTC/USDT", net_pnl=Decimal("12.5"), trades=3,
        quote_volume_24h=Decimal("1000000.25"),
    )  # fmt: skip
    dispatch(strategy, ctx, done)
    assert strategy.done == [done]


def test_backtest_done_round_trips_through_json_with_exact_decimals() -> None:
    done = BacktestDone(
        request_id="r", symbol="BTC/USDT", net_pnl=Decimal("-0.000000012345678901234567"),
        trades=2, quote_volume_24h=None,
    )  # fmt: skip
    assert BacktestDone.model_validate_json(done.model_dump_json()) == done
    failed = BacktestDone(request_id="r", symbol="X/USDT", error="no stored candles of X/USDT")
    assert (failed.net_pnl, failed.trades, failed.quote_volume_24h) == (Decimal(0), 0, None)
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        BacktestDone(request_id="r", symbol="X/USDT", trades=-1)


def test_the_default_handler_does_nothing_and_every_context_offers_the_service() -> None:
    class Plain(Ranker):
        on_backtest_done = Strategy.on_backtest_done

    ctx = MemoryContext(BTC)
    dispatch(Plain(StrategyConfig()), ctx, BacktestDone(request_id="r", symbol="BTC/USDT"))
    assert ctx.backtest_requests == []
    assert "request_backtest" in StrategyContext.__abstractmethods__
