"""Leaving the main position: strategy market exits (trend §13, trailing §12.4, residual §14.4,
manual / stop refusal §8.5), and what follows any full close (§8.5, §14.1, §15.5).
"""

from __future__ import annotations

from decimal import Decimal

from tbsdk import StrategyContext
from tbsdk.model import OrderType

from .runtime import Runtime

__all__ = ["MAIN_ROLES", "RESIDUAL_FRACTION", "close_out", "market_exit", "residual_check"]

RESIDUAL_FRACTION = Decimal("0.01")
MAIN_ROLES = ("ent", "d0", "tp", "stp", "x")
"""Role prefixes of the main position's orders (hedge roles start with ``h``)."""


def market_exit(rt: Runtime, ctx: StrategyContext, tag: str, reason: str) -> bool:
    """Close the whole main position at market (reduce-only) with purpose ``tag``; the TP and
    DCA orders are canceled first, the stop stays until the close is confirmed (§13)."""
    st = rt.state
    pos = st.position
    if pos.side is None or pos.size <= 0 or st.phase == "closing":
        return False
    rt.desk.cancel_where(ctx, ("tp", "d0"))
    for lvl in st.tps:
        if lvl.status == "open":
            lvl.status = "pending"  # re-placed if the exit fails and the position stays open
    intent = rt.desk.intent(
        tag,
        rt.closing(pos.side),
        OrderType.MARKET,
        pos.size,
        rt.book(pos.side),
        reduce_only=True,  # an exit must never open the opposite side
    )
    rt.desk.submit(ctx, intent, tag)
    st.phase = "closing"
    pos.exit_reason = reason
    ctx.log.info("exit %s (%s): %s contracts", intent.client_order_id, reason, pos.size)
    return True


def close_out(rt: Runtime, ctx: StrategyContext, reason: str, ts: int) -> None:
    """The main position is fully closed: cancel its remaining orders, close the hedge with it,
    start the exit cooldown, report the trade and return to ``flat``."""
    from .hedging import close_with_main

    st = rt.state
    pos = st.position
    side = pos.side
    rt.desk.cancel_where(ctx, MAIN_ROLES)
    close_with_main(rt, ctx)
    if side is not None:
        rt.start_cooldown(side, ts)
    st.last_exit_ts = ts
    net = pos.realized - pos.fees
    rt.notify(
        ctx,
        "position_closed",
        f"{side} closed ({reason}): PnL {pos.realized}, fees {pos.fees}, net {net}",
        reason=reason,
        pnl=str(pos.realized),
        fees=str(pos.fees),
        net=str(net),
    )
    st.trades_closed += 1
    st.reset_position()


def residual_check(rt: Runtime, ctx: StrategyContext) -> None:
    """§14.4: after a reduction, a remainder below ``max(min_size, 1 % of the peak)`` is
    closed at market."""
    st = rt.state
    pos = st.position
    if st.phase != "open":
        return
    threshold = max(rt.inst.min_size, RESIDUAL_FRACTION * pos.peak_size)
    if 0 < pos.size < threshold:
        market_exit(rt, ctx, "xrs", "residual")
