"""tbsdk.testing: the test kit for plugin authors, an opt-in pytest plugin.

Opt in from your ``conftest.py`` (there is no automatic ``pytest11`` registration)::

    pytest_plugins = ["tbsdk.testing"]

That gives the fixtures ``tb_host`` (an :class:`InMemoryHost`), ``btc_1m``, ``btc_5m`` and
``ethbtc_1h`` (real candles). Import the rest from here: :class:`MemoryContext` and
:func:`run_strategy` to drive a strategy, :func:`load_candles`, and the conformance suites
:class:`StrategyConformance` and :class:`ExchangeConformance` to subclass in your tests.
Install with ``pip install "tbsdk[testing]"`` (pytest and pytest-asyncio).

PYTEST_DONT_REWRITE: this module holds no assertions (the suites' modules are rewritten), and the
marker keeps pytest from warning when a test module imports it before ``pytest_plugins`` is read.
"""

from __future__ import annotations

import pytest

# The suites report through plain asserts; have pytest rewrite them even when a test module
# imports this package before pytest processes ``pytest_plugins``.
pytest.register_assert_rewrite(
    "tbsdk.testing._strategy_suite", "tbsdk.testing._exchange_suite", "tbsdk.testing._fixtures"
)

from ._candles import CANDLE_FILES, CandleFile, load_candles, spot_instrument  # noqa: E402
from ._context import (  # noqa: E402
    Cancel,
    Command,
    MemoryContext,
    Replace,
    RequestBacktest,
    SignalRecord,
    Submit,
    Subscription,
)
from ._exchange_suite import ExchangeConformance  # noqa: E402
from ._fixtures import btc_1m, btc_5m, ethbtc_1h, tb_host  # noqa: E402
from ._harness import RunResult, dispatch, run_strategy  # noqa: E402
from ._host import OBSERVER_HOOKS, InMemoryHost  # noqa: E402
from ._strategy_suite import StrategyConformance, check_intent  # noqa: E402

__all__ = [
    "CANDLE_FILES",
    "OBSERVER_HOOKS",
    "Cancel",
    "CandleFile",
    "Command",
    "ExchangeConformance",
    "InMemoryHost",
    "MemoryContext",
    "Replace",
    "RequestBacktest",
    "RunResult",
    "SignalRecord",
    "StrategyConformance",
    "Submit",
    "Subscription",
    "btc_1m",
    "btc_5m",
    "check_intent",
    "dispatch",
    "ethbtc_1h",
    "load_candles",
    "run_strategy",
    "spot_instrument",
    "tb_host",
]
