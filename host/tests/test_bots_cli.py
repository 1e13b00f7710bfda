"""`tbhost accounts` and `tbhost bots` drive the service layer from the command line, and
`tbhost run` runs what they started: the whole local workflow, as real processes on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

from .distributions import run_tbhost


def test_create_start_run_and_list_a_bot_from_the_command_line(tmp_path: Path) -> None:
    env = {"TBHOST_DATA_DIR": str(tmp_path)}

    def tb(*args: str) -> str:
        done = run_tbhost(*args, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    tb("db", "upgrade")
    account = json.loads(tb("accounts", "add", "demo", "--balance", "5000", "--json"))
    assert account["exchange"] == "paper"
    assert account["has_credentials"] is False
    common = ["--strategy", "rsi_reversal", "--account", account["id"]]
    market = ["--symbol", "BTC/USDT:USDT", "--timeframe", "1h"]

    bad = run_tbhost("bots", "create", "bad", *common, *market, "--set", "rsi_length=1", env=env)
    assert bad.returncode == 1
    assert "rsi_length" in bad.stderr
    assert "Traceback" not in bad.stderr

    bot = json.loads(tb("bots", "create", "rsi", *common, *market, "--json"))
    assert bot["state"] == "created"
    assert "is running" in tb("bots", "start", "rsi")
    again = run_tbhost("bots", "create", "rsi2", *common, *market, env=env)
    assert again.returncode == 1  # one bot per account and symbol
    assert "Traceback" not in again.stderr

    ran = tb("run", "--once", "--speed", "inf", "--from", "2024-03-01")
    assert f"rsi ({bot['id']}): finished at candle" in ran
    [listed] = json.loads(tb("bots", "list", "--json"))
    assert (listed["name"], listed["state"]) == ("rsi", "stopped")
    assert "deleted" in tb("bots", "delete", "rsi")
    assert json.loads(tb("bots", "list", "--json")) == []
