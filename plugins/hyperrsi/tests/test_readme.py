"""The package README is held to the code: every setting is in its tables with its default,
and the example settings file validates."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tb_strategy_hyperrsi import HyperRsiConfig

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_with_its_default() -> None:
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\| `(\w+)` \|[^|]*\| ([^|]*) \|", README, re.M)
    }
    fields = HyperRsiConfig.model_fields
    assert set(rows) == set(fields)
    for name, field in fields.items():
        default = field.default
        shown = rows[name].strip()
        if default is None:
            assert shown == "—", name
        elif isinstance(default, bool):
            assert shown == f"`{str(default).lower()}`", name
        else:
            assert shown == f"`{default}`", name


def test_example_settings_validate() -> None:
    block = re.search(r"```toml\n(.*?)```", README, re.S)
    assert block is not None
    config = HyperRsiConfig.model_validate(tomllib.loads(block.group(1)))
    assert config.use_sl_on_last
    assert "tbhost backtest hyperrsi --symbol BTC/USDT:USDT --timeframe 1h" in README
