"""How a stored order gets to the status a venue reports: the steps to store, in order."""

from __future__ import annotations

from tbsdk.model import ALLOWED_TRANSITIONS, OrderStatus

__all__ = ["steps_to"]

_S = OrderStatus


def steps_to(old: OrderStatus, new: OrderStatus, sent: bool) -> list[OrderStatus] | None:
    """Statuses to store, in order, to bring ``old`` to ``new``; ``None`` if ``new`` is behind.

    A stored ``new`` order that the venue reports beyond ``submitted`` (it was sent and the
    answer was lost) passes through ``submitted`` first, so its history says it was sent.
    ``sent``: the report comes from the venue (it carries the venue's order id).
    """
    passed_on = new not in (_S.NEW, _S.SUBMITTED)
    if old is _S.NEW and passed_on and (sent or new not in ALLOWED_TRANSITIONS[old]):
        return [_S.SUBMITTED, new] if new in ALLOWED_TRANSITIONS[_S.SUBMITTED] else None
    if new == old or new in ALLOWED_TRANSITIONS[old]:
        return [new]
    return None
