"""Depth, field-count, alias and rate limits; health, readiness and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tbhost.api import build_schema
from tbhost.api.limits import RateLimiter
from tbhost.api.schema import ApiSchema
from tbhost.plugins import PluginHost

from .conftest import api_settings, start_api
from .host_writes import HostWriter
from .kit import Api
from .test_bots_and_trading import create_bot


async def test_a_query_deeper_than_the_limit_is_refused(
    tmp_path: Path, migrated_template: Path, plugins: PluginHost
) -> None:
    settings = api_settings(tmp_path, api_max_depth=1)
    api = await start_api(
        tmp_path, migrated_template, plugins, build_schema(settings, plugins), api_max_depth=1
    )
    try:
        assert await api.data("{ bots { id } }") == {"bots": []}
        refused = await api.error("{ orders { items { id } } }")
        assert refused["extensions"]["code"] == "BAD_REQUEST"
        assert refused["message"] == "'anonymous' exceeds maximum operation depth of 1"
    finally:
        await api.close()


async def test_too_many_aliases_are_refused(api: Api) -> None:
    ok = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(30)) + " }"
    assert len(await api.data(ok)) == 30
    refused = await api.error("{ " + " ".join(f"a{i}: me {{ id }}" for i in range(31)) + " }")
    assert refused["extensions"]["code"] == "BAD_REQUEST"
    assert "aliases found. Allowed: 30" in refused["message"]


async def test_the_field_count_rule_counts_fragment_spreads(api: Api) -> None:
    fragment = "fragment F on Bot { id name strategy accountId symbols timeframe state config }"
    # 8 fields x 60 spreads + 60 bots fields = 540 > 500; only 20 aliases, under that limit.
    spreads = " ".join(["...F"] * 60)
    query = "{ " + " ".join(f"b{i}: bots {{ {spreads} }}" for i in range(3)) + " } " + fragment
    refused = await api.error(query)
    assert refused["extensions"]["code"] == "BAD_REQUEST"
    assert refused["message"] == (
        "operation 'anonymous' selects 1443 fields; the limit is 500 (setting api_max_complexity)"
    )


@pytest.fixture
async def limited_api(
    tmp_path: Path, migrated_template: Path, plugins: PluginHost, schema: ApiSchema
) -> AsyncIterator[Api]:
    running = await start_api(
        tmp_path, migrated_template, plugins, schema, api_rate_limit_per_minute=5
    )
    try:
        yield running
    finally:
        await running.close()


async def test_each_token_has_its_own_rate_limit(limited_api: Api) -> None:
    api = limited_api
    for _ in range(5):
        assert (await api.post("{ me { username } }")).status_code == 200
    refused = await api.post("{ me { username } }")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["requestId"] == refused.headers["x-request-id"]
    # Another token still has its budget; health checks are not limited.
    assert (await api.post("{ me { username } }", role="viewer")).status_code == 200
    for _ in range(10):
        assert (await api.client.get(api.url + "/healthz")).status_code == 200


def test_the_token_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.allow("k") is None for _ in range(60))
    assert limiter.allow("k") == pytest.approx(1.0)
    now[0] = 0.5
    assert limiter.allow("k") == pytest.approx(0.5)
    now[0] = 1.0
    assert limiter.allow("k") is None
    assert limiter.allow("other") is None


async def test_readiness_reports_each_check(api: Api) -> None:
    response = await api.client.get(api.url + "/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    checks = body["checks"]
    assert checks["storage"]["status"] == "ok"
    assert checks["storage"]["backend"] == "sqlite"
    assert checks["storage"]["latency_ms"] >= 0
    assert checks["plugins"]["status"] == "ok"
    assert checks["plugins"]["groups"]["tbhost.strategies"]["loaded"] >= 3
    assert checks["plugins"]["groups"]["tbhost.exchanges"]["loaded"] >= 1
    assert checks["exchanges"] == {
        "paper": {"status": "ok", "latency_ms": pytest.approx(0, abs=50)}
    }
    assert (await api.client.get(api.url + "/healthz")).json() == {"status": "ok"}


async def test_metrics_count_orders_fills_positions_bots_and_requests(api: Api) -> None:
    bot = await create_bot(api)
    await api.data('mutation { startBot(bot: "rsi-btc") { id } }', role="trader")
    host = HostWriter(api.db, api.account_id)
    await host.place(bot["id"], "c1", qty="0.5")
    await host.place(bot["id"], "c2", qty="1")
    await host.fill("c1", "t1", "0.5", "20000")
    await host.position(bot["id"], "0.5")
    api.services.metrics.exchange_call("paper", "create_order", 0.003)
    api.services.metrics.exchange_error("paper", "timeout")
    text = (await api.client.get(api.url + "/metrics")).text
    lines = set(text.splitlines())
    assert 'tbhost_orders{status="filled",venue="paper"} 1.0' in lines
    assert 'tbhost_orders{status="submitted",venue="paper"} 1.0' in lines
    assert 'tbhost_fills{venue="paper"} 1.0' in lines
    assert 'tbhost_open_positions{venue="paper"} 1.0' in lines
    assert 'tbhost_bots{state="running"} 1.0' in lines
    assert 'tbhost_bots{state="stopped"} 0.0' in lines
    assert 'tbhost_exchange_errors_total{exchange="paper",kind="timeout"} 1.0' in lines
    assert any(
        line.startswith(
            'tbhost_exchange_request_duration_seconds_count{exchange="paper",operation="create_order"}'
        )
        for line in lines
    )
    assert any(
        line.startswith(
            'tbhost_api_request_duration_seconds_count{method="POST",path="/graphql",status="200"}'
        )
        for line in lines
    )
