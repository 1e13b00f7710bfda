"""The order desk: builds intents with their deterministic ids, records them in the persisted
state **before** they are sent (status ``pending_submit``, hyperrsi spec §3.3, §17), and follows
their status from the events that come back.

Only orders that are not final live here; a final one (filled, canceled, rejected, expired) is
dropped when its event is handled.
"""

from __future__ import annotations

from decimal import Decimal

from tbsdk import StrategyContext
from tbsdk.model import (
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    TimeInForce,
)

from .ids import MAX_REVISION, TAGS, client_id
from .state import HyperRsiState, OrderRecord

__all__ = ["OrderDesk", "RevisionsExhausted"]

_ZERO = Decimal(0)


class RevisionsExhausted(Exception):
    """A (seq, tag) has used all 1,296 revisions two base-36 digits allow (§3.3)."""


class OrderDesk:
    """Creates, sends, replaces and cancels this bot's orders and tracks those not final."""

    def __init__(self, state: HyperRsiState, symbol: str) -> None:
        self.state = state
        self.symbol = symbol

    # -- building ----------------------------------------------------------------------------
    def intent(
        self,
        tag: str,
        side: OrderSide,
        kind: OrderType,
        qty: Decimal,
        position_side: PositionSide,
        *,
        price: Decimal | None = None,
        trigger: Decimal | None = None,
        reduce_only: bool = False,
        close_position: bool = False,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> OrderIntent:
        """An intent with the next revision of ``(seq, tag)`` (the revision is consumed)."""
        st = self.state
        rev = st.revisions.get(tag, 0)
        if rev > MAX_REVISION:
            raise RevisionsExhausted(f"order tag {tag} of position {st.seq} has no revision left")
        st.revisions[tag] = rev + 1
        return OrderIntent(
            client_order_id=client_id(st.bot6, st.seq, tag, rev),
            symbol=self.symbol,
            side=side,
            type=kind,
            qty=qty,
            price=price,
            trigger_price=trigger,
            position_side=position_side,
            reduce_only=reduce_only,
            close_position=close_position,
            time_in_force=time_in_force,
            tag=TAGS[tag],
        )

    # -- commands ----------------------------------------------------------------------------
    def submit(self, ctx: StrategyContext, intent: OrderIntent, role: str) -> None:
        # Recorded first: if the process dies between here and the venue, the restart re-sends
        # this very id (§3.3), and the venue refuses it if it did arrive.
        self.state.orders[intent.client_order_id] = OrderRecord(intent=intent, role=role)
        ctx.submit(intent)

    def replace(
        self, ctx: StrategyContext, old: str | None, intent: OrderIntent, role: str
    ) -> None:
        """Replace ``old`` (when still live) by ``intent``; the host picks the safe method:
        place-then-cancel for stops, cancel-then-place for limits (§3.2)."""
        rec = self.state.orders.get(old) if old is not None else None
        if rec is None or rec.status == "cancel_pending":
            self.submit(ctx, intent, role)
            return
        assert old is not None
        rec.status = "cancel_pending"
        self.state.orders[intent.client_order_id] = OrderRecord(intent=intent, role=role)
        ctx.replace(old, intent)

    def cancel(self, ctx: StrategyContext, cid: str | None) -> None:
        rec = self.state.orders.get(cid) if cid is not None else None
        if rec is None or rec.status == "cancel_pending":
            return
        assert cid is not None
        rec.status = "cancel_pending"
        ctx.cancel(cid)

    def cancel_where(self, ctx: StrategyContext, roles: tuple[str, ...]) -> None:
        """Cancel every live order whose role starts with one of ``roles``."""
        for cid, rec in list(self.state.orders.items()):
            if rec.role.startswith(roles):
                self.cancel(ctx, cid)

    # -- tracking ----------------------------------------------------------------------------
    def on_order(self, order: Order) -> OrderRecord | None:
        """Record ``order``'s new status; return its record (dropped from the live set when
        final), or None for an order this desk does not know."""
        cid = order.client_order_id
        rec = self.state.orders.get(cid)
        if rec is None:
            return None
        rec.filled_qty = order.filled_qty
        rec.exchange_order_id = order.exchange_order_id or rec.exchange_order_id
        if order.status.is_terminal:
            del self.state.orders[cid]
        elif rec.status != "cancel_pending":
            partial = order.status is OrderStatus.PARTIALLY_FILLED
            rec.status = "partially_filled" if partial else "open"
        return rec

    def restore(self, cid: str) -> None:
        """A replacement was refused: the order it was to replace is live again."""
        rec = self.state.orders.get(cid)
        if rec is not None and rec.status == "cancel_pending":
            rec.status = "partially_filled" if rec.filled_qty > _ZERO else "open"

    def live(self, cid: str | None) -> bool:
        """Whether ``cid`` is an order of this desk that is not final and not being canceled."""
        rec = self.state.orders.get(cid) if cid is not None else None
        return rec is not None and rec.status != "cancel_pending"

    def any_live(self, roles: tuple[str, ...]) -> bool:
        return any(
            rec.role.startswith(roles) and rec.status != "cancel_pending"
            for rec in self.state.orders.values()
        )
