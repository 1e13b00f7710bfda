"""``UserService``: users, roles and API tokens (admins only), and resolving who is calling."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..storage import Database
from ..storage.models import Role, UserRow
from ..storage.repos import tokens, users
from ._common import record, translated
from .access import Action, Actor, authorize
from .errors import Conflict, Forbidden, NotFound
from .views import IssuedToken, Token, User

__all__ = ["UserService"]


async def _guard_last_admin(session: AsyncSession, user: UserRow, what: str) -> None:
    """Someone must be left who can manage users: the last active admin stays one."""
    if user.role is not Role.ADMIN or user.disabled_at is not None:
        return
    admins = await session.scalar(
        select(func.count())
        .select_from(UserRow)
        .where(UserRow.role == Role.ADMIN, UserRow.disabled_at.is_(None))
    )
    if (admins or 0) <= 1:
        raise Conflict(f"cannot {what} {user.username!r}: it is the last active admin")


class UserService:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- who is calling ------------------------------------------------------------------------
    async def actor_for_token(self, token: str) -> Actor | None:
        """The actor an API token stands for; ``None`` if unknown, revoked, expired or its
        user is disabled (the API answers 401 without saying which)."""
        async with self._db.transaction() as s:
            user = await tokens.authenticate(s, token)
            return None if user is None else Actor.of(user)

    async def actor_for_telegram(self, chat_id: int) -> Actor | None:
        """The actor of a linked Telegram chat; ``None`` for a chat linked to no active user."""
        async with self._db.read() as s:
            user = await users.get_user_by_telegram_chat(s, chat_id)
            return None if user is None or user.disabled_at is not None else Actor.of(user)

    async def actor_for_user(self, username: str) -> Actor:
        """The actor of a named user (the local CLI's ``--as``); refused when disabled."""
        async with self._db.read() as s:
            user = await users.get_user_by_name(s, username)
        if user is None:
            raise Forbidden("act", "none", who=f"unknown user {username!r}")
        if user.disabled_at is not None:
            raise Forbidden("act", user.role.value, who=f"disabled user {username!r}")
        return Actor.of(user)

    # -- users ---------------------------------------------------------------------------------
    async def create(self, actor: Actor, username: str, role: Role | str) -> User:
        authorize(actor, Action.USER_CREATE)
        async with self._db.transaction() as s:
            with translated():
                row = await users.create_user(s, username, role)
            await record(
                s,
                actor,
                Action.USER_CREATE,
                "user",
                row.id,
                {"username": username, "role": row.role.value},
            )
            return User.of(row)

    async def set_role(self, actor: Actor, user_id: str, role: Role | str) -> User:
        authorize(actor, Action.USER_SET_ROLE)
        new = Role(role)
        async with self._db.transaction() as s:
            with translated():
                row = await users.require_user(s, user_id)
            before = row.role
            if new is not Role.ADMIN:
                await _guard_last_admin(s, row, "demote")
            row = await users.set_role(s, user_id, new)
            await record(
                s,
                actor,
                Action.USER_SET_ROLE,
                "user",
                user_id,
                {"username": row.username, "from": before.value, "to": new.value},
            )
            return User.of(row)

    async def disable(self, actor: Actor, user_id: str) -> User:
        """Disable a user: their tokens and Telegram chat stop working; the row stays so the
        audit log keeps naming them."""
        authorize(actor, Action.USER_DISABLE)
        async with self._db.transaction() as s:
            with translated():
                row = await users.require_user(s, user_id)
            await _guard_last_admin(s, row, "disable")
            row = await users.disable_user(s, user_id)
            await record(s, actor, Action.USER_DISABLE, "user", user_id, {"username": row.username})
            return User.of(row)

    # -- tokens --------------------------------------------------------------------------------
    async def issue_token(
        self, actor: Actor, user_id: str, name: str, *, expires_at: int | None = None
    ) -> IssuedToken:
        """A new token for the user; the secret is in the result only, never stored or logged."""
        authorize(actor, Action.TOKEN_ISSUE)
        async with self._db.transaction() as s:
            with translated():
                issued = await tokens.issue_token(s, user_id, name, expires_at=expires_at)
            await record(
                s,
                actor,
                Action.TOKEN_ISSUE,
                "token",
                issued.row.id,
                {"user_id": user_id, "name": name, "prefix": issued.row.prefix},
            )
            return IssuedToken(Token.of(issued.row), issued.token)

    async def revoke_token(self, actor: Actor, token_id: str) -> Token:
        authorize(actor, Action.TOKEN_REVOKE)
        async with self._db.transaction() as s:
            with translated():
                row = await tokens.revoke_token(s, token_id)
            await record(
                s,
                actor,
                Action.TOKEN_REVOKE,
                "token",
                token_id,
                {"user_id": row.user_id, "name": row.name, "prefix": row.prefix},
            )
            return Token.of(row)

    async def list_tokens(self, actor: Actor, user_id: str) -> list[Token]:
        authorize(actor, Action.USER_READ)
        async with self._db.read() as s:
            with translated():
                await users.require_user(s, user_id)
            return [Token.of(r) for r in await tokens.list_tokens(s, user_id)]

    async def get(self, actor: Actor, user: str) -> User:
        """A user by id or, failing that, by username (what people type), disabled ones
        included: the CLI names users, the other methods take their id."""
        authorize(actor, Action.USER_READ)
        async with self._db.read() as s:
            row = await users.get_user(s, user) or await users.get_user_by_name(s, user)
        if row is None:
            raise NotFound(f"no user {user!r}")
        return User.of(row)

    # Last: a method named ``list`` would shadow the builtin in the annotations below it.
    async def list(self, actor: Actor) -> list[User]:
        authorize(actor, Action.USER_READ)
        async with self._db.read() as s:
            return [User.of(r) for r in await users.list_users(s)]
