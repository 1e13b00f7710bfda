"""`tbhost orders|fills|positions|trades|pnl` read what the order manager stored: exact
Decimals, UTC ISO times, filters, and pages that say which cursor comes next."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tbhost.storage.repos import orders, portfolio
from tbsdk.model import (
    Direction,
    Fill,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    Trade,
)

from .test_cli_kit import HOUR, MARCH_1, Cli, rows, tb_fixture  # noqa: F401 - the fixture

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def _world(tb: Cli) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An account with bot ``a`` on BTC and bot ``b`` on ETH; a's orders o1..o3 (o1 filled in
    two fills, o2 open, o3 canceled), b's order o4 filled; positions and trades of both."""
    account_id = tb.account()
    a, b = tb.bot("a", account_id, BTC), tb.bot("b", account_id, ETH)

    async def write(s: AsyncSession) -> None:
        async def order(bot: dict[str, Any], n: int, symbol: str, qty: str, at: int) -> Order:
            intent = OrderIntent(
                client_order_id=f"o{n}", symbol=symbol, side=OrderSide.BUY,
                type=OrderType.LIMIT, qty=Decimal(qty), price=Decimal("64000.1"), tag="entry",
            )  # fmt: skip
            await orders.add_order(s, account_id=account_id, intent=intent, bot_id=bot["id"], at=at)
            sent = Order(intent=intent, created_at=at, updated_at=at)
            sent = sent.transition(OrderStatus.SUBMITTED, at=at + 1)
            await orders.save_order(s, account_id, sent)  # every step, as the manager does
            sent = sent.transition(OrderStatus.OPEN, at=at + 2, exchange_order_id=f"x{n}")
            await orders.save_order(s, account_id, sent)
            return sent

        async def fill(o: Order, trade: str, qty: str, price: str, ts: int) -> Order:
            done = Fill(
                client_order_id=o.client_order_id, exchange_order_id=o.exchange_order_id,
                trade_id=trade, symbol=o.intent.symbol, side=o.intent.side, qty=Decimal(qty),
                price=Decimal(price), fee=Decimal("0.000000000000000001"), fee_currency="USDT",
                ts=ts,
            )  # fmt: skip
            await orders.add_fill(s, account_id, done)
            o = o.apply_fill(done)
            await orders.save_order(s, account_id, o)
            return o

        o1 = await order(a, 1, BTC, "0.3", MARCH_1)
        o1 = await fill(o1, "t1", "0.1", "64000.1", MARCH_1 + 10)
        await fill(o1, "t2", "0.2", "63999.9", MARCH_1 + 20)
        await order(a, 2, BTC, "1", MARCH_1 + HOUR)
        o3 = await order(a, 3, BTC, "2", MARCH_1 + 2 * HOUR)
        await orders.save_order(
            s, account_id, o3.transition(OrderStatus.CANCELED, at=MARCH_1 + 3 * HOUR)
        )
        o4 = await order(b, 4, ETH, "5", MARCH_1 + 4 * HOUR)
        await fill(o4, "t3", "5", "3000.5", MARCH_1 + 5 * HOUR)
        for bot, symbol, size in ((a, BTC, "0.3"), (b, ETH, "0")):
            held = Position(
                symbol=symbol, size=Decimal(size), entry_price=Decimal("63999.966666666666666667"),
                unrealized_pnl=Decimal("0.000000000000000001"), updated_at=MARCH_1 + 30,
            )  # fmt: skip
            await portfolio.save_position(s, bot_id=bot["id"], account_id=account_id, position=held)
        for bot, pnl, fees, closed in (
            (a, "12.345678901234567891", "0.100000000000000001", MARCH_1 + 6 * HOUR),
            (a, "-3.000000000000000007", "0.05", MARCH_1 + 7 * HOUR),
            (b, "-0.5", "0.25", MARCH_1 + 8 * HOUR),
        ):
            trade = Trade(
                symbol=BTC if bot is a else ETH, direction=Direction.LONG, qty=Decimal("0.3"),
                entry_price=Decimal("64000"), exit_price=Decimal("64100.5"),
                opened_at=closed - HOUR, closed_at=closed, pnl=Decimal(pnl), fees=Decimal(fees),
                exit_reason="tp1",
            )  # fmt: skip
            await portfolio.add_trade(s, bot_id=bot["id"], account_id=account_id, trade=trade)

    tb.store(write)
    return account_id, a, b


