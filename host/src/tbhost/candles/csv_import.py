"""Read ``timestamp,open,high,low,close,volume`` CSV (optionally gzipped) into candle arrays.

Nothing is stored here: a file is read and checked whole, and any bad row refuses the file with
the line numbers, so an import never leaves half a series behind.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np

from tbsdk.errors import TbError
from tbsdk.model import CandleArrays

from .validation import row_problems

HEADER = ["timestamp", "open", "high", "low", "close", "volume"]
MAX_LISTED = 20


class CandleFileError(TbError):
    """A candle file cannot be imported; the message lists the offending lines."""


def _open_text(path: Path) -> list[list[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", newline="") as handle:
            return list(csv.reader(handle))
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise CandleFileError(f"{path}: cannot read the file ({exc})") from exc


def read_candle_csv(path: Path, timeframe_ms: int) -> CandleArrays:
    """Parse and validate ``path``; raise :class:`CandleFileError` naming every bad line."""
    rows = _open_text(path)
    if not rows:
        raise CandleFileError(f"{path}: the file is empty")
    header = [h.strip().lower() for h in rows[0]]
    if header != HEADER:
        raise CandleFileError(
            f"{path}: line 1 must be the header {','.join(HEADER)}, found {','.join(rows[0])}"
        )
    body = rows[1:]
    if not body:
        raise CandleFileError(f"{path}: the file has a header but no candles")
    errors: list[str] = []
    bad_lines: set[int] = set()
    ts = np.empty(len(body), dtype=np.int64)
    values = np.empty((len(body), 5), dtype=np.float64)
    for i, row in enumerate(body):
        line = i + 2
        if len(row) != 6:
            errors.append(f"line {line}: expected 6 columns, found {len(row)}")
            bad_lines.add(line)
            continue
        try:
            ts[i] = int(row[0])
            values[i] = [float(v) for v in row[1:]]
        except ValueError:
            errors.append(f"line {line}: not a number in {','.join(row)}")
            bad_lines.add(line)
    if not errors:
        arrays = CandleArrays(ts, *(np.ascontiguousarray(values[:, k]) for k in range(5)))
        problems = row_problems(arrays, timeframe_ms)
        errors = [f"line {p.index + 2}: {p.rule}" for p in problems]
        bad_lines = {p.index + 2 for p in problems}
        if not errors:
            return arrays
    listed = "\n  ".join(errors[:MAX_LISTED])
    more = f"\n  ... and {len(errors) - MAX_LISTED} more" if len(errors) > MAX_LISTED else ""
    raise CandleFileError(
        f"{path}: {len(bad_lines)} bad row(s); nothing was imported. Fix these lines:\n  "
        f"{listed}{more}"
    )
