"""Order entry rules: reduce-only, post-only, close-position, time in force, instrument rules,
funds, duplicate ids, amend and cancel."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from tb_exchange_paper import PaperInsufficientFunds, PaperInvalidOrder, reject_reason_of
from tbsdk.errors import InsufficientFunds, InvalidOrder, OrderNotFound
from tbsdk.model import Liquidity, OrderStatus, RejectReason


def _long(v: Any, qty: int = 5) -> None:
    v.buy("e1", qty, type="market")
    v.candle(100, 100, 100, 100)


def test_reduce_only_without_position_is_refused(make_venue: Any) -> None:
    v = make_venue()
    with pytest.raises(PaperInvalidOrder) as info:
        v.sell("r1", 5, price="105", reduce_only=True)
    assert info.value.reject_reason is RejectReason.REDUCE_ONLY_CONFLICT
    assert reject_reason_of(info.value) is RejectReason.REDUCE_ONLY_CONFLICT


def test_reduce_only_that_would_add_is_refused(make_venue: Any) -> None:
    v = make_venue()
    _long(v)
    with pytest.raises(PaperInvalidOrder) as info:
        v.buy("r1", 5, price="95", reduce_only=True)
    assert info.value.reject_reason is RejectReason.REDUCE_ONLY_CONFLICT


def test_reduce_only_is_resized_to_the_position_and_never_flips(make_venue: Any) -> None:
    v = make_venue()
    _long(v)
    v.sell("r1", 10, price="105", reduce_only=True)
    events = v.candle(101, 106, 100, 104)
    [fill] = v.fills(events)
    assert (fill.qty, fill.price) == (D(5), D(105))
    order = v.order("r1")
    assert (order.status, order.filled_qty) == (OrderStatus.CANCELED, D(5))
    assert order.reason == "reduce-only: rest exceeds the position"
    assert v.position() is None
    assert v.engine.realized_pnl("USDT") == D("2.5")


def test_reduce_only_trigger_may_wait_for_a_position(make_venue: Any) -> None:
    v = make_venue()
    v.sell("s1", 5, type="stop_market", trigger="95", reduce_only=True)
    v.candle(99, 99, 94, 95)
    assert v.order("s1").status is OrderStatus.CANCELED
    assert v.engine.positions() == []


def test_close_position_stop_closes_whatever_is_open(make_venue: Any) -> None:
    v = make_venue()
    _long(v, 10)
    v.sell("s1", 0, type="stop_market", trigger="95", close_position=True)
    v.buy("e2", 5, type="market")
    v.candle(100, 100, 100, 100)
    [fill] = v.fills(v.candle(99, 99, 94, 96))
    assert (fill.qty, fill.price) == (D(15), D(95))
    assert v.order("s1").status is OrderStatus.FILLED
    assert v.position() is None


def test_post_only_that_would_take_is_refused(make_venue: Any) -> None:
    v = make_venue()
    with pytest.raises(PaperInvalidOrder, match="post-only"):
        v.buy("p1", 5, price="100", post_only=True)
    v.buy("p2", 5, price="99.5", post_only=True)
    [fill] = v.fills(v.candle(100, 100, 99, 99.4))
    assert (fill.price, fill.liquidity) == (D("99.5"), Liquidity.MAKER)


def test_trigger_already_crossed_is_refused(make_venue: Any) -> None:
    v = make_venue()
    _long(v)
    with pytest.raises(PaperInvalidOrder) as info:
        v.sell("s1", 5, type="stop_market", trigger="100", reduce_only=True)
    assert info.value.reject_reason is RejectReason.WOULD_TRIGGER_IMMEDIATELY


def test_ioc_not_marketable_at_open_expires(make_venue: Any) -> None:
    v = make_venue()
    assert v.buy("i1", 5, price="99", time_in_force="ioc").status is OrderStatus.SUBMITTED
    events = v.candle(100, 100, 98, 99)  # trades through 99 later, but IOC only sees the open
    assert v.fills(events) == []
    assert v.order("i1").status is OrderStatus.EXPIRED


@pytest.mark.parametrize("tif", ["ioc", "fok"])
def test_marketable_ioc_fok_fill_at_open_capped_by_limit(make_venue: Any, tif: str) -> None:
    v = make_venue(slippage_bps=D(100))
    v.buy("i1", 5, price="101", time_in_force=tif)
    [fill] = v.fills(v.candle(100.5, 101, 100, 100.8))
    # 100.5 + 1 % = 101.505 would exceed the limit: a taker never pays beyond it.
    assert (fill.price, fill.liquidity) == (D(101), Liquidity.TAKER)


def test_marketable_gtc_limit_takes_at_open(make_venue: Any) -> None:
    v = make_venue()
    assert v.buy("g1", 5, price="101").status is OrderStatus.SUBMITTED
    [fill] = v.fills(v.candle(100.2, 101, 100, 100.8))
    assert (fill.price, fill.liquidity, fill.fee) == (D("100.2"), Liquidity.TAKER, D("0.02505"))


def test_marketable_gtc_limit_rests_when_open_moved_away(make_venue: Any) -> None:
    v = make_venue()
    v.buy("g1", 5, price="101")
    events = v.candle(101.5, 102, 100.8, 101)  # bearish: open -> high -> low 100.8
    assert [type(e).__name__ for e in events] == ["OrderUpdate", "FillEvent", "PositionChanged"]
    assert v.updates(events)[0].order.status is OrderStatus.OPEN
    [fill] = v.fills(events)
    assert (fill.price, fill.liquidity) == (D(101), Liquidity.MAKER)


def test_instrument_rules_name_the_rule(make_venue: Any, spot: Any) -> None:
    v = make_venue()
    with pytest.raises(InvalidOrder, match="lot step"):
        v.buy("x1", "1.5", price="99")
    with pytest.raises(InvalidOrder, match="tick grid"):
        v.buy("x2", 5, price="99.05")
    with pytest.raises(PaperInvalidOrder, match="minimum") as info:
        v.buy("x3", 1, price="40")  # 1 x 0.1 x 40 = 4 < 5 USDT
    assert info.value.reject_reason is RejectReason.MIN_SIZE
    s = make_venue(spot)
    with pytest.raises(PaperInvalidOrder, match="minimum") as info:
        s.buy("x4", "0.004", type="market")  # 0.004 x 2000 = 8 < 10
    assert info.value.reject_reason is RejectReason.MIN_SIZE


def test_insufficient_margin(make_venue: Any) -> None:
    v = make_venue()
    with pytest.raises(InsufficientFunds):
        v.buy("f1", 1001, type="market")  # 1001 x 0.1 x 100 = 10010 > 10000 at 1x
    v.buy("f2", 600, price="100")  # reserves 6000 + 3 fee (at the taker rate)
    assert v.engine.balances()["USDT"].used == D("6003.0000")
    with pytest.raises(PaperInsufficientFunds) as info:
        v.buy("f3", 400, price="100")
    assert info.value.reject_reason is RejectReason.INSUFFICIENT_MARGIN
    v.engine.cancel(v.symbol, "f2")
    assert v.engine.balances()["USDT"].used == D(0)
    v.buy("f3", 400, price="100")


def test_duplicate_client_id_never_creates_a_second_order(make_venue: Any) -> None:
    v = make_venue()
    v.buy("d1", 5, price="99")
    with pytest.raises(PaperInvalidOrder) as info:
        v.buy("d1", 5, price="99")
    assert info.value.reject_reason is RejectReason.DUPLICATE_CLIENT_ID
    v.engine.cancel(v.symbol, "d1")
    with pytest.raises(PaperInvalidOrder):
        v.buy("d1", 5, price="98")
    assert [o.client_order_id for o in v.engine.open_orders()] == []


def test_cancel_and_fetch(make_venue: Any) -> None:
    v = make_venue()
    v.buy("c1", 5, price="99")
    canceled = v.engine.cancel(v.symbol, "c1")
    assert canceled.status is OrderStatus.CANCELED
    assert v.engine.cancel(v.symbol, "c1") == canceled  # idempotent
    with pytest.raises(OrderNotFound):
        v.engine.cancel(v.symbol, "nope")
    with pytest.raises(OrderNotFound):
        v.engine.order(v.symbol, "nope")
    _long(v)
    with pytest.raises(OrderNotFound, match="filled"):
        v.engine.cancel(v.symbol, "e1")


def test_amend_price_trigger_and_qty(make_venue: Any) -> None:
    v = make_venue()
    v.buy("a1", 5, price="99")
    amended = v.engine.amend(v.symbol, "a1", price=D(98), qty=D(7))
    assert (amended.intent.price, amended.intent.qty) == (D(98), D(7))
    assert v.candle(100, 100, 98.5, 99) == []
    [fill] = v.fills(v.candle(99, 99, 97.9, 98))
    assert (fill.price, fill.qty) == (D(98), D(7))

    v.sell("s1", 7, type="stop_market", trigger="95", reduce_only=True)
    v.engine.amend(v.symbol, "s1", trigger_price=D(96))
    with pytest.raises(PaperInvalidOrder) as info:
        v.engine.amend(v.symbol, "s1", trigger_price=D(99))  # last price is 98
    assert info.value.reject_reason is RejectReason.WOULD_TRIGGER_IMMEDIATELY
    [fill] = v.fills(v.candle(97, 97, 95.5, 96))
    assert fill.price == D(96)


def test_amend_refuses_what_it_cannot_fund(make_venue: Any) -> None:
    v = make_venue()
    v.buy("a1", 500, price="99")
    with pytest.raises(PaperInsufficientFunds):
        v.engine.amend(v.symbol, "a1", qty=D(1100))
    assert v.order("a1").intent.qty == D(500)
    assert v.engine.balances()["USDT"].used == D("4952.475")  # 4950 + 0.05 % fee, unchanged


def test_spot_stop_beside_take_profit_still_fills(make_venue: Any, spot: Any) -> None:
    """A reduce-only take-profit reserves the base; the reduce-only stop beside it must still
    fill when triggered (a reduction is never blocked for lack of funds)."""
    s = make_venue(spot, balances={"USDT": 10_000})
    s.buy("ent", "1", type="market")
    s.candle(2000, 2001, 1999, 2000)
    s.sell("tp", "1", price="2100", reduce_only=True)
    s.sell("sl", "1", type="stop_market", trigger="1950", reduce_only=True)
    events = s.candle(2000, 2000, 1940, 1945)
    fills = s.fills(events)
    assert [(f.client_order_id, f.qty, f.price) for f in fills] == [("sl", D(1), D(1950))]
    assert s.order("sl").status.value == "filled"
    # The take-profit has nothing left to reduce: it is canceled, never a short sale.
    s.candle(1945, 2200, 1945, 2150)
    assert s.order("tp").status.value == "canceled"
    assert s.engine.balances()["ETH"].total == 0
