"""Many bots' order records and checkpoints written in a handful of statements.

What a bot's order manager keeps between two checkpoints (answers and reports about its
orders, fills, positions) and the strategy state that follows them are plain records here.
:func:`write_records` stores any number of them, from any number of bots, in one transaction
of about ten statements: it reads the orders, event counters, fills and positions they touch
at once, applies every record in order in memory (the same rules as
:meth:`~tbhost.orders.manager.OrderManager.record`: the SDK state machine, never backwards, a
fill once per trade id, ``submitted`` passed through on the way), then writes each table with
one statement. A thousand bots' candle thus costs one round of statements, not a thousand.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from tbsdk.model import ALLOWED_TRANSITIONS, Fill, Order, OrderStatus, Position, Trade

from ..storage._types import now_ms
from ..storage.errors import NotFound
from ..storage.models import (
    FillRow,
    OrderEventRow,
    OrderRow,
    PositionRow,
    StrategyStateRow,
    TradeRow,
)
from ..storage.repos import orders as order_repo
from ..storage.repos.portfolio import trade_values
from .transitions import steps_to

__all__ = [
    "FillReport",
    "OrderReport",
    "PositionReport",
    "Record",
    "StateSnapshot",
    "TradeReport",
    "write_records",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderReport:
    """An answer or report about a stored order (``via``: what brought it). ``bot_id``: the
    bot whose venue reported it, which adopts an order the venue made up itself (see
    :func:`write_records`); None: the order must be stored already."""

    account_id: str
    order: Order
    via: str
    bot_id: str | None = None


@dataclass(frozen=True)
class FillReport:
    """A fill, and its order's state after it (``bot_id`` as for :class:`OrderReport`)."""

    account_id: str
    fill: Fill
    order: Order
    bot_id: str | None = None


@dataclass(frozen=True)
class PositionReport:
    """A position as the venue reports it after a change (the latest for its book)."""

    bot_id: str
    account_id: str
    position: Position


@dataclass(frozen=True)
class TradeReport:
    """A round trip the bot's venue finished."""

    bot_id: str
    account_id: str
    trade: Trade


@dataclass(frozen=True)
class StateSnapshot:
    """A strategy checkpoint: its state and where its feed resumes; ``keep``: prune all but
    the newest ``keep`` snapshots of the bot when the new one's number is a multiple of it."""

    bot_id: str
    state: dict[str, Any]
    feed_ts: int | None
    keep: int | None = None


Record = OrderReport | FillReport | PositionReport | TradeReport | StateSnapshot


@dataclass
class _Stored:
    """An order as stored, updated in memory as the records apply."""

    id: int
    bot_id: str | None
    status: OrderStatus
    exchange_order_id: str | None
    filled_qty: Decimal
    avg_fill_price: Decimal | None
    fee: Decimal
    reason: str | None
    updated_at: int
    seq: int
    """Number of the order's last event."""


class _Writes:
    """The rows one :func:`write_records` call will write, table by table."""

    def __init__(self) -> None:
        self.fills: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.orders: dict[int, dict[str, Any]] = {}
        self.positions: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.trades: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []
        self.prunes: list[dict[str, Any]] = []


async def write_records(session: AsyncSession, records: Sequence[Record]) -> None:
    """Store ``records`` in order (see the module docstring).

    A report about an order that is not stored is one the venue made up itself (a
    liquidation): it is stored as an order of the bot whose venue reported it, then the report
    applies. Without a reporting bot it raises :class:`~tbhost.storage.errors.NotFound`, as
    :func:`~tbhost.storage.repos.orders.require_order` does."""
    if not records:
        return
    stored = await _load_orders(session, records)
    seen_fills = await _load_fills(session, records, stored)
    out = _Writes()
    for record in records:
        if isinstance(record, FillReport):
            _fill(record, stored, seen_fills, out)
            _advance(stored, record.account_id, record.order, "fill", out)
        elif isinstance(record, OrderReport):
            _advance(stored, record.account_id, record.order, record.via, out)
        elif isinstance(record, PositionReport):
            _position(record, out)
        elif isinstance(record, TradeReport):
            out.trades.append(trade_values(record.bot_id, record.account_id, record.trade))
    await _state_rows(session, records, out)
    await _flush(session, out)


