"""``Strategy.report``: the strategy's own result lines reach the backtest summary and the end
of a paper run; a report that raises is left out with a warning, and the results stand."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import ClassVar

import pytest

from tb_exchange_paper import PaperConfig, PaperExchange
from tbhost.engine.backtest import BacktestResult, run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbhost.engine.paper import PaperRun, run_paper
from tbhost.engine.runner import BotState
from tbhost.report import summarize
from tbsdk import BotInfo, Strategy, StrategyConfig, StrategyContext
from tbsdk.model import CandleClosed
from tbsdk.testing import load_candles

SYMBOL = "BTC/USDT"
BOT = BotInfo(bot_id="p", strategy="counting", exchange="paper", account_id="paper")


class Counting(Strategy[StrategyConfig]):
    """Counts the candles it saw and reports the count."""

    name: ClassVar[str] = "counting"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig

    def __init__(self, config: StrategyConfig) -> None:
        super().__init__(config)
        self.seen = 0

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.subscribe(SYMBOL, "1h")

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        self.seen += 1

    def report(self) -> dict[str, str]:
        return {"Candles seen": str(self.seen), "Mood": "calm"}


class Broken(Counting):
    def report(self) -> dict[str, str]:
        raise KeyError("no such thing")


def _venue() -> PaperExchange:
    instrument = backtest_instrument("paper", SYMBOL)
    return PaperExchange(PaperConfig(instruments=(instrument,), balances={"USDT": 1000}))


def _run(strategy: Strategy[StrategyConfig]) -> BacktestResult:
    candles = load_candles("BINANCE_ETH-BTC_1h").slice(0, 30)
    instrument = backtest_instrument("paper", SYMBOL)
    return asyncio.run(run_backtest(strategy, _venue(), instrument, candles, "1h"))


def test_report_lines_follow_the_engine_rows_in_their_order() -> None:
    result = _run(Counting(StrategyConfig()))
    assert result.strategy_report == {"Candles seen": "30", "Mood": "calm"}
    rows = summarize(result).rows()
    labels = [label for label, _ in rows]
    assert labels[-3:] == ["Candles seen", "Mood", "Bot state"]
    assert summarize(result).to_dict()["strategy_report"] == {"Candles seen": "30", "Mood": "calm"}


def test_a_report_that_raises_is_left_out_and_the_backtest_stands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        result = _run(Broken(StrategyConfig()))
    assert result.state is BotState.STOPPED
    assert result.strategy_report == {}
    assert "Broken.report raised KeyError" in caplog.text
    assert [label for label, _ in summarize(result).rows()][-1] == "Bot state"


def test_a_paper_run_ends_with_the_report() -> None:
    candles = load_candles("BINANCE_ETH-BTC_1h").slice(0, 12)
    instrument = backtest_instrument("paper", SYMBOL)

    def paper(strategy: Counting) -> PaperRun:
        return asyncio.run(
            run_paper(strategy, _venue(), instrument, candles, "1h", bot=BOT, speed=math.inf)
        )

    run = paper(Counting(StrategyConfig()))
    assert run.finished
    assert run.report == {"Candles seen": "12", "Mood": "calm"}
    broken = paper(Broken(StrategyConfig()))
    assert (broken.finished, broken.report) == (True, {})
