"""A backtest pauses full garbage collections while it runs and restores the collector's
thresholds afterwards, also when backtests nest or fail."""

from __future__ import annotations

import gc

import pytest

from tbhost.engine.backtest import FULL_COLLECTION_THRESHOLD, _rare_full_collections


def test_full_collections_pause_and_the_thresholds_come_back() -> None:
    before = gc.get_threshold()
    with _rare_full_collections():
        during = gc.get_threshold()
        assert during[:2] == before[:2]  # young collections go on as usual
        assert during[2] >= FULL_COLLECTION_THRESHOLD
        with _rare_full_collections():  # a backtest inside a backtest (ranking)
            assert gc.get_threshold() == during
        assert gc.get_threshold() == during  # the outer one still runs
    assert gc.get_threshold() == before


def test_a_failing_backtest_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), _rare_full_collections():
        raise RuntimeError("strategy exploded")
    assert gc.get_threshold() == before
