"""Queries and mutations end to end on a paper bot, through HTTP against the running app."""

from __future__ import annotations

from typing import Any

from .host_writes import HostWriter
from .kit import Api

BOT_FIELDS = "id name strategy accountId symbols timeframe mode state config configHash"

CREATE = f"""
mutation($input: CreateBotInput!) {{ createBot(input: $input) {{ {BOT_FIELDS} }} }}
"""


async def create_bot(api: Api, name: str = "rsi-btc", role: str = "trader", **over: Any) -> Any:
    variables = {
        "input": {
            "name": name,
            "strategy": "rsi_reversal",
            "accountId": api.account_id,
            "symbols": ["BTC/USDT"],
            "timeframe": "1h",
            "settings": {"rsi_length": 21, "qty": "0.5"},
            **over,
        }
    }
    return (await api.data(CREATE, variables, role=role))["createBot"]


async def test_a_paper_bot_through_its_whole_lifecycle(api: Api) -> None:
    bot = await create_bot(api)
    assert bot["state"] == "CREATED"
    assert bot["mode"] == "PAPER"
    assert bot["symbols"] == ["BTC/USDT"]
    # Defaults filled in by the strategy's config; Decimals as exact strings.
    assert bot["config"]["rsi_length"] == 21
    assert bot["config"]["qty"] == "0.5"
    assert bot["config"]["oversold"] == 30.0

    moves = [
        ("startBot", "RUNNING"),
        ("pauseBot", "PAUSED"),
        ("resumeBot", "RUNNING"),
        ("stopBot", "STOPPED"),
    ]
    for mutation, state in moves:
        data = await api.data(
            f"mutation($b: String!) {{ {mutation}(bot: $b) {{ state }} }}",
            {"b": "rsi-btc"},
            role="trader",
        )
        assert data[mutation]["state"] == state

    configured = await api.data(
        """mutation($i: ConfigureBotInput!) { configureBot(input: $i) { config timeframe } }""",
        {"i": {"bot": bot["id"], "settings": {"rsi_length": 30}, "timeframe": "4h"}},
        role="trader",
    )
    assert configured["configureBot"]["config"]["rsi_length"] == 30
    assert configured["configureBot"]["config"]["qty"] == "0.5"  # merged, not replaced
    assert configured["configureBot"]["timeframe"] == "4h"

    listed = await api.data("{ bots { name state } }", role="viewer")
    assert listed["bots"] == [{"name": "rsi-btc", "state": "STOPPED"}]
    one = await api.data('{ bot(ref: "rsi-btc") { id } }', role="viewer")
    assert one["bot"]["id"] == bot["id"]
    filtered = await api.data("{ bots(state: RUNNING) { name } }", role="viewer")
    assert filtered["bots"] == []

    closing = await api.data(
        'mutation { closePositions(bot: "rsi-btc") { botId requestedBy requestId } }',
        role="trader",
    )
    assert closing["closePositions"]["botId"] == bot["id"]
    assert closing["closePositions"]["requestedBy"] == api.user_ids["trader"]

    deleted = await api.data('mutation { deleteBot(bot: "rsi-btc") }', role="trader")
    assert deleted == {"deleteBot": True}
    assert (await api.data("{ bots { name } }"))["bots"] == []

    audit = await api.data(
        '{ auditLog(targetType: "bot", newestFirst: false) { items { action actor } } }',
        role="viewer",
    )
    actions = [e["action"] for e in audit["auditLog"]["items"]]
    assert actions == [
        "bot.create",
        "bot.start",
        "bot.pause",
        "bot.resume",
        "bot.stop",
        "bot.configure",
        "bot.close_positions",
        "bot.delete",
    ]
    assert {e["actor"] for e in audit["auditLog"]["items"]} == {api.user_ids["trader"]}


