"""Parquet files of candles, one per (exchange, symbol, timeframe), written atomically."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from tbsdk.errors import TbError
from tbsdk.model import CandleArrays
from tbsdk.timeframes import timeframe_ms

from .validation import Gap, find_gaps, row_problems

COLUMNS = ("ts", "open", "high", "low", "close", "volume")
_META = (b"tb.exchange", b"tb.symbol", b"tb.timeframe")


@dataclass(frozen=True)
class StoredSeries:
    """What one stored file holds."""

    exchange: str
    symbol: str
    timeframe: str
    rows: int
    first: int | None
    last: int | None
    gaps: list[Gap] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return sum(g.missing for g in self.gaps)


class CandleStore:
    """Candles under ``root/<exchange>/<symbol>/<timeframe>.parquet``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, exchange: str, symbol: str, timeframe: str) -> Path:
        timeframe_ms(timeframe)  # refuse unknown timeframes with the list of valid ones
        return (
            self.root / quote(exchange, safe="") / quote(symbol, safe="") / f"{timeframe}.parquet"
        )

    def read(
        self,
        exchange: str,
        symbol: str,
        timeframe: str,
        start: int | None = None,
        end: int | None = None,
    ) -> CandleArrays:
        """Candles with open time in ``[start, end)``; zero-copy views of one memory map."""
        path = self.path(exchange, symbol, timeframe)
        if not path.is_file():
            raise TbError(
                f"no {timeframe} candles stored for {symbol} on {exchange}; import them with "
                f"`tbhost data import FILE --exchange {exchange} --symbol {symbol} "
                f"--timeframe {timeframe}`"
            )
        table = pq.read_table(path, memory_map=True).combine_chunks()
        cols = [table.column(name).to_numpy() for name in COLUMNS]
        arrays = CandleArrays(*cols)
        lo = 0 if start is None else int(np.searchsorted(arrays.ts, start, "left"))
        hi = len(arrays) if end is None else int(np.searchsorted(arrays.ts, end, "left"))
        return arrays.slice(lo, hi)

    def write(self, exchange: str, symbol: str, timeframe: str, new: CandleArrays) -> StoredSeries:
        """Merge ``new`` into what is stored. A conflicting overlap refuses the whole write."""
        path = self.path(exchange, symbol, timeframe)
        merged = self._merge(path, exchange, symbol, timeframe, new)
        problems = row_problems(merged, timeframe_ms(timeframe))
        if problems:
            raise TbError(
                f"refusing to store {symbol} {timeframe}: row {problems[0].index} "
                f"{problems[0].rule}"
            )
        table = pa.table({name: getattr(merged, name) for name in COLUMNS})
        table = table.replace_schema_metadata(
            dict(zip(_META, (exchange.encode(), symbol.encode(), timeframe.encode()), strict=True))
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename: readers see the old file or the new one, never half.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            pq.write_table(table, tmp, compression="lz4")
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return self._describe(exchange, symbol, timeframe, merged.ts)

    def _merge(
        self, path: Path, exchange: str, symbol: str, timeframe: str, new: CandleArrays
    ) -> CandleArrays:
        if not path.is_file():
            return new
        old = self.read(exchange, symbol, timeframe)
        common, old_idx, new_idx = np.intersect1d(old.ts, new.ts, return_indices=True)
        for name in COLUMNS[1:]:
            differs = getattr(old, name)[old_idx] != getattr(new, name)[new_idx]
            if differs.any():
                at = int(common[np.flatnonzero(differs)[0]])
                raise TbError(
                    f"{symbol} {timeframe}: the candle at {at} is already stored with a different "
                    f"{name}; nothing was written. Delete the stored file to replace the series."
                )
        keep = ~np.isin(new.ts, common)
        ts = np.concatenate([old.ts, new.ts[keep]])
        order = np.argsort(ts, kind="stable")
        cols = [np.concatenate([getattr(old, n), getattr(new, n)[keep]])[order] for n in COLUMNS]
        return CandleArrays(*cols)

    def _describe(
        self, exchange: str, symbol: str, timeframe: str, ts: npt.NDArray[np.int64]
    ) -> StoredSeries:
        return StoredSeries(
            exchange,
            symbol,
            timeframe,
            len(ts),
            int(ts[0]) if len(ts) else None,
            int(ts[-1]) if len(ts) else None,
            find_gaps(ts, timeframe_ms(timeframe)),
        )

    def list(self) -> list[StoredSeries]:
        """Every stored series with its span, row count and gaps."""
        found = []
        for path in sorted(self.root.glob("*/*/*.parquet")):
            meta = pq.read_schema(path).metadata or {}
            exchange, symbol, timeframe = (meta.get(k, b"?").decode() for k in _META)
            ts = pq.read_table(path, columns=["ts"]).column("ts").to_numpy()
            found.append(self._describe(exchange, symbol, timeframe, ts))
        return found
