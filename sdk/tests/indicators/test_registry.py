"""The indicator registry (IndicatorRegistrar protocol)."""

from __future__ import annotations

import numpy as np
import pytest

from tbsdk import indicators as ind
from tbsdk.errors import ConfigError
from tbsdk.registrars import IndicatorRegistrar


def test_builtins_are_registered_under_tbsdk() -> None:
    reg = ind.IndicatorRegistry()
    for name in ("sma", "ema", "rma", "wma", "rsi", "atr", "true_range", "bollinger", "stdev",
                 "jma", "t3", "vidya", "rqk", "pivothigh", "pivotlow", "adx", "er",
                 "er_adaptive", "crossover", "crossunder", "rising", "falling", "highest",
                 "lowest", "change", "bollinger_width"):  # fmt: skip
        assert name in reg
        assert reg.get(name).owner == ind.BUILTIN_OWNER
    spec = reg.get("rsi")
    x = np.linspace(1, 50, 60)
    assert np.array_equal(spec.vectorised(x, 14), ind.rsi(x, 14), equal_nan=True)
    assert isinstance(spec.streaming(14), ind.RSI)


def test_clash_names_the_owner() -> None:
    reg = ind.IndicatorRegistry()
    registrar: IndicatorRegistrar = reg.registrar_for("my-plugin")
    registrar.add_indicator("my_ma", ind.sma, ind.SMA, "a plugin's moving average")
    assert reg.get("my_ma").owner == "my-plugin"
    with pytest.raises(ConfigError, match="already registered by 'tbsdk'"):
        registrar.add_indicator("rsi", ind.rsi, ind.RSI)
    with pytest.raises(ConfigError, match="already registered by 'my-plugin'"):
        reg.registrar_for("other").add_indicator("my_ma", ind.sma, ind.SMA)


def test_malformed_registrations_are_refused() -> None:
    reg = ind.IndicatorRegistry(builtins=False)
    assert len(reg) == 0
    registrar = reg.registrar_for("p")
    with pytest.raises(ConfigError, match="lower-case identifier"):
        registrar.add_indicator("Bad Name", ind.sma, ind.SMA)
    with pytest.raises(ConfigError, match="not callable"):
        registrar.add_indicator("x", 3, ind.SMA)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="must be a class"):
        registrar.add_indicator("x", ind.sma, ind.SMA(3))  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no indicator 'x'"):
        reg.get("x")
