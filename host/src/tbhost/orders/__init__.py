"""Order management: intents stored before they are sent, tracked through the SDK state
machine, and reconciled with the venue by client order id (see :mod:`.manager`)."""

from __future__ import annotations

from .journal import OrderJournal
from .manager import OrderManager, PositionDiff, ReconcileReport

__all__ = ["OrderJournal", "OrderManager", "PositionDiff", "ReconcileReport"]
