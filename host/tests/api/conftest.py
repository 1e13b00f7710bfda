"""Fixtures of the API tests: see :mod:`.kit`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tbhost.api import build_schema
from tbhost.api.schema import ApiSchema
from tbhost.plugins import PluginHost
from tbhost.services import SYSTEM, AccountService, UserService
from tbhost.settings import Settings
from tbhost.storage import Database, generate_key
from tbhost.storage.models import ApiTokenRow, Role

from .kit import ROLES, Api, ServerThread, copy_template

SECRETS_KEY = generate_key()
TOKEN_CACHE_S = 0.3


def api_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "secrets_key": SECRETS_KEY,
        "api_rate_limit_per_minute": 100_000,
        "api_subscription_poll_s": 0.05,
        "api_token_cache_s": TOKEN_CACHE_S,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def plugins() -> PluginHost:
    return PluginHost.discover()


@pytest.fixture(scope="session")
def schema(plugins: PluginHost, tmp_path_factory: pytest.TempPathFactory) -> ApiSchema:
    return build_schema(api_settings(tmp_path_factory.mktemp("schema")), plugins)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file at the migration head; each test starts from a copy (migrating each
    test's database anew would cost most of the suite's time)."""
    path = tmp_path_factory.mktemp("template") / "tbhost.db"

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    asyncio.run(migrate())
    return path


async def start_api(
    tmp_path: Path,
    template: Path,
    plugins: PluginHost,
    schema: ApiSchema,
    **settings: object,
) -> Api:
    db_path = copy_template(template, tmp_path / "tbhost.db")
    conf = api_settings(tmp_path, **settings)
    db = Database(f"sqlite+aiosqlite:///{db_path}")
    users = UserService(db)
    tokens: dict[str, str] = {}
    ids: dict[str, str] = {}
    for role in ROLES:
        user = await users.create(SYSTEM, role, Role(role))
        tokens[role] = (await users.issue_token(SYSTEM, user.id, f"{role}-token")).token
        ids[role] = user.id
    account = await AccountService(db, conf.secrets_key).add(SYSTEM, "paper", "main")
    server = ServerThread(conf, db_path, plugins, schema)
    server.start()
    client = httpx.AsyncClient(timeout=10)
    return Api(server, db, tokens, ids, account.id, client)


@pytest.fixture
async def api(
    tmp_path: Path, migrated_template: Path, plugins: PluginHost, schema: ApiSchema
) -> AsyncIterator[Api]:
    running = await start_api(tmp_path, migrated_template, plugins, schema)
    try:
        yield running
        await assert_no_secret_in(running)
    finally:
        await running.close()


async def assert_no_secret_in(api: Api) -> None:
    """Every test's responses: no token hash, no fixture token, never the secrets key."""
    async with api.db.transaction() as s:
        hashes = list(await s.scalars(select(ApiTokenRow.token_hash)))
    never = [SECRETS_KEY, *hashes, *api.tokens.values()]
    for body in api.bodies:
        for secret in never:
            assert secret not in body, f"a response holds a secret: {body[:300]}"
