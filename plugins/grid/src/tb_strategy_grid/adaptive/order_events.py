"""Fills and order updates of one adaptive symbol (grid spec §4.11): which of our orders an event
is about, and what it does to the books.

* entry filled: a lot, its take-profit, the side stop, a partial rebalance at the fill price;
  refused, canceled or expired: a partly filled one becomes a lot of what filled;
  ``insufficient_margin`` stops new entries until the next 15m close; otherwise the entry is
  placed again at the next evaluation;
* take-profit or exit filled: the lot closes (PnL booked), the side stop, a partial rebalance;
  refused or lost: retried at the next evaluation;
* stop filled: the side's lots close and the symbol completes; refused as already crossed: the
  symbol completes now; otherwise retried.

Take-profits and stops that were replaced or canceled stay known (``Desk.retired``) until the
venue confirms them gone: one can fill first, and that fill is booked like the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from tbsdk import StrategyContext
from tbsdk.model import FillEvent, Order, OrderStatus, OrderUpdate, RejectReason

from .books import Entry, Lot, OrderState, Side

if TYPE_CHECKING:
    from .engine import AdaptiveEngine

__all__ = [
    "Found",
    "entry_ended",
    "entry_filled",
    "find",
    "lot_closed",
    "on_fill",
    "on_order_update",
    "stop_filled",
]


@dataclass(frozen=True, slots=True)
class Found:
    """One of our orders: ``kind`` is ``entry``, ``tp``, ``exit`` or ``stop``; ``retired`` for
    a replaced or canceled take-profit or stop; ``lot`` / ``entry`` when it has one."""

    side: Side
    kind: str
    entry: Entry | None = None
    lot: Lot | None = None
    retired: bool = False


def find(engine: AdaptiveEngine, cid: str) -> Found | None:
    """Which of the engine's orders ``cid`` is, if any."""
    if not cid.startswith(engine.prefix):
        return None
    desk = engine.desk
    for side, book in desk.books.items():
        entry = book.find_entry(cid)
        if entry is not None:
            return Found(side, "entry", entry=entry)
        lot = book.find_tp(cid)
        if lot is not None:
            return Found(side, "tp", lot=lot)
        lot = book.find_exit(cid)
        if lot is not None:
            return Found(side, "exit", lot=lot)
        if book.stop is not None and book.stop.cid == cid:
            return Found(side, "stop")
    old = desk.retired.get(cid)
    if old is None:
        return None
    side, kind, seq = old
    lot = next((x for x in desk.books[side].lots if x.seq == seq), None) if kind == "tp" else None
    return Found(side, kind, lot=lot, retired=True)


def on_fill(engine: AdaptiveEngine, ctx: StrategyContext, event: FillEvent) -> None:
    order, fill = event.order, event.fill
    cid = order.client_order_id
    found = find(engine, cid)
    if found is None:
        return
    desk, side = engine.desk, found.side
    done = order.status is OrderStatus.FILLED
    if found.retired and done:
        desk.retired.pop(cid, None)
    if found.entry is not None:
        if done:
            entry_filled(engine, ctx, side, found.entry, order, fill.ts, fill.price)
        else:
            found.entry.filled, found.entry.state = order.filled_qty, OrderState.OPEN
    elif found.lot is not None:
        lot = found.lot
        desk.close_part(side, lot, fill.qty, fill.price, fill.fee)
        if done or lot.qty == 0:
            if found.retired:
                desk.retire_tp(ctx, side, lot)  # its replacement must not sell again
            lot_closed(engine, ctx, side, lot, fill.price)
    elif found.kind == "stop":  # the current or a replaced stop closed the whole side
        stop_filled(engine, ctx, side, cid, fill.price, fill.fee)


