"""Hook isolation: observers quarantined after repeated failures, pre-trade checks fail closed."""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tbhost.plugins import PluginHost, PluginStatus
from tbsdk import BotInfo, ConfigError, hookimpl
from tbsdk.model import Instrument, OrderIntent, OrderSide, OrderType

BOT = BotInfo(bot_id="b1", strategy="good", exchange="paper", account_id="a1")
INSTRUMENT = Instrument(
    exchange="paper",
    symbol="BTC/USDT",
    base="BTC",
    quote="USDT",
    tick_size=Decimal("0.1"),
    lot_step=Decimal("0.001"),
)
INTENT = OrderIntent(
    client_order_id="hx1",
    symbol="BTC/USDT",
    side=OrderSide.BUY,
    type=OrderType.LIMIT,
    qty=Decimal("0.5"),
    price=Decimal("100"),
)


class Recorder:
    TB_API_VERSION = "1.0"

    def __init__(self) -> None:
        self.started: list[str] = []

    @hookimpl
    def tb_bot_started(self, bot: BotInfo) -> None:
        self.started.append(bot.bot_id)


class Flaky:
    TB_API_VERSION = "1.0"

    def __init__(self, fail_times: int) -> None:
        self.calls = 0
        self.fail_times = fail_times

    @hookimpl
    async def tb_bot_started(self, bot: BotInfo) -> None:
        self.calls += 1
        if self.calls <= self.fail_times:
            raise RuntimeError(f"boom {self.calls}")


async def test_failing_observer_is_quarantined_and_others_keep_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = PluginHost(failure_limit=3)
    good, bad = Recorder(), Flaky(fail_times=100)
    host.register(good, "good")
    host.register(bad, "bad")

    for _ in range(5):
        await host.bot_started(BOT)

    assert good.started == ["b1"] * 5  # the host kept serving the healthy plugin
    assert bad.calls == 3  # unregistered after the third consecutive failure
    record = next(r for r in host.records if r.name == "bad")
    assert record.status is PluginStatus.QUARANTINED
    assert "3 consecutive failures, last in tb_bot_started: RuntimeError: boom 3" in (
        record.reason or ""
    )
    assert sum("plugin bad raised in tb_bot_started" in m for m in caplog.messages) == 3


async def test_success_resets_the_failure_count() -> None:
    host = PluginHost(failure_limit=3)
    flaky = Flaky(fail_times=2)
    host.register(flaky, "flaky")
    for _ in range(6):
        await host.bot_started(BOT)
    assert flaky.calls == 6
    assert host.records[0].status is PluginStatus.OK


def test_incompatible_direct_registration_is_refused() -> None:
    host = PluginHost()
    plugin = SimpleNamespace(TB_API_VERSION="0.9")
    record = host.register(plugin, "old")
    assert record.status is PluginStatus.INCOMPATIBLE
    assert "targets SDK API 0.9, but this host runs SDK API 1.0" in (record.reason or "")


class Checks:
    TB_API_VERSION = "1.0"

    def __init__(self, verdict: str | None = None, error: bool = False, sleep: float = 0) -> None:
        self.verdict, self.error, self.sleep = verdict, error, sleep

    @hookimpl
    def tb_check_order(self, intent: OrderIntent) -> str | None:
        if self.sleep:
            time.sleep(self.sleep)
        if self.error:
            raise ValueError("limits table unreadable")
        return self.verdict


class AsyncSlowCheck:
    TB_API_VERSION = "1.0"

    @hookimpl
    async def tb_check_order(self, bot: BotInfo) -> str | None:
        await asyncio.sleep(5)
        return None


async def test_check_order_allows_when_every_check_allows() -> None:
    host = PluginHost()
    host.register(Checks(), "a")
    host.register(Checks(), "b")
    assert await host.check_order(BOT, INTENT, INSTRUMENT) is None


async def test_check_order_collects_every_veto() -> None:
    host = PluginHost()
    host.register(Checks("too big"), "size")
    host.register(Checks(), "fine")
    host.register(Checks("market closed"), "hours")
    verdict = await host.check_order(BOT, INTENT, INSTRUMENT)
    assert verdict is not None
    assert set(verdict.split("; ")) == {"size: too big", "hours: market closed"}


async def test_check_order_fails_closed_on_exception(caplog: pytest.LogCaptureFixture) -> None:
    host = PluginHost()
    host.register(Checks(error=True), "limits")
    verdict = await host.check_order(BOT, INTENT, INSTRUMENT)
    assert verdict == "limits: check failed (ValueError: limits table unreadable)"
    assert any(rec.levelno == logging.ERROR for rec in caplog.records)


@pytest.mark.parametrize("plugin", [Checks(sleep=1.0), AsyncSlowCheck()])
async def test_check_order_fails_closed_on_timeout(plugin: object) -> None:
    host = PluginHost(check_timeout_s=0.2)
    host.register(plugin, "slow")
    started = time.monotonic()
    verdict = await host.check_order(BOT, INTENT, INSTRUMENT)
    assert verdict == "slow: check timed out after 0.2s"
    assert time.monotonic() - started < 0.9


def test_component_lookup_explains_what_is_missing() -> None:
    host = PluginHost()
    with pytest.raises(ConfigError, match=r"no tbhost\.strategies plugin named 'nope'"):
        host.strategy_class("nope")


def test_unknown_hook_is_refused_with_the_known_names() -> None:
    host = PluginHost()
    plugin = SimpleNamespace(TB_API_VERSION="1.0")

    @hookimpl
    def tb_on_moon() -> None: ...

    plugin.tb_on_moon = tb_on_moon
    record = host.register(plugin, "moon")
    assert record.status is PluginStatus.FAILED
    assert "unknown hook(s) tb_on_moon" in (record.reason or "")
    assert "tb_check_order" in (record.reason or "")
