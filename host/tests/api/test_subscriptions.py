"""Subscriptions over graphql-transport-ws, fed by rows the trading host stores (written here
through a second Database, as another process would)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from httpx_ws import AsyncWebSocketSession, aconnect_ws

from .host_writes import HostWriter
from .kit import Api
from .test_bots_and_trading import create_bot


@asynccontextmanager
async def subscribed(
    api: Api, query: str, variables: dict[str, Any] | None = None, role: str = "viewer"
) -> AsyncIterator[AsyncWebSocketSession]:
    async with aconnect_ws(
        api.graphql_url, api.client, subprotocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {api.tokens[role]}"}}
        )
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        yield ws


async def events(ws: AsyncWebSocketSession, n: int, api: Api | None = None) -> list[Any]:
    out: list[Any] = []
    while len(out) < n:
        message = await ws.receive_json(timeout=10)
        if api is not None:
            api.bodies.append(str(message))
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        out.append(message["payload"]["data"])
    return out


async def test_order_updates_arrive_in_order_with_the_order(api: Api) -> None:
    bot = await create_bot(api)
    host = HostWriter(api.db, api.account_id)
    query = """subscription($b: String) { orderUpdates(bot: $b, after: "0") {
        seq fromStatus toStatus filledQty order { clientOrderId status } } }"""
    async with subscribed(api, query, {"b": "rsi-btc"}) as ws:
        await host.place(bot["id"], "c1", qty="0.5")
        await host.fill("c1", "t1", "0.2", "20000")
        await host.fill("c1", "t2", "0.3", "20000")
        got = [e["orderUpdates"] for e in await events(ws, 4, api)]
    assert [(e["seq"], e["fromStatus"], e["toStatus"], e["filledQty"]) for e in got] == [
        (1, None, "NEW", "0"),
        (2, "NEW", "SUBMITTED", "0"),
        (3, "SUBMITTED", "PARTIALLY_FILLED", "0.2"),
        (4, "PARTIALLY_FILLED", "FILLED", "0.5"),
    ]
    assert {e["order"]["clientOrderId"] for e in got} == {"c1"}


async def test_fills_from_now_on_in_order(api: Api) -> None:
    bot = await create_bot(api)
    host = HostWriter(api.db, api.account_id)
    await host.place(bot["id"], "old", qty="1")
    await host.fill("old", "before", "0.1", "1")  # before subscribing: not delivered
    async with subscribed(api, "subscription { fills { tradeId qty price } }") as ws:
        await asyncio.sleep(0.3)  # the subscription has read where "now" is
        for n in range(1, 6):
            await host.fill("old", f"t{n}", "0.1", f"2000{n}")
        got = [e["fills"] for e in await events(ws, 5, api)]
    assert [f["tradeId"] for f in got] == ["t1", "t2", "t3", "t4", "t5"]
    assert got[2] == {"tradeId": "t3", "qty": "0.1", "price": "20003"}


async def test_position_changes(api: Api) -> None:
    bot = await create_bot(api)
    host = HostWriter(api.db, api.account_id)
    await host.position(bot["id"], "0.1", at=1)
    async with subscribed(api, "subscription { positionChanges { symbol size updatedAt } }") as ws:
        await asyncio.sleep(0.3)
        await host.position(bot["id"], "0.5", at=2)
        [first] = await events(ws, 1, api)
        await host.position(bot["id"], "0", at=3)
        [second] = await events(ws, 1, api)
    assert first["positionChanges"] == {"symbol": "BTC/USDT", "size": "0.5", "updatedAt": 2}
    assert second["positionChanges"] == {"symbol": "BTC/USDT", "size": "0", "updatedAt": 3}


async def test_bot_state_changes_and_notifications(api: Api) -> None:
    bot = await create_bot(api)
    query = 'subscription { botStateChanges(after: "0") { botId action fromState toState actor } }'
    async with subscribed(api, query) as ws:
        for mutation in ("startBot", "pauseBot", "stopBot"):
            await api.data(f'mutation {{ {mutation}(bot: "rsi-btc") {{ id }} }}', role="trader")
        got = [e["botStateChanges"] for e in await events(ws, 4, api)]
    assert [(e["action"], e["fromState"], e["toState"]) for e in got] == [
        ("bot.create", None, "created"),
        ("bot.start", "created", "running"),
        ("bot.pause", "running", "paused"),
        ("bot.stop", "paused", "stopped"),
    ]
    assert {e["botId"] for e in got} == {bot["id"]}
    assert {e["actor"] for e in got} == {api.user_ids["trader"]}

    host = HostWriter(api.db, api.account_id)
    async with subscribed(
        api, 'subscription { notifications(kind: "fill", after: "0") { kind message botId } }'
    ) as ws:
        await host.notify(bot["id"], "fill", "first")
        await host.notify(None, "daily_pnl", "skipped: other kind")
        await host.notify(bot["id"], "fill", "second")
        got = [e["notifications"] for e in await events(ws, 2, api)]
    assert got == [
        {"kind": "fill", "message": "first", "botId": bot["id"]},
        {"kind": "fill", "message": "second", "botId": bot["id"]},
    ]


async def test_a_subscription_error_is_typed(api: Api) -> None:
    async with subscribed(api, 'subscription { fills(bot: "nope") { tradeId } }') as ws:
        message = await ws.receive_json(timeout=5)
    assert message["type"] in ("next", "error")
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
