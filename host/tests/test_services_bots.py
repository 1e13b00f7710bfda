"""BotService on both backends: settings validated by the strategy's own config class, one
bot per (account, symbol), the lifecycle, close requests, and one audit entry per change
written in the change's transaction."""

from __future__ import annotations

from typing import Any

import pytest

from tbhost.services import (
    CLOSE_DONE,
    Conflict,
    InvalidConfig,
    NotFound,
    complete_close_request,
    pending_close_requests,
)
from tbhost.services import _common as services_common
from tbhost.storage.models import BotStatus
from tbhost.storage.repos import bots as bot_repo

from .test_services_kit import World, world_fixture  # noqa: F401 - the fixture


async def _entries(w: World, **filters: Any) -> list[Any]:
    return (await w.audit.list(w.admin, newest_first=False, **filters)).items


async def test_create_stores_the_validated_snapshot_and_one_audit_entry(world: World) -> None:
    bot = await world.bots.create(
        world.trader, "rsi-btc", "rsi_reversal", world.account_id, ["BTC/USDT"], "1h",
        {"rsi_length": 21, "qty": "0.5"},
    )  # fmt: skip
    assert (bot.state, bot.symbols, bot.created_by) == (
        BotStatus.CREATED,
        ("BTC/USDT",),
        world.trader.user_id,
    )
    # Defaults filled in, Decimals as exact JSON strings: what every later decision uses.
    assert bot.config["rsi_length"] == 21
    assert bot.config["qty"] == "0.5"
    assert bot.config["oversold"] == 30.0
    assert await world.bots.get(world.viewer, "rsi-btc") == bot  # by name, too
    [entry] = await _entries(world, target_id=bot.id)
    assert (entry.actor, entry.action, entry.target_type) == (
        world.trader.user_id,
        "bot.create",
        "bot",
    )
    assert entry.details["config_hash"] == bot.config_hash


async def test_a_grid_bot_validates_with_the_grid_config(world: World) -> None:
    bot = await world.bots.create(
        world.trader, "grid-eth", "grid", world.account_id, ["ETH/USDT"], "15m", {"leverage": 3}
    )
    assert bot.config["leverage"] == 3
    assert bot.strategy == "grid"
    with pytest.raises(InvalidConfig) as bad:
        await world.bots.create(
            world.trader, "grid-2", "grid", world.account_id, ["XRP/USDT"], "15m", {"lever": 3}
        )
    assert bad.value.fields == ("lever",)


@pytest.mark.parametrize(
    ("settings", "fields", "text"),
    [
        ({"rsi_length": 1}, ("rsi_length",), "rsi_length: Input should be greater than"),
        ({"rsi_length": 1, "qty": "-1"}, ("rsi_length", "qty"), "qty: Input should be"),
        ({"oversold": 80}, ("settings",), "oversold (80.0) must be below overbought"),
        ({"rsi_lenght": 14}, ("rsi_lenght",), "rsi_lenght: Extra inputs are not permitted"),
    ],
)
async def test_invalid_settings_name_each_bad_field_and_store_nothing(
    world: World, settings: dict[str, Any], fields: tuple[str, ...], text: str
) -> None:
    before = await world.audit_count()
    with pytest.raises(InvalidConfig) as bad:
        await world.bots.create(
            world.trader, "bad", "rsi_reversal", world.account_id, ["BTC/USDT"], "1h", settings
        )
    assert bad.value.fields == fields
    assert text in str(bad.value)
    assert "'rsi_reversal'" in str(bad.value)
    assert await world.bots.list(world.admin) == []
    assert await world.audit_count() == before


@pytest.mark.parametrize(
    ("strategy", "symbols", "timeframe", "field"),
    [
        ("nope", ["BTC/USDT"], "1h", "strategy"),
        ("rsi_reversal", [], "1h", "symbols"),
        ("rsi_reversal", ["BTC/USDT"], "7m", "timeframe"),
    ],
)
async def test_unknown_strategy_no_symbol_or_bad_timeframe_is_invalid(
    world: World, strategy: str, symbols: list[str], timeframe: str, field: str
) -> None:
    with pytest.raises(InvalidConfig) as bad:
        await world.bots.create(
            world.trader, "bad", strategy, world.account_id, symbols, timeframe, {}
        )
    assert bad.value.fields == (field,)


async def test_unknown_account_is_not_found(world: World) -> None:
    with pytest.raises(NotFound, match="no exchange account"):
        await world.bots.create(world.trader, "b", "grid", "missing", ["BTC/USDT"], "1h", {})


