"""The service reads the CLI needed and added: a user by id or username
(``UserService.get``) and a bot's latest strategy state (``QueryService.strategy_state``),
on both backends, with their role checks."""

from __future__ import annotations

import pytest

from tbhost.services import SYSTEM, Forbidden, NotFound, StrategySnapshot
from tbhost.storage.models import Role
from tbhost.storage.repos import states

from .test_services_kit import World, world_fixture  # noqa: F401 - the fixture


async def test_a_user_is_found_by_id_or_username_disabled_ones_too(world: World) -> None:
    bob = await world.users.create(SYSTEM, "bob", Role.VIEWER)
    assert await world.users.get(world.admin, "bob") == bob
    assert await world.users.get(world.admin, bob.id) == bob
    disabled = await world.users.disable(SYSTEM, bob.id)
    assert await world.users.get(world.admin, "bob") == disabled
    with pytest.raises(NotFound, match="no user 'ghost'"):
        await world.users.get(world.admin, "ghost")
    for actor in (world.trader, world.viewer):
        with pytest.raises(Forbidden, match=r"may not user\.read"):
            await world.users.get(actor, "bob")


async def test_the_latest_strategy_state_of_a_bot(world: World) -> None:
    bot = await world.new_bot()
    before = await world.audit_count()
    assert await world.queries.strategy_state(world.viewer, bot.name) is None
    async with world.db.transaction() as s:
        await states.save_state(s, bot.id, {"seq": 1}, at=1_000, feed_ts=3_600_000)
        await states.save_state(s, bot.id, {"seq": 2, "rsi": {"n": "0.1"}}, at=2_000)
    latest = StrategySnapshot(bot.id, 2, 2_000, None, {"seq": 2, "rsi": {"n": "0.1"}})
    assert await world.queries.strategy_state(world.viewer, bot.name) == latest
    await world.bots.delete(SYSTEM, bot.id)
    # A deleted bot's history stays readable, by id.
    assert await world.queries.strategy_state(world.trader, bot.id) == latest
    with pytest.raises(NotFound, match="no bot 'ghost'"):
        await world.queries.strategy_state(world.viewer, "ghost")
    assert await world.audit_count() == before + 1  # the delete; reads write nothing
