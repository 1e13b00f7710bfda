"""Candle storage: CSV import with validation, Parquet files per (exchange, symbol, timeframe)."""

from __future__ import annotations

from .csv_import import CandleFileError, read_candle_csv
from .replay_source import replay_candles
from .store import CandleStore, StoredSeries
from .validation import Gap, find_gaps

__all__ = [
    "CandleFileError",
    "CandleStore",
    "Gap",
    "StoredSeries",
    "find_gaps",
    "read_candle_csv",
    "replay_candles",
]
