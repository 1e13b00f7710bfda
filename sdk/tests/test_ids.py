"""Client-id digits: ``base36`` is Python's own base-36 reading backwards, padded to a width and
never cut; ``hash36`` is stable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tbsdk.ids import base36, hash36


@given(st.integers(min_value=0, max_value=36**20))
def test_base36_reads_back_as_the_same_number(value: int) -> None:
    text = base36(value)
    assert int(text, 36) == value
    assert text == "0" or not text.startswith("0")
    assert text == text.lower()


@pytest.mark.parametrize(
    ("value", "width", "text"),
    [(0, 0, "0"), (0, 2, "00"), (35, 2, "0z"), (36, 2, "10"), (1295, 2, "zz"),
     (1296, 5, "00100"), (46655, 3, "zzz"), (36**5 - 1, 5, "zzzzz")],
)  # fmt: skip
def test_base36_pads_to_the_width(value: int, width: int, text: str) -> None:
    assert base36(value, width) == text


def test_base36_refuses_what_does_not_fit_or_is_negative() -> None:
    with pytest.raises(ValueError, match="does not fit in 2"):
        base36(1296, 2)
    with pytest.raises(ValueError, match="non-negative"):
        base36(-1)


def test_hash36_is_the_sha256_prefix() -> None:
    # SHA-256("BTC/USDT") read as a big-endian integer, in base 36, first digits.
    import hashlib

    digest = int.from_bytes(hashlib.sha256(b"BTC/USDT").digest(), "big")
    full = ""
    while digest:
        digest, rem = divmod(digest, 36)
        full = "0123456789abcdefghijklmnopqrstuvwxyz"[rem] + full
    assert hash36("BTC/USDT", 3) == full.rjust(50, "0")[:3]
