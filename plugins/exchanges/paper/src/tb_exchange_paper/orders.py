"""Order entry: validation, reservation and placement; cancel and amend; account settings.

Refusals raise (:class:`~tb_exchange_paper.errors.PaperInvalidOrder`,
:class:`~tb_exchange_paper.errors.PaperInsufficientFunds`) with a normalised reason and store
nothing, so a corrected order may be sent again.
"""

from __future__ import annotations

from decimal import Decimal

from tbsdk.errors import InvalidOrder, OrderNotFound
from tbsdk.model import (
    Instrument,
    MarginMode,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMode,
    RejectReason,
    TimeInForce,
)

from .book import Entry, SymbolBook
from .errors import PaperInsufficientFunds, PaperInvalidOrder
from .execution import finish
from .matching import reached, taker_price
from .state import EngineState

__all__ = ["amend", "cancel", "set_leverage", "set_position_mode", "submit"]


def submit(st: EngineState, intent: OrderIntent) -> Order:
    """Validate and place ``intent``; return the order (``open``, or ``submitted`` when it
    waits for the next open: market, IOC/FOK, and limits marketable when placed)."""
    cid = intent.client_order_id
    if cid in st.orders:
        # Idempotency: a retried id must never open a second order.
        raise PaperInvalidOrder(
            f"paper: client_order_id {cid} already exists ({st.orders[cid].status})",
            RejectReason.DUPLICATE_CLIENT_ID,
        )
    sb = st.book(intent.symbol)
    inst = sb.instrument
    book = st.position_book(inst, intent)
    reducing = st.is_reducing(intent, book)
    last = sb.mark()
    if intent.type is OrderType.MARKET and last is None:
        raise PaperInvalidOrder(f"paper {inst.symbol}: no market price yet for a market order")
    ref = intent.price or intent.trigger_price or last
    _check_rules(inst, intent, ref)
    # The intent is validated already: the order around it needs no second check.
    new = Order.model_construct(intent=intent, created_at=st.now, updated_at=st.now)
    entry = Entry.of(new, 0, reducing, book)
    _check_against_market(st, sb, entry, intent)
    if reducing:
        _check_reduce_only(st, inst, entry)
    entry.taker = _queued_for_open(intent, entry, sb)
    _reserve(st, sb, entry, intent.qty)
    seq = st.next_seq()
    entry.seq = seq
    order = new.transition(
        OrderStatus.SUBMITTED, at=st.now, exchange_order_id=st.exchange_order_id(seq)
    )
    if not entry.taker:
        order = order.transition(OrderStatus.OPEN, at=st.now)
    entry.order = order
    sb.add(entry)
    st.orders[cid] = order
    st.outbox.append((order, False))
    return order


def _check_rules(inst: Instrument, intent: OrderIntent, ref: Decimal | None) -> None:
    """Lot step, min/max size, tick and min notional, via :meth:`Instrument.check_order`."""
    if intent.close_position:
        # No size to check: only the trigger must sit on the tick grid.
        price = intent.trigger_price
        if price is not None and price % inst.tick(price) != 0:
            raise PaperInvalidOrder(
                f"{inst.exchange} {inst.symbol}: price {price} is not on the tick grid "
                f"{inst.tick(price)}"
            )
        return
    try:
        inst.check_order(intent.qty, ref, priced=intent.type is not OrderType.MARKET)
    except InvalidOrder as exc:
        small = intent.qty < inst.min_size or (
            ref is not None and inst.notional(intent.qty, ref) < inst.min_notional
        )
        raise PaperInvalidOrder(
            exc.message, RejectReason.MIN_SIZE if small else RejectReason.OTHER
        ) from exc


