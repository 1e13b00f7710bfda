"""``ctx.set_leverage``: carried out on the venue before the orders queued after it; a refusal
faults the bot and nothing queued after it is sent."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import ClassVar

from tb_exchange_paper import PaperConfig, PaperExchange
from tbhost.engine.backtest import BacktestResult, run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbhost.engine.runner import BotState
from tbhost.report import summarize
from tbhost.report.plot import backtest_figure
from tbsdk import Strategy, StrategyConfig, StrategyContext
from tbsdk.model import (
    CandleClosed,
    MarginMode,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionSide,
    RejectReason,
)
from tbsdk.testing import load_candles

SWAP, SPOT = "BTC/USDT:USDT", "BTC/USDT"


class LeveragedEntry(Strategy[StrategyConfig]):
    """Sets leverage 5 (isolated) and buys at market in the same handler, on the first candle."""

    name: ClassVar[str] = "lev"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig
    symbol: ClassVar[str] = SWAP

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.subscribe(self.symbol, "1h")

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        if ctx.order("lev1") is not None:
            return
        ctx.set_leverage(self.symbol, Decimal(5), MarginMode.ISOLATED)
        ctx.submit(
            OrderIntent(
                client_order_id="lev1",
                symbol=self.symbol,
                side=OrderSide.BUY,
                type=OrderType.MARKET,
                qty=Decimal(200),
            )
        )


def _run(symbol: str) -> tuple[BacktestResult, PaperExchange]:
    candles = load_candles("BINANCE_ETH-BTC_1h").slice(0, 50)
    instrument = backtest_instrument("paper", symbol)
    exchange = PaperExchange(PaperConfig(instruments=(instrument,), balances={"USDT": 10_000}))
    strategy = type("S", (LeveragedEntry,), {"symbol": symbol})(StrategyConfig())
    return asyncio.run(run_backtest(strategy, exchange, instrument, candles, "1h")), exchange


def test_leverage_is_set_on_the_venue_before_the_entry() -> None:
    result, exchange = _run(SWAP)
    assert result.state is BotState.STOPPED
    position = asyncio.run(exchange.fetch_positions([SWAP]))[0]
    assert position.position_side is PositionSide.NET
    assert position.size == Decimal(200)
    assert position.leverage == Decimal(5)
    assert position.margin_mode is MarginMode.ISOLATED
    # The report counts what happened although no round trip closed.
    summary = summarize(result)
    assert (summary.trades, summary.orders, summary.rejected_orders, summary.fills) == (0, 1, 0, 1)
    assert summary.fees == result.fills[0].fill.fee > 0
    # The entry is still open: exposed from the candle after its fill to the end.
    assert summary.open_positions[0].size == Decimal(200)
    assert summary.exposure_pct > 0
    import matplotlib.pyplot as plt

    fig = backtest_figure(result, summary)
    try:
        price = fig.axes[0]
        assert [c.get_label() for c in price.collections] == ["buy fills"]
        assert "1 fills" in price.get_title()
    finally:
        plt.close(fig)


def test_a_refused_leverage_faults_the_bot_and_sends_nothing_after_it() -> None:
    result, _ = _run(SPOT)
    assert result.state is BotState.FAULTED
    assert result.fault is not None
    assert "refused leverage 5 (isolated) for BTC/USDT" in result.fault
    assert "derivatives only" in result.fault
    assert result.orders == []


class TooSmall(LeveragedEntry):
    """Sends an order below the minimum size and records the refusal it gets back."""

    def __init__(self, config: StrategyConfig) -> None:
        super().__init__(config)
        self.refusals: list[OrderUpdate] = []

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        if ctx.order("tiny1") is None:
            ctx.submit(
                OrderIntent(
                    client_order_id="tiny1",
                    symbol=self.symbol,
                    side=OrderSide.BUY,
                    type=OrderType.MARKET,
                    qty=Decimal(1),  # 0.05 BTC of value: below the 5 USDT minimum notional
                )
            )

    def on_order_update(self, ctx: StrategyContext, event: OrderUpdate) -> None:
        if event.order.status is OrderStatus.REJECTED:
            self.refusals.append(event)


def test_a_venue_refusal_reaches_the_strategy_with_its_normalised_reason() -> None:
    candles = load_candles("BINANCE_ETH-BTC_1h").slice(0, 5)
    instrument = backtest_instrument("paper", SWAP)
    exchange = PaperExchange(PaperConfig(instruments=(instrument,), balances={"USDT": 10_000}))
    strategy = TooSmall(StrategyConfig())
    asyncio.run(run_backtest(strategy, exchange, instrument, candles, "1h"))
    assert [r.reject_reason for r in strategy.refusals] == [RejectReason.MIN_SIZE]
    assert "below the minimum" in (strategy.refusals[0].order.reason or "")