async def _load_orders(
    session: AsyncSession, records: Sequence[Record]
) -> dict[tuple[str, str], _Stored]:
    wanted = {
        (r.account_id, r.order.client_order_id)
        for r in records
        if isinstance(r, OrderReport | FillReport)
    }
    if not wanted:
        return {}
    stored = await _select_orders(session, wanted)
    missing = wanted - stored.keys()
    if missing:
        await _adopt(session, records, missing)
        stored.update(await _select_orders(session, missing))
    by_id = {s.id: s for s in stored.values()}
    seqs = await session.execute(
        select(OrderEventRow.order_id, func.max(OrderEventRow.seq))
        .where(OrderEventRow.order_id.in_(sorted(by_id)))
        .group_by(OrderEventRow.order_id)
    )
    for oid, seq in seqs:
        by_id[oid].seq = int(seq or 0)
    return stored


async def _select_orders(
    session: AsyncSession, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], _Stored]:
    o = OrderRow
    rows = (
        await session.execute(
            select(
                o.id,
                o.account_id,
                o.client_order_id,
                o.bot_id,
                o.status,
                o.exchange_order_id,
                o.filled_qty,
                o.avg_fill_price,
                o.fee,
                o.reason,
                o.updated_at,
            ).where(tuple_(o.account_id, o.client_order_id).in_(sorted(keys)))
        )
    ).all()
    return {
        (account, cid): _Stored(oid, bot, status, eid, filled, avg, fee, reason, updated, 0)
        for oid, account, cid, bot, status, eid, filled, avg, fee, reason, updated in rows
    }


async def _adopt(
    session: AsyncSession, records: Sequence[Record], missing: set[tuple[str, str]]
) -> None:
    """Store each missing order as new, under the bot whose venue first reported it."""
    first: dict[tuple[str, str], OrderReport | FillReport] = {}
    for r in records:
        if isinstance(r, OrderReport | FillReport):
            key = (r.account_id, r.order.client_order_id)
            if key in missing:
                first.setdefault(key, r)
    for key in sorted(missing):
        report = first[key]
        if report.bot_id is None:
            account, cid = key
            raise NotFound(f"no order {cid} stored for account {account}")
        order = report.order
        log.warning(
            "order %s (%s) was made by the venue, not by bot %s: stored as the bot's",
            order.client_order_id,
            order.intent.tag or order.intent.type,
            report.bot_id,
        )
        await order_repo.add_order(
            session,
            account_id=report.account_id,
            intent=order.intent,
            bot_id=report.bot_id,
            at=order.created_at or order.updated_at,
        )
    await session.flush()


async def _load_fills(
    session: AsyncSession, records: Sequence[Record], stored: dict[tuple[str, str], _Stored]
) -> set[tuple[int, str]]:
    ids = sorted(
        {
            stored[(r.account_id, r.fill.client_order_id)].id
            for r in records
            if isinstance(r, FillReport)
        }
    )
    if not ids:
        return set()
    rows = await session.execute(
        select(FillRow.order_id, FillRow.trade_id).where(FillRow.order_id.in_(ids))
    )
    return {(order_id, trade_id) for order_id, trade_id in rows}


