"""A whole backtest, checked against an independent re-simulation on real candles.

The SMA-cross example runs through the host engine and the paper exchange; this test replays
the same rules by hand (decisions at the close, market fills at the next open, 0.1 % taker fee
each side) and expects every round trip to match to the last decimal.
"""

from __future__ import annotations

import asyncio
import json
import re
from decimal import Decimal
from pathlib import Path

import numpy as np

from tb_exchange_paper import PaperConfig, PaperExchange
from tb_strategy_example import SmaCross
from tbhost.candles import read_candle_csv
from tbhost.datasets import BUNDLED
from tbhost.engine.backtest import run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbhost.engine.runner import BotState
from tbsdk.model import CandleArrays, Direction

from .distributions import run_tbhost

HOUR = 3_600_000
QTY = Decimal("0.01")
FEE = Decimal("0.001")


def _candles(rows: int) -> CandleArrays:
    path = next(d.path for d in BUNDLED if d.timeframe == "1h")
    return read_candle_csv(path, HOUR).slice(40_000, 40_000 + rows)


def _expected_trades(c: CandleArrays, fast: int, slow: int) -> list[tuple[int, int, Decimal]]:
    """(entry fill time, exit fill time, pnl after fees) by hand, from the spec of the example."""
    trades, pending, entry = [], None, None
    long, above_prev = False, None
    for i in range(len(c)):
        price = Decimal(repr(float(c.open[i])))
        if pending == "buy":
            entry, long = (int(c.ts[i]) + HOUR, price), True
        elif pending == "sell" and entry is not None:
            fees = (entry[1] + price) * QTY * FEE
            trades.append((entry[0], int(c.ts[i]) + HOUR, (price - entry[1]) * QTY - fees))
            long = False
        pending = None
        if i < slow - 1:
            continue
        above = c.close[i - fast + 1 : i + 1].mean() > c.close[i - slow + 1 : i + 1].mean()
        if above_prev is not None and above != above_prev:
            pending = "buy" if above and not long else ("sell" if not above and long else None)
        above_prev = above
    return trades


def test_backtest_matches_an_independent_simulation() -> None:
    candles = _candles(3000)
    instrument = backtest_instrument("paper", "BTC/USDT")
    exchange = PaperExchange(PaperConfig(instruments=(instrument,), balances={"USDT": 10_000}))
    strategy = SmaCross.from_settings(
        {"symbol": "BTC/USDT", "timeframe": "1h", "fast": 8, "slow": 21, "qty": "0.01"}
    )
    result = asyncio.run(run_backtest(strategy, exchange, instrument, candles, "1h"))

    expected = _expected_trades(candles, 8, 21)
    assert len(expected) > 50
    got = [(t.opened_at, t.closed_at, t.pnl) for t in result.trades]
    assert got == expected
    assert all(t.direction is Direction.LONG and t.qty == QTY for t in result.trades)
    assert result.state is BotState.STOPPED
    # Equity is exact at the end: the start balance plus every closed trade, plus the open one.
    open_pnl = result.end_equity - Decimal(10_000) - sum(pnl for *_, pnl in expected)
    assert (open_pnl == 0) == (len(result.orders) == 2 * len(expected))
    assert result.equity[0] == 10_000.0
    assert np.isclose(result.equity[-1], float(result.end_equity))


def test_strategy_exception_faults_the_bot_not_the_backtest() -> None:
    class Exploding(SmaCross):
        def on_candle(self, ctx, event):  # type: ignore[no-untyped-def]
            if len(ctx.history(event.symbol, event.timeframe)) == 30:
                raise ZeroDivisionError("bug in strategy")
            super().on_candle(ctx, event)

    candles = _candles(200)
    instrument = backtest_instrument("paper", "BTC/USDT")
    exchange = PaperExchange(PaperConfig(instruments=(instrument,)))
    result = asyncio.run(
        run_backtest(
            Exploding.from_settings({"timeframe": "1h"}), exchange, instrument, candles, "1h"
        )
    )
    assert result.state is BotState.FAULTED
    assert result.fault == "Exploding.on_candle raised ZeroDivisionError: bug in strategy"
    assert (result.equity[29:] == result.equity[29]).all()


def test_cli_backtest_json_and_chart(tmp_path: Path) -> None:
    plot = tmp_path / "bt.png"
    result = run_tbhost(
        "--data-dir",
        str(tmp_path / "d"),
        "backtest",
        "sma_cross",
        "--symbol",
        "BTC/USDT",
        "--timeframe",
        "1h",
        "--from",
        "2023-01-01",
        "--to",
        "2023-04-01",
        "--json",
        "--plot",
        str(plot),
        "--set",
        "fast=5",
        "--set",
        "slow=20",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["start"] == "2023-01-01 00:00"
    assert summary["end"] == "2023-03-31 23:00"
    assert summary["trades"] == len(report["trades"]) > 0
    net = sum(Decimal(t["pnl"]) for t in report["trades"])
    assert Decimal(summary["end_equity"]) - Decimal(summary["start_equity"]) - net == (
        Decimal(summary["net_pnl"]) - net
    )
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_backtest_explains_bad_settings(tmp_path: Path) -> None:
    result = run_tbhost(
        "--data-dir",
        str(tmp_path),
        "backtest",
        "sma_cross",
        "--symbol",
        "BTC/USDT",
        "--timeframe",
        "1h",
        "--set",
        "fast=50",
        "--set",
        "slow=10",
    )
    assert result.returncode == 1
    assert "invalid settings for sma_cross" in result.stderr
    assert "fast (50) must be shorter than slow (10)" in result.stderr
    missing = run_tbhost(
        "--data-dir", str(tmp_path), "backtest", "nope", "--symbol", "BTC/USDT", "--timeframe", "1h"
    )
    found = re.search(r"no tbhost.strategies plugin named 'nope'; available: (.*)", missing.stderr)
    assert found is not None, missing.stderr
    assert {"rsi_reversal", "sma_cross"} <= set(found.group(1).split(", "))


def test_cli_backtest_of_a_swap_on_its_spot_candles_with_contracts(tmp_path: Path) -> None:
    result = run_tbhost(
        "--data-dir",
        str(tmp_path / "d"),
        "backtest",
        "rsi_reversal",
        "--symbol",
        "BTC/USDT:USDT",
        "--timeframe",
        "1h",
        "--from",
        "2023-01-01",
        "--to",
        "2023-04-01",
        "--contract-size",
        "0.01",
        "--lot",
        "1",
        "--leverage",
        "5",
        "--set",
        "qty=3",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert "replaying BTC/USDT candles" in result.stderr
    trades = json.loads(result.stdout)["trades"]
    assert trades
    assert {t["symbol"] for t in trades} == {"BTC/USDT:USDT"}
    assert {Decimal(t["qty"]) for t in trades} == {Decimal(3)}  # contracts of 0.01 BTC
    t = trades[0]
    gross = (Decimal(t["exit_price"]) - Decimal(t["entry_price"])) * 3 * Decimal("0.01")
    assert Decimal(t["pnl"]) == gross - Decimal(t["fees"])
