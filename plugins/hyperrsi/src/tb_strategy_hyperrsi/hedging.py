"""The dual-side hedge's orders (hyperrsi spec §15): opening and topping up after deep DCA,
its take-profit and stop, the hooks on main take-profits, and the coupling to the main position.

The hedge lives on the opposite book of a hedge-mode account and never outlives its main
position. Its fills never touch the main's cooldown, bar lock, entry count or TP ladder.
"""

from __future__ import annotations

from decimal import Decimal

from tbsdk import StrategyContext
from tbsdk.model import Fill, Order, OrderStatus, OrderType

from .hedge import hedge_sl_price, hedge_target, hedge_tp_price
from .ids import hedge_entry_tag
from .runtime import Runtime, opposite
from .state import HedgeRecord

__all__ = [
    "after_dca",
    "close_hedge",
    "close_with_main",
    "on_hedge_fill",
    "on_hedge_order_final",
    "on_main_level_reached",
    "refresh_hedge_orders",
]

HEDGE_ROLES = ("he", "htp", "hsl", "hxc")

HEDGE_MAX_REJECTS = 3
"""Refusals in a row after which the hedge's TP or stop is not placed again (and the operator
is told) until the hedge's size changes."""


def _market(rt: Runtime, ctx: StrategyContext) -> Decimal | None:
    hist = ctx.history(rt.cfg.symbol, rt.cfg.timeframe, 1)
    return Decimal(repr(float(hist.close[-1]))) if len(hist) else None


def _live_with_size(rt: Runtime, cid: str | None, size: Decimal) -> bool:
    rec = rt.state.orders.get(cid) if cid is not None else None
    return rec is not None and rec.status != "cancel_pending" and rec.intent.qty == size


def after_dca(rt: Runtime, ctx: StrategyContext) -> None:
    """§15.2, after each main DCA fill."""
    cfg, st = rt.cfg, rt.state
    pos, hedge = st.position, st.hedge
    if not cfg.use_dual_side_entry or pos.side is None:
        return
    if pos.entry_count < cfg.dual_side_entry_trigger:
        refresh_hedge_orders(rt, ctx)
        return
    if (
        cfg.dual_side_entry_tp_trigger_type == "last_dca_on_position"
        and pos.entry_count >= cfg.pyramiding_limit
    ):
        close_hedge(rt, ctx, "ladder_full")
        return
    target = hedge_target(cfg, pos.size, rt.inst)
    if hedge.entries >= cfg.dual_side_pyramiding_limit or hedge.size >= target:
        refresh_hedge_orders(rt, ctx)
        return
    if rt.desk.any_live(("he",)):
        return
    qty = max(target - hedge.size, rt.inst.min_size)
    side = opposite(pos.side)
    hedge.side = "long" if side == "long" else "short"
    tag = hedge_entry_tag(hedge.entries + 1)
    intent = rt.desk.intent(tag, rt.opening(side), OrderType.MARKET, qty, rt.book(side))
    rt.desk.submit(ctx, intent, tag)


def on_hedge_fill(rt: Runtime, ctx: StrategyContext, fill: Fill, order: Order, role: str) -> None:
    st = rt.state
    hedge = st.hedge
    ct = rt.inst.contract_size
    hedge.fees += fill.fee
    if role.startswith("he"):
        hedge.size += fill.qty
        hedge.cost += fill.qty * fill.price
        if order.status.is_terminal:
            _hedge_entry_done(rt, ctx)
        return
    avg = hedge.avg
    m_h = 1 if hedge.side == "long" else -1
    if avg is not None:
        hedge.realized += (fill.price - avg) * fill.qty * ct * m_h
    qty = min(fill.qty, hedge.size)
    hedge.size -= qty
    hedge.cost = avg * hedge.size if avg is not None else Decimal(0)
    if role == "htp" and order.status.is_terminal:
        hedge.closing_reason = hedge.closing_reason or "hedge_tp"
    if role == "hsl" and order.status.is_terminal:
        hedge.closing_reason = hedge.closing_reason or "hedge_sl"
    if hedge.size == 0:
        _hedge_closed(rt, ctx)


def _hedge_entry_done(rt: Runtime, ctx: StrategyContext) -> None:
    hedge = rt.state.hedge
    hedge.entries += 1
    hedge.tp_rejects = hedge.sl_rejects = 0
    rt.notify(
        ctx,
        "hedge_opened",
        f"hedge {hedge.side} {hedge.size} @ {hedge.avg} (entry {hedge.entries})",
        side=hedge.side,
        size=str(hedge.size),
    )
    refresh_hedge_orders(rt, ctx)


def on_hedge_order_final(rt: Runtime, ctx: StrategyContext, order: Order, role: str) -> None:
    """A hedge order ended without filling completely (canceled, rejected, expired)."""
    hedge = rt.state.hedge
    if role.startswith("he") and order.filled_qty > 0:
        _hedge_entry_done(rt, ctx)
    elif role == "htp" and hedge.tp_id == order.client_order_id:
        hedge.tp_id = None
        if order.status is OrderStatus.REJECTED:
            hedge.tp_rejects += 1
            _refused(rt, ctx, "TP", hedge.tp_rejects, order)
    elif role == "hsl" and hedge.sl_id == order.client_order_id:
        hedge.sl_id = None
        if order.status is OrderStatus.REJECTED:
            hedge.sl_rejects += 1
            _refused(rt, ctx, "stop", hedge.sl_rejects, order)
    elif role == "hxc" and hedge.size > 0:
        hedge.closing_reason = None
        if order.status is OrderStatus.REJECTED:
            hedge.refused_at = ctx.now()  # closed again from a later moment on


