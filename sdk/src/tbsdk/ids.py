"""Deterministic client order ids.

An id is derived from stable facts (account, bot instance, position sequence, purpose, revision),
never from a clock or a random number, so the same intent always gets the same id. A retry or a
restart re-sends that id and the venue refuses the duplicate instead of opening a second order.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

__all__ = ["base36", "bot_key", "hash36"]

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_PAIRS = 36 * 36
_PAIR_TEXT = tuple(a + b for a in _DIGITS for b in _DIGITS)  # "00" ... "zz"


def base36(value: int, width: int = 0) -> str:
    """``value`` in lowercase base 36, left-padded with zeros to ``width`` characters when given.

    A value needing more than a given ``width`` raises instead of being cut: a truncated id could
    collide with another order's.
    """
    if value < 0:
        raise ValueError(f"base36 needs a non-negative value, got {value}")
    # Two digits per step from a table: ids are built on every order.
    pairs = []
    while value >= _PAIRS:
        value, rem = divmod(value, _PAIRS)
        pairs.append(_PAIR_TEXT[rem])
    text = _PAIR_TEXT[value].lstrip("0") or "0"
    if pairs:
        text += "".join(reversed(pairs))
    if width and len(text) > width:
        raise ValueError(f"{text} does not fit in {width} base-36 digits")
    return text.rjust(width, "0")


def hash36(text: str, width: int) -> str:
    """The first ``width`` base-36 digits of SHA-256(``text``) read as a big-endian integer."""
    digest = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    return base36(digest, 50)[:width]  # 2**256 needs at most 50 base-36 digits


@lru_cache(maxsize=4096)  # called for every order; the same few bots ask again and again
def bot_key(account_id: str, instance_id: str, width: int = 6) -> str:
    """``bot6`` of the strategy specs: the hash of ``account_id + "/" + instance_id``."""
    return hash36(f"{account_id}/{instance_id}", width)
