"""``AccountService``: exchange accounts, managed by admins; credentials never leave encrypted."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tbsdk.credentials import Credentials
from tbsdk.model import PositionMode

from ..storage import Database
from ..storage.models import BotRow
from ..storage.repos import accounts
from ._common import record, translated
from .access import Action, Actor, authorize
from .errors import Conflict
from .views import Account

__all__ = ["AccountService"]


class AccountService:
    """Exchange accounts. ``secrets_key`` is the host's ``secrets_key`` setting: credentials
    are encrypted with it before they reach the session; nothing here ever returns them."""

    def __init__(self, db: Database, secrets_key: SecretStr | None) -> None:
        self._db = db
        self._key = secrets_key

    def __repr__(self) -> str:
        return "AccountService(<secrets key hidden>)"

    async def add(
        self,
        actor: Actor,
        exchange: str,
        label: str,
        *,
        credentials: Credentials | None = None,
        position_mode: PositionMode | str = PositionMode.ONE_WAY,
        options: dict[str, Any] | None = None,
    ) -> Account:
        authorize(actor, Action.ACCOUNT_ADD)
        async with self._db.transaction() as s:
            with translated():
                row = await accounts.create_account(
                    s,
                    exchange=exchange,
                    label=label,
                    credentials=credentials,
                    secrets_key=self._key,
                    position_mode=position_mode,
                    options=options,
                    created_by=actor.user_ref,
                )
            await record(
                s,
                actor,
                Action.ACCOUNT_ADD,
                "account",
                row.id,
                {
                    "exchange": exchange,
                    "label": label,
                    "position_mode": row.position_mode.value,
                    "has_credentials": credentials is not None,
                },
            )
            return Account.of(row)

    async def remove(self, actor: Actor, account_id: str) -> None:
        """Remove an account nothing refers to; one with bots (even deleted ones, whose
        history stays) or orders is refused with :class:`Conflict`."""
        authorize(actor, Action.ACCOUNT_REMOVE)
        async with self._db.transaction() as s:
            with translated():
                row = await accounts.require_account(s, account_id)
            used = await s.scalar(
                select(func.count()).select_from(BotRow).where(BotRow.account_id == account_id)
            )
            if used:
                raise Conflict(
                    f"account {row.label!r} is used by {used} bot(s), deleted ones included, "
                    "whose history refers to it; it cannot be removed"
                )
            label = row.label
            try:
                async with s.begin_nested():
                    await s.delete(row)
            except IntegrityError:
                raise Conflict(
                    f"account {label!r} has orders or fills stored; it cannot be removed"
                ) from None
            await record(s, actor, Action.ACCOUNT_REMOVE, "account", account_id, {"label": label})

    async def get(self, actor: Actor, account_id: str) -> Account:
        authorize(actor, Action.ACCOUNT_READ)
        async with self._db.read() as s:
            with translated():
                return Account.of(await accounts.require_account(s, account_id))

    async def list(self, actor: Actor) -> list[Account]:
        authorize(actor, Action.ACCOUNT_READ)
        async with self._db.read() as s:
            return [Account.of(r) for r in await accounts.list_accounts(s)]
