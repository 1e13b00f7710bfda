"""Refusals with a normalised reason, so hosts can report ``on_order_rejected(reason)``.

They subclass the SDK errors (:class:`~tbsdk.errors.InvalidOrder`,
:class:`~tbsdk.errors.InsufficientFunds`), so callers that only know the SDK still catch them.
"""

from __future__ import annotations

from tbsdk.errors import InsufficientFunds, InvalidOrder, TbError
from tbsdk.model import RejectReason

__all__ = ["PaperInsufficientFunds", "PaperInvalidOrder", "reject_reason_of"]


class PaperInvalidOrder(InvalidOrder):
    """The paper venue refused an order; ``reject_reason`` says why in normalised form."""

    def __init__(self, message: str, reason: RejectReason = RejectReason.OTHER) -> None:
        super().__init__(message)
        self.reject_reason = reason


class PaperInsufficientFunds(InsufficientFunds):
    """Not enough free balance or margin; ``reject_reason`` is ``insufficient_margin``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.reject_reason = RejectReason.INSUFFICIENT_MARGIN


def reject_reason_of(error: TbError) -> RejectReason:
    """The normalised reason of a refusal raised by this package (``other`` for anything else)."""
    if isinstance(error, PaperInvalidOrder | PaperInsufficientFunds):
        return error.reject_reason
    if isinstance(error, InsufficientFunds):
        return RejectReason.INSUFFICIENT_MARGIN
    return RejectReason.OTHER
