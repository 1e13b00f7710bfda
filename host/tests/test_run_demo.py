"""``tbhost run --demo``: with nothing set up, a demo database, account and two bots (HYPERRSI
and GRID) replay the bundled 1m candles to the end, and the summary says what they did."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from .distributions import run_tbhost

pytestmark = pytest.mark.slow


def test_demo_runs_hyperrsi_and_grid_to_the_end_and_summarises(tmp_path: Path) -> None:
    (tmp_path / "demo" / "paper" / "stale").mkdir(parents=True)  # an older demo's leftovers
    done = run_tbhost("--data-dir", str(tmp_path), "run", "--demo")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Demo summary (USDT)" in done.stdout
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line}
    for name in ("hyperrsi-btc-swap", "grid-btc-spot"):
        assert rows[name][1:3] == ["finished", "7207/7207"], done.stdout
    assert "position_opened" in done.stderr or "entry" in done.stderr  # what happened, logged
    assert not (tmp_path / "demo" / "paper" / "stale").exists()

    with sqlite3.connect(tmp_path / "demo" / "tbhost.db") as db:
        counts = dict(
            db.execute(
                "SELECT b.name, count(o.id) FROM bots b LEFT JOIN orders o ON o.bot_id = b.id "
                "GROUP BY b.name"
            ).fetchall()
        )
        states = dict(db.execute("SELECT name, state FROM bots").fetchall())
    assert counts["hyperrsi-btc-swap"] == int(rows["hyperrsi-btc-swap"][3]) > 10
    assert counts["grid-btc-spot"] == int(rows["grid-btc-spot"][3]) > 100
    assert states == {"hyperrsi-btc-swap": "stopped", "grid-btc-spot": "stopped"}
    assert not (tmp_path / "tbhost.db").exists()  # the user's own database is untouched
