"""Client ids of grid spec §2, checked against an independent base-36 rendering of SHA-256."""

from __future__ import annotations

import hashlib

import pytest

from tb_strategy_grid.ids import ID_LENGTH, grid_client_id, instance_prefix, symbol_key
from tbsdk.ids import bot_key
from tbsdk.model import CLIENT_ORDER_ID_PATTERN

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _b36(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = ALPHABET[r] + out
    return out or "0"


def _sha_prefix(text: str, width: int) -> str:
    digest = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    return _b36(digest).rjust(50, "0")[:width]


def test_layout_g_bot6_sym3_seq5_tag3_rev2() -> None:
    bot6 = bot_key("acct-1", "grid-7")
    assert bot6 == _sha_prefix("acct-1/grid-7", 6)
    sym3 = symbol_key("BTC/USDT")
    assert sym3 == _sha_prefix("BTC/USDT", 3)
    cid = grid_client_id(bot6, sym3, 1234, "b", 12, 1)
    assert cid == "g" + bot6 + sym3 + "000ya" + "b0c" + "01"  # 1234 = 34·36 + 10
    assert _b36(1234) == "ya"
    assert len(cid) == ID_LENGTH == 20
    assert CLIENT_ORDER_ID_PATTERN.match(cid)
    assert cid.startswith(instance_prefix(bot6, sym3))


def test_ids_differ_by_every_part() -> None:
    bot6, sym3 = bot_key("a", "b"), symbol_key("ETH/USDT")
    base = grid_client_id(bot6, sym3, 7, "s", 3, 0)
    others = {
        grid_client_id(bot6, sym3, 8, "s", 3, 0),
        grid_client_id(bot6, sym3, 7, "b", 3, 0),
        grid_client_id(bot6, sym3, 7, "s", 4, 0),
        grid_client_id(bot6, sym3, 7, "s", 3, 1),
        grid_client_id(bot6, symbol_key("BTC/USDT"), 7, "s", 3, 0),
    }
    assert base not in others
    assert len(others) == 5


@pytest.mark.parametrize(
    ("seq", "letter", "level", "rev"),
    [(36**5, "b", 0, 0), (1, "b", 36**2, 0), (1, "b", 0, 36**2), (1, "q", 0, 0), (-1, "b", 0, 0)],
)
def test_values_that_do_not_fit_are_refused(seq: int, letter: str, level: int, rev: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - base36 and the letter check both raise it
        grid_client_id("abcdef", "xyz", seq, letter, level, rev)
