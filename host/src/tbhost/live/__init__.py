"""The long-running host (``tbhost run``): every bot whose stored state is ``running``, driven
on the wall clock as an asyncio task, resumed where it stopped, stopped gracefully.

Until real exchange plugins exist, a bot's market data is a replay of stored candles at a
chosen speed and its venue is the paper exchange, one paper venue per bot, whose state is kept
on disk like a real venue's (see :mod:`.venue_files`).
"""

from __future__ import annotations

from .host import BotOutcome, Host
from .venue_files import VenueFile, venue_path

__all__ = ["BotOutcome", "Host", "VenueFile", "venue_path"]
