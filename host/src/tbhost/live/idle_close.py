"""Closing the positions of a bot that is not running in this host: paused, stopped, faulted,
or stored as running but not started here yet.

A close request (:meth:`tbhost.services.BotService.close_positions`) for such a bot would
otherwise wait until the bot runs again, which a paused or faulted bot may never do. The host
carries it out without the strategy: it opens the bot as for a run (records, durable venue,
order manager reconciled with the venue; :class:`~.opened_bot.OpenedBot`), finds the first
candle the venue has not matched, and closes out there (:func:`~.close_out.close_out`), exactly
as for a running bot after it stopped.

The bot's stored state afterwards (:func:`stop_from`): stopped, as after any close request
(a stopped bot stays stopped), unless the close-out failed; then it keeps its state (a faulted
bot stays faulted, and the request's completion says why the positions are still open).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from ..services.commands import complete_close_request
from ..storage.models import BotStatus
from .close_out import CloseOut, close_out, record_events

if TYPE_CHECKING:
    from ..services import CloseRequest
    from ..storage import Database
    from .opened_bot import OpenedBot

__all__ = ["STOPPED_BY_CLOSE", "close_idle", "complete_failed", "next_unmatched", "stop_from"]

log = logging.getLogger(__name__)

STOPPED_BY_CLOSE = frozenset({BotStatus.RUNNING, BotStatus.PAUSED, BotStatus.FAULTED})
"""The stored states a carried-out close request moves to stopped (a stopped bot stays)."""


def next_unmatched(bot: OpenedBot) -> int:
    """Index of the first of the bot's candles that closes after the venue's last matched
    candle (0 if the venue has matched none)."""
    if bot.venue.last_close is None:
        return 0
    return int(np.searchsorted(bot.close_ts, bot.venue.last_close, "right"))


async def close_idle(bot: OpenedBot, request_id: int) -> CloseOut:
    """Close out an idle bot at the first candle its venue has not matched.

    The venue's last matched candle is fed again first: the venue answers it with the events it
    logged, and the order manager stores any it had not (a host killed after the venue matched
    the candle, before its fills were stored, e.g. in an earlier attempt at this close-out).
    Storing them again changes nothing: a fill is stored once per trade id, an order report
    never moves an order backwards.
    """
    index = next_unmatched(bot)
    if index > 0 and int(bot.close_ts[index - 1]) == bot.venue.last_close:
        i = index - 1
        events = bot.venue.process_candle(
            bot.symbol,
            int(bot.close_ts[i]),
            bot.candles.open[i],
            bot.candles.high[i],
            bot.candles.low[i],
            bot.candles.close[i],
        )
        await record_events(bot, events)
    log.info(
        "bot %s (%s): closing its positions at candle %d of %d (request %d)",
        bot.row.name,
        bot.row.id,
        index,
        len(bot.candles),
        request_id,
    )
    return await close_out(bot, index, request_id=request_id)


def stop_from(seen: BotStatus, done: CloseOut) -> frozenset[BotStatus]:
    """The stored states the bot is moved to stopped from after an idle close-out, ``seen``
    being its state when the host picked the request up: that state if it is running, paused
    or faulted, so a command given meanwhile (a resume) wins, as it would for a running bot;
    none when the close-out failed (the bot keeps its state) or the bot was stopped already."""
    if done.outcome == "failed" or seen not in STOPPED_BY_CLOSE:
        return frozenset()
    return frozenset({seen})


async def complete_failed(db: Database, request: CloseRequest, reason: str) -> None:
    """Complete the request as ``failed`` with ``reason``, when the close-out raised. Not left
    pending: it would be tried again at every poll, every few seconds, for ever."""
    try:
        async with db.transaction() as s:
            await complete_close_request(
                s, request.request_id, outcome="failed", details={"reason": reason}
            )
    except Exception:  # isolation: the database may be back at the next poll, which retries
        log.exception("storing the failure of close request %d failed", request.request_id)
