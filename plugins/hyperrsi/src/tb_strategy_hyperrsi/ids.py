"""Client order ids (hyperrsi spec §3.3): ``h`` + bot6 + seq5 + tag3 + rev2, 17 characters.

* ``bot6``: :func:`tbsdk.ids.bot_key` of the account id and the bot instance id;
* ``seq5``: position sequence, one per initial-entry attempt (hedge orders share it);
* ``tag3``: the order's purpose (:data:`TAGS`);
* ``rev2``: 0 for the first order with that (seq, tag), +1 for every later one (replacements,
  retries).

Every part is derived from persisted facts, never from a clock, so a restart re-sends the same
id and the venue refuses a duplicate instead of opening a second order.
"""

from __future__ import annotations

import re

from tbsdk.ids import base36, bot_key

__all__ = [
    "ID_LENGTH",
    "MAX_REVISION",
    "MAX_SEQ",
    "TAGS",
    "ClientId",
    "bot6_of",
    "client_id",
    "dca_tag",
    "hedge_entry_tag",
    "parse_client_id",
    "tp_tag",
]

ID_LENGTH = 17
MAX_REVISION = 36**2 - 1
"""Largest revision two base-36 digits hold."""
MAX_SEQ = 36**5 - 1

TAGS: dict[str, str] = {
    "ent": "entry",
    **{f"d{k:02d}": "dca" for k in range(1, 10)},
    **{f"tp{k}": f"tp{k}" for k in (1, 2, 3)},
    "stp": "stop",
    "xtc": "exit_trend",
    "xtr": "exit_trailing",
    "xrs": "exit_residual",
    "xmn": "exit_manual",
    **{f"he{k}": "hedge_entry" for k in range(1, 10)},
    "htp": "hedge_tp",
    "hsl": "hedge_sl",
    "hxc": "hedge_exit",
}
"""Every tag3 of §3.3 and the purpose (``OrderIntent.tag``, §3.2) it stands for."""

_ID = re.compile(r"^h([0-9a-z]{6})([0-9a-z]{5})([0-9a-z]{3})([0-9a-z]{2})$")


def dca_tag(k: int) -> str:
    """``d01`` … ``d09``: the tag of DCA number ``k``."""
    return f"d{k:02d}"


def tp_tag(level: int) -> str:
    return f"tp{level}"


def hedge_entry_tag(n: int) -> str:
    return f"he{n}"


def client_id(bot6: str, seq: int, tag: str, rev: int) -> str:
    """The 17-character id; raises ``ValueError`` for an unknown tag or a part that overflows."""
    if tag not in TAGS:
        raise ValueError(f"unknown order tag {tag!r}")
    if len(bot6) != 6:
        raise ValueError(f"bot6 must be 6 characters, got {bot6!r}")
    return f"h{bot6}{base36(seq, 5)}{tag}{base36(rev, 2)}"


def bot6_of(account_id: str, bot_id: str) -> str:
    return bot_key(account_id, bot_id)


class ClientId:
    """The parts of one of this plugin's ids."""

    __slots__ = ("bot6", "rev", "seq", "tag")

    def __init__(self, bot6: str, seq: int, tag: str, rev: int) -> None:
        self.bot6, self.seq, self.tag, self.rev = bot6, seq, tag, rev


def parse_client_id(cid: str) -> ClientId | None:
    """The parts of ``cid``, or None when it is not a HYPERRSI id."""
    found = _ID.match(cid)
    if found is None or found.group(3) not in TAGS:
        return None
    bot6, seq, tag, rev = found.groups()
    return ClientId(bot6, int(seq, 36), tag, int(rev, 36))
