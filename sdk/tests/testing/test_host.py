from __future__ import annotations

import asyncio
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pluggy
import pytest

from tbsdk import hookimpl
from tbsdk.errors import IncompatiblePlugin
from tbsdk.info import BotInfo, HostInfo
from tbsdk.model import Instrument, OrderIntent, OrderSide, OrderType
from tbsdk.testing import InMemoryHost, spot_instrument

pytest_plugins = ["tbsdk.testing"]

BOT = BotInfo(bot_id="b1", strategy="s", exchange="binance", account_id="a1")
HOST = HostInfo(version="0", api_version="1.0", data_dir="/tmp")


def _intent(qty: str = "0.01") -> OrderIntent:
    return OrderIntent(
        client_order_id="x1",
        symbol="BTC/USDT",
        side=OrderSide.BUY,
        type=OrderType.LIMIT,
        qty=Decimal(qty),
        price=Decimal("60000"),
    )


INSTRUMENT: Instrument = spot_instrument()


class Recorder:
    TB_API_VERSION = "1.0"

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def tb_startup(self, host: HostInfo) -> str:
        self.calls.append(("startup", host))
        return "sync"

    @hookimpl
    async def tb_bot_started(self, bot: BotInfo) -> str:
        await asyncio.sleep(0)
        self.calls.append(("started", bot.bot_id))
        return "async"


class MaxQty:
    """Vetoes any order above 1 contract; takes only the argument it needs."""

    TB_API_VERSION = "1.0"

    @hookimpl
    def tb_check_order(self, intent: OrderIntent) -> str | None:
        return "too big" if intent.qty > 1 else None


class Broken:
    TB_API_VERSION = "1.0"

    @hookimpl
    def tb_check_order(self, intent: OrderIntent) -> str | None:
        raise RuntimeError("database down")


class Slow:
    TB_API_VERSION = "1.0"

    @hookimpl
    async def tb_check_order(self, intent: OrderIntent) -> str | None:
        await asyncio.sleep(5)
        return None


def test_registered_unregisters_after_the_block(tb_host: InMemoryHost) -> None:
    plugin = Recorder()
    with tb_host.registered(plugin, "rec") as same:
        assert same is plugin
        assert tb_host.plugin_names == ["rec"]
        assert tb_host.pm.is_registered(plugin)
    assert tb_host.plugin_names == []
    assert not tb_host.pm.is_registered(plugin)


def test_registered_unregisters_when_the_block_raises(tb_host: InMemoryHost) -> None:
    plugin = Recorder()
    with pytest.raises(KeyError, match="boom"), tb_host.registered(plugin, "rec"):
        raise KeyError("boom")
    assert tb_host.plugin_names == []
    # The name is free again: registering once more works.
    with tb_host.registered(plugin, "rec"):
        assert tb_host.plugin_names == ["rec"]


def test_unknown_hook_is_refused_and_not_left_registered(tb_host: InMemoryHost) -> None:
    class Typo:
        TB_API_VERSION = "1.0"

        @hookimpl
        def tb_fil(self) -> None:  # misspelt tb_fill
            pass

    with pytest.raises(pluggy.PluginValidationError, match="unknown hook tb_fil"):  # noqa: SIM117
        with tb_host.registered(Typo(), "typo"):
            pytest.fail("the block must not run")
    assert tb_host.plugin_names == []


def test_hook_wrappers_are_refused(tb_host: InMemoryHost) -> None:
    class Wrapper:
        TB_API_VERSION = "1.0"

        @hookimpl(wrapper=True)
        def tb_startup(self, host: HostInfo) -> Any:
            return (yield)

    with pytest.raises(pluggy.PluginValidationError, match="wrappers"):  # noqa: SIM117
        with tb_host.registered(Wrapper(), "wrap"):
            pass
    assert tb_host.plugin_names == []


@pytest.mark.parametrize("version", [None, "2.0", "1.9", "one"])
def test_incompatible_api_version_is_refused(tb_host: InMemoryHost, version: str | None) -> None:
    plugin = SimpleNamespace(TB_API_VERSION=version) if version else SimpleNamespace()
    with pytest.raises(IncompatiblePlugin), tb_host.registered(plugin, "old"):
        pass
    assert tb_host.plugin_names == []


