"""The round trips of a backtest as CSV or JSON, one row each, byte-for-byte reproducible.

Decimals are written exactly, as fixed-point strings; times both as ISO 8601 UTC with
milliseconds (``2023-01-01T05:00:00.000Z``) and as epoch milliseconds.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tbsdk.model import Trade

from .summary import decimal_text

__all__ = ["COLUMNS", "iso_utc", "trade_rows", "write_trades"]

COLUMNS = (
    "symbol",
    "direction",
    "qty",
    "entry_time",
    "entry_ms",
    "exit_time",
    "exit_ms",
    "entry_price",
    "exit_price",
    "pnl",
    "fees",
    "exit_reason",
)
"""Column order of both formats."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_utc(ms: int) -> str:
    """``ms`` since the epoch as ISO 8601 UTC with milliseconds; exact (no float seconds)."""
    when = _EPOCH + timedelta(milliseconds=ms)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def trade_rows(trades: Sequence[Trade]) -> list[dict[str, str | int]]:
    """One dict per round trip, keys in :data:`COLUMNS` order."""
    return [
        {
            "symbol": t.symbol,
            "direction": str(t.direction),
            "qty": decimal_text(t.qty),
            "entry_time": iso_utc(t.opened_at),
            "entry_ms": t.opened_at,
            "exit_time": iso_utc(t.closed_at),
            "exit_ms": t.closed_at,
            "entry_price": decimal_text(t.entry_price),
            "exit_price": decimal_text(t.exit_price),
            "pnl": decimal_text(t.pnl),
            "fees": decimal_text(t.fees),
            "exit_reason": t.exit_reason,
        }
        for t in trades
    ]


def write_trades(trades: Sequence[Trade], path: Path) -> Path:
    """Write ``trades`` to ``path``: CSV if it ends in ``.csv``, JSON if in ``.json``.

    Raises ``ValueError`` for any other suffix. Line endings are ``\\n`` on every platform.
    """
    rows = trade_rows(trades)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    elif suffix == ".json":
        text = json.dumps(rows, indent=2) + "\n"
    else:
        raise ValueError(f"--trades {path}: the file name must end in .csv or .json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path
