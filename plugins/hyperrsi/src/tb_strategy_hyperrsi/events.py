"""Order events (hyperrsi spec §8.5): fills and final statuses of the bot's orders, routed by
the order's role (its tag3).
"""

from __future__ import annotations

from decimal import Decimal

from tbsdk import StrategyContext
from tbsdk.model import Fill, FillEvent, Order, OrderSide, OrderStatus, OrderUpdate, RejectReason

from .entries import add_fill, entry_done, entry_failed
from .exits import close_out, market_exit, residual_check
from .hedging import HEDGE_ROLES, on_hedge_fill, on_hedge_order_final, on_main_level_reached
from .protection import activate_trailing, level_reached, refresh_stop, stop_reason
from .runtime import Runtime
from .state import FillRecord, TpLevel

__all__ = ["PROTECT_RETRY_INTERVAL", "PROTECT_RETRY_TIMER", "on_fill", "on_order_update"]

PROTECT_RETRY_INTERVAL = 10_000
PROTECT_RETRY_TIMER = "protect_retry"
TP_MAX_REJECTS = 3

_EXIT_REASONS = {"xtc": "trend_reversal", "xtr": "trailing_stop", "xrs": "residual"}


def _is_entry(role: str) -> bool:
    return role == "ent" or role.startswith("d0")


def on_fill(rt: Runtime, ctx: StrategyContext, event: FillEvent) -> None:
    order, fill = event.order, event.fill
    rec = rt.desk.on_order(order)
    if rec is None:
        return  # not this bot's (e.g. a liquidation): reconciliation sees the position change
    role = rec.role
    if role.startswith(HEDGE_ROLES):
        on_hedge_fill(rt, ctx, fill, order, role)
        return
    if _is_entry(role):
        st = rt.state
        if st.phase not in ("entering", "open"):
            _late_entry_fill(rt, ctx, fill, order, role)
            return
        add_fill(rt, fill, role)
        if order.status is OrderStatus.FILLED:
            entry_done(rt, ctx, order, role, fill.ts)
        return
    reason = _close_reason(rt, role)
    _reduce(rt, fill, role)
    st = rt.state
    if st.position.size <= 0:
        close_out(rt, ctx, reason, fill.ts)
        return
    level = _tp_level(rt, order.client_order_id)
    if level is not None:
        level.filled_qty += fill.qty
        if order.status is OrderStatus.FILLED:
            _tp_filled(rt, ctx, level, order.avg_fill_price or fill.price)
    residual_check(rt, ctx)


def _late_entry_fill(
    rt: Runtime, ctx: StrategyContext, fill: Fill, order: Order, role: str
) -> None:
    """An entry or DCA filled after its position was closed (its cancel lost the race): the
    size it opened is unwanted, so it is closed at market as soon as the order is done."""
    st = rt.state
    pos = st.position
    if pos.side is None:
        pos.side = "long" if fill.side is OrderSide.BUY else "short"
        st.phase = "open"
    add_fill(rt, fill, role)
    ctx.log.warning("%s filled after its position closed; closing the %s", role, pos.size)
    if order.status.is_terminal and st.phase == "open":
        market_exit(rt, ctx, "xmn", "late_fill")


def _close_reason(rt: Runtime, role: str) -> str:
    if role == "stp":
        return stop_reason(rt)
    if role.startswith("tp"):
        return "take_profit"
    if role in _EXIT_REASONS:
        return _EXIT_REASONS[role]
    return rt.state.position.exit_reason or "manual"


def _reduce(rt: Runtime, fill: Fill, role: str) -> None:
    pos = rt.state.position
    avg = pos.avg
    qty = min(fill.qty, pos.size)
    if avg is not None:
        pos.realized += (fill.price - avg) * qty * rt.inst.contract_size * pos.m
    pos.fees += fill.fee
    pos.size -= qty
    pos.cost = avg * pos.size if avg is not None and pos.size else Decimal(0)
    pos.fills.append(FillRecord(role=role, price=fill.price, qty=qty, fee=fill.fee, ts=fill.ts))


def _tp_level(rt: Runtime, cid: str) -> TpLevel | None:
    return next((lvl for lvl in rt.state.tps if lvl.client_id == cid), None)


