"""Role rules, table-driven: every action as every role, on both backends. An allowed call
succeeds; a denied one raises Forbidden naming the action and the role, and writes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tbhost.services import ROLE_ACTIONS, SYSTEM, Action, Actor, Forbidden, authorize
from tbhost.storage.models import Role

from .test_services_kit import World, world_fixture  # noqa: F401 - the fixture

Call = Callable[[World, Actor], Awaitable[object]]


async def _running(w: World) -> str:
    bot = await w.new_bot()
    await w.bots.start(SYSTEM, bot.id)
    return bot.id


async def _paused(w: World) -> str:
    bot_id = await _running(w)
    await w.bots.pause(SYSTEM, bot_id)
    return bot_id


async def _user(w: World) -> str:
    return (await w.users.create(SYSTEM, f"user{w.next()}", Role.VIEWER)).id


# Each entry prepares its target as the system (not counted), then returns the call to check.
SETUP: dict[Action, Callable[[World], Awaitable[Call]]] = {}


def setup(action: Action) -> Callable[[Callable[[World], Awaitable[Call]]], None]:
    def register(fn: Callable[[World], Awaitable[Call]]) -> None:
        SETUP[action] = fn

    return register


@setup(Action.BOT_READ)
async def _(w: World) -> Call:
    bot = await w.new_bot()
    return lambda w, a: w.bots.get(a, bot.id)


@setup(Action.BOT_CREATE)
async def _(w: World) -> Call:
    n = w.next()
    return lambda w, a: w.bots.create(
        a, f"new{n}", "rsi_reversal", w.account_id, [f"N{n}/USDT"], "1h", {}
    )


@setup(Action.BOT_CONFIGURE)
async def _(w: World) -> Call:
    bot = await w.new_bot()
    return lambda w, a: w.bots.configure(a, bot.id, settings={"rsi_length": 21})


@setup(Action.BOT_START)
async def _(w: World) -> Call:
    bot = await w.new_bot()
    return lambda w, a: w.bots.start(a, bot.id)


@setup(Action.BOT_PAUSE)
async def _(w: World) -> Call:
    bot_id = await _running(w)
    return lambda w, a: w.bots.pause(a, bot_id)


@setup(Action.BOT_RESUME)
async def _(w: World) -> Call:
    bot_id = await _paused(w)
    return lambda w, a: w.bots.resume(a, bot_id)


@setup(Action.BOT_STOP)
async def _(w: World) -> Call:
    bot_id = await _running(w)
    return lambda w, a: w.bots.stop(a, bot_id)


@setup(Action.BOT_DELETE)
async def _(w: World) -> Call:
    bot = await w.new_bot()
    return lambda w, a: w.bots.delete(a, bot.id)


@setup(Action.BOT_CLOSE_POSITIONS)
async def _(w: World) -> Call:
    bot_id = await _running(w)
    return lambda w, a: w.bots.close_positions(a, bot_id)


@setup(Action.ACCOUNT_READ)
async def _(w: World) -> Call:
    return lambda w, a: w.accounts.list(a)


@setup(Action.ACCOUNT_ADD)
async def _(w: World) -> Call:
    n = w.next()
    return lambda w, a: w.accounts.add(a, "paper", f"acct{n}")


@setup(Action.ACCOUNT_REMOVE)
async def _(w: World) -> Call:
    account = await w.accounts.add(SYSTEM, "paper", f"spare{w.next()}")
    return lambda w, a: w.accounts.remove(a, account.id)


@setup(Action.BACKTEST_RUN)
async def _(w: World) -> Call:
    # No service method: the API checks the action, then runs the job in memory (no audit).
    async def run(w: World, a: Actor) -> None:
        authorize(a, Action.BACKTEST_RUN)

    return run


@setup(Action.TRADING_READ)
async def _(w: World) -> Call:
    return lambda w, a: w.queries.trades(a, account_id=w.account_id)


@setup(Action.AUDIT_READ)
async def _(w: World) -> Call:
    return lambda w, a: w.audit.list(a)


@setup(Action.USER_READ)
async def _(w: World) -> Call:
    return lambda w, a: w.users.list(a)


@setup(Action.USER_CREATE)
async def _(w: World) -> Call:
    n = w.next()
    return lambda w, a: w.users.create(a, f"made{n}", Role.TRADER)


@setup(Action.USER_SET_ROLE)
async def _(w: World) -> Call:
    user_id = await _user(w)
    return lambda w, a: w.users.set_role(a, user_id, Role.TRADER)


@setup(Action.USER_DISABLE)
async def _(w: World) -> Call:
    user_id = await _user(w)
    return lambda w, a: w.users.disable(a, user_id)


@setup(Action.TOKEN_ISSUE)
async def _(w: World) -> Call:
    user_id = await _user(w)
    return lambda w, a: w.users.issue_token(a, user_id, "ci")


@setup(Action.TOKEN_REVOKE)
async def _(w: World) -> Call:
    user_id = await _user(w)
    issued = await w.users.issue_token(SYSTEM, user_id, "old")
    return lambda w, a: w.users.revoke_token(a, issued.info.id)


READS = {
    Action.BOT_READ,
    Action.ACCOUNT_READ,
    Action.TRADING_READ,
    Action.AUDIT_READ,
    Action.USER_READ,
}
UNAUDITED = READS | {Action.BACKTEST_RUN}

# The rules as the brief states them, written out again independently of ROLE_ACTIONS.
EXPECTED: dict[Role, set[Action]] = {
    Role.VIEWER: READS - {Action.USER_READ},
    Role.TRADER: (READS - {Action.USER_READ})
    | {a for a in Action if a.value.startswith("bot.")}
    | {Action.BACKTEST_RUN},
    Role.ADMIN: set(Action),
}


def test_every_action_has_a_case_and_the_table_matches_the_rules() -> None:
    assert set(SETUP) == set(Action)
    assert {role: set(actions) for role, actions in ROLE_ACTIONS.items()} == EXPECTED


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_is_allowed_or_denied_per_action(world: World, role: Role) -> None:
    actor = world.actor(role)
    for action in Action:
        call = await SETUP[action](world)
        before = await world.audit_count()
        if action in EXPECTED[role]:
            await call(world, actor)
            writes = 0 if action in UNAUDITED else 1
            assert await world.audit_count() == before + writes, action
        else:
            with pytest.raises(Forbidden) as denied:
                await call(world, actor)
            assert (denied.value.action, denied.value.role) == (action.value, role.value)
            assert action.value in str(denied.value)
            assert role.value in str(denied.value)
            assert await world.audit_count() == before, f"{action} wrote an audit entry"
