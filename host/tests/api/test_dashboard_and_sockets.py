"""The dashboard query's one read transaction, and the HTTP rules on WebSockets: the rate
limit per token, and tokens checked again while a subscription runs."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tbhost.api.schema import ApiSchema
from tbhost.api.sqlite_reads import SqliteReads
from tbhost.plugins import PluginHost
from tbhost.services import SYSTEM, UserService
from tbhost.services.queries import ReadSnapshot

from .conftest import TOKEN_CACHE_S, start_api
from .host_writes import HostWriter
from .kit import Api, copy_template
from .test_bots_and_trading import create_bot

QUIET = "subscription { notifications { id } }"  # nothing arrives unless a row is stored


def count_snapshots(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the read transactions the API's dashboard reads open (in the server's thread)."""
    queries = api.services.queries
    original = queries.snapshot
    calls: list[int] = []

    async def counting(reads: Callable[[ReadSnapshot], Any]) -> Any:
        calls.append(1)
        return await original(reads)

    monkeypatch.setattr(queries, "snapshot", counting)
    return calls


async def test_bots_and_positions_are_read_in_one_transaction(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await create_bot(api)
    other = await create_bot(api, "rsi-eth", symbols=["ETH/USDT"])
    host = HostWriter(api.db, api.account_id)
    await host.position(bot["id"], "0.5")
    await host.position(other["id"], "0", symbol="ETH/USDT")  # flat: not listed by default
    snapshots = count_snapshots(api, monkeypatch)

    got = await api.data(
        """{ bots { name state symbols }
             positions { botId symbol size entryPrice unrealizedPnl }
             flat: positions(openOnly: false, bot: "rsi-eth") { symbol size }
             eth: bots(symbol: "ETH/USDT") { name } }""",
        role="viewer",
    )
    assert got == {
        "bots": [
            {"name": "rsi-btc", "state": "CREATED", "symbols": ["BTC/USDT"]},
            {"name": "rsi-eth", "state": "CREATED", "symbols": ["ETH/USDT"]},
        ],
        "positions": [
            {
                "botId": bot["id"],
                "symbol": "BTC/USDT",
                "size": "0.5",
                "entryPrice": "20000",
                "unrealizedPnl": "1.5",
            }
        ],
        "flat": [{"symbol": "ETH/USDT", "size": "0"}],
        "eth": [{"name": "rsi-eth"}],
    }
    assert len(snapshots) == 1


async def test_one_failing_read_of_a_batch_fails_alone(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_bot(api)
    snapshots = count_snapshots(api, monkeypatch)
    response = await api.post('{ bots { name } positions(bot: "nope") { symbol } }')
    payload = response.json()
    assert payload["data"] is None  # root fields are non-null: one error nulls the answer
    [error] = payload["errors"]  # bots, read in the same snapshot, did not fail with it
    assert error["path"] == ["positions"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == "no bot 'nope'"
    assert len(snapshots) == 1


async def test_the_sqlite_reader_reads_only(api: Api) -> None:
    reader = api.services.sqlite_reads
    assert reader is not None
    assert await reader.run(lambda s: s.execute(text("SELECT count(*) FROM bots")).scalar()) == 0
    with pytest.raises(OperationalError, match="readonly"):
        await reader.run(lambda s: s.execute(text("DELETE FROM bots")))


async def test_a_read_refused_by_a_lock_waits_for_it_in_a_thread(
    tmp_path: Path, migrated_template: Path
) -> None:
    path = copy_template(migrated_template, tmp_path / "locked.db")
    holder = sqlite3.connect(path, isolation_level=None)
    # A connection in exclusive locking mode keeps every reader out until it closes.
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("COMMIT")
    reader = SqliteReads(str(path))
    try:
        asyncio.get_running_loop().call_later(0.3, holder.close)
        count = await reader.run(lambda s: s.execute(text("SELECT count(*) FROM bots")).scalar())
        assert count == 0
        assert reader.waited == 1  # refused at once on the loop, then waited for in a thread
        assert (
            await reader.run(lambda s: s.execute(text("SELECT count(*) FROM bots")).scalar()) == 0
        )
        assert reader.waited == 1  # the lock is gone: back on the loop
    finally:
        holder.close()
        reader.close()


@pytest.fixture
async def limited_api(
    tmp_path: Path, migrated_template: Path, plugins: PluginHost, schema: ApiSchema
) -> AsyncIterator[Api]:
    running = await start_api(
        tmp_path, migrated_template, plugins, schema, api_rate_limit_per_minute=3
    )
    try:
        yield running
    finally:
        await running.close()


async def connected(api: Api, ws: AsyncWebSocketSession, token: str) -> None:
    await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"


async def until_closed(ws: AsyncWebSocketSession) -> tuple[list[Any], int]:
    """The messages received until the server closed the socket, and its close code."""
    messages: list[Any] = []
    try:
        while True:
            messages.append(await ws.receive_json(timeout=5))
    except WebSocketDisconnect as closed:
        return messages, closed.code


async def no_message(ws: AsyncWebSocketSession, seconds: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        await ws.receive_json(timeout=seconds)


async def test_subscribe_messages_spend_the_tokens_rate_limit(limited_api: Api) -> None:
    api = limited_api
    async with aconnect_ws(
        api.graphql_url, api.client, subprotocols=["graphql-transport-ws"]
    ) as ws:
        await connected(api, ws, api.tokens["viewer"])
        for n in (1, 2, 3):
            await ws.send_json({"id": str(n), "type": "subscribe", "payload": {"query": QUIET}})
        await no_message(ws)
        await ws.send_json({"id": "4", "type": "subscribe", "payload": {"query": QUIET}})
        refused = await ws.receive_json(timeout=5)
        assert refused["id"] == "4"
        assert refused["type"] == "error"
        [error] = refused["payload"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] >= 1
        assert "rate limit of 3 requests a minute" in error["message"]
        # The socket goes on: it answers a ping, and its subscriptions still deliver.
        await ws.send_json({"type": "ping"})
        assert (await ws.receive_json(timeout=5)) == {"type": "pong"}
        await HostWriter(api.db, api.account_id).notify(None, "info", "still here")
        delivered = [await ws.receive_json(timeout=5) for _ in range(3)]
        assert sorted(m["id"] for m in delivered) == ["1", "2", "3"]
        assert {m["type"] for m in delivered} == {"next"}
    # The same bucket as the token's HTTP requests; another token has its own.
    assert (await api.post("{ me { id } }", role="viewer")).status_code == 429
    assert (await api.post("{ me { id } }", role="trader")).status_code == 200


@pytest.mark.parametrize("ending", ["revoked", "expired"])
async def test_a_subscription_ends_when_its_token_does(api: Api, ending: str) -> None:
    users = UserService(api.db)  # elsewhere: the API's token cache is not told
    user = await users.create(SYSTEM, "watcher", "viewer")
    expires_at = int(time.time() * 1000) + 600 if ending == "expired" else None
    issued = await users.issue_token(SYSTEM, user.id, "ws", expires_at=expires_at)
    async with aconnect_ws(
        api.graphql_url, api.client, subprotocols=["graphql-transport-ws"]
    ) as ws:
        await connected(api, ws, issued.token)
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": QUIET}})
        await ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": QUIET}})
        await no_message(ws, 0.2)
        begun = time.monotonic()
        if ending == "revoked":
            await users.revoke_token(SYSTEM, issued.info.id)
        ended = [await ws.receive_json(timeout=5) for _ in range(2)]
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_json(timeout=5)
    waited = time.monotonic() - begun
    assert closed.value.code == 4403
    assert sorted(m["id"] for m in ended) == ["1", "2"]
    for message in ended:
        assert message["type"] == "error"
        [error] = message["payload"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert "no longer valid" in error["message"]
    # Noticed within two periods of the check (api_token_cache_s), plus the expiry.
    assert waited < 2 * TOKEN_CACHE_S + (0.6 if ending == "expired" else 0) + 0.5


@pytest.fixture
async def long_trust_api(
    tmp_path: Path, migrated_template: Path, plugins: PluginHost, schema: ApiSchema
) -> AsyncIterator[Api]:
    """Tokens trusted for 30 s: no periodic re-check happens during a test."""
    running = await start_api(tmp_path, migrated_template, plugins, schema, api_token_cache_s=30.0)
    try:
        yield running
    finally:
        await running.close()


async def test_a_subscribe_checks_the_token_first(long_trust_api: Api) -> None:
    api = long_trust_api
    users = UserService(api.db)
    user = await users.create(SYSTEM, "revoked", "viewer")
    issued = await users.issue_token(SYSTEM, user.id, "ws")
    async with aconnect_ws(
        api.graphql_url, api.client, subprotocols=["graphql-transport-ws"]
    ) as ws:
        await connected(api, ws, issued.token)
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": QUIET}})
        await no_message(ws, 0.2)
        # Revoked through the API: its trusted tokens are forgotten at once.
        await api.data(
            "mutation($t: String!) { revokeToken(tokenId: $t) { id } }", {"t": issued.info.id}
        )
        await ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": QUIET}})
        messages, code = await until_closed(ws)
    assert code == 4403
    assert sorted((m["id"], m["type"]) for m in messages) == [("1", "error"), ("2", "error")]
    codes = {m["payload"][0]["extensions"]["code"] for m in messages}
    assert codes == {"UNAUTHENTICATED"}


async def test_a_token_check_cut_off_by_the_socket_closing_ends_its_watch(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing a socket cancels its periodic token check, possibly inside a database call
    whose clean-up then raises an ordinary exception instead of the cancellation (SQLAlchemy's
    MissingGreenlet). The check must still end: one that carried on kept the server from
    stopping."""
    inside, calls = threading.Event(), []

    async def stuck(token: str) -> None:
        calls.append(token)
        inside.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            raise RuntimeError("the driver's clean-up failed") from None

    async with aconnect_ws(
        api.graphql_url, api.client, subprotocols=["graphql-transport-ws"]
    ) as ws:
        await connected(api, ws, api.tokens["viewer"])
        monkeypatch.setattr(api.services.tokens, "actor", stuck)
        assert await asyncio.to_thread(inside.wait, 5 * TOKEN_CACHE_S)
    await asyncio.sleep(3 * TOKEN_CACHE_S)
    assert len(calls) == 1  # ended; a swallowed cancellation would check again every period
    begun = time.monotonic()
    await api.close()
    assert time.monotonic() - begun < 5
