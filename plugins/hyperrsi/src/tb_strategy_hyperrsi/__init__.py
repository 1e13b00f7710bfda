"""HYPERRSI strategy plugin for TradingBoost (entry point ``hyperrsi``)."""

from __future__ import annotations

from .config import HyperRsiConfig
from .presets import PRESETS, Preset, find_preset
from .strategy import HyperRsi

__all__ = ["PRESETS", "HyperRsi", "HyperRsiConfig", "Preset", "find_preset"]
