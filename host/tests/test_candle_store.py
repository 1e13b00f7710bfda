"""Candle import refuses bad files whole, with line numbers; the store round-trips exactly."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from tbhost.candles import CandleFileError, CandleStore, read_candle_csv
from tbhost.datasets import BUNDLED
from tbsdk.errors import TbError

from .distributions import run_tbhost

HOUR = 3_600_000
HEADER = "timestamp,open,high,low,close,volume\n"


def _csv(tmp_path: Path, rows: list[str], name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def test_every_bad_row_is_named_by_its_line(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        [
            f"{0 * HOUR},10,11,9,10.5,1",
            f"{1 * HOUR},10,10.2,9,10.5,1",  # line 3: high below close
            f"{2 * HOUR},10,11,10.1,10.5,1",  # line 4: low above open
            f"{2 * HOUR},10,11,9,10.5,1",  # line 5: duplicate
            f"{1 * HOUR},10,11,9,10.5,1",  # line 6: not sorted
            f"{5 * HOUR},0,11,9,10.5,1",  # line 7: zero price
            f"{6 * HOUR + 5},10,11,9,10.5,1",  # line 8: off the hour grid
        ],
    )
    with pytest.raises(CandleFileError) as caught:
        read_candle_csv(path, HOUR)
    message = str(caught.value)
    assert "6 bad row(s); nothing was imported" in message
    for expected in (
        "line 3: high is below max(open, close)",
        "line 4: low is above min(open, close)",
        "line 5: duplicate timestamp",
        "line 6: timestamp is earlier than the row before (not sorted)",
        "line 7: price is not positive",
        "line 8: timestamp is not aligned to the timeframe",
    ):
        assert expected in message
    assert "line 7: low is above min(open, close)" in message  # one row, two rules
    assert "line 2" not in message


def test_unparseable_rows_and_header(tmp_path: Path) -> None:
    bad = _csv(tmp_path, [f"{HOUR},10,11,9,abc,1", f"{2 * HOUR},10,11,9"])
    with pytest.raises(CandleFileError, match=r"line 2: not a number(?s:.*)line 3: expected 6"):
        read_candle_csv(bad, HOUR)
    no_header = tmp_path / "h.csv"
    no_header.write_text("ts,o,h,l,c,v\n1,2,3,4,5,6\n")
    with pytest.raises(CandleFileError, match="line 1 must be the header"):
        read_candle_csv(no_header, HOUR)


def test_refused_import_writes_nothing(tmp_path: Path) -> None:
    path = _csv(tmp_path, [f"{0 * HOUR},10,11,9,10.5,1", f"{0 * HOUR},10,11,9,10.5,1"])
    result = run_tbhost(
        "--data-dir",
        str(tmp_path / "data"),
        "data",
        "import",
        str(path),
        "--exchange",
        "binance",
        "--symbol",
        "BTC/USDT",
        "--timeframe",
        "1h",
    )
    assert result.returncode == 1
    assert "line 3: duplicate timestamp" in result.stderr
    assert not (tmp_path / "data" / "candles").exists()


def test_bundled_data_round_trips_exactly(tmp_path: Path) -> None:
    dataset = next(d for d in BUNDLED if d.timeframe == "1h")
    arrays = read_candle_csv(dataset.path, HOUR)
    store = CandleStore(tmp_path)
    stored = store.write("binance", "BTC/USDT", "1h", arrays)
    assert (stored.rows, stored.missing, len(stored.gaps)) == (58419, 128, 28)
    longest = max(stored.gaps, key=lambda g: g.missing)
    assert longest.missing == 33  # 2018-02-08 00:00 -> 2018-02-09 10:00, per the data README
    back = store.read("binance", "BTC/USDT", "1h")
    for name in ("ts", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(back, name), getattr(arrays, name))
    with gzip.open(dataset.path, "rt") as handle:
        first = handle.readlines()[1].strip().split(",")
    assert back.ts[0] == int(first[0])
    assert back.close[0] == float(first[4])
    window = store.read(
        "binance", "BTC/USDT", "1h", start=int(arrays.ts[10]), end=int(arrays.ts[20])
    )
    assert window.ts.tolist() == arrays.ts[10:20].tolist()
    assert not list(tmp_path.rglob("*.tmp"))


def test_overlapping_import_merges_and_conflicts_refuse(tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    first = read_candle_csv(_csv(tmp_path, [f"{h * HOUR},10,11,9,10,1" for h in range(3)]), HOUR)
    store.write("x", "A/B", "1h", first)
    more = read_candle_csv(
        _csv(tmp_path, [f"{h * HOUR},10,11,9,10,1" for h in range(2, 6)], "m.csv"), HOUR
    )
    assert store.write("x", "A/B", "1h", more).rows == 6
    clash = read_candle_csv(_csv(tmp_path, [f"{4 * HOUR},10,11,9,10.5,1"], "x.csv"), HOUR)
    with pytest.raises(
        TbError, match="candle at 14400000 is already stored with a different close"
    ):
        store.write("x", "A/B", "1h", clash)
    assert store.read("x", "A/B", "1h").close.tolist() == [10.0] * 6


def test_data_list_json(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "d")
    assert run_tbhost("--data-dir", data_dir, "data", "import", "--bundled").returncode == 0
    listed = json.loads(run_tbhost("--data-dir", data_dir, "data", "list", "--json").stdout)
    assert [(s["symbol"], s["timeframe"], s["rows"]) for s in listed] == [
        ("BTC/USDT", "1h", 58419),
        ("BTC/USDT", "1m", 7207),
    ]


def test_unknown_symbol_says_how_to_import(tmp_path: Path) -> None:
    with pytest.raises(TbError, match="tbhost data import FILE --exchange okx"):
        CandleStore(tmp_path).read("okx", "ETH/USDT", "1h")