def _check_against_market(
    st: EngineState, sb: SymbolBook, entry: Entry, intent: OrderIntent
) -> None:
    """Post-only must not take; a trigger must not already be crossed at the last price."""
    if not sb.last:
        return
    if intent.post_only and _marketable(intent, entry, sb.last):
        raise PaperInvalidOrder(
            f"paper {intent.symbol}: post-only {intent.side} at {intent.price} would take "
            f"liquidity (last price {sb.mark()})",
            RejectReason.OTHER,
        )
    if intent.type.is_trigger and reached(entry, sb.last, False):
        raise PaperInvalidOrder(
            f"paper {intent.symbol}: {intent.type} {intent.side} trigger {intent.trigger_price} "
            f"is already crossed at the last price {sb.mark()}",
            RejectReason.WOULD_TRIGGER_IMMEDIATELY,
        )


def _marketable(intent: OrderIntent, entry: Entry, last: float) -> bool:
    return last <= entry.level if intent.side is OrderSide.BUY else last >= entry.level


def _check_reduce_only(st: EngineState, inst: Instrument, entry: Entry) -> None:
    """Market and limit reduce-only orders need a position to reduce when placed; trigger
    orders may wait for one (a bracket placed before its entry fills). None may add to one."""
    intent = entry.order.intent
    pos = st.accounts.positions.get((inst.symbol, entry.book))
    held = pos is not None and pos.size > 0
    if held and st.accounts.reducible(inst, entry.book, intent.side) == 0:
        raise PaperInvalidOrder(
            f"paper {inst.symbol}: reduce-only {intent.side} would increase the "
            f"{entry.book} position",
            RejectReason.REDUCE_ONLY_CONFLICT,
        )
    if not held and not intent.type.is_trigger:
        raise PaperInvalidOrder(
            f"paper {inst.symbol}: reduce-only {intent.side} with no {entry.book} position",
            RejectReason.REDUCE_ONLY_CONFLICT,
        )


def _queued_for_open(intent: OrderIntent, entry: Entry, sb: SymbolBook) -> bool:
    if intent.type is OrderType.MARKET or intent.time_in_force is not TimeInForce.GTC:
        return intent.type in (OrderType.MARKET, OrderType.LIMIT)
    return intent.type is OrderType.LIMIT and bool(sb.last) and _marketable(intent, entry, sb.last)


def _reserve(st: EngineState, sb: SymbolBook, entry: Entry, qty: Decimal) -> None:
    """Hold funds for a market or limit order that may open exposure (spot: also sells).

    Trigger orders hold nothing until they fire; their funds are checked at the fill.
    """
    inst, intent = sb.instrument, entry.order.intent
    if intent.type.is_trigger:
        return
    if not inst.is_derivative and intent.side is OrderSide.SELL:
        amount, currency = qty, inst.base
    else:
        if entry.reducing and inst.is_derivative:
            return
        mark = sb.mark()
        price = intent.price if intent.price is not None else mark
        assert price is not None  # market orders were refused without a price
        if intent.type is OrderType.MARKET:
            price = taker_price(price, intent.side, st.config.slippage_bps, inst)
        opening = qty - min(qty, st.accounts.reducible(inst, entry.book, intent.side))
        if opening == 0:
            return
        notional = inst.notional(opening, price)
        # Reserve at the higher fee rate: whether the order makes or takes is known only later.
        fee = notional * max(st.fee_rate(inst, True), st.fee_rate(inst, False))
        leverage = st.leverage_of(inst)[0]
        amount, currency = notional / leverage + fee, inst.settle or inst.quote
    free = st.accounts.free(currency, st.mark)
    if amount > free:
        raise PaperInsufficientFunds(
            f"paper {inst.symbol}: order needs {amount} {currency}, only {free} {currency} free"
        )
    st.accounts.reserve(currency, amount)
    entry.reserved, entry.reserve_currency = amount, currency


def _live_entry(st: EngineState, symbol: str, cid: str) -> tuple[SymbolBook, Entry | None, Order]:
    order = st.orders.get(cid)
    if order is None or order.intent.symbol != symbol:
        raise OrderNotFound(f"paper {symbol}: no order with client id {cid}")
    sb = st.book(symbol)
    return sb, sb.find(cid), order


