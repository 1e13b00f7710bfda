"""What the adaptive engine knows about the market: the current level table and regime, and the
feeds that produce them (grid spec §4.2–§4.4)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..config import GridConfig
from .feeds import CandleFeed
from .levels import LevelLadder
from .regime import RegimeTracker

__all__ = ["Market", "level_feed", "regime_feed"]

LEVELS_TF = "15m"
REGIME_TF = "4h"


def level_feed(config: GridConfig) -> CandleFeed:
    """The 15m feed of level-table rows ``L_0 .. L_{N+1}``."""
    n, band, gap = config.grid_num, config.band_mult, config.min_gap
    return CandleFeed("levels", LEVELS_TF, lambda: LevelLadder(n, band, gap))


def regime_feed() -> CandleFeed:
    """The 4h feed of rows ``(regime, ADX)``."""
    return CandleFeed("regime", REGIME_TF, RegimeTracker)


@dataclass
class Market:
    """The latest closed 15m table and 4h regime (§4.4: only closed candles count)."""

    table: list[float] | None = None
    """``L_0 .. L_{N+1}``; None until every level is defined."""
    table_ts: int | None = None
    """Open time of the 15m candle the table comes from."""
    regime: int = 0
    adx_defined: bool = False
    regime_ts: int | None = None
    """Open time of the 4h candle the regime comes from."""

    @property
    def ready(self) -> bool:
        """The engine trades once the level table and ADX are defined (§4.2)."""
        return self.table is not None and self.adx_defined

    def set_table(self, ts: int, row: list[float]) -> None:
        self.table_ts = ts
        self.table = row if all(math.isfinite(v) for v in row) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "table_ts": self.table_ts,
            "regime": self.regime,
            "adx_defined": self.adx_defined,
            "regime_ts": self.regime_ts,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Market:
        table = data["table"]
        return cls(
            table=None if table is None else [float(v) for v in table],
            table_ts=data["table_ts"],
            regime=int(data["regime"]),
            adx_defined=bool(data["adx_defined"]),
            regime_ts=data["regime_ts"],
        )
