"""GRID strategy plugin for TradingBoost: classic arithmetic/geometric grids and the adaptive
ladder, registered as ``grid`` (``tbhost.strategies``)."""

from .config import GridConfig
from .strategy import Grid

__all__ = ["Grid", "GridConfig"]
