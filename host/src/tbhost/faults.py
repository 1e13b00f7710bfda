"""Fail points: named places where a crash test can have the process killed.

Off unless ``TBHOST_FAILPOINTS`` is set (then one dictionary lookup per call). Its value is
``name=N[,name=N...]``: the process sends itself SIGKILL the N-th time it passes ``name``, so a
test can kill the host exactly between two steps that a random kill would rarely split (an
intent stored but not sent; an order accepted by the venue but not yet recorded).

The names, where they are:

* ``orders.stored``: the order manager committed an intent; the exchange has not been called.
* ``venue.accepted``: the paper venue applied and logged an order or cancel; the caller has not
  seen the answer.
* ``venue.candle``: the paper venue matched a candle and logged it; nobody has seen its fills.
* ``orders.recorded``: the order manager committed the venue's answer to an order.
* ``state.saved``: a bot's strategy checkpoint was committed.
"""

from __future__ import annotations

import os
import signal

__all__ = ["failpoint"]


def _parse(spec: str | None) -> dict[str, int]:
    targets: dict[str, int] = {}
    for part in (spec or "").split(","):
        if part.strip():
            name, _, count = part.partition("=")
            targets[name.strip()] = int(count or "1")
    return targets


_TARGETS = _parse(os.environ.get("TBHOST_FAILPOINTS"))
_HITS: dict[str, int] = {}


def failpoint(name: str) -> None:
    """Count a pass through ``name``; SIGKILL this process on the configured pass."""
    if not _TARGETS or name not in _TARGETS:
        return
    _HITS[name] = hits = _HITS.get(name, 0) + 1
    if hits == _TARGETS[name]:
        os.kill(os.getpid(), signal.SIGKILL)
