"""Users and their roles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .._types import now_ms
from ..errors import AlreadyExists, NotFound, StorageError
from ..models import Role, UserRow
from ._common import insert, new_id

__all__ = [
    "create_user",
    "disable_user",
    "get_user",
    "get_user_by_name",
    "get_user_by_telegram_chat",
    "link_telegram",
    "list_users",
    "require_user",
    "set_role",
]


async def create_user(
    session: AsyncSession,
    username: str,
    role: Role | str,
    *,
    user_id: str | None = None,
    at: int | None = None,
) -> UserRow:
    row = UserRow(
        id=user_id or new_id(),
        username=username,
        role=Role(role),
        telegram_chat_id=None,
        created_at=at if at is not None else now_ms(),
        disabled_at=None,
    )

    async def conflict() -> StorageError | None:
        if await get_user_by_name(session, username) is not None:
            return AlreadyExists(f"a user named {username!r} already exists")
        return None

    await insert(session, row, what=f"user {username!r}", conflict=conflict)
    return row


async def get_user(session: AsyncSession, user_id: str) -> UserRow | None:
    return await session.get(UserRow, user_id)


async def require_user(session: AsyncSession, user_id: str) -> UserRow:
    row = await get_user(session, user_id)
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    return row


async def get_user_by_name(session: AsyncSession, username: str) -> UserRow | None:
    found: UserRow | None = await session.scalar(
        select(UserRow).where(UserRow.username == username)
    )
    return found


async def get_user_by_telegram_chat(session: AsyncSession, chat_id: int) -> UserRow | None:
    found: UserRow | None = await session.scalar(
        select(UserRow).where(UserRow.telegram_chat_id == chat_id)
    )
    return found


async def list_users(session: AsyncSession) -> list[UserRow]:
    return list(await session.scalars(select(UserRow).order_by(UserRow.username)))


async def set_role(session: AsyncSession, user_id: str, role: Role | str) -> UserRow:
    row = await require_user(session, user_id)
    row.role = Role(role)
    await session.flush()
    return row


async def link_telegram(session: AsyncSession, user_id: str, chat_id: int | None) -> UserRow:
    """Link a Telegram chat to the user (``None`` unlinks); a chat belongs to one user."""
    row = await require_user(session, user_id)
    if chat_id is not None:
        other = await get_user_by_telegram_chat(session, chat_id)
        if other is not None and other.id != user_id:
            raise AlreadyExists(f"telegram chat {chat_id} is already linked to {other.username}")
    row.telegram_chat_id = chat_id
    await session.flush()
    return row


async def disable_user(session: AsyncSession, user_id: str, *, at: int | None = None) -> UserRow:
    """Disable the user: their tokens stop working. Users are never deleted, so the audit log
    keeps naming who did what."""
    row = await require_user(session, user_id)
    if row.disabled_at is None:
        row.disabled_at = at if at is not None else now_ms()
        await session.flush()
    return row
