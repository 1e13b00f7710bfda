"""The per-candle matching loop: executes pending orders, gaps, triggers and limits in order.

Order of work inside one candle (see the README for the rules):

1. Orders queued since the last candle (market, IOC/FOK, marketable limits) execute at the open.
2. Resting orders the open already satisfies (the candle gapped past them) execute at the open.
3. With ``stop_first``, stops whose take-profit partner would also execute go next.
4. The path is walked segment by segment (:func:`~tb_exchange_paper.matching.path`); each level
   executes when reached, one at a time, each seeing the account left by the previous one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from tbsdk.model import (
    Direction,
    Fill,
    FillEvent,
    Liquidity,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionChanged,
    PositionSide,
    TimeInForce,
)
from tbsdk.money import to_decimal

from .book import Entry, Kind, LiquidationLevel, SymbolBook
from .errors import PaperInsufficientFunds
from .matching import first_at, next_on_segment, path, reached, taker_price
from .settings import LimitFillRule
from .state import EngineEvent, EngineState

__all__ = ["finish", "process_candle", "refresh_liquidations"]

_EMPTY: tuple[EngineEvent, ...] = ()
_BOOKS = (PositionSide.NET, PositionSide.LONG, PositionSide.SHORT)
Price = float | Decimal


def _dec(raw: Price) -> Decimal:
    # Candle floats become the decimal of their shortest repr (what the data file said);
    # float() first so numpy scalars (whose repr is "np.float64(...)") convert the same way.
    return raw if isinstance(raw, Decimal) else to_decimal(repr(float(raw)))


def process_candle(
    st: EngineState, symbol: str, ts: int, open_: Price, high: Price, low: Price, close: Price
) -> Sequence[EngineEvent]:
    """Match one candle of ``symbol``; return what happened, in order (empty tuple if nothing)."""
    sb = st.book(symbol)
    st.now = ts
    if sb.idle:
        # Hot path: nothing rests, nothing triggers; no object is created.
        sb.set_last(close)
        return _EMPTY
    through = st.config.limit_fill is LimitFillRule.THROUGH
    h, lo = float(high), float(low)
    if not sb.pending and not _any_in_range(sb, h, lo, through):
        # Orders rest but the candle reaches none of them: still nothing to create.
        sb.set_last(close)
        return _EMPTY
    out: list[EngineEvent] = []
    o = float(open_)
    sb.set_last(open_)
    open_dec = _dec(open_)
    for entry in list(sb.pending):
        _execute_pending(st, sb, entry, o, open_dec, out)
    _sweep_point(st, sb, o, open_dec, through, out)
    if st.config.stop_first:
        _conflicting_stops(st, sb, h, lo, through, out)
    cur, cur_raw = o, open_
    ends: tuple[Price, Price, Price] = (low, high, close) if close >= open_ else (high, low, close)
    for end_f, end_raw in zip(path(o, h, lo, float(close)), ends, strict=True):
        _sweep_segment(st, sb, cur, cur_raw, end_f, through, out)
        cur, cur_raw = end_f, end_raw
    sb.set_last(close)
    return out


def _any_in_range(sb: SymbolBook, high: float, low: float, through: bool) -> bool:
    # Plain loops, not any(<generator>): this runs once per candle and should allocate nothing.
    # Only the nearest levels of each direction can be in range; the loops stop at the first
    # level beyond it.
    for _, e in sb.rising:
        if e.level > high:
            break
        if reached(e, high, through):
            return True
    for _, e in sb.falling:
        if e.level < low:
            break
        if reached(e, low, through):
            return True
    for lv in sb.liquidations:  # noqa: SIM110
        if reached(lv, high if lv.rises else low, through):
            return True
    return False


def _sweep_point(
    st: EngineState, sb: SymbolBook, p: float, p_dec: Decimal, through: bool, out: list[EngineEvent]
) -> None:
    while (hit := first_at(sb, p, through)) is not None:
        _execute_hit(st, sb, hit, p_dec, out)


def _sweep_segment(
    st: EngineState,
    sb: SymbolBook,
    start: float,
    start_raw: Price,
    end: float,
    through: bool,
    out: list[EngineEvent],
) -> None:
    cur, cur_dec = start, None
    up = end > start
    while (hit := next_on_segment(sb, cur, end, through)) is not None:
        behind = hit.level < cur if up else hit.level > cur
        if behind:
            # A level that moved behind the price (a fill changed a liquidation price) executes
            # at the current price, never at a better price already left behind.
            if cur_dec is None:
                cur_dec = _dec(start_raw)
            price = cur_dec
        else:
            price = hit.price
            cur, cur_dec = hit.level, price
        _execute_hit(st, sb, hit, price, out)


def _conflicting_stops(
    st: EngineState, sb: SymbolBook, high: float, low: float, through: bool, out: list[EngineEvent]
) -> None:
    """Execute first the stops whose book also has a take-profit executing in this candle."""
    if not sb.reducing_stops:
        return

    def in_range(e: Entry) -> bool:
        return reached(e, high if e.rises else low, through)

    stops = [e for e in sb.resting if e.kind is Kind.STOP and e.reducing and in_range(e)]
    for stop in stops:
        partner = any(
            e.kind in (Kind.TAKE_PROFIT, Kind.LIMIT)
            and e.reducing
            and e.book is stop.book
            and e.order.intent.side is stop.order.intent.side
            and in_range(e)
            for e in sb.resting
        )
        if partner and stop in sb.resting:
            _execute_hit(st, sb, stop, stop.price, out)


def _execute_hit(
    st: EngineState,
    sb: SymbolBook,
    hit: Entry | LiquidationLevel,
    price: Decimal,
    out: list[EngineEvent],
) -> None:
    if isinstance(hit, LiquidationLevel):
        _liquidate(st, sb, hit.book, price, out)
    elif hit.is_limit:
        _execute(st, sb, hit, price, price, False, out)
    else:
        side = hit.order.intent.side
        fill_price = taker_price(price, side, st.config.slippage_bps, sb.instrument)
        _execute(st, sb, hit, fill_price, price, True, out)


def _execute_pending(
    st: EngineState, sb: SymbolBook, e: Entry, o: float, open_dec: Decimal, out: list[EngineEvent]
) -> None:
    intent = e.order.intent
    slipped = taker_price(open_dec, intent.side, st.config.slippage_bps, sb.instrument)
    if intent.type is OrderType.MARKET:
        _execute(st, sb, e, slipped, open_dec, True, out)
        return
    buy = intent.side is OrderSide.BUY
    if o <= e.level if buy else o >= e.level:
        # A taker limit never pays beyond its limit price, slippage included.
        limit = e.price
        _execute(
            st, sb, e, min(slipped, limit) if buy else max(slipped, limit), open_dec, True, out
        )
        return
    if intent.time_in_force is TimeInForce.GTC:
        sb.rest(e)
        e.order = e.order.transition(OrderStatus.OPEN, at=st.now)
        st.orders[e.order.client_order_id] = e.order
        out.append(OrderUpdate(order=e.order))
        return
    sb.remove(e)
    _release(st, e)
    finish(
        st, e.order, OrderStatus.EXPIRED, f"{intent.time_in_force}: not marketable at the open", out
    )


def _release(st: EngineState, e: Entry) -> None:
    if e.reserved:
        st.accounts.release(e.reserve_currency, e.reserved)
        e.reserved = Decimal(0)


def finish(
    st: EngineState,
    order: Order,
    status: OrderStatus,
    reason: str,
    out: list[EngineEvent] | None,
    by_strategy: bool = False,
) -> Order:
    """Move ``order`` to a final status, record it and report the update to ``out`` (None: the
    caller reports it)."""
    order = order.transition(status, at=st.now, reason=reason)
    st.orders[order.client_order_id] = order
    if out is not None:
        out.append(OrderUpdate(order=order, by_strategy=by_strategy))
    return order


def _execute(
    st: EngineState,
    sb: SymbolBook,
    e: Entry,
    price: Decimal,
    ref: Decimal,
    taker: bool,
    out: list[EngineEvent],
) -> None:
    """Fill ``e`` at ``price`` (``ref`` is the market price at that moment, used as the mark)."""
    sb.remove(e)
    _release(st, e)
    inst, intent = sb.instrument, e.order.intent
    qty = e.order.remaining_qty
    if e.reducing:
        # Reduce-only never adds: the fill is capped at what the book holds in the opposite
        # direction, and an order with nothing left to reduce is canceled, not flipped.
        avail = st.accounts.reducible(inst, e.book, intent.side)
        qty = avail if intent.close_position else min(qty, avail)
        if qty <= 0:
            finish(st, e.order, OrderStatus.CANCELED, "reduce-only: no position to reduce", out)
            return
    fee = inst.notional(qty, price) * st.fee_rate(inst, taker)
    leverage, mode = st.leverage_of(inst)
    try:
        st.accounts.check_fill(
            inst, e.book, intent.side, qty, price, fee, leverage, st.mark, e.reducing
        )
    except PaperInsufficientFunds as exc:
        finish(st, e.order, OrderStatus.CANCELED, f"insufficient margin at fill: {exc}", out)
        return
    fill = Fill(
        client_order_id=intent.client_order_id,
        exchange_order_id=e.order.exchange_order_id,
        trade_id=st.next_trade_id(),
        symbol=inst.symbol,
        side=intent.side,
        position_side=e.book,
        qty=qty,
        price=price,
        fee=fee,
        fee_currency=inst.settle or inst.quote,
        liquidity=Liquidity.TAKER if taker else Liquidity.MAKER,
        ts=st.now,
    )
    order = e.order.apply_fill(fill)
    tag = intent.tag or str(intent.type)
    pos = st.accounts.apply_fill(
        inst, e.book, intent.side, qty, price, fee, st.now, leverage, mode, tag
    )
    sb.set_last(ref)
    st.orders[order.client_order_id] = order
    out.append(FillEvent(fill=fill, order=order))
    out.append(PositionChanged(position=pos.snapshot(ref)))
    if not order.status.is_terminal:
        finish(st, order, OrderStatus.CANCELED, "reduce-only: rest exceeds the position", out)
    refresh_liquidations(st, sb)


def _liquidate(
    st: EngineState, sb: SymbolBook, book: PositionSide, price: Decimal, out: list[EngineEvent]
) -> None:
    inst = sb.instrument
    pos = st.accounts.positions[(inst.symbol, book)]
    side = OrderSide.SELL if pos.direction is Direction.LONG else OrderSide.BUY
    seq = st.next_seq()
    intent = OrderIntent(
        client_order_id=st.next_liquidation_id(),
        symbol=inst.symbol,
        side=side,
        type=OrderType.MARKET,
        qty=pos.size,
        position_side=book,
        reduce_only=True,
        tag="liquidation",
    )
    order = Order(intent=intent, created_at=st.now, updated_at=st.now).transition(
        OrderStatus.SUBMITTED, at=st.now, exchange_order_id=st.exchange_order_id(seq)
    )
    fill = Fill(
        client_order_id=intent.client_order_id,
        exchange_order_id=order.exchange_order_id,
        trade_id=st.next_trade_id(),
        symbol=inst.symbol,
        side=side,
        position_side=book,
        qty=pos.size,
        price=price,
        fee_currency=pos.settle,
        ts=st.now,
    )
    order = order.apply_fill(fill)
    st.accounts.liquidate(pos, price, st.now)
    sb.set_last(price)
    st.orders[order.client_order_id] = order
    out.append(FillEvent(fill=fill, order=order))
    out.append(PositionChanged(position=pos.snapshot(price)))
    refresh_liquidations(st, sb)


def refresh_liquidations(st: EngineState, sb: SymbolBook) -> None:
    """Rebuild the liquidation levels of ``sb``'s symbol from its isolated positions."""
    levels: list[LiquidationLevel] = []
    for book in _BOOKS:
        pos = st.accounts.positions.get((sb.instrument.symbol, book))
        if pos is not None and pos.liquidation is not None and pos.liquidation_f is not None:
            rises = pos.direction is Direction.SHORT
            levels.append(LiquidationLevel(book, pos.liquidation, pos.liquidation_f, rises))
    sb.set_liquidations(levels)
