"""An example third-party TradingBoost plugin."""

from __future__ import annotations

from .strategy import SmaCross, SmaCrossConfig

__all__ = ["SmaCross", "SmaCrossConfig"]
