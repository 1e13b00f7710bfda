"""Cancellations that a library turned into another exception.

A task cancelled inside a SQLAlchemy asyncio statement can end with an ordinary exception
instead of ``CancelledError``: the ``CancelledError`` interrupts the driver call, and the
clean-up that follows (the pool invalidating the connection) raises ``MissingGreenlet``. A
loop that carries on after ``except Exception`` (a periodic check, a poll) then swallows the
cancellation and never ends, and whoever awaits it after cancelling it waits for ever.
"""

from __future__ import annotations

import asyncio

__all__ = ["raise_if_cancelling"]


def raise_if_cancelling() -> None:
    """Raise ``CancelledError`` if the current task has been asked to cancel: call it in an
    ``except Exception`` that would otherwise carry on."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
