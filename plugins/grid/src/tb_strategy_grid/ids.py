"""Client order ids of the grid strategy (grid spec §2).

``g`` + ``bot6`` + ``sym3`` + ``seq5`` + ``tag3`` + ``rev2``: 20 lowercase base-36 characters.
Every part is derived from stable facts, so the same order always gets the same id and a
restarted bot re-sends an id the venue already knows instead of doubling the order.
"""

from __future__ import annotations

from functools import lru_cache

from tbsdk.ids import base36, hash36

__all__ = ["ID_LENGTH", "ID_PREFIX", "LETTERS", "grid_client_id", "instance_prefix", "symbol_key"]

ID_PREFIX = "g"
"""First character of every grid client id."""

ID_LENGTH = 20
"""``g`` + bot6 + sym3 + seq5 + tag3 + rev2."""

LETTERS = frozenset("bstxki")
"""``b``/``s`` buy/sell entry or classic level order, ``t`` take-profit, ``x`` market exit,
``k`` stop, ``i`` classic initial market order (grid spec §2)."""


@lru_cache(maxsize=1024)
def symbol_key(symbol: str) -> str:
    """``sym3``: the first three base-36 digits of SHA-256(symbol)."""
    return hash36(symbol, 3)


def instance_prefix(bot6: str, sym3: str) -> str:
    """The part shared by every order of one bot instance on one symbol (``g`` + bot6 + sym3);
    reconciliation treats unknown orders with this prefix as the instance's own."""
    return f"{ID_PREFIX}{bot6}{sym3}"


@lru_cache(maxsize=8192)  # reconciliation asks for every level's id after each fill
def grid_client_id(bot6: str, sym3: str, seq: int, letter: str, level: int, rev: int) -> str:
    """The client id of grid spec §2.

    ``seq`` is the per-symbol order counter (5 base-36 digits), ``letter`` the purpose,
    ``level`` the level or rung index (2 digits) and ``rev`` the revision (2 digits, +1 per
    replacement or retry). A value too large for its width raises rather than being cut: a
    truncated id could name another order.
    """
    if len(bot6) != 6 or len(sym3) != 3:
        raise ValueError(f"bot6 {bot6!r} / sym3 {sym3!r} must be 6 / 3 characters")
    if letter not in LETTERS:
        raise ValueError(f"unknown order letter {letter!r}; expected one of {sorted(LETTERS)}")
    return f"{ID_PREFIX}{bot6}{sym3}{base36(seq, 5)}{letter}{base36(level, 2)}{base36(rev, 2)}"
