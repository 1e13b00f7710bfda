from __future__ import annotations

import csv
import gzip
from importlib import resources

import numpy as np
import pytest

from tbsdk.model import CandleArrays
from tbsdk.testing import CANDLE_FILES, load_candles
from tbsdk.timeframes import timeframe_ms

pytest_plugins = ["tbsdk.testing"]


@pytest.mark.parametrize("name", sorted(CANDLE_FILES))
def test_bundled_file_loads_complete_and_ascending(name: str) -> None:
    meta = CANDLE_FILES[name]
    candles = load_candles(name)
    assert len(candles) == meta.rows
    assert candles.ts.dtype == np.int64
    assert candles.close.dtype == np.float64
    # No gaps in these files: every step is exactly one timeframe.
    assert set(np.diff(candles.ts).tolist()) == {timeframe_ms(meta.timeframe)}
    assert bool(np.all(candles.high >= np.maximum(candles.open, candles.close)))
    assert bool(np.all(candles.low <= np.minimum(candles.open, candles.close)))


def test_values_match_the_csv_text() -> None:
    path = resources.files("tbsdk.testing").joinpath("data", "BINANCE_ETH-BTC_1h.csv.gz")
    with gzip.open(str(path), "rt") as fh:
        rows = list(csv.reader(fh))[1:]
    candles = load_candles("BINANCE_ETH-BTC_1h.csv.gz")
    for i in (0, 57, len(rows) - 1):
        candle = candles.candle(i)
        # Shortest-repr text in the file comes back as the same decimal.
        assert [
            str(candle.ts),
            *map(str, (candle.open, candle.high, candle.low, candle.close)),
        ] == [
            rows[i][0],
            *(str(float(x)) for x in rows[i][1:5]),
        ]
    assert candles.ts[0] == 1712016000000


def test_every_row_is_a_valid_candle(btc_5m: CandleArrays) -> None:
    candles = [btc_5m.candle(i) for i in range(len(btc_5m))]
    assert CandleArrays.from_candles(candles).to_dict() == btc_5m.to_dict()


def test_each_load_returns_fresh_arrays(btc_1m: CandleArrays) -> None:
    btc_1m.close[:] = 0.0
    assert load_candles("BINANCE_BTC-USDT_1m").close[0] == pytest.approx(69649.81, rel=0.01)


def test_unknown_name_lists_the_bundled_files() -> None:
    with pytest.raises(LookupError, match="BINANCE_BTC-USDT_5m"):
        load_candles("BINANCE_BTC-USDT_1h")


def test_fixtures_match_their_files(
    btc_1m: CandleArrays, btc_5m: CandleArrays, ethbtc_1h: CandleArrays
) -> None:
    assert (len(btc_1m), len(btc_5m), len(ethbtc_1h)) == (7207, 1441, 120)


def test_data_readme_names_source_commit_and_licence() -> None:
    text = resources.files("tbsdk.testing").joinpath("data", "README.md").read_text()
    for needle in ("NIC-project-team/TradingStrategyGA", "1436467eb7f4", "71061d398332", "MIT"):
        assert needle in text
