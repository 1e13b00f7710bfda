"""QueryService on both backends: orders, fills, positions and trades with whose they are,
the storage cursors passed through, and PnL summed exactly from the stored trades."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tbhost.services import NotFound, PnlSummary
from tbhost.storage.repos import orders, portfolio
from tbsdk.model import (
    Direction,
    Fill,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    Trade,
)

from .test_services_kit import World, world_fixture  # noqa: F401 - the fixture

# Amounts with more digits than a float keeps, and losses, so only an exact sum matches.
PNLS = [
    ("12.345678901234567891", "0.100000000000000001"),
    ("-3.000000000000000007", "0.05"),
    ("0.000000000000000001", "0"),
    ("-0.5", "0.25"),
]


def _trade(i: int, pnl: str, fees: str, symbol: str) -> Trade:
    return Trade(
        symbol=symbol,
        direction=Direction.LONG if i % 2 else Direction.SHORT,
        qty=Decimal("0.01"),
        entry_price=Decimal("64000.1"),
        exit_price=Decimal("64100.2"),
        opened_at=1_000 + i,
        closed_at=2_000 + i,
        pnl=Decimal(pnl),
        fees=Decimal(fees),
        exit_reason="tp1",
    )


async def test_pnl_summary_equals_the_stored_trades_sum(world: World) -> None:
    a, b = await world.new_bot(), await world.new_bot()
    async with world.db.transaction() as s:
        for i, (pnl, fees) in enumerate(PNLS):
            trade = _trade(i, pnl, fees, a.symbols[0])
            await portfolio.add_trade(s, bot_id=a.id, account_id=world.account_id, trade=trade)
        trade = _trade(9, "7.7", "0.7", b.symbols[0])
        await portfolio.add_trade(s, bot_id=b.id, account_id=world.account_id, trade=trade)
    [summary] = await world.queries.pnl(world.viewer, bot_id=a.id)
    assert summary == PnlSummary(
        bot_id=a.id,
        trades=4,
        wins=2,
        losses=2,
        net_pnl=sum((Decimal(p) for p, _ in PNLS), Decimal(0)),
        fees=sum((Decimal(f) for _, f in PNLS), Decimal(0)),
    )
    assert summary.net_pnl == Decimal("8.845678901234567885")
    assert summary.gross_pnl == summary.net_pnl + Decimal("0.400000000000000001")
    every = await world.queries.pnl(world.trader)
    assert {x.bot_id: x.net_pnl for x in every} == {a.id: summary.net_pnl, b.id: Decimal("7.7")}
    # By name, and a bot without trades has a zero summary rather than none.
    c = await world.new_bot()
    assert await world.queries.pnl(world.viewer, bot_id=c.name) == [
        PnlSummary(c.id, 0, 0, 0, Decimal(0), Decimal(0))
    ]
    with pytest.raises(NotFound):
        await world.queries.pnl(world.viewer, bot_id="missing")


async def test_trades_page_with_the_storage_cursor(world: World) -> None:
    bot = await world.new_bot()
    async with world.db.transaction() as s:
        for i in range(5):
            trade = _trade(i, "1", "0", bot.symbols[0])
            await portfolio.add_trade(s, bot_id=bot.id, account_id=world.account_id, trade=trade)
    first = await world.queries.trades(world.viewer, bot_id=bot.id, limit=2)
    assert [t.value.opened_at for t in first.items] == [1_000, 1_001]
    assert first.next_after == first.items[-1].id
    assert {(t.bot_id, t.account_id) for t in first.items} == {(bot.id, world.account_id)}
    second = await world.queries.trades(
        world.viewer, bot_id=bot.id, limit=2, after_id=first.next_after
    )
    third = await world.queries.trades(
        world.viewer, bot_id=bot.id, limit=2, after_id=second.next_after
    )
    assert [t.value.opened_at for t in second.items + third.items] == [1_002, 1_003, 1_004]
    assert third.next_after is None


async def test_orders_fills_and_positions_say_whose_they_are(world: World) -> None:
    bot = await world.new_bot()
    symbol = bot.symbols[0]
    async with world.db.transaction() as s:
        for i in range(3):
            intent = OrderIntent(
                client_order_id=f"o{i}",
                symbol=symbol,
                side=OrderSide.BUY,
                type=OrderType.LIMIT,
                qty=Decimal("0.5"),
                price=Decimal("10.25"),
                tag="entry",
            )
            await orders.add_order(
                s, account_id=world.account_id, intent=intent, bot_id=bot.id, at=10 + i
            )
        fill = Fill(
            client_order_id="o1", trade_id="t1", symbol=symbol, side=OrderSide.BUY,
            qty=Decimal("0.5"), price=Decimal("10.25"), ts=50,
        )  # fmt: skip
        await orders.add_fill(s, world.account_id, fill)
        await portfolio.save_position(
            s,
            bot_id=bot.id,
            account_id=world.account_id,
            position=Position(symbol=symbol, size=Decimal("0.5"), entry_price=Decimal("10.25")),
        )
    page = await world.queries.orders(world.viewer, bot_id=bot.id, limit=2, newest_first=True)
    assert [o.value.intent.client_order_id for o in page.items] == ["o2", "o1"]
    rest = await world.queries.orders(
        world.viewer, bot_id=bot.id, limit=2, newest_first=True, after_id=page.next_after
    )
    assert [o.value.intent.client_order_id for o in rest.items] == ["o0"]
    assert rest.next_after is None
    assert (await world.queries.orders(world.viewer, statuses=[OrderStatus.FILLED])).items == []
    [stored_fill] = (await world.queries.fills(world.viewer, account_id=world.account_id)).items
    assert (stored_fill.bot_id, stored_fill.value) == (bot.id, fill)
    [position] = await world.queries.positions(world.viewer, bot_id=bot.id)
    assert (position.bot_id, position.value.size) == (bot.id, Decimal("0.5"))