async def test_one_bot_per_account_and_symbol_whatever_the_strategy(world: World) -> None:
    first = await world.bots.create(
        world.trader, "a", "rsi_reversal", world.account_id, ["BTC/USDT", "ETH/USDT"], "1h", {}
    )
    before = await world.audit_count()
    with pytest.raises(Conflict, match=r"bot 'a' already trades ETH/USDT on account 'main'"):
        await world.bots.create(
            world.trader, "b", "grid", world.account_id, ["ETH/USDT", "SOL/USDT"], "1h", {}
        )
    with pytest.raises(Conflict, match="a bot named 'a' already exists"):
        await world.bots.create(world.trader, "a", "grid", world.account_id, ["SOL/USDT"], "1h", {})
    assert await world.audit_count() == before
    # Another account may trade the same symbol.
    other = await world.accounts.add(world.admin, "paper", "second")
    await world.bots.create(world.trader, "c", "grid", other.id, ["ETH/USDT"], "1h", {})
    # Configure may not take a symbol another bot holds either.
    solo = await world.bots.create(
        world.trader, "d", "grid", world.account_id, ["SOL/USDT"], "1h", {}
    )
    with pytest.raises(Conflict, match="already trades BTC/USDT"):
        await world.bots.configure(world.trader, solo.id, symbols=["BTC/USDT"])
    # A stopped bot still holds its symbols; a deleted one frees them.
    await world.bots.start(world.trader, first.id)
    await world.bots.stop(world.trader, first.id)
    with pytest.raises(Conflict):
        await world.bots.create(world.trader, "e", "grid", world.account_id, ["BTC/USDT"], "1h", {})
    await world.bots.delete(world.trader, first.id)
    again = await world.bots.create(
        world.trader, "e", "grid", world.account_id, ["BTC/USDT"], "1h", {}
    )
    assert again.state is BotStatus.CREATED


async def test_configure_merges_validates_and_audits(world: World) -> None:
    bot = await world.new_bot(rsi_length=21)
    changed = await world.bots.configure(
        world.trader, bot.id, settings={"oversold": 25}, timeframe="4h"
    )
    assert changed.config["rsi_length"] == 21
    assert changed.config["oversold"] == 25.0
    assert changed.timeframe == "4h"
    assert changed.config["timeframe"] == "4h"  # the strategy's setting follows the bot's
    assert changed.config_hash != bot.config_hash
    [entry] = await _entries(world, action="bot.configure")
    assert entry.details["settings"] == {"oversold": 25.0, "timeframe": "4h"}
    assert entry.details["config_hash"] == {"from": bot.config_hash, "to": changed.config_hash}
    with pytest.raises(InvalidConfig, match="overbought"):
        await world.bots.configure(world.trader, bot.id, settings={"oversold": 90})
    replaced = await world.bots.configure(world.trader, bot.id, settings={}, replace=True)
    assert replaced.config["rsi_length"] == 14  # back to the defaults
    assert (await world.bots.get(world.viewer, bot.id)).config == replaced.config
    assert len(await _entries(world, action="bot.configure")) == 2


# For each command: the states it may start from (the rest must be refused with Conflict).
LEGAL: dict[str, dict[BotStatus, BotStatus]] = {
    "start": {BotStatus.CREATED: BotStatus.RUNNING, BotStatus.STOPPED: BotStatus.RUNNING},
    "pause": {BotStatus.RUNNING: BotStatus.PAUSED},
    "resume": {BotStatus.PAUSED: BotStatus.RUNNING},
    "stop": {
        BotStatus.RUNNING: BotStatus.STOPPED,
        BotStatus.PAUSED: BotStatus.STOPPED,
        BotStatus.FAULTED: BotStatus.STOPPED,
    },
}


@pytest.mark.parametrize("command", list(LEGAL))
async def test_lifecycle_moves_and_illegal_ones(world: World, command: str) -> None:
    for state in BotStatus:
        bot = await world.new_bot()
        async with world.db.transaction() as s:  # put it there as the host would
            await bot_repo.set_state(s, bot.id, state, reason="boom")
        before = await world.audit_count()
        call = getattr(world.bots, command)
        if state in LEGAL[command]:
            moved = await call(world.trader, bot.id)
            assert moved.state is LEGAL[command][state], (command, state)
            [entry] = (await world.audit.list(world.admin, limit=1)).items
            assert (entry.action, entry.target_id, entry.actor) == (
                f"bot.{command}",
                bot.id,
                world.trader.user_id,
            )
            assert entry.details == {
                "name": bot.name,
                "from": state.value,
                "to": moved.state.value,
            }
            assert await world.audit_count() == before + 1
        else:
            with pytest.raises(Conflict, match=f"cannot {command} bot '{bot.name}': it is"):
                await call(world.trader, bot.id)
            assert (await world.bots.get(world.viewer, bot.id)).state is state
            assert await world.audit_count() == before


