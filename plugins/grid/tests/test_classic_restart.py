"""A restarted classic grid continues exactly (grid spec §6): stopping the bot at 20 points of
a backtest (``on_stop(SHUTDOWN)``, ``save_state`` through JSON, a new instance, ``load_state``,
``on_start``) gives the same orders, fills and state as one uninterrupted run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from classic_kit import BTC_SPOT, BTC_SWAP, backtest, btc_5m, btc_range, run_record

from tb_strategy_grid.strategy import Grid
from tbsdk.model import Instrument

CANDLES = btc_5m()
RESTARTS = [int(i) for i in np.linspace(3, len(CANDLES) - 3, 20).round()]


@pytest.mark.parametrize(
    ("inst", "over"),
    [
        # waits for the range, trades it, trails up to the limit
        (BTC_SPOT, {"trailing_up": True, "trailing_up_limit_price": "68000"}),
        # futures short, geometric, exits at its stop
        (BTC_SWAP, {"mode": "geometric", "direction": "short", "upper_price": "67000",
                    "exit_upper_price": "67500"}),
        # neutral futures, equal quote sizes
        (BTC_SWAP, {"direction": "neutral", "order_size_mode": "equal_quote", "leverage": 2}),
    ],
)  # fmt: skip
def test_restarts_at_20_points_change_nothing(inst: Instrument, over: dict[str, Any]) -> None:
    config = btc_range(inst, **over)
    whole = backtest(config, CANDLES, inst, "5m")
    restarted = backtest(config, CANDLES, inst, "5m", restart_at=RESTARTS)
    assert len(RESTARTS) == len(set(RESTARTS)) == 20
    assert len(whole.fills) > 20
    assert run_record(restarted) == run_record(whole)


class _Amnesiac(Grid):
    """Control: a grid that ignores its saved state, as a broken restart would."""

    def load_state(self, state: dict[str, Any]) -> None:
        pass


def test_the_restart_comparison_catches_a_lost_state() -> None:
    config = btc_range(BTC_SPOT)
    whole = backtest(config, CANDLES, BTC_SPOT, "5m")
    broken = backtest(config, CANDLES, BTC_SPOT, "5m", restart_at=RESTARTS, grid_class=_Amnesiac)
    assert run_record(broken) != run_record(whole)
