"""Backtest reports: metrics, a readable text table, a trade list, charts and an HTML page.

The chart and HTML modules (``plot``, ``html``) import matplotlib when used; import them by
module so that a text-only report never loads it.
"""

from __future__ import annotations

from .summary import Summary, equity_curve, summarize
from .trade_list import write_trades

__all__ = ["Summary", "equity_curve", "summarize", "write_trades"]
