"""One strategy, three ways to run it, the same orders (hyperrsi spec §17, brief acceptance):

* table mode (``candle_filter``: vectorised indicators, only the candles that matter) against
  streaming mode (every candle, streaming indicators as in paper and live);
* an uninterrupted run against one restarted at 20 points (``on_stop(SHUTDOWN)``, state through
  JSON, a new instance, ``load_state``, ``on_start``), in both modes.

On real candles with the trend state on (defaults), and with settings that exercise DCA,
stop-loss, the TP1 trailing start and the short side.
"""

from __future__ import annotations

from typing import Any

import pytest

from tbhost.engine.backtest import BacktestResult

HOURLY = "BINANCE_BTC-USDT_1h_2019-2020.csv.gz"
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "dca_sl_tp1": {
        "use_sl": True,
        "sl_value": 8,
        "trailing_start_point": "tp1",
        "pyramiding_value": "1.5",
        "entry_criterion": "last_entry",
        "entry_option": "inflection",
    },
    "no_rsi_dca_atr": {
        "use_rsi_with_pyramiding": False,
        "pyramiding_entry_type": "atr",
        "pyramiding_value": 2,
        "tp_option": "atr",
        "tp1_value": 1,
        "tp2_value": 2,
        "tp3_value": 3,
        "trailing_stop_type": "tp2_tp3_difference",
    },
}


def _orders(hr: Any, result: BacktestResult) -> list[tuple[Any, ...]]:
    return [(*hr.shape(o), o.status, o.filled_qty, o.avg_fill_price) for o in result.orders]


@pytest.fixture(scope="module")
def hourly(hr: Any) -> Any:
    return hr.candles(HOURLY).slice(0, 2500)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_table_and_streaming_give_the_same_orders(hr: Any, hourly: Any, variant: str) -> None:
    settings = VARIANTS[variant]
    table = hr.run(hourly, "1h", settings)
    stream = hr.run(hourly, "1h", settings, use_filter=False)
    assert len(table.trades) >= 10, "the window must trade"
    assert _orders(hr, table) == _orders(hr, stream)
    assert table.trades == stream.trades
    assert table.end_equity == stream.end_equity
    for key in ("position", "tps", "stop", "trailing", "cooldown_until", "seq", "orders"):
        assert table.strategy_state[key] == stream.strategy_state[key], key


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_restarts_at_20_points_give_the_same_trades(hr: Any, hourly: Any, variant: str) -> None:
    settings = VARIANTS[variant]
    whole = hr.run(hourly, "1h", settings)
    # 20 points spread over the run, several of them inside open positions.
    points = [int(k) for k in range(117, len(hourly), len(hourly) // 20)][:20]
    assert len(points) == 20
    restarted = hr.run(hourly, "1h", settings, restart_at=points)
    assert restarted.trades == whole.trades
    assert _orders(hr, restarted) == _orders(hr, whole)


def test_restarts_in_streaming_mode_restore_the_indicators(hr: Any, hourly: Any) -> None:
    """Without the table the restarted instance continues from the saved stream states."""
    part = hourly.slice(0, 1200)
    whole = hr.run(part, "1h", {}, use_filter=False)
    points = list(range(150, 1200, 55))[:20]
    restarted = hr.run(part, "1h", {}, use_filter=False, restart_at=points)
    assert restarted.trades == whole.trades
    assert _orders(hr, restarted) == _orders(hr, whole)
    assert restarted.strategy_state["indicators"] == whole.strategy_state["indicators"]
    assert whole.strategy_state["indicators"]["trend"] is not None


def test_a_4h_chart_runs_on_1h_candles_with_its_1h_bb_timeframe(hr: Any) -> None:
    """Charts of 4h and above need the 1h BB timeframe (spec §7.1), below the chart's: the
    backtest replays 1h candles and the engine resamples the 4h chart from them."""
    candles = hr.candles(HOURLY)
    table = hr.run(candles, "1h", {"timeframe": "4h"})
    stream = hr.run(candles, "1h", {"timeframe": "4h"}, use_filter=False)
    assert len(table.trades) >= 3, "the window must trade"
    assert _orders(hr, table) == _orders(hr, stream)
    four_hours = 4 * 3_600_000
    # Entries are decided on 4h closes only: each is sent at a 4h boundary.
    entries = [o for o in table.orders if o.intent.tag == "entry"]
    assert entries
    assert all(o.created_at % four_hours == 0 for o in entries)


def test_hedge_table_and_streaming_give_the_same_orders(hr: Any) -> None:
    """With a hedge the table run sees the bars whose close reaches the hedge take-profit, as a
    run that sees every candle does (§15.3 closes the hedge at market there): the same orders,
    hedge market closes included."""
    part = hr.candles(HOURLY).slice(0, 1500)
    settings = {
        "use_dual_side_entry": True,
        "dual_side_entry_trigger": 2,
        "pyramiding_value": "1",
        "dual_side_entry_tp_trigger_type": "percent",
    }
    table = hr.run(part, "1h", settings, hedge=True)
    stream = hr.run(part, "1h", settings, hedge=True, use_filter=False)
    closes = [o for o in table.orders if o.intent.tag == "hedge_exit"]
    assert closes, "the window must close a hedge at market"
    assert _orders(hr, table) == _orders(hr, stream)
    assert table.trades == stream.trades