def cancel(st: EngineState, symbol: str, cid: str) -> Order:
    """Cancel a live order. Canceling one already canceled or expired returns it unchanged."""
    sb, entry, order = _live_entry(st, symbol, cid)
    if entry is None:
        if order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED):
            return order
        raise OrderNotFound(f"paper {symbol}: order {cid} is {order.status}, nothing to cancel")
    sb.remove(entry)
    if entry.reserved:
        st.accounts.release(entry.reserve_currency, entry.reserved)
        entry.reserved = Decimal(0)
    order = finish(st, entry.order, OrderStatus.CANCELED, "canceled on request", None)
    st.outbox.append((order, True))
    return order


def amend(
    st: EngineState,
    symbol: str,
    cid: str,
    qty: Decimal | None,
    price: Decimal | None,
    trigger_price: Decimal | None,
) -> Order:
    """Change a resting order in place; it keeps its id and its place in submission order."""
    sb, entry, order = _live_entry(st, symbol, cid)
    if entry is None or entry.taker:
        raise PaperInvalidOrder(f"paper {symbol}: order {cid} is not resting ({order.status})")
    update: dict[str, Decimal] = {}
    if qty is not None:
        update["qty"] = qty
    if price is not None:
        update["price"] = price
    if trigger_price is not None:
        update["trigger_price"] = trigger_price
    try:
        intent = OrderIntent.model_validate({**order.intent.model_dump(), **update})
    except ValueError as exc:
        raise PaperInvalidOrder(f"paper {symbol}: cannot amend {cid}: {exc}") from exc
    _check_rules(sb.instrument, intent, intent.price or intent.trigger_price)
    probe = Entry.of(Order(intent=intent), entry.seq, entry.reducing, entry.book)
    _check_against_market(st, sb, probe, intent)
    if _queued_for_open(intent, probe, sb):
        raise PaperInvalidOrder(f"paper {symbol}: amended {cid} would take liquidity now")
    # Swap the reservation for one at the new size and price; refuse (keeping the old) if short.
    held, currency = entry.reserved, entry.reserve_currency
    if held:
        st.accounts.release(currency, held)
    probe.order = order.model_copy(update={"intent": intent, "updated_at": st.now})
    try:
        _reserve(st, sb, probe, intent.qty)
    except PaperInsufficientFunds:
        if held:
            st.accounts.reserve(currency, held)
        raise
    entry.order = probe.order
    sb.move(entry, probe.level)
    entry.reserved, entry.reserve_currency = probe.reserved, probe.reserve_currency
    st.orders[cid] = entry.order
    st.outbox.append((entry.order, False))
    return entry.order


def set_leverage(st: EngineState, symbol: str, leverage: Decimal, mode: MarginMode) -> None:
    """Set leverage and margin mode of a derivatives symbol while it has no position."""
    inst = st.book(symbol).instrument
    if not inst.is_derivative:
        raise InvalidOrder(f"paper {symbol}: leverage applies to derivatives only")
    if leverage <= 0 or (inst.max_leverage is not None and leverage > inst.max_leverage):
        raise InvalidOrder(
            f"paper {symbol}: leverage {leverage} must be > 0 and <= {inst.max_leverage}"
        )
    if (leverage, mode) == st.leverage_of(inst):
        return
    if any(p.symbol == symbol for p in st.accounts.open_positions()):
        # Changing margin terms under an open position would silently move its liquidation.
        raise InvalidOrder(f"paper {symbol}: close the position before changing leverage")
    st.leverage[symbol] = (leverage, mode)


def set_position_mode(st: EngineState, mode: PositionMode) -> None:
    """Switch one-way / hedge mode; only with no derivatives position or live order."""
    if mode is st.position_mode:
        return
    # Spot holdings and spot orders are not affected: spot is always one-way.
    if any(p.derivative for p in st.accounts.open_positions()) or any(
        sb.resting or sb.pending for sb in st.books.values() if sb.instrument.is_derivative
    ):
        raise InvalidOrder(
            "paper: close all derivatives positions and orders before changing position mode"
        )
    st.position_mode = mode
