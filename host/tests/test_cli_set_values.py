"""``--set KEY=VALUE`` and ``--config FILE`` values reach the strategy exactly: a decimal
number is a ``Decimal`` of its digits, never the float nearest to it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click
import pytest

from tbhost.cli.simulation import _strategy_settings


def test_set_values_are_json_with_exact_decimals_and_plain_text_otherwise() -> None:
    got = _strategy_settings(
        None, ("take_profit=0.1", "length=14", "long=true", "side = short", 'tags=["a", 1.5]')
    )
    assert got == {
        "take_profit": Decimal("0.1"),
        "length": 14,
        "long": True,
        "side": "short",
        "tags": ["a", Decimal("1.5")],
    }
    assert type(got["take_profit"]) is Decimal
    assert type(got["length"]) is int


@pytest.mark.parametrize(
    ("name", "text"),
    [("s.toml", "fee = 0.0005\nlength = 14\n"), ("s.json", '{"fee": 0.0005, "length": 14}')],
)
def test_config_files_keep_decimals_exact_and_set_overrides_them(
    tmp_path: Path, name: str, text: str
) -> None:
    file = tmp_path / name
    file.write_text(text)
    assert _strategy_settings(file, ("length=21",)) == {"fee": Decimal("0.0005"), "length": 21}


def test_a_set_without_a_key_is_refused_with_its_text() -> None:
    with pytest.raises(click.BadParameter, match="'=3' is not KEY=VALUE"):
        _strategy_settings(None, ("=3",))