async def test_orders_fills_positions_trades_pnl_and_equity(api: Api) -> None:
    bot = await create_bot(api)
    host = HostWriter(api.db, api.account_id)
    await host.place(bot["id"], "c1", qty="0.5", price="20000", at=1_700_000_000_000)
    await host.place(bot["id"], "c2", qty="1", price="19000", at=1_700_000_100_000)
    await host.place(bot["id"], "c3", qty="2", price="18000", at=1_700_000_200_000)
    await host.fill("c1", "t1", "0.2", "20000.5")
    await host.fill("c1", "t2", "0.3", "19999.5")
    await host.cancel("c2")
    await host.position(bot["id"], "0.5")
    await host.trade(bot["id"], "10.5", 1_700_100_000_000)
    await host.trade(bot["id"], "-3.25", 1_700_200_000_000)

    page1 = await api.data(
        '{ orders(bot: "rsi-btc", limit: 2) { items { clientOrderId status filledQty '
        "avgFillPrice price qty } nextCursor } }",
        role="viewer",
    )
    items = page1["orders"]["items"]
    assert [o["clientOrderId"] for o in items] == ["c1", "c2"]
    assert items[0]["status"] == "FILLED"
    assert items[0]["filledQty"] == "0.5"
    assert items[0]["avgFillPrice"] == "19999.9"  # (0.2*20000.5 + 0.3*19999.5) / 0.5, exact
    assert items[1]["status"] == "CANCELED"
    cursor = page1["orders"]["nextCursor"]
    page2 = await api.data(
        "query($a: String) { orders(after: $a, limit: 2) { items { clientOrderId } nextCursor } }",
        {"a": cursor},
    )
    assert [o["clientOrderId"] for o in page2["orders"]["items"]] == ["c3"]
    assert page2["orders"]["nextCursor"] is None

    by_status = await api.data(
        "{ orders(status: [SUBMITTED, CANCELED]) { items { clientOrderId } } }"
    )
    assert [o["clientOrderId"] for o in by_status["orders"]["items"]] == ["c2", "c3"]
    in_range = await api.data(
        "{ orders(since: 1700000100000, until: 1700000200000) { items { clientOrderId } } }"
    )
    assert [o["clientOrderId"] for o in in_range["orders"]["items"]] == ["c2"]
    other_symbol = await api.data('{ orders(symbol: "ETH/USDT") { items { id } } }')
    assert other_symbol["orders"]["items"] == []

    fills = await api.data(
        "{ fills(newestFirst: true) { items { tradeId qty price fee clientOrderId } } }",
        role="viewer",
    )
    assert fills["fills"]["items"] == [
        {"tradeId": "t2", "qty": "0.3", "price": "19999.5", "fee": "0.01", "clientOrderId": "c1"},
        {"tradeId": "t1", "qty": "0.2", "price": "20000.5", "fee": "0.01", "clientOrderId": "c1"},
    ]

    positions = await api.data(
        "{ positions { botId symbol size entryPrice direction unrealizedPnl } }", role="viewer"
    )
    assert positions["positions"] == [
        {
            "botId": bot["id"],
            "symbol": "BTC/USDT",
            "size": "0.5",
            "entryPrice": "20000",
            "direction": "LONG",
            "unrealizedPnl": "1.5",
        }
    ]

    trades = await api.data("{ trades { items { pnl fees exitReason } } }", role="viewer")
    assert [t["pnl"] for t in trades["trades"]["items"]] == ["10.5", "-3.25"]

    pnl = await api.data(
        '{ pnl(bot: "rsi-btc") { botId trades wins losses netPnl grossPnl fees } }',
        role="viewer",
    )
    assert pnl["pnl"] == [
        {
            "botId": bot["id"],
            "trades": 2,
            "wins": 1,
            "losses": 1,
            "netPnl": "7.25",
            "grossPnl": "7.45",
            "fees": "0.2",
        }
    ]
    equity = await api.data("{ equity { at pnl cumulativePnl } }", role="viewer")
    assert equity["equity"] == [
        {"at": 1_700_100_000_000, "pnl": "10.5", "cumulativePnl": "10.5"},
        {"at": 1_700_200_000_000, "pnl": "-3.25", "cumulativePnl": "7.25"},
    ]
    late = await api.data("{ pnl(since: 1700150000000) { netPnl trades } }")
    assert late["pnl"] == [{"netPnl": "-3.25", "trades": 1}]


