"""Paper bots on a replay feed: the wall-clock driver, checkpoints, and surviving ``kill -9``."""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from tb_exchange_paper import PaperConfig, PaperExchange
from tb_strategy_example import RsiReversal
from tbhost.candles import read_candle_csv
from tbhost.datasets import BUNDLED
from tbhost.engine.backtest import run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbhost.engine.paper import PaperCheckpoint, PaperRun, run_paper
from tbhost.engine.runner import BotState
from tbsdk import BotInfo, RunMode
from tbsdk.model import CandleArrays, Trade

from .distributions import run_tbhost

HOUR = 3_600_000
SWAP = "BTC/USDT:USDT"
BOT = BotInfo(bot_id="p", strategy="rsi_reversal", exchange="paper", account_id="paper")


def _candles() -> CandleArrays:
    path = next(d.path for d in BUNDLED if d.timeframe == "1h")
    return read_candle_csv(path, HOUR).slice(50_000, 52_000)


def _exchange() -> PaperExchange:
    instrument = backtest_instrument("paper", SWAP)
    return PaperExchange(PaperConfig(instruments=(instrument,), balances={"USDT": 10_000}))


def _strategy() -> RsiReversal:
    return RsiReversal.from_settings({"symbol": SWAP, "timeframe": "1h"})  # type: ignore[return-value]


def _paper(
    resume: PaperCheckpoint | None = None, stop_after: int | None = None
) -> tuple[PaperRun, list[Trade], list[PaperCheckpoint]]:
    exchange, points = _exchange(), []
    stop = asyncio.Event()

    def keep(point: PaperCheckpoint) -> None:
        points.append(point)
        if stop_after is not None and len(points) >= stop_after:
            stop.set()

    run = asyncio.run(
        run_paper(
            _strategy(),
            exchange,
            backtest_instrument("paper", SWAP),
            _candles(),
            "1h",
            bot=BOT,
            speed=math.inf,
            resume=resume,
            stop=stop,
            checkpoint=keep,
        )
    )
    return run, exchange.trades(), points


def test_a_paper_run_trades_exactly_like_the_backtest() -> None:
    run, trades, points = _paper()
    assert run.finished
    assert run.state is BotState.STOPPED
    assert run.checkpoint.next_index == len(_candles())
    backtest = asyncio.run(
        run_backtest(_strategy(), _exchange(), backtest_instrument("paper", SWAP), _candles(), "1h")
    )
    assert len(trades) > 10
    assert trades == backtest.trades
    assert len(points) > len(trades)  # a checkpoint after every candle that changed anything


@pytest.mark.parametrize("stop_after", [1, 7, 30])
def test_stopping_and_resuming_from_a_checkpoint_changes_nothing(stop_after: int) -> None:
    _, whole, _ = _paper()
    first, _, _ = _paper(stop_after=stop_after)
    assert not first.finished
    resumed_from = PaperCheckpoint.from_json(first.checkpoint.to_json())
    assert resumed_from.next_index < len(_candles())
    second, trades, _ = _paper(resume=resumed_from)
    assert second.finished
    assert trades == whole


def test_the_bot_runs_in_paper_mode_on_the_wall_clock() -> None:
    seen = []

    class Recording(RsiReversal):
        def on_candle(self, ctx, event):  # type: ignore[no-untyped-def]
            seen.append((ctx.mode, time.monotonic()))
            super().on_candle(ctx, event)

    candles = _candles().slice(0, 6)
    strategy = Recording.from_settings({"symbol": SWAP, "timeframe": "1h"})
    asyncio.run(
        run_paper(
            strategy,
            _exchange(),
            backtest_instrument("paper", SWAP),
            candles,
            "1h",
            bot=BOT,
            speed=3600 / 0.1,  # an hour of candles every 0.1 s
        )
    )
    assert [mode for mode, _ in seen] == [RunMode.PAPER] * 6
    gaps = [b - a for (_, a), (_, b) in pairwise(seen)]
    assert min(gaps) > 0.07


def _cli(state: Path, *extra: str) -> list[str]:
    return [
        "--data-dir",
        str(state.parent / "data"),
        "paper",
        "rsi_reversal",
        "--symbol",
        SWAP,
        "--timeframe",
        "1h",
        "--from",
        "2023-01-01",
        "--to",
        "2023-04-01",
        "--json",
        *extra,
    ]


def test_kill_9_at_any_moment_loses_and_doubles_nothing(tmp_path: Path) -> None:
    whole = run_tbhost(*_cli(tmp_path / "whole.json", "--speed", "inf"))
    assert whole.returncode == 0, whole.stderr
    expected = json.loads(whole.stdout)["trades"]
    assert len(expected) > 5

    state = tmp_path / "killed.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("TBHOST_CONFIG", None)
    cmd = [
        sys.executable,
        "-m",
        "tbhost",
        *_cli(state, "--speed", str(3600 * 700), "--state", str(state)),
    ]

    def progress_now() -> int:
        return int(json.loads(state.read_text())["next_index"]) if state.is_file() else 0

    kills = 0
    for delay in (0.05, 0.3, 0.6):  # ~700 candles a second: each kill lands mid-run
        before = progress_now()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while progress_now() == before:  # the run has got past its resume point
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=60)
        progress = json.loads(state.read_text())["next_index"]
        assert 0 < progress < 2160
    assert kills >= 1
    done = run_tbhost(*_cli(state, "--speed", "inf", "--state", str(state)))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["finished"] is True
    assert report["trades"] == expected
    assert Decimal(report["equity"]) == Decimal(json.loads(whole.stdout)["equity"])


def test_a_checkpoint_of_another_run_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    first = run_tbhost(*_cli(state, "--speed", "inf", "--state", str(state)))
    assert first.returncode == 0, first.stderr
    other = run_tbhost(
        *_cli(state, "--speed", "inf", "--state", str(state), "--set", "rsi_length=10")
    )
    assert other.returncode == 1
    assert "checkpoint of a different run" in other.stderr


def test_resuming_with_a_position_open_does_not_enter_again() -> None:
    """A resumed bot must see the venue's open position and orders at once (a fresh process
    knows nothing else): from every checkpoint taken while a position was open, the resumed
    run trades exactly like the uninterrupted one."""
    _, whole, points = _paper()

    def holding(point: PaperCheckpoint) -> bool:
        venue = _exchange()
        venue.restore_state(point.venue_state)
        return any(not p.is_flat for p in asyncio.run(venue.fetch_positions([SWAP])))

    open_points = [p for p in points if holding(p)][:6]
    assert len(open_points) == 6
    for point in open_points:
        resumed = PaperCheckpoint.from_json(point.to_json())
        _, trades, _ = _paper(resume=resumed)
        assert trades == whole, f"resumed at candle {point.next_index}"
