"""Carrying out a request to close a bot's positions (``tbhost bots close``, the API).

The bot's strategy is not running: a running bot has been stopped first, and a bot that was
paused, stopped or faulted is closed without it (:mod:`.idle_close`), so nothing re-opens what
is closed here. Then, through the bot's order manager (each intent committed before it is
sent, as always): every open order of the bot on its symbol is cancelled, and every open
position gets a reduce-only market order for its whole size. A market order fills at the next
candle's open, so the venue is fed candles until they have filled (a handful at most).

Restarts: the client ids are deterministic (``c`` + bot key + request id + the position's
book), so a close-out interrupted by a crash and carried out again after the restart finds
the orders it had stored (the order manager's reconciliation has brought them up to date) and
neither cancels nor sends them again: one closing order per position, however often it is
interrupted. (The completion lists what the last attempt did: orders an interrupted attempt
cancelled are not in its ``cancelled``.)

When it fails: with open positions and no candle left to fill at (the replay window has ended)
nothing is touched, so a faulted bot keeps its protective stops; closing orders still open
when the candles run out (``MAX_CANDLES`` at most) are cancelled, so none is left to fill
later. Either way the outcome is ``failed`` with the reason in :attr:`CloseOut.problem`.

What happens to the bot afterwards is the host's rule: a close request ends with the bot
stored as stopped (a running, paused or faulted bot; a stopped one stays stopped), also when
nothing was open, so that it is the same whatever state the bot was in. Only an idle bot whose
close-out failed keeps its state (a faulted bot stays faulted); a running bot is stopped even
then, or the host would start it again. A command given while the close-out ran (a resume, a
pause) wins: the bot is stopped only from the state it had when the host took the request up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tbsdk.ids import base36
from tbsdk.model import (
    Event,
    OrderIntent,
    OrderSide,
    OrderType,
    PositionSide,
)

if TYPE_CHECKING:
    from .opened_bot import OpenedBot

__all__ = ["MAX_CANDLES", "CloseOut", "close_out", "closing_id", "record_events"]

log = logging.getLogger(__name__)

MAX_CANDLES = 10
"""Candles the venue is fed waiting for the closing orders to fill before giving up."""

_BOOKS = tuple(PositionSide)


@dataclass
class CloseOut:
    """What a close-out did, for the request's completion entry in the audit log."""

    cancelled: list[str] = field(default_factory=list)
    closing: list[str] = field(default_factory=list)
    next_index: int = 0
    """The first candle the venue has not matched after the close-out."""
    flat: bool = False
    problem: str | None = None
    """Why positions are still open, when they are."""

    @property
    def outcome(self) -> str:
        if not self.flat:
            return "failed"
        return "closed" if self.closing else "nothing_open"

    def details(self) -> dict[str, Any]:
        """For the request's completion entry."""
        found: dict[str, Any] = {
            "cancelled": self.cancelled,
            "orders": self.closing,
            "flat": self.flat,
        }
        if self.problem is not None:
            found["reason"] = self.problem
        return found


def closing_id(key: str, request_id: int, book: PositionSide) -> str:
    """The client id of the order closing the position in ``book`` for this request."""
    return f"c{key}{base36(request_id, 8)}{base36(_BOOKS.index(book), 2)}"


async def record_events(bot: OpenedBot, events: Iterable[Event]) -> None:
    """Hand what the venue reported on a candle to the bot's order manager, with the round
    trips it finished, then store it all."""
    await bot.manager.on_events(events)
    await bot.record_trades()
    await bot.manager.flush()


async def close_out(bot: OpenedBot, index: int, *, request_id: int) -> CloseOut:
    """Cancel the bot's open orders and close its positions on its symbol; ``index`` is the
    next candle of ``bot.candles`` the venue has not matched."""
    manager, venue, symbol, candles = bot.manager, bot.venue, bot.symbol, bot.candles
    ids = {book: closing_id(bot.key, request_id, book) for book in _BOOKS}
    done = CloseOut(next_index=index)
    for cid in ids.values():
        if await manager.get(cid) is not None:  # stored before a restart: never sent twice
            done.closing.append(cid)
    positions = [p for p in await venue.fetch_positions([symbol]) if not p.is_flat]
    if positions and index >= len(candles):
        done.problem = f"no candle left to fill a closing order at ({_replay_end(bot)})"
        log.error("closing %s of bot %s: %s; nothing done", symbol, bot.row.id, done.problem)
        return done
    for order in await venue.fetch_open_orders(symbol):
        cid = order.client_order_id
        if manager.owns(cid) and cid not in done.closing:
            await manager.cancel(symbol, cid)
            done.cancelled.append(cid)
    for position in positions:
        cid = ids[position.position_side]
        if cid in done.closing:
            continue
        # Reduce-only: should the position have changed meanwhile, this order can only shrink
        # it, never open one the other way.
        intent = OrderIntent(
            client_order_id=cid,
            symbol=symbol,
            side=OrderSide.SELL if position.signed_size > 0 else OrderSide.BUY,
            type=OrderType.MARKET,
            qty=abs(position.signed_size),
            position_side=position.position_side,
            reduce_only=True,
            tag="close",
        )
        await manager.submit(intent)
        done.closing.append(cid)
    limit = min(len(candles), index + MAX_CANDLES)
    while positions and done.next_index < limit and await _working(bot, done.closing):
        i = done.next_index
        close_ts = int(bot.close_ts[i])
        o, h, lo, c = candles.open[i], candles.high[i], candles.low[i], candles.close[i]
        await record_events(bot, venue.process_candle(symbol, close_ts, o, h, lo, c))
        done.next_index += 1
        positions = [p for p in await venue.fetch_positions([symbol]) if not p.is_flat]
    for cid in await _working(bot, done.closing):
        await manager.cancel(symbol, cid)  # none left to fill later, when nobody expects it
    done.flat = not positions
    if positions:
        held = ", ".join(f"{p.position_side} {p.signed_size}" for p in positions)
        done.problem = f"{held} still open after {done.next_index - index} candle(s)"
        log.error("closing %s of bot %s: %s", symbol, bot.row.id, done.problem)
    return done


async def _working(bot: OpenedBot, ids: Sequence[str]) -> list[str]:
    """Which of ``ids`` are open orders on the venue (can still fill)."""
    open_ids = {o.client_order_id for o in await bot.venue.fetch_open_orders(bot.symbol)}
    return [cid for cid in ids if cid in open_ids]


def _replay_end(bot: OpenedBot) -> str:
    if not len(bot.candles):
        return "no candles in the replay window"
    end = datetime.fromtimestamp(int(bot.close_ts[-1]) / 1000, UTC)
    return f"the replay window ends at {end.isoformat()}"
