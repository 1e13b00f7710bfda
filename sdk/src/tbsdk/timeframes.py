"""Timeframe names and their lengths. Candles are aligned to UTC multiples of their length."""

from __future__ import annotations

__all__ = ["TIMEFRAMES", "bucket_start", "timeframe_ms"]

_MINUTE = 60_000
TIMEFRAMES: dict[str, int] = {
    "1m": _MINUTE,
    "3m": 3 * _MINUTE,
    "5m": 5 * _MINUTE,
    "15m": 15 * _MINUTE,
    "30m": 30 * _MINUTE,
    "1h": 60 * _MINUTE,
    "2h": 120 * _MINUTE,
    "4h": 240 * _MINUTE,
    "6h": 360 * _MINUTE,
    "8h": 480 * _MINUTE,
    "12h": 720 * _MINUTE,
    "1d": 1440 * _MINUTE,
    "2d": 2880 * _MINUTE,
    "3d": 4320 * _MINUTE,
    "1w": 10080 * _MINUTE,
}
"""Supported timeframe names mapped to their length in milliseconds."""


def timeframe_ms(timeframe: str) -> int:
    """Length of ``timeframe`` in milliseconds; raises ``ValueError`` naming the valid names."""
    try:
        return TIMEFRAMES[timeframe]
    except KeyError:
        raise ValueError(
            f"unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}"
        ) from None


def bucket_start(ts_ms: int, timeframe: str) -> int:
    """Open time of the ``timeframe`` candle containing ``ts_ms`` (UTC epoch alignment).

    ``1w`` buckets start on Monday 00:00 UTC, as on the major venues.
    """
    length = timeframe_ms(timeframe)
    if timeframe == "1w":
        monday_offset = 4 * 86_400_000  # 1970-01-01 was a Thursday
        return ts_ms - (ts_ms - monday_offset) % length
    return ts_ms - ts_ms % length
