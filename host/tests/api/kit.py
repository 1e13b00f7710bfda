"""What the API tests share (no tests here): the real app on uvicorn in a thread of its own,
on a SQLite file migrated with the shipped migrations, with one user and token per role.

The server thread has its own event loop and its own ``Database``; tests write to the same
file through a second ``Database``, as the trading host in another process would.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tbhost.api import ApiServices, create_app
from tbhost.api.schema import ApiSchema
from tbhost.plugins import PluginHost
from tbhost.settings import Settings
from tbhost.storage import Database

ROLES = ("admin", "trader", "viewer")


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class ServerThread:
    """The app served on 127.0.0.1 from a background thread until :meth:`stop`."""

    settings: Settings
    db_path: Path
    plugins: PluginHost
    schema: ApiSchema
    services: ApiServices | None = None
    port: int = 0
    _server: _QuietServer | None = None
    _thread: threading.Thread | None = None
    _socket: socket.socket | None = None
    _error: list[BaseException] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only for a
        # listening socket that says it is TCP; with proto 0 every keep-alive request after the
        # first waited ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        started = threading.Event()

        async def main() -> None:
            db = Database(f"sqlite+aiosqlite:///{self.db_path}")
            try:
                self.services = ApiServices.build(self.settings, db, self.plugins)
                app = create_app(
                    self.settings, db, self.plugins, services=self.services, schema=self.schema
                )
                config = uvicorn.Config(
                    app, log_config=None, access_log=False, ws="websockets-sansio", lifespan="on"
                )
                self._server = _QuietServer(config)
                task = asyncio.create_task(self._server.serve(sockets=[sock]))
                while not self._server.started and not task.done():  # noqa: ASYNC110 - uvicorn has no event
                    await asyncio.sleep(0.005)
                started.set()
                await task
            finally:
                await db.dispose()

        def run() -> None:
            try:
                asyncio.run(main())
            except BaseException as exc:  # noqa: BLE001 - reported by stop()
                self._error.append(exc)
                started.set()

        self._thread = threading.Thread(target=run, name="api-test-server", daemon=True)
        self._thread.start()
        started.wait(10)
        if self._error:
            raise self._error[0]
        self._socket = sock  # closed by stop(), after uvicorn let go of it

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
            assert not self._thread.is_alive(), "the API server did not stop"
        if self._socket is not None:
            self._socket.close()
        if self._error:
            raise self._error[0]


@dataclass
class Api:
    """A running app and clients for it; every response body is kept for the secret scan."""

    server: ServerThread
    db: Database
    tokens: dict[str, str]
    user_ids: dict[str, str]
    account_id: str
    client: httpx.AsyncClient
    bodies: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    async def close(self) -> None:
        """Stop the server and let go of its clients and database."""
        await self.client.aclose()
        self.server.stop()
        await self.db.dispose()

    @property
    def graphql_url(self) -> str:
        return f"{self.server.url}/graphql"

    @property
    def services(self) -> ApiServices:
        assert self.server.services is not None
        return self.server.services

    def auth(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        role: str | None = "admin",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(self.auth(role)) if role is not None else {}
        sent.update(headers or {})
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        response = await self.client.post(self.graphql_url, json=body, headers=sent)
        self.bodies.append(response.text)
        return response

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, role: str = "admin"
    ) -> dict[str, Any]:
        response = await self.post(query, variables, role=role)
        assert response.status_code == 200, response.text
        payload = response.json()
        assert "errors" not in payload, payload["errors"]
        result: dict[str, Any] = payload["data"]
        return result

    async def error(
        self, query: str, variables: dict[str, Any] | None = None, *, role: str = "admin"
    ) -> dict[str, Any]:
        """The one error of a request that must fail with exactly one."""
        response = await self.post(query, variables, role=role)
        assert response.status_code == 200, response.text
        errors = response.json()["errors"]
        assert len(errors) == 1, errors
        error: dict[str, Any] = errors[0]
        return error


def copy_template(template: Path, target: Path) -> Path:
    shutil.copyfile(template, target)
    return target
