"""``OpenedBot``: what the host opens for one bot before it does anything with it, whether it
runs the bot (:meth:`~.host.Host._run_on`) or closes the positions of a bot that is not
running (:mod:`.idle_close`): its stored records, its replay candles, its durable paper venue
and its order manager, already reconciled with the venue."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from tbsdk.ids import bot_key
from tbsdk.timeframes import timeframe_ms

if TYPE_CHECKING:
    from tbsdk import BotInfo
    from tbsdk.model import CandleArrays, Instrument

    from ..orders import OrderManager, ReconcileReport
    from ..storage.models import BotRow
    from ..storage.repos.states import SavedState
    from .durable_venue import DurableVenue

__all__ = ["OpenedBot"]


@dataclass
class OpenedBot:
    """One bot's records, candles, venue and order manager, as the host opened them."""

    row: BotRow
    info: BotInfo
    saved: SavedState | None
    """The bot's latest strategy state (None before its first checkpoint)."""
    instrument: Instrument
    candles: CandleArrays
    venue: DurableVenue
    manager: OrderManager
    reconciled: ReconcileReport
    """What the reconciliation at opening found and did."""
    trades_stored: int
    """How many of the venue's round trips are stored (the venue lists them all, oldest
    first; each is stored with the checkpoint that follows it)."""

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    @property
    def timeframe(self) -> str:
        return self.info.timeframe

    @property
    def key(self) -> str:
        """The bot's six-character key in its client order ids (:func:`tbsdk.ids.bot_key`)."""
        return bot_key(self.row.account_id, self.row.id)

    async def record_trades(self) -> None:
        """Hand the round trips the venue finished since the last call to the order manager,
        to be stored with its next flush."""
        trades = self.venue.trades()
        if len(trades) > self.trades_stored:
            await self.manager.on_trades(trades[self.trades_stored :])
            self.trades_stored = len(trades)

    @cached_property
    def close_ts(self) -> npt.NDArray[np.int64]:
        """Close time of each candle: the instant the venue matches it."""
        return self.candles.ts.astype(np.int64) + timeframe_ms(self.timeframe)
