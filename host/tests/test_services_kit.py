"""What the service tests share (no tests here): a world of services on a migrated database
of each backend, with one user per role and a paper account."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from tb_strategy_example.rsi_reversal import RsiReversal
from tb_strategy_grid.strategy import Grid
from tbhost.services import (
    SYSTEM,
    AccountService,
    Actor,
    AuditService,
    Bot,
    BotService,
    QueryService,
    UserService,
)
from tbhost.storage import Database, generate_key
from tbhost.storage.models import AuditRow, Role
from tbsdk import Strategy
from tbsdk.errors import ConfigError

STRATEGIES: dict[str, type[Strategy[Any]]] = {"rsi_reversal": RsiReversal, "grid": Grid}


def lookup(name: str) -> type[Strategy[Any]]:
    """The installed strategies the tests use, found as ``PluginHost.strategy_class`` would."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ConfigError(f"no strategies plugin named {name!r}") from None


@dataclass
class World:
    db: Database
    bots: BotService
    accounts: AccountService
    users: UserService
    queries: QueryService
    audit: AuditService
    admin: Actor
    trader: Actor
    viewer: Actor
    account_id: str
    secrets_key: SecretStr
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def actor(self, role: Role) -> Actor:
        return {Role.ADMIN: self.admin, Role.TRADER: self.trader, Role.VIEWER: self.viewer}[role]

    def next(self) -> int:
        return next(self._seq)

    async def new_bot(self, *, actor: Actor = SYSTEM, **settings: Any) -> Bot:
        """A new rsi_reversal bot on its own symbol of the world's account."""
        n = self.next()
        return await self.bots.create(
            actor, f"bot{n}", "rsi_reversal", self.account_id, [f"C{n}/USDT"], "1h", settings
        )

    async def audit_count(self) -> int:
        async with self.db.transaction() as s:
            return int(await s.scalar(select(func.count()).select_from(AuditRow)) or 0)


@pytest.fixture(name="world")
async def world_fixture(db: Database) -> World:
    users = UserService(db)
    admin = await users.create(SYSTEM, "alice", Role.ADMIN)
    trader = await users.create(SYSTEM, "tom", Role.TRADER)
    viewer = await users.create(SYSTEM, "vera", Role.VIEWER)
    key = SecretStr(generate_key())
    accounts = AccountService(db, key)
    account = await accounts.add(SYSTEM, "paper", "main")
    return World(
        db=db,
        bots=BotService(db, lookup),
        accounts=accounts,
        users=users,
        queries=QueryService(db),
        audit=AuditService(db),
        admin=Actor(admin.id, admin.username, admin.role),
        trader=Actor(trader.id, trader.username, trader.role),
        viewer=Actor(viewer.id, viewer.username, viewer.role),
        account_id=account.id,
        secrets_key=key,
    )