def _tp_filled(rt: Runtime, ctx: StrategyContext, level: TpLevel, fill_avg: Decimal) -> None:
    """§8.5 / §12.3 / §12.4: a level is reached when its order is fully filled."""
    cfg, st = rt.cfg, rt.state
    level.status = "filled"
    rt.notify(
        ctx,
        "tp_filled",
        f"TP{level.level} filled: {level.filled_qty} @ {fill_avg}; size {st.position.size}",
        level=level.level,
        qty=str(level.filled_qty),
        price=str(fill_avg),
    )
    level_reached(rt, ctx, level.level)
    if cfg.trailing_stop_active and level.level == cfg.trailing_level and not st.trailing.active:
        m = st.position.m
        activate_trailing(
            rt, ctx, max(level.price, fill_avg) if m > 0 else min(level.price, fill_avg)
        )
    refresh_stop(rt, ctx)
    on_main_level_reached(rt, ctx, level.level)


def on_order_update(rt: Runtime, ctx: StrategyContext, event: OrderUpdate) -> None:
    order = event.order
    rec = rt.desk.on_order(order)
    if rec is None or not order.status.is_terminal or order.status is OrderStatus.FILLED:
        return
    role, cid, now = rec.role, order.client_order_id, ctx.now()
    why = order.reason or str(order.status)
    if role.startswith(HEDGE_ROLES):
        on_hedge_order_final(rt, ctx, order, role)
    elif _is_entry(role):
        if order.filled_qty > 0:
            # Partly filled, then canceled: the position holds that quantity (§8.5).
            entry_done(rt, ctx, order, role, now)
        elif not event.by_strategy:
            entry_failed(rt, ctx, role, why, now)
        elif role == "ent":
            rt.state.reset_position()
    elif role.startswith("tp"):
        _tp_final(rt, ctx, cid, event)
    elif role == "stp":
        _stop_final(rt, ctx, cid, event)
    elif role.startswith("x"):
        st = rt.state
        if st.phase == "closing" and st.position.size > 0 and not rt.desk.any_live(("x",)):
            # The exit did not happen: manage the position again; the rule that wanted the exit
            # fires again at its next evaluation.
            st.phase = "open"
            st.position.exit_reason = None
            ctx.log.warning("exit %s ended %s (%s); position still open", cid, order.status, why)


def _tp_final(rt: Runtime, ctx: StrategyContext, cid: str, event: OrderUpdate) -> None:
    level = _tp_level(rt, cid)
    if level is None or event.by_strategy or rt.state.phase != "open":
        return
    if event.order.status is OrderStatus.REJECTED:
        level.rejects += 1
        if level.rejects >= TP_MAX_REJECTS:
            level.status = "failed"
            rt.notify(
                ctx,
                "tp_failed",
                f"TP{level.level} refused {level.rejects} times: {event.order.reason}",
            )
            return
        rt.held_levels.add(level.level)  # retried from the next event on (§8.5)
    level.status = "pending"


def _stop_final(rt: Runtime, ctx: StrategyContext, cid: str, event: OrderUpdate) -> None:
    st = rt.state
    stop = st.stop
    if cid != stop.client_id or event.by_strategy:
        return
    order = event.order
    if order.status is not OrderStatus.REJECTED:
        # Canceled or expired by the venue while still required: re-placed, next revision.
        stop.client_id = None
        if st.phase in ("open", "closing"):
            refresh_stop(rt, ctx, new_phase=True)
        return
    reason = stop_reason(rt)
    previous = _previous_stop(rt)
    stop.client_id = previous
    stop.price = st.orders[previous].intent.trigger_price if previous is not None else None
    if previous is not None:
        rt.desk.restore(previous)
    if event.reject_reason is RejectReason.WOULD_TRIGGER_IMMEDIATELY:
        # The price is already through the new stop: leave now, as the stop would have (§12.3).
        market_exit(rt, ctx, "xmn", reason)
        return
    stop.retry_at = ctx.now() + PROTECT_RETRY_INTERVAL
    ctx.set_timer(PROTECT_RETRY_TIMER, stop.retry_at)
    rt.notify(
        ctx,
        "protective_stop_failed",
        f"stop refused ({order.reason}); retrying every {PROTECT_RETRY_INTERVAL // 1000} s",
    )
    if previous is None:
        stop.unprotected = True
        rt.notify(ctx, "position_unprotected", "the position has no protective stop")


def _previous_stop(rt: Runtime) -> str | None:
    """The stop a refused replacement was to replace, if it is still on the venue."""
    for cid, rec in rt.state.orders.items():
        if rec.role == "stp" and rec.status == "cancel_pending":
            return cid
    return None