async def test_plugins_strategies_and_the_plugin_field(api: Api) -> None:
    data = await api.data(
        "{ plugins { name group status reason } strategies { name description fields "
        "{ name type required default minimum maximum exclusiveMinimum description } } "
        "exampleInfo }",
        role="viewer",
    )
    names = {(p["group"], p["name"]) for p in data["plugins"]}
    assert ("tbhost.strategies", "rsi_reversal") in names
    assert ("tbhost.exchanges", "paper") in names
    hooks = next(p for p in data["plugins"] if p["name"] == "example_hooks")
    assert hooks["status"] == "ok"
    assert hooks["reason"] is None
    rsi = next(s for s in data["strategies"] if s["name"] == "rsi_reversal")
    length = next(f for f in rsi["fields"] if f["name"] == "rsi_length")
    assert length == {
        "name": "rsi_length",
        "type": "int",
        "required": False,
        "default": 14,
        "minimum": "2",
        "maximum": "500",
        "exclusiveMinimum": None,
        "description": "RSI length, candles.",
    }
    qty = next(f for f in rsi["fields"] if f["name"] == "qty")
    assert (qty["type"], qty["default"], qty["exclusiveMinimum"]) == ("Decimal", "0.01", "0")
    assert data["exampleInfo"].startswith("tb-strategy-example:")


async def test_accounts_users_and_tokens(api: Api) -> None:
    added = await api.data(
        """mutation($i: AddAccountInput!) { addAccount(input: $i) {
             id exchange label positionMode hasCredentials options } }""",
        {
            "i": {
                "exchange": "paper",
                "label": "keys",
                "positionMode": "HEDGE",
                "options": {"sandbox": True},
                "credentials": {"apiKey": "AK-visible-once", "secret": "SK-never-shown"},
            }
        },
    )
    account = added["addAccount"]
    assert account["hasCredentials"] is True
    assert (account["positionMode"], account["options"]) == ("HEDGE", {"sandbox": True})
    listed = await api.data("{ accounts { label hasCredentials } }", role="viewer")
    assert listed["accounts"] == [
        {"label": "keys", "hasCredentials": True},
        {"label": "main", "hasCredentials": False},
    ] or listed["accounts"] == [
        {"label": "main", "hasCredentials": False},
        {"label": "keys", "hasCredentials": True},
    ]
    got = await api.data(
        "query($id: String!) { account(id: $id) { label } }", {"id": account["id"]}
    )
    assert got["account"]["label"] == "keys"
    removed = await api.data(
        "mutation($id: String!) { removeAccount(id: $id) }", {"id": account["id"]}
    )
    assert removed == {"removeAccount": True}

    user = (await api.data('mutation { createUser(username: "bob", role: TRADER) { id role } }'))[
        "createUser"
    ]
    assert user["role"] == "TRADER"
    promoted = await api.data(
        "mutation($u: String!) { setUserRole(userId: $u, role: VIEWER) { role } }",
        {"u": user["id"]},
    )
    assert promoted["setUserRole"]["role"] == "VIEWER"
    issued = await api.data(
        'mutation($u: String!) { issueToken(userId: $u, name: "ci", expiresAt: 4102444800000) '
        "{ secret token { id name prefix expiresAt revokedAt } } }",
        {"u": user["id"]},
    )
    secret = issued["issueToken"]["secret"]
    token = issued["issueToken"]["token"]
    assert secret.startswith(f"tbh_{token['prefix']}_")
    assert token["expiresAt"] == 4_102_444_800_000  # a Long: beyond GraphQL's 32-bit Int
    me = await api.client.post(
        api.graphql_url, json={"query": "{ me { username role } }"},
        headers={"Authorization": f"Bearer {secret}"},
    )  # fmt: skip
    assert me.json()["data"]["me"] == {"username": "bob", "role": "VIEWER"}
    tokens = await api.data(
        "query($u: String!) { tokens(userId: $u) { name prefix revokedAt } }", {"u": user["id"]}
    )
    assert tokens["tokens"] == [{"name": "ci", "prefix": token["prefix"], "revokedAt": None}]
    revoked = await api.data(
        "mutation($t: String!) { revokeToken(tokenId: $t) { revokedAt } }", {"t": token["id"]}
    )
    assert revoked["revokeToken"]["revokedAt"] is not None
    disabled = await api.data(
        "mutation($u: String!) { disableUser(userId: $u) { disabledAt } }", {"u": user["id"]}
    )
    assert disabled["disableUser"]["disabledAt"] is not None
    users = await api.data("{ users { username } }")
    assert sorted(u["username"] for u in users["users"]) == ["admin", "bob", "trader", "viewer"]
