"""Tokens, roles, typed errors and request ids, through HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import time

import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws

from tbhost.services import SYSTEM, UserService

from .conftest import TOKEN_CACHE_S
from .kit import Api

ME = "{ me { username } }"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer tbh_000000000000_nope"}, {"Authorization": "Basic abc"}],
)
async def test_without_a_valid_token_graphql_answers_401(api: Api, headers: dict[str, str]) -> None:
    response = await api.post(ME, role=None, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    by_get = await api.client.get(api.graphql_url, params={"query": ME}, headers=headers)
    assert by_get.status_code == 401


async def test_only_health_readiness_metrics_and_the_graphiql_page_answer_without_a_token(
    api: Api,
) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await api.client.get(api.url + path)).status_code == 200, path
    page = await api.client.get(api.graphql_url, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    for path in ("/docs", "/openapi.json", "/", "/graphql/x"):
        assert (await api.client.get(api.url + path)).status_code == 404, path


async def test_a_viewer_mutation_is_forbidden_naming_the_role_needed(api: Api) -> None:
    error = await api.error('mutation { startBot(bot: "x") { id } }', role="viewer")
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["role"] == "viewer"
    assert error["extensions"]["action"] == "bot.start"
    assert error["message"] == "viewer (role viewer) may not bot.start"
    assert error["path"] == ["startBot"]
    admin_only = await api.error(
        'mutation { createUser(username: "x", role: ADMIN) { id } }', role="trader"
    )
    assert admin_only["extensions"]["code"] == "FORBIDDEN"
    assert admin_only["message"] == "trader (role trader) may not user.create"


async def test_revoked_expired_and_disabled_tokens_are_refused(api: Api) -> None:
    users = UserService(api.db)  # the CLI, or another host, on the same database
    user = await users.create(SYSTEM, "temp", "trader")
    by_api = await users.issue_token(SYSTEM, user.id, "by-api")
    elsewhere = await users.issue_token(SYSTEM, user.id, "elsewhere")
    expiring = await users.issue_token(
        SYSTEM, user.id, "expiring", expires_at=int(time.time() * 1000) + 200
    )
    bearer = {
        t.info.name: {"Authorization": f"Bearer {t.token}"} for t in (by_api, elsewhere, expiring)
    }
    for headers in bearer.values():
        assert (await api.post(ME, role=None, headers=headers)).status_code == 200

    # Revoked through the API: refused at once, though the token was just trusted.
    await api.data(
        "mutation($t: String!) { revokeToken(tokenId: $t) { id } }", {"t": by_api.info.id}
    )
    assert (await api.post(ME, role=None, headers=bearer["by-api"])).status_code == 401

    # Revoked elsewhere, or expired: refused once the API's trust (api_token_cache_s) ran out.
    await users.revoke_token(SYSTEM, elsewhere.info.id)
    await asyncio.sleep(TOKEN_CACHE_S + 0.05)
    assert (await api.post(ME, role=None, headers=bearer["elsewhere"])).status_code == 401
    assert (await api.post(ME, role=None, headers=bearer["expiring"])).status_code == 401

    fresh = await users.issue_token(SYSTEM, user.id, "fresh")
    fresh_bearer = {"Authorization": f"Bearer {fresh.token}"}
    assert (await api.post(ME, role=None, headers=fresh_bearer)).status_code == 200
    await api.data("mutation($u: String!) { disableUser(userId: $u) { id } }", {"u": user.id})
    assert (await api.post(ME, role=None, headers=fresh_bearer)).status_code == 401


async def test_a_token_is_checked_again_after_the_cache_time(api: Api) -> None:
    users = UserService(api.db)
    user = await users.create(SYSTEM, "promoted", "viewer")
    token = await users.issue_token(SYSTEM, user.id, "t")
    headers = {"Authorization": f"Bearer {token.token}"}
    first = await api.post("{ me { role } }", role=None, headers=headers)
    assert first.json()["data"]["me"]["role"] == "VIEWER"
    await users.set_role(SYSTEM, user.id, "trader")  # elsewhere
    await asyncio.sleep(TOKEN_CACHE_S + 0.05)
    later = await api.post("{ me { role } }", role=None, headers=headers)
    assert later.json()["data"]["me"]["role"] == "TRADER"


async def test_a_websocket_without_a_valid_token_is_closed(api: Api) -> None:
    for payload in ({}, {"Authorization": "Bearer tbh_000000000000_nope"}):
        async with aconnect_ws(
            api.graphql_url, api.client, subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send_json({"type": "connection_init", "payload": payload})
            with pytest.raises(WebSocketDisconnect) as closed:
                await ws.receive_json(timeout=5)
            assert closed.value.code == 4403


async def test_typed_errors_name_the_field(api: Api) -> None:
    bad = await api.error(
        """mutation($i: CreateBotInput!) { createBot(input: $i) { id } }""",
        {
            "i": {
                "name": "b",
                "strategy": "rsi_reversal",
                "accountId": api.account_id,
                "symbols": ["BTC/USDT"],
                "timeframe": "1h",
                "settings": {"rsi_length": 1, "rsi_lenght": 3},
            }
        },
        role="trader",
    )
    assert bad["extensions"]["code"] == "INVALID_CONFIG"
    assert bad["extensions"]["fields"] == ["rsi_length", "rsi_lenght"]
    assert "rsi_length: Input should be greater than or equal to 2" in bad["message"]
    assert "rsi_lenght: Extra inputs are not permitted" in bad["message"]

    timeframe = await api.error(
        """mutation($i: CreateBotInput!) { createBot(input: $i) { id } }""",
        {
            "i": {
                "name": "b",
                "strategy": "rsi_reversal",
                "accountId": api.account_id,
                "symbols": ["BTC/USDT"],
                "timeframe": "7h",
            }
        },
        role="trader",
    )
    assert (timeframe["extensions"]["code"], timeframe["extensions"]["fields"]) == (
        "INVALID_CONFIG",
        ["timeframe"],
    )

    missing = await api.error('{ bot(ref: "nope") { id } }')
    assert missing["extensions"]["code"] == "NOT_FOUND"
    assert missing["message"] == "no bot 'nope'"

    await api.data('mutation { createUser(username: "dup", role: VIEWER) { id } }')
    duplicate = await api.error('mutation { createUser(username: "dup", role: VIEWER) { id } }')
    assert duplicate["extensions"]["code"] == "CONFLICT"

    cursor = await api.error('{ orders(after: "abc") { nextCursor } }')
    assert cursor["extensions"]["code"] == "BAD_REQUEST"
    assert cursor["message"].startswith("after:")
    limit = await api.error("{ fills(limit: 0) { nextCursor } }")
    assert (limit["extensions"]["code"], limit["message"]) == (
        "BAD_REQUEST",
        "limit must be between 1 and 500, not 0",
    )
    unknown = await api.error("{ nope }")
    assert unknown["extensions"]["code"] == "BAD_REQUEST"
    assert "nope" in unknown["message"]
    syntax = await api.post("{ me ")
    assert syntax.status_code == 200  # application/json: errors travel in the body
    assert syntax.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_request_ids_are_echoed_or_made_and_reach_the_errors(api: Api) -> None:
    given = await api.post(ME, headers={"X-Request-ID": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    made = await api.post(ME)
    assert len(made.headers["x-request-id"]) == 32
    assert made.headers["x-request-id"] != "trace-42"
    odd = await api.post(ME, headers={"X-Request-ID": "bad id with spaces"})
    assert odd.headers["x-request-id"] != "bad id with spaces"
    failing = await api.post('{ bot(ref: "nope") { id } }', headers={"X-Request-ID": "trace-43"})
    assert failing.json()["errors"][0]["extensions"]["requestId"] == "trace-43"
    health = await api.client.get(api.url + "/healthz", headers={"X-Request-ID": "h1"})
    assert health.headers["x-request-id"] == "h1"
