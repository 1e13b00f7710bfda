"""Orders, transitions, fills, positions and trades on SQLite and PostgreSQL: decimals exact,
one client order id per account, every transition recorded in order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from tbhost.storage import Database, DuplicateClientOrderId, NotFound
from tbhost.storage.models import OrderRow
from tbhost.storage.repos import accounts, bots, orders, portfolio
from tbsdk.errors import IllegalTransition
from tbsdk.model import (
    Direction,
    Fill,
    Liquidity,
    MarginMode,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    TimeInForce,
    Trade,
)

# Amounts a float would mangle, 18+ decimal places, 28 significant digits (a Decimal
# average), huge and tiny magnitudes, trailing zeros whose scale must survive.
EXACT = [
    Decimal("0.1"),
    Decimal("0.10"),
    Decimal("123456789012345678.123456789012345678"),
    Decimal(1) / Decimal(3),
    Decimal("0.000000000000000000000000001"),
    Decimal("98765432109876543210987654321"),
    Decimal("-42.000000000000000001"),
    Decimal("1000"),
]


async def _bot(session: AsyncSession, name: str = "bot") -> tuple[str, str]:
    account = await accounts.create_account(session, exchange="paper", label=f"acct-{name}")
    bot = await bots.create_bot(
        session,
        name=name,
        strategy="hyperrsi",
        account_id=account.id,
        symbols=["BTC/USDT:USDT"],
        timeframe="1h",
        config={},
    )
    return account.id, bot.id


def _limit(cid: str, qty: str = "0.003", price: str = "64250.5") -> OrderIntent:
    return OrderIntent(
        client_order_id=cid,
        symbol="BTC/USDT:USDT",
        side=OrderSide.BUY,
        type=OrderType.LIMIT,
        qty=Decimal(qty),
        price=Decimal(price),
        position_side=PositionSide.LONG,
        post_only=True,
        time_in_force=TimeInForce.GTC,
        tag="entry",
    )


async def test_decimals_round_trip_exactly(db: Database) -> None:
    async with db.transaction() as s:
        account_id, bot_id = await _bot(s)
        for i, value in enumerate(EXACT):
            intent = _limit(f"exact{i}", qty=str(abs(value)), price=str(abs(value)))
            await orders.add_order(s, account_id=account_id, intent=intent, bot_id=bot_id)
            row = await orders.require_order(s, account_id, f"exact{i}")
            row.fee = value  # signed, any scale
    async with db.session() as s:
        rows = (await s.scalars(select(OrderRow).order_by(OrderRow.id))).all()
        for value, row in zip(EXACT, rows, strict=True):
            assert (row.qty, row.price, row.fee) == (abs(value), abs(value), value)
            # Same digits and scale, not merely an equal value.
            assert str(row.fee) == str(value)
            assert orders.to_intent(row).qty == abs(value)


async def test_a_float_is_refused_not_rounded(db: Database) -> None:
    async with db.transaction() as s:
        account_id, _ = await _bot(s)
        row = await orders.add_order(s, account_id=account_id, intent=_limit("f1"))
        row.fee = 0.1  # type: ignore[assignment]
        with pytest.raises(StatementError, match="a float is never exact"):
            await s.flush()


async def test_order_round_trips_to_the_sdk_value(db: Database) -> None:
    intent = OrderIntent(
        client_order_id="stop1",
        symbol="ETH/USDT:USDT",
        side=OrderSide.SELL,
        type=OrderType.STOP_MARKET,
        qty=Decimal(0),
        trigger_price=Decimal("2999.99"),
        position_side=PositionSide.LONG,
        reduce_only=True,
        close_position=True,
        tag="stop",
    )
    async with db.transaction() as s:
        account_id, bot_id = await _bot(s)
        await orders.add_order(s, account_id=account_id, intent=intent, bot_id=bot_id, at=7)
    async with db.transaction() as s:
        row = await orders.require_order(s, account_id, "stop1")
        assert orders.to_order(row) == Order(intent=intent, created_at=7, updated_at=7)
        assert (row.bot_id, row.tag, row.status) == (bot_id, "stop", OrderStatus.NEW)


async def test_client_order_id_is_unique_per_account(db: Database) -> None:
    async with db.transaction() as s:
        account_a, bot_id = await _bot(s, "a")
        account_b, _ = await _bot(s, "b")
        await orders.add_order(s, account_id=account_a, intent=_limit("x1"), bot_id=bot_id)
        # The same id on another account is another order.
        await orders.add_order(s, account_id=account_b, intent=_limit("x1"))
    async with db.transaction() as s:
        with pytest.raises(DuplicateClientOrderId) as info:
            await orders.add_order(s, account_id=account_a, intent=_limit("x1", qty="9"))
        assert info.value.message == (
            f"order x1 is already stored for account {account_a} (status new); "
            "reconcile it instead of storing it again"
        )
        # The refusal leaves the transaction usable, and the first intent untouched.
        stored = await orders.require_order(s, account_a, "x1")
        assert stored.qty == Decimal("0.003")
        await orders.add_order(s, account_id=account_a, intent=_limit("x2"))
    async with db.session() as s:
        rows = await orders.list_orders(s)
        assert [(r.account_id, r.client_order_id) for r in rows] == [
            (account_a, "x1"),
            (account_b, "x1"),
            (account_a, "x2"),
        ]


async def test_every_transition_is_recorded_in_order(db: Database) -> None:
    async with db.transaction() as s:
        account_id, _bot_id = await _bot(s)
        await orders.add_order(s, account_id=account_id, intent=_limit("t1"), at=100)
    order = Order(intent=_limit("t1"), created_at=100, updated_at=100)
    fills = [
        Fill(
            client_order_id="t1",
            exchange_order_id="ex-1",
            trade_id=f"tr{i}",
            symbol="BTC/USDT:USDT",
            side=OrderSide.BUY,
            position_side=PositionSide.LONG,
            qty=Decimal("0.001"),
            price=price,
            fee=Decimal("0.0000321"),
            fee_currency="USDT",
            liquidity=Liquidity.MAKER,
            ts=300 + i,
        )
        for i, price in enumerate([Decimal("64250.5"), Decimal("64250.4"), Decimal("64250.1")])
    ]
    order = order.transition(OrderStatus.SUBMITTED, at=150)
    async with db.transaction() as s:
        await orders.save_order(s, account_id, order)
    order = order.transition(OrderStatus.OPEN, at=200, exchange_order_id="ex-1")
    async with db.transaction() as s:
        await orders.save_order(s, account_id, order, payload={"ordId": "ex-1", "state": "live"})
        await orders.save_order(s, account_id, order)  # seen again: no new event
    for fill in fills:
        order = order.apply_fill(fill)
        async with db.transaction() as s:
            assert await orders.add_fill(s, account_id, fill) is not None
            await orders.save_order(s, account_id, order)
    async with db.transaction() as s:
        assert await orders.add_fill(s, account_id, fills[1]) is None  # delivered again
        row = await orders.require_order(s, account_id, "t1")
        assert orders.to_order(row) == order
        assert (
            row.avg_fill_price == (Decimal("64250.5") + Decimal("64250.4") + Decimal("64250.1")) / 3
        )
        events = await orders.order_events(s, row.id)
    assert [(e.seq, e.from_status, e.to_status, e.at) for e in events] == [
        (1, None, "new", 100),
        (2, "new", "submitted", 150),
        (3, "submitted", "open", 200),
        (4, "open", "partially_filled", 300),
        (5, "partially_filled", "partially_filled", 301),
        (6, "partially_filled", "filled", 302),
    ]
    assert events[2].payload == {"ordId": "ex-1", "state": "live"}
    assert [e.filled_qty for e in events][-3:] == [
        Decimal("0.001"),
        Decimal("0.002"),
        Decimal("0.003"),
    ]
    async with db.session() as s:
        stored = await orders.list_fills(s, order_id=row.id)
        assert [orders.to_fill(f) for f in stored] == fills
        assert {f.bot_id for f in stored} == {None}
        assert await orders.get_order_by_exchange_id(s, account_id, "ex-1") is not None


async def test_illegal_transition_is_refused(db: Database) -> None:
    async with db.transaction() as s:
        account_id, _ = await _bot(s)
        await orders.add_order(s, account_id=account_id, intent=_limit("i1"), at=1)
        order = Order(intent=_limit("i1")).transition(OrderStatus.REJECTED, at=2, reason="no")
        await orders.save_order(s, account_id, order)
        # The SDK value says filled; the stored order was rejected: terminal, so refused.
        filled = Order(intent=_limit("i1")).transition(OrderStatus.SUBMITTED, at=3)
        filled = filled.transition(OrderStatus.FILLED, at=4)
        with pytest.raises(IllegalTransition, match="stored status is rejected, cannot go to"):
            await orders.save_order(s, account_id, filled)
        with pytest.raises(NotFound, match="no order nope stored"):
            await orders.save_order(s, account_id, Order(intent=_limit("nope")))
    first, second = (
        Fill(
            client_order_id="i2",
            trade_id=f"t{i}",
            symbol="BTC/USDT:USDT",
            side=OrderSide.BUY,
            qty=Decimal("0.001"),
            price=Decimal("64250.5"),
            ts=5 + i,
        )
        for i in range(2)
    )
    submitted = Order(intent=_limit("i2")).transition(OrderStatus.SUBMITTED, at=2)
    once = submitted.apply_fill(first)
    twice = once.apply_fill(second)
    async with db.transaction() as s:
        await orders.add_order(s, account_id=account_id, intent=_limit("i2"), at=1)
        with pytest.raises(IllegalTransition, match="stored status is new, cannot go to partially"):
            await orders.save_order(s, account_id, once)  # "submitted" was never stored
        for snapshot in (submitted, once, twice, twice):  # the same fill seen twice: one event
            await orders.save_order(s, account_id, snapshot)
        with pytest.raises(IllegalTransition, match=r"cannot shrink from 0\.002 to 0\.001"):
            await orders.save_order(s, account_id, once)  # a stale snapshot arriving late
        row = await orders.require_order(s, account_id, "i2")
        events = await orders.order_events(s, row.id)
        assert [e.to_status for e in events] == [
            "new",
            "submitted",
            "partially_filled",
            "partially_filled",
        ]
        assert row.filled_qty == Decimal("0.002")


async def test_unfinished_orders_and_filters(db: Database) -> None:
    async with db.transaction() as s:
        account_id, bot_id = await _bot(s)
        for i in range(6):
            await orders.add_order(
                s, account_id=account_id, intent=_limit(f"o{i}"), bot_id=bot_id, at=1000 + i
            )
        for i in (0, 1):
            done = Order(intent=_limit(f"o{i}")).transition(OrderStatus.CANCELED, at=2000)
            await orders.save_order(s, account_id, done)
    async with db.session() as s:
        unfinished = await orders.unfinished_orders(s, account_id, bot_id=bot_id)
        assert [r.client_order_id for r in unfinished] == ["o2", "o3", "o4", "o5"]
        page1 = await orders.list_orders(s, bot_id=bot_id, limit=4)
        page2 = await orders.list_orders(s, bot_id=bot_id, limit=4, after_id=page1[-1].id)
        assert [r.client_order_id for r in page1 + page2] == [f"o{i}" for i in range(6)]
        newest = await orders.list_orders(s, limit=2, newest_first=True)
        assert [r.client_order_id for r in newest] == ["o5", "o4"]
        in_range = await orders.list_orders(
            s, statuses=[OrderStatus.NEW], since=1003, until=1005, symbol="BTC/USDT:USDT"
        )
        assert [r.client_order_id for r in in_range] == ["o3", "o4"]
        with pytest.raises(ValueError, match="limit must be between"):
            await orders.list_orders(s, limit=0)


async def test_positions_keep_the_latest_per_book(db: Database) -> None:
    long = Position(
        symbol="BTC/USDT:USDT",
        position_side=PositionSide.LONG,
        direction=Direction.LONG,
        size=Decimal("0.003"),
        entry_price=Decimal(1) / Decimal(3) * 192751,
        contract_size=Decimal("0.01"),
        realized_pnl=Decimal("-1.25"),
        unrealized_pnl=Decimal("3.000000000000000000001"),
        leverage=Decimal(10),
        margin_mode=MarginMode.ISOLATED,
        liquidation_price=Decimal("58000.1"),
        updated_at=5,
    )
    short = long.model_copy(
        update={"position_side": PositionSide.SHORT, "direction": Direction.SHORT}
    )
    async with db.transaction() as s:
        account_id, bot_id = await _bot(s)
        await portfolio.save_position(s, bot_id=bot_id, account_id=account_id, position=long)
        await portfolio.save_position(s, bot_id=bot_id, account_id=account_id, position=short)
    flat = long.model_copy(update={"size": Decimal(0), "entry_price": None, "updated_at": 6})
    async with db.transaction() as s:
        assert await portfolio.get_position(s, bot_id, "BTC/USDT:USDT", PositionSide.LONG) == long
        await portfolio.save_position(s, bot_id=bot_id, account_id=account_id, position=flat)
    async with db.session() as s:
        got = await portfolio.get_position(s, bot_id, "BTC/USDT:USDT", PositionSide.LONG)
        assert got == flat
        assert await portfolio.get_position(s, bot_id, "BTC/USDT:USDT") is None
        rows = await portfolio.list_positions(s, bot_id=bot_id)
        assert len(rows) == 2
        open_rows = await portfolio.list_positions(s, account_id=account_id, open_only=True)
        assert [portfolio.to_position(r) for r in open_rows] == [short]


async def test_trades_round_trip_and_page(db: Database) -> None:
    made = [
        Trade(
            symbol="BTC/USDT:USDT",
            direction=Direction.LONG if i % 2 else Direction.SHORT,
            qty=Decimal("0.003"),
            entry_price=Decimal("64250.5"),
            exit_price=Decimal("64999.123456789"),
            opened_at=1000 * i,
            closed_at=1000 * i + 500,
            pnl=Decimal("2.246869367") - i,
            fees=Decimal("0.0963757500"),
            exit_reason="tp1" if i % 2 else "stop",
        )
        for i in range(5)
    ]
    async with db.transaction() as s:
        account_id, bot_id = await _bot(s)
        for trade in made:
            await portfolio.add_trade(s, bot_id=bot_id, account_id=account_id, trade=trade)
    async with db.session() as s:
        rows = await portfolio.list_trades(s, bot_id=bot_id)
        assert [portfolio.to_trade(r) for r in rows] == made
        assert str(rows[0].fees) == "0.0963757500"
        window = await portfolio.list_trades(s, since=1500, until=3500, newest_first=True)
        assert [r.closed_at for r in window] == [2500, 1500]
