"""Order intents of a classic grid (grid spec §2, §5.4): ids, sides, reduce-only rules.

* ``long``: buys open inventory; sells only sell it back, so on futures they are reduce-only
  (a sell left over after an external close must never open a short).
* ``short`` (futures): the mirror; buys are reduce-only.
* ``neutral`` (futures, one-way account): nothing is reduce-only, the net position moves with
  every fill by design.
* spot: never reduce-only; a spot sell can only sell base the account holds.
"""

from __future__ import annotations

from decimal import Decimal

from tbsdk.model import (
    Instrument,
    OrderIntent,
    OrderSide,
    OrderType,
    PositionMode,
    PositionSide,
)

from .classic_state import OrderSlot
from .config import GridConfig, GridDirection
from .ids import grid_client_id
from .rounding import limit_price

__all__ = ["OrderFactory"]


class OrderFactory:
    """Builds the intents of one classic grid; the same slot always gives the same intent."""

    def __init__(
        self,
        config: GridConfig,
        inst: Instrument,
        position_mode: PositionMode,
        bot6: str,
        sym3: str,
    ) -> None:
        self.config, self.inst, self.bot6, self.sym3 = config, inst, bot6, sym3
        hedge = position_mode is PositionMode.HEDGE and inst.is_derivative
        self.position_side = PositionSide.NET
        if hedge:
            # Classic neutral needs a one-way account (checked at start); long and short grids
            # trade their own book in a hedge-mode account.
            short = config.direction is GridDirection.SHORT
            self.position_side = PositionSide.SHORT if short else PositionSide.LONG

    def client_id(self, slot: OrderSlot) -> str:
        # Asked for every slot at every reconciliation: kept on the slot until its revision moves
        # (seq, letter and index never change).
        cached = slot.cached_id
        if cached is not None and cached[0] == slot.rev:
            return cached[1]
        cid = grid_client_id(self.bot6, self.sym3, slot.seq, slot.letter, slot.index, slot.rev)
        slot.cached_id = (slot.rev, cid)
        return cid

    def reduce_only(self, side: OrderSide) -> bool:
        """Whether a level order on ``side`` may only reduce the position (module docstring)."""
        return self.inst.is_derivative and self.closes_inventory(side)

    def closes_inventory(self, side: OrderSide) -> bool:
        """Whether level orders on ``side`` sell (long) or buy back (short) the inventory the
        initial order provides (grid spec §5.4)."""
        direction = self.config.direction
        if direction is GridDirection.LONG:
            return side is OrderSide.SELL
        if direction is GridDirection.SHORT:
            return side is OrderSide.BUY
        return False

    def level_order(self, slot: OrderSlot, price: Decimal) -> OrderIntent:
        """The limit order of a level slot at level price ``price`` for its remaining size."""
        return OrderIntent(
            client_order_id=self.client_id(slot),
            symbol=self.inst.symbol,
            side=slot.side,
            type=OrderType.LIMIT,
            qty=slot.remaining,
            price=limit_price(self.inst, slot.side, price),
            position_side=self.position_side,
            reduce_only=self.reduce_only(slot.side),
            post_only=self.config.post_only,
            tag=f"grid_{slot.side.value}",
        )

    def market_order(self, slot: OrderSlot, *, reduce_only: bool, tag: str) -> OrderIntent:
        """A market order (initial inventory or exit) for the slot's remaining size."""
        return OrderIntent(
            client_order_id=self.client_id(slot),
            symbol=self.inst.symbol,
            side=slot.side,
            type=OrderType.MARKET,
            qty=slot.remaining,
            position_side=self.position_side,
            reduce_only=reduce_only and self.inst.is_derivative,
            tag=tag,
        )
