"""An example third-party TradingBoost plugin: the ``sma_cross`` and ``rsi_reversal``
strategies and a hook module."""

from __future__ import annotations

from .rsi_reversal import RsiReversal, RsiReversalConfig
from .strategy import SmaCross, SmaCrossConfig

__all__ = ["RsiReversal", "RsiReversalConfig", "SmaCross", "SmaCrossConfig"]
