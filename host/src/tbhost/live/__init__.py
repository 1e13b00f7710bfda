"""The long-running host (``tbhost run``): every bot whose stored state is ``running``, driven
on the wall clock as an asyncio task, resumed where it stopped, stopped gracefully.

Until real exchange plugins exist, a bot's market data is a replay of stored candles at a
chosen speed and its venue is the paper exchange, one paper venue per bot, whose state is kept
on disk like a real venue's (see :mod:`.durable_venue`).
"""

from __future__ import annotations

from .durable_venue import DurableVenue, venue_dir
from .host import BotOutcome, Host

__all__ = ["BotOutcome", "DurableVenue", "Host", "venue_dir"]
