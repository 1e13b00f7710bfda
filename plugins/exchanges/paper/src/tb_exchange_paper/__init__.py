"""Paper exchange: a matching engine that simulates a venue for backtests and dry runs.

:class:`PaperExchange` is the ``paper`` entry point of ``tbhost.exchanges``; a backtest drives
its :attr:`~PaperExchange.engine` (a :class:`PaperEngine`) candle by candle. Every fill rule is a
documented setting of :class:`PaperConfig`; see the package README.
"""

from __future__ import annotations

from .engine import PaperEngine
from .errors import PaperInsufficientFunds, PaperInvalidOrder, reject_reason_of
from .exchange import PaperExchange
from .settings import LimitFillRule, PaperConfig
from .state import EngineEvent

__all__ = [
    "EngineEvent",
    "LimitFillRule",
    "PaperConfig",
    "PaperEngine",
    "PaperExchange",
    "PaperInsufficientFunds",
    "PaperInvalidOrder",
    "reject_reason_of",
]
