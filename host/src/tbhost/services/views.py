"""What the services return: plain frozen values, detached from the database session.

None of them holds a secret: accounts say only whether credentials are stored, tokens show
their secret once, in :class:`IssuedToken`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from tbsdk.info import RunMode
from tbsdk.model import PositionMode

from ..storage.models import (
    AccountRow,
    ApiTokenRow,
    AuditRow,
    BotStatus,
    Role,
    UserRow,
)

__all__ = [
    "Account",
    "AuditEntry",
    "Bot",
    "CloseRequest",
    "IssuedToken",
    "Item",
    "Page",
    "PnlSummary",
    "StrategySnapshot",
    "Token",
    "User",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; pass ``next_after`` as ``after_id`` to get the next (``None``:
    this was the last page)."""

    items: list[T]
    next_after: int | None


@dataclass(frozen=True)
class Item(Generic[T]):
    """A stored order, fill, position or trade with whose it is: the SDK value alone does not
    say which bot or account it belongs to. ``id`` is the row id the cursors use."""

    id: int
    bot_id: str | None
    account_id: str
    value: T


class BotFields(Protocol):
    """What :meth:`Bot.of` reads: a mapped :class:`BotRow`, or a Core row of the bots table
    (same names, same typed values)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def strategy(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def symbols(self) -> Sequence[str]: ...
    @property
    def timeframe(self) -> str: ...
    @property
    def mode(self) -> RunMode: ...
    @property
    def config(self) -> Mapping[str, Any]: ...
    @property
    def config_hash(self) -> str: ...
    @property
    def state(self) -> BotStatus: ...
    @property
    def fault_reason(self) -> str | None: ...
    @property
    def created_by(self) -> str | None: ...
    @property
    def created_at(self) -> int: ...
    @property
    def updated_at(self) -> int: ...
    @property
    def started_at(self) -> int | None: ...
    @property
    def stopped_at(self) -> int | None: ...


@dataclass(frozen=True)
class Bot:
    id: str
    name: str
    strategy: str
    account_id: str
    symbols: tuple[str, ...]
    timeframe: str
    mode: RunMode
    config: dict[str, Any]
    config_hash: str
    state: BotStatus
    fault_reason: str | None
    created_by: str | None
    created_at: int
    updated_at: int
    started_at: int | None
    stopped_at: int | None

    @classmethod
    def of(cls, row: BotFields) -> Bot:
        return cls(
            id=row.id,
            name=row.name,
            strategy=row.strategy,
            account_id=row.account_id,
            symbols=tuple(row.symbols),
            timeframe=row.timeframe,
            mode=row.mode,
            config=dict(row.config),
            config_hash=row.config_hash,
            state=row.state,
            fault_reason=row.fault_reason,
            created_by=row.created_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            started_at=row.started_at,
            stopped_at=row.stopped_at,
        )


@dataclass(frozen=True)
class CloseRequest:
    """A pending request to close a bot's positions (an audit entry; see ``commands``)."""

    request_id: int
    bot_id: str
    requested_by: str
    requested_at: int


@dataclass(frozen=True)
class Account:
    """An exchange account without its credentials: only whether some are stored."""

    id: str
    exchange: str
    label: str
    position_mode: PositionMode
    options: dict[str, Any]
    has_credentials: bool
    created_by: str | None
    created_at: int

    @classmethod
    def of(cls, row: AccountRow) -> Account:
        return cls(
            id=row.id,
            exchange=row.exchange,
            label=row.label,
            position_mode=row.position_mode,
            options=dict(row.options),
            has_credentials=row.credentials is not None,
            created_by=row.created_by,
            created_at=row.created_at,
        )


@dataclass(frozen=True)
class User:
    id: str
    username: str
    role: Role
    telegram_chat_id: int | None
    created_at: int
    disabled_at: int | None

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(
            id=row.id,
            username=row.username,
            role=row.role,
            telegram_chat_id=row.telegram_chat_id,
            created_at=row.created_at,
            disabled_at=row.disabled_at,
        )


@dataclass(frozen=True)
class Token:
    """An API token as listed: never the secret, which is stored only as a hash."""

    id: str
    user_id: str
    name: str
    prefix: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None
    last_used_at: int | None

    @classmethod
    def of(cls, row: ApiTokenRow) -> Token:
        return cls(
            id=row.id,
            user_id=row.user_id,
            name=row.name,
            prefix=row.prefix,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``token`` is the only copy of the secret, to show the user once."""

    info: Token
    token: str = field(repr=False)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: int
    actor: str
    action: str
    target_type: str
    target_id: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntry:
        return cls(
            id=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            details=dict(row.details),
        )


@dataclass(frozen=True)
class PnlSummary:
    """A bot's realised result from its stored trades; ``net_pnl`` is after fees (as each
    trade's ``pnl``), ``gross_pnl`` before them."""

    bot_id: str
    trades: int
    wins: int
    losses: int
    net_pnl: Decimal
    fees: Decimal

    @property
    def gross_pnl(self) -> Decimal:
        return self.net_pnl + self.fees


@dataclass(frozen=True)
class StrategySnapshot:
    """The latest saved state of a bot's strategy: what a restart resumes from. ``seq``
    counts the bot's snapshots (1, 2, ...); ``feed_ts`` is the open time of the first candle
    the strategy had not handled yet (``None`` when not recorded)."""

    bot_id: str
    seq: int
    saved_at: int
    feed_ts: int | None
    state: dict[str, Any]
