"""``BotContext.order_changes``: the ids of the order records made since a mark, within a
window of the last ``CHANGE_WINDOW`` records; an older or unknown mark says "look at
everything" (``None``)."""

from __future__ import annotations

from decimal import Decimal as D

from tbhost.engine.context import CHANGE_WINDOW, BotContext
from tbhost.engine.instruments import backtest_instrument
from tbhost.engine.market_data import StoredMarketData
from tbhost.engine.replay import Clock
from tbsdk import BotInfo, RunMode
from tbsdk.model import CandleArrays, Order, OrderIntent, OrderSide, OrderStatus, OrderType

SYMBOL = "BTC/USDT"
SPOT = backtest_instrument("paper", SYMBOL)


def _context() -> BotContext:
    info = BotInfo(bot_id="b1", strategy="s", exchange="paper", account_id="a1")
    market = StoredMarketData("1m", {SYMBOL: CandleArrays.empty()})
    return BotContext(info, RunMode.BACKTEST, Clock(0), market, {SYMBOL: SPOT})


def _order(cid: str, status: OrderStatus = OrderStatus.SUBMITTED) -> Order:
    intent = OrderIntent(
        client_order_id=cid, symbol=SYMBOL, side=OrderSide.BUY, type=OrderType.LIMIT,
        qty=D("0.001"), price=D(60000),
    )  # fmt: skip
    order = Order(intent=intent).transition(OrderStatus.SUBMITTED, at=0)
    return order if status is OrderStatus.SUBMITTED else order.transition(status, at=0)


def test_changes_since_a_mark_are_the_ids_recorded_after_it() -> None:
    ctx = _context()
    assert ctx.order_changes(None) == (0, None)
    ctx.record_order(_order("a"))
    ctx.record_order(_order("b"))
    mark, ids = ctx.order_changes(0)
    assert (mark, ids) == (2, frozenset({"a", "b"}))
    ctx.record_order(_order("a", OrderStatus.CANCELED))
    assert ctx.order_changes(mark) == (3, frozenset({"a"}))
    assert ctx.order_changes(3) == (3, frozenset())
    assert ctx.order_changes(7) == (3, None)  # not a mark of this context


def test_a_mark_older_than_the_window_asks_for_everything() -> None:
    ctx = _context()
    ctx.record_order(_order("first"))
    for n in range(CHANGE_WINDOW):
        ctx.record_order(_order(f"o{n}"))
    assert ctx.order_changes(0) == (CHANGE_WINDOW + 1, None)
    mark, ids = ctx.order_changes(1)  # exactly the window: still known
    assert mark == CHANGE_WINDOW + 1
    assert ids == frozenset(f"o{n}" for n in range(CHANGE_WINDOW))
    assert ctx.order_changes(CHANGE_WINDOW - 1) == (mark, frozenset({"o4094", "o4095"}))
