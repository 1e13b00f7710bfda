"""Carrying out a request to close a bot's positions (``tbhost bots close``, the API).

The bot's strategy has been stopped first, so nothing re-opens what is closed here. Then,
through the bot's order manager (each intent committed before it is sent, as always): every
open order of the bot on its symbol is cancelled, and every open position gets a reduce-only
market order for its whole size. A market order fills at the next candle's open, so the venue
is fed candles until they have filled (a handful at most). The client ids are deterministic
(``c`` + bot key + request id + the position's index), so a close-out interrupted by a crash
and carried out again after the restart finds its orders instead of sending them twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tbsdk.ids import base36
from tbsdk.model import (
    CandleArrays,
    FillEvent,
    OrderIntent,
    OrderSide,
    OrderType,
    OrderUpdate,
    PositionChanged,
)

from ..orders import OrderManager
from .durable_venue import DurableVenue

__all__ = ["CloseOut", "close_out"]

log = logging.getLogger(__name__)

MAX_CANDLES = 10
"""Candles the venue is fed waiting for the closing orders to fill before giving up."""


@dataclass
class CloseOut:
    """What a close-out did, for the request's completion entry in the audit log."""

    cancelled: list[str] = field(default_factory=list)
    closing: list[str] = field(default_factory=list)
    next_index: int = 0
    """The first candle the venue has not matched after the close-out."""
    flat: bool = False

    @property
    def outcome(self) -> str:
        if not self.closing:
            return "nothing_open"
        return "closed" if self.flat else "failed"


async def close_out(
    manager: OrderManager,
    venue: DurableVenue,
    symbol: str,
    candles: CandleArrays,
    close_ts: npt.NDArray[np.int64],
    index: int,
    *,
    request_id: int,
    key: str,
) -> CloseOut:
    """Cancel the bot's open orders and close its positions on ``symbol``; ``index`` is the
    next candle of ``candles`` the venue has not matched."""
    done = CloseOut(next_index=index)
    for order in await venue.fetch_open_orders(symbol):
        if manager.owns(order.client_order_id):
            await manager.cancel(symbol, order.client_order_id)
            done.cancelled.append(order.client_order_id)
    for n, position in enumerate(await venue.fetch_positions([symbol])):
        if position.is_flat:
            continue
        intent = OrderIntent(
            client_order_id=f"c{key}{base36(request_id, 8)}{base36(n, 2)}",
            symbol=symbol,
            side=OrderSide.SELL if position.signed_size > 0 else OrderSide.BUY,
            type=OrderType.MARKET,
            qty=abs(position.signed_size),
            position_side=position.position_side,
            reduce_only=True,
            tag="close",
        )
        await manager.submit(intent)
        done.closing.append(intent.client_order_id)
    while done.closing and done.next_index < min(len(candles), index + MAX_CANDLES):
        i = done.next_index
        events = venue.process_candle(
            symbol,
            int(close_ts[i]),
            candles.open[i],
            candles.high[i],
            candles.low[i],
            candles.close[i],
        )
        done.next_index += 1
        for event in events:
            if isinstance(event, FillEvent):
                await manager.on_fill(event.fill, event.order)
            elif isinstance(event, OrderUpdate):
                await manager.on_update(event.order)
            elif isinstance(event, PositionChanged):
                await manager.on_position(event.position)
        await manager.flush()
        if all(p.is_flat for p in await venue.fetch_positions([symbol])):
            break
    remaining = [p for p in await venue.fetch_positions([symbol]) if not p.is_flat]
    done.flat = not remaining
    if remaining:
        log.error(
            "closing %s: %s still open after %d candles",
            symbol,
            ", ".join(f"{p.position_side} {p.signed_size}" for p in remaining),
            done.next_index - index,
        )
    return done
