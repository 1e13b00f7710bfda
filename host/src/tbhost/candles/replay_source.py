"""Which stored candles a backtest or a paper bot replays for a symbol: its own series, the
bundled real series imported on first use, or, for a swap without candles of its own, its spot
pair's."""

from __future__ import annotations

import logging
from collections.abc import Callable

from tbsdk.model import CandleArrays
from tbsdk.timeframes import timeframe_ms

from .csv_import import read_candle_csv
from .store import CandleStore

__all__ = ["replay_candles"]

log = logging.getLogger(__name__)


def replay_candles(
    store: CandleStore,
    exchange: str,
    symbol: str,
    timeframe: str,
    start: int | None = None,
    end: int | None = None,
    *,
    on_substitute: Callable[[str], None] | None = None,
) -> CandleArrays:
    """Stored candles of ``symbol`` in ``[start, end)``; ``on_substitute`` hears the message
    when a swap's spot pair stands in for it."""
    from ..datasets import BUNDLED

    def available(name: str) -> bool:
        if store.path(exchange, name, timeframe).is_file():
            return True
        for d in BUNDLED:
            if (d.exchange, d.symbol, d.timeframe) == (exchange, name, timeframe):
                log.info("importing bundled %s %s candles", name, timeframe)
                store.write(
                    exchange, name, timeframe, read_candle_csv(d.path, timeframe_ms(timeframe))
                )
                return True
        return False

    pair = symbol.partition(":")[0]
    if not available(symbol) and pair != symbol and available(pair):
        message = f"no {symbol} {timeframe} candles stored; replaying {pair} candles"
        (on_substitute or log.info)(message)
        symbol = pair
    return store.read(exchange, symbol, timeframe, start, end)
