from __future__ import annotations

from decimal import Decimal

import pytest

from tbsdk.errors import IllegalTransition
from tbsdk.model import Fill, Order, OrderIntent, OrderSide, OrderStatus, OrderType

S = OrderStatus


def _order(qty: str = "2") -> Order:
    intent = OrderIntent(
        client_order_id="habc123",
        symbol="BTC/USDT:USDT",
        side=OrderSide.BUY,
        type=OrderType.LIMIT,
        qty=Decimal(qty),
        price=Decimal("100.5"),
    )
    return Order(intent=intent)


def _fill(qty: str, price: str, trade_id: str) -> Fill:
    return Fill(
        client_order_id="habc123",
        trade_id=trade_id,
        symbol="BTC/USDT:USDT",
        side=OrderSide.BUY,
        qty=Decimal(qty),
        price=Decimal(price),
        fee=Decimal("0.01"),
        ts=2,
    )


def test_happy_path_through_partial_fill() -> None:
    order = _order().transition(S.SUBMITTED, at=1).transition(S.OPEN, at=1)
    order = order.apply_fill(_fill("0.5", "100", "t1"))
    assert order.status is S.PARTIALLY_FILLED
    order = order.apply_fill(_fill("1.5", "101", "t2"))
    assert order.status is S.FILLED
    assert order.filled_qty == Decimal(2)
    assert order.avg_fill_price == Decimal("100.75")
    assert order.fee == Decimal("0.02")


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], S.OPEN),
        ([], S.FILLED),
        ([S.SUBMITTED, S.OPEN], S.SUBMITTED),
        ([S.SUBMITTED, S.FILLED], S.CANCELED),
        ([S.SUBMITTED, S.CANCELED], S.OPEN),
        ([S.SUBMITTED, S.REJECTED], S.SUBMITTED),
        ([S.SUBMITTED, S.OPEN, S.PARTIALLY_FILLED], S.OPEN),
        ([S.SUBMITTED, S.EXPIRED], S.FILLED),
    ],
)
def test_illegal_transitions_raise(path: list[OrderStatus], illegal: OrderStatus) -> None:
    order = _order()
    for status in path:
        order = order.transition(status, at=1)
    with pytest.raises(IllegalTransition, match=f"cannot go from {order.status} to {illegal}"):
        order.transition(illegal, at=2)


def test_overfill_is_refused() -> None:
    order = _order("1").transition(S.SUBMITTED, at=1)
    with pytest.raises(IllegalTransition, match="exceeds the remaining"):
        order.apply_fill(_fill("1.5", "100", "t1"))


def test_every_terminal_status_has_no_exit() -> None:
    for status in S:
        if status.is_terminal:
            order = Order(intent=_order().intent, status=status)
            for target in S:
                with pytest.raises(IllegalTransition):
                    order.transition(target, at=1)
