"""Round trips through every repository on SQLite and PostgreSQL (orders: test_storage_orders)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tbhost.storage import AlreadyExists, Database, NotFound, StorageError
from tbhost.storage.models import BotStatus, Role
from tbhost.storage.repos import accounts, bots, notifications, states, tokens, users
from tbsdk.info import BotInfo, RunMode
from tbsdk.model import PositionMode

# Everything JSON can hold, including what a float parser might round or reorder.
CONFIG: dict[str, Any] = {
    "rsi_length": 14,
    "entry_levels": ["0.1", "0.25", "1E-8"],
    "ratio": 0.1,
    "tiny": 1e-300,
    "big": 12345678901234567890,
    "nested": {"z": [1, 2, {"deep": None}], "a": True, "unicode": "스탑로스 ✓"},
    "empty": {},
}


async def _account(session: AsyncSession, label: str = "main") -> str:
    row = await accounts.create_account(
        session, exchange="paper", label=label, position_mode=PositionMode.HEDGE, at=1
    )
    return row.id


async def test_users_round_trip(db: Database) -> None:
    async with db.transaction() as s:
        alice = await users.create_user(s, "alice", Role.ADMIN, at=1_700_000_000_000)
        await users.create_user(s, "bob", "viewer", at=1_700_000_000_001)
    async with db.transaction() as s:
        found = await users.get_user_by_name(s, "alice")
        assert found is not None
        assert (found.id, found.role, found.created_at) == (alice.id, Role.ADMIN, 1_700_000_000_000)
        assert [u.username for u in await users.list_users(s)] == ["alice", "bob"]
        await users.set_role(s, alice.id, Role.TRADER)
        await users.link_telegram(s, alice.id, 987654321012)
    async with db.transaction() as s:
        linked = await users.get_user_by_telegram_chat(s, 987654321012)
        assert linked is not None
        assert (linked.username, linked.role) == ("alice", Role.TRADER)
        bob = await users.get_user_by_name(s, "bob")
        assert bob is not None
        with pytest.raises(AlreadyExists, match="already linked to alice"):
            await users.link_telegram(s, bob.id, 987654321012)
        await users.disable_user(s, bob.id, at=5)
        assert (await users.require_user(s, bob.id)).disabled_at == 5


async def test_duplicate_username_is_refused_and_the_transaction_goes_on(db: Database) -> None:
    async with db.transaction() as s:
        await users.create_user(s, "alice", Role.ADMIN)
        with pytest.raises(AlreadyExists, match="a user named 'alice' already exists"):
            await users.create_user(s, "alice", Role.VIEWER)
        await users.create_user(s, "carol", Role.VIEWER)  # the refused insert did not poison it
    async with db.transaction() as s:
        assert [u.username for u in await users.list_users(s)] == ["alice", "carol"]


async def test_tokens_authenticate_until_revoked_or_expired(db: Database) -> None:
    async with db.transaction() as s:
        user = await users.create_user(s, "alice", Role.TRADER)
        issued = await tokens.issue_token(s, user.id, "ci", expires_at=2_000, at=1_000)
        other = await tokens.issue_token(s, user.id, "laptop", at=1_000)
    assert issued.token.startswith("tbh_")
    assert issued.token not in repr(issued)
    async with db.transaction() as s:
        found = await tokens.authenticate(s, issued.token, at=1_500)
        assert found is not None
        assert found.id == user.id
        assert await tokens.authenticate(s, issued.token, at=2_000) is None  # expired
        assert await tokens.authenticate(s, issued.token[:-1] + "x", at=1_500) is None
        assert await tokens.authenticate(s, "tbh_nonsense", at=1_500) is None
        assert await tokens.authenticate(s, "", at=1_500) is None
        names = [t.name for t in await tokens.list_tokens(s, user.id)]
        assert sorted(names) == ["ci", "laptop"]
        await tokens.revoke_token(s, other.row.id, at=1_600)
    async with db.transaction() as s:
        assert await tokens.authenticate(s, other.token, at=1_700) is None
        row = (await tokens.list_tokens(s, user.id))[0]
        assert row.last_used_at == 1_500
        await users.disable_user(s, user.id)
        assert await tokens.authenticate(s, issued.token, at=1_500) is None


async def test_accounts_round_trip(db: Database) -> None:
    async with db.transaction() as s:
        admin = await users.create_user(s, "admin", Role.ADMIN)
        row = await accounts.create_account(
            s,
            exchange="okx",
            label="okx-main",
            position_mode="hedge",
            options={"default_type": "swap", "sandbox": True},
            created_by=admin.id,
            at=42,
        )
        with pytest.raises(AlreadyExists, match="labelled 'okx-main'"):
            await accounts.create_account(s, exchange="okx", label="okx-main")
    async with db.transaction() as s:
        found = await accounts.get_account_by_label(s, "okx-main")
        assert found is not None
        assert (found.id, found.exchange, found.position_mode) == (row.id, "okx", "hedge")
        assert found.options == {"default_type": "swap", "sandbox": True}
        assert (found.created_by, found.created_at, found.credentials) == (admin.id, 42, None)
        assert await accounts.load_credentials(s, row.id, None) is None
        assert [a.label for a in await accounts.list_accounts(s)] == ["okx-main"]
        with pytest.raises(NotFound):
            await accounts.require_account(s, "nope")


async def test_bot_config_snapshot_is_exact_and_hashed(db: Database) -> None:
    async with db.transaction() as s:
        account_id = await _account(s)
        bot = await bots.create_bot(
            s,
            name="rsi-btc",
            strategy="hyperrsi",
            account_id=account_id,
            symbols=["BTC/USDT:USDT", "ETH/USDT:USDT"],
            timeframe="15m",
            config=CONFIG,
            mode=RunMode.LIVE,
            at=10,
        )
    async with db.transaction() as s:
        found = await bots.get_bot(s, bot.id)
        assert found is not None
        assert found.config == CONFIG
        assert found.config_hash == bots.config_hash(CONFIG)
        assert found.config_hash == bots.config_hash(dict(reversed(list(CONFIG.items()))))
        assert (found.state, found.mode, found.symbols) == (
            BotStatus.CREATED,
            RunMode.LIVE,
            ["BTC/USDT:USDT", "ETH/USDT:USDT"],
        )
        assert await bots.bot_info(s, bot.id) == BotInfo(
            bot_id=bot.id,
            name="rsi-btc",
            strategy="hyperrsi",
            exchange="paper",
            account_id=account_id,
            symbols=("BTC/USDT:USDT", "ETH/USDT:USDT"),
            timeframe="15m",
            mode=RunMode.LIVE,
        )
        changed = {**CONFIG, "rsi_length": 21}
        await bots.update_config(s, bot.id, changed, timeframe="1h", at=11)
    async with db.transaction() as s:
        found = await bots.require_bot(s, bot.id)
        assert (found.config, found.timeframe, found.updated_at) == (changed, "1h", 11)
        assert found.config_hash == bots.config_hash(changed) != bots.config_hash(CONFIG)


async def test_bot_config_must_be_json(db: Database) -> None:
    from decimal import Decimal

    async with db.transaction() as s:
        account_id = await _account(s)
        with pytest.raises(StorageError, match=r"model_dump\(mode='json'\)"):
            await bots.create_bot(
                s,
                name="b",
                strategy="grid",
                account_id=account_id,
                symbols=["BTC/USDT"],
                timeframe="1h",
                config={"step": Decimal("0.5")},
            )


async def test_bot_state_lifecycle_and_soft_delete(db: Database) -> None:
    async with db.transaction() as s:
        account_id = await _account(s)
        bot = await bots.create_bot(
            s,
            name="grid-eth",
            strategy="grid",
            account_id=account_id,
            symbols=["ETH/USDT"],
            timeframe="1h",
            config={},
            at=1,
        )
        with pytest.raises(NotFound, match="no exchange account with id missing"):
            await bots.create_bot(
                s,
                name="orphan",
                strategy="grid",
                account_id="missing",
                symbols=["ETH/USDT"],
                timeframe="1h",
                config={},
            )
        await bots.set_state(s, bot.id, BotStatus.RUNNING, at=2)
        await bots.set_state(s, bot.id, BotStatus.PAUSED, at=3)
        await bots.set_state(s, bot.id, BotStatus.RUNNING, at=4)  # a resume keeps started_at
        await bots.set_state(s, bot.id, BotStatus.FAULTED, reason="on_candle raised", at=5)
    async with db.transaction() as s:
        row = await bots.require_bot(s, bot.id)
        assert (row.state, row.fault_reason, row.started_at) == ("faulted", "on_candle raised", 2)
        assert [b.name for b in await bots.list_bots(s, state="faulted")] == ["grid-eth"]
        await bots.set_state(s, bot.id, BotStatus.STOPPED, at=6)
        row = await bots.require_bot(s, bot.id)
        assert (row.state, row.fault_reason, row.stopped_at) == ("stopped", None, 6)
        await bots.mark_deleted(s, bot.id, at=7)
    async with db.transaction() as s:
        assert await bots.list_bots(s) == []
        assert [b.id for b in await bots.list_bots(s, include_deleted=True)] == [bot.id]
        with pytest.raises(NotFound):
            await bots.require_bot(s, bot.id)


async def test_strategy_states_latest_and_prune(db: Database) -> None:
    async with db.transaction() as s:
        account_id = await _account(s)
        bot = await bots.create_bot(
            s,
            name="b",
            strategy="grid",
            account_id=account_id,
            symbols=["BTC/USDT"],
            timeframe="1h",
            config={},
        )
        assert await states.latest_state(s, bot.id) is None
        for i in range(1, 6):
            assert await states.save_state(s, bot.id, {"step": i, "levels": CONFIG}, at=i) == i
    async with db.transaction() as s:
        latest = await states.latest_state(s, bot.id)
        assert latest == states.SavedState(5, {"step": 5, "levels": CONFIG}, 5)
        assert await states.prune_states(s, bot.id, keep=2) == 3
        assert await states.prune_states(s, bot.id, keep=2) == 0
        assert await states.save_state(s, bot.id, {"step": 6}) == 6
        latest = await states.latest_state(s, bot.id)
        assert latest is not None
        assert latest.state == {"step": 6}


async def test_notifications_pending_then_delivered(db: Database) -> None:
    async with db.transaction() as s:
        account_id = await _account(s)
        bot = await bots.create_bot(
            s,
            name="b",
            strategy="grid",
            account_id=account_id,
            symbols=["BTC/USDT"],
            timeframe="1h",
            config={},
        )
        first = await notifications.add_notification(
            s, kind="fill", message="bought 0.1 BTC", data={"qty": "0.1"}, bot_id=bot.id, at=1
        )
        second = await notifications.add_notification(s, kind="fault", message="boom", at=2)
    async with db.transaction() as s:
        pending = await notifications.pending_notifications(s)
        assert [n.id for n in pending] == [first.id, second.id]
        assert pending[0].data == {"qty": "0.1"}
        await notifications.mark_failed(s, first.id, "telegram: 502")
        await notifications.mark_delivered(s, second.id, at=3)
    async with db.transaction() as s:
        assert [n.id for n in await notifications.pending_notifications(s, max_attempts=1)] == []
        again = await notifications.pending_notifications(s)
        assert [(n.id, n.attempts, n.last_error) for n in again] == [(first.id, 1, "telegram: 502")]
        listed = await notifications.list_notifications(s, bot_id=bot.id)
        assert [n.kind for n in listed] == ["fill"]
        newest = await notifications.list_notifications(s, limit=1)
        assert [n.id for n in newest] == [second.id]
        with pytest.raises(NotFound):
            await notifications.mark_delivered(s, 999_999)
