"""Backtest reports: summary numbers, a readable text table, and charts."""

from __future__ import annotations

from .summary import Summary, summarize

__all__ = ["Summary", "summarize"]