def _fill(
    record: FillReport,
    stored: dict[tuple[str, str], _Stored],
    seen: set[tuple[int, str]],
    out: _Writes,
) -> None:
    fill = record.fill
    order = stored[(record.account_id, fill.client_order_id)]
    if (order.id, fill.trade_id) in seen:
        log.debug("fill %s of %s already stored", fill.trade_id, fill.client_order_id)
        return
    seen.add((order.id, fill.trade_id))
    out.fills.append(
        {
            "order_id": order.id,
            "bot_id": order.bot_id,
            "account_id": record.account_id,
            "client_order_id": fill.client_order_id,
            "exchange_order_id": fill.exchange_order_id,
            "trade_id": fill.trade_id,
            "symbol": fill.symbol,
            "side": fill.side,
            "position_side": fill.position_side,
            "qty": fill.qty,
            "price": fill.price,
            "fee": fill.fee,
            "fee_currency": fill.fee_currency,
            "liquidity": fill.liquidity,
            "ts": fill.ts,
        }
    )


def _advance(
    stored: dict[tuple[str, str], _Stored],
    account_id: str,
    order: Order,
    via: str,
    out: _Writes,
) -> None:
    """:meth:`OrderManager._advance` on the in-memory order."""
    row = stored[(account_id, order.client_order_id)]
    steps = steps_to(row.status, order.status, order.exchange_order_id is not None)
    if steps is None or order.filled_qty < row.filled_qty:
        log.debug(
            "order %s: report %s/%s is behind the stored %s/%s; ignored",
            order.client_order_id,
            order.status,
            order.filled_qty,
            row.status,
            row.filled_qty,
        )
        return
    if (
        order.status == row.status
        and order.filled_qty == row.filled_qty
        and (order.exchange_order_id or row.exchange_order_id) == row.exchange_order_id
    ):
        return
    payload: dict[str, Any] = {"via": via, "order": order.model_dump(mode="json")}
    for status in steps[:-1]:
        # Only ``submitted`` is ever an intermediate step: sent, nothing filled yet.
        _save(
            row,
            status=status,
            exchange_order_id=order.exchange_order_id,
            filled_qty=row.filled_qty,
            avg_fill_price=row.avg_fill_price,
            fee=row.fee,
            reason=row.reason,
            updated_at=order.updated_at,
            payload=payload,
            out=out,
        )
    _save(
        row,
        status=order.status,
        exchange_order_id=order.exchange_order_id,
        filled_qty=order.filled_qty,
        avg_fill_price=order.avg_fill_price,
        fee=order.fee,
        reason=order.reason,
        updated_at=order.updated_at,
        payload=payload,
        out=out,
    )


def _save(
    row: _Stored,
    *,
    status: OrderStatus,
    exchange_order_id: str | None,
    filled_qty: Decimal,
    avg_fill_price: Decimal | None,
    fee: Decimal,
    reason: str | None,
    updated_at: int | None,
    payload: dict[str, Any],
    out: _Writes,
) -> None:
    """:func:`~tbhost.storage.repos.orders.save_order` on the in-memory order."""
    old = row.status
    is_transition = status != old or (
        status in ALLOWED_TRANSITIONS[old] and filled_qty != row.filled_qty
    )
    when = updated_at or now_ms()
    row.status = status
    row.exchange_order_id = exchange_order_id or row.exchange_order_id
    row.filled_qty = filled_qty
    row.avg_fill_price = avg_fill_price
    row.fee = fee
    row.reason = reason
    row.updated_at = when
    out.orders[row.id] = {
        "id": row.id,
        "status": row.status,
        "exchange_order_id": row.exchange_order_id,
        "filled_qty": row.filled_qty,
        "avg_fill_price": row.avg_fill_price,
        "fee": row.fee,
        "reason": row.reason,
        "updated_at": row.updated_at,
    }
    if is_transition:
        row.seq += 1
        out.events.append(
            {
                "order_id": row.id,
                "seq": row.seq,
                "from_status": old,
                "to_status": status,
                "at": when,
                "filled_qty": filled_qty,
                "reason": reason,
                "payload": payload,
            }
        )


