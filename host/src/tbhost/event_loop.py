"""The event loop of the long-running commands (``tbhost run``, ``tbhost api serve``).

uvloop (libuv; installed with ``uvicorn[standard]`` where it builds) runs the same asyncio
code with less overhead per event-loop turn, socket read and callback, which is most of what
a host serving an API beside its bots does between database reads. Where it is not installed
the standard loop runs; nothing else depends on which.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run"]

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
