"""The files a report writes, from the hand-made backtest: trade list, PNG, HTML."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tbhost.engine.context import ChartLevels
from tbhost.report import summarize, write_trades
from tbhost.report._charts import level_steps
from tbhost.report.html import render_html
from tbhost.report.plot import backtest_figure, plot_backtest
from tbhost.report.trade_list import COLUMNS, iso_utc

from .test_report_metrics import CURVE, T0, TRADES, make_result, trade

NETWORK = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def test_iso_times_are_exact_milliseconds() -> None:
    assert iso_utc(T0) == "2024-01-01T00:00:00.000Z"
    assert iso_utc(T0 + 123) == "2024-01-01T00:00:00.123Z"
    assert iso_utc(1_503_194_400_999) == "2017-08-20T02:00:00.999Z"


def test_csv_has_one_exact_row_per_round_trip(tmp_path: Path) -> None:
    odd = trade("long", "1E+1", "0.00012340", "1E-7", 0, 1, "-1234567.000000001", "0E-8")
    path = write_trades([*TRADES, odd], tmp_path / "t.csv")
    text = path.read_text()
    lines = text.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1] == (
        "BTC/USDT,long,1,2024-01-02T00:00:00.000Z,1704153600000,"
        "2024-01-04T00:00:00.000Z,1704326400000,100,110,9.8,0.2,signal"
    )
    # Decimals in fixed-point notation, every digit kept.
    assert lines[-1].split(",")[2:] == [
        "10", "2024-01-01T00:00:00.000Z", str(T0), "2024-01-01T00:00:00.001Z", str(T0 + 1),
        "0.00012340", "0.0000001", "-1234567.000000001", "0.00000000", "signal",
    ]  # fmt: skip
    assert "\r" not in text
    assert len(lines) == 1 + len(TRADES) + 1
    rows = list(csv.DictReader(text.splitlines()))
    assert [Decimal(r["pnl"]) for r in rows[:-1]] == [t.pnl for t in TRADES]


def test_json_has_the_same_rows(tmp_path: Path) -> None:
    rows = json.loads(write_trades(TRADES, tmp_path / "t.json").read_text())
    assert [list(r) for r in rows] == [list(COLUMNS)] * len(TRADES)
    assert rows[2] == {
        "symbol": "BTC/USDT",
        "direction": "long",
        "qty": "0.5",
        "entry_time": "2024-01-05T06:00:00.000Z",
        "entry_ms": T0 + 4 * 86_400_000 + 6 * 3_600_000,
        "exit_time": "2024-01-05T12:00:00.000Z",
        "exit_ms": T0 + 4 * 86_400_000 + 12 * 3_600_000,
        "entry_price": "108",
        "exit_price": "104",
        "pnl": "-2.1",
        "fees": "0.1",
        "exit_reason": "signal",
    }


def test_trade_list_refuses_other_suffixes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"must end in \.csv or \.json"):
        write_trades(TRADES, tmp_path / "t.txt")


def test_png_has_price_equity_and_drawdown_panels(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    result = make_result(CURVE, TRADES)
    summary = summarize(result)
    fig = backtest_figure(result, summary)
    try:
        _price, equity, drawdown = fig.axes
        assert equity.lines[0].get_ydata().tolist() == CURVE
        assert drawdown.get_ylabel() == "drawdown (%)"
        dd = drawdown.lines[0].get_ydata()
        assert min(dd) == pytest.approx(-summary.max_drawdown_pct)
        assert max(dd) == 0.0
    finally:
        plt.close(fig)
    png = plot_backtest(result, summary, tmp_path / "sub" / "bt.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_strategy_levels_are_drawn_as_steps_until_they_change() -> None:
    import matplotlib.pyplot as plt

    result = make_result(CURVE, TRADES)
    ts = result.candles.ts
    result.levels = [
        ChartLevels(int(ts[0]), "grid", (110.0, 100.0, 90.0)),
        ChartLevels(int(ts[2]), "grid", (95.0, 105.0)),
        ChartLevels(int(ts[1]), "stop", (80.0,)),
    ]
    times, prices = level_steps(result, "grid")
    assert times.tolist() == [ts[0], ts[2], ts[-1]]
    np.testing.assert_array_equal(
        prices, [[90.0, 100.0, 110.0], [95.0, 105.0, np.nan], [95.0, 105.0, np.nan]]
    )
    fig = backtest_figure(result, summarize(result))
    try:
        labels = [line.get_label() for line in fig.axes[0].lines]
        assert (labels.count("grid"), labels.count("stop")) == (1, 1)
        assert len(fig.axes[0].lines) == 1 + 3 + 1  # close, three grid lines, one stop line
    finally:
        plt.close(fig)


def test_html_is_self_contained_with_summary_and_trades() -> None:
    result = make_result(CURVE, TRADES)
    summary = summarize(result)
    page = render_html(result, summary)
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page
    assert "https://" not in page
    assert not NETWORK.search(page)
    assert "<script" not in page
    assert "<link" not in page
    assert page.count("<svg") == 3
    for label, value in summary.rows():
        value = value.replace(">", "&gt;")
        assert f"<tr><th>{label}</th><td>{value}</td></tr>" in page
    pnl_cells = re.findall(r'<td class="num pnl">([^<]*)</td>', page)
    assert pnl_cells == ["9.8", "-4.5", "-2.1", "0"]
    assert page.count('<tr class="trade ') == len(TRADES)
    assert render_html(result, summary) == page  # same inputs, same file


def test_html_without_trades_says_so() -> None:
    result = make_result([1000.0] * 4, [])
    page = render_html(result, summarize(result))
    assert "No closed trades." in page
    assert '<tr class="trade ' not in page
