"""The adaptive mode of the grid strategy (grid spec §4): a dynamic ladder around an adaptive
centre line, recomputed at every 15m close, gated by a 4h ADX regime.

* :mod:`.levels` — the level table (§4.3), streaming and vectorised;
* :mod:`.regime` — the 4h regime (§4.4), streaming and vectorised;
* :mod:`.feeds`, :mod:`.market` — table (backtest) or stream (live) rows per closed candle, and
  the current table and regime;
* :mod:`.mask` — the evaluation candles a backtest must deliver;
* :mod:`.ladder` — rung search, entry prices, take-profit targets (§4.6, §4.7);
* :mod:`.books`, :mod:`.desk`, :mod:`.orders` — lots, resting entries, stops and the orders
  that change them (§4.5–§4.9);
* :mod:`.order_events`, :mod:`.reconcile` — fills and order updates, and reconciliation (§2);
* :mod:`.state` — the persisted state (§6);
* :mod:`.engine` — :class:`~.engine.AdaptiveEngine`, the event handling of §4.11.
"""

from __future__ import annotations

from .engine import AdaptiveEngine
from .levels import LevelLadder, level_table
from .regime import RegimeTracker, regime_series

__all__ = ["AdaptiveEngine", "LevelLadder", "RegimeTracker", "level_table", "regime_series"]
