"""``StrategyConformance``: the checks every strategy plugin runs in its own tests.

Subclass it in a test module and provide two fixtures::

    class TestMyStrategy(StrategyConformance):
        @pytest.fixture
        def strategy_class(self) -> type[Strategy[Any]]:
            return MyStrategy

        @pytest.fixture
        def strategy_settings(self) -> dict[str, Any]:
            return {"length": 14}

The strategy runs on bundled BTC/USDT 5m candles by default; override ``conformance_candles``,
``conformance_symbol``, ``conformance_timeframe``, ``conformance_instrument`` or
``conformance_position_mode`` for other markets. Set ``expect_orders = False`` on the subclass if
the strategy legitimately never trades on those candles.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import pydantic
import pytest

from .._version import check_api_version
from ..errors import InvalidOrder
from ..model import CandleArrays, Instrument, OrderIntent, PositionMode, PositionSide
from ..strategy import Strategy, StrategyConfig
from ..timeframes import timeframe_ms
from ._candles import load_candles, spot_instrument
from ._context import Replace, Submit
from ._harness import RunResult, run_strategy

__all__ = ["StrategyConformance", "check_intent"]


def check_intent(
    intent: OrderIntent,
    instrument: Instrument,
    reference_price: Decimal,
    position_mode: PositionMode = PositionMode.ONE_WAY,
) -> None:
    """Raise :class:`~tbsdk.errors.InvalidOrder` if ``intent`` breaks a rule of ``instrument``.

    Sizes must be on the lot step and within the limits; limit and trigger prices on the tick
    grid; the notional (at the limit/trigger price, or ``reference_price`` for market orders)
    above the minimum; ``position_side`` must fit ``position_mode``.
    """
    if intent.symbol != instrument.symbol:
        raise InvalidOrder(
            f"{intent.client_order_id}: symbol {intent.symbol} is not {instrument.symbol}"
        )
    hedge = position_mode is PositionMode.HEDGE
    if hedge == (intent.position_side is PositionSide.NET):
        raise InvalidOrder(
            f"{intent.client_order_id}: position_side {intent.position_side} in a "
            f"{position_mode} account"
        )
    price = intent.price or intent.trigger_price
    if intent.close_position and intent.qty == 0:
        assert price is not None  # the model requires a trigger price here
        if price % instrument.tick(price) != 0:
            raise InvalidOrder(f"{intent.client_order_id}: trigger {price} is off the tick grid")
        return
    instrument.check_order(
        intent.qty, price if price is not None else reference_price, priced=price is not None
    )


class StrategyConformance:
    """Base test class: subclass it (name starting with ``Test``) to run the checks."""

    expect_orders: ClassVar[bool] = True
    """Fail when a run on the conformance candles submits nothing (a silent strategy would
    pass every order check vacuously)."""

    # -- overridable fixtures ----------------------------------------------------------------
    @pytest.fixture
    def conformance_candles(self) -> CandleArrays:
        """Candles to run on: 5 days of BINANCE BTC/USDT 5m."""
        return load_candles("BINANCE_BTC-USDT_5m")

    @pytest.fixture
    def conformance_symbol(self) -> str:
        return "BTC/USDT"

    @pytest.fixture
    def conformance_timeframe(self) -> str:
        return "5m"

    @pytest.fixture
    def conformance_instrument(self, conformance_symbol: str) -> Instrument:
        return spot_instrument(conformance_symbol)

    @pytest.fixture
    def conformance_position_mode(self) -> PositionMode:
        return PositionMode.ONE_WAY

    @pytest.fixture
    def conformance_run(
        self,
        strategy_class: type[Strategy[Any]],
        strategy_settings: dict[str, Any],
        conformance_candles: CandleArrays,
        conformance_symbol: str,
        conformance_timeframe: str,
        conformance_instrument: Instrument,
        conformance_position_mode: PositionMode,
    ) -> Callable[[], RunResult]:
        """A callable running a fresh strategy built from the settings; returns a RunResult."""

        def run() -> RunResult:
            return run_strategy(
                strategy_class.from_settings(strategy_settings),
                conformance_candles,
                conformance_symbol,
                conformance_timeframe,
                conformance_instrument,
                position_mode=conformance_position_mode,
            )

        return run

    # -- declaration -------------------------------------------------------------------------
    def test_declares_a_name(self, strategy_class: type[Strategy[Any]]) -> None:
        name = getattr(strategy_class, "name", None)
        assert isinstance(name, str), f"{strategy_class.__name__} must set name = '<entry point>'"
        assert name, "name must not be empty"
        assert name.strip() == name, f"name {name!r} has surrounding spaces"

    def test_declares_a_compatible_api_version(self, strategy_class: type[Strategy[Any]]) -> None:
        version = getattr(strategy_class, "api_version", None)
        problem = check_api_version(f"strategy {strategy_class.__name__}", version)
        assert problem is None, problem

    # -- config ------------------------------------------------------------------------------
    def test_config_class_is_a_frozen_strategy_config(
        self, strategy_class: type[Strategy[Any]], strategy_settings: dict[str, Any]
    ) -> None:
        cls = strategy_class.config_class
        assert issubclass(cls, StrategyConfig), f"{cls.__name__} must subclass StrategyConfig"
        assert cls.model_config.get("frozen") is True, f"{cls.__name__} must be frozen"
        config = cls.model_validate(strategy_settings)
        field = next(iter(cls.model_fields), None)
        if field is not None:
            with pytest.raises(pydantic.ValidationError):
                setattr(config, field, getattr(config, field))

    def test_config_rejects_unknown_fields(
        self, strategy_class: type[Strategy[Any]], strategy_settings: dict[str, Any]
    ) -> None:
        settings = {**strategy_settings, "tb_conformance_unknown_field": 1}
        with pytest.raises(pydantic.ValidationError, match="tb_conformance_unknown_field"):
            strategy_class.config_class.model_validate(settings)

    def test_default_config_validates(self, strategy_class: type[Strategy[Any]]) -> None:
        # Every field needs a default, so the API and CLI can offer a starting point.
        strategy_class.config_class()

    def test_given_settings_build_the_strategy(
        self, strategy_class: type[Strategy[Any]], strategy_settings: dict[str, Any]
    ) -> None:
        strategy = strategy_class.from_settings(strategy_settings)
        assert isinstance(strategy, strategy_class)
        assert isinstance(strategy.config, strategy_class.config_class)

    def test_every_config_field_has_a_description(
        self, strategy_class: type[Strategy[Any]]
    ) -> None:
        schema = strategy_class.config_class.model_json_schema()
        models = [schema, *schema.get("$defs", {}).values()]
        missing = [
            f"{model.get('title', '?')}.{name}"
            for model in models
            for name, prop in model.get("properties", {}).items()
            if not str(prop.get("description", "")).strip()
        ]
        assert not missing, f"config fields without a description: {', '.join(missing)}"

    # -- state -------------------------------------------------------------------------------
    def _assert_state_roundtrips(
        self, strategy_class: type[Strategy[Any]], settings: dict[str, Any], state: Any
    ) -> None:
        assert isinstance(state, dict), f"save_state() must return a dict, got {type(state)}"
        text = json.dumps(state, allow_nan=False)
        assert json.loads(text) == state, (
            "save_state() is not plain JSON (tuples, non-string keys or Decimals change when "
            "written and read back)"
        )
        fresh = strategy_class.from_settings(settings)
        fresh.load_state(json.loads(text))
        assert fresh.save_state() == state, "load_state(save_state()) does not restore the state"

    def test_initial_state_roundtrips(
        self, strategy_class: type[Strategy[Any]], strategy_settings: dict[str, Any]
    ) -> None:
        state = strategy_class.from_settings(strategy_settings).save_state()
        self._assert_state_roundtrips(strategy_class, strategy_settings, state)

    def test_state_after_a_run_roundtrips(
        self,
        strategy_class: type[Strategy[Any]],
        strategy_settings: dict[str, Any],
        conformance_run: Callable[[], RunResult],
    ) -> None:
        result: RunResult = conformance_run()
        self._assert_state_roundtrips(strategy_class, strategy_settings, result.state)

    # -- behaviour on real candles -----------------------------------------------------------
    def test_runs_on_real_candles_with_valid_orders(
        self,
        conformance_run: Callable[[], RunResult],
        conformance_candles: CandleArrays,
        conformance_timeframe: str,
        conformance_instrument: Instrument,
        conformance_position_mode: PositionMode,
    ) -> None:
        result: RunResult = conformance_run()
        assert result.candles_delivered > 0, "no candle was delivered (warmup too long?)"
        if self.expect_orders:
            assert result.ctx.submitted, (
                "the strategy submitted no order on the conformance candles; set "
                "expect_orders = False if that is intended"
            )
        tf_ms = timeframe_ms(conformance_timeframe)
        for command in result.commands:
            if isinstance(command, Submit | Replace):
                intent = command.intent if isinstance(command, Submit) else command.new
                # The last close known when the order was sent prices a market order.
                stop = int(np.searchsorted(conformance_candles.ts, command.ts - tf_ms, "right"))
                ref = conformance_candles.close[max(stop - 1, 0)]
                try:
                    check_intent(
                        intent,
                        conformance_instrument,
                        Decimal(repr(float(ref))),
                        conformance_position_mode,
                    )
                except InvalidOrder as exc:
                    pytest.fail(f"invalid order at {command.ts}: {exc}")

    def test_two_runs_are_identical(self, conformance_run: Callable[[], RunResult]) -> None:
        first: RunResult = conformance_run()
        second: RunResult = conformance_run()
        assert first.commands == second.commands, "two runs on the same candles differ"
        assert first.signals == second.signals
        assert first.notifications == second.notifications
        assert first.state == second.state

    def test_client_order_ids_are_unique_per_intent(
        self, conformance_run: Callable[[], RunResult]
    ) -> None:
        result: RunResult = conformance_run()
        seen: dict[str, OrderIntent] = {}
        for intent in result.ctx.submitted:
            earlier = seen.setdefault(intent.client_order_id, intent)
            assert earlier == intent, (
                f"client order id {intent.client_order_id} names two different intents:\n"
                f"{earlier!r}\n{intent!r}"
            )
        for command in result.commands:
            if isinstance(command, Replace):
                assert command.new.client_order_id != command.old_client_order_id, (
                    f"replace must use a new revision id, reused {command.old_client_order_id}"
                )