async def test_fire_calls_sync_and_async_implementations(tb_host: InMemoryHost) -> None:
    rec = Recorder()
    with tb_host.registered(rec, "rec"):
        assert await tb_host.fire("tb_startup", host=HOST) == ["sync"]
        assert await tb_host.fire("tb_bot_started", bot=BOT) == ["async"]
    assert rec.calls == [("startup", HOST), ("started", "b1")]
    assert await tb_host.fire("tb_startup", host=HOST) == []  # gone after the block


def test_fire_sync_outside_a_loop(tb_host: InMemoryHost) -> None:
    rec = Recorder()
    with tb_host.registered(rec, "rec"):
        assert tb_host.fire_sync("tb_bot_started", bot=BOT) == ["async"]


async def test_fire_sync_inside_a_loop_says_to_await(tb_host: InMemoryHost) -> None:
    with pytest.raises(RuntimeError, match="await"):
        tb_host.fire_sync("tb_startup", host=HOST)


async def test_fire_lets_observer_exceptions_reach_the_test(tb_host: InMemoryHost) -> None:
    class Raises:
        TB_API_VERSION = "1.0"

        @hookimpl
        def tb_signal(self, name: str) -> None:
            raise ValueError(f"bad signal {name}")

    with tb_host.registered(Raises(), "raises"), pytest.raises(ValueError, match="bad signal x"):
        await tb_host.fire("tb_signal", bot=BOT, name="x", data={})


async def test_fire_checks_hook_name_and_arguments(tb_host: InMemoryHost) -> None:
    with pytest.raises(ValueError, match="not an observer hook"):
        await tb_host.fire("tb_check_order", bot=BOT)
    with pytest.raises(ValueError, match="not an observer hook"):
        await tb_host.fire("tb_nothing")
    with pytest.raises(TypeError, match="takes"):
        await tb_host.fire("tb_bot_stopped", bot=BOT)  # reason missing


async def test_check_order_allows_with_no_or_passing_checks(tb_host: InMemoryHost) -> None:
    assert await tb_host.check_order(BOT, _intent(), INSTRUMENT) is None
    with tb_host.registered(MaxQty(), "maxqty"):
        assert await tb_host.check_order(BOT, _intent("0.5"), INSTRUMENT) is None


async def test_check_order_veto_names_the_plugin(tb_host: InMemoryHost) -> None:
    with tb_host.registered(MaxQty(), "maxqty"):
        assert await tb_host.check_order(BOT, _intent("2"), INSTRUMENT) == "maxqty: too big"


async def test_check_order_exception_is_a_veto(tb_host: InMemoryHost) -> None:
    with tb_host.registered(MaxQty(), "maxqty"), tb_host.registered(Broken(), "broken"):
        verdict = await tb_host.check_order(BOT, _intent("0.5"), INSTRUMENT)
    assert verdict == "broken: check failed (RuntimeError: database down)"


async def test_check_order_timeout_is_a_veto() -> None:
    host = InMemoryHost(check_timeout_s=0.05)
    with host.registered(Slow(), "slow"):
        verdict = await host.check_order(BOT, _intent(), INSTRUMENT)
    assert verdict == "slow: check timed out after 0.05s"


async def test_every_check_is_asked_and_vetoes_are_joined(tb_host: InMemoryHost) -> None:
    with tb_host.registered(MaxQty(), "maxqty"), tb_host.registered(Broken(), "broken"):
        verdict = await tb_host.check_order(BOT, _intent("2"), INSTRUMENT)
    assert verdict is not None
    assert sorted(verdict.split("; ")) == [
        "broken: check failed (RuntimeError: database down)",
        "maxqty: too big",
    ]


def test_check_order_sync(tb_host: InMemoryHost) -> None:
    with tb_host.registered(MaxQty(), "maxqty"):
        assert tb_host.check_order_sync(BOT, _intent("2"), INSTRUMENT) == "maxqty: too big"


def test_no_entry_point_plugins_are_loaded(tb_host: InMemoryHost) -> None:
    # Discovery is off: even with plugins installed in this environment, nothing is registered.
    assert tb_host.plugin_names == []
    assert tb_host.pm.get_plugins() == set()
