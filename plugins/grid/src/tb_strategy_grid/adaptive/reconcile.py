"""Reconciliation of one adaptive symbol with the venue (grid spec §2), at start and every 60 s.

The venue is the truth:

* an order of the books the venue never saw (``pending_submit`` when the bot stopped) is sent
  again under the same id; one the venue lost otherwise is dropped (entries) or retried;
* orders that finished while the bot was down are processed as if their events had arrived:
  closing orders first, then filled entries in price order;
* a flat futures book with lots means they were closed outside the grid: the lots are dropped;
* replaced or canceled take-profits and stops that have finished are forgotten (booked if they
  filled first);
* open orders with this instance's id prefix that the books do not know are canceled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tbsdk import StrategyContext
from tbsdk.model import Order, OrderStatus

from . import order_events
from .books import Entry, OrderState, Side

if TYPE_CHECKING:
    from .engine import AdaptiveEngine

__all__ = ["reconcile"]


def reconcile(engine: AdaptiveEngine, ctx: StrategyContext) -> None:
    """Bring the books of ``engine`` in line with what ``ctx`` reports."""
    filled: list[tuple[Side, Entry, Order]] = []
    for side in (Side.LONG, Side.SHORT):
        _closing_orders(engine, ctx, side)
        filled.extend(_entries(engine, ctx, side))
    for side, entry, order in sorted(filled, key=lambda f: f[2].avg_fill_price or 0):
        assert order.avg_fill_price is not None  # a filled order has a price
        order_events.entry_filled(
            engine, ctx, side, entry, order, order.updated_at, order.avg_fill_price
        )
    _retired(engine, ctx)
    if engine.desk.inst.is_derivative:
        for side in (Side.LONG, Side.SHORT):
            book = engine.desk.books[side]
            if book.lots and ctx.position(engine.symbol, engine.desk.orders.book_of(side)).is_flat:
                engine.drop_lots(ctx, side)
    _cancel_strangers(engine, ctx)


def _entries(
    engine: AdaptiveEngine, ctx: StrategyContext, side: Side
) -> list[tuple[Side, Entry, Order]]:
    desk, filled = engine.desk, []
    for entry in list(desk.books[side].entries):
        order = ctx.order(entry.cid)
        if order is None:
            if entry.state is OrderState.PENDING_SUBMIT:
                ctx.submit(desk.orders.entry(side, entry.cid, entry.price, entry.qty))
            else:
                desk.books[side].entries.remove(entry)
                engine.resync = True
        elif order.status is OrderStatus.FILLED:
            filled.append((side, entry, order))
        elif order.status.is_terminal:
            canceled_by_us = entry.state is OrderState.CANCEL_PENDING
            order_events.entry_ended(engine, ctx, side, entry, order, canceled_by_us, None)
        else:
            entry.filled = order.filled_qty
            if entry.state is OrderState.PENDING_SUBMIT:
                entry.state = OrderState.OPEN
    return filled


def _closing_orders(engine: AdaptiveEngine, ctx: StrategyContext, side: Side) -> None:
    desk = engine.desk
    book = desk.books[side]
    for lot in list(book.lots):
        exiting = lot.exiting
        cid = lot.exit_cid if exiting else lot.tp_cid
        state = lot.exit_state if exiting else lot.tp_state
        if cid is None or state is OrderState.RETRY:
            continue
        order = ctx.order(cid)
        if order is not None and order.status is OrderStatus.FILLED:
            assert order.avg_fill_price is not None  # a filled order has a price
            desk.close_part(side, lot, lot.qty, order.avg_fill_price, order.fee)
            order_events.lot_closed(engine, ctx, side, lot, order.avg_fill_price)
            continue
        if order is None and state is OrderState.PENDING_SUBMIT:
            tag = engine.completion or "exit"
            ctx.submit(
                desk.orders.exit(side, lot, tag) if exiting else desk.orders.take_profit(side, lot)
            )
            continue
        # Live: adopt it. Gone: place it again at the next evaluation; that includes the
        # take-profit of a lot whose orders an operator stop canceled (the lot was kept).
        live = order is not None and not order.status.is_terminal
        if exiting:
            lot.exit_state = OrderState.OPEN if live else OrderState.RETRY
        else:
            lot.tp_state = OrderState.OPEN if live else OrderState.RETRY
    stop = book.stop
    if stop is None or stop.state is OrderState.RETRY:
        return
    order = ctx.order(stop.cid)
    if order is None:
        if stop.state is OrderState.PENDING_SUBMIT:
            ctx.submit(desk.orders.stop(side, stop.cid, stop.price))
        else:
            stop.state = OrderState.RETRY
    elif order.status is OrderStatus.FILLED:
        assert order.avg_fill_price is not None  # a filled order has a price
        order_events.stop_filled(engine, ctx, side, stop.cid, order.avg_fill_price, order.fee)
    elif order.status.is_terminal:
        stop.state = OrderState.RETRY
    elif stop.state is OrderState.PENDING_SUBMIT:
        stop.state = OrderState.OPEN


def _retired(engine: AdaptiveEngine, ctx: StrategyContext) -> None:
    """Replaced or canceled take-profits and stops the venue has finished with: forget them,
    booking the ones that filled first."""
    desk = engine.desk
    for cid, (side, kind, seq) in list(desk.retired.items()):
        order = ctx.order(cid)
        if order is not None and not order.status.is_terminal:
            continue
        desk.retired.pop(cid, None)
        price = order.avg_fill_price if order is not None else None
        if order is None or order.status is not OrderStatus.FILLED or price is None:
            continue
        if kind == "stop":
            order_events.stop_filled(engine, ctx, side, cid, price, order.fee)
            continue
        lot = next((x for x in desk.books[side].lots if x.seq == seq), None)
        if lot is not None:
            desk.close_part(side, lot, lot.qty, price, order.fee)
            desk.retire_tp(ctx, side, lot)  # its replacement must not sell again
            order_events.lot_closed(engine, ctx, side, lot, price)


def _cancel_strangers(engine: AdaptiveEngine, ctx: StrategyContext) -> None:
    known: set[str] = set(engine.desk.retired)
    for book in engine.desk.books.values():
        known.update(e.cid for e in book.entries)
        for lot in book.lots:
            known.update(c for c in (lot.tp_cid, lot.exit_cid) if c is not None)
        if book.stop is not None:
            known.add(book.stop.cid)
    for order in ctx.open_orders(engine.symbol):
        cid = order.client_order_id
        if cid.startswith(engine.prefix) and cid not in known:
            ctx.log.warning("%s: canceling unknown order %s of this grid", engine.symbol, cid)
            ctx.cancel(cid)
