"""Exchange accounts. Credentials are encrypted here, before they reach the session, and are
decrypted only on request; neither the key nor the plaintext is ever logged."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tbsdk.credentials import Credentials
from tbsdk.model import PositionMode

from .._types import now_ms
from ..crypto import CredentialsCipher
from ..errors import AlreadyExists, NotFound, StorageError
from ..models import AccountRow
from ._common import insert, new_id

__all__ = [
    "create_account",
    "get_account",
    "get_account_by_label",
    "list_accounts",
    "load_credentials",
    "require_account",
    "set_credentials",
]


async def create_account(
    session: AsyncSession,
    *,
    exchange: str,
    label: str,
    credentials: Credentials | None = None,
    secrets_key: SecretStr | None = None,
    position_mode: PositionMode | str = PositionMode.ONE_WAY,
    options: dict[str, Any] | None = None,
    created_by: str | None = None,
    account_id: str | None = None,
    at: int | None = None,
) -> AccountRow:
    """Store an account. ``credentials`` need ``secrets_key`` (the ``secrets_key`` setting);
    a venue without keys (paper) passes neither."""
    now = at if at is not None else now_ms()
    account_id = account_id or new_id()
    blob = None
    if credentials is not None:
        blob = CredentialsCipher(secrets_key).encrypt(account_id, credentials)
    row = AccountRow(
        id=account_id,
        exchange=exchange,
        label=label,
        credentials=blob,
        position_mode=PositionMode(position_mode),
        options=dict(options or {}),
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )

    async def conflict() -> StorageError | None:
        if await get_account_by_label(session, label) is not None:
            return AlreadyExists(f"an exchange account labelled {label!r} already exists")
        if await get_account(session, account_id) is not None:
            return AlreadyExists(f"an exchange account with id {account_id} already exists")
        return None

    await insert(session, row, what=f"account {label!r}", conflict=conflict)
    return row


async def get_account(session: AsyncSession, account_id: str) -> AccountRow | None:
    return await session.get(AccountRow, account_id)


async def require_account(session: AsyncSession, account_id: str) -> AccountRow:
    row = await get_account(session, account_id)
    if row is None:
        raise NotFound(f"no exchange account with id {account_id}")
    return row


async def get_account_by_label(session: AsyncSession, label: str) -> AccountRow | None:
    found: AccountRow | None = await session.scalar(
        select(AccountRow).where(AccountRow.label == label)
    )
    return found


async def list_accounts(session: AsyncSession) -> list[AccountRow]:
    return list(await session.scalars(select(AccountRow).order_by(AccountRow.label)))


async def set_credentials(
    session: AsyncSession,
    account_id: str,
    credentials: Credentials | None,
    secrets_key: SecretStr | None,
    *,
    at: int | None = None,
) -> AccountRow:
    """Replace (or with ``None`` remove) the account's credentials."""
    row = await require_account(session, account_id)
    row.credentials = (
        None
        if credentials is None
        else CredentialsCipher(secrets_key).encrypt(account_id, credentials)
    )
    row.updated_at = at if at is not None else now_ms()
    await session.flush()
    return row


async def load_credentials(
    session: AsyncSession, account_id: str, secrets_key: SecretStr | None
) -> Credentials | None:
    """The account's decrypted credentials (``None`` if it has none)."""
    row = await require_account(session, account_id)
    if row.credentials is None:
        return None
    return CredentialsCipher(secrets_key).decrypt(account_id, row.credentials)
