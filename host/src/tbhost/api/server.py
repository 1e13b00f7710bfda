"""``serve_api``: the API on uvicorn inside the caller's event loop, until ``stop`` is set.

uvicorn installs no signal handlers here: the caller (``tbhost run``, ``tbhost api serve``)
owns SIGINT/SIGTERM and sets ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
from collections.abc import Iterator

import uvicorn

from ..plugins import PluginHost
from ..settings import Settings
from ..storage import Database
from .app import create_app

__all__ = ["serve_api"]

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the caller owns the signals


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here: uvicorn would ``sys.exit`` on a taken port, which
    inside a task stops the whole event loop (the bots' too)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise OSError(f"the API could not listen on {host}:{port}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise OSError(f"the API could not listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _freeze_startup_objects() -> None:
    """Leave what start-up built (modules, the schema, plugins, SQLAlchemy's mappers) out of
    the garbage collector's full passes. A full pass walked all of it, ~110 ms on the
    benchmark machine, every few hundred requests: a pause every request behind it waited
    out (p99 ~90 ms at 200 requests/s). Frozen, a full pass takes ~3 ms. Start-up's own
    garbage is collected first; frozen objects are still freed by reference counting."""
    gc.collect()
    gc.freeze()


async def serve_api(
    settings: Settings,
    db: Database,
    plugins: PluginHost,
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
) -> None:
    """Serve on ``settings.api_host:api_port`` until ``stop`` is set; ``ready`` is set once
    the socket listens. A port already in use raises ``OSError`` before anything is served."""
    sock = _bind(settings.api_host, settings.api_port)
    try:
        app = create_app(settings, db, plugins)
        _freeze_startup_objects()
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            ws="websockets-sansio",
        )
        server = _Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]), name="tbhost-api")
        try:
            while not server.started:
                if serving.done():
                    await serving
                    raise OSError(
                        f"the API on {settings.api_host}:{settings.api_port} did not start"
                    )
                await asyncio.sleep(0.01)
            log.info("API listening on http://%s:%d/graphql", settings.api_host, settings.api_port)
            if ready is not None:
                ready.set()
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({serving, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        finally:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await serving
    finally:
        sock.close()
