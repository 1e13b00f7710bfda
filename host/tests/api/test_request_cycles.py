"""Requests leave no reference cycles: everything a request builds is freed by reference
counting when it is answered, none of it waits for the cyclic garbage collector.

Cycles made much of the API's latency tail (see ``bench/api.py --gc-trace``): at 200
requests/s they kept the collector busy and reached its oldest generation, whose full passes
stalled every request behind them (4-40 ms, up to ~120 ms seen). Measured over the real app on
uvicorn, with the automatic collector off, so nothing is freed by a collection the test did
not ask for.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from graphql import (
    ExecutionResult,
    GraphQLResolveInfo,
    assert_valid_schema,
    build_schema,
    execute,
    parse,
)

from tbhost.api._execution import AcyclicExecutionContext

from .host_writes import HostWriter
from .kit import Api
from .test_bots_and_trading import create_bot

DASHBOARD = """{
  bots { id name state symbols }
  positions { botId symbol size entryPrice unrealizedPnl }
}"""
"""The query of ``bench/api.py``."""

REQUESTS = 50
"""Requests measured in each test."""


class Connection:
    """One keep-alive HTTP/1.1 connection to the app. Not httpx: an httpx response and its
    stream refer to each other, so every httpx request leaves a cycle of its own (in the
    client, the same process as the test's server) that would hide the server's."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
    ) -> tuple[int, Any]:
        """The status and the JSON body of the answer."""
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", "Host: test", f"Content-Length: {len(payload)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None:
            lines.append("Content-Type: application/json")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        length = next(
            int(value)
            for name, _, value in (line.partition(":") for line in head[1:])
            if name.lower() == "content-length"
        )
        return int(head[0].split()[1]), json.loads(await self.reader.readexactly(length))


@asynccontextmanager
async def connect(api: Api) -> AsyncIterator[Connection]:
    reader, writer = await asyncio.open_connection("127.0.0.1", api.server.port)
    try:
        yield Connection(reader, writer)
    finally:
        writer.close()
        await writer.wait_closed()


@contextmanager
def unreachable_objects() -> Iterator[list[object]]:
    """On leaving, the list holds every object that became unreachable inside the block but
    only a garbage collection could free (objects in reference cycles, and what they hold)."""
    found: list[object] = []
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


def by_type(objects: list[object]) -> list[tuple[str, int]]:
    """The most common types among ``objects``, for a failure to show what leaked."""
    names = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in objects)
    return names.most_common(12)


async def warm_up_and_measure(send: Callable[[], Awaitable[None]], times: int) -> list[object]:
    """What ``times`` calls of ``send`` leave in cycles, after a few warm-up calls (first
    calls fill the parser and validation caches, import lazily, open pooled connections)."""
    for _ in range(3):
        await send()
    with unreachable_objects() as found:
        for _ in range(times):
            await send()
    return found


async def seed_dashboard(api: Api) -> None:
    host = HostWriter(api.db, api.account_id)
    for n in range(3):
        bot = await create_bot(api, f"rsi-{n}", symbols=[f"C{n}/USDT"])
        await host.position(bot["id"], "0.5", symbol=f"C{n}/USDT")


async def test_the_dashboard_query_leaves_no_cycles(api: Api) -> None:
    await seed_dashboard(api)
    async with connect(api) as connection:

        async def send() -> None:
            status, body = await connection.request(
                "POST", "/graphql", {"query": DASHBOARD}, api.auth()
            )
            assert status == 200, body
            assert "errors" not in body, body
            assert len(body["data"]["bots"]) == len(body["data"]["positions"]) == 3

        found = await warm_up_and_measure(send, REQUESTS)
    assert found == [], by_type(found)


async def test_failed_requests_leave_no_cycles(api: Api) -> None:
    """Errors are where cycles hide: an exception's traceback holds the frames that raised
    it, and those hold the request."""
    async with connect(api) as connection:

        async def graphql(query: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
            return await connection.request(
                "POST", "/graphql", {"query": query}, api.auth() if headers is None else headers
            )

        def code(body: Any) -> str:
            errors = body["errors"]
            assert len(errors) == 1, errors
            return str(errors[0]["extensions"]["code"])

        async def send() -> None:
            status, body = await graphql("{ me { id } }")
            assert (status, body) == (200, {"data": {"me": {"id": api.user_ids["admin"]}}})
            # A service refusal: in a mutation (its field is non-null, so the error reaches
            # the operation), and in a query beside a field that answers.
            status, body = await graphql('mutation { startBot(bot: "nope") { id } }')
            assert (status, code(body), body["data"]) == (200, "NOT_FOUND", None)
            status, body = await graphql('{ bot(ref: "nope") { id } me { id } }')
            assert (status, code(body)) == (200, "NOT_FOUND")
            status, body = await graphql("{ nope }")
            assert (status, code(body)) == (200, "BAD_REQUEST")
            status, body = await graphql("{ me { id } }", {"Authorization": "Bearer wrong"})
            assert (status, code(body)) == (401, "UNAUTHENTICATED")

        found = await warm_up_and_measure(send, REQUESTS // 5)
    assert found == [], by_type(found)


async def test_the_measure_sees_a_cycle(api: Api) -> None:
    """The measure itself: cycles made inside the block are found (so an empty list above
    means no cycle, not a blind measure)."""

    class Node:
        def __init__(self) -> None:
            self.me = self

    async with connect(api) as connection:

        async def send() -> None:
            assert await connection.request("GET", "/healthz", None, {}) == (200, {"status": "ok"})
            Node()

        found = await warm_up_and_measure(send, 5)
    assert sum(isinstance(o, Node) for o in found) == 5


async def test_the_helpers_on_info_gather_and_track_as_graphql_core_s_do() -> None:
    """``info.async_helpers`` reach their execution context through a weak reference now;
    while it executes they work as graphql-core's own, and the execution leaves no cycle."""
    schema = build_schema("type Query { pair: [Int!]! }")
    settled: list[str] = []

    async def value(n: int) -> int:
        return n

    async def background() -> None:
        settled.append("tracked")

    async def pair(_root: object, info: GraphQLResolveInfo) -> list[int]:
        info.async_helpers.track([background(), "not awaitable"])
        return list(await info.async_helpers.gather([value(1), value(2)]))

    schema.query_type.fields["pair"].resolve = pair  # type: ignore[union-attr]
    # Parsing and the first validation of a schema leave cycles of their own (tokens are a
    # doubly linked list); the app does both once per document and once at start-up.
    document = parse("{ pair }")
    assert_valid_schema(schema)
    with unreachable_objects() as found:
        result = execute(schema, document, executor_class=AcyclicExecutionContext)
        assert not isinstance(result, ExecutionResult)
        assert await result == ExecutionResult({"pair": [1, 2]}, None)
        await asyncio.sleep(0)  # the tracked work settles in the background
    assert settled == ["tracked"]
    assert found == [], by_type(found)


def test_helpers_kept_past_their_execution_say_it_ended() -> None:
    schema = build_schema("type Query { one: Int! }")
    kept: list[Any] = []

    def one(_root: object, info: GraphQLResolveInfo) -> int:
        kept.append(info.async_helpers)
        return 1

    schema.query_type.fields["one"].resolve = one  # type: ignore[union-attr]
    result = execute(schema, parse("{ one }"), executor_class=AcyclicExecutionContext)
    assert result == ExecutionResult({"one": 1}, None)
    # Nothing holds the finished execution: freed at once, by reference counting.
    with pytest.raises(RuntimeError, match="the GraphQL execution these helpers belong to"):
        kept[0].track([])
