"""Order intents of the adaptive engine, with their client ids (grid spec §2, §4.6–§4.9).

Ids are ``g`` + bot6 + sym3 + seq5 + tag3 + rev2 (:func:`~tb_strategy_grid.ids.grid_client_id`):

* entry ``b``/``s`` + rung: a new ``seq`` for every entry order;
* take-profit ``t`` + the lot's entry rung, and market exit ``x`` + that rung: the lot's entry
  ``seq``, ``rev`` + 1 per replacement or retry;
* stop ``k`` + ``00`` (long side) / ``01`` (short side): a stop belongs to no lot, so every
  placement takes a new ``seq`` from the same counter (the spec leaves the stop's seq open).

Futures orders that close exposure are reduce-only (a left-over order must never open the other
way); on spot a take-profit or exit is a plain sell of the lot's quantity.
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

from ..ids import grid_client_id
from .books import Lot, Side

__all__ = ["OrderMaker"]

_STOP_INDEX = {Side.LONG: 0, Side.SHORT: 1}


def _opening(side: Side) -> OrderSide:
    return OrderSide.BUY if side is Side.LONG else OrderSide.SELL


class OrderMaker:
    """Builds the intents of one symbol for one bot instance."""

    def __init__(
        self,
        inst: Instrument,
        bot6: str,
        sym3: str,
        position_mode: PositionMode,
        post_only: bool,
    ) -> None:
        self.inst, self.bot6, self.sym3, self.post_only = inst, bot6, sym3, post_only
        self.hedge = inst.is_derivative and position_mode is PositionMode.HEDGE

    def cid(self, seq: int, letter: str, index: int, rev: int) -> str:
        return grid_client_id(self.bot6, self.sym3, seq, letter, index, rev)

    def book_of(self, side: Side) -> PositionSide:
        """``long``/``short`` books in a hedge-mode futures account, ``net`` otherwise."""
        if not self.hedge:
            return PositionSide.NET
        return PositionSide.LONG if side is Side.LONG else PositionSide.SHORT

    def entry_id(self, side: Side, seq: int, rung: int) -> str:
        return self.cid(seq, "b" if side is Side.LONG else "s", rung, 0)

    def entry(self, side: Side, cid: str, price: Decimal, qty: Decimal) -> OrderIntent:
        """A limit entry (GTC; post-only per setting)."""
        return OrderIntent(
            client_order_id=cid,
            symbol=self.inst.symbol,
            side=_opening(side),
            type=OrderType.LIMIT,
            qty=qty,
            price=price,
            position_side=self.book_of(side),
            post_only=self.post_only,
            tag="entry",
        )

    def take_profit(self, side: Side, lot: Lot) -> OrderIntent:
        """The lot's take-profit at ``lot.tp_price`` under ``lot.tp_cid``."""
        assert lot.tp_cid is not None  # set by the caller
        assert lot.tp_price is not None
        return OrderIntent(
            client_order_id=lot.tp_cid,
            symbol=self.inst.symbol,
            side=_opening(side).opposite,
            type=OrderType.LIMIT,
            qty=lot.qty,
            price=lot.tp_price,
            position_side=self.book_of(side),
            reduce_only=self.inst.is_derivative,
            post_only=self.post_only,
            tag="tp",
        )

    def exit(self, side: Side, lot: Lot, tag: str) -> OrderIntent:
        """A market order closing the lot under ``lot.exit_cid``."""
        assert lot.exit_cid is not None  # set by the caller
        return OrderIntent(
            client_order_id=lot.exit_cid,
            symbol=self.inst.symbol,
            side=_opening(side).opposite,
            type=OrderType.MARKET,
            qty=lot.qty,
            position_side=self.book_of(side),
            reduce_only=self.inst.is_derivative,
            tag=tag,
        )

    def stop_id(self, side: Side, seq: int) -> str:
        return self.cid(seq, "k", _STOP_INDEX[side], 0)

    def stop(self, side: Side, cid: str, trigger: Decimal) -> OrderIntent:
        """The side's resting stop: closes the whole book when the price reaches ``trigger``."""
        return OrderIntent(
            client_order_id=cid,
            symbol=self.inst.symbol,
            side=_opening(side).opposite,
            type=OrderType.STOP_MARKET,
            qty=Decimal(0),
            trigger_price=trigger,
            position_side=self.book_of(side),
            reduce_only=True,
            close_position=True,
            tag="stop",
        )
