"""``FrozenModel.model_construct`` and ``model_copy`` take a shorter path than pydantic's for
plain models; the result must be the same object state pydantic's own methods give."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from tbsdk.model import (
    Balance,
    Candle,
    CandleClosed,
    Fill,
    FillEvent,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    PositionChanged,
    Trade,
)
from tbsdk.model._base import FrozenModel

INTENT = OrderIntent(
    client_order_id="a1",
    symbol="BTC/USDT",
    side=OrderSide.BUY,
    type=OrderType.LIMIT,
    qty=Decimal("0.5"),
    price=Decimal(100),
    tag="entry",
)
FILL = Fill(
    client_order_id="a1",
    trade_id="t1",
    symbol="BTC/USDT",
    side=OrderSide.BUY,
    qty=Decimal("0.2"),
    price=Decimal(99),
    fee=Decimal("0.01"),
    ts=5,
)
ORDER = Order(intent=INTENT, created_at=1, updated_at=1)
CANDLE = Candle(
    ts=0,
    open=Decimal(1),
    high=Decimal(2),
    low=Decimal("0.5"),
    close=Decimal(1),
    volume=Decimal(3),
)
POSITION = Position(symbol="BTC/USDT", size=Decimal(1), entry_price=Decimal(100))

VALUES: list[tuple[type[FrozenModel], dict[str, Any]]] = [
    (OrderIntent, dict(INTENT)),
    (Fill, dict(FILL)),
    (
        Fill,
        {
            "client_order_id": "a1",
            "trade_id": "t1",
            "symbol": "X",
            "side": OrderSide.SELL,
            "qty": Decimal(1),
            "price": Decimal(2),
            "ts": 3,
        },
    ),
    (Order, {"intent": INTENT}),
    (Order, {"intent": INTENT, "status": OrderStatus.OPEN, "created_at": 4}),
    (Candle, dict(CANDLE)),
    (CandleClosed, {"symbol": "BTC/USDT", "timeframe": "1m", "candle": CANDLE}),
    (FillEvent, {"fill": FILL, "order": ORDER}),
    (OrderUpdate, {"order": ORDER}),
    (OrderUpdate, {"order": ORDER, "by_strategy": True}),
    (PositionChanged, {"position": POSITION}),
    (Position, {"symbol": "BTC/USDT"}),
    (Balance, {"currency": "USDT", "total": Decimal(1), "free": Decimal(1)}),
    (
        Trade,
        {
            "symbol": "X",
            "direction": "long",
            "qty": Decimal(1),
            "entry_price": Decimal(1),
            "exit_price": Decimal(2),
            "opened_at": 0,
            "closed_at": 1,
            "pnl": Decimal(1),
        },
    ),
    (Position, {"symbol": "BTC/USDT", "unknown_name": 1}),  # ignored, as pydantic does
    (Fill, {"client_order_id": "a1"}),  # required fields left missing, as pydantic does
]


def state(m: BaseModel) -> tuple[Any, ...]:
    return (
        type(m),
        list(m.__dict__.items()),
        m.__pydantic_fields_set__,
        m.__pydantic_extra__,
        m.__pydantic_private__,
    )


@pytest.mark.parametrize(("cls", "values"), VALUES)
def test_model_construct_equals_pydantic(cls: type[FrozenModel], values: dict[str, Any]) -> None:
    fast = cls.model_construct(**values)
    general = BaseModel.model_construct.__func__(cls, **values)  # type: ignore[attr-defined]
    assert state(fast) == state(general)
    assert fast == general
    explicit = cls.model_construct({"symbol"}, **values)
    assert explicit.__pydantic_fields_set__ == {"symbol"}


@pytest.mark.parametrize(
    ("model", "update"),
    [
        (ORDER, None),
        (ORDER, {"status": OrderStatus.OPEN, "updated_at": 9}),
        (FILL, {"qty": Decimal(3)}),
        (POSITION, {}),
        (INTENT, {"tag": "x"}),
    ],
)
def test_model_copy_equals_pydantic(model: FrozenModel, update: dict[str, Any] | None) -> None:
    fast = model.model_copy(update=update)
    general = BaseModel.model_copy(model, update=update)
    assert state(fast) == state(general)
    assert fast.__dict__ is not model.__dict__
    assert fast.__pydantic_fields_set__ is not model.__pydantic_fields_set__
    deep = model.model_copy(update=update, deep=True)
    assert state(deep) == state(BaseModel.model_copy(model, update=update, deep=True))


def test_transitions_and_fills_equal_the_step_by_step_copies() -> None:
    sent = ORDER.transition(OrderStatus.SUBMITTED, at=2, exchange_order_id="p1")
    filled = sent.apply_fill(FILL)
    expected = BaseModel.model_copy(
        BaseModel.model_copy(
            sent,
            update={
                "status": OrderStatus.PARTIALLY_FILLED,
                "updated_at": 5,
                "reason": None,
                "exchange_order_id": "p1",
            },
        ),
        update={
            "filled_qty": Decimal("0.2"),
            "avg_fill_price": Decimal(99),
            "fee": Decimal("0.01"),
        },
    )
    assert state(filled) == state(expected)
    assert filled.model_dump_json() == expected.model_dump_json()
