"""Fixtures for the indicator tests: the real candle files copied into ``data/``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# pytest runs with --import-mode=importlib, so make the helper module beside this file importable.
sys.path.insert(0, str(Path(__file__).parent))

from indicator_support import FILES, Candles, load


@pytest.fixture(params=FILES)
def candles(request: pytest.FixtureRequest) -> Candles:
    """Every copied candle file in turn."""
    return load(str(request.param))
