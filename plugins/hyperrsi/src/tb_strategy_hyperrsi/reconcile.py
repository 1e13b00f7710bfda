"""Reconciliation with the venue (hyperrsi spec §16), as far as the strategy context shows it:
the positions of the symbol's books and this bot's open orders.

The venue is the truth. Run at start, on every position report and every
``RECONCILE_INTERVAL`` in paper and live mode.
"""

from __future__ import annotations

import math
from decimal import Decimal

from tbsdk import StrategyContext
from tbsdk.model import Direction, Position, PositionSide

from .exits import close_out
from .protection import rebuild, refresh_stop
from .runtime import Runtime
from .state import HedgeRecord

__all__ = ["RECONCILE_INTERVAL", "RECONCILE_TIMER", "at_start", "check_positions"]

RECONCILE_INTERVAL = 60_000
RECONCILE_TIMER = "reconcile"


def at_start(rt: Runtime, ctx: StrategyContext) -> None:
    """§8.2 step 4: resolve orders saved before submission, cancel orphans, then compare the
    positions (adopting an unknown one)."""
    _resolve_pending(rt, ctx)
    _cancel_orphans(rt, ctx)
    _mark_missing(rt, ctx)
    if rt.state.position.side is None and rt.state.phase == "flat":
        _adopt_unknown(rt, ctx)
    check_positions(rt, ctx)


def _resolve_pending(rt: Runtime, ctx: StrategyContext) -> None:
    for cid, rec in list(rt.state.orders.items()):
        known = ctx.order(cid)
        if known is None:
            if rec.status == "pending_submit":
                # Never reached the venue: send the same id again (§3.3).
                ctx.submit(rec.intent)
            continue
        if known.status.is_terminal:
            ctx.log.warning("order %s ended %s while the bot was down", cid, known.status)
            del rt.state.orders[cid]
        elif rec.status == "pending_submit":
            rec.status = "open"


def _cancel_orphans(rt: Runtime, ctx: StrategyContext) -> None:
    prefix = "h" + rt.state.bot6
    for order in ctx.open_orders(rt.cfg.symbol):
        cid = order.client_order_id
        if cid.startswith(prefix) and cid not in rt.state.orders:
            ctx.log.warning("cancelling orphan order %s (unknown to the saved state)", cid)
            ctx.cancel(cid)


def _mark_missing(rt: Runtime, ctx: StrategyContext) -> None:
    """Required orders the state thinks are open but the venue lost: re-placed (next rev)."""
    st = rt.state
    for lvl in st.tps:
        if lvl.status == "open" and lvl.client_id not in st.orders:
            lvl.status = "pending"
    if st.stop.client_id is not None and st.stop.client_id not in st.orders:
        st.stop.client_id = None


def _venue_side(pos: Position) -> str | None:
    if pos.is_flat:
        return None
    if pos.position_side is PositionSide.LONG:
        return "long"
    if pos.position_side is PositionSide.SHORT:
        return "short"
    return "long" if pos.direction is Direction.LONG else "short"


def _adopt_unknown(rt: Runtime, ctx: StrategyContext) -> None:
    """A venue position with no state: managed as ``entry_count = 1`` (§16)."""
    books = (PositionSide.LONG, PositionSide.SHORT) if rt.hedge_mode else (PositionSide.NET,)
    for book in books:
        venue = ctx.position(rt.cfg.symbol, book)
        side = _venue_side(venue)
        if side is None or venue.entry_price is None:
            continue
        st = rt.state
        if st.position.side is not None:
            rt.notify(ctx, "reconciled_adjustment", f"{side} position {venue.size} left alone")
            continue
        st.seq += 1
        st.revisions = {}
        pos = st.position
        pos.side = "long" if side == "long" else "short"
        pos.size, pos.cost = venue.size, venue.entry_price * venue.size
        pos.peak_size, pos.entry_count = venue.size, 1
        pos.last_fill_price = venue.entry_price
        notional = venue.size * rt.inst.contract_size * venue.entry_price
        pos.base_margin = notional / rt.cfg.leverage
        st.phase = "open"
        bar = rt.feed.latest(ctx)
        rebuild(rt, ctx, venue.entry_price, bar.atr if bar is not None else math.nan)
        rt.notify(
            ctx,
            "reconciled_adjustment",
            f"adopted a {side} position of {venue.size} @ {venue.entry_price}",
        )


def check_positions(rt: Runtime, ctx: StrategyContext) -> None:
    """Compare the modelled main position and hedge with the venue's books (§16)."""
    st = rt.state
    pos = st.position
    if pos.side is not None and st.phase in ("open", "closing"):
        venue = ctx.position(rt.cfg.symbol, rt.book(pos.side))
        size = venue.size if _venue_side(venue) == pos.side else Decimal(0)
        if size == 0 and pos.size > 0 and st.phase != "closing":
            rt.notify(ctx, "external_close", f"{pos.side} position closed outside the bot")
            close_out(rt, ctx, "external", ctx.now())
        elif size > 0:
            _adopt_size(rt, ctx, size, venue.entry_price)
    _check_hedge(rt, ctx)


def _adopt_size(rt: Runtime, ctx: StrategyContext, size: Decimal, avg: Decimal | None) -> None:
    st, inst = rt.state, rt.inst
    pos = st.position
    model_avg = pos.avg
    if avg is None or model_avg is None or st.phase != "open":
        return
    size_off = abs(size - pos.size) >= inst.lot_step
    avg_off = abs(avg - model_avg) > inst.tick(model_avg)
    if not size_off and not avg_off:
        return
    rt.notify(
        ctx,
        "reconciled_adjustment",
        f"venue position {size} @ {avg} adopted (model {pos.size} @ {model_avg})",
    )
    old_size = pos.size
    pos.size, pos.cost = size, avg * size
    pos.peak_size = max(pos.peak_size, size)
    bar = rt.feed.latest(ctx)
    atr = bar.atr if bar is not None else math.nan
    if not any(lvl.status == "filled" for lvl in st.tps):
        rebuild(rt, ctx, avg, atr)
        return
    for lvl in st.tps:
        if lvl.status in ("open", "pending") and old_size > 0:
            lvl.qty = inst.floor_size(lvl.qty * size / old_size)
            lvl.status = "pending" if lvl.qty > 0 else "skipped"
    refresh_stop(rt, ctx, new_phase=True)


def _check_hedge(rt: Runtime, ctx: StrategyContext) -> None:
    st = rt.state
    hedge = st.hedge
    if hedge.side is None or hedge.size <= 0 or rt.desk.any_live(("hxc",)):
        return
    venue = ctx.position(rt.cfg.symbol, rt.book(hedge.side))
    if venue.is_flat:
        rt.desk.cancel_where(ctx, ("he", "htp", "hsl"))
        rt.notify(ctx, "hedge_closed", "hedge closed outside the bot", reason="external")
        st.hedge = HedgeRecord()
