"""Secrets at rest: exchange credentials only encrypted, API tokens only hashed. Nothing in
any table, in the SQLite files, in the SQL log or in a repr holds the plaintext."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import URL

from tbhost.storage import CredentialsError, Database, generate_key
from tbhost.storage.models import AccountRow, Base, Role
from tbhost.storage.repos import accounts, tokens, users
from tbsdk.credentials import Credentials

API_KEY = "ak-7f3c1e9a-PLAINTEXT-KEY"
SECRET = "sk-d41d8cd98f00b204-PLAINTEXT-SECRET"
PASSPHRASE = "pp-correct-horse-battery"
CREDS = Credentials(api_key=API_KEY, secret=SECRET, passphrase=PASSPHRASE)
PLAINTEXTS = [API_KEY, SECRET, PASSPHRASE]


async def _everything_stored(db: Database) -> str:
    """Every value of every row of every table, as text."""
    parts = []
    async with db.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).all():
                for value in row:
                    parts.append(
                        value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    )
    return "\n".join(parts)


def _sqlite_files(url: URL) -> bytes:
    path = Path(url.database or "")
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_credentials_are_encrypted_at_rest(db: Database, db_url: URL) -> None:
    key = SecretStr(generate_key())
    async with db.transaction() as s:
        row = await accounts.create_account(
            s, exchange="okx", label="okx", credentials=CREDS, secrets_key=key
        )
    assert row.credentials is not None
    assert row.credentials.startswith(b"gAAAA")
    assert API_KEY not in repr(row)
    assert "gAAAA" not in repr(row)
    stored = await _everything_stored(db)
    assert not [p for p in PLAINTEXTS if p in stored]
    if db.backend == "sqlite":
        raw = _sqlite_files(db_url)
        assert not [p for p in PLAINTEXTS if p.encode() in raw]
    async with db.session() as s:
        back = await accounts.load_credentials(s, row.id, key)
    assert back == CREDS
    assert back is not None
    assert back.secret.get_secret_value() == SECRET


async def test_wrong_or_missing_key_is_a_clear_error(db: Database) -> None:
    key = SecretStr(generate_key())
    async with db.transaction() as s:
        row = await accounts.create_account(
            s, exchange="okx", label="okx", credentials=CREDS, secrets_key=key
        )
        with pytest.raises(CredentialsError, match=r"no secrets key: .*TBHOST_SECRETS_KEY"):
            await accounts.create_account(
                s, exchange="okx", label="okx2", credentials=CREDS, secrets_key=None
            )
        with pytest.raises(CredentialsError, match="not a Fernet key") as bad:
            await accounts.set_credentials(s, row.id, CREDS, SecretStr("k3y-material"))
        assert "k3y-material" not in str(bad.value)
    wrong = SecretStr(generate_key())
    async with db.session() as s:
        with pytest.raises(
            CredentialsError, match=f"cannot decrypt the credentials of account {row.id}"
        ):
            await accounts.load_credentials(s, row.id, wrong)
        with pytest.raises(CredentialsError, match="no secrets key"):
            await accounts.load_credentials(s, row.id, None)
        # Rotation: the new key first encrypts, the old one still decrypts.
        rotated = SecretStr(f"{wrong.get_secret_value()},{key.get_secret_value()}")
        assert await accounts.load_credentials(s, row.id, rotated) == CREDS


async def test_a_blob_copied_to_another_account_does_not_decrypt(db: Database) -> None:
    key = SecretStr(generate_key())
    async with db.transaction() as s:
        a = await accounts.create_account(
            s, exchange="okx", label="a", credentials=CREDS, secrets_key=key
        )
        b = await accounts.create_account(s, exchange="okx", label="b")
        b.credentials = a.credentials
    async with db.session() as s:
        with pytest.raises(CredentialsError, match="belong to another account"):
            await accounts.load_credentials(s, b.id, key)


async def test_credentials_never_reach_the_sql_log(
    db_url: URL, caplog: pytest.LogCaptureFixture
) -> None:
    key = SecretStr(generate_key())
    async with Database(db_url, echo=True) as db:
        await db.upgrade()
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            async with db.transaction() as s:
                row = await accounts.create_account(
                    s, exchange="okx", label="okx", credentials=CREDS, secrets_key=key
                )
                user = await users.create_user(s, "alice", Role.ADMIN)
                issued = await tokens.issue_token(s, user.id, "ci")
            async with db.session() as s:
                await accounts.load_credentials(s, row.id, key)
                await s.scalar(select(AccountRow))
                assert await tokens.authenticate(s, issued.token) is not None
    assert "INSERT INTO exchange_accounts" in caplog.text
    leaked = [p for p in [*PLAINTEXTS, issued.token, key.get_secret_value()] if p in caplog.text]
    assert leaked == []


async def test_api_tokens_are_stored_only_as_hashes(db: Database, db_url: URL) -> None:
    async with db.transaction() as s:
        user = await users.create_user(s, "alice", Role.ADMIN)
        issued = [await tokens.issue_token(s, user.id, f"t{i}") for i in range(3)]
    # tbh_<12 hex>_<secret>; the secret itself may contain "_".
    secrets_ = [t.token.split("_", 2)[2] for t in issued]
    assert all(len(x) == 43 for x in secrets_)
    stored = await _everything_stored(db)
    assert not [t.token for t in issued if t.token in stored]
    assert not [x for x in secrets_ if x in stored]
    for t in issued:
        assert tokens.hash_token(t.token) in stored
    if db.backend == "sqlite":
        raw = _sqlite_files(db_url)
        assert not [x for x in secrets_ if x.encode() in raw]
