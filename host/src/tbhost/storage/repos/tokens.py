"""API tokens. Only a SHA-256 hash of each token is stored; the token is shown once.

A token is ``tbh_<prefix>_<secret>``: the prefix (random, public) finds the row, the hash of
the whole token is compared in constant time. SHA-256 rather than a slow password hash is
enough here because the secret is 256 random bits, not something a person chose: there is no
dictionary to try, and every API request can afford to check it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .._types import now_ms
from ..errors import NotFound, StorageError
from ..models import ApiTokenRow, UserRow
from ._common import insert, new_id
from .users import require_user

__all__ = [
    "IssuedToken",
    "authenticate",
    "hash_token",
    "issue_token",
    "list_tokens",
    "revoke_token",
]

_SCHEME = "tbh"
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``token`` is the only copy of the secret, to show the user once."""

    row: ApiTokenRow
    token: str = field(repr=False)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _prefix_of(token: str) -> str | None:
    scheme, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != _SCHEME or len(prefix) != 12 or not secret:
        return None
    return prefix


async def issue_token(
    session: AsyncSession,
    user_id: str,
    name: str,
    *,
    expires_at: int | None = None,
    at: int | None = None,
) -> IssuedToken:
    await require_user(session, user_id)
    prefix = secrets.token_hex(6)
    token = f"{_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiTokenRow(
        id=new_id(),
        user_id=user_id,
        name=name,
        prefix=prefix,
        token_hash=hash_token(token),
        created_at=at if at is not None else now_ms(),
        expires_at=expires_at,
        revoked_at=None,
        last_used_at=None,
    )

    async def conflict() -> StorageError | None:
        return None  # a prefix clash (1 in 2**48) is reported as it is; issue again

    await insert(session, row, what=f"token {name!r}", conflict=conflict)
    return IssuedToken(row, token)


async def authenticate(
    session: AsyncSession, token: str, *, at: int | None = None, touch: bool = True
) -> UserRow | None:
    """The user a token belongs to, or ``None`` when it is unknown, revoked, expired or its
    user is disabled. ``touch`` records the time of use."""
    now = at if at is not None else now_ms()
    prefix = _prefix_of(token)
    row = None
    if prefix is not None:
        row = await session.scalar(select(ApiTokenRow).where(ApiTokenRow.prefix == prefix))
    # Compare even when nothing was found, so timing does not tell which prefixes exist.
    matches = hmac.compare_digest(hash_token(token), row.token_hash if row else _DUMMY_HASH)
    if row is None or not matches or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    user = await session.get(UserRow, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    if touch:
        row.last_used_at = now
        await session.flush()
    return user


async def revoke_token(
    session: AsyncSession, token_id: str, *, at: int | None = None
) -> ApiTokenRow:
    row = await session.get(ApiTokenRow, token_id)
    if row is None:
        raise NotFound(f"no API token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = at if at is not None else now_ms()
        await session.flush()
    return row


async def list_tokens(session: AsyncSession, user_id: str) -> list[ApiTokenRow]:
    stmt = (
        select(ApiTokenRow).where(ApiTokenRow.user_id == user_id).order_by(ApiTokenRow.created_at)
    )
    return list(await session.scalars(stmt))