async def test_delete_only_from_created_or_stopped(world: World) -> None:
    for state in BotStatus:
        bot = await world.new_bot()
        async with world.db.transaction() as s:
            await bot_repo.set_state(s, bot.id, state)
        if state in (BotStatus.CREATED, BotStatus.STOPPED):
            await world.bots.delete(world.trader, bot.id)
            with pytest.raises(NotFound):
                await world.bots.get(world.viewer, bot.id)
            assert bot.id not in {b.id for b in await world.bots.list(world.viewer)}
        else:
            with pytest.raises(Conflict, match="delete works only from created, stopped"):
                await world.bots.delete(world.trader, bot.id)
    with pytest.raises(NotFound):
        await world.bots.start(world.trader, "no-such-bot")


async def test_list_filters(world: World) -> None:
    a = await world.bots.create(world.trader, "a", "grid", world.account_id, ["BTC/USDT"], "1h", {})
    b = await world.new_bot()
    await world.bots.start(world.trader, b.id)
    assert [x.name for x in await world.bots.list(world.viewer)] == ["a", b.name]
    assert [x.id for x in await world.bots.list(world.viewer, strategy="grid")] == [a.id]
    assert [x.id for x in await world.bots.list(world.viewer, state="running")] == [b.id]
    assert [x.id for x in await world.bots.list(world.viewer, symbol="BTC/USDT")] == [a.id]
    assert await world.bots.list(world.viewer, account_id="other") == []


async def test_close_positions_is_a_pending_request_until_the_host_completes_it(
    world: World,
) -> None:
    bot = await world.new_bot()
    with pytest.raises(Conflict, match="has never run"):
        await world.bots.close_positions(world.trader, bot.id)
    await world.bots.start(world.trader, bot.id)
    request = await world.bots.close_positions(world.trader, bot.id)
    assert (request.bot_id, request.requested_by) == (bot.id, world.trader.user_id)
    # Asking again while it is pending returns the same request and writes nothing.
    before = await world.audit_count()
    assert await world.bots.close_positions(world.admin, bot.id) == request
    assert await world.audit_count() == before
    async with world.db.transaction() as s:
        assert await pending_close_requests(s) == [request]
        done = await complete_close_request(s, request.request_id, outcome="closed")
        assert (done.actor, done.action, done.details["request_id"]) == (
            "system",
            CLOSE_DONE,
            request.request_id,
        )
    async with world.db.transaction() as s:
        assert await pending_close_requests(s, bot.id) == []
        with pytest.raises(Conflict, match="already completed"):
            await complete_close_request(s, request.request_id, outcome="closed")
        with pytest.raises(NotFound):
            await complete_close_request(s, 999_999, outcome="closed")
    second = await world.bots.close_positions(world.trader, bot.id)
    assert second.request_id > request.request_id


@pytest.mark.parametrize("step", ["create", "start", "configure", "delete"])
async def test_a_failed_audit_write_leaves_no_change_and_no_entry(
    world: World, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await world.new_bot()
    before_bot = await world.bots.get(world.viewer, bot.id)
    before = await world.audit_count()

    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("forced failure while writing the audit entry")

    monkeypatch.setattr(services_common.audit, "record", broken)
    calls = {
        "create": lambda: world.bots.create(
            world.trader, "x", "grid", world.account_id, ["X/USDT"], "1h", {}
        ),
        "start": lambda: world.bots.start(world.trader, bot.id),
        "configure": lambda: world.bots.configure(world.trader, bot.id, settings={"oversold": 20}),
        "delete": lambda: world.bots.delete(world.trader, bot.id),
    }
    with pytest.raises(RuntimeError, match="forced failure"):
        await calls[step]()
    monkeypatch.undo()
    assert await world.audit_count() == before
    assert await world.bots.get(world.viewer, bot.id) == before_bot
    assert [b.id for b in await world.bots.list(world.viewer)] == [bot.id]


async def test_a_failed_change_writes_no_entry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await world.new_bot()
    before = await world.audit_count()

    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("forced failure while storing the state")

    monkeypatch.setattr(bot_repo, "set_state", broken)
    with pytest.raises(RuntimeError, match="forced failure"):
        await world.bots.start(world.trader, bot.id)
    monkeypatch.undo()
    assert await world.audit_count() == before
    assert (await world.bots.get(world.viewer, bot.id)).state is BotStatus.CREATED


async def test_the_plugin_hosts_strategy_lookup_plugs_in(world: World) -> None:
    from tbhost.plugins import PluginHost
    from tbhost.services import BotService

    plugin_host = PluginHost.discover()
    service = BotService(world.db, plugin_host.strategy_class)
    bot = await service.create(
        world.trader, "via-host", "rsi_reversal", world.account_id, ["BTC/USDT"], "1h", {}
    )
    assert bot.config["rsi_length"] == 14
    with pytest.raises(InvalidConfig, match="plugin named 'nope'; available: grid"):
        await service.create(world.trader, "x", "nope", world.account_id, ["X/USDT"], "1h", {})