def on_order_update(engine: AdaptiveEngine, ctx: StrategyContext, event: OrderUpdate) -> None:
    order = event.order
    cid = order.client_order_id
    found = find(engine, cid)
    if found is None:
        return
    status = order.status
    if not status.is_terminal or status is OrderStatus.FILLED:
        if status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED) and not found.retired:
            _mark_open(found)
        return
    desk, side, lot = engine.desk, found.side, found.lot
    desk.retired.pop(cid, None)  # gone without (another) fill
    if found.retired:
        return
    if found.entry is not None:
        entry_ended(engine, ctx, side, found.entry, order, event.by_strategy, event.reject_reason)
    elif found.kind == "tp" and lot is not None:
        if not event.by_strategy and lot.tp_state is not OrderState.CANCEL_PENDING:
            lot.tp_state = OrderState.RETRY  # re-targeted and placed at the next evaluation
    elif found.kind == "exit" and lot is not None:
        lot.exit_state = OrderState.RETRY
    elif found.kind == "stop":
        stop = desk.books[side].stop
        if stop is not None:
            stop.state = OrderState.RETRY  # not on the venue: placed again, or nothing to cancel
        if event.reject_reason is RejectReason.WOULD_TRIGGER_IMMEDIATELY:
            # The price is already beyond the stop: the side is stopped out now.
            engine.complete(ctx, "stop_loss")


# -- the life of a lot ---------------------------------------------------------------------------
def entry_filled(
    engine: AdaptiveEngine,
    ctx: StrategyContext,
    side: Side,
    entry: Entry,
    order: Order,
    ts: int,
    price: Decimal,
) -> None:
    """A lot is born: its take-profit, the side stop, then a partial rebalance at ``price``."""
    desk = engine.desk
    lot = desk.open_lot(side, entry, order, ts)
    engine.last_entry_fill = ts
    engine.arm_inactivity(ctx)
    if engine.completion is not None:
        desk.exit_lot(ctx, side, lot, engine.completion)
        return
    table = engine.market.table
    if table is not None:
        desk.place_tp(ctx, side, lot, table, price)
    desk.update_stop(ctx, side)
    _after_change(engine, ctx, price)


def lot_closed(
    engine: AdaptiveEngine, ctx: StrategyContext, side: Side, lot: Lot, price: Decimal
) -> None:
    """The lot's take-profit or exit has filled."""
    desk = engine.desk
    desk.finish_lot(side, lot)
    desk.update_stop(ctx, side)
    if engine.completion is not None:
        engine.completed = not desk.lots()
        return
    _after_change(engine, ctx, price)


def stop_filled(
    engine: AdaptiveEngine,
    ctx: StrategyContext,
    side: Side,
    cid: str,
    price: Decimal,
    fee: Decimal,
) -> None:
    """A stop ``cid`` of the side (the current one, or one just replaced) closed the whole book
    at ``price``: book the lots, cancel the other stop, complete."""
    desk = engine.desk
    book = desk.books[side]
    if book.stop is not None and book.stop.cid != cid:
        desk.retire_stop(ctx, side, book.stop)
    book.stop = None
    for i, lot in enumerate(list(book.lots)):
        desk.close_part(side, lot, lot.qty, price, fee if i == 0 else Decimal(0))
        desk.retire_tp(ctx, side, lot)
        desk.finish_lot(side, lot)
    engine.complete(ctx, "stop_loss")


def entry_ended(
    engine: AdaptiveEngine,
    ctx: StrategyContext,
    side: Side,
    entry: Entry,
    order: Order,
    by_strategy: bool,
    reason: RejectReason | None,
) -> None:
    """An entry was canceled, expired or refused: a partly filled one becomes a lot."""
    if order.filled_qty > 0:
        assert order.avg_fill_price is not None  # a filled quantity has a price
        entry_filled(engine, ctx, side, entry, order, order.updated_at, order.avg_fill_price)
        return
    engine.desk.books[side].entries.remove(entry)
    if reason is RejectReason.INSUFFICIENT_MARGIN:
        engine.desk.margin_blocked = True
    if not by_strategy:
        engine.resync = True  # placed again (new seq) at the next evaluation


def _after_change(engine: AdaptiveEngine, ctx: StrategyContext, price: Decimal) -> None:
    market = engine.market
    if market.table is not None and market.ready:
        engine.desk.rebalance(ctx, market.table, market.regime, price, full=False)
    engine.resync = True  # the next close may sit at other rungs than this fill


def _mark_open(found: Found) -> None:
    if found.entry is not None and found.entry.state is OrderState.PENDING_SUBMIT:
        found.entry.state = OrderState.OPEN
    lot = found.lot
    if lot is None:
        return
    if found.kind == "tp" and lot.tp_state is OrderState.PENDING_SUBMIT:
        lot.tp_state = OrderState.OPEN
    elif found.kind == "exit" and lot.exit_state is OrderState.PENDING_SUBMIT:
        lot.exit_state = OrderState.OPEN
