"""Who may do what: the actor of a call, the actions, and the one table of role rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..storage.models import SYSTEM_ACTOR, Role, UserRow
from .errors import Forbidden

__all__ = ["ROLE_ACTIONS", "SYSTEM", "Action", "Actor", "authorize"]


@dataclass(frozen=True)
class Actor:
    """The user a call is made as. The API, CLI and Telegram bot resolve it (token, local
    operator, linked chat) and pass it first to every service method."""

    user_id: str
    username: str
    role: Role

    @classmethod
    def of(cls, user: UserRow) -> Actor:
        return cls(user.id, user.username, user.role)

    @property
    def is_system(self) -> bool:
        return self.user_id == SYSTEM_ACTOR

    @property
    def user_ref(self) -> str | None:
        """The id to store in ``created_by`` columns: the system is no user row."""
        return None if self.is_system else self.user_id


SYSTEM = Actor(SYSTEM_ACTOR, SYSTEM_ACTOR, Role.ADMIN)
"""The host itself (start-up, the local CLI before any user exists): an admin."""


class Action(StrEnum):
    """Every action the services check; the value is also the audit log's verb."""

    BOT_READ = "bot.read"
    BOT_CREATE = "bot.create"
    BOT_CONFIGURE = "bot.configure"
    BOT_START = "bot.start"
    BOT_PAUSE = "bot.pause"
    BOT_RESUME = "bot.resume"
    BOT_STOP = "bot.stop"
    BOT_DELETE = "bot.delete"
    BOT_CLOSE_POSITIONS = "bot.close_positions"
    BACKTEST_RUN = "backtest.run"
    """Run a backtest on stored candles: CPU, no money, no bot."""
    ACCOUNT_READ = "account.read"
    ACCOUNT_ADD = "account.add"
    ACCOUNT_REMOVE = "account.remove"
    TRADING_READ = "trading.read"
    """Orders, fills, positions, trades and PnL."""
    AUDIT_READ = "audit.read"
    USER_READ = "user.read"
    USER_CREATE = "user.create"
    USER_SET_ROLE = "user.set_role"
    USER_DISABLE = "user.disable"
    TOKEN_ISSUE = "token.issue"
    TOKEN_REVOKE = "token.revoke"


_READ = frozenset(
    {
        Action.BOT_READ,
        Action.ACCOUNT_READ,
        Action.TRADING_READ,
        Action.AUDIT_READ,
    }
)
_TRADE = frozenset(
    {
        Action.BOT_CREATE,
        Action.BOT_CONFIGURE,
        Action.BOT_START,
        Action.BOT_PAUSE,
        Action.BOT_RESUME,
        Action.BOT_STOP,
        Action.BOT_DELETE,
        Action.BOT_CLOSE_POSITIONS,
        Action.BACKTEST_RUN,
    }
)

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    # Viewers look; traders run bots on any account; only admins manage users, tokens and
    # accounts (which hold exchange keys).
    Role.VIEWER: _READ,
    Role.TRADER: _READ | _TRADE,
    Role.ADMIN: frozenset(Action),
}


def authorize(actor: Actor, action: Action) -> None:
    """Raise :class:`Forbidden` unless the actor's role allows ``action``."""
    if action not in ROLE_ACTIONS[actor.role]:
        raise Forbidden(action.value, actor.role.value, who=actor.username)
