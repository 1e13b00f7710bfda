"""The GraphQL object types, each built from a service-layer view (never from a row).

Nothing here can hold a secret: accounts say only whether credentials are stored, tokens show
their prefix, and a token's secret appears once, in :class:`IssuedToken`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Generic, TypeVar

import strawberry

from tbsdk.info import RunMode
from tbsdk.model import (
    Direction,
    Liquidity,
    MarginMode,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    TimeInForce,
)
from tbsdk.model import (
    Fill as SdkFill,
)
from tbsdk.model import (
    Order as SdkOrder,
)
from tbsdk.model import (
    Position as SdkPosition,
)
from tbsdk.model import (
    Trade as SdkTrade,
)

from .. import services as sv
from ..storage.models import BotStatus, Role
from .scalars import JSON, Long

T = TypeVar("T")

# The SDK's and storage's own enums, as GraphQL enums (values are the member names).
for _enum in (
    BotStatus,
    Role,
    RunMode,
    Direction,
    Liquidity,
    MarginMode,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    TimeInForce,
):
    strawberry.enum(_enum)


@strawberry.type(description="One page of a list; pass nextCursor as `after` for the next.")
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = strawberry.field(
        description="Cursor of the next page; null when this page is the last."
    )


def cursor(value: int | None) -> str | None:
    return None if value is None else str(value)


@strawberry.type(description="The caller.")
class Me:
    id: str
    username: str
    role: Role


@strawberry.type
class User:
    id: str
    username: str
    role: Role
    telegram_chat_id: Long | None
    created_at: Long
    disabled_at: Long | None

    @classmethod
    def of(cls, u: sv.User) -> User:
        return cls(
            id=u.id,
            username=u.username,
            role=u.role,
            telegram_chat_id=Long(u.telegram_chat_id) if u.telegram_chat_id is not None else None,
            created_at=Long(u.created_at),
            disabled_at=_long(u.disabled_at),
        )


def _long(value: int | None) -> Long | None:
    return None if value is None else Long(value)


@strawberry.type(description="An API token as listed: never its secret.")
class Token:
    id: str
    user_id: str
    name: str
    prefix: str
    created_at: Long
    expires_at: Long | None
    revoked_at: Long | None
    last_used_at: Long | None

    @classmethod
    def of(cls, t: sv.Token) -> Token:
        return cls(
            id=t.id,
            user_id=t.user_id,
            name=t.name,
            prefix=t.prefix,
            created_at=Long(t.created_at),
            expires_at=_long(t.expires_at),
            revoked_at=_long(t.revoked_at),
            last_used_at=_long(t.last_used_at),
        )


@strawberry.type(description="A new token: `secret` is shown this once and never again.")
class IssuedToken:
    token: Token
    secret: str


@strawberry.type(description="An exchange account without its credentials.")
class Account:
    id: str
    exchange: str
    label: str
    position_mode: PositionMode
    options: JSON
    has_credentials: bool
    created_by: str | None
    created_at: Long

    @classmethod
    def of(cls, a: sv.Account) -> Account:
        return cls(
            id=a.id,
            exchange=a.exchange,
            label=a.label,
            position_mode=a.position_mode,
            options=JSON(a.options),
            has_credentials=a.has_credentials,
            created_by=a.created_by,
            created_at=Long(a.created_at),
        )


@strawberry.type
class Bot:
    id: str
    name: str
    strategy: str
    account_id: str
    symbols: list[str]
    timeframe: str
    mode: RunMode
    config: JSON = strawberry.field(description="The validated strategy settings.")
    config_hash: str
    state: BotStatus
    fault_reason: str | None
    created_by: str | None
    created_at: Long
    updated_at: Long
    started_at: Long | None
    stopped_at: Long | None

    @classmethod
    def of(cls, b: sv.Bot) -> Bot:
        return cls(
            id=b.id,
            name=b.name,
            strategy=b.strategy,
            account_id=b.account_id,
            symbols=list(b.symbols),
            timeframe=b.timeframe,
            mode=b.mode,
            config=JSON(b.config),
            config_hash=b.config_hash,
            state=b.state,
            fault_reason=b.fault_reason,
            created_by=b.created_by,
            created_at=Long(b.created_at),
            updated_at=Long(b.updated_at),
            started_at=_long(b.started_at),
            stopped_at=_long(b.stopped_at),
        )


@strawberry.type(description="A pending request to close a bot's positions.")
class CloseRequest:
    request_id: Long
    bot_id: str
    requested_by: str
    requested_at: Long

    @classmethod
    def of(cls, r: sv.CloseRequest) -> CloseRequest:
        return cls(
            request_id=Long(r.request_id),
            bot_id=r.bot_id,
            requested_by=r.requested_by,
            requested_at=Long(r.requested_at),
        )


@strawberry.type
class Order:
    id: Long = strawberry.field(description="Row id (the cursor).")
    bot_id: str | None
    account_id: str
    client_order_id: str
    exchange_order_id: str | None
    tag: str
    symbol: str
    side: OrderSide
    type: OrderType
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    position_side: PositionSide
    reduce_only: bool
    close_position: bool
    post_only: bool
    time_in_force: TimeInForce
    status: OrderStatus
    filled_qty: Decimal
    avg_fill_price: Decimal | None
    fee: Decimal
    reason: str | None
    created_at: Long
    updated_at: Long

    @classmethod
    def of(cls, item: sv.Item[SdkOrder]) -> Order:
        o, i = item.value, item.value.intent
        return cls(
            id=Long(item.id),
            bot_id=item.bot_id,
            account_id=item.account_id,
            client_order_id=i.client_order_id,
            exchange_order_id=o.exchange_order_id,
            tag=i.tag,
            symbol=i.symbol,
            side=i.side,
            type=i.type,
            qty=i.qty,
            price=i.price,
            trigger_price=i.trigger_price,
            position_side=i.position_side,
            reduce_only=i.reduce_only,
            close_position=i.close_position,
            post_only=i.post_only,
            time_in_force=i.time_in_force,
            status=o.status,
            filled_qty=o.filled_qty,
            avg_fill_price=o.avg_fill_price,
            fee=o.fee,
            reason=o.reason,
            created_at=Long(o.created_at),
            updated_at=Long(o.updated_at),
        )


@strawberry.type
class Fill:
    id: Long
    bot_id: str | None
    account_id: str
    client_order_id: str
    exchange_order_id: str | None
    trade_id: str
    symbol: str
    side: OrderSide
    position_side: PositionSide
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: Liquidity
    ts: Long

    @classmethod
    def of(cls, item: sv.Item[SdkFill]) -> Fill:
        f = item.value
        return cls(
            id=Long(item.id),
            bot_id=item.bot_id,
            account_id=item.account_id,
            client_order_id=f.client_order_id,
            exchange_order_id=f.exchange_order_id,
            trade_id=f.trade_id,
            symbol=f.symbol,
            side=f.side,
            position_side=f.position_side,
            qty=f.qty,
            price=f.price,
            fee=f.fee,
            fee_currency=f.fee_currency,
            liquidity=f.liquidity,
            ts=Long(f.ts),
        )


@strawberry.type(description="The latest position of a bot on one symbol and book.")
class Position:
    id: Long
    bot_id: str | None
    account_id: str
    symbol: str
    position_side: PositionSide
    direction: Direction
    size: Decimal = strawberry.field(description="Contracts; 0 when flat.")
    entry_price: Decimal | None
    contract_size: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    leverage: Decimal
    margin_mode: MarginMode
    liquidation_price: Decimal | None
    updated_at: Long

    @classmethod
    def of(cls, item: sv.Item[SdkPosition]) -> Position:
        p = item.value
        return cls(
            id=Long(item.id),
            bot_id=item.bot_id,
            account_id=item.account_id,
            symbol=p.symbol,
            position_side=p.position_side,
            direction=p.direction,
            size=p.size,
            entry_price=p.entry_price,
            contract_size=p.contract_size,
            realized_pnl=p.realized_pnl,
            unrealized_pnl=p.unrealized_pnl,
            leverage=p.leverage,
            margin_mode=p.margin_mode,
            liquidation_price=p.liquidation_price,
            updated_at=Long(p.updated_at),
        )


@strawberry.type(description="A closed round trip.")
class Trade:
    id: Long
    bot_id: str | None
    account_id: str
    symbol: str
    direction: Direction
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    opened_at: Long
    closed_at: Long
    pnl: Decimal = strawberry.field(description="Realised PnL after fees, quote currency.")
    fees: Decimal
    exit_reason: str

    @classmethod
    def of(cls, item: sv.Item[SdkTrade]) -> Trade:
        t = item.value
        return cls(
            id=Long(item.id),
            bot_id=item.bot_id,
            account_id=item.account_id,
            symbol=t.symbol,
            direction=t.direction,
            qty=t.qty,
            entry_price=t.entry_price,
            exit_price=t.exit_price,
            opened_at=Long(t.opened_at),
            closed_at=Long(t.closed_at),
            pnl=t.pnl,
            fees=t.fees,
            exit_reason=t.exit_reason,
        )


@strawberry.type(description="A bot's realised result from its stored trades.")
class Pnl:
    bot_id: str
    trades: int
    wins: int
    losses: int
    net_pnl: Decimal = strawberry.field(description="After fees.")
    gross_pnl: Decimal = strawberry.field(description="Before fees.")
    fees: Decimal

    @classmethod
    def of(cls, p: sv.PnlSummary) -> Pnl:
        return cls(
            bot_id=p.bot_id,
            trades=p.trades,
            wins=p.wins,
            losses=p.losses,
            net_pnl=p.net_pnl,
            gross_pnl=p.gross_pnl,
            fees=p.fees,
        )


@strawberry.type(description="Cumulative realised PnL after a trade closed.")
class EquityPoint:
    at: Long
    trade_id: Long
    pnl: Decimal = strawberry.field(description="This trade's PnL after fees.")
    cumulative_pnl: Decimal


@strawberry.type
class AuditEntry:
    id: Long
    at: Long
    actor: str = strawberry.field(description="User id, or `system`.")
    action: str
    target_type: str
    target_id: str | None
    details: JSON

    @classmethod
    def of(cls, e: sv.AuditEntry) -> AuditEntry:
        return cls(
            id=Long(e.id),
            at=Long(e.at),
            actor=e.actor,
            action=e.action,
            target_type=e.target_type,
            target_id=e.target_id,
            details=JSON(e.details),
        )


@strawberry.type(description="An installed plugin and whether it runs.")
class Plugin:
    name: str
    group: str
    distribution: str | None
    version: str | None
    api_version: str | None
    status: str = strawberry.field(description="ok, failed, incompatible, blocked or quarantined.")
    reason: str | None = strawberry.field(description="Why it is not ok (or what failed).")


@strawberry.type(description="One setting of a strategy's config.")
class ConfigField:
    name: str
    type: str
    required: bool
    default: JSON | None
    description: str | None
    minimum: Decimal | None = strawberry.field(description="Inclusive lower bound.")
    exclusive_minimum: Decimal | None
    maximum: Decimal | None = strawberry.field(description="Inclusive upper bound.")
    exclusive_maximum: Decimal | None
    choices: list[str] | None = strawberry.field(description="Allowed values, if a fixed set.")


@strawberry.type(description="An installed strategy and its config schema.")
class Strategy:
    name: str
    distribution: str | None
    version: str | None
    description: str | None
    fields: list[ConfigField]
    json_schema: JSON = strawberry.field(description="The config's full JSON Schema.")