def _position(record: PositionReport, out: _Writes) -> None:
    p = record.position
    out.positions[(record.bot_id, p.symbol, str(p.position_side))] = {
        "bot_id": record.bot_id,
        "symbol": p.symbol,
        "position_side": p.position_side,
        "account_id": record.account_id,
        "direction": p.direction,
        "size": p.size,
        "entry_price": p.entry_price,
        "contract_size": p.contract_size,
        "realized_pnl": p.realized_pnl,
        "unrealized_pnl": p.unrealized_pnl,
        "leverage": p.leverage,
        "margin_mode": p.margin_mode,
        "liquidation_price": p.liquidation_price,
        "updated_at": p.updated_at,
    }


async def _state_rows(session: AsyncSession, records: Sequence[Record], out: _Writes) -> None:
    snapshots = [r for r in records if isinstance(r, StateSnapshot)]
    if not snapshots:
        return
    bots = sorted({r.bot_id for r in snapshots})
    last = dict(
        (
            await session.execute(
                select(StrategyStateRow.bot_id, func.max(StrategyStateRow.seq))
                .where(StrategyStateRow.bot_id.in_(bots))
                .group_by(StrategyStateRow.bot_id)
            )
        ).all()
    )
    now = now_ms()
    for snap in snapshots:
        seq = last[snap.bot_id] = (last.get(snap.bot_id) or 0) + 1
        out.states.append(
            {
                "bot_id": snap.bot_id,
                "seq": seq,
                "state": snap.state,
                "created_at": now,
                "feed_ts": snap.feed_ts,
            }
        )
        if snap.keep is not None and seq % snap.keep == 0:
            out.prunes.append({"b_id": snap.bot_id, "b_seq": seq - snap.keep})


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


async def _update_by_id(
    session: AsyncSession, model: type[Any], rows: list[dict[str, Any]]
) -> None:
    """One executemany ``UPDATE ... WHERE id = ?`` (Core: the ORM's bulk update by primary
    key may run a statement per row)."""
    table = _table(model)
    columns = [c for c in rows[0] if c != "id"]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("w_id"))
        .values({c: bindparam(f"w_{c}") for c in columns})
    )
    await session.execute(stmt, [{f"w_{k}": v for k, v in row.items()} for row in rows])


async def _flush(session: AsyncSession, out: _Writes) -> None:
    # Core executemany statements: one round trip per table, whatever the number of rows.
    if out.fills:
        await session.execute(_table(FillRow).insert(), out.fills)
    if out.orders:
        await _update_by_id(session, OrderRow, list(out.orders.values()))
    if out.events:
        await session.execute(_table(OrderEventRow).insert(), out.events)
    if out.positions:
        await _upsert_positions(session, list(out.positions.values()))
    if out.trades:
        await session.execute(_table(TradeRow).insert(), out.trades)
    if out.states:
        await session.execute(_table(StrategyStateRow).insert(), out.states)
    if out.prunes:
        table = _table(StrategyStateRow)
        await session.execute(
            delete(table).where(
                table.c.bot_id == bindparam("b_id"), table.c.seq <= bindparam("b_seq")
            ),
            out.prunes,
        )


async def _upsert_positions(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    bots = sorted({r["bot_id"] for r in rows})
    existing = {
        (bot, symbol, str(side)): pid
        for pid, bot, symbol, side in (
            await session.execute(
                select(
                    PositionRow.id,
                    PositionRow.bot_id,
                    PositionRow.symbol,
                    PositionRow.position_side,
                ).where(PositionRow.bot_id.in_(bots))
            )
        ).all()
    }
    updates, inserts = [], []
    for row in rows:
        pid = existing.get((row["bot_id"], row["symbol"], str(row["position_side"])))
        if pid is None:
            inserts.append(row)
        else:
            updates.append({"id": pid, **{k: v for k, v in row.items() if k != "bot_id"}})
    if updates:
        await _update_by_id(session, PositionRow, updates)
    if inserts:
        await session.execute(_table(PositionRow).insert(), inserts)