def test_orders_json_is_exact_and_pages_by_cursor(tb: Cli) -> None:
    account_id, a, _ = _world(tb)
    first = tb.json("orders", "--limit", "2")
    assert [o["client_order_id"] for o in first["items"]] == ["o1", "o2"]
    assert first["items"][0] == {
        "id": 1,
        "bot_id": a["id"],
        "account_id": account_id,
        "client_order_id": "o1",
        "symbol": BTC,
        "side": "buy",
        "type": "limit",
        "qty": "0.3",
        "price": "64000.1",
        "trigger_price": None,
        "position_side": "net",
        "reduce_only": False,
        "close_position": False,
        "post_only": False,
        "time_in_force": "gtc",
        "tag": "entry",
        "status": "filled",
        "exchange_order_id": "x1",
        "filled_qty": "0.3",
        "avg_fill_price": "63999.96666666666666666666667",
        "fee": "0.000000000000000002",
        "created_at": "2024-03-01T00:00:00.000Z",
        "updated_at": "2024-03-01T00:00:00.020Z",
        "reason": None,
    }
    assert first["next_cursor"] == 2
    second = tb.json("orders", "--limit", "2", "--cursor", "2")
    assert [o["client_order_id"] for o in second["items"]] == ["o3", "o4"]
    assert second["next_cursor"] == 4
    assert tb.json("orders", "--limit", "2", "--cursor", "4") == {"items": [], "next_cursor": None}

    def ids(*args: str) -> list[str]:
        page = tb.json("orders", *args)
        assert page["next_cursor"] is None
        return [o["client_order_id"] for o in page["items"]]

    assert ids("--bot", "b") == ["o4"]
    assert ids("--bot", a["id"], "--status", "open", "--status", "canceled") == ["o2", "o3"]
    assert ids("--symbol", ETH) == ["o4"]
    assert ids("--since", "2024-03-01T01:00", "--until", "2024-03-01T04:00:00+00:00") == [
        "o2",
        "o3",
    ]

    out = tb.ok("orders", "--limit", "3")
    assert rows(out.rsplit("\n", 2)[0]) == [
        ["1", "2024-03-01T00:00:00Z", "a", BTC, "buy", "limit", "0.3", "64000.1", "-", "0.3",
         "63999.96666666666666666666667", "filled", "entry", "o1"],
        ["2", "2024-03-01T01:00:00Z", "a", BTC, "buy", "limit", "1", "64000.1", "-", "0",
         "-", "open", "entry", "o2"],
        ["3", "2024-03-01T02:00:00Z", "a", BTC, "buy", "limit", "2", "64000.1", "-", "0",
         "-", "canceled", "entry", "o3"],
    ]  # fmt: skip
    assert out.splitlines()[-1] == "more: add --cursor 3"


def test_fills_positions_trades_and_pnl(tb: Cli) -> None:
    account_id, a, b = _world(tb)
    fills = tb.json("fills", "--bot", "a")
    assert fills["next_cursor"] is None
    assert fills["items"][1] == {
        "id": 2,
        "bot_id": a["id"],
        "account_id": account_id,
        "client_order_id": "o1",
        "exchange_order_id": "x1",
        "trade_id": "t2",
        "symbol": BTC,
        "side": "buy",
        "position_side": "net",
        "qty": "0.2",
        "price": "63999.9",
        "fee": "0.000000000000000001",
        "fee_currency": "USDT",
        "liquidity": "taker",
        "ts": "2024-03-01T00:00:00.020Z",
    }
    assert [f["trade_id"] for f in tb.json("fills", "--since", "2024-03-01T00:00:00.015")
            ["items"]] == ["t2", "t3"]  # fmt: skip
    assert rows(tb.ok("fills", "--symbol", ETH)) == [
        ["3", "2024-03-01T05:00:00Z", "b", ETH, "buy", "5", "3000.5", "0.000000000000000001",
         "USDT", "taker", "o4", "t3"],
    ]  # fmt: skip

    [held] = tb.json("positions")  # b's flat position is not open
    assert (held["bot_id"], held["size"], held["entry_price"], held["unrealized_pnl"]) == (
        a["id"],
        "0.3",
        "63999.966666666666666667",
        "0.000000000000000001",
    )
    assert [p["symbol"] for p in tb.json("positions", "--all")] == [BTC, ETH]
    assert tb.json("positions", "--symbol", ETH) == []
    assert tb.ok("positions", "--bot", "b") == "no open positions\n"
    assert rows(tb.ok("positions")) == [
        ["1", "a", BTC, "net", "long", "0.3", "63999.966666666666666667",
         "0.000000000000000001", "0", "1", "cross", "-", "2024-03-01T00:00:00.030Z"],
    ]  # fmt: skip

    page = tb.json("trades", "--bot", "a", "--limit", "1")
    assert page["items"] == [
        {
            "id": 1,
            "bot_id": a["id"],
            "account_id": account_id,
            "symbol": BTC,
            "direction": "long",
            "qty": "0.3",
            "entry_price": "64000",
            "exit_price": "64100.5",
            "opened_at": "2024-03-01T05:00:00.000Z",
            "closed_at": "2024-03-01T06:00:00.000Z",
            "pnl": "12.345678901234567891",
            "fees": "0.100000000000000001",
            "exit_reason": "tp1",
        }
    ]
    assert page["next_cursor"] == 1
    late = tb.json("trades", "--since", "2024-03-01T07:00")
    assert [t["pnl"] for t in late["items"]] == ["-3.000000000000000007", "-0.5"]
    assert rows(tb.ok("trades", "--bot", "b")) == [
        ["3", "b", ETH, "long", "0.3", "64000", "64100.5", "2024-03-01T07:00:00Z",
         "2024-03-01T08:00:00Z", "-0.5", "0.25", "tp1"],
    ]  # fmt: skip

    by_bot = {x["bot_id"]: x for x in tb.json("pnl")}
    assert by_bot[a["id"]] == {
        "bot_id": a["id"],
        "trades": 2,
        "wins": 1,
        "losses": 1,
        "net_pnl": "9.345678901234567884",
        "fees": "0.150000000000000001",
        "gross_pnl": "9.495678901234567885",
    }
    assert by_bot[b["id"]]["net_pnl"] == "-0.5"
    assert rows(tb.ok("pnl", "--bot", "a")) == [
        ["a", "2", "1", "1", "9.495678901234567885", "0.150000000000000001",
         "9.345678901234567884"],
    ]  # fmt: skip


def test_reading_an_unknown_bot_or_a_bad_option_is_a_clear_error(tb: Cli) -> None:
    _world(tb)
    for command in ("orders", "fills", "positions", "trades", "pnl"):
        assert tb.fail(command, "--bot", "ghost") == "no bot 'ghost'"
    bad = tb.run("orders", "--since", "yesterday")
    assert bad.exit_code == 2
    assert "'yesterday' is not a time like 2024-03-01" in bad.stderr
    assert tb.run("orders", "--limit", "0").exit_code == 2
    assert tb.run("orders", "--status", "lost").exit_code == 2
