"""``tbhost run`` as a process on a SQLite database the test prepares: ``--once`` replays every
running bot to the end; SIGTERM stops it gracefully (exit 0, state saved) and the next run
resumes where it stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tbhost.live import venue_dir
from tbhost.storage import Database
from tbhost.storage.models import BotStatus
from tbhost.storage.repos import bots as bot_repo
from tbhost.storage.repos import states

from .distributions import run_tbhost
from .test_run_kit import END, START, backtest_trades, running_bot, venue_trades

WINDOW = ("--from", START, "--to", END)


def _db(data: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{data / 'tbhost.db'}")


def _prepare(data: Path) -> str:
    """A migrated database under ``data`` with one running rsi_reversal bot; its id."""

    async def go() -> str:
        async with _db(data) as db:
            await db.upgrade()
            bot, _ = await running_bot(db, "rsi")
            return bot.id

    return asyncio.run(go())


def _stored(data: Path, bot_id: str) -> tuple[BotStatus, int]:
    """The bot's stored state and the number of its saved strategy state."""

    async def go() -> tuple[BotStatus, int]:
        async with _db(data) as db, db.transaction() as s:
            row = await bot_repo.require_bot(s, bot_id)
            saved = await states.latest_state(s, bot_id)
            return row.state, saved.seq if saved is not None else 0

    return asyncio.run(go())


def test_run_once_replays_every_running_bot_to_the_end(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bot_id = _prepare(data)
    done = run_tbhost("--data-dir", str(data), "run", "--once", "--speed", "inf", *WINDOW)
    assert done.returncode == 0, done.stderr
    assert f"rsi ({bot_id}): finished at candle" in done.stdout
    assert "started at candle 0" in done.stderr  # the log says what happened
    state, seq = _stored(data, bot_id)
    assert state is BotStatus.STOPPED
    assert seq > 0
    assert venue_trades(data, bot_id) == backtest_trades(data)


def test_run_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    done = run_tbhost("--data-dir", str(tmp_path), "run", "--once")
    assert done.returncode == 1
    assert "tbhost db upgrade" in done.stderr


def test_sigterm_stops_gracefully_and_the_next_run_resumes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bot_id = _prepare(data)
    path = venue_dir(data, bot_id) / "ops.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("TBHOST_CONFIG", None)
    cmd = [sys.executable, "-m", "tbhost", "--data-dir", str(data), "run", "--speed", "360000"]
    proc = subprocess.Popen(
        [*cmd, *WINDOW], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not path.is_file():  # ~100 candles a second: the run lasts ~20 s
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"rsi ({bot_id}): stopped at candle" in out
    state, seq = _stored(data, bot_id)
    assert state is BotStatus.RUNNING  # still wanted running
    assert seq > 0  # its strategy state is saved

    done = run_tbhost("--data-dir", str(data), "run", "--once", "--speed", "inf", *WINDOW)
    assert done.returncode == 0, done.stderr
    assert "resumed at candle" in done.stderr
    assert "finished at candle" in done.stdout
    assert venue_trades(data, bot_id) == backtest_trades(data)
    assert _stored(data, bot_id)[0] is BotStatus.STOPPED


def test_run_serves_the_api_beside_the_bots_and_stops_with_them(tmp_path: Path) -> None:
    import socket
    import urllib.request

    data = tmp_path / "data"
    _prepare(data)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TBHOST_API_PORT": str(port)}
    env.pop("TBHOST_CONFIG", None)
    cmd = [sys.executable, "-m", "tbhost", "--data-dir", str(data), "run", "--speed", "60"]
    proc = subprocess.Popen(
        [*cmd, *WINDOW], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline, health = time.monotonic() + 60, None
        while health is None:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the API never answered"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = r.status
            except OSError:
                time.sleep(0.1)
        assert health == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
            assert r.status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/graphql?query={{me{{id}}}}", timeout=5)
        assert refused.value.code == 401  # no token, no answer
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"API on http://127.0.0.1:{port}/graphql" in err
    assert "rsi (" in out  # the bot stopped gracefully, resumable
