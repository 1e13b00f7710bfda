"""``tbhost backtest`` report options, run as a user runs them: in a fresh process."""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from .distributions import run_tbhost

RANGE = ("--from", "2023-01-01", "--to", "2023-03-01")
NETWORK = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One data directory for the module, so the bundled candles are imported once."""
    return str(tmp_path_factory.mktemp("data"))


def backtest(
    data_dir: str, *args: str, sets: tuple[str, ...] = ("--set", "fast=5", "--set", "slow=20")
) -> subprocess.CompletedProcess[str]:
    return run_tbhost(
        "--data-dir", data_dir, "backtest", "sma_cross", "--symbol", "BTC/USDT",
        "--timeframe", "1h", *RANGE, *sets, *args,
    )  # fmt: skip


def test_json_has_every_metric(data_dir: str) -> None:
    result = backtest(data_dir, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    summary = report["summary"]
    for key in (
        "net_pnl", "return_pct", "cagr_pct", "max_drawdown", "max_drawdown_pct",
        "max_drawdown_days", "max_drawdown_candles", "sharpe", "sortino", "calmar",
        "win_rate_pct", "profit_factor", "expectancy", "expectancy_r", "trades", "exposure_pct",
        "avg_holding_hours", "fees", "best_trade", "worst_trade", "buy_and_hold_pct",
    ):  # fmt: skip
        assert summary[key] is not None, key
    # The trade metrics agree exactly with the trades printed beside them.
    pnls = [Decimal(t["pnl"]) for t in report["trades"]]
    assert summary["trades"] == len(pnls) > 3
    assert Decimal(summary["expectancy"]) == sum(pnls, Decimal(0)) / len(pnls)
    assert Decimal(summary["fees"]) == sum(Decimal(t["fees"]) for t in report["trades"])
    assert (Decimal(summary["best_trade"]), Decimal(summary["worst_trade"])) == (
        max(pnls),
        min(pnls),
    )
    assert summary["wins"] == sum(p > 0 for p in pnls)
    assert 0 < summary["exposure_pct"] < 100


def test_trade_list_is_reproducible_and_matches_the_backtest(data_dir: str, tmp_path: Path) -> None:
    runs = []
    for name in ("a.csv", "b.csv", "a.json", "b.json"):
        result = backtest(data_dir, "--trades", str(tmp_path / name), "--json")
        assert result.returncode == 0, result.stderr
        runs.append(json.loads(result.stdout)["trades"])
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    trades = runs[0]
    assert len(trades) > 3
    rows = list(csv.DictReader((tmp_path / "a.csv").read_text().splitlines()))
    assert json.loads((tmp_path / "a.json").read_text()) == [
        {**r, "entry_ms": int(r["entry_ms"]), "exit_ms": int(r["exit_ms"])} for r in rows
    ]
    assert len(rows) == len(trades)
    for row, t in zip(rows, trades, strict=True):
        assert (Decimal(row["pnl"]), Decimal(row["fees"])) == (
            Decimal(t["pnl"]),
            Decimal(t["fees"]),
        )
        assert (int(row["entry_ms"]), int(row["exit_ms"])) == (t["opened_at"], t["closed_at"])
        assert Decimal(row["entry_price"]) == Decimal(t["entry_price"])


def test_trade_list_suffix_is_checked_before_running(data_dir: str, tmp_path: Path) -> None:
    result = backtest(data_dir, "--trades", str(tmp_path / "t.xlsx"))
    assert result.returncode == 2
    assert "must end in .csv or .json" in result.stderr


def test_html_report_is_self_contained(data_dir: str, tmp_path: Path) -> None:
    page_path = tmp_path / "report.html"
    result = backtest(data_dir, "--html", str(page_path), "--trades", str(tmp_path / "t.json"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == f"HTML report written to {page_path}"
    page = page_path.read_text()
    assert "http://" not in page
    assert "https://" not in page
    assert not NETWORK.search(page)
    # Every row of the text summary is in the page's summary table.
    for line in lines:
        if line.endswith(" written to " + line.rpartition(" written to ")[2]):
            continue
        label, value = re.split(r"\s{2,}", line, maxsplit=1)
        assert f"<tr><th>{label}</th><td>{value.replace('>', '&gt;')}</td></tr>" in page, line
    trades = json.loads((tmp_path / "t.json").read_text())
    assert page.count('<tr class="trade ') == len(trades) > 3
    cells = re.findall(r'<td class="num pnl">([^<]*)</td>', page)
    assert cells == [t["pnl"] for t in trades]


def test_config_file_toml_or_json_and_set_wins(data_dir: str, tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text("fast = 50\nslow = 10\n")
    bad = backtest(data_dir, "--config", str(toml), sets=())
    assert bad.returncode == 1
    assert "fast (50) must be shorter than slow (10)" in bad.stderr
    js = tmp_path / "s.json"
    js.write_text('{"fast": 40, "slow": 12}')
    bad_json = backtest(data_dir, "--config", str(js), "--set", "slow=11", sets=())
    assert "fast (40) must be shorter than slow (11)" in bad_json.stderr
    fixed = backtest(data_dir, "--config", str(js), "--set", "fast=3", "--json", sets=())
    assert fixed.returncode == 0, fixed.stderr
    old = backtest(data_dir, "--settings", str(js))
    assert old.returncode == 2
    assert "--settings was renamed: use --config FILE" in old.stderr


def test_help_names_the_new_options() -> None:
    result = run_tbhost("backtest", "--help")
    assert result.returncode == 0, result.stderr
    for option in ("--config FILE", "--set KEY=VALUE", "--trades FILE", "--html FILE", "--plot"):
        assert option in result.stdout
    assert "--settings" not in result.stdout


def _run_with_tty_stderr(*args: str) -> tuple[int, str, str]:
    """Run tbhost with stderr on a pseudo-terminal (stdout piped); return code, out, err."""
    main, sub = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "TBHOST_CONFIG"}
    env.update(COLUMNS="100", TERM="xterm")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tbhost", *args], stdout=subprocess.PIPE, stderr=sub, env=env
    )
    os.close(sub)
    chunks: list[bytes] = []

    def drain() -> None:  # a full pty buffer would block the child
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO once the child closed its end
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    out, _ = proc.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(main)
    return proc.returncode, out.decode(), b"".join(chunks).decode(errors="replace")


def test_progress_bar_only_on_a_terminal_without_json(data_dir: str) -> None:
    args = ("--data-dir", data_dir, "backtest", "sma_cross", "--symbol", "BTC/USDT")
    args += ("--timeframe", "1h", *RANGE)
    code, out, err = _run_with_tty_stderr(*args)
    assert code == 0, err
    assert "sma_cross BTC/USDT 1h" in err
    assert "1416/1416" in err  # Jan + Feb 2023, hourly
    assert "1416/1416" not in out
    for hidden in ("--json", "--no-progress"):
        code, out, err = _run_with_tty_stderr(*args, hidden)
        assert code == 0, err
        assert "/1416" not in err
    piped = run_tbhost(*args)
    assert piped.returncode == 0, piped.stderr
    assert "/1416" not in piped.stderr