def _refused(rt: Runtime, ctx: StrategyContext, what: str, rejects: int, order: Order) -> None:
    """A refused hedge TP or stop is placed again from a later moment on, and no more after
    ``HEDGE_MAX_REJECTS`` refusals in a row (until the hedge's size changes)."""
    rt.state.hedge.refused_at = ctx.now()
    if rejects == HEDGE_MAX_REJECTS:
        rt.notify(
            ctx,
            "hedge_order_failed",
            f"hedge {what} refused {rejects} times ({order.reason}); not placed again until "
            "the hedge changes",
        )


def _may_place(hedge: HedgeRecord, rejects: int, now: int) -> bool:
    return rejects < HEDGE_MAX_REJECTS and hedge.refused_at != now


def _hedge_closed(rt: Runtime, ctx: StrategyContext) -> None:
    from .exits import market_exit

    st = rt.state
    hedge = st.hedge
    rt.desk.cancel_where(ctx, HEDGE_ROLES)
    reason = hedge.closing_reason or "closed"
    rt.notify(
        ctx,
        "hedge_closed",
        f"hedge closed ({reason}): PnL {hedge.realized}, fees {hedge.fees}",
        reason=reason,
        pnl=str(hedge.realized),
        fees=str(hedge.fees),
    )
    hedge.tp_id = hedge.sl_id = None
    hedge.tp_price = hedge.sl_price = None
    hedge.cost = Decimal(0)
    hedge.closing_reason = None
    hedge.tp_rejects = hedge.sl_rejects = 0
    if reason == "hedge_tp" and rt.cfg.close_main_on_hedge_tp and st.phase == "open":
        market_exit(rt, ctx, "xmn", "hedge_tp")


def close_hedge(rt: Runtime, ctx: StrategyContext, reason: str) -> None:
    """Close the hedge at market (``hxc``, reduce-only) and cancel its orders."""
    hedge = rt.state.hedge
    rt.desk.cancel_where(ctx, ("he", "htp", "hsl"))
    if (
        hedge.size <= 0
        or hedge.side is None
        or rt.desk.any_live(("hxc",))
        or hedge.refused_at == ctx.now()
    ):
        return
    hedge.closing_reason = reason
    intent = rt.desk.intent(
        "hxc",
        rt.closing(hedge.side),
        OrderType.MARKET,
        hedge.size,
        rt.book(hedge.side),
        reduce_only=True,
    )
    rt.desk.submit(ctx, intent, "hxc")


def close_with_main(rt: Runtime, ctx: StrategyContext) -> None:
    """§15.5: a hedge never outlives its main position."""
    if rt.state.hedge.size > 0 or rt.desk.any_live(HEDGE_ROLES):
        close_hedge(rt, ctx, "main_closed")


def on_main_level_reached(rt: Runtime, ctx: StrategyContext, level: int) -> None:
    """§15.4: main TP level ``level`` reached."""
    cfg = rt.cfg
    if not cfg.use_dual_side_entry or rt.state.hedge.size <= 0:
        return
    if (
        cfg.dual_side_entry_tp_trigger_type == "existing_position"
        and cfg.dual_side_entry_tp_value == level
    ):
        close_hedge(rt, ctx, "hedge_tp")
    elif (
        cfg.use_dual_sl
        and cfg.dual_side_entry_sl_trigger_type == "existing_position"
        and cfg.dual_side_entry_sl_value == level
    ):
        close_hedge(rt, ctx, "hedge_sl")


def refresh_hedge_orders(rt: Runtime, ctx: StrategyContext) -> None:
    """§15.3: keep the hedge's TP and stop where their rules put them now (the main's ladder
    and stop move them too)."""
    st, inst = rt.state, rt.inst
    hedge, pos = st.hedge, st.position
    avg = hedge.avg
    if hedge.size <= 0 or hedge.side is None or avg is None or hedge.closing_reason:
        return
    m_h = 1 if hedge.side == "long" else -1
    tp = hedge_tp_price(rt.cfg, m_h, avg, pos.ladder, st.stop.price, inst)
    if tp is not None:
        market = _market(rt, ctx)
        if market is not None and (market >= tp if m_h > 0 else market <= tp):
            # Already through: a limit there would fill at once; close now (§15.3).
            close_hedge(rt, ctx, "hedge_tp")
            return
    side = hedge.side
    if tp != hedge.tp_price or not _live_with_size(rt, hedge.tp_id, hedge.size):
        if tp is None:
            rt.desk.cancel(ctx, hedge.tp_id)
            hedge.tp_id = None
        elif _may_place(hedge, hedge.tp_rejects, ctx.now()):
            intent = rt.desk.intent(
                "htp", rt.closing(side), OrderType.LIMIT, hedge.size, rt.book(side),
                price=tp, reduce_only=True,
            )  # fmt: skip
            rt.desk.replace(ctx, hedge.tp_id, intent, "htp")
            hedge.tp_id = intent.client_order_id
        hedge.tp_price = tp
    main_tps = {lvl.level: lvl.price for lvl in st.tps}
    sl = hedge_sl_price(rt.cfg, m_h, avg, main_tps, inst)
    if sl != hedge.sl_price or (sl is not None and not rt.desk.live(hedge.sl_id)):
        if sl is None:
            rt.desk.cancel(ctx, hedge.sl_id)
            hedge.sl_id = None
        elif _may_place(hedge, hedge.sl_rejects, ctx.now()):
            intent = rt.desk.intent(
                "hsl", rt.closing(side), OrderType.STOP_MARKET, Decimal(0), rt.book(side),
                trigger=sl, reduce_only=True, close_position=True,
            )  # fmt: skip
            rt.desk.replace(ctx, hedge.sl_id, intent, "hsl")
            hedge.sl_id = intent.client_order_id
        hedge.sl_price = sl
