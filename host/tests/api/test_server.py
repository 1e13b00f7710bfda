"""``serve_api``: serves until ``stop`` is set, says when it listens, refuses a taken port."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from tbhost.api import serve_api
from tbhost.plugins import PluginHost
from tbhost.storage import Database

from .conftest import api_settings
from .kit import copy_template


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_api_runs_until_stop_is_set(
    tmp_path: Path, migrated_template: Path, plugins: PluginHost
) -> None:
    db = Database(f"sqlite+aiosqlite:///{copy_template(migrated_template, tmp_path / 'a.db')}")
    port = _free_port()
    settings = api_settings(tmp_path, api_port=port)
    stop, ready = asyncio.Event(), asyncio.Event()
    serving = asyncio.create_task(serve_api(settings, db, plugins, stop, ready))
    try:
        await asyncio.wait_for(ready.wait(), 20)
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert health.json() == {"status": "ok"}
            refused = await client.post(
                f"http://127.0.0.1:{port}/graphql", json={"query": "{ me { id } }"}
            )
            assert refused.status_code == 401

            # The same port again: refused with an OSError, the first server unharmed.
            with pytest.raises(OSError, match=f"could not listen on 127.0.0.1:{port}"):
                await serve_api(settings, db, plugins, asyncio.Event())
            assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
        stop.set()
        await asyncio.wait_for(serving, 10)
    finally:
        stop.set()
        await db.dispose()
