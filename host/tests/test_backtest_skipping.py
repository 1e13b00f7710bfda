"""Skipping quiet candles (Strategy.candle_filter + the venue's next-active scan) must not change
a single order: the same backtest with and without it gives identical trades and orders."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pytest

from tb_exchange_paper import PaperConfig, PaperExchange
from tbhost.candles import read_candle_csv
from tbhost.datasets import BUNDLED
from tbhost.engine.backtest import BacktestResult, run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbsdk import Strategy, StrategyConfig, StrategyContext
from tbsdk.ids import base36
from tbsdk.model import (
    CandleArrays,
    CandleClosed,
    FillEvent,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
)

HOUR = 3_600_000
FAST, SLOW = 6, 24
SYMBOL = "BTC/USDT:USDT"  # a swap: reduce-only brackets need no reserved base


def _above(window: npt.NDArray[np.float64]) -> bool:
    return bool(window[-FAST:].sum() / FAST > window.sum() / SLOW)


class CrossWithBrackets(Strategy[StrategyConfig]):
    """Long on a fast/slow cross up with a take-profit limit and a stop resting on the venue,
    out at market on the cross down. Decisions come from history only, so on_candle acts on
    cross candles alone: exactly what candle_filter promises."""

    name: ClassVar[str] = "brackets"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig

    def __init__(self, config: StrategyConfig) -> None:
        super().__init__(config)
        self.seq = 0
        self.calls = 0

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.subscribe(SYMBOL, "1h")

    def candle_filter(
        self, symbol: str, timeframe: str, candles: CandleArrays
    ) -> npt.NDArray[np.bool_]:
        c = candles.close
        above = np.zeros(len(c), dtype=np.bool_)
        for t in range(SLOW - 1, len(c)):
            above[t] = _above(c[t - SLOW + 1 : t + 1])
        mask = np.zeros(len(c), dtype=np.bool_)
        mask[SLOW:] = above[SLOW:] != above[SLOW - 1 : -1]
        return mask

    def _cid(self, tag: str) -> str:
        return f"b{base36(self.seq, 5)}{tag}"

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        self.calls += 1
        c = ctx.history(event.symbol, event.timeframe, SLOW + 1).close
        if len(c) < SLOW + 1 or _above(c[1:]) == _above(c[:-1]):
            return
        pos = ctx.position(event.symbol)
        if _above(c[1:]) and pos.is_flat:
            self.seq += 1
            ctx.submit(
                OrderIntent(
                    client_order_id=self._cid("ent"),
                    symbol=event.symbol,
                    side=OrderSide.BUY,
                    type=OrderType.MARKET,
                    qty=Decimal("0.01"),
                )
            )
        elif not _above(c[1:]) and not pos.is_flat:
            for order in ctx.open_orders(event.symbol):
                ctx.cancel(order.client_order_id)
            ctx.submit(
                OrderIntent(
                    client_order_id=self._cid("xit"),
                    symbol=event.symbol,
                    side=OrderSide.SELL,
                    type=OrderType.MARKET,
                    qty=pos.size,
                    reduce_only=True,
                )
            )

    def on_fill(self, ctx: StrategyContext, event: FillEvent) -> None:
        order = event.order
        if order.intent.tag or not order.client_order_id.endswith("ent"):
            if order.status is OrderStatus.FILLED and order.client_order_id[-3:] in ("tpl", "stp"):
                other = "stp" if order.client_order_id.endswith("tpl") else "tpl"
                ctx.cancel(self._cid(other))
            return
        if order.status is not OrderStatus.FILLED:
            return
        inst = ctx.instrument(order.intent.symbol)
        entry = event.fill.price
        qty = order.filled_qty
        ctx.submit(
            OrderIntent(
                client_order_id=self._cid("tpl"),
                symbol=inst.symbol,
                side=OrderSide.SELL,
                type=OrderType.LIMIT,
                qty=qty,
                price=inst.ceil_price(entry * Decimal("1.015")),
                reduce_only=True,
            )
        )
        ctx.submit(
            OrderIntent(
                client_order_id=self._cid("stp"),
                symbol=inst.symbol,
                side=OrderSide.SELL,
                type=OrderType.STOP_MARKET,
                qty=qty,
                trigger_price=inst.floor_price(entry * Decimal("0.99")),
                reduce_only=True,
            )
        )

    def save_state(self) -> dict[str, Any]:
        return {"seq": self.seq}

    def load_state(self, state: dict[str, Any]) -> None:
        self.seq = state["seq"]


def _run(skip: bool, rows: int) -> tuple[BacktestResult, CrossWithBrackets]:
    path = next(d.path for d in BUNDLED if d.timeframe == "1h")
    candles = read_candle_csv(path, HOUR).slice(45_000, 45_000 + rows)
    instrument = backtest_instrument("paper", SYMBOL)
    exchange = PaperExchange(PaperConfig(instruments=(instrument,), balances={"USDT": 10_000}))
    strategy = CrossWithBrackets(StrategyConfig())
    result = asyncio.run(
        run_backtest(strategy, exchange, instrument, candles, "1h", use_candle_filter=skip)
    )
    return result, strategy


@pytest.mark.parametrize("rows", [400, 6000])
def test_skipping_changes_nothing(rows: int) -> None:
    full, every = _run(skip=False, rows=rows)
    fast, filtered = _run(skip=True, rows=rows)
    assert len(full.trades) > rows // 200
    assert fast.trades == full.trades
    assert sorted(fast.orders, key=lambda o: o.client_order_id) == sorted(
        full.orders, key=lambda o: o.client_order_id
    )
    assert [(f.fill.trade_id, f.fill.price) for f in fast.fills] == [
        (f.fill.trade_id, f.fill.price) for f in full.fills
    ]
    assert fast.end_equity == full.end_equity
    np.testing.assert_allclose(fast.equity, full.equity, rtol=1e-12)
    assert filtered.calls < every.calls / 5  # the point of it: most candles were never delivered
    # Entries, take-profits, stops and market exits all happened (each path is exercised).
    assert {f.fill.client_order_id[-3:] for f in full.fills} == {"ent", "tpl", "stp", "xit"}
