"""AccountService and UserService on both backends: secrets never come back out, tokens are
shown once, the last admin stays, and every change has its audit entry."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from tbhost.services import SYSTEM, Conflict, Forbidden, NotFound
from tbhost.storage.models import AccountRow, Role
from tbhost.storage.repos import accounts as account_repo
from tbhost.storage.repos import users as user_repo
from tbsdk.credentials import Credentials

from .test_services_kit import World, world_fixture  # noqa: F401 - the fixture

API_KEY = "AK-visible-nowhere-8f3a"
SECRET = "SK-never-shown-77b1c0"
PASSPHRASE = "PP-hidden-42"


async def test_account_listing_never_contains_the_secret(world: World) -> None:
    creds = Credentials(api_key=API_KEY, secret=SECRET, passphrase=PASSPHRASE)
    added = await world.accounts.add(world.admin, "okx", "live-okx", credentials=creds)
    assert added.has_credentials
    listed = await world.accounts.list(world.viewer)
    assert [a.label for a in listed] == ["live-okx", "main"]
    shown = " ".join(
        [repr(listed), repr(await world.accounts.get(world.trader, added.id)), repr(world.accounts)]
        + [str(dataclasses.asdict(a)) for a in listed]
        + [str(e) for e in (await world.audit.list(world.admin)).items]
    )
    for secret in (API_KEY, SECRET, PASSPHRASE):
        assert secret not in shown
    assert {f.name for f in dataclasses.fields(listed[0])}.isdisjoint({"credentials", "secret"})
    # Stored encrypted, and decryptable only through storage with the key.
    async with world.db.transaction() as s:
        blob = await s.scalar(select(AccountRow.credentials).where(AccountRow.id == added.id))
        assert blob is not None
        assert SECRET.encode() not in blob
        loaded = await account_repo.load_credentials(s, added.id, world.secrets_key)
        assert loaded is not None
        assert loaded.secret.get_secret_value() == SECRET
    [entry] = (await world.audit.list(world.admin, action="account.add", limit=1)).items
    assert entry.details == {
        "exchange": "okx",
        "label": "live-okx",
        "position_mode": "one_way",
        "has_credentials": True,
    }


async def test_remove_account_only_when_nothing_refers_to_it(world: World) -> None:
    spare = await world.accounts.add(world.admin, "paper", "spare")
    bot = await world.bots.create(world.trader, "b", "grid", spare.id, ["BTC/USDT"], "1h", {})
    with pytest.raises(Conflict, match="used by 1 bot"):
        await world.accounts.remove(world.admin, spare.id)
    await world.bots.delete(world.trader, bot.id)
    with pytest.raises(Conflict, match="deleted ones included"):
        await world.accounts.remove(world.admin, spare.id)
    empty = await world.accounts.add(world.admin, "paper", "empty")
    await world.accounts.remove(world.admin, empty.id)
    assert "empty" not in [a.label for a in await world.accounts.list(world.viewer)]
    [entry] = (await world.audit.list(world.admin, action="account.remove")).items
    assert (entry.target_id, entry.details) == (empty.id, {"label": "empty"})
    with pytest.raises(NotFound):
        await world.accounts.remove(world.admin, empty.id)
    with pytest.raises(Conflict, match="already exists"):
        await world.accounts.add(world.admin, "paper", "main")


async def test_users_roles_and_the_last_admin(world: World) -> None:
    bob = await world.users.create(world.admin, "bob", Role.VIEWER)
    promoted = await world.users.set_role(world.admin, bob.id, "trader")
    assert promoted.role is Role.TRADER
    [entry] = (await world.audit.list(world.admin, action="user.set_role")).items
    assert entry.details == {"username": "bob", "from": "viewer", "to": "trader"}
    with pytest.raises(Conflict, match="already exists"):
        await world.users.create(world.admin, "bob", Role.VIEWER)
    with pytest.raises(Conflict, match="last active admin"):
        await world.users.set_role(world.admin, world.admin.user_id, Role.VIEWER)
    with pytest.raises(Conflict, match="last active admin"):
        await world.users.disable(world.admin, world.admin.user_id)
    second = await world.users.create(world.admin, "ada", Role.ADMIN)
    await world.users.set_role(world.admin, world.admin.user_id, Role.TRADER)
    assert {u.username: u.role for u in await world.users.list(SYSTEM)}["alice"] is Role.TRADER
    await world.users.disable(SYSTEM, bob.id)
    with pytest.raises(Forbidden, match="disabled user 'bob'"):
        await world.users.actor_for_user("bob")
    actor = await world.users.actor_for_user("ada")
    assert (actor.user_id, actor.role) == (second.id, Role.ADMIN)


async def test_a_token_is_shown_once_and_works_until_revoked(world: World) -> None:
    issued = await world.users.issue_token(world.admin, world.trader.user_id, "ci")
    assert issued.token.startswith("tbh_")
    assert issued.token not in repr(issued)
    listed = await world.users.list_tokens(world.admin, world.trader.user_id)
    assert [t.id for t in listed] == [issued.info.id]
    assert issued.token not in repr(listed)
    entries = (await world.audit.list(world.admin, target_type="token")).items
    assert entries
    assert all(issued.token not in repr(e) for e in entries)
    assert await world.users.actor_for_token(issued.token) == world.trader
    revoked = await world.users.revoke_token(world.admin, issued.info.id)
    assert revoked.revoked_at is not None
    assert await world.users.actor_for_token(issued.token) is None
    assert [e.action for e in (await world.audit.list(world.admin, target_type="token")).items] == [
        "token.revoke",
        "token.issue",
    ]
    with pytest.raises(NotFound):
        await world.users.issue_token(world.admin, "nobody", "x")


async def test_telegram_chat_resolves_to_its_active_user(world: World) -> None:
    async with world.db.transaction() as s:
        await user_repo.link_telegram(s, world.viewer.user_id, 4242)
    assert await world.users.actor_for_telegram(4242) == world.viewer
    assert await world.users.actor_for_telegram(1) is None
    await world.users.disable(world.admin, world.viewer.user_id)
    assert await world.users.actor_for_telegram(4242) is None
