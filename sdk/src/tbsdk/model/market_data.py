"""Candles (one at a time, and as column arrays for speed) and tickers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from ..timeframes import timeframe_ms
from ._base import FrozenModel

__all__ = ["Candle", "CandleArrays", "Ticker"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Candle(FrozenModel):
    """One OHLCV candle. ``ts`` is the open time (UTC ms), as in ccxt."""

    ts: int = Field(description="Open time, UTC milliseconds.")
    open: Decimal = Field(gt=0)
    high: Decimal = Field(gt=0)
    low: Decimal = Field(gt=0)
    close: Decimal = Field(gt=0)
    volume: Decimal = Field(ge=0)

    @model_validator(mode="after")
    def _check(self) -> Candle:
        if self.high < max(self.open, self.close) or self.low > min(self.open, self.close):
            raise ValueError(
                f"candle at {self.ts}: high {self.high} / low {self.low} do not contain "
                f"open {self.open} and close {self.close}"
            )
        return self

    def close_time(self, timeframe: str) -> int:
        """Close time (UTC ms) of this candle on ``timeframe``."""
        return self.ts + timeframe_ms(timeframe)


@dataclass(frozen=True, slots=True)
class CandleArrays:
    """A candle series as parallel numpy columns: the form indicators and backtests work on.

    ``ts`` is int64 open time in UTC ms, ascending; prices and volume are float64. Building one
    ``Candle`` per row is what this type exists to avoid on hot paths.
    """

    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __post_init__(self) -> None:
        n = len(self.ts)
        for name in ("open", "high", "low", "close", "volume"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"CandleArrays column {name!r} has a different length than ts")

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def from_candles(cls, candles: list[Candle]) -> CandleArrays:
        def col(name: str) -> FloatArray:
            return np.array([float(getattr(c, name)) for c in candles], dtype=np.float64)

        return cls(
            ts=np.array([c.ts for c in candles], dtype=np.int64),
            open=col("open"),
            high=col("high"),
            low=col("low"),
            close=col("close"),
            volume=col("volume"),
        )

    @classmethod
    def empty(cls) -> CandleArrays:
        f = np.empty(0, dtype=np.float64)
        return cls(np.empty(0, dtype=np.int64), f, f, f, f, f)

    def candle(self, i: int) -> Candle:
        """Row ``i`` as a :class:`Candle`, prices converted from float by shortest repr.

        Not validated again: a series is checked once when it is built or imported, and this
        runs for every candle a backtest delivers."""
        # ``item`` gives the Python int / float without a numpy scalar in between.
        return Candle.model_construct(
            ts=int(self.ts.item(i)),
            open=Decimal(repr(float(self.open.item(i)))),
            high=Decimal(repr(float(self.high.item(i)))),
            low=Decimal(repr(float(self.low.item(i)))),
            close=Decimal(repr(float(self.close.item(i)))),
            volume=Decimal(repr(float(self.volume.item(i)))),
        )

    def slice(self, start: int | None = None, stop: int | None = None) -> CandleArrays:
        """Rows ``start:stop`` as views (no copy)."""
        s = slice(start, stop)
        return CandleArrays(
            self.ts[s], self.open[s], self.high[s], self.low[s], self.close[s], self.volume[s]
        )

    def to_dict(self) -> dict[str, list[Any]]:
        return {
            "ts": self.ts.tolist(),
            "open": self.open.tolist(),
            "high": self.high.tolist(),
            "low": self.low.tolist(),
            "close": self.close.tolist(),
            "volume": self.volume.tolist(),
        }


class Ticker(FrozenModel):
    """Best bid/ask and last trade price at ``ts`` (UTC ms)."""

    symbol: str
    ts: int
    last: Decimal = Field(gt=0)
    bid: Decimal | None = None
    ask: Decimal | None = None
