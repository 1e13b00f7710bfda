"""Exact fills for each fill rule on hand-made candles (swap: 0.1 BTC contracts, tick 0.1,
maker 0.02 %, taker 0.05 %)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from tbsdk.model import Liquidity, OrderSide, OrderStatus, PositionSide


def test_market_fills_at_next_open(make_venue: Any) -> None:
    v = make_venue()
    order = v.buy("m1", 10, type="market")
    assert order.status is OrderStatus.SUBMITTED
    events = v.candle(101, 102, 100.5, 101.5)
    [fill] = v.fills(events)
    assert (fill.price, fill.qty, fill.fee, fill.liquidity) == (
        D(101),
        D(10),
        D("0.0505"),
        Liquidity.TAKER,
    )
    assert v.order("m1").status is OrderStatus.FILLED
    pos = v.position()
    assert pos is not None
    assert (pos.size, pos.entry_price, pos.unrealized_pnl) == (D(10), D(101), D("0.5"))
    bal = v.engine.balances()["USDT"]
    assert (bal.total, bal.used, bal.free) == (D("10000.4495"), D(101), D("9899.4495"))


def test_market_slippage_moves_against_taker_and_rounds_to_tick(make_venue: Any) -> None:
    v = make_venue(slippage_bps=D(10))
    v.buy("m1", 10, type="market")
    [buy] = v.fills(v.candle(101, 102, 100.5, 101.5))
    # 101 * 1.001 = 101.101, rounded up to the 0.1 tick.
    assert (buy.price, buy.fee) == (D("101.2"), D("0.0506"))
    v.sell("m2", 10, type="market")
    [sell] = v.fills(v.candle(101, 102, 100.5, 101.5))
    assert sell.price == D("100.8")  # 100.899 rounded down


def test_limit_through_needs_price_beyond(make_venue: Any) -> None:
    v = make_venue()
    v.buy("l1", 10, price="99")
    assert v.candle(100, 100.5, 99, 99.5) == []  # touched, not traded through
    [fill] = v.fills(v.candle(99.5, 100, 98.9, 99))
    assert (fill.price, fill.fee, fill.liquidity) == (D(99), D("0.0198"), Liquidity.MAKER)


def test_limit_touch_setting(make_venue: Any) -> None:
    v = make_venue(limit_fill="touch")
    v.buy("l1", 10, price="99")
    [fill] = v.fills(v.candle(100, 100.5, 99, 99.5))
    assert fill.price == D(99)


def test_limit_gapped_fills_at_open(make_venue: Any) -> None:
    v = make_venue()
    v.buy("l1", 10, price="99")
    [fill] = v.fills(v.candle(98, 98.5, 97.5, 98.2))
    assert (fill.price, fill.fee, fill.liquidity) == (D(98), D("0.0196"), Liquidity.MAKER)


def test_stop_triggers_on_touch_at_trigger(make_venue: Any) -> None:
    v = make_venue()
    v.buy("e1", 10, type="market")
    v.candle(100, 100, 100, 100)
    v.sell("s1", 10, type="stop_market", trigger="95", reduce_only=True)
    [fill] = v.fills(v.candle(99, 99.5, 95, 96))
    assert (fill.price, fill.fee, fill.liquidity) == (D(95), D("0.0475"), Liquidity.TAKER)
    [trade] = v.engine.trades
    assert (trade.entry_price, trade.exit_price, trade.fees) == (D(100), D(95), D("0.0975"))
    assert trade.pnl == D("-5.0975")
    assert trade.exit_reason == "stop_market"
    assert v.position() is None


def test_stop_gapped_fills_at_open_with_slippage(make_venue: Any) -> None:
    v = make_venue(slippage_bps=D(10))
    v.buy("e1", 10, type="market")
    v.candle(100, 100, 100, 100)
    v.sell("s1", 10, type="stop_market", trigger="95", reduce_only=True, tag="stop")
    [fill] = v.fills(v.candle(94, 94.5, 93, 93.5))
    assert fill.price == D("93.9")  # the open 94 less 10 bps (93.906), rounded down
    assert v.engine.trades[0].exit_reason == "stop"


def test_take_profit_market_triggers_on_rise(make_venue: Any) -> None:
    v = make_venue()
    v.buy("e1", 10, type="market")
    v.candle(100, 100, 100, 100)
    v.sell("t1", 10, type="take_profit_market", trigger="105", reduce_only=True)
    [fill] = v.fills(v.candle(101, 105, 100, 104))
    assert fill.price == D(105)
    assert v.engine.realized_pnl("USDT") == D(5)


def _bracket(v: Any, tp_type: str) -> None:
    v.buy("e1", 10, type="market")
    v.candle(100, 100, 100, 100)
    v.sell("s1", 10, type="stop_market", trigger="95", reduce_only=True)
    if tp_type == "limit":
        v.sell("t1", 10, price="105", reduce_only=True)
    else:
        v.sell("t1", 10, type=tp_type, trigger="105", reduce_only=True)


@pytest.mark.parametrize("tp_type", ["limit", "take_profit_market"])
def test_stop_first_on_a_bearish_candle(make_venue: Any, tp_type: str) -> None:
    v = make_venue()
    _bracket(v, tp_type)
    events = v.candle(100, 106, 94, 96)  # path open-high-low-close would hit the TP first
    [fill] = v.fills(events)
    assert (fill.client_order_id, fill.price) == ("s1", D(95))
    canceled = v.order("t1")
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.reason == "reduce-only: no position to reduce"
    assert v.updates(events)[-1].order.client_order_id == "t1"


def test_path_order_when_stop_first_is_off(make_venue: Any) -> None:
    v = make_venue(stop_first=False)
    _bracket(v, "limit")
    [fill] = v.fills(v.candle(100, 106, 94, 96))  # bearish: open -> high -> low
    assert (fill.client_order_id, fill.price) == ("t1", D(105))
    assert v.order("s1").status is OrderStatus.CANCELED

    v = make_venue(stop_first=False)
    _bracket(v, "limit")
    [fill] = v.fills(v.candle(100, 106, 94, 104))  # bullish: open -> low -> high
    assert (fill.client_order_id, fill.price) == ("s1", D(95))


@pytest.mark.parametrize(
    ("candle", "first", "direction"),
    [((100, 106, 94, 104), "b1", "long"), ((100, 106, 94, 96), "s1", "short")],
)
def test_intra_candle_path(
    make_venue: Any, candle: tuple[float, ...], first: str, direction: str
) -> None:
    v = make_venue()
    v.buy("b1", 10, price="95")
    v.sell("s1", 10, price="105")
    got = v.fills(v.candle(*candle))
    assert [f.client_order_id for f in got] == [first, "s1" if first == "b1" else "b1"]
    [trade] = v.engine.trades
    assert trade.direction == direction
    # 10 contracts x 0.1 x (105 - 95) = 10; maker fees 0.019 + 0.021.
    assert (trade.pnl, trade.fees) == (D("9.960"), D("0.040"))
    assert v.position() is None


def test_flip_splits_fee_and_reports_round_trip(make_venue: Any) -> None:
    v = make_venue()
    v.buy("b1", 10, type="market")
    v.candle(100, 100, 100, 100)
    v.buy("b2", 10, type="market")
    v.candle(110, 110, 110, 110)
    pos = v.position()
    assert pos is not None
    assert pos.entry_price == D(105)
    assert pos.size == D(20)
    v.sell("s1", 25, type="market")
    events = v.candle(120, 120, 120, 120)
    [fill] = v.fills(events)
    assert fill.fee == D("0.1500")  # 25 x 0.1 x 120 x 0.0005
    [trade] = v.engine.trades
    # (120 - 105) x 20 x 0.1 = 30; fees 0.05 + 0.055 + 20/25 of 0.15.
    assert (trade.qty, trade.entry_price, trade.exit_price) == (D(20), D(105), D(120))
    assert trade.fees == D("0.225")
    assert trade.pnl == D("29.775")
    pos = v.position()
    assert pos is not None
    assert (pos.direction, pos.size, pos.entry_price) == ("short", D(5), D(120))


def test_hot_path_creates_nothing(make_venue: Any) -> None:
    v = make_venue()
    first = v.engine.process_candle(v.symbol, 1, 100.0, 101.0, 99.0, 100.5)
    second = v.engine.process_candle(v.symbol, 2, 100.5, 101.0, 99.0, 100.0)
    assert first == ()
    assert first is second
    assert v.engine.mark(v.symbol) == D(100)
    v.buy("far", 10, price="50")  # rests, but no candle below reaches it
    third = v.engine.process_candle(v.symbol, 3, 100.0, 101.0, 99.0, 100.5)
    assert third is first


def test_decimal_candles_are_accepted(make_venue: Any) -> None:
    v = make_venue()
    v.buy("l1", 10, price="99.9")
    events = v.engine.process_candle(v.symbol, 5, D("100.1"), D("100.2"), D("99.8"), D("100"))
    [fill] = v.fills(events)
    assert fill.price == D("99.9")


def test_fill_events_come_with_positions_in_order(make_venue: Any) -> None:
    v = make_venue()
    v.buy("b1", 10, price="95")
    events = v.candle(100, 101, 94, 96)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["FillEvent", "PositionChanged"]
    assert events[0].order.status is OrderStatus.FILLED
    pos = events[1].position
    assert (pos.size, pos.entry_price, pos.unrealized_pnl) == (D(10), D(95), D(0))
    assert v.engine.drain()[0].order.client_order_id == "b1"
    assert v.engine.drain() == []
    assert v.fills(events)[0].side == OrderSide.BUY
    assert events[1].position.position_side is PositionSide.NET


def test_short_stop_triggers_on_rise_and_tp_on_fall(make_venue: Any) -> None:
    v = make_venue()
    v.sell("e1", 10, type="market")
    v.candle(100, 100, 100, 100)
    v.buy("s1", 10, type="stop_market", trigger="105", reduce_only=True)
    v.buy("t1", 10, type="take_profit_market", trigger="90", reduce_only=True)
    [fill] = v.fills(v.candle(101, 106, 100, 104))
    assert (fill.client_order_id, fill.price) == ("s1", D(105))
    assert v.engine.realized_pnl("USDT") == D(-5)
    # A reduce-only trigger outlives the position it protected (venues do not cancel it).
    assert v.order("t1").status is OrderStatus.OPEN
    v.engine.cancel(v.symbol, "t1")

    v.sell("e2", 10, type="market")
    v.candle(100, 100, 100, 100)
    v.buy("t2", 10, type="take_profit_market", trigger="90", reduce_only=True)
    [fill] = v.fills(v.candle(95, 96, 89, 92))
    assert (fill.client_order_id, fill.price) == ("t2", D(90))


def test_process_tick_matches_a_single_price(make_venue: Any) -> None:
    v = make_venue()
    v.buy("l1", 10, price="99")
    assert v.engine.process_tick(v.symbol, 7, 99.0) == ()  # touch is not through
    # From 99 to 98.95 the price crosses the limit: it fills at the limit, not at the tick.
    [fill] = v.fills(v.engine.process_tick(v.symbol, 8, 98.95))
    assert (fill.price, fill.ts) == (D(99), 8)


def test_numpy_scalars_convert_by_shortest_repr(make_venue: Any) -> None:
    import numpy as np

    v = make_venue()
    v.buy("l1", 10, type="market")
    arr = np.array([100.1, 100.3, 99.9, 100.2])
    [fill] = v.fills(v.engine.process_candle(v.symbol, 9, arr[0], arr[1], arr[2], arr[3]))
    assert fill.price == D("100.1")
    assert v.engine.mark(v.symbol) == D("100.2")
