"""Orders, their transitions and their fills.

The order manager stores an intent with :func:`add_order` *before* sending it (status
``new``), then saves every change the venue reports with :func:`save_order`, which records
the transition. The client order id is unique per account: storing an intent again raises
:class:`DuplicateClientOrderId`, and after a crash :func:`get_order` by client order id
finds what was stored, so the order can be reconciled instead of sent twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, cast

from sqlalchemy import Table, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from tbsdk.errors import IllegalTransition
from tbsdk.model import ALLOWED_TRANSITIONS, Fill, Order, OrderIntent, OrderStatus

from .._types import now_ms
from ..errors import AlreadyExists, DuplicateClientOrderId, NotFound, StorageError
from ..models import FillRow, OrderEventRow, OrderRow
from ._common import filtered, insert, paginate

__all__ = [
    "add_fill",
    "add_intents",
    "add_order",
    "get_order",
    "get_order_by_exchange_id",
    "list_fills",
    "list_orders",
    "order_events",
    "require_order",
    "save_order",
    "to_fill",
    "to_intent",
    "to_order",
    "unfinished_orders",
]

_UNFINISHED = [s for s in OrderStatus if not s.is_terminal]


async def add_order(
    session: AsyncSession,
    *,
    account_id: str,
    intent: OrderIntent,
    bot_id: str | None = None,
    at: int | None = None,
) -> OrderRow:
    """Store a new intent with status ``new``, and its first event, before it is sent."""
    now = at if at is not None else now_ms()
    row = OrderRow(
        bot_id=bot_id,
        account_id=account_id,
        client_order_id=intent.client_order_id,
        exchange_order_id=None,
        tag=intent.tag,
        symbol=intent.symbol,
        side=intent.side,
        type=intent.type,
        qty=intent.qty,
        price=intent.price,
        trigger_price=intent.trigger_price,
        position_side=intent.position_side,
        reduce_only=intent.reduce_only,
        close_position=intent.close_position,
        post_only=intent.post_only,
        time_in_force=intent.time_in_force,
        status=OrderStatus.NEW,
        filled_qty=0,
        avg_fill_price=None,
        fee=0,
        reason=None,
        created_at=now,
        updated_at=now,
    )

    async def conflict() -> StorageError | None:
        existing = await get_order(session, account_id, intent.client_order_id)
        if existing is None:
            return None
        return DuplicateClientOrderId(
            f"order {intent.client_order_id} is already stored for account {account_id} "
            f"(status {existing.status}); reconcile it instead of storing it again"
        )

    await insert(session, row, what=f"order {intent.client_order_id}", conflict=conflict)
    session.add(_event(row, 1, None, OrderStatus.NEW, now, None, None))
    await session.flush()
    return row


async def add_intents(
    session: AsyncSession,
    items: Sequence[tuple[str, str | None, OrderIntent]],
    *,
    at: int | None = None,
) -> list[bool]:
    """Store many ``(account_id, bot_id, intent)`` at once, as :func:`add_order` stores one,
    in four statements whatever their number (a whole tick of bots' intents). An intent
    already stored (or twice in ``items``) is left as it is; returns, per item, whether it was
    stored now."""
    if not items:
        return []
    now = at if at is not None else now_ms()
    keys = sorted({(account_id, intent.client_order_id) for account_id, _, intent in items})
    found = await session.execute(
        select(OrderRow.account_id, OrderRow.client_order_id).where(
            tuple_(OrderRow.account_id, OrderRow.client_order_id).in_(keys)
        )
    )
    stored = {(account, cid) for account, cid in found}
    created: list[bool] = []
    rows: list[dict[str, Any]] = []
    for account_id, bot_id, intent in items:
        key = (account_id, intent.client_order_id)
        created.append(key not in stored)
        if key in stored:
            continue
        stored.add(key)
        rows.append(_intent_row(account_id, bot_id, intent, now))
    if rows:
        # Plain executemany, no RETURNING (which SQLite's driver answers one row at a time):
        # the new rows' ids are read back by their unique key.
        orders = cast(Table, OrderRow.__table__)
        await session.execute(orders.insert(), rows)
        new_keys = [(r["account_id"], r["client_order_id"]) for r in rows]
        ids = await session.execute(
            select(OrderRow.id).where(
                tuple_(OrderRow.account_id, OrderRow.client_order_id).in_(new_keys)
            )
        )
        events = [
            {
                "order_id": order_id,
                "seq": 1,
                "from_status": None,
                "to_status": OrderStatus.NEW,
                "at": now,
                "filled_qty": 0,
                "reason": None,
                "payload": None,
            }
            for order_id in ids.scalars()
        ]
        await session.execute(cast(Table, OrderEventRow.__table__).insert(), events)
    return created


def _intent_row(
    account_id: str, bot_id: str | None, intent: OrderIntent, now: int
) -> dict[str, Any]:
    return {
        "bot_id": bot_id,
        "account_id": account_id,
        "client_order_id": intent.client_order_id,
        "exchange_order_id": None,
        "tag": intent.tag,
        "symbol": intent.symbol,
        "side": intent.side,
        "type": intent.type,
        "qty": intent.qty,
        "price": intent.price,
        "trigger_price": intent.trigger_price,
        "position_side": intent.position_side,
        "reduce_only": intent.reduce_only,
        "close_position": intent.close_position,
        "post_only": intent.post_only,
        "time_in_force": intent.time_in_force,
        "status": OrderStatus.NEW,
        "filled_qty": 0,
        "avg_fill_price": None,
        "fee": 0,
        "reason": None,
        "created_at": now,
        "updated_at": now,
    }


def _event(
    row: OrderRow,
    seq: int,
    from_status: OrderStatus | None,
    to_status: OrderStatus,
    at: int,
    reason: str | None,
    payload: dict[str, Any] | None,
) -> OrderEventRow:
    return OrderEventRow(
        order_id=row.id,
        seq=seq,
        from_status=from_status,
        to_status=to_status,
        at=at,
        filled_qty=row.filled_qty,
        reason=reason,
        payload=payload,
    )


async def get_order(
    session: AsyncSession, account_id: str, client_order_id: str
) -> OrderRow | None:
    found: OrderRow | None = await session.scalar(
        select(OrderRow).where(
            OrderRow.account_id == account_id, OrderRow.client_order_id == client_order_id
        )
    )
    return found


async def require_order(session: AsyncSession, account_id: str, client_order_id: str) -> OrderRow:
    row = await get_order(session, account_id, client_order_id)
    if row is None:
        raise NotFound(f"no order {client_order_id} stored for account {account_id}")
    return row


async def get_order_by_exchange_id(
    session: AsyncSession, account_id: str, exchange_order_id: str
) -> OrderRow | None:
    found: OrderRow | None = await session.scalar(
        select(OrderRow).where(
            OrderRow.account_id == account_id, OrderRow.exchange_order_id == exchange_order_id
        )
    )
    return found


async def save_order(
    session: AsyncSession,
    account_id: str,
    order: Order,
    *,
    at: int | None = None,
    payload: dict[str, Any] | None = None,
) -> OrderRow:
    """Store the order's new state (from ``Order.transition`` / ``apply_fill``).

    A change of status must be one the SDK's state machine allows; it is recorded as an
    event with ``payload`` (the venue's raw answer, if any). The same status again only
    refreshes the fields (a reconciliation that found nothing new), except a further partial
    fill, which is a transition of its own. The filled quantity never shrinks, and the
    intent's fields never change.
    """
    row = await require_order(session, account_id, order.client_order_id)
    old, new = row.status, order.status
    if new != old and new not in ALLOWED_TRANSITIONS[old]:
        raise IllegalTransition(
            f"order {order.client_order_id}: stored status is {old}, cannot go to {new}"
        )
    if order.filled_qty < row.filled_qty:
        # An older snapshot arriving late must not undo fills already counted.
        raise IllegalTransition(
            f"order {order.client_order_id}: filled quantity cannot shrink from "
            f"{row.filled_qty} to {order.filled_qty}"
        )
    is_transition = new != old or (
        new in ALLOWED_TRANSITIONS[old] and order.filled_qty != row.filled_qty
    )
    when = at if at is not None else (order.updated_at or now_ms())
    row.status = new
    row.exchange_order_id = order.exchange_order_id or row.exchange_order_id
    row.filled_qty = order.filled_qty
    row.avg_fill_price = order.avg_fill_price
    row.fee = order.fee
    row.reason = order.reason
    row.updated_at = when
    if is_transition:
        last = await session.scalar(
            select(OrderEventRow.seq)
            .where(OrderEventRow.order_id == row.id)
            .order_by(OrderEventRow.seq.desc())
            .limit(1)
        )
        session.add(_event(row, (last or 0) + 1, old, new, when, order.reason, payload))
    await session.flush()
    return row


async def order_events(session: AsyncSession, order_id: int) -> list[OrderEventRow]:
    """Every transition of the order, oldest first."""
    stmt = select(OrderEventRow).where(OrderEventRow.order_id == order_id)
    return list(await session.scalars(stmt.order_by(OrderEventRow.seq)))


async def list_orders(
    session: AsyncSession,
    *,
    bot_id: str | None = None,
    account_id: str | None = None,
    symbol: str | None = None,
    statuses: Collection[OrderStatus] | None = None,
    since: int | None = None,
    until: int | None = None,
    after_id: int | None = None,
    limit: int = 100,
    newest_first: bool = False,
) -> list[OrderRow]:
    """Orders matching every filter given; ``since``/``until`` bound ``created_at``
    (``until`` excluded); ``after_id`` is the cursor (see ``paginate``)."""
    equal = {OrderRow.bot_id: bot_id, OrderRow.account_id: account_id, OrderRow.symbol: symbol}
    stmt = filtered(select(OrderRow), equal, OrderRow.created_at, since, until)
    if statuses is not None:
        stmt = stmt.where(OrderRow.status.in_([OrderStatus(s) for s in statuses]))
    stmt = paginate(stmt, OrderRow.id, after_id=after_id, limit=limit, newest_first=newest_first)
    return list(await session.scalars(stmt))


async def unfinished_orders(
    session: AsyncSession, account_id: str, *, bot_id: str | None = None
) -> list[OrderRow]:
    """Orders not yet in a terminal status: what a start-up reconciliation must ask about."""
    stmt = select(OrderRow).where(
        OrderRow.account_id == account_id, OrderRow.status.in_(_UNFINISHED)
    )
    if bot_id is not None:
        stmt = stmt.where(OrderRow.bot_id == bot_id)
    return list(await session.scalars(stmt.order_by(OrderRow.id)))


def to_intent(row: OrderRow) -> OrderIntent:
    return OrderIntent(
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=row.side,
        type=row.type,
        qty=row.qty,
        price=row.price,
        trigger_price=row.trigger_price,
        position_side=row.position_side,
        reduce_only=row.reduce_only,
        close_position=row.close_position,
        post_only=row.post_only,
        time_in_force=row.time_in_force,
        tag=row.tag,
    )


def to_order(row: OrderRow) -> Order:
    return Order(
        intent=to_intent(row),
        status=row.status,
        exchange_order_id=row.exchange_order_id,
        filled_qty=row.filled_qty,
        avg_fill_price=row.avg_fill_price,
        fee=row.fee,
        created_at=row.created_at,
        updated_at=row.updated_at,
        reason=row.reason,
    )


async def add_fill(session: AsyncSession, account_id: str, fill: Fill) -> FillRow | None:
    """Store a fill of a stored order; ``None`` if this fill (same trade id) is already
    stored, because venues deliver fills again after reconnecting."""
    order = await require_order(session, account_id, fill.client_order_id)
    row = FillRow(
        order_id=order.id,
        bot_id=order.bot_id,
        account_id=account_id,
        client_order_id=fill.client_order_id,
        exchange_order_id=fill.exchange_order_id,
        trade_id=fill.trade_id,
        symbol=fill.symbol,
        side=fill.side,
        position_side=fill.position_side,
        qty=fill.qty,
        price=fill.price,
        fee=fill.fee,
        fee_currency=fill.fee_currency,
        liquidity=fill.liquidity,
        ts=fill.ts,
    )
    stored = await session.scalar(
        select(FillRow).where(FillRow.order_id == order.id, FillRow.trade_id == fill.trade_id)
    )
    if stored is not None:
        return None

    async def conflict() -> StorageError | None:
        # Only a second writer for the same account gets here: fills of one account arrive
        # through one stream.
        return AlreadyExists(f"fill {fill.trade_id} of {fill.client_order_id} stored twice")

    await insert(session, row, what=f"fill {fill.trade_id}", conflict=conflict)
    return row


async def list_fills(
    session: AsyncSession,
    *,
    bot_id: str | None = None,
    account_id: str | None = None,
    order_id: int | None = None,
    symbol: str | None = None,
    since: int | None = None,
    until: int | None = None,
    after_id: int | None = None,
    limit: int = 100,
    newest_first: bool = False,
) -> list[FillRow]:
    """Fills matching every filter given; ``since``/``until`` bound ``ts`` (``until`` excluded)."""
    equal = {
        FillRow.bot_id: bot_id,
        FillRow.account_id: account_id,
        FillRow.order_id: order_id,
        FillRow.symbol: symbol,
    }
    stmt = filtered(select(FillRow), equal, FillRow.ts, since, until)
    stmt = paginate(stmt, FillRow.id, after_id=after_id, limit=limit, newest_first=newest_first)
    return list(await session.scalars(stmt))


def to_fill(row: FillRow) -> Fill:
    return Fill(
        client_order_id=row.client_order_id,
        exchange_order_id=row.exchange_order_id,
        trade_id=row.trade_id,
        symbol=row.symbol,
        side=row.side,
        position_side=row.position_side,
        qty=row.qty,
        price=row.price,
        fee=row.fee,
        fee_currency=row.fee_currency,
        liquidity=row.liquidity,
        ts=row.ts,
    )
