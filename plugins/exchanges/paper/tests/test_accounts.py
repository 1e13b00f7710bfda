"""Positions, margin modes, liquidation, hedge books, spot and PnL bookkeeping."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from tb_exchange_paper import PaperInvalidOrder
from tbsdk.errors import InsufficientFunds, InvalidOrder
from tbsdk.model import MarginMode, OrderStatus, PositionMode, PositionSide, RejectReason

LONG, SHORT = PositionSide.LONG, PositionSide.SHORT


def test_hedge_mode_keeps_separate_books(make_venue: Any) -> None:
    v = make_venue()
    v.engine.set_position_mode(PositionMode.HEDGE)
    with pytest.raises(PaperInvalidOrder, match="hedge mode"):
        v.buy("n1", 5, type="market")
    v.buy("l1", 10, type="market", position_side="long")
    v.sell("s1", 5, type="market", position_side="short")
    v.candle(100, 100, 100, 100)
    long_, short = v.position(LONG), v.position(SHORT)
    assert long_ is not None
    assert short is not None
    assert (long_.direction, long_.size, short.direction, short.size) == ("long", 10, "short", 5)

    with pytest.raises(InvalidOrder, match="close all derivatives positions"):
        v.engine.set_position_mode(PositionMode.ONE_WAY)

    # Selling the long book is a reduction even without reduce_only; it never opens a short.
    v.sell("l2", 20, type="market", position_side="long")
    v.buy("s2", 5, type="market", position_side="short")
    v.candle(110, 110, 110, 110)
    assert v.position(LONG) is None
    assert v.position(SHORT) is None
    assert v.order("l2").status is OrderStatus.CANCELED
    assert v.order("l2").filled_qty == 10
    pnls = sorted(t.pnl + t.fees for t in v.engine.trades)
    assert pnls == [D(-5), D(10)]  # short 5 x 0.1 x -10; long 10 x 0.1 x +10
    with pytest.raises(PaperInvalidOrder) as info:
        v.sell("l3", 5, type="market", position_side="long")
    assert info.value.reject_reason is RejectReason.REDUCE_ONLY_CONFLICT


def test_one_way_refuses_hedge_sides_and_spot_refuses_hedge(make_venue: Any, spot: Any) -> None:
    v = make_venue()
    with pytest.raises(PaperInvalidOrder, match="hedge"):
        v.buy("x1", 5, type="market", position_side="long")
    s = make_venue(spot)
    s.engine.set_position_mode(PositionMode.HEDGE)
    with pytest.raises(PaperInvalidOrder):
        s.buy("x2", "0.01", type="market", position_side="long")
    s.buy("x3", "0.01", type="market")  # spot stays one-way


def test_isolated_liquidation_loses_exactly_the_margin(make_venue: Any) -> None:
    v = make_venue()
    v.engine.set_leverage(v.symbol, D(10), MarginMode.ISOLATED)
    v.buy("e1", 10, type="market")
    v.candle(100, 100, 100, 100)
    pos = v.position()
    assert pos is not None
    liq = (D(100) - D(10)) / D("0.995")  # (E*q*ct - M) / (q*ct*(1 - mmr)), q*ct = 1
    assert pos.liquidation_price == liq
    assert v.engine.balances()["USDT"].used == D(10)

    events = v.candle(95, 96, 90, 91)
    [fill] = v.fills(events)
    assert (fill.client_order_id, fill.price, fill.qty) == ("liq1", liq, D(10))
    assert events[0].order.intent.tag == "liquidation"
    assert events[0].order.status is OrderStatus.FILLED
    [trade] = v.engine.trades
    assert (trade.exit_reason, trade.pnl, trade.fees) == ("liquidation", D("-10.05"), D("0.05"))
    assert v.engine.balances()["USDT"].total == D("9989.95")
    assert v.position() is None


def test_isolated_liquidation_gap_fills_at_open_loss_capped(make_venue: Any) -> None:
    v = make_venue()
    v.engine.set_leverage(v.symbol, D(10), MarginMode.ISOLATED)
    v.sell("e1", 10, type="market")
    v.candle(100, 100, 100, 100)
    pos = v.position()
    assert pos is not None
    assert pos.liquidation_price == D(110) / D("1.005")
    [fill] = v.fills(v.candle(120, 121, 119, 120))
    assert fill.price == D(120)
    assert v.engine.realized_pnl("USDT") == D(-10)


def test_cross_lends_unrealised_to_free_isolated_does_not(make_venue: Any) -> None:
    for mode, free in ((MarginMode.CROSS, D("9999.95")), (MarginMode.ISOLATED, D("9989.95"))):
        v = make_venue()
        v.engine.set_leverage(v.symbol, D(10), mode)
        v.buy("e1", 10, type="market")
        v.candle(100, 110, 100, 110)
        bal = v.engine.balances()["USDT"]
        assert (bal.total, bal.free, bal.total - bal.free) == (D("10009.95"), free, bal.used)
        assert v.engine.equity("USDT") == D("10009.95")
        pos = v.position()
        assert pos is not None
        assert (pos.unrealized_pnl, pos.leverage) == (D(10), D(10))


def test_set_leverage_rules(make_venue: Any, spot: Any) -> None:
    v = make_venue()
    with pytest.raises(InvalidOrder, match="<= 100"):
        v.engine.set_leverage(v.symbol, D(101), MarginMode.CROSS)
    v.buy("e1", 5, type="market")
    v.candle(100, 100, 100, 100)
    with pytest.raises(InvalidOrder, match="close the position"):
        v.engine.set_leverage(v.symbol, D(5), MarginMode.CROSS)
    with pytest.raises(InvalidOrder, match="derivatives"):
        make_venue(spot).engine.set_leverage(spot.symbol, D(2), MarginMode.CROSS)


def test_leverage_lowers_margin(make_venue: Any) -> None:
    v = make_venue()
    v.engine.set_leverage(v.symbol, D(5), MarginMode.CROSS)
    v.buy("e1", 4000, type="market")  # notional 40000 at 5x: margin 8000 + fee 20
    v.candle(100, 100, 100, 100)
    assert v.engine.balances()["USDT"].used == D(8000)


def test_spot_buy_sell_without_shorting(make_venue: Any, spot: Any) -> None:
    v = make_venue(spot, balances={"USDT": D(1000)})
    v.buy("b1", "0.1", type="market")
    v.candle(2000, 2000, 2000, 2000)
    bal = v.engine.balances()
    assert (bal["USDT"].total, bal["ETH"].total) == (D("799.8"), D("0.1"))
    with pytest.raises(InsufficientFunds):
        v.sell("s0", "0.2", type="market")  # no shorting beyond holdings
    v.sell("s1", "0.1", price="2100")
    assert v.engine.balances()["ETH"].free == D(0)  # the sell holds the base it sells
    [fill] = v.fills(v.candle(2050, 2110, 2040, 2100))
    assert (fill.price, fill.fee) == (D(2100), D("0.21"))
    bal = v.engine.balances()
    assert (bal["USDT"].total, bal["ETH"].total) == (D("1009.59"), D(0))
    [trade] = v.engine.trades
    assert (trade.pnl, trade.fees) == (D("9.59"), D("0.41"))


def test_spot_initial_holdings_can_be_sold(make_venue: Any, spot: Any) -> None:
    v = make_venue(spot, balances={"USDT": D(0), "ETH": D(1)})
    v.sell("s1", "0.5", type="market")
    v.candle(2000, 2000, 2000, 2000)
    bal = v.engine.balances()
    assert (bal["USDT"].total, bal["ETH"].total) == (D("999.0"), D("0.5"))
    assert v.engine.trades == []
    assert v.position() is None


def test_average_entry_and_realised_on_partial_close(make_venue: Any) -> None:
    v = make_venue()
    v.buy("b1", 10, type="market")
    v.candle(100, 100, 100, 100)
    v.buy("b2", 30, type="market")
    v.candle(104, 104, 104, 104)
    v.sell("s1", 20, type="market")
    v.candle(110, 110, 110, 110)
    pos = v.position()
    assert pos is not None
    # entry (10*100 + 30*104)/40 = 103; realised (110-103) x 20 x 0.1 = 14.
    assert (pos.size, pos.entry_price, pos.realized_pnl) == (D(20), D(103), D(14))
    fees = D("0.05") + D("0.156") + D("0.11")
    assert v.engine.fees_paid("USDT") == fees
    assert v.engine.equity("USDT") == D(10_000) + D(14) - fees + pos.unrealized_pnl
