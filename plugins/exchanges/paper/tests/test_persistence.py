"""save() / restore(): the whole state survives JSON and resumes identically."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest

from tb_exchange_paper import PaperConfig, PaperEngine
from tbsdk.errors import ConfigError
from tbsdk.model import MarginMode, PositionMode

CANDLES = [(100, 103, 97, 102), (102, 104, 95, 96), (96, 99, 93, 98), (98, 108, 97, 107)]


def _busy_venue(make_venue: Any) -> Any:
    v = make_venue()
    v.engine.set_position_mode(PositionMode.HEDGE)
    v.engine.set_leverage(v.symbol, D(10), MarginMode.ISOLATED)
    v.buy("l1", 10, type="market", position_side="long")
    v.sell("h1", 4, type="market", position_side="short")
    v.candle(100, 101, 99, 100)
    v.sell("tp", 10, price="106", position_side="long", tag="tp1")
    v.sell("sl", 0, type="stop_market", trigger="94", position_side="long", close_position=True)
    v.buy("dca", 5, price="96", position_side="long")
    v.buy("m1", 2, type="market", position_side="short")
    return v


def test_save_is_json_and_restore_resumes_identically(make_venue: Any) -> None:
    v = _busy_venue(make_venue)
    data = json.loads(json.dumps(v.engine.save()))
    assert isinstance(data["wallet"]["USDT"], str)

    twin = PaperEngine(v.engine.config)
    twin.restore(data)
    assert twin.save() == data
    assert twin.balances() == v.engine.balances()
    assert twin.positions() == v.engine.positions()
    assert twin.open_orders() == v.engine.open_orders()

    for i, candle in enumerate(CANDLES):
        a = v.engine.process_candle(v.symbol, 10 + i, *candle)
        b = twin.process_candle(v.symbol, 10 + i, *candle)
        assert a == b
    assert twin.trades == v.engine.trades
    assert twin.save() == v.engine.save()


def test_restore_refuses_another_format() -> None:
    engine = PaperEngine(PaperConfig())
    with pytest.raises(ConfigError, match="version"):
        engine.restore({"version": 99})
