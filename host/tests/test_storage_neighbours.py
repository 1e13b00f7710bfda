"""``symbols_of_other_bots``: what the other bots on a bot's account trade (configured symbols
of running, paused and faulted bots, and the symbols of their unfinished orders and open
positions), on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy.ext.asyncio import AsyncSession

from tbhost.storage import Database
from tbhost.storage.models import BotStatus
from tbhost.storage.repos import accounts, bots, orders, portfolio
from tbhost.storage.repos.neighbours import symbols_of_other_bots
from tbsdk.model import Direction, OrderIntent, OrderSide, OrderType, Position, PositionMode


async def _bot(
    s: AsyncSession, name: str, account: str, symbols: list[str], state: BotStatus
) -> str:
    row = await bots.create_bot(
        s, name=name, strategy="grid", account_id=account, symbols=symbols, timeframe="15m",
        config={}, at=1,
    )  # fmt: skip
    if state is not BotStatus.CREATED:
        await bots.set_state(s, row.id, state, reason="boom", at=2)
    return row.id


async def test_the_other_bots_on_the_account_and_what_they_hold(db: Database) -> None:
    async with db.transaction() as s:
        a, b = [
            (await accounts.create_account(s, exchange="paper", label=label,
                                           position_mode=PositionMode.ONE_WAY, at=1)).id
            for label in ("a", "b")
        ]  # fmt: skip
        rotation = await _bot(s, "rotation", a, ["BTC/USDT"], BotStatus.RUNNING)
        fixed = await _bot(s, "fixed", a, ["ETH/USDT"], BotStatus.RUNNING)
        paused = await _bot(s, "paused", a, ["SOL/USDT"], BotStatus.PAUSED)
        await _bot(s, "faulted", a, ["XRP/USDT"], BotStatus.FAULTED)
        stopped = await _bot(s, "stopped", a, ["ADA/USDT"], BotStatus.STOPPED)
        elsewhere = await _bot(s, "elsewhere", b, ["DOGE/USDT"], BotStatus.RUNNING)
        # The rotation trades symbols beyond its configured one; so may the others.
        intent = OrderIntent(
            client_order_id="gorder1", symbol="LTC/USDT", side=OrderSide.BUY,
            type=OrderType.LIMIT, qty=D(1), price=D(80),
        )  # fmt: skip
        await orders.add_order(s, account_id=a, intent=intent, bot_id=rotation, at=3)
        await orders.add_order(
            s, account_id=a, bot_id=stopped, at=3,
            intent=intent.model_copy(update={"client_order_id": "gorder2", "symbol": "BNB/USDT"}),
        )  # fmt: skip
        await portfolio.save_position(
            s, bot_id=fixed, account_id=a,
            position=Position(symbol="LINK/USDT", direction=Direction.LONG, size=D(2)),
        )  # fmt: skip
        await portfolio.save_position(
            s, bot_id=paused, account_id=a,
            position=Position(symbol="AVAX/USDT"),
        )  # fmt: skip

    async with db.transaction() as s:
        found = await symbols_of_other_bots(s, [rotation, fixed, elsewhere, "nobody"])
    assert found == {
        # the stopped bot's orders and the flat position do not count
        rotation: frozenset({"ETH/USDT", "LINK/USDT", "SOL/USDT", "XRP/USDT"}),
        fixed: frozenset({"BTC/USDT", "LTC/USDT", "SOL/USDT", "XRP/USDT"}),
        elsewhere: frozenset(),
        "nobody": frozenset(),
    }
    async with db.transaction() as s:
        assert await symbols_of_other_bots(s, []) == {}
