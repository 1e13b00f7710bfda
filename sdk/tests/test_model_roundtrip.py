"""Every domain value survives JSON exactly, and the models refuse what they must refuse."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from tbsdk.errors import InvalidOrder
from tbsdk.model import (
    Balance,
    Candle,
    CandleClosed,
    Direction,
    Event,
    Fill,
    FillEvent,
    Instrument,
    Liquidity,
    MarginMode,
    MarketType,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    PositionChanged,
    PositionSide,
    PriceBand,
    RejectReason,
    Tick,
    Ticker,
    TimeInForce,
    TimerFired,
    Trade,
)

# -- building blocks -------------------------------------------------------------------------
# Decimals of many shapes: integers, fixed places, and free exponents (1E+3, 0.000010, ...).
_finite: dict[str, Any] = {"allow_nan": False, "allow_infinity": False}
positive = st.one_of(
    st.decimals(min_value=Decimal("1e-12"), max_value=Decimal("1e15"), **_finite),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2),
    st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(1000), places=8),
    st.integers(1, 10**12).map(Decimal),
    st.builds(Decimal, st.sampled_from(["1E+3", "1.0E-8", "0.10", "5E-324", "100.000"])),
)
non_negative = st.one_of(st.just(Decimal(0)), st.just(Decimal("0.000")), positive)
signed = st.one_of(non_negative, positive.map(lambda d: -d))
ts = st.integers(min_value=-(2**62), max_value=2**62)
text = st.text(max_size=20)
cid = st.from_regex(r"[a-z0-9]{1,32}", fullmatch=True)
optional = st.none


@st.composite
def candles(draw: st.DrawFn) -> Candle:
    o, c = draw(positive), draw(positive)
    with localcontext(prec=200):  # exact sums: the default 28 digits would round the bounds
        high = max(o, c) + draw(non_negative)
        low = min(o, c) - draw(non_negative)
    if low <= 0:
        low = min(o, c)
    return Candle(ts=draw(ts), open=o, high=high, low=low, close=c, volume=draw(non_negative))


@st.composite
def instruments(draw: st.DrawFn) -> Instrument:
    kind = draw(st.sampled_from(MarketType))
    bands = sorted(draw(st.lists(non_negative, max_size=3)))
    return Instrument(
        exchange=draw(text),
        symbol=draw(text),
        base=draw(text),
        quote=draw(text),
        settle=draw(text) if kind is not MarketType.SPOT else draw(st.none() | text),
        type=kind,
        contract_size=draw(positive),
        tick_size=draw(positive),
        price_bands=tuple(PriceBand(min_price=b, tick_size=draw(positive)) for b in bands),
        lot_step=draw(positive),
        min_size=draw(non_negative),
        max_size=draw(st.none() | positive),
        min_notional=draw(non_negative),
        max_leverage=draw(st.none() | positive),
        maker_fee=draw(signed),
        taker_fee=draw(signed),
    )


@st.composite
def intents(draw: st.DrawFn) -> OrderIntent:
    kind = draw(st.sampled_from(OrderType))
    close_position = kind.is_trigger and draw(st.booleans())
    return OrderIntent(
        client_order_id=draw(cid),
        symbol=draw(text),
        side=draw(st.sampled_from(OrderSide)),
        type=kind,
        qty=draw(non_negative if close_position else positive),
        price=draw(positive) if kind is OrderType.LIMIT else None,
        trigger_price=draw(positive) if kind.is_trigger else None,
        position_side=draw(st.sampled_from(PositionSide)),
        reduce_only=draw(st.booleans()),
        close_position=close_position,
        post_only=kind is OrderType.LIMIT and draw(st.booleans()),
        time_in_force=draw(st.sampled_from(TimeInForce)),
        tag=draw(text),
    )


orders = st.builds(
    Order,
    intent=intents(),
    status=st.sampled_from(OrderStatus),
    exchange_order_id=st.none() | text,
    filled_qty=non_negative,
    avg_fill_price=st.none() | positive,
    fee=signed,
    created_at=ts,
    updated_at=ts,
    reason=st.none() | text,
)
fills = st.builds(
    Fill,
    client_order_id=cid,
    exchange_order_id=st.none() | text,
    trade_id=text,
    symbol=text,
    side=st.sampled_from(OrderSide),
    position_side=st.sampled_from(PositionSide),
    qty=positive,
    price=positive,
    fee=signed,
    fee_currency=text,
    liquidity=st.sampled_from(Liquidity),
    ts=ts,
)
positions = st.builds(
    Position,
    symbol=text,
    position_side=st.sampled_from(PositionSide),
    direction=st.sampled_from(Direction),
    size=non_negative,
    entry_price=st.none() | positive,
    contract_size=positive,
    realized_pnl=signed,
    unrealized_pnl=signed,
    leverage=positive,
    margin_mode=st.sampled_from(MarginMode),
    liquidation_price=st.none() | positive,
    updated_at=ts,
)
balances = st.builds(Balance, currency=text, total=signed, free=signed, used=signed)
trades = st.builds(
    Trade,
    symbol=text,
    direction=st.sampled_from(Direction),
    qty=positive,
    entry_price=positive,
    exit_price=positive,
    opened_at=ts,
    closed_at=ts,
    pnl=signed,
    fees=signed,
    exit_reason=text,
)
tickers = st.builds(
    Ticker, symbol=text, ts=ts, last=positive, bid=st.none() | positive, ask=st.none() | positive
)
events = st.one_of(
    st.builds(CandleClosed, symbol=text, timeframe=text, candle=candles(), replay=st.booleans()),
    st.builds(Tick, symbol=text, price=signed, ts=ts),
    st.builds(
        OrderUpdate,
        order=orders,
        by_strategy=st.booleans(),
        reject_reason=st.none() | st.sampled_from(RejectReason),
    ),
    st.builds(FillEvent, fill=fills, order=orders),
    st.builds(PositionChanged, position=positions),
    st.builds(TimerFired, name=text, ts=ts),
)


def _assert_roundtrip(value: BaseModel) -> None:
    text_form = value.model_dump_json()
    again = type(value).model_validate_json(text_form)
    assert again == value
    # Equal is not enough for Decimals (1.10 == 1.1): the text must come back identical too.
    assert again.model_dump_json() == text_form
    assert again.model_dump() == value.model_dump()


@settings(max_examples=150)
@given(
    st.one_of(
        instruments(), candles(), intents(), orders, fills, positions, balances, trades, tickers
    )
)
def test_domain_values_roundtrip_through_json(value: BaseModel) -> None:
    _assert_roundtrip(value)


@settings(max_examples=150)
@given(events)
def test_events_roundtrip_through_json_alone_and_as_the_event_union(event: BaseModel) -> None:
    _assert_roundtrip(event)
    adapter: TypeAdapter[Event] = TypeAdapter(Event)
    back = adapter.validate_json(adapter.dump_json(event))  # type: ignore[arg-type]
    assert type(back) is type(event)
    assert back == event


@given(positive)
def test_decimal_digits_are_kept_exactly(price: Decimal) -> None:
    tick = Ticker(symbol="X", ts=0, last=price)
    back = Ticker.model_validate_json(tick.model_dump_json())
    assert back.last.as_tuple() == price.as_tuple()


# -- validation errors -----------------------------------------------------------------------
def _intent(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "client_order_id": "abc123",
        "symbol": "BTC/USDT",
        "side": "buy",
        "type": "limit",
        "qty": "1",
        "price": "100",
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price": None}, "a limit order needs a price"),
        ({"type": "market"}, "only limit orders take a price"),
        ({"type": "market", "price": None, "post_only": True}, "post_only applies to limit"),
        ({"type": "stop_market", "price": None}, "needs a trigger_price"),
        ({"trigger_price": "90"}, "trigger_price is only for stop"),
        ({"close_position": True}, "close_position applies to trigger orders only"),
        ({"qty": "0"}, "qty must be positive"),
        ({"qty": "-1"}, "greater than or equal to 0"),
        ({"price": "0"}, "greater than 0"),
        ({"client_order_id": "ABC123"}, "lowercase letters or digits"),
        ({"client_order_id": "a" * 33}, "lowercase letters or digits"),
        ({"client_order_id": ""}, "lowercase letters or digits"),
        ({"client_order_id": "abc-123"}, "lowercase letters or digits"),
        ({"side": "long"}, "Input should be 'buy' or 'sell'"),
        ({"leverage": "5"}, "Extra inputs are not permitted"),
    ],
)
def test_order_intent_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        OrderIntent.model_validate(_intent(**changes))


def test_valid_trigger_and_close_position_intents() -> None:
    stop = OrderIntent.model_validate(
        _intent(type="stop_market", price=None, trigger_price="90", qty="0", close_position=True)
    )
    assert stop.close_position
    assert stop.qty == 0


def _candle(**changes: Any) -> dict[str, Any]:
    return {
        "ts": 0,
        "open": "10",
        "high": "12",
        "low": "9",
        "close": "11",
        "volume": "1",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"high": "8", "low": "9"}, "do not contain"),  # high < low
        ({"high": "10.5"}, "do not contain"),  # high below close
        ({"low": "10.5"}, "do not contain"),  # low above open
        ({"open": "0"}, "greater than 0"),
        ({"volume": "-1"}, "greater than or equal to 0"),
        ({"close": "nan"}, "finite number|greater than 0"),
    ],
)
def test_candle_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Candle.model_validate(_candle(**changes))


def _instrument(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "exchange": "x",
        "symbol": "BTC/USDT",
        "base": "BTC",
        "quote": "USDT",
        "tick_size": "0.1",
        "lot_step": "0.001",
        "min_size": "0.002",
        "min_notional": "5",
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tick_size": "0"}, "greater than 0"),
        ({"type": "swap"}, "needs a settle currency"),
        (
            {
                "price_bands": [
                    {"min_price": "100", "tick_size": "1"},
                    {"min_price": "10", "tick_size": "0.1"},
                ]
            },
            "price_bands must be sorted",
        ),
    ],
)
def test_instrument_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Instrument.model_validate(_instrument(**changes))


@pytest.mark.parametrize(
    ("qty", "price", "message"),
    [
        ("0.0015", "100", "not a multiple of the lot step"),
        ("0.001", "100", "below the minimum size"),
        ("0.01", "100.05", "not on the tick grid"),
        ("0.01", "100", "below the minimum 5"),
    ],
)
def test_instrument_check_order_names_the_rule(qty: str, price: str, message: str) -> None:
    inst = Instrument.model_validate(_instrument())
    with pytest.raises(InvalidOrder, match=message) as info:
        inst.check_order(Decimal(qty), Decimal(price))
    assert info.value.retryable is False
    inst.check_order(Decimal("0.05"), Decimal("100.1"))  # 5.005 USDT: allowed


def test_market_orders_reference_price_need_not_sit_on_the_tick() -> None:
    inst = Instrument.model_validate(_instrument())
    inst.check_order(Decimal("0.05"), Decimal("100.05"), priced=False)
    with pytest.raises(InvalidOrder, match="below the minimum 5"):
        inst.check_order(Decimal("0.01"), Decimal("100.05"), priced=False)


@pytest.mark.parametrize("qty", ["1E+40", "1E+400"])
def test_absurd_sizes_are_refused_not_crashed_on(qty: str) -> None:
    inst = Instrument.model_validate(_instrument())
    with pytest.raises(InvalidOrder, match="not a multiple of the lot step"):
        inst.check_order(Decimal(qty), Decimal(100))


def test_models_are_frozen() -> None:
    candle = Candle.model_validate(_candle())
    with pytest.raises(ValidationError, match="frozen"):
        candle.close = Decimal(1)  # type: ignore[misc]


def test_fill_refuses_zero_qty() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        Fill(
            client_order_id="a1",
            trade_id="t",
            symbol="X",
            side=OrderSide.BUY,
            qty=Decimal(0),
            price=Decimal(1),
            ts=0,
        )
